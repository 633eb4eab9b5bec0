/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's state machine on one libuv loop: starting containers in
 * dependency order behind their depends_on conditions, pidfd watches, exits,
 * restart policy, stops with grace periods, output to log files, run state,
 * and when to quit. Not here: the control socket (sv_control.c), healthchecks
 * (sv_health.c), starting a process (engine/runtime/). */
#include "engine/supervise/supervisor.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "engine/runtime/userns.h"
#include "engine/supervise/ctr_files.h"
#include "engine/runtime/ctrplan_sec.h"
#include "engine/supervise/policy.h"
#include "engine/supervise/sv_internal.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

int64_t sv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *sv_socket_path(const char *runroot, const char *project)
{
    return xasprintf("%s/%s/sock", runroot, project);
}

/* ---- state on disk ---------------------------------------------------- */

static bool should_restart_code(const struct sv_ctr *c, int exit_code);

void sv_run_state(const struct sv_ctr *c, struct run_state *out)
{
    /* Reaped but not yet finished (its output is still being read): the
     * state says how the run ended and what comes next, so that no reader
     * sees a dead "running" container as exited between two restarts. */
    bool ended = c->state == C_RUNNING && c->run && c->run->reaped;
    struct run_state st = {
        .pid = c->run && !c->run->reaped ? c->run->proc.pid : 0,
        .start_time = c->run && !c->run->reaped ? c->run->proc.start_time : 0,
        .supervisor = getpid(),
        .running = c->state == C_RUNNING && c->run && !c->run->reaped,
        .paused = c->paused,
        .restarting =
            c->state == C_BACKOFF || (ended && should_restart_code(c, c->run->exit.status)),
        .exit_code = ended ? c->run->exit.status : c->exit_code,
        .oom_killed = c->oom_killed,
        .started_at_ns = c->started_at_ns,
        .finished_at_ns = c->finished_at_ns,
        .restarts = c->restarts,
    };
    snprintf(st.health, sizeof st.health, "%s", health_names[c->health]);
    snprintf(st.health_output, sizeof st.health_output, "%s", c->health_output);
    const struct ctr_plan *pl = &c->rec.plan;
    for (size_t i = 0; i < pl->n_ports && st.n_ports < RUN_STATE_MAX_PORTS; i++) {
        uint16_t hp = sv_net_published(c, i);
        if (hp == 0)
            continue; /* not bound (stopped, or on no network) */
        struct run_port *p = &st.ports[st.n_ports++];
        snprintf(p->host_ip, sizeof p->host_ip, "%s",
                 pl->ports[i].host_ip ? pl->ports[i].host_ip : "");
        p->host_port = hp;
        p->ctr_port = pl->ports[i].ctr_port;
        p->proto = pl->ports[i].proto;
        /* bound on :: too: shown as its own binding, as docker does */
        if (sv_net_published_v6_too(c, i) && st.n_ports < RUN_STATE_MAX_PORTS) {
            struct run_port *p6 = &st.ports[st.n_ports++];
            *p6 = *p;
            snprintf(p6->host_ip, sizeof p6->host_ip, "::");
        }
    }
    *out = st;
}

void sv_save_state(struct sv_ctr *c)
{
    struct supervisor *sv = c->sv;
    struct run_state st;
    sv_run_state(c, &st);
    struct berr e = BERR_INIT;
    if (run_state_write(sv->opt.runroot, sv->opt.project, c->rec.name, &st, &e) < 0)
        sv_warn(c, "%s", e.msg);
    berr_clear(&e);
}

/* ---- events ----------------------------------------------------------- */

static void send_events_fd(struct supervisor *sv, json_t *msg)
{
    if (sv->opt.events_fd < 0)
        return;
    _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    if (write(sv->opt.events_fd, line, strlen(line)) < 0) {
        close(sv->opt.events_fd);
        sv->opt.events_fd = -1;
    }
}

/* Every event of the supervisor goes out here: to the sink its caller
 * gave (the terminal's renderer, when attached). */
void sv_emit(struct supervisor *sv, struct ev *e)
{
    if (e->time_ns == 0)
        e->time_ns = time_now_ns();
    ev_emit(&sv->opt.sink, e);
    sv_publish(sv, e);
}

void sv_warn(struct sv_ctr *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct ev e;
    sv_ctr_ev(c, &e, "warning", NULL);
    e.detail = msg;
    sv_emit(c->sv, &e);
}

void sv_ctr_ev(const struct sv_ctr *c, struct ev *e, const char *action, const char *status)
{
    memset(e, 0, sizeof *e);
    e->type = EV_CONTAINER;
    e->action = action;
    e->id = c->rec.id;
    e->service = c->rec.service;
    e->name = c->rec.name;
    e->status = status;
    ev_attr_add(e, "name", c->rec.name);
    ev_attr_add(e, "image", c->rec.image);
    ev_attr_add(e, "logName", c->rec.plan.log_name);
}

void sv_progress_ev(struct sv_ctr *c, struct ev *e)
{
    struct supervisor *sv = c->sv;
    sv_emit(sv, e);
    /* The event, as JSON, with the progress keys the clients read. */
    json_t *msg = ev_to_json(e);
    json_object_set_new(msg, "event", json_string("progress"));
    send_events_fd(sv, msg);
    for (struct sv_client *cl = sv->clients; cl; cl = cl->next)
        for (size_t i = 0; i < cl->n_watch; i++)
            if (cl->watch[i] == c) {
                sv_client_send(cl, msg);
                break;
            }
    json_decref(msg);
}

void sv_progress(struct sv_ctr *c, const char *action, const char *status, const char *detail)
{
    struct ev e;
    sv_ctr_ev(c, &e, action, status);
    e.detail = detail;
    sv_progress_ev(c, &e);
}

