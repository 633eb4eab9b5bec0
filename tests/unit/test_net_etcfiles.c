/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for net/etcfiles.h: parsing the host's resolv.conf, following
 * systemd-resolved's stub, the embedded DNS server's upstreams, and the
 * exact text of a container's resolv.conf, hosts and hostname, with
 * hostile entries (a newline that would add a line) refused. Not here:
 * writing the files into a container (the runtime's tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/etcfiles.h"
#include "util/cleanup.h"
#include "util/strv.h"

#define N(a)   (sizeof(a) / sizeof((a)[0]))
#define V(...) ((char *const[]){__VA_ARGS__, NULL})

static char *joined(char *const *v)
{
    return strv_join(v, ",");
}

/* host text; nameservers, search, options joined with ","; resolved stub */
static const struct {
    const char *text, *ns, *search, *opts;
    bool stub;
} parse_cases[] = {
    {"", "", "", "", false},
    {"nameserver 1.1.1.1\nnameserver 9.9.9.9\n", "1.1.1.1,9.9.9.9", "", "", false},
    /* glibc's MAXNS: the fourth is ignored */
    {"nameserver 1.1.1.1\nnameserver 1.0.0.1\nnameserver 9.9.9.9\nnameserver 8.8.8.8\n",
     "1.1.1.1,1.0.0.1,9.9.9.9", "", "", false},
    /* comments, unknown keywords, sortlist, bad addresses, no trailing newline */
    {"# c\n; c\nsortlist 10.0.0.0\nnameserver bogus\nfoo bar\nnameserver\tfe80::1%eth0",
     "fe80::1%eth0", "", "", false},
    /* a keyword needs a blank after it */
    {"nameserver1.1.1.1\nsearchx a\n", "", "", "", false},
    /* the last search or domain line wins; domain takes one name */
    {"search a.example b.example\ndomain c.example d\n", "", "c.example", "", false},
    {"domain c.example\nsearch  a  b\t c\n", "", "a,b,c", "", false},
    /* options lines add up */
    {"options ndots:2 edns0\noptions  timeout:1\n", "", "", "ndots:2,edns0,timeout:1", false},
    {"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n", "127.0.0.53", "lan",
     "edns0,trust-ad", true},
    {"nameserver 127.0.0.53\nnameserver 127.0.0.54\n", "127.0.0.53,127.0.0.54", "", "", true},
    {"nameserver 127.0.0.53\nnameserver 10.0.0.1\n", "127.0.0.53,10.0.0.1", "", "", false},
    /* a CRLF file: no '\r' kept in a word */
    {"nameserver 192.0.2.1\r\nsearch lan\r\noptions edns0\r\n", "192.0.2.1", "lan", "edns0", false},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(parse_cases); i++) {
        _cleanup_resolv_ struct net_resolv rc = {0};
        assert_int_equal(net_resolv_parse(parse_cases[i].text, &rc), 0);
        _cleanup_free_ char *ns = joined(rc.nameservers), *s = joined(rc.search),
                            *o = joined(rc.options);
        if (strcmp(ns, parse_cases[i].ns) || strcmp(s, parse_cases[i].search) ||
            strcmp(o, parse_cases[i].opts))
            fail_msg("case %zu: ns [%s] search [%s] options [%s]", i, ns, s, o);
        assert_int_equal(net_resolv_is_resolved_stub(&rc), parse_cases[i].stub);
    }
}

