/* SPDX-License-Identifier: Apache-2.0 */
/* The syslog and journald logging drivers: each line of a container's
 * output as one datagram to the host's socket. syslog: Docker's format for
 * a local socket (RFC 3164 with the tag), facility daemon, stdout at
 * info and stderr at err. journald: the native protocol
 * (systemd.io/JOURNAL_NATIVE_PROTOCOL), MESSAGE in its binary-safe form,
 * with Docker's CONTAINER_* fields. Nothing is kept: `logs` cannot read
 * them back. Not here: the log files (logfile.c). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "engine/supervise/logfile.h"
#include "util/xalloc.h"

/* A daemon that restarted made a new socket: the old address is
 * connected again once, and the message sent again. */
static void send_or_reconnect(const struct log_writer *w, struct msghdr *m)
{
    if (sendmsg(w->fd, m, MSG_NOSIGNAL) >= 0 || (errno != ECONNREFUSED && errno != ENOTCONN))
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", w->cfg.socket);
    if (connect(w->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        sendmsg(w->fd, m, MSG_NOSIGNAL);
}

int log_sink_connect(const struct log_config *c, struct berr *e)
{
    const char *drv = log_driver_name(c->driver);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(c->socket) >= sizeof sa.sun_path)
        return berr_set(e, -ENAMETOOLONG,
                        "service \"%s\": logging driver %s: socket path %s too long",
                        c->service ? c->service : "?", drv, c->socket);
    strcpy(sa.sun_path, c->socket);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return berr_errno(e, errno, "service \"%s\": logging driver %s: socket",
                          c->service ? c->service : "?", drv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int r = berr_errno(e, errno,
                           "service \"%s\": logging driver %s: this host has no %s socket at %s",
                           c->service ? c->service : "?", drv, drv, c->socket);
        close(fd);
        return r;
    }
    return fd;
}

static void send_syslog(const struct log_writer *w, const char *stream, const char *data,
                        size_t len)
{
    int pri = 3 * 8 + (strcmp(stream, "stderr") == 0 ? 3 : 6); /* daemon.err / daemon.info */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    char head[512];
    int hl = snprintf(head, sizeof head, "<%d>%s %s[%d]: ", pri, stamp, w->cfg.tag, (int)getpid());
    if (hl < 0 || (size_t)hl >= sizeof head)
        hl = (int)sizeof head - 1;
    struct iovec iov[2] = {{.iov_base = head, .iov_len = (size_t)hl},
                           {.iov_base = (void *)data, .iov_len = len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    send_or_reconnect(w, &m);
}

static void send_journald(const struct log_writer *w, const char *stream, const char *data,
                          size_t len)
{
    bool err = strcmp(stream, "stderr") == 0;
    char *fields = xasprintf("PRIORITY=%d\nSYSLOG_IDENTIFIER=%s\nCONTAINER_TAG=%s\n"
                             "CONTAINER_NAME=%s\nCONTAINER_ID=%.12s\nCONTAINER_ID_FULL=%s\n",
                             err ? 3 : 6, w->cfg.tag, w->cfg.tag, w->cfg.name ? w->cfg.name : "",
                             w->cfg.id ? w->cfg.id : "", w->cfg.id ? w->cfg.id : "");
    uint64_t le = htole64((uint64_t)len);
    struct iovec iov[5] = {
        {.iov_base = fields, .iov_len = strlen(fields)},
        {.iov_base = "MESSAGE\n", .iov_len = 8},
        {.iov_base = &le, .iov_len = sizeof le},
        {.iov_base = (void *)data, .iov_len = len},
        {.iov_base = "\n", .iov_len = 1},
    };
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 5};
    send_or_reconnect(w, &m);
    free(fields);
}

void log_sink_send(const struct log_writer *w, const char *stream, const char *data, size_t len)
{
    if (w->cfg.driver == LOG_SYSLOG)
        send_syslog(w, stream, data, len);
    else
        send_journald(w, stream, data, len);
}
