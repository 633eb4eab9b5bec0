/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's pure decisions (policy.h): depends_on gates, the
 * restart policy and the restart back-off. Nothing here touches the loop,
 * a container or the clock; the messages are the ones the user has always
 * seen, word for word. */
#include "engine/supervise/policy.h"

#include <stddef.h>

#include "util/xalloc.h"

enum svp_gate svp_dep_gate(enum svp_condition cond, const char *service,
                           const struct svp_dep_ctr *o, char **why)
{
    if (o->failed) {
        *why = xasprintf("dependency %s failed to start", o->name);
        return SVP_GATE_BLOCKED;
    }
    switch (cond) {
    case SVP_DEP_STARTED:
        return o->ever_started ? SVP_GATE_OPEN : SVP_GATE_WAIT;
    case SVP_DEP_HEALTHY:
        if (!o->has_healthcheck) {
            *why = xasprintf("dependency %s has no healthcheck configured", o->name);
            return SVP_GATE_BLOCKED;
        }
        if (o->unhealthy) {
            *why = xasprintf("dependency failed to start: container %s is unhealthy", o->name);
            return SVP_GATE_BLOCKED;
        }
        if (o->exited && !o->healthy) {
            *why = xasprintf("dependency failed to start: container %s exited (%d)", o->name,
                             o->exit_code);
            return SVP_GATE_BLOCKED;
        }
        return o->healthy ? SVP_GATE_OPEN : SVP_GATE_WAIT;
    case SVP_DEP_COMPLETED:
        if (!o->exited)
            return SVP_GATE_WAIT;
        if (o->exit_code != 0) {
            *why = xasprintf("service \"%s\" didn't complete successfully: exit %d", service,
                             o->exit_code);
            return SVP_GATE_BLOCKED;
        }
        return SVP_GATE_OPEN;
    }
    return SVP_GATE_WAIT; /* not a condition: never opens */
}

enum svp_verdict svp_dep_verdict(enum svp_gate gate, bool required)
{
    switch (gate) {
    case SVP_GATE_OPEN:
        return SVP_START;
    case SVP_GATE_BLOCKED:
        return required ? SVP_FAIL : SVP_START_ANYWAY;
    case SVP_GATE_WAIT:
        break;
    }
    return SVP_WAIT;
}

bool svp_should_restart(const struct svp_exit *x)
{
    if (x->stop_requested || x->project_stopping)
        return false;
    switch (x->policy) {
    case SVP_RESTART_ALWAYS:
    case SVP_RESTART_UNLESS_STOPPED:
        return true;
    case SVP_RESTART_ON_FAILURE:
        return x->exit_code != 0 && (x->max_retries == 0 || x->restarts < x->max_retries);
    case SVP_RESTART_NO:
        break;
    }
    return false;
}

struct svp_backoff svp_backoff_next(int step, uint64_t ran_ms)
{
    if (ran_ms >= BACKOFF_RESET_MS)
        step = 0;
    /* beyond 10 doublings the cap holds anyway; the shift stays defined */
    uint64_t delay = (uint64_t)BACKOFF_START_MS << (step < 10 ? step : 10);
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    return (struct svp_backoff){.delay_ms = delay, .step = step + 1};
}
