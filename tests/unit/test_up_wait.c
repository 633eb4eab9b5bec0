/* SPDX-License-Identifier: Apache-2.0 */
/* The decision of `up --wait` (cmd/up_wait.c): tables of streamed event
 * sequences, each with the verdict and message the supervisor's own wait
 * gave for the same history. The client that reads the stream runs real
 * containers in tests/integration/test_up_wait_stream.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/up_wait.h"
#include "util/cleanup.h"

/* One step of a history: an event of container 0 or 1 ("start", "die:3",
 * "health:healthy", "restart", "error:no such file", "create", "kill"),
 * or "rs:restarting" / "rs:exited": the supervisor's run state asked for
 * after a die (upw_resolve_restart). */
struct row {
    const char *what;
    bool hc[2];               /* each container has a healthcheck */
    const char *seed[2];      /* run state before: NULL none, "running", "running:healthy" */
    const char *steps[12];    /* "0 start", "1 die:3", ... */
    enum upw_verdict verdict; /* after the last step */
    const char *msg;          /* with UPW_FAILED */
};

/* clang-format off */
static const struct row rows[] = {
    {"nothing happened yet", {false, false}, {NULL, NULL},
     {NULL}, UPW_PENDING, NULL},
    {"both started, no healthcheck", {false, false}, {NULL, NULL},
     {"0 create", "0 start", "1 start"}, UPW_READY, NULL},
    {"one started, the other not yet", {false, false}, {NULL, NULL},
     {"0 start"}, UPW_PENDING, NULL},
    {"healthcheck: started is not enough", {true, false}, {NULL, NULL},
     {"0 start", "1 start"}, UPW_PENDING, NULL},
    {"healthcheck: ready once healthy", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 health:healthy"}, UPW_READY, NULL},
    {"unhealthy fails", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 health:unhealthy"}, UPW_FAILED, "container c0 is unhealthy"},
    {"unhealthy after healthy fails", {true, false}, {NULL, NULL},
     {"0 start", "0 health:healthy", "0 health:unhealthy"}, UPW_FAILED, "container c0 is unhealthy"},
    {"a non-zero exit fails", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "1 die:3"}, UPW_FAILED, "container c1 exited (3)"},
    {"a non-zero exit fails while a restart is due", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "1 die:1"}, UPW_FAILED, "container c1 exited (1)"},
    {"restarted after a non-zero exit: its new run counts", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "1 restart", "1 start"}, UPW_READY, NULL},
    {"exit 0 without a healthcheck is done", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "1 die:0"}, UPW_READY, NULL},
    {"exit 0 with a healthcheck: whether it restarts is asked", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 die:0"}, UPW_PENDING, NULL},
    {"exit 0 with a healthcheck, for good: done", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 die:0", "rs:exited"}, UPW_READY, NULL},
    {"exit 0 with a healthcheck, restarting: pending", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 die:0", "rs:restarting"}, UPW_PENDING, NULL},
    {"... then healthy in its next run", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 die:0", "rs:restarting", "0 restart", "0 start",
      "0 health:healthy"}, UPW_READY, NULL},
    {"healthy, then exit 0: done", {true, false}, {NULL, NULL},
     {"0 start", "1 start", "0 health:healthy", "0 die:0"}, UPW_READY, NULL},
    {"a start failure fails with its message", {false, false}, {NULL, NULL},
     {"0 start", "1 error:exec: no such file"}, UPW_FAILED, "container c1: exec: no such file"},
    {"a start failure without a message", {false, false}, {NULL, NULL},
     {"0 error:"}, UPW_FAILED, "container c0: failed to start"},
    {"a failed restart fails", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "0 die:0", "0 restart", "0 error:gone"}, UPW_FAILED, "container c0: gone"},
    {"the first failure in order wins", {false, false}, {NULL, NULL},
     {"1 start", "0 start", "1 die:2", "0 die:5"}, UPW_FAILED, "container c0 exited (5)"},
    {"a failure beats another's pending", {true, false}, {NULL, NULL},
     {"1 error:x"}, UPW_FAILED, "container c1: x"},
    {"seeded running: ready at once", {false, false}, {"running", "running"},
     {NULL}, UPW_READY, NULL},
    {"seeded running and healthy: ready at once", {true, true}, {"running:healthy", "running:healthy"},
     {NULL}, UPW_READY, NULL},
    {"seeded running, health starting: pending", {true, false}, {"running:starting", "running"},
     {NULL}, UPW_PENDING, NULL},
    {"seeded exited: waits for its start", {false, false}, {"exited:3", "running"},
     {NULL}, UPW_PENDING, NULL},
    {"seeded, then replayed events agree", {true, false}, {"running:healthy", "running"},
     {"0 health:healthy"}, UPW_READY, NULL},
    {"other actions change nothing", {false, false}, {NULL, NULL},
     {"0 start", "1 start", "0 kill", "1 pause", "1 unpause", "0 oom"}, UPW_READY, NULL},
};
/* clang-format on */

static const struct ctr_record recs[2] = {
    {.id = "id0", .name = "c0"},
    {.id = "id1", .name = "c1"},
};

