/* SPDX-License-Identifier: Apache-2.0 */
/* `up` in phases, for `up` itself and for the commands that bring
 * containers up too (`run` starts a one-off's dependencies with them,
 * `start` and `restart` hand records to a supervisor as `up` does):
 *
 *   plan     load the project, resolve images, plan every container
 *            (nothing is made yet: a missing image leaves nothing half-done)
 *   ports    the host ports to publish, free or already the project's
 *   orphans  containers of services no longer in the file: warn, or remove
 *   create   volumes, then create / keep / recreate / remove containers
 *   start    hand the records to a supervisor (a running one, a detached
 *            one, or this process)
 *   attach   the attached view: logs and progress until the stack ends
 *
 * struct up_opts carries what the flags decided; struct up the state the
 * phases share. The pure decisions (which services, how many replicas,
 * keep or recreate) are in cmd/up_decide.c, with unit tests. Not here:
 * `down` (cmd/cmd_down.c), the supervisor itself (engine/supervise). */
#ifndef BERTH_CMD_UP_H
#define BERTH_CMD_UP_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "cmd/project.h"
#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "engine/supervise/supervisor.h"
#include "util/err.h"
#include "util/sdnotify.h"

/* What the flags decided (all borrowed). */
struct up_opts {
    char *const *services; /* the services named (NULL or empty: all) */
    char *const *scale;    /* SERVICE=NUMBER values of --scale */
    const char *exit_from; /* --exit-code-from SERVICE */
    int64_t timeout_ns;    /* -t: the stop grace; -1: each service's */
    bool detach, wait, abort_on_exit, no_deps, force_recreate, no_recreate, remove_orphans;
    bool color;
    int build_when; /* enum cli_build_when (cmd/build.h): --build, --no-build */
};

/* One container of a service, from planning to start. */
struct up_item {
    const struct service *svc;
    struct image *img;
    bool owns_img; /* replicas share their service's image */
    int number;
    struct ctr_plan plan;
    char *id;
    char *cgroup;
    bool keep; /* an unchanged container that already runs */
};

/* The plan phase's result. */
struct up_plan {
    struct project *p;
    struct store *st;
    bool *want; /* per service of p: brought up */
    struct up_item *items;
    size_t n_items;
    char *config_files; /* the project's files, comma-separated (records keep it) */
};
void up_plan_free(struct up_plan *pl);
#define _cleanup_up_plan_ _cleanup_(up_plan_free)

/* The state the phases share; zero it with UP_INIT, free it with up_free. */
struct up {
    struct cli *c;
    const struct up_opts *o;
    struct sdnotify nf; /* the service manager that started this up, if any */
    struct up_plan pl;
    struct runtime rt;
    int lockfd;
    int ctl;                  /* the running supervisor, or -1 */
    struct ctr_list existing; /* the project's records (after create: the new ones) */
    struct ctr_record *start; /* what start hands on (shallow, in existing) */
    size_t n_start;
    int64_t since;         /* attached to a running supervisor: output from then on */
    struct supervisor *sv; /* attached: this process's own */
    struct sv_options so;
    char *nft_scope;  /* so's (cli_nft_scope) */
    char **nets_made; /* networks this up made (undone when it fails) */
};
#define UP_INIT                                                                                    \
    {                                                                                              \
        .nf = {.fd = -1}, .rt = RUNTIME_UNSET, .lockfd = -1, .ctl = -1                             \
    }
void up_free(struct up *u);
#define _cleanup_up_ _cleanup_(up_free)

int up_plan(struct up *u, struct berr *e);
int up_orphans(struct up *u, struct berr *e);
int up_create(struct up *u, struct berr *e);
int up_start(struct up *u, struct berr *e);
/* The start phase for records already created (`start`, `restart`,
 * `run -d`, and `up -d`): hands them to the project's running supervisor
 * (ctl, a connection to it), or with ctl -1 to a new detached one, made
 * with rt (NULL: a runtime of its own). lockfd: the project lock, which the
 * supervisor does not keep. Done when they have started; with wait, when
 * they are ready as `up --wait` means it (cmd/up_wait.h). */
int up_start_records(struct cli *c, const char *project, int ctl, struct runtime *rt,
                     const struct ctr_record *recs, size_t n, bool wait, int lockfd,
                     struct berr *e);
/* The same start, done when they have started, with the progress in p;
 * for a new detached supervisor, conn (may be NULL) receives a connection
 * to it that keeps it running until closed (cmd/project.h). */
int up_start_conn(struct cli *c, const char *project, int ctl, struct runtime *rt,
                  const struct ctr_record *recs, size_t n, int *conn, int lockfd,
                  struct cli_progress *p, struct berr *e);
/* The exit status of `up` (attached: the supervisor's), e filled when the
 * stack ended on an error. */
int up_attach(struct up *u, struct berr *e);

/* Networks (cmd/net_project.c): up_networks makes (or finds, external)
 * the networks the planned containers join, before any is created;
 * up_endpoints gives a container about to be created its address on each;
 * up_networks_undo removes what up_networks made, when the up fails. */
int up_networks(struct up *u, struct berr *e);
void up_networks_undo(struct up *u);
int up_endpoints(struct up *u, struct up_item *it, struct berr *e);

/* A kept container's x-berth-network changed (cmd/up_shape.c): its links
 * reshaped in place when it runs, its record rewritten. */
int up_shape_change(struct cli *c, const char *project, const struct ctr_record *old,
                    const struct net_shape *want, struct berr *e);

/* Ports (cmd/up_ports.c): before any network, address or container is
 * made, every fixed host port the planned containers publish (tcp and
 * udp; random ones not) is checked: two of them on one host port/proto
 * whose addresses overlap, or a port a bind test finds taken by anything
 * but this project's own supervisor, is one error naming the service, the
 * port, the ports entry's file:line and the holder. */
int up_ports_check(struct up *u, struct berr *e);

/* Every phase in order: what `up` does once its flags are parsed, and what
 * `run` does for a one-off's dependencies. */
int up_project(struct cli *c, const struct up_opts *o, struct berr *e);

/* --- the pure decisions (cmd/up_decide.c) -------------------------------- */

/* Per service of p: the named ones and, unless no_deps, what they depend
 * on; all of them when none is named. Heap, p->n_services + 1 entries. */
bool *up_wanted(const struct project *p, char *const *services, bool no_deps);

/* How many containers service s gets: --scale's SERVICE=N, else replicas
 * (at least 1). */
int up_replicas(const struct service *s, char *const *scale);

enum up_action {
    UP_CREATE,   /* no container of that name */
    UP_KEEP,     /* unchanged (or --no-recreate): keep it, and its writable layer */
    UP_RECREATE, /* changed (or --force-recreate): remove it, create it anew */
};
/* What to do for a planned container whose configuration hash is want,
 * given the existing record (NULL: none) with its hash (NULL: unknown). */
enum up_action up_decide(const struct ctr_record *old, const char *want, bool force_recreate,
                         bool no_recreate);

/* True when the record is a container of a wanted service that the plan
 * no longer has (scaled down): it goes. */
bool up_scaled_down(const struct project *p, const bool *want, const struct ctr_record *r,
                    const struct up_item *items, size_t n_items);

/* Whether two published ports cannot both be bound: the same proto and
 * fixed host port (a range with one container port is any free one in it:
 * never a clash), on addresses that overlap (no host IP or a wildcard
 * takes every address of its family; 127.0.0.1 and ::1 do not meet). */
bool up_ports_clash(const struct plan_port *a, const struct plan_port *b);

#endif
