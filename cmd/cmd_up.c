/* `berth up` (attached or detached) and `berth down`. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ps_state.h"
#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/control.h"
#include "engine/supervise/records.h"
#include "engine/supervise/supervisor.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/sdnotify.h"
#include "util/strv.h"
#include "util/xalloc.h"

static char *now_rfc3339(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

static const struct ctr_record *find_record(const struct ctr_record *list, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

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

static bool find_record_in_items(const struct up_item *items, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].plan.name, name) == 0)
            return true;
    return false;
}

static void up_items_free(struct up_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i].owns_img)
            image_free(items[i].img);
        ctr_plan_free(&items[i].plan);
        free(items[i].id);
        free(items[i].cgroup);
    }
    free(items);
}

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
    struct berr e = BERR_INIT;
    int fd = ctl_connect(f->c->runroot, f->project, &e);
    if (fd >= 0) {
        json_t *req =
            json_pack("{s:s, s:O, s:i}", "op", "kill", "names", f->names, "signal", SIGKILL);
        ctl_request(fd, req, NULL, NULL, &e);
        json_decref(req);
        close(fd);
    }
    berr_clear(&e);
}

static void force_progress(json_t *msg, void *ud)
{
    struct force_ctx *f = ud;
    ui_render_progress_json(msg, f->c->ui);
}

/* Attached `up` of a project a detached supervisor runs: prints the
 * containers' output as if this process ran them, until they all stop;
 * Ctrl-C stops them (a second one kills them), as docker compose does. */
