/* SPDX-License-Identifier: Apache-2.0 */
/* `berth down`: stop every running container of the project (through its
 * supervisor, so nothing restarts; directly when none is left), then remove
 * containers, cgroups and run state. Works from the files on disk alone.
 * `wait --down` calls down_project too. Not here: `up` (cmd/cmd_up.c). */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/down.h"
#include "cmd/project.h"
#include "compose/compose.h"
#include "engine/plan/plan.h"
#include "engine/runtime/netsetup.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/control.h"
#include "engine/supervise/records.h"
#include "engine/supervise/supervisor.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct down_item {
    int pidfd;
    struct timespec deadline;
    bool killed;
};

static int64_t ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

static void deadline_in(struct timespec *t, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ns / 1000000000LL;
    t->tv_nsec += ns % 1000000000LL;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* Waits for pidfds to become readable; past its deadline each gets SIGKILL
 * (once), and after that 10 s more at most. */
static void wait_pidfds(struct down_item *items, size_t n)
{
    /* On the heap, not as VLAs: n comes from the number of containers. */
    _cleanup_free_ struct pollfd *pfds = xcalloc(n + 1, sizeof *pfds);
    _cleanup_free_ size_t *idx = xcalloc(n + 1, sizeof *idx);
    for (;;) {
        size_t k = 0;
        int64_t timeout = -1;
        for (size_t i = 0; i < n; i++) {
            if (items[i].pidfd < 0)
                continue;
            int64_t left = ms_until(&items[i].deadline);
            if (left <= 0 && !items[i].killed) {
                pidfd_send_signal(items[i].pidfd, SIGKILL, NULL, 0);
                items[i].killed = true;
            }
            if (!items[i].killed && (timeout < 0 || left < timeout))
                timeout = left;
            pfds[k].fd = items[i].pidfd;
            pfds[k].events = POLLIN;
            idx[k++] = i;
        }
        if (k == 0)
            return;
        int r = poll(pfds, k, (int)(timeout < 0 ? 10000 : timeout));
        if (r < 0 && errno != EINTR)
            return;
        if (r == 0 && timeout < 0)
            return;
        for (size_t j = 0; j < k; j++)
            if (pfds[j].revents) {
                close(items[idx[j]].pidfd);
                items[idx[j]].pidfd = -1;
            }
    }
}

/* The containers down takes: all of them, but without --remove-orphans,
 * as docker compose does, not those of services no longer in the file
 * (named in a warning). Shallow copies: `all` owns the strings. */
static struct ctr_record *down_select(const struct project *p, const struct ctr_list *all,
                                      bool remove_orphans, size_t *n)
{
    struct ctr_record *recs = xcalloc(all->n + 1, sizeof *recs);
    _cleanup_free_ char *orphans = NULL;
    *n = 0;
    for (size_t i = 0; i < all->n; i++) {
        const struct ctr_record *r = &all->v[i];
        if (p && !remove_orphans && !r->oneoff && !project_service(p, r->service)) {
            char *o = xasprintf("%s%s%s", orphans ? orphans : "", orphans ? ", " : "", r->name);
            free(orphans);
            orphans = o;
            continue;
        }
        recs[(*n)++] = *r;
    }
    if (orphans)
        log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed this "
                 "service in your compose file, you can run this command with the "
                 "--remove-orphans flag to clean it up.",
                 orphans);
    return recs;
}

/* The supervisor stops them (stop signal, grace, SIGKILL; no restart). A
 * socket nobody serves is left by a killed supervisor: it goes. A failed
 * stop is said, and down goes on without it. */
static void stop_via_supervisor(struct cli *c, const char *name, const struct ctr_record *recs,
                                size_t n, int64_t timeout_ns)
{
    _cleanup_close_ int ctl = ctl_connect(c->runroot, name, NULL);
    if (ctl == -ECONNREFUSED) {
        _cleanup_free_ char *sock = sv_socket_path(c->runroot, name);
        unlink(sock);
    }
    if (ctl < 0)
        return;
    json_t *req = json_pack("{s:s}", "op", "stop");
    json_t *names = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(recs[i].name));
    json_object_set_new(req, "names", names);
    if (timeout_ns >= 0)
        json_object_set_new(req, "timeout_ns", json_integer(timeout_ns));
    _cleanup_berr_ struct berr se = BERR_INIT;
    if (ctl_request(ctl, req, ui_render_progress_json, c->ui, &se) < 0)
        log_berr(&se);
    json_decref(req);
}

/* Whatever still runs (no supervisor answered): signalled directly, its
 * stop signal, then SIGKILL past the grace, and said stopped here (the
 * supervisor says so for the ones it stops). */
