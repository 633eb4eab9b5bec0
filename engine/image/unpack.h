/* SPDX-License-Identifier: Apache-2.0 */
/* The layer extractor: libarchive only reads the tar stream; every entry is
 * written here, fd-relative, below a layer root fd. Parent directories are
 * resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); files are
 * created with O_CREAT | O_EXCL | O_NOFOLLOW and their metadata applied
 * through the fd, so no symlink in the layer can redirect a write, a chmod
 * or a chown outside the root. Whiteouts become overlayfs whiteouts. */
#ifndef BERTH_ENGINE_IMAGE_UNPACK_H
#define BERTH_ENGINE_IMAGE_UNPACK_H

#include <stdint.h>

#include "engine/events/event.h"
#include "util/err.h"

struct archive;

/* Per-entry caps on extended attributes. */
#define UNPACK_XATTR_MAX_COUNT 128
#define UNPACK_XATTR_MAX_SIZE  (64u << 10)

struct unpack_stats {
    int64_t bytes;    /* sum of regular file sizes */
    uint64_t entries; /* entries read */
};

/* Unpacks every entry of tar (an archive opened for reading with the tar
 * format) into the directory rootfd. what names the layer in errors, which
 * name the entry at fault. When the read fails and stream_err holds a
 * message (set by the reader's data source: decompression, byte budget),
 * that message is reported instead of libarchive's. Entries skipped (a
 * device node, an extended attribute the file system refuses) are image
 * "warning" events to sink (NULL: dropped). */
int unpack_tar(struct archive *tar, int rootfd, const char *what, const struct berr *stream_err,
               const struct ev_sink *sink, struct unpack_stats *st, struct berr *e);

/* Lexically cleans a tar entry name: leading '/' and empty or "."
 * components dropped, ".." resolved. -EXDEV when it climbs above the root.
 * "" names the root itself. */
int unpack_clean_path(const char *in, char **out);

#endif
