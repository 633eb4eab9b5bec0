/* SPDX-License-Identifier: Apache-2.0 */
/* What several commands share around a project: loading it and its name, its
 * container records, the cgroup path per store, the service's image, timeouts,
 * starting containers through a supervisor or a new detached one, removing a
 * container. Not here: the commands themselves (cmd/cmd_*.c), the supervisor
 * (engine/supervise/). */
#include "cmd/project.h"

#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/image/digest.h"
#include "engine/image/reference.h"
#include "engine/registry/registry.h"
#include "engine/runtime/cgroup.h"
#include "engine/supervise/control.h"
#include "engine/supervise/supervisor.h"
#include "engine/volume/mounts.h"
#include "net/shape.h"
#include "util/cleanup.h"
#include "util/binfmt.h"
#include "util/platform.h"

#include "util/strv.h"
#include "util/xalloc.h"

/* How long a container's processes get to die after SIGKILL. */
#define RM_KILL_WAIT_MS 2000

int cli_remove_container(struct cli *c, const char *project, int ctl, const struct ctr_record *r,
                         unsigned flags, struct berr *e)
{
    int first = 0;
    if (flags & RM_SAY)
        ui_progress(c->ui, EV_CONTAINER, "destroying", r->name, "Removing");
    if (ctl >= 0) {
        json_t *req = json_pack("{s:s, s:[s]}", "op", "forget", "names", r->name);
        ctl_request(ctl, req, NULL, NULL, NULL);
        json_decref(req);
    }
    struct cgroup_sys cgs;
    if (r->cgroup && *r->cgroup && cgroup_sys_detect(&cgs, NULL) == 0) {
        struct cgroup *cg = cgroup_open(&cgs, r->cgroup);
        first = cgroup_kill_wait(cg, RM_KILL_WAIT_MS, e);
        if (first == 0)
            first = cgroup_destroy(cg, true, e);
        cgroup_free(cg);
        cgroup_sys_free(&cgs);
    }
    if (first < 0) {
        /* Its processes live on: the record, its run state and its
         * directory stay, so that a later `down` can finish. */
        return berr_wrap(e, "container %s is not removed", r->name);
    }
    int rr = ctr_remove(c->root, r->id, e);
    if (rr < 0 && first == 0)
        first = rr;
    run_state_remove(c->runroot, project, r->name);
    if (rr == 0) /* removed for good: its addresses go too */
        cli_endpoints_release(c, &r->plan, r->name);
    int sr = rr == 0 ? net_shape_forget(r->id, first < 0 ? NULL : e) : 0; /* a crashed run's */
    if (sr < 0 && first == 0)
        first = sr;
    if ((flags & RM_ANON) && rr == 0) {
        int ar = mounts_remove_anonymous(c->root, project, &r->plan, first < 0 ? NULL : e);
        if (ar < 0 && first == 0)
            first = ar;
    }
    if (first == 0 && (flags & RM_SAY))
        ui_progress(c->ui, EV_CONTAINER, "destroy", r->name, "Removed");
    return first;
}

char *cli_cgroup_base(const char *canon_root, const char *canon_default)
{
    if (strcmp(canon_root, canon_default) == 0)
        return xstrdup("berth");
    char d[DIGEST_STR_SIZE];
    sha256_digest(canon_root, strlen(canon_root), d);
    return xasprintf("berth-%.8s", digest_hex(d));
}

/* The base of the store at root (cli_cgroup_base), or NULL with errno. */
static char *store_base(const char *root)
{
    _cleanup_free_ char *canon = realpath(root, NULL);
    if (!canon)
        return NULL;
    /* The default store need not exist for another store to be told apart
     * from it: then its path is canonical as written. */
    _cleanup_free_ char *def = realpath(BERTH_DEFAULT_ROOT, NULL);
    return cli_cgroup_base(canon, def ? def : BERTH_DEFAULT_ROOT);
}

int cli_cgroup_rel(const char *root, const char *project, const char *service,
                   const char *container, char **out, struct berr *e)
{
    _cleanup_free_ char *base = store_base(root);
    if (!base)
        return berr_errno(e, -errno, "resolving the store %s", root);
    *out = xasprintf("%s/%s/%s/%s", base, project, service, container);
    return 0;
}

int cli_build_cgroup(const char *root, char **out, struct berr *e)
{
    _cleanup_free_ char *base = store_base(root);
    if (!base)
        return berr_errno(e, -errno, "resolving the store %s", root);
    *out = xasprintf("%s/_build", base);
    return 0;
}

char *cli_nft_scope(const char *root, const char *project)
{
    _cleanup_free_ char *base = store_base(root);
    const char *tag = base ? base + strlen("berth") : "";
    /* "berth-1a2b3c4d" -> "1a2b3c4d-PROJECT"; the default store: PROJECT */
    return *tag == '-' ? xasprintf("%s-%s", tag + 1, project) : xstrdup(project);
}

