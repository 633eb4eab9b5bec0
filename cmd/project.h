/* SPDX-License-Identifier: Apache-2.0 */
/* What most commands start with: the project (from the compose files, or
 * from -p alone where a command allows it), its container records, and the
 * supervisor, if one runs. */
#ifndef BERTH_CMD_PROJECT_H
#define BERTH_CMD_PROJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "util/err.h"

/* Prints the containers' output from since_ns on (wall clock), as an
 * attached `up` does, following it until none of them runs or is about to
 * restart, or until a signal arrives on sigfd (a signalfd, or -1): returns
 * that signal's number, else 0. (cmd/cmd_logs.c) */
int cli_logs_attach(struct cli *c, const char *project, const struct ctr_record *recs, size_t n,
                    bool color, int64_t since_ns, int sigfd);

enum {
    RM_SAY = 1,  /* print compose's " Container x  Removing" / "Removed" lines */
    RM_ANON = 2, /* also remove its anonymous volumes */
};

/* Removes a container that no longer runs: tells the supervisor (ctl, or
 * -1) to forget it, kills what may be left in its cgroup and removes the
 * cgroup with the parents it leaves empty, then its record and run state
 * (and with RM_ANON its anonymous volumes). A cgroup that cannot be
 * emptied (or removed) refuses the removal, naming the processes left,
 * and keeps everything for a later attempt; past it, every step is tried
 * and the first error is returned. */
int cli_remove_container(struct cli *c, const char *project, int ctl, const struct ctr_record *r,
                         unsigned flags, struct berr *e);

/* The top of a store's cgroup tree (the tree is BASE/PROJECT/SERVICE/
 * CONTAINER): "berth" for the default store, "berth-" and the first 8 hex
 * digits of the sha256 of the store's canonical path for any other, so that
 * two stores on one host (two users' roots, two build trees' tests) never
 * see, count or kill each other's containers. canon_root and
 * canon_default are canonical paths (realpath). */
char *cli_cgroup_base(const char *canon_root, const char *canon_default);

/* Where a build's RUN steps get their cgroups: BASE/_build (no project
 * name starts with "_"). */
int cli_build_cgroup(const char *root, char **out, struct berr *e);

/* A container's cgroup path relative to each hierarchy's root, under the
 * base of the store at root (which must exist). */
int cli_cgroup_rel(const char *root, const char *project, const char *service,
                   const char *container, char **out, struct berr *e);
/* With the plan's cgroup_parent, *rel (cli_cgroup_rel's) becomes
 * PARENT/CONTAINER, as Docker places it (cmd/procns_cli.c). */
void cli_cgroup_parent(char **rel, const struct ctr_plan *pl);
/* pid and ipc container:NAME for a one-off (plan_find_ctr_fn): a pidfd of
 * the project's running container NAME, from its run state. ctx: a
 * struct cli_procns_ctx. */
struct cli_procns_ctx {
    const char *runroot, *project;
};
int cli_procns_find(void *ctx, const char *name, int *pidfd, struct berr *e);

/* What names the project's nftables table (net/nft.h) among every
 * store's on the host, as the cgroup base does: the project's name for the
 * default store, "HASH-PROJECT" (the base's 8 hex digits) for another. */
char *cli_nft_scope(const char *root, const char *project);

/* The service's image from the store, pulled first as its pull_policy
 * says; a missing one is said with what to do about it, and one of another
 * platform than the service's, or than this host's, is refused. */
int cli_service_image(struct store *st, const struct service *s, struct image **out,
                      struct berr *e);

/* Pulls the service's image from its registry (plain-HTTP loopback ones
 * only in this version; another's error names the service, and says the
 * image is not in the store unless present). quiet: no "Pulling" line. */
int cli_service_pull(struct store *st, const struct service *s, bool present, bool quiet,
                     struct berr *e);

/* What `pull` and `push` are given: -q, --ignore-*-failures and
 * --include-deps, the project, and the services to act on (the named ones,
 * all when none; with include_deps what they depend on, transitively):
 * want[i] for service i. */
struct svc_images_cmd {
    bool quiet, ignore_failures, include_deps;
    struct project *p;
    bool *want;
};
void svc_images_cmd_free(struct svc_images_cmd *o);

/* Parses the command's flags and loads the project. 0 when the command is
 * to run; a status to exit with (0 after --help, 2 after a usage error);
 * or a negative code with e filled (an unknown service names it). */
int cli_svc_images_cmd(struct cli *c, const char *name, int argc, char **argv,
                       struct svc_images_cmd *o, struct berr *e);
/* Pushes the wanted services' images as `berth push` does: each image
 * once, in file order; those the project does not build are skipped. */
