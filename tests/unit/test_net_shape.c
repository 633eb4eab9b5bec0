/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for berth's x-berth-network extension: tc's rate, time and
 * percent syntaxes (compose/tcunits.h), the extension read at load (its
 * errors with file:line, network_mode's rules), the plan's shaping kept in
 * the record but out of the config text that decides recreation, and the
 * ifb device names (net/shape.h). The tc work itself is covered by
 * tests/integration/test_bw.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "compose/tcunits.h"
#include "plan_testutil.h"
#include "engine/plan/plan.h"
#include "net/shape.h"

/* --- The syntaxes ------------------------------------------------------------ */

static void test_rates(void **state)
{
    static const struct {
        const char *in;
        int r;
        uint64_t bits;
    } cases[] = {
        {"10mbit", 0, 10000000},
        {"10Mbit", 0, 10000000},
        {"10MBIT", 0, 10000000},
        {"1.5mbit", 0, 1500000},
        {"8kbit", 0, 8000},
        {"1gbit", 0, 1000000000},
        {"8kibit", 0, 8192},
        {"2kibit", -ERANGE, 0},
        {"1mibit", 0, 1048576},
        {"1gibit", 0, 1073741824},
        {"1000000bit", 0, 1000000},
        {"1000000", 0, 1000000}, /* a bare number: bits per second */
        {"1bps", -ERANGE, 0},    /* 8 bits a second: below 8kbit */
        {"1kbps", 0, 8000},      /* bytes, as tc reads kbps */
        {"1KBps", 0, 8000},
        {"1mbps", 0, 8000000},
        {"1mibps", 0, 8388608},
        {"2gbps", 0, 16000000000}, /* just under the most */
        {"17gbit", 0, 17000000000},
        {"18gbit", -ERANGE, 0},
        {"3gbps", -ERANGE, 0},
        {"7999bit", -ERANGE, 0},
        {"0", -ERANGE, 0},
        {"0mbit", -ERANGE, 0},
        {".5mbit", 0, 500000},
        {"", -EINVAL, 0},
        {"mbit", -EINVAL, 0},
        {"10 mbit", -EINVAL, 0},
        {"10mbits", -EINVAL, 0},
        {"10mb", -EINVAL, 0},
        {"-10mbit", -EINVAL, 0},
        {"+10mbit", -EINVAL, 0},
        {"1e6bit", -EINVAL, 0},
        {"0x10mbit", -EINVAL, 0},
        {"nanmbit", -EINVAL, 0},
        {"infmbit", -EINVAL, 0},
        {"10mbit ", -EINVAL, 0},
        {"1.2.3mbit", -EINVAL, 0},
        {"99999999999999999999999999999999999999999999999999999999999999999999mbit", -ERANGE, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t got = 0;
        int r = tc_rate_parse(cases[i].in, &got);
        if (r != cases[i].r || (r == 0 && got != cases[i].bits))
            fail_msg("tc_rate_parse(\"%s\") = %d, %llu; want %d, %llu", cases[i].in, r,
                     (unsigned long long)got, cases[i].r, (unsigned long long)cases[i].bits);
    }
}

static void test_times(void **state)
{
    static const struct {
        const char *in;
        int r;
        uint64_t us;
    } cases[] = {
        {"50ms", 0, 50000},   {"50msec", 0, 50000},   {"50msecs", 0, 50000}, {"1.5ms", 0, 1500},
        {"200us", 0, 200},    {"200usec", 0, 200},    {"200", 0, 200}, /* bare: microseconds */
        {"1s", 0, 1000000},   {"1.5sec", 0, 1500000}, {"2secs", 0, 2000000}, {"0", 0, 0},
        {"0ms", 0, 0},        {"60s", 0, 60000000},   {"61s", -ERANGE, 0},   {"1m", -EINVAL, 0},
        {"5 ms", -EINVAL, 0}, {"5MS", -EINVAL, 0},    {"ms", -EINVAL, 0},    {"", -EINVAL, 0},
        {"-5ms", -EINVAL, 0}, {"5ns", -EINVAL, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t got = 0;
        int r = tc_time_parse(cases[i].in, &got);
        if (r != cases[i].r || (r == 0 && got != cases[i].us))
            fail_msg("tc_time_parse(\"%s\") = %d, %llu; want %d, %llu", cases[i].in, r,
                     (unsigned long long)got, cases[i].r, (unsigned long long)cases[i].us);
    }
}

static void test_percents(void **state)
{
    static const struct {
        const char *in;
        int r;
        double pct;
    } cases[] = {
        {"1%", 0, 1.},
        {"0.5%", 0, 0.5},
        {"100%", 0, 100.},
        {"0%", 0, 0.},
        {"1", 0, 1.},
        {"2.25", 0, 2.25},
        {"100.1%", -ERANGE, 0},
        {"101", -ERANGE, 0},
        {"-1%", -EINVAL, 0},
        {"%", -EINVAL, 0},
        {"1%%", -EINVAL, 0},
        {"1 %", -EINVAL, 0},
        {"1percent", -EINVAL, 0},
        {"", -EINVAL, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double got = -1;
        int r = tc_percent_parse(cases[i].in, &got);
        if (r != cases[i].r || (r == 0 && got != cases[i].pct))
            fail_msg("tc_percent_parse(\"%s\") = %d, %g; want %d, %g", cases[i].in, r, got,
                     cases[i].r, cases[i].pct);
    }
}

/* --- At load ----------------------------------------------------------------- */

static void test_load(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    x-berth-network:\n"
                    "      egress: 10mbit\n"
                    "      ingress: ${IN:-2mbps}\n"
                    "      delay: 50ms\n"
                    "      jitter: 5ms\n"
                    "      loss: 1.5%\n"
                    "  db:\n"
                    "    image: x\n"
                    "    x-berth-network: {}\n"
                    "  plain:\n"
                    "    image: x\n"
                    "    x-other: {egress: nonsense}\n",
                    NULL);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    assert_true(s->shape.set);
    assert_int_equal(s->shape.egress_bits, 10000000);
    assert_int_equal(s->shape.ingress_bits, 16000000);
    assert_int_equal(s->shape.delay_us, 50000);
    assert_int_equal(s->shape.jitter_us, 5000);
    assert_true(s->shape.loss_pct == 1.5);
    assert_false(ct_service(&l, "db")->shape.set);
    assert_false(ct_service(&l, "plain")->shape.set);
    assert_false(ct_warned(&l.w, "x-berth-network"));
    assert_false(ct_warned(&l.w, "x-other"));
    ct_load_done(&l);
}

static void test_load_errors(void **state)
{
    static const struct {
        const char *value;
        const char *error;
    } cases[] = {
        {"{egress: fast}", "compose.yaml:4:31: service \"web\": x-berth-network.egress: invalid "
                           "rate \"fast\""},
        {"{ingress: 40gbit}", "compose.yaml:4:32: service \"web\": x-berth-network.ingress: rate "
                              "\"40gbit\" is out of range"},
        {"{egres: 1mbit}", "compose.yaml:4:23: service \"web\": x-berth-network: unknown key "
                           "\"egres\""},
        {"{delay: 5 ms}", "x-berth-network.delay: invalid time \"5 ms\""},
        {"{delay: 2h}", "x-berth-network.delay: invalid time \"2h\""},
        {"{delay: 61s}", "x-berth-network.delay: time \"61s\" is out of range"},
        {"{loss: 101%}", "x-berth-network.loss: invalid percentage \"101%\""},
        {"{delay: 5ms, jitter: 5ms, loss: x}", "x-berth-network.loss: invalid percentage"},
        {"{jitter: 5ms}", "x-berth-network.jitter: jitter needs a delay"},
        {"10mbit", "compose.yaml:4:22: service \"web\": x-berth-network: expected a mapping"},
        {"[egress]", "x-berth-network: expected a mapping"},
        {"{egress: [1]}", "x-berth-network.egress: expected a string"},
        {"{egress: true}", "x-berth-network.egress: expected a string"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ct_load l;
        _cleanup_free_ char *y =
            xasprintf("services:\n  web:\n    image: x\n    x-berth-network: %s\n", cases[i].value);
        int r = ct_load(&l, y, NULL);
        if (r == 0 || !l.e.msg || !strstr(l.e.msg, cases[i].error))
            fail_msg("%s: want error [%s], got [%s]", cases[i].value, cases[i].error,
                     l.e.msg ? l.e.msg : "(none)");
        ct_load_done(&l);
    }
}

static void test_network_modes(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    x-berth-network: {egress: 1mbit}\n"
                    "    network_mode: host\n",
                    NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "compose.yaml:4:22: service \"web\": x-berth-network: network_mode: host");
    ct_load_done(&l);
    r = ct_load(&l,
                "services:\n"
                "  a:\n"
                "    image: x\n"
                "  web:\n"
                "    image: x\n"
                "    network_mode: service:a\n"
                "    x-berth-network: {egress: 1mbit}\n",
                NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "x-berth-network: network_mode: service:a shares another container's");
    ct_load_done(&l);
    /* none: nothing to shape, said once */
    r = ct_load(&l,
                "services:\n"
                "  web:\n"
                "    image: x\n"
                "    network_mode: none\n"
                "    x-berth-network: {egress: 1mbit}\n",
                NULL);
    assert_int_equal(r, 0);
    ct_assert_warned(&l, "compose.yaml:5:22: service \"web\": x-berth-network: network_mode: none");
    assert_false(ct_service(&l, "web")->shape.set);
    ct_load_done(&l);
}

/* --- The plan ---------------------------------------------------------------- */

static void plan_ok(struct planned *p, const char *body)
{
    plan_of(p, body);
    assert_int_equal(p->r, 0);
}

static void test_plan(void **state)
{
    struct planned d, p, q;
    plan_ok(&d, "");
    assert_false(net_shape_any(&d.c.shape));
    /* No shaping: no "shape" in the record (a record made before reads
     * the same). */
    json_t *j = plan_to_json(&d.c);
    assert_null(json_object_get(j, "shape"));
    json_decref(j);

    plan_ok(&p, "    x-berth-network: {egress: 8mbit, ingress: 1mbit, delay: 10ms, jitter: 1ms, "
                "loss: 0.5%}\n");
    assert_int_equal(p.c.shape.egress_bits, 8000000);
    assert_int_equal(p.c.shape.ingress_bits, 1000000);
    assert_int_equal(p.c.shape.delay_us, 10000);
    assert_int_equal(p.c.shape.jitter_us, 1000);
    assert_true(p.c.shape.loss_pct == 0.5);
    /* Not in the config that decides recreation: `up` changes it in place. */
    assert_string_equal(p.c.config, d.c.config);
    plan_ok(&q, "    x-berth-network: {egress: 16mbit}\n");
    assert_string_equal(q.c.config, d.c.config);
    assert_false(net_shape_equal(&p.c.shape, &q.c.shape));
    /* The record keeps it, for the supervisor's starts. */
    j = plan_to_json(&p.c);
    assert_non_null(json_object_get(j, "shape"));
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_true(net_shape_equal(&back.shape, &p.c.shape));
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&q);
    planned_done(&p);
    planned_done(&d);
}

static void test_ifb_names(void **state)
{
    char n[16];
    net_shape_ifb_name("0123456789abcdef0123", 0, n);
    assert_string_equal(n, "bw0123456789ab0");
    net_shape_ifb_name("0123456789abcdef0123", 15, n);
    assert_string_equal(n, "bw0123456789abf");
    assert_int_equal(strlen(n), 15); /* IFNAMSIZ - 1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),       cmocka_unit_test(test_times),
        cmocka_unit_test(test_percents),    cmocka_unit_test(test_load),
        cmocka_unit_test(test_load_errors), cmocka_unit_test(test_network_modes),
        cmocka_unit_test(test_plan),        cmocka_unit_test(test_ifb_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
