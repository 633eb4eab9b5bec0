/* SPDX-License-Identifier: Apache-2.0 */
/* The typed model: each service key of the canonical tree converted and
 * checked into struct service, with shared value helpers (sizes, durations,
 * lists) that report "file:line:col: service ...". Unsupported keys are warned
 * about here. Not here: the runtime-facing keys (mounts, depends_on,
 * healthcheck, restart, deploy: compose/model_run.c), cross-service checks
 * (compose/validate.c). */
#include "compose/model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compose/envmap.h"
#include "compose/model_files.h"
#include "compose/model_internal.h"
#include "compose/shellwords.h"
#include "compose/strvec.h"
#include "compose/units.h"
#include "util/cleanup.h"
#include "util/platform.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* --- Messages ------------------------------------------------------------ */

/* "file:line:col: service "web": key: message" */
void svc_error(struct model *m, const struct service *s, const struct ynode *at, const char *key,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    diag_error_at(m->d, YPOS(at), "%s %s: %s: %s", m->kind ? m->kind : "service", QS(s->name), key,
                  msg);
}

struct srcpos pos_of(const struct model *m, const struct ynode *n)
{
    return (struct srcpos){m->p->files[n->src->index], n->line, n->col};
}

/* --- Value helpers ------------------------------------------------------- */

/* The text of a scalar for a string-valued key: strings and numbers as
 * written. NULL (after reporting) for null, booleans, lists, mappings and
 * strings holding a NUL byte. */
const char *want_string(struct model *m, const struct service *s, const char *key,
                        const struct ynode *v)
{
    if (v->kind == YNODE_SCALAR) {
        enum yscalar_type t = yscalar_type(v);
        if (t != YTYPE_NULL && t != YTYPE_BOOL) {
            if (yscalar_has_nul(v)) {
                svc_error(m, s, v, key, "contains a NUL character");
                return NULL;
            }
            return v->str;
        }
    }
    svc_error(m, s, v, key, "expected a string, got %s", ynode_describe(v));
    return NULL;
}

static void set_string(struct model *m, struct service *s, const char *key, const struct ynode *v,
                       char **dst)
{
    const char *str = want_string(m, s, key, v);
    if (!str)
        return;
    free(*dst);
    *dst = xstrdup(str);
}

/* Booleans as compose takes them: YAML true/false, or a string Go's
 * strconv.ParseBool accepts (the schema allows strings for interpolated
 * values such as "${DEBUG:-false}"). */
int want_bool(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              bool *out)
{
    if (v->kind == YNODE_SCALAR) {
        if (yscalar_bool(v, out) == 0)
            return 0;
        if (yscalar_type(v) == YTYPE_STR) {
            static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True", NULL};
            static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False", NULL};
            for (size_t i = 0; t[i]; i++)
                if (strcmp(v->str, t[i]) == 0) {
                    *out = true;
                    return 0;
                }
            for (size_t i = 0; f[i]; i++)
                if (strcmp(v->str, f[i]) == 0) {
                    *out = false;
                    return 0;
                }
            /* YAML 1.1's words, written plain: compose-go reads them as
             * booleans with a warning. */
            static const char *const t11[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
            static const char *const f11[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
            for (size_t i = 0; v->style == YSTYLE_PLAIN && i < ARRAY_SIZE(t11); i++)
                if (strcmp(v->str, t11[i]) == 0 || strcmp(v->str, f11[i]) == 0) {
                    *out = strcmp(v->str, t11[i]) == 0;
                    diag_warn_at(m->d, YPOS(v),
                                 "%s %s: %s: %s is a YAML 1.1 boolean, read as %s (write %s)",
                                 m->kind ? m->kind : "service", QS(s->name), key, QN(v),
                                 *out ? "true" : "false", *out ? "true" : "false");
                    return 0;
                }
            svc_error(m, s, v, key, "expected true or false, got %s", QN(v));
            return -EINVAL;
        }
    }
    svc_error(m, s, v, key, "expected true or false, got %s", ynode_describe(v));
    return -EINVAL;
}

/* A whole decimal number in a string ("100", "-1"). */
static int parse_decimal(const char *str, int64_t *out)
{
    if (!*str)
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(str, &end, 10);
    if (*end || str[0] == ' ' || str[0] == '\t' || str[0] == '+')
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

/* --- Service keys -------------------------------------------------------- */

typedef void (*key_fn)(struct model *m, struct service *s, const struct ypair *kv);

static void key_image(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "image", kv->value);
    if (!str)
        return;
    if (!*str) {
        svc_error(m, s, kv->value, "image", "must not be empty");
        return;
    }
    free(s->image);
    s->image = xstrdup(str);
    s->image_pos = pos_of(m, kv->value);
}

/* command and entrypoint: a string is split into words as compose does; a
 * list is taken as is; `[]` and "" set an empty override; null leaves the
 * image's value. */
static void set_argv(struct model *m, struct service *s, const struct ypair *kv, char ***dst,
                     bool *set)
{
    const char *key = kv->key->str;
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    _cleanup_strv_ char **argv = NULL;
    struct strvec items = {0};
    if (v->kind == YNODE_SCALAR) {
        if (yscalar_has_nul(v)) {
            svc_error(m, s, v, key, "contains a NUL character");
            return;
        }
        long stop;
        const char *err;
        if (shellwords_split(v->str, &argv, &stop, &err) < 0) {
            svc_error(m, s, v, key, "%s in %s", err, QN(v));
            return;
        }
        if (stop >= 0)
            diag_warn_at(m->d, YPOS(v),
                         "service %s: %s: the unquoted %s ends the command; the rest (%s) is "
                         "dropped, as docker compose does (use [sh, -c, \"...\"] to run it "
                         "through a shell)",
                         QS(s->name), key, diag_quote((char[DIAG_QBUF]){0}, v->str + stop, 1),
                         QS(v->str + stop));
    } else if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            const struct ynode *it = v->items[i];
            if (it->kind != YNODE_SCALAR || ynode_is_null(it)) {
                svc_error(m, s, it, key, "item %zu: expected a string, got %s", i + 1,
                          ynode_describe(it));
                strvec_clear(&items);
                return;
            }
            if (yscalar_has_nul(it)) {
                svc_error(m, s, it, key, "item %zu contains a NUL character", i + 1);
                strvec_clear(&items);
                return;
            }
            strvec_push(&items, xstrdup(it->str));
        }
        argv = strvec_take(&items);
    } else {
        svc_error(m, s, v, key, "expected a string or a list of strings, got %s",
                  ynode_describe(v));
        return;
    }
    strv_free(*dst);
    *dst = TAKE_PTR(argv);
    *set = true;
}

