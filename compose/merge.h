/* SPDX-License-Identifier: Apache-2.0 */
/* Merging of compose trees, the way `-f a.yml -f b.yml`, `extends` and
 * override files combine: mappings merge key by key with the later file
 * winning; lists are appended, and the lists compose keeps unique are
 * deduplicated by their key (ports by host IP, published port, target and
 * protocol; volumes, secrets and configs by target; env_file by path;
 * dns, expose, cap_add... by value), a later entry taking the place of an
 * earlier one; `command`, `entrypoint` and `healthcheck.test` are replaced
 * whole; `environment` merges by variable name; `logging` with another
 * driver replaces the old one. A null in a later file leaves the earlier
 * value; `!reset` removes the key, `!override` replaces without merging;
 * `x-` keys are replaced whole. Trees are not modified: merged mappings
 * are new nodes, untouched subtrees are shared. Inputs are canonical
 * trees (compose/canon.h), so short and long syntaxes merge alike. */
#ifndef BERTH_COMPOSE_MERGE_H
#define BERTH_COMPOSE_MERGE_H

#include "compose/arena.h"
#include "compose/yaml.h"

/* Returns over merged onto base (either may be NULL). */
struct ynode *merge_trees(struct arena *a, struct ynode *base, struct ynode *over);

/* The same rules for one service's body (extends). */
struct ynode *merge_service(struct arena *a, struct ynode *base, struct ynode *over);

#endif
