/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for engine/supervise/policy: a table of cases per decision —
 * the depends_on gate of one container and what it means by `required`,
 * the restart policy on an exit, and Docker's restart back-off (doubling,
 * cap, reset). No loop, no containers: the decisions are pure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/supervise/policy.h"

#define N_ELEMS(a) (sizeof(a) / sizeof *(a))

/* ---- dependency gates ------------------------------------------------- */

/* A container of the service depended on ("db"), in the states the
 * supervisor has. */
#define DB .name = "p-db-1"
#define UP DB, .ever_started = true
#define HC .has_healthcheck = true
/* clang-format off */
#define WAITING     {DB}
#define FAILED      {DB, .failed = true}
#define RUNNING     {UP}
#define RESTARTING  {UP, .exit_code = 1}
#define EXITED(n)   {UP, .exited = true, .exit_code = (n)}
#define H_WAITING   {DB, HC}
#define H_FAILED    {DB, HC, .failed = true}
#define H_STARTING  {UP, HC}
#define H_HEALTHY   {UP, HC, .healthy = true}
#define H_UNHEALTHY {UP, HC, .unhealthy = true}
#define H_EXITED(n) {UP, HC, .exited = true, .exit_code = (n)}
#define H_DONE_OK   {UP, HC, .exited = true, .healthy = true}
/* clang-format on */

#define STARTED   SVP_DEP_STARTED
#define HEALTHY   SVP_DEP_HEALTHY
#define COMPLETED SVP_DEP_COMPLETED
#define OPEN      SVP_GATE_OPEN
#define WAIT      SVP_GATE_WAIT
#define BLOCKED   SVP_GATE_BLOCKED

#define FAILED_WHY "dependency p-db-1 failed to start"

struct gate_case {
    const char *what;
    enum svp_condition cond;
    struct svp_dep_ctr o;
    enum svp_gate gate;
    const char *why; /* with BLOCKED */
};

/* clang-format off */
static const struct gate_case gate_cases[] = {
    {"started: not yet",          STARTED,   WAITING,     WAIT,    NULL},
    {"started: running",          STARTED,   RUNNING,     OPEN,    NULL},
    {"started: exited 3",         STARTED,   EXITED(3),   OPEN,    NULL},
    {"started: failed",           STARTED,   FAILED,      BLOCKED, FAILED_WHY},
    {"healthy: failed",           HEALTHY,   H_FAILED,    BLOCKED, FAILED_WHY},
    {"healthy: failed, no check", HEALTHY,   FAILED,      BLOCKED, FAILED_WHY},
    {"healthy: no check",         HEALTHY,   RUNNING,     BLOCKED,
     "dependency p-db-1 has no healthcheck configured"},
    {"healthy: no check, waiting", HEALTHY,  WAITING,     BLOCKED,
     "dependency p-db-1 has no healthcheck configured"},
    {"healthy: not yet",          HEALTHY,   H_WAITING,   WAIT,    NULL},
    {"healthy: starting",         HEALTHY,   H_STARTING,  WAIT,    NULL},
    {"healthy: healthy",          HEALTHY,   H_HEALTHY,   OPEN,    NULL},
    {"healthy: unhealthy",        HEALTHY,   H_UNHEALTHY, BLOCKED,
     "dependency failed to start: container p-db-1 is unhealthy"},
    {"healthy: exited 2 first",   HEALTHY,   H_EXITED(2), BLOCKED,
     "dependency failed to start: container p-db-1 exited (2)"},
    {"healthy: exited 0 first",   HEALTHY,   H_EXITED(0), BLOCKED,
     "dependency failed to start: container p-db-1 exited (0)"},
    {"healthy: exited after",     HEALTHY,   H_DONE_OK,   OPEN,    NULL},
    {"completed: not yet",        COMPLETED, WAITING,     WAIT,    NULL},
    {"completed: running",        COMPLETED, RUNNING,     WAIT,    NULL},
    {"completed: restarting",     COMPLETED, RESTARTING,  WAIT,    NULL},
    {"completed: exit 0",         COMPLETED, EXITED(0),   OPEN,    NULL},
    {"completed: exit 1",         COMPLETED, EXITED(1),   BLOCKED,
     "service \"db\" didn't complete successfully: exit 1"},
    {"completed: exit 137",       COMPLETED, EXITED(137), BLOCKED,
     "service \"db\" didn't complete successfully: exit 137"},
    {"completed: failed",         COMPLETED, FAILED,      BLOCKED, FAILED_WHY},
};
/* clang-format on */

