/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the image module's unit tests: tars built in memory with
 * libarchive's write API (raw, hostile pathnames allowed), scratch
 * directories under $BERTH_TEST_TMP, and sentinel snapshots that prove
 * nothing outside a layer root changed. Header-only: each test program
 * includes it once. */
#ifndef BERTH_TESTS_IMAGE_TESTLIB_H
#define BERTH_TESTS_IMAGE_TESTLIB_H

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/image/digest.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct tb {
    struct archive *a;
    char *buf;
    size_t len, cap;
};

static inline la_ssize_t tb_write_cb(struct archive *a, void *cd, const void *buf, size_t n)
{
    struct tb *t = cd;
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, buf, n);
    t->len += n;
    return (la_ssize_t)n;
}

/* filter: "none", "gzip" or "zstd" */
static inline struct tb *tb_new(const char *filter)
{
    struct tb *t = xcalloc(1, sizeof *t);
    t->a = archive_write_new();
    archive_write_set_format_pax_restricted(t->a);
    if (strcmp(filter, "gzip") == 0)
        archive_write_add_filter_gzip(t->a);
    else if (strcmp(filter, "zstd") == 0)
        archive_write_add_filter_zstd(t->a);
    archive_write_set_bytes_in_last_block(t->a, 1);
    if (archive_write_open(t->a, t, NULL, tb_write_cb, NULL) != ARCHIVE_OK)
        abort();
    return t;
}

/* type: 'f' file, 'd' dir, 'l' symlink (target), 'h' hard link (target),
 * 'p' FIFO, 'c' char device. */
static inline void tb_add(struct tb *t, char type, const char *path, const char *target, int mode,
                          const void *data, size_t len, long uid, long gid)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_mtime(e, 1700000000, 0);
    switch (type) {
    case 'f':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)len);
        break;
    case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
    case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, target);
        break;
    case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, target);
        break;
    case 'p':
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
    case 'c':
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, makedev(1, 1));
        break;
    }
    archive_entry_set_perm(e, (mode_t)mode);
    if (archive_write_header(t->a, e) < ARCHIVE_WARN) {
        fprintf(stderr, "tb_add %s: %s\n", path, archive_error_string(t->a));
        abort();
    }
    if (type == 'f' && len)
        archive_write_data(t->a, data, len);
    archive_entry_free(e);
}

static inline void tb_file(struct tb *t, const char *path, int mode, const char *content)
{
    tb_add(t, 'f', path, NULL, mode, content, strlen(content), 0, 0);
}
static inline void tb_dir(struct tb *t, const char *path, int mode)
{
    tb_add(t, 'd', path, NULL, mode, NULL, 0, 0, 0);
}
static inline void tb_symlink(struct tb *t, const char *path, const char *target)
{
    tb_add(t, 'l', path, target, 0777, NULL, 0, 0, 0);
}
static inline void tb_hardlink(struct tb *t, const char *path, const char *target)
{
    tb_add(t, 'h', path, target, 0777, NULL, 0, 0, 0);
}

/* Finishes the archive; returns the bytes (heap) and frees t. */
static inline char *tb_finish(struct tb *t, size_t *len)
{
    archive_write_close(t->a);
    archive_write_free(t->a);
    char *buf = t->buf ? t->buf : xcalloc(1, 1);
    *len = t->len;
    free(t);
    return buf;
}

static inline char *test_tmpdir(const char *prefix)
{
    const char *base = getenv("BERTH_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    struct berr e = BERR_INIT;
    if (fs_mkdir_p(base, 0755, &e) < 0)
        abort();
    char *t = xasprintf("%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(t))
        abort();
    return t;
}

static inline void write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        abort();
    if (write(fd, buf, len) != (ssize_t)len)
        abort();
    close(fd);
}

/* A snapshot of every path under dir except the subtree skip: names, types,
 * modes, owners, sizes, link targets and file contents. */
static char *snap_acc;
static const char *snap_skip;
static size_t snap_base;

static inline int snap_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (snap_skip && strncmp(path, snap_skip, strlen(snap_skip)) == 0)
        return 0;
    char extra[DIGEST_STR_SIZE + 4096] = "";
    if (S_ISREG(st->st_mode)) {
        char *buf = NULL;
        size_t len = 0;
        struct berr e = BERR_INIT;
        if (fs_read_file(AT_FDCWD, path, 1 << 20, &buf, &len, &e) == 0)
            sha256_digest(buf, len, extra);
        berr_clear(&e);
        free(buf);
    } else if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, extra, sizeof extra - 1);
        extra[n > 0 ? n : 0] = '\0';
    }
    char *line = xasprintf("%s%s %o %u:%u %lld %s\n", snap_acc, path + snap_base,
                           (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid,
                           S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, extra);
    free(snap_acc);
    snap_acc = line;
    return 0;
}

/* Not reentrant (nftw has no user pointer); tests are single-threaded. */
static inline char *snapshot(const char *dir, const char *skip)
{
    snap_acc = xstrdup("");
    snap_skip = skip;
    snap_base = strlen(dir);
    nftw(dir, snap_cb, 16, FTW_PHYS);
    char *r = snap_acc;
    snap_acc = NULL;
    return r;
}

static inline void rm_rf(const char *path)
{
    struct berr e = BERR_INIT;
    fs_rm_rf_at(AT_FDCWD, path, &e);
    berr_clear(&e);
}

#endif
