/* SPDX-License-Identifier: Apache-2.0 */
/* The security part of a container's plan beyond capabilities (privileged,
 * seccomp profile, AppArmor, masked paths, group_add, OOM settings): its
 * JSON in the container record, and the runtime's struct container_sec
 * made from it. Each field is written only when it is not the default, so
 * containers made before keep their canonical config. */
#ifndef BERTH_RUNTIME_CTRPLAN_SEC_H
#define BERTH_RUNTIME_CTRPLAN_SEC_H

#include <jansson.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/runtime.h"

void plan_sec_to_json(const struct ctr_plan *c, json_t *j);
void plan_sec_from_json(json_t *j, struct ctr_plan *out);
void plan_sec_free(struct ctr_plan *c);
/* The runtime's view of the plan's settings (pointers into c). */
void plan_sec_spec(const struct ctr_plan *c, struct container_sec *out);

#endif
