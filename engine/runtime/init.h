/* The container's init: the code that runs in the cloned child between
 * clone3 and execve. Everything it needs is prepared by the parent in
 * struct init_args (the child sees a copy-on-write snapshot), so the child
 * only makes system calls: no allocation, no locks, no stdio. */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/seccomp.h"

#define INIT_MAX_CGMOUNTS 8

/* What the child sends back when it cannot reach execve. */
struct init_error {
    int err;       /* errno-style, positive */
    int exit_code; /* Docker's status for it: 127 not found, 126 not executable, else 1 */
    char msg[1024];
};

struct init_args {
    int sync_fd;  /* read end: the parent writes one byte once the cgroup is set */
    int error_fd; /* write end, O_CLOEXEC: EOF at execve means success */
    int stdio[3]; /* -1: /dev/null */
    /* cgroup files the child writes "0" to, joining its cgroup itself */
    int cg_join[8];
    int n_cg_join;
    int cg_join_v2; /* -1: none, or already joined by CLONE_INTO_CGROUP */

    const char *rootfs_dir;
    char *const *lower_top_first; /* layer dirs, topmost first */
    const char *upper_dir;
    const char *work_dir;
    const char *overlay_opts; /* full option string, when lowerdir+ is unavailable */
    bool lowerdir_plus;

    bool cgroup_unified; /* mount cgroup2 at /sys/fs/cgroup; else v1 hierarchies */
    bool cgroup_has_v2;  /* hybrid: also a cgroup2 at /sys/fs/cgroup/unified */
    const char *cgmount_names[INIT_MAX_CGMOUNTS]; /* v1 dir names, e.g. "memory", "cpu,cpuacct" */
    int n_cgmounts;

    const char *hostname;
    const char *cwd;
    const char *user;
    bool read_only;
    bool tty;         /* allocate a pseudo-terminal in the container's devpts */
    int console_sock; /* with tty: the master side is sent to the parent here */

    char *const *argv;
    char **envp;    /* has a spare slot before its NULL for HOME */
    size_t envc;    /* entries in use */
    char *home_buf; /* "HOME=" + room for 256 bytes, filled by the child */
    bool need_home;

    uint64_t caps;
    int cap_last_cap;
    const struct seccomp_prog *seccomp;

    char *passwd_buf, *group_buf;
    size_t user_buf_size;
};

/* Never returns: execs the command or reports through error_fd and exits. */
__attribute__((noreturn)) void container_init(struct init_args *a);

#endif
