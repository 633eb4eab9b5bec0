/* SPDX-License-Identifier: Apache-2.0 */
/* Lifecycle commands on existing containers: start, stop, restart, kill,
 * pause, unpause, wait, rm. Changes go through the project's supervisor
 * (the parent of every container), so that a stopped container is not
 * restarted by its policy; `start` brings up a supervisor when none runs.
 * Not here: `up`, `down` (cmd/cmd_up.c) and the supervisor's side of each
 * request (engine/supervise/sv_control.c). */
#include <getopt.h>
#include <jansson.h>
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
#include "cmd/project.h"
#include "cmd/down.h"
#include "cmd/ps_state.h"
#include "cmd/up.h"
#include "engine/runtime/cgroup.h"
#include "engine/supervise/control.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* The common start of these commands: flags parsed by the caller, then the
 * project, its containers (of the named services), and the supervisor. */
struct life {
    struct cli *c;
    struct project *p;
    char *name;
    struct ctr_record *recs;
    size_t n;
    int ctl; /* -1: no supervisor */
};

static void life_free(struct life *l)
{
    ctr_list_free(l->recs, l->n);
    project_free(l->p);
    free(l->name);
    if (l->ctl >= 0)
        close(l->ctl);
    memset(l, 0, sizeof *l);
    l->ctl = -1;
}
#define LIFE_INIT                                                                                  \
    {                                                                                              \
        .ctl = -1                                                                                  \
    }
#define _cleanup_life_ _cleanup_(life_free)

static int life_open(struct life *l, struct cli *c, int argc, char **argv, bool oneoff,
                     struct berr *e)
{
    l->c = c;
    int r = cli_project_name(c, argv + optind, &l->name, &l->p, e);
    if (r < 0)
        return r;
    _cleanup_strv_ char **sel = NULL;
    for (int i = optind; i < argc; i++)
        strv_push(&sel, xstrdup(argv[i]));
    r = cli_project_containers(c, l->name, l->p, sel, oneoff, &l->recs, &l->n, e);
    if (r < 0)
        return r;
    return cli_supervisor(c, l->name, &l->ctl, e);
}

static json_t *names_of(struct life *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->recs[i].name));
    return a;
}

/* Sends op for the selected containers; nothing to do without a supervisor
 * (then nothing of the project runs). */
static int life_request(struct life *l, const char *op, json_t *extra, struct berr *e)
{
    if (l->ctl < 0 || l->n == 0) {
        json_decref(extra);
        return 0;
    }
    json_t *req = extra ? extra : json_object();
    json_object_set_new(req, "op", json_string(op));
    json_object_set_new(req, "names", names_of(l));
    int r = ctl_request(l->ctl, req, ui_render_progress_json, l->c->ui, e);
    json_decref(req);
    return r;
}

/* Flags: -t/--timeout for stop and restart, none else. */
static int simple_flags(int argc, char **argv, const char *name, int64_t *timeout_ns)
{
    struct cmd_parser op;
    cmd_parser_init(&op, name);
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        if (opt == 't' && timeout_ns) {
            if (cli_parse_timeout(optarg, timeout_ns) < 0)
                return 2;
        } else {
            cmd_print_help(op.def, opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    return -1;
}

static int do_stop(struct life *l, int64_t timeout_ns, struct berr *e)
{
    json_t *extra = json_object();
    if (timeout_ns >= 0)
        json_object_set_new(extra, "timeout_ns", json_integer(timeout_ns));
    return life_request(l, "stop", extra, e);
}

/* up's start phase for the selected containers, under the project lock
 * (the supervisor is looked up again once the lock is held). */
static int do_start(struct life *l, struct berr *e)
{
    if (l->n == 0)
        return 0;
    _cleanup_project_lock_ int lockfd = project_lock(l->c->runroot, l->name, e);
    if (lockfd < 0)
        return lockfd;
    if (l->ctl >= 0)
        close(l->ctl);
    int r = cli_supervisor(l->c, l->name, &l->ctl, e);
    if (r < 0)
        return r;
    return up_start_records(l->c, l->name, l->ctl, NULL, l->recs, l->n, false, lockfd, e);
}

int cmd_stop(struct cli *c, int argc, char **argv, struct berr *e)
{
    int64_t timeout = -1;
    int f = simple_flags(argc, argv, "stop", &timeout);
    if (f >= 0)
        return f;
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r == 0)
        r = do_stop(&l, timeout, e);
    return r;
}

int cmd_start(struct cli *c, int argc, char **argv, struct berr *e)
{
    int f = simple_flags(argc, argv, "start", NULL);
    if (f >= 0)
        return f;
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r == 0 && l.n == 0)
        r = berr_set(e, -ENOENT, "no containers to start (create them with `berth up`)");
    if (r == 0)
        r = do_start(&l, e);
    return r;
}

int cmd_restart(struct cli *c, int argc, char **argv, struct berr *e)
{
    int64_t timeout = -1;
    int f = simple_flags(argc, argv, "restart", &timeout);
    if (f >= 0)
        return f;
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r == 0)
        r = do_stop(&l, timeout, e);
    if (r == 0)
        r = do_start(&l, e);
    return r;
}

