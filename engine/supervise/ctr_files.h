/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's files group at start (engine/supervise/ctr_files.c): the
 * mounts volumes_from names and the configs and secrets. What the
 * supervisor's start and an attached `run` call, around every start:
 *
 *       _cleanup_(ctr_files_release) char *dir = NULL;
 *       ctr_files_prepare(root, runroot, project, id, &plan, &set, &dir, &e);
 *       ... spec.mounts = set.specs ...; container_start(...);
 *       (dir released at the end of the scope, once the container runs)
 */
#ifndef BERTH_SUPERVISE_CTR_FILES_H
#define BERTH_SUPERVISE_CTR_FILES_H

#include "engine/runtime/ctrplan.h"
#include "engine/volume/mounts.h"
#include "util/err.h"

/* Appends to ms the mounts of the containers in plan->volumes_from (found
 * by name in the records of every project: an unknown one is an error
 * naming it), then a read-only bind of each config and secret, written
 * with its owner and mode to a tmpfs mounted at *dir (under
 * runroot/project; with userns_mode auto, owned by the IDs of container
 * id's range); *dir stays NULL when there is none. Nothing is left
 * mounted on failure. */
int ctr_files_prepare(const char *root, const char *runroot, const char *project, const char *id,
                      const struct ctr_plan *plan, struct mount_set *ms, char **dir,
                      struct berr *e);
/* Detaches the tmpfs (the started container keeps its binds) and removes
 * its mount point; NULL is nothing. */
void ctr_files_release(char **dir);

#endif
