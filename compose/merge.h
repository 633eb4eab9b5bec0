/* Merging of several compose files (and documents) at node-tree level, the
 * way `-f a.yml -f b.yml` works: mappings merge key by key with the later
 * file winning, anything else is replaced, and keys with their own rule
 * (today: `environment`, merged by variable name; `command` and
 * `entrypoint`, replaced whole even by null) use it. A null in a later file
 * leaves the earlier value; `x-` keys are replaced whole. The rule of a key
 * is looked up by its path (services.*.environment), so the full per-key
 * rules of the compose spec (ports, volumes... unique by key; sequences
 * appended) slot into the rule table. Trees are not modified: merged
 * mappings are new nodes, untouched subtrees are shared. */
#ifndef BERTH_COMPOSE_MERGE_H
#define BERTH_COMPOSE_MERGE_H

#include "compose/arena.h"
#include "compose/yaml.h"

/* Returns over merged onto base (either may be NULL). */
struct ynode *merge_trees(struct arena *a, struct ynode *base, struct ynode *over);

#endif
