/* SPDX-License-Identifier: Apache-2.0 */
/* Seeding a new volume from the image: the image's layers are mounted
 * read-only (an overlay, or a bind of the only layer) in a short-lived
 * child with its own mount namespace; the target is resolved inside that
 * tree with openat2(RESOLVE_IN_ROOT), and its content copied fd-relative,
 * never following a symlink, into a directory of the volume that is then
 * swapped in for the empty data directory.
 * Not here: creating and naming volumes (engine/volume/volume.c), deciding
 * when to seed (engine/volume/mounts.c). */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/volume/volume.h"
#include "engine/volume/volume_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Where the legacy (pre-6.8) overlay mount goes in the child's namespace. */
#define SEED_LOWER_MNT "_lower"

/* What the child reports on its pipe (its exit status may be lost when
 * the caller ignores SIGCHLD): one of these words, and after "error " the
 * reason. Nothing at all means it died. */
#define SEED_OK     "ok"
#define SEED_ABSENT "absent" /* the image has no directory at the target */
#define SEED_ERROR  "error "

/* Everything the child needs, prepared by the parent. */
struct seed_job {
    char *const *layers; /* bottom first */
    size_t n_layers;
    const char *lowerdir;  /* "top:...:bottom", escaped, for the legacy mount */
    const char *lower_mnt; /* absolute path of the empty dir for the legacy mount */
    const char *target;    /* inside the image, relative ("." for the root) */
    int dstfd;             /* the volume's seed directory */
    int errfd;             /* write end: the outcome */
};

struct copy_err {
    char msg[1024];
};

static int cerr(struct copy_err *ce, int err, const char *what, const char *name)
{
    snprintf(ce->msg, sizeof ce->msg, "%s %s: %s", what, name, strerror(err));
    return -err;
}

static int set_attrs_fd(int fd, const struct stat *st)
{
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
        futimens(fd, ts) < 0)
        return -errno;
    return 0;
}

static int copy_data(int in, int out, char **buf)
{
    bool fallback = false;
    for (;;) {
        if (!fallback) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
            if (n > 0)
                continue;
            if (n == 0)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
                errno != EBADF)
                return -errno;
            fallback = true;
        }
        if (!*buf)
            *buf = xmalloc(1 << 17);
        ssize_t n = read(in, *buf, 1 << 17);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, *buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            off += w;
        }
    }
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, char **buf,
                     struct copy_err *ce)
{
    _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (in < 0)
        return cerr(ce, errno, "reading", name);
    struct stat now;
    if (fstat(in, &now) < 0)
        return cerr(ce, errno, "reading", name);
    if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
        return cerr(ce, EAGAIN, "reading", name); /* the image tree is read-only: never */
    _cleanup_close_ int out =
        openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return cerr(ce, errno, "creating", name);
    int r = copy_data(in, out, buf);
    if (r < 0)
        return cerr(ce, -r, "copying", name);
    r = set_attrs_fd(out, &now);
    if (r < 0)
        return cerr(ce, -r, "setting owner, mode and times of", name);
    return 0;
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st,
                        struct copy_err *ce)
{
    char target[4096];
    ssize_t n = readlinkat(sdir, name, target, sizeof target);
    if (n < 0)
        return cerr(ce, errno, "reading link", name);
    if ((size_t)n >= sizeof target)
        return cerr(ce, ENAMETOOLONG, "reading link", name);
    target[n] = '\0';
    if (symlinkat(target, ddir, name) < 0)
        return cerr(ce, errno, "creating link", name);
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return cerr(ce, errno, "setting owner and times of link", name);
    return 0;
}

static int copy_fifo(int ddir, const char *name, const struct stat *st, struct copy_err *ce)
{
    if (mknodat(ddir, name, S_IFIFO | 0600, 0) < 0)
        return cerr(ce, errno, "creating", name);
    /* Never open a FIFO (it would block): set its attributes by name; it is
     * ours and no symlink, and no one else writes in the seed directory. */
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(ddir, name, st->st_mode & 07777, 0) < 0 ||
        utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return cerr(ce, errno, "setting owner, mode and times of", name);
    return 0;
}

/* One level of the walk: the directory's attributes (applied when it is
 * done, after its content, so its times stick), the position to resume
 * reading its parent at, and the identities to check the climb by. */
struct frame {
    struct stat src;
    dev_t dst_dev;
    ino_t dst_ino;
    long parent_pos;
};

