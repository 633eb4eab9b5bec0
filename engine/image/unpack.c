/* SPDX-License-Identifier: Apache-2.0 */
/* The tar extractor: every entry written fd-relative below the layer root with
 * openat2 confinement and O_EXCL|O_NOFOLLOW, whiteouts applied, hostile entries
 * refused (SECURITY.md 5.B). Not here: decompression and DiffID checks
 * (engine/image/layer.c). */
#include "engine/image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define WH           ".wh."
#define WH_META      ".wh..wh."
#define WH_OPAQUE    ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

struct dirtime {
    char *path;
    struct timespec ts[2];
};

struct unpacker {
    int rootfd;
    const char *what;
    const struct berr *stream_err;
    const struct ev_sink *sink; /* the skipped entries' warnings */
    struct archive *a;
    /* The last parent directory resolved (or directory entry created): tar
     * streams list siblings together, so most entries reuse it. Valid
     * because an entry only changes names below its own parent, never a
     * component of that parent's path. */
    char *cache_path;
    int cache_fd;
    struct dirtime *dirs;
    size_t n_dirs, cap_dirs;
    struct unpack_stats *st;
};

int unpack_clean_path(const char *in, char **out)
{
    size_t n = strlen(in);
    char *res = xmalloc(n + 1);
    size_t len = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchrnul(p, '/');
        size_t cl = (size_t)(end - p);
        if (cl == 1 && p[0] == '.') {
            /* skip */
        } else if (cl == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0) {
                free(res);
                return -EXDEV;
            }
            while (len > 0 && res[len - 1] != '/')
                len--;
            if (len > 0)
                len--; /* the '/' separator */
        } else {
            if (len > 0)
                res[len++] = '/';
            memcpy(res + len, p, cl);
            len += cl;
        }
        p = end;
    }
    res[len] = '\0';
    *out = res;
    return 0;
}

static int entry_err(struct unpacker *u, struct berr *e, const char *path, int err, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
static int entry_err(struct unpacker *u, struct berr *e, const char *path, int err, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (err > 0)
        return berr_errno(e, err, "%s: entry \"%.300s\": %s", u->what, path, msg);
    return berr_set(e, err, "%s: entry \"%.300s\": %s", u->what, path, msg);
}

static void cache_set(struct unpacker *u, const char *path, int fd)
{
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    free(u->cache_path);
    u->cache_path = xstrdup(path);
    u->cache_fd = fd;
}

/* An O_DIRECTORY fd of parent (created with mode 0755 where missing),
 * resolved inside the root. Borrowed: owned by the cache. */
static int get_parent(struct unpacker *u, const char *parent, const char *entry, struct berr *e)
{
    if (u->cache_fd >= 0 && strcmp(u->cache_path, parent) == 0)
        return u->cache_fd;
    int fd;
    if (!*parent) {
        fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            fd = -errno;
    } else {
        fd = fs_open_in_root(u->rootfd, parent, O_RDONLY | O_DIRECTORY, 0);
        if (fd == -ENOENT)
            fd = fs_mkdirs_in_root(u->rootfd, parent, 0755);
    }
    if (fd < 0)
        return entry_err(u, e, entry, -fd, "parent directory \"%.300s\"", parent);
    cache_set(u, parent, fd);
    return fd;
}

/* Makes room for a new entry at pfd/name. A directory is kept when the new
 * entry is a directory too (it takes the new attributes); anything else is
 * removed. *kept_dir tells which. */
static int clear_existing(struct unpacker *u, int pfd, const char *name, bool keep_dir,
                          bool *kept_dir, const char *entry, struct berr *e)
{
    struct stat st;
    if (kept_dir)
        *kept_dir = false;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return entry_err(u, e, entry, errno, "inspecting the existing entry");
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) {
            *kept_dir = true;
            return 0;
        }
        struct berr e2 = BERR_INIT;
        int r = fs_rm_rf_at(pfd, name, &e2);
        if (r < 0) {
            r = entry_err(u, e, entry, r, "replacing a directory: %s", e2.msg);
            berr_clear(&e2);
            return r;
        }
        return 0;
    }
    if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
        return entry_err(u, e, entry, errno, "replacing the existing entry");
    return 0;
}

static int entry_ids(struct unpacker *u, struct archive_entry *ent, const char *entry, uid_t *uid,
                     gid_t *gid, struct berr *e)
{
    la_int64_t u64 = archive_entry_uid(ent), g64 = archive_entry_gid(ent);
    if (u64 < 0 || u64 >= (la_int64_t)UINT32_MAX || g64 < 0 || g64 >= (la_int64_t)UINT32_MAX) {
        /* The literal code, not entry_err's result: the callers read *uid
         * and *gid when this returns >= 0, and the compiler must see that
         * this path cannot (GCC 12 -O3 inlines this and warns otherwise). */
        entry_err(u, e, entry, -EINVAL, "invalid owner %lld:%lld", (long long)u64, (long long)g64);
        return -EINVAL;
    }
    *uid = (uid_t)u64;
    *gid = (gid_t)g64;
    return 0;
}

