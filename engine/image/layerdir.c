/* SPDX-License-Identifier: Apache-2.0 */
/* A build step's directory in overlay form becomes a layer: one pass over
 * the tree writes the OCI layer tar (libarchive, pax), hashes it into the
 * DiffID and gzips it (libarchive's gzip filter behind its raw format)
 * into a store blob; the tree itself, cleaned of overlayfs's bookkeeping,
 * is then renamed into the store as the unpacked layer. Nothing is read
 * twice and no uncompressed copy is written.
 * Not here: scratch directories and the pins that keep a build's layers
 * (engine/image/store.c), committing the image (engine/image/commit.c). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/image/manifest.h"
#include "engine/image/store.h"
#include "engine/image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Level 1 writes a 50 MB mixed tree in about half the time of level 3 for
 * a blob a few percent larger (figures in the commit that chose it). */
#define LAYER_GZIP_LEVEL "1"
#define LAYER_BUF        (128 * 1024)
#define LAYER_OPEN_MAX   64 /* directory fds kept open on the way down */
#define OVL_PREFIX       "trusted.overlay."
#define OVL_OPAQUE       "trusted.overlay.opaque"
#define WH_PREFIX        ".wh."
#define WH_OPAQUE        ".wh..wh..opq"

/* One directory on the way down: its children's names, sorted. */
struct frame {
    char *path; /* relative to the layer root, "" for the root */
    int fd;     /* -1 while closed (deep trees) */
    char **names;
    size_t next;
};

struct layer_writer {
    const char *what; /* the directory, for messages */
    int rootfd;
    dev_t dev;             /* its file system's: the walk never leaves it */
    struct archive *tar;   /* pax, uncompressed: hashed, then into gz */
    struct archive *gz;    /* raw + gzip: into the blob */
    struct blob_writer *w; /* the compressed blob */
    struct sha256 *diff;
    json_t *links;    /* "dev:ino" → the first path of a hard-linked inode */
    int64_t unpacked; /* regular file bytes, each inode once */
    struct berr sink; /* an error of the blob writer, seen by the callbacks */
    char *buf;
    struct frame *stack;
    size_t depth, cap;
};

static la_ssize_t gz_out(struct archive *a, void *ud, const void *buf, size_t n)
{
    (void)a;
    struct layer_writer *lw = ud;
    if (blob_writer_write(lw->w, buf, n, &lw->sink) < 0)
        return -1;
    return (la_ssize_t)n;
}

static la_ssize_t tar_out(struct archive *a, void *ud, const void *buf, size_t n)
{
    (void)a;
    struct layer_writer *lw = ud;
    sha256_update(lw->diff, buf, n);
    if (archive_write_data(lw->gz, buf, n) != (la_ssize_t)n)
        return -1;
    return (la_ssize_t)n;
}

/* The error of the archive a, or of the blob writer behind it. */
static int arch_err(struct layer_writer *lw, struct archive *a, const char *path, struct berr *e)
{
    const char *why = lw->sink.msg                                   ? lw->sink.msg
                      : a && archive_error_string(a)                 ? archive_error_string(a)
                      : a == lw->tar && archive_error_string(lw->gz) ? archive_error_string(lw->gz)
                                                                     : "write failed";
    int code = lw->sink.code ? lw->sink.code : -EIO;
    if (path && *path)
        return berr_set(e, code, "%s: \"%s\": %s", lw->what, path, why);
    return berr_set(e, code, "%s: writing the layer: %s", lw->what, why);
}

