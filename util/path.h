/* SPDX-License-Identifier: Apache-2.0 */
/* The one lexical path normaliser: "//a/./b/../c/" is "/a/c", without
 * touching the file system. A security check as much as a tidy-up: ".."
 * never climbs above the root, so a cleaned path stays under whatever root
 * it is later resolved in (compose's project paths, a container's mount
 * targets, an image's VOLUMEs). Not here: resolving symlinks (that is
 * openat2's RESOLVE_IN_ROOT, at the place the path is used), compose's
 * base-directory joins (compose/path.h). */
#ifndef BERTH_UTIL_PATH_H
#define BERTH_UTIL_PATH_H

#include <stddef.h>

enum path_norm_flags {
    /* A relative input is -EINVAL; without it a relative path is taken
     * from the root ("data" is "/data"). */
    PATH_NORM_ABSOLUTE_ONLY = 1 << 0,
    /* The result relative to the root: "a/c", "" for the root itself,
     * instead of "/a/c" and "/". */
    PATH_NORM_STRIP_ROOT = 1 << 1,
};

/* Writes path, lexically normalised, into out (cap bytes with the NUL):
 * repeated slashes are one, "." segments go, ".." drops the segment before
 * it and is nothing at the root, a trailing slash goes; every other name
 * ("...", ".a") is kept as it is. 0, -EINVAL (path NULL, or relative with
 * PATH_NORM_ABSOLUTE_ONLY) or -ENAMETOOLONG (out too small). */
int path_normalize(const char *path, unsigned flags, char *out, size_t cap);

/* The same, absolute ("/a/c", "/"), as a heap string; never fails. */
char *path_normalize_dup(const char *path);

#endif
