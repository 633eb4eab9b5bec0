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
