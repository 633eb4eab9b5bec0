/* `berth up` (attached) and `berth down`. */
#include <fcntl.h>
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
#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "engine/supervise/supervisor.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

static int load_project(struct cli *c, struct project **out, struct berr *e)
{
    struct compose_opts o = {
        .files = c->files,
        .project_name = c->project_name,
        .project_dir = c->project_dir,
        .environ = c->environ,
    };
    return compose_load(&o, out, e);
}

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

/* One service's container, from planning to start. */
struct up_item {
    const struct service *svc;
    struct image *img;
    struct ctr_plan plan;
    char *id;
    char *cgroup;
};

static void up_items_free(struct up_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        image_free(items[i].img);
        ctr_plan_free(&items[i].plan);
        free(items[i].id);
        free(items[i].cgroup);
    }
    free(items);
}

static void up_usage(FILE *f)
{
    fputs("Usage: berth up [OPTIONS] [SERVICE...]\n\n"
          "Create and start containers, attached: their output is streamed until they\n"
          "exit; Ctrl-C stops them (twice: kills them).\n\n"
          "Options:\n"
          "      --abort-on-container-exit   Stop all containers if any container exits\n"
          "      --exit-code-from SERVICE    Return the exit code of SERVICE (implies\n"
          "                                  --abort-on-container-exit)\n"
          "      --no-color                  Monochrome output\n",
          f);
}

