/* SPDX-License-Identifier: Apache-2.0 */
/* Traffic shaping of a container's network links through libnl-route, on
 * the host side of each veth (the container cannot undo it):
 *  - what the container receives (ingress): a tbf qdisc at the root of the
 *    host-side veth, whose egress is the container's ingress;
 *  - what it sends (egress, and netem's delay, jitter and loss): the veth's
 *    ingress redirected (u32 match-all, mirred) to an ifb device of the
 *    container's own, whose root is a tbf, or a netem with a tbf child.
 * The qdiscs and the filter die with the veth; the ifb lives in the host's
 * namespace and is named from the container ID and the link's index, so
 * that a leftover of a crashed run is found and removed (net_shape_forget).
 * Every function works in the calling thread's netns (the host's) unless
 * it takes a namespace fd. Not here: reading the values (compose/tcunits.h),
 * which links a container has (the caller's). */
#ifndef BERTH_NET_SHAPE_H
#define BERTH_NET_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* As the container sees it; 0 everywhere: no shaping. */
struct net_shape {
    uint64_t egress_bits;  /* what it sends, bits/s; 0: no limit */
    uint64_t ingress_bits; /* what it receives, bits/s; 0: no limit */
    uint64_t delay_us;     /* netem on what it sends; 0: none */
    uint64_t jitter_us;    /* with delay */
    double loss_pct;       /* 0 to 100 */
};

bool net_shape_any(const struct net_shape *s);
bool net_shape_equal(const struct net_shape *a, const struct net_shape *b);
/* Whether s needs netem (delay, jitter or loss). */
bool net_shape_netem(const struct net_shape *s);

/* The most links of one container berth shapes (the ifb names' last
 * character is the link's index in hex). */
#define NET_SHAPE_MAX_LINKS 16
/* "bw" + the first 12 characters of the container ID + the link's index
 * in hex: the ifb device of link idx (idx < NET_SHAPE_MAX_LINKS). */
void net_shape_ifb_name(const char *ctr_id, unsigned idx, char out[16]);

/* The host-side ifindex of the veth called ifname inside the netns nsfd
 * (its peer). */
int net_shape_peer(int nsfd, const char *ifname, int *host_ifindex, struct berr *e);

/* Shapes the veth whose host side has host_ifindex as s says, with the ifb
 * device ifb for what the container sends; whatever was set before is
 * replaced, and an s asking for nothing removes it all (the ifb too). A
 * kernel without netem (or ifb, tbf) is an error saying so. On failure
 * the link is left unshaped and the ifb removed. */
int net_shape_apply(int host_ifindex, const char *ifb, const struct net_shape *s, struct berr *e);

/* Removes the ifb devices of the container ctr_id (all its links); none:
 * 0. The qdiscs on its veths go with the veths. */
int net_shape_forget(const char *ctr_id, struct berr *e);

#endif
