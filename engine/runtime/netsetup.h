/* SPDX-License-Identifier: Apache-2.0 */
/* A container's network from its plan, for whoever starts it (the
 * supervisor, an attached `run`, a build step that needs egress): the
 * network namespace (held by an fd) with a veth into each network's bridge
 * (address, MAC, MTU, the default route through the first network that is
 * not internal), and the text of its /etc/hostname, /etc/hosts and
 * /etc/resolv.conf written to the container's directory as bind mounts.
 * Addresses come from the plan (IPAM decided them at create). Not here:
 * IPAM, the embedded DNS server, published ports, nftables (the
 * supervisor's), the libraries doing it (net/). */
#ifndef BERTH_RUNTIME_NETSETUP_H
#define BERTH_RUNTIME_NETSETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

/* The embedded DNS server's address inside every container namespace. */
#define NETSETUP_EMBEDDED_DNS "127.0.0.11"

/* Whether the plan joins bridge networks (no network_mode). */
bool netsetup_has_endpoints(const struct ctr_plan *pl);

/* The endpoint with the default route and the published ports: the first
 * on a network that is not internal (NULL: none). */
const struct plan_endpoint *netsetup_primary(const struct ctr_plan *pl);

/* The endpoint with the IPv6 default route: the first on a network that
 * is not internal and gave the container an IPv6 address (NULL: none). */
const struct plan_endpoint *netsetup_primary6(const struct ctr_plan *pl);

/* "172.18.0.2/16" -> "172.18.0.2" into buf (50 bytes). */
void netsetup_bare_addr(const char *cidr, char buf[50]);

/* A fresh namespace with the plan's links, held by the returned fd
 * (O_CLOEXEC; the caller keeps it while the container may run or restart,
 * and closing it frees the namespace and its links once no process is in
 * it). *mtu (0: ask the host's default route, then kept there) is their
 * MTU; name is for messages. Each bridge is made as the plan records it
 * when missing (after a reboot). On failure nothing is left. */
int netsetup_attach(const struct ctr_plan *pl, const char *name, unsigned *mtu, struct berr *e);

/* The path a runtime opens to join the namespace of fd (this process's). */
char *netsetup_fd_path(int fd);

/* A bridge with the gateway address: what a build step (or anything run
 * outside a project) needs to reach out through it. */
int netsetup_bridge(const char *bridge, const char *gateway4, const char *subnet_len, unsigned mtu,
                    struct berr *e);

struct netsetup_files {
    const char *resolv_conf; /* the host's; NULL: /etc/resolv.conf */
    /* true: "nameserver 127.0.0.11" (the supervisor serves it); false:
     * the host's servers written in (no server to ask) */
    bool embedded_dns;
    char *const *more_hosts; /* more "name:ip" lines for /etc/hosts, or NULL */
    const char *hosts_base;  /* /etc/hosts starts with this instead of the
                                localhost lines (net_hosts_spec.base), or NULL */
};

/* The three files, written into dir (the container's directory) and
 * added to *mounts (heap, *n entries; the sources are heap strings in
 * *strings), skipping a file the plan mounts itself. A hostname or entry
 * that could add a line is an error naming the service. */
int netsetup_etc(const char *dir, const char *service, const struct ctr_plan *pl,
                 const struct netsetup_files *o, struct mount_spec **mounts, size_t *n,
                 char ***strings, struct berr *e);

#endif
