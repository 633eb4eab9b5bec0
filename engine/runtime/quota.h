/* SPDX-License-Identifier: Apache-2.0 */
/* compose's storage_opt size: a container's writable layer (its overlay
 * upper dir) limited by a project quota of the file system under the
 * store, as Docker's overlay2 driver does. Needs xfs, or ext4 with the
 * project feature, mounted with prjquota; elsewhere it is an error, never
 * ignored. */
#ifndef BERTH_RUNTIME_QUOTA_H
#define BERTH_RUNTIME_QUOTA_H

#include <stdint.h>

#include "util/err.h"

/* 0 when the file system holding dir enforces project quotas; else
 * -ENOTSUP saying why, naming `where` (the store, for the user). */
int quota_supported(const char *dir, const char *where, struct berr *e);

/* Gives the container's upper dir (and what is made in it later) a
 * project of its own, limited to bytes, and its overlay work dir the same
 * project (NULL: none): the ID is the upper dir's inode number, so the
 * same directory keeps it. `who` names the container in messages. */
int quota_set(const char *upper, const char *work, int64_t bytes, const char *who, struct berr *e);

#endif
