/* SPDX-License-Identifier: Apache-2.0 */
/* berth's own service extension x-berth-network: rate limits for what a
 * container sends (egress) and receives (ingress), and netem's delay,
 * jitter and loss on what it sends, in tc's syntaxes (compose/tcunits.h),
 * checked into struct svc_shape. docker compose ignores x- keys, so a
 * file using it stays portable. Not here: applying it (net/shape.c). */
#include <errno.h>
#include <string.h>

#include "compose/model_internal.h"
#include "compose/tcunits.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define SHAPE_KEY "x-berth-network"

/* A rate or a time: its text parsed, its error said with what it is
 * (what: "rate"), its range and a hint of its syntax. */
static int shape_u64(struct model *m, const struct service *s, const char *key,
                     const struct ynode *v, int (*parse)(const char *, uint64_t *),
                     const char *what, const char *range, const char *hint, uint64_t *out)
{
    const char *t = want_string(m, s, key, v);
    if (!t)
        return -EINVAL;
    int r = parse(t, out);
    if (r == -ERANGE)
        svc_error(m, s, v, key, "%s %s is out of range (%s)", what, QN(v), range);
    else if (r < 0)
        svc_error(m, s, v, key, "invalid %s %s (%s)", what, QN(v), hint);
    return r;
}

static int shape_rate(struct model *m, const struct service *s, const char *key,
                      const struct ynode *v, uint64_t *out)
{
    return shape_u64(m, s, key, v, tc_rate_parse, "rate", "8kbit to 17gbit",
                     "a number with bit, kbit, mbit, gbit, kibit, mibit, gibit, or bps, kbps, "
                     "mbps, gbps for bytes, as tc writes them: \"10mbit\"",
                     out);
}

static int shape_time(struct model *m, const struct service *s, const char *key,
                      const struct ynode *v, uint64_t *out)
{
    return shape_u64(m, s, key, v, tc_time_parse, "time", "at most 60s",
                     "a number with us, ms or s: \"50ms\"", out);
}

static int shape_percent(struct model *m, const struct service *s, const char *key,
                         const struct ynode *v, double *out)
{
    const char *t = want_string(m, s, key, v);
    if (!t)
        return -EINVAL;
    int r = tc_percent_parse(t, out);
    if (r < 0)
        svc_error(m, s, v, key, "invalid percentage %s (0%% to 100%%: \"1%%\")", QN(v));
    return r;
}

static bool sub_is(const struct ynode *k, const char *name)
{
    return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

void key_x_berth_network(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    struct svc_shape sh = {0};
    s->shape = (struct svc_shape){0};
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, SHAPE_KEY,
                  "expected a mapping (egress, ingress, delay, jitter, loss), got %s",
                  ynode_describe(v));
        return;
    }
    const struct ynode *jitter_at = NULL;
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        _cleanup_free_ char *key = xasprintf(SHAPE_KEY ".%.*s", (int)k->len, k->str);
        int r;
        if (sub_is(k, "egress"))
            r = shape_rate(m, s, key, val, &sh.egress_bits);
        else if (sub_is(k, "ingress"))
            r = shape_rate(m, s, key, val, &sh.ingress_bits);
        else if (sub_is(k, "delay"))
            r = shape_time(m, s, key, val, &sh.delay_us);
        else if (sub_is(k, "jitter"))
            r = shape_time(m, s, key, val, &sh.jitter_us), jitter_at = val;
        else if (sub_is(k, "loss"))
            r = shape_percent(m, s, key, val, &sh.loss_pct);
        else {
            /* berth's own key: a misspelt limit must not pass silently */
            svc_error(m, s, k, SHAPE_KEY,
                      "unknown key %s (berth knows egress, ingress, delay, jitter, loss)", QN(k));
            r = -EINVAL;
        }
        if (r < 0)
            return;
    }
    if (sh.jitter_us && !sh.delay_us) {
        svc_error(m, s, jitter_at, SHAPE_KEY ".jitter", "jitter needs a delay");
        return;
    }
    sh.set = sh.egress_bits || sh.ingress_bits || sh.delay_us || sh.loss_pct > 0;
    s->shape = sh;
}

void finish_shape(struct model *m, struct service *s)
{
    const char *mode = s->network_mode;
    if (!s->shape.set || !mode)
        return;
    const struct ynode *at = ymap_get(m->body, SHAPE_KEY);
    if (!at)
        return;
    if (strcmp(mode, "none") == 0) {
        diag_warn_at(m->d, YPOS(at),
                     "service %s: " SHAPE_KEY ": network_mode: none gives the container no "
                     "network to shape; ignored",
                     QS(s->name));
        s->shape = (struct svc_shape){0};
    } else if (strcmp(mode, "host") == 0) {
        diag_error_at(m->d, YPOS(at),
                      "service %s: " SHAPE_KEY ": network_mode: host uses the host's own "
                      "network, which berth does not shape; remove one of the two",
                      QS(s->name));
    } else if (strncmp(mode, "service:", 8) == 0 || strncmp(mode, "container:", 10) == 0) {
        diag_error_at(m->d, YPOS(at),
                      "service %s: " SHAPE_KEY ": network_mode: %s shares another container's "
                      "network; set " SHAPE_KEY " on that one",
                      QS(s->name), mode);
    }
}
