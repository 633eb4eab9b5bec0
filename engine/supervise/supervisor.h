/* SPDX-License-Identifier: Apache-2.0 */
/* The project's supervisor: one libuv loop that is the parent of every
 * container's first process (no daemon, no per-container shim). It starts
 * containers from their records in dependency order, gated by depends_on
 * conditions; watches each through a pidfd (never waitpid(-1)); writes its
 * output to the container's log file (and hands each line to the sink of
 * its options, with every event: docker's create, start, die, ...; it
 * never prints); restarts it by its restart policy with
 * Docker's back-off; runs its healthcheck; stops it gracefully (stop signal,
 * grace period, SIGKILL) in reverse dependency order; records every state
 * change on disk for `ps`, `down` and the next command; and serves the
 * project's control socket ($BERTH_RUNROOT/<project>/sock, JSON lines) so
 * other `berth` commands can ask it to start, stop, kill, pause containers.
 *
 * Attached (`up`), the CLI process is the supervisor and ends when every
 * container has ended. Detached (`up -d`), the supervisor runs in its own
 * session as a child subreaper and ends when it has nothing left to watch.
 *
 * Ownership: the supervisor owns its containers and all libuv handles. */
#ifndef BERTH_SUPERVISE_SUPERVISOR_H
#define BERTH_SUPERVISE_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/events/event.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "util/err.h"
#include "util/sdnotify.h"

struct supervisor;

struct sv_options {
    const char *root; /* $BERTH_ROOT */
    const char *runroot;
    const char *project;
    /* This process is the attached `up`: a failed start stops the
     * project, a lost terminal (SIGHUP) too, and the "attach" event goes
     * out when it runs. */
    bool attached;
    /* Where its events and the containers' output lines go (the CLI's
     * renderer); zero: nowhere. The engine itself never prints. */
    struct ev_sink sink;
    bool abort_on_exit;         /* --abort-on-container-exit */
    const char *exit_code_from; /* --exit-code-from SERVICE (implies abort) */
    int events_fd;              /* -1, or where start progress goes as JSON lines */
    int64_t stop_timeout_ns;    /* up -t: the grace when it stops them; -1: each service's */
    /* NULL, or the service manager that started this attached `up`
     * (Type=notify): READY=1 once the first start request is complete as
     * `up --wait` defines it (so then the request waits for health, and a
     * container that fails or turns unhealthy before that ends the `up`);
     * STATUS= as containers change; STOPPING=1 and the time the stop needs
     * (EXTEND_TIMEOUT_USEC=) when the whole project stops. */
    const struct sdnotify *notify;
    /* The host's resolv.conf (the embedded DNS server's upstreams, the
     * containers' search and options); NULL: /etc/resolv.conf. */
    const char *resolv_conf;
    /* The name of the project's nftables table after "berth-" (net/nft.h):
     * the store's scope and the project (cmd/project.h); NULL: project. */
    const char *nft_scope;
};

struct supervisor *sv_new(struct runtime *rt, const struct sv_options *o);
void sv_free(struct supervisor *sv);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct supervisor *, sv_free)
#define _cleanup_supervisor_ _cleanup_(sv_freep)

/* Serves the control socket; fails when another supervisor serves it. */
int sv_listen(struct supervisor *sv, struct berr *e);

/* Serves fd (a connected stream socket, e.g. one end of a socketpair the
 * caller made before starting a detached supervisor) as a connection to
 * the control socket, as if accepted: the command that starts the
 * supervisor keeps a connection it cannot miss, whose requests (and, as a
 * connection that is not an event stream, whose mere presence) keep the
 * supervisor running. The supervisor owns fd from here on. */
int sv_serve_fd(struct supervisor *sv, int fd, struct berr *e);

/* Asks for containers (by record, copied) to run: they start when their
 * dependencies allow, in order. wait_healthy: the request (and the events
 * on events_fd) completes when each is healthy, rather than started: what
 * an attached `up` under a service manager calls ready (sv_options.notify).
 * `up --wait` does not use it: it decides from the event stream
 * (cmd/up_wait.h). */
int sv_request_start(struct supervisor *sv, const struct ctr_record *recs, size_t n,
                     bool wait_healthy, struct berr *e);

/* Runs the loop until the supervisor has nothing left to do. Returns the
 * exit status for an attached `up`, following docker compose: 0, or 130/143
 * when interrupted, or the container's status with --abort-on-container-exit
 * / --exit-code-from; 1 when a start failed. */
int sv_run(struct supervisor *sv);

/* The project's control socket path (heap). */
char *sv_socket_path(const char *runroot, const char *project);

#endif
