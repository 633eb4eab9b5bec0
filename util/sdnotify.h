/* SPDX-License-Identifier: Apache-2.0 */
/* The service manager's readiness protocol (sd_notify(3)), written by hand:
 * one datagram of "KEY=VALUE" lines to the AF_UNIX socket that
 * $NOTIFY_SOCKET names (a path, or "@name" for an abstract one). systemd
 * starts a Type=notify service and waits for READY=1; STATUS= is what
 * `systemctl status` shows; STOPPING=1 says a stop has begun;
 * EXTEND_TIMEOUT_USEC= asks for more time than the unit's timeout.
 *
 * A notifier without a socket (fd -1) sends nothing: berth was not started
 * by a service manager. Sends never block and their errors are ignored, as
 * every sd_notify caller does: the manager may be gone or busy, and a
 * service must not fail or stall because its status line was lost. */
#ifndef BERTH_UTIL_SDNOTIFY_H
#define BERTH_UTIL_SDNOTIFY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/err.h"

struct sdnotify {
    int fd; /* -1: nobody to tell */
    struct sockaddr_un addr;
    socklen_t addr_len;
};

/* Parses a $NOTIFY_SOCKET value: an absolute path, or "@name" (an abstract
 * address: the '@' becomes a NUL byte). Fails on anything else (empty,
 * relative, too long for sun_path). */
int sdnotify_parse_addr(const char *value, struct sockaddr_un *addr, socklen_t *len,
                        struct berr *e);

/* Takes $NOTIFY_SOCKET from the environment and removes it there, so that
 * nothing berth starts afterwards (a container, a healthcheck, a hook)
 * inherits it. Unset: n->fd = -1 and 0. Set but unusable: n->fd = -1 and an
 * error naming the value (the caller warns and runs on: the service manager
 * then times the start out, which says more than refusing to run). */
int sdnotify_from_env(struct sdnotify *n, struct berr *e);

/* Sends one message ("READY=1", "STATUS=...\n..."), if there is a socket.
 * Returns 0 or a negative errno for the caller to ignore (see above). */
int sdnotify_send(const struct sdnotify *n, const char *msg);

/* sdnotify_send with a printf format. */
int sdnotify_sendf(const struct sdnotify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline bool sdnotify_enabled(const struct sdnotify *n)
{
    return n && n->fd >= 0;
}

void sdnotify_close(struct sdnotify *n);

#endif
