/* SPDX-License-Identifier: Apache-2.0 */
/* The typed model of the keys the runtime works from: mounts (volumes and
 * tmpfs), depends_on, healthcheck, restart, deploy, and the top-level
 * volumes, with the cross-checks between them.
 * Not here: the other service keys and the value helpers (compose/model.c),
 * the short-syntax parsers (compose/syntax.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model.h"
#include "compose/model_files.h"
#include "compose/model_internal.h"
#include "compose/path.h"
#include "compose/strvec.h"
#include "compose/syntax.h"
#include "compose/units.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool key_is(const struct ynode *k, const char *name)
{
    return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

/* --- Mounts --------------------------------------------------------------- */

static struct svc_mount *new_mount(struct service *s, enum mount_type type, const struct model *m,
                                   const struct ynode *at)
{
    s->mounts = xreallocarray(s->mounts, s->n_mounts + 1, sizeof *s->mounts);
    struct svc_mount *mt = &s->mounts[s->n_mounts++];
    *mt = (struct svc_mount){.type = type, .pos = pos_of(m, at)};
    return mt;
}

/* Mounts are always attached private (no mount events cross between host
 * and container); another propagation mode is said, not dropped silently. */
static void warn_propagation(struct model *m, const struct service *s, const struct ynode *at,
                             const char *mode)
{
    if (mode && strcmp(mode, "private") != 0 && strcmp(mode, "rprivate") != 0)
        diag_unsupported_at(
            m->d, YPOS(at),
            "service %s: volumes: propagation %s is not supported yet; the mount is "
            "private",
            QS(s->name), mode);
}

/* A bind source as docker compose resolves it: "~" is $HOME, a relative
 * path is relative to the project directory. */
static char *bind_source(struct model *m, const struct service *s, const struct ynode *at,
                         const char *src)
{
    if (src[0] == '~' && (src[1] == '/' || src[1] == '\0')) {
        if (!m->home || m->home[0] != '/') {
            svc_error(m, s, at, "volumes", "%s: \"~\" needs HOME to be set to an absolute path",
                      QS(src));
            return NULL;
        }
        return path_absolute(m->home, src[1] ? src + 2 : ".");
    }
    return path_absolute(m->p->working_dir ? m->p->working_dir : "/", src);
}

static bool abs_target(struct model *m, const struct service *s, const struct ynode *at,
                       const char *key, const char *t)
{
    if (t[0] == '/')
        return true;
    svc_error(m, s, at, key, "target %s must be an absolute path in the container", QS(t));
    return false;
}

static void volume_short(struct model *m, struct service *s, const struct ynode *it)
{
    const char *str = want_string(m, s, "volumes", it);
    if (!str)
        return;
    struct volume_spec vs;
    const char *err;
    if (volume_spec_parse(str, &vs, &err) < 0) {
        svc_error(m, s, it, "volumes", "invalid volume %s: %s", QN(it), err);
        return;
    }
    if (!abs_target(m, s, it, "volumes", vs.target)) {
        volume_spec_free(&vs);
        return;
    }
    bool bind = strcmp(vs.type, "bind") == 0;
    char *src = NULL;
    if (bind && !(src = bind_source(m, s, it, vs.source))) {
        volume_spec_free(&vs);
        return;
    }
    struct svc_mount *mt = new_mount(s, bind ? MOUNT_BIND : MOUNT_VOLUME, m, it);
    mt->source = bind ? src : TAKE_PTR(vs.source);
    mt->target = path_normalize_dup(vs.target);
    mt->read_only = vs.read_only;
    mt->create_host_path = bind;
    warn_propagation(m, s, it, vs.propagation);
    mt->propagation = TAKE_PTR(vs.propagation);
    mt->nocopy = vs.nocopy;
    volume_spec_free(&vs);
}

