/* SPDX-License-Identifier: Apache-2.0 */
/* Layer streams: one libarchive reader (format "raw" plus the in-process
 * decompressors) yields the uncompressed tar bytes; they are counted against
 * a byte budget and hashed into the DiffID while a second libarchive reader
 * parses them as tar for the extractor. One pass over the blob. */
#ifndef BERTH_ENGINE_IMAGE_LAYER_H
#define BERTH_ENGINE_IMAGE_LAYER_H

#include <stdint.h>
#include <sys/types.h>

#include "engine/image/digest.h"
#include "engine/image/unpack.h"
#include "util/err.h"

struct archive;

/* Enables the decompressors libarchive runs in-process (gzip, zstd, xz,
 * lzma, bzip2, lz4). Filters that would exec an external program are never
 * enabled. Returns 0 or -1 with the archive's error set. */
int archive_support_safe_filters(struct archive *a);

/* Reads the layer blob in blobfd (plain, gzip or zstd, detected from the
 * bytes), verifies the uncompressed stream stays within budget bytes and,
 * when expected_diffid is not NULL, hashes to it. Unpacks it into destfd, or
 * only verifies when destfd < 0. The DiffID computed is written to diffid
 * (may be NULL). what names the layer in errors; warnings go to sink
 * (unpack_tar). */
int layer_apply(int blobfd, int destfd, uint64_t budget, const char *expected_diffid,
                const char *what, const struct ev_sink *sink, char *diffid, struct unpack_stats *st,
                struct berr *e);

/* A layer's bytes from elsewhere than a file (a download in progress):
 * sets *buf and returns how many bytes are there, 0 at the end, -1 on an
 * error that msg (set by the reader, static or owned by it) says. */
typedef ssize_t (*layer_read_fn)(void *ud, const void **buf, const char **msg);

/* layer_apply reading from read(ud) instead of a file. */
int layer_apply_stream(layer_read_fn read, void *ud, int destfd, uint64_t budget,
                       const char *expected_diffid, const char *what, const struct ev_sink *sink,
                       char *diffid, struct unpack_stats *st, struct berr *e);

#endif
