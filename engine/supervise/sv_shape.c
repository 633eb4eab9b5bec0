/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's side of network shaping (x-berth-network): applied when
 * a container's links are made, changed in place when `up` hands over a
 * record whose values changed (the container is not recreated for it),
 * and its ifb devices removed when the container is forgotten or the
 * supervisor ends with it stopped. Not here: the tc work (net/shape.c),
 * the plan's values (engine/runtime/shapesetup.h). */
#include <string.h>

#include "engine/runtime/shapesetup.h"
#include "engine/supervise/sv_internal.h"
#include "net/shape.h"

int sv_shape_attach(struct sv_ctr *c, int nsfd, struct berr *e)
{
    return shapesetup_apply(&c->rec.plan, c->rec.id, nsfd, e);
}

void sv_shape_adopt(struct sv_ctr *c, const struct ctr_record *rec)
{
    struct net_shape *cur = &c->rec.plan.shape;
    if (strcmp(c->rec.id, rec->id) != 0 || net_shape_equal(cur, &rec->plan.shape))
        return;
    struct net_shape was = *cur;
    *cur = rec->plan.shape;
    /* Running: `up` changed its links already; no namespace yet: applied
     * when it is made. */
    if (c->netns_fd < 0 || (c->run && !c->run->reaped))
        return;
    struct berr e = BERR_INIT;
    if (shapesetup_apply(&c->rec.plan, c->rec.id, c->netns_fd, &e) < 0) {
        sv_warn(c, "%s; the links keep their former shaping", e.msg);
        *cur = was;
        berr_clear(&e);
        shapesetup_apply(&c->rec.plan, c->rec.id, c->netns_fd, &e);
    }
    berr_clear(&e);
}

void sv_shape_forget(struct sv_ctr *c)
{
    if (c->run && !c->run->reaped)
        return; /* its traffic goes through them */
    struct berr e = BERR_INIT;
    if (net_shape_forget(c->rec.id, &e) < 0)
        sv_warn(c, "%s", e.msg);
    berr_clear(&e);
}
