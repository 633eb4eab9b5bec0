/* SPDX-License-Identifier: Apache-2.0 */
/* The decision of `up --wait` (cmd/up_wait.h): a state per awaited
 * container, advanced by the supervisor's streamed events, and the verdict
 * with its message. Pure: no socket, no clock, no output; the client that
 * feeds it is cmd/up_follow.c. */
#include <stdlib.h>
#include <string.h>

#include "cmd/up_wait.h"
#include "util/xalloc.h"

void upw_init(struct upw_ctr *c, const struct ctr_record *r)
{
    *c = (struct upw_ctr){
        .id = r->id,
        .name = r->name,
        .has_healthcheck = r->plan.health.enabled,
    };
}

void upw_fini(struct upw_ctr *c)
{
    free(c->error);
    c->error = NULL;
}

static enum upw_health health_parse(const char *s)
{
    if (!s || !*s)
        return UPW_HEALTH_NONE;
    if (strcmp(s, "healthy") == 0)
        return UPW_HEALTH_HEALTHY;
    if (strcmp(s, "unhealthy") == 0)
        return UPW_HEALTH_UNHEALTHY;
    return UPW_HEALTH_STARTING;
}

void upw_seed(struct upw_ctr *c, const struct run_state *st)
{
    /* one that does not run is started (again) by the request: its start
     * event says when */
    if (!st || !st->running)
        return;
    c->started = true;
    c->health = health_parse(st->health);
}

static void set_error(struct upw_ctr *c, const char *msg)
{
    free(c->error);
    c->error = xstrdup(msg && *msg ? msg : "failed to start");
    c->failed = true;
}

bool upw_apply(struct upw_ctr *c, const struct ev *e)
{
    if (e->type != EV_CONTAINER || !e->id || !e->action || strcmp(e->id, c->id) != 0)
        return false;
    const char *a = e->action;
    if (strcmp(a, "start") == 0) {
        c->started = true;
        c->exited = c->failed = false;
        c->exit_code = 0;
        c->restart = UPW_RESTART_UNKNOWN;
        c->health = c->has_healthcheck ? UPW_HEALTH_STARTING : UPW_HEALTH_NONE;
    } else if (strcmp(a, "health_status") == 0) {
        c->health = health_parse(ev_attr_get(e, "health_status"));
    } else if (strcmp(a, "die") == 0) {
        const char *code = ev_attr_get(e, "exitCode");
        c->exited = true;
        c->exit_code = code ? atoi(code) : 0;
        c->restart = UPW_RESTART_UNKNOWN;
    } else if (strcmp(a, "restart") == 0) {
        /* waiting to run again: its start (or error) follows */
        c->exited = false;
    } else if (strcmp(a, "error") == 0) {
        set_error(c, e->detail);
    }
    return true;
}

/* An exited container with a healthcheck it never passed: ready when it
 * exited for good (a one-shot job), pending while it is to restart. */
static bool exit_matters(const struct upw_ctr *c)
{
    return c->started && c->exited && c->exit_code == 0 && c->has_healthcheck &&
           c->health != UPW_HEALTH_HEALTHY && c->health != UPW_HEALTH_UNHEALTHY && !c->failed;
}

bool upw_needs_restart(const struct upw_ctr *c)
{
    return exit_matters(c) && c->restart == UPW_RESTART_UNKNOWN;
}

void upw_resolve_restart(struct upw_ctr *c, const struct run_state *st)
{
    c->restart = st && (st->restarting || st->running) ? UPW_RESTART_YES : UPW_RESTART_NO;
}

/* One container: UPW_FAILED with *msg, UPW_READY, or UPW_PENDING. */
static enum upw_verdict decide_one(const struct upw_ctr *c, char **msg)
{
    if (c->failed) {
        *msg = xasprintf("container %s: %s", c->name, c->error);
        return UPW_FAILED;
    }
    if (c->health == UPW_HEALTH_UNHEALTHY) {
        *msg = xasprintf("container %s is unhealthy", c->name);
        return UPW_FAILED;
    }
    if (c->exited && c->exit_code != 0) {
        *msg = xasprintf("container %s exited (%d)", c->name, c->exit_code);
        return UPW_FAILED;
    }
    if (!c->started)
        return UPW_PENDING;
    if (c->has_healthcheck && c->health != UPW_HEALTH_HEALTHY &&
        !(c->exited && c->restart == UPW_RESTART_NO))
        return UPW_PENDING;
    return UPW_READY;
}

enum upw_verdict upw_decide(const struct upw_ctr *c, size_t n, char **msg)
{
    *msg = NULL;
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        enum upw_verdict v = decide_one(&c[i], msg);
        if (v == UPW_FAILED)
            return v;
        all = all && v == UPW_READY;
    }
    return all ? UPW_READY : UPW_PENDING;
}
