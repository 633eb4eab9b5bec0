/* SPDX-License-Identifier: Apache-2.0 */
/* `berth up` (attached or detached), in the phases of cmd/up.h: plan,
 * orphans, create, start, attach. `up` parses its flags and calls them;
 * `run`, `start` and `restart` call them too. Not here: `down`
 * (cmd/cmd_down.c), the pure decisions (cmd/up_decide.c). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/build.h"
#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ps_state.h"
#include "cmd/up.h"
#include "cmd/up_wait.h"
#include "engine/plan/plan_sec.h"
#include "engine/runtime/userns.h"
#include "engine/supervise/control.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static const struct ctr_record *find_record(const struct ctr_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

void up_plan_free(struct up_plan *pl)
{
    for (size_t i = 0; i < pl->n_items; i++) {
        struct up_item *it = &pl->items[i];
        if (it->owns_img)
            image_free(it->img);
        ctr_plan_free(&it->plan);
        free(it->id);
        free(it->cgroup);
    }
    free(pl->items);
    free(pl->want);
    free(pl->config_files);
    store_close(pl->st);
    project_free(pl->p);
    memset(pl, 0, sizeof *pl);
}

void up_free(struct up *u)
{
    sv_free(u->sv);
    if (u->ctl >= 0)
        close(u->ctl);
    if (u->pl.p)
        run_dir_prune(u->c->runroot, u->pl.p->name);
    project_unlock(u->lockfd);
    free(u->start);
    free(u->nft_scope);
    strv_free(u->nets_made);
    ctr_list_clear(&u->existing);
    up_plan_free(&u->pl);
    runtime_fini(&u->rt);
    sdnotify_close(&u->nf);
}

/* --- plan ------------------------------------------------------------------ */

/* The containers of one service: its image, then a plan per replica. */
static int plan_service(struct up *u, const struct service *s, int replicas, struct berr *e)
{
    struct up_plan *pl = &u->pl;
    if (s->container_name && replicas > 1)
        return berr_set(e, -EINVAL,
                        "service \"%s\" has a container_name and cannot be scaled to %d "
                        "containers",
                        s->name, replicas);
    if (!s->image)
        return berr_set(e, -EINVAL,
                        "%s:%d:%d: service \"%s\" has neither an image nor a build section",
                        s->pos.file, s->pos.line, s->pos.col, s->name);
    struct image *img = NULL;
    int r = replicas > 0 ? cli_service_image(pl->st, s, &img, e) : 0;
    if (r < 0)
        return r;
    for (int num = 1; num <= replicas; num++) {
        pl->items = xreallocarray(pl->items, pl->n_items + 1, sizeof *pl->items);
        struct up_item *it = &pl->items[pl->n_items++];
        *it = (struct up_item){.svc = s, .img = img, .owns_img = num == 1, .number = num};
        it->id = ctr_new_id();
        r = plan_container(pl->p, s, img, num, it->id, &it->plan, e);
        if (r < 0)
            return r;
        cli_ports_external_binding(u->c, pl->p, s, &it->plan);
        if (s->container_name) {
            free(it->plan.name);
            it->plan.name = xstrdup(s->container_name);
            free(it->plan.log_name);
            it->plan.log_name = xstrdup(s->container_name);
        }
        r = cli_cgroup_rel(u->c->root, pl->p->name, s->name, it->plan.name, &it->cgroup, e);
        if (r < 0)
            return r;
        cli_cgroup_parent(&it->cgroup, &it->plan);
    }
    _cleanup_strv_ char **warn = replicas > 0 ? plan_host_warnings(s) : NULL;
    for (size_t i = 0; warn && warn[i]; i++)
        log_warn("%s", warn[i]);
    return 0;
}

/* The wanted services' images built, in start order, before any container
 * is planned: a build that fails leaves nothing made. */
static int up_build(struct up *u, struct berr *e)
{
    struct up_plan *pl = &u->pl;
    struct cli_builder b;
    cli_builder_init(&b, u->c, pl->st);
    int r = 0;
    for (size_t k = 0; r >= 0 && k < pl->p->n_services; k++) {
        size_t i = pl->p->start_order ? pl->p->start_order[k] : k;
        if (pl->want[i])
            r = cli_service_build_if(&b, &pl->p->services[i], u->o->build_when, e);
    }
    cli_builder_fini(&b);
    return r;
}