static void seed_one(struct upw_ctr *c, const char *s)
{
    if (!s)
        return;
    struct run_state st = {0};
    char word[32];
    const char *colon = strchr(s, ':');
    snprintf(word, sizeof word, "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
    st.running = strcmp(word, "running") == 0;
    if (strcmp(word, "exited") == 0) {
        st.exit_code = atoi(colon + 1);
        st.started_at_ns = 1;
    } else if (colon) {
        snprintf(st.health, sizeof st.health, "%s", colon + 1);
    }
    upw_seed(c, &st);
}

/* Applies one step; events of the other container go to both (as the
 * stream does: each container takes only its own). */
static void step(struct upw_ctr *c, const char *s)
{
    if (strncmp(s, "rs:", 3) == 0) {
        struct run_state st = {.restarting = strcmp(s + 3, "restarting") == 0};
        for (int i = 0; i < 2; i++)
            if (upw_needs_restart(&c[i]))
                upw_resolve_restart(&c[i], &st);
        return;
    }
    int who = s[0] - '0';
    char action[32], arg[64] = "";
    const char *colon = strchr(s + 2, ':');
    snprintf(action, sizeof action, "%.*s", colon ? (int)(colon - s - 2) : (int)strlen(s + 2),
             s + 2);
    if (colon)
        snprintf(arg, sizeof arg, "%s", colon + 1);
    struct ev e = {.type = EV_CONTAINER, .id = recs[who].id, .name = recs[who].name};
    e.action = action;
    if (strcmp(action, "die") == 0) {
        ev_attr_add(&e, "exitCode", arg);
    } else if (strcmp(action, "health") == 0) {
        e.action = "health_status";
        ev_attr_add(&e, "health_status", arg);
    } else if (strcmp(action, "error") == 0) {
        e.detail = *arg ? arg : NULL;
    }
    int took = 0;
    for (int i = 0; i < 2; i++)
        took += upw_apply(&c[i], &e);
    assert_int_equal(took, 1);
}

static void test_histories(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        const struct row *r = &rows[k];
        struct ctr_record rs[2] = {recs[0], recs[1]};
        struct upw_ctr c[2];
        for (int i = 0; i < 2; i++) {
            rs[i].plan.health.enabled = r->hc[i];
            upw_init(&c[i], &rs[i]);
            seed_one(&c[i], r->seed[i]);
        }
        for (size_t s = 0; r->steps[s]; s++)
            step(c, r->steps[s]);
        _cleanup_free_ char *msg = NULL;
        enum upw_verdict v = upw_decide(c, 2, &msg);
        if (v != r->verdict || (r->msg && (!msg || strcmp(msg, r->msg) != 0)))
            fail_msg("%s: verdict %d (want %d), message \"%s\" (want \"%s\")", r->what, v,
                     r->verdict, msg ? msg : "", r->msg ? r->msg : "");
        if (!r->msg && msg)
            fail_msg("%s: unexpected message \"%s\"", r->what, msg);
        for (int i = 0; i < 2; i++)
            upw_fini(&c[i]);
    }
}

static void test_needs_restart_only_when_it_matters(void **state)
{
    (void)state;
    struct ctr_record r = {.id = "x", .name = "x", .plan.health.enabled = true};
    struct upw_ctr c;
    upw_init(&c, &r);
    struct ev e = {.type = EV_CONTAINER, .id = "x", .action = "start"};
    upw_apply(&c, &e);
    assert_false(upw_needs_restart(&c));
    struct ev d = {.type = EV_CONTAINER, .id = "x", .action = "die"};
    ev_attr_add(&d, "exitCode", "0");
    upw_apply(&c, &d);
    assert_true(upw_needs_restart(&c));
    upw_resolve_restart(&c, NULL); /* no supervisor: it has ended for good */
    assert_false(upw_needs_restart(&c));
    _cleanup_free_ char *msg = NULL;
    assert_int_equal(upw_decide(&c, 1, &msg), UPW_READY);
    /* a non-zero exit fails whatever comes next: nothing to ask */
    upw_apply(&c, &e);
    struct ev d1 = {.type = EV_CONTAINER, .id = "x", .action = "die"};
    ev_attr_add(&d1, "exitCode", "1");
    upw_apply(&c, &d1);
    assert_false(upw_needs_restart(&c));
    upw_fini(&c);
}

static void test_other_events_are_not_taken(void **state)
{
    (void)state;
    struct ctr_record r = {.id = "x", .name = "x"};
    struct upw_ctr c;
    upw_init(&c, &r);
    struct ev other = {.type = EV_CONTAINER, .id = "y", .action = "start"};
    assert_false(upw_apply(&c, &other));
    struct ev image = {.type = EV_IMAGE, .id = "x", .action = "start"};
    assert_false(upw_apply(&c, &image));
    struct ev noid = {.type = EV_CONTAINER, .action = "start"};
    assert_false(upw_apply(&c, &noid));
    assert_false(c.started);
    upw_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histories),
        cmocka_unit_test(test_needs_restart_only_when_it_matters),
        cmocka_unit_test(test_other_events_are_not_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
