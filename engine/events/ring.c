/* SPDX-License-Identifier: Apache-2.0 */
/* The event ring (engine/events/ring.h): a fixed array of ev_copy'd events
 * used as a circular buffer. Not here: who publishes into it and who reads
 * it over the control socket (engine/supervise/sv_events.c). */
#include "engine/events/ring.h"

#include <assert.h>
#include <stdlib.h>

#include "util/xalloc.h"

void ev_ring_init(struct ev_ring *r, size_t cap)
{
    assert(cap >= 1);
    r->slot = xcalloc(cap, sizeof *r->slot);
    r->cap = cap;
    r->head = 0;
    r->n = 0;
}

void ev_ring_fini(struct ev_ring *r)
{
    for (size_t i = 0; i < r->n; i++)
        ev_free(r->slot[(r->head + i) % r->cap]);
    free(r->slot);
    r->slot = NULL;
    r->cap = r->head = r->n = 0;
}

void ev_ring_push(struct ev_ring *r, const struct ev *e)
{
    struct ev *c = ev_copy(e);
    if (r->n == r->cap) {
        /* full: the oldest makes room, and the next one becomes the oldest */
        ev_free(r->slot[r->head]);
        r->slot[r->head] = c;
        r->head = (r->head + 1) % r->cap;
        return;
    }
    r->slot[(r->head + r->n) % r->cap] = c;
    r->n++;
}

const struct ev *ev_ring_at(const struct ev_ring *r, size_t i)
{
    assert(i < r->n);
    return r->slot[(r->head + i) % r->cap];
}

size_t ev_ring_replay(const struct ev_ring *r, int64_t since_ns, int64_t until_ns,
                      void (*fn)(void *ud, const struct ev *e), void *ud)
{
    size_t k = 0;
    /* Each event is checked on its own: the wall clock can step back. */
    for (size_t i = 0; i < r->n; i++) {
        const struct ev *e = ev_ring_at(r, i);
        if (e->time_ns < since_ns || (until_ns > 0 && e->time_ns > until_ns))
            continue;
        fn(ud, e);
        k++;
    }
    return k;
}