static void key_command(struct model *m, struct service *s, const struct ypair *kv)
{
    set_argv(m, s, kv, &s->command, &s->command_set);
}

static void key_entrypoint(struct model *m, struct service *s, const struct ypair *kv)
{
    set_argv(m, s, kv, &s->entrypoint, &s->entrypoint_set);
}

/* One variable. A null value (a bare "KEY" or "KEY:" with nothing) takes
 * the value from berth's own environment, or drops the variable when it is
 * unset there. */
static void env_entry(struct model *m, struct service *s, const struct ypair *kv,
                      struct strvec *env)
{
    const struct ynode *k = kv->key, *v = kv->value;
    if (k->len == 0 || memchr(k->str, '=', k->len) || yscalar_has_nul(k)) {
        svc_error(m, s, k, "environment", "invalid variable name %s", QN(k));
        return;
    }
    if (ynode_is_null(v)) {
        const char *host = envtab_get(m->env, k->str, k->len);
        if (host)
            strvec_push(env, str_join(k->str, '=', host));
        return;
    }
    if (v->kind != YNODE_SCALAR) {
        svc_error(m, s, v, "environment", "%s: expected a string, number, boolean or null, got %s",
                  k->str, ynode_describe(v));
        return;
    }
    if (yscalar_has_nul(v)) {
        svc_error(m, s, v, "environment", "%s: value contains a NUL character", k->str);
        return;
    }
    bool b;
    const char *val = v->str;
    if (yscalar_bool(v, &b) == 0)
        val = b ? "true" : "false"; /* as compose prints YAML booleans */
    strvec_push(env, str_join(k->str, '=', val));
}

static void key_environment(struct model *m, struct service *s, const struct ypair *kv)
{
    struct ynode *map;
    const struct ynode *bad = NULL;
    if (envmap_from_node(m->a, kv->value, &map, &bad) < 0) {
        if (bad == kv->value)
            svc_error(m, s, bad, "environment",
                      "expected a mapping or a list of \"KEY=VALUE\" strings, got %s",
                      ynode_describe(bad));
        else
            svc_error(m, s, bad, "environment", "expected a \"KEY=VALUE\" string, got %s",
                      ynode_describe(bad));
        return;
    }
    struct strvec env = {0};
    for (size_t i = 0; i < map->n_pairs; i++)
        env_entry(m, s, &map->pairs[i], &env);
    strv_free(s->environment);
    s->environment = strvec_take(&env);
}

static void key_working_dir(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "working_dir", kv->value);
    if (!str)
        return;
    if (str[0] != '/') {
        svc_error(m, s, kv->value, "working_dir", "must be an absolute path, got %s",
                  QN(kv->value));
        return;
    }
    free(s->working_dir);
    s->working_dir = xstrdup(str);
}

static void key_user(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "user", kv->value);
    if (!str)
        return;
    free(s->user);
    s->user = *str ? xstrdup(str) : NULL;
}

static void key_hostname(struct model *m, struct service *s, const struct ypair *kv)
{
    set_string(m, s, "hostname", kv->value, &s->hostname);
}

int want_size(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              int64_t *out)
{
    int64_t bytes;
    enum yscalar_type t = v->kind == YNODE_SCALAR ? yscalar_type(v) : YTYPE_NULL;
    if (v->kind == YNODE_SCALAR && t == YTYPE_INT) {
        int r = yscalar_int(v, &bytes);
        if (r < 0 || bytes < 0) {
            svc_error(m, s, v, key, "invalid size %s (use a positive number of bytes)", QN(v));
            return -EINVAL;
        }
    } else if (v->kind == YNODE_SCALAR && t == YTYPE_STR && !yscalar_has_nul(v)) {
        int r = parse_size(v->str, &bytes);
        if (r == -ERANGE) {
            svc_error(m, s, v, key, "size %s is too large", QN(v));
            return r;
        }
        if (r < 0) {
            svc_error(m, s, v, key, "invalid size %s (use a number with b, k, m or g)", QN(v));
            return r;
        }
    } else {
        svc_error(m, s, v, key,
                  "expected a size such as \"512m\" or a whole number of bytes, got %s",
                  t == YTYPE_FLOAT ? QN(v) : ynode_describe(v));
        return -EINVAL;
    }
    *out = bytes;
    return 0;
}

static void key_mem_limit(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t v;
    if (want_size(m, s, kv->key->str, kv->value, &v) == 0)
        s->mem_limit = v;
}

static void key_shm_size(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t v;
    if (want_size(m, s, "shm_size", kv->value, &v) == 0)
        s->shm_size = v;
}