int cli_push_services(struct store *st, const struct project *p, const bool *want,
                      const struct svc_images_cmd *o, struct berr *e);
/* Whether the service's pull_policy schedule (daily, weekly, every_N) says
 * its image is due: last pulled (or loaded) that long ago, or unknown. */
bool cli_service_pull_due(struct store *st, const struct service *s);

/* -t/--timeout SECONDS (a whole number, 0 or more) in ns; prints the
 * error and returns -1 when invalid. */
int cli_parse_timeout(const char *s, int64_t *ns);

/* Loads the compose files with the global options (-f, -p, --env-file,
 * --profile); services named on the command line have their profiles
 * enabled, as docker compose does (NULL or empty: none named). */
int cli_load_project(struct cli *c, char *const *services, struct project **out, struct berr *e);

/* The project name: from the compose files, or from -p alone when no file
 * is found (commands such as down, ps, logs work without the file, as
 * docker compose's do). *p is the loaded project or NULL. */
int cli_project_name(struct cli *c, char *const *services, char **name, struct project **p,
                     struct berr *e);

/* The project's containers (one-off `run` containers only with oneoff),
 * optionally only those of the named services (NULL-terminated, may be
 * NULL); sorted by service then number. Unknown service names are an error
 * when the project file is known. */
int cli_project_containers(struct cli *c, const char *name, const struct project *p,
                           char *const *services, bool oneoff, struct ctr_record **out, size_t *n,
                           struct berr *e);

/* Where a start's progress goes: rendered into ui; last_ns is the time
 * (the event's time_ns) of the last progress event rendered, so that a
 * client following the event stream afterwards knows what it has shown. */
struct cli_progress {
    struct ui_render *ui;
    int64_t last_ns;
};

/* Asks a running supervisor to start containers (by ID), printing its
 * progress; done when they have started (or one could not be). */
int cli_start_via_supervisor(int fd, char *const *ids, struct cli_progress *p, struct berr *e);
/* Starts a detached supervisor (its own session, a child subreaper) for the
 * containers and returns once they have started. lockfd: the project lock,
 * which the supervisor does not keep. conn (may be NULL) receives a
 * connection to the supervisor (engine/supervise/control.h) made before it
 * ran: it keeps the supervisor running until closed or made an event
 * stream, so that nothing it did since can be missed (`up --wait`). */
int cli_start_detached(struct cli *c, struct runtime *rt, const char *project,
                       const struct ctr_record *recs, size_t n, int *conn, int lockfd,
                       struct cli_progress *p, struct berr *e);
/* The project's running supervisor: *fd is a connection to its control
 * socket, or -1 when none runs (no socket, or one nobody serves). */
int cli_supervisor(struct cli *c, const char *project, int *fd, struct berr *e);

/* The networks n plans join, made (or, external, found) before any of
 * their containers is created; the names of those made are pushed to
 * *made, which cli_networks_undo removes again (when what follows fails). */
struct ctr_plan;
struct project;
struct service;
int cli_networks_ensure(struct cli *c, const struct project *p, const struct ctr_plan *const *plans,
                        size_t n, char ***made, struct berr *e);
void cli_networks_undo(struct cli *c, char ***made);
/* A container about to be created gets its address on each of its
 * networks (IPAM, by its name: asked again, the same one); s (may be
 * NULL) names the file's place in messages. cli_endpoints_release frees
 * them (a container not created after all, or removed for good). */
int cli_endpoints_assign(struct cli *c, const struct service *s, struct ctr_plan *pl,
                         struct berr *e);
void cli_endpoints_release(struct cli *c, const struct ctr_plan *pl, const char *name);
/* A service that publishes through an external network (its first one
 * with a way out) binds the ports it publishes without a host IP where
 * that network's maker asked (com.docker.network.bridge.host_binding_ipv4,
 * from its record); the plan already did so for the project's own. */
void cli_ports_external_binding(struct cli *c, const struct project *p, const struct service *s,
                                struct ctr_plan *pl);
/* For a container that has no embedded DNS server to ask (an attached
 * `run`): "name:address" lines for /etc/hosts, for each running container
 * of the project on a network pl shares (service, container name,
 * aliases), as they are now. NULL when none. */
char **cli_hosts_snapshot(struct cli *c, const char *project, const struct ctr_plan *pl);
/* down: the project's nftables table, and the networks it made that no
 * other container still uses. on_networks: some container of the project
 * (before down removed them) was on a network; with that false and no
 * network of the project's, there is no table either and libnftables is
 * not asked. */
int down_networks(struct cli *c, const char *project, bool on_networks, struct berr *e);

#endif
