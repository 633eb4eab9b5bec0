/* SPDX-License-Identifier: Apache-2.0 */
/* Lifecycle hooks: post_start, run right after the container starts, and
 * pre_stop, run before its stop signal. Each hook is a process exec'd into
 * the container as `exec` runs one (its user, working_dir and environment
 * over the container's), on the loop as a healthcheck probe is: the loop
 * never waits for it. The hooks of a list run one after the other; their
 * output goes to the container's log. A post_start that fails (or cannot
 * start) stops the container and fails its start, as docker compose does;
 * pre_stop's failure is said, and the stop goes on. Each hook is bounded:
 * post_start by HOOK_TIMEOUT_MS, pre_stop by the stop's grace period.
 * Not here: the exec mechanics (engine/runtime/exec.c). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/runtime/runtime.h"
#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define HOOK_TIMEOUT_MS 60000 /* post_start */
#define HOOK_OUTPUT_MAX 8192  /* kept for the log; the rest is read and dropped */

struct sv_hook {
    struct supervisor *sv;
    struct sv_ctr *c; /* NULL once the container moved on */
    bool pre_stop;
    size_t index;     /* in the plan's list */
    int64_t grace_ns; /* the stop's (-1: the service's), handed on */
    struct container_proc proc;
    uv_poll_t poll, start;
    uv_pipe_t out;
    uv_timer_t timeout;
    int status_fd;
    char output[HOOK_OUTPUT_MAX];
    size_t out_len;
    int open_handles, open_streams;
    bool reaped, timed_out, start_failed;
    struct container_exit exit;
};

static void hook_next(struct sv_ctr *c, bool pre_stop, size_t index, int64_t grace_ns);

static void hook_maybe_free(struct sv_hook *h)
{
    if (h->open_handles > 0)
        return;
    struct berr ign = BERR_INIT;
    container_release(&h->proc, &ign);
    berr_clear(&ign);
    free(h);
}

static void on_hook_closed(uv_handle_t *u)
{
    struct sv_hook *h = u->data;
    h->open_handles--;
    hook_maybe_free(h);
}

static void on_status_closed(uv_handle_t *u)
{
    struct sv_hook *h = u->data;
    close(h->status_fd);
    h->status_fd = -1;
    on_hook_closed(u);
}

/* The hook's output, line by line, into the container's log. */
static void hook_output_to_log(struct sv_ctr *c, const struct sv_hook *h)
{
    size_t start = 0;
    for (size_t i = 0; i <= h->out_len; i++)
        if (i == h->out_len || h->output[i] == '\n') {
            if (i > start)
                sv_log_line(c, 0, h->output + start, i - start);
            start = i + 1;
        }
}

static const char *hook_key(bool pre_stop)
{
    return pre_stop ? "pre_stop" : "post_start";
}

/* The hook is done: said, and the next one (or what follows the list). */
static void hook_result(struct sv_ctr *c, struct sv_hook *h)
{
    hook_output_to_log(c, h);
    bool ok = !h->timed_out && !h->start_failed && h->exit.signal == 0 && h->exit.status == 0;
    if (ok) {
        hook_next(c, h->pre_stop, h->index + 1, h->grace_ns);
        return;
    }
    _cleanup_free_ char *why = h->timed_out      ? xstrdup("did not finish in time")
                               : h->start_failed ? xstrdup("could not start")
                               : h->exit.signal
                                   ? xasprintf("was killed by signal %d", h->exit.signal)
                                   : xasprintf("exited with code %d", h->exit.status);
    _cleanup_free_ char *msg = xasprintf("service \"%s\": %s hook %zu %s", c->rec.service,
                                         hook_key(h->pre_stop), h->index + 1, why);
    if (h->pre_stop) {
        sv_warn(c, "%s; stopping it anyway", msg);
        hook_next(c, true, SIZE_MAX, h->grace_ns);
        return;
    }
    sv_hooks_post_start_failed(c, msg);
}

