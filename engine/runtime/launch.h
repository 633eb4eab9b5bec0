/* SPDX-License-Identifier: Apache-2.0 */
/* The parent's half of starting a process inside a container, shared by
 * container_start (a new container's init) and container_exec (a process
 * joining a running container): what the allocation-free child needs
 * prepared before clone (its environment with room for HOME, the error
 * pipe, the terminal socket), and, after clone, waiting until the child
 * has reached execve or has reported why it could not.
 *
 * Sequence: launch_prepare, launch_proc_args; clone; in the child
 * launch_child, in the parent launch_parent then launch_wait; on failure
 * launch_reap; always launch_free. Internal to engine/runtime. */
#ifndef BERTH_RUNTIME_LAUNCH_H
#define BERTH_RUNTIME_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/proc.h"
#include "util/err.h"

struct launch {
    char **envp; /* the command's env, a spare slot for HOME, NULL */
    size_t envc;
    bool need_home;
    char *home_buf;
    int err_pipe[2]; /* [1] is the child's, O_CLOEXEC: EOF at execve */
    int console[2];  /* with a terminal: [0] the parent's, [1] the child's */
    int devnull;     /* the host's /dev/null, for the streams not given */
};

#define LAUNCH_INIT                                                                                \
    {                                                                                              \
        .err_pipe = {-1, -1}, .console = {-1, -1}, .devnull = -1                                   \
    }

/* Allocates the environment and opens the pipes; on failure everything is
 * released and *l needs no launch_free (it is safe to call anyway). */
int launch_prepare(struct launch *l, char *const *env, bool tty, const char *name, struct berr *e);

/* Fills the parts of the child's proc_args that launch owns. */
void launch_proc_args(struct launch *l, struct proc_args *p);

/* The child's console socket end (-1 without a terminal). */
static inline int launch_console_sock(const struct launch *l)
{
    return l->console[1];
}

/* The child's security settings in p: the capability set caps cut to
 * this kernel's (a capability in named that the kernel lacks is an error,
 * as in Docker), no_new_privs, and the default seccomp profile for that
 * set (compiled once per set and kept in rt); with sec (NULL: the
 * defaults), privileged (every capability, no filter), seccomp unconfined
 * or a custom profile, supplementary groups and AppArmor. Call before clone: the
 * child only reads what this prepares. */
struct runtime;
struct container_sec;
int launch_security(struct runtime *rt, uint64_t caps, uint64_t named, bool no_new_privs,
                    const struct container_sec *sec, const char *name, struct proc_args *p,
                    struct berr *e);

/* In the child, right after clone: closes the parent's ends. */
void launch_child(struct launch *l);

/* In the parent, right after clone: closes the child's ends, so that a
 * child that dies early is seen as EOF. */
void launch_parent(struct launch *l);

/* Receives the terminal's master side (when there is one) into
 * *console_fd, then waits for execve. On the child's report, returns its
 * error with Docker's meaning of the code: -ENOENT only for a command not
 * found (status 127), -EACCES only for one that cannot be executed (126);
 * *console_fd is then closed and set to -1. timeout_ms (-1: none) bounds
 * the wait: a child that neither reports nor execs by then (stopped by a
 * process of the container it joined) gives -ETIMEDOUT; the caller kills
 * it before launch_reap. */
int launch_wait(struct launch *l, const char *name, bool tty, int *console_fd, int timeout_ms,
                struct berr *e);

/* Without a terminal, instead of launch_wait: hands over the read end of
 * the error pipe (made non-blocking) for the caller to watch; it is the
 * caller's to close. */
int launch_take_status(struct launch *l);

/* Reads what the child sent on a taken status fd (once readable): 1 when
 * there is nothing yet, 0 at EOF (the command was exec'd, or the child
 * died without a word), else the child's error as launch_wait returns it. */
int launch_read_status(int fd, const char *name, struct berr *e);

/* Waits for a failed child to exit and collects it (blocking). */
void launch_reap(int pidfd);

/* Closes what is still open and frees the environment. */
void launch_free(struct launch *l);

#endif
