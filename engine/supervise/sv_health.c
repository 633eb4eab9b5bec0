/* SPDX-License-Identifier: Apache-2.0 */
/* Healthchecks, run by the supervisor on any init system: each probe is a
 * process exec'd into the container's namespaces and cgroup with the
 * container's user and security settings; its exit status decides. The
 * loop never waits for a probe: its start is watched like its exit (see
 * struct sv_exec), so a container that stops its probes stalls only its
 * own health.
 * Docker's rules: "starting" until the first success; "healthy" after a
 * success; "unhealthy" after `retries` failures in a row, failures during
 * the start period not counting; probes every `interval` (every
 * `start_interval` during the start period); a probe past its timeout is
 * killed and fails.
 * Not here: running a process on the loop (sv_exec.c), the exec mechanics
 * (engine/runtime/exec.c), the healthcheck's settings (engine/plan/plan.c). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/runtime/ctrplan_sec.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/xalloc.h"

#define HEALTH_MIN_INTERVAL_MS 100  /* an interval of 1ns must not spin */
#define PROBE_OUTPUT_MAX       4096 /* kept, as Docker does */

static uint64_t ns_to_ms(int64_t ns)
{
    uint64_t ms = ns > 0 ? (uint64_t)(ns / 1000000) : 0;
    return ms < HEALTH_MIN_INTERVAL_MS ? HEALTH_MIN_INTERVAL_MS : ms;
}

static bool in_start_period(struct sv_ctr *c)
{
    uint64_t now = uv_now(&c->sv->loop);
    return c->rec.plan.health.start_period_ns > 0 &&
           now - c->health_since_ms < (uint64_t)(c->rec.plan.health.start_period_ns / 1000000);
}

static void on_health_timer(uv_timer_t *t);

static void schedule_next(struct sv_ctr *c)
{
    const struct plan_health *h = &c->rec.plan.health;
    int64_t next =
        c->health != H_HEALTHY && in_start_period(c) ? h->start_interval_ns : h->interval_ns;
    uv_timer_start(&c->health_timer, on_health_timer, ns_to_ms(next), 0);
}

static void probe_result(struct sv_ctr *c, const struct sv_exec *p)
{
    bool ok = !p->timed_out && !p->start_failed && p->exit.signal == 0 && p->exit.status == 0;
    /* Keep the tail of the output for messages (docker keeps 4096 bytes). */
    size_t n = p->out_len;
    while (n > 0 && (p->output[n - 1] == '\n' || p->output[n - 1] == '\r'))
        n--;
    size_t from = n > sizeof c->health_output - 1 ? n - (sizeof c->health_output - 1) : 0;
    if (p->timed_out) {
        char d[32];
        duration_go(c->rec.plan.health.timeout_ns, d, sizeof d);
        snprintf(c->health_output, sizeof c->health_output, "Health check exceeded timeout (%s)",
                 d);
    } else {
        memcpy(c->health_output, p->output + from, n - from);
        c->health_output[n - from] = '\0';
    }
    enum health before = c->health;
    if (ok) {
        c->failures = 0;
        c->health = H_HEALTHY;
    } else if (!(before == H_STARTING && in_start_period(c))) {
        c->failures++;
        if (c->failures >= c->rec.plan.health.retries)
            c->health = H_UNHEALTHY;
    }
    if (c->health != before) {
        sv_save_state(c);
        if (c->health == H_HEALTHY || c->health == H_UNHEALTHY) {
            bool good = c->health == H_HEALTHY;
            struct ev e;
            sv_ctr_ev(c, &e, "health_status", good ? "Healthy" : "Unhealthy");
            ev_attr_add(&e, "health_status", health_names[c->health]);
            if (!good && c->health_output[0])
                e.detail = c->health_output;
            sv_progress_ev(c, &e);
        }
        sv_check_waiters(c->sv);
        sv_schedule(c->sv);
    }
}

/* The probe is done (struct sv_exec). */
static void probe_done(struct sv_exec *p, void *owner)
{
    struct sv_ctr *c = owner;
    c->probe = NULL;
    probe_result(c, p);
    if (c->run && c->state == C_RUNNING)
        schedule_next(c);
}

static void run_probe(struct sv_ctr *c)
{
    const struct ctr_plan *pl = &c->rec.plan;
    struct exec_spec x = {
        .name = c->rec.name,
        .target_pidfd = c->run->proc.pidfd,
        .cgroup_rel = c->rec.cgroup,
        .argv = pl->health.test,
        .env = pl->env,
        .cwd = pl->cwd,
        .user = pl->user,
        .caps = pl->caps,
        .no_new_privs = pl->no_new_privs,
        .ulimits = pl->ulimits,
        .n_ulimits = pl->n_ulimits,
    };
    plan_sec_spec(pl, &x.sec);
    struct berr e = BERR_INIT;
    c->probe = sv_exec_start(c->sv, &x, PROBE_OUTPUT_MAX, ns_to_ms(pl->health.timeout_ns),
                             probe_done, c, &e);
    if (c->probe)
        return;
    /* A probe that cannot even be cloned is a failed probe. */
    char msg[PROBE_OUTPUT_MAX];
    snprintf(msg, sizeof msg, "%s", e.msg ? e.msg : "cannot run the healthcheck");
    berr_clear(&e);
    struct sv_exec failed = {.start_failed = true, .output = msg, .out_len = strlen(msg)};
    probe_result(c, &failed);
    if (c->run && c->state == C_RUNNING)
        schedule_next(c);
}

static void on_health_timer(uv_timer_t *t)
{
    struct sv_ctr *c = t->data;
    if (!c->run || c->run->reaped || c->state != C_RUNNING)
        return;
    if (c->paused || c->probe) {
        schedule_next(c); /* a paused container is not probed */
        return;
    }
    run_probe(c);
}

void sv_health_start(struct sv_ctr *c)
{
    if (!c->rec.plan.health.enabled)
        return;
    c->health_since_ms = uv_now(&c->sv->loop);
    schedule_next(c);
}

void sv_health_stop(struct sv_ctr *c)
{
    uv_timer_stop(&c->health_timer);
    struct sv_exec *p = c->probe;
    if (!p)
        return;
    c->probe = NULL;
    sv_exec_abandon(p);
}