int cmd_up(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"abort-on-container-exit", no_argument, NULL, 'A'},
        {"exit-code-from", required_argument, NULL, 'X'},
        {"no-color", no_argument, NULL, 'C'},
        {"detach", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool abort_on_exit = false, color = c->color;
    const char *exit_from = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "+dh", opts, NULL)) != -1) {
        switch (opt) {
        case 'A':
            abort_on_exit = true;
            break;
        case 'X':
            exit_from = optarg;
            break;
        case 'C':
            color = false;
            break;
        case 'd':
            fprintf(stderr, "berth: up: detached mode (-d) is not available yet: run attached, "
                            "and stop with Ctrl-C or `berth down` from another shell\n");
            return 2;
        case 'h':
            up_usage(stdout);
            return 0;
        default:
            up_usage(stderr);
            return 2;
        }
    }

    struct berr e = BERR_INIT;
    struct project *p = NULL;
    struct store *st = NULL;
    struct runtime rt;
    bool rt_ok = false;
    struct supervisor *sv = NULL;
    struct up_item *items = NULL;
    size_t n_items = 0;
    struct ctr_record *existing = NULL;
    size_t n_existing = 0;
    int lockfd = -1;
    int rc = 1;
    _cleanup_free_ char *cache = NULL;

    if (load_project(c, &p, &e) < 0)
        goto out;
    /* Selected services: those named, else all of them. */
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

    /* Resolve every image and plan every container before creating
     * anything: a missing image leaves nothing half-done. */
    items = xcalloc(p->n_services, sizeof *items);
    for (size_t i = 0; i < p->n_services; i++) {
        const struct service *s = &p->services[i];
        bool selected = optind >= argc;
        for (int k = optind; k < argc; k++)
            if (strcmp(argv[k], s->name) == 0)
                selected = true;
        if (!selected)
            continue;
        struct up_item *it = &items[n_items];
        it->svc = s;
        if (!s->image) {
            berr_set(&e, -EINVAL,
                     "%s:%d:%d: service \"%s\" has neither an image nor a build section",
                     s->pos.file, s->pos.line, s->pos.col, s->name);
            goto out;
        }
        if (store_image_get(st, s->image, &it->img, &e) < 0) {
            berr_wrap(&e, "service \"%s\"", s->name);
            goto out;
        }
        n_items++;
        it->id = ctr_new_id();
        if (plan_container(p, s, it->img, 1, it->id, &it->plan, &e) < 0)
            goto out;
        it->cgroup = xasprintf("berth/%s/%s/%s", p->name, s->name, it->plan.name);
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

    /* Orphans: containers of services no longer in the file. */
    {
        _cleanup_free_ char *orphans = NULL;
        for (size_t i = 0; i < n_existing; i++)
            if (!project_service(p, existing[i].service)) {
                char *o = xasprintf("%s%s%s", orphans ? orphans : "", orphans ? ", " : "",
                                    existing[i].name);
                free(orphans);
                orphans = o;
            }
        if (orphans)
            log_warn("Found orphan containers ([%s]) for this project. If you removed or renamed "
                     "this service in your compose file, you can run `berth down` to clean it up.",
                     orphans);
    }

    /* Create (or reuse, or recreate) the containers. */
    for (size_t i = 0; i < n_items; i++) {
        struct up_item *it = &items[i];
        const struct ctr_record *old = find_record(existing, n_existing, it->plan.name);
        if (old) {
            struct run_state rs;
            if (run_state_read(c->runroot, p->name, old->name, &rs) == 0 && run_state_alive(&rs)) {
                berr_set(&e, -EBUSY,
                         "container %s is already running (supervised by berth process %d); stop "
                         "it with `berth down` first",
                         old->name, (int)rs.supervisor);
                goto out;
            }
            if (old->plan.config && strcmp(old->plan.config, it->plan.config) == 0) {
                /* Unchanged: start the existing container again. */
                free(it->id);
                it->id = xstrdup(old->id);
                ctr_plan_free(&it->plan);
                if (plan_container(p, it->svc, it->img, 1, it->id, &it->plan, &e) < 0)
                    goto out;
                continue;
            }
            fprintf(stderr, " Container %s  Recreate\n", it->plan.name);
            if (ctr_remove(c->root, old->id, &e) < 0)
                goto out;
        } else {
            fprintf(stderr, " Container %s  Creating\n", it->plan.name);
        }
        _cleanup_free_ char *created = now_rfc3339();
        struct ctr_record rec = {
            .id = it->id,
            .name = it->plan.name,
            .project = p->name,
            .service = (char *)it->svc->name,
            .number = 1,
            .image = it->svc->image,
            .image_id = it->img->id,
            .created = created,
            .cgroup = it->cgroup,
            .plan = it->plan,
        };
        if (ctr_create(c->root, &rec, &e) < 0)
            goto out;
        fprintf(stderr, " Container %s  %s\n", it->plan.name, old ? "Recreated" : "Created");
    }

    struct sv_options so = {
        .runroot = c->runroot,
        .project = p->name,
        .color = color,
        .abort_on_exit = abort_on_exit,
        .exit_code_from = exit_from,
    };
    sv = sv_new(&rt, &so);
    int width = 0;
    for (size_t i = 0; i < n_items; i++) {
        int w = (int)strlen(items[i].plan.log_name);
        if (w > width)
            width = w;
    }
    sv_set_prefix_width(sv, width);
    for (size_t i = 0; i < n_items; i++) {
        struct up_item *it = &items[i];
        _cleanup_free_ char *upper = ctr_path(c->root, it->id, "upper");
        _cleanup_free_ char *work = ctr_path(c->root, it->id, "work");
        _cleanup_free_ char *rootfs = ctr_path(c->root, it->id, "rootfs");
        struct container_spec spec = {
            .name = it->plan.name,
            .layer_dirs = it->img->layer_dirs,
            .upper_dir = upper,
            .work_dir = work,
            .rootfs_dir = rootfs,
            .argv = it->plan.argv,
            .env = it->plan.env,
            .cwd = it->plan.cwd,
            .user = it->plan.user,
            .hostname = it->plan.hostname,
            .read_only = it->plan.read_only,
            .cgroup_rel = it->cgroup,
            .limits = it->plan.limits,
            .stdin_fd = -1,
            .stdout_fd = -1,
            .stderr_fd = -1,
        };
        struct sv_container_info info = {
            .name = it->plan.name,
            .log_name = it->plan.log_name,
            .service = it->svc->name,
            .stop_signal = it->plan.stop_signal,
            .stop_grace_ns = it->plan.stop_grace_ns,
            .tty = it->plan.tty,
        };
        if (sv_start(sv, &info, &spec, &e) < 0) {
            /* Stop what already runs, then report. */
            sv_stop_all(sv, true);
            sv_run(sv);
            goto out;
        }
    }
    project_unlock(lockfd);
    lockfd = -1;
    rc = sv_run(sv);

out:
    if (e.msg) {
        log_berr(&e);
        rc = rc ? rc : 1;
        if (rc == 0)
            rc = 1;
    }
    berr_clear(&e);
    sv_free(sv);
    if (p)
        run_dir_prune(c->runroot, p->name);
    project_unlock(lockfd);
    ctr_list_free(existing, n_existing);
    up_items_free(items, n_items);
    if (rt_ok)
        runtime_fini(&rt);
    store_close(st);
    project_free(p);
    return rc;
}

/* down: stop every running container of the project (stop signal, grace
 * period, SIGKILL), then remove containers, cgroups and run state. Works
 * from the files on disk alone, whether or not a supervisor is alive. */

struct down_item {
    struct ctr_record *rec;
    int pidfd;
    struct timespec deadline;
    bool killed;
    pid_t supervisor;
};

static int64_t ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

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
            return; /* killed and still not gone after 10 s: give up */
        for (size_t j = 0; j < k; j++)
            if (pfds[j].revents) {
                close(items[idx[j]].pidfd);
                items[idx[j]].pidfd = -1;
            }
    }
}