/* A notice about the whole project ("attach", "stopping", "error"). */
static void project_event(struct supervisor *sv, const char *action, const char *detail,
                          const char *reason)
{
    struct ev e = {.type = EV_PROJECT, .action = action, .name = sv->opt.project, .detail = detail};
    ev_attr_add(&e, "reason", reason);
    sv_emit(sv, &e);
}

/* ---- the service manager (sd_notify) ---------------------------------- */

/* What `systemctl status` shows: "2/2 containers running, 1/1 healthy",
 * after why the project stops, once it does. */
static char *status_line(struct supervisor *sv)
{
    size_t asked = 0, running = 0, checked = 0, healthy = 0, exited = 0, failed = 0;
    for (size_t i = 0; i < sv->n; i++) {
        const struct sv_ctr *c = sv->ctrs[i];
        if (c->state == C_IDLE)
            continue;
        asked++;
        running += c->state == C_RUNNING;
        exited += c->state == C_EXITED;
        failed += c->state == C_FAILED;
        if (c->rec.plan.health.enabled && c->state == C_RUNNING) {
            checked++;
            healthy += c->health == H_HEALTHY;
        }
    }
    _cleanup_free_ char *counts = xasprintf("%zu/%zu containers running", running, asked);
    if (checked) {
        char *t = xasprintf("%s, %zu/%zu healthy", counts, healthy, checked);
        free(counts);
        counts = t;
    }
    if (exited) {
        char *t = xasprintf("%s, %zu exited", counts, exited);
        free(counts);
        counts = t;
    }
    if (failed) {
        char *t = xasprintf("%s, %zu failed to start", counts, failed);
        free(counts);
        counts = t;
    }
    if (sv->stop_reason)
        return xasprintf("%s; %s", sv->stop_reason, counts);
    return TAKE_PTR(counts);
}

/* STATUS=, when it changed. Sends are fire and forget (util/sdnotify.h). */
static void notify_status(struct supervisor *sv)
{
    if (!sdnotify_enabled(sv->opt.notify))
        return;
    _cleanup_free_ char *line = status_line(sv);
    if (sv->told_status && strcmp(sv->told_status, line) == 0)
        return;
    sdnotify_sendf(sv->opt.notify, "STATUS=%s", line);
    free(sv->told_status);
    sv->told_status = TAKE_PTR(line);
}

/* The grace a stop gives a container: up -t, else its stop_grace_period. */
static int64_t stop_grace_ns(const struct sv_ctr *c, int64_t grace_ns)
{
    return grace_ns >= 0                    ? grace_ns
           : c->rec.plan.stop_grace_ns >= 0 ? c->rec.plan.stop_grace_ns
                                            : 0;
}

/* Whether a container whose process is still there (and not beyond
 * SIGKILL) depends on c's service: then c stops after it. */
static bool has_live_dependent(struct supervisor *sv, const struct sv_ctr *c)
{
    for (size_t i = 0; i < sv->n; i++) {
        const struct sv_ctr *d = sv->ctrs[i];
        if (d == c || !d->run || d->unkillable || strcmp(d->rec.service, c->rec.service) == 0)
            continue;
        for (size_t k = 0; k < d->rec.plan.n_depends; k++)
            if (strcmp(d->rec.plan.depends[k].service, c->rec.service) == 0)
                return true;
    }
    return false;
}

/* The next wave of a whole-project stop: every container that nothing
 * still running depends on, as docker compose stops them (dependents
 * first, each with its stop signal and grace). Called again as each one
 * ends. The service manager is told how long this wave may take (the
 * longest grace, SIGKILL's wait, a margin): systemd waits that long for
 * the next message, whatever the unit's TimeoutStopSec= says. */
static void stop_wave(struct supervisor *sv)
{
    int64_t longest = -1;
    bool in_progress = false, held = false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sv->n; i++) {
            struct sv_ctr *c = sv->ctrs[i];
            bool was_stopping = c->stop_requested && uv_is_active((uv_handle_t *)&c->timer);
            bool runs = c->run && !c->run->reaped && !c->unkillable;
            in_progress |= runs && was_stopping;
            /* what has no process (waiting, backing off) stops at once;
             * on the second pass, what a dependency cycle holds */
            if (was_stopping || (runs && pass == 0 && has_live_dependent(sv, c))) {
                held |= runs && !was_stopping;
                continue;
            }
            sv_stop_ctr(c, false, sv->opt.stop_timeout_ns);
            int64_t g = stop_grace_ns(c, sv->opt.stop_timeout_ns);
            if (runs && g > longest) {
                longest = g;
                in_progress = true;
            }
        }
        /* Nothing stopping, yet something held: records of two versions
         * of the file can depend on each other in a circle. */
        if (in_progress || !held)
            break;
    }
    if (longest >= 0)
        sdnotify_sendf(sv->opt.notify, "EXTEND_TIMEOUT_USEC=%llu",
                       (unsigned long long)longest / 1000 + (KILL_WAIT_MS + 5000) * 1000ULL);
}

/* Stops every container gracefully, in reverse dependency order: on
 * SIGINT/SIGTERM, a failed start, --abort-on-container-exit. */
static void stop_all(struct supervisor *sv, const char *why)
{
    if (!sv->stopping_all) {
        sv->stopping_all = true;
        sv->stop_reason = xstrdup(why);
        sdnotify_send(sv->opt.notify, "STOPPING=1");
    }
    stop_wave(sv);
    notify_status(sv);
}

