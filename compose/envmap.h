/* SPDX-License-Identifier: Apache-2.0 */
/* `environment` (and later other list-or-dict keys such as labels) comes as
 * a mapping or as a list of "KEY=VALUE" / bare "KEY" strings. These helpers
 * bring both forms to one mapping: one pair per name in order of first
 * appearance, the last value winning, a bare KEY as a null value. They run
 * in O(n log n) so a huge hostile list can't make them quadratic. */
#ifndef BERTH_COMPOSE_ENVMAP_H
#define BERTH_COMPOSE_ENVMAP_H

#include "compose/arena.h"
#include "compose/yaml.h"

/* n: a mapping, a list or null. Returns 0 and a mapping in *out (key nodes
 * made from list entries carry the entry's position; values from "K=V"
 * entries are string scalars). Returns -EINVAL with *bad set to the
 * offending node when n or one of its entries has the wrong shape. */
int envmap_from_node(struct arena *a, const struct ynode *n, struct ynode **out,
                     const struct ynode **bad);

/* The merge of two environments by name: over's values win, base's order
 * first, over's new names after. Returns NULL when either side has the
 * wrong shape (the caller then lets over replace base, and the model
 * reports the shape error). */
struct ynode *envmap_merge(struct arena *a, const struct ynode *base, const struct ynode *over);

#endif
