/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's process limits, kernel settings and namespaces in the
 * container record's JSON, and back. Each is written only when it is not
 * the default, so that a container made before these keys existed keeps
 * its canonical config (and is not recreated). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/runtime.h"
#include "util/strv.h"
#include "util/xalloc.h"

void plan_procns_to_json(const struct ctr_plan *c, json_t *j)
{
    if (c->n_ulimits) {
        json_t *o = json_object();
        for (size_t i = 0; i < c->n_ulimits; i++) {
            const char *n = rlimit_name(c->ulimits[i].resource);
            if (n)
                json_object_set_new(o, n,
                                    json_pack("{s:I, s:I}", "soft", (json_int_t)c->ulimits[i].soft,
                                              "hard", (json_int_t)c->ulimits[i].hard));
        }
        json_object_set_new(j, "ulimits", o);
    }
    plan_json_put_strv(j, "sysctls", c->sysctls);
    if (c->pid_mode)
        json_object_set_new(j, "pid_mode", json_string(c->pid_mode));
    if (c->ipc_mode)
        json_object_set_new(j, "ipc_mode", json_string(c->ipc_mode));
    if (c->uts_host)
        json_object_set_new(j, "uts_host", json_true());
    if (c->cgroupns_host)
        json_object_set_new(j, "cgroupns_host", json_true());
    if (c->cgroup_parent)
        json_object_set_new(j, "cgroup_parent", json_string(c->cgroup_parent));
}

int plan_procns_from_json(json_t *j, struct ctr_plan *out, struct berr *e)
{
    json_t *u = json_object_get(j, "ulimits");
    if (json_is_object(u)) {
        out->ulimits = xcalloc(json_object_size(u) + 1, sizeof *out->ulimits);
        const char *k;
        json_t *v;
        json_object_foreach(u, k, v)
        {
            int res = rlimit_by_name(k);
            if (res < 0 || !json_is_object(v))
                return berr_set(e, -EINVAL, "invalid container plan: ulimit \"%s\"", k);
            out->ulimits[out->n_ulimits++] = (struct ulimit){
                .resource = res,
                .soft = json_integer_value(json_object_get(v, "soft")),
                .hard = json_integer_value(json_object_get(v, "hard")),
            };
        }
    }
    out->sysctls = plan_json_get_strv(j, "sysctls");
    out->pid_mode = plan_json_str(j, "pid_mode");
    out->ipc_mode = plan_json_str(j, "ipc_mode");
    out->uts_host = json_is_true(json_object_get(j, "uts_host"));
    out->cgroupns_host = json_is_true(json_object_get(j, "cgroupns_host"));
    out->cgroup_parent = plan_json_str(j, "cgroup_parent");
    return 0;
}

void plan_procns_free(struct ctr_plan *c)
{
    free(c->ulimits);
    c->ulimits = NULL;
    c->n_ulimits = 0;
    strv_free(c->sysctls);
    c->sysctls = NULL;
    free(c->pid_mode);
    free(c->ipc_mode);
    free(c->cgroup_parent);
    c->pid_mode = c->ipc_mode = c->cgroup_parent = NULL;
}

/* "container:NAME" joined through find, into *mode and *fd. */
static int join_mode(const char *key, const char *v, enum ns_mode *mode, int *fd,
                     plan_find_ctr_fn find, void *ctx, struct berr *e)
{
    if (strncmp(v, "container:", 10) != 0)
        return berr_set(e, -EINVAL, "%s: invalid mode \"%s\"", key, v);
    int r = find(ctx, v + 10, fd, e);
    if (r < 0)
        return berr_wrap(e, "%s %s", key, v);
    *mode = NS_JOIN;
    return 0;
}

int plan_procns_spec(const struct ctr_plan *c, struct container_spec *spec, plan_find_ctr_fn find,
                     void *ctx, struct berr *e)
{
    spec->ulimits = c->ulimits;
    spec->n_ulimits = c->n_ulimits;
    spec->sysctls = c->sysctls;
    spec->pid_ns = spec->ipc_ns = NS_PRIVATE;
    spec->pid_join_pidfd = spec->ipc_join_pidfd = -1;
    spec->uts_ns = c->uts_host ? NS_HOST : NS_PRIVATE;
    spec->cgroup_ns = c->cgroupns_host ? NS_HOST : NS_PRIVATE;
    int r = 0;
    if (c->pid_mode && strcmp(c->pid_mode, "host") == 0)
        spec->pid_ns = NS_HOST;
    else if (c->pid_mode)
        r = join_mode("pid", c->pid_mode, &spec->pid_ns, &spec->pid_join_pidfd, find, ctx, e);
    const char *ipc = c->ipc_mode; /* NULL or "shareable": a private one */
    if (r == 0 && ipc && strcmp(ipc, "host") == 0)
        spec->ipc_ns = NS_HOST;
    else if (r == 0 && ipc && strcmp(ipc, "none") == 0)
        spec->ipc_ns = NS_NONE;
    else if (r == 0 && ipc && strcmp(ipc, "shareable") != 0)
        r = join_mode("ipc", ipc, &spec->ipc_ns, &spec->ipc_join_pidfd, find, ctx, e);
    if (r < 0)
        plan_procns_spec_release(spec);
    return r;
}

void plan_procns_spec_release(struct container_spec *spec)
{
    int *fds[] = {&spec->pid_join_pidfd, &spec->ipc_join_pidfd};
    for (size_t i = 0; i < 2; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}
