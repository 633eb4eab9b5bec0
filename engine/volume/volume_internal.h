/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the volume module's files; not part of its interface. */
#ifndef BERTH_VOLUME_INTERNAL_H
#define BERTH_VOLUME_INTERNAL_H

#include "util/err.h"

#define VOLUME_DATA         "_data"
#define VOLUME_SEED_PENDING "seed-pending"
#define VOLUME_SEED_TMP     "_seed"

/* Opens $ROOT/volumes/<name> (O_DIRECTORY, no symlink) after checking the
 * name; -ENOENT with "no such volume" when absent. */
int volume_open_dir(const char *root, const char *name, struct berr *e);

#endif