int cmd_kill(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "kill");
    int sig = SIGKILL, opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        if (opt == 's') {
            sig = signal_parse(optarg);
            if (sig < 0) {
                fprintf(stderr, "berth: kill: invalid signal \"%s\"\n", optarg);
                return 2;
            }
        } else if (opt == 'h') {
            cmd_print_help(op.def, stdout);
            return 0;
        } else {
            return 2;
        }
    }
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r == 0) {
        bool any = false;
        for (size_t i = 0; i < l.n; i++) {
            struct ps_state ps;
            ps_state_of(c, l.name, &l.recs[i], ps_now_ns(), &ps);
            any |= ps.alive;
        }
        if (!any)
            r = berr_set(e, -ENOENT, "no container to kill");
        else
            r = life_request(&l, "kill", json_pack("{s:i}", "signal", sig), e);
    }
    return r;
}

static int pause_common(struct cli *c, int argc, char **argv, const char *op, struct berr *e)
{
    int f = simple_flags(argc, argv, op, NULL);
    if (f >= 0)
        return f;
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r == 0 && l.ctl < 0)
        r = berr_set(e, -ENOENT, "nothing of project %s is running", l.name);
    if (r == 0)
        r = life_request(&l, op, NULL, e);
    return r;
}

int cmd_pause(struct cli *c, int argc, char **argv, struct berr *e)
{
    return pause_common(c, argc, argv, "pause", e);
}

int cmd_unpause(struct cli *c, int argc, char **argv, struct berr *e)
{
    return pause_common(c, argc, argv, "unpause", e);
}

/* wait: until every selected container has stopped; prints their exit
 * codes and exits with the first one's. */
int cmd_wait(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "wait");
    bool down = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        if (opt == 'D')
            down = true;
        else if (opt == 'h') {
            cmd_print_help(op.def, stdout);
            return 0;
        } else
            return 2;
    }
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, false, e);
    if (r < 0)
        return r;
    int first = -1;
    for (size_t i = 0; i < l.n; i++) {
        struct ps_state ps;
        ps_state_of(c, l.name, &l.recs[i], ps_now_ns(), &ps);
        if (ps.alive) {
            int fd = pidfd_open(ps.pid, 0);
            if (fd >= 0) {
                struct pollfd pf = {.fd = fd, .events = POLLIN};
                while (poll(&pf, 1, -1) < 0 && errno == EINTR)
                    ;
                close(fd);
            }
        }
        /* The supervisor records the exit right after it reaps: a container
         * that died just now can still be recorded as running, its exit
         * code not yet written. */
        for (int k = 0; k < 200 && (ps.alive || ps.rs.running); k++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            ps_state_of(c, l.name, &l.recs[i], ps_now_ns(), &ps);
        }
        printf("%d\n", ps.exit_code);
        if (first < 0)
            first = ps.exit_code;
    }
    fflush(stdout);
    life_free(&l);
    if (down) {
        /* the status stays the container's: a failed down is only said */
        struct down_opts o = {.timeout_ns = -1};
        _cleanup_berr_ struct berr de = BERR_INIT;
        if (down_project(c, &o, NULL, &de) < 0)
            log_berr(&de);
    }
    return first < 0 ? 0 : first;
}

/* rm: removes stopped containers (-s stops them first; -f does not ask). */
int cmd_rm(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "rm");
    bool force = false, stop = false, anon = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        if (opt == 'f')
            force = true;
        else if (opt == 's')
            stop = true;
        else if (opt == 'v')
            anon = true;
        else if (opt == 'h') {
            cmd_print_help(op.def, stdout);
            return 0;
        } else
            return 2;
    }
    _cleanup_life_ struct life l = LIFE_INIT;
    int r = life_open(&l, c, argc, argv, true, e);
    if (r == 0 && stop)
        r = do_stop(&l, -1, e);
    if (r < 0)
        return r;
    _cleanup_strv_ char **victims = NULL;
    for (size_t i = 0; i < l.n; i++) {
        struct ps_state ps;
        ps_state_of(c, l.name, &l.recs[i], ps_now_ns(), &ps);
        if (!ps.alive && strcmp(ps.state, "restarting") != 0)
            strv_push(&victims, xstrdup(l.recs[i].name));
    }
    if (!victims) {
        puts("No stopped containers");
        return 0;
    }
    if (!force) {
        printf("Going to remove");
        for (size_t i = 0; victims[i]; i++)
            printf("%s%s", i ? ", " : " ", victims[i]);
        printf("\n? Are you sure? (y/N) ");
        fflush(stdout);
        char ans[16] = "";
        if (!fgets(ans, sizeof ans, stdin) || (ans[0] != 'y' && ans[0] != 'Y'))
            return 0;
    }
    int lockfd = project_lock(c->runroot, l.name, e);
    if (lockfd < 0)
        return lockfd;
    if (l.ctl >= 0) {
        json_t *req = json_pack("{s:s}", "op", "forget");
        json_t *names = json_array();
        for (size_t i = 0; victims[i]; i++)
            json_array_append_new(names, json_string(victims[i]));
        json_object_set_new(req, "names", names);
        ctl_request(l.ctl, req, NULL, NULL, NULL);
        json_decref(req);
    }
    for (size_t i = 0; i < l.n && r == 0; i++)
        if (strv_contains(victims, l.recs[i].name))
            r = cli_remove_container(c, l.name, -1, &l.recs[i], RM_SAY | (anon ? RM_ANON : 0), e);
    run_dir_prune(c->runroot, l.name);
    project_unlock(lockfd);
    return r;
}
