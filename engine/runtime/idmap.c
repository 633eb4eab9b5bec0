/* SPDX-License-Identifier: Apache-2.0 */
/* User namespaces of containers (idmap.h): the parent's maps and idmapped
 * overlay, the child's steps inside. */
#include "engine/runtime/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/init.h"
#include "engine/runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"

int idmap_clone_prepare(struct idmap_parent *u, const char *name, const char *upper_dir,
                        uint32_t uid, uint32_t gid, int netns_fd, struct berr *e)
{
    u->saved_netns = -1;
    if (chown(upper_dir, uid, gid) < 0)
        return berr_errno(e, errno, "%s: handing %s to the container's user namespace", name,
                          upper_dir);
    if (netns_fd < 0)
        return 0;
    int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0)
        return berr_errno(e, errno, "%s: opening this thread's network namespace", name);
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int r = berr_errno(e, errno, "%s: entering the container's network namespace", name);
        close(saved);
        return r;
    }
    u->saved_netns = saved;
    return 0;
}

void idmap_clone_done(struct idmap_parent *u)
{
    if (u->saved_netns < 0)
        return;
    if (setns(u->saved_netns, CLONE_NEWNET) < 0 && setns(u->saved_netns, CLONE_NEWNET) < 0) {
        fprintf(stderr, "berth: cannot return to the network namespace (%s); aborting\n",
                strerror(errno));
        abort();
    }
    close(u->saved_netns);
    u->saved_netns = -1;
}

static int write_map(pid_t pid, const char *file, uint32_t start, struct berr *e)
{
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    snprintf(map, sizeof map, "0 %u %u\n", start, USERNS_IDS);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
        return berr_errno(e, errno, "writing the %s of the container's user namespace", file);
    return 0;
}

/* clone3 of a helper with its pidfd in *pidfd, every signal blocked
 * around it: no handler of this process may run in the helper, which
 * keeps them blocked. In the parent, errno is clone3's. */
static long clone_quiet(uint64_t flags, int *pidfd)
{
    struct clone_args ca = {
        .flags = flags | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)pidfd,
        .exit_signal = SIGCHLD,
    };
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0)
        return 0;
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return pid;
}

/* Waits for the helper behind pidfd to end, and closes pidfd. */
static siginfo_t reap(int pidfd)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
        ;
    close(pidfd);
    return si;
}

/* What the overlay helper reports when it fails. */
struct helper_error {
    int err;
    char what[120];
};

struct overlay_job {
    char *const *lower_top_first;
    const char *upper, *work, *rootfs, *overlay_opts;
    bool lowerdir_plus, idmapped;
    int userns_fd, child_mntns, sync, err_fd;
};

static __attribute__((noreturn)) void helper_fail(const struct overlay_job *j, const char *what)
{
    struct helper_error he = {.err = errno};
    size_t n = strlen(what);
    if (n >= sizeof he.what)
        n = sizeof he.what - 1;
    memcpy(he.what, what, n);
    if (write(j->err_fd, &he, sizeof he) < 0)
        _exit(2);
    _exit(1);
}

/* The helper, between clone3 and _exit, system calls only, as host root in
 * a mount namespace of its own: each layer covered by an idmapped mount of
 * itself (overlayfs takes private clones of layers that are in the
 * mounter's namespace, not of detached ones), the overlay made on them,
 * attached in the container's mount namespace; then the go. */
