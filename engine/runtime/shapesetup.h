/* SPDX-License-Identifier: Apache-2.0 */
/* A container's network shaping (x-berth-network) from its plan, on each
 * of its links: for the supervisor when it makes the links, and for `up`
 * when the values change on a running container. Not here: the tc work
 * (net/shape.h). */
#ifndef BERTH_RUNTIME_SHAPESETUP_H
#define BERTH_RUNTIME_SHAPESETUP_H

#include "engine/runtime/ctrplan.h"
#include "util/err.h"

/* Applies pl->shape to each endpoint's veth of the container ctr_id whose
 * network namespace is nsfd (a shape asking for nothing removes what was
 * set). On failure nothing of it is left and e names the service and the
 * key. A plan without endpoints: nothing to do. */
int shapesetup_apply(const struct ctr_plan *pl, const char *ctr_id, int nsfd, struct berr *e);

#endif