/* Copies the tree at src (a directory fd) into dst (an empty directory
 * fd), both taken over. Depth-first without recursion, with two fds open
 * at any time whatever the depth: a directory is entered by name and left
 * through "..", checked to be the directory it came from, and its parent's
 * reading resumes where it stopped (telldir/seekdir). */
static int seed_copy_tree(int src, int dst, struct copy_err *ce)
{
    struct frame *stack = NULL;
    size_t depth = 0, cap = 0;
    char *buf = NULL;
    int r = 0;
    DIR *d = NULL;
    struct stat dst_st;

    stack = xreallocarray(stack, cap = 16, sizeof *stack);
    if (fstat(src, &stack[0].src) < 0 || fstat(dst, &dst_st) < 0) {
        r = cerr(ce, errno, "reading", "the image directory");
        goto out;
    }
    stack[0].dst_dev = dst_st.st_dev;
    stack[0].dst_ino = dst_st.st_ino;
    stack[0].parent_pos = 0;
    d = fdopendir(src);
    if (!d) {
        r = cerr(ce, errno, "reading", "the image directory");
        goto out;
    }
    src = -1;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                r = cerr(ce, errno, "reading", "a directory");
                break;
            }
            /* This directory is complete. */
            r = set_attrs_fd(dst, &stack[depth].src);
            if (r < 0) {
                r = cerr(ce, -r, "setting owner, mode and times of", "a directory");
                break;
            }
            if (depth == 0)
                break;
            int sp = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int dp = openat(dst, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            struct stat ss, ds;
            bool ok = sp >= 0 && dp >= 0 && fstat(sp, &ss) == 0 && fstat(dp, &ds) == 0 &&
                      ss.st_dev == stack[depth - 1].src.st_dev &&
                      ss.st_ino == stack[depth - 1].src.st_ino &&
                      ds.st_dev == stack[depth - 1].dst_dev &&
                      ds.st_ino == stack[depth - 1].dst_ino;
            if (!ok) {
                if (sp >= 0)
                    close(sp);
                if (dp >= 0)
                    close(dp);
                r = cerr(ce, EIO, "climbing back from", "a directory (the tree changed)");
                break;
            }
            long pos = stack[depth].parent_pos;
            depth--;
            closedir(d);
            close(dst);
            dst = dp;
            d = fdopendir(sp);
            if (!d) {
                close(sp);
                r = cerr(ce, errno, "reading", "a directory");
                break;
            }
            seekdir(d, pos);
            continue;
        }
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = cerr(ce, errno, "reading", name);
            break;
        }
        switch (st.st_mode & S_IFMT) {
        case S_IFREG:
            r = copy_file(dirfd(d), dst, name, &st, &buf, ce);
            break;
        case S_IFLNK:
            r = copy_symlink(dirfd(d), dst, name, &st, ce);
            break;
        case S_IFIFO:
            r = copy_fifo(dst, name, &st, ce);
            break;
        case S_IFDIR: {
            if (mkdirat(dst, name, 0700) < 0) {
                r = cerr(ce, errno, "creating", name);
                break;
            }
            int sn = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sn < 0) {
                r = cerr(ce, errno, "reading", name);
                break;
            }
            int dn = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            struct stat sst, dst2;
            if (dn < 0 || fstat(sn, &sst) < 0 || fstat(dn, &dst2) < 0) {
                r = cerr(ce, errno, "entering", name);
                close(sn);
                if (dn >= 0)
                    close(dn);
                break;
            }
            if (depth + 1 >= cap)
                stack = xreallocarray(stack, cap *= 2, sizeof *stack);
            depth++;
            stack[depth].src = sst;
            stack[depth].dst_dev = dst2.st_dev;
            stack[depth].dst_ino = dst2.st_ino;
            stack[depth].parent_pos = telldir(d);
            closedir(d);
            close(dst);
            dst = dn;
            d = fdopendir(sn);
            if (!d) {
                close(sn);
                r = cerr(ce, errno, "reading", name);
            }
            break;
        }
        default:
            /* Device nodes and sockets are not copied (as Docker's copy
             * makes no devices in a volume either). */
            break;
        }
        if (r < 0)
            break;
    }
out:
    if (d)
        closedir(d);
    if (src >= 0)
        close(src);
    if (dst >= 0)
        close(dst);
    free(buf);
    free(stack);
    return r;
}

/* A read-only view of the image: an overlay of its layers, or a bind of
 * the only one (overlay needs two lower layers when it has no upper). */
