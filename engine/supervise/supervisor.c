#include "engine/supervise/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <uv.h>

#include "engine/supervise/records.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/xalloc.h"

#define LINE_MAX_BYTES (64 * 1024) /* longer lines are split, as docker does */

struct linebuf {
    char *data;
    size_t len;
};

struct sv_ctr {
    struct supervisor *sv;
    char *name, *log_name, *service;
    int color;
    int stop_signal;
    int64_t stop_grace_ns;

    struct container_proc proc;
    struct container_exit exit;
    bool reaped, done, stopping;

    uv_poll_t poll;   /* pidfd */
    uv_pipe_t out[2]; /* stdout, stderr */
    struct linebuf buf[2];
    int open_streams;
    uv_timer_t kill_timer;
    int open_handles; /* freed when it drops to 0 */
};

struct supervisor {
    uv_loop_t loop;
    struct runtime *rt;
    struct sv_options opt;
    uv_signal_t sig_int, sig_term;
    bool signals_open;
    struct sv_ctr **ctrs;
    size_t n, n_done;
    int width;
    int interrupts;    /* Ctrl-C / SIGTERM seen */
    int interrupt_sig; /* first one */
    bool aborting;     /* stopping because a container exited */
    bool have_code;
    int exit_code;
    char readbuf[65536]; /* every pipe read lands here, then in a linebuf */
};

static const char *const colors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

struct supervisor *sv_new(struct runtime *rt, const struct sv_options *o)
{
    struct supervisor *sv = xcalloc(1, sizeof *sv);
    sv->rt = rt;
    sv->opt = *o;
    if (sv->opt.exit_code_from)
        sv->opt.abort_on_exit = true;
    uv_loop_init(&sv->loop);
    return sv;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct sv_ctr *c = h->data;
    c->open_handles--;
}

void sv_free(struct supervisor *sv)
{
    if (!sv)
        return;
    /* Close whatever is still open (error paths), then let libuv finish. */
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        uv_handle_t *hs[] = {(uv_handle_t *)&c->poll, (uv_handle_t *)&c->out[0],
                             (uv_handle_t *)&c->out[1], (uv_handle_t *)&c->kill_timer};
        for (size_t k = 0; k < ARRAY_SIZE(hs); k++)
            if (hs[k]->loop && !uv_is_closing(hs[k]))
                uv_close(hs[k], on_handle_closed);
    }
    if (sv->signals_open) {
        uv_close((uv_handle_t *)&sv->sig_int, NULL);
        uv_close((uv_handle_t *)&sv->sig_term, NULL);
        sv->signals_open = false;
    }
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        if (!c->reaped && c->proc.pidfd >= 0) {
            /* Never leave a child behind: kill and reap it. */
            container_signal(&c->proc, SIGKILL);
            siginfo_t si;
            waitid(P_PIDFD, (id_t)c->proc.pidfd, &si, WEXITED);
        }
        struct berr ign = BERR_INIT;
        container_release(&c->proc, &ign);
        berr_clear(&ign);
        free(c->buf[0].data);
        free(c->buf[1].data);
        free(c->name);
        free(c->log_name);
        free(c->service);
        free(c);
    }
    free(sv->ctrs);
    uv_loop_close(&sv->loop);
    free(sv);
}

void sv_set_prefix_width(struct supervisor *sv, int width)
{
    sv->width = width;
}

static void print_line(struct sv_ctr *c, const char *data, size_t len)
{
    struct supervisor *sv = c->sv;
    if (sv->opt.color)
        printf("\033[%sm%-*s  |\033[0m %.*s\n", colors[c->color % ARRAY_SIZE(colors)], sv->width,
               c->log_name, (int)len, data);
    else
        printf("%-*s  | %.*s\n", sv->width, c->log_name, (int)len, data);
}

static void emit_lines(struct sv_ctr *c, struct linebuf *b, bool eof)
{
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '\n') {
            size_t end = i;
            if (end > start && b->data[end - 1] == '\r')
                end--;
            print_line(c, b->data + start, end - start);
            start = i + 1;
        }
    }
    /* An over-long line is printed in pieces; a last partial one at EOF. */
    if ((b->len - start >= LINE_MAX_BYTES) || (eof && b->len > start)) {
        print_line(c, b->data + start, b->len - start);
        start = b->len;
    }
    if (start > 0) {
        memmove(b->data, b->data + start, b->len - start);
        b->len -= start;
    }
    fflush(stdout);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sv_ctr *c = h->data;
    (void)suggested;
    buf->base = c->sv->readbuf;
    buf->len = sizeof c->sv->readbuf;
}

