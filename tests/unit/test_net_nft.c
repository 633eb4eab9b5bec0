/* SPDX-License-Identifier: Apache-2.0 */
/* net/nft.h's script, checked piecewise (each rule present, nothing that
 * must not be there): a typical project, an internal network, IPv6, a
 * host_ip, udp and sctp, loopback publishes, hostile strings refused. Pure:
 * nothing reaches the kernel (test_net_nft_apply.c does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka after the headers it needs */
#include <cmocka.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/nft.h"
#include "util/cleanup.h"

/* The line of script that contains needle, or a failure naming it. */
static void has_line(const char *script, const char *line)
{
    const char *p = script;
    size_t n = strlen(line);
    while ((p = strstr(p, line))) {
        bool start = p == script || p[-1] == '\t' || p[-1] == '\n';
        if (start && (p[n] == '\n' || p[n] == '\0'))
            return;
        p += n;
    }
    fail_msg("script lacks the line \"%s\":\n%s", line, script);
}

static void lacks(const char *script, const char *needle)
{
    if (strstr(script, needle))
        fail_msg("script has \"%s\":\n%s", needle, script);
}

static char *script_of(const struct nft_project *p)
{
    char *s = NULL;
    struct berr e = BERR_INIT;
    int r = nft_project_script(p, &s, &e);
    if (r < 0)
        fail_msg("nft_project_script: %s", e.msg);
    return s;
}

static const struct nft_net web_net[] = {
    {.bridge = "br-0a1b2c3d4e5f", .subnet4 = "172.18.0.0/16"},
};

static void test_typical_project(void **state)
{
    const struct nft_port ports[] = {
        {.proto = IPPROTO_TCP,
         .host_port = 8080,
         .ctr_addr4 = "172.18.0.2",
         .ctr_port = 80,
         .bridge = "br-0a1b2c3d4e5f"},
    };
    struct nft_project p = {"shop", web_net, 1, ports, 1};
    _cleanup_free_ char *s = script_of(&p);
    /* Replaced whole, in this order, in one script. */
    assert_non_null(strstr(s, "table inet berth-shop\ndelete table inet berth-shop\n"
                              "table inet berth-shop {\n"));
    has_line(s, "type nat hook prerouting priority dstnat; policy accept;");
    has_line(s, "meta nfproto ipv4 fib daddr type local ip daddr != 127.0.0.0/8 iifname != "
                "\"br-0a1b2c3d4e5f\" tcp dport 8080 dnat ip to 172.18.0.2:80");
    has_line(s, "type nat hook output priority -100; policy accept;");
    has_line(s, "meta nfproto ipv4 fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 "
                "dnat ip to 172.18.0.2:80");
    has_line(s, "type nat hook postrouting priority srcnat; policy accept;");
    has_line(s, "ip saddr 172.18.0.0/16 oifname != \"br-0a1b2c3d4e5f\" masquerade");
    has_line(s, "type filter hook forward priority filter; policy accept;");
    has_line(s, "oifname \"br-0a1b2c3d4e5f\" iifname != \"br-0a1b2c3d4e5f\" ct state != { "
                "established, related } ct status & dnat == 0 drop");
    /* No v6 rule without a v6 address; nothing ever accepted; N07. */
    lacks(s, "ip6");
    lacks(s, " accept\n");
    lacks(s, "route_localnet");
}

/* An internal network: no masquerade, cut off both ways, no port. */
static void test_internal_network(void **state)
{
    const struct nft_net nets[] = {
        {.bridge = "br-in", .subnet4 = "10.9.0.0/24", .internal = true},
        {.bridge = "br-out", .subnet4 = "10.8.0.0/24"},
    };
    const struct nft_port ports[] = {
        {.proto = IPPROTO_TCP,
         .host_port = 9000,
         .ctr_addr4 = "10.9.0.2",
         .ctr_port = 90,
         .bridge = "br-in"},
    };
    struct nft_project p = {"intl", nets, 2, ports, 1};
    _cleanup_free_ char *s = script_of(&p);
    has_line(s, "iifname \"br-in\" oifname != \"br-in\" drop");
    has_line(s, "oifname \"br-in\" iifname != \"br-in\" drop");
    has_line(s, "ip saddr 10.8.0.0/24 oifname != \"br-out\" masquerade");
    lacks(s, "10.9.0.0/24");
    lacks(s, "dport 9000");
    lacks(s, "oifname \"br-in\" iifname != \"br-in\" ct state");
}