static int tmpfs_options(struct model *m, const struct service *s, const struct ynode *at,
                         const char *key, const struct ynode *size, const struct ynode *mode,
                         struct svc_mount *mt)
{
    if (size && !ynode_is_null(size) && want_size(m, s, key, size, &mt->tmpfs_size) < 0)
        return -EINVAL;
    if (mode && !ynode_is_null(mode)) {
        int64_t v;
        if (want_int(m, s, key, mode, 0, &v) < 0)
            return -EINVAL;
        if (v > 07777) {
            svc_error(m, s, mode, key, "invalid mode %s (use an octal mode such as 1777)",
                      QN(mode));
            return -EINVAL;
        }
        mt->tmpfs_mode = (uint32_t)v;
    }
    (void)at;
    return 0;
}

static void volume_long(struct model *m, struct service *s, const struct ynode *it)
{
    const struct ynode *type = ymap_get(it, "type"), *src = ymap_get(it, "source"),
                       *tgt = ymap_get(it, "target");
    const char *tstr = type ? want_string(m, s, "volumes", type) : NULL;
    if (!type) {
        svc_error(m, s, it, "volumes", "type is required (bind, volume or tmpfs)");
        return;
    }
    if (!tstr)
        return;
    enum mount_type mtype;
    if (strcmp(tstr, "bind") == 0)
        mtype = MOUNT_BIND;
    else if (strcmp(tstr, "volume") == 0)
        mtype = MOUNT_VOLUME;
    else if (strcmp(tstr, "tmpfs") == 0)
        mtype = MOUNT_TMPFS;
    else if (strcmp(tstr, "image") == 0) {
        /* An image's file system mounted: valid, not run yet. */
        if (type->line > 0)
            diag_unsupported_at(
                m->d, YPOS(type),
                "service %s: volumes: type %s is not supported yet; this mount is left "
                "out",
                QS(s->name), QN(type));
        return;
    } else {
        svc_error(m, s, type, "volumes",
                  "unsupported volume type %s (use bind, volume, tmpfs or image)", QN(type));
        return;
    }
    if (!tgt || ynode_is_null(tgt)) {
        svc_error(m, s, it, "volumes", "target is required");
        return;
    }
    const char *target = want_string(m, s, "volumes", tgt);
    if (!target || !abs_target(m, s, tgt, "volumes", target))
        return;
    const char *source = NULL;
    if (src && !ynode_is_null(src) && !(source = want_string(m, s, "volumes", src)))
        return;
    if (source && !*source)
        source = NULL;
    if (mtype == MOUNT_BIND && !source) {
        svc_error(m, s, it, "volumes", "a bind mount needs a source");
        return;
    }
    if (mtype == MOUNT_TMPFS && source) {
        svc_error(m, s, src, "volumes", "a tmpfs mount takes no source");
        return;
    }
    bool ro = false;
    const struct ynode *ron = ymap_get(it, "read_only");
    if (ron && want_bool(m, s, "volumes", ron, &ro) < 0)
        return;
    char *resolved = NULL;
    if (mtype == MOUNT_BIND && !(resolved = bind_source(m, s, src, source)))
        return;
    struct svc_mount mt = {.type = mtype, .pos = pos_of(m, it), .read_only = ro};
    const struct ynode *bind = ymap_get(it, "bind"), *vol = ymap_get(it, "volume"),
                       *tmp = ymap_get(it, "tmpfs");
    int r = 0;
    if (bind && bind->kind == YNODE_MAP && mtype == MOUNT_BIND) {
        mt.create_host_path = true;
        const struct ynode *chp = ymap_get(bind, "create_host_path"),
                           *prop = ymap_get(bind, "propagation");
        if (chp)
            r |= want_bool(m, s, "volumes", chp, &mt.create_host_path);
        if (prop && !ynode_is_null(prop)) {
            const char *ps = want_string(m, s, "volumes", prop);
            if (!ps)
                r = -EINVAL;
            else if (!is_propagation_mode(ps)) {
                svc_error(m, s, prop, "volumes",
                          "invalid propagation %s (use private, rprivate, shared, rshared, slave "
                          "or rslave)",
                          QN(prop));
                r = -EINVAL;
            } else {
                warn_propagation(m, s, prop, ps);
                mt.propagation = xstrdup(ps);
            }
        }
    }
    if (vol && vol->kind == YNODE_MAP && mtype == MOUNT_VOLUME) {
        const struct ynode *nc = ymap_get(vol, "nocopy");
        if (nc)
            r |= want_bool(m, s, "volumes", nc, &mt.nocopy);
    }
    if (tmp && tmp->kind == YNODE_MAP && mtype == MOUNT_TMPFS)
        r |= tmpfs_options(m, s, tmp, "volumes", ymap_get(tmp, "size"), ymap_get(tmp, "mode"), &mt);
    if (r) {
        free(resolved);
        free(mt.propagation);
        return;
    }
    struct svc_mount *dst = new_mount(s, mtype, m, it);
    *dst = mt;
    dst->source = mtype == MOUNT_BIND ? resolved : source ? xstrdup(source) : NULL;
    dst->target = path_normalize_dup(target);
}

