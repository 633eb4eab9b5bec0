/* SPDX-License-Identifier: Apache-2.0 */
/* Links, addresses and routes through libnl-route: the host's routed
 * prefixes and default-route MTU, IP forwarding, bridges with their
 * gateway addresses, and a container's veth endpoint (host side in a
 * bridge, peer inside the container's network namespace with its MAC,
 * addresses, MTU and default route). Every function works in the calling
 * thread's network namespace (the host's) unless it takes a namespace fd.
 * Not here: namespaces themselves (net/netns.h), choosing subnets and
 * addresses (net/ipam.h), names (the caller's), NAT and DNS. */
#ifndef BERTH_NET_LINK_H
#define BERTH_NET_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "net/ipam.h"
#include "util/err.h"

/* Every prefix the host's main routing table routes and every address on
 * its interfaces, v4 and v6, without default routes: what a new subnet
 * must not overlap. *out is a heap array (free it). */
int link_host_prefixes(struct ipam_prefix **out, size_t *n, struct berr *e);

/* The MTU of the device the host's IPv4 default route goes out of (the
 * one with the lowest metric); 1500 when there is no default route. */
int link_default_mtu(unsigned *mtu, struct berr *e);

/* Turns on IPv4 (family AF_INET) or IPv6 (AF_INET6) forwarding when it is
 * off; *changed tells whether it was off (the caller says so once). */
int link_forwarding_enable(int family, bool *changed, struct berr *e);
/* link_forwarding_enable, and what to say of it, as docker would (malloc'd;
 * NULL when it was on already). */
char *link_forwarding_on(int family);

struct link_bridge_spec {
    const char *name;     /* <= 15 bytes, e.g. "br-" + 12 hex */
    const char *gateway4; /* "172.18.0.1/16", or NULL */
    const char *gateway6; /* "fd00:1::1/64", or NULL */
    unsigned mtu;         /* 0: leave the kernel's */
};

/* Creates the bridge with its gateway addresses, up; an existing bridge
 * of that name is checked (a non-bridge link of that name is an error
 * naming it) and given what it lacks (addresses, up; its MTU is left).
 * *created (may be NULL) says whether it was made now. On failure nothing
 * made by this call is left. */
int link_bridge_ensure(const struct link_bridge_spec *s, bool *created, struct berr *e);

/* Deletes a link by name in the calling thread's netns; none of that
 * name: 0. */
int link_remove(const char *ifname, struct berr *e);

/* Deletes every veth inside the netns nsfd, and so the host side of
 * each, at once: closing the last reference to a namespace leaves that
 * to a kernel worker, which may run long after. Goes on past a failure
 * and returns the first. */
int link_ns_veths_remove(int nsfd, struct berr *e);

/* Whether a link of that name exists in the calling thread's netns. */
bool link_exists(const char *ifname);

struct link_endpoint_spec {
    const char *bridge;      /* the host bridge the host side joins */
    const char *host_ifname; /* host side, <= 15 bytes ("veth" + 7 hex) */
    const char *ifname;      /* inside: "eth0", "eth1", ... */
    const char *mac;         /* "02:42:ac:12:00:02"; NULL: 02:42 + the four
                                bytes of addr4 (as docker did), random
                                (locally administered) when no addr4 */
    const char *addr4;       /* "172.18.0.2/16" or NULL */
    const char *addr6;       /* or NULL (added with IFA_F_NODAD: no DAD delay) */
    const char *gateway4;    /* default route via it; NULL: no IPv4 default route */
    const char *gateway6;    /* bare address, as gateway4 ("fd00:1::1") */
    unsigned mtu;            /* both ends; 0: the bridge's */
    bool isolated;           /* the host side an isolated bridge port */
};

/* A veth pair: host side in the bridge and up (an isolated port when
 * asked: the bridge forwards nothing between two isolated ports, while
 * the bridge itself, the host and routed traffic still reach it), the
 * peer made inside the netns nsfd under the name ifname, with its MAC
 * and MTU, up, then given its addresses and default routes there. An existing host_ifname is an
 * error naming it. On failure nothing is left (the pair deleted). */
int link_endpoint_add(int nsfd, const struct link_endpoint_spec *s, struct berr *e);

#endif
