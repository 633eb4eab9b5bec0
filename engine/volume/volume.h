/* SPDX-License-Identifier: Apache-2.0 */
/* Named volumes: directories under $BERTH_ROOT/volumes/<name>/_data that
 * outlive containers. Created on `up`, kept by `down`, removed by
 * `down -v`; a new volume is seeded from the image's content at its mount
 * point (unless nocopy), as Docker does.
 *
 *   volumes/<name>/_data          what containers see
 *   volumes/<name>/volume.json    name, driver, created time, labels (atomic)
 *   volumes/<name>/seed-pending   present until the volume is first used
 *
 * A volume becomes visible by rename only once complete; removal renames it
 * away first. Names are checked with Docker's rule before any path is
 * formed from them. */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <stdbool.h>

#include "util/err.h"

/* Docker's volume-name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (at least two
 * characters), and at most VOLUME_NAME_MAX bytes. */
#define VOLUME_NAME_MAX 200
bool volume_name_valid(const char *name);

/* Creates the volume if it does not exist (labels are "k=v", may be NULL).
 * *created tells whether it is new (and so still to be seeded). */
int volume_ensure(const char *root, const char *name, char *const *labels, bool *created,
                  struct berr *e);
/* 0 when the volume exists, -ENOENT (with a message naming it) when not. */
int volume_exists(const char *root, const char *name, struct berr *e);
/* The host directory mounted into containers (heap). */
char *volume_data_path(const char *root, const char *name);
/* Copies the content at `target` of the image (its layers, bottom first)
 * into the volume's data directory, keeping owners, modes, symlinks and
 * times (the data directory itself takes the owner, mode and times of the
 * target, as Docker does); device nodes and sockets are skipped; nothing
 * outside the volume is ever written, nothing outside the image is ever
 * read (the target is resolved inside the image's root, symlinks are
 * copied as links, never followed). Runs in a short-lived child with its
 * own mount namespace, where the layers are mounted read-only.
 *
 * Seeds only a volume that no container has used yet and whose data
 * directory is empty (Docker's rule); otherwise does nothing. The copy is
 * made aside and swapped in, so a killed seed leaves the volume empty and
 * still to be seeded. Safe to call for every start of every container. */
int volume_seed(const char *root, const char *name, char *const *layer_dirs, const char *target,
                struct berr *e);
/* Records that the volume is in use without seeding (a `nocopy` mount):
 * it will never be seeded afterwards. */
int volume_mark_used(const char *root, const char *name, struct berr *e);
/* Removes the volume and its data. -ENOENT when there is no such volume.
 * The caller makes sure no container uses it. */
int volume_remove(const char *root, const char *name, struct berr *e);
/* Names of all volumes, sorted (NULL-terminated, heap). */
int volume_list(const char *root, char ***names, struct berr *e);

struct volume_info {
    char *name;
    char *driver;  /* "local" */
    char *created; /* RFC 3339 */
    char **labels; /* "k=v", NULL-terminated */
};
int volume_inspect(const char *root, const char *name, struct volume_info *out, struct berr *e);
void volume_info_free(struct volume_info *v);

#endif