static void finish_waiter(struct supervisor *sv, struct sv_waiter *w, const char *error)
{
    w->done = true;
    json_t *msg = json_pack("{s:s, s:b}", "event", "done", "ok", error == NULL);
    if (error)
        json_object_set_new(msg, "error", json_string(error));
    if (w->client)
        sv_client_send(w->client, msg);
    else {
        send_events_fd(sv, msg);
        if (sv->opt.events_fd >= 0) {
            close(sv->opt.events_fd);
            sv->opt.events_fd = -1;
        }
        if (error) {
            sv->start_failed = true;
            project_event(sv, "error", error, NULL);
            if (sv->opt.attached) {
                /* as docker compose: a failed start ends the attached up */
                stop_all(sv, error);
            }
        } else if (sdnotify_enabled(sv->opt.notify) && !sv->told_ready) {
            sv->told_ready = true;
            sdnotify_send(sv->opt.notify, "READY=1");
        }
    }
    json_decref(msg);
}

void sv_check_waiters(struct supervisor *sv)
{
    for (struct sv_waiter *w = sv->waiters; w; w = w->next) {
        if (w->done)
            continue;
        const char *err = NULL;
        _cleanup_free_ char *buf = NULL;
        bool all = true;
        for (size_t i = 0; i < w->n && !err; i++) {
            struct sv_ctr *c = w->ctrs[i];
            if (c->state == C_FAILED || c->hook_failed) {
                err = c->error ? c->error : "failed to start";
                buf = xasprintf("container %s: %s", c->rec.name, err);
                err = buf;
            } else if (w->healthy && c->health == H_UNHEALTHY) {
                buf = xasprintf("container %s is unhealthy", c->rec.name);
                err = buf;
            } else if (w->healthy && (c->state == C_EXITED || c->state == C_BACKOFF) &&
                       c->exit_code != 0) {
                buf = xasprintf("container %s exited (%d)", c->rec.name, c->exit_code);
                err = buf;
            } else if (!c->ever_started || c->hooks_pending) {
                all = false;
            } else if (w->healthy && c->rec.plan.health.enabled && c->health != H_HEALTHY &&
                       c->state != C_EXITED) {
                all = false;
            }
        }
        if (err)
            finish_waiter(sv, w, err);
        else if (all)
            finish_waiter(sv, w, NULL);
    }
    notify_status(sv);
}

/* ---- output ----------------------------------------------------------- */

static void emit_log_line(struct sv_ctr *c, int idx, const char *data, size_t len)
{
    if (c->rec.plan.no_attach)
        return; /* attach: false: kept in the log, not shown */
    struct ev_log l = {
        .service = c->rec.service,
        .name = c->rec.name,
        .log_name = c->rec.plan.log_name ? c->rec.plan.log_name : c->rec.name,
        .stream = idx + 1,
        .data = data,
        .len = len,
        .width = c->sv->width,
        .index = c->color,
    };
    ev_emit_log(&c->sv->opt.sink, &l);
}

int sv_log_open(struct sv_ctr *c, const char *dir, struct berr *e)
{
    struct log_tag_vars v = {.name = c->rec.name,
                             .id = c->rec.id,
                             .image_name = c->rec.image,
                             .image_id = c->rec.image_id};
    struct log_config cfg;
    int r = log_config_from_plan(&c->rec.plan.logging, &v, &cfg, e);
    if (r < 0)
        return berr_wrap(e, "service \"%s\"", c->rec.service);
    cfg.service = c->rec.service;
    r = log_writer_open(&c->log, dir, &cfg, e);
    log_config_clear(&cfg);
    return r;
}

void sv_log_line(struct sv_ctr *c, int idx, const char *data, size_t len)
{
    log_writer_line(&c->log, idx == 0 ? "stdout" : "stderr", false, data, len);
    emit_log_line(c, idx, data, len);
}

static void emit_lines(struct sv_run *r, int idx, bool eof)
{
    struct linebuf *b = &r->buf[idx];
    struct sv_ctr *c = r->c;
    const char *stream = idx == 0 ? "stdout" : "stderr";
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && b->data[end - 1] == '\r')
            end--;
        if (c) {
            log_writer_line(&c->log, stream, false, b->data + start, end - start);
            emit_log_line(c, idx, b->data + start, end - start);
        }
        start = i + 1;
    }
    /* An over-long line goes out in pieces; a last partial one at EOF. */
    if (c && ((b->len - start >= LOG_LINE_MAX) || (eof && b->len > start))) {
        log_writer_line(&c->log, stream, !eof, b->data + start, b->len - start);
        emit_log_line(c, idx, b->data + start, b->len - start);
        start = b->len;
    }
    if (start > 0) {
        memmove(b->data, b->data + start, b->len - start);
        b->len -= start;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sv_run *r = h->data;
    (void)suggested;
    buf->base = r->sv->readbuf; /* the lines are copied out at once */
    buf->len = sizeof r->sv->readbuf;
}

/* ---- runs ------------------------------------------------------------- */

static void run_maybe_free(struct sv_run *r)
{
    if (r->open_handles > 0)
        return;
    if (r->stdin_w >= 0)
        close(r->stdin_w);
    struct berr ign = BERR_INIT;
    container_release(&r->proc, &ign);
    berr_clear(&ign);
    free(r->buf[0].data);
    free(r->buf[1].data);
    free(r);
}

static void on_run_handle_closed(uv_handle_t *h)
{
    struct sv_run *r = h->data;
    r->open_handles--;
    run_maybe_free(r);
}

static void run_finished(struct sv_ctr *c, uint64_t ran_ms);

static void run_check_done(struct sv_run *r)
{
    if (!r->reaped || r->open_streams > 0 || !r->c)
        return;
    struct sv_ctr *c = r->c;
    r->c = NULL;
    c->run = NULL;
    c->exit_code = r->exit.status;
    c->oom_killed = r->exit.oom_killed;
    run_finished(c, uv_now(&c->sv->loop) - r->started_ms);
    run_maybe_free(r);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_run *r = s->data;
    int idx = (uv_pipe_t *)s == &r->out[0] ? 0 : 1;
    struct linebuf *b = &r->buf[idx];
    if (n > 0) {
        b->data = xrealloc(b->data, b->len + (size_t)n);
        memcpy(b->data + b->len, buf->base, (size_t)n);
        b->len += (size_t)n;
        emit_lines(r, idx, false);
        return;
    }
    if (n == 0)
        return;
    emit_lines(r, idx, true);
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_run_handle_closed);
    r->open_streams--;
    run_check_done(r);
}

