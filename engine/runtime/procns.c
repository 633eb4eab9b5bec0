/* SPDX-License-Identifier: Apache-2.0 */
/* A container's pid, ipc, uts and cgroup namespaces (private, the host's,
 * or another container's), its sysctls, its ulimits and the levels of a
 * cgroup_parent: the parent's preparation, and the child's steps between
 * clone3 and execve (system calls only, like init.c). Not here: the
 * network namespace (container.c, init.c), the clone itself
 * (container.c). */
#include "engine/runtime/procns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/runtime/init.h"
#include "engine/runtime/proc.h"
#include "engine/runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* ---- the parent's half ------------------------------------------------ */

int procns_prepare(const struct container_spec *spec, struct procns_init *out,
                   struct init_sysctl **sysctls, uint64_t *flags, struct berr *e)
{
    *out = (struct procns_init){.ipc = spec->ipc_ns, .ipc_fd = -1};
    *sysctls = NULL;
    *flags = 0;
    if (spec->pid_ns == NS_PRIVATE)
        *flags |= CLONE_NEWPID;
    if (spec->uts_ns != NS_HOST)
        *flags |= CLONE_NEWUTS;
    if (spec->ipc_ns == NS_PRIVATE || spec->ipc_ns == NS_NONE)
        *flags |= CLONE_NEWIPC;
    if (spec->pid_ns == NS_JOIN && spec->pid_join_pidfd < 0)
        return berr_set(e, -EINVAL, "%s: no container to share the PID namespace of", spec->name);
    if (spec->ipc_ns == NS_JOIN) {
        if (spec->ipc_join_pidfd < 0)
            return berr_set(e, -EINVAL, "%s: no container to share the IPC namespace of",
                            spec->name);
        out->ipc_fd = spec->ipc_join_pidfd;
    }
    out->joins = spec->pid_ns == NS_JOIN || spec->ipc_ns == NS_JOIN;
    out->cgroupns_host = spec->cgroup_ns == NS_HOST;

    size_t n = 0;
    while (spec->sysctls && spec->sysctls[n])
        n++;
    if (n == 0)
        return 0;
    struct init_sysctl *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const char *kv = spec->sysctls[i];
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : 0;
        /* "net.ipv4.ip_forward" is sys/net/ipv4/ip_forward under /proc */
        if (!eq || klen == 0 || klen + 5 >= sizeof v[i].path || memchr(kv, '/', klen)) {
            free(v);
            return berr_set(e, -EINVAL, "%s: invalid sysctl \"%s\"", spec->name, kv);
        }
        memcpy(v[i].path, "sys/", 4);
        for (size_t k = 0; k < klen; k++)
            v[i].path[4 + k] = kv[k] == '.' ? '/' : kv[k];
        v[i].path[4 + klen] = '\0';
        v[i].key = kv; /* up to '=' in messages */
        v[i].value = eq + 1;
    }
    out->sysctls = v;
    out->n_sysctls = n;
    *sysctls = v;
    return 0;
}

void procns_init_args(struct init_args *a, const struct procns_init *ns,
                      const struct container_spec *spec)
{
    a->ns = *ns;
    if (spec->uts_ns == NS_HOST)
        a->hostname = NULL;
    a->p.ulimits = spec->ulimits;
    a->p.n_ulimits = spec->n_ulimits;
}