static int attach_existing(struct cli *c, const char *project, int ctl,
                           const struct ctr_record *recs, size_t n, bool color, int64_t since,
                           int64_t timeout_ns, struct berr *e)
{
    if (n == 0)
        return 0;
    _cleanup_free_ char *names = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *one = recs[i].plan.log_name ? recs[i].plan.log_name : recs[i].name;
        char *t = names ? xasprintf("%s, %s", names, one) : xstrdup(one);
        free(names);
        names = t;
    }
    ui_notice(c->ui, "attach", names, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, &old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) /* then Ctrl-C just ends this command; the containers run on */
        sigprocmask(SIG_SETMASK, &old, NULL);
    int rc = 0;
    int sig = cli_logs_attach(c, project, recs, n, color, since, sfd);
    if (sig > 0) {
        int64_t t_int = ps_now_ns();
        ui_notice(c->ui, "stopping", "stopping on a signal", "signal");
        struct force_ctx f = {.c = c, .project = project, .names = json_array()};
        for (size_t i = 0; i < n; i++)
            json_array_append_new(f.names, json_string(recs[i].name));
        json_t *req = json_pack("{s:s, s:O}", "op", "stop", "names", f.names);
        if (timeout_ns >= 0)
            json_object_set_new(req, "timeout_ns", json_integer(timeout_ns));
        int r = ctl_request_watch(ctl, req, force_progress, sfd, on_second_signal, &f, e);
        json_decref(req);
        json_decref(f.names);
        rc = r < 0 ? 1 : 128 + sig;
        /* what they said while stopping ("bye") */
        if (r == 0)
            cli_logs_attach(c, project, recs, n, color, t_int, -1);
    }
    int64_t now = ps_now_ns();
    for (size_t i = 0; i < n; i++) {
        struct ps_state ps;
        ps_state_of(c, project, &recs[i], now, &ps);
        if (!ps.alive)
            ui_exited(c->ui, recs[i].name, recs[i].plan.log_name, ps.exit_code);
    }
    if (sfd >= 0)
        close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int cmd_up(struct cli *c, int argc, char **argv)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "up");
    bool detach = false, wait = false, abort_on_exit = false, color = c->color, no_deps = false;
    _cleanup_strv_ char **scale = NULL;
    bool force_recreate = false, no_recreate = false, remove_orphans = false;
    const char *exit_from = NULL;
    int64_t timeout_ns = -1;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'd':
            detach = true;
            break;
        case 'W':
            wait = detach = true;
            break;
        case 'A':
            abort_on_exit = true;
            break;
        case 'X':
            exit_from = optarg;
            break;
        case 'F':
            force_recreate = true;
            break;
        case 'N':
            no_recreate = true;
            break;
        case 'O':
            remove_orphans = true;
            break;
        case 't':
            if (cli_parse_timeout(optarg, &timeout_ns) < 0)
                return 2;
            break;
        case 'C':
            color = false;
            break;
        case 'D':
            no_deps = true;
            break;
        case 'S': {
            const char *eq = strchr(optarg, '=');
            char *end = NULL;
            long v = eq ? strtol(eq + 1, &end, 10) : -1;
            if (!eq || eq == optarg || !end || *end || v < 0 || v > 1000) {
                fprintf(stderr, "berth: up: invalid --scale \"%s\" (SERVICE=NUMBER)\n", optarg);
                return 2;
            }
            strv_push(&scale, xstrdup(optarg));
            break;
        }
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (detach && (abort_on_exit || exit_from)) {
        fprintf(stderr, "berth: up: -d cannot be combined with --abort-on-container-exit or "
                        "--exit-code-from\n");
        return 2;
    }
    if (force_recreate && no_recreate) {
        fprintf(stderr, "berth: up: --force-recreate and --no-recreate are incompatible\n");
        return 2;
    }

    struct berr e = BERR_INIT;
    /* Started by a service manager (berth@.service, Type=notify): taken
     * before the compose file is read, so that neither interpolation nor a
     * container can see it. */
    struct sdnotify nf;
    if (sdnotify_from_env(&nf, &e) < 0) {
        log_warn("%s; the service manager will not be told when the project is ready", e.msg);
        berr_clear(&e);
    }
    struct project *p = NULL;
    struct store *st = NULL;
    struct runtime rt;
    bool rt_ok = false;
    struct supervisor *sv = NULL;
    struct up_item *items = NULL;
    size_t n_items = 0;
    struct ctr_record *existing = NULL;
    size_t n_existing = 0;
    struct ctr_record *start = NULL;
    size_t n_start = 0;
    int lockfd = -1, ctl = -1;
    int rc = 1;
    _cleanup_free_ char *cache = NULL;
    _cleanup_strv_ char **start_ids = NULL;
    _cleanup_free_ char *config_files = NULL;
    _cleanup_free_ bool *want = NULL;

    if (cli_load_project(c, argv + optind, &p, &e) < 0)
        goto out;
    for (int i = optind; i < argc; i++)
        if (!project_service(p, argv[i])) {
            berr_set(&e, -ENOENT, "no such service: %s", argv[i]);
            goto out;
        }
    if (exit_from && !project_service(p, exit_from)) {
        berr_set(&e, -ENOENT, "--exit-code-from: no such service: %s", exit_from);
        goto out;
    }
    if (store_open(c->root, &st, &e) < 0)
        goto out;
    for (size_t i = 0; p->files && p->files[i]; i++) {
        char *f = xasprintf("%s%s%s", config_files ? config_files : "", i ? "," : "", p->files[i]);
        free(config_files);
        config_files = f;
    }

    /* The services to run: the named ones and what they depend on (unless
     * --no-deps), or all of them. */
    want = xcalloc(p->n_services + 1, sizeof *want);
    for (size_t i = 0; i < p->n_services; i++) {
        want[i] = optind >= argc;
        for (int k = optind; k < argc; k++)
            if (strcmp(argv[k], p->services[i].name) == 0)
                want[i] = true;
    }
    for (bool grew = !no_deps; grew;) {
        grew = false;
        for (size_t i = 0; i < p->n_services; i++)
            for (size_t d = 0; want[i] && d < p->services[i].n_depends; d++)
                for (size_t j = 0; j < p->n_services; j++)
                    if (!want[j] &&
                        strcmp(p->services[j].name, p->services[i].depends_on[d].service) == 0)
                        want[j] = grew = true;
    }

    /* Resolve every image and plan every container before creating
     * anything: a missing image leaves nothing half-done. Dependencies
     * first; each service's replicas numbered from 1. */
    size_t cap = 0;
    for (size_t k = 0; k < p->n_services; k++) {
        size_t i = p->start_order ? p->start_order[k] : k;
        const struct service *s = &p->services[i];
        if (!want[i])
            continue;
        int replicas = s->replicas > 0 ? s->replicas : 1;
        size_t slen = strlen(s->name);
        for (size_t k2 = 0; scale && scale[k2]; k2++)
            if (strncmp(scale[k2], s->name, slen) == 0 && scale[k2][slen] == '=')
                replicas = atoi(scale[k2] + slen + 1);
        if (s->container_name && replicas > 1) {
            berr_set(&e, -EINVAL,
                     "service \"%s\" has a container_name and cannot be scaled to %d "
                     "containers",
                     s->name, replicas);
            goto out;
        }
        if (!s->image) {
            berr_set(&e, -EINVAL,
                     "%s:%d:%d: service \"%s\" has neither an image nor a build section",
                     s->pos.file, s->pos.line, s->pos.col, s->name);
            goto out;
        }
        struct image *img = NULL;
        if (replicas > 0 && cli_service_image(st, s, &img, &e) < 0)
            goto out;
        for (int num = 1; num <= replicas; num++) {
            if (n_items == cap) {
                cap = cap ? cap * 2 : 16;
                items = xreallocarray(items, cap, sizeof *items);
            }
            struct up_item *it = &items[n_items++];
            memset(it, 0, sizeof *it);
            it->svc = s;
            it->img = img;
            it->owns_img = num == 1;
            it->number = num;
            it->id = ctr_new_id();
            if (plan_container(p, s, img, num, it->id, &it->plan, &e) < 0)
                goto out;
            if (s->container_name) {
                free(it->plan.name);
                it->plan.name = xstrdup(s->container_name);
                free(it->plan.log_name);
                it->plan.log_name = xstrdup(s->container_name);
            }
            if (cli_cgroup_rel(c->root, p->name, s->name, it->plan.name, &it->cgroup, &e) < 0)
                goto out;
        }
    }

    cache = xasprintf("%s/cache/seccomp", c->root);
    if (runtime_init(&rt, cache, &e) < 0)
        goto out;
    rt_ok = true;
    lockfd = project_lock(c->runroot, p->name, &e);
    if (lockfd < 0)
        goto out;
    if (ctr_list(c->root, p->name, &existing, &n_existing, &e) < 0)
        goto out;
    ctl = ctl_connect(c->runroot, p->name, &e);
    if (ctl < 0 && ctl != -ENOENT && ctl != -ECONNREFUSED)
        goto out;
    berr_clear(&e);

    /* Orphans: containers of services no longer in the file. */
    {
        _cleanup_free_ char *orphans = NULL;
        for (size_t i = 0; i < n_existing; i++) {
            if (existing[i].oneoff || project_service(p, existing[i].service))
                continue;
            if (remove_orphans) {
                struct run_state rs;
                if (run_state_read(c->runroot, p->name, existing[i].name, &rs) == 0 &&
                    run_state_alive(&rs)) {
                    berr_set(&e, -EBUSY, "orphan container %s is running; stop it first",
                             existing[i].name);
                    goto out;
                }
                if (cli_remove_container(c, p->name, ctl, &existing[i], RM_SAY | RM_ANON, &e) < 0)
                    goto out;
                continue;
            }
            char *o =
                xasprintf("%s%s%s", orphans ? orphans : "", orphans ? ", " : "", existing[i].name);
            free(orphans);
            orphans = o;
        }
        if (orphans)
            log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed "
                     "this service in your compose file, you can run this command with the "
                     "--remove-orphans flag to clean it up.",
                     orphans);
    }

    /* The project's volumes, before any container that mounts them. */
    {
        _cleanup_strv_ char **made = NULL;
        if (volumes_create_declared(c->root, p, &made, &e) < 0)
            goto out;
        for (size_t i = 0; made && made[i]; i++)
            ui_progress(c->ui, EV_VOLUME, "create", made[i], "Created");
    }

    /* Scaled down: containers of a wanted service beyond its new count go. */
    for (size_t i = 0; i < n_existing; i++) {
        const struct ctr_record *r = &existing[i];
        const struct service *s = r->oneoff ? NULL : project_service(p, r->service);
        if (!s || !want[s - p->services] || find_record_in_items(items, n_items, r->name))
            continue;
        if (ctl >= 0) {
            json_t *req = json_pack("{s:s, s:[s]}", "op", "stop", "names", r->name);
            int rr = ctl_request(ctl, req, ui_render_progress_json, c->ui, &e);
            json_decref(req);
            if (rr < 0)
                goto out;
        }
        if (cli_remove_container(c, p->name, ctl, r, RM_SAY | RM_ANON, &e) < 0)
            goto out;
    }

    /* Create (or keep, or recreate) the containers. */
    for (size_t i = 0; i < n_items; i++) {
        struct up_item *it = &items[i];
        const struct ctr_record *old = find_record(existing, n_existing, it->plan.name);
        if (old) {
            struct run_state rs;
            bool alive =
                run_state_read(c->runroot, p->name, old->name, &rs) == 0 && run_state_alive(&rs);
            bool same = old->plan.config && strcmp(old->plan.config, it->plan.config) == 0;
            if ((same && !force_recreate) || no_recreate) {
                /* Unchanged: keep the container (and its writable layer). */
                free(it->id);
                it->id = xstrdup(old->id);
                it->keep = alive;
                if (alive)
                    ui_progress(c->ui, EV_CONTAINER, "running", it->plan.name, "Running");
                continue;
            }
            if (alive) {
                if (ctl < 0) {
                    berr_set(&e, -EBUSY, "container %s runs without a supervisor; run `berth down`",
                             old->name);
                    goto out;
                }
                json_t *req = json_pack("{s:s, s:[s]}", "op", "stop", "names", old->name);
                if (timeout_ns >= 0)
                    json_object_set_new(req, "timeout_ns", json_integer(timeout_ns));
                int r = ctl_request(ctl, req, ui_render_progress_json, c->ui, &e);
                json_decref(req);
                if (r < 0)
                    goto out;
            }
            ui_progress(c->ui, EV_CONTAINER, "recreate", it->plan.name, "Recreate");
            if (cli_remove_container(c, p->name, ctl, old, 0, &e) < 0)
                goto out;
        } else {
            ui_progress_ctr(c->ui, "creating", it->id, it->svc->name, it->plan.name, it->svc->image,
                            "Creating");
        }
        _cleanup_free_ char *created = now_rfc3339();
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
            .config_files = config_files,
            .working_dir = p->working_dir,
            .plan = it->plan,
        };
        if (ctr_create(c->root, &rec, &e) < 0)
            goto out;
        ui_progress_ctr(c->ui, "create", it->id, it->svc->name, it->plan.name, it->svc->image,
                        old ? "Recreated" : "Created");
    }

    ctr_sync(c->root);

    /* What to start, as stored records (the supervisor's input). */
    ctr_list_free(existing, n_existing);
    existing = NULL;
    n_existing = 0;
    if (ctr_list(c->root, p->name, &existing, &n_existing, &e) < 0)
        goto out;
    start = xcalloc(n_items + 1, sizeof *start);
    for (size_t i = 0; i < n_items; i++) {
        const struct ctr_record *r = find_record(existing, n_existing, items[i].plan.name);
        if (!r)
            continue;
        start[n_start++] = *r; /* shallow: `existing` owns the strings */
        strv_push(&start_ids, xstrdup(r->id));
    }

    if (sdnotify_enabled(&nf) && (ctl >= 0 || detach))
        log_warn("NOTIFY_SOCKET is set, but only an attached `up` that supervises project \"%s\" "
                 "itself tells the service manager it is ready",
                 p->name);
    if (ctl >= 0) {
        /* A supervisor already runs this project: hand the containers over
         * and, attached, follow them as if this `up` ran them. */
        if (!detach && abort_on_exit) {
            berr_set(&e, -EBUSY,
                     "--abort-on-container-exit and --exit-code-from need the containers to be "
                     "started by this up, but a detached up supervises project \"%s\" (stop "
                     "it first: berth stop)",
                     p->name);
            goto out;
        }
        int64_t since = ps_now_ns();
        if (cli_start_via_supervisor(ctl, start_ids, wait, c->ui, &e) < 0)
            goto out;
        rc = detach
                 ? 0
                 : attach_existing(c, p->name, ctl, start, n_start, color, since, timeout_ns, &e);
        goto out;
    }
    if (detach) {
        rc = cli_start_detached(c, &rt, p->name, start, n_start, wait, lockfd, &e) < 0 ? 1 : 0;
        goto out;
    }

    /* Attached: this process is the supervisor. */
    struct sv_options so = {
        .root = c->root,
        .runroot = c->runroot,
        .project = p->name,
        .attached = true,
        .sink = ui_render_sink(c->ui),
        .abort_on_exit = abort_on_exit,
        .exit_code_from = exit_from,
        .events_fd = -1,
        .stop_timeout_ns = timeout_ns,
        .notify = sdnotify_enabled(&nf) ? &nf : NULL,
    };
    ui_render_set_color(c->ui, color);
    ui_render_logs_view(c->ui, true);
    sv = sv_new(&rt, &so);
    if (sv_listen(sv, &e) < 0)
        goto out;
    /* Ready, for a service manager, is what `up --wait` waits for. */
    sv_request_start(sv, start, n_start, so.notify != NULL, &e);
    project_unlock(lockfd);
    lockfd = -1;
    rc = sv_run(sv);
    /* SIGTERM is how a service manager stops its service: a stop it asked
     * for and got is a success, not the 143 a terminal shows. */
    if (so.notify && rc == 128 + SIGTERM)
        rc = 0;