static void entry_times(struct archive_entry *ent, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime_is_set(ent) ? archive_entry_mtime(ent) : 0;
    ts[1].tv_nsec = archive_entry_mtime_is_set(ent) ? archive_entry_mtime_nsec(ent) : 0;
    if (archive_entry_atime_is_set(ent)) {
        ts[0].tv_sec = archive_entry_atime(ent);
        ts[0].tv_nsec = archive_entry_atime_nsec(ent);
    } else {
        ts[0] = ts[1];
    }
    if (ts[0].tv_nsec < 0 || ts[0].tv_nsec >= 1000000000)
        ts[0].tv_nsec = 0;
    if (ts[1].tv_nsec < 0 || ts[1].tv_nsec >= 1000000000)
        ts[1].tv_nsec = 0;
}

static int apply_xattrs(struct unpacker *u, int fd, struct archive_entry *ent, const char *entry,
                        struct berr *e)
{
    int n = archive_entry_xattr_reset(ent);
    if (n > (int)UNPACK_XATTR_MAX_COUNT)
        return entry_err(u, e, entry, -E2BIG, "too many extended attributes (%d, limit %u)", n,
                         UNPACK_XATTR_MAX_COUNT);
    const char *name;
    const void *val;
    size_t size;
    while (archive_entry_xattr_next(ent, &name, &val, &size) == ARCHIVE_OK) {
        /* Only berth decides what overlayfs sees (opaque dirs, redirects). */
        if (strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0)
            continue;
        if (size > UNPACK_XATTR_MAX_SIZE)
            return entry_err(u, e, entry, -E2BIG,
                             "extended attribute \"%.100s\" too large (%zu bytes, limit %u)", name,
                             size, UNPACK_XATTR_MAX_SIZE);
        if (fsetxattr(fd, name, val, size, 0) < 0 && errno != ENOTSUP)
            ev_warn(u->sink, EV_IMAGE, u->what,
                    "%s: entry \"%.300s\": extended attribute \"%.100s\" not set: %s", u->what,
                    entry, name, strerror(errno));
    }
    return 0;
}

/* Owner, xattrs, mode and times, all through fd: nothing follows a name. */
static int apply_meta(struct unpacker *u, int fd, struct archive_entry *ent, const char *entry,
                      struct berr *e)
{
    uid_t uid;
    gid_t gid;
    int r = entry_ids(u, ent, entry, &uid, &gid, e);
    if (r < 0)
        return r;
    if (fchown(fd, uid, gid) < 0)
        return entry_err(u, e, entry, errno, "setting the owner");
    if ((r = apply_xattrs(u, fd, ent, entry, e)) < 0)
        return r;
    if (fchmod(fd, archive_entry_perm(ent) & 07777) < 0)
        return entry_err(u, e, entry, errno, "setting the mode");
    struct timespec ts[2];
    entry_times(ent, ts);
    if (futimens(fd, ts) < 0)
        return entry_err(u, e, entry, errno, "setting the times");
    return 0;
}

static int read_error(struct unpacker *u, const char *entry, struct berr *e)
{
    if (u->stream_err && u->stream_err->msg)
        return berr_set(e, u->stream_err->code, "%s: %s", u->what, u->stream_err->msg);
    if (entry)
        return entry_err(u, e, entry, -EINVAL, "%s", archive_error_string(u->a));
    return berr_set(e, -EINVAL, "%s: %s", u->what, archive_error_string(u->a));
}

static int write_data(struct unpacker *u, int fd, struct archive_entry *ent, const char *entry,
                      struct berr *e)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    int64_t end = 0;
    for (;;) {
        int r = archive_read_data_block(u->a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return read_error(u, entry, e);
        const char *p = buf;
        while (size > 0) {
            ssize_t w = pwrite(fd, p, size, off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return entry_err(u, e, entry, errno, "writing");
            }
            p += w;
            off += w;
            size -= (size_t)w;
        }
        if (off > end)
            end = off;
    }
    /* A sparse file may end in a hole. */
    if (archive_entry_size_is_set(ent) && archive_entry_size(ent) > end &&
        ftruncate(fd, archive_entry_size(ent)) < 0)
        return entry_err(u, e, entry, errno, "setting the size");
    return 0;
}

