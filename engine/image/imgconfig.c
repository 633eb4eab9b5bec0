/* SPDX-License-Identifier: Apache-2.0 */
/* The image config blob parsed into what the runtime needs (Env, Cmd,
 * Entrypoint, User, WorkingDir, StopSignal, Healthcheck, ...) and the layer
 * DiffIDs, with bounded JSON loading. Not here: manifests and indexes
 * (engine/image/manifest.c), applying defaults to a container (engine/plan/). */
#include "engine/image/imgconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/image/digest.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

int image_json_load(const char *buf, size_t len, const char *what, json_t **out, struct berr *e)
{
    if (len > IMAGE_JSON_MAX)
        return berr_set(e, -EFBIG, "%s: too large (%zu bytes, limit %u)", what, len,
                        IMAGE_JSON_MAX);
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return berr_set(e, -EINVAL, "%s: invalid JSON at line %d: %s", what, je.line, je.text);
    *out = j;
    return 0;
}

static int opt_string(json_t *obj, const char *key, const char *what, char **out, struct berr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return berr_set(e, -EINVAL, "%s: \"%s\" must be a string", what, key);
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int opt_strv(json_t *obj, const char *key, const char *what, char ***out, struct berr *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return berr_set(e, -EINVAL, "%s: \"%s\" must be an array of strings", what, key);
    char **r = xcalloc(1, sizeof(char *));
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it)) {
            strv_free(r);
            return berr_set(e, -EINVAL, "%s: \"%s\" must be an array of strings", what, key);
        }
        strv_push(&r, xstrdup(json_string_value(it)));
    }
    *out = r;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* config.Volumes: an object whose keys are the paths ({"/data": {}}). */
static int parse_volumes(json_t *cfg, const char *what, char ***out, struct berr *e)
{
    json_t *v = json_object_get(cfg, "Volumes");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return berr_set(e, -EINVAL, "%s: \"Volumes\" must be an object", what);
    if (json_object_size(v) > IMAGE_VOLUMES_MAX)
        return berr_set(e, -E2BIG, "%s: %zu Volumes declared (at most %d)", what,
                        json_object_size(v), IMAGE_VOLUMES_MAX);
    char **r = xcalloc(json_object_size(v) + 1, sizeof(char *));
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        if (!*key || strlen(key) > 4096) {
            strv_free(r);
            return berr_set(e, -EINVAL, "%s: a Volumes path is empty or too long", what);
        }
        (void)val;
        r[n++] = xstrdup(key);
    }
    xqsort(r, n, sizeof *r, cmp_str);
    *out = r;
    return 0;
}

void imgconfig_free(struct imgconfig *c)
{
    if (!c)
        return;
    free(c->created);
    free(c->architecture);
    free(c->os);
    free(c->variant);
    strv_free(c->entrypoint);
    strv_free(c->cmd);
    strv_free(c->env);
    free(c->working_dir);
    free(c->user);
    free(c->stop_signal);
    strv_free(c->health_test);
    strv_free(c->volumes);
    strv_free(c->diff_ids);
    memset(c, 0, sizeof *c);
}

