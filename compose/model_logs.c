/* SPDX-License-Identifier: Apache-2.0 */
/* The logging and lifecycle keys of a service: logging (driver and
 * options), post_start and pre_stop hooks, attach. Checks their values and
 * fills struct service; what they do at run time is the supervisor's
 * (engine/supervise/logfile.c, logsink.c, sv_hooks.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model_internal.h"
#include "compose/shellwords.h"
#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/units.h"
#include "util/xalloc.h"

static const char *const log_drivers[] = {"json-file", "local", "none", "syslog", "journald", NULL};

static bool known_driver(const char *d)
{
    for (size_t i = 0; log_drivers[i]; i++)
        if (strcmp(log_drivers[i], d) == 0)
            return true;
    return false;
}

/* One logging option; an unknown one is a warning (Docker's drivers have
 * many berth does not, and a missing one only changes what is kept). */
static void log_option(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *k = kv->key;
    const char *v = ynode_is_null(kv->value) ? "" : want_string(m, s, "logging.options", kv->value);
    if (!v)
        return;
    struct svc_logging *l = &s->logging;
    if (strcmp(k->str, "max-size") == 0) {
        int64_t n;
        if (strcmp(v, "-1") == 0)
            l->max_size = -1;
        else if (parse_size(v, &n) < 0 || n <= 0)
            svc_error(m, s, kv->value, "logging.options.max-size",
                      "expected a size such as 10m, got %s", QS(v));
        else
            l->max_size = n;
    } else if (strcmp(k->str, "max-file") == 0) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > 10000)
            svc_error(m, s, kv->value, "logging.options.max-file",
                      "expected a whole number from 1 to 10000, got %s", QS(v));
        else
            l->max_file = (int)n;
    } else if (strcmp(k->str, "compress") == 0) {
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            l->compress = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            l->compress = -1;
        else
            svc_error(m, s, kv->value, "logging.options.compress", "expected true or false, got %s",
                      QS(v));
    } else if (strcmp(k->str, "tag") == 0) {
        free(l->tag);
        l->tag = xstrdup(v);
    } else if (k->line > 0) {
        diag_warn_at(m->d, YPOS(k),
                     "service %s: logging option %s is not supported by berth's %s driver; "
                     "ignored",
                     QS(s->name), QN(k), l->driver ? l->driver : "json-file");
    }
}

void key_logging(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "logging", "expected a mapping, got %s", ynode_describe(v));
        return;
    }
    struct svc_logging *l = &s->logging;
    l->pos = pos_of(m, kv->key);
    const struct ynode *drv = ymap_get(v, "driver");
    if (drv && !ynode_is_null(drv)) {
        const char *d = want_string(m, s, "logging.driver", drv);
        if (!d)
            return;
        if (!known_driver(d)) {
            svc_error(m, s, drv, "logging.driver",
                      "unknown logging driver %s (berth has json-file, local, none, syslog and "
                      "journald)",
                      QS(d));
            return;
        }
        l->driver = xstrdup(d);
        l->pos = pos_of(m, drv);
    }
    const struct ynode *opts = ymap_get(v, "options");
    if (!opts || ynode_is_null(opts))
        return;
    if (opts->kind != YNODE_MAP) {
        svc_error(m, s, opts, "logging.options", "expected a mapping, got %s",
                  ynode_describe(opts));
        return;
    }
    for (size_t i = 0; i < opts->n_pairs; i++)
        log_option(m, s, &opts->pairs[i]);
}

/* A hook's command: a string is split into words as command: is. */
static int hook_command(struct model *m, struct service *s, const char *key, const struct ynode *v,
                        char ***out)
{
    if (v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
        if (yscalar_has_nul(v)) {
            svc_error(m, s, v, key, "contains a NUL character");
            return -EINVAL;
        }
        long stop;
        const char *err;
        if (shellwords_split(v->str, out, &stop, &err) < 0) {
            svc_error(m, s, v, key, "%s in %s", err, QN(v));
            return -EINVAL;
        }
    } else if (want_str_list(m, s, key, v, false, out) < 0) {
        return -EINVAL;
    }
    if (!*out || !(*out)[0]) {
        svc_error(m, s, v, key, "the command is empty");
        return -EINVAL;
    }
    return 0;
}

static int hook_one(struct model *m, struct service *s, const char *key, const struct ynode *v,
                    struct svc_hook *h)
{
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, key, "expected a mapping with a command, got %s", ynode_describe(v));
        return -EINVAL;
    }
    _cleanup_free_ char *ckey = xasprintf("%s.command", key);
    const struct ynode *cmd = ymap_get(v, "command");
    if (!cmd || ynode_is_null(cmd)) {
        svc_error(m, s, v, key, "a hook needs a command");
        return -EINVAL;
    }
    if (hook_command(m, s, ckey, cmd, &h->command) < 0)
        return -EINVAL;
    const struct ynode *u = ymap_get(v, "user"), *w = ymap_get(v, "working_dir"),
                       *env = ymap_get(v, "environment"), *priv = ymap_get(v, "privileged");
    if (u && !ynode_is_null(u)) {
        const char *str = want_string(m, s, "user", u);
        if (!str)
            return -EINVAL;
        h->user = xstrdup(str);
    }
    if (w && !ynode_is_null(w)) {
        const char *str = want_string(m, s, "working_dir", w);
        if (!str)
            return -EINVAL;
        if (str[0] != '/') {
            svc_error(m, s, w, key, "working_dir must be an absolute path, got %s", QS(str));
            return -EINVAL;
        }
        h->working_dir = xstrdup(str);
    }
    if (env && !ynode_is_null(env) && want_kv_list(m, s, "environment", env, &h->environment) < 0)
        return -EINVAL;
    if (priv && !ynode_is_null(priv)) {
        bool b = false;
        if (want_bool(m, s, "privileged", priv, &b) < 0)
            return -EINVAL;
        h->privileged = b;
    }
    return 0;
}

static void hook_free(struct svc_hook *h)
{
    strv_free(h->command);
    free(h->user);
    free(h->working_dir);
    strv_free(h->environment);
}

static void hooks_free(struct svc_hook *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hook_free(&h[i]);
    free(h);
}

static void key_hooks(struct model *m, struct service *s, const struct ypair *kv,
                      struct svc_hook **out, size_t *n_out)
{
    const char *key = kv->key->str;
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, key, "expected a list of hooks, got %s", ynode_describe(v));
        return;
    }
    struct svc_hook *hooks = xcalloc(v->n_items + 1, sizeof *hooks);
    for (size_t i = 0; i < v->n_items; i++)
        if (hook_one(m, s, key, v->items[i], &hooks[i]) < 0) {
            hooks_free(hooks, v->n_items);
            return;
        }
    hooks_free(*out, *n_out);
    *out = hooks;
    *n_out = v->n_items;
}

void key_post_start(struct model *m, struct service *s, const struct ypair *kv)
{
    key_hooks(m, s, kv, &s->post_start, &s->n_post_start);
}

void key_pre_stop(struct model *m, struct service *s, const struct ypair *kv)
{
    key_hooks(m, s, kv, &s->pre_stop, &s->n_pre_stop);
}

void key_attach(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b = true;
    if (!ynode_is_null(kv->value) && want_bool(m, s, "attach", kv->value, &b) == 0)
        s->no_attach = !b;
}

void service_logs_clear(struct service *s)
{
    free(s->logging.driver);
    free(s->logging.tag);
    hooks_free(s->post_start, s->n_post_start);
    hooks_free(s->pre_stop, s->n_pre_stop);
}
