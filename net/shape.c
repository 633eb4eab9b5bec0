/* SPDX-License-Identifier: Apache-2.0 */
/* tbf, netem and an ifb redirect on a container's veths through
 * libnl-route (net/shape.h). */
#include "net/shape.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <string.h>

#include "net/nl_internal.h"
#include "util/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_qdisc *, rtnl_qdisc_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_cls *, rtnl_cls_put)

/* How long a tbf queue may be, and the least bucket: a burst of a few
 * full-size segments keeps TCP at the rate at any MTU. */
#define TBF_LATENCY_US 50000
#define TBF_MIN_BUCKET 32768
#define NETEM_LIMIT    1000 /* packets, tc's default */

bool net_shape_netem(const struct net_shape *s)
{
    return s->delay_us || s->jitter_us || s->loss_pct > 0;
}

bool net_shape_any(const struct net_shape *s)
{
    return s->egress_bits || s->ingress_bits || net_shape_netem(s);
}

bool net_shape_equal(const struct net_shape *a, const struct net_shape *b)
{
    return a->egress_bits == b->egress_bits && a->ingress_bits == b->ingress_bits &&
           a->delay_us == b->delay_us && a->jitter_us == b->jitter_us && a->loss_pct == b->loss_pct;
}

void net_shape_ifb_name(const char *ctr_id, unsigned idx, char out[16])
{
    snprintf(out, 16, "bw%.12s%x", ctr_id, idx & 0xf);
}

int net_shape_peer(int nsfd, const char *ifname, int *host_ifindex, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_ns_sock(nsfd, &sk, e);
    if (r < 0)
        return r;
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
    r = rtnl_link_get_kernel(sk, 0, ifname, &l);
    if (r < 0)
        return nl_fail(e, r, "looking up %s in the container", ifname);
    int peer = rtnl_link_get_link(l);
    if (peer <= 0)
        return berr_set(e, -ENODEV, "%s in the container has no host-side peer", ifname);
    *host_ifindex = peer;
    return 0;
}

/* ---- qdiscs --------------------------------------------------------------- */

static struct rtnl_qdisc *qdisc_new(int ifindex, uint32_t parent, uint32_t handle, const char *kind)
{
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return NULL;
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), parent);
    rtnl_tc_set_handle(TC_CAST(q), handle);
    if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
        rtnl_qdisc_put(q);
        return NULL;
    }
    return q;
}

/* The message for a qdisc the kernel does not have. */
static int tc_add_fail(struct berr *e, int nlerr, const char *kind, const char *dev)
{
    if (nl_not_found(nlerr) || nlerr == -NLE_OPNOTSUPP)
        return berr_set(e, -EOPNOTSUPP, "this kernel has no %s qdisc (sch_%s)%s", kind, kind,
                        !strcmp(kind, "netem") ? ", which delay, jitter and loss need" : "");
    return nl_fail(e, nlerr, "adding a %s qdisc on %s", kind, dev);
}

static int qdisc_add(struct nl_sock *sk, struct rtnl_qdisc *q, const char *dev, struct berr *e)
{
    int r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
    if (r < 0)
        return tc_add_fail(e, r, rtnl_tc_get_kind(TC_CAST(q)), dev);
    return 0;
}

/* Deletes the qdisc at parent of ifindex; none there: fine. */
static void qdisc_del(struct nl_sock *sk, int ifindex, uint32_t parent)
{
    _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return;
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), parent);
    rtnl_qdisc_delete(sk, q); /* ENOENT/EINVAL when there is none */
}

static int tbf_add(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle, uint64_t bits,
                   const char *dev, struct berr *e)
{
    _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = qdisc_new(ifindex, parent, handle, "tbf");
    if (!q)
        return berr_set(e, -ENOMEM, "allocating a tbf qdisc");
    uint64_t rate = bits / 8; /* bytes/s, at most INT_MAX (compose/tcunits.h) */
    uint64_t bucket = rate / 100 > TBF_MIN_BUCKET ? rate / 100 : TBF_MIN_BUCKET;
    rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)bucket, 0);
    int r = rtnl_qdisc_tbf_set_limit_by_latency(q, TBF_LATENCY_US);
    if (r < 0)
        return nl_fail(e, r, "sizing the tbf queue on %s", dev);
    return qdisc_add(sk, q, dev, e);
}