int cli_service_pull(struct store *st, const struct service *s, bool present, bool quiet,
                     struct berr *e)
{
    _cleanup_imgref_ struct imgref ir = {0};
    const char *missing = NULL;
    if (ref_parse(s->image, &ir, NULL) < 0 || !registry_pull_supported(ir.domain, &missing)) {
        if (present)
            return berr_set(e, -ENOTSUP, "service \"%s\": image \"%s\" cannot be pulled (%s)",
                            s->name, s->image, missing ? missing : "an invalid reference");
        return berr_set(e, -ENOENT,
                        "service \"%s\": image \"%s\" is not in the store (load it with `berth "
                        "load -i FILE`; %s)",
                        s->name, s->image, missing ? missing : "it cannot be pulled");
    }
    struct platform want;
    if (s->platform && platform_parse(s->platform, &want, e) < 0)
        return berr_wrap(e, "service \"%s\"", s->name);
    if (!quiet)
        fprintf(stderr, "Pulling %s (service \"%s\")\n", s->image, s->name);
    int r = registry_pull_for(st, s->image, s->platform ? &want : NULL, NULL, NULL, e);
    if (r < 0)
        return berr_wrap(e, "service \"%s\": pulling image \"%s\"", s->name, s->image);
    return 0;
}

/* A service's image missing from the store: pulled when its registry is
 * one this version can pull from, else the error says what is missing. */
static int pull_missing(struct store *st, const struct service *s, struct berr *e)
{
    /* a name of the project's own, or an image its policy builds: not
     * asked of any registry (docker compose pulls neither) */
    if (s->image_default || s->pull_build)
        return berr_set(e, -ENOENT,
                        "service \"%s\": image \"%s\" is not in the store (build it with "
                        "`berth build %s`)",
                        s->name, s->image, s->name);
    if (s->pull_never)
        return berr_set(e, -ENOENT,
                        "service \"%s\": image \"%s\" is not in the store, and its pull_policy "
                        "is never (load it with `berth load -i FILE`)",
                        s->name, s->image);
    return cli_service_pull(st, s, false, false, e);
}

bool cli_service_pull_due(struct store *st, const struct service *s)
{
    if (!s->pull_refresh_ns)
        return false;
    long long at;
    if (store_ref_refreshed(st, s->image, &at, NULL) < 0)
        return true;
    long long age = (long long)time(NULL) - at;
    return age >= 0 && (int64_t)age * INT64_C(1000000000) >= s->pull_refresh_ns;
}

/* The image must be of the service's platform, and one this host runs:
 * its own architecture, or one an enabled binfmt_misc handler (qemu-user)
 * runs. */
static int check_platform(const struct service *s, const struct image *img, struct berr *e)
{
    if (!img->platform.arch[0])
        return 0; /* the config names none */
    char have[PLATFORM_STR_MAX], want[PLATFORM_STR_MAX];
    platform_format(&img->platform, have, sizeof have);
    struct platform p;
    if (s->platform && platform_parse(s->platform, &p, e) < 0)
        return berr_wrap(e, "service \"%s\"", s->name);
    if (s->platform && !platform_matches(&p, &img->platform)) {
        platform_format(&p, want, sizeof want);
        return berr_set(e, -EINVAL,
                        "service \"%s\": image with reference %s was found but does not match the "
                        "specified platform: wanted %s, actual: %s",
                        s->name, s->image, want, have);
    }
    platform_host(&p);
    if (!platform_matches(&p, &img->platform) && !binfmt_can_run(NULL, &img->platform)) {
        platform_format(&p, want, sizeof want);
        return berr_set(e, -ENOEXEC,
                        "service \"%s\": cannot run %s on this %s host (image \"%s\"; no "
                        "enabled binfmt_misc handler runs its programs: berth does not emulate "
                        "other architectures itself)",
                        s->name, have, want, s->image);
    }
    return 0;
}

int cli_service_image(struct store *st, const struct service *s, struct image **out, struct berr *e)
{
    int r = 0;
    /* pull_policy: always pulls first, daily/weekly/every_N when the last
     * pull is that old; the blobs already present are not fetched again,
     * and the tag moves when the registry's manifest did. */
    if ((s->pull_always || s->pull_refresh_ns) && !s->image_default) {
        _cleanup_image_ struct image *had = NULL;
        bool present = store_image_get(st, s->image, &had, NULL) == 0;
        if ((s->pull_always || (present && cli_service_pull_due(st, s))) &&
            (r = cli_service_pull(st, s, present, false, e)) < 0)
            return r;
    }
    r = store_image_get(st, s->image, out, e);
    if (r == -ENOENT) {
        berr_clear(e);
        if ((r = pull_missing(st, s, e)) < 0)
            return r;
        r = store_image_get(st, s->image, out, e);
    }
    if (r < 0)
        return berr_wrap(e, "service \"%s\"", s->name);
    if ((r = check_platform(s, *out, e)) < 0) {
        image_free(*out);
        *out = NULL;
    }
    return r;
}

