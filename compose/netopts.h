/* SPDX-License-Identifier: Apache-2.0 */
/* A bridge network's driver_opts, in one table: what berth honours (the
 * bridge's name, its MTU, masquerade, the default host address of
 * published ports, traffic between the network's containers), what it
 * refuses because ignoring it would leave the containers more exposed
 * than the file asks (or because berth cannot do it safely), and what it
 * ignores with a warning. Pure: no I/O. Not here: reading the file
 * (compose/model_net.c), acting on the values (cmd/net_project.c,
 * net/nft.c, engine/plan/netplan.c). */
#ifndef BERTH_COMPOSE_NETOPTS_H
#define BERTH_COMPOSE_NETOPTS_H

#include <stdbool.h>

/* What berth makes of the options it honours (the defaults when unset). */
struct netopts {
    char *bridge_name;       /* NULL: "br-" + the network's ID */
    unsigned mtu;            /* 0: the MTU of the host's default route */
    bool no_masquerade;      /* enable_ip_masquerade: "false" */
    bool no_icc;             /* enable_icc: "false" */
    char *host_binding_ipv4; /* NULL: every host address */
};

enum netopt_verdict {
    NETOPT_HONOURED, /* applied to the struct netopts */
    NETOPT_IGNORED,  /* harmless to ignore: warn */
    NETOPT_REFUSED,  /* ignoring it would expose more: refuse the network */
};

/* Classifies option key=value and, when honoured, applies it to *o.
 * Returns the verdict, with *why (malloc'd) saying why for IGNORED and
 * REFUSED; or -EINVAL for a value that does not parse (mtu "abc", a
 * boolean "maybe", a bad address, a bridge name that is no interface
 * name), with the message in *why. *why is NULL for HONOURED. */
int netopt_classify(const char *key, const char *value, struct netopts *o, char **why);

void netopts_clear(struct netopts *o);

/* A Linux interface name berth accepts (and nftables quotes safely):
 * 1..15 of letters, digits, "_", ".", "-", not "." or "..". */
bool netopt_ifname_ok(const char *s);

#endif
