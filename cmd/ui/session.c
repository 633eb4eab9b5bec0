#include "cmd/ui/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "util/xalloc.h"

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

static void close_streams(struct cli_session *s)
{
    close_handle(&s->child, s->child_init);
    close_handle(&s->in, s->in_init);
    close_handle(&s->pty, s->pty_init);
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
    close_streams(s);
}

struct cli_session *cli_session_new(bool tty)
{
    struct cli_session *s = xcalloc(1, sizeof *s);
    s->tty = tty;
    s->master = -1;
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
    free(s);
}