static void test_ipv6(void **state)
{
    const struct nft_net nets[] = {
        {.bridge = "br-six", .subnet4 = "172.20.0.0/16", .subnet6 = "fd00:0:0:1::/64"},
    };
    const struct nft_port ports[] = {
        {.proto = IPPROTO_TCP,
         .host_port = 443,
         .ctr_addr4 = "172.20.0.5",
         .ctr_addr6 = "fd00:0:0:1::5",
         .ctr_port = 8443,
         .bridge = "br-six"},
    };
    struct nft_project p = {"six", nets, 1, ports, 1};
    _cleanup_free_ char *s = script_of(&p);
    has_line(s, "ip6 saddr fd00:0:0:1::/64 oifname != \"br-six\" masquerade");
    has_line(s, "meta nfproto ipv6 fib daddr type local ip6 daddr != ::1 iifname != \"br-six\" "
                "tcp dport 443 dnat ip6 to [fd00:0:0:1::5]:8443");
    has_line(s, "meta nfproto ipv6 fib daddr type local ip6 daddr != ::1 tcp dport 443 dnat ip6 "
                "to [fd00:0:0:1::5]:8443");
    has_line(s, "meta nfproto ipv4 fib daddr type local ip daddr != 127.0.0.0/8 iifname != "
                "\"br-six\" tcp dport 443 dnat ip to 172.20.0.5:8443");
}

/* One host address: matched exactly, in its family only; "0.0.0.0" and
 * "::" are every address of one family; udp and sctp. */
static void test_host_ip_and_protocols(void **state)
{
    const struct nft_port ports[] = {
        {IPPROTO_UDP, "192.0.2.10", 5353, "172.18.0.2", NULL, 53, "br-0a1b2c3d4e5f"},
        {IPPROTO_SCTP, "0.0.0.0", 3868, "172.18.0.2", "fd00::2", 3868, "br-0a1b2c3d4e5f"},
        {IPPROTO_TCP, "::", 8081, "172.18.0.2", "fd00::2", 81, "br-0a1b2c3d4e5f"},
        {IPPROTO_TCP, "2001:db8::0:1", 8082, "172.18.0.2", "fd00::2", 82, "br-0a1b2c3d4e5f"},
    };
    struct nft_project p = {"hip", web_net, 1, ports, 4};
    _cleanup_free_ char *s = script_of(&p);
    has_line(s, "ip daddr 192.0.2.10 iifname != \"br-0a1b2c3d4e5f\" udp dport 5353 dnat ip to "
                "172.18.0.2:53");
    has_line(s, "ip daddr 192.0.2.10 udp dport 5353 dnat ip to 172.18.0.2:53");
    has_line(s, "meta nfproto ipv4 fib daddr type local ip daddr != 127.0.0.0/8 iifname != "
                "\"br-0a1b2c3d4e5f\" sctp dport 3868 dnat ip to 172.18.0.2:3868");
    lacks(s, "sctp dport 3868 dnat ip6");
    has_line(s, "meta nfproto ipv6 fib daddr type local ip6 daddr != ::1 iifname != "
                "\"br-0a1b2c3d4e5f\" tcp dport 8081 dnat ip6 to [fd00::2]:81");
    lacks(s, "tcp dport 8081 dnat ip to");
    /* Written canonically (from the parsed bytes). */
    has_line(s, "ip6 daddr 2001:db8::1 tcp dport 8082 dnat ip6 to [fd00::2]:82");
    lacks(s, "tcp dport 8082 dnat ip to");
}

/* N07 (CVE-2020-8558): a loopback publish gets no kernel rule at all (the
 * proxy serves it), and no rule anywhere lets 127.0.0.0/8 or ::1 be
 * DNAT'ed. */
static void test_loopback_never_dnat(void **state)
{
    const struct nft_port ports[] = {
        {IPPROTO_TCP, "127.0.0.1", 7001, "172.18.0.2", "fd00::2", 80, "br-0a1b2c3d4e5f"},
        {IPPROTO_TCP, "127.1.2.3", 7002, "172.18.0.2", "fd00::2", 80, "br-0a1b2c3d4e5f"},
        {IPPROTO_TCP, "::1", 7003, "172.18.0.2", "fd00::2", 80, "br-0a1b2c3d4e5f"},
    };
    struct nft_project p = {"lo", web_net, 1, ports, 3};
    _cleanup_free_ char *s = script_of(&p);
    lacks(s, "dport 700");
    lacks(s, "route_localnet");
}

