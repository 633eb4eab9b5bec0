/* SPDX-License-Identifier: Apache-2.0 */
/* berth's nftables rules (libnftables): one table per project, `table inet
 * berth-PROJECT`, holding the published ports' DNAT (prerouting and
 * output), egress masquerade (postrouting) and the isolation of every
 * berth network from every other interface (forward). The table is always
 * replaced whole in one transaction, so applying twice is idempotent and a
 * failure leaves the previous table as it was; removing a project's rules
 * is one `delete table`, and nothing else on the host is ever touched.
 *
 * The rules only ever drop or translate: they never accept, so the host's
 * own firewall keeps the last word. Loopback is never DNAT'ed (neither
 * 127.0.0.0/8 nor ::1, from the host or arriving on another interface) and
 * route_localnet is never touched (CVE-2020-8558): a userland proxy serves
 * published ports on loopback, and also traffic from a container's own
 * bridge to a published port (docker's hairpin).
 *
 * Not here: bridges, veths, addresses, IP forwarding, expanding port
 * ranges (the caller passes one entry per port), the proxy. */
#ifndef BERTH_NET_NFT_H
#define BERTH_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* One of the project's networks. */
struct nft_net {
    const char *bridge;  /* "br-..." */
    const char *subnet4; /* "172.18.0.0/16" or NULL */
    const char *subnet6; /* or NULL */
    bool internal;       /* no egress, no published ports */
    bool no_masquerade;  /* egress keeps the containers' source addresses */
};

/* One published port (a range is one entry per port). */
struct nft_port {
    int proto;                         /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
    const char *host_ip;               /* NULL or "": every host address; "0.0.0.0": every
                                        * IPv4 one, "::" every IPv6 one; else one address */
    uint16_t host_port;                /* 1-65535 */
    const char *ctr_addr4, *ctr_addr6; /* the container's addresses (bare); either may be NULL */
    uint16_t ctr_port;                 /* 1-65535 */
    const char *bridge;                /* the container's network's bridge */
};

/* What a project asks of the kernel. A port whose bridge is one of an
 * internal network gets no rule; a port gets an IPv4 (IPv6) rule when the
 * container has an address of that family and host_ip allows it; a
 * loopback host_ip (127.0.0.0/8, ::1) gets none (the proxy serves it). */
struct nft_project {
    /* [a-z0-9][a-z0-9_-]*, or with a '.' (which compose project names
     * never have) a scope of berth's own that no project can take:
     * "build.<8 hex>", a build's network */
    const char *project;
    const struct nft_net *nets;
    size_t n_nets;
    const struct nft_port *ports;
    size_t n_ports;
};

/* "berth-" before the project name: the table's name. */
#define NFT_TABLE_PREFIX "berth-"

/* Pure: the nft script (*out, malloc'd) that replaces the project's table
 * with these rules. Every string is checked before it reaches the script:
 * a project or interface name with a character outside its set, an address
 * or subnet that does not parse, a port 0, an unknown protocol is an error
 * naming it, and *out is untouched. */
int nft_project_script(const struct nft_project *p, char **out, struct berr *e);

/* Applies nft_project_script's script in one transaction (libnftables; its
 * error text in e). */
int nft_project_apply(const struct nft_project *p, struct berr *e);

/* Deletes the project's table; no table: 0. */
int nft_project_remove(const char *project, struct berr *e);

/* Whether the project's table exists (for `down` and tests). */
int nft_project_exists(const char *project, bool *exists, struct berr *e);

/* The names of berth's tables on the host (inet tables named "berth-*",
 * the whole table name), as a NULL-terminated strv (util/strv.h), for
 * leak checks and for `down` after a crash. */
int nft_tables_list(char ***out, struct berr *e);

/* Whether the host's firewall drops what berth's networks forward: a base
 * chain of another table on the forward hook with policy drop (docker's
 * and ufw's FORWARD) whose table has no rule naming one of bridges (or
 * "br-*", iptables' br-+). 1 with *where ("ip filter FORWARD", malloc'd),
 * 0 when none does. */
int nft_forward_blocked(const char *const *bridges, char **where, struct berr *e);
/* Runs an nft script (libnftables, one transaction); with out, its output
 * (malloc'd). For tests and callers that list a table back; the error
 * text of libnftables in e. */
int nft_run(const char *script, char **out, struct berr *e);

#endif