int cmd_down(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"volumes", no_argument, NULL, 'v'},
        {"remove-orphans", no_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int64_t timeout_ns = -1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+t:vh", opts, NULL)) != -1) {
        switch (opt) {
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0) {
                fprintf(stderr, "berth: down: invalid timeout \"%s\" (seconds)\n", optarg);
                return 2;
            }
            timeout_ns = (int64_t)v * 1000000000LL;
            break;
        }
        case 'v':
        case 'O':
            break;
        case 'h':
            fputs("Usage: berth down [OPTIONS]\n\nStop and remove containers.\n\nOptions:\n"
                  "  -t, --timeout SECONDS   Shutdown timeout\n",
                  stdout);
            return 0;
        default:
            return 2;
        }
    }
    struct berr e = BERR_INIT;
    struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    if (load_project(c, &p, &e) < 0) {
        if (!c->project_name) {
            log_berr(&e);
            berr_clear(&e);
            return 1;
        }
        berr_clear(&e); /* -p alone is enough for down */
        name = xstrdup(c->project_name);
    } else {
        name = xstrdup(p->name);
    }
    project_free(p);

    int rc = 0;
    int lockfd = project_lock(c->runroot, name, &e);
    if (lockfd < 0) {
        log_berr(&e);
        berr_clear(&e);
        return 1;
    }
    struct ctr_record *recs = NULL;
    size_t n = 0;
    if (ctr_list(c->root, name, &recs, &n, &e) < 0) {
        log_berr(&e);
        berr_clear(&e);
        project_unlock(lockfd);
        return 1;
    }
    struct down_item *items = xcalloc(n ? n : 1, sizeof *items);
    /* Signal every running container at once, then wait for all. */
    for (size_t i = 0; i < n; i++) {
        items[i].rec = &recs[i];
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
        items[i].supervisor = rs.supervisor;
        fprintf(stderr, " Container %s  Stopping\n", recs[i].name);
        int sig = recs[i].plan.stop_signal > 0 ? recs[i].plan.stop_signal : SIGTERM;
        int64_t grace = timeout_ns >= 0                   ? timeout_ns
                        : recs[i].plan.stop_grace_ns >= 0 ? recs[i].plan.stop_grace_ns
                                                          : STOP_GRACE_DEFAULT_NS;
        clock_gettime(CLOCK_MONOTONIC, &items[i].deadline);
        items[i].deadline.tv_sec += grace / 1000000000LL;
        items[i].deadline.tv_nsec += grace % 1000000000LL;
        if (items[i].deadline.tv_nsec >= 1000000000L) {
            items[i].deadline.tv_sec++;
            items[i].deadline.tv_nsec -= 1000000000L;
        }
        pidfd_send_signal(fd, sig, NULL, 0);
    }
    wait_pidfds(items, n);

    /* An attached `up` records the exits and then exits itself; wait for
     * it so that it cannot write run state after we removed it. */
    struct down_item sups[n ? n : 1];
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        pid_t s = items[i].supervisor;
        bool seen = s <= 0 || s == getpid();
        for (size_t k = 0; k < ns && !seen; k++)
            seen = sups[k].supervisor == s;
        if (seen)
            continue;
        int fd = pidfd_open(s, 0);
        if (fd < 0)
            continue;
        sups[ns] = (struct down_item){.pidfd = fd, .supervisor = s, .killed = true};
        clock_gettime(CLOCK_MONOTONIC, &sups[ns].deadline);
        sups[ns].deadline.tv_sec += 10;
        ns++;
    }
    wait_pidfds(sups, ns);
    for (size_t k = 0; k < ns; k++)
        if (sups[k].pidfd >= 0)
            close(sups[k].pidfd);

    struct cgroup_sys cgs;
    bool have_cgs = cgroup_sys_detect(&cgs, &e) == 0;
    berr_clear(&e);
    for (size_t i = 0; i < n; i++) {
        struct ctr_record *r = &recs[i];
        if (items[i].pidfd >= 0 || items[i].killed || items[i].supervisor)
            fprintf(stderr, " Container %s  Stopped\n", r->name);
        fprintf(stderr, " Container %s  Removing\n", r->name);
        if (have_cgs && r->cgroup && *r->cgroup) {
            struct cgroup *cg = cgroup_open(&cgs, r->cgroup);
            cgroup_kill_all(cg);
            if (cgroup_destroy(cg, true, &e) < 0) {
                log_berr(&e);
                berr_clear(&e);
                rc = 1;
            }
            cgroup_free(cg);
        }
        if (ctr_remove(c->root, r->id, &e) < 0) {
            log_berr(&e);
            berr_clear(&e);
            rc = 1;
            continue;
        }
        run_state_remove(c->runroot, name, r->name);
        fprintf(stderr, " Container %s  Removed\n", r->name);
    }
    if (have_cgs)
        cgroup_sys_free(&cgs);
    free(items);
    ctr_list_free(recs, n);
    run_dir_prune(c->runroot, name);
    project_unlock(lockfd);
    return rc;
}
