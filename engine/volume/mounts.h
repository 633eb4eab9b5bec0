/* From a container's planned mounts (struct plan_mount in its plan) to what
 * must exist on the host before it starts, and to the runtime's mount
 * specs. What `up`, `down` and the supervisor call:
 *
 *   up, once, after planning and before creating containers:
 *       volumes_create_declared(root, project, &created, &e)
 *   before every start of a container (first start and restarts):
 *       mounts_prepare(root, project_name, &plan, &e)
 *       mounts_build(root, &plan, &set, &e)
 *       spec.mounts = set.specs; spec.n_mounts = set.n;
 *       container_start(...); mount_set_free(&set);
 *   down, for each container it removes (after removing it):
 *       mounts_remove_anonymous(root, project_name, &plan, &e)
 *   down -v, after every container is removed:
 *       volumes_remove_project(root, project_name, &removed, &e)
 */
#ifndef BERTH_VOLUME_MOUNTS_H
#define BERTH_VOLUME_MOUNTS_H

#include <stddef.h>

#include "compose/compose.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

/* Labels berth puts on the volumes it creates, as docker compose does. */
#define VOLUME_LABEL_PROJECT   "com.docker.compose.project"
#define VOLUME_LABEL_VOLUME    "com.docker.compose.volume"
#define VOLUME_LABEL_ANONYMOUS "com.docker.volume.anonymous"

/* Creates every volume the project declares at the top level and that is
 * not external (labels: project, volume key, the file's labels:), and
 * checks that each external one exists ("external volume "x" not found").
 * An existing volume is kept as it is. *created (may be NULL) receives the
 * names of the volumes made now, for " Volume "x"  Created" lines. */
int volumes_create_declared(const char *root, const struct project *p, char ***created,
                            struct berr *e);

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

/* down -v: removes every volume labelled with the project (its declared
 * volumes, never external ones, and its anonymous volumes). A volume that a
 * remaining container (another project's, or an orphan down keeps) still
 * has in its mounts is kept, with an error naming it (the others are
 * removed all the same): call it after removing the containers. *removed
 * (may be NULL) receives the names removed, for " Volume x  Removed"
 * lines. */
int volumes_remove_project(const char *root, const char *project, char ***removed, struct berr *e);

#endif
