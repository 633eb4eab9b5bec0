/* SPDX-License-Identifier: Apache-2.0 */
/* The published port's bind, shared by the supervisor's listener and
 * `up`'s check before anything is made (see net/portbind.h). */
#include "net/portbind.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/portholder.h"
#include "util/cleanup.h"

int port_addr_parse(const char *ip, uint16_t port, struct sockaddr_storage *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    size_t n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
        ip++;
        n -= 2;
    }
    if (n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, ip, n);
    buf[n] = '\0';
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, buf, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
    } else {
        return -EINVAL;
    }
    return 0;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

int port_bind(int proto, const struct sockaddr_storage *addr)
{
    int type = proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
    _cleanup_close_ int fd = socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (proto == IPPROTO_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        return -errno;
    if (addr->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        return -errno;
    if (bind(fd, (const struct sockaddr *)addr, addr_len(addr)) < 0)
        return -errno;
    if (proto == IPPROTO_TCP && listen(fd, SOMAXCONN) < 0)
        return -errno;
    return TAKE_FD(fd);
}

int port_try(int proto, const char *host_ip, uint16_t port)
{
    struct sockaddr_storage a;
    if (port_addr_parse(host_ip && *host_ip ? host_ip : "0.0.0.0", port, &a) < 0)
        return -EINVAL;
    int fd = port_bind(proto, &a);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

const char *port_proto_name(int proto)
{
    return proto == IPPROTO_UDP ? "udp" : "tcp";
}

const char *port_text(char buf[PORT_TEXT_MAX], int proto, const char *host_ip, uint16_t port,
                      uint16_t end)
{
    const char *ip = host_ip && *host_ip ? host_ip : "0.0.0.0";
    bool v6 = strchr(ip, ':') && ip[0] != '[';
    char range[8] = "";
    if (end > port)
        snprintf(range, sizeof range, "-%u", (unsigned)end);
    snprintf(buf, PORT_TEXT_MAX, "%s%.*s%s:%u%s/%s", v6 ? "[" : "", INET6_ADDRSTRLEN + 2, ip,
             v6 ? "]" : "", (unsigned)port, range, port_proto_name(proto));
    return buf;
}

int port_bind_error(struct berr *e, int err, const char *service, int proto, const char *host_ip,
                    uint16_t port)
{
    const char *svc = service ? service : "";
    char what[PORT_TEXT_MAX];
    port_text(what, proto, host_ip, port, 0);
    if (err != -EADDRINUSE)
        return berr_errno(e, err, "service \"%s\": binding host port %s", svc, what);
    pid_t pid;
    char comm[16];
    if (port_holder(proto, host_ip, port, &pid, comm) == 1)
        return berr_set(e, -EADDRINUSE,
                        "service \"%s\": host port %s is already in use by PID %d (%s)", svc, what,
                        (int)pid, comm);
    return berr_set(e, -EADDRINUSE, "service \"%s\": host port %s is already in use", svc, what);
}