int want_cpus(struct model *m, const struct service *s, const char *key, const struct ynode *v,
              double *out)
{
    double cpus = NAN;
    enum yscalar_type t = v->kind == YNODE_SCALAR ? yscalar_type(v) : YTYPE_NULL;
    if (v->kind == YNODE_SCALAR && (t == YTYPE_INT || t == YTYPE_FLOAT)) {
        if (yscalar_float(v, &cpus) < 0)
            cpus = NAN;
    } else if (v->kind == YNODE_SCALAR && t == YTYPE_STR && !yscalar_has_nul(v)) {
        /* A numeric string ("0.5"); only decimal notation. */
        char *end;
        if (v->len && strspn(v->str, "0123456789.eE+-") == v->len) {
            cpus = strtod(v->str, &end);
            if (*end)
                cpus = NAN;
        }
    } else {
        svc_error(m, s, v, key, "expected a number such as 0.5 or 2, got %s", ynode_describe(v));
        return -EINVAL;
    }
    if (!isfinite(cpus) || cpus < 0) {
        svc_error(m, s, v, key,
                  "invalid number of CPUs %s (use a positive number such as "
                  "0.5 or 2)",
                  QN(v));
        return -EINVAL;
    }
    *out = cpus; /* 0 means no limit, as in docker */
    return 0;
}

static void key_cpus(struct model *m, struct service *s, const struct ypair *kv)
{
    double v;
    if (want_cpus(m, s, "cpus", kv->value, &v) == 0)
        s->cpus = v;
}

/* The integer of a scalar: a YAML integer or a decimal string. -EINVAL for
 * anything else, -ERANGE past int64. */
static int scalar_whole(const struct ynode *v, int64_t *out)
{
    if (v->kind != YNODE_SCALAR)
        return -EINVAL;
    enum yscalar_type t = yscalar_type(v);
    if (t == YTYPE_INT)
        return yscalar_int(v, out);
    if (t == YTYPE_STR && !yscalar_has_nul(v))
        return parse_decimal(v->str, out);
    return -EINVAL;
}

int want_int(struct model *m, const struct service *s, const char *key, const struct ynode *v,
             int64_t min, int64_t *out)
{
    int64_t n;
    if (v->kind != YNODE_SCALAR || ynode_is_null(v) || yscalar_type(v) == YTYPE_BOOL) {
        svc_error(m, s, v, key, "expected a whole number, got %s", ynode_describe(v));
        return -EINVAL;
    }
    int r = scalar_whole(v, &n);
    if (r < 0 || n < min) {
        svc_error(m, s, v, key, "invalid number %s (expected a whole number of at least %lld)",
                  QN(v), (long long)min);
        return -EINVAL;
    }
    *out = n;
    return 0;
}

static void key_pids_limit(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    int64_t n;
    int r = -EINVAL;
    enum yscalar_type t = v->kind == YNODE_SCALAR ? yscalar_type(v) : YTYPE_NULL;
    if (v->kind == YNODE_SCALAR && (t == YTYPE_INT || t == YTYPE_STR))
        r = scalar_whole(v, &n);
    else if (v->kind != YNODE_SCALAR || t != YTYPE_FLOAT) {
        svc_error(m, s, v, "pids_limit", "expected a whole number, got %s", ynode_describe(v));
        return;
    }
    if (r < 0 || n < -1) {
        svc_error(m, s, v, "pids_limit",
                  "invalid limit %s (use a positive number, or -1 for no limit)", QN(v));
        return;
    }
    s->pids_limit = n == 0 ? -1 : n; /* 0 and -1 both mean unlimited */
}

/* pull_policy: berth pulls an image that is not in the store (missing,
 * if_not_present) unless the policy is never, one that is there too when it
 * is always, and one last pulled longer ago than daily, weekly or
 * every_<duration> says; build builds it at every up and run. */
static void key_pull_policy(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *v = want_string(m, s, "pull_policy", kv->value);
    if (!v)
        return;
    s->pull_never = strcmp(v, "never") == 0;
    s->pull_always = strcmp(v, "always") == 0;
    s->pull_missing = strcmp(v, "missing") == 0 || strcmp(v, "if_not_present") == 0;
    s->pull_build = strcmp(v, "build") == 0;
    s->pull_refresh_ns = 0;
    int r = pull_refresh_parse(v, &s->pull_refresh_ns);
    if (r == -EINVAL) {
        svc_error(m, s, kv->value, "pull_policy",
                  "invalid schedule %s (expected daily, weekly or every_ and a duration, as "
                  "every_12h or every_2d)",
                  QS(v));
        return;
    }
    if (r == 0 || s->pull_never || s->pull_always || s->pull_missing || s->pull_build ||
        kv->key->line <= 0)
        return;
    diag_unsupported_at(m->d, YPOS(kv->key),
                        "service %s: pull_policy %s is not supported yet; ignored (an image "
                        "missing from the store is pulled)",
                        QS(s->name), QS(v));
}

/* platform: the image of that platform is pulled (and checked at up). */
static void key_platform(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *v = want_string(m, s, "platform", kv->value);
    if (!v)
        return;
    struct platform p;
    struct berr e = BERR_INIT;
    if (platform_parse(v, &p, &e) < 0) {
        svc_error(m, s, kv->value, "platform", "%s", e.msg);
        berr_clear(&e);
        return;
    }
    char buf[PLATFORM_STR_MAX];
    platform_format(&p, buf, sizeof buf);
    free(s->platform);
    s->platform = xstrdup(buf);
}

static void key_stop_signal(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "stop_signal", kv->value);
    if (!str)
        return;
    int sig = signal_parse(str);
    if (sig < 0) {
        svc_error(m, s, kv->value, "stop_signal",
                  "invalid signal %s (use a name such as SIGTERM or SIGINT, or a number)",
                  QN(kv->value));
        return;
    }
    s->stop_signal = sig;
}

int want_duration(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                  int64_t *out)
{
    const char *str = want_string(m, s, key, v);
    if (!str)
        return -EINVAL;
    int64_t ns;
    int r = parse_duration(str, &ns);
    if (r == -ERANGE) {
        svc_error(m, s, v, key, "duration %s is too long", QN(v));
        return r;
    }
    if (r < 0) {
        svc_error(m, s, v, key,
                  "invalid duration %s (use a number with a unit, such as \"10s\", \"1m30s\" "
                  "or \"500ms\")",
                  QN(v));
        return r;
    }
    if (ns < 0) {
        svc_error(m, s, v, key, "must not be negative, got %s", QN(v));
        return -EINVAL;
    }
    *out = ns;
    return 0;
}