void key_volumes(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, "volumes", "expected a list, got %s", ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        if (it->kind == YNODE_MAP)
            volume_long(m, s, it);
        else
            volume_short(m, s, it);
    }
}

/* "/run" or "/run:size=64m,mode=1777" (docker's --tmpfs form). */
static void tmpfs_one(struct model *m, struct service *s, const struct ynode *it)
{
    const char *str = want_string(m, s, "tmpfs", it);
    if (!str)
        return;
    const char *colon = strchr(str, ':');
    _cleanup_free_ char *target = colon ? xstrndup(str, (size_t)(colon - str)) : xstrdup(str);
    if (!abs_target(m, s, it, "tmpfs", target))
        return;
    struct svc_mount mt = {.type = MOUNT_TMPFS, .pos = pos_of(m, it)};
    if (colon) {
        _cleanup_free_ char *opts = xstrdup(colon + 1);
        char *save = NULL;
        for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (strncmp(o, "size=", 5) == 0) {
                if (parse_size(o + 5, &mt.tmpfs_size) < 0) {
                    svc_error(m, s, it, "tmpfs", "invalid size in %s", QN(it));
                    return;
                }
            } else if (strncmp(o, "mode=", 5) == 0) {
                char *end;
                unsigned long mode = strtoul(o + 5, &end, 8);
                if (!o[5] || *end || mode > 07777) {
                    svc_error(m, s, it, "tmpfs", "invalid mode in %s", QN(it));
                    return;
                }
                mt.tmpfs_mode = (uint32_t)mode;
            } else if (strcmp(o, "ro") == 0) {
                mt.read_only = true;
            } else if (strcmp(o, "rw") != 0 && strcmp(o, "noexec") != 0 &&
                       strcmp(o, "nosuid") != 0 && strcmp(o, "nodev") != 0 &&
                       strcmp(o, "exec") != 0) {
                svc_error(m, s, it, "tmpfs",
                          "unknown option %s in %s (use size=, mode=, ro, rw, exec, noexec, "
                          "nosuid, nodev)",
                          QS(o), QN(it));
                return;
            }
        }
    }
    struct svc_mount *dst = new_mount(s, MOUNT_TMPFS, m, it);
    *dst = mt;
    dst->target = path_normalize_dup(target);
}

void key_tmpfs(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind == YNODE_SCALAR) {
        tmpfs_one(m, s, v);
        return;
    }
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, "tmpfs", "expected a path or a list of paths, got %s",
                  ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_items; i++)
        tmpfs_one(m, s, v->items[i]);
}

/* --- depends_on ----------------------------------------------------------- */

static void add_depend(struct model *m, struct service *s, const struct ynode *name,
                       enum dep_condition cond, bool restart, bool required)
{
    for (size_t i = 0; i < s->n_depends; i++)
        if (strcmp(s->depends_on[i].service, name->str) == 0) {
            s->depends_on[i].condition = cond;
            s->depends_on[i].restart = restart;
            s->depends_on[i].required = required;
            return;
        }
    s->depends_on = xreallocarray(s->depends_on, s->n_depends + 1, sizeof *s->depends_on);
    s->depends_on[s->n_depends++] = (struct svc_depend){
        .service = xstrdup(name->str),
        .condition = cond,
        .restart = restart,
        .required = required,
        .pos = pos_of(m, name),
    };
}