static int netem_add(struct nl_sock *sk, int ifindex, const struct net_shape *s, const char *dev,
                     struct berr *e)
{
    _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q =
        qdisc_new(ifindex, TC_H_ROOT, TC_HANDLE(1, 0), "netem");
    if (!q)
        return berr_set(e, -ENOMEM, "allocating a netem qdisc");
    rtnl_netem_set_limit(q, NETEM_LIMIT);
    if (s->delay_us)
        rtnl_netem_set_delay(q, (int)s->delay_us);
    if (s->jitter_us)
        rtnl_netem_set_jitter(q, (int)s->jitter_us);
    if (s->loss_pct > 0) /* the kernel's u32 scale: UINT32_MAX is 100% */
        rtnl_netem_set_loss(q, (int)(uint32_t)(s->loss_pct / 100. * (double)UINT32_MAX + 0.5));
    return qdisc_add(sk, q, dev, e);
}

/* ---- the ifb and the redirect to it ----------------------------------------- */

static int ifb_create(struct nl_sock *sk, const char *name, int *ifindex, struct berr *e)
{
    _cleanup_(rtnl_link_putp) struct rtnl_link *old = NULL;
    if (rtnl_link_get_kernel(sk, 0, name, &old) == 0)
        rtnl_link_delete(sk, old); /* a crashed run's: start afresh */
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_alloc();
    if (!l)
        return berr_set(e, -ENOMEM, "allocating a link");
    rtnl_link_set_name(l, name);
    int r = rtnl_link_set_type(l, "ifb");
    if (r < 0)
        return nl_fail(e, r, "ifb device %s", name);
    rtnl_link_set_flags(l, IFF_UP);
    r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0) {
        if (nl_not_found(r) || r == -NLE_OPNOTSUPP)
            return berr_set(e, -EOPNOTSUPP,
                            "this kernel has no ifb devices (the ifb module), which shaping what a "
                            "container sends needs");
        return nl_fail(e, r, "creating ifb device %s", name);
    }
    _cleanup_(rtnl_link_putp) struct rtnl_link *made = NULL;
    r = rtnl_link_get_kernel(sk, 0, name, &made);
    if (r < 0)
        return nl_fail(e, r, "looking up ifb device %s", name);
    *ifindex = rtnl_link_get_ifindex(made);
    return 0;
}

/* An ingress qdisc on ifindex and a match-all u32 filter redirecting
 * everything it receives to the ifb. */
static int redirect_add(struct nl_sock *sk, int ifindex, int ifb_index, const char *dev,
                        struct berr *e)
{
    _cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q =
        qdisc_new(ifindex, TC_H_INGRESS, TC_HANDLE(0xffffU, 0), "ingress");
    if (!q)
        return berr_set(e, -ENOMEM, "allocating an ingress qdisc");
    int r = qdisc_add(sk, q, dev, e);
    if (r < 0)
        return r;
    _cleanup_(rtnl_cls_putp) struct rtnl_cls *c = rtnl_cls_alloc();
    struct rtnl_act *act = rtnl_act_alloc();
    if (!c || !act) {
        rtnl_act_put(act);
        return berr_set(e, -ENOMEM, "allocating a filter");
    }
    rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
    rtnl_tc_set_parent(TC_CAST(c), TC_HANDLE(0xffffU, 0));
    rtnl_cls_set_protocol(c, ETH_P_ALL);
    rtnl_cls_set_prio(c, 1);
    if ((r = rtnl_tc_set_kind(TC_CAST(c), "u32")) < 0 ||
        (r = rtnl_tc_set_kind(TC_CAST(act), "mirred")) < 0) {
        rtnl_act_put(act);
        return nl_fail(e, r, "a u32 filter with a mirred action");
    }
    rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
    rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
    rtnl_mirred_set_ifindex(act, (uint32_t)ifb_index);
    rtnl_u32_set_cls_terminal(c);
    rtnl_u32_add_key_uint32(c, 0, 0, 0, 0); /* every packet */
    r = rtnl_u32_add_action(c, act);
    rtnl_act_put(act); /* the filter holds it now */
    if (r < 0)
        return nl_fail(e, r, "a u32 filter with a mirred action");
    r = rtnl_cls_add(sk, c, NLM_F_CREATE);
    if (r < 0) {
        if (nl_not_found(r) || r == -NLE_OPNOTSUPP)
            return berr_set(e, -EOPNOTSUPP,
                            "this kernel has no u32 filter or mirred action (cls_u32, act_mirred), "
                            "which shaping what a container sends needs");
        return nl_fail(e, r, "adding the redirect filter on %s", dev);
    }
    return 0;
}

