/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's shaping on the container's links (engine/runtime/shapesetup.h). */
#include "engine/runtime/shapesetup.h"

#include <errno.h>
#include <stdio.h>

#include "engine/runtime/netsetup.h"
#include "net/shape.h"

/* The host-side ifindex of endpoint i's veth and its ifb's name. */
static int link_of(int nsfd, const char *ctr_id, size_t i, int *host, char ifb[16], struct berr *e)
{
    char ifname[16];
    snprintf(ifname, sizeof ifname, "eth%u", (unsigned)i); /* as netsetup names them */
    net_shape_ifb_name(ctr_id, (unsigned)i, ifb);
    return net_shape_peer(nsfd, ifname, host, e);
}

/* Undoes the first n links' shaping, after a failure. */
static void unshape(int nsfd, const char *ctr_id, size_t n)
{
    static const struct net_shape none;
    for (size_t i = 0; i < n; i++) {
        struct berr ign = BERR_INIT;
        char ifb[16];
        int host = 0;
        if (link_of(nsfd, ctr_id, i, &host, ifb, &ign) == 0)
            net_shape_apply(host, ifb, &none, &ign);
        berr_clear(&ign);
    }
    struct berr ign = BERR_INIT;
    net_shape_forget(ctr_id, &ign);
    berr_clear(&ign);
}

int shapesetup_apply(const struct ctr_plan *pl, const char *ctr_id, int nsfd, struct berr *e)
{
    if (!netsetup_has_endpoints(pl))
        return 0;
    const char *svc = pl->service ? pl->service : pl->name;
    if (net_shape_any(&pl->shape) && pl->n_endpoints > NET_SHAPE_MAX_LINKS)
        return berr_set(e, -E2BIG,
                        "service \"%s\": x-berth-network: berth shapes at most %d networks of a "
                        "container",
                        svc, NET_SHAPE_MAX_LINKS);
    for (size_t i = 0; i < pl->n_endpoints && i < NET_SHAPE_MAX_LINKS; i++) {
        char ifb[16];
        int host = 0;
        int r = link_of(nsfd, ctr_id, i, &host, ifb, e);
        if (r == 0)
            r = net_shape_apply(host, ifb, &pl->shape, e);
        if (r < 0) {
            unshape(nsfd, ctr_id, i);
            return berr_wrap(e, "service \"%s\": x-berth-network on network %s", svc,
                             pl->endpoints[i].network);
        }
    }
    return 0;
}