static int do_whiteout(struct unpacker *u, int pfd, const char *name, struct archive_entry *ent,
                       const char *entry, struct berr *e)
{
    uid_t uid;
    gid_t gid;
    int r = entry_ids(u, ent, entry, &uid, &gid, e);
    if (r < 0)
        return r;
    if ((r = clear_existing(u, pfd, name, false, NULL, entry, e)) < 0)
        return r;
    if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
        return entry_err(u, e, entry, errno, "creating the whiteout");
    if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_err(u, e, entry, errno, "setting the whiteout's owner");
    return 0;
}

static int do_hardlink(struct unpacker *u, int pfd, const char *name, const char *target_raw,
                       const char *entry, struct berr *e)
{
    _cleanup_free_ char *target = NULL;
    if (unpack_clean_path(target_raw, &target) < 0)
        return entry_err(u, e, entry, -EXDEV, "hard link target \"%.300s\" escapes the layer",
                         target_raw);
    if (!*target)
        return entry_err(u, e, entry, -EINVAL, "hard link to the layer root");
    char *slash = strrchr(target, '/');
    const char *tname = slash ? slash + 1 : target;
    if (slash)
        *slash = '\0';
    _cleanup_close_ int tpfd =
        fs_open_in_root(u->rootfd, slash ? target : ".", O_PATH | O_DIRECTORY, 0);
    if (tpfd < 0)
        return entry_err(u, e, entry, -tpfd, "hard link target \"%.300s\"", target_raw);
    /* The target itself is never followed: a link to a symlink links the
     * symlink. */
    _cleanup_close_ int tfd = openat(tpfd, tname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0)
        return entry_err(u, e, entry, errno, "hard link target \"%.300s\"", target_raw);
    struct stat tst, cur;
    if (fstat(tfd, &tst) < 0)
        return entry_err(u, e, entry, errno, "hard link target \"%.300s\"", target_raw);
    if (S_ISDIR(tst.st_mode))
        return entry_err(u, e, entry, -EPERM, "hard link to a directory");
    if (fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == tst.st_dev &&
        cur.st_ino == tst.st_ino)
        return 0; /* already that file */
    int r = clear_existing(u, pfd, name, false, NULL, entry, e);
    if (r < 0)
        return r;
    if (linkat(tfd, "", pfd, name, AT_EMPTY_PATH) < 0)
        return entry_err(u, e, entry, errno, "creating the hard link");
    return 0;
}

static int do_dir(struct unpacker *u, int pfd, const char *name, const char *path,
                  struct archive_entry *ent, const char *entry, struct berr *e)
{
    bool kept;
    int r = clear_existing(u, pfd, name, true, &kept, entry, e);
    if (r < 0)
        return r;
    if (!kept && mkdirat(pfd, name, 0700) < 0)
        return entry_err(u, e, entry, errno, "creating the directory");
    int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return entry_err(u, e, entry, errno, "opening the directory");
    r = apply_meta(u, dfd, ent, entry, e);
    if (r < 0) {
        close(dfd);
        return r;
    }
    /* Later entries in it change its mtime: set it again at the end. Paths
     * too long to reopen are not kept (memory would grow with depth²). */
    if (strlen(path) < PATH_MAX) {
        if (u->n_dirs == u->cap_dirs) {
            u->cap_dirs = u->cap_dirs ? 2 * u->cap_dirs : 64;
            u->dirs = xreallocarray(u->dirs, u->cap_dirs, sizeof *u->dirs);
        }
        u->dirs[u->n_dirs].path = xstrdup(path);
        entry_times(ent, u->dirs[u->n_dirs].ts);
        u->n_dirs++;
    }
    cache_set(u, path, dfd);
    return 0;
}

static int do_file(struct unpacker *u, int pfd, const char *name, struct archive_entry *ent,
                   const char *entry, struct berr *e)
{
    int r = clear_existing(u, pfd, name, false, NULL, entry, e);
    if (r < 0)
        return r;
    _cleanup_close_ int fd =
        openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return entry_err(u, e, entry, errno, "creating the file");
    if ((r = write_data(u, fd, ent, entry, e)) < 0 || (r = apply_meta(u, fd, ent, entry, e)) < 0)
        return r;
    if (archive_entry_size_is_set(ent))
        u->st->bytes += archive_entry_size(ent);
    return 0;
}

static int do_symlink(struct unpacker *u, int pfd, const char *name, struct archive_entry *ent,
                      const char *entry, struct berr *e)
{
    const char *target = archive_entry_symlink(ent);
    if (!target || !*target)
        return entry_err(u, e, entry, -EINVAL, "symlink without a target");
    uid_t uid;
    gid_t gid;
    int r = entry_ids(u, ent, entry, &uid, &gid, e);
    if (r < 0)
        return r;
    if ((r = clear_existing(u, pfd, name, false, NULL, entry, e)) < 0)
        return r;
    if (symlinkat(target, pfd, name) < 0)
        return entry_err(u, e, entry, errno, "creating the symlink");
    /* A symlink's own owner and times; its mode is never set (a chmod would
     * follow it). */
    if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_err(u, e, entry, errno, "setting the symlink's owner");
    struct timespec ts[2];
    entry_times(ent, ts);
    if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_err(u, e, entry, errno, "setting the symlink's times");
    return 0;
}

