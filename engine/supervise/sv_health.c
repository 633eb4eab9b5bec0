/* SPDX-License-Identifier: Apache-2.0 */
/* Healthchecks, run by the supervisor on any init system: each probe is a
 * process exec'd into the container's namespaces and cgroup with the
 * container's user and security settings; its exit status decides. The
 * loop never waits for a probe: its start is watched like its exit (see
 * struct sv_probe), so a container that stops its probes stalls only its
 * own health.
 * Docker's rules: "starting" until the first success; "healthy" after a
 * success; "unhealthy" after `retries` failures in a row, failures during
 * the start period not counting; probes every `interval` (every
 * `start_interval` during the start period); a probe past its timeout is
 * killed and fails.
 * Not here: the exec mechanics (engine/runtime/exec.c), the healthcheck's
 * settings (engine/plan/plan.c). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/runtime/ctrplan_sec.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/xalloc.h"

#define HEALTH_MIN_INTERVAL_MS 100 /* an interval of 1ns must not spin */

static uint64_t ns_to_ms(int64_t ns)
{
    uint64_t ms = ns > 0 ? (uint64_t)(ns / 1000000) : 0;
    return ms < HEALTH_MIN_INTERVAL_MS ? HEALTH_MIN_INTERVAL_MS : ms;
}

static bool in_start_period(struct sv_ctr *c)
{
    uint64_t now = uv_now(&c->sv->loop);
    return c->rec.plan.health.start_period_ns > 0 &&
           now - c->health_since_ms < (uint64_t)(c->rec.plan.health.start_period_ns / 1000000);
}

static void on_health_timer(uv_timer_t *t);

static void schedule_next(struct sv_ctr *c)
{
    const struct plan_health *h = &c->rec.plan.health;
    int64_t next =
        c->health != H_HEALTHY && in_start_period(c) ? h->start_interval_ns : h->interval_ns;
    uv_timer_start(&c->health_timer, on_health_timer, ns_to_ms(next), 0);
}

static void probe_maybe_free(struct sv_probe *p)
{
    if (p->open_handles > 0)
        return;
    struct berr ign = BERR_INIT;
    container_release(&p->proc, &ign);
    berr_clear(&ign);
    free(p);
}

static void on_probe_closed(uv_handle_t *h)
{
    struct sv_probe *p = h->data;
    p->open_handles--;
    probe_maybe_free(p);
}

/* Closes the status fd once its handle is closed (uv_close does not). */
static void on_start_closed(uv_handle_t *h)
{
    struct sv_probe *p = h->data;
    close(p->status_fd);
    p->status_fd = -1;
    on_probe_closed(h);
}

static void probe_result(struct sv_ctr *c, struct sv_probe *p)
{
    bool ok = !p->timed_out && !p->start_failed && p->exit.signal == 0 && p->exit.status == 0;
    /* Keep the tail of the output for messages (docker keeps 4096 bytes). */
    size_t n = p->out_len;
    while (n > 0 && (p->output[n - 1] == '\n' || p->output[n - 1] == '\r'))
        n--;
    size_t from = n > sizeof c->health_output - 1 ? n - (sizeof c->health_output - 1) : 0;
    if (p->timed_out) {
        char d[32];
        duration_go(c->rec.plan.health.timeout_ns, d, sizeof d);
        snprintf(c->health_output, sizeof c->health_output, "Health check exceeded timeout (%s)",
                 d);
    } else {
        memcpy(c->health_output, p->output + from, n - from);
        c->health_output[n - from] = '\0';
    }
    enum health before = c->health;
    if (ok) {
        c->failures = 0;
        c->health = H_HEALTHY;
    } else if (!(before == H_STARTING && in_start_period(c))) {
        c->failures++;
        if (c->failures >= c->rec.plan.health.retries)
            c->health = H_UNHEALTHY;
    }
    if (c->health != before) {
        sv_save_state(c);
        if (c->health == H_HEALTHY || c->health == H_UNHEALTHY) {
            bool good = c->health == H_HEALTHY;
            struct ev e;
            sv_ctr_ev(c, &e, "health_status", good ? "Healthy" : "Unhealthy");
            ev_attr_add(&e, "health_status", health_names[c->health]);
            if (!good && c->health_output[0])
                e.detail = c->health_output;
            sv_progress_ev(c, &e);
        }
        sv_check_waiters(c->sv);
        sv_schedule(c->sv);
    }
}

static void probe_check_done(struct sv_probe *p)
{
    if (!p->reaped || p->open_streams > 0)
        return;
    uv_timer_stop(&p->timeout);
    if (!uv_is_closing((uv_handle_t *)&p->timeout))
        uv_close((uv_handle_t *)&p->timeout, on_probe_closed);
    struct sv_ctr *c = p->c;
    if (c) {
        c->probe = NULL;
        p->c = NULL;
        probe_result(c, p);
        if (c->run && c->state == C_RUNNING)
            schedule_next(c);
    }
    probe_maybe_free(p);
}

/* The probe runs in a session of its own, so what it left behind (`sleep
 * 1d &`) is in its process group: killed when the probe ends or times out
 * (SECURITY.md E11). Only before the probe is reaped, while its pid, and
 * so the group's id, cannot be taken by another process. */
static void probe_kill_group(struct sv_probe *p)
{
    if (!p->reaped && p->proc.pid > 0)
        kill(-p->proc.pid, SIGKILL);
}

