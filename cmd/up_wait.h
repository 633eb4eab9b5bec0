/* SPDX-License-Identifier: Apache-2.0 */
/* `up --wait`: when the containers it started are ready, decided from the
 * supervisor's event stream (engine/supervise/control.h, "events"), the
 * same events `berth events` prints.
 *
 * The decision (cmd/up_wait.c) is pure: per awaited container a small
 * state, seeded from the run state the supervisor gave before the start
 * ("state") and advanced by each streamed event of that container
 * (start, health_status, die, restart, error); the verdict is pending,
 * ready, or failed with the message the user sees ("container X is
 * unhealthy", "container X exited (N)", "container X: <start error>").
 * Ready means: every container has started and, when it has a
 * healthcheck, is healthy (or has exited 0 for good).
 *
 * The client (cmd/up_follow.c) starts the containers through a supervisor
 * and follows its stream until the verdict. Not here: the supervisor's
 * own start request and its answer (engine/supervise). */
#ifndef BERTH_CMD_UP_WAIT_H
#define BERTH_CMD_UP_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "engine/events/event.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "util/err.h"

enum upw_health {
    UPW_HEALTH_NONE, /* no healthcheck, or not running */
    UPW_HEALTH_STARTING,
    UPW_HEALTH_HEALTHY,
    UPW_HEALTH_UNHEALTHY,
};

/* Whether a container that exited is to run again: the die event does not
 * say; the supervisor's run state ("restarting") does. */
enum upw_restart {
    UPW_RESTART_UNKNOWN,
    UPW_RESTART_NO,  /* exited for good */
    UPW_RESTART_YES, /* backing off before a restart, or already restarted */
};

struct upw_ctr {
    const char *id;   /* borrowed from the record */
    const char *name; /* borrowed from the record */
    bool has_healthcheck;
    bool started;             /* it has run since it was asked to */
    bool exited;              /* its process ended (die) and it has not been restarted since */
    int exit_code;            /* of that end */
    enum upw_restart restart; /* when exited */
    enum upw_health health;
    bool failed; /* it could not be started */
    char *error; /* ... why (owned) */
};

enum upw_verdict {
    UPW_PENDING,
    UPW_READY,
    UPW_FAILED,
};

/* A container of record r, not known to have started. */
void upw_init(struct upw_ctr *c, const struct ctr_record *r);
void upw_fini(struct upw_ctr *c);

/* What the supervisor's run state (its "state" answer) says before the
 * start: a running container has started, with its health. */
void upw_seed(struct upw_ctr *c, const struct run_state *st);

/* Advances c by a streamed event; events of other containers (by id) and
 * actions that change nothing here are ignored. Returns whether e was c's. */
bool upw_apply(struct upw_ctr *c, const struct ev *e);

/* True when c exited 0, still needs its health, and only whether it will
 * restart decides (die does not say): the caller asks the supervisor and
 * calls upw_resolve_restart. */
bool upw_needs_restart(const struct upw_ctr *c);
/* st: the container's run state now (NULL: the supervisor is gone). */
void upw_resolve_restart(struct upw_ctr *c, const struct run_state *st);

/* The verdict over the containers, in order: the first failure wins (its
 * message in *msg, heap), else ready when every one is, else pending. */
enum upw_verdict upw_decide(const struct upw_ctr *c, size_t n, char **msg);

/* --- the client (cmd/up_follow.c) ---------------------------------------- */

/* `up --wait`'s start phase: starts the containers of recs (dependency
 * order) through the project's running supervisor (ctl, a connection to
 * it) or, with ctl -1, a new detached one (made with rt, NULL: its own;
 * lockfd: the project lock, which it does not keep), rendering the start's
 * progress into c->ui as `up -d` does; then follows the supervisor's event
 * stream until every container is ready (0) or one failed (e says which,
 * as the supervisor's own wait said it). */
int up_wait_start(struct cli *c, const char *project, int ctl, struct runtime *rt,
                  const struct ctr_record *recs, size_t n, int lockfd, struct berr *e);

#endif
