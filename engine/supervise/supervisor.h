/* The project's supervisor: one libuv loop that is the parent of every
 * container's first process. It watches each container through a pidfd
 * (never waitpid(-1)), streams its output line by line with a coloured
 * "service-1  | " prefix, stops containers gracefully on Ctrl-C / SIGTERM
 * (stop signal, grace period, then SIGKILL; a second Ctrl-C kills at once)
 * and records every state change on disk for `down`.
 *
 * Ownership: the supervisor owns its containers (struct sv_ctr) and all
 * libuv handles; containers are freed by sv_free after the loop ended. */
#ifndef BERTH_SUPERVISE_SUPERVISOR_H
#define BERTH_SUPERVISE_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/runtime/runtime.h"
#include "util/err.h"

struct supervisor;

struct sv_options {
    const char *runroot;
    const char *project;
    bool color;                 /* colour the log prefixes */
    bool abort_on_exit;         /* --abort-on-container-exit */
    const char *exit_code_from; /* --exit-code-from SERVICE (implies abort) */
};

struct sv_container_info {
    const char *name;     /* proj-web-1 */
    const char *log_name; /* web-1 */
    const char *service;
    int stop_signal;
    int64_t stop_grace_ns;
    bool tty; /* give the container a pseudo-terminal (compose `tty: true`) */
};

struct supervisor *sv_new(struct runtime *rt, const struct sv_options *o);
void sv_free(struct supervisor *sv);

/* Sets the width of the log prefix column (the longest log_name). */
void sv_set_prefix_width(struct supervisor *sv, int width);

/* Starts a container under the supervisor. spec's stdout/stderr are
 * replaced by the supervisor's pipes. */
int sv_start(struct supervisor *sv, const struct sv_container_info *info,
             const struct container_spec *spec, struct berr *e);

/* Prints "Attaching to ..." and runs the loop until every container has
 * exited. Returns the exit status for `up`, following docker compose:
 * 0, or 130/143 when interrupted, or the container's status with
 * --abort-on-container-exit / --exit-code-from. */
int sv_run(struct supervisor *sv);

/* Asks every container to stop (used when a start fails midway). */
void sv_stop_all(struct supervisor *sv, bool force);

#endif
