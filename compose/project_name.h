/* SPDX-License-Identifier: Apache-2.0 */
/* The compose project name. Precedence, as docker compose: -p, then
 * COMPOSE_PROJECT_NAME, then the top-level `name:` of the (merged) files,
 * then the basename of the project directory. A name given explicitly must
 * already be valid; the directory's name is normalized (lowercased, only
 * [a-z0-9_-] kept, leading "_" and "-" dropped). */
#ifndef BERTH_COMPOSE_PROJECT_NAME_H
#define BERTH_COMPOSE_PROJECT_NAME_H

#include <stdbool.h>

#include "compose/diag.h"
#include "compose/yaml.h"

/* ^[a-z0-9][a-z0-9_-]*$ */
bool project_name_is_valid(const char *s);
/* NULL when s is a valid explicit name (the rule above, at most
 * COMPOSE_PROJECT_NAME_MAX characters), else why not. */
const char *project_name_problem(const char *s);
/* Heap string; may be empty. */
char *project_name_normalize(const char *s);

/* flag: -p or NULL. name_node: the top-level `name:` value or NULL.
 * project_dir: absolute. On success *out is a heap string. */
int project_name_resolve(const char *flag, char *const *env, const struct ynode *name_node,
                         const char *project_dir, struct diag *d, char **out);

#endif
