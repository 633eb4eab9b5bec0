/* Named volumes: directories under $BERTH_ROOT/volumes/<name>/_data that
 * outlive containers. Created on `up`, kept by `down`, removed by
 * `down -v`; a new volume is seeded from the image's content at its mount
 * point (unless nocopy), as Docker does. */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <stdbool.h>

#include "util/err.h"

/* Creates the volume if it does not exist (labels are "k=v", may be NULL).
 * *created tells whether it is new (and so still to be seeded). */
int volume_ensure(const char *root, const char *name, char *const *labels, bool *created,
                  struct berr *e);
/* The host directory mounted into containers (heap). */
char *volume_data_path(const char *root, const char *name);
/* Copies the content at `target` of the image (its layers, bottom first)
 * into the volume's data directory, keeping owners, modes, symlinks and
 * times; nothing outside the volume is ever written, nothing outside the
 * image is ever read. Only for a volume volume_ensure just created. */
int volume_seed(const char *root, const char *name, char *const *layer_dirs, const char *target,
                struct berr *e);
int volume_remove(const char *root, const char *name, struct berr *e);
/* Names of all volumes (NULL-terminated, heap). */
int volume_list(const char *root, char ***names, struct berr *e);

#endif