int cli_parse_timeout(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || errno || v > 100000000L) {
        fprintf(stderr, "berth: invalid timeout \"%s\" (seconds)\n", s);
        return -1;
    }
    *ns = (int64_t)v * 1000000000LL;
    return 0;
}

int cli_load_project(struct cli *c, char *const *services, struct project **out, struct berr *e)
{
    struct compose_opts o = {
        .files = c->files,
        .project_name = c->project_name,
        .project_dir = c->project_dir,
        .environ = c->environ,
        .env_files = c->env_files,
        .profiles = c->profiles,
        .services = (char **)services,
    };
    return compose_load(&o, out, e);
}

int cli_project_name(struct cli *c, char *const *services, char **name, struct project **p,
                     struct berr *e)
{
    *p = NULL;
    int r = cli_load_project(c, services, p, e);
    if (r == 0) {
        *name = xstrdup((*p)->name);
        return 0;
    }
    if (r == -ENOENT && c->project_name) {
        /* -p alone is enough, once it is a name and not a path: it names
         * directories and files under the run root and the store. */
        berr_clear(e);
        if (!*c->project_name)
            return berr_set(e, -EINVAL,
                            "no compose file found and the project name given with -p is empty");
        r = compose_project_name_check(c->project_name, NULL, e);
        if (r < 0)
            return r;
        *name = xstrdup(c->project_name);
        return 0;
    }
    return r;
}

static int cmp_records(const void *a, const void *b)
{
    const struct ctr_record *x = a, *y = b;
    int r = strcmp(x->service, y->service);
    if (r)
        return r;
    if (x->oneoff != y->oneoff)
        return x->oneoff ? 1 : -1;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return strcmp(x->name, y->name);
}

int cli_project_containers(struct cli *c, const char *name, const struct project *p,
                           char *const *services, bool oneoff, struct ctr_record **out, size_t *n,
                           struct berr *e)
{
    *out = NULL;
    *n = 0;
    for (size_t i = 0; p && services && services[i]; i++)
        if (!project_service(p, services[i]))
            return berr_set(e, -ENOENT, "no such service: %s", services[i]);
    struct ctr_record *all = NULL;
    size_t n_all = 0;
    int r = ctr_list(c->root, name, &c->sink, &all, &n_all, e);
    if (r < 0)
        return r;
    size_t k = 0;
    for (size_t i = 0; i < n_all; i++) {
        bool keep = (oneoff || !all[i].oneoff) &&
                    (!services || !services[0] || strv_contains(services, all[i].service));
        if (keep)
            all[k++] = all[i];
        else
            ctr_record_free(&all[i]);
    }
    xqsort(all, k, sizeof *all, cmp_records);
    *out = all;
    *n = k;
    return 0;
}

/* Renders a supervisor's progress message, noting the time of the last
 * event rendered. A ctl_request callback; ud: a struct cli_progress. */
static void render_progress(json_t *msg, void *ud)
{
    struct cli_progress *p = ud;
    ui_render_progress_json(msg, p->ui);
    const char *kind = json_string_value(json_object_get(msg, "event"));
    json_t *t = json_object_get(msg, "time_ns");
    if (kind && strcmp(kind, "progress") == 0 && json_is_integer(t) &&
        json_integer_value(t) > p->last_ns)
        p->last_ns = json_integer_value(t);
}

/* Talks to a running supervisor: asks it to start the containers. */
int cli_start_via_supervisor(int fd, char *const *ids, struct cli_progress *p, struct berr *e)
{
    json_t *req = json_pack("{s:s}", "op", "start");
    json_t *a = json_array();
    for (size_t i = 0; ids && ids[i]; i++)
        json_array_append_new(a, json_string(ids[i]));
    json_object_set_new(req, "ids", a);
    int r = ctl_request(fd, req, render_progress, p, e);
    json_decref(req);
    return r;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The detached supervisor outlives its caller: nothing the caller had
 * open (its locks, pipes, a terminal, the store's descriptors of this
 * process) stays with it but fds 0-2 and the n it needs (-1: none). */
static void close_inherited(int *keep, size_t n)
{
    qsort(keep, n, sizeof *keep, cmp_int);
    unsigned from = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < (int)from)
            continue;
        if (keep[i] > (int)from)
            close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    close_range(from, ~0U, 0);
}