static char *write_tmp(const char *text)
{
    char *p = strdup("/tmp/berth-test-resolv-XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return p;
}

static void test_load_follows_stub(void **state)
{
    (void)state;
    _cleanup_free_ char *stub = write_tmp("nameserver 127.0.0.53\noptions edns0\n");
    _cleanup_free_ char *real = write_tmp("nameserver 192.0.2.1\nsearch corp\n");
    _cleanup_free_ char *plain = write_tmp("nameserver 192.0.2.9\n");
    struct {
        const char *host, *resolved, *want_ns, *want_path;
    } cases[] = {
        {stub, real, "192.0.2.1", real},
        {stub, "/nonexistent/resolv.conf", "127.0.0.53", stub},
        {stub, NULL, "127.0.0.53", stub},
        {plain, real, "192.0.2.9", plain},
    };
    for (size_t i = 0; i < N(cases); i++) {
        _cleanup_resolv_ struct net_resolv rc = {0};
        _cleanup_free_ char *text = NULL;
        const char *path = NULL;
        _cleanup_berr_ struct berr e = BERR_INIT;
        assert_int_equal(net_resolv_load(cases[i].host, cases[i].resolved, &rc, &text, &path, &e),
                         0);
        _cleanup_free_ char *ns = joined(rc.nameservers);
        assert_string_equal(ns, cases[i].want_ns);
        assert_string_equal(path, cases[i].want_path);
        assert_non_null(strstr(text, cases[i].want_ns));
    }
    struct net_resolv rc = {0};
    _cleanup_berr_ struct berr e = BERR_INIT;
    assert_true(net_resolv_load("/nonexistent/host-resolv", real, &rc, NULL, NULL, &e) < 0);
    assert_non_null(strstr(e.msg, "/nonexistent/host-resolv"));
    assert_null(rc.nameservers);
    unlink(stub);
    unlink(real);
    unlink(plain);
}

/* host nameservers text; compose dns; ipv6; want (joined), or NULL: error */
static const struct {
    const char *host;
    char *const *dns;
    bool ipv6;
    const char *want;
} upstream_cases[] = {
    {"nameserver 192.0.2.1\nnameserver 127.0.0.1\nnameserver ::1\n", NULL, false, "192.0.2.1"},
    {"nameserver 127.0.1.1\nnameserver 2001:db8::1\n", NULL, false, "2001:db8::1"},
    /* nothing reachable left: docker's fallbacks, as data */
    {"nameserver 127.0.0.53\n", NULL, false, "8.8.8.8,8.8.4.4"},
    {"", NULL, true, "8.8.8.8,8.8.4.4,2001:4860:4860::8888,2001:4860:4860::8844"},
    /* compose dns replaces the host's, loopback or not */
    {"nameserver 192.0.2.1\n", V("10.0.0.2", "127.0.0.1"), false, "10.0.0.2,127.0.0.1"},
    {"nameserver 192.0.2.1\n", V("10.0.0.2", "dns.example"), false, NULL},
    {"nameserver 192.0.2.1\n", V("10.0.0.2\nnameserver 6.6.6.6"), false, NULL},
};

static void test_upstreams(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(upstream_cases); i++) {
        _cleanup_resolv_ struct net_resolv rc = {0};
        net_resolv_parse(upstream_cases[i].host, &rc);
        _cleanup_strv_ char **up = NULL;
        _cleanup_berr_ struct berr e = BERR_INIT;
        int r = net_dns_upstreams(&rc, upstream_cases[i].dns, upstream_cases[i].ipv6, &up, &e);
        if (!upstream_cases[i].want) {
            assert_true(r < 0);
            assert_non_null(strstr(e.msg, "dns entry"));
            assert_null(strchr(e.msg, '\n'));
            assert_null(up);
            continue;
        }
        assert_int_equal(r, 0);
        _cleanup_free_ char *got = joined(up);
        if (strcmp(got, upstream_cases[i].want))
            fail_msg("case %zu: got [%s]", i, got);
    }
}

static const char host_rc[] = "# from DHCP\nnameserver 192.0.2.1\nsearch lan corp\n"
                              "options ndots:2 edns0\n";

