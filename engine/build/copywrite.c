/* SPDX-License-Identifier: Apache-2.0 */
/* COPY and ADD's writing into the step's root: the destination resolved
 * inside it (RESOLVE_IN_ROOT at every step, a dangling symlink's target
 * made inside too), fd-relative, every file created afresh (O_EXCL |
 * O_NOFOLLOW) after what was there is removed, so neither a symlink nor
 * a hard link of the image can turn a write elsewhere. ADD unpacks local
 * archives with the image module's extractor (entries confined to the
 * destination) and writes downloads (fetch.c). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "engine/build/copy_int.h"
#include "engine/build/internal.h"
#include "engine/image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define ADD_MAX_BYTES   (64ULL << 30) /* what one archive may unpack to */
#define XATTR_LIST_MAX_ (64 << 10)
#define MAX_HARDLINKS   1024 /* inodes remembered to link again */

static int mkdirs_at(int rootfd, const char *path, uid_t uid, gid_t gid, bool *created, int links,
                     struct berr *e);

/* A dangling symlink on the way: what it points to is made (inside the
 * root, as the kernel would resolve it there), as BuildKit does. */
static int mkdirs_link(int rootfd, int dirfd, const char *prefix, const char *name, uid_t uid,
                       gid_t gid, int links, struct berr *e)
{
    if (links >= COPY_MAX_LINKS)
        return berr_set(e, -ELOOP, "%s: too many levels of symbolic links", prefix);
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n < 0)
        return berr_errno(e, errno, "%s: reading the symlink", prefix);
    target[n] = '\0';
    _cleanup_free_ char *joined =
        target[0] == '/'
            ? xstrdup(target)
            : xasprintf("%.*s/%s", (int)(strlen(prefix) - strlen(name)), prefix, target);
    _cleanup_free_ char *norm = path_normalize_dup(joined);
    int fd = mkdirs_at(rootfd, norm, uid, gid, NULL, links + 1, e);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

static int mkdirs_at(int rootfd, const char *path, uid_t uid, gid_t gid, bool *created, int links,
                     struct berr *e)
{
    if (created)
        *created = false;
    int cur = fs_open_in_root(rootfd, "/", O_RDONLY | O_DIRECTORY, 0);
    if (cur < 0)
        return berr_errno(e, -cur, "opening the destination root");
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (!n)
            break;
        _cleanup_free_ char *prefix = xstrndup(path, (size_t)(p - path) + n);
        _cleanup_free_ char *comp = xstrndup(p, n);
        p += n;
        int fd = fs_open_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
        if (created)
            *created = false;
        if (fd == -ENOENT) {
            struct stat st;
            int r = 0;
            if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                r = mkdirs_link(rootfd, cur, prefix, comp, uid, gid, links, e);
            } else if (mkdirat(cur, comp, 0755) == 0) {
                if (fchownat(cur, comp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                    r = berr_errno(e, errno, "%s: setting the owner", prefix);
                if (created)
                    *created = true;
            }
            if (r < 0) {
                close(cur);
                return r;
            }
            fd = fs_open_in_root(rootfd, prefix, O_RDONLY | O_DIRECTORY, 0);
        }
        close(cur);
        if (fd < 0)
            return berr_errno(e, -fd, "creating the directory %s", prefix);
        cur = fd;
    }
    return cur;
}

/* Creates the missing directories of path (absolute, normalised) inside
 * rootfd, 0755 and owned by uid:gid, each step resolved in the root; the
 * last one's fd. *created: the last one is new. */
static int mkdirs(int rootfd, const char *path, uid_t uid, gid_t gid, bool *created, struct berr *e)
{
    return mkdirs_at(rootfd, path, uid, gid, created, 0, e);
}

struct level {
    int fd;       /* the destination directory, -1 while pending */
    char *path;   /* its path in the destination root */
    bool pending; /* hidden: made only when something is copied into it */
    bool meta;    /* its attributes are the source's (made or replaced here) */
    const char *name;
    struct stat st;
};

struct hardlink {
    dev_t dev;
    ino_t ino;
    int fd; /* O_PATH of the first copy */
};

struct writer {
    struct copy_op_state *s;
    int rootfd;
    uid_t uid;
    gid_t gid;
    struct copy_mode chmod;
    struct level lv[COPY_MAX_DEPTH + 2];
    /* a file source: where it goes */
    int top_pfd;
    const char *top_name;
    struct hardlink *links;
    size_t n_links;
};

