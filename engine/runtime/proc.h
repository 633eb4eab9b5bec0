/* SPDX-License-Identifier: Apache-2.0 */
/* The last steps of every process berth starts inside a container (the
 * container's init, and processes exec'd into a running container): the
 * user from the container's own files, the working directory, standard
 * streams, capabilities, seccomp, signal state, file descriptors, execve.
 * Everything runs between clone and execve, so it only makes system calls:
 * no allocation, no locks, no stdio. */
#ifndef BERTH_RUNTIME_PROC_H
#define BERTH_RUNTIME_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/seccomp.h"
#include "engine/runtime/user.h"
#include "util/rlimits.h"

/* What the child sends back when it cannot reach execve. */
struct init_error {
    int err;       /* errno-style, positive */
    int exit_code; /* Docker's status for it: 127 not found, 126 not executable, else 1 */
    char msg[1024];
};

struct proc_args {
    int error_fd; /* write end, O_CLOEXEC: EOF at execve means success */
    int stdio[3]; /* -1: devnull */
    int devnull;  /* the host's /dev/null, opened by the parent (never the container's) */
    bool tty;     /* stdin is a terminal: make it the controlling one */
    bool init;    /* compose `init: true`: a minimal init stays PID 1 (see proc.c) */
    int init_fd;  /* with init: the init program, a sealed memfd (runtime_init_program) */
    const char *cwd;
    const char *user;
    char *const *argv;
    char **envp;    /* has a spare slot before its NULL for HOME */
    size_t envc;    /* entries in use */
    char *home_buf; /* "HOME=" + room for 256 bytes, filled here */
    bool need_home;
    uint64_t caps;
    bool no_new_privs; /* PR_SET_NO_NEW_PRIVS before execve */
    int cap_last_cap;
    const struct seccomp_prog *seccomp; /* NULL: no filter (privileged, unconfined) */
    char *const *group_add;             /* more supplementary groups: names or numbers */
    const char *apparmor;               /* profile to exec into, or NULL */
    char oom_score_adj[16];             /* for /proc/self/oom_score_adj; "" for none */
    char *passwd_buf, *group_buf;
    size_t user_buf_size;
    /* compose ulimits, set after Docker's defaults (set_rlimits). */
    const struct ulimit *ulimits;
    size_t n_ulimits;
};

/* Closes every file descriptor of the calling process but the n in keep
 * (negative entries are ignored; keep is sorted in place). The first thing
 * a cloned child does: nothing the supervisor holds open (the store, its
 * blobs and layers, cgroup directories, other containers' pipes) may reach
 * the container, whichever path to it a later bug might open. Returns 0 or
 * -errno. */
int proc_close_fds_except(int *keep, size_t n);

/* Report a failure through error_fd and exit. */
__attribute__((noreturn)) void proc_fail(struct proc_args *a, int err, int code, const char *what,
                                         const char *detail);
__attribute__((noreturn)) void proc_fail_errno(struct proc_args *a, const char *what);
/* proc_fail_errno when r < 0. */
void proc_check(struct proc_args *a, int r, const char *what);
/* strncat without allocation. */
void proc_scat(char *dst, size_t cap, const char *s);

/* A pseudo-terminal from the devpts mounted at dev/pts in the root at
 * rootfd (so that ttyname works inside): the slave becomes stdin, stdout
 * and stderr, the master is sent over sock (SCM_RIGHTS), which is closed. */
void proc_console(struct proc_args *a, int rootfd, int sock);

/* Resolves the user in the root at rootfd and opens the working directory
 * there (created when missing, as Docker does). */
void proc_prepare(struct proc_args *a, int rootfd, struct user_ids *ids, int *cwdfd);
/* Enters cwdfd, sets up the streams, drops to the user and the container's
 * security settings, and execs the command. Never returns. */
__attribute__((noreturn)) void proc_exec(struct proc_args *a, const struct user_ids *ids,
                                         int cwdfd);

#endif
