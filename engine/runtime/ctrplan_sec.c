/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's security settings beyond capabilities: to JSON and back, and
 * to the runtime's struct container_sec. Not here: making them from a
 * service (engine/plan/plan_sec.c). */
#include "engine/runtime/ctrplan_sec.h"

#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

static char *get_str(json_t *j, const char *k)
{
    const char *v = json_string_value(json_object_get(j, k));
    return v ? xstrdup(v) : NULL;
}

void plan_sec_to_json(const struct ctr_plan *c, json_t *j)
{
    if (c->privileged)
        json_object_set_new(j, "privileged", json_true());
    if (c->seccomp)
        json_object_set_new(j, "seccomp", json_string(c->seccomp));
    if (c->seccomp_source)
        json_object_set_new(j, "seccomp_source", json_string(c->seccomp_source));
    if (c->apparmor)
        json_object_set_new(j, "apparmor", json_string(c->apparmor));
    if (c->systempaths_unconfined)
        json_object_set_new(j, "systempaths_unconfined", json_true());
    plan_json_put_strv(j, "mask", c->mask);
    plan_json_put_strv(j, "unmask", c->unmask);
    plan_json_put_strv(j, "group_add", c->group_add);
    if (c->oom_score_adj_set)
        json_object_set_new(j, "oom_score_adj", json_integer(c->oom_score_adj));
    if (c->oom_kill_disable)
        json_object_set_new(j, "oom_kill_disable", json_true());
}

void plan_sec_from_json(json_t *j, struct ctr_plan *out)
{
    out->privileged = json_is_true(json_object_get(j, "privileged"));
    out->seccomp = get_str(j, "seccomp");
    out->seccomp_source = get_str(j, "seccomp_source");
    out->apparmor = get_str(j, "apparmor");
    out->systempaths_unconfined = json_is_true(json_object_get(j, "systempaths_unconfined"));
    out->mask = plan_json_get_strv(j, "mask");
    out->unmask = plan_json_get_strv(j, "unmask");
    out->group_add = plan_json_get_strv(j, "group_add");
    json_t *oom = json_object_get(j, "oom_score_adj");
    out->oom_score_adj_set = json_is_integer(oom);
    out->oom_score_adj = (int)json_integer_value(oom);
    out->oom_kill_disable = json_is_true(json_object_get(j, "oom_kill_disable"));
}

void plan_sec_free(struct ctr_plan *c)
{
    free(c->seccomp);
    free(c->seccomp_source);
    free(c->apparmor);
    strv_free(c->mask);
    strv_free(c->unmask);
    strv_free(c->group_add);
}

void plan_sec_spec(const struct ctr_plan *c, struct container_sec *out)
{
    *out = (struct container_sec){
        .privileged = c->privileged,
        .seccomp = c->seccomp,
        .seccomp_source = c->seccomp_source,
        .apparmor = c->apparmor,
        .systempaths_unconfined = c->systempaths_unconfined,
        .mask = c->mask,
        .unmask = c->unmask,
        .group_add = c->group_add,
        .oom_score_adj = c->oom_score_adj,
        .oom_score_adj_set = c->oom_score_adj_set,
        .oom_kill_disable = c->oom_kill_disable,
    };
}
