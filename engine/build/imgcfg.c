/* SPDX-License-Identifier: Apache-2.0 */
/* The image config a stage makes, as docker's builder fills it: the
 * instructions that change only the config (CMD ENTRYPOINT ENV LABEL
 * EXPOSE USER WORKDIR VOLUME HEALTHCHECK STOPSIGNAL SHELL ONBUILD
 * MAINTAINER), the history (one entry per instruction, empty_layer for
 * those that add no layer) and rootfs.diff_ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/builder_int.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/units.h"
#include "util/xalloc.h"

json_t *imgcfg_scratch(const struct platform *p)
{
    json_t *c = json_pack("{s:s, s:s}", "architecture", p->arch, "os", p->os[0] ? p->os : "linux");
    if (p->variant[0])
        json_object_set_new(c, "variant", json_string(p->variant));
    json_object_set_new(c, "config", json_object());
    json_object_set_new(c, "rootfs", json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));
    json_object_set_new(c, "history", json_array());
    return c;
}

json_t *imgcfg_conf(json_t *config)
{
    json_t *c = json_object_get(config, "config");
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(config, "config", c);
    }
    return c;
}

static json_t *strv_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static char **json_strv(json_t *a)
{
    char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
    size_t n = 0, i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (json_is_string(x))
            v[n++] = xstrdup(json_string_value(x));
    }
    return v;
}

char **imgcfg_shell(json_t *config)
{
    json_t *sh = json_object_get(imgcfg_conf(config), "Shell");
    if (json_is_array(sh) && json_array_size(sh) > 0)
        return json_strv(sh);
    char **v = NULL;
    strv_push(&v, xstrdup("/bin/sh"));
    strv_push(&v, xstrdup("-c"));
    return v;
}

char **imgcfg_command(json_t *config, const struct df_instr *in)
{
    if (in->json)
        return strv_dup(in->args);
    char **v = imgcfg_shell(config);
    strv_push(&v, xstrdup(in->args && in->args[0] ? in->args[0] : ""));
    return v;
}

const char *imgcfg_workdir(json_t *config)
{
    const char *w = json_string_value(json_object_get(imgcfg_conf(config), "WorkingDir"));
    return w && *w ? w : "/";
}

const char *imgcfg_user(json_t *config)
{
    const char *u = json_string_value(json_object_get(imgcfg_conf(config), "User"));
    return u && *u ? u : NULL;
}

char **imgcfg_env(json_t *config)
{
    json_t *env = json_object_get(imgcfg_conf(config), "Env");
    return json_is_array(env) ? json_strv(env) : xcalloc(1, sizeof(char *));
}

static void env_set(json_t *conf, const char *k, const char *v)
{
    json_t *env = json_object_get(conf, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(conf, "Env", env);
    }
    char *entry = xasprintf("%s=%s", k, v ? v : "");
    size_t kl = strlen(k), i;
    json_t *x;
    json_array_foreach(env, i, x)
    {
        const char *s = json_string_value(x);
        if (s && strncmp(s, k, kl) == 0 && s[kl] == '=') {
            json_array_set_new(env, i, json_string(entry));
            free(entry);
            return;
        }
    }
    json_array_append_new(env, json_string(entry));
    free(entry);
}

static json_t *obj_of(json_t *conf, const char *k)
{
    json_t *o = json_object_get(conf, k);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(conf, k, o);
    }
    return o;
}

/* "80" -> 80/tcp; "8000-8002/udp" -> each port. */
static int expose(json_t *conf, const char *spec, struct berr *e)
{
    json_t *ports = obj_of(conf, "ExposedPorts");
    char proto[16] = "tcp";
    const char *slash = strchr(spec, '/');
    size_t nl = slash ? (size_t)(slash - spec) : strlen(spec);
    if (slash) {
        snprintf(proto, sizeof proto, "%s", slash + 1);
        for (char *p = proto; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    char num[32];
    if (nl == 0 || nl >= sizeof num)
        return berr_set(e, -EINVAL, "invalid port \"%s\"", spec);
    memcpy(num, spec, nl);
    num[nl] = '\0';
    char *end;
    unsigned long lo = strtoul(num, &end, 10), hi = lo;
    if (*end == '-')
        hi = strtoul(end + 1, &end, 10);
    if (*end || lo == 0 || hi < lo || hi > 65535)
        return berr_set(e, -EINVAL, "invalid port \"%s\"", spec);
    for (unsigned long p = lo; p <= hi; p++) {
        char k[48];
        snprintf(k, sizeof k, "%lu/%s", p, proto);
        json_object_set_new(ports, k, json_object());
    }
    return 0;
}

static int health(json_t *conf, const struct df_instr *in, struct berr *e)
{
    json_t *h = json_object();
    if (in->healthcheck_none) {
        json_object_set_new(h, "Test", json_pack("[s]", "NONE"));
        json_object_set_new(conf, "Healthcheck", h);
        return 0;
    }
    json_t *test = json_array();
    if (in->json) {
        json_array_append_new(test, json_string("CMD"));
        for (size_t i = 0; in->args && in->args[i]; i++)
            json_array_append_new(test, json_string(in->args[i]));
    } else {
        json_array_append_new(test, json_string("CMD-SHELL"));
        json_array_append_new(test, json_string(in->args && in->args[0] ? in->args[0] : ""));
    }
    json_object_set_new(h, "Test", test);
    static const struct {
        const char *flag, *key;
    } durs[] = {{"interval", "Interval"},
                {"timeout", "Timeout"},
                {"start-period", "StartPeriod"},
                {"start-interval", "StartInterval"}};
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        const char *v = df_flag(in, durs[i].flag);
        int64_t ns;
        if (!v)
            continue;
        if (duration_parse(v, 0, &ns) < 0 || ns < 0) {
            json_decref(h);
            return berr_set(e, -EINVAL, "invalid --%s duration \"%s\"", durs[i].flag, v);
        }
        json_object_set_new(h, durs[i].key, json_integer(ns));
    }
    const char *r = df_flag(in, "retries");
    if (r)
        json_object_set_new(h, "Retries", json_integer(strtol(r, NULL, 10)));
    json_object_set_new(conf, "Healthcheck", h);
    return 0;
}

int imgcfg_apply(struct bstage *st, const struct df_instr *in, struct berr *e)
{
    json_t *conf = imgcfg_conf(st->config);
    switch (in->kind) {
    case DF_CMD: {
        char **v = imgcfg_command(st->config, in);
        json_object_set_new(conf, "Cmd", strv_json(v));
        strv_free(v);
        st->cmd_set = true;
        return 0;
    }
    case DF_ENTRYPOINT: {
        char **v = imgcfg_command(st->config, in);
        json_object_set_new(conf, "Entrypoint", strv_json(v));
        strv_free(v);
        if (!st->cmd_set) /* docker: the base image's CMD goes */
            json_object_set_new(conf, "Cmd", json_null());
        return 0;
    }
    case DF_ENV:
        for (size_t i = 0; i < in->n_kvs; i++)
            env_set(conf, in->kvs[i].key, in->kvs[i].value);
        return 0;
    case DF_LABEL: {
        json_t *l = obj_of(conf, "Labels");
        for (size_t i = 0; i < in->n_kvs; i++)
            json_object_set_new(l, in->kvs[i].key,
                                json_string(in->kvs[i].value ? in->kvs[i].value : ""));
        return 0;
    }
    case DF_EXPOSE:
        for (size_t i = 0; in->args && in->args[i]; i++)
            if (expose(conf, in->args[i], e) < 0)
                return -EINVAL;
        return 0;
    case DF_USER:
        json_object_set_new(conf, "User", json_string(in->args[0]));
        return 0;
    case DF_WORKDIR: {
        const char *w = in->args[0];
        char *joined = w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", imgcfg_workdir(st->config), w);
        char *norm = path_normalize_dup(joined);
        free(joined);
        json_object_set_new(conf, "WorkingDir", json_string(norm));
        free(norm);
        return 0;
    }
    case DF_VOLUME: {
        json_t *v = obj_of(conf, "Volumes");
        for (size_t i = 0; in->args && in->args[i]; i++)
            json_object_set_new(v, in->args[i], json_object());
        return 0;
    }
    case DF_HEALTHCHECK:
        return health(conf, in, e);
    case DF_STOPSIGNAL:
        json_object_set_new(conf, "StopSignal", json_string(in->args[0]));
        return 0;
    case DF_SHELL:
        json_object_set_new(conf, "Shell", strv_json(in->args));
        return 0;
    case DF_ONBUILD: {
        json_t *ob = json_object_get(conf, "OnBuild");
        if (!json_is_array(ob)) {
            ob = json_array();
            json_object_set_new(conf, "OnBuild", ob);
        }
        json_array_append_new(ob,
                              json_string(in->onbuild && in->onbuild->raw ? in->onbuild->raw : ""));
        return 0;
    }
    case DF_MAINTAINER:
        json_object_set_new(st->config, "author", json_string(in->args[0] ? in->args[0] : ""));
        return 0;
    default:
        return 0;
    }
}

void imgcfg_history(struct bstage *st, const struct df_instr *in, bool empty_layer)
{
    json_t *h = json_object_get(st->config, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(st->config, "history", h);
    }
    char ts[TIME_RFC3339_MAX];
    char *by;
    if (in->kind == DF_RUN) {
        char **cmd = imgcfg_command(st->config, in);
        char *j = strv_join(cmd, " ");
        by = xasprintf("RUN %s # buildkit", j);
        free(j);
        strv_free(cmd);
    } else if (in->kind == DF_COPY || in->kind == DF_ADD) {
        by = xasprintf("%s # buildkit", in->raw ? in->raw : df_kind_name(in->kind));
    } else {
        by = xstrdup(in->raw ? in->raw : df_kind_name(in->kind));
    }
    json_t *ent = json_pack("{s:s, s:s}", "created_by", by, "comment", "buildkit.dockerfile.v0");
    free(by);
    if (st->created_ns > 0)
        json_object_set_new(ent, "created", json_string(time_rfc3339(st->created_ns, 9, ts)));
    else if (st->base_created)
        json_object_set_new(ent, "created", json_string(st->base_created));
    if (empty_layer)
        json_object_set_new(ent, "empty_layer", json_true());
    json_array_append_new(h, ent);
}

void imgcfg_add_layer(struct bstage *st, const struct image_layer_ref *l)
{
    st->layers = xreallocarray(st->layers, st->n_layers + 1, sizeof *st->layers);
    st->layers[st->n_layers++] = *l;
    json_t *rootfs = json_object_get(st->config, "rootfs");
    if (!json_is_object(rootfs)) {
        rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
        json_object_set_new(st->config, "rootfs", rootfs);
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        ids = json_array();
        json_object_set_new(rootfs, "diff_ids", ids);
    }
    json_array_append_new(ids, json_string(l->diff_id));
}