/* `up -d`: the supervisor goes into a session of its own (a child
 * subreaper, the parent of every container) and this process returns once
 * the containers have started, or are healthy with --wait, reading the
 * supervisor's progress through a pipe. */
int cli_start_detached(struct cli *c, struct runtime *rt, const char *project,
                       const struct ctr_record *recs, size_t n, int *conn, int lockfd,
                       struct cli_progress *p, struct berr *e)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "creating a pipe");
    /* the connection the caller keeps: made before the supervisor runs,
     * so that it cannot end before the caller has spoken */
    int sp[2] = {-1, -1};
    if (conn && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        int err = errno;
        close(pfd[0]);
        close(pfd[1]);
        return berr_errno(e, err, "creating a socket pair");
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(pfd[0]);
        close(pfd[1]);
        if (conn) {
            close(sp[0]);
            close(sp[1]);
        }
        return berr_errno(e, err, "starting the supervisor");
    }
    if (pid == 0) {
        close(pfd[0]);
        if (conn)
            close(sp[0]);
        close(lockfd); /* the parent releases the project lock when it returns */
        setsid();
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            close(null);
        }
        int keep[3] = {pfd[1], rt->init_program, sp[1]};
        close_inherited(keep, 3);
        struct sv_options so = {
            .root = c->root,
            .runroot = c->runroot,
            .project = project,
            .events_fd = pfd[1],
            .stop_timeout_ns = -1,
            .resolv_conf = getenv("BERTH_RESOLV_CONF"),
            .nft_scope = cli_nft_scope(c->root, project),
        };
        struct supervisor *sv = sv_new(rt, &so);
        int rc = 1; /* the parent says why: the progress pipe closed early */
        if (sv_listen(sv, NULL) == 0 && (sp[1] < 0 || sv_serve_fd(sv, sp[1], NULL) == 0) &&
            sv_request_start(sv, recs, n, false, NULL) == 0)
            rc = sv_run(sv);
        sv_free(sv);
        free((char *)so.nft_scope);
        _exit(rc);
    }
    close(pfd[1]);
    if (conn) {
        close(sp[1]);
        *conn = sp[0];
    }
    /* Read progress until "done" (or until the pipe closes). */
    _cleanup_fclose_ FILE *f = fdopen(pfd[0], "r");
    if (!f) {
        close(pfd[0]);
        return berr_errno(e, errno, "reading the supervisor's progress");
    }
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    int result = -1;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *ev = json_loads(line, 0, &je);
        if (!ev)
            continue;
        const char *kind = json_string_value(json_object_get(ev, "event"));
        if (kind && strcmp(kind, "done") == 0) {
            const char *msg = json_string_value(json_object_get(ev, "error"));
            result = json_is_true(json_object_get(ev, "ok"))
                         ? 0
                         : berr_set(e, -EIO, "%s", msg ? msg : "failed to start");
            json_decref(ev);
            break;
        }
        render_progress(ev, p);
        json_decref(ev);
    }
    if (result == -1)
        result = berr_set(e, -EIO, "the supervisor ended before the containers started");
    return result;
}

/* Waits (10 s at most) for the process pid to end. */
static void wait_gone(pid_t pid)
{
    _cleanup_close_ int pfd = pid > 0 ? pidfd_open(pid, 0) : -1;
    if (pfd < 0)
        return;
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    while (poll(&p, 1, 10000) < 0 && errno == EINTR)
        ;
}

int cli_supervisor(struct cli *c, const char *project, int *fd, struct berr *e)
{
    *fd = -1;
    /* A supervisor that has just found nothing left to watch (the stop of
     * `restart`, a `stop` right before `up`) closes its socket and ends;
     * a connection it had not accepted yet then goes unanswered. Such a
     * supervisor is waited for and counts as none: the caller starts a
     * new one. */
    for (int tries = 0; tries < 2; tries++) {
        _cleanup_berr_ struct berr ce = BERR_INIT;
        int r = ctl_connect(c->runroot, project, &ce);
        if (r == -ENOENT || r == -ECONNREFUSED)
            return 0;
        if (r < 0) {
            berr_move(e, &ce);
            return r;
        }
        _cleanup_close_ int conn = r;
        struct ucred cred = {0};
        socklen_t len = sizeof cred;
        getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len);
        json_auto_t *hello = json_pack("{s:s}", "op", "hello");
        json_t *reply = NULL;
        r = ctl_query(conn, hello, 10000, &reply, &ce);
        json_decref(reply);
        if (r == 0) {
            *fd = TAKE_FD(conn);
            return 0;
        }
        if (r != -EPIPE && r != -ECONNRESET) {
            berr_move(e, &ce);
            return r;
        }
        wait_gone(cred.pid);
    }
    return 0;
}