static void maybe_finish(struct sv_ctr *c);

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_ctr *c = s->data;
    int idx = (uv_pipe_t *)s == &c->out[0] ? 0 : 1;
    struct linebuf *b = &c->buf[idx];
    if (n > 0) {
        b->data = xrealloc(b->data, b->len + (size_t)n);
        memcpy(b->data + b->len, buf->base, (size_t)n);
        b->len += (size_t)n;
        emit_lines(c, b, false);
        return;
    }
    if (n == 0)
        return;
    /* EOF or error: flush what is left and close this stream. */
    emit_lines(c, b, true);
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_handle_closed);
    c->open_streams--;
    maybe_finish(c);
}

static void close_signals(struct supervisor *sv)
{
    if (!sv->signals_open)
        return;
    uv_close((uv_handle_t *)&sv->sig_int, NULL);
    uv_close((uv_handle_t *)&sv->sig_term, NULL);
    sv->signals_open = false;
}

static void stop_ctr(struct sv_ctr *c, bool force);

static void record_exit(struct sv_ctr *c)
{
    struct supervisor *sv = c->sv;
    struct run_state st = {
        .pid = c->proc.pid,
        .start_time = c->proc.start_time,
        .supervisor = getpid(),
        .running = false,
        .exit_code = c->exit.status,
        .oom_killed = c->exit.oom_killed,
    };
    struct berr e = BERR_INIT;
    if (run_state_write(sv->opt.runroot, sv->opt.project, c->name, &st, &e) < 0)
        log_berr(&e);
    berr_clear(&e);
}

static void maybe_finish(struct sv_ctr *c)
{
    struct supervisor *sv = c->sv;
    if (c->done || !c->reaped || c->open_streams > 0)
        return;
    c->done = true;
    sv->n_done++;
    if (c->exit.oom_killed)
        printf("%s exited with code %d (OOM killed: the container reached its memory limit)\n",
               c->log_name, c->exit.status);
    else
        printf("%s exited with code %d\n", c->log_name, c->exit.status);
    fflush(stdout);
    if (c->stopping)
        fprintf(stderr, " Container %s  Stopped\n", c->name);

    if (sv->opt.abort_on_exit && !sv->interrupts) {
        bool from = sv->opt.exit_code_from && strcmp(sv->opt.exit_code_from, c->service) == 0;
        if (from || (!sv->opt.exit_code_from && !sv->have_code)) {
            sv->have_code = true;
            sv->exit_code = c->exit.status;
        }
        if (!sv->aborting) {
            sv->aborting = true;
            printf("Aborting on container exit...\n");
            fflush(stdout);
            for (size_t i = 0; i < sv->n; i++)
                stop_ctr(sv->ctrs[i], false);
        }
    }
    if (sv->n_done == sv->n)
        close_signals(sv);
}

static void on_pidfd(uv_poll_t *p, int status, int events)
{
    struct sv_ctr *c = p->data;
    int r = container_reap(&c->proc, &c->exit);
    if (r == 0)
        return; /* spurious */
    if (r < 0) {
        /* Cannot happen for our own child; treat as gone. */
        memset(&c->exit, 0, sizeof c->exit);
        c->exit.status = 255;
    }
    c->reaped = true;
    uv_poll_stop(p);
    uv_close((uv_handle_t *)p, on_handle_closed);
    uv_timer_stop(&c->kill_timer);
    record_exit(c);
    struct berr e = BERR_INIT;
    if (container_release(&c->proc, &e) < 0)
        log_berr(&e);
    berr_clear(&e);
    maybe_finish(c);
}

static void on_kill_timer(uv_timer_t *t)
{
    struct sv_ctr *c = t->data;
    if (!c->reaped)
        container_signal(&c->proc, SIGKILL);
}

static void stop_ctr(struct sv_ctr *c, bool force)
{
    if (c->reaped)
        return;
    if (force) {
        container_signal(&c->proc, SIGKILL);
        return;
    }
    if (c->stopping)
        return;
    c->stopping = true;
    fprintf(stderr, " Container %s  Stopping\n", c->name);
    container_signal(&c->proc, c->stop_signal);
    uint64_t ms = (uint64_t)(c->stop_grace_ns / 1000000);
    uv_timer_start(&c->kill_timer, on_kill_timer, ms, 0);
}

void sv_stop_all(struct supervisor *sv, bool force)
{
    for (size_t i = 0; i < sv->n; i++)
        stop_ctr(sv->ctrs[i], force);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct supervisor *sv = h->data;
    sv->interrupts++;
    if (sv->interrupts == 1) {
        sv->interrupt_sig = signum;
        fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
        sv_stop_all(sv, false);
    } else {
        sv_stop_all(sv, true);
    }
}

/* Output channels for a container: two pipes; with a terminal, nothing
 * here (the runtime returns the terminal's master side, on which both
 * streams arrive). fds[0..1] are read here;
 * child[0..2] become the container's stdin, stdout, stderr (-1: /dev/null). */
