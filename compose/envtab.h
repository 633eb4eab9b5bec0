/* SPDX-License-Identifier: Apache-2.0 */
/* The variables interpolation reads: the process environment first, then
 * the project's .env (or --env-file) files, as docker compose layers them
 * (a variable set in the shell wins). Sorted once, looked up in O(log n),
 * so a huge .env file can't make interpolation quadratic. */
#ifndef BERTH_COMPOSE_ENVTAB_H
#define BERTH_COMPOSE_ENVTAB_H

#include <stdbool.h>
#include <stddef.h>

struct envtab {
    char **entries; /* "KEY=VALUE", sorted by key, unique */
    size_t n;
};

/* Adds the entries of env ("KEY=VALUE"; entries without "=" ignored) whose
 * key is not there yet: earlier additions win. */
void envtab_add(struct envtab *t, char *const *env);
/* The value of name (len bytes), or NULL when unset. */
const char *envtab_get(const struct envtab *t, const char *name, size_t len);
/* A NULL-terminated copy ("KEY=VALUE" strings, sorted). */
char **envtab_strv(const struct envtab *t);
void envtab_free(struct envtab *t);

#endif
