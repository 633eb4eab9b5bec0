/* SPDX-License-Identifier: Apache-2.0 */
/* Binding a published host port as the supervisor's listener does, for the
 * listener itself (engine/supervise/sv_proxy.c) and for `up`'s check
 * before anything is made (cmd/up_ports.c): one socket call sequence
 * (SO_REUSEADDR for TCP as docker-proxy does, IPV6_V6ONLY for v6, never
 * SO_REUSEPORT), so that the check and the real bind agree, and one
 * message for a port that is taken, naming its holder from /proc
 * (net/portholder.h). Not here: forwarding, which ports a container gets. */
#ifndef BERTH_NET_PORTBIND_H
#define BERTH_NET_PORTBIND_H

#include <stdint.h>
#include <sys/socket.h>

#include "util/err.h"

/* ip ("1.2.3.4", "::1", "[::1]") with port into out. -EINVAL for text
 * that is no address. */
int port_addr_parse(const char *ip, uint16_t port, struct sockaddr_storage *out);

/* A non-blocking socket bound on addr (and listening, for TCP), as the
 * supervisor's listener: its fd, or -errno. */
int port_bind(int proto, const struct sockaddr_storage *addr);

/* Whether host_ip:port/proto can be bound now (host_ip NULL or "": every
 * v4 address, 0.0.0.0): binds as port_bind does and closes at once.
 * 0 when free, -errno (-EADDRINUSE when taken, -EINVAL for a bad host_ip). */
int port_try(int proto, const char *host_ip, uint16_t port);

/* "tcp", "udp" (anything else: "tcp"). */
const char *port_proto_name(int proto);

/* host_ip:port/proto as messages show it, in buf: "0.0.0.0:8080/tcp" (no
 * host IP), "[::1]:53/udp", and with end > port a range,
 * "0.0.0.0:8000-8010/tcp". Returns buf. */
#define PORT_TEXT_MAX 80
const char *port_text(char buf[PORT_TEXT_MAX], int proto, const char *host_ip, uint16_t port,
                      uint16_t end);

/* The error for a failed bind of host_ip:port/proto (host_ip NULL or "":
 * 0.0.0.0) for service, err as the bind gave it:
 *   service "web": host port 0.0.0.0:8080/tcp is already in use by PID 1234 (nginx)
 * ("... is already in use" when /proc does not name the holder), or for
 * another error "service "web": binding host port 0.0.0.0:80/tcp: REASON".
 * Returns err. */
int port_bind_error(struct berr *e, int err, const char *service, int proto, const char *host_ip,
                    uint16_t port);

#endif