static void on_pidfd(uv_poll_t *p, int status, int events)
{
    struct sv_run *r = p->data;
    int rr = container_reap(&r->proc, &r->exit);
    if (rr == 0)
        return;
    if (rr < 0) {
        memset(&r->exit, 0, sizeof r->exit);
        r->exit.status = 255;
    }
    r->reaped = true;
    if (r->c) {
        /* Its end is known now, its output may take a while yet: said at
         * once, or a reader would see a dead "running" one as exited. */
        r->c->finished_at_ns = sv_now_ns();
        sv_save_state(r->c);
    }
    uv_poll_stop(p);
    uv_close((uv_handle_t *)p, on_run_handle_closed);
    /* The cgroup goes now; the process is gone. */
    struct berr e = BERR_INIT;
    if (container_release(&r->proc, &e) < 0)
        sv_warn(r->c, "%s", e.msg);
    berr_clear(&e);
    run_check_done(r);
}

static void set_failed(struct sv_ctr *c, const char *msg)
{
    c->state = C_FAILED;
    free(c->error);
    c->error = xstrdup(msg);
    sv_progress(c, "error", "Error", msg);
    if (c->ever_started)
        sv_save_state(c);
}

static void close_child_stdin(int child[3], int *stdin_w)
{
    if (child[0] >= 0)
        close(child[0]);
    if (*stdin_w >= 0)
        close(*stdin_w);
    child[0] = *stdin_w = -1;
}

/* The container's standard streams: pipes for stdout and stderr (the log);
 * stdin is /dev/null unless stdin_open asks for it to stay open, as Docker
 * keeps it: a pipe nobody writes to (*stdin_w keeps its write end). */
static int open_pipes(struct sv_ctr *c, int fds[2], int child[3], int *stdin_w, struct berr *e)
{
    fds[0] = fds[1] = child[0] = child[1] = child[2] = *stdin_w = -1;
    if (c->rec.plan.tty)
        return 0; /* the runtime makes the terminal inside the container */
    if (c->rec.plan.stdin_open) {
        int inp[2];
        if (pipe2(inp, O_CLOEXEC) < 0)
            return berr_errno(e, errno, "%s: creating the stdin pipe", c->rec.name);
        child[0] = inp[0];
        *stdin_w = inp[1];
    }
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) < 0) {
        int r = berr_errno(e, errno, "%s: creating output pipes", c->rec.name);
        close_child_stdin(child, stdin_w);
        return r;
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int r = berr_errno(e, errno, "%s: creating output pipes", c->rec.name);
        close(outp[0]);
        close(outp[1]);
        close_child_stdin(child, stdin_w);
        return r;
    }
    fds[0] = outp[0];
    fds[1] = errp[0];
    child[1] = outp[1];
    child[2] = errp[1];
    return 0;
}

static int start_ctr(struct sv_ctr *c, struct berr *e)
{
    struct supervisor *sv = c->sv;
    const char *root = sv->opt.root;
    _cleanup_free_ char *upper = ctr_path(root, c->rec.id, "upper");
    _cleanup_free_ char *work = ctr_path(root, c->rec.id, "work");
    _cleanup_free_ char *rootfs = ctr_path(root, c->rec.id, "rootfs");
    if (c->log.fd <= 0 && !c->log.path) {
        _cleanup_free_ char *dir = ctr_path(root, c->rec.id, NULL);
        int r = sv_log_open(c, dir, e);
        if (r < 0)
            return r;
    }
    /* Volumes and bind sources, before every start (restarts too). */
    struct mount_set ms = {0};
    if (c->rec.plan.n_mounts > 0) {
        int r = mounts_prepare(root, c->rec.project, &c->rec.plan, e);
        if (r == 0)
            r = mounts_build(root, &c->rec.plan, &ms, e);
        if (r < 0) {
            mount_set_free(&ms);
            return r;
        }
    }
    /* volumes_from, configs and secrets (the tmpfs goes once it runs). */
    _cleanup_(ctr_files_release) char *files_dir = NULL;
    int r = ctr_files_prepare(root, sv->opt.runroot, c->rec.project, c->rec.id, &c->rec.plan, &ms,
                              &files_dir, e);
    if (r < 0) {
        mount_set_free(&ms);
        return r;
    }
    /* Its network namespace and /etc files. */
    struct container_spec net = {0};
    _cleanup_free_ char *netns = NULL;
    r = sv_net_prepare(c, &net, &ms, &netns, e);
    if (r < 0) {
        mount_set_free(&ms);
        return r;
    }
    int fds[2], child[3], stdin_w;
    r = open_pipes(c, fds, child, &stdin_w, e);
    if (r < 0) {
        mount_set_free(&ms);
        return r;
    }
    const struct ctr_plan *pl = &c->rec.plan;
    struct container_spec spec = {
        .name = c->rec.name,
        .layer_dirs = pl->layer_dirs,
        .upper_dir = upper,
        .work_dir = work,
        .rootfs_dir = rootfs,
        .argv = pl->argv,
        .env = pl->env,
        .cwd = pl->cwd,
        .user = pl->user,
        .hostname = pl->hostname,
        .netns_path = net.netns_path,
        .net_host = net.net_host,
        .read_only = pl->read_only,
        .tty = pl->tty,
        .cgroup_rel = c->rec.cgroup,
        .limits = pl->limits,
        .shm_size = pl->shm_size,
        .init = pl->init,
        .mounts = ms.specs,
        .n_mounts = ms.n,
        .stdin_fd = child[0],
        .stdout_fd = child[1],
        .stderr_fd = child[2],
        .caps = pl->caps,
        .caps_named = pl->caps_named,
        .no_new_privs = pl->no_new_privs,
        .domainname = pl->domainname,
    };
    r = plan_procns_spec(pl, &spec, sv_procns_find, sv, e);
    plan_sec_spec(pl, &spec.sec);
    struct sv_run *run = xcalloc(1, sizeof *run);
    run->sv = sv;
    run->c = c;
    run->stdin_w = stdin_w;
    if (r == 0)
        r = userns_spec_fill(root, c->rec.id, pl, &spec, e);
    if (r == 0)
        r = container_start(sv->rt, &spec, &run->proc, e);
    plan_procns_spec_release(&spec);
    mount_set_free(&ms);
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0)
            close(child[i]);
    if (r < 0) {
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (stdin_w >= 0)
            close(stdin_w);
        free(run);
        return r;
    }
    if (pl->tty)
        fds[0] = TAKE_FD(run->proc.console_fd);
    run->started_ms = uv_now(&sv->loop);
    uv_poll_init(&sv->loop, &run->poll, run->proc.pidfd);
    run->poll.data = run;
    run->open_handles++;
    uv_poll_start(&run->poll, UV_READABLE, on_pidfd);
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        uv_pipe_init(&sv->loop, &run->out[i], 0);
        run->out[i].data = run;
        run->open_handles++;
        uv_pipe_open(&run->out[i], fds[i]);
        uv_read_start((uv_stream_t *)&run->out[i], on_alloc, on_read);
        run->open_streams++;
    }
    c->run = run;
    c->state = C_RUNNING;
    c->killed = c->unkillable = false;
    c->ever_started = true;
    c->started_at_ns = sv_now_ns();
    c->exit_code = 0;
    c->oom_killed = false;
    c->hook_failed = c->pre_stop_started = false;
    c->health = pl->health.enabled ? H_STARTING : H_NONE;
    c->failures = 0;
    c->health_output[0] = '\0';
    sv_save_state(c);
    sv_health_start(c);
    return 0;
}