static void key_stop_grace_period(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t ns;
    if (want_duration(m, s, "stop_grace_period", kv->value, &ns) == 0)
        s->stop_grace_ns = ns;
}

int want_kv_list(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                 char ***out)
{
    struct ynode *map;
    const struct ynode *bad = NULL;
    if (envmap_from_node(m->a, v, &map, &bad) < 0) {
        svc_error(m, s, bad, key,
                  bad == v ? "expected a mapping or a list of \"KEY=VALUE\" strings, got %s"
                           : "expected a \"KEY=VALUE\" string, got %s",
                  ynode_describe(bad));
        return -EINVAL;
    }
    struct strvec sv = {0};
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ynode *k = map->pairs[i].key, *val = map->pairs[i].value;
        if (k->len == 0 || yscalar_has_nul(k)) {
            svc_error(m, s, k, key, "invalid name %s", QN(k));
            strvec_clear(&sv);
            return -EINVAL;
        }
        if (!ynode_is_null(val) && (val->kind != YNODE_SCALAR || yscalar_has_nul(val))) {
            svc_error(m, s, val, key, "%s: expected a string, number or boolean, got %s", k->str,
                      ynode_describe(val));
            strvec_clear(&sv);
            return -EINVAL;
        }
        bool b;
        const char *text = ynode_is_null(val) ? "" : val->str;
        if (!ynode_is_null(val) && yscalar_bool(val, &b) == 0)
            text = b ? "true" : "false";
        strvec_push(&sv, str_join(k->str, '=', text));
    }
    strv_free(*out);
    *out = strvec_take(&sv);
    return 0;
}

int want_str_list(struct model *m, const struct service *s, const char *key, const struct ynode *v,
                  bool allow_one, char ***out)
{
    struct strvec sv = {0};
    if (allow_one && v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
        const char *str = want_string(m, s, key, v);
        if (!str)
            return -EINVAL;
        strvec_push(&sv, xstrdup(str));
    } else if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            const struct ynode *it = v->items[i];
            if (it->kind != YNODE_SCALAR || ynode_is_null(it) || yscalar_has_nul(it)) {
                svc_error(m, s, it, key, "item %zu: expected a string, got %s", i + 1,
                          yscalar_has_nul(it) ? "a string with a NUL" : ynode_describe(it));
                strvec_clear(&sv);
                return -EINVAL;
            }
            strvec_push(&sv, xstrdup(it->str));
        }
    } else {
        svc_error(m, s, v, key, "expected a list of strings, got %s", ynode_describe(v));
        return -EINVAL;
    }
    strv_free(*out);
    *out = strvec_take(&sv);
    return 0;
}

/* docker's rule for container and profile names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static bool valid_object_name(const char *s, size_t min_len)
{
    size_t n = strlen(s);
    if (n < min_len || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

bool compose_container_name_valid(const char *name)
{
    return valid_object_name(name, 2);
}

static void key_container_name(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "container_name", kv->value);
    if (!str)
        return;
    if (!valid_object_name(str, 2)) {
        svc_error(m, s, kv->value, "container_name",
                  "invalid name %s: it must start with a letter or digit and hold only letters, "
                  "digits, \"_\", \".\" and \"-\" (at least 2 characters)",
                  QN(kv->value));
        return;
    }
    free(s->container_name);
    s->container_name = xstrdup(str);
}

static void key_labels(struct model *m, struct service *s, const struct ypair *kv)
{
    want_kv_list(m, s, "labels", kv->value, &s->labels);
}

static void key_profiles(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (want_str_list(m, s, "profiles", kv->value, false, &v) < 0)
        return;
    for (size_t i = 0; v[i]; i++)
        if (!valid_object_name(v[i], 1)) {
            svc_error(m, s, kv->value->items[i], "profiles",
                      "invalid profile name %s: it must start with a letter or digit and hold "
                      "only letters, digits, \"_\", \".\" and \"-\"",
                      QS(v[i]));
            return;
        }
    strv_free(s->profiles);
    s->profiles = TAKE_PTR(v);
}

static void key_init(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (want_bool(m, s, "init", kv->value, &b) == 0)
        s->init = b;
}

static void key_stdin_open(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (want_bool(m, s, "stdin_open", kv->value, &b) == 0)
        s->stdin_open = b;
}

/* The largest replica count accepted: a hostile file can't make berth plan
 * billions of containers. */
#define MAX_REPLICAS 10000

static void key_scale(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t n;
    if (want_int(m, s, "scale", kv->value, 0, &n) < 0)
        return;
    if (n > MAX_REPLICAS) {
        svc_error(m, s, kv->value, "scale", "%lld replicas is more than the limit of %d",
                  (long long)n, MAX_REPLICAS);
        return;
    }
    s->replicas = (int)n;
}

static void key_tty(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (want_bool(m, s, "tty", kv->value, &b) == 0)
        s->tty = b;
}

static void key_read_only(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (want_bool(m, s, "read_only", kv->value, &b) == 0)
        s->read_only = b;
}

/* --- Security keys and fail-closed refusals -------------------------------- */

/* Records that the service sets something berth does not honour yet and
 * whose absence could give the container more privilege or exposure than
 * the file asks for: `up` and `run` refuse the service (plan_container),
 * `config` still prints it. */
static void add_refused(struct model *m, struct service *s, const struct ynode *at, char *what,
                        bool own)
{
    s->refused = xreallocarray(s->refused, s->n_refused + 1, sizeof *s->refused);
    /* The file as messages name it ("compose.yaml"), as the warning does. */
    struct srcpos pos = pos_of(m, at);
    if (m->p->file_names && m->p->file_names[at->src->index])
        pos.file = m->p->file_names[at->src->index];
    s->refused[s->n_refused++] = (struct svc_refused){.what = what, .pos = pos, .own = own};
}

