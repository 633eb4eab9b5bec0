/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's decisions that are pure logic, over small plain structs:
 * whether a depends_on condition lets a container start (and what happens
 * when it never will), whether a container whose run ended restarts, and
 * how long that restart waits (Docker's back-off).
 *
 * What it does not hold: no libuv, no supervisor or container pointer, no
 * I/O, no clock. The supervisor (supervisor.c) gathers the facts from its
 * containers, hands them over, and acts on the answer: it starts, fails,
 * warns, arms the timer. The time a run lasted is an argument.
 * tests/unit/test_sv_policy.c holds a table of cases per decision. */
#ifndef BERTH_SUPERVISE_POLICY_H
#define BERTH_SUPERVISE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* ---- dependency gates (depends_on) ------------------------------------ */

enum svp_condition {
    SVP_DEP_STARTED,   /* service_started */
    SVP_DEP_HEALTHY,   /* service_healthy */
    SVP_DEP_COMPLETED, /* service_completed_successfully */
};

/* What the gate sees of one container of the service depended on. */
struct svp_dep_ctr {
    const char *name;     /* the container's name, for the why */
    bool failed;          /* it could not start */
    bool ever_started;    /* its process ran at least once */
    bool exited;          /* it ended for good (not waiting for a restart) */
    bool has_healthcheck; /* its service has a test to run */
    bool healthy, unhealthy;
    int exit_code; /* of its last run */
};

enum svp_gate {
    SVP_GATE_OPEN,    /* this container lets the dependent start */
    SVP_GATE_WAIT,    /* not yet: ask again when something changes */
    SVP_GATE_BLOCKED, /* it never will: *why says why */
};

/* One container `o` of the service `service` that a container depends on
 * with condition `cond`. SVP_GATE_BLOCKED sets *why (heap, the caller
 * frees it) to the line the user sees; the other answers leave it alone. */
enum svp_gate svp_dep_gate(enum svp_condition cond, const char *service,
                           const struct svp_dep_ctr *o, char **why);

enum svp_verdict {
    SVP_START,        /* the dependency is met */
    SVP_WAIT,         /* not yet */
    SVP_FAIL,         /* it never will be and it is required: the dependent fails */
    SVP_START_ANYWAY, /* it never will be, but required: false: warn and go on */
};

/* What a dependency's gate means for the dependent, by `required`. */
enum svp_verdict svp_dep_verdict(enum svp_gate gate, bool required);

/* ---- restart policy --------------------------------------------------- */

enum svp_restart_policy {
    SVP_RESTART_NO,
    SVP_RESTART_ALWAYS,
    SVP_RESTART_ON_FAILURE,
    SVP_RESTART_UNLESS_STOPPED,
};

/* A run that ended, and the policy of its container. */
struct svp_exit {
    enum svp_restart_policy policy;
    int max_retries;       /* on-failure:N; 0 = unlimited */
    int exit_code;         /* of the run that ended */
    int restarts;          /* restarts of this container so far */
    bool stop_requested;   /* a user stopped it (stop, kill, down, rm) */
    bool project_stopping; /* the supervisor stops every container, or quits */
};

/* Docker's rule: nothing a user (or the whole project's stop) ended
 * restarts; always and unless-stopped restart every other exit; on-failure
 * a non-zero exit, at most N times when on-failure:N. */
bool svp_should_restart(const struct svp_exit *x);

/* ---- restart back-off ------------------------------------------------- */

/* Docker's numbers (moby's restartmanager): the first restart waits 100 ms,
 * each next one twice as long, up to a minute; a run that lasted 10 s
 * starts the doubling over. */
#define BACKOFF_START_MS 100
#define BACKOFF_MAX_MS   60000
#define BACKOFF_RESET_MS 10000 /* a run this long resets the back-off */

struct svp_backoff {
    uint64_t delay_ms; /* before the restart */
    int step;          /* the container's back-off step after this restart */
};

/* The restart of a container at back-off step `step` (0 after a start
 * request) whose run lasted ran_ms. */
struct svp_backoff svp_backoff_next(int step, uint64_t ran_ms);

#endif