static void refused(const struct nft_project *p, const char *needle)
{
    char *s = (char *)"untouched";
    struct berr e = BERR_INIT;
    assert_true(nft_project_script(p, &s, &e) < 0);
    assert_string_equal(s, "untouched");
    assert_non_null(e.msg);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not name \"%s\"", e.msg, needle);
    assert_null(strchr(e.msg, '\n'));
    berr_clear(&e);
}

/* A scope of berth's own (a build's network) has a '.', which no compose
 * project name has, so its table is never a project's. */
static void test_own_scope_name(void **state)
{
    struct nft_project p = {"build.1a2b3c4d", web_net, 1, NULL, 0};
    _cleanup_free_ char *s = script_of(&p);
    assert_non_null(strstr(s, "table inet berth-build.1a2b3c4d {\n"));
    has_line(s, "ip saddr 172.18.0.0/16 oifname != \"br-0a1b2c3d4e5f\" masquerade");
}

static void test_hostile_strings_refused(void **state)
{
    struct nft_project p = {"Bad Name", web_net, 1, NULL, 0};
    refused(&p, "Bad Name");
    p.project = "x; flush ruleset";
    refused(&p, "flush ruleset");
    p.project = "-lead";
    refused(&p, "-lead");
    p.project = "";
    refused(&p, "project name");
    p.project = ".build";
    refused(&p, ".build");

    static const char *const bad_bridges[] = {
        "br-\" accept", "br-x\nflush", "br x", "", "br-0123456789abc", "br-}", "br-;",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_bridges); i++) {
        const struct nft_net n = {.bridge = bad_bridges[i], .subnet4 = "10.1.0.0/16"};
        struct nft_project q = {"ok", &n, 1, NULL, 0};
        refused(&q, "is not an interface name");
        const struct nft_port pt = {IPPROTO_TCP, NULL, 80, "172.18.0.2", NULL, 80, bad_bridges[i]};
        struct nft_project q2 = {"ok", web_net, 1, &pt, 1};
        refused(&q2, "is not an interface name");
    }

    const struct nft_net n6 = {.bridge = "br-a", .subnet4 = "fd00::/64"};
    struct nft_project q = {"ok", &n6, 1, NULL, 0};
    refused(&q, "is not IPv4");
    const struct nft_net nhost = {.bridge = "br-a", .subnet4 = "10.1.0.1/16"};
    q.nets = &nhost;
    refused(&q, "10.1.0.1/16");
    const struct nft_net ninj = {.bridge = "br-a", .subnet4 = "10.1.0.0/16 accept"};
    q.nets = &ninj;
    refused(&q, "accept");
    const struct nft_net nnl = {.bridge = "br-a", .subnet6 = "fd00::/64\nflush ruleset"};
    q.nets = &nnl;
    refused(&q, "fd00::/64?flush ruleset");

    const struct nft_port ports[] = {
        {IPPROTO_TCP, NULL, 80, "172.18.0.2\n", NULL, 80, "br-a"},
        {IPPROTO_TCP, NULL, 80, "172.18.0.2 accept", NULL, 80, "br-a"},
        {IPPROTO_TCP, NULL, 80, NULL, "fd00::2]:1 accept", 80, "br-a"},
        {IPPROTO_TCP, NULL, 80, "fd00::2", NULL, 80, "br-a"},
        {IPPROTO_TCP, "1.2.3.4 accept", 80, "172.18.0.2", NULL, 80, "br-a"},
        {IPPROTO_TCP, "::ffff:127.0.0.1", 80, "172.18.0.2", NULL, 80, "br-a"},
        {IPPROTO_ICMP, NULL, 80, "172.18.0.2", NULL, 80, "br-a"},
        {IPPROTO_TCP, NULL, 0, "172.18.0.2", NULL, 80, "br-a"},
        {IPPROTO_TCP, NULL, 80, "172.18.0.2", NULL, 0, "br-a"},
    };
    static const char *const names[] = {
        "172.18.0.2?", "172.18.0.2 accept", "fd00::2]:1 accept", "fd00::2",     "1.2.3.4 accept",
        "IPv4-mapped", "protocol 1",        "a port is 0",       "a port is 0",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        struct nft_project pp = {"ok", web_net, 1, &ports[i], 1};
        refused(&pp, names[i]);
    }
}

