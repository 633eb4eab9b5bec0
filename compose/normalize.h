/* SPDX-License-Identifier: Apache-2.0 */
/* What docker compose adds to a merged project before using it: the active
 * profiles (services outside them are left out), each service's effective
 * environment (its env_file entries under its `environment`, bare names
 * taken from the variables), the implicit "default" network, the real
 * names of networks, volumes, configs and secrets (PROJECT_key unless
 * named or external), build's default Dockerfile, implicit dependencies
 * (links, network_mode: service:x, volumes_from), and `scale` from
 * deploy.replicas. */
#ifndef BERTH_COMPOSE_NORMALIZE_H
#define BERTH_COMPOSE_NORMALIZE_H

#include "compose/arena.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/yaml.h"

struct norm_opts {
    struct arena *a;
    struct diag *d;
    const struct envtab *env;
    const char *project_name;
    const char *cwd;
    char *const *profiles; /* --profile and COMPOSE_PROFILES together */
    char *const *services; /* named on the command line: their profiles are enabled */
    bool resolve_env;      /* read env_file and resolve bare variables */
};

/* Every profile named by any service, sorted, unique. */
char **normalize_all_profiles(const struct ynode *root);

/* The normalized tree; *disabled gets the names of the services left out
 * by their profiles. */
struct ynode *normalize_project(const struct norm_opts *o, struct ynode *root, char ***disabled);

#endif
