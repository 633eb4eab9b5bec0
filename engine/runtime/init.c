/* SPDX-License-Identifier: Apache-2.0 */
/* The container's init between clone3 and execve, system calls only: the
 * overlay root, /dev, /proc, /sys and cgroup mounts, the spec's mounts through
 * openat2, masked and read-only paths, pivot_root. Not here: the last steps
 * shared with exec (user, caps, seccomp, execve: engine/runtime/proc.c),
 * anything the parent prepares (container.c, mountspec.c). */
#include "engine/runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/runtime/idmap.h"
#include "engine/runtime/proc.h"
#include "engine/runtime/user.h"
#include "net/loopback.h"
#include "util/fs.h"

/* Everything below runs in the child between clone3 and execve: only
 * system calls and these allocation-free helpers. */

#define fail(a, ...)        proc_fail(&(a)->p, __VA_ARGS__)
#define fail_errno(a, what) proc_fail_errno(&(a)->p, what)
#define check(a, r, what)   proc_check(&(a)->p, r, what)
#define scat                proc_scat

/* Opens a fixed mount target inside the root: it must be a real directory
 * reached through no symlink at all (an image whose /proc or /dev is a
 * symlink is refused), and is created when missing. */
static int target_dir(struct init_args *a, int rootfd, const char *path, const char *what)
{
    uint64_t res = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = fs_openat2(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, res);
    if (fd == -ENOENT) {
        /* Create the last component in its (already checked) parent. */
        char parent[PATH_MAX];
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        if (slash) {
            size_t n = (size_t)(slash - path);
            memcpy(parent, path, n);
            parent[n] = '\0';
        } else {
            parent[0] = '.';
            parent[1] = '\0';
        }
        int pfd = fs_openat2(rootfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, res);
        if (pfd < 0) {
            errno = -pfd;
            fail_errno(a, what);
        }
        if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
            fail_errno(a, what);
        close(pfd);
        fd = fs_openat2(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, res);
    }
    if (fd == -ELOOP || fd == -ENOTDIR) {
        char msg[PATH_MAX + 64] = "";
        scat(msg, sizeof msg, "/");
        scat(msg, sizeof msg, path);
        scat(msg, sizeof msg, " in the image must be an ordinary directory, not a symlink");
        fail(a, -fd, 1, what, msg);
    }
    if (fd < 0) {
        errno = -fd;
        fail_errno(a, what);
    }
    return fd;
}

/* fsopen + options + fsmount, then attach on top of target (an fd). */
struct fsopt {
    const char *key;
    const char *val; /* NULL: a flag */
};

static int make_mount(struct init_args *a, const char *fstype, const struct fsopt *opts,
                      unsigned attrs, const char *what)
{
    int fs = fsopen(fstype, FSOPEN_CLOEXEC);
    if (fs < 0)
        fail_errno(a, what);
    for (const struct fsopt *o = opts; o && o->key; o++) {
        int r = o->val ? fsconfig(fs, FSCONFIG_SET_STRING, o->key, o->val, 0)
                       : fsconfig(fs, FSCONFIG_SET_FLAG, o->key, NULL, 0);
        if (r < 0)
            fail_errno(a, what);
    }
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        fail_errno(a, what);
    int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
    if (m < 0)
        fail_errno(a, what);
    close(fs);
    return m;
}

static void attach(struct init_args *a, int mnt, int target, const char *what)
{
    if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        fail_errno(a, what);
}

static void mount_at(struct init_args *a, int rootfd, const char *path, const char *fstype,
                     const struct fsopt *opts, unsigned attrs, const char *what)
{
    int t = target_dir(a, rootfd, path, what);
    int m = make_mount(a, fstype, opts, attrs, what);
    attach(a, m, t, what);
    close(m);
    close(t);
}

int init_overlay_fsmount(char *const *lower_top_first, const char *upper, const char *work)
{
    int fs = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return -errno;
    int m = -1;
    for (char *const *l = lower_top_first; *l; l++)
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", *l, 0) < 0)
            goto out;
    if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
        fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        goto out;
    m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
out:
    if (m < 0)
        m = -errno;
    close(fs);
    return m;
}

