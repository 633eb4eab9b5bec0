/* SPDX-License-Identifier: Apache-2.0 */
/* The pure decisions of `up` (cmd/up_decide.c): which services come up
 * (named ones and their dependencies, --no-deps), how many replicas
 * (--scale over replicas), keep or recreate a container (config hash,
 * --force-recreate, --no-recreate), what a scale-down removes, and which
 * published ports clash. The
 * phases that act on them run real containers in the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
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

static struct plan_port pport(int proto, char *ip, uint16_t port, uint16_t end)
{
    return (struct plan_port){
        .proto = proto, .host_ip = ip, .host_port = port, .host_port_end = end};
}

static void test_ports_clash(void **state)
{
    (void)state;
    const int T = IPPROTO_TCP, U = IPPROTO_UDP;
    struct plan_port any = pport(T, NULL, 8080, 8080);
    struct plan_port lo = pport(T, "127.0.0.1", 8080, 8080);
    struct plan_port lo2 = pport(T, "127.0.0.2", 8080, 8080);
    struct plan_port wild = pport(T, "0.0.0.0", 8080, 8080);
    struct plan_port v6lo = pport(T, "::1", 8080, 8080);
    struct plan_port v6any = pport(T, "[::]", 8080, 8080);
    struct plan_port udp = pport(U, NULL, 8080, 8080);
    struct plan_port other = pport(T, NULL, 8081, 8081);
    struct plan_port range = pport(T, NULL, 8080, 8090);
    struct plan_port rnd = pport(T, NULL, 0, 0);
    assert_true(up_ports_clash(&any, &any));    /* the same port twice */
    assert_true(up_ports_clash(&any, &lo));     /* every address takes 127.0.0.1 too */
    assert_true(up_ports_clash(&lo, &wild));    /* 0.0.0.0 as no host IP */
    assert_true(up_ports_clash(&lo, &lo));      /* one address */
    assert_true(up_ports_clash(&v6lo, &v6any)); /* :: takes ::1 */
    assert_false(up_ports_clash(&lo, &lo2));    /* two addresses */
    assert_false(up_ports_clash(&lo, &v6lo));   /* two families */
    assert_false(up_ports_clash(&any, &udp));   /* tcp and udp are apart */
    assert_false(up_ports_clash(&any, &other)); /* two ports */
    assert_false(up_ports_clash(&any, &range)); /* a range: any free port in it */
    assert_false(up_ports_clash(&rnd, &rnd));   /* random ports */
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
        cmocka_unit_test(test_ports_clash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