/* Loads the project and plans every container before anything is made:
 * a missing image leaves nothing half-done. Dependencies first; each
 * service's replicas numbered from 1. */
int up_plan(struct up *u, struct berr *e)
{
    const struct up_opts *o = u->o;
    struct up_plan *pl = &u->pl;
    int r = cli_load_project(u->c, o->services, &pl->p, e);
    if (r < 0)
        return r;
    if (pl->p->n_services == 0) {
        char *const *profiles = compose_all_profiles(pl->p);
        if (profiles && profiles[0]) {
            _cleanup_free_ char *list = strv_join(profiles, ", ");
            return berr_set(e, -ENOENT,
                            "no service selected: every service needs a profile that is not "
                            "enabled (%s; enable one with --profile NAME or COMPOSE_PROFILES)",
                            list);
        }
        return berr_set(e, -ENOENT, "no service selected: the project defines no services");
    }
    for (size_t i = 0; o->services && o->services[i]; i++)
        if (!project_service(pl->p, o->services[i]))
            return berr_set(e, -ENOENT, "no such service: %s", o->services[i]);
    if (o->exit_from && !project_service(pl->p, o->exit_from))
        return berr_set(e, -ENOENT, "--exit-code-from: no such service: %s", o->exit_from);
    r = store_open(u->c->root, &pl->st, e);
    if (r < 0)
        return r;
    store_set_sink(pl->st, &u->c->sink); /* a pull's progress */
    for (size_t i = 0; pl->p->files && pl->p->files[i]; i++) {
        char *f = xasprintf("%s%s%s", pl->config_files ? pl->config_files : "", i ? "," : "",
                            pl->p->files[i]);
        free(pl->config_files);
        pl->config_files = f;
    }
    pl->want = up_wanted(pl->p, o->services, o->no_deps);
    if ((r = up_build(u, e)) < 0)
        return r;
    for (size_t k = 0; k < pl->p->n_services; k++) {
        size_t i = pl->p->start_order ? pl->p->start_order[k] : k;
        const struct service *s = &pl->p->services[i];
        if (!pl->want[i])
            continue;
        r = plan_service(u, s, up_replicas(s, o->scale), e);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The runtime, the project lock, the records and the running supervisor
 * (when one runs): what create and start work with. */
static int up_open(struct up *u, struct berr *e)
{
    _cleanup_free_ char *cache = xasprintf("%s/cache/seccomp", u->c->root);
    int r = runtime_init(&u->rt, cache, e);
    if (r < 0)
        return r;
    u->lockfd = project_lock(u->c->runroot, u->pl.p->name, e);
    if (u->lockfd < 0)
        return u->lockfd;
    r = ctr_list(u->c->root, u->pl.p->name, &u->c->sink, &u->existing.v, &u->existing.n, e);
    if (r < 0)
        return r;
    return cli_supervisor(u->c, u->pl.p->name, &u->ctl, e);
}

/* --- orphans --------------------------------------------------------------- */

/* Containers of services no longer in the file: removed with
 * --remove-orphans (unless one runs), else named in a warning. */
int up_orphans(struct up *u, struct berr *e)
{
    const struct project *p = u->pl.p;
    _cleanup_free_ char *orphans = NULL;
    for (size_t i = 0; i < u->existing.n; i++) {
        const struct ctr_record *r = &u->existing.v[i];
        if (r->oneoff || project_service(p, r->service))
            continue;
        if (u->o->remove_orphans) {
            struct run_state rs;
            if (run_state_read(u->c->runroot, p->name, r->name, &rs) == 0 && run_state_alive(&rs))
                return berr_set(e, -EBUSY, "orphan container %s is running; stop it first",
                                r->name);
            int rr = cli_remove_container(u->c, p->name, u->ctl, r, RM_SAY | RM_ANON, e);
            if (rr < 0)
                return rr;
            continue;
        }
        char *o = xasprintf("%s%s%s", orphans ? orphans : "", orphans ? ", " : "", r->name);
        free(orphans);
        orphans = o;
    }
    if (orphans)
        log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed "
                 "this service in your compose file, you can run this command with the "
                 "--remove-orphans flag to clean it up.",
                 orphans);
    return 0;
}

/* --- create ---------------------------------------------------------------- */

/* Asks the running supervisor to stop one container (-t's grace when
 * given). */
static int stop_one(struct up *u, const char *name, bool grace, struct berr *e)
{
    json_t *req = json_pack("{s:s, s:[s]}", "op", "stop", "names", name);
    if (grace && u->o->timeout_ns >= 0)
        json_object_set_new(req, "timeout_ns", json_integer(u->o->timeout_ns));
    int r = ctl_request(u->ctl, req, ui_render_progress_json, u->c->ui, e);
    json_decref(req);
    return r;
}

/* Scaled down: containers of a wanted service beyond its new count go. */
static int remove_scaled_down(struct up *u, struct berr *e)
{
    for (size_t i = 0; i < u->existing.n; i++) {
        const struct ctr_record *r = &u->existing.v[i];
        if (!up_scaled_down(u->pl.p, u->pl.want, r, u->pl.items, u->pl.n_items))
            continue;
        int rr = u->ctl >= 0 ? stop_one(u, r->name, false, e) : 0;
        if (rr < 0)
            return rr;
        rr = cli_remove_container(u->c, u->pl.p->name, u->ctl, r, RM_SAY | RM_ANON, e);
        if (rr < 0)
            return rr;
    }
    return 0;
}

/* One planned container: kept when unchanged, else (re)created. */
static int create_item(struct up *u, struct up_item *it, struct berr *e)
{
    const struct project *p = u->pl.p;
    const struct ctr_record *old = find_record(&u->existing, it->plan.name);
    enum up_action act = up_decide(old, it->plan.config, u->o->force_recreate, u->o->no_recreate);
    struct run_state rs;
    bool alive =
        old && run_state_read(u->c->runroot, p->name, old->name, &rs) == 0 && run_state_alive(&rs);
    if (act == UP_KEEP) {
        int sr = up_shape_change(u->c, p->name, old, &it->plan.shape, e);
        if (sr < 0)
            return sr;
        free(it->id);
        it->id = xstrdup(old->id);
        it->keep = alive;
        if (alive)
            ui_progress(u->c->ui, EV_CONTAINER, "running", it->plan.name, "Running");
        return 0;
    }
    if (act == UP_RECREATE) {
        if (alive && u->ctl < 0)
            return berr_set(e, -EBUSY, "container %s runs without a supervisor; run `berth down`",
                            old->name);
        int r = alive ? stop_one(u, old->name, true, e) : 0;
        if (r < 0)
            return r;
        ui_progress(u->c->ui, EV_CONTAINER, "recreate", it->plan.name, "Recreate");
        r = cli_remove_container(u->c, p->name, u->ctl, old, 0, e);
        if (r < 0)
            return r;
    } else {
        ui_progress_ctr(u->c->ui, "creating", it->id, it->svc->name, it->plan.name, it->svc->image,
                        "Creating");
    }
    int r = up_endpoints(u, it, e);
    if (r < 0)
        return r;
    char created[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 9, created);
    struct ctr_record rec = {
        .id = it->id,
        .name = it->plan.name,
        .project = p->name,
        .service = (char *)it->svc->name,
        .number = it->number,
        .image = it->svc->image,
        .image_id = it->img->id,
        .created = created,
        .cgroup = it->cgroup,
        .config_files = u->pl.config_files,
        .working_dir = p->working_dir,
        .plan = it->plan,
    };
    r = ctr_create(u->c->root, &rec, e);
    if (r < 0) {
        cli_endpoints_release(u->c, &it->plan, it->plan.name);
        return r;
    }
    /* (a failure leaves the container created, as a failed start would) */
    if (it->plan.userns_auto &&
        (r = userns_layers_prepare(u->c->root, it->id, it->plan.layer_dirs, e)) < 0)
        return berr_wrap(e, "%s: userns_mode auto", it->plan.name);
    ui_progress_ctr(u->c->ui, "create", it->id, it->svc->name, it->plan.name, it->svc->image,
                    old ? "Recreated" : "Created");
    return 0;
}

/* Volumes, then the containers (created, kept, recreated, or removed when
 * scaled down); then what start hands on, as stored records. */
int up_create(struct up *u, struct berr *e)
{
    _cleanup_strv_ char **made = NULL;
    int r = volumes_create_declared(u->c->root, u->pl.p, &made, e);
    if (r < 0)
        return r;
    for (size_t i = 0; made && made[i]; i++)
        ui_progress(u->c->ui, EV_VOLUME, "create", made[i], "Created");
    r = remove_scaled_down(u, e);
    if (r < 0)
        return r;
    if ((r = up_networks(u, e)) < 0) {
        up_networks_undo(u);
        return r;
    }
    for (size_t i = 0; i < u->pl.n_items; i++)
        if ((r = create_item(u, &u->pl.items[i], e)) < 0) {
            up_networks_undo(u);
            return r;
        }
    ctr_sync(u->c->root);
    ctr_list_clear(&u->existing);
    r = ctr_list(u->c->root, u->pl.p->name, &u->c->sink, &u->existing.v, &u->existing.n, e);
    if (r < 0)
        return r;
    u->start = xcalloc(u->pl.n_items + 1, sizeof *u->start);
    for (size_t i = 0; i < u->pl.n_items; i++) {
        const struct ctr_record *rec = find_record(&u->existing, u->pl.items[i].plan.name);
        if (!rec)
            continue;
        u->start[u->n_start++] = *rec; /* shallow: `existing` owns the strings */
    }
    return 0;
}

/* --- start ----------------------------------------------------------------- */

/* Attached, with no supervisor running: this process becomes it. Its
 * options are filled here, in one place. */
static int start_attached(struct up *u, struct berr *e)
{
    const struct up_opts *o = u->o;
    u->so = (struct sv_options){
        .root = u->c->root,
        .runroot = u->c->runroot,
        .project = u->pl.p->name,
        .attached = true,
        .sink = ui_render_sink(u->c->ui),
        .abort_on_exit = o->abort_on_exit,
        .exit_code_from = o->exit_from,
        .events_fd = -1,
        .stop_timeout_ns = o->timeout_ns,
        .notify = sdnotify_enabled(&u->nf) ? &u->nf : NULL,
        .resolv_conf = getenv("BERTH_RESOLV_CONF"),
        .nft_scope = u->nft_scope = cli_nft_scope(u->c->root, u->pl.p->name),
    };
    ui_render_set_color(u->c->ui, o->color);
    ui_render_logs_view(u->c->ui, true);
    u->sv = sv_new(&u->rt, &u->so);
    int r = sv_listen(u->sv, e);
    if (r < 0)
        return r;
    /* Ready, for a service manager, is what `up --wait` waits for. An
     * error here is the up's, said when the stack has ended. */
    sv_request_start(u->sv, u->start, u->n_start, u->so.notify != NULL, e);
    project_unlock(u->lockfd);
    u->lockfd = -1;
    return 0;
}

int up_start_records(struct cli *c, const char *project, int ctl, struct runtime *rt,
                     const struct ctr_record *recs, size_t n, bool wait, int lockfd, struct berr *e)
{
    if (wait)
        return up_wait_start(c, project, ctl, rt, recs, n, lockfd, e);
    struct cli_progress p = {.ui = c->ui};
    return up_start_conn(c, project, ctl, rt, recs, n, NULL, lockfd, &p, e);
}

int up_start_conn(struct cli *c, const char *project, int ctl, struct runtime *rt,
                  const struct ctr_record *recs, size_t n, int *conn, int lockfd,
                  struct cli_progress *p, struct berr *e)
{
    if (ctl >= 0) {
        _cleanup_strv_ char **ids = NULL;
        for (size_t i = 0; i < n; i++)
            strv_push(&ids, xstrdup(recs[i].id));
        return cli_start_via_supervisor(ctl, ids, p, e);
    }
    _cleanup_runtime_ struct runtime own = RUNTIME_UNSET;
    if (!rt) {
        _cleanup_free_ char *cache = xasprintf("%s/cache/seccomp", c->root);
        int r = runtime_init(&own, cache, e);
        if (r < 0)
            return r;
        rt = &own;
    }
    return cli_start_detached(c, rt, project, recs, n, conn, lockfd, p, e);
}

/* Hands the records to a supervisor: the project's running one, a new
 * detached one (-d), or this process (attached). */
int up_start(struct up *u, struct berr *e)
{
    const struct up_opts *o = u->o;
    if (sdnotify_enabled(&u->nf) && (u->ctl >= 0 || o->detach))
        log_warn("NOTIFY_SOCKET is set, but only an attached `up` that supervises project \"%s\" "
                 "itself tells the service manager it is ready",
                 u->pl.p->name);
    if (u->ctl >= 0) {
        if (!o->detach && o->abort_on_exit)
            return berr_set(e, -EBUSY,
                            "--abort-on-container-exit and --exit-code-from need the containers "
                            "to be started by this up, but a detached up supervises project "
                            "\"%s\" (stop it first: berth stop)",
                            u->pl.p->name);
        u->since = ps_now_ns(); /* attached, their output from here on */
    }
    if (u->ctl >= 0 || o->detach)
        return up_start_records(u->c, u->pl.p->name, u->ctl, &u->rt, u->start, u->n_start, o->wait,
                                u->lockfd, e);
    return start_attached(u, e);
}

/* --- attach ---------------------------------------------------------------- */

struct force_ctx {
    struct cli *c;
    const char *project;
    json_t *names;
    bool forced;
};

/* A second Ctrl-C while stopping: kill them (through a second connection,
 * the first one is waiting for the stop's answer). */
static void on_second_signal(int sigfd, void *ud)
{
    struct force_ctx *f = ud;
    struct signalfd_siginfo si;
    if (read(sigfd, &si, sizeof si) != (ssize_t)sizeof si || f->forced)
        return;
    f->forced = true;
    _cleanup_close_ int fd = ctl_connect(f->c->runroot, f->project, NULL);
    if (fd >= 0) {
        json_t *req =
            json_pack("{s:s, s:O, s:i}", "op", "kill", "names", f->names, "signal", SIGKILL);
        ctl_request(fd, req, NULL, NULL, NULL);
        json_decref(req);
    }
}

static const char *log_name(const struct ctr_record *r)
{
    return r->plan.log_name ? r->plan.log_name : r->name;
}

static void force_progress(json_t *msg, void *ud)
{
    struct force_ctx *f = ud;
    ui_render_progress_json(msg, f->c->ui);
}

/* Ctrl-C while following a detached supervisor's containers: stop them
 * (a second one kills them), then show what they said while stopping. */
static int stop_attached(struct up *u, int sfd, int sig, struct berr *e)
{
    const char *project = u->pl.p->name;
    int64_t t_int = ps_now_ns();
    ui_notice(u->c->ui, "stopping", "stopping on a signal", "signal");
    struct force_ctx f = {.c = u->c, .project = project, .names = json_array()};
    for (size_t i = 0; i < u->n_start; i++)
        json_array_append_new(f.names, json_string(u->start[i].name));
    json_t *req = json_pack("{s:s, s:O}", "op", "stop", "names", f.names);
    if (u->o->timeout_ns >= 0)
        json_object_set_new(req, "timeout_ns", json_integer(u->o->timeout_ns));
    int r = ctl_request_watch(u->ctl, req, force_progress, sfd, on_second_signal, &f, e);
    json_decref(req);
    json_decref(f.names);
    if (r == 0) /* what they said while stopping ("bye") */
        cli_logs_attach(u->c, project, u->start, u->n_start, u->o->color, t_int, -1);
    return r < 0 ? 1 : 128 + sig;
}

/* Attached `up` of a project a detached supervisor runs: prints the
 * containers' output as if this process ran them, until they all stop;
 * Ctrl-C stops them (a second one kills them), as docker compose does. */
static int attach_existing(struct up *u, struct berr *e)
{
    const struct ctr_record *recs = u->start;
    size_t n = u->n_start;
    if (n == 0)
        return 0;
    _cleanup_strv_ char **each = NULL;
    for (size_t i = 0; i < n; i++)
        if (!recs[i].plan.no_attach)
            strv_push(&each, xstrdup(log_name(&recs[i])));
    _cleanup_free_ char *names = each ? strv_join(each, ", ") : xstrdup("");
    ui_notice(u->c->ui, "attach", names, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) /* then Ctrl-C just ends this command; the containers run on */
        sigprocmask(SIG_SETMASK, &old, NULL);
    int rc = 0;
    int sig = cli_logs_attach(u->c, u->pl.p->name, recs, n, u->o->color, u->since, sfd);
    if (sig > 0)
        rc = stop_attached(u, sfd, sig, e);
    int64_t now = ps_now_ns();
    for (size_t i = 0; i < n; i++) {
        struct ps_state ps;
        ps_state_of(u->c, u->pl.p->name, &recs[i], now, &ps);
        if (!ps.alive)
            ui_exited(u->c->ui, recs[i].name, recs[i].plan.log_name, ps.exit_code);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int up_attach(struct up *u, struct berr *e)
{
    if (u->o->detach)
        return 0;
    if (!u->sv)
        return attach_existing(u, e);
    int rc = sv_run(u->sv);
    /* SIGTERM is how a service manager stops its service: a stop it asked
     * for and got is a success, not the 143 a terminal shows. */
    if (u->so.notify && rc == 128 + SIGTERM)
        rc = 0;
    return rc;
}

/* --- up -------------------------------------------------------------------- */

int up_project(struct cli *c, const struct up_opts *o, struct berr *e)
{
    _cleanup_up_ struct up u = UP_INIT;
    u.c = c;
    u.o = o;
    /* Started by a service manager (berth@.service, Type=notify): taken
     * before the compose file is read, so that neither interpolation nor a
     * container can see it. */
    _cleanup_berr_ struct berr w = BERR_INIT;
    if (sdnotify_from_env(&u.nf, &w) < 0)
        log_warn("%s; the service manager will not be told when the project is ready", w.msg);
    int r = up_plan(&u, e);
    if (r >= 0)
        r = up_open(&u, e);
    if (r >= 0) /* before anything is made or removed */
        r = up_ports_check(&u, e);
    if (r >= 0)
        r = up_orphans(&u, e);
    if (r >= 0)
        r = up_create(&u, e);
    if (r >= 0)
        r = up_start(&u, e);
    if (r < 0)
        return r;
    return up_attach(&u, e);
}

/* --scale SERVICE=NUMBER, checked: NUMBER from 0 to 1000. */
static bool scale_valid(const char *v)
{
    const char *eq = strchr(v, '=');
    char *end = NULL;
    long n = eq ? strtol(eq + 1, &end, 10) : -1;
    return eq && eq != v && end && !*end && n >= 0 && n <= 1000;
}

int cmd_up(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "up");
    struct up_opts o = {.color = c->color, .timeout_ns = -1};
    _cleanup_strv_ char **scale = NULL;
    bool build = false, no_build = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'd':
            o.detach = true;
            break;
        case 'b':
            build = true;
            break;
        case 'B':
            no_build = true;
            break;
        case 'W':
            o.wait = o.detach = true;
            break;
        case 'A':
            o.abort_on_exit = true;
            break;
        case 'X':
            o.exit_from = optarg;
            break;
        case 'F':
            o.force_recreate = true;
            break;
        case 'N':
            o.no_recreate = true;
            break;
        case 'O':
            o.remove_orphans = true;
            break;
        case 't':
            if (cli_parse_timeout(optarg, &o.timeout_ns) < 0)
                return 2;
            break;
        case 'C':
            o.color = false;
            break;
        case 'D':
            o.no_deps = true;
            break;
        case 'S':
            if (!scale_valid(optarg)) {
                fprintf(stderr, "berth: up: invalid --scale \"%s\" (SERVICE=NUMBER)\n", optarg);
                return 2;
            }
            strv_push(&scale, xstrdup(optarg));
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (o.detach && (o.abort_on_exit || o.exit_from)) {
        fprintf(stderr, "berth: up: -d cannot be combined with --abort-on-container-exit or "
                        "--exit-code-from\n");
        return 2;
    }
    if (build && no_build) {
        fprintf(stderr, "berth: up: --build and --no-build are incompatible\n");
        return 2;
    }
    o.build_when = build ? BUILD_ALWAYS : no_build ? BUILD_NEVER : BUILD_MISSING;
    if (o.force_recreate && o.no_recreate) {
        fprintf(stderr, "berth: up: --force-recreate and --no-recreate are incompatible\n");
        return 2;
    }
    o.scale = scale;
    o.services = optind < argc ? argv + optind : NULL;
    return up_project(c, &o, e);
}