static int open_archives(struct layer_writer *lw, struct berr *e)
{
    lw->gz = archive_write_new();
    lw->tar = archive_write_new();
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, "layer.tar");
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_perm(ent, 0644);
    /* No padding after either stream: a gzip member followed by zeros is
     * refused by strict readers, and a tar needs only its two end blocks. */
    bool ok = archive_write_set_format_raw(lw->gz) == ARCHIVE_OK &&
              archive_write_add_filter_gzip(lw->gz) == ARCHIVE_OK &&
              archive_write_set_filter_option(lw->gz, "gzip", "compression-level",
                                              LAYER_GZIP_LEVEL) == ARCHIVE_OK &&
              archive_write_set_filter_option(lw->gz, "gzip", "timestamp", NULL) == ARCHIVE_OK &&
              archive_write_set_bytes_in_last_block(lw->gz, 1) == ARCHIVE_OK &&
              archive_write_open2(lw->gz, lw, NULL, gz_out, NULL, NULL) == ARCHIVE_OK &&
              archive_write_header(lw->gz, ent) == ARCHIVE_OK;
    archive_entry_free(ent);
    if (!ok)
        return arch_err(lw, lw->gz, NULL, e);
    if (archive_write_set_format_pax(lw->tar) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(lw->tar, 1) != ARCHIVE_OK ||
        archive_write_open2(lw->tar, lw, NULL, tar_out, NULL, NULL) != ARCHIVE_OK)
        return arch_err(lw, lw->tar, NULL, e);
    return 0;
}

static void archive_entry_freep(struct archive_entry **ent)
{
    if (*ent)
        archive_entry_free(*ent);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted (a whiteout by the name it hides). */
static char **sorted_names(int fd)
{
    char **names = fs_list_names(fd, true);
    size_t n = strv_len(names);
    if (n > 1)
        xqsort(names, n, sizeof *names, cmp_name);
    return names;
}

/* Reads name's extended attributes through its parent's fd (l* calls on
 * /proc/self/fd/P/name: the last component is never followed, whatever its
 * type), removes overlayfs's bookkeeping from the tree (all but a "y"
 * opaque marker, and that too at the root), adds the ones a layer carries
 * (user.*, security.capability) to ent. *opaque tells whether name is an
 * opaque directory. */
static int entry_xattrs(struct layer_writer *lw, int pfd, const char *name, const char *path,
                        struct archive_entry *ent, bool *opaque, struct berr *e)
{
    *opaque = false;
    _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", pfd, name);
    ssize_t n = llistxattr(p, NULL, 0);
    if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
        return 0;
    if (n < 0)
        return berr_errno(e, errno, "%s: \"%s\": listing extended attributes", lw->what, path);
    if (n == 0)
        return 0;
    _cleanup_free_ char *list = xmalloc((size_t)n + 1);
    n = llistxattr(p, list, (size_t)n);
    if (n < 0)
        return berr_errno(e, errno, "%s: \"%s\": listing extended attributes", lw->what, path);
    list[n] = '\0';
    /* In name order, whatever order the file system keeps them in: the
     * same tree makes the same tar. */
    size_t nk = 0;
    for (char *k = list; k < list + n; k += strlen(k) + 1)
        nk++;
    _cleanup_free_ char **keys = xcalloc(nk + 1, sizeof *keys);
    nk = 0;
    for (char *k = list; k < list + n; k += strlen(k) + 1)
        keys[nk++] = k;
    xqsort(keys, nk, sizeof *keys, cmp_name);
    size_t count = 0;
    for (size_t i = 0; i < nk; i++) {
        const char *k = keys[i];
        bool ovl = strncmp(k, OVL_PREFIX, strlen(OVL_PREFIX)) == 0;
        bool keep = strncmp(k, "user.", 5) == 0 || strcmp(k, "security.capability") == 0;
        if (!ovl && !keep)
            continue;
        char val[UNPACK_XATTR_MAX_SIZE];
        ssize_t vn = lgetxattr(p, k, val, sizeof val);
        if (vn < 0)
            return berr_errno(e, errno, "%s: \"%s\": reading extended attribute \"%s\"", lw->what,
                              path, k);
        if (ovl) {
            if (*path && strcmp(k, OVL_OPAQUE) == 0 && vn == 1 && val[0] == 'y') {
                *opaque = true;
                continue;
            }
            if (lremovexattr(p, k) < 0 && errno != ENODATA)
                return berr_errno(e, errno, "%s: \"%s\": removing extended attribute \"%s\"",
                                  lw->what, path, k);
            continue;
        }
        if (strncmp(k, "user.overlay.", 13) == 0)
            continue; /* the unpacker drops these too */
        if (ent && ++count > UNPACK_XATTR_MAX_COUNT)
            return berr_set(e, -E2BIG, "%s: \"%s\": too many extended attributes (limit %u)",
                            lw->what, path, UNPACK_XATTR_MAX_COUNT);
        if (ent)
            archive_entry_xattr_add_entry(ent, k, val, (size_t)vn);
    }
    return 0;
}

static int put_header(struct layer_writer *lw, struct archive_entry *ent, const char *path,
                      struct berr *e)
{
    if (archive_write_header(lw->tar, ent) < ARCHIVE_WARN)
        return arch_err(lw, lw->tar, path, e);
    return 0;
}

/* An empty regular file: a whiteout's or an opaque directory's marker. */
static int put_marker(struct layer_writer *lw, const char *path, const struct stat *st,
                      struct berr *e)
{
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, path);
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_perm(ent, 0);
    archive_entry_set_size(ent, 0);
    archive_entry_set_mtime(ent, st->st_mtim.tv_sec, 0);
    int r = put_header(lw, ent, path, e);
    archive_entry_free(ent);
    return r;
}

