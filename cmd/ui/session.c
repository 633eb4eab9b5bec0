/* SPDX-License-Identifier: Apache-2.0 */
/* This process's terminal attached to a process berth started (`run`, `exec`):
 * raw mode, copying both ways, window sizes, forwarded signals, and waiting
 * for the exit. Not here: starting the process (engine/runtime/exec.c,
 * container.c), the supervisor's log copying (engine/supervise/supervisor.c). */
#include "cmd/ui/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "util/err.h"
#include "util/xalloc.h"

/* One end of a pipe that stands for one of this process's terminal
 * streams (no terminal for the process): the process gets the far end. */
struct relay {
    uv_poll_t poll; /* first: relay_closed finds the relay from it */
    int fd;         /* this side, non-blocking; -1 once closed */
    int far;        /* the process's side, until it has started */
    bool init;
};

struct cli_session {
    uv_loop_t loop;
    uv_poll_t child; /* the process's pidfd */
    uv_signal_t sigs[5];
    int n_sigs;
    struct container_proc *proc;
    struct container_exit x;
    int status;
    bool exited;
    /* With a terminal: the local side and the container's master side. */
    bool tty;
    int master;
    uv_tty_t in;        /* stdin, read in raw mode */
    uv_poll_t pty;      /* the master: readable, and writable while input is pending */
    char pending[4096]; /* stdin bytes not yet written to the master */
    size_t pending_len, pending_off;
    bool in_reading, in_done, pty_open;
    bool child_init, in_init, pty_init; /* which handles exist */
    /* Without a terminal for the process: stdin, stdout and stderr relayed
     * through pipes where they are terminals (fd -1: passed as they are).
     * host_in polls this process's stdin while nothing is pending. */
    struct relay rel[3];
    uv_poll_t host_in;
    bool host_in_init, host_in_done;
    int host_in_flags; /* stdin's file status flags, put back afterwards */
};

static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, -1);
            continue;
        }
        if (w <= 0)
            return; /* the reader is gone: drop the output */
        buf += w;
        n -= (size_t)w;
    }
}

static void close_handle(void *h, bool init)
{
    if (init && !uv_is_closing(h))
        uv_close(h, NULL);
}

static void relay_closed(uv_handle_t *h)
{
    struct relay *r = (struct relay *)h;
    close(r->fd);
    r->fd = -1;
}

/* Closes this side of the pipe: the process reads EOF (stdin), or its
 * output is no longer copied. */
static void relay_close(struct relay *r)
{
    if (r->init && !uv_is_closing((uv_handle_t *)&r->poll))
        uv_close((uv_handle_t *)&r->poll, relay_closed);
}

static void close_streams(struct cli_session *s)
{
    close_handle(&s->child, s->child_init);
    close_handle(&s->in, s->in_init);
    close_handle(&s->pty, s->pty_init);
    close_handle(&s->host_in, s->host_in_init);
    for (int i = 0; i < 3; i++)
        relay_close(&s->rel[i]);
}

/* Copies what the master has to stdout; false once the terminal's other
 * side is gone (EIO) or nothing is left for now (EAGAIN). */
