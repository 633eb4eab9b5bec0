/* SPDX-License-Identifier: Apache-2.0 */
/* A service's logging, lifecycle hooks and attach as the container plan's:
 * copied as the file gives them (defaults stay zero, see struct
 * plan_logging). Not here: what they do (engine/supervise). */
#include "engine/plan/plan.h"

#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

static struct plan_hook *hooks(const struct svc_hook *h, size_t n)
{
    if (n == 0)
        return NULL;
    struct plan_hook *out = xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].argv = strv_dup(h[i].command);
        out[i].user = h[i].user ? xstrdup(h[i].user) : NULL;
        out[i].cwd = h[i].working_dir ? xstrdup(h[i].working_dir) : NULL;
        out[i].env = h[i].environment ? strv_dup(h[i].environment) : NULL;
        out[i].privileged = h[i].privileged;
    }
    return out;
}

void plan_logs(const struct service *s, struct ctr_plan *out)
{
    const struct svc_logging *l = &s->logging;
    /* json-file written out is the default: the same config as none. */
    if (l->driver && strcmp(l->driver, "json-file") != 0)
        out->logging.driver = xstrdup(l->driver);
    out->logging.max_size = l->max_size;
    out->logging.max_file = l->max_file;
    out->logging.compress = l->compress;
    out->logging.tag = l->tag ? xstrdup(l->tag) : NULL;
    out->post_start = hooks(s->post_start, s->n_post_start);
    out->n_post_start = s->n_post_start;
    out->pre_stop = hooks(s->pre_stop, s->n_pre_stop);
    out->n_pre_stop = s->n_pre_stop;
    out->no_attach = s->no_attach;
}