static int put_data(struct layer_writer *lw, int fd, const char *path, struct berr *e)
{
    for (;;) {
        ssize_t n = read(fd, lw->buf, LAYER_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(e, errno, "%s: \"%s\": reading", lw->what, path);
        if (n == 0)
            return 0;
        la_ssize_t w = archive_write_data(lw->tar, lw->buf, (size_t)n);
        if (w < 0)
            return arch_err(lw, lw->tar, path, e);
        if (w < n)
            return 0; /* grew since its header: the header's size wins */
    }
}

/* A hard-linked inode seen before: ent becomes a link to its first path. */
static bool as_hardlink(struct layer_writer *lw, const struct stat *st, const char *path,
                        struct archive_entry *ent)
{
    if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
        return false;
    char key[64];
    snprintf(key, sizeof key, "%llu:%llu", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
    json_t *first = json_object_get(lw->links, key);
    if (!first) {
        json_object_set_new(lw->links, key, json_string(path));
        return false;
    }
    archive_entry_set_hardlink(ent, json_string_value(first));
    archive_entry_set_size(ent, 0);
    return true;
}

/* One entry of the tree: name in the directory pfd, path its path in the
 * layer. *dirfd receives an fd of it when it is a directory to enter. */
static int put_entry(struct layer_writer *lw, int pfd, const char *name, const char *path,
                     int *dirfd, struct berr *e)
{
    *dirfd = -1;
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berr_errno(e, errno, "%s: \"%s\"", lw->what, path);
    if (st.st_dev != lw->dev)
        return berr_set(e, -EXDEV, "%s: \"%s\": a mount point (is a step's mount still there?)",
                        lw->what, path);
    if (S_ISSOCK(st.st_mode))
        return 0; /* a socket a step left bound: not part of an image, as in docker's */
    if (strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0)
        return berr_set(e, -EINVAL,
                        "%s: \"%s\": names starting with \"" WH_PREFIX
                        "\" are reserved for whiteouts in a layer",
                        lw->what, path);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        /* A whiteout (overlayfs may share one inode among them all). */
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *wh =
            slash ? xasprintf("%.*s/" WH_PREFIX "%s", (int)(slash - path), path, slash + 1)
                  : xasprintf(WH_PREFIX "%s", path);
        bool opaque;
        int r = entry_xattrs(lw, pfd, name, path, NULL, &opaque, e);
        return r < 0 ? r : put_marker(lw, wh, &st, e);
    }
    _cleanup_(archive_entry_freep) struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, path);
    archive_entry_copy_stat(ent, &st);
    archive_entry_unset_atime(ent);
    archive_entry_unset_ctime(ent);
    archive_entry_unset_birthtime(ent);
    archive_entry_set_mtime(ent, st.st_mtim.tv_sec, 0);
    archive_entry_set_ino(ent, 0);
    archive_entry_set_dev(ent, 0);
    archive_entry_set_nlink(ent, 1);
    if (!S_ISREG(st.st_mode))
        archive_entry_set_size(ent, 0);
    bool opaque = false;
    int r = entry_xattrs(lw, pfd, name, path, ent, &opaque, e);
    if (r < 0)
        return r;
    if (as_hardlink(lw, &st, path, ent))
        return put_header(lw, ent, path, e);
    _cleanup_close_ int fd = -1;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        int fl = S_ISDIR(st.st_mode) ? O_DIRECTORY : O_NOCTTY | O_NONBLOCK;
        fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | fl);
        struct stat now;
        if (fd < 0 || fstat(fd, &now) < 0)
            return berr_errno(e, errno, "%s: \"%s\": opening", lw->what, path);
        if (now.st_ino != st.st_ino || now.st_dev != st.st_dev)
            return berr_set(e, -EAGAIN, "%s: \"%s\": changed while it was read", lw->what, path);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(pfd, name, target, PATH_MAX);
        if (n < 0)
            return berr_errno(e, errno, "%s: \"%s\": reading the link", lw->what, path);
        target[n] = '\0';
        archive_entry_set_symlink(ent, target);
    }
    if ((r = put_header(lw, ent, path, e)) < 0)
        return r;
    if (S_ISREG(st.st_mode)) {
        lw->unpacked += st.st_size;
        return put_data(lw, fd, path, e);
    }
    if (S_ISDIR(st.st_mode)) {
        if (opaque) {
            _cleanup_free_ char *m = xasprintf("%s/" WH_OPAQUE, path);
            if ((r = put_marker(lw, m, &st, e)) < 0)
                return r;
        }
        *dirfd = TAKE_FD(fd);
    }
    return 0;
}

