/* SPDX-License-Identifier: Apache-2.0 */
/* From compose files to one canonical tree, per docker compose's rules:
 * each file is parsed, interpolated with its project's variables, its
 * `include` entries loaded as projects of their own (their own directory
 * and .env) and their resources added, brought to canonical form, its
 * `extends` resolved (in the same file or another one, recursively), and
 * then the files are merged in order. Cycles of include or extends are
 * errors that print the chain; chains are capped in depth. */
#ifndef BERTH_COMPOSE_FILES_H
#define BERTH_COMPOSE_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "compose/arena.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/strvec.h"
#include "compose/yaml.h"

#define LOADER_MAX_DEPTH 32

struct loader {
    struct arena *a;
    struct diag *d;
    size_t max_bytes;
    const char *cwd;
    bool interpolate;
    struct strvec paths; /* every file read (absolute; "-" for stdin), by ysource index */
    struct strvec names; /* the same, as named in messages */
    char **warned;       /* unset variables already warned about */
    char **chain;        /* the include/extends chain being loaded */
    /* The files extends.file named, read once: their services as read. */
    struct loader_ext {
        char *path;
        struct ynode *services;
        /* its services made canonical so far (NULL: it failed) */
        char **names;
        struct ynode **canon;
    } * ext;
    size_t n_ext;
    /* A file given in memory (fuzzing, benchmarks): its path and bytes. */
    const char *mem_path, *mem;
    size_t mem_len;
};

/* The canonical merge of files (absolute paths, "-" for stdin; display
 * names beside them) of one project. NULL after errors (in L->d). */
struct ynode *loader_project(struct loader *L, char *const *paths, char *const *names,
                             const char *project_dir, const struct envtab *env);

/* How the top-level load learns the project's name before interpolating:
 * resolve gets the last non-empty `name:` of the files (interpolated; NULL
 * when there is none) and sets *name (heap), or fails with its error in the
 * loader's diag. */
struct loader_name {
    int (*resolve)(void *ud, const struct ynode *name_node, char **name);
    void *ud;
};

/* loader_project for the project's own files (-f, or those discovered):
 * the name is resolved first, and COMPOSE_PROJECT_NAME set to it for
 * interpolation (over any value of env), as compose-go does. *name is set
 * (heap) when the name could be resolved, even if loading then failed. */
struct ynode *loader_main(struct loader *L, char *const *paths, char *const *names,
                          const char *project_dir, const struct envtab *env,
                          const struct loader_name *ln, char **name);

void loader_release(struct loader *L);

#endif
