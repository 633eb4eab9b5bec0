/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests that plan a container from a compose
 * text (header-only; include it after cmocka.h, once per test program). */
#ifndef BERTH_TESTS_PLAN_TESTUTIL_H
#define BERTH_TESTS_PLAN_TESTUTIL_H

#include "compose_testutil.h"
#include "engine/plan/plan.h"

/* A loaded project and the plan of its service "web": r is what
 * plan_container returned (e its error), c the plan when r is 0. */
struct planned {
    struct ct_load l;
    struct image img;
    struct ctr_plan c;
    struct berr e;
    int r;
};

/* Loads yaml (with env, or NULL) and plans service "web" from an image
 * "x" whose command is /bin/true. */
static inline void plan_yaml(struct planned *p, const char *yaml, char **env)
{
    memset(p, 0, sizeof *p);
    if (ct_load(&p->l, yaml, env) != 0)
        fail_msg("%s: %s", yaml, p->l.e.msg);
    const struct service *s = project_service(p->l.p, "web");
    assert_non_null(s);
    static char *cmd[] = {"/bin/true", NULL};
    p->img.id = "sha256:aaaa";
    p->img.familiar = "x:latest";
    p->img.cmd = cmd;
    p->r = plan_container(p->l.p, s, &p->img, 1, "0123456789abcdef", &p->c, &p->e);
}

/* plan_yaml of a service "web" (image x) with body's lines ("    KEY: ..."). */
static inline void plan_of(struct planned *p, const char *body)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", body);
    plan_yaml(p, y, NULL);
}

static inline void planned_done(struct planned *p)
{
    if (p->r == 0)
        ctr_plan_free(&p->c);
    berr_clear(&p->e);
    ct_load_done(&p->l);
}

#endif
