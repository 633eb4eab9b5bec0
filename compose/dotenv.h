/* SPDX-License-Identifier: Apache-2.0 */
/* .env files (the project's .env, --env-file, a service's env_file), read
 * by docker compose's rules (compose-go's dotenv package):
 *  - one KEY=VALUE per line; blank lines and lines starting with "#" are
 *    skipped; an "export " prefix is accepted; CRLF line ends work;
 *  - unquoted values end at the end of the line or at a " #" comment, and
 *    are trimmed;
 *  - 'single-quoted' values are literal; "double-quoted" values may span
 *    lines and understand \n, \r, \t, \\, \" and \$ escapes;
 *  - unquoted and double-quoted values are interpolated (${VAR:-x}...),
 *    looking variables up in the given environment first, then in the
 *    lines above;
 *  - a bare KEY (no "=") takes its value from the given environment, or
 *    is left out when that has none.
 * Errors name file:line. */
#ifndef BERTH_COMPOSE_DOTENV_H
#define BERTH_COMPOSE_DOTENV_H

#include <stdbool.h>
#include <stddef.h>

#include "compose/diag.h"
#include "compose/envtab.h"

/* Size cap of one env file. */
#define DOTENV_MAX_BYTES (4 * 1024 * 1024)

/* Parses buf into a vector of "KEY=VALUE" entries in *out (in file order;
 * a later line for the same key replaces the value in place). name is the
 * file as named in messages. env may be NULL. raw: no quotes, escapes or
 * interpolation ("format: raw"). Returns 0 or -EINVAL (errors in d). */
int dotenv_parse(const char *buf, size_t len, const char *name, const struct envtab *env, bool raw,
                 struct diag *d, char ***out);

/* Reads and parses path. A missing file is -ENOENT (no message: the caller
 * decides whether that is an error); other problems are reported. */
int dotenv_read(const char *path, const char *name, const struct envtab *env, bool raw,
                struct diag *d, char ***out);

#endif