static bool dep_name_ok(struct model *m, struct service *s, const struct ynode *n)
{
    if (n->kind != YNODE_SCALAR || ynode_is_null(n) || n->len == 0 || yscalar_has_nul(n) ||
        yscalar_type(n) == YTYPE_BOOL) {
        svc_error(m, s, n, "depends_on", "expected a service name, got %s", ynode_describe(n));
        return false;
    }
    return true;
}

void key_depends_on(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++)
            if (dep_name_ok(m, s, v->items[i]))
                add_depend(m, s, v->items[i], DEP_STARTED, false, true);
        return;
    }
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "depends_on", "expected a list or a mapping of services, got %s",
                  ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *name = v->pairs[i].key, *opt = v->pairs[i].value;
        if (!dep_name_ok(m, s, name))
            continue;
        enum dep_condition cond = DEP_STARTED;
        bool restart = false, required = true;
        if (!ynode_is_null(opt) && opt->kind != YNODE_MAP) {
            svc_error(m, s, opt, "depends_on", "%s: expected a mapping, got %s", name->str,
                      ynode_describe(opt));
            continue;
        }
        const struct ynode *c = ymap_get(opt, "condition"), *r = ymap_get(opt, "restart"),
                           *q = ymap_get(opt, "required");
        if (c && !ynode_is_null(c)) {
            const char *cs = want_string(m, s, "depends_on", c);
            if (!cs)
                continue;
            if (strcmp(cs, "service_started") == 0)
                cond = DEP_STARTED;
            else if (strcmp(cs, "service_healthy") == 0)
                cond = DEP_HEALTHY;
            else if (strcmp(cs, "service_completed_successfully") == 0)
                cond = DEP_COMPLETED;
            else {
                svc_error(m, s, c, "depends_on",
                          "%s: invalid condition %s (use service_started, service_healthy or "
                          "service_completed_successfully)",
                          name->str, QN(c));
                continue;
            }
        }
        if ((r && want_bool(m, s, "depends_on", r, &restart) < 0) ||
            (q && want_bool(m, s, "depends_on", q, &required) < 0))
            continue;
        add_depend(m, s, name, cond, restart, required);
    }
}

/* --- healthcheck ---------------------------------------------------------- */

void key_healthcheck(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "healthcheck", "expected a mapping, got %s", ynode_describe(v));
        return;
    }
    struct svc_healthcheck *h = &s->healthcheck;
    h->set = true;
    const struct ynode *test = ymap_get(v, "test"), *dis = ymap_get(v, "disable");
    static const struct {
        const char *key, *path;
        size_t off;
    } durs[] = {
        {"interval", "healthcheck.interval", offsetof(struct svc_healthcheck, interval_ns)},
        {"timeout", "healthcheck.timeout", offsetof(struct svc_healthcheck, timeout_ns)},
        {"start_period", "healthcheck.start_period",
         offsetof(struct svc_healthcheck, start_period_ns)},
        {"start_interval", "healthcheck.start_interval",
         offsetof(struct svc_healthcheck, start_interval_ns)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
        const struct ynode *d = ymap_get(v, durs[i].key);
        if (d && !ynode_is_null(d))
            want_duration(m, s, durs[i].path, d, (int64_t *)((char *)h + durs[i].off));
    }
    const struct ynode *ret = ymap_get(v, "retries");
    if (ret && !ynode_is_null(ret)) {
        int64_t n;
        if (want_int(m, s, "healthcheck.retries", ret, 0, &n) == 0)
            h->retries = n > 1000000 ? 1000000 : (int)n;
    }
    if (dis && !ynode_is_null(dis))
        want_bool(m, s, "healthcheck.disable", dis, &h->disable);
    if (!test || ynode_is_null(test))
        return;
    struct strvec sv = {0};
    if (test->kind == YNODE_SCALAR) {
        const char *cmd = want_string(m, s, "healthcheck.test", test);
        if (!cmd)
            return;
        strvec_push(&sv, xstrdup("CMD-SHELL"));
        strvec_push(&sv, xstrdup(cmd));
    } else {
        _cleanup_strv_ char **list = NULL;
        if (want_str_list(m, s, "healthcheck.test", test, false, &list) < 0)
            return;
        if (!list[0] ||
            (strcmp(list[0], "CMD") && strcmp(list[0], "CMD-SHELL") && strcmp(list[0], "NONE"))) {
            svc_error(m, s, test, "healthcheck.test",
                      "a list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
            return;
        }
        if (strcmp(list[0], "NONE") == 0)
            h->disable = true;
        sv.v = TAKE_PTR(list);
    }
    strv_free(h->test);
    h->test = sv.v;
}

/* --- restart and deploy --------------------------------------------------- */

void key_restart(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "restart", kv->value);
    if (!str)
        return;
    int64_t n;
    enum restart_policy pol;
    if (restart_spec_parse(str, &pol, &n) < 0) {
        svc_error(m, s, kv->value, "restart",
                  "invalid restart policy %s (use \"no\", always, on-failure, on-failure:N or "
                  "unless-stopped)",
                  QN(kv->value));
        return;
    }
    s->restart.policy = pol;
    s->restart.max_retries = (int)n;
}