/* One protocol, host port and address published twice is refused (the
 * second entry would never see a packet); tcp and udp, IPv4 and IPv6, two
 * addresses may share a port. */
static void test_duplicate_ports(void **state)
{
    static const struct {
        int proto1;
        const char *ip1;
        int proto2;
        const char *ip2;
        bool ok;
    } cases[] = {
        {IPPROTO_TCP, NULL, IPPROTO_TCP, NULL, false},
        {IPPROTO_TCP, NULL, IPPROTO_TCP, "192.0.2.1", false},
        {IPPROTO_TCP, "0.0.0.0", IPPROTO_TCP, "192.0.2.1", false},
        {IPPROTO_TCP, "::", IPPROTO_TCP, "2001:db8::1", false},
        {IPPROTO_TCP, "127.0.0.1", IPPROTO_TCP, "127.0.0.1", false},
        {IPPROTO_TCP, "2001:db8::1", IPPROTO_TCP, "2001:db8:0::1", false},
        {IPPROTO_TCP, NULL, IPPROTO_UDP, NULL, true},
        {IPPROTO_TCP, "0.0.0.0", IPPROTO_TCP, "::", true},
        {IPPROTO_TCP, "192.0.2.1", IPPROTO_TCP, "192.0.2.2", true},
        {IPPROTO_TCP, "127.0.0.1", IPPROTO_TCP, "192.0.2.2", true},
        {IPPROTO_TCP, "::1", IPPROTO_TCP, "127.0.0.1", true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct nft_port ports[] = {
            {cases[i].proto1, cases[i].ip1, 8080, "172.18.0.2", "fd00::2", 80, "br-0a1b2c3d4e5f"},
            {cases[i].proto2, cases[i].ip2, 8080, "172.18.0.3", "fd00::3", 80, "br-0a1b2c3d4e5f"},
        };
        struct nft_project p = {"dup", web_net, 1, ports, 2};
        if (cases[i].ok) {
            free(script_of(&p));
            continue;
        }
        refused(&p, "host port 8080/tcp is published twice");
    }
}

/* The project's own name is all the table is: no other table is named. */
static void test_only_own_table(void **state)
{
    struct nft_project p = {"a-b_1", web_net, 1, NULL, 0};
    _cleanup_free_ char *s = script_of(&p);
    const char *t = s;
    int n = 0;
    while ((t = strstr(t, "table "))) {
        assert_true(strncmp(t, "table inet berth-a-b_1", 22) == 0);
        t += 6;
        n++;
    }
    assert_int_equal(n, 3);
    lacks(s, "flush");
}

/* enable_ip_masquerade: false drops that network's masquerade only; its
 * isolation from the other networks stays. */
static void test_no_masquerade(void **state)
{
    const struct nft_net nets[] = {
        {.bridge = "br-quiet",
         .subnet4 = "10.20.1.0/24",
         .subnet6 = "fd00:20::/64",
         .no_masquerade = true},
        {.bridge = "br-0a1b2c3d4e5f", .subnet4 = "172.18.0.0/16"},
    };
    struct nft_project p = {"opts", nets, 2, NULL, 0};
    _cleanup_free_ char *s = script_of(&p);
    lacks(s, "10.20.1.0/24 oifname");
    lacks(s, "fd00:20::/64 oifname");
    has_line(s, "ip saddr 172.18.0.0/16 oifname != \"br-0a1b2c3d4e5f\" masquerade");
    has_line(s, "oifname \"br-quiet\" iifname != \"br-quiet\" ct state != { established, related "
                "} ct status & dnat == 0 drop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical_project),
        cmocka_unit_test(test_internal_network),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_host_ip_and_protocols),
        cmocka_unit_test(test_loopback_never_dnat),
        cmocka_unit_test(test_own_scope_name),
        cmocka_unit_test(test_hostile_strings_refused),
        cmocka_unit_test(test_duplicate_ports),
        cmocka_unit_test(test_only_own_table),
        cmocka_unit_test(test_no_masquerade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
