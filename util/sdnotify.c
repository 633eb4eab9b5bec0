/* SPDX-License-Identifier: Apache-2.0 */
/* The sd_notify datagram, written by hand because the protocol is one sendmsg
 * and berth links no libsystemd: address parsing, READY=/STATUS= sending,
 * closing. Not here: when `up` reports readiness (cmd/cmd_up.c). */
#include "util/sdnotify.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

int sdnotify_parse_addr(const char *value, struct sockaddr_un *addr, socklen_t *len, struct berr *e)
{
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    size_t n = strlen(value);
    if (n == 0 || (value[0] != '/' && value[0] != '@'))
        return berr_set(e, -EAFNOSUPPORT,
                        "NOTIFY_SOCKET \"%s\" is neither an absolute path nor an abstract "
                        "(@) socket name",
                        value);
    if (value[0] == '@' && n == 1)
        return berr_set(e, -EINVAL, "NOTIFY_SOCKET \"@\" names no abstract socket");
    /* A path needs its terminating NUL in sun_path; an abstract name is
     * counted by the length alone. */
    if (n > sizeof addr->sun_path - (value[0] == '/' ? 1 : 0))
        return berr_set(e, -ENAMETOOLONG, "NOTIFY_SOCKET \"%s\" is too long for a socket address",
                        value);
    memcpy(addr->sun_path, value, n);
    if (value[0] == '@')
        addr->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (value[0] == '/' ? 1 : 0));
    return 0;
}

int sdnotify_from_env(struct sdnotify *n, struct berr *e)
{
    n->fd = -1;
    const char *v = getenv("NOTIFY_SOCKET");
    if (!v)
        return 0;
    _cleanup_free_ char *value = xstrdup(v);
    unsetenv("NOTIFY_SOCKET");
    int r = sdnotify_parse_addr(value, &n->addr, &n->addr_len, e);
    if (r < 0)
        return r;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return berr_errno(e, errno, "creating a socket for NOTIFY_SOCKET %s", value);
    n->fd = fd;
    return 0;
}

int sdnotify_send(const struct sdnotify *n, const char *msg)
{
    if (!sdnotify_enabled(n))
        return 0;
    /* Non-blocking: a full queue at the manager loses this message rather
     * than stalling the supervisor's loop. */
    ssize_t w = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&n->addr, n->addr_len);
    return w < 0 ? -errno : 0;
}

int sdnotify_sendf(const struct sdnotify *n, const char *fmt, ...)
{
    if (!sdnotify_enabled(n))
        return 0;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    return sdnotify_send(n, msg);
}

void sdnotify_close(struct sdnotify *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