static void on_timer(uv_timer_t *t);

static void try_start(struct sv_ctr *c, bool restart)
{
    struct berr e = BERR_INIT;
    if (!restart)
        sv_progress(c, "starting", "Starting", NULL);
    if (start_ctr(c, &e) < 0) {
        set_failed(c, e.msg ? e.msg : "failed to start");
        berr_clear(&e);
        return;
    }
    if (!restart) {
        if (!sv_hooks_post_start(c))
            sv_progress(c, "start", "Started", NULL);
    } else {
        /* after "restart": not progress, `up` showed the start once */
        struct ev ev;
        sv_ctr_ev(c, &ev, "start", NULL);
        sv_emit(c->sv, &ev);
    }
}

/* The restart decision when a run ends with exit_code (policy.h). */
static bool should_restart_code(const struct sv_ctr *c, int exit_code)
{
    const struct plan_restart *rp = &c->rec.plan.restart;
    struct svp_exit x = {
        .policy = rp->policy == PLAN_RESTART_ALWAYS           ? SVP_RESTART_ALWAYS
                  : rp->policy == PLAN_RESTART_ON_FAILURE     ? SVP_RESTART_ON_FAILURE
                  : rp->policy == PLAN_RESTART_UNLESS_STOPPED ? SVP_RESTART_UNLESS_STOPPED
                                                              : SVP_RESTART_NO,
        .max_retries = rp->max_retries,
        .exit_code = exit_code,
        .restarts = c->restarts,
        .stop_requested = c->stop_requested,
        .project_stopping = c->sv->quitting || c->sv->interrupts || c->sv->stopping_all,
    };
    return svp_should_restart(&x);
}

static bool should_restart(struct sv_ctr *c)
{
    return should_restart_code(c, c->exit_code);
}

static void run_finished(struct sv_ctr *c, uint64_t ran_ms)
{
    struct supervisor *sv = c->sv;
    c->finished_at_ns = sv_now_ns();
    uv_timer_stop(&c->timer);
    sv_health_stop(c);
    sv_hooks_stop(c);
    c->paused = false;
    struct ev ev;
    if (c->oom_killed) {
        sv_ctr_ev(c, &ev, "oom", NULL);
        sv_emit(sv, &ev);
    }
    char code[16];
    snprintf(code, sizeof code, "%d", c->exit_code);
    sv_ctr_ev(c, &ev, "die", NULL);
    ev_attr_add(&ev, "exitCode", code);
    if (c->oom_killed)
        ev_attr_add(&ev, "oomKilled", "true");
    sv_emit(sv, &ev);
    if (c->stop_requested)
        sv_progress(c, "stop", "Stopped", NULL);
    if (should_restart(c)) {
        struct svp_backoff b = svp_backoff_next(c->backoff_step, ran_ms);
        c->backoff_step = b.step;
        c->state = C_BACKOFF;
        uv_timer_start(&c->timer, on_timer, b.delay_ms, 0);
    } else {
        c->state = C_EXITED;
    }
    sv_save_state(c);
    if (sv->stopping_all)
        stop_wave(sv); /* what depended on it is down: its dependencies go next */

    if (sv->opt.abort_on_exit && !sv->interrupts && c->state == C_EXITED) {
        bool from = sv->opt.exit_code_from && strcmp(sv->opt.exit_code_from, c->rec.service) == 0;
        if (from || (!sv->opt.exit_code_from && !sv->have_code)) {
            sv->have_code = true;
            sv->exit_code = c->exit_code;
        }
        if (!sv->aborting) {
            sv->aborting = true;
            _cleanup_free_ char *why = xasprintf("%s exited", c->rec.name);
            project_event(sv, "stopping", why, "abort");
            stop_all(sv, why);
        }
    }
    sv_check_waiters(sv);
    sv_check_stops(sv);
    sv_schedule(sv);
    sv_maybe_quit(sv);
}

