/* SPDX-License-Identifier: Apache-2.0 */
/* The network RUN steps use (not a door: other modules use
 * engine/build/build.h). With the default mode, as docker's builds: one
 * bridge per build, a subnet from IPAM's pools (never overlapping a host
 * route or another network), egress masqueraded (an nftables table of its
 * own), a fresh network namespace with a veth on that bridge for each RUN
 * step. resolv.conf from the host's resolvers (a local stub replaced by
 * its upstreams), /etc/hosts with localhost and extra_hosts. Everything is
 * removed when the build ends; what a killed build left is removed by the
 * next one. */
#ifndef BERTH_BUILD_BUILDNET_H
#define BERTH_BUILD_BUILDNET_H

#include <stdbool.h>

#include "util/cleanup.h"
#include "util/err.h"

enum build_net_mode {
    BUILD_NET_BRIDGE, /* default */
    BUILD_NET_HOST,
    BUILD_NET_NONE,
};

struct build_net;

/* "default" (or NULL), "host", "none"; anything else is an error naming
 * it. The bridge is made on the first step, not here. */
int build_net_open(const char *root, const char *runroot, const char *mode,
                   char *const *extra_hosts, struct build_net **out, struct berr *e);
/* Removes the bridge, its table, its records and addresses, and every
 * step's namespace still there. NULL-safe. */
void build_net_close(struct build_net *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct build_net *, build_net_close)

enum build_net_mode build_net_mode(const struct build_net *n);

/* One RUN step's network. netns_path NULL: the host's (BUILD_NET_HOST) or
 * a namespace with only lo (BUILD_NET_NONE), as container_spec reads it.
 * The three files are host paths the builder binds read-only at
 * /etc/resolv.conf, /etc/hosts and /etc/hostname. */
struct build_net_step {
    char *netns_path;
    char *resolv_conf;
    char *hosts;
    char *hostname;
    char *name; /* the step's name in the network's records */
};

/* A step's namespace and files; hostname as the step's /etc/hostname. */
int build_net_step_begin(struct build_net *n, const char *hostname, struct build_net_step *out,
                         struct berr *e);
/* Releases the step's namespace, address and files. */
void build_net_step_end(struct build_net *n, struct build_net_step *st);

#endif