/* ---- the whole ------------------------------------------------------------- */

static void unshape(struct nl_sock *sk, int ifindex, const char *ifb)
{
    qdisc_del(sk, ifindex, TC_H_ROOT);
    qdisc_del(sk, ifindex, TC_H_INGRESS);
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
    if (rtnl_link_get_kernel(sk, 0, ifb, &l) == 0)
        rtnl_link_delete(sk, l);
}

/* What the container sends: redirected to the ifb, shaped at its root. */
static int shape_egress(struct nl_sock *sk, int ifindex, const char *ifb, const struct net_shape *s,
                        const char *dev, struct berr *e)
{
    int ifb_index = 0;
    int r = ifb_create(sk, ifb, &ifb_index, e);
    if (r < 0)
        return r;
    if (net_shape_netem(s)) {
        if ((r = netem_add(sk, ifb_index, s, ifb, e)) < 0)
            return r;
        if (s->egress_bits && (r = tbf_add(sk, ifb_index, TC_HANDLE(1, 1), TC_HANDLE(10, 0),
                                           s->egress_bits, ifb, e)) < 0)
            return r;
    } else if ((r = tbf_add(sk, ifb_index, TC_H_ROOT, TC_HANDLE(1, 0), s->egress_bits, ifb, e)) <
               0) {
        return r;
    }
    return redirect_add(sk, ifindex, ifb_index, dev, e);
}

int net_shape_apply(int host_ifindex, const char *ifb, const struct net_shape *s, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_host_sock(&sk, e);
    if (r < 0)
        return r;
    char dev[IF_NAMESIZE + 1] = "";
    if (!if_indextoname((unsigned)host_ifindex, dev))
        return berr_errno(e, errno, "the container's veth (ifindex %d)", host_ifindex);
    unshape(sk, host_ifindex, ifb);
    if (s->ingress_bits &&
        (r = tbf_add(sk, host_ifindex, TC_H_ROOT, TC_HANDLE(1, 0), s->ingress_bits, dev, e)) < 0)
        goto fail;
    if ((s->egress_bits || net_shape_netem(s)) &&
        (r = shape_egress(sk, host_ifindex, ifb, s, dev, e)) < 0)
        goto fail;
    return 0;
fail:
    unshape(sk, host_ifindex, ifb);
    return r;
}

int net_shape_forget(const char *ctr_id, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    for (unsigned i = 0; i < NET_SHAPE_MAX_LINKS; i++) {
        char name[16];
        net_shape_ifb_name(ctr_id, i, name);
        if (!if_nametoindex(name))
            continue;
        int r = sk ? 0 : nl_host_sock(&sk, e);
        if (r < 0)
            return r;
        _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
        r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r == 0)
            r = rtnl_link_delete(sk, l);
        if (r < 0 && !nl_not_found(r))
            return nl_fail(e, r, "deleting ifb device %s", name);
    }
    return 0;
}
