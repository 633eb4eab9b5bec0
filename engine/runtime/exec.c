/* SPDX-License-Identifier: Apache-2.0 */
/* container_exec: a process born inside a running container.
 *
 * The caller points its pid_for_children at the container's PID namespace
 * (setns(pidfd, CLONE_NEWPID) changes nothing else about the caller), clones
 * the child straight into it and into the container's v2 cgroup, and points
 * pid_for_children back at its own namespace at once, on every path. The
 * child is therefore a direct child of the caller (no intermediate process:
 * the caller reaps it through its pidfd) with a small PID inside the
 * container. The child makes itself non-dumpable before anything else, so
 * the container's processes can neither ptrace it nor open its
 * /proc/PID/exe (the berth binary) while it joins: CVE-2019-5736,
 * CVE-2016-9962. It then joins the v1 cgroups and the remaining namespaces
 * and finishes like the container's init (proc.c). Allocation-free after
 * clone, like init.c.
 * Not here: the parent's shared launch steps (engine/runtime/launch.c), the
 * child's last steps (engine/runtime/proc.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/runtime/idmap.h"
#include "engine/runtime/launch.h"
#include "engine/runtime/proc.h"
#include "engine/runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define EXEC_NAMESPACES (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

struct exec_args {
    struct proc_args p;
    int target_pidfd;
    int cg_join[CG_CTRL_MAX]; /* v1 `tasks` files the child writes "0" to */
    int n_cg_join;
    int cg_join_v2; /* v2 cgroup.procs, when CLONE_INTO_CGROUP was not used; else -1 */
    int console_sock;
    struct winsize ws; /* the terminal's size, when known */
    bool join_userns;  /* the container has a user namespace of its own */
};

/* The child, between clone3 and execve: system calls only. */
static __attribute__((noreturn)) void exec_child(struct exec_args *a)
{
    /* First: nothing of this process (berth's memory, its /proc/PID/exe)
     * may be reachable from the container while it joins. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        proc_fail_errno(&a->p, "making the process non-dumpable");
    /* Nor anything the caller holds open: only what this child uses is
     * kept. */
    int keep[CG_CTRL_MAX + 10];
    size_t n = 0;
    keep[n++] = a->target_pidfd;
    keep[n++] = a->p.error_fd;
    for (int i = 0; i < a->n_cg_join && i < CG_CTRL_MAX; i++)
        keep[n++] = a->cg_join[i];
    keep[n++] = a->cg_join_v2;
    keep[n++] = a->console_sock;
    for (int i = 0; i < 3; i++)
        keep[n++] = a->p.stdio[i];
    keep[n++] = a->p.devnull;
    if (proc_close_fds_except(keep, n) < 0)
        proc_fail_errno(&a->p, "closing file descriptors");
    for (int i = 0; i < a->n_cg_join; i++)
        proc_check(&a->p, (int)write(a->cg_join[i], "0", 1), "joining the container's cgroup");
    if (a->cg_join_v2 >= 0)
        proc_check(&a->p, (int)write(a->cg_join_v2, "0", 1), "joining the container's cgroup");
    /* Joining the mount namespace also makes its root (the container's
     * root file system, after its init's pivot_root) our "/" and cwd. */
    proc_check(&a->p, setns(a->target_pidfd, EXEC_NAMESPACES),
               "joining the container's namespaces");
    if (a->join_userns)
        idmap_become_root(&a->p, a->target_pidfd);
    /* A session of its own: signals from the caller's terminal reach the
     * caller (which forwards them), and a terminal can become ours. */
    proc_check(&a->p, setsid(), "creating a session");
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    proc_check(&a->p, rootfd, "opening the container's root file system");
    if (a->p.tty) {
        proc_console(&a->p, rootfd, a->console_sock);
        a->console_sock = -1;
        /* Sized before the command starts: it may read the size once. */
        if (a->ws.ws_row && a->ws.ws_col)
            proc_check(&a->p, ioctl(a->p.stdio[0], TIOCSWINSZ, &a->ws), "sizing the terminal");
    }
    /* Unlike a container's start, an exec never creates its working
     * directory (as Docker): a mistyped -w must not leave directories. */
    const char *cwd = a->p.cwd && *a->p.cwd ? a->p.cwd : "/";
    int d = fs_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
    if (d == -ENOENT || d == -ENOTDIR) {
        char msg[PATH_MAX + 64] = "";
        proc_scat(msg, sizeof msg, cwd);
        proc_scat(msg, sizeof msg, ": ");
        proc_scat(msg, sizeof msg, strerrordesc_np(-d));
        proc_fail(&a->p, -d, 1, "setting the working directory", msg);
    }
    if (d >= 0)
        close(d);
    struct user_ids ids;
    int cwdfd;
    proc_prepare(&a->p, rootfd, &ids, &cwdfd);
    close(rootfd);
    proc_exec(&a->p, &ids, cwdfd);
}

