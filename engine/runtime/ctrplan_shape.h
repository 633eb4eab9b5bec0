/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's network shaping (x-berth-network) in its JSON form: an
 * object "shape" written only when the plan shapes anything, so that a
 * record made before keeps its form. */
#ifndef BERTH_RUNTIME_CTRPLAN_SHAPE_H
#define BERTH_RUNTIME_CTRPLAN_SHAPE_H

#include <jansson.h>

#include "net/shape.h"

/* Adds "shape" to the plan object j when s asks for anything. */
void plan_shape_to_json(const struct net_shape *s, json_t *j);
/* Reads "shape" from the plan object j (absent or malformed: none). */
void plan_shape_from_json(json_t *j, struct net_shape *s);

#endif