void refuse(struct model *m, struct service *s, const struct ynode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = xvasprintf(fmt, ap);
    va_end(ap);
    if (at->line > 0)
        diag_unsupported_at(
            m->d, YPOS(at),
            "service %s: %s is not supported yet; berth will not start this service "
            "(ignoring it could give the container more privilege than the file asks "
            "for)",
            QS(s->name), what);
    add_refused(m, s, at, what, false);
}

void refuse_own(struct model *m, struct service *s, const struct ynode *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = xvasprintf(fmt, ap);
    va_end(ap);
    add_refused(m, s, at, what, true);
}

int compose_service_refused(const struct service *s, struct berr *e)
{
    size_t n = 0;
    const struct svc_refused *r = NULL;
    for (size_t i = 0; i < s->n_refused; i++) {
        const struct svc_refused *ri = &s->refused[i];
        if (ri->own)
            return berr_set(e, -EPERM, "%s:%d:%d: service \"%s\": %s",
                            ri->pos.file ? ri->pos.file : "?", ri->pos.line, ri->pos.col, s->name,
                            ri->what);
        if (n++ == 0)
            r = ri;
    }
    if (!r)
        return 0;
    return berr_set(e, -EPERM,
                    "%s:%d:%d: service \"%s\": %s is not supported yet; refusing to start the "
                    "service, since ignoring it could give the container more privilege than the "
                    "file asks for%s",
                    r->pos.file ? r->pos.file : "?", r->pos.line, r->pos.col, s->name, r->what,
                    n > 1 ? " (and other such keys: see the warnings above)" : "");
}

/* A value that asks for nothing: null, {} or []. */
static bool asks_nothing(const struct ynode *v)
{
    return ynode_is_null(v) || (v->kind == YNODE_MAP && v->n_pairs == 0) ||
           (v->kind == YNODE_SEQ && v->n_items == 0);
}

static void key_caps(struct model *m, struct service *s, const struct ypair *kv, const char *key,
                     struct caps_list *out)
{
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value)) {
        *out = (struct caps_list){0};
        return;
    }
    if (want_str_list(m, s, key, kv->value, false, &v) < 0)
        return;
    struct caps_list l = {0};
    for (size_t i = 0; v[i]; i++) {
        int c = caps_parse_name(v[i]);
        if (c < 0) {
            svc_error(m, s, kv->value->items[i], key, "unknown capability %s", QS(v[i]));
            return;
        }
        if (c == CAPS_NAME_ALL)
            l.all = true;
        else
            l.set |= 1ULL << c;
    }
    *out = l;
}

static void key_cap_add(struct model *m, struct service *s, const struct ypair *kv)
{
    key_caps(m, s, kv, "cap_add", &s->cap_add);
}

static void key_cap_drop(struct model *m, struct service *s, const struct ypair *kv)
{
    key_caps(m, s, kv, "cap_drop", &s->cap_drop);
}

/* userns_mode: "host" (the default) is the host's user namespace; "auto"
 * a user namespace of the container's own with a range of IDs from
 * berth's subordinate IDs (engine/runtime/userns.h); anything else
 * (podman's keep-id, nomap, ...) is refused. */
static void key_userns_mode(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "userns_mode", kv->value);
    if (v && strcmp(v, "auto") == 0) {
        s->userns_auto = true;
        s->userns_pos = pos_of(m, kv->key);
    } else if (v && *v && strcmp(v, "host") != 0) {
        refuse(m, s, kv->key, "userns_mode %s", QS(v));
    }
}

/* userns_mode: auto gives the container a user namespace of its own, in
 * which the host's namespaces and privileges mean nothing: Docker refuses
 * such a container with privileged, pid or uts host, or a shared IPC
 * namespace, and so does berth (the kernel would refuse /proc or mqueue
 * there at start anyway). */
static void finish_userns(struct model *m, struct service *s)
{
    if (!s->userns_auto)
        return;
    const char *with = NULL;
    if (s->privileged)
        with = "privileged";
    else if (s->pid)
        with = "pid";
    else if (s->ipc && strcmp(s->ipc, "none") != 0 && strcmp(s->ipc, "shareable") != 0 &&
             strcmp(s->ipc, "private") != 0)
        with = "ipc";
    else if (s->uts_host)
        with = "uts: host";
    if (!with)
        return;
    const struct ypair *kv = ymap_get_pair(m->body, "userns_mode");
    if (kv)
        svc_error(m, s, kv->value, "userns_mode",
                  "auto cannot be combined with %s: a container in a user namespace of its own "
                  "cannot share the host's or another container's namespaces or privileges (set "
                  "userns_mode: host)",
                  with);
}

/* Every service key of the compose specification, in one table: how the
 * typed model reads it (NULL: only checked and printed by the canonical
 * pass) and what berth does with it at run time:
 *   KEY_HONOURED  it does what the key says;
 *   KEY_IGNORED   means nothing on this host: warned about where it
 *                 stands, with why ("key "isolation" is a Windows key;
 *                 ignored"), never dropped silently. Only for keys whose
 *                 absence gives the container no more privilege or
 *                 exposure than the file asks for (at most less);
 *   KEY_REFUSED   not yet, and ignoring it could give more (a limit, a
 *                 confinement): fail closed, a service that sets it is
 *                 refused at up and run (compose_service_refused), while
 *                 config still prints it;
 *   KEY_BY_VALUE  the key's function honours, warns or refuses each value.
 * The comment says why. Flip a row when the runtime feature lands. */
enum key_support { KEY_HONOURED, KEY_IGNORED, KEY_REFUSED, KEY_BY_VALUE };