/* Opens what the child needs to join the container's cgroup: *v2dir for
 * CLONE_INTO_CGROUP, and the `tasks` / cgroup.procs files. */
static int open_cgroup(struct runtime *rt, const struct exec_spec *x, int *v2dir,
                       struct exec_args *a, struct berr *e)
{
    *v2dir = -1;
    a->n_cg_join = 0;
    a->cg_join_v2 = -1;
    if (!x->cgroup_rel || !*x->cgroup_rel)
        return 0;
    struct cgroup *cg = cgroup_open(&rt->cgsys, x->cgroup_rel);
    int n = cgroup_join_fds(cg, a->cg_join, &a->cg_join_v2, e);
    cgroup_free(cg);
    if (n < 0)
        return berr_wrap(e, "%s: joining the container's cgroup", x->name);
    a->n_cg_join = n;
    if (rt->cgsys.v2_root) {
        _cleanup_free_ char *dir = fs_path_join(rt->cgsys.v2_root, x->cgroup_rel);
        *v2dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*v2dir < 0) {
            int r = berr_errno(e, errno, "%s: opening cgroup %s", x->name, dir);
            for (int i = 0; i < a->n_cg_join; i++)
                close(a->cg_join[i]);
            if (a->cg_join_v2 >= 0)
                close(a->cg_join_v2);
            a->n_cg_join = 0;
            a->cg_join_v2 = -1;
            return r;
        }
    }
    return 0;
}

/* Restores the caller's pid_for_children. Failing here would leave every
 * later child of this process inside the container: never continue. */
static void restore_pidns(int saved)
{
    if (setns(saved, CLONE_NEWPID) == 0)
        return;
    if (setns(saved, CLONE_NEWPID) == 0)
        return;
    fprintf(stderr, "berth: cannot restore the PID namespace after exec (%s); aborting\n",
            strerror(errno));
    abort();
}

/* clone3 into the container's PID namespace (and v2 cgroup, when there is
 * one). Returns the child's pid in the caller's namespace, or -errno. */
static long clone_into(struct exec_args *a, int saved_pidns, int v2dir, int *pidfd)
{
    if (setns(a->target_pidfd, CLONE_NEWPID) < 0)
        return -errno;
    struct clone_args ca = {
        .flags = CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)pidfd,
        .exit_signal = SIGCHLD,
    };
    bool into = v2dir >= 0;
    if (into) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)v2dir;
    }
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && into && (errno == EINVAL || errno == EOPNOTSUPP || errno == EBUSY)) {
        /* No CLONE_INTO_CGROUP here: the child writes cgroup.procs. */
        into = false;
        ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid == 0) {
        if (into)
            a->cg_join_v2 = -1; /* born in it already */
        return 0;
    }
    int err = errno;
    restore_pidns(saved_pidns);
    return pid < 0 ? -err : pid;
}

/* A `berth exec` waits this long for its process to reach execve. The
 * child only joins and sets up, which takes milliseconds; past this, a
 * process of the container has stopped it (the container's root may
 * signal it) and the caller would wait forever. */
#define EXEC_START_TIMEOUT_MS 10000

/* Clones the child into the container, which goes on to join it and exec;
 * on success *l holds the parent's ends of the launch pipes and *pidfd the
 * child's pidfd. */