static void deploy_restart_policy(struct model *m, struct service *s, const struct ynode *rp)
{
    if (ynode_is_null(rp))
        return;
    if (rp->kind != YNODE_MAP) {
        svc_error(m, s, rp, "deploy.restart_policy", "expected a mapping, got %s",
                  ynode_describe(rp));
        return;
    }
    const struct ynode *c = ymap_get(rp, "condition"), *d = ymap_get(rp, "delay"),
                       *ma = ymap_get(rp, "max_attempts"), *w = ymap_get(rp, "window");
    int64_t attempts = 0;
    if (d && !ynode_is_null(d))
        want_duration(m, s, "deploy.restart_policy.delay", d, &s->restart.delay_ns);
    if (w && !ynode_is_null(w))
        want_duration(m, s, "deploy.restart_policy.window", w, &s->restart.window_ns);
    if (ma && !ynode_is_null(ma))
        want_int(m, s, "deploy.restart_policy.max_attempts", ma, 0, &attempts);
    /* Outside a swarm, docker compose keeps only the condition and
     * max_attempts; restarts back off as Docker's do. */
    if (d && !ynode_is_null(d))
        diag_warn_at(m->d, YPOS(d),
                     "service %s: deploy.restart_policy.delay is ignored (restarts back off "
                     "from 100ms, as Docker's)",
                     QS(s->name));
    if (w && !ynode_is_null(w))
        diag_warn_at(m->d, YPOS(w), "service %s: deploy.restart_policy.window is ignored",
                     QS(s->name));
    const char *cs = "any"; /* the specification's default */
    if (c && !ynode_is_null(c))
        cs = want_string(m, s, "deploy.restart_policy.condition", c);
    if (!cs)
        return;
    enum restart_policy pol;
    if (strcmp(cs, "none") == 0)
        pol = RESTART_NO;
    else if (strcmp(cs, "on-failure") == 0)
        pol = RESTART_ON_FAILURE;
    else if (strcmp(cs, "any") == 0)
        pol = RESTART_ALWAYS;
    else {
        svc_error(m, s, c, "deploy.restart_policy.condition",
                  "invalid condition %s (use none, on-failure or any)", QN(c));
        return;
    }
    /* `restart:` wins over deploy.restart_policy, as in docker compose. */
    if (!ymap_get(m->body, "restart")) {
        s->restart.policy = pol;
        s->restart.max_retries = pol == RESTART_ON_FAILURE ? (int)attempts : 0;
    }
}