static void frame_free(struct frame *f)
{
    free(f->path);
    if (f->fd >= 0)
        close(f->fd);
    strv_free(f->names);
    *f = (struct frame){.fd = -1};
}

/* The frame's directory fd, reopened below the root when it was closed to
 * keep the number of open fds bounded. */
static int frame_fd(struct layer_writer *lw, struct frame *f, struct berr *e)
{
    if (f->fd >= 0)
        return f->fd;
    int fd = fs_openat2(lw->rootfd, f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0)
        return berr_errno(e, -fd, "%s: \"%s\": reopening", lw->what, f->path);
    f->fd = fd;
    return fd;
}

static void push_frame(struct layer_writer *lw, char *path, int fd)
{
    if (lw->depth == lw->cap) {
        lw->cap = lw->cap ? lw->cap * 2 : 16;
        lw->stack = xreallocarray(lw->stack, lw->cap, sizeof *lw->stack);
    }
    lw->stack[lw->depth++] = (struct frame){.path = path, .fd = fd, .names = sorted_names(fd)};
    if (lw->depth > LAYER_OPEN_MAX) {
        struct frame *far = &lw->stack[lw->depth - 1 - LAYER_OPEN_MAX];
        if (far->fd >= 0) {
            close(far->fd);
            far->fd = -1;
        }
    }
}

/* Depth first, each directory's entries in name order, a directory's
 * entry before its children; without recursion, with at most
 * LAYER_OPEN_MAX directory fds open whatever the depth. */
static int walk(struct layer_writer *lw, struct berr *e)
{
    int root = dup(lw->rootfd);
    if (root < 0)
        return berr_errno(e, errno, "%s", lw->what);
    bool opaque;
    int r = entry_xattrs(lw, root, ".", "", NULL, &opaque, e);
    push_frame(lw, xstrdup(""), root);
    while (r == 0 && lw->depth > 0) {
        struct frame *f = &lw->stack[lw->depth - 1];
        const char *name = f->names[f->next];
        if (!name) {
            frame_free(f);
            lw->depth--;
            continue;
        }
        f->next++;
        int pfd = frame_fd(lw, f, e);
        if (pfd < 0)
            return pfd;
        _cleanup_free_ char *path = *f->path ? xasprintf("%s/%s", f->path, name) : xstrdup(name);
        int dfd;
        if ((r = put_entry(lw, pfd, name, path, &dfd, e)) == 0 && dfd >= 0)
            push_frame(lw, TAKE_PTR(path), dfd);
    }
    return r;
}

static void layer_writer_free(struct layer_writer *lw)
{
    if (lw->tar)
        archive_write_free(lw->tar);
    if (lw->gz)
        archive_write_free(lw->gz);
    blob_writer_free(lw->w);
    sha256_free(lw->diff);
    json_decref(lw->links);
    berr_clear(&lw->sink);
    free(lw->buf);
    for (size_t i = 0; i < lw->depth; i++)
        frame_free(&lw->stack[i]);
    free(lw->stack);
}

/* Writes the tree below lw->rootfd into the blob writer; diffid receives
 * the uncompressed tar's digest. */