static void on_timer(uv_timer_t *t)
{
    struct sv_ctr *c = t->data;
    if (c->state == C_RUNNING && c->run && !c->run->reaped) {
        if (c->killed) {
            /* SIGKILLed and still there (frozen from outside, or in an
             * uninterruptible sleep): stop requests are answered anyway,
             * and the removal says what is left. */
            c->unkillable = true;
            if (c->sv->stopping_all)
                stop_wave(c->sv);
            sv_check_stops(c->sv);
            return;
        }
        /* the grace period is over */
        sv_signal_ctr(c, SIGKILL, NULL);
        c->killed = true;
        uv_timer_start(&c->timer, on_timer, KILL_WAIT_MS, 0);
        return;
    }
    if (c->state == C_BACKOFF) {
        c->restarts++;
        c->state = C_WAITING;
        struct ev ev;
        sv_ctr_ev(c, &ev, "restart", NULL);
        sv_emit(c->sv, &ev);
        try_start(c, true);
        sv_check_waiters(c->sv);
        sv_maybe_quit(c->sv);
    }
}

/* ---- stop, kill ------------------------------------------------------- */

void sv_signal_ctr(struct sv_ctr *c, int sig, const char *status)
{
    container_signal(&c->run->proc, sig);
    char num[16];
    snprintf(num, sizeof num, "%d", sig);
    struct ev e;
    sv_ctr_ev(c, &e, "kill", status);
    ev_attr_add(&e, "signal", num);
    if (status)
        sv_progress_ev(c, &e);
    else
        sv_emit(c->sv, &e);
}

void sv_stop_ctr(struct sv_ctr *c, bool force, int64_t grace_ns)
{
    c->stop_requested = true;
    if (c->state == C_WAITING || c->state == C_BACKOFF) {
        uv_timer_stop(&c->timer);
        c->state = c->ever_started ? C_EXITED : C_IDLE;
        sv_save_state(c);
        return;
    }
    if (c->state != C_RUNNING || !c->run || c->run->reaped)
        return;
    if (force) {
        sv_hooks_stop(c);
        sv_signal_ctr(c, SIGKILL, NULL);
        return;
    }
    if (uv_is_active((uv_handle_t *)&c->timer))
        return; /* already stopping */
    if (c->paused) {
        /* a frozen process cannot handle its signal */
        cgroup_freeze(c->run->proc.cg, false);
        c->paused = false;
    }
    if (sv_hooks_pre_stop(c, grace_ns))
        return; /* asked again when they are done */
    int sig = c->rec.plan.stop_signal > 0 ? c->rec.plan.stop_signal : SIGTERM;
    sv_signal_ctr(c, sig, "Stopping");
    uv_timer_start(&c->timer, on_timer, (uint64_t)(stop_grace_ns(c, grace_ns) / 1000000), 0);
}

void sv_hooks_post_start_failed(struct sv_ctr *c, const char *msg)
{
    c->hook_failed = true;
    c->pre_stop_started = true; /* no pre_stop for a start that failed */
    free(c->error);
    c->error = xstrdup(msg);
    sv_progress(c, "error", "Error", msg);
    sv_stop_ctr(c, false, -1);
    sv_check_waiters(c->sv);
}

/* ---- dependencies ----------------------------------------------------- */

/* The gate of one depends_on entry (policy.h): each container of the
 * service depended on, until one is not open. A service not supervised
 * here (--no-deps) has nothing to wait for. */
static enum svp_gate dep_gate(struct supervisor *sv, const struct plan_depend *d, char **why)
{
    enum svp_condition cond = d->condition == PLAN_DEP_HEALTHY     ? SVP_DEP_HEALTHY
                              : d->condition == PLAN_DEP_COMPLETED ? SVP_DEP_COMPLETED
                                                                   : SVP_DEP_STARTED;
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *o = sv->ctrs[i];
        if (strcmp(o->rec.service, d->service) != 0 || o->rec.oneoff)
            continue;
        struct svp_dep_ctr v = {
            .name = o->rec.name,
            .failed = o->state == C_FAILED,
            .ever_started = o->ever_started,
            .exited = o->state == C_EXITED,
            .has_healthcheck = o->rec.plan.health.enabled,
            .healthy = o->health == H_HEALTHY,
            .unhealthy = o->health == H_UNHEALTHY,
            .exit_code = o->exit_code,
        };
        enum svp_gate g = svp_dep_gate(cond, d->service, &v, why);
        if (g != SVP_GATE_OPEN)
            return g;
    }
    return SVP_GATE_OPEN;
}

void sv_schedule(struct supervisor *sv)
{
    bool again = true;
    while (again) {
        again = false;
        for (size_t i = 0; i < sv->n; i++) {
            struct sv_ctr *c = sv->ctrs[i];
            if (c->state != C_WAITING)
                continue;
            bool ok = true;
            for (size_t k = 0; k < c->rec.plan.n_depends && ok; k++) {
                const struct plan_depend *d = &c->rec.plan.depends[k];
                _cleanup_free_ char *why = NULL;
                switch (svp_dep_verdict(dep_gate(sv, d, &why), d->required)) {
                case SVP_START:
                    break;
                case SVP_WAIT:
                    ok = false;
                    break;
                case SVP_FAIL:
                    ok = false;
                    set_failed(c, why);
                    break;
                case SVP_START_ANYWAY:
                    sv_warn(c, "%s: %s; starting anyway (required: false)", c->rec.name, why);
                    break;
                }
            }
            if (ok && c->state == C_WAITING) {
                try_start(c, false);
                again = true;
            }
        }
    }
    sv_check_waiters(sv);
}