void key_deploy(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "deploy", "expected a mapping, got %s", ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (key_is(k, "replicas")) {
            int64_t n;
            if (ynode_is_null(val) || want_int(m, s, "deploy.replicas", val, 0, &n) < 0)
                continue;
            if (n > 10000) {
                svc_error(m, s, val, "deploy.replicas",
                          "%lld replicas is more than the limit of 10000", (long long)n);
                continue;
            }
            s->replicas = (int)n;
        } else if (key_is(k, "resources") && val->kind == YNODE_MAP) {
            deploy_resources(m, s, val);
        } else if (key_is(k, "restart_policy")) {
            deploy_restart_policy(m, s, val);
        } else if (k->len < 2 || memcmp(k->str, "x-", 2) != 0) {
            diag_unsupported_at(m->d, YPOS(k),
                                "service %s: deploy.%s is not supported yet; ignored", QS(s->name),
                                k->str);
        }
    }
}

/* --- Top-level volumes and cross-checks ------------------------------------ */

void top_error(struct model *m, const struct ynode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    diag_error_at(m->d, YPOS(at), "%s", msg);
}

const char *top_string(struct model *m, const char *what, const struct ynode *v)
{
    if (v->kind == YNODE_SCALAR && !ynode_is_null(v) && !yscalar_has_nul(v) &&
        yscalar_type(v) != YTYPE_BOOL)
        return v->str;
    top_error(m, v, "%s: expected a string, got %s", what, ynode_describe(v));
    return NULL;
}

void build_volume_defs(struct model *m, const struct ynode *volumes)
{
    struct project *p = m->p;
    if (volumes->kind != YNODE_MAP) {
        top_error(m, volumes, "volumes: expected a mapping of volume names, got %s",
                  ynode_describe(volumes));
        return;
    }
    p->volumes = xcalloc(volumes->n_pairs, sizeof *p->volumes);
    for (size_t i = 0; i < volumes->n_pairs; i++) {
        const struct ynode *k = volumes->pairs[i].key, *v = volumes->pairs[i].value;
        if (k->len >= 2 && memcmp(k->str, "x-", 2) == 0)
            continue;
        if (!ynode_is_null(v) && v->kind != YNODE_MAP) {
            top_error(m, v, "volume %s: expected a mapping, got %s", QN(k), ynode_describe(v));
            continue;
        }
        struct volume_def def = {.key = xstrdup(k->str), .pos = pos_of(m, k)};
        const char *name = NULL, *driver = NULL;
        const struct ynode *n = ymap_get(v, "name"), *ext = ymap_get(v, "external"),
                           *drv = ymap_get(v, "driver"), *lab = ymap_get(v, "labels");
        bool ok = true;
        if (n && !ynode_is_null(n))
            ok &= (name = top_string(m, "volume name", n)) != NULL;
        if (drv && !ynode_is_null(drv))
            ok &= (driver = top_string(m, "volume driver", drv)) != NULL;
        if (ext && ext->kind == YNODE_MAP) { /* legacy external: {name: x} */
            def.external = true;
            const struct ynode *en = ymap_get(ext, "name");
            if (en && !name)
                ok &= (name = top_string(m, "volume external name", en)) != NULL;
        } else if (ext && !ynode_is_null(ext)) {
            struct service none = {.name = (char *)k->str};
            ok &= want_bool(m, &none, "external", ext, &def.external) == 0;
        }
        if (lab && !ynode_is_null(lab)) {
            struct service none = {.name = (char *)k->str};
            ok &= want_kv_list(m, &none, "labels", lab, &def.labels) == 0;
        }
        if (!ok) {
            free(def.key);
            strv_free(def.labels);
            continue;
        }
        def.name = name           ? xstrdup(name)
                   : def.external ? xstrdup(k->str)
                                  : xasprintf("%s_%s", p->name ? p->name : "", k->str);
        def.driver = driver ? xstrdup(driver) : NULL;
        p->volumes[p->n_volumes++] = def;
    }
}

void project_defs_clear(struct project *p)
{
    for (size_t i = 0; i < p->n_volumes; i++) {
        free(p->volumes[i].key);
        free(p->volumes[i].name);
        free(p->volumes[i].driver);
        strv_free(p->volumes[i].labels);
    }
    free(p->volumes);
    p->volumes = NULL;
    p->n_volumes = 0;
    network_defs_clear(p);
    file_object_defs_clear(p);
}
