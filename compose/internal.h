/* SPDX-License-Identifier: Apache-2.0 */
/* What a loaded project keeps besides its typed model: the canonical tree
 * `berth config` prints and hashes, and the arena it lives in. */
#ifndef BERTH_COMPOSE_INTERNAL_H
#define BERTH_COMPOSE_INTERNAL_H

#include <stdbool.h>

#include "compose/arena.h"
#include "compose/yaml.h"

struct compose_tree {
    struct arena arena;
    struct ynode *root;  /* normalized, canonical, profiles applied */
    char **all_profiles; /* every profile any service names, sorted */
    bool interpolated;   /* false: loaded with no_interpolate */
};

struct compose_opts;
struct project;
struct berr;

/* compose_load with the first file's bytes given (buf, len) instead of read
 * from its path: for the fuzzer and benchmarks. buf NULL: read as usual. */
int compose_load_from_memory(const struct compose_opts *o, const char *buf, size_t len,
                             struct project **out, struct berr *e);

#endif