/* spec; want text, or NULL and an error containing err */
static const struct {
    struct net_resolv_spec spec;
    const char *want, *err;
} render_cases[] = {
    {{NET_RESOLV_BRIDGE, "127.0.0.11", NULL, NULL, NULL},
     "nameserver 127.0.0.11\nsearch lan corp\noptions ndots:2 edns0\n",
     NULL},
    /* dns goes to the upstreams: the file keeps the embedded address */
    {{NET_RESOLV_BRIDGE, "10.89.0.1", V("10.0.0.2"), V("svc.example"), NULL},
     "nameserver 10.89.0.1\nsearch svc.example\noptions ndots:2 edns0\n",
     NULL},
    /* dns_opt: same name replaces in place, new ones appended, duplicates once */
    {{NET_RESOLV_BRIDGE, "10.89.0.1", NULL, NULL, V("ndots:5", "rotate", "edns0", "rotate")},
     "nameserver 10.89.0.1\nsearch lan corp\noptions ndots:5 edns0 rotate\n",
     NULL},
    /* an empty dns_search list clears the host's search */
    {{NET_RESOLV_BRIDGE, "10.89.0.1", NULL, V(NULL), NULL},
     "nameserver 10.89.0.1\noptions ndots:2 edns0\n",
     NULL},
    {{NET_RESOLV_HOST, NULL, NULL, NULL, NULL}, host_rc, NULL},
    {{NET_RESOLV_HOST, NULL, V("10.0.0.2", "10.0.0.3"), NULL, NULL},
     "nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch lan corp\noptions ndots:2 edns0\n",
     NULL},
    {{NET_RESOLV_NONE, NULL, NULL, NULL, NULL}, "search lan corp\noptions ndots:2 edns0\n", NULL},
    /* hostile entries: a newline would add a nameserver line */
    {{NET_RESOLV_BRIDGE, "10.89.0.1", NULL, V("ok.example", "x\nnameserver 6.6.6.6"), NULL},
     NULL,
     "dns_search entry \"x\\nnameserver 6.6.6.6\""},
    {{NET_RESOLV_BRIDGE, "10.89.0.1", NULL, NULL, V("ndots:1 rotate")},
     NULL,
     "dns_opt entry \"ndots:1 rotate\""},
    {{NET_RESOLV_BRIDGE, "10.89.0.1", NULL, V(""), NULL}, NULL, "dns_search entry \"\""},
    {{NET_RESOLV_HOST, NULL, V("not-an-ip"), NULL, NULL}, NULL, "dns entry \"not-an-ip\""},
    {{NET_RESOLV_BRIDGE, NULL, NULL, NULL, NULL}, NULL, "embedded DNS address"},
};

static void test_resolv_render(void **state)
{
    (void)state;
    _cleanup_resolv_ struct net_resolv host = {0};
    net_resolv_parse(host_rc, &host);
    for (size_t i = 0; i < N(render_cases); i++) {
        _cleanup_free_ char *out = NULL;
        _cleanup_berr_ struct berr e = BERR_INIT;
        int r = net_resolv_render(&host, host_rc, &render_cases[i].spec, &out, &e);
        if (render_cases[i].want) {
            if (r < 0)
                fail_msg("case %zu: %s", i, e.msg);
            assert_string_equal(out, render_cases[i].want);
        } else {
            if (r >= 0)
                fail_msg("case %zu accepted:\n%s", i, out);
            assert_null(out);
            if (!strstr(e.msg, render_cases[i].err))
                fail_msg("case %zu: %s", i, e.msg);
            assert_null(strchr(e.msg, '\n'));
        }
    }
}

#define LOCALHOST                                                                                  \
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"     \
    "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

