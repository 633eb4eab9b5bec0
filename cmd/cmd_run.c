/* SPDX-License-Identifier: Apache-2.0 */
/* `berth run`: a one-off container of a service, PROJECT-SERVICE-run-ID,
 * with the service's configuration and the command given. Attached, this
 * process is its parent (its terminal is the container's); with -d the
 * project's supervisor takes it. Its dependencies are started first, as
 * `up` would (unless --no-deps).
 * Not here: the terminal session (cmd/ui/session.c), the phases of `up`
 * (cmd/up.h), starting and removing one container (cmd/project.c). */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/build.h"
#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/up.h"
#include "cmd/ui/session.h"
#include "compose/compose.h"
#include "compose/shellwords.h"
#include "engine/image/image.h"
#include "engine/plan/plan.h"
#include "engine/runtime/ctrplan_sec.h"
#include "engine/runtime/netsetup.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/userns.h"
#include "engine/supervise/ctr_files.h"
#include "engine/runtime/shapesetup.h"
#include "engine/supervise/records.h"
#include "engine/supervise/sv_oneoff.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static char *short_id(void)
{
    _cleanup_free_ char *id = ctr_new_id();
    return xstrndup(id, 12);
}

/* What run's flags decided. */
struct run_opts {
    bool detach, rm, no_deps;
    bool build; /* --build: build the service's image first */
    int tty;    /* -1: when stdin and stdout are terminals */
    const char *entrypoint, *name, *user, *workdir;
    char **env; /* -e values */
};

/* One run, from its plan to its end. */
struct run {
    struct cli *c;
    const struct run_opts *o;
    struct project *p;
    struct store *st;
    struct image *img;
    struct ctr_plan plan;
    char *id, *ctr_name, *cgroup;
    int lockfd;
    bool created;
};

/* Frees the run; with --rm (attached) its container goes too, once made. */
static void run_free(struct run *r)
{
    if (r->created && r->o->rm && !r->o->detach) {
        _cleanup_berr_ struct berr re = BERR_INIT;
        struct ctr_record gone = {
            .id = r->id, .name = r->ctr_name, .cgroup = r->cgroup, .plan = r->plan};
        if (cli_remove_container(r->c, r->p->name, -1, &gone, RM_ANON, &re) < 0)
            log_berr(&re); /* its record stays for `down` */
    }
    if (r->p)
        run_dir_prune(r->c->runroot, r->p->name);
    project_unlock(r->lockfd);
    ctr_plan_free(&r->plan);
    image_free(r->img);
    store_close(r->st);
    project_free(r->p);
    free(r->id);
    free(r->ctr_name);
    free(r->cgroup);
}

/* Dependencies first, as `up -d SERVICE...` starts them: up's phases. */
static int run_deps(struct cli *c, const struct service *s, struct berr *e)
{
    _cleanup_strv_ char **deps = NULL;
    for (size_t i = 0; i < s->n_depends; i++)
        strv_push(&deps, xstrdup(s->depends_on[i].service));
    struct up_opts o = {.services = deps, .detach = true, .color = c->color, .timeout_ns = -1};
    int r = up_project(c, &o, e);
    if (r != 0)
        return berr_wrap(e, "starting the dependencies of %s", s->name);
    return 0;
}

/* The service with the run's overrides (command, entrypoint), planned as
 * container #1, then -e, -u, -w, a terminal, no restart, and its name. */
static int run_plan(struct run *r, const struct service *s0, char **cmd_args, struct berr *e)
{
    const struct run_opts *o = r->o;
    struct service s = *s0;
    if (cmd_args[0]) {
        s.command = cmd_args;
        s.command_set = true;
    }
    _cleanup_strv_ char **ep = NULL;
    if (o->entrypoint) {
        long stop = -1;
        const char *why = NULL;
        if (shellwords_split(o->entrypoint, &ep, &stop, &why) < 0)
            return berr_set(e, -EINVAL, "--entrypoint \"%s\": %s", o->entrypoint,
                            why ? why : "cannot split it into words");
        s.entrypoint = ep;
        s.entrypoint_set = true;
    }
    int rr = cli_service_image(r->st, &s, &r->img, e);
    if (rr >= 0)
        rr = plan_container(r->p, &s, r->img, 1, r->id, &r->plan, e);
    if (rr < 0)
        return rr;
    cli_ports_external_binding(r->c, r->p, &s, &r->plan);
    for (size_t i = 0; o->env && o->env[i]; i++)
        strv_env_put(&r->plan.env, o->env[i]);
    if (o->user) {
        free(r->plan.user);
        r->plan.user = xstrdup(o->user);
    }
    if (o->workdir) {
        free(r->plan.cwd);
        r->plan.cwd = xstrdup(o->workdir);
    }
    r->plan.tty = o->tty;
    r->plan.restart.policy = PLAN_RESTART_NO; /* one-off: never restarted */
    /* As docker compose: a one-off publishes none of the service's ports. */
    for (size_t i = 0; i < r->plan.n_ports; i++)
        free(r->plan.ports[i].host_ip);
    free(r->plan.ports);
    r->plan.ports = NULL;
    r->plan.n_ports = 0;
    _cleanup_free_ char *run_id = short_id();
    r->ctr_name =
        o->name ? xstrdup(o->name) : xasprintf("%s-%s-run-%s", r->p->name, s0->name, run_id);
    free(r->plan.name);
    r->plan.name = xstrdup(r->ctr_name);
    free(r->plan.log_name);
    r->plan.log_name = xstrdup(r->ctr_name);
    int cr = cli_cgroup_rel(r->c->root, r->p->name, s0->name, r->ctr_name, &r->cgroup, e);
    cli_cgroup_parent(&r->cgroup, &r->plan);
    return cr;
}

