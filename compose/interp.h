/* SPDX-License-Identifier: Apache-2.0 */
/* Variable interpolation exactly as docker compose does it (compose-go's
 * template package): $VAR and ${VAR}; ${VAR:-default} (unset or empty),
 * ${VAR-default} (unset), ${VAR:?message} and ${VAR?message} (an error),
 * ${VAR:+replacement} and ${VAR+replacement}; defaults, messages and
 * replacements are themselves interpolated, so they nest
 * (${A:-${B:-c}}); "$$" is a literal "$"; a "$" not followed by a name or
 * "{" stays as it is. Names are [_a-zA-Z][_a-zA-Z0-9]*. An unset variable
 * without a default becomes "" with a warning.
 *
 * interp_tree applies it to every scalar value of a YAML tree (never to
 * mapping keys), per file, before merging, as compose does. */
#ifndef BERTH_COMPOSE_INTERP_H
#define BERTH_COMPOSE_INTERP_H

#include <stddef.h>

#include "compose/arena.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/yaml.h"

/* Nesting of ${...} inside defaults beyond this is refused. */
#define INTERP_MAX_DEPTH 64

struct interp {
    /* The value of a variable, or NULL when unset. */
    const char *(*lookup)(void *ud, const char *name, size_t len);
    void *ud;
    /* Called once per unset variable used without a default (name is not
     * NUL-terminated); may be NULL. */
    void (*unset)(void *ud, const char *name, size_t len);
};

/* Interpolates s (len bytes). On success *out is a heap string (len in
 * *out_len) and 0 is returned. On error -EINVAL and *err is a heap message
 * ("required variable X is missing a value: msg", "invalid interpolation
 * format ..."). */
int interp_string(const struct interp *ip, const char *s, size_t len, char **out, size_t *out_len,
                  char **err);

/* A lookup over an envtab (ud = the envtab). */
const char *interp_envtab_lookup(void *ud, const char *name, size_t len);

/* The tree with every scalar value interpolated: untouched subtrees are
 * shared, changed scalars are new string scalars at the same place.
 * Errors go to d with the scalar's file:line:col; warnings about unset
 * variables name the variable once per load (seen tracks that). */
struct interp_tree_ctx {
    struct arena *a;
    struct diag *d;
    const struct envtab *env;
    char ***warned; /* names already warned about (a strv) */
};

struct ynode *interp_tree(struct interp_tree_ctx *c, struct ynode *n);

#endif