static int do_fifo(struct unpacker *u, int pfd, const char *name, struct archive_entry *ent,
                   const char *entry, struct berr *e)
{
    int r = clear_existing(u, pfd, name, false, NULL, entry, e);
    if (r < 0)
        return r;
    if (mknodat(pfd, name, S_IFIFO | 0600, 0) < 0)
        return entry_err(u, e, entry, errno, "creating the FIFO");
    /* A FIFO opens for reading at once with O_NONBLOCK. */
    _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
        return entry_err(u, e, entry, fd < 0 ? errno : EINVAL, "opening the FIFO");
    return apply_meta(u, fd, ent, entry, e);
}

static int do_entry(struct unpacker *u, struct archive_entry *ent, struct berr *e)
{
    const char *raw = archive_entry_pathname(ent);
    if (!raw || !*raw)
        return berr_set(e, -EINVAL, "%s: entry without a name", u->what);
    _cleanup_free_ char *path = NULL;
    if (unpack_clean_path(raw, &path) < 0)
        return entry_err(u, e, raw, -EXDEV, "path escapes the layer root");
    const char *hardlink = archive_entry_hardlink(ent);
    mode_t type = archive_entry_filetype(ent);

    if (!*path) {
        /* "." or "/": the layer root takes the attributes. */
        if (hardlink || type != AE_IFDIR)
            return entry_err(u, e, raw, -EINVAL, "the layer root must be a directory");
        return apply_meta(u, u->rootfd, ent, raw, e);
    }
    if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK)) {
        ev_warn(u->sink, EV_IMAGE, u->what, "%s: entry \"%.300s\": device node skipped", u->what,
                raw);
        return 0;
    }
    if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO) {
        ev_warn(u->sink, EV_IMAGE, u->what, "%s: entry \"%.300s\": unsupported file type skipped",
                u->what, raw);
        return 0;
    }

    char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    _cleanup_free_ char *parent = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");

    if (strncmp(base, WH, strlen(WH)) == 0) {
        int pfd = get_parent(u, parent, raw, e);
        if (pfd < 0)
            return pfd;
        if (strcmp(base, WH_OPAQUE) == 0) {
            if (fsetxattr(pfd, OPAQUE_XATTR, "y", 1, 0) < 0)
                return entry_err(u, e, raw, errno, "marking the directory opaque");
            return 0;
        }
        if (strncmp(base, WH_META, strlen(WH_META)) == 0)
            return 0; /* other aufs metadata: not part of the tree */
        const char *name = base + strlen(WH);
        if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            return entry_err(u, e, raw, -EINVAL, "invalid whiteout");
        return do_whiteout(u, pfd, name, ent, raw, e);
    }

    int pfd = get_parent(u, parent, raw, e);
    if (pfd < 0)
        return pfd;
    if (hardlink)
        return do_hardlink(u, pfd, base, hardlink, raw, e);
    switch (type) {
    case AE_IFDIR:
        return do_dir(u, pfd, base, path, ent, raw, e);
    case AE_IFREG:
        return do_file(u, pfd, base, ent, raw, e);
    case AE_IFLNK:
        return do_symlink(u, pfd, base, ent, raw, e);
    default:
        return do_fifo(u, pfd, base, ent, raw, e);
    }
}

int unpack_tar(struct archive *tar, int rootfd, const char *what, const struct berr *stream_err,
               const struct ev_sink *sink, struct unpack_stats *st, struct berr *e)
{
    struct unpack_stats local = {0};
    struct unpacker u = {
        .rootfd = rootfd,
        .what = what,
        .stream_err = stream_err,
        .sink = sink,
        .a = tar,
        .cache_fd = -1,
        .st = st ? st : &local,
    };
    int r = 0;
    for (;;) {
        struct archive_entry *ent;
        int ar = archive_read_next_header(tar, &ent);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar < ARCHIVE_WARN) {
            r = read_error(&u, NULL, e);
            break;
        }
        u.st->entries++;
        if ((r = do_entry(&u, ent, e)) < 0)
            break;
    }
    if (r == 0) {
        for (size_t i = 0; i < u.n_dirs; i++) {
            int fd =
                fs_open_in_root(rootfd, u.dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
            if (fd >= 0) {
                futimens(fd, u.dirs[i].ts);
                close(fd);
            }
        }
    }
    for (size_t i = 0; i < u.n_dirs; i++)
        free(u.dirs[i].path);
    free(u.dirs);
    if (u.cache_fd >= 0)
        close(u.cache_fd);
    free(u.cache_path);
    return r;
}