static int mount_image(const struct seed_job *j, struct copy_err *ce)
{
    if (j->n_layers == 1) {
        int m =
            open_tree(AT_FDCWD, j->layers[0], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (m < 0)
            return cerr(ce, errno, "mounting", "the image's layer");
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                  .propagation = MS_PRIVATE};
        if (mount_setattr(m, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
            int err = errno;
            close(m);
            return cerr(ce, err, "mounting", "the image's layer");
        }
        return m;
    }
    int fs = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return cerr(ce, errno, "mounting", "the image's layers");
    /* "lowerdir+" (Linux 6.8) is refused with EINVAL by an overlayfs on the
     * new mount API (6.5 to 6.7); before 6.5 the API's adapter for legacy
     * file systems takes any key and the refusal comes only at create. */
    bool plus = true;
    for (size_t i = j->n_layers; i-- > 0 && plus;)
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", j->layers[i], 0) < 0) {
            if (errno != EINVAL || i != j->n_layers - 1) {
                int err = errno;
                close(fs);
                return cerr(ce, err, "mounting", "the image's layers");
            }
            plus = false;
        }
    if (plus && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int err = errno;
        if (err != EINVAL) {
            close(fs);
            return cerr(ce, err, "mounting", "the image's layers");
        }
        plus = false;
    }
    if (!plus) {
        /* Before Linux 6.8: fsconfig strings are capped at 256 bytes, so
         * mount(2) the whole option string on berth's own empty directory
         * (in this child's private mount namespace only). */
        close(fs);
        _cleanup_free_ char *opts = xasprintf("lowerdir=%s", j->lowerdir);
        if (mount("overlay", j->lower_mnt, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts) < 0)
            return cerr(ce, errno, "mounting", "the image's layers");
        int m = open(j->lower_mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m < 0)
            return cerr(ce, errno, "mounting", "the image's layers");
        return m;
    }
    int m = fsmount(fs, FSMOUNT_CLOEXEC,
                    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    int err = errno;
    close(fs);
    if (m < 0)
        return cerr(ce, err, "mounting", "the image's layers");
    return m;
}

__attribute__((noreturn)) static void seed_child(const struct seed_job *j)
{
    struct copy_err ce = {.msg = ""};
    char report[sizeof ce.msg + 16];
    const char *status = SEED_ERROR;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (unshare(CLONE_NEWNS) < 0) {
        cerr(&ce, errno, "creating", "a mount namespace");
        goto out;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        cerr(&ce, errno, "making", "mounts private");
        goto out;
    }
    int img = mount_image(j, &ce);
    if (img < 0)
        goto out;
    int src = fs_openat2(img, j->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (src == -ENOENT || src == -ENOTDIR) {
        status = SEED_ABSENT;
        goto out;
    }
    if (src < 0) {
        cerr(&ce, -src, "opening", "the target in the image");
        goto out;
    }
    if (seed_copy_tree(src, j->dstfd, &ce) == 0)
        status = SEED_OK;
out:;
    bool failed = strcmp(status, SEED_ERROR) == 0;
    snprintf(report, sizeof report, "%s%s", status, failed ? ce.msg : "");
    ssize_t w = write(j->errfd, report, strlen(report));
    _exit(w > 0 && !failed ? 0 : 1);
}

/* "a:b" → "a\:b": overlay's lowerdir separators and escapes. */
static char *escape_lower(const char *s)
{
    char *o = xmalloc(2 * strlen(s) + 1), *p = o;
    for (; *s; s++) {
        if (*s == ':' || *s == ',' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p = '\0';
    return o;
}

static bool dir_is_empty(int dirfd, const char *name, int *err)
{
    *err = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        *err = errno;
        close(fd);
        return false;
    }
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

static void rm_quiet(int dirfd, const char *name)
{
    struct berr ign = BERR_INIT;
    fs_rm_rf_at(dirfd, name, &ign);
    berr_clear(&ign);
}

/* Copies the image's target into the volume's seed directory in a child
 * and swaps it in for the empty data directory. */
static int seed_run(int vfd, const char *root, const char *name, char *const *layer_dirs,
                    size_t n_layers, const char *target, struct berr *e)
{
    if (mkdirat(vfd, VOLUME_SEED_TMP, 0700) < 0)
        return berr_errno(e, errno, "volume %s: creating its seed directory", name);
    _cleanup_close_ int dstfd =
        openat(vfd, VOLUME_SEED_TMP, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dstfd < 0)
        return berr_errno(e, errno, "volume %s: opening its seed directory", name);

    /* The legacy overlay option string, topmost layer first. */
    size_t cap = 1;
    for (size_t i = 0; i < n_layers; i++)
        cap += 2 * strlen(layer_dirs[i]) + 1;
    _cleanup_free_ char *lower = xcalloc(1, cap);
    for (size_t i = n_layers; i-- > 0;) {
        _cleanup_free_ char *esc = escape_lower(layer_dirs[i]);
        strcat(lower, esc);
        if (i)
            strcat(lower, ":");
    }
    bool legacy_dir = mkdirat(vfd, SEED_LOWER_MNT, 0700) == 0;
    _cleanup_free_ char *lower_mnt = xasprintf("%s/volumes/%s/%s", root, name, SEED_LOWER_MNT);
    const char *rel = target;
    while (*rel == '/')
        rel++;
    struct seed_job job = {
        .layers = layer_dirs,
        .n_layers = n_layers,
        .lowerdir = lower,
        .lower_mnt = lower_mnt,
        .target = *rel ? rel : ".",
        .dstfd = dstfd,
    };
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "volume %s: seeding", name);
    job.errfd = pfd[1];
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int er = errno;
        close(pfd[0]);
        close(pfd[1]);
        return berr_errno(e, er, "volume %s: seeding", name);
    }
    if (pid == 0) {
        close(pfd[0]);
        seed_child(&job);
    }
    close(pfd[1]);
    char msg[1024];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(pfd[0], msg + got, sizeof msg - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof msg - 1)
            break;
    }
    msg[got] = '\0';
    close(pfd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (legacy_dir)
        unlinkat(vfd, SEED_LOWER_MNT, AT_REMOVEDIR);
    if (strcmp(msg, SEED_ABSENT) == 0) {
        rm_quiet(vfd, VOLUME_SEED_TMP);
        return 0;
    }
    if (strcmp(msg, SEED_OK) != 0) {
        rm_quiet(vfd, VOLUME_SEED_TMP);
        const char *why = msg;
        if (strncmp(msg, SEED_ERROR, strlen(SEED_ERROR)) == 0)
            why = msg + strlen(SEED_ERROR);
        else
            snprintf(msg, sizeof msg, "the copying process died (status %d)", status);
        return berr_set(e, -EIO, "volume %s: copying the image's %s: %s", name, target, why);
    }
    /* Swap the copy in for the (still empty) data directory; a crash
     * before this leaves the volume empty and still to be seeded. */
    if (renameat2(vfd, VOLUME_SEED_TMP, vfd, VOLUME_DATA, RENAME_EXCHANGE) < 0) {
        int er = errno;
        rm_quiet(vfd, VOLUME_SEED_TMP);
        return berr_errno(e, er, "volume %s: putting the seeded data in place", name);
    }
    fsync(vfd);
    rm_quiet(vfd, VOLUME_SEED_TMP);
    return 0;
}

int volume_seed(const char *root, const char *name, char *const *layer_dirs, const char *target,
                struct berr *e)
{
    _cleanup_close_ int vfd = volume_open_dir(root, name, e);
    if (vfd < 0)
        return vfd;
    if (!target || target[0] != '/')
        return berr_set(e, -EINVAL, "volume %s: the mount target must be absolute", name);
    /* One seeder at a time per volume: a concurrent `up` waits here, then
     * finds the volume seeded. */
    if (flock(vfd, LOCK_EX) < 0)
        return berr_errno(e, errno, "locking volume %s", name);
    if (faccessat(vfd, VOLUME_SEED_PENDING, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0; /* already used: never seeded again */
        return berr_errno(e, errno, "volume %s", name);
    }
    int err;
    bool empty = dir_is_empty(vfd, VOLUME_DATA, &err);
    if (err)
        return berr_errno(e, err, "volume %s: reading its data directory", name);
    size_t n_layers = strv_len(layer_dirs);
    rm_quiet(vfd, VOLUME_SEED_TMP);
    rm_quiet(vfd, SEED_LOWER_MNT);
    if (empty && n_layers > 0) {
        int r = seed_run(vfd, root, name, layer_dirs, n_layers, target, e);
        if (r < 0)
            return r;
    }
    if (unlinkat(vfd, VOLUME_SEED_PENDING, 0) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "volume %s", name);
    return 0;
}
