/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical form of a compose tree: every key of the specification
 * checked for its type and brought to docker compose's long syntax, the
 * shape `docker compose config` prints (ports as {mode, target, published,
 * protocol}, volumes as {type, source, target, ...}, depends_on as a
 * mapping with condition and required, environment and labels as
 * mappings, durations as Go durations ("1m30s"), sizes as byte counts,
 * relative paths made absolute, keys in compose's order).
 *
 * It runs twice: on each file after interpolation (so merging sees one
 * shape per key), and on the merged tree with `final` set, which adds
 * compose's defaults and leaves out zero values. Canonical input is
 * accepted unchanged, so running it on `berth config` output gives the
 * same tree. Problems go to the diag with file:line:col; unknown keys are
 * errors naming the nearest known key.
 *
 * The one place the layout departs from docker compose's JSON, on purpose:
 * Go's encoding/json prints empty structs that omitempty cannot leave out
 * ("ipam": {} in every network, "resources": {} and "placement": {} in
 * every deploy); they carry no value and berth leaves them out
 * (tests/compose/README). */
#ifndef BERTH_COMPOSE_CANON_H
#define BERTH_COMPOSE_CANON_H

#include <stdbool.h>

#include "compose/arena.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/yaml.h"

struct canon_opts {
    struct arena *a;
    struct diag *d;
    const char *base_dir; /* relative paths resolve against it */
    const struct envtab *env;
    bool final;   /* the merged tree: defaults, zero values left out */
    bool lenient; /* values may still hold ${VAR} (no interpolation) */
};

/* The canonical tree of a compose file's root mapping (NULL after errors
 * that leave nothing usable). */
struct ynode *canon_file(const struct canon_opts *o, struct ynode *root);

/* A canonical scalar or mapping key made from text. */
struct ynode *canon_key(struct arena *a, const struct ynode *pos, const char *text);

#endif
