/* SPDX-License-Identifier: Apache-2.0 */
/* The userland proxy for a published port (as docker-proxy): a socket the
 * supervisor binds on HOSTIP:HOSTPORT and whose traffic it forwards, on its
 * libuv loop, to the container's address. It serves what kernel NAT must
 * not: connections to 127.0.0.1 and ::1 (DNAT of loopback needs
 * route_localnet, CVE-2020-8558), and its bind is the reservation of the
 * port, so a busy port fails before any container starts. TCP streams are
 * pumped both ways with bounded buffering and half-close passed through;
 * UDP gets a connected upstream socket per client address, expired when
 * idle. Not here: nftables rules, compose's ports syntax, which containers
 * get which ports (the caller decides; this forwards one port).
 *
 * Every function runs on the loop's thread. A proxy is owned by its caller
 * from sv_proxy_start until sv_proxy_stop; after that it frees itself once
 * its handles have closed (the loop must run for that). */
#ifndef BERTH_SUPERVISE_SV_PROXY_H
#define BERTH_SUPERVISE_SV_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "util/err.h"

struct sv_proxy;

struct sv_proxy_spec {
    int proto;             /* IPPROTO_TCP or IPPROTO_UDP */
    const char *host_ip;   /* NULL/"": 0.0.0.0 (and :: too when the container has a v6 address:
                              bind :: with IPV6_V6ONLY=1 beside 0.0.0.0) */
    uint16_t host_port;    /* 0: the kernel picks one (a random published port) */
    const char *ctr_addr;  /* where to forward: the container's address (v4 or v6) */
    const char *ctr_addr6; /* or NULL: its IPv6 address, for clients on an IPv6 listener
                              (with no host_ip, :: is then bound too) */
    uint16_t ctr_port;
    const char *service; /* for messages */
};

/* Bounds (one proxy): open TCP connections (a client past it is accepted
 * and closed at once), bytes queued towards one side of a connection before
 * the other side's reading stops, UDP flows (the least recently used goes
 * for a new one), a UDP flow's idle time before it is closed. */
#define SV_PROXY_MAX_CONNS   1024
#define SV_PROXY_QUEUE_MAX   (1024 * 1024)
#define SV_PROXY_MAX_FLOWS   1024
#define SV_PROXY_UDP_IDLE_MS 90000

/* Binds (net/portbind.h's port_bind: the bind `up` checks before anything
 * is made) and starts forwarding. A busy port is -EADDRINUSE with
 * port_bind_error's message
 *   service "web": host port 0.0.0.0:8080/tcp is already in use by PID 1234 (nginx)
 * (or "... is already in use" when /proc does not tell the holder). Other
 * failures (a bad address, a port below 1024 without the right) name the
 * service and the port too. Nothing is left bound on failure. */
int sv_proxy_start(uv_loop_t *loop, const struct sv_proxy_spec *s, struct sv_proxy **out,
                   struct berr *e);

/* The port actually bound (the random one when host_port was 0). */
uint16_t sv_proxy_port(const struct sv_proxy *p);

/* Whether it listens on both 0.0.0.0 and ::. */
bool sv_proxy_dual(const struct sv_proxy *p);

/* Changes the target (a recreated container may get the same address, but
 * a restart could change it later): new connections go there. Open TCP
 * connections keep their target; UDP flows are closed, so the next
 * datagram of each client goes to the new target. */
int sv_proxy_retarget(struct sv_proxy *p, const char *ctr_addr, uint16_t ctr_port, struct berr *e);

/* Closes the listener and every connection; asynchronous with the loop running. */
void sv_proxy_stop(struct sv_proxy *p);

/* For tests: the UDP idle time (default SV_PROXY_UDP_IDLE_MS). */
void sv_proxy_set_udp_idle(struct sv_proxy *p, uint64_t ms);

#endif
