/* SPDX-License-Identifier: Apache-2.0 */
/* A short history of events: the last `cap` events, copied (ev_copy),
 * oldest dropped first. The supervisor keeps one so that `berth events
 * --since` can replay what happened before it connected. A plain data
 * structure: no clock, no I/O, no libuv; the supervisor's subscribers and
 * the control socket live in engine/supervise/sv_events.c. */
#ifndef BERTH_EVENTS_RING_H
#define BERTH_EVENTS_RING_H

#include <stddef.h>
#include <stdint.h>

#include "engine/events/event.h"

/* What the supervisor keeps: about a minute of a crash-looping project. */
#define EV_RING_DEFAULT_CAP 256

struct ev_ring {
    struct ev **slot; /* cap entries; slot[(head + i) % cap] is the i-th oldest */
    size_t cap;
    size_t head; /* the oldest */
    size_t n;    /* how many are kept (<= cap) */
};

/* An empty ring keeping at most cap (>= 1) events. */
void ev_ring_init(struct ev_ring *r, size_t cap);
/* Frees every kept event and the slots. */
void ev_ring_fini(struct ev_ring *r);

/* Keeps a copy of e, dropping the oldest when full. */
void ev_ring_push(struct ev_ring *r, const struct ev *e);

/* The i-th oldest kept event (0 <= i < r->n), borrowed until the next push. */
const struct ev *ev_ring_at(const struct ev_ring *r, size_t i);

/* Calls fn, oldest first, for each kept event whose time_ns is at least
 * since_ns and, when until_ns > 0, at most until_ns. Returns how many. */
size_t ev_ring_replay(const struct ev_ring *r, int64_t since_ns, int64_t until_ns,
                      void (*fn)(void *ud, const struct ev *e), void *ud);

#endif