static int copy_data(struct writer *w, int in, int out, const char *what, struct berr *e)
{
    int r = fs_copy_fd(in, out, w->s->buf, COPY_BUF);
    return r < 0 ? berr_errno(e, -r, "copying \"%s\"", what) : 0;
}

/* user.* and security.capability, as docker keeps them. */
static int copy_xattrs(int in, int out, const char *what, struct berr *e)
{
    char names[XATTR_LIST_MAX_];
    ssize_t n = flistxattr(in, names, sizeof names);
    if (n <= 0)
        return 0;
    _cleanup_free_ char *val = xmalloc(XATTR_SIZE_MAX);
    for (char *p = names; p < names + n; p += strlen(p) + 1) {
        if (!copy_kept_xattr(p))
            continue;
        ssize_t len = fgetxattr(in, p, val, XATTR_SIZE_MAX);
        if (len < 0)
            continue;
        if (fsetxattr(out, p, val, (size_t)len, 0) < 0 && errno != ENOTSUP)
            return berr_errno(e, errno, "\"%s\": setting %s", what, p);
    }
    return 0;
}

/* Owner, extended attributes, mode and times on a file or directory fd;
 * the mode last, as chown clears the set-id bits. */
static int set_meta(struct writer *w, int fd, int src, const struct stat *st, mode_t mode,
                    bool times, const char *what, struct berr *e)
{
    if (fchown(fd, w->uid, w->gid) < 0)
        return berr_errno(e, errno, "\"%s\": setting the owner", what);
    int r = src >= 0 ? copy_xattrs(src, fd, what, e) : 0;
    if (r < 0)
        return r;
    if (fchmod(fd, mode) < 0)
        return berr_errno(e, errno, "\"%s\": setting the mode", what);
    if (times && st) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (futimens(fd, ts) < 0)
            return berr_errno(e, errno, "\"%s\": setting the times", what);
    }
    return 0;
}

/* Makes room for a new name in pfd: what is there goes (a directory with
 * everything in it), never followed. */
static int clear_name(int pfd, const char *name, struct berr *e)
{
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berr_errno(e, errno, "\"%s\"", name);
    if (S_ISDIR(st.st_mode))
        return fs_rm_rf_at(pfd, name, e);
    if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "replacing \"%s\"", name);
    return 0;
}

static struct hardlink *find_link(struct writer *w, const struct stat *st)
{
    for (size_t i = 0; i < w->n_links; i++)
        if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
            return &w->links[i];
    return NULL;
}

static void remember_link(struct writer *w, const struct stat *st, int fd)
{
    if (st->st_nlink < 2 || w->n_links >= MAX_HARDLINKS)
        return;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0)
        return;
    w->links = df_grow(w->links, w->n_links, sizeof *w->links);
    w->links[w->n_links++] = (struct hardlink){st->st_dev, st->st_ino, dup};
}

