/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's "shape" object (engine/runtime/ctrplan_shape.h). */
#include "engine/runtime/ctrplan_shape.h"

#include <string.h>

#include "engine/runtime/ctrplan.h"

void plan_shape_to_json(const struct net_shape *s, json_t *j)
{
    if (!net_shape_any(s))
        return;
    json_t *o = json_object();
    plan_json_put_int(o, "egress_bits", (int64_t)s->egress_bits);
    plan_json_put_int(o, "ingress_bits", (int64_t)s->ingress_bits);
    plan_json_put_int(o, "delay_us", (int64_t)s->delay_us);
    plan_json_put_int(o, "jitter_us", (int64_t)s->jitter_us);
    if (s->loss_pct > 0)
        json_object_set_new(o, "loss_pct", json_real(s->loss_pct));
    json_object_set_new(j, "shape", o);
}

static uint64_t nonneg(json_t *o, const char *k)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    return v > 0 ? (uint64_t)v : 0;
}

void plan_shape_from_json(json_t *j, struct net_shape *s)
{
    memset(s, 0, sizeof *s);
    json_t *o = json_object_get(j, "shape");
    if (!json_is_object(o))
        return;
    s->egress_bits = nonneg(o, "egress_bits");
    s->ingress_bits = nonneg(o, "ingress_bits");
    s->delay_us = nonneg(o, "delay_us");
    s->jitter_us = nonneg(o, "jitter_us");
    double loss = json_number_value(json_object_get(o, "loss_pct"));
    s->loss_pct = loss > 0 && loss <= 100 ? loss : 0;
}
