/* SPDX-License-Identifier: Apache-2.0 */
/* The pure decisions of `up` (cmd/up_decide.c): which services come up
 * (named ones and their dependencies, --no-deps), how many replicas
 * (--scale over replicas), keep or recreate a container (config hash,
 * --force-recreate, --no-recreate), and what a scale-down removes. The
 * phases that act on them run real containers in the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cmd/up.h"
#include "util/cleanup.h"

/* web -> api -> db; cache alone. */
static struct svc_depend web_deps[] = {{.service = "api"}};
static struct svc_depend api_deps[] = {{.service = "db"}};
static struct service services[] = {
    {.name = "db", .replicas = 1},
    {.name = "api", .depends_on = api_deps, .n_depends = 1, .replicas = 2},
    {.name = "web", .depends_on = web_deps, .n_depends = 1},
    {.name = "cache", .replicas = 1},
};
static struct project proj = {.name = "upt", .services = services, .n_services = 4};

static void test_wanted_all_when_none_named(void **state)
{
    (void)state;
    _cleanup_free_ bool *w = up_wanted(&proj, NULL, false);
    for (size_t i = 0; i < 4; i++)
        assert_true(w[i]);
    char *none[] = {NULL};
    _cleanup_free_ bool *w2 = up_wanted(&proj, none, true);
    for (size_t i = 0; i < 4; i++)
        assert_true(w2[i]);
}

static void test_wanted_named_with_dependencies(void **state)
{
    (void)state;
    char *named[] = {"web", NULL};
    _cleanup_free_ bool *w = up_wanted(&proj, named, false);
    assert_true(w[0]);  /* db, through api */
    assert_true(w[1]);  /* api */
    assert_true(w[2]);  /* web */
    assert_false(w[3]); /* cache */
}

static void test_wanted_no_deps(void **state)
{
    (void)state;
    char *named[] = {"web", NULL};
    _cleanup_free_ bool *w = up_wanted(&proj, named, true);
    assert_false(w[0]);
    assert_false(w[1]);
    assert_true(w[2]);
    assert_false(w[3]);
}

static void test_replicas(void **state)
{
    (void)state;
    assert_int_equal(up_replicas(&services[2], NULL), 1); /* unset: 1 */
    assert_int_equal(up_replicas(&services[1], NULL), 2);
    char *scale[] = {"ap=5", "api=3", "apiary=7", NULL};
    assert_int_equal(up_replicas(&services[1], scale), 3);
    char *zero[] = {"api=0", NULL};
    assert_int_equal(up_replicas(&services[1], zero), 0);
}

static void test_decide(void **state)
{
    (void)state;
    struct ctr_record old = {.name = "upt-db-1", .plan = {.config = "aaa"}};
    assert_int_equal(up_decide(NULL, "aaa", false, false), UP_CREATE);
    assert_int_equal(up_decide(NULL, "aaa", true, true), UP_CREATE);
    assert_int_equal(up_decide(&old, "aaa", false, false), UP_KEEP);
    assert_int_equal(up_decide(&old, "bbb", false, false), UP_RECREATE);
    assert_int_equal(up_decide(&old, "aaa", true, false), UP_RECREATE);
    assert_int_equal(up_decide(&old, "bbb", false, true), UP_KEEP);
    /* a record without a hash (an older berth's) is recreated */
    struct ctr_record nohash = {.name = "upt-db-1"};
    assert_int_equal(up_decide(&nohash, "aaa", false, false), UP_RECREATE);
}

static void test_scaled_down(void **state)
{
    (void)state;
    char *named[] = {"api", NULL};
    _cleanup_free_ bool *w = up_wanted(&proj, named, true);
    struct up_item items[] = {{.plan = {.name = "upt-api-1"}}};
    struct ctr_record api1 = {.name = "upt-api-1", .service = "api"};
    struct ctr_record api2 = {.name = "upt-api-2", .service = "api"};
    struct ctr_record db1 = {.name = "upt-db-1", .service = "db"};
    struct ctr_record gone = {.name = "upt-old-1", .service = "old"};
    struct ctr_record oneoff = {.name = "upt-api-run-1", .service = "api", .oneoff = true};
    assert_false(up_scaled_down(&proj, w, &api1, items, 1));   /* still planned */
    assert_true(up_scaled_down(&proj, w, &api2, items, 1));    /* beyond the new count */
    assert_false(up_scaled_down(&proj, w, &db1, items, 1));    /* a service not brought up */
    assert_false(up_scaled_down(&proj, w, &gone, items, 1));   /* an orphan: not this phase's */
    assert_false(up_scaled_down(&proj, w, &oneoff, items, 1)); /* a `run` container */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wanted_all_when_none_named),
        cmocka_unit_test(test_wanted_named_with_dependencies),
        cmocka_unit_test(test_wanted_no_deps),
        cmocka_unit_test(test_replicas),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_scaled_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