static void mount_overlay(struct init_args *a)
{
    const char *what = "mounting the container's root file system";
    int m;
    if (a->lowerdir_plus) {
        m = init_overlay_fsmount(a->lower_top_first, a->upper_dir, a->work_dir);
        if (m < 0) {
            errno = -m;
            fail_errno(a, what);
        }
        if (move_mount(m, "", AT_FDCWD, a->rootfs_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            fail_errno(a, what);
        close(m);
    } else {
        check(a, mount("overlay", a->rootfs_dir, "overlay", 0, a->overlay_opts), what);
    }
}

static void make_dev(struct init_args *a, int devfd)
{
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {
        {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    };
    const char *what = "populating /dev";
    if (a->userns)
        idmap_dev_nodes(&a->p, devfd);
    for (size_t i = 0; !a->userns && i < sizeof nodes / sizeof nodes[0]; i++) {
        check(a, mknodat(devfd, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)),
              what);
        check(a, fchmodat(devfd, nodes[i].name, 0666, 0), what);
    }
    static const struct {
        const char *target, *name;
    } links[] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},         {"/proc/kcore", "core"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        check(a, symlinkat(links[i].target, devfd, links[i].name), what);
    check(a, mkdirat(devfd, "pts", 0755), what);
    check(a, mkdirat(devfd, "shm", 01777), what);
    check(a, mkdirat(devfd, "mqueue", 01777), what);
}

/* Device nodes, each below /dev through directories made here (never
 * through a symlink: the standard ones lead to /proc), with the host
 * node's type, number, mode and owner. One whose node is there already
 * replaces it (compose `devices` naming a standard node), or with keep,
 * leaves it as it is (privileged: the host's nodes after those). */
static void make_devices(struct init_args *a, int devfd, const struct init_device *v, size_t n,
                         bool keep)
{
    for (size_t i = 0; i < n; i++) {
        const struct init_device *d = &v[i];
        char buf[sizeof d->path];
        memcpy(buf, d->path, sizeof buf);
        buf[sizeof buf - 1] = '\0';
        int dir = openat(devfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        check(a, dir, d->what);
        char *name = buf;
        for (char *slash; (slash = strchr(name, '/'));) {
            *slash = '\0';
            if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
                fail_errno(a, d->what);
            int sub = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            check(a, sub, d->what);
            close(dir);
            dir = sub;
            name = slash + 1;
        }
        if (mknodat(dir, name, d->mode, d->rdev) < 0) {
            if (errno != EEXIST)
                fail_errno(a, d->what);
            if (keep) {
                close(dir);
                continue;
            }
            check(a, unlinkat(dir, name, 0), d->what);
            check(a, mknodat(dir, name, d->mode, d->rdev), d->what);
        }
        check(a, fchmodat(dir, name, d->mode & 07777, 0), d->what);
        check(a, fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW), d->what);
        close(dir);
    }
}

static void mount_cgroups(struct init_args *a, int rootfd)
{
    const char *what = "mounting /sys/fs/cgroup";
    /* Docker: read-only unless privileged. */
    unsigned ro = (a->privileged ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                  MOUNT_ATTR_NOEXEC;
    if (a->cgroup_unified) {
        mount_at(a, rootfd, "sys/fs/cgroup", "cgroup2", NULL, ro, what);
        return;
    }
    /* Hybrid/v1: a tmpfs holding each hierarchy, read-only once filled. The
     * container's cgroup namespace makes each show only its own subtree. */
    int t = target_dir(a, rootfd, "sys/fs/cgroup", what);
    static const struct fsopt tmpfs_opts[] = {{"mode", "755"}, {NULL, NULL}};
    int tm = make_mount(a, "tmpfs", tmpfs_opts,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, what);
    attach(a, tm, t, what);
    close(t);
    int dir = target_dir(a, rootfd, "sys/fs/cgroup", what);
    for (int i = 0; i < a->n_cgmounts; i++) {
        const char *name = a->cgmount_names[i];
        check(a, mkdirat(dir, name, 0755), what);
        int sub = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        check(a, sub, what);
        /* One flag per controller of this hierarchy ("cpu,cpuacct"). */
        struct fsopt opts[8];
        char names[8][32];
        int n = 0;
        const char *p = name;
        while (*p && n < 7) {
            size_t k = 0;
            while (p[k] && p[k] != ',' && k < 31) {
                names[n][k] = p[k];
                k++;
            }
            names[n][k] = '\0';
            opts[n].key = names[n];
            opts[n].val = NULL;
            n++;
            p += k;
            if (*p == ',')
                p++;
        }
        opts[n].key = NULL;
        int m = a->userns ? idmap_bind_ro(&a->p, a->cg_host_dirs[i], what)
                          : make_mount(a, "cgroup", opts, ro, what);
        attach(a, m, sub, what);
        close(m);
        close(sub);
    }
    if (a->cgroup_has_v2) {
        check(a, mkdirat(dir, "unified", 0755), what);
        int sub = openat(dir, "unified", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        check(a, sub, what);
        int m = make_mount(a, "cgroup2", NULL, ro, what);
        attach(a, m, sub, what);
        close(m);
        close(sub);
    }
    close(dir);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (!a->privileged)
        check(a, mount_setattr(tm, "", AT_EMPTY_PATH, &attr, sizeof attr), what);
    close(tm);
}

/* Read-only /sys and the cgroups. In a user namespace: sysfs only where
 * it owns the network namespace (a fresh one), else the host's /sys bound
 * read-only as crun does; cgroup v1 hierarchies cannot be mounted there,
 * so each is the container's own directory of the host's, bound
 * read-only (mount_cgroups). */
static void mount_sys(struct init_args *a, int rootfd)
{
    const char *what = "mounting /sys";
    unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                     (a->privileged ? 0 : MOUNT_ATTR_RDONLY);
    bool own_net = a->netns_fd < 0 && !a->net_host;
    if (!a->userns || (own_net && a->cgroup_unified)) {
        mount_at(a, rootfd, "sys", "sysfs", NULL, attrs, what);
        mount_cgroups(a, rootfd);
        return;
    }
    int t = target_dir(a, rootfd, "sys", what);
    int m = idmap_bind_ro(&a->p, "/sys", what);
    attach(a, m, t, what);
    close(m);
    close(t);
    mount_cgroups(a, rootfd);
}

/* In a user namespace of its own (idmap.h): what needs host root's
 * access to the store's private directories (the root file system the
 * parent mounted, the mounts' sources) is opened first, then the process
 * becomes the namespace's root. Returns the root's fd. */
static int enter_userns(struct init_args *a)
{
    int rootfd = open(a->rootfs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    check(a, rootfd, "opening the root file system");
    for (size_t i = 0; i < a->n_mounts; i++) {
        const struct init_mount *m = &a->mounts[i];
        a->mount_fds[i] = -1;
        if (!m->source)
            continue;
        a->mount_fds[i] =
            open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (a->mount_fds[i] < 0)
            fail_errno(a, m->what);
    }
    idmap_become_root(&a->p, -1);
    return rootfd;
}

/* Mount targets of the spec's mounts may not land on these (a symlink in
 * the image may lead there even when the path does not say so). */
static bool kernel_fs(int fd)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0)
        return true;
    return sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC ||
           sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static void mount_fail(struct init_args *a, const struct init_mount *m, int err, const char *why)
{
    char msg[PATH_MAX + 128] = "";
    scat(msg, sizeof msg, why);
    if (err) {
        scat(msg, sizeof msg, ": ");
        scat(msg, sizeof msg, strerrordesc_np(err));
    }
    fail(a, err ? err : EINVAL, 1, m->what, msg);
}

/* A dangling symlink `comp` in the directory that `prefix` (a path in the
 * root) names: the rest of the walk goes on from where it points, as the
 * kernel would follow it inside the root. Writes the new path (link target,
 * then rest) into path; returns false when it is no symlink after all. */
static bool follow_dangling(struct init_args *a, const struct init_mount *m, int dirfd,
                            const char *comp, const char *prefix, size_t dir_len, const char *rest,
                            char *path, size_t cap)
{
    char link[PATH_MAX];
    ssize_t n = readlinkat(dirfd, comp, link, sizeof link - 1);
    if (n < 0) {
        if (errno == EINVAL || errno == ENOENT)
            return false;
        mount_fail(a, m, errno, "reading a symlink on the way to the target");
    }
    link[n] = '\0';
    char out[PATH_MAX] = "";
    if (link[0] != '/' && dir_len > 0) {
        if (dir_len >= sizeof out)
            mount_fail(a, m, ENAMETOOLONG, "following a symlink on the way to the target");
        memcpy(out, prefix, dir_len);
        out[dir_len] = '\0';
        scat(out, sizeof out, "/");
    }
    scat(out, sizeof out, link);
    if (*rest) {
        scat(out, sizeof out, "/");
        scat(out, sizeof out, rest);
    }
    if (strlen(out) + 1 >= sizeof out || strlen(out) + 1 > cap)
        mount_fail(a, m, ENAMETOOLONG, "following a symlink on the way to the target");
    memcpy(path, out, strlen(out) + 1);
    return true;
}

/* Opens the target of a spec mount inside the root, creating what is
 * missing component by component: each prefix is resolved again from the
 * root (RESOLVE_IN_ROOT), so a symlink in the image, or one a container
 * swaps in at any moment, can only lead somewhere inside the root; a
 * dangling one is followed inside the root, as Docker does. The mount
 * then goes onto the fd, never onto a path. */
static int spec_target(struct init_args *a, int rootfd, const struct init_mount *m)
{
    uint64_t res = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    char path[PATH_MAX], prefix[PATH_MAX];
    size_t len = strlen(m->target);
    if (len == 0 || len >= sizeof path)
        mount_fail(a, m, ENAMETOOLONG, "invalid target");
    memcpy(path, m->target, len + 1);
    int cur = fs_openat2(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, res);
    if (cur < 0)
        mount_fail(a, m, -cur, "opening the root");
    int links = 0, retries = 0;
    size_t i = 0;
    while (path[i] == '/')
        i++;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        bool last = j == len;
        memcpy(prefix, path, j);
        prefix[j] = '\0';
        int flags = O_PATH | O_CLOEXEC | (last && m->target_is_file ? 0 : O_DIRECTORY);
        int fd = fs_openat2(rootfd, prefix, flags, 0, res);
        if (fd == -ENOENT) {
            char comp[NAME_MAX + 1];
            if (j - i > NAME_MAX)
                mount_fail(a, m, ENAMETOOLONG, "creating the target");
            memcpy(comp, path + i, j - i);
            comp[j - i] = '\0';
            if (kernel_fs(cur))
                mount_fail(a, m, EPERM, "the target leads into /proc or /sys");
            int r;
            if (last && m->target_is_file) {
                r = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (r >= 0)
                    close(r);
            } else {
                r = mkdirat(cur, comp, 0755);
            }
            if (r < 0 && errno == ENOENT && ++retries < 16)
                continue; /* its directory was moved meanwhile: again */
            if (r < 0 && errno != EEXIST)
                mount_fail(a, m, errno, "creating the target");
            if (r < 0) {
                /* Something is there that does not resolve: a dangling
                 * symlink. Go on from where it points. */
                if (++links > 40)
                    mount_fail(a, m, ELOOP, "following symlinks on the way to the target");
                size_t dir_len = i > 0 ? i - 1 : 0;
                if (follow_dangling(a, m, cur, comp, prefix, dir_len, last ? "" : path + j + 1,
                                    path, sizeof path)) {
                    close(cur);
                    cur = fs_openat2(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, res);
                    if (cur < 0)
                        mount_fail(a, m, -cur, "opening the root");
                    len = strlen(path);
                    i = 0;
                    while (path[i] == '/')
                        i++;
                    continue;
                }
            }
            fd = fs_openat2(rootfd, prefix, flags, 0, res);
            /* Moved away again meanwhile (a container sharing a volume may
             * rename under us): try this component again, a few times. */
            if (fd == -ENOENT && ++retries < 16)
                continue;
        }
        if (fd < 0)
            mount_fail(a, m, -fd, "opening the target");
        close(cur);
        cur = fd;
        i = j + 1;
        while (i < len && path[i] == '/')
            i++;
    }
    if (kernel_fs(cur))
        mount_fail(a, m, EPERM,
                   "the target leads into /proc or /sys: nothing can be mounted there");
    struct stat ts, rs;
    if (fstat(cur, &ts) < 0 || fstat(rootfd, &rs) < 0)
        mount_fail(a, m, errno, "opening the target");
    if (ts.st_dev == rs.st_dev && ts.st_ino == rs.st_ino)
        mount_fail(a, m, EINVAL, "the target resolves to the container's root");
    return cur;
}

/* The spec's mounts (volumes, binds, tmpfs), in order: a later target may
 * lie inside an earlier mount. */
static void spec_mounts(struct init_args *a, int rootfd)
{
    for (size_t i = 0; i < a->n_mounts; i++) {
        const struct init_mount *m = &a->mounts[i];
        int t = spec_target(a, rootfd, m);
        int mnt;
        if (m->source) {
            mnt = a->userns ? a->mount_fds[i]
                            : open_tree(AT_FDCWD, m->source,
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
            if (mnt < 0)
                fail_errno(a, m->what);
            struct mount_attr attr = {
                .attr_set = m->read_only ? MOUNT_ATTR_RDONLY : 0,
                .propagation = MS_PRIVATE,
            };
            check(a, mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr),
                  m->what);
        } else {
            struct fsopt opts[3] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
            int n = 0;
            if (m->tmpfs_size[0])
                opts[n++] = (struct fsopt){"size", m->tmpfs_size};
            opts[n++] = (struct fsopt){"mode", m->tmpfs_mode};
            mnt = make_mount(a, "tmpfs", opts,
                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                 (m->read_only ? MOUNT_ATTR_RDONLY : 0),
                             m->what);
        }
        attach(a, mnt, t, m->what);
        close(mnt);
        close(t);
    }
}

/* Opens a path of the fresh /proc or /sys mounts (no symlink anywhere on
 * the way); -1 when the kernel does not have it. */
static int open_kernel_path(struct init_args *a, int rootfd, const char *path, const char *what)
{
    int t = fs_openat2(rootfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (t == -ENOENT)
        return -1;
    if (t < 0) {
        errno = -t;
        fail_errno(a, what);
    }
    return t;
}

/* Whether security_opt unmask= names path ("proc/kcore"). */
static bool unmasked(const struct init_args *a, const char *path)
{
    for (size_t i = 0; a->unmask && a->unmask[i]; i++)
        if (strcmp(a->unmask[i] + 1, path) == 0)
            return true;
    return false;
}

/* Docker's masked paths, less those unmasked, and security_opt mask=
 * paths: /dev/null over files, an empty read-only tmpfs over
 * directories. Missing paths are skipped. */
static void mask_paths(struct init_args *a, int rootfd, int nullfd)
{
    static const char *const masked[] = {
        "proc/asound",      "proc/acpi",          "proc/interrupts", "proc/kcore",
        "proc/keys",        "proc/latency_stats", "proc/timer_list", "proc/timer_stats",
        "proc/sched_debug", "proc/scsi",          "sys/firmware",    "sys/devices/virtual/powercap",
    };
    const char *what = "masking paths";
    size_t n_default = a->unmask_all ? 0 : sizeof masked / sizeof masked[0];
    size_t n_extra = 0;
    while (a->mask && a->mask[n_extra])
        n_extra++;
    for (size_t i = 0; i < n_default + n_extra; i++) {
        /* the spec's paths are absolute: relative to the root here */
        const char *path = i < n_default ? masked[i] : a->mask[i - n_default] + 1;
        if (i < n_default && unmasked(a, path))
            continue;
        int t = open_kernel_path(a, rootfd, path, what);
        if (t < 0)
            continue;
        struct stat st;
        check(a, fstat(t, &st), what);
        if (S_ISDIR(st.st_mode)) {
            int m = make_mount(a, "tmpfs", NULL, MOUNT_ATTR_RDONLY, what);
            attach(a, m, t, what);
            close(m);
        } else {
            int m = open_tree(nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
            if (m < 0)
                fail_errno(a, what);
            attach(a, m, t, what);
            close(m);
        }
        close(t);
    }
}

static void readonly_paths(struct init_args *a, int rootfd)
{
    static const char *const ro[] = {
        "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
    };
    const char *what = "making /proc paths read-only";
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        /* podman's unmask covers the read-only paths too */
        if (a->unmask_all || unmasked(a, ro[i]))
            continue;
        int t = open_kernel_path(a, rootfd, ro[i], what);
        if (t < 0)
            continue;
        struct statfs sfs;
        check(a, fstatfs(t, &sfs), what);
        if (sfs.f_type != PROC_SUPER_MAGIC)
            fail(a, EINVAL, 1, what, "target is not on procfs");
        int m =
            open_tree(t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (m < 0)
            fail_errno(a, what);
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
        check(a, mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr), what);
        attach(a, m, t, what);
        close(m);
        close(t);
    }
}

void container_init(struct init_args *a)
{
    /* Die with the supervisor; a parent that is already gone has closed
     * the sync pipe, so the read below sees EOF. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    procns_child_join(&a->ns, &a->p);
    /* Nothing the supervisor holds open may reach the container: only
     * what this child uses is kept. */
    int keep[24];
    size_t n = 0;
    keep[n++] = a->sync_fd;
    keep[n++] = a->p.error_fd;
    for (int i = 0; i < a->n_cg_join && i < 8; i++)
        keep[n++] = a->cg_join[i];
    keep[n++] = a->cg_join_v2;
    keep[n++] = a->console_sock;
    for (int i = 0; i < 3; i++)
        keep[n++] = a->p.stdio[i];
    keep[n++] = a->p.devnull;
    keep[n++] = a->p.init ? a->p.init_fd : -1;
    keep[n++] = a->netns_fd;
    keep[n++] = a->ns.ipc_fd;
    if (proc_close_fds_except(keep, n) < 0)
        fail_errno(a, "closing file descriptors");
    char go;
    if (read(a->sync_fd, &go, 1) != 1)
        _exit(1);
    close(a->sync_fd);
    int rootfd = a->userns ? enter_userns(a) : -1;
    umask(0);
    /* Into the container's network namespace before anything is mounted:
     * /sys shows the network devices of the namespace that mounts it. */
    if (a->netns_fd >= 0) {
        check(a, setns(a->netns_fd, CLONE_NEWNET), "joining the network namespace");
        close(a->netns_fd);
    }

    /* Join the container's cgroup in each hierarchy, then make it the root
     * of a new cgroup namespace. */
    for (int i = 0; i < a->n_cg_join; i++)
        check(a, (int)write(a->cg_join[i], "0", 1), "joining the container's cgroup");
    if (a->cg_join_v2 >= 0)
        check(a, (int)write(a->cg_join_v2, "0", 1), "joining the container's cgroup");
    if (!a->ns.cgroupns_host)
        check(a, unshare(CLONE_NEWCGROUP), "creating the cgroup namespace");
    check(a, setsid(), "creating a session");
    check(a, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "making mounts private");
    if (!a->userns) {
        mount_overlay(a);
        rootfd = open(a->rootfs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        check(a, rootfd, "opening the root file system");
    }

    unsigned nsuid = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    mount_at(a, rootfd, "proc", "proc", NULL, nsuid, "mounting /proc");

    static const struct fsopt dev_opts[] = {{"mode", "755"}, {"size", "65536k"}, {NULL, NULL}};
    mount_at(a, rootfd, "dev", "tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME,
             "mounting /dev");
    int devfd = target_dir(a, rootfd, "dev", "mounting /dev");
    int devrw = openat(devfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(a, devrw, "mounting /dev");
    make_dev(a, devrw);
    make_devices(a, devrw, a->devices, a->n_devices, false);
    if (a->privileged)
        make_devices(a, devrw, a->devnodes, a->n_devnodes, true);
    static const struct fsopt pts_opts[] = {
        {"newinstance", NULL}, {"ptmxmode", "0666"}, {"mode", "0620"}, {"gid", "5"}, {NULL, NULL}};
    mount_at(a, rootfd, "dev/pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
             "mounting /dev/pts");
    const struct fsopt shm_opts[] = {
        {"mode", "1777"}, {"size", a->shm_size[0] ? a->shm_size : "65536k"}, {NULL, NULL}};
    if (a->p.tty) {
        proc_console(&a->p, rootfd, a->console_sock);
        a->console_sock = -1;
    }
    if (!procns_child_shm(&a->ns, &a->p, rootfd))
        mount_at(a, rootfd, "dev/shm", "tmpfs", shm_opts, nsuid, "mounting /dev/shm");
    mount_at(a, rootfd, "dev/mqueue", "mqueue", NULL, nsuid, "mounting /dev/mqueue");

    mount_sys(a, rootfd);

    spec_mounts(a, rootfd);

    int nullfd = openat(devrw, "null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    check(a, nullfd, "opening /dev/null");
    if (!a->no_masks)
        mask_paths(a, rootfd, nullfd);
    procns_child_sysctls(&a->ns, &a->p, rootfd);
    if (!a->no_masks)
        readonly_paths(a, rootfd);

    if (a->netns_fd < 0 && !a->net_host) {
        int lo = net_loopback_up();
        if (lo < 0) {
            errno = -lo;
            fail_errno(a, "bringing up the loopback interface");
        }
    }
    if (a->hostname && *a->hostname)
        check(a, sethostname(a->hostname, strlen(a->hostname)), "setting the hostname");
    if (a->domainname && *a->domainname)
        check(a, setdomainname(a->domainname, strlen(a->domainname)), "setting the domain name");

    struct user_ids ids;
    int cwdfd;
    proc_prepare(&a->p, rootfd, &ids, &cwdfd);

    /* Switch to the new root. */
    check(a, fchdir(rootfd), "entering the root file system");
    check(a, (int)syscall(SYS_pivot_root, ".", "."), "pivot_root");
    check(a, umount2(".", MNT_DETACH), "detaching the old root");
    check(a, chdir("/"), "entering the root file system");
    if (a->read_only)
        check(a, mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
              "making the root file system read-only");
    proc_exec(&a->p, &ids, cwdfd);
}