static void on_probe_exit(uv_poll_t *h, int status, int events)
{
    struct sv_probe *p = h->data;
    (void)status;
    (void)events;
    probe_kill_group(p); /* the probe has exited: its pid is a zombie's */
    int r = container_reap(&p->proc, &p->exit);
    if (r == 0)
        return;
    if (r < 0) {
        memset(&p->exit, 0, sizeof p->exit);
        p->exit.status = 255;
    }
    p->reaped = true;
    uv_poll_stop(h);
    uv_close((uv_handle_t *)h, on_probe_closed);
    probe_check_done(p);
}

static void on_probe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sv_probe *p = h->data;
    (void)suggested;
    if (p->out_len < sizeof p->output) {
        buf->base = p->output + p->out_len;
        buf->len = sizeof p->output - p->out_len;
    } else { /* read and dropped once the kept part is full */
        buf->base = p->sv->readbuf;
        buf->len = sizeof p->sv->readbuf;
    }
}

static void on_probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_probe *p = s->data;
    if (n > 0) {
        if (buf->base == p->output + p->out_len)
            p->out_len += (size_t)n;
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_probe_closed);
    p->open_streams--;
    probe_check_done(p);
}

/* The status fd is readable: the process got to execve (EOF), or reports
 * why it could not (its message becomes the probe's output), or died
 * (EOF too: its exit decides). Called by the loop; p stays valid until its
 * handles have closed. */
static void on_probe_started(uv_poll_t *h, int status, int events)
{
    struct sv_probe *p = h->data;
    (void)events;
    struct berr e = BERR_INIT;
    int r = status < 0
                ? 0
                : container_exec_status(p->status_fd, p->c ? p->c->rec.name : "healthcheck", &e);
    if (r == 1)
        return; /* nothing yet */
    if (r < 0) {
        snprintf(p->output, sizeof p->output, "%s", e.msg ? e.msg : "cannot run the healthcheck");
        p->out_len = strlen(p->output);
        p->start_failed = true;
    }
    berr_clear(&e);
    uv_poll_stop(h);
    uv_close((uv_handle_t *)h, on_start_closed);
    p->open_streams--;
    probe_check_done(p);
}

static void on_probe_timeout(uv_timer_t *t)
{
    struct sv_probe *p = t->data;
    p->timed_out = true;
    if (!p->reaped)
        container_signal(&p->proc, SIGKILL);
    probe_kill_group(p);
}

static void run_probe(struct sv_ctr *c)
{
    struct supervisor *sv = c->sv;
    const struct ctr_plan *pl = &c->rec.plan;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        schedule_next(c);
        return;
    }
    struct exec_spec x = {
        .name = c->rec.name,
        .target_pidfd = c->run->proc.pidfd,
        .cgroup_rel = c->rec.cgroup,
        .argv = pl->health.test,
        .env = pl->env,
        .cwd = pl->cwd,
        .user = pl->user,
        .caps = pl->caps,
        .no_new_privs = pl->no_new_privs,
        .stdin_fd = -1,
        .stdout_fd = pfd[1],
        .stderr_fd = pfd[1],
    };
    plan_sec_spec(pl, &x.sec);
    struct sv_probe *p = xcalloc(1, sizeof *p);
    p->sv = sv;
    p->c = c;
    struct berr e = BERR_INIT;
    int r = container_exec_start(sv->rt, &x, &p->proc, &p->status_fd, &e);
    close(pfd[1]);
    if (r < 0) {
        /* A probe that cannot even be cloned is a failed probe. */
        close(pfd[0]);
        snprintf(p->output, sizeof p->output, "%s", e.msg ? e.msg : "cannot run the healthcheck");
        p->out_len = strlen(p->output);
        berr_clear(&e);
        p->reaped = true;
        p->exit.status = 1;
        p->c = NULL;
        probe_result(c, p);
        free(p);
        if (c->run && c->state == C_RUNNING)
            schedule_next(c);
        return;
    }
    c->probe = p;
    uv_poll_init(&sv->loop, &p->poll, p->proc.pidfd);
    p->poll.data = p;
    p->open_handles++;
    uv_poll_start(&p->poll, UV_READABLE, on_probe_exit);
    uv_pipe_init(&sv->loop, &p->out, 0);
    p->out.data = p;
    p->open_handles++;
    uv_pipe_open(&p->out, pfd[0]);
    uv_read_start((uv_stream_t *)&p->out, on_probe_alloc, on_probe_read);
    p->open_streams++;
    uv_poll_init(&sv->loop, &p->start, p->status_fd);
    p->start.data = p;
    p->open_handles++;
    uv_poll_start(&p->start, UV_READABLE, on_probe_started);
    p->open_streams++;
    uv_timer_init(&sv->loop, &p->timeout);
    p->timeout.data = p;
    p->open_handles++;
    uv_timer_start(&p->timeout, on_probe_timeout, ns_to_ms(pl->health.timeout_ns), 0);
}

static void on_health_timer(uv_timer_t *t)
{
    struct sv_ctr *c = t->data;
    if (!c->run || c->run->reaped || c->state != C_RUNNING)
        return;
    if (c->paused || c->probe) {
        schedule_next(c); /* a paused container is not probed */
        return;
    }
    run_probe(c);
}

void sv_health_start(struct sv_ctr *c)
{
    if (!c->rec.plan.health.enabled)
        return;
    c->health_since_ms = uv_now(&c->sv->loop);
    schedule_next(c);
}

void sv_health_stop(struct sv_ctr *c)
{
    uv_timer_stop(&c->health_timer);
    struct sv_probe *p = c->probe;
    if (!p)
        return;
    c->probe = NULL;
    p->c = NULL;
    if (!p->reaped)
        container_signal(&p->proc, SIGKILL);
}