static void hook_check_done(struct sv_hook *h)
{
    if (!h->reaped || h->open_streams > 0)
        return;
    uv_timer_stop(&h->timeout);
    if (!uv_is_closing((uv_handle_t *)&h->timeout))
        uv_close((uv_handle_t *)&h->timeout, on_hook_closed);
    struct sv_ctr *c = h->c;
    if (c) {
        c->hook = NULL;
        h->c = NULL;
        hook_result(c, h);
    }
    hook_maybe_free(h);
}

static void hook_kill_group(struct sv_hook *h)
{
    if (!h->reaped && h->proc.pid > 0)
        kill(-h->proc.pid, SIGKILL);
}

static void on_hook_exit(uv_poll_t *u, int status, int events)
{
    struct sv_hook *h = u->data;
    (void)status;
    (void)events;
    hook_kill_group(h);
    int r = container_reap(&h->proc, &h->exit);
    if (r == 0)
        return;
    if (r < 0) {
        memset(&h->exit, 0, sizeof h->exit);
        h->exit.status = 255;
    }
    h->reaped = true;
    uv_poll_stop(u);
    uv_close((uv_handle_t *)u, on_hook_closed);
    hook_check_done(h);
}

static void on_hook_alloc(uv_handle_t *u, size_t suggested, uv_buf_t *buf)
{
    struct sv_hook *h = u->data;
    (void)suggested;
    if (h->out_len < sizeof h->output) {
        buf->base = h->output + h->out_len;
        buf->len = sizeof h->output - h->out_len;
    } else {
        buf->base = h->sv->readbuf;
        buf->len = sizeof h->sv->readbuf;
    }
}

static void on_hook_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_hook *h = s->data;
    if (n > 0) {
        if (buf->base == h->output + h->out_len)
            h->out_len += (size_t)n;
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_hook_closed);
    h->open_streams--;
    hook_check_done(h);
}

static void on_hook_started(uv_poll_t *u, int status, int events)
{
    struct sv_hook *h = u->data;
    (void)events;
    struct berr e = BERR_INIT;
    int r = status < 0 ? 0 : container_exec_status(h->status_fd, hook_key(h->pre_stop), &e);
    if (r == 1)
        return;
    if (r < 0) {
        snprintf(h->output, sizeof h->output, "%s", e.msg ? e.msg : "cannot run the hook");
        h->out_len = strlen(h->output);
        h->start_failed = true;
    }
    berr_clear(&e);
    uv_poll_stop(u);
    uv_close((uv_handle_t *)u, on_status_closed);
    h->open_streams--;
    hook_check_done(h);
}

static void on_hook_timeout(uv_timer_t *t)
{
    struct sv_hook *h = t->data;
    h->timed_out = true;
    if (!h->reaped)
        container_signal(&h->proc, SIGKILL);
    hook_kill_group(h);
}

