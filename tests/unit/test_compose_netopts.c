/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the bridge driver_opts table (compose/netopts.c): each
 * honoured option's values and defaults, the refused and ignored ones,
 * options outside docker's namespace, and every value that does not
 * parse. Not here: reading them from a file and the plan's refusal
 * (test_compose_network.c), acting on them (integration test_net_opts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/netopts.h"

#define NS "com.docker.network."

struct ocase {
    const char *key, *value;
    int verdict;     /* NETOPT_* or -EINVAL */
    const char *why; /* a part of the message, or NULL for none */
};

static const struct ocase cases[] = {
    /* clang-format off */
    {NS "bridge.name",                    "br-front",        NETOPT_HONOURED, NULL},
    {NS "bridge.name",                    "a123456789012345", -EINVAL, "invalid interface name"},
    {NS "bridge.name",                    "",                -EINVAL, "invalid interface name"},
    {NS "bridge.name",                    "br/x",            -EINVAL, "invalid interface name"},
    {NS "bridge.name",                    "..",              -EINVAL, "invalid interface name"},
    {NS "bridge.name",                    "br x",            -EINVAL, "invalid interface name"},
    {NS "driver.mtu",                     "1400",            NETOPT_HONOURED, NULL},
    {NS "driver.mtu",                     "0",               NETOPT_HONOURED, NULL},
    {NS "driver.mtu",                     "68",              NETOPT_HONOURED, NULL},
    {NS "driver.mtu",                     "65535",           NETOPT_HONOURED, NULL},
    {NS "driver.mtu",                     "67",              -EINVAL, "invalid MTU \"67\""},
    {NS "driver.mtu",                     "65536",           -EINVAL, "invalid MTU"},
    {NS "driver.mtu",                     "abc",             -EINVAL, "invalid MTU \"abc\""},
    {NS "driver.mtu",                     "-1",              -EINVAL, "invalid MTU"},
    {NS "driver.mtu",                     "1400x",           -EINVAL, "invalid MTU"},
    {NS "driver.mtu",                     "99999999999999999999", -EINVAL, "invalid MTU"},
    {NS "bridge.enable_ip_masquerade",    "false",           NETOPT_HONOURED, NULL},
    {NS "bridge.enable_ip_masquerade",    "maybe",           -EINVAL, "invalid boolean \"maybe\""},
    {NS "bridge.enable_icc",              "0",               NETOPT_HONOURED, NULL},
    {NS "bridge.enable_icc",              "yes",             -EINVAL, "invalid boolean"},
    {NS "bridge.host_binding_ipv4",       "127.0.0.1",       NETOPT_HONOURED, NULL},
    {NS "bridge.host_binding_ipv4",       "0.0.0.0",         NETOPT_HONOURED, NULL},
    {NS "bridge.host_binding_ipv4",       "::1",             -EINVAL, "invalid IPv4 address"},
    {NS "bridge.host_binding_ipv4",       "300.1.1.1",       -EINVAL, "invalid IPv4 address"},
    {NS "bridge.gateway_mode_ipv4",       "nat",             NETOPT_HONOURED, NULL},
    {NS "bridge.gateway_mode_ipv4",       "isolated",        NETOPT_REFUSED, "\"isolated\" is not supported"},
    {NS "bridge.gateway_mode_ipv4",       "routed",          NETOPT_REFUSED, "\"routed\" is not supported"},
    {NS "bridge.gateway_mode_ipv6",       "nat-unprotected", NETOPT_REFUSED, "not supported"},
    {NS "bridge.gateway_mode_ipv6",       "bogus",           -EINVAL, "invalid gateway mode"},
    {NS "bridge.inhibit_ipv4",            "true",            NETOPT_REFUSED, "inhibit_ipv4: \"true\" is not supported"},
    {NS "bridge.inhibit_ipv4",            "false",           NETOPT_HONOURED, NULL},
    {NS "bridge.inhibit_ipv4",            "sure",            -EINVAL, "invalid boolean"},
    {NS "host_ipv4",                      "10.0.0.1",        NETOPT_REFUSED, "host_ipv4 is not supported"},
    {NS "bridge.default_bridge",          "true",            NETOPT_IGNORED, "default_bridge is ignored"},
    {NS "container_iface_prefix",         "en",              NETOPT_IGNORED, "container_iface_prefix is ignored"},
    {NS "bridge.trusted_host_interfaces", "eth0",            NETOPT_IGNORED, "is ignored"},
    {NS "bridge.something_new",           "1",               NETOPT_REFUSED, "berth does not know what it does"},
    {NS "macvlan.mode",                   "bridge",          NETOPT_REFUSED, "not supported"},
    {"com.example.tag",                   "x",               NETOPT_IGNORED, "not an option of the bridge driver"},
    {"mtu",                               "1400",            NETOPT_IGNORED, "mtu is ignored"},
    /* clang-format on */
};

static void test_table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct ocase *c = &cases[i];
        struct netopts o = {0};
        char *why = NULL;
        int r = netopt_classify(c->key, c->value, &o, &why);
        if (r != c->verdict || (c->why && (!why || !strstr(why, c->why))) || (!c->why && why))
            fail_msg("%s=%s: got %d [%s], want %d [%s]", c->key, c->value, r, why ? why : "(none)",
                     c->verdict, c->why ? c->why : "(none)");
        free(why);
        netopts_clear(&o);
    }
}

