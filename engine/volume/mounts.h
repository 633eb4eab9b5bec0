/* SPDX-License-Identifier: Apache-2.0 */
/* From a container's planned mounts (struct plan_mount in its plan) to what
 * must exist on the host before it starts, and to the runtime's mount
 * specs. What `up`, `down` and the supervisor call:
 *
 *   up, once, after planning and before creating containers (through
 *   engine/plan's volumes_create_declared, which reads the compose file's
 *   volumes: into struct volume_decl):
 *       volumes_create(root, project, decls, n, &created, &e)
 *   before every start of a container (first start and restarts):
 *       mounts_prepare(root, project_name, &plan, &e)
 *       mounts_build(root, &plan, &set, &e)
 *       spec.mounts = set.specs; spec.n_mounts = set.n;
 *       container_start(...); mount_set_free(&set);
 *   down, for each container it removes (after removing it):
 *       mounts_remove_anonymous(root, project_name, &plan, &e)
 *   down -v, after every container is removed (through engine/supervise's
 *   volumes_remove_project, which finds the volumes still in use):
 *       volumes_remove_labelled(root, project_name, users, n, &removed, &e)
 */
#ifndef BERTH_VOLUME_MOUNTS_H
#define BERTH_VOLUME_MOUNTS_H

#include <stddef.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

/* Labels berth puts on the volumes it creates, as docker compose does. */
#define VOLUME_LABEL_PROJECT   "com.docker.compose.project"
#define VOLUME_LABEL_VOLUME    "com.docker.compose.volume"
#define VOLUME_LABEL_ANONYMOUS "com.docker.volume.anonymous"

/* A volume the project declares at the top level, as plain values (the
 * compose model stays above this layer). */
struct volume_decl {
    const char *key;     /* the key under volumes: */
    const char *name;    /* the real name */
    bool external;       /* must exist; never created */
    char *const *labels; /* "k=v", NULL-terminated; may be NULL */
};

/* Creates every declared volume that is not external (labels: project,
 * volume key, the file's labels:), and checks that each external one
 * exists ("external volume "x" not found"). An existing volume is kept as
 * it is. *created (may be NULL) receives the names of the volumes made
 * now, for " Volume "x"  Created" lines. */
int volumes_create(const char *root, const char *project, const struct volume_decl *decls, size_t n,
                   char ***created, struct berr *e);

/* Makes everything the container's mounts need on the host, in order:
 *   bind:   a missing source directory is created (mkdir -p, 0755) when the
 *           mount allows it (the short syntax), else an error naming it;
 *   volume: created when missing (labelled with the project; an external
 *           volume must exist), then seeded from the image's content at the
 *           target unless nocopy (only a volume no container used yet and
 *           still empty: see volume_seed);
 *   tmpfs:  nothing.
 * Errors name the container and the mount. Idempotent: call it before every
 * start. */
int mounts_prepare(const char *root, const char *project, const struct ctr_plan *plan,
                   struct berr *e);

/* The runtime's mount specs for the plan (volumes become binds of their
 * data directories). specs point into the plan and into strings, so keep
 * both until container_start returns. */
struct mount_set {
    struct mount_spec *specs;
    size_t n;
    char **strings; /* owned, NULL-terminated */
};
int mounts_build(const char *root, const struct ctr_plan *plan, struct mount_set *out,
                 struct berr *e);
void mount_set_free(struct mount_set *m);
#define _cleanup_mount_set_ _cleanup_(mount_set_free)

/* Removes the anonymous volumes of a container that is being removed for
 * good (down). Docker keeps them as unreachable leftovers; berth removes
 * them, as nothing could ever use them again (a recreated container of the
 * same name reuses them: recreate must not call this). Only volumes
 * labelled anonymous and of this project are touched. */
int mounts_remove_anonymous(const char *root, const char *project, const struct ctr_plan *plan,
                            struct berr *e);

/* A volume a remaining container still mounts, and that container. */
struct volume_user {
    const char *volume;
    const char *container;
};

/* down -v: removes every volume labelled with the project (its declared
 * volumes, never external ones, and its anonymous volumes). A volume in
 * users (a remaining container, another project's or an orphan down
 * keeps, still has it in its mounts) is kept, with an error naming it (the
 * others are removed all the same). *removed (may be NULL) receives the
 * names removed, for " Volume x  Removed" lines. */
int volumes_remove_labelled(const char *root, const char *project, const struct volume_user *users,
                            size_t n_users, char ***removed, struct berr *e);

#endif
