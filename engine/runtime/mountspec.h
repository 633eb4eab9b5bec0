/* SPDX-License-Identifier: Apache-2.0 */
/* The parent's half of a container's mounts: the spec's mounts checked and
 * turned into what the allocation-free init needs (struct init_mount):
 * targets made lexically clean and relative to the root, targets on or
 * under /proc or /sys (or the root itself) refused, bind sources checked,
 * tmpfs options formatted. Internal to engine/runtime. */
#ifndef BERTH_RUNTIME_MOUNTSPEC_H
#define BERTH_RUNTIME_MOUNTSPEC_H

#include <stddef.h>

#include "engine/runtime/init.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

struct init_mounts {
    struct init_mount *v;
    size_t n;
    char **strings; /* owned by this struct */
};

/* Errors name the container (spec->name) and the target. */
int init_mounts_prepare(const struct container_spec *spec, struct init_mounts *out, struct berr *e);
void init_mounts_free(struct init_mounts *m);

/* True for "proc", "sys" and what lies under them (a clean relative path). */
bool mount_target_forbidden(const char *clean);

#endif