/* The one-off's record, under the project lock. */
static int run_create(struct run *r, const struct service *s0, struct berr *e)
{
    r->lockfd = project_lock(r->c->runroot, r->p->name, e);
    if (r->lockfd < 0)
        return r->lockfd;
    char now[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 0, now);
    struct ctr_record rec = {
        .id = r->id,
        .name = r->ctr_name,
        .project = r->p->name,
        .service = (char *)s0->name,
        .number = 1,
        .oneoff = true,
        .image = s0->image,
        .image_id = r->img->id,
        .created = now,
        .cgroup = r->cgroup,
        .working_dir = r->p->working_dir,
        .plan = r->plan,
    };
    _cleanup_strv_ char **made = NULL;
    const struct ctr_plan *plans[] = {&r->plan};
    int rr = cli_networks_ensure(r->c, r->p, plans, 1, &made, e);
    if (rr == 0 && (rr = cli_endpoints_assign(r->c, s0, &r->plan, e)) == 0) {
        rec.plan = r->plan;
        rr = ctr_create(r->c->root, &rec, e);
        if (rr < 0)
            cli_endpoints_release(r->c, &r->plan, r->ctr_name);
    }
    if (rr < 0)
        cli_networks_undo(r->c, &made);
    r->created = rr == 0;
    return rr;
}

/* -d: up's start phase hands the one-off to the project's supervisor. */
static int run_detached(struct run *r, struct berr *e)
{
    _cleanup_ctr_list_ struct ctr_list l = {0};
    int rr = ctr_list(r->c->root, r->p->name, &r->c->sink, &l.v, &l.n, e);
    if (rr < 0)
        return rr;
    _cleanup_close_ int ctl = -1;
    rr = cli_supervisor(r->c, r->p->name, &ctl, e);
    if (rr < 0)
        return rr;
    rr = berr_set(e, -ENOENT, "container %s has no record", r->ctr_name);
    for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.v[i].id, r->id) == 0) {
            berr_clear(e);
            rr = up_start_records(r->c, r->p->name, ctl, NULL, &l.v[i], 1, false, r->lockfd, e);
        }
    if (rr < 0)
        return rr;
    puts(r->ctr_name);
    return 0;
}

/* Records the one-off's state for ps and down ("ignored": a run state
 * that cannot be written leaves the container running all the same). */
static void run_state_note(struct run *r, struct run_state *rs)
{
    run_state_write(r->c->runroot, r->p->name, r->ctr_name, rs, NULL);
}

/* An attached one-off's network (see run_attached): *nsfd (this
 * process's, -1 when none) holds its namespace while it runs, and *dns
 * (NULL when none) is the DNS server in it. */
static int run_network(struct run *r, struct container_spec *spec, int *nsfd, char **netns,
                       struct sv_oneoff_dns **dns, struct mount_set *ms, struct berr *e)
{
    const struct ctr_plan *pl = &r->plan;
    const char *mode = pl->network_mode;
    if (mode && strcmp(mode, "host") == 0) {
        spec->net_host = true;
    } else if (mode && strncmp(mode, "container:", 10) == 0) {
        const char *target = mode + 10;
        struct run_state rs;
        if (run_state_read(r->c->runroot, r->p->name, target, &rs) < 0 || !run_state_alive(&rs))
            return berr_set(e, -ENOENT, "network_mode container:%s: no such running container",
                            target);
        *netns = xasprintf("/proc/%d/ns/net", (int)rs.pid);
    } else if (netsetup_has_endpoints(pl)) {
        unsigned mtu = 0;
        *nsfd = netsetup_attach(pl, r->ctr_name, &mtu, e);
        if (*nsfd < 0)
            return *nsfd;
        int sr = shapesetup_apply(pl, r->id, *nsfd, e); /* x-berth-network */
        if (sr < 0)
            return sr;
        *netns = netsetup_fd_path(*nsfd);
        int dr = sv_oneoff_dns_new(r->c->root, r->c->runroot, getenv("BERTH_RESOLV_CONF"), pl,
                                   r->ctr_name, *nsfd, dns, e);
        if (dr < 0)
            return dr;
    }
    spec->netns_path = *netns;
    _cleanup_strv_ char **more = cli_hosts_snapshot(r->c, r->p->name, pl);
    _cleanup_free_ char *dir = ctr_path(r->c->root, r->id, NULL);
    struct netsetup_files o = {.resolv_conf = getenv("BERTH_RESOLV_CONF"),
                               .embedded_dns = *dns != NULL,
                               .more_hosts = more};
    return netsetup_etc(dir, r->plan.name, pl, &o, &ms->specs, &ms->n, &ms->strings, e);
}