int procns_pid_enter(const struct container_spec *spec, int *saved, struct berr *e)
{
    *saved = -1;
    if (spec->pid_ns != NS_JOIN)
        return 0;
    int fd = open("/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "%s: opening this process's PID namespace", spec->name);
    if (setns(spec->pid_join_pidfd, CLONE_NEWPID) < 0) {
        int r = berr_errno(e, errno, "%s: joining the PID namespace of the container it shares",
                           spec->name);
        close(fd);
        return r;
    }
    *saved = fd;
    return 0;
}

void procns_pid_leave(int saved)
{
    if (saved < 0)
        return;
    if (setns(saved, CLONE_NEWPID) < 0 && setns(saved, CLONE_NEWPID) < 0) {
        fprintf(stderr, "berth: cannot restore the PID namespace (%s); aborting\n",
                strerror(errno));
        abort();
    }
    close(saved);
}

/* ---- the child's half: system calls only ------------------------------ */

void proc_set_ulimit(struct proc_args *a, const struct ulimit *u)
{
    struct rlimit rl = {
        .rlim_cur = u->soft < 0 ? RLIM_INFINITY : (rlim_t)u->soft,
        .rlim_max = u->hard < 0 ? RLIM_INFINITY : (rlim_t)u->hard,
    };
    if (setrlimit(u->resource, &rl) == 0)
        return;
    char what[64] = "setting ulimit ";
    const char *n = rlimit_name(u->resource);
    proc_scat(what, sizeof what, n ? n : "?");
    proc_fail_errno(a, what);
}

void procns_child_join(struct procns_init *ns, struct proc_args *p)
{
    /* Another container's processes share a namespace with this one from
     * now on: berth's memory must not be reachable (ptrace, /proc/PID/mem
     * or exe) while it sets up. */
    if (ns->joins)
        proc_check(p, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "making the process non-dumpable");
    if (ns->ipc == NS_JOIN)
        proc_check(p, setns(ns->ipc_fd, CLONE_NEWIPC), "joining the IPC namespace it shares");
}

/* Opens dev/shm under root (a directory reached through no symlink). */
static int open_shm_dir(struct proc_args *p, int rootfd, const char *what)
{
    int fd = fs_openat2(rootfd, "dev/shm", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                        RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
        errno = -fd;
        proc_fail_errno(p, what);
    }
    return fd;
}

/* A copy of the tmpfs at dev/shm of the root at dirfd (the host's, or
 * the other container's), as a detached mount. */
static int clone_shm(struct proc_args *p, int dirfd, const char *what, const char *not_tmpfs)
{
    int fd = open_shm_dir(p, dirfd, what);
    struct statfs sfs;
    proc_check(p, fstatfs(fd, &sfs), what);
    if (sfs.f_type != TMPFS_MAGIC)
        proc_fail(p, EINVAL, 1, what, not_tmpfs);
    int m = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (m < 0)
        proc_fail_errno(p, what);
    close(fd);
    return m;
}

bool procns_child_shm(struct procns_init *ns, struct proc_args *p, int rootfd)
{
    const char *what = "mounting /dev/shm";
    int m;
    switch (ns->ipc) {
    case NS_NONE:
        return true; /* an empty directory, as Docker's ipc: none */
    case NS_HOST: {
        int host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        proc_check(p, host, what);
        m = clone_shm(p, host, what, "the host's /dev/shm is not a tmpfs");
        close(host);
        break;
    }
    case NS_JOIN: {
        /* The other container's /dev/shm lives in its mount namespace:
         * step into it, clone the mount (resolved inside its root, through
         * no symlink), and come back. */
        int self = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
        proc_check(p, self, what);
        proc_check(p, setns(ns->ipc_fd, CLONE_NEWNS), "entering the mount namespace it shares");
        int theirs = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        proc_check(p, theirs, what);
        m = clone_shm(p, theirs, what,
                      "the container whose IPC namespace it shares has no /dev/shm (ipc: none)");
        close(theirs);
        proc_check(p, setns(self, CLONE_NEWNS), "returning to its own mount namespace");
        close(self);
        break;
    }
    default:
        return false;
    }
    int t = open_shm_dir(p, rootfd, what);
    if (move_mount(m, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        proc_fail_errno(p, what);
    close(m);
    close(t);
    return true;
}

void procns_child_sysctls(struct procns_init *ns, struct proc_args *p, int rootfd)
{
    for (size_t i = 0; i < ns->n_sysctls; i++) {
        const struct init_sysctl *s = &ns->sysctls[i];
        char path[sizeof s->path + 8] = "proc/";
        proc_scat(path, sizeof path, s->path);
        char what[320] = "setting sysctl ";
        size_t n = strlen(what);
        for (const char *k = s->key; *k && *k != '=' && n + 1 < sizeof what; k++)
            what[n++] = *k;
        what[n] = '\0';
        /* Through the container's own /proc, which shows the settings of
         * the namespaces this process is in; no symlink on the way. */
        int fd = fs_openat2(rootfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0,
                            RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (fd == -ENOENT)
            proc_fail(p, ENOENT, 1, what, "this kernel has no such setting");
        if (fd < 0) {
            errno = -fd;
            proc_fail_errno(p, what);
        }
        struct statfs sfs;
        proc_check(p, fstatfs(fd, &sfs), what);
        if (sfs.f_type != PROC_SUPER_MAGIC)
            proc_fail(p, EINVAL, 1, what, "not on the container's /proc");
        size_t len = strlen(s->value);
        ssize_t w = write(fd, s->value, len);
        if (w < 0)
            proc_fail_errno(p, what);
        if ((size_t)w != len)
            proc_fail(p, EIO, 1, what, "short write");
        close(fd);
    }
}

/* ---- cgroup_parent ---------------------------------------------------- */

#define MADE_XATTR "trusted.berth.made"

/* berth's own tree: "berth/..." or "berth-<hash>/..." (cmd/project.h). */
static bool in_berth_tree(const char *rel)
{
    return strncmp(rel, "berth", 5) == 0 && (rel[5] == '/' || rel[5] == '-' || rel[5] == '\0');
}

bool cgroup_level_prunable(const char *rel, const char *dir)
{
    if (in_berth_tree(rel))
        return true;
    char v[4];
    return getxattr(dir, MADE_XATTR, v, sizeof v) > 0;
}

/* Removes the levels of parent (relative) under root that berth made,
 * deepest first, while they are empty. */
static void unmake(const char *root, const char *parent)
{
    _cleanup_free_ char *rel = xstrdup(parent);
    for (;;) {
        _cleanup_free_ char *dir = fs_path_join(root, rel);
        if (!cgroup_level_prunable(rel, dir) || rmdir(dir) < 0)
            return;
        char *slash = strrchr(rel, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
}

/* Makes the missing levels of parent under root, each marked. */
static int make_levels(const char *root, const char *parent, const char *who, struct berr *e)
{
    _cleanup_free_ char *rel = xstrdup(parent);
    for (char *c = rel;; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char keep = *c;
        *c = '\0';
        _cleanup_free_ char *dir = fs_path_join(root, rel);
        if (mkdir(dir, 0755) == 0) {
            if (setxattr(dir, MADE_XATTR, "1", 1, 0) < 0) {
                int r = berr_errno(e, errno, "%s: marking cgroup %s as berth's", who, dir);
                rmdir(dir);
                *c = keep;
                return r;
            }
        } else if (errno != EEXIST) {
            int r = berr_errno(e, errno, "%s: creating cgroup %s", who, dir);
            *c = keep;
            return r;
        }
        *c = keep;
        if (!keep)
            return 0;
    }
}

/* The parent of a cgroup_parent container's cgroup (heap), NULL for one
 * in berth's own tree. */
static char *parent_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    if (in_berth_tree(rel) || !slash)
        return NULL;
    return xstrndup(rel, (size_t)(slash - rel));
}

void cgroup_parent_release(const struct cgroup_sys *s, const char *rel)
{
    _cleanup_free_ char *parent = parent_of(rel);
    if (!parent)
        return;
    const char *rs[CG_CTRL_MAX + 1];
    int n = cgroup_roots(s, rs);
    for (int i = 0; i < n; i++)
        unmake(rs[i], parent);
}

int cgroup_parent_prepare(const struct cgroup_sys *s, const char *rel, const char *who,
                          struct berr *e)
{
    _cleanup_free_ char *parent = parent_of(rel);
    if (!parent)
        return 0;
    const char *rs[CG_CTRL_MAX + 1];
    int n = cgroup_roots(s, rs);
    for (int i = 0; i < n; i++) {
        int r = make_levels(rs[i], parent, who, e);
        if (r < 0) {
            for (int k = 0; k <= i; k++)
                unmake(rs[k], parent);
            return r;
        }
    }
    return 0;
}