static const struct svc_key {
    const char *key;
    key_fn fn;
    enum key_support support;
} service_keys[] = {
    /* clang-format off */
    {"annotations",         key_annotations,        KEY_HONOURED}, /* recorded, shown by ps --format json */
    {"attach",              key_attach,             KEY_HONOURED}, /* attached up hides the output */
    {"blkio_config",        key_blkio_config,       KEY_HONOURED}, /* io/blkio controller (model_res.c) */
    {"build",               key_build,              KEY_BY_VALUE}, /* engine/build; see model_build.c */
    {"cap_add",             key_cap_add,            KEY_HONOURED}, /* util/caps.c, Docker's rules */
    {"cap_drop",            key_cap_drop,           KEY_HONOURED}, /* util/caps.c, Docker's rules */
    {"cgroup",              key_cgroup,             KEY_HONOURED}, /* host: no cgroup namespace (model_procns.c) */
    {"cgroup_parent",       key_cgroup_parent,      KEY_HONOURED}, /* the container's cgroup under it */
    {"command",             key_command,            KEY_HONOURED},
    {"configs",             key_configs,            KEY_HONOURED}, /* read-only files from a tmpfs */
    {"container_name",      key_container_name,     KEY_HONOURED},
    {"cpu_count",           NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"cpu_percent",         NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"cpu_period",          key_cpu_period,         KEY_HONOURED}, /* cfs_period_us / cpu.max */
    {"cpu_quota",           key_cpu_quota,          KEY_HONOURED}, /* cfs_quota_us / cpu.max */
    {"cpu_rt_period",       key_cpu_rt_period,      KEY_HONOURED}, /* v1 cpu.rt_period_us; v2: an error */
    {"cpu_rt_runtime",      key_cpu_rt_runtime,     KEY_HONOURED}, /* v1 cpu.rt_runtime_us; v2: an error */
    {"cpu_shares",          key_cpu_shares,         KEY_HONOURED}, /* cpu.shares / cpu.weight */
    {"cpus",                key_cpus,               KEY_HONOURED},
    {"cpuset",              key_cpuset,             KEY_HONOURED}, /* cpuset.cpus, checked against the host's */
    {"credential_spec",     NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"depends_on",          key_depends_on,         KEY_HONOURED},
    {"deploy",              key_deploy,             KEY_HONOURED}, /* resources; the rest warns */
    {"develop",             NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"device_cgroup_rules", key_device_cgroup_rules, KEY_HONOURED}, /* the device cgroup (devices.c) */
    {"devices",             key_devices,            KEY_HONOURED}, /* nodes in /dev, the device cgroup */
    {"dns",                 key_dns,                KEY_HONOURED}, /* net/etcfiles.c: the embedded server forwards to them */
    {"dns_opt",             key_dns_opt,            KEY_HONOURED}, /* net/etcfiles.c: the container's resolv.conf */
    {"dns_search",          key_dns_search,         KEY_HONOURED}, /* net/etcfiles.c: the container's resolv.conf */
    {"domainname",          key_domainname,         KEY_HONOURED}, /* /etc/hosts and the UTS domain name */
    {"entrypoint",          key_entrypoint,         KEY_HONOURED},
    {"env_file",            NULL,                   KEY_HONOURED}, /* read at load */
    {"environment",         key_environment,        KEY_HONOURED},
    {"expose",              key_expose,             KEY_HONOURED}, /* recorded, shown by ps */
    {"extends",             NULL,                   KEY_HONOURED}, /* resolved at load */
    {"external_links",      key_external_links,     KEY_HONOURED}, /* DNS aliases of another container */
    {"extra_hosts",         key_extra_hosts,        KEY_HONOURED}, /* /etc/hosts entries */
    {"gpus",                NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"group_add",           key_group_add,          KEY_HONOURED}, /* the container's /etc/group (runtime/user.c) */
    {"healthcheck",         key_healthcheck,        KEY_HONOURED},
    {"hostname",            key_hostname,           KEY_HONOURED},
    {"image",               key_image,              KEY_HONOURED},
    {"init",                key_init,               KEY_HONOURED},
    {"ipc",                 key_ipc,                KEY_HONOURED}, /* private, shareable, none, host, service:, container: */
    {"isolation",           NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"label_file",          key_label_file,         KEY_HONOURED}, /* read at load, under labels: */
    {"labels",              key_labels,             KEY_HONOURED},
    {"links",               key_links,              KEY_HONOURED}, /* DNS aliases (and start order) */
    {"logging",             key_logging,            KEY_HONOURED}, /* see model_logs.c, logfile.c */
    {"mac_address",         key_mac_address,        KEY_HONOURED}, /* the first network's veth */
    {"mem_limit",           key_mem_limit,          KEY_HONOURED},
    {"mem_reservation",     key_mem_reservation,    KEY_HONOURED}, /* soft_limit_in_bytes / memory.low */
    {"mem_swappiness",      key_mem_swappiness,     KEY_HONOURED}, /* v1 only; v2 has none (as Docker) */
    {"memswap_limit",       key_memswap_limit,      KEY_HONOURED}, /* memsw / memory.swap.max */
    {"models",              NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"network_mode",        key_network_mode,       KEY_HONOURED}, /* host, none, service:, container: */
    {"networks",            key_networks,           KEY_HONOURED}, /* bridges, IPAM, DNS (net/, sv_net.c) */
    {"oom_kill_disable",    key_oom_kill_disable,   KEY_HONOURED}, /* v1 memory.oom_control; v2 warns, as Docker */
    {"oom_score_adj",       key_oom_score_adj,      KEY_HONOURED}, /* written for the init before execve */
    {"pid",                 key_pid,                KEY_HONOURED}, /* host, service:, container: */
    {"pids_limit",          key_pids_limit,         KEY_HONOURED},
    {"platform",            key_platform,           KEY_HONOURED}, /* index entry chosen; others run by binfmt_misc */
    {"ports",               key_ports,              KEY_HONOURED}, /* kernel NAT and the loopback proxy */
    {"post_start",          key_post_start,         KEY_HONOURED}, /* sv_hooks.c; privileged refused */
    {"pre_start",           NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"pre_stop",            key_pre_stop,           KEY_HONOURED}, /* sv_hooks.c; privileged refused */
    {"privileged",          key_privileged,         KEY_HONOURED}, /* every cap and device, no seccomp, as Docker */
    {"profiles",            key_profiles,           KEY_HONOURED},
    {"provider",            NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"pull_policy",         key_pull_policy,        KEY_BY_VALUE}, /* see key_pull_policy */
    {"pull_refresh_after",  NULL,                   KEY_IGNORED},  /* see ignored_why */
    {"read_only",           key_read_only,          KEY_HONOURED},
    {"restart",             key_restart,            KEY_HONOURED},
    {"runtime",             key_runtime,            KEY_BY_VALUE}, /* only the built-in "berth" */
    {"scale",               key_scale,              KEY_HONOURED},
    {"secrets",             key_secrets,            KEY_HONOURED}, /* read-only files from a tmpfs */
    {"security_opt",        key_security_opt,       KEY_HONOURED}, /* see model_sec.c */
    {"shm_size",            key_shm_size,           KEY_HONOURED},
    {"stdin_open",          key_stdin_open,         KEY_HONOURED},
    {"stop_grace_period",   key_stop_grace_period,  KEY_HONOURED},
    {"stop_signal",         key_stop_signal,        KEY_HONOURED},
    {"storage_opt",         key_storage_opt,        KEY_HONOURED}, /* a project quota, or an error at up */
    {"sysctls",             key_sysctls,            KEY_HONOURED}, /* namespaced ones only, as Docker */
    {"tmpfs",               key_tmpfs,              KEY_HONOURED},
    {"tty",                 key_tty,                KEY_HONOURED},
    {"ulimits",             key_ulimits,            KEY_HONOURED}, /* setrlimit before exec (and exec) */
    {"use_api_socket",      key_use_api_socket,     KEY_BY_VALUE}, /* true refused: no API socket */
    {"user",                key_user,               KEY_HONOURED},
    {"userns_mode",         key_userns_mode,        KEY_BY_VALUE}, /* "host", "auto"; others refused */
    {"uts",                 key_uts,                KEY_HONOURED}, /* host: the host's UTS namespace */
    {"volumes",             key_volumes,            KEY_HONOURED},
    {"volumes_from",        key_volumes_from,       KEY_HONOURED}, /* mounts of another container */
    {"working_dir",         key_working_dir,        KEY_HONOURED},
    {"x-berth-network",     key_x_berth_network,    KEY_HONOURED}, /* berth's own: net/shape.c */
    /* clang-format on */
};