static int write_layer(struct layer_writer *lw, char diffid[DIGEST_STR_SIZE], struct berr *e)
{
    int r = open_archives(lw, e);
    if (r == 0)
        r = walk(lw, e);
    if (r < 0)
        return r;
    if (archive_write_close(lw->tar) != ARCHIVE_OK)
        return arch_err(lw, lw->tar, NULL, e);
    if (archive_write_close(lw->gz) != ARCHIVE_OK)
        return arch_err(lw, lw->gz, NULL, e);
    sha256_final(lw->diff, diffid);
    return blob_writer_finish(lw->w, e);
}

/* The blob and the tree into the store, under its writer lock (taken here
 * unless the caller holds it). */
static int commit_layer(struct store *s, struct layer_writer *lw, int parentfd, const char *base,
                        const char *dir, struct image_layer_ref *out, struct berr *e)
{
    bool had_lock = s->locked;
    int r = store_lock(s, e);
    if (r < 0)
        return r;
    if ((r = blob_writer_commit(lw->w, NULL, -1, NULL, e)) < 0)
        goto out;
    if (store_layer_exists(s, out->chain_id)) {
        r = fs_rm_rf_at(parentfd, base, e);
        if (r < 0)
            berr_wrap(e, "removing %s (the store has its layer already)", dir);
    } else {
        r = store_layer_commit_at(s, parentfd, base, lw->rootfd, out->chain_id, out->diff_id,
                                  lw->unpacked, e);
    }
    if (r == 0)
        store_pin(s, dir, out->digest, out->chain_id);
out:
    if (!had_lock)
        store_unlock(s);
    return r;
}

int image_layer_from_dir(struct store *s, const char *dir, const char *parent_chain,
                         struct image_layer_ref *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (parent_chain && !digest_is_valid(parent_chain))
        return berr_set(e, -EINVAL, "layer from %s: invalid parent ChainID \"%.80s\"", dir,
                        parent_chain);
    const char *slash = strrchr(dir, '/');
    if (dir[0] != '/' || !slash || !slash[1] || strcmp(slash + 1, ".") == 0 ||
        strcmp(slash + 1, "..") == 0)
        return berr_set(e, -EINVAL, "layer from \"%s\": not an absolute path of a directory", dir);
    _cleanup_free_ char *parent =
        slash == dir ? xstrdup("/") : xstrndup(dir, (size_t)(slash - dir));
    _cleanup_close_ int parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parentfd < 0)
        return berr_errno(e, errno, "layer from %s", dir);
    struct layer_writer lw = {.what = dir, .rootfd = -1};
    lw.rootfd = openat(parentfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat dst, lst;
    if (lw.rootfd < 0 || fstat(lw.rootfd, &dst) < 0 || fstat(s->layersfd, &lst) < 0) {
        int r = berr_errno(e, errno, "layer from %s", dir);
        if (lw.rootfd >= 0)
            close(lw.rootfd);
        return r;
    }
    int r = 0;
    lw.dev = dst.st_dev;
    if (dst.st_dev != lst.st_dev) {
        r = berr_set(e, -EXDEV, "layer from %s: not on the file system of the image store %s", dir,
                     store_root(s));
        goto out;
    }
    /* The blob's temp file sits beside the tree, in the build's scratch
     * directory, out of reach of other writers' clean-up. */
    if ((r = blob_writer_open_in(s, parentfd, &lw.w, e)) < 0)
        goto out;
    lw.diff = sha256_new();
    lw.links = json_object();
    lw.buf = xmalloc(LAYER_BUF);
    if ((r = write_layer(&lw, out->diff_id, e)) < 0)
        goto out;
    memcpy(out->digest, lw.w->digest, DIGEST_STR_SIZE);
    out->size = (int64_t)lw.w->size;
    snprintf(out->media_type, sizeof out->media_type, "%s+gzip", MT_OCI_LAYER);
    chain_id(parent_chain, out->diff_id, out->chain_id);
    r = commit_layer(s, &lw, parentfd, slash + 1, dir, out, e);
out:
    close(lw.rootfd);
    lw.rootfd = -1;
    layer_writer_free(&lw);
    if (r < 0)
        memset(out, 0, sizeof *out);
    return r;
}
