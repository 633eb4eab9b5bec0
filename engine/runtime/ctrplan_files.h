/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's files and metadata group: configs and secrets to materialise
 * (struct plan_file), volumes_from, annotations; their JSON form in the
 * container record (written only when set, so a container made before
 * keeps its config). Part of ctrplan.h; see engine/supervise/ctr_files.h for
 * making the files. */
#ifndef BERTH_RUNTIME_CTRPLAN_FILES_H
#define BERTH_RUNTIME_CTRPLAN_FILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A config or a secret: a read-only file at target, made from the host
 * file source (read at every start, so a restart gives its current
 * content) or from content (the compose file's content:, or the
 * environment variable's value at up). */
struct plan_file {
    char *name; /* the config's or secret's key, for messages */
    bool secret;
    char *target;  /* absolute path in the container */
    char *source;  /* host path, or NULL */
    char *content; /* with no source */
    uint32_t uid, gid, mode;
};

struct ctr_plan;

void plan_files_to_json(const struct ctr_plan *c, json_t *j);
void plan_files_from_json(json_t *j, struct ctr_plan *out);
void plan_files_free(struct ctr_plan *c);

#endif