static bool pty_copy_out(struct cli_session *s)
{
    char buf[65536];
    ssize_t n = read(s->master, buf, sizeof buf);
    if (n > 0) {
        write_all(STDOUT_FILENO, buf, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    s->pty_open = false; /* EOF or EIO: every slave fd is closed */
    return false;
}

static void pty_update(struct cli_session *s);

static void on_stdin(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct cli_session *s = st->data;
    if (n > 0) {
        s->pending_len = (size_t)n;
        s->pending_off = 0;
        uv_read_stop(st); /* until the master took it all */
        s->in_reading = false;
        pty_update(s);
    } else if (n < 0) {
        uv_read_stop(st); /* EOF or a closed terminal: nothing more to send */
        s->in_reading = false;
        s->in_done = true;
    }
}

static void on_stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct cli_session *s = h->data;
    buf->base = s->pending;
    buf->len = sizeof s->pending;
}

static void on_pty(uv_poll_t *h, int status, int events)
{
    struct cli_session *s = h->data;
    if (status < 0) {
        s->pty_open = false;
    } else {
        if (events & UV_READABLE)
            pty_copy_out(s);
        if ((events & UV_WRITABLE) && s->pending_off < s->pending_len) {
            ssize_t w =
                write(s->master, s->pending + s->pending_off, s->pending_len - s->pending_off);
            if (w > 0)
                s->pending_off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                s->pending_off = s->pending_len; /* the slave is gone: drop it */
        }
    }
    pty_update(s);
}

/* Watches the master for output, and for room while input is pending;
 * reads stdin only when nothing is pending (backpressure). */
static void pty_update(struct cli_session *s)
{
    if (!s->pty_init || uv_is_closing((uv_handle_t *)&s->pty))
        return;
    if (!s->pty_open) {
        uv_poll_stop(&s->pty);
        return;
    }
    bool pending = s->pending_off < s->pending_len;
    uv_poll_start(&s->pty, UV_READABLE | (pending ? UV_WRITABLE : 0), on_pty);
    if (!pending && !s->in_reading && !s->in_done && s->in_init &&
        !uv_is_closing((uv_handle_t *)&s->in)) {
        s->pending_len = s->pending_off = 0;
        if (uv_read_start((uv_stream_t *)&s->in, on_stdin_alloc, on_stdin) == 0)
            s->in_reading = true;
    }
}

/* --- relays (no terminal for the process) -------------------------------- */

/* Copies what the process wrote to the pipe of stream i onto this
 * process's stream; false when nothing is left for now or the pipe is
 * done (then closed). */
static bool relay_copy_out(struct cli_session *s, int i)
{
    struct relay *r = &s->rel[i];
    if (r->fd < 0 || uv_is_closing((uv_handle_t *)&r->poll))
        return false;
    char buf[65536];
    ssize_t n = read(r->fd, buf, sizeof buf);
    if (n > 0) {
        write_all(i, buf, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    relay_close(r); /* EOF: every writer is gone */
    return false;
}

static void on_relay_out(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct relay *r = (struct relay *)h;
    struct cli_session *s = h->data;
    int i = (int)(r - s->rel);
    if (status < 0)
        relay_close(r);
    else
        relay_copy_out(s, i);
}

static void relay_in_update(struct cli_session *s);

static void on_host_in(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct cli_session *s = h->data;
    ssize_t n = status < 0 ? -1 : read(STDIN_FILENO, s->pending, sizeof s->pending);
    if (n < 0 && status >= 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0) {
        s->pending_len = (size_t)n;
        s->pending_off = 0;
    } else {
        /* EOF (or a terminal hung up): the process reads EOF too. */
        s->host_in_done = true;
        relay_close(&s->rel[0]);
    }
    relay_in_update(s);
}

static void on_relay_in(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct cli_session *s = h->data;
    struct relay *r = &s->rel[0];
    ssize_t w = status < 0
                    ? -1
                    : write(r->fd, s->pending + s->pending_off, s->pending_len - s->pending_off);
    if (w > 0) {
        s->pending_off += (size_t)w;
    } else if (status < 0 || (errno != EAGAIN && errno != EINTR)) {
        /* The process closed its stdin: stop reading the terminal. */
        s->host_in_done = true;
        s->pending_off = s->pending_len;
        relay_close(r);
    }
    relay_in_update(s);
}

/* Either the pipe is watched for room (input pending), or the terminal
 * for input (nothing pending): at most one buffer is ever held. */
static void relay_in_update(struct cli_session *s)
{
    struct relay *r = &s->rel[0];
    if (!r->init || uv_is_closing((uv_handle_t *)&r->poll)) {
        if (s->host_in_init)
            uv_poll_stop(&s->host_in);
        return;
    }
    bool pending = s->pending_off < s->pending_len;
    if (pending) {
        uv_poll_stop(&s->host_in);
        uv_poll_start(&r->poll, UV_WRITABLE, on_relay_in);
    } else {
        uv_poll_stop(&r->poll);
        if (!s->host_in_done)
            uv_poll_start(&s->host_in, UV_READABLE, on_host_in);
    }
}

int cli_session_stdio(struct cli_session *s, const int host[3], int child[3], struct berr *e)
{
    for (int i = 0; i < 3; i++) {
        child[i] = host[i];
        if (host[i] < 0 || !isatty(host[i]))
            continue;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            return berr_errno(e, errno, "creating a pipe for the standard streams");
        struct relay *r = &s->rel[i];
        r->fd = i == 0 ? p[1] : p[0];
        r->far = i == 0 ? p[0] : p[1];
        fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
        if (uv_poll_init(&s->loop, &r->poll, r->fd) < 0) {
            close(r->fd);
            close(r->far);
            r->fd = r->far = -1;
            return berr_set(e, -EIO, "watching a pipe for the standard streams");
        }
        r->init = true;
        r->poll.data = s;
        child[i] = r->far;
        if (i == 0) {
            /* libuv makes a polled fd non-blocking: put stdin back after. */
            s->host_in_flags = fcntl(STDIN_FILENO, F_GETFL);
            if (uv_poll_init(&s->loop, &s->host_in, STDIN_FILENO) < 0)
                return berr_set(e, -EIO, "watching the standard input");
            s->host_in_init = true;
            s->host_in.data = s;
        }
    }
    return 0;
}

static void relays_start(struct cli_session *s)
{
    for (int i = 0; i < 3; i++) {
        struct relay *r = &s->rel[i];
        if (r->far >= 0) {
            close(r->far); /* the process has its copy */
            r->far = -1;
        }
        if (r->init && i > 0)
            uv_poll_start(&r->poll, UV_READABLE, on_relay_out);
    }
    relay_in_update(s);
}

static void resize(struct cli_session *s)
{
    struct winsize ws;
    if (s->master >= 0 &&
        (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0))
        ioctl(s->master, TIOCSWINSZ, &ws);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct cli_session *s = h->data;
    if (sig == SIGWINCH) {
        resize(s);
        return;
    }
    if (!s->exited && s->proc)
        container_signal(s->proc, sig);
}

static void on_child(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct cli_session *s = h->data;
    int r = container_reap(s->proc, &s->x);
    if (r == 0)
        return;
    s->exited = true;
    s->status = r > 0 ? s->x.status : 1;
    if (s->tty && s->pty_open) {
        /* What the command wrote just before it exited is still in the
         * master; processes it left behind may keep the terminal open (and
         * writing), so take what is there now, up to a bound, and stop. */
        for (int i = 0; i < 64 && s->pty_open && pty_copy_out(s); i++)
            ;
    }
    /* Likewise for the pipes: what is in them now, then no more; a process
     * left behind keeps a pipe to nothing, never this terminal. */
    for (int i = 1; i < 3; i++)
        for (int k = 0; k < 64 && relay_copy_out(s, i); k++)
            ;
    close_streams(s);
}

int cli_stdio_fd(int fd)
{
    /* A directory (`exec svc sh < /`) or an O_PATH fd is a handle on the
     * host's tree: from inside the container, openat(fd, "..") walks the
     * host above the container's root. It carries no data either, so the
     * container gets /dev/null in its place. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_PATH))
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode))
        return -1;
    return fd;
}

struct cli_session *cli_session_new(bool tty)
{
    struct cli_session *s = xcalloc(1, sizeof *s);
    s->tty = tty;
    s->master = -1;
    s->host_in_flags = -1;
    for (int i = 0; i < 3; i++)
        s->rel[i].fd = s->rel[i].far = -1;
    uv_loop_init(&s->loop);
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
    int nsig = tty ? 5 : 4;
    for (int i = 0; i < nsig; i++) {
        uv_signal_init(&s->loop, &s->sigs[i]);
        s->sigs[i].data = s;
        uv_signal_start(&s->sigs[i], on_signal, sigs[i]);
        uv_unref((uv_handle_t *)&s->sigs[i]); /* the loop ends with the process */
        s->n_sigs++;
    }
    return s;
}

int cli_session_wait(struct cli_session *s, struct container_proc *proc, struct container_exit *x)
{
    s->proc = proc;
    s->master = s->tty ? proc->console_fd : -1;
    struct termios saved;
    bool raw = false;
    int in_flags = -1;
    if (s->master >= 0) {
        fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
        /* libuv may make stdin non-blocking: put it back afterwards */
        in_flags = fcntl(STDIN_FILENO, F_GETFL);
        s->in_init = uv_tty_init(&s->loop, &s->in, STDIN_FILENO, 1) == 0;
        s->in.data = s;
        s->pty_init = uv_poll_init(&s->loop, &s->pty, s->master) == 0;
        s->pty.data = s;
        s->pty_open = s->pty_init;
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            struct termios t = saved;
            cfmakeraw(&t);
            raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0;
        }
        resize(s);
        pty_update(s);
    }
    relays_start(s);
    s->child.data = s;
    if (uv_poll_init(&s->loop, &s->child, proc->pidfd) == 0) {
        s->child_init = true;
        uv_poll_start(&s->child, UV_READABLE, on_child);
    } else {
        /* Cannot watch it: wait for it plainly. */
        struct pollfd pf = {.fd = proc->pidfd, .events = POLLIN};
        while (poll(&pf, 1, -1) < 0 && errno == EINTR)
            ;
        on_child(&s->child, 0, UV_READABLE);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
    if (in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, in_flags);
    if (s->host_in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, s->host_in_flags);
    if (x)
        *x = s->x;
    return s->status;
}

void cli_session_free(struct cli_session *s)
{
    if (!s)
        return;
    close_streams(s);
    for (int i = 0; i < s->n_sigs; i++)
        close_handle(&s->sigs[i], true);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    for (int i = 0; i < 3; i++) {
        if (s->rel[i].far >= 0)
            close(s->rel[i].far); /* the process never started */
        if (s->rel[i].fd >= 0)
            close(s->rel[i].fd); /* no handle was made for it */
    }
    if (s->host_in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, s->host_in_flags);
    free(s);
}