/* ---- lifecycle of the supervisor itself ------------------------------- */

static bool busy(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        if (c->state == C_WAITING || c->state == C_BACKOFF || c->run || c->probe)
            return true;
    }
    /* a request in progress keeps it; an event stream does not */
    for (struct sv_client *cl = sv->clients; cl; cl = cl->next)
        if (!cl->events)
            return true;
    return false;
}

static void close_listeners(struct supervisor *sv)
{
    if (sv->signals_open) {
        uv_close((uv_handle_t *)&sv->sig_int, NULL);
        uv_close((uv_handle_t *)&sv->sig_term, NULL);
        uv_close((uv_handle_t *)&sv->sig_hup, NULL);
        sv->signals_open = false;
    }
    if (sv->server_open) {
        uv_close((uv_handle_t *)&sv->server, NULL);
        sv->server_open = false;
        if (sv->sock_path)
            unlink(sv->sock_path);
    }
    sv_net_close(sv);
}

void sv_maybe_quit(struct supervisor *sv)
{
    if (busy(sv))
        return;
    /* Waiters still open (e.g. a container that never started) end now. */
    for (struct sv_waiter *w = sv->waiters; w; w = w->next)
        if (!w->done)
            finish_waiter(sv, w, "the containers ended before they were ready");
    sv->quitting = true;
    sv_events_end(sv);
    close_listeners(sv);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct supervisor *sv = h->data;
    if (signum == SIGHUP && !sv->opt.attached)
        return; /* a detached supervisor has no terminal to lose */
    sv->interrupts++;
    if (sv->interrupts == 1) {
        sv->interrupt_sig = signum;
        char name[16];
        _cleanup_free_ char *why = xasprintf("stopping on %s", signal_name(signum, name));
        project_event(sv, "stopping", why, "signal");
        stop_all(sv, why);
    } else {
        for (size_t i = 0; i < sv->n; i++)
            sv_stop_ctr(sv->ctrs[i], true, -1);
    }
    sv_maybe_quit(sv);
}

struct supervisor *sv_new(struct runtime *rt, const struct sv_options *o)
{
    struct supervisor *sv = xcalloc(1, sizeof *sv);
    sv->rt = rt;
    sv->opt = *o;
    if (sv->opt.exit_code_from)
        sv->opt.abort_on_exit = true;
    uv_loop_init(&sv->loop);
    uv_signal_init(&sv->loop, &sv->sig_int);
    uv_signal_init(&sv->loop, &sv->sig_term);
    uv_signal_init(&sv->loop, &sv->sig_hup);
    sv->sig_int.data = sv->sig_term.data = sv->sig_hup.data = sv;
    uv_signal_start(&sv->sig_int, on_signal, SIGINT);
    uv_signal_start(&sv->sig_term, on_signal, SIGTERM);
    uv_signal_start(&sv->sig_hup, on_signal, SIGHUP);
    sv->signals_open = true;
    ev_ring_init(&sv->ring, EV_RING_DEFAULT_CAP);
    return sv;
}

struct sv_ctr *sv_find_ctr(struct supervisor *sv, const char *name)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->ctrs[i]->rec.name, name) == 0)
            return sv->ctrs[i];
    return NULL;
}

static void record_copy(struct ctr_record *dst, const struct ctr_record *src)
{
    /* Deep copy through the on-disk form: one definition of the fields. */
    memset(dst, 0, sizeof *dst);
    dst->id = xstrdup(src->id);
    dst->name = xstrdup(src->name);
    dst->project = xstrdup(src->project);
    dst->service = xstrdup(src->service);
    dst->number = src->number;
    dst->oneoff = src->oneoff;
    dst->image = src->image ? xstrdup(src->image) : NULL;
    dst->image_id = src->image_id ? xstrdup(src->image_id) : NULL;
    dst->created = src->created ? xstrdup(src->created) : NULL;
    dst->cgroup = src->cgroup ? xstrdup(src->cgroup) : NULL;
    dst->config_files = src->config_files ? xstrdup(src->config_files) : NULL;
    dst->working_dir = src->working_dir ? xstrdup(src->working_dir) : NULL;
    json_t *j = plan_to_json(&src->plan);
    struct berr ign = BERR_INIT;
    plan_from_json(j, &dst->plan, &ign);
    berr_clear(&ign);
    json_decref(j);
    dst->plan.config = src->plan.config ? xstrdup(src->plan.config) : NULL;
}

/* A container the supervisor takes on for the first time is "created" for
 * the event stream unless it ever ran (its run state says so): the record
 * was made by the command that hands it over. */
static bool never_started(struct supervisor *sv, const struct ctr_record *rec)
{
    struct run_state st;
    return run_state_read(sv->opt.runroot, sv->opt.project, rec->name, &st) < 0 ||
           st.started_at_ns == 0;
}

/* The container's "create", for the event stream only: the command that
 * made the record has shown its creation already. */
static void publish_created(struct sv_ctr *c)
{
    struct ev ev;
    sv_ctr_ev(c, &ev, "create", NULL);
    sv_publish(c->sv, &ev);
}

