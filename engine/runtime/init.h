/* SPDX-License-Identifier: Apache-2.0 */
/* The container's init: the code that runs in the cloned child between
 * clone3 and execve. Everything it needs is prepared by the parent in
 * struct init_args (the child sees a copy-on-write snapshot), so the child
 * only makes system calls: no allocation, no locks, no stdio. */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/proc.h"
#include "engine/runtime/seccomp.h"

#define INIT_MAX_CGMOUNTS 8

/* A mount of the container's spec (volume, bind, tmpfs), prepared by the
 * parent (see mountspec.h). */
struct init_mount {
    const char *source;  /* bind: absolute host path; NULL: a tmpfs */
    const char *target;  /* inside the root, lexically clean, relative ("data/x") */
    const char *what;    /* "mounting /data/x", for messages */
    bool read_only;      /* bind: recursively */
    bool target_is_file; /* bind of a file: a missing target is made an empty file */
    char tmpfs_size[24]; /* "size" option in bytes, "" for the kernel's default */
    char tmpfs_mode[16]; /* "mode" option, octal */
};

/* A device node of the host's /dev, made in the container's /dev. */
struct init_devnode {
    char path[128]; /* relative to /dev: "net/tun" */
    unsigned mode;  /* type and permission bits */
    unsigned long long rdev;
    unsigned uid, gid;
};

struct init_args {
    struct proc_args p; /* command, user, security: shared with exec */
    int sync_fd;        /* read end: the parent writes one byte to let the child go */
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

    const struct init_mount *mounts; /* in order, after /dev and /sys, before masking */
    size_t n_mounts;

    /* The network namespace: netns_fd >= 0 joins that one (its "lo" is
     * the creator's business); net_host stays in the caller's; neither:
     * the fresh one from clone, with "lo" brought up here. */
    int netns_fd;
    bool net_host;

    const char *hostname;
    bool read_only;
    char shm_size[32]; /* tmpfs size= of /dev/shm ("65536k" when empty) */
    int console_sock;  /* with p.tty: the terminal's master side goes to the parent here */

    /* Security beyond capabilities (see struct container_sec). */
    bool privileged;     /* /sys and cgroups writable, the host's devices, nothing masked */
    bool no_masks;       /* privileged or systempaths=unconfined: no masked or read-only paths */
    bool unmask_all;     /* unmask=ALL: no default masked path */
    char *const *mask;   /* more masked paths (absolute), or NULL */
    char *const *unmask; /* default masked paths left alone (absolute), or NULL */
    const struct init_devnode *devnodes; /* privileged: the host's /dev nodes */
    size_t n_devnodes;
};

/* Never returns: execs the command or reports through error_fd and exits. */
__attribute__((noreturn)) void container_init(struct init_args *a);

#endif
