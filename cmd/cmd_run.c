/* SPDX-License-Identifier: Apache-2.0 */
/* `berth run`: a one-off container of a service, PROJECT-SERVICE-run-ID,
 * with the service's configuration and the command given. Attached, this
 * process is its parent (its terminal is the container's); with -d the
 * project's supervisor takes it. Its dependencies are started first, as
 * `up` would (unless --no-deps).
 * Not here: the terminal session (cmd/ui/session.c), starting dependencies and
 * detached supervisors (cmd/project.c). */
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

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ui/session.h"
#include "compose/compose.h"
#include "compose/shellwords.h"
#include "engine/image/image.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
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

int cmd_run(struct cli *c, int argc, char **argv)
{
    /* A stream berth was started without: the container gets /dev/null. */
    int stdio[3] = {cli_stdio_fd(STDIN_FILENO), cli_stdio_fd(STDOUT_FILENO),
                    cli_stdio_fd(STDERR_FILENO)};
    struct cmd_parser op;
    cmd_parser_init(&op, "run");
    bool detach = false, rm = false, no_deps = false;
    int tty = -1;
    const char *entrypoint = NULL, *name_opt = NULL, *user = NULL, *workdir = NULL;
    _cleanup_strv_ char **env = NULL;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'd':
            detach = true;
            break;
        case 'R':
            rm = true;
            break;
        case 'e':
            strv_push(&env, xstrdup(optarg));
            break;
        case 'E':
            entrypoint = optarg;
            break;
        case 'N':
            name_opt = optarg;
            break;
        case 'D':
            no_deps = true;
            break;
        case 'T':
            tty = 0;
            break;
        case 't':
            tty = 1;
            break;
        case 'i':
            break;
        case 'u':
            user = optarg;
            break;
        case 'w':
            workdir = optarg;
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
    const char *svc_name = argv[optind];
    char **cmd_args = argv + optind + 1;
    /* The name becomes part of paths (cgroup, run state): docker's rule,
     * checked before anything is made. */
    if (name_opt && !compose_container_name_valid(name_opt)) {
        fprintf(stderr,
                "berth: run: invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                "allowed (at least 2 characters)\n",
                name_opt);
        return 2;
    }
    if (tty < 0)
        tty = !detach && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

    struct berr e = BERR_INIT;
    struct project *p = NULL;
    struct store *st = NULL;
    struct image *img = NULL;
    struct ctr_plan plan = {0};
    int rc = 1, lockfd = -1;
    bool rt_ok = false, created = false;
    struct runtime rt;
    _cleanup_free_ char *id = ctr_new_id();
    _cleanup_free_ char *run_id = short_id();
    _cleanup_free_ char *ctr_name = NULL, *cgroup = NULL, *cache = NULL;
    _cleanup_free_ char *upper = NULL, *work = NULL, *rootfs = NULL;
    struct mount_set mset = {0};
    struct cli_session *sess = NULL;
    _cleanup_strv_ char **ep = NULL;

    char *named[] = {(char *)svc_name, NULL};
    if (cli_load_project(c, named, &p, &e) < 0)
        goto out;
    const struct service *s0 = project_service(p, svc_name);
    if (!s0) {
        berr_set(&e, -ENOENT, "no such service: %s", svc_name);
        goto out;
    }
    if (!s0->image) {
        berr_set(&e, -EINVAL, "service \"%s\" has no image", svc_name);
        goto out;
    }
    /* Fail closed before anything is made (volumes, dependencies). */
    if (compose_service_refused(s0, &e) < 0)
        goto out;
    {
        _cleanup_strv_ char **made = NULL;
        if (volumes_create_declared(c->root, p, &made, &e) < 0)
            goto out;
    }
    /* Dependencies first, as `up -d SERVICE...` would start them. */
    if (!no_deps && s0->n_depends > 0) {
        _cleanup_strv_ char **up_argv = NULL;
        strv_push(&up_argv, xstrdup("up"));
        strv_push(&up_argv, xstrdup("-d"));
        for (size_t i = 0; i < s0->n_depends; i++)
            strv_push(&up_argv, xstrdup(s0->depends_on[i].service));
        optind = 0;
        if (cmd_up(c, (int)strv_len(up_argv), up_argv) != 0) {
            berr_set(&e, -EIO, "starting the dependencies of %s failed", svc_name);
            goto out;
        }
    }
    /* The service with the run's overrides. */
    struct service s = *s0;
    if (cmd_args[0]) {
        s.command = cmd_args;
        s.command_set = true;
    }
    if (entrypoint) {
        long stop = -1;
        const char *why = NULL;
        if (shellwords_split(entrypoint, &ep, &stop, &why) < 0) {
            berr_set(&e, -EINVAL, "--entrypoint \"%s\": %s", entrypoint,
                     why ? why : "cannot split it into words");
            goto out;
        }
        s.entrypoint = ep;
        s.entrypoint_set = true;
    }
    if (store_open(c->root, &st, &e) < 0 || cli_service_image(st, &s, &img, &e) < 0)
        goto out;
    if (plan_container(p, &s, img, 1, id, &plan, &e) < 0)
        goto out;
    for (size_t i = 0; env && env[i]; i++)
        strv_env_put(&plan.env, env[i]);
    if (user) {
        free(plan.user);
        plan.user = xstrdup(user);
    }
    if (workdir) {
        free(plan.cwd);
        plan.cwd = xstrdup(workdir);
    }
    plan.tty = tty;
    plan.restart.policy = PLAN_RESTART_NO; /* one-off: never restarted */
    ctr_name = name_opt ? xstrdup(name_opt) : xasprintf("%s-%s-run-%s", p->name, svc_name, run_id);
    free(plan.name);
    plan.name = xstrdup(ctr_name);
    free(plan.log_name);
    plan.log_name = xstrdup(ctr_name);
    if (cli_cgroup_rel(c->root, p->name, svc_name, ctr_name, &cgroup, &e) < 0)
        goto out;

    lockfd = project_lock(c->runroot, p->name, &e);
    if (lockfd < 0)
        goto out;
    char now[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 0, now);
    struct ctr_record rec = {
        .id = id,
        .name = ctr_name,
        .project = p->name,
        .service = (char *)svc_name,
        .number = 1,
        .oneoff = true,
        .image = s.image,
        .image_id = img->id,
        .created = now,
        .cgroup = cgroup,
        .working_dir = p->working_dir,
        .plan = plan,
    };
    if (ctr_create(c->root, &rec, &e) < 0)
        goto out;
    created = true;

    if (detach) {
        struct ctr_record *recs = NULL;
        size_t n = 0;
        if (ctr_list(c->root, p->name, &recs, &n, &e) < 0)
            goto out;
        int r = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(recs[i].id, id) == 0)
                r = cli_start(c, p->name, &recs[i], 1, false, lockfd, &e);
        ctr_list_free(recs, n);
        if (r < 0)
            goto out;
        puts(ctr_name);
        rc = 0;
        goto out;
    }
    project_unlock(lockfd);
    lockfd = -1;

    /* Attached: this process is the container's parent. */
    cache = xasprintf("%s/cache/seccomp", c->root);
    if (runtime_init(&rt, cache, &e) < 0)
        goto out;
    rt_ok = true;
    upper = ctr_path(c->root, id, "upper");
    work = ctr_path(c->root, id, "work");
    rootfs = ctr_path(c->root, id, "rootfs");
    struct container_spec spec = {
        .name = ctr_name,
        .layer_dirs = plan.layer_dirs,
        .upper_dir = upper,
        .work_dir = work,
        .rootfs_dir = rootfs,
        .argv = plan.argv,
        .env = plan.env,
        .cwd = plan.cwd,
        .user = plan.user,
        .hostname = plan.hostname,
        .read_only = plan.read_only,
        .tty = tty,
        .cgroup_rel = cgroup,
        .limits = plan.limits,
        .shm_size = plan.shm_size,
        .init = plan.init,
        .stdin_fd = -1,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .caps = plan.caps,
        .caps_named = plan.caps_named,
        .no_new_privs = plan.no_new_privs,
    };
    if (plan.n_mounts > 0) {
        if (mounts_prepare(c->root, p->name, &plan, &e) < 0 ||
            mounts_build(c->root, &plan, &mset, &e) < 0)
            goto out;
        spec.mounts = mset.specs;
        spec.n_mounts = mset.n;
    }
    struct container_proc proc;
    /* Signals are taken before the container exists, so none is lost. */
    sess = cli_session_new(tty);
    /* Without a TTY of its own, never this process's terminal. */
    if (!tty) {
        int child[3];
        if (cli_session_stdio(sess, stdio, child, &e) < 0)
            goto out;
        spec.stdin_fd = child[0];
        spec.stdout_fd = child[1];
        spec.stderr_fd = child[2];
    }
    if (container_start(&rt, &spec, &proc, &e) < 0) {
        if (e.code == -ENOENT)
            rc = 127;
        else if (e.code == -EACCES)
            rc = 126;
        goto out;
    }
    struct run_state rs = {.pid = proc.pid,
                           .start_time = proc.start_time,
                           .supervisor = getpid(),
                           .running = true,
                           .started_at_ns = (int64_t)time(NULL) * 1000000000LL};
    run_state_write(c->runroot, p->name, ctr_name, &rs, &e);
    berr_clear(&e);
    struct container_exit x = {0};
    rc = cli_session_wait(sess, &proc, &x);
    if (proc.console_fd >= 0)
        close(proc.console_fd);
    proc.console_fd = -1;
    rs.running = false;
    rs.exit_code = x.status;
    rs.finished_at_ns = (int64_t)time(NULL) * 1000000000LL;
    run_state_write(c->runroot, p->name, ctr_name, &rs, &e);
    berr_clear(&e);
    container_release(&proc, &e);
    berr_clear(&e);

out:
    cli_session_free(sess);
    if (e.msg) {
        log_berr(&e);
        if (rc == 0)
            rc = 1;
    }
    berr_clear(&e);
    mount_set_free(&mset);
    if (created && rm && !detach) {
        struct berr ign = BERR_INIT;
        struct ctr_record gone = {.id = id, .name = ctr_name, .cgroup = cgroup, .plan = plan};
        if (cli_remove_container(c, p->name, -1, &gone, RM_ANON, &ign) < 0)
            log_berr(&ign); /* its record stays for `down` */
        berr_clear(&ign);
    }
    if (p)
        run_dir_prune(c->runroot, p->name);
    project_unlock(lockfd);
    if (rt_ok)
        runtime_fini(&rt);
    ctr_plan_free(&plan);
    image_free(img);
    store_close(st);
    project_free(p);
    return rc;
}