static int hook_start(struct sv_ctr *c, const struct plan_hook *ph, struct sv_hook *h,
                      struct berr *e)
{
    struct supervisor *sv = c->sv;
    const struct ctr_plan *pl = &c->rec.plan;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "pipe");
    _cleanup_strv_ char **env = strv_dup(pl->env);
    for (size_t i = 0; ph->env && ph->env[i]; i++)
        strv_env_put(&env, ph->env[i]);
    struct exec_spec x = {
        .name = c->rec.name,
        .target_pidfd = c->run->proc.pidfd,
        .cgroup_rel = c->rec.cgroup,
        .argv = ph->argv,
        .env = env,
        .cwd = ph->cwd ? ph->cwd : pl->cwd,
        .user = ph->user ? ph->user : pl->user,
        .caps = pl->caps,
        .no_new_privs = pl->no_new_privs,
        .stdin_fd = -1,
        .stdout_fd = pfd[1],
        .stderr_fd = pfd[1],
    };
    int r = container_exec_start(sv->rt, &x, &h->proc, &h->status_fd, e);
    close(pfd[1]);
    if (r < 0) {
        close(pfd[0]);
        return r;
    }
    uv_poll_init(&sv->loop, &h->poll, h->proc.pidfd);
    h->poll.data = h;
    h->open_handles++;
    uv_poll_start(&h->poll, UV_READABLE, on_hook_exit);
    uv_pipe_init(&sv->loop, &h->out, 0);
    h->out.data = h;
    h->open_handles++;
    uv_pipe_open(&h->out, pfd[0]);
    uv_read_start((uv_stream_t *)&h->out, on_hook_alloc, on_hook_read);
    h->open_streams++;
    uv_poll_init(&sv->loop, &h->start, h->status_fd);
    h->start.data = h;
    h->open_handles++;
    uv_poll_start(&h->start, UV_READABLE, on_hook_started);
    h->open_streams++;
    uv_timer_init(&sv->loop, &h->timeout);
    h->timeout.data = h;
    h->open_handles++;
    int64_t grace = h->grace_ns >= 0 ? h->grace_ns : pl->stop_grace_ns;
    uint64_t ms = h->pre_stop ? (uint64_t)(grace > 0 ? grace / 1000000 : 0) : HOOK_TIMEOUT_MS;
    uv_timer_start(&h->timeout, on_hook_timeout, ms > 0 ? ms : 1, 0);
    return 0;
}

/* Runs hook index of the list, or ends the list: post_start's end lets the
 * start be reported; pre_stop's goes on with the stop. */
static void hook_next(struct sv_ctr *c, bool pre_stop, size_t index, int64_t grace_ns)
{
    const struct ctr_plan *pl = &c->rec.plan;
    size_t n = pre_stop ? pl->n_pre_stop : pl->n_post_start;
    bool alive = c->run && !c->run->reaped && c->state == C_RUNNING;
    if (index >= n || !alive) {
        if (pre_stop) {
            if (alive)
                sv_stop_ctr(c, false, grace_ns);
        } else {
            c->hooks_pending = false;
            if (alive)
                sv_progress(c, "start", "Started", NULL);
            sv_check_waiters(c->sv);
        }
        return;
    }
    struct sv_hook *h = xcalloc(1, sizeof *h);
    h->sv = c->sv;
    h->c = c;
    h->pre_stop = pre_stop;
    h->index = index;
    h->grace_ns = grace_ns;
    h->status_fd = -1;
    struct berr e = BERR_INIT;
    const struct plan_hook *ph = pre_stop ? &pl->pre_stop[index] : &pl->post_start[index];
    if (hook_start(c, ph, h, &e) < 0) {
        snprintf(h->output, sizeof h->output, "%s", e.msg ? e.msg : "cannot run the hook");
        h->out_len = strlen(h->output);
        berr_clear(&e);
        h->start_failed = true;
        h->reaped = true;
        h->c = NULL;
        hook_result(c, h);
        free(h);
        return;
    }
    c->hook = h;
}

bool sv_hooks_post_start(struct sv_ctr *c)
{
    c->pre_stop_started = false;
    if (c->rec.plan.n_post_start == 0)
        return false;
    c->hooks_pending = true;
    hook_next(c, false, 0, 0);
    return true;
}

bool sv_hooks_pre_stop(struct sv_ctr *c, int64_t grace_ns)
{
    if (c->pre_stop_started)
        return c->hook != NULL; /* running: the stop waits for it */
    c->pre_stop_started = true;
    if (c->rec.plan.n_pre_stop == 0)
        return false;
    /* post_start still running: it is cut short, the stop goes on */
    sv_hooks_stop(c);
    hook_next(c, true, 0, grace_ns);
    return c->hook != NULL;
}

void sv_hooks_stop(struct sv_ctr *c)
{
    struct sv_hook *h = c->hook;
    c->hooks_pending = false;
    if (!h)
        return;
    c->hook = NULL;
    h->c = NULL;
    if (!h->reaped)
        container_signal(&h->proc, SIGKILL);
    hook_kill_group(h);
}
