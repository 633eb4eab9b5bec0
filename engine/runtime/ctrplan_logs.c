/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's logging, hook and attach fields in the container record's
 * JSON, and back. Each is written only when it is not the default, so the
 * containers made before these keys keep their config text (and are not
 * recreated). */
#include <stdlib.h>

#include "engine/runtime/ctrplan.h"
#include "util/strv.h"
#include "util/xalloc.h"

static json_t *hooks_json(const struct plan_hook *h, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "argv", plan_json_strv(h[i].argv));
        if (h[i].user)
            json_object_set_new(o, "user", json_string(h[i].user));
        if (h[i].cwd)
            json_object_set_new(o, "cwd", json_string(h[i].cwd));
        if (h[i].env) /* [] too: environment given, empty */
            json_object_set_new(o, "env", plan_json_strv(h[i].env));
        if (h[i].privileged)
            json_object_set_new(o, "privileged", json_true());
        json_array_append_new(a, o);
    }
    return a;
}

static void hooks_from(json_t *a, struct plan_hook **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return;
    *out = xcalloc(json_array_size(a), sizeof **out);
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o)
    {
        char **argv = plan_json_get_strv(o, "argv");
        if (!argv || !argv[0]) { /* not a hook berth wrote */
            strv_free(argv);
            continue;
        }
        struct plan_hook *h = &(*out)[(*n)++];
        h->argv = argv;
        h->user = plan_json_str(o, "user");
        h->cwd = plan_json_str(o, "cwd");
        json_t *env = json_object_get(o, "env");
        h->env = json_is_array(env) ? plan_json_strv_of(env) : NULL;
        h->privileged = json_is_true(json_object_get(o, "privileged"));
    }
}

void plan_logs_to_json(const struct ctr_plan *c, json_t *j)
{
    const struct plan_logging *l = &c->logging;
    if (l->driver || l->max_size || l->max_file || l->compress || l->tag) {
        json_t *o = json_object();
        if (l->driver)
            json_object_set_new(o, "driver", json_string(l->driver));
        plan_json_put_int(o, "max_size", l->max_size);
        plan_json_put_int(o, "max_file", l->max_file);
        plan_json_put_int(o, "compress", l->compress);
        if (l->tag)
            json_object_set_new(o, "tag", json_string(l->tag));
        json_object_set_new(j, "logging", o);
    }
    if (c->n_post_start)
        json_object_set_new(j, "post_start", hooks_json(c->post_start, c->n_post_start));
    if (c->n_pre_stop)
        json_object_set_new(j, "pre_stop", hooks_json(c->pre_stop, c->n_pre_stop));
    if (c->no_attach)
        json_object_set_new(j, "no_attach", json_true());
}

void plan_logs_from_json(json_t *j, struct ctr_plan *out)
{
    json_t *o = json_object_get(j, "logging");
    if (json_is_object(o)) {
        struct plan_logging *l = &out->logging;
        l->driver = plan_json_str(o, "driver");
        l->max_size = json_integer_value(json_object_get(o, "max_size"));
        l->max_file = (int)json_integer_value(json_object_get(o, "max_file"));
        l->compress = (int)json_integer_value(json_object_get(o, "compress"));
        l->tag = plan_json_str(o, "tag");
    }
    hooks_from(json_object_get(j, "post_start"), &out->post_start, &out->n_post_start);
    hooks_from(json_object_get(j, "pre_stop"), &out->pre_stop, &out->n_pre_stop);
    out->no_attach = json_is_true(json_object_get(j, "no_attach"));
}

static void hooks_free(struct plan_hook *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        strv_free(h[i].argv);
        free(h[i].user);
        free(h[i].cwd);
        strv_free(h[i].env);
    }
    free(h);
}

void plan_logs_free(struct ctr_plan *c)
{
    free(c->logging.driver);
    free(c->logging.tag);
    hooks_free(c->post_start, c->n_post_start);
    hooks_free(c->pre_stop, c->n_pre_stop);
}
