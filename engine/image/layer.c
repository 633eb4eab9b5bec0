/* SPDX-License-Identifier: Apache-2.0 */
/* One layer blob applied to a directory: decompression filters limited to safe
 * in-process ones, a size budget, and the DiffID checked over the uncompressed
 * stream. Not here: writing each tar entry (engine/image/unpack.c), where
 * layers live (engine/image/store.c). */
#include "engine/image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

#define RAW_BUF (64u << 10)

/* Registers filter on a only when it runs in-process: a support call
 * returns ARCHIVE_WARN when it falls back to an external program, and a
 * registration cannot be undone, so each is probed on a throwaway reader. */
static int enable_in_process(struct archive *a, int (*filter)(struct archive *))
{
    struct archive *probe = archive_read_new();
    int r = filter(probe);
    archive_read_free(probe);
    if (r != ARCHIVE_OK)
        return -1;
    return filter(a) == ARCHIVE_OK ? 0 : -1;
}

int archive_support_safe_filters(struct archive *a)
{
    if (enable_in_process(a, archive_read_support_filter_gzip) < 0 ||
        enable_in_process(a, archive_read_support_filter_zstd) < 0)
        return -1;
    enable_in_process(a, archive_read_support_filter_xz);
    enable_in_process(a, archive_read_support_filter_lzma);
    enable_in_process(a, archive_read_support_filter_bzip2);
    enable_in_process(a, archive_read_support_filter_lz4);
    return 0;
}

struct rawsrc {
    struct archive *raw;
    struct sha256 *h;
    uint64_t total, budget;
    struct berr err;
    bool eof;
    char buf[RAW_BUF];
};

/* Next chunk of uncompressed bytes: counted, hashed. 0 at the end, -1 on
 * error (src->err set). */
static ssize_t raw_fill(struct rawsrc *src)
{
    if (src->err.msg)
        return -1;
    if (src->eof)
        return 0;
    la_ssize_t n = archive_read_data(src->raw, src->buf, sizeof src->buf);
    if (n < 0) {
        berr_set(&src->err, -EINVAL, "decompressing: %s", archive_error_string(src->raw));
        return -1;
    }
    if (n == 0) {
        src->eof = true;
        return 0;
    }
    src->total += (uint64_t)n;
    if (src->total > src->budget) {
        berr_set(&src->err, -EFBIG,
                 "uncompressed size exceeds the limit of %" PRIu64
                 " bytes (set BERTH_MAX_LAYER_BYTES to change it)",
                 src->budget);
        return -1;
    }
    sha256_update(src->h, src->buf, (size_t)n);
    return n;
}

static la_ssize_t tar_read_cb(struct archive *a, void *cd, const void **out)
{
    struct rawsrc *src = cd;
    ssize_t n = raw_fill(src);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", src->err.msg);
        return -1;
    }
    *out = src->buf;
    return n;
}

static void free_archive(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

struct streamsrc {
    layer_read_fn read;
    void *ud;
};

static la_ssize_t stream_read_cb(struct archive *a, void *cd, const void **out)
{
    struct streamsrc *ss = cd;
    const char *msg = NULL;
    ssize_t n = ss->read(ss->ud, out, &msg);
    if (n < 0)
        archive_set_error(a, EIO, "%s", msg ? msg : "reading the layer");
    return n;
}

/* The layer in raw (opened by the caller, or not: ARCHIVE_FATAL in open_rc)
 * unpacked into destfd and checked. */
static int apply_raw(struct archive *raw, int open_rc, int destfd, uint64_t budget,
                     const char *expected_diffid, const char *what, const struct ev_sink *sink,
                     char *diffid, struct unpack_stats *st, struct berr *e)
{
    __attribute__((cleanup(free_archive))) struct archive *tar = NULL;
    _cleanup_free_ struct rawsrc *src = xcalloc(1, sizeof *src);
    src->raw = raw;
    src->budget = budget;
    src->h = sha256_new();
    int r = 0;
    struct archive_entry *ent;
    if (open_rc != ARCHIVE_OK || archive_read_next_header(raw, &ent) != ARCHIVE_OK) {
        r = berr_set(e, -EINVAL, "%s: unreadable layer: %s", what, archive_error_string(raw));
        goto out;
    }
    if (destfd >= 0) {
        tar = archive_read_new();
        archive_read_support_format_tar(tar);
        if (archive_read_open(tar, src, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
            r = berr_set(e, -EINVAL, "%s: %s", what,
                         src->err.msg ? src->err.msg : archive_error_string(tar));
            goto out;
        }
        if ((r = unpack_tar(tar, destfd, what, &src->err, sink, st, e)) < 0)
            goto out;
    }
    /* The DiffID covers the whole stream, past the tar end marker too. */
    for (;;) {
        ssize_t n = raw_fill(src);
        if (n < 0) {
            r = berr_set(e, src->err.code, "%s: %s", what, src->err.msg);
            goto out;
        }
        if (n == 0)
            break;
    }
    char got[DIGEST_STR_SIZE];
    sha256_final(src->h, got);
    if (diffid)
        memcpy(diffid, got, DIGEST_STR_SIZE);
    if (expected_diffid && strcmp(expected_diffid, got) != 0) {
        r = berr_set(e, -EBADMSG,
                     "%s: DiffID mismatch: the image config says %s, the content is %s", what,
                     expected_diffid, got);
        goto out;
    }
out:
    sha256_free(src->h);
    berr_clear(&src->err);
    return r;
}

static struct archive *raw_reader(const char *what, struct berr *e)
{
    struct archive *raw = archive_read_new();
    if (archive_support_safe_filters(raw) < 0 ||
        archive_read_support_format_raw(raw) != ARCHIVE_OK) {
        archive_read_free(raw);
        berr_set(e, -ENOTSUP, "%s: libarchive lacks an in-process decompressor", what);
        return NULL;
    }
    return raw;
}

int layer_apply(int blobfd, int destfd, uint64_t budget, const char *expected_diffid,
                const char *what, const struct ev_sink *sink, char *diffid, struct unpack_stats *st,
                struct berr *e)
{
    __attribute__((cleanup(free_archive))) struct archive *raw = raw_reader(what, e);
    if (!raw)
        return e ? e->code : -ENOTSUP;
    int orc = archive_read_open_fd(raw, blobfd, RAW_BUF);
    return apply_raw(raw, orc, destfd, budget, expected_diffid, what, sink, diffid, st, e);
}

int layer_apply_stream(layer_read_fn read, void *ud, int destfd, uint64_t budget,
                       const char *expected_diffid, const char *what, const struct ev_sink *sink,
                       char *diffid, struct unpack_stats *st, struct berr *e)
{
    __attribute__((cleanup(free_archive))) struct archive *raw = raw_reader(what, e);
    if (!raw)
        return e ? e->code : -ENOTSUP;
    struct streamsrc ss = {.read = read, .ud = ud};
    int orc = archive_read_open(raw, &ss, NULL, stream_read_cb, NULL);
    return apply_raw(raw, orc, destfd, budget, expected_diffid, what, sink, diffid, st, e);
}