out:
    if (e.msg) {
        log_berr(&e);
        if (rc == 0)
            rc = 1;
    }
    berr_clear(&e);
    sv_free(sv);
    if (ctl >= 0)
        close(ctl);
    if (p)
        run_dir_prune(c->runroot, p->name);
    project_unlock(lockfd);
    free(start);
    ctr_list_free(existing, n_existing);
    up_items_free(items, n_items);
    if (rt_ok)
        runtime_fini(&rt);
    store_close(st);
    project_free(p);
    sdnotify_close(&nf);
    return rc;
}

/* down: stop every running container of the project (through its
 * supervisor, so nothing restarts; directly when none is left), then remove
 * containers, cgroups and run state. Works from the files on disk alone. */

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
    for (;;) {
        struct pollfd pfds[n ? n : 1];
        size_t idx[n ? n : 1], k = 0;
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

int cmd_down(struct cli *c, int argc, char **argv)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "down");
    int64_t timeout_ns = -1;
    bool remove_orphans = false, volumes = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 't':
            if (cli_parse_timeout(optarg, &timeout_ns) < 0)
                return 2;
            break;
        case 'v':
            volumes = true;
            break;
        case 'O':
            remove_orphans = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    struct berr e = BERR_INIT;
    struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    if (cli_project_name(c, argv + optind, &name, &p, &e) < 0) {
        log_berr(&e);
        berr_clear(&e);
        return 1;
    }

    int rc = 0;
    int lockfd = project_lock(c->runroot, name, &e);
    if (lockfd < 0) {
        log_berr(&e);
        berr_clear(&e);
        project_free(p);
        return 1;
    }
    struct ctr_record *all = NULL;
    size_t n_all = 0;
    if (ctr_list(c->root, name, &all, &n_all, &e) < 0) {
        log_berr(&e);
        berr_clear(&e);
        project_unlock(lockfd);
        project_free(p);
        return 1;
    }
    /* Without --remove-orphans, docker compose leaves containers of
     * services that are no longer in the file. */
    struct ctr_record *recs = xcalloc(n_all + 1, sizeof *recs);
    size_t n = 0;
    _cleanup_free_ char *orphans = NULL;
    for (size_t i = 0; i < n_all; i++) {
        if (p && !remove_orphans && !all[i].oneoff && !project_service(p, all[i].service)) {
            char *o = xasprintf("%s%s%s", orphans ? orphans : "", orphans ? ", " : "", all[i].name);
            free(orphans);
            orphans = o;
            continue;
        }
        recs[n++] = all[i];
    }
    if (orphans)
        log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed this "
                 "service in your compose file, you can run this command with the "
                 "--remove-orphans flag to clean it up.",
                 orphans);

    /* The supervisor stops them (stop signal, grace, SIGKILL; no restart). */
    bool was_running[n ? n : 1];
    pid_t supervisors[n ? n : 1];
    for (size_t i = 0; i < n; i++) {
        struct run_state rs;
        was_running[i] =
            run_state_read(c->runroot, name, recs[i].name, &rs) == 0 && run_state_alive(&rs);
        supervisors[i] = was_running[i] ? rs.supervisor : 0;
    }
    int ctl = ctl_connect(c->runroot, name, &e);
    berr_clear(&e);
    if (ctl == -ECONNREFUSED) {
        /* a socket nobody serves: its supervisor was killed */
        _cleanup_free_ char *sock = sv_socket_path(c->runroot, name);
        unlink(sock);
    }
    if (ctl >= 0) {
        json_t *req = json_pack("{s:s}", "op", "stop");
        json_t *names = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(names, json_string(recs[i].name));
        json_object_set_new(req, "names", names);
        if (timeout_ns >= 0)
            json_object_set_new(req, "timeout_ns", json_integer(timeout_ns));
        if (ctl_request(ctl, req, ui_render_progress_json, c->ui, &e) < 0) {
            log_berr(&e);
            berr_clear(&e);
        }
        json_decref(req);
        close(ctl);
    }
    /* Whatever still runs (no supervisor answered): signal it directly. */
    struct down_item *items = xcalloc(n ? n : 1, sizeof *items);
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
    wait_pidfds(items, n);

    /* A supervisor ends once it has nothing left to watch; wait for it, so
     * that it cannot write run state after it is removed. */
    struct down_item sups[n ? n : 1];
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

    for (size_t i = 0; i < n; i++) {
        if (was_running[i])
            ui_progress(c->ui, EV_CONTAINER, "stop", recs[i].name, "Stopped");
        if (cli_remove_container(c, name, -1, &recs[i], RM_SAY | RM_ANON, &e) < 0) {
            log_berr(&e);
            berr_clear(&e);
            rc = 1;
        }
    }
    if (volumes) {
        _cleanup_strv_ char **removed = NULL;
        if (volumes_remove_project(c->root, name, &removed, &e) < 0) {
            log_berr(&e);
            berr_clear(&e);
            rc = 1;
        }
        for (size_t i = 0; removed && removed[i]; i++)
            ui_progress(c->ui, EV_VOLUME, "destroy", removed[i], "Removed");
    }
    free(items);
    free(recs);
    ctr_list_free(all, n_all);
    run_state_sweep(c->root, c->runroot, name);
    run_dir_prune(c->runroot, name);
    project_unlock(lockfd);
    project_free(p);
    return rc;
}
