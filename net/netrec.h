/* SPDX-License-Identifier: Apache-2.0 */
/* The record of a network berth made: ROOT/network/nets/<name>.json, what
 * `up` decided once (its ID, bridge, subnet and gateway, whether it is
 * internal, the project that owns it) so that the supervisor, `down` and
 * another project naming it as external all see the same network, even
 * after a reboot took the bridge away. Written atomically. Not here: the
 * address allocation itself (net/ipam.h), the bridge (net/link.h). */
#ifndef BERTH_NET_NETREC_H
#define BERTH_NET_NETREC_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct net_record {
    char *name;               /* the real name, "proj_default" */
    char *id;                 /* 64 hex digits, random */
    char *bridge;             /* "br-" + the ID's first 12 digits, or the file's
                               * com.docker.network.bridge.name */
    char *project;            /* the project that made it */
    char *key;                /* its key in that project's file ("default") */
    char *subnet4;            /* "172.18.0.0/16" */
    char *gateway4;           /* "172.18.0.1" */
    char *subnet6, *gateway6; /* NULL without IPv6 */
    bool internal;
    bool enable_ipv6;
    /* The file's driver_opts as made (compose/netopts.h) */
    unsigned mtu;            /* 0: the host default route's */
    bool no_masquerade;      /* egress keeps the containers' source addresses */
    bool no_icc;             /* the containers cannot reach each other */
    char *host_binding_ipv4; /* ports published without a host IP bind here; NULL: all */
    char **labels;           /* "k=v", NULL-terminated or NULL */
    char *created;           /* RFC 3339 */
    /* A network that lives only as long as one process (a build's): its
     * pid and start time (/proc/PID/stat field 22), so that what a killed
     * process left can be told from what a live one uses; 0: none */
    int owner_pid;
    unsigned long long owner_start;
};

void net_record_free(struct net_record *r);
#define _cleanup_net_record_ _cleanup_(net_record_free)

/* The bridge name for a network ID. */
char *net_bridge_name(const char *id);

/* Reads the record of name: 0, or -ENOENT when there is none (e filled with
 * "network NAME not found"), or another error naming the file. */
int net_record_read(const char *root, const char *name, struct net_record *out, struct berr *e);
int net_record_write(const char *root, const struct net_record *r, struct berr *e);
/* Removes it; none: 0. */
int net_record_remove(const char *root, const char *name, struct berr *e);
/* Every record (an unreadable one is skipped); of project only when it is
 * not NULL. */
int net_record_list(const char *root, const char *project, struct net_record **out, size_t *n,
                    struct berr *e);
void net_record_list_free(struct net_record *v, size_t n);

#endif