static void stop_directly(struct cli *c, const char *name, const struct ctr_record *recs, size_t n,
                          int64_t timeout_ns)
{
    _cleanup_free_ struct down_item *items = xcalloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].pidfd = -1;
        struct run_state rs;
        if (run_state_read(c->runroot, name, recs[i].name, &rs) < 0 || !run_state_alive(&rs))
            continue;
        int fd = pidfd_open(rs.pid, 0);
        if (fd < 0 || proc_start_time(rs.pid) != rs.start_time) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        items[i].pidfd = fd;
        ui_progress(c->ui, EV_CONTAINER, "kill", recs[i].name, "Stopping");
        int sig = recs[i].plan.stop_signal > 0 ? recs[i].plan.stop_signal : SIGTERM;
        int64_t grace = timeout_ns >= 0                   ? timeout_ns
                        : recs[i].plan.stop_grace_ns >= 0 ? recs[i].plan.stop_grace_ns
                                                          : STOP_GRACE_DEFAULT_NS;
        deadline_in(&items[i].deadline, grace);
        pidfd_send_signal(fd, sig, NULL, 0);
    }
    _cleanup_free_ bool *signalled = xcalloc(n + 1, sizeof *signalled);
    for (size_t i = 0; i < n; i++)
        signalled[i] = items[i].pidfd >= 0;
    wait_pidfds(items, n);
    for (size_t i = 0; i < n; i++)
        if (signalled[i])
            ui_progress(c->ui, EV_CONTAINER, "stop", recs[i].name, "Stopped");
}

/* A supervisor ends once it has nothing left to watch; wait for it, so
 * that it cannot write run state after it is removed. */
static void wait_supervisors(const pid_t *supervisors, size_t n)
{
    _cleanup_free_ struct down_item *sups = xcalloc(n + 1, sizeof *sups);
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        pid_t s = supervisors[i];
        bool seen = s <= 0 || s == getpid();
        for (size_t k = 0; k < i && !seen; k++)
            seen = supervisors[k] == s;
        if (seen)
            continue;
        int fd = pidfd_open(s, 0);
        if (fd < 0)
            continue;
        sups[ns] = (struct down_item){.pidfd = fd, .killed = true};
        deadline_in(&sups[ns].deadline, 10LL * 1000000000LL);
        ns++;
    }
    wait_pidfds(sups, ns);
}

/* Stops and removes the containers; a container that cannot be removed is
 * said and the others are still removed (the status is then 1). */
static int down_containers(struct cli *c, const char *name, const struct ctr_record *recs, size_t n,
                           int64_t timeout_ns)
{
    _cleanup_free_ pid_t *supervisors = xcalloc(n + 1, sizeof *supervisors);
    for (size_t i = 0; i < n; i++) {
        struct run_state rs;
        bool running =
            run_state_read(c->runroot, name, recs[i].name, &rs) == 0 && run_state_alive(&rs);
        supervisors[i] = running ? rs.supervisor : 0;
    }
    stop_via_supervisor(c, name, recs, n, timeout_ns);
    stop_directly(c, name, recs, n, timeout_ns);
    wait_supervisors(supervisors, n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_berr_ struct berr re = BERR_INIT;
        if (cli_remove_container(c, name, -1, &recs[i], RM_SAY | RM_ANON, &re) < 0) {
            log_berr(&re);
            rc = 1;
        }
    }
    return rc;
}

int down_project(struct cli *c, const struct down_opts *o, char *const *services, struct berr *e)
{
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    int r = cli_project_name(c, services, &name, &p, e);
    if (r < 0)
        return r;
    _cleanup_project_lock_ int lockfd = project_lock(c->runroot, name, e);
    if (lockfd < 0)
        return lockfd;
    _cleanup_ctr_list_ struct ctr_list all = {0};
    r = ctr_list(c->root, name, &c->sink, &all.v, &all.n, e);
    if (r < 0)
        return r;
    size_t n = 0;
    _cleanup_free_ struct ctr_record *recs = down_select(p, &all, o->remove_orphans, &n);
    bool on_networks = false;
    for (size_t i = 0; i < all.n && !on_networks; i++)
        on_networks = netsetup_has_endpoints(&all.v[i].plan);
    int rc = down_containers(c, name, recs, n, o->timeout_ns);
    {
        _cleanup_berr_ struct berr ne = BERR_INIT;
        if (down_networks(c, name, on_networks, &ne) < 0) {
            log_berr(&ne);
            rc = 1;
        }
    }
    if (o->volumes) {
        _cleanup_strv_ char **removed = NULL;
        r = volumes_remove_project(c->root, name, &removed, e);
        for (size_t i = 0; removed && removed[i]; i++)
            ui_progress(c->ui, EV_VOLUME, "destroy", removed[i], "Removed");
        if (r < 0)
            rc = r;
    }
    run_state_sweep(c->root, c->runroot, name);
    run_dir_prune(c->runroot, name);
    return rc;
}

int cmd_down(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "down");
    struct down_opts o = {.timeout_ns = -1};
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 't':
            if (cli_parse_timeout(optarg, &o.timeout_ns) < 0)
                return 2;
            break;
        case 'v':
            o.volumes = true;
            break;
        case 'O':
            o.remove_orphans = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    return down_project(c, &o, argv + optind, e);
}