/* What the honoured options make, and their defaults. */
static void test_values(void **state)
{
    struct netopts o = {0};
    char *why = NULL;
    assert_null(o.bridge_name);
    assert_int_equal(netopt_classify(NS "bridge.name", "br-x", &o, &why), NETOPT_HONOURED);
    assert_string_equal(o.bridge_name, "br-x");
    assert_int_equal(netopt_classify(NS "driver.mtu", "9000", &o, &why), NETOPT_HONOURED);
    assert_int_equal(o.mtu, 9000);
    assert_int_equal(netopt_classify(NS "driver.mtu", "0", &o, &why), NETOPT_HONOURED);
    assert_int_equal(o.mtu, 0); /* docker's 0: the default */
    static const char *const falses[] = {"false", "False", "FALSE", "f", "F", "0"};
    static const char *const trues[] = {"true", "True", "TRUE", "t", "T", "1"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(netopt_classify(NS "bridge.enable_icc", falses[i], &o, &why), 0);
        assert_true(o.no_icc);
        assert_int_equal(netopt_classify(NS "bridge.enable_icc", trues[i], &o, &why), 0);
        assert_false(o.no_icc);
        assert_int_equal(netopt_classify(NS "bridge.enable_ip_masquerade", falses[i], &o, &why), 0);
        assert_true(o.no_masquerade);
        assert_int_equal(netopt_classify(NS "bridge.enable_ip_masquerade", trues[i], &o, &why), 0);
        assert_false(o.no_masquerade);
    }
    assert_int_equal(netopt_classify(NS "bridge.host_binding_ipv4", "127.0.0.1", &o, &why), 0);
    assert_string_equal(o.host_binding_ipv4, "127.0.0.1");
    /* 0.0.0.0 is docker's default: every address, as without the option */
    assert_int_equal(netopt_classify(NS "bridge.host_binding_ipv4", "0.0.0.0", &o, &why), 0);
    assert_null(o.host_binding_ipv4);
    /* a value that does not parse leaves what was there */
    assert_int_equal(netopt_classify(NS "bridge.name", "no/slash", &o, &why), -EINVAL);
    free(why);
    assert_string_equal(o.bridge_name, "br-x");
    netopts_clear(&o);
    assert_null(o.bridge_name);
}

static void test_ifname(void **state)
{
    assert_true(netopt_ifname_ok("br-0a1b2c3d4e5f"));
    assert_true(netopt_ifname_ok("a.b_c-D"));
    assert_true(netopt_ifname_ok("abcdefghijklmno")); /* 15 */
    assert_false(netopt_ifname_ok("abcdefghijklmnop"));
    assert_false(netopt_ifname_ok(""));
    assert_false(netopt_ifname_ok("."));
    assert_false(netopt_ifname_ok(".."));
    assert_false(netopt_ifname_ok("a:b"));
    assert_false(netopt_ifname_ok("a\"b"));
    assert_false(netopt_ifname_ok("a\nb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_ifname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