static struct sv_ctr *adopt(struct supervisor *sv, const struct ctr_record *rec)
{
    struct sv_ctr *c = sv_find_ctr(sv, rec->name);
    if (c) {
        sv_shape_adopt(c, rec); /* changed in place, not recreated */
        if (c->run)
            return c; /* running: keep it as it is */
        if (strcmp(c->rec.id, rec->id) != 0) {
            /* recreated since: take the new record */
            log_writer_close(&c->log);
            ctr_record_free(&c->rec);
            record_copy(&c->rec, rec);
            c->restarts = 0;
            c->ever_started = false;
            if (never_started(sv, rec))
                publish_created(c);
        }
        return c;
    }
    c = xcalloc(1, sizeof *c);
    c->sv = sv;
    c->log.fd = -1;
    c->netns_fd = -1;
    record_copy(&c->rec, rec);
    c->color = (int)sv->n;
    uv_timer_init(&sv->loop, &c->timer);
    c->timer.data = c;
    uv_timer_init(&sv->loop, &c->health_timer);
    c->health_timer.data = c;
    sv->ctrs = xreallocarray(sv->ctrs, sv->n + 1, sizeof *sv->ctrs);
    sv->ctrs[sv->n++] = c;
    int w = (int)strlen(c->rec.plan.log_name ? c->rec.plan.log_name : c->rec.name);
    if (w > sv->width)
        sv->width = w;
    if (never_started(sv, rec))
        publish_created(c);
    return c;
}

static struct sv_waiter *add_waiter(struct supervisor *sv, struct sv_ctr **ctrs, size_t n,
                                    bool healthy, struct sv_client *cl)
{
    struct sv_waiter *w = xcalloc(1, sizeof *w);
    w->ctrs = xmemdup(ctrs, n * sizeof *ctrs);
    w->n = n;
    w->healthy = healthy;
    w->client = cl;
    w->next = sv->waiters;
    sv->waiters = w;
    return w;
}

void sv_start_request(struct supervisor *sv, const struct ctr_record *recs, size_t n,
                      bool wait_healthy, struct sv_client *cl)
{
    struct sv_ctr **list = xcalloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        struct sv_ctr *c = adopt(sv, &recs[i]);
        list[i] = c;
        if (c->state == C_RUNNING)
            continue;
        c->stop_requested = false;
        c->backoff_step = 0;
        c->state = C_WAITING;
        free(c->error);
        c->error = NULL;
    }
    /* Ports and rules before any of them starts: a busy port fails all. */
    struct berr ne = BERR_INIT;
    if (sv_net_request(sv, list, n, &ne) < 0) {
        for (size_t i = 0; i < n; i++)
            if (list[i]->state == C_WAITING)
                set_failed(list[i], ne.msg ? ne.msg : "failed to publish its ports");
    }
    berr_clear(&ne);
    add_waiter(sv, list, n, wait_healthy, cl);
    if (cl)
        sv_client_watch(cl, list, n);
    free(list);
    sv_schedule(sv);
}

int sv_request_start(struct supervisor *sv, const struct ctr_record *recs, size_t n,
                     bool wait_healthy, struct berr *e)
{
    (void)e;
    sv_start_request(sv, recs, n, wait_healthy, NULL);
    return 0;
}

/* ---- run and free ----------------------------------------------------- */

int sv_run(struct supervisor *sv)
{
    if (sv->opt.attached) {
        _cleanup_free_ char *names = NULL;
        for (size_t i = 0; i < sv->n; i++) {
            const struct sv_ctr *c = sv->ctrs[i];
            if (c->state == C_IDLE || c->rec.plan.no_attach)
                continue;
            const char *n = c->rec.plan.log_name ? c->rec.plan.log_name : c->rec.name;
            char *t = names ? xasprintf("%s, %s", names, n) : xstrdup(n);
            free(names);
            names = t;
        }
        if (names)
            project_event(sv, "attach", names, NULL);
    }
    sv_maybe_quit(sv);
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    if (sv->opt.abort_on_exit && sv->have_code)
        return sv->exit_code;
    if (sv->interrupts)
        return 128 + sv->interrupt_sig;
    if (sv->start_failed)
        return 1;
    return 0;
}

void sv_free(struct supervisor *sv)
{
    if (!sv)
        return;
    close_listeners(sv);
    while (sv->clients)
        sv_client_close(sv->clients);
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        if (c->run && !c->run->reaped) {
            /* Never leave a child behind: kill and reap it. */
            container_signal(&c->run->proc, SIGKILL);
            siginfo_t si;
            waitid(P_PIDFD, (id_t)c->run->proc.pidfd, &si, WEXITED);
        }
        if (c->run) {
            struct sv_run *r = c->run;
            r->c = NULL;
            uv_handle_t *hs[] = {(uv_handle_t *)&r->poll, (uv_handle_t *)&r->out[0],
                                 (uv_handle_t *)&r->out[1]};
            for (size_t k = 0; k < ARRAY_SIZE(hs); k++)
                if (hs[k]->loop && !uv_is_closing(hs[k]))
                    uv_close(hs[k], on_run_handle_closed);
        }
        sv_health_stop(c);
        if (!uv_is_closing((uv_handle_t *)&c->timer))
            uv_close((uv_handle_t *)&c->timer, NULL);
        if (!uv_is_closing((uv_handle_t *)&c->health_timer))
            uv_close((uv_handle_t *)&c->health_timer, NULL);
    }
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        log_writer_close(&c->log);
        ctr_record_free(&c->rec);
        free(c->error);
        free(c);
    }
    while (sv->stop_waits) {
        struct stop_wait *sw = sv->stop_waits;
        sv->stop_waits = sw->next;
        free(sw->ctrs);
        free(sw);
    }
    while (sv->waiters) {
        struct sv_waiter *w = sv->waiters;
        sv->waiters = w->next;
        free(w->ctrs);
        free(w);
    }
    if (sv->opt.events_fd >= 0)
        close(sv->opt.events_fd);
    free(sv->ctrs);
    free(sv->sock_path);
    free(sv->stop_reason);
    free(sv->told_status);
    ev_ring_fini(&sv->ring);
    uv_loop_close(&sv->loop);
    free(sv);
}