/* Why each KEY_IGNORED key means nothing on this host, for its warning. */
static const struct {
    const char *key, *why;
} ignored_why[] = {
    {"cpu_count", "is a Windows key (Docker ignores it on Linux too)"},
    {"cpu_percent", "is a Windows key (Docker ignores it on Linux too)"},
    {"credential_spec", "is a Windows key"},
    {"develop", "is for `docker compose watch`, which berth does not have"},
    {"gpus", "asks for GPUs, and berth gives containers no GPU devices"},
    {"isolation", "is a Windows key"},
    {"models", "asks for AI models, and berth runs no model runner"},
    {"pre_start", "is not one of docker compose's lifecycle hooks (post_start and pre_stop are)"},
    {"provider", "needs a docker compose provider plugin, and berth has none"},
    {"pull_refresh_after", "has no behaviour in docker compose to follow"},
};

static const char *why_ignored(const char *key)
{
    for (size_t i = 0; i < sizeof ignored_why / sizeof ignored_why[0]; i++)
        if (strcmp(ignored_why[i].key, key) == 0)
            return ignored_why[i].why;
    return "is not supported yet";
}

static const struct svc_key *find_service_key(const struct ynode *k)
{
    size_t lo = 0, hi = ARRAY_SIZE(service_keys);
    while (lo < hi) { /* the table is sorted */
        size_t mid = lo + (hi - lo) / 2;
        const char *name = service_keys[mid].key;
        /* Most probes differ in the first byte (names are not empty). */
        int c = k->len ? (unsigned char)name[0] - (unsigned char)k->str[0] : 1;
        if (c == 0) {
            size_t n = strlen(name);
            c = memcmp(name, k->str, n < k->len ? n : k->len);
            if (c == 0)
                c = n < k->len ? -1 : n > k->len;
        }
        if (c == 0)
            return &service_keys[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool compose_service_key_honoured(const char *key)
{
    struct ynode k = {.kind = YNODE_SCALAR, .str = key, .len = strlen(key)};
    const struct svc_key *sk = find_service_key(&k);
    return sk && sk->support == KEY_HONOURED;
}

static bool in_list(const char *const *list, const struct ynode *k)
{
    for (; *list; list++)
        if (strlen(*list) == k->len && memcmp(*list, k->str, k->len) == 0)
            return true;
    return false;
}

static bool is_extension(const struct ynode *k)
{
    return k->len >= 2 && k->str[0] == 'x' && k->str[1] == '-';
}

/* compose's rule: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ */
static bool valid_service_name(const struct ynode *k)
{
    if (k->len == 0)
        return false;
    for (size_t i = 0; i < k->len; i++) {
        char c = k->str[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

static int cmp_key_place(const void *x, const void *y)
{
    const struct ynode *a = (*(const struct ypair *const *)x)->key,
                       *b = (*(const struct ypair *const *)y)->key;
    if (a->src->index != b->src->index)
        return a->src->index < b->src->index ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col;
}

static void build_service(struct model *m, struct service *s, const struct ypair *svc)
{
    const struct ynode *body = svc->value;
    if (body->kind != YNODE_MAP) {
        diag_error_at(m->d, YPOS(body), "service %s: expected a mapping of service keys, got %s",
                      QS(s->name), ynode_describe(body));
        return;
    }
    m->body = body;
    /* The canonical tree has compose's key order; the model takes keys in
     * file order, so volumes and tmpfs mounts come as written. */
    _cleanup_free_ const struct ypair **order = xcalloc(body->n_pairs + 1, sizeof *order);
    for (size_t i = 0; i < body->n_pairs; i++)
        order[i] = &body->pairs[i];
    qsort(order, body->n_pairs, sizeof *order, cmp_key_place);
    for (size_t i = 0; i < body->n_pairs; i++) {
        const struct ypair *kv = order[i];
        const struct ynode *k = kv->key;
        const struct svc_key *sk = find_service_key(k);
        if (!sk && is_extension(k))
            continue;
        if (!sk) {
            diag_warn_at(m->d, YPOS(k), "service %s: key %s is not a compose service key; ignored",
                         QS(s->name), QN(k));
            continue;
        }
        if (sk->fn)
            sk->fn(m, s, kv);
        if (sk->support == KEY_REFUSED && !asks_nothing(kv->value))
            refuse(m, s, k, "key %s", QN(k));
        else if (sk->support == KEY_IGNORED && k->line > 0)
            diag_unsupported_at(m->d, YPOS(k), "service %s: key %s %s; ignored", QS(s->name), QN(k),
                                why_ignored(sk->key));
    }
    finish_build(m, s);
    finish_procns(m, s);
    finish_files(m, s);
    finish_resources(m, s);
    finish_shape(m, s);
    finish_userns(m, s);
    if (!s->image && s->has_build) {
        /* docker compose's GetImageNameOrDefault, lowercased as a
         * reference must be */
        s->image = xasprintf("%s-%s", m->p->name ? m->p->name : "", s->name);
        for (char *c = s->image; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        s->image_default = true;
        s->image_pos = s->pos;
    }
    if (!s->image && !ymap_get(body, "image") && !ymap_get(body, "build") &&
        !ymap_get(body, "provider"))
        diag_error_at(m->d, YPOS(svc->key),
                      "service %s has neither an image nor a build context specified", QS(s->name));
}

static void build_services(struct model *m, const struct ynode *services)
{
    if (services->kind != YNODE_MAP) {
        diag_error_at(m->d, YPOS(services),
                      "services: expected a mapping of service names to services, got %s",
                      ynode_describe(services));
        return;
    }
    struct project *p = m->p;
    p->services = xcalloc(services->n_pairs, sizeof *p->services);
    for (size_t i = 0; i < services->n_pairs; i++) {
        const struct ypair *svc = &services->pairs[i];
        const struct ynode *k = svc->key;
        if (!valid_service_name(k)) {
            diag_error_at(m->d, YPOS(k),
                          "invalid service name %s: it must start with a letter or digit and "
                          "hold only letters, digits, \"_\", \".\" and \"-\"",
                          QN(k));
            continue;
        }
        struct service *s = &p->services[p->n_services++];
        s->name = xstrdup(k->str);
        s->pos = pos_of(m, k);
        s->stop_grace_ns = -1;
        s->replicas = 1;
        s->healthcheck = (struct svc_healthcheck){
            .interval_ns = -1,
            .timeout_ns = -1,
            .start_period_ns = -1,
            .start_interval_ns = -1,
            .retries = -1,
        };
        s->restart = (struct svc_restart){.policy = RESTART_NO, .delay_ns = -1, .window_ns = -1};
        build_service(m, s, svc);
    }
}

static const char *const unsupported_top_keys[] = {"include", "models", NULL};

int model_build(struct arena *a, const struct ynode *root, const struct envtab *env,
                struct project *p, struct diag *d)
{
    struct model m = {.a = a, .env = env, .p = p, .d = d, .root = root};
    size_t errors = d->n_errors;
    const struct ynode *services = NULL, *volumes = NULL, *networks = NULL;
    /* The tree is canonical (compose/canon.c): unknown keys were refused
     * there; here only the top-level keys berth can't honour yet warn. */
    for (size_t i = 0; i < root->n_pairs; i++) {
        const struct ynode *k = root->pairs[i].key;
        if (k->len == 8 && memcmp(k->str, "services", 8) == 0)
            services = root->pairs[i].value;
        else if (k->len == 7 && memcmp(k->str, "volumes", 7) == 0)
            volumes = root->pairs[i].value;
        else if (k->len == 8 && memcmp(k->str, "networks", 8) == 0)
            networks = root->pairs[i].value;
        else if (in_list(unsupported_top_keys, k) && k->line > 0)
            diag_unsupported_at(d, YPOS(k), "top-level key %s is not supported yet; ignored",
                                QN(k));
    }
    m.home = envtab_get(env, "HOME", 4);
    if (volumes && !ynode_is_null(volumes))
        build_volume_defs(&m, volumes);
    if (networks && !ynode_is_null(networks))
        build_network_defs(&m, networks);
    build_file_object_defs(&m, root);
    if (services && !ynode_is_null(services)) {
        build_services(&m, services);
        model_procns_shared(&m, services);
    }
    mark_used_networks(p);
    /* A project may have no (enabled) services: docker compose prints it
     * and makes its networks and volumes; `up` says when there is nothing
     * to start. */
    return d->n_errors > errors ? -EINVAL : 0;
}

void service_clear(struct service *s)
{
    free(s->name);
    free(s->image);
    svc_build_free(s->build);
    free(s->platform);
    strv_free(s->command);
    strv_free(s->entrypoint);
    strv_free(s->environment);
    free(s->working_dir);
    free(s->user);
    free(s->hostname);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free(s->mounts[i].source);
        free(s->mounts[i].target);
        free(s->mounts[i].propagation);
    }
    free(s->mounts);
    for (size_t i = 0; i < s->n_depends; i++)
        free(s->depends_on[i].service);
    free(s->depends_on);
    strv_free(s->healthcheck.test);
    free(s->container_name);
    strv_free(s->labels);
    strv_free(s->profiles);
    for (size_t i = 0; i < s->n_refused; i++)
        free(s->refused[i].what);
    free(s->refused);
    service_net_clear(s);
    service_procns_clear(s);
    service_files_clear(s);
    service_logs_clear(s);
    svc_res_clear(&s->res);
    service_sec_clear(s);
    *s = (struct service){0};
}
