/* SPDX-License-Identifier: Apache-2.0 */
/* The client side of a supervisor's control socket: connecting, one JSON-line
 * request, its streamed replies, and the progress lines `up` and `start`
 * print. Not here: the server (engine/supervise/sv_control.c). */
#include "engine/supervise/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/supervise/supervisor.h"
#include "util/cleanup.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define REPLY_LINE_MAX (1 << 20)

int ctl_connect(const char *runroot, const char *project, struct berr *e)
{
    _cleanup_free_ char *path = sv_socket_path(runroot, project);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return berr_set(e, -ENAMETOOLONG, "control socket path too long: %s", path);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berr_errno(e, errno, "creating a socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        if (err == ENOENT || err == ECONNREFUSED)
            return -err;
        return berr_errno(e, err, "connecting to the supervisor at %s", path);
    }
    return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The request as one JSON line. */
static int send_request(int fd, json_t *req, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    int r = write_all(fd, line, strlen(line));
    return r < 0 ? berr_errno(e, r, "talking to the supervisor") : 0;
}

/* The supervisor's replies, one JSON object per line, as they arrive. */
struct line_reader {
    char *buf;
    size_t cap, len;
};

static void line_reader_free(struct line_reader *lr)
{
    free(lr->buf);
}

/* The next complete line as JSON (a new reference), or NULL when no whole
 * line is buffered. A line that is not JSON is skipped. */
static json_t *lr_take(struct line_reader *lr)
{
    char *nl;
    while (lr->len > 0 && (nl = memchr(lr->buf, '\n', lr->len))) {
        *nl = '\0';
        json_t *msg = json_loads(lr->buf, 0, NULL);
        size_t used = (size_t)(nl - lr->buf) + 1;
        memmove(lr->buf, nl + 1, lr->len - used);
        lr->len -= used;
        if (msg)
            return msg;
    }
    return NULL;
}

/* Reads what fd has: 0, -EPIPE at its end, -EPROTO for a line past
 * REPLY_LINE_MAX, or -errno (-EINTR: try again). */
static int lr_fill(struct line_reader *lr, int fd)
{
    if (lr->len + 1 >= lr->cap) {
        if (lr->cap >= REPLY_LINE_MAX)
            return -EPROTO;
        lr->cap = lr->cap ? lr->cap * 2 : 4096;
        lr->buf = xrealloc(lr->buf, lr->cap);
    }
    ssize_t n = recv(fd, lr->buf + lr->len, lr->cap - lr->len - 1, 0);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EPIPE;
    lr->len += (size_t)n;
    return 0;
}

/* Waits up to timeout_ms (-1: no limit) for fd to be readable: 1, 0 when
 * the time is up, or -errno. */
static int wait_readable(int fd, int timeout_ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int p = poll(&pf, 1, timeout_ms);
    if (p < 0)
        return errno == EINTR ? 0 : -errno;
    return p > 0;
}

/* Milliseconds until until_ns for poll(2): -1 without one, 0 once past. */
static int ms_until(int64_t until_ns)
{
    if (until_ns <= 0)
        return -1;
    int64_t left = until_ns - time_now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > 60000 ? 60000 : (int)ms;
}

/* A "done" line's verdict: 0 when ok, else its error. */
static int done_result(json_t *msg, struct berr *e)
{
    if (json_is_true(json_object_get(msg, "ok")))
        return 0;
    const char *err = json_string_value(json_object_get(msg, "error"));
    return berr_set(e, -EIO, "%s", err ? err : "the supervisor refused");
}

int ctl_request(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), void *ud,
                struct berr *e)
{
    return ctl_request_watch(fd, req, on_event, -1, NULL, ud, e);
}

int ctl_request_watch(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), int watch_fd,
                      void (*on_watch)(int watch_fd, void *ud), void *ud, struct berr *e)
{
    int r = send_request(fd, req, e);
    if (r < 0)
        return r;
    _cleanup_(line_reader_free) struct line_reader lr = {0};
    for (;;) {
        json_t *ev;
        while ((ev = lr_take(&lr))) {
            const char *kind = json_string_value(json_object_get(ev, "event"));
            if (kind && strcmp(kind, "done") == 0) {
                r = done_result(ev, e);
                json_decref(ev);
                return r;
            }
            if (on_event)
                on_event(ev, ud);
            json_decref(ev);
        }
        if (watch_fd >= 0) {
            struct pollfd pf[2] = {{.fd = fd, .events = POLLIN},
                                   {.fd = watch_fd, .events = POLLIN}};
            if (poll(pf, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                return berr_errno(e, errno, "waiting for the supervisor");
            }
            if (pf[1].revents)
                on_watch(watch_fd, ud);
            if (!pf[0].revents)
                continue;
        }
        r = lr_fill(&lr, fd);
        if (r == -EINTR)
            continue;
        if (r == -EPROTO)
            return berr_set(e, r, "the supervisor sent an oversized reply");
        if (r < 0)
            return berr_set(e, -EPIPE, "the supervisor went away before answering");
    }
}

int ctl_query(int fd, json_t *req, int timeout_ms, json_t **reply, struct berr *e)
{
    *reply = NULL;
    int r = send_request(fd, req, e);
    if (r < 0)
        return r;
    _cleanup_(line_reader_free) struct line_reader lr = {0};
    int64_t deadline = time_now_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        json_t *msg = lr_take(&lr);
        if (msg) {
            if (!json_is_true(json_object_get(msg, "ok"))) {
                json_decref(msg);
                return berr_set(e, -EIO, "the supervisor refused");
            }
            *reply = msg;
            return 0;
        }
        int left = ms_until(deadline);
        if (left == 0)
            return berr_set(e, -ETIMEDOUT, "the supervisor did not answer");
        r = wait_readable(fd, left);
        if (r < 0)
            return berr_errno(e, r, "waiting for the supervisor");
        if (r == 0)
            continue;
        r = lr_fill(&lr, fd);
        if (r == -EINTR)
            continue;
        if (r == -EPROTO)
            return berr_set(e, r, "the supervisor sent an oversized reply");
        if (r < 0)
            return berr_set(e, -EPIPE, "the supervisor went away before answering");
    }
}

int ctl_events(int fd, json_t *req, int64_t until_ns, int (*on_event)(json_t *ev, void *ud),
               void *ud, struct berr *e)
{
    int r = send_request(fd, req, e);
    if (r < 0)
        return r;
    if (until_ns > 0 && until_ns <= time_now_ns())
        until_ns = 0; /* the supervisor's "done" ends it */
    _cleanup_(line_reader_free) struct line_reader lr = {0};
    for (;;) {
        json_t *msg;
        while ((msg = lr_take(&lr))) {
            if (json_object_get(msg, "event")) { /* not an event: the end */
                r = done_result(msg, e);
                json_decref(msg);
                return r;
            }
            r = on_event(msg, ud);
            json_decref(msg);
            if (r != 0)
                return r;
        }
        int timeout = ms_until(until_ns);
        if (timeout == 0)
            return 1;
        r = wait_readable(fd, timeout);
        if (r < 0)
            return berr_errno(e, r, "waiting for the supervisor");
        if (r == 0)
            continue;
        r = lr_fill(&lr, fd);
        if (r == -EINTR)
            continue;
        if (r == -EPROTO)
            return berr_set(e, r, "the supervisor sent an oversized event");
        if (r == -EPIPE)
            return r;
        if (r < 0)
            return berr_errno(e, r, "reading the supervisor's events");
    }
}
