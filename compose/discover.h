/* SPDX-License-Identifier: Apache-2.0 */
/* Which compose files to read and the project directory, exactly as docker
 * compose decides them:
 *  1. -f files in order (later ones override earlier ones; "-" is stdin);
 *  2. else COMPOSE_FILE, split on COMPOSE_PATH_SEPARATOR (default ":");
 *  3. else the first of compose.yaml, compose.yml, docker-compose.yml,
 *     docker-compose.yaml found in the start directory (--project-directory,
 *     else the working directory) or the nearest parent holding one, plus
 *     the first of compose.override.yml, compose.override.yaml,
 *     docker-compose.override.yml, docker-compose.override.yaml beside it.
 * The project directory is --project-directory, else the directory of the
 * first file (read from disk), else the working directory. */
#ifndef BERTH_COMPOSE_DISCOVER_H
#define BERTH_COMPOSE_DISCOVER_H

#include <stddef.h>

#include "compose/compose.h"
#include "compose/diag.h"

struct compose_file {
    char *path;    /* absolute and clean; "-" for stdin */
    char *display; /* as named in messages */
};

struct discovery {
    struct compose_file *files;
    size_t n;
    char *project_dir; /* absolute */
};

/* cwd: absolute. env: the environment to read COMPOSE_FILE and
 * COMPOSE_PATH_SEPARATOR from. Errors and warnings go to d. */
int compose_discover(const struct compose_opts *o, const char *cwd, char *const *env,
                     struct diag *d, struct discovery *out);
void discovery_free(struct discovery *dv);

#endif