static int exec_spawn(struct runtime *rt, const struct exec_spec *x, struct launch *l, long *pid,
                      int *pidfd, struct berr *e)
{
    *pidfd = -1;
    if (!x->argv || !x->argv[0])
        return berr_set(e, -EINVAL, "%s: no command given", x->name);
    if (x->target_pidfd < 0)
        return berr_set(e, -EINVAL, "%s: the container is not running", x->name);

    int r = launch_prepare(l, x->env, x->tty, x->name, e);
    if (r < 0)
        return r;
    struct exec_args a = {
        .p =
            {
                .stdio = {x->stdin_fd, x->stdout_fd, x->stderr_fd},
                .tty = x->tty,
                .cwd = x->cwd,
                .user = x->user,
                .argv = x->argv,
                .init_fd = -1,
                .passwd_buf = rt->passwd_buf,
                .group_buf = rt->group_buf,
                .user_buf_size = rt->user_buf_size,
                .ulimits = x->ulimits,
                .n_ulimits = x->n_ulimits,
            },
        .target_pidfd = x->target_pidfd,
        .console_sock = launch_console_sock(l),
        .ws = {.ws_row = x->tty_rows, .ws_col = x->tty_cols},
    };
    launch_proc_args(l, &a.p);
    r = launch_security(rt, x->caps, 0, x->no_new_privs, &x->sec, x->name, &a.p, e);
    if (r < 0) {
        launch_free(l);
        return r;
    }
    r = idmap_pidfd_other_userns(x->target_pidfd, &a.join_userns, e);
    if (r < 0) {
        launch_free(l);
        return berr_wrap(e, "%s", x->name);
    }
    int v2dir = -1;
    r = open_cgroup(rt, x, &v2dir, &a, e);
    if (r < 0) {
        launch_free(l);
        return r;
    }
    _cleanup_close_ int saved_pidns = open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (saved_pidns < 0) {
        r = berr_errno(e, errno, "%s: opening this process's PID namespace", x->name);
        goto out;
    }

    /* No signal handler of the caller may run in the child before execve
     * (proc_exec resets them all and unblocks). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    *pid = clone_into(&a, saved_pidns, v2dir, pidfd);
    if (*pid == 0) {
        launch_child(l);
        exec_child(&a);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (*pid < 0) {
        if (*pid == -ENOMEM || *pid == -ESRCH)
            r = berr_errno(e, (int)*pid, "%s: the container is not running", x->name);
        else
            r = berr_errno(e, (int)*pid, "%s: creating the process", x->name);
        goto out;
    }
    launch_parent(l);

out:
    if (r < 0)
        launch_free(l);
    if (v2dir >= 0)
        close(v2dir);
    for (int i = 0; i < a.n_cg_join; i++)
        close(a.cg_join[i]);
    if (a.cg_join_v2 >= 0)
        close(a.cg_join_v2);
    return r;
}

/* A child that will not be used: killed (it may be stopped, never to go
 * on by itself) and reaped. */
static void exec_discard(int pidfd)
{
    pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
    launch_reap(pidfd);
    close(pidfd);
}

int container_exec(struct runtime *rt, const struct exec_spec *x, struct container_proc *out,
                   struct berr *e)
{
    memset(out, 0, sizeof *out);
    out->pidfd = -1;
    out->console_fd = -1;
    struct launch l = LAUNCH_INIT;
    long pid;
    int pidfd;
    int r = exec_spawn(rt, x, &l, &pid, &pidfd, e);
    if (r < 0)
        return r;
    r = launch_wait(&l, x->name, x->tty, &out->console_fd, EXEC_START_TIMEOUT_MS, e);
    launch_free(&l);
    if (r < 0) {
        exec_discard(pidfd);
        return r;
    }
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->start_time = proc_start_time((pid_t)pid);
    return 0;
}

int container_exec_start(struct runtime *rt, const struct exec_spec *x, struct container_proc *out,
                         int *status_fd, struct berr *e)
{
    memset(out, 0, sizeof *out);
    out->pidfd = -1;
    out->console_fd = -1;
    *status_fd = -1;
    if (x->tty)
        return berr_set(e, -EINVAL, "%s: a terminal needs container_exec", x->name);
    struct launch l = LAUNCH_INIT;
    long pid;
    int pidfd;
    int r = exec_spawn(rt, x, &l, &pid, &pidfd, e);
    if (r < 0)
        return r;
    *status_fd = launch_take_status(&l);
    launch_free(&l);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->start_time = proc_start_time((pid_t)pid);
    return 0;
}

int container_exec_status(int status_fd, const char *name, struct berr *e)
{
    return launch_read_status(status_fd, name, e);
}