static void test_dep_gate_table(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < N_ELEMS(gate_cases); i++) {
        const struct gate_case *t = &gate_cases[i];
        char *why = NULL;
        enum svp_gate g = svp_dep_gate(t->cond, "db", &t->o, &why);
        if (g != t->gate || (t->why == NULL) != (why == NULL) ||
            (why && strcmp(why, t->why) != 0)) {
            print_error("%s: gate %d, want %d; why \"%s\", want \"%s\"\n", t->what, g, t->gate,
                        why ? why : "(none)", t->why ? t->why : "(none)");
            bad++;
        }
        free(why);
    }
    assert_int_equal(bad, 0);
}

struct verdict_case {
    enum svp_gate gate;
    bool required;
    enum svp_verdict verdict;
};

static void test_dep_verdict_table(void **state)
{
    /* clang-format off */
    static const struct verdict_case cases[] = {
        {OPEN,    true,  SVP_START},
        {OPEN,    false, SVP_START},
        {WAIT,    true,  SVP_WAIT},
        {WAIT,    false, SVP_WAIT},         /* not required, still waited for */
        {BLOCKED, true,  SVP_FAIL},
        {BLOCKED, false, SVP_START_ANYWAY}, /* required: false and it failed */
    };
    /* clang-format on */
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        enum svp_verdict v = svp_dep_verdict(cases[i].gate, cases[i].required);
        if (v != cases[i].verdict)
            print_error("case %zu: gate %d required %d: verdict %d, want %d\n", i, cases[i].gate,
                        cases[i].required, v, cases[i].verdict);
        assert_int_equal(v, cases[i].verdict);
    }
}

/* A required: false dependency that failed: the dependent starts (with
 * the warning's text in hand); a required one fails with the same text. */
static void test_dep_not_required_failed(void **state)
{
    struct svp_dep_ctr o = FAILED;
    char *why = NULL;
    enum svp_gate g = svp_dep_gate(SVP_DEP_COMPLETED, "db", &o, &why);
    assert_int_equal(svp_dep_verdict(g, false), SVP_START_ANYWAY);
    assert_int_equal(svp_dep_verdict(g, true), SVP_FAIL);
    assert_string_equal(why, "dependency p-db-1 failed to start");
    free(why);
}

/* ---- restart policy --------------------------------------------------- */

struct restart_case {
    const char *what;
    enum svp_restart_policy policy;
    int max_retries, exit_code, restarts;
    bool user_stop, project_stop;
    bool restart;
};

#define NO         SVP_RESTART_NO
#define ALWAYS     SVP_RESTART_ALWAYS
#define ON_FAILURE SVP_RESTART_ON_FAILURE
#define UNLESS     SVP_RESTART_UNLESS_STOPPED

/* clang-format off */
static const struct restart_case restart_cases[] = {
    /* what                         policy      max exit restarts user project restart */
    {"no: exit 1",                  NO,         0,  1,   0,       0,   0,      0},
    {"no: exit 0",                  NO,         0,  0,   0,       0,   0,      0},
    {"always: exit 0",              ALWAYS,     0,  0,   0,       0,   0,      1},
    {"always: exit 1",              ALWAYS,     0,  1,   0,       0,   0,      1},
    {"always: 1000 restarts",       ALWAYS,     0,  1,   1000,    0,   0,      1},
    {"always: user stop",           ALWAYS,     0,  143, 0,       1,   0,      0},
    {"always: project stop",        ALWAYS,     0,  1,   0,       0,   1,      0},
    {"unless-stopped: exit 0",      UNLESS,     0,  0,   0,       0,   0,      1},
    {"unless-stopped: exit 1",      UNLESS,     0,  1,   0,       0,   0,      1},
    {"unless-stopped: user stop",   UNLESS,     0,  137, 0,       1,   0,      0},
    {"unless-stopped: project",     UNLESS,     0,  0,   0,       0,   1,      0},
    {"on-failure: exit 0",          ON_FAILURE, 0,  0,   0,       0,   0,      0},
    {"on-failure: exit 1",          ON_FAILURE, 0,  1,   0,       0,   0,      1},
    {"on-failure: exit 137",        ON_FAILURE, 0,  137, 0,       0,   0,      1},
    {"on-failure: 500 restarts",    ON_FAILURE, 0,  1,   500,     0,   0,      1},
    {"on-failure: user stop",       ON_FAILURE, 0,  143, 0,       1,   0,      0},
    {"on-failure: project stop",    ON_FAILURE, 0,  1,   0,       0,   1,      0},
    {"on-failure:3 after 0",        ON_FAILURE, 3,  1,   0,       0,   0,      1},
    {"on-failure:3 after 2",        ON_FAILURE, 3,  1,   2,       0,   0,      1},
    {"on-failure:3 after exactly 3", ON_FAILURE, 3, 1,   3,       0,   0,      0},
    {"on-failure:3 after 4",        ON_FAILURE, 3,  1,   4,       0,   0,      0},
    {"on-failure:3 exit 0",         ON_FAILURE, 3,  0,   0,       0,   0,      0},
    {"on-failure:1 after 0",        ON_FAILURE, 1,  255, 0,       0,   0,      1},
    {"on-failure:1 after exactly 1", ON_FAILURE, 1, 255, 1,       0,   0,      0},
};
/* clang-format on */