static int write_file(struct writer *w, const struct copy_entry *en, int pfd, const char *name,
                      struct berr *e)
{
    const struct stat *st = en->st;
    struct hardlink *hl = st->st_nlink > 1 ? find_link(w, st) : NULL;
    if (hl && linkat(hl->fd, "", pfd, name, AT_EMPTY_PATH) == 0)
        return 0;
    _cleanup_close_ int in =
        openat(en->pfd, en->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat now;
    if (in < 0 || fstat(in, &now) < 0 || !S_ISREG(now.st_mode))
        return berr_errno(e, in < 0 ? errno : EAGAIN, "opening \"%s\"", en->name);
    _cleanup_close_ int out =
        openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return berr_errno(e, errno, "creating \"%s\"", name);
    int r = copy_data(w, in, out, name, e);
    if (r == 0)
        r = set_meta(w, out, in, st, copy_apply_chmod(&w->chmod, st->st_mode, false), true, name,
                     e);
    if (r == 0)
        remember_link(w, st, out);
    return r;
}

static int write_symlink(struct writer *w, const struct copy_entry *en, int pfd, const char *name,
                         struct berr *e)
{
    char target[PATH_MAX];
    ssize_t n = readlinkat(en->pfd, en->name, target, sizeof target - 1);
    if (n < 0)
        return berr_errno(e, errno, "reading the symlink \"%s\"", en->name);
    target[n] = '\0';
    if (symlinkat(target, pfd, name) < 0)
        return berr_errno(e, errno, "creating the symlink \"%s\"", name);
    struct timespec ts[2] = {en->st->st_atim, en->st->st_mtim};
    if (fchownat(pfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(e, errno, "\"%s\": setting the owner and times", name);
    return 0;
}

/* FIFOs and device nodes, as BuildKit copies them; sockets are skipped. */
static int write_node(struct writer *w, const struct copy_entry *en, int pfd, const char *name,
                      struct berr *e)
{
    const struct stat *st = en->st;
    if (S_ISSOCK(st->st_mode))
        return 0;
    if (mknodat(pfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
        return berr_errno(e, errno, "creating \"%s\"", name);
    _cleanup_close_ int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (fd < 0 || fchownat(fd, "", w->uid, w->gid, AT_EMPTY_PATH) < 0 ||
        fchmodat(pfd, name, copy_apply_chmod(&w->chmod, st->st_mode, false), 0) < 0 ||
        utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(e, errno, "\"%s\": setting its attributes", name);
    return 0;
}

static int write_entry(struct writer *w, const struct copy_entry *en, int pfd, const char *name,
                       struct berr *e)
{
    int r = clear_name(pfd, name, e);
    if (r < 0)
        return r;
    mode_t m = en->st->st_mode;
    if (S_ISREG(m))
        return write_file(w, en, pfd, name, e);
    if (S_ISLNK(m))
        return write_symlink(w, en, pfd, name, e);
    return write_node(w, en, pfd, name, e);
}

/* The directory name in level d-1 for level d: an existing one is kept
 * (its attributes become the source's, as BuildKit's), a symlink to a
 * directory is followed inside the root (/bin -> usr/bin), anything else
 * is replaced. */
static int make_dir(struct writer *w, int d, const char *name, int src, const struct stat *st,
                    struct berr *e)
{
    struct level *up = &w->lv[d - 1], *lv = &w->lv[d];
    lv->path = strcmp(up->path, "/") == 0 ? xasprintf("/%s", name) : str_join(up->path, '/', name);
    lv->meta = true;
    struct stat cur;
    if (fstatat(up->fd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(cur.st_mode)) {
        int fd = fs_open_in_root(w->rootfd, lv->path, O_RDONLY | O_DIRECTORY, 0);
        if (fd >= 0) {
            lv->fd = fd;
            lv->meta = false;
            return 0;
        }
    }
    if (fstatat(up->fd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(cur.st_mode)) {
        int r = clear_name(up->fd, name, e);
        if (r < 0)
            return r;
    }
    if (mkdirat(up->fd, name, 0700) < 0 && errno != EEXIST)
        return berr_errno(e, errno, "creating the directory %s", lv->path);
    lv->fd = fs_openat2(up->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    if (lv->fd < 0)
        return berr_errno(e, -lv->fd, "opening the directory %s", lv->path);
    return set_meta(w, lv->fd, src, st, copy_apply_chmod(&w->chmod, st->st_mode, true), false,
                    lv->path, e);
}

/* Makes the pending (hidden) directories up to level d, now that
 * something is copied into them. */
static int ensure_levels(struct writer *w, int d, struct berr *e)
{
    for (int i = 1; i <= d; i++) {
        struct level *lv = &w->lv[i];
        if (!lv->pending)
            continue;
        lv->pending = false;
        int r = make_dir(w, i, lv->name, -1, &lv->st, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_enter(void *ud, const struct copy_entry *en, struct berr *e)
{
    struct writer *w = ud;
    int d = en->depth;
    if (d == 0) {
        if (S_ISDIR(en->st->st_mode))
            return 0; /* the destination directory, made by the caller */
        return write_entry(w, en, w->top_pfd, w->top_name, e);
    }
    int r = ensure_levels(w, d - 1, e);
    if (r < 0)
        return r;
    if (!S_ISDIR(en->st->st_mode))
        return write_entry(w, en, w->lv[d - 1].fd, en->name, e);
    struct level *lv = &w->lv[d];
    *lv = (struct level){.fd = -1, .name = en->name, .st = *en->st};
    if (en->hidden) {
        lv->pending = true;
        return 0;
    }
    _cleanup_close_ int src =
        openat(en->pfd, en->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return make_dir(w, d, en->name, src, en->st, e);
}

static int write_leave(void *ud, const struct copy_entry *en, struct berr *e)
{
    struct writer *w = ud;
    struct level *lv = &w->lv[en->depth];
    int r = 0;
    if (lv->fd >= 0 && lv->meta) {
        struct timespec ts[2] = {lv->st.st_atim, lv->st.st_mtim};
        if (futimens(lv->fd, ts) < 0)
            r = berr_errno(e, errno, "%s: setting the times", lv->path);
    }
    if (en->depth > 0) {
        if (lv->fd >= 0)
            close(lv->fd);
        free(lv->path);
        *lv = (struct level){.fd = -1};
    }
    return r;
}

/* Where a file-like source goes: *pfd and *name (the caller's). */
static int file_target(struct writer *w, const char *base, int *pfd, char **name, struct berr *e)
{
    const struct copy_dest *d = &w->s->dest;
    bool into = d->dir || strcmp(d->path, "/") == 0;
    if (!into) {
        int fd = fs_open_in_root(w->rootfd, d->path, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) {
            close(fd);
            into = true;
        }
    }
    if (into) {
        if (!base || !*base)
            return berr_set(e, -EINVAL, "cannot tell the file name to copy into %s", d->path);
        *pfd = mkdirs(w->rootfd, d->path, w->uid, w->gid, NULL, e);
        *name = xstrdup(base);
    } else {
        char *slash = strrchr(d->path, '/');
        _cleanup_free_ char *parent = xstrndup(d->path, (size_t)(slash - d->path));
        *pfd = mkdirs(w->rootfd, *parent ? parent : "/", w->uid, w->gid, NULL, e);
        *name = xstrdup(slash + 1);
    }
    return *pfd < 0 ? *pfd : 0;
}

static void writer_reset(struct writer *w)
{
    for (int i = 0; i < COPY_MAX_DEPTH + 2; i++) {
        if (w->lv[i].fd >= 0)
            close(w->lv[i].fd);
        free(w->lv[i].path);
        w->lv[i] = (struct level){.fd = -1};
    }
    if (w->top_pfd >= 0)
        close(w->top_pfd);
    w->top_pfd = -1;
}

static int write_dir_item(struct writer *w, const struct copy_res *res, struct berr *e)
{
    bool created;
    int fd = mkdirs(w->rootfd, w->s->dest.path, w->uid, w->gid, &created, e);
    if (fd < 0)
        return fd;
    w->lv[0] =
        (struct level){.fd = fd, .path = xstrdup(w->s->dest.path), .meta = created, .st = res->st};
    int r = 0;
    if (created) {
        _cleanup_close_ int src =
            openat(res->pfd, res->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = set_meta(w, fd, src, &res->st, copy_apply_chmod(&w->chmod, res->st.st_mode, true),
                     false, w->s->dest.path, e);
    }
    struct copy_visitor v = {.enter = write_enter, .leave = write_leave, .ud = w};
    if (r == 0)
        r = copy_walk(&w->s->c, res, &v, e);
    return r;
}

/* ADD: is this context file a tar archive (plain or compressed, told by
 * its bytes)? */
static bool is_archive(int fd)
{
    struct archive *a = archive_read_new();
    bool yes = false;
    if (archive_support_safe_filters(a) == 0 && archive_read_support_format_tar(a) == ARCHIVE_OK &&
        archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK) {
        struct archive_entry *ent;
        yes = archive_read_next_header(a, &ent) == ARCHIVE_OK;
    }
    archive_read_free(a);
    lseek(fd, 0, SEEK_SET);
    return yes;
}

/* --chown over what an archive unpacked: its entries again, each resolved
 * in the destination directory, never followed. */
static int chown_entries(struct writer *w, int fd, int destfd, struct berr *e)
{
    struct archive *a = archive_read_new();
    int r = 0;
    if (archive_support_safe_filters(a) < 0 || archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
        r = berr_set(e, -EIO, "reading the archive again: %s", archive_error_string(a));
    struct archive_entry *ent;
    while (r == 0 && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
        _cleanup_free_ char *path = NULL;
        if (unpack_clean_path(archive_entry_pathname(ent), &path) < 0)
            continue;
        int efd = fs_openat2(destfd, *path ? path : ".", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (efd < 0)
            continue; /* a whiteout, or replaced by a later entry */
        if (fchownat(efd, "", w->uid, w->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
            r = berr_errno(e, errno, "\"%s\": setting the owner", path);
        close(efd);
    }
    archive_read_free(a);
    return r;
}

static int unpack_item(struct writer *w, const struct copy_res *res, int fd, struct berr *e)
{
    _cleanup_close_ int destfd = mkdirs(w->rootfd, w->s->dest.path, w->uid, w->gid, NULL, e);
    if (destfd < 0)
        return destfd;
    int r = layer_apply(fd, destfd, ADD_MAX_BYTES, NULL, res->base, NULL, NULL, NULL, e);
    if (r == 0 && w->s->c.op->chown) {
        lseek(fd, 0, SEEK_SET);
        r = chown_entries(w, fd, destfd, e);
    }
    return r;
}

static int write_path_item(struct writer *w, const struct copy_res *res, struct berr *e)
{
    if (S_ISDIR(res->st.st_mode))
        return write_dir_item(w, res, e);
    const struct copy_op *op = w->s->c.op;
    if (op->add && w->s->c.src->is_context && S_ISREG(res->st.st_mode)) {
        _cleanup_close_ int fd =
            openat(res->pfd, res->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && is_archive(fd))
            return unpack_item(w, res, fd, e);
    }
    _cleanup_free_ char *name = NULL;
    int r = file_target(w, res->base, &w->top_pfd, &name, e);
    if (r < 0)
        return r;
    w->top_name = name;
    struct copy_visitor v = {.enter = write_enter, .leave = write_leave, .ud = w};
    return copy_walk(&w->s->c, res, &v, e);
}

/* A heredoc or a download: a new file of the given bytes. */
static int write_new_file(struct writer *w, const char *base, int in, const char *text, mode_t mode,
                          const struct timespec *mtime, struct berr *e)
{
    _cleanup_free_ char *name = NULL;
    _cleanup_close_ int pfd = -1;
    int r = file_target(w, base, &pfd, &name, e);
    if (r == 0)
        r = clear_name(pfd, name, e);
    if (r < 0)
        return r;
    _cleanup_close_ int out =
        openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return berr_errno(e, errno, "creating \"%s\"", name);
    if (in >= 0) {
        r = copy_data(w, in, out, name, e);
    } else {
        size_t n = strlen(text);
        for (size_t off = 0; r == 0 && off < n;) {
            ssize_t k = write(out, text + off, n - off);
            if (k < 0 && errno != EINTR)
                r = berr_errno(e, errno, "writing \"%s\"", name);
            off += k > 0 ? (size_t)k : 0;
        }
    }
    struct stat st = {.st_atim = {0, UTIME_OMIT}};
    if (mtime)
        st.st_mtim = *mtime;
    else
        st.st_mtim.tv_nsec = UTIME_NOW;
    if (r == 0)
        r = set_meta(w, out, -1, &st, copy_apply_chmod(&w->chmod, mode, false), true, name, e);
    return r;
}

static int write_item(struct writer *w, const struct copy_item *it, struct berr *e)
{
    if (it->kind == COPY_ITEM_HEREDOC)
        return write_new_file(w, it->hd->name, -1, it->hd->content, 0644, NULL, e);
    if (it->kind == COPY_ITEM_URL) {
        _cleanup_free_ char *base = copy_url_name(it->url);
        _cleanup_close_ int fd = -1;
        long long mtime;
        int r = copy_fetch(w->s->c.op, it->url, &fd, &mtime, e);
        if (r < 0)
            return r;
        struct timespec ts = {mtime, 0};
        return write_new_file(w, base ? base : "", fd, NULL, 0600, mtime ? &ts : NULL, e);
    }
    return write_path_item(w, &it->res, e);
}

int build_copy(const struct copy_op *op, const struct copy_source *src, int dst_rootfd,
               struct berr *e)
{
    struct copy_op_state s;
    int r = copy_op_prepare(op, src, &s, e);
    _cleanup_free_ struct writer *w = xcalloc(1, sizeof *w);
    w->s = &s;
    w->rootfd = dst_rootfd;
    w->top_pfd = -1;
    for (int i = 0; i < COPY_MAX_DEPTH + 2; i++)
        w->lv[i].fd = -1;
    if (r == 0)
        r = copy_parse_chmod(op->chmod, &w->chmod, e);
    if (r == 0)
        r = copy_resolve_owner(op->chown, dst_rootfd, &w->uid, &w->gid, e);
    for (size_t i = 0; r == 0 && i < s.n_items; i++) {
        r = write_item(w, &s.items[i], e);
        writer_reset(w);
    }
    writer_reset(w);
    for (size_t i = 0; i < w->n_links; i++)
        close(w->links[i].fd);
    free(w->links);
    copy_op_clear(&s);
    return r < 0 ? copy_op_fail(op, r, e) : 0;
}
