/* SPDX-License-Identifier: Apache-2.0 */
/* Layers for userns_mode auto where the store's file system refuses
 * idmapped mounts: a copy of each layer with every owner moved into the
 * container's range (ID n to start + n; IDs past the range to start +
 * 65534, the "nobody" the kernel shows for an unmapped ID), made once per
 * range under $BERTH_ROOT/userns-layers/<uid>-<gid>/<layer> and kept
 * until the range is freed (userns_release). Contents are cloned where
 * the file system can (FICLONE), else copied in the kernel; modes with
 * their setuid bits, times, device nodes and overlay whiteouts, hard
 * links and extended attributes are kept, the ones that hold IDs
 * (security.capability, POSIX ACLs) shifted as an idmapped mount would
 * show them. Not here: whether the copy is needed (idmap.h), the ranges
 * (userns.h). */
#ifndef BERTH_RUNTIME_LAYERCOPY_H
#define BERTH_RUNTIME_LAYERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* The host ID of id inside a range that starts at start. */
uint32_t layercopy_shift(uint32_t id, uint32_t start);

/* The value an extended attribute takes in the copy: security.capability
 * of revision 2 becomes revision 3 with the range's root as its root ID
 * (an idmapped mount shows a revision 2 one so), a revision 3 one has its
 * root ID shifted; system.posix_acl_access/default have their user and
 * group entries shifted; any other value is kept. Writes at most cap
 * bytes to out (n + 4 always suffice); returns the length, or -EINVAL for
 * a value that is not what its name says. Pure. */
ssize_t layercopy_xattr_value(const char *name, const uint8_t *val, size_t n, uint32_t uid,
                              uint32_t gid, uint8_t *out, size_t cap);

/* The copies of layer_dirs (each an absolute directory) for the range
 * uid/gid, made where missing: *out receives their paths in the same
 * order (free with strv_free). A copy interrupted earlier is made again;
 * on failure nothing half-made is left. The message names the layer. */
int layercopy_dirs(const char *root, char *const *layer_dirs, uint32_t uid, uint32_t gid,
                   char ***out, struct berr *e);

/* Whether the range has a copy of every one of layer_dirs (made by
 * layercopy_dirs, here or by `up`). */
bool layercopy_present(const char *root, char *const *layer_dirs, uint32_t uid, uint32_t gid);

/* Removes the copies of the range (none: 0). */
int layercopy_remove(const char *root, uint32_t uid, uint32_t gid, struct berr *e);

#endif
