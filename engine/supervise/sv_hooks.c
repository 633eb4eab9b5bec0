/* SPDX-License-Identifier: Apache-2.0 */
/* Lifecycle hooks: post_start, run right after the container starts, and
 * pre_stop, run before its stop signal. Each hook is a process exec'd into
 * the container as `exec` runs one (its user, working_dir and environment
 * over the container's), on the loop as a healthcheck probe is: the loop
 * never waits for it. The hooks of a list run one after the other; their
 * output goes to the container's log. A post_start that fails (or cannot
 * start) stops the container and fails its start, as docker compose does;
 * pre_stop's failure is said, and the stop goes on. Each hook is bounded:
 * post_start by HOOK_TIMEOUT_MS, pre_stop by the stop's grace period.
 * Not here: running a process on the loop (sv_exec.c), the exec mechanics
 * (engine/runtime/exec.c). */
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
#include "util/strv.h"
#include "util/xalloc.h"

#define HOOK_TIMEOUT_MS 60000 /* post_start */
#define HOOK_OUTPUT_MAX 8192  /* kept for the log; the rest is read and dropped */

/* Which hook of which list a running sv_exec is (its owner is the
 * container; this rides along in a small struct the callback frees). */
struct hook_run {
    struct sv_ctr *c;
    bool pre_stop;
    size_t index;     /* in the plan's list */
    int64_t grace_ns; /* the stop's (-1: the service's), handed on */
};

static void hook_next(struct sv_ctr *c, bool pre_stop, size_t index, int64_t grace_ns);

/* The hook's output, line by line, into the container's log. */
static void hook_output_to_log(struct sv_ctr *c, const struct sv_exec *x)
{
    size_t start = 0;
    for (size_t i = 0; i <= x->out_len; i++)
        if (i == x->out_len || x->output[i] == '\n') {
            if (i > start)
                sv_log_line(c, 0, x->output + start, i - start);
            start = i + 1;
        }
}

static const char *hook_key(bool pre_stop)
{
    return pre_stop ? "pre_stop" : "post_start";
}

/* The hook is done: said, and the next one (or what follows the list). */
static void hook_result(struct sv_ctr *c, const struct hook_run *h, const struct sv_exec *x)
{
    hook_output_to_log(c, x);
    bool ok = !x->timed_out && !x->start_failed && x->exit.signal == 0 && x->exit.status == 0;
    if (ok) {
        hook_next(c, h->pre_stop, h->index + 1, h->grace_ns);
        return;
    }
    _cleanup_free_ char *why = x->timed_out      ? xstrdup("did not finish in time")
                               : x->start_failed ? xstrdup("could not start")
                               : x->exit.signal
                                   ? xasprintf("was killed by signal %d", x->exit.signal)
                                   : xasprintf("exited with code %d", x->exit.status);
    _cleanup_free_ char *msg = xasprintf("service \"%s\": %s hook %zu %s", c->rec.service,
                                         hook_key(h->pre_stop), h->index + 1, why);
    if (h->pre_stop) {
        sv_warn(c, "%s; stopping it anyway", msg);
        hook_next(c, true, SIZE_MAX, h->grace_ns);
        return;
    }
    sv_hooks_post_start_failed(c, msg);
}

static void hook_done(struct sv_exec *x, void *owner)
{
    struct hook_run *h = owner;
    struct sv_ctr *c = h->c;
    c->hook = NULL;
    c->hook_run = NULL;
    hook_result(c, h, x);
    free(h);
}

/* Runs hook index of the list, or ends the list: post_start's end lets the
 * start be reported; pre_stop's goes on with the stop. */
static void hook_next(struct sv_ctr *c, bool pre_stop, size_t index, int64_t grace_ns)
{
    const struct ctr_plan *pl = &c->rec.plan;
    size_t n = pre_stop ? pl->n_pre_stop : pl->n_post_start;
    bool alive = c->run && !c->run->reaped && c->state == C_RUNNING;
    if (index >= n || !alive) {
        if (pre_stop) {
            if (alive)
                sv_stop_ctr(c, false, grace_ns);
        } else {
            c->hooks_pending = false;
            if (alive)
                sv_progress(c, "start", "Started", NULL);
            sv_check_waiters(c->sv);
        }
        return;
    }
    const struct plan_hook *ph = pre_stop ? &pl->pre_stop[index] : &pl->post_start[index];
    _cleanup_strv_ char **env = strv_dup(pl->env);
    for (size_t i = 0; ph->env && ph->env[i]; i++)
        strv_env_put(&env, ph->env[i]);
    struct exec_spec x = {
        .name = c->rec.name,
        .target_pidfd = c->run->proc.pidfd,
        .cgroup_rel = c->rec.cgroup,
        .argv = ph->argv,
        .env = env,
        .cwd = ph->cwd ? ph->cwd : pl->cwd,
        .user = ph->user ? ph->user : pl->user,
        .caps = pl->caps,
        .no_new_privs = pl->no_new_privs,
        .ulimits = pl->ulimits,
        .n_ulimits = pl->n_ulimits,
    };
    /* The container's confinement (seccomp profile, groups, AppArmor),
     * all of it lifted for a privileged hook, as exec --privileged. */
    plan_sec_spec(pl, &x.sec);
    x.sec.privileged = x.sec.privileged || ph->privileged;
    int64_t grace = grace_ns >= 0 ? grace_ns : pl->stop_grace_ns;
    uint64_t ms = pre_stop ? (uint64_t)(grace > 0 ? grace / 1000000 : 0) : HOOK_TIMEOUT_MS;
    struct hook_run *h = xcalloc(1, sizeof *h);
    *h = (struct hook_run){.c = c, .pre_stop = pre_stop, .index = index, .grace_ns = grace_ns};
    struct berr e = BERR_INIT;
    c->hook = sv_exec_start(c->sv, &x, HOOK_OUTPUT_MAX, ms, hook_done, h, &e);
    if (c->hook) {
        c->hook_run = h;
        return;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "%s", e.msg ? e.msg : "cannot run the hook");
    berr_clear(&e);
    struct sv_exec failed = {.start_failed = true, .output = msg, .out_len = strlen(msg)};
    hook_result(c, h, &failed);
    free(h);
}

bool sv_hooks_post_start(struct sv_ctr *c)
{
    if (c->rec.plan.n_post_start == 0)
        return false;
    c->hooks_pending = true;
    hook_next(c, false, 0, 0);
    return true;
}

bool sv_hooks_pre_stop(struct sv_ctr *c, int64_t grace_ns)
{
    if (c->pre_stop_started)
        return c->hook != NULL; /* running: the stop waits for it */
    c->pre_stop_started = true;
    /* post_start still running: it is cut short, the stop goes on */
    sv_hooks_stop(c);
    if (c->rec.plan.n_pre_stop == 0)
        return false;
    hook_next(c, true, 0, grace_ns);
    return c->hook != NULL;
}

void sv_hooks_stop(struct sv_ctr *c)
{
    c->hooks_pending = false;
    if (!c->hook)
        return;
    sv_exec_abandon(c->hook);
    free(c->hook_run);
    c->hook = NULL;
    c->hook_run = NULL;
}
