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

int ctl_request(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), void *ud,
                struct berr *e)
{
    return ctl_request_watch(fd, req, on_event, -1, NULL, ud, e);
}

int ctl_request_watch(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), int watch_fd,
                      void (*on_watch)(int watch_fd, void *ud), void *ud, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    int r = write_all(fd, line, strlen(line));
    if (r < 0)
        return berr_errno(e, r, "talking to the supervisor");
    _cleanup_free_ char *buf = xmalloc(4096);
    size_t cap = 4096, len = 0;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            json_error_t je;
            json_t *ev = json_loads(buf, 0, &je);
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
            if (!ev)
                continue;
            const char *kind = json_string_value(json_object_get(ev, "event"));
            if (kind && strcmp(kind, "done") == 0) {
                int ok = json_is_true(json_object_get(ev, "ok"));
                const char *msg = json_string_value(json_object_get(ev, "error"));
                r = ok ? 0 : berr_set(e, -EIO, "%s", msg ? msg : "the supervisor refused");
                json_decref(ev);
                return r;
            }
            if (on_event)
                on_event(ev, ud);
            json_decref(ev);
        }
        if (len + 1 >= cap) {
            if (cap >= REPLY_LINE_MAX)
                return berr_set(e, -EPROTO, "the supervisor sent an oversized reply");
            cap *= 2;
            buf = xrealloc(buf, cap);
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
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berr_set(e, -EPIPE, "the supervisor went away before answering");
        len += (size_t)n;
    }
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

int ctl_query(int fd, json_t *req, int timeout_ms, json_t **reply, struct berr *e)
{
    *reply = NULL;
    _cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    int r = write_all(fd, line, strlen(line));
    if (r < 0)
        return berr_errno(e, r, "talking to the supervisor");
    _cleanup_free_ char *buf = xmalloc(REPLY_LINE_MAX);
    size_t len = 0;
    int64_t deadline = time_now_ns() + (int64_t)timeout_ms * 1000000;
    while (!memchr(buf, '\n', len)) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int left = ms_until(deadline);
        if (left == 0 || len + 1 >= REPLY_LINE_MAX)
            return berr_set(e, -ETIMEDOUT, "the supervisor did not answer");
        int p = poll(&pf, 1, left);
        if (p < 0 && errno != EINTR)
            return berr_errno(e, errno, "waiting for the supervisor");
        if (p <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, REPLY_LINE_MAX - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berr_set(e, -EPIPE, "the supervisor went away before answering");
        len += (size_t)n;
    }
    *(char *)memchr(buf, '\n', len) = '\0';
    json_error_t je;
    json_t *msg = json_loads(buf, 0, &je);
    if (!msg || !json_is_true(json_object_get(msg, "ok"))) {
        json_decref(msg);
        return berr_set(e, -EIO, "the supervisor refused");
    }
    *reply = msg;
    return 0;
}

int ctl_events(int fd, json_t *req, int64_t until_ns, int (*on_event)(json_t *ev, void *ud),
               void *ud, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
    _cleanup_free_ char *line = xasprintf("%s\n", text);
    int r = write_all(fd, line, strlen(line));
    if (r < 0)
        return berr_errno(e, r, "talking to the supervisor");
    if (until_ns > 0 && until_ns <= time_now_ns())
        until_ns = 0; /* the supervisor's "done" ends it */
    _cleanup_free_ char *buf = xmalloc(4096);
    size_t cap = 4096, len = 0;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            json_error_t je;
            json_t *msg = json_loads(buf, 0, &je);
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
            if (!msg)
                continue;
            if (json_object_get(msg, "event")) { /* not an event: the end */
                const char *err = json_string_value(json_object_get(msg, "error"));
                r = json_is_true(json_object_get(msg, "ok"))
                        ? 0
                        : berr_set(e, -EIO, "%s", err ? err : "the supervisor refused");
                json_decref(msg);
                return r;
            }
            r = on_event(msg, ud);
            json_decref(msg);
            if (r != 0)
                return r;
        }
        if (len + 1 >= cap) {
            if (cap >= REPLY_LINE_MAX)
                return berr_set(e, -EPROTO, "the supervisor sent an oversized event");
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int timeout = ms_until(until_ns);
        if (timeout == 0)
            return 1;
        int p = poll(&pf, 1, timeout);
        if (p < 0 && errno != EINTR)
            return berr_errno(e, errno, "waiting for the supervisor");
        if (p <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(e, errno, "reading the supervisor's events");
        if (n == 0)
            return -EPIPE;
        len += (size_t)n;
    }
}
