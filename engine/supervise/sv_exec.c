/* SPDX-License-Identifier: Apache-2.0 */
/* A process exec'd into a running container on the supervisor's loop: a
 * healthcheck probe (sv_health.c) or a lifecycle hook (sv_hooks.c). The
 * loop never waits for it: its start is watched like its exit (see struct
 * sv_exec), its output (stdout and stderr together) is kept up to a cap,
 * and a timer bounds it, its start included. Not here: the exec mechanics
 * (engine/runtime/exec.c). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/supervise/sv_internal.h"
#include "util/xalloc.h"

static void exec_maybe_free(struct sv_exec *x)
{
    if (x->open_handles > 0)
        return;
    struct berr ign = BERR_INIT;
    container_release(&x->proc, &ign);
    berr_clear(&ign);
    free(x->name);
    free(x->output);
    free(x);
}

static void on_exec_closed(uv_handle_t *h)
{
    struct sv_exec *x = h->data;
    x->open_handles--;
    exec_maybe_free(x);
}

/* Closes the status fd once its handle is closed (uv_close does not). */
static void on_start_closed(uv_handle_t *h)
{
    struct sv_exec *x = h->data;
    close(x->status_fd);
    x->status_fd = -1;
    on_exec_closed(h);
}

static void exec_check_done(struct sv_exec *x)
{
    if (!x->reaped || x->open_streams > 0)
        return;
    uv_timer_stop(&x->timeout);
    if (!uv_is_closing((uv_handle_t *)&x->timeout))
        uv_close((uv_handle_t *)&x->timeout, on_exec_closed);
    /* open_handles keeps x alive through the callback */
    void *owner = x->owner;
    x->owner = NULL;
    if (owner)
        x->done(x, owner);
    exec_maybe_free(x);
}

/* The process runs in a session of its own, so what it left behind
 * (`sleep 1d &`) is in its process group: killed when it ends or times
 * out (SECURITY.md E11). Only before it is reaped, while its pid, and so
 * the group's id, cannot be taken by another process. */
static void exec_kill_group(struct sv_exec *x)
{
    if (!x->reaped && x->proc.pid > 0)
        kill(-x->proc.pid, SIGKILL);
}

static void on_exec_exit(uv_poll_t *h, int status, int events)
{
    struct sv_exec *x = h->data;
    (void)status;
    (void)events;
    exec_kill_group(x); /* it has exited: its pid is a zombie's */
    int r = container_reap(&x->proc, &x->exit);
    if (r == 0)
        return;
    if (r < 0) {
        memset(&x->exit, 0, sizeof x->exit);
        x->exit.status = 255;
    }
    x->reaped = true;
    uv_poll_stop(h);
    uv_close((uv_handle_t *)h, on_exec_closed);
    exec_check_done(x);
}

static void on_exec_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sv_exec *x = h->data;
    (void)suggested;
    if (x->out_len < x->out_cap) {
        buf->base = x->output + x->out_len;
        buf->len = x->out_cap - x->out_len;
    } else { /* read and dropped once the kept part is full */
        buf->base = x->sv->readbuf;
        buf->len = sizeof x->sv->readbuf;
    }
}

static void on_exec_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_exec *x = s->data;
    if (n > 0) {
        if (buf->base == x->output + x->out_len)
            x->out_len += (size_t)n;
        return;
    }
    if (n == 0)
        return;
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_exec_closed);
    x->open_streams--;
    exec_check_done(x);
}

/* The status fd is readable: the process got to execve (EOF), or reports
 * why it could not (its message becomes the output), or died (EOF too:
 * its exit decides). */
static void on_exec_started(uv_poll_t *h, int status, int events)
{
    struct sv_exec *x = h->data;
    (void)events;
    struct berr e = BERR_INIT;
    int r = status < 0 ? 0 : container_exec_status(x->status_fd, x->name, &e);
    if (r == 1)
        return; /* nothing yet */
    if (r < 0) {
        x->out_len = (size_t)snprintf(x->output, x->out_cap, "%s", e.msg ? e.msg : "cannot start");
        if (x->out_len >= x->out_cap)
            x->out_len = x->out_cap - 1;
        x->start_failed = true;
    }
    berr_clear(&e);
    uv_poll_stop(h);
    uv_close((uv_handle_t *)h, on_start_closed);
    x->open_streams--;
    exec_check_done(x);
}

static void on_exec_timeout(uv_timer_t *t)
{
    struct sv_exec *x = t->data;
    x->timed_out = true;
    if (!x->reaped)
        container_signal(&x->proc, SIGKILL);
    exec_kill_group(x);
}

struct sv_exec *sv_exec_start(struct supervisor *sv, struct exec_spec *spec, size_t out_cap,
                              uint64_t timeout_ms, sv_exec_done_fn done, void *owner,
                              struct berr *e)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        berr_errno(e, errno, "pipe");
        return NULL;
    }
    spec->stdin_fd = -1;
    spec->stdout_fd = spec->stderr_fd = pfd[1];
    struct sv_exec *x = xcalloc(1, sizeof *x);
    x->sv = sv;
    x->owner = owner;
    x->done = done;
    x->name = xstrdup(spec->name);
    x->out_cap = out_cap > 0 ? out_cap : 1;
    x->output = xcalloc(1, x->out_cap);
    int r = container_exec_start(sv->rt, spec, &x->proc, &x->status_fd, e);
    close(pfd[1]);
    if (r < 0) {
        close(pfd[0]);
        free(x->name);
        free(x->output);
        free(x);
        return NULL;
    }
    uv_poll_init(&sv->loop, &x->poll, x->proc.pidfd);
    x->poll.data = x;
    x->open_handles++;
    uv_poll_start(&x->poll, UV_READABLE, on_exec_exit);
    uv_pipe_init(&sv->loop, &x->out, 0);
    x->out.data = x;
    x->open_handles++;
    uv_pipe_open(&x->out, pfd[0]);
    uv_read_start((uv_stream_t *)&x->out, on_exec_alloc, on_exec_read);
    x->open_streams++;
    uv_poll_init(&sv->loop, &x->start, x->status_fd);
    x->start.data = x;
    x->open_handles++;
    uv_poll_start(&x->start, UV_READABLE, on_exec_started);
    x->open_streams++;
    uv_timer_init(&sv->loop, &x->timeout);
    x->timeout.data = x;
    x->open_handles++;
    uv_timer_start(&x->timeout, on_exec_timeout, timeout_ms > 0 ? timeout_ms : 1, 0);
    return x;
}

void sv_exec_abandon(struct sv_exec *x)
{
    x->owner = NULL;
    if (!x->reaped)
        container_signal(&x->proc, SIGKILL);
}