static int open_outputs(const struct sv_container_info *info, int fds[2], int child[3],
                        struct berr *e)
{
    fds[0] = fds[1] = child[0] = child[1] = child[2] = -1;
    if (info->tty)
        return 0; /* the runtime makes the terminal inside the container */
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "%s: creating output pipes", info->name);
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int r = berr_errno(e, errno, "%s: creating output pipes", info->name);
        close(outp[0]);
        close(outp[1]);
        return r;
    }
    fds[0] = outp[0];
    fds[1] = errp[0];
    child[1] = outp[1];
    child[2] = errp[1];
    return 0;
}

static void close_child_ends(int child[3])
{
    for (int i = 0; i < 3; i++)
        if (child[i] >= 0 && (i == 0 || child[i] != child[i - 1]))
            close(child[i]);
}

int sv_start(struct supervisor *sv, const struct sv_container_info *info,
             const struct container_spec *spec_in, struct berr *e)
{
    int fds[2], child[3];
    int r = open_outputs(info, fds, child, e);
    if (r < 0)
        return r;
    struct container_spec spec = *spec_in;
    spec.stdin_fd = child[0];
    spec.stdout_fd = child[1];
    spec.stderr_fd = child[2];
    spec.tty = info->tty;

    struct sv_ctr *c = xcalloc(1, sizeof *c);
    c->sv = sv;
    c->name = xstrdup(info->name);
    c->log_name = xstrdup(info->log_name);
    c->service = xstrdup(info->service);
    c->color = (int)sv->n;
    c->stop_signal = info->stop_signal;
    c->stop_grace_ns = info->stop_grace_ns;
    c->proc.pidfd = -1;

    r = container_start(sv->rt, &spec, &c->proc, e);
    close_child_ends(child);
    if (r == 0 && info->tty)
        fds[0] = TAKE_FD(c->proc.console_fd);
    if (r < 0) {
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        free(c->name);
        free(c->log_name);
        free(c->service);
        free(c);
        return r;
    }
    sv->ctrs = xreallocarray(sv->ctrs, sv->n + 1, sizeof *sv->ctrs);
    sv->ctrs[sv->n++] = c;

    struct run_state st = {.pid = c->proc.pid,
                           .start_time = c->proc.start_time,
                           .supervisor = getpid(),
                           .running = true};
    struct berr werr = BERR_INIT;
    if (run_state_write(sv->opt.runroot, sv->opt.project, c->name, &st, &werr) < 0)
        log_berr(&werr);
    berr_clear(&werr);

    uv_poll_init(&sv->loop, &c->poll, c->proc.pidfd);
    c->poll.data = c;
    c->open_handles++;
    uv_poll_start(&c->poll, UV_READABLE, on_pidfd);
    for (int i = 0; i < 2; i++) {
        uv_pipe_init(&sv->loop, &c->out[i], 0);
        c->out[i].data = c;
        c->open_handles++;
        if (fds[i] < 0) {
            uv_close((uv_handle_t *)&c->out[i], on_handle_closed);
            continue;
        }
        uv_pipe_open(&c->out[i], fds[i]);
        uv_read_start((uv_stream_t *)&c->out[i], on_alloc, on_read);
        c->open_streams++;
    }
    uv_timer_init(&sv->loop, &c->kill_timer);
    c->kill_timer.data = c;
    c->open_handles++;
    return 0;
}

int sv_run(struct supervisor *sv)
{
    if (sv->n > 0) {
        printf("Attaching to ");
        for (size_t i = 0; i < sv->n; i++)
            printf("%s%s", i ? ", " : "", sv->ctrs[i]->log_name);
        printf("\n");
        fflush(stdout);
        uv_signal_init(&sv->loop, &sv->sig_int);
        uv_signal_init(&sv->loop, &sv->sig_term);
        sv->sig_int.data = sv->sig_term.data = sv;
        uv_signal_start(&sv->sig_int, on_signal, SIGINT);
        uv_signal_start(&sv->sig_term, on_signal, SIGTERM);
        sv->signals_open = true;
        if (sv->n_done == sv->n)
            close_signals(sv);
    }
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    /* The kill timers are the last handles: close them. */
    for (size_t i = 0; i < sv->n; i++)
        if (!uv_is_closing((uv_handle_t *)&sv->ctrs[i]->kill_timer))
            uv_close((uv_handle_t *)&sv->ctrs[i]->kill_timer, on_handle_closed);
    uv_run(&sv->loop, UV_RUN_DEFAULT);

    if (sv->opt.abort_on_exit && sv->have_code)
        return sv->exit_code;
    if (sv->interrupts)
        return 128 + sv->interrupt_sig;
    return 0;
}