static __attribute__((noreturn)) void overlay_helper(const struct overlay_job *j)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        helper_fail(j, "making mounts private");
    for (char *const *l = j->lower_top_first; j->idmapped && *l; l++) {
        int m = open_tree(AT_FDCWD, *l, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (m < 0)
            helper_fail(j, "opening a layer");
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                                  .userns_fd = (uint64_t)j->userns_fd};
        if (mount_setattr(m, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
            helper_fail(j, "the file system of the layers refuses idmapped mounts, which "
                           "userns_mode auto needs");
        if (move_mount(m, "", AT_FDCWD, *l, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            helper_fail(j, "mapping a layer");
        close(m);
    }
    int root;
    const char *what = j->idmapped ? "mounting the root file system on idmapped layers"
                                   : "mounting the root file system on the range's layers";
    if (j->lowerdir_plus) {
        root = init_overlay_fsmount(j->lower_top_first, j->upper, j->work);
        if (root < 0)
            errno = -root;
    } else {
        if (mount("overlay", j->rootfs, "overlay", 0, j->overlay_opts) < 0)
            helper_fail(j, what);
        root = open_tree(AT_FDCWD, j->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    }
    if (root < 0)
        helper_fail(j, what);
    /* Attached in the container's mount namespace by host root: a detached
     * mount of the host's may not be attached from inside it, and mounts
     * copied into it are locked (no pivot_root onto them). */
    if (setns(j->child_mntns, CLONE_NEWNS) < 0 ||
        move_mount(root, "", AT_FDCWD, j->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        helper_fail(j, what);
    if (write(j->sync, "1", 1) != 1)
        helper_fail(j, "starting the container process");
    _exit(0);
}

int idmap_child_go(pid_t pid, int sync_fd, const struct idmap_rootfs *fs, uint32_t uid,
                   uint32_t gid, const char *name, struct berr *e)
{
    int r = write_map(pid, "uid_map", uid, e);
    if (r == 0)
        r = write_map(pid, "gid_map", gid, e);
    if (r < 0)
        return berr_wrap(e, "%s", name);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    _cleanup_close_ int userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0)
        return berr_errno(e, errno, "%s: opening the container's user namespace", name);
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    _cleanup_close_ int mntns = open(path, O_RDONLY | O_CLOEXEC);
    if (mntns < 0)
        return berr_errno(e, errno, "%s: opening the container's mount namespace", name);
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "%s: creating pipes", name);
    struct overlay_job j = {
        .lower_top_first = fs->lower_top_first,
        .upper = fs->upper_dir,
        .work = fs->work_dir,
        .rootfs = fs->rootfs_dir,
        .overlay_opts = fs->overlay_opts,
        .lowerdir_plus = fs->lowerdir_plus,
        .idmapped = fs->idmapped,
        .userns_fd = userns,
        .child_mntns = mntns,
        .sync = sync_fd,
        .err_fd = errp[1],
    };
    int hfd = -1;
    long hpid = clone_quiet(CLONE_NEWNS, &hfd);
    if (hpid == 0)
        overlay_helper(&j);
    int err = errno;
    close(errp[1]);
    if (hpid < 0) {
        close(errp[0]);
        return berr_errno(e, err, "%s: mounting the root file system", name);
    }
    siginfo_t si = reap(hfd);
    struct helper_error he;
    ssize_t n = read(errp[0], &he, sizeof he);
    close(errp[0]);
    if (si.si_code == CLD_EXITED && si.si_status == 0)
        return 0;
    if (n == (ssize_t)sizeof he) {
        he.what[sizeof he.what - 1] = '\0';
        return berr_errno(e, he.err, "%s: %s", name, he.what);
    }
    return berr_set(e, -EIO, "%s: mounting the root file system failed", name);
}

/* A user namespace with the range's maps, held by a child that waits on
 * a pipe; its fd in *userns. */
static int probe_userns(uint32_t uid, uint32_t gid, int *userns, struct berr *e)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "creating pipes");
    int pfd = -1;
    long pid = clone_quiet(CLONE_NEWUSER, &pfd);
    if (pid == 0) {
        char b;
        close(hold[1]);
        while (read(hold[0], &b, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    int err = errno;
    close(hold[0]);
    if (pid < 0) {
        close(hold[1]);
        return berr_errno(e, err, "creating a user namespace");
    }
    int r = write_map((pid_t)pid, "uid_map", uid, e);
    if (r == 0)
        r = write_map((pid_t)pid, "gid_map", gid, e);
    if (r == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
        *userns = open(path, O_RDONLY | O_CLOEXEC);
        if (*userns < 0)
            r = berr_errno(e, errno, "opening a user namespace");
    }
    close(hold[1]); /* the child ends; the namespace lives on in *userns */
    reap(pfd);
    return r;
}

int idmap_layers_supported(const char *dir, uint32_t uid, uint32_t gid, bool *ok, struct berr *e)
{
    *ok = false;
    _cleanup_close_ int userns = -1;
    int r = probe_userns(uid, gid, &userns, e);
    if (r < 0)
        return berr_wrap(e, "trying an idmapped mount");
    _cleanup_close_ int m = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (m < 0)
        return berr_errno(e, errno, "trying an idmapped mount of %s", dir);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
    if (mount_setattr(m, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) {
        *ok = true;
        return 0;
    }
    /* EINVAL: the file system does not allow it; ENOSYS: the kernel
     * predates idmapped mounts */
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)
        return 0;
    return berr_errno(e, errno, "trying an idmapped mount of %s", dir);
}

int idmap_pidfd_other_userns(int pidfd, bool *other, struct berr *e)
{
    *other = false;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
    _cleanup_free_ char *info = NULL;
    int r = fs_read_file(AT_FDCWD, path, 1 << 16, &info, NULL, e);
    if (r < 0)
        return r;
    const char *p = strstr(info, "\nPid:");
    long pid = p ? strtol(p + 5, NULL, 10) : -1;
    if (pid <= 0)
        return berr_set(e, -ESRCH, "the container is not running");
    struct stat mine, theirs;
    snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
    if (stat("/proc/self/ns/user", &mine) < 0 || stat(path, &theirs) < 0)
        return berr_errno(e, errno, "reading the container's user namespace");
    /* The pid read above is still the pidfd's process (not a reused one). */
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
        return berr_set(e, -ESRCH, "the container is not running");
    *other = mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino;
    return 0;
}

void idmap_become_root(struct proc_args *p, int userns_fd)
{
    int pdeath = 0;
    prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (userns_fd >= 0)
        proc_check(p, setns(userns_fd, CLONE_NEWUSER), "joining the container's user namespace");
    proc_check(p, setgroups(0, NULL), "becoming root in the container's user namespace");
    proc_check(p, setresgid(0, 0, 0), "becoming root in the container's user namespace");
    proc_check(p, setresuid(0, 0, 0), "becoming root in the container's user namespace");
    /* The change of credentials cleared both (see keep_after_setuid in
     * proc.c). */
    if (!dumpable)
        proc_check(p, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "making the process non-dumpable");
    if (pdeath)
        proc_check(p, prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0), "setting the parent-death signal");
}

void idmap_dev_nodes(struct proc_args *p, int devfd)
{
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    const char *what = "populating /dev";
    char host[32];
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        int f = openat(devfd, nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        proc_check(p, f, what);
        close(f);
        host[0] = '\0';
        proc_scat(host, sizeof host, "/dev/");
        proc_scat(host, sizeof host, nodes[i]);
        int m = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        proc_check(p, m, what);
        proc_check(p, move_mount(m, "", devfd, nodes[i], MOVE_MOUNT_F_EMPTY_PATH), what);
        close(m);
    }
}

int idmap_bind_ro(struct proc_args *p, const char *host_path, const char *what)
{
    int m = open_tree(AT_FDCWD, host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    proc_check(p, m, what);
    struct mount_attr attr = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        .propagation = MS_PRIVATE,
    };
    proc_check(p, mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr), what);
    return m;
}