static const struct {
    struct net_hosts_spec spec;
    const char *want, *err;
} hosts_cases[] = {
    {{"web", NULL, "10.89.0.2", NULL, NULL, NULL, NULL}, LOCALHOST "10.89.0.2\tweb\n", NULL},
    /* the own IPv6 address after the IPv4 one, as docker writes them */
    {{"web", "example.org", "10.89.0.2", NULL, NULL, "fd42::2", NULL},
     LOCALHOST "10.89.0.2\tweb.example.org web\nfd42::2\tweb.example.org web\n",
     NULL},
    {{"web", NULL, "10.89.0.2", NULL, NULL, "not-an-addr", NULL}, NULL, "not an IP address"},
    {{"web", "example.org", "10.89.0.2", NULL, NULL, NULL, NULL},
     LOCALHOST "10.89.0.2\tweb.example.org web\n",
     NULL},
    {{"web", "", NULL, NULL, NULL, NULL, NULL}, LOCALHOST, NULL},
    {{"web", NULL, "10.89.0.2",
      V("db:10.0.0.5", "v6=2001:db8::5", "v6b:::1", "br=[2001:db8::6]", "gw:host-gateway"),
      "10.89.0.1", NULL, NULL},
     LOCALHOST "10.0.0.5\tdb\n2001:db8::5\tv6\n::1\tv6b\n2001:db8::6\tbr\n10.89.0.1\tgw\n"
               "10.89.0.2\tweb\n",
     NULL},
    /* refused, naming the entry */
    {{"web", NULL, NULL, V("db"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"db\" has no address"},
    {{"web", NULL, NULL, V("db:"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"db:\" has no address"},
    {{"web", NULL, NULL, V(":10.0.0.1"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \":10.0.0.1\": the name"},
    {{"web", NULL, NULL, V("db:10.0.0.300"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"db:10.0.0.300\": the address"},
    {{"web", NULL, NULL, V("db:example.com"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"db:example.com\": the address"},
    {{"web", NULL, NULL, V("evil\n6.6.6.6 bank.example:10.0.0.1"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"evil\\n6.6.6.6 bank.example:10.0.0.1\": the name"},
    {{"web", NULL, NULL, V("a b:10.0.0.1"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"a b:10.0.0.1\""},
    {{"web", NULL, NULL, V("db:10.0.0.1\n6.6.6.6 x"), NULL, NULL, NULL},
     NULL,
     "extra_hosts entry \"db:10.0.0.1\\n6.6.6.6 x\": the address"},
    {{"web", NULL, NULL, V("gw:host-gateway"), NULL, NULL, NULL}, NULL, "no host-gateway address"},
    {{"web\nevil", NULL, NULL, NULL, NULL, NULL, NULL}, NULL, "hostname \"web\\nevil\""},
    {{"", NULL, NULL, NULL, NULL, NULL, NULL}, NULL, "hostname \"\""},
    {{"web", "ex ample", NULL, NULL, NULL, NULL, NULL}, NULL, "domainname \"ex ample\""},
    {{"web", NULL, "10.89.0.999", NULL, NULL, NULL, NULL}, NULL, "container's address"},
    /* a base (the host's own file, for host networking) replaces the
     * localhost lines; a last line without its newline gets one */
    {{"web", NULL, NULL, V("db:10.0.0.5"), NULL, NULL, "127.0.0.1 localhost\n10.1.1.1 h1"},
     "127.0.0.1 localhost\n10.1.1.1 h1\n10.0.0.5\tdb\n",
     NULL},
    {{"web", NULL, NULL, NULL, NULL, NULL, "# empty\n"}, "# empty\n", NULL},
    {{"web", NULL, NULL, NULL, NULL, NULL, ""}, "", NULL},
};

static void test_hosts_render(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(hosts_cases); i++) {
        _cleanup_free_ char *out = NULL;
        _cleanup_berr_ struct berr e = BERR_INIT;
        int r = net_hosts_render(&hosts_cases[i].spec, &out, &e);
        if (hosts_cases[i].want) {
            if (r < 0)
                fail_msg("case %zu: %s", i, e.msg);
            assert_string_equal(out, hosts_cases[i].want);
        } else {
            if (r >= 0)
                fail_msg("case %zu accepted:\n%s", i, out);
            assert_null(out);
            if (!strstr(e.msg, hosts_cases[i].err))
                fail_msg("case %zu: %s", i, e.msg);
            assert_null(strchr(e.msg, '\n'));
        }
    }
}

static void test_hostname_render(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"web", "web\n"},
        {"a234567890123456789012345678901234567890123456789012345678901234",
         "a234567890123456789012345678901234567890123456789012345678901234\n"},
        {"a2345678901234567890123456789012345678901234567890123456789012345", NULL},
        {"", NULL},
        {"web\n", NULL},
        {"a/b", NULL},
        {"a b", NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        _cleanup_free_ char *out = NULL;
        _cleanup_berr_ struct berr e = BERR_INIT;
        int r = net_hostname_render(cases[i].in, &out, &e);
        if (cases[i].want) {
            assert_int_equal(r, 0);
            assert_string_equal(out, cases[i].want);
        } else {
            if (r >= 0)
                fail_msg("case %zu accepted", i);
            assert_non_null(strstr(e.msg, "hostname"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_load_follows_stub),
        cmocka_unit_test(test_upstreams),    cmocka_unit_test(test_resolv_render),
        cmocka_unit_test(test_hosts_render), cmocka_unit_test(test_hostname_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
