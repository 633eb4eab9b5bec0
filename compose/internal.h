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

#endif