/* Attached: this process is the container's parent; its exit status. */
static int run_attached(struct run *r, const int stdio[3], struct berr *e)
{
    _cleanup_free_ char *cache = xasprintf("%s/cache/seccomp", r->c->root);
    _cleanup_runtime_ struct runtime rt = RUNTIME_UNSET;
    int rr = runtime_init(&rt, cache, e);
    if (rr < 0)
        return rr;
    _cleanup_free_ char *upper = ctr_path(r->c->root, r->id, "upper");
    _cleanup_free_ char *work = ctr_path(r->c->root, r->id, "work");
    _cleanup_free_ char *rootfs = ctr_path(r->c->root, r->id, "rootfs");
    const struct ctr_plan *pl = &r->plan;
    struct container_spec spec = {
        .name = r->ctr_name,
        .layer_dirs = pl->layer_dirs,
        .upper_dir = upper,
        .work_dir = work,
        .rootfs_dir = rootfs,
        .argv = pl->argv,
        .env = pl->env,
        .cwd = pl->cwd,
        .user = pl->user,
        .hostname = pl->hostname,
        .read_only = pl->read_only,
        .tty = r->o->tty,
        .cgroup_rel = r->cgroup,
        .limits = pl->limits,
        .shm_size = pl->shm_size,
        .init = pl->init,
        .stdin_fd = -1,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .caps = pl->caps,
        .caps_named = pl->caps_named,
        .no_new_privs = pl->no_new_privs,
        .domainname = pl->domainname,
    };
    plan_sec_spec(pl, &spec.sec);
    _cleanup_mount_set_ struct mount_set mset = {0};
    if (pl->n_mounts > 0) {
        if ((rr = mounts_prepare(r->c->root, r->p->name, &r->plan, e)) < 0 ||
            (rr = mounts_build(r->c->root, &r->plan, &mset, e)) < 0)
            return rr;
    }
    /* Its network: its own namespace on the service's networks, or the
     * mode's; /etc/hosts names the project's containers it can reach now,
     * and a DNS server of its own (no supervisor serves it) answers as
     * they come and go. */
    _cleanup_free_ char *netns = NULL;
    _cleanup_close_ int nsfd = -1;
    _cleanup_(sv_oneoff_dns_freep) struct sv_oneoff_dns *dns = NULL;
    if ((rr = run_network(r, &spec, &nsfd, &netns, &dns, &mset, e)) < 0)
        return rr;
    _cleanup_(ctr_files_release) char *files_dir = NULL;
    if ((rr = ctr_files_prepare(r->c->root, r->c->runroot, r->p->name, r->id, pl, &mset, &files_dir,
                                e)) < 0)
        return rr;
    spec.mounts = mset.specs;
    spec.n_mounts = mset.n;
    if ((rr = userns_spec_fill(r->c->root, r->id, pl, &spec, e)) < 0)
        return rr;
    /* Signals are taken before the container exists, so none is lost. */
    _cleanup_cli_session_ struct cli_session *sess = cli_session_new(r->o->tty);
    /* Without a TTY of its own, never this process's terminal. */
    if (!r->o->tty) {
        int child[3];
        if ((rr = cli_session_stdio(sess, stdio, child, e)) < 0)
            return rr;
        spec.stdin_fd = child[0];
        spec.stdout_fd = child[1];
        spec.stderr_fd = child[2];
    }
    struct container_proc proc;
    struct cli_procns_ctx nsc = {r->c->runroot, r->p->name};
    if ((rr = plan_procns_spec(pl, &spec, cli_procns_find, &nsc, e)) < 0)
        return rr;
    rr = container_start(&rt, &spec, &proc, e);
    plan_procns_spec_release(&spec);
    if (rr < 0)
        return e->code == -ENOENT ? 127 : e->code == -EACCES ? 126 : 1;
    /* (a thread only now: the container was cloned from one thread) */
    if (dns && sv_oneoff_dns_serve(dns, e) < 0) {
        container_signal(&proc, SIGKILL);
        struct container_exit ign;
        cli_session_wait(sess, &proc, &ign);
        container_release(&proc, NULL);
        return 1;
    }
    struct run_state rs = {.pid = proc.pid,
                           .start_time = proc.start_time,
                           .supervisor = getpid(),
                           .running = true,
                           .started_at_ns = (int64_t)time(NULL) * 1000000000LL};
    run_state_note(r, &rs);
    struct container_exit x = {0};
    int rc = cli_session_wait(sess, &proc, &x);
    if (proc.console_fd >= 0)
        close(proc.console_fd);
    proc.console_fd = -1;
    rs.running = false;
    rs.exit_code = x.status;
    rs.finished_at_ns = (int64_t)time(NULL) * 1000000000LL;
    run_state_note(r, &rs);
    container_release(&proc, NULL);
    return rc;
}

