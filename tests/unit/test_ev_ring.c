/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for engine/events/ring: keeping the last N events (wrap-around,
 * oldest dropped, copies owned by the ring) and replaying them since a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/events/ring.h"

static void push_n(struct ev_ring *r, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[16], code[16];
        snprintf(id, sizeof id, "c%d", i);
        snprintf(code, sizeof code, "%d", i);
        struct ev e = {.time_ns = 1000 * (int64_t)i,
                       .type = EV_CONTAINER,
                       .action = "die",
                       .id = id,
                       .service = "web"};
        ev_attr_add(&e, "exitCode", code);
        ev_ring_push(r, &e); /* id and code go out of scope: the ring copied them */
    }
}

static void test_keeps_in_order(void **state)
{
    struct ev_ring r;
    ev_ring_init(&r, 4);
    push_n(&r, 0, 3);
    assert_int_equal(r.n, 3);
    for (size_t i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "c%zu", i);
        assert_string_equal(ev_ring_at(&r, i)->id, id);
    }
    ev_ring_fini(&r);
}

static void test_wraps_dropping_oldest(void **state)
{
    struct ev_ring r;
    ev_ring_init(&r, 4);
    push_n(&r, 0, 11); /* wraps twice and a bit */
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < 4; i++) {
        char id[16], code[16];
        snprintf(id, sizeof id, "c%zu", i + 7);
        snprintf(code, sizeof code, "%zu", i + 7);
        const struct ev *e = ev_ring_at(&r, i);
        assert_string_equal(e->id, id);
        assert_string_equal(ev_attr_get(e, "exitCode"), code);
        assert_int_equal(e->time_ns, 1000 * (int64_t)(i + 7));
    }
    ev_ring_fini(&r);
    assert_int_equal(r.n, 0);
}

static void test_capacity_one(void **state)
{
    struct ev_ring r;
    ev_ring_init(&r, 1);
    push_n(&r, 0, 3);
    assert_int_equal(r.n, 1);
    assert_string_equal(ev_ring_at(&r, 0)->id, "c2");
    ev_ring_fini(&r);
}

struct seen {
    char ids[16][8];
    size_t n;
};

static void collect(void *ud, const struct ev *e)
{
    struct seen *s = ud;
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", e->id);
}

static void test_replay_since_until(void **state)
{
    struct ev_ring r;
    ev_ring_init(&r, 8);
    push_n(&r, 0, 12); /* keeps c4..c11, times 4000..11000 */
    struct seen s = {0};
    /* since: inclusive, and only what the ring still holds */
    assert_int_equal(ev_ring_replay(&r, 9000, 0, collect, &s), 3);
    assert_string_equal(s.ids[0], "c9");
    assert_string_equal(s.ids[2], "c11");
    memset(&s, 0, sizeof s);
    assert_int_equal(ev_ring_replay(&r, 0, 0, collect, &s), 8);
    assert_string_equal(s.ids[0], "c4");
    memset(&s, 0, sizeof s);
    /* until: inclusive too */
    assert_int_equal(ev_ring_replay(&r, 5000, 6000, collect, &s), 2);
    assert_string_equal(s.ids[0], "c5");
    assert_string_equal(s.ids[1], "c6");
    memset(&s, 0, sizeof s);
    assert_int_equal(ev_ring_replay(&r, 12000, 0, collect, &s), 0);
    ev_ring_fini(&r);
}

static void test_replay_clock_step_back(void **state)
{
    /* an event stamped before its predecessor (the clock was set back) is
     * judged by its own time, not cut off by the order */
    struct ev_ring r;
    ev_ring_init(&r, 4);
    struct ev a = {.time_ns = 5000, .type = EV_CONTAINER, .action = "start", .id = "a"};
    struct ev b = {.time_ns = 2000, .type = EV_CONTAINER, .action = "die", .id = "b"};
    struct ev c = {.time_ns = 6000, .type = EV_CONTAINER, .action = "start", .id = "c"};
    ev_ring_push(&r, &a);
    ev_ring_push(&r, &b);
    ev_ring_push(&r, &c);
    struct seen s = {0};
    assert_int_equal(ev_ring_replay(&r, 4000, 0, collect, &s), 2);
    assert_string_equal(s.ids[0], "a");
    assert_string_equal(s.ids[1], "c");
    ev_ring_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_in_order),         cmocka_unit_test(test_wraps_dropping_oldest),
        cmocka_unit_test(test_capacity_one),           cmocka_unit_test(test_replay_since_until),
        cmocka_unit_test(test_replay_clock_step_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