int imgconfig_parse(const char *buf, size_t len, const char *what, struct imgconfig *out,
                    struct berr *e)
{
    memset(out, 0, sizeof *out);
    json_t *root = NULL;
    int r = image_json_load(buf, len, what, &root, e);
    if (r < 0)
        return r;
    struct imgconfig c = {0};
    if (!json_is_object(root)) {
        r = berr_set(e, -EINVAL, "%s: image config must be a JSON object", what);
        goto out;
    }
    if ((r = opt_string(root, "created", what, &c.created, e)) < 0 ||
        (r = opt_string(root, "architecture", what, &c.architecture, e)) < 0 ||
        (r = opt_string(root, "os", what, &c.os, e)) < 0 ||
        (r = opt_string(root, "variant", what, &c.variant, e)) < 0)
        goto out;
    json_t *cfg = json_object_get(root, "config");
    if (cfg && !json_is_null(cfg)) {
        if (!json_is_object(cfg)) {
            r = berr_set(e, -EINVAL, "%s: \"config\" must be an object", what);
            goto out;
        }
        if ((r = opt_strv(cfg, "Entrypoint", what, &c.entrypoint, e)) < 0 ||
            (r = opt_strv(cfg, "Cmd", what, &c.cmd, e)) < 0 ||
            (r = opt_strv(cfg, "Env", what, &c.env, e)) < 0 ||
            (r = opt_string(cfg, "WorkingDir", what, &c.working_dir, e)) < 0 ||
            (r = opt_string(cfg, "User", what, &c.user, e)) < 0 ||
            (r = opt_string(cfg, "StopSignal", what, &c.stop_signal, e)) < 0 ||
            (r = parse_volumes(cfg, what, &c.volumes, e)) < 0)
            goto out;
        json_t *hc = json_object_get(cfg, "Healthcheck");
        if (hc && !json_is_null(hc)) {
            if (!json_is_object(hc)) {
                r = berr_set(e, -EINVAL, "%s: \"Healthcheck\" must be an object", what);
                goto out;
            }
            if ((r = opt_strv(hc, "Test", what, &c.health_test, e)) < 0)
                goto out;
            /* Durations are integers of nanoseconds; negative ones are
             * refused, as Docker refuses them. */
            static const char *const keys[] = {"Interval", "Timeout", "StartPeriod",
                                               "StartInterval"};
            int64_t *dst[] = {&c.health_interval_ns, &c.health_timeout_ns,
                              &c.health_start_period_ns, &c.health_start_interval_ns};
            for (size_t k = 0; k < 4; k++) {
                json_t *v = json_object_get(hc, keys[k]);
                if (!v || json_is_null(v))
                    continue;
                if (!json_is_integer(v) || json_integer_value(v) < 0) {
                    r = berr_set(e, -EINVAL, "%s: Healthcheck.%s must be a duration in ns", what,
                                 keys[k]);
                    goto out;
                }
                *dst[k] = json_integer_value(v);
            }
            json_t *rv = json_object_get(hc, "Retries");
            if (rv && !json_is_null(rv)) {
                if (!json_is_integer(rv) || json_integer_value(rv) < 0 ||
                    json_integer_value(rv) > 1000000) {
                    r = berr_set(e, -EINVAL, "%s: Healthcheck.Retries must be a small count", what);
                    goto out;
                }
                c.health_retries = (int)json_integer_value(rv);
            }
        }
    }
    json_t *rootfs = json_object_get(root, "rootfs");
    json_t *ids = json_is_object(rootfs) ? json_object_get(rootfs, "diff_ids") : NULL;
    if (!json_is_array(ids)) {
        r = berr_set(e, -EINVAL, "%s: missing rootfs.diff_ids", what);
        goto out;
    }
    json_t *typ = json_object_get(rootfs, "type");
    if (!json_is_string(typ) || strcmp(json_string_value(typ), "layers") != 0) {
        r = berr_set(e, -EINVAL, "%s: rootfs.type must be \"layers\"", what);
        goto out;
    }
    c.diff_ids = xcalloc(1, sizeof(char *));
    size_t i;
    json_t *it;
    json_array_foreach(ids, i, it)
    {
        const char *d = json_string_value(it);
        _cleanup_free_ char *ctx = xasprintf("%s: rootfs.diff_ids[%zu]", what, i);
        if ((r = digest_validate(d, ctx, e)) < 0)
            goto out;
        strv_push(&c.diff_ids, xstrdup(d));
        c.n_diff_ids++;
    }
    *out = c;
    memset(&c, 0, sizeof c);
    r = 0;
out:
    imgconfig_free(&c);
    json_decref(root);
    return r;
}

int rfc3339_parse(const char *s, long long *out)
{
    if (!s)
        return -EINVAL;
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n == 0)
        return -EINVAL;
    const char *p = s + n;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2)
            return -EINVAL;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 1 + m;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    *out = (long long)timegm(&tm) - off;
    return 0;
}