static void test_restart_table(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < N_ELEMS(restart_cases); i++) {
        const struct restart_case *t = &restart_cases[i];
        struct svp_exit x = {
            .policy = t->policy,
            .max_retries = t->max_retries,
            .exit_code = t->exit_code,
            .restarts = t->restarts,
            .stop_requested = t->user_stop,
            .project_stopping = t->project_stop,
        };
        bool r = svp_should_restart(&x);
        if (r != t->restart) {
            print_error("%s: restart %d, want %d\n", t->what, r, t->restart);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ---- restart back-off ------------------------------------------------- */

struct backoff_case {
    const char *what;
    int step;
    uint64_t ran_ms;
    uint64_t delay_ms;
    int next_step;
};

/* clang-format off */
static const struct backoff_case backoff_cases[] = {
    {"first restart",                  0,  0,       100,   1},
    {"second",                         1,  50,      200,   2},
    {"third",                          2,  9999,    400,   3},
    {"doubling",                       5,  0,       3200,  6},
    {"below the cap",                  9,  0,       51200, 10},
    {"capped at a minute",             10, 0,       60000, 11},
    {"still capped",                   11, 0,       60000, 12},
    {"capped far on",                  1000, 0,     60000, 1001},
    {"a 10 s run resets",              7,  10000,   100,   1},
    {"a long run resets",              30, 3600000, 100,   1},
    {"just under 10 s keeps doubling", 7,  9999,    12800, 8},
    {"reset from step 0",              0,  20000,   100,   1},
};
/* clang-format on */

static void test_backoff_table(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < N_ELEMS(backoff_cases); i++) {
        const struct backoff_case *t = &backoff_cases[i];
        struct svp_backoff b = svp_backoff_next(t->step, t->ran_ms);
        if (b.delay_ms != t->delay_ms || b.step != t->next_step) {
            print_error("%s: delay %llu step %d, want %llu step %d\n", t->what,
                        (unsigned long long)b.delay_ms, b.step, (unsigned long long)t->delay_ms,
                        t->next_step);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A crash loop from a start request (F10): 100 ms doubling to the minute
 * and staying there; one run of 10 s starts it over. */
static void test_backoff_crash_loop_f10(void **state)
{
    static const uint64_t want[] = {100,   200,   400,   800,   1600,  3200, 6400,
                                    12800, 25600, 51200, 60000, 60000, 60000};
    int step = 0;
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        struct svp_backoff b = svp_backoff_next(step, 5);
        assert_int_equal(b.delay_ms, want[i]);
        step = b.step;
    }
    struct svp_backoff b = svp_backoff_next(step, BACKOFF_RESET_MS);
    assert_int_equal(b.delay_ms, BACKOFF_START_MS);
    b = svp_backoff_next(b.step, 0);
    assert_int_equal(b.delay_ms, 2 * BACKOFF_START_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dep_gate_table),
        cmocka_unit_test(test_dep_verdict_table),
        cmocka_unit_test(test_dep_not_required_failed),
        cmocka_unit_test(test_restart_table),
        cmocka_unit_test(test_backoff_table),
        cmocka_unit_test(test_backoff_crash_loop_f10),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