/* The project and the one-off's service, refused before anything is made
 * (volumes, dependencies) when its file asks for what berth cannot give. */
static int run_open(struct run *r, const char *svc_name, const struct service **s0, struct berr *e)
{
    char *named[] = {(char *)svc_name, NULL};
    int rr = cli_load_project(r->c, named, &r->p, e);
    if (rr < 0)
        return rr;
    *s0 = project_service(r->p, svc_name);
    if (!*s0)
        return berr_set(e, -ENOENT, "no such service: %s", svc_name);
    if (!(*s0)->image)
        return berr_set(e, -EINVAL, "service \"%s\" has no image", svc_name);
    rr = compose_service_refused(*s0, e);
    if (rr < 0)
        return rr;
    /* its image, built when missing or with --build, before anything is
     * made (the dependencies' as `up` builds them) */
    rr = store_open(r->c->root, &r->st, e);
    if (rr < 0)
        return rr;
    store_set_sink(r->st, &r->c->sink); /* a pull's progress */
    struct cli_builder b;
    cli_builder_init(&b, r->c, r->st);
    rr = cli_service_build_if(&b, *s0, r->o->build ? BUILD_ALWAYS : BUILD_MISSING, e);
    cli_builder_fini(&b);
    if (rr < 0)
        return rr;
    _cleanup_strv_ char **made = NULL;
    rr = volumes_create_declared(r->c->root, r->p, &made, e);
    if (rr < 0)
        return rr;
    return !r->o->no_deps && (*s0)->n_depends > 0 ? run_deps(r->c, *s0, e) : 0;
}

/* Parses run's flags into o: -1 to go on, else the exit status. */
static int run_flags(int argc, char **argv, struct run_opts *o, char ***env)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "run");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'd':
            o->detach = true;
            break;
        case 'R':
            o->rm = true;
            break;
        case 'e':
            strv_push(env, xstrdup(optarg));
            break;
        case 'E':
            o->entrypoint = optarg;
            break;
        case 'N':
            o->name = optarg;
            break;
        case 'D':
            o->no_deps = true;
            break;
        case 'b':
            o->build = true;
            break;
        case 'T':
            o->tty = 0;
            break;
        case 't':
            o->tty = 1;
            break;
        case 'i':
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'w':
            o->workdir = optarg;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        cmd_print_help(op.def, stderr);
        return 2;
    }
    /* The name becomes part of paths (cgroup, run state): docker's rule,
     * checked before anything is made. */
    if (o->name && !compose_container_name_valid(o->name)) {
        fprintf(stderr,
                "berth: run: invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                "allowed (at least 2 characters)\n",
                o->name);
        return 2;
    }
    return -1;
}

int cmd_run(struct cli *c, int argc, char **argv, struct berr *e)
{
    /* A stream berth was started without: the container gets /dev/null. */
    int stdio[3] = {cli_stdio_fd(STDIN_FILENO), cli_stdio_fd(STDOUT_FILENO),
                    cli_stdio_fd(STDERR_FILENO)};
    struct run_opts o = {.tty = -1};
    _cleanup_strv_ char **env = NULL;
    int rr = run_flags(argc, argv, &o, &env);
    if (rr >= 0)
        return rr;
    o.env = env;
    if (o.tty < 0)
        o.tty = !o.detach && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    _cleanup_(run_free) struct run r = {.c = c, .o = &o, .lockfd = -1, .id = ctr_new_id()};
    const struct service *s0 = NULL;
    if ((rr = run_open(&r, argv[optind], &s0, e)) < 0 ||
        (rr = run_plan(&r, s0, argv + optind + 1, e)) < 0 || (rr = run_create(&r, s0, e)) < 0)
        return rr;
    if (o.detach)
        return run_detached(&r, e);
    project_unlock(r.lockfd);
    r.lockfd = -1;
    return run_attached(&r, stdio, e);
}
