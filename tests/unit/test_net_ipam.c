/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for IP address management (net/ipam.h): docker's pool order,
 * skipping pools that overlap taken prefixes, explicit subnets, address
 * allocation within a subnet, and the locked on-disk state (persistence,
 * release, two processes at once, a corrupt file). Not here: bridges and
 * the host's routes (the networking integration tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/ipam.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include "scratch.h"

static struct ipam_prefix P(const char *s) {
    struct ipam_prefix p;
    struct berr e = BERR_INIT;
    assert_int_equal(ipam_prefix_parse(s, false, "test", &p, &e), 0);
    return p;
}

static void
assert_prefix(const struct ipam_prefix *p, bool with_len, const char *want)
{
    char buf[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(p, with_len, buf);
    assert_string_equal(buf, want);
}

static void assert_err_contains(const struct berr *e, const char *part)
{
    assert_non_null(e->msg);
    if (!strstr(e->msg, part))
        fail_msg("error \"%s\" does not contain \"%s\"", e->msg, part);
}

/* docker's order: 172.17..31 as /16s, then 192.168.0.0/16 as /20s */
static void test_pool_order(void **state)
{
    (void)state;
    size_t n;
    const struct ipam_prefix *pools = ipam_default_pools(&n);
    assert_int_equal(n, 31);
    assert_prefix(&pools[0], true, "172.17.0.0/16");
    assert_prefix(&pools[1], true, "172.18.0.0/16");
    assert_prefix(&pools[14], true, "172.31.0.0/16");
    assert_prefix(&pools[15], true, "192.168.0.0/20");
    assert_prefix(&pools[16], true, "192.168.16.0/20");
    assert_prefix(&pools[30], true, "192.168.240.0/20");
    struct ipam_prefix got;
    struct berr e = BERR_INIT;
    assert_int_equal(ipam_pick_subnet(NULL, 0, NULL, &got, &e), 0);
    assert_prefix(&got, true, "172.17.0.0/16");
}

static void test_pick_skips_overlap(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix got;
    /* a host route on 172.17.0.0/16 */
    struct ipam_prefix t1[] = {P("172.17.0.0/16")};
    assert_int_equal(ipam_pick_subnet(t1, 1, NULL, &got, &e), 0);
    assert_prefix(&got, true, "172.18.0.0/16");
    /* a /24 inside 172.18 blocks 172.18.0.0/16 too, and a host address
     * with host bits set blocks its pool */
    struct ipam_prefix t2[] = {P("172.17.0.0/16"), P("172.18.5.0/24"), P("172.19.3.7/32")};
    assert_int_equal(ipam_pick_subnet(t2, 3, NULL, &got, &e), 0);
    assert_prefix(&got, true, "172.20.0.0/16");
    /* a wide route covering all of 172.16.0.0/12 leaves 192.168 */
    struct ipam_prefix t3[] = {P("172.16.0.0/12"), P("192.168.1.0/24")};
    assert_int_equal(ipam_pick_subnet(t3, 2, NULL, &got, &e), 0);
    assert_prefix(&got, true, "192.168.16.0/20");
    /* a default route of another family does not block IPv4 */
    struct ipam_prefix t4[] = {P("::/0")};
    assert_int_equal(ipam_pick_subnet(t4, 1, NULL, &got, &e), 0);
    assert_prefix(&got, true, "172.17.0.0/16");
    /* everything taken */
    struct ipam_prefix t5[] = {P("0.0.0.0/0")};
    assert_int_equal(ipam_pick_subnet(t5, 1, NULL, &got, &e), -ENOSPC);
    assert_err_contains(&e, "no free subnet");
    berr_clear(&e);
}

static void test_explicit_subnet(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix got;
    struct ipam_prefix taken[] = {P("10.1.0.0/16"), P("192.168.0.0/24")};
    assert_int_equal(ipam_pick_subnet(taken, 2, "10.2.0.0/16", &got, &e), 0);
    assert_prefix(&got, true, "10.2.0.0/16");
    /* overlap: an error naming both prefixes */
    assert_int_equal(ipam_pick_subnet(taken, 2, "10.1.128.0/17", &got, &e), -EEXIST);
    assert_string_equal(e.msg, "subnet 10.1.128.0/17 overlaps 10.1.0.0/16, already in use");
    berr_clear(&e);
    assert_int_equal(ipam_pick_subnet(taken, 2, "192.168.0.0/16", &got, &e), -EEXIST);
    assert_string_equal(e.msg, "subnet 192.168.0.0/16 overlaps 192.168.0.0/24, already in use");
    berr_clear(&e);
    /* bad input names the value */
    assert_int_equal(ipam_pick_subnet(NULL, 0, "10.2.0.1/16", &got, &e), -EINVAL);
    assert_string_equal(e.msg, "subnet \"10.2.0.1/16\" has host bits set (the network is "
                               "10.2.0.0/16)");
    berr_clear(&e);
    const char *bad[] = {"10.2.0.0/33", "10.2.0.0/",  "10.2.0.0/x",   "banana/8", "",
                         "10.2/16",     "fd00::/129", "10.0.0.0/0016"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ipam_pick_subnet(NULL, 0, bad[i], &got, &e), -EINVAL);
        assert_non_null(e.msg);
        berr_clear(&e);
    }
}

static void test_v6_overlap(void **state)
{
    (void)state;
    struct ipam_prefix a = P("fd00:1::/64"), b = P("fd00:1::/48"), c = P("fd00:2::/64");
    struct ipam_prefix d = P("fd00:1:0:0:8000::/65"), v4 = P("0.0.0.0/0");
    assert_true(ipam_prefix_overlaps(&a, &b));
    assert_true(ipam_prefix_overlaps(&b, &a));
    assert_false(ipam_prefix_overlaps(&a, &c));
    assert_true(ipam_prefix_overlaps(&a, &d));
    assert_false(ipam_prefix_overlaps(&a, &v4));
    assert_prefix(&d, true, "fd00:1:0:0:8000::/65");
    struct berr e = BERR_INIT;
    struct ipam_prefix got, gw;
    assert_int_equal(ipam_pick_subnet(&b, 1, "fd00:1:0:8::/64", &got, &e), -EEXIST);
    assert_string_equal(e.msg, "subnet fd00:1:0:8::/64 overlaps fd00:1::/48, already in use");
    berr_clear(&e);
    assert_int_equal(ipam_pick_subnet(&b, 1, "fd00:3::/64", &got, &e), 0);
    assert_int_equal(ipam_pick_gateway(&got, NULL, &gw, &e), 0);
    assert_prefix(&gw, false, "fd00:3::1");
}

static void test_address_order(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix sub = P("10.9.0.0/24"), gw, a;
    assert_int_equal(ipam_pick_gateway(&sub, NULL, &gw, &e), 0);
    assert_prefix(&gw, false, "10.9.0.1");
    struct ipam_prefix taken[4];
    size_t n = 0;
    const char *want[] = {"10.9.0.2", "10.9.0.3", "10.9.0.4"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, n, NULL, &a, &e), 0);
        assert_prefix(&a, false, want[i]);
        taken[n++] = a;
    }
    /* a gateway given in the middle is skipped */
    struct ipam_prefix gw2;
    assert_int_equal(ipam_pick_gateway(&sub, "10.9.0.2", &gw2, &e), 0);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw2, NULL, 0, NULL, &a, &e), 0);
    assert_prefix(&a, false, "10.9.0.1");
    assert_int_equal(ipam_pick_gateway(&sub, "10.8.0.1", &gw2, &e), -EINVAL);
    assert_string_equal(e.msg, "gateway 10.8.0.1 is outside subnet 10.9.0.0/24");
    berr_clear(&e);
    /* ip_range: from its start, inside the subnet only */
    struct ipam_prefix range = P("10.9.0.128/25");
    assert_int_equal(ipam_pick_address(&sub, &range, &gw, NULL, 0, NULL, &a, &e), 0);
    assert_prefix(&a, false, "10.9.0.128");
    struct ipam_prefix wide = P("10.9.0.0/16");
    assert_int_equal(ipam_pick_address(&sub, &wide, &gw, NULL, 0, NULL, &a, &e), -EINVAL);
    berr_clear(&e);
}

static void test_exhaust_slash30(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix sub = P("10.9.0.4/30"), gw, a;
    assert_int_equal(ipam_pick_gateway(&sub, NULL, &gw, &e), 0);
    assert_prefix(&gw, false, "10.9.0.5");
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, NULL, 0, NULL, &a, &e), 0);
    assert_prefix(&a, false, "10.9.0.6");
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, &a, 1, NULL, &a, &e), -ENOSPC);
    assert_string_equal(e.msg, "no free address left in subnet 10.9.0.4/30");
    berr_clear(&e);
    struct ipam_prefix s31 = P("10.9.0.0/31");
    assert_int_equal(ipam_pick_gateway(&s31, NULL, &gw, &e), -EINVAL);
    berr_clear(&e);
}

static void test_requested_address(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix sub = P("10.9.0.0/24"), gw = P("10.9.0.1"), taken = P("10.9.0.7"), a;
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, &taken, 1, "10.9.0.50", &a, &e), 0);
    assert_prefix(&a, false, "10.9.0.50");
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, &taken, 1, "10.9.0.7", &a, &e), -EEXIST);
    assert_string_equal(e.msg, "ipv4_address 10.9.0.7 is already in use");
    berr_clear(&e);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, &taken, 1, "10.10.0.7", &a, &e), -EINVAL);
    assert_string_equal(e.msg, "ipv4_address 10.10.0.7 is outside subnet 10.9.0.0/24");
    berr_clear(&e);
    const char *bad[] = {"10.9.0.1", "10.9.0.0", "10.9.0.255", "fd00::1", "nope"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(ipam_pick_address(&sub, NULL, &gw, &taken, 1, bad[i], &a, &e) < 0);
        assert_err_contains(&e, bad[i]);
        berr_clear(&e);
    }
}

static void test_persistence(void **state)
{
    (void)state;
    char *dir = scratch_dir("ipam-persist");
    struct berr e = BERR_INIT;
    struct ipam_prefix host = P("172.17.0.0/16");
    struct ipam_network n1, n2, again;
    assert_int_equal(ipam_network_acquire(dir, "p_default", NULL, &host, 1, &n1, &e), 0);
    assert_string_equal(n1.subnet, "172.18.0.0/16");
    assert_string_equal(n1.gateway, "172.18.0.1");
    assert_string_equal(n1.ip_range, "");
    assert_int_equal(ipam_network_acquire(dir, "p_back", NULL, &host, 1, &n2, &e), 0);
    assert_string_equal(n2.subnet, "172.19.0.0/16");
    struct ipam_request req = {
        .subnet = "10.30.0.0/16", .gateway = "10.30.0.254", .ip_range = "10.30.4.0/24"};
    struct ipam_network n3;
    assert_int_equal(ipam_network_acquire(dir, "p_fixed", &req, &host, 1, &n3, &e), 0);
    assert_string_equal(n3.gateway, "10.30.0.254");
    assert_string_equal(n3.ip_range, "10.30.4.0/24");
    /* asking again with the recorded subnet is the same network; another
     * subnet for it is an error */
    assert_int_equal(ipam_network_acquire(dir, "p_fixed", &req, NULL, 0, &again, &e), 0);
    assert_string_equal(again.subnet, "10.30.0.0/16");
    struct ipam_request moved = {.subnet = "10.31.0.0/16"};
    assert_int_equal(ipam_network_acquire(dir, "p_fixed", &moved, NULL, 0, &again, &e), -EEXIST);
    assert_string_equal(e.msg, "network p_fixed already has subnet 10.30.0.0/16, not 10.31.0.0/16");
    berr_clear(&e);
    /* another network's subnet is taken */
    struct ipam_request clash = {.subnet = "172.18.3.0/24"};
    assert_int_equal(ipam_network_acquire(dir, "p_clash", &clash, NULL, 0, &again, &e), -EEXIST);
    assert_string_equal(e.msg, "network p_clash: subnet 172.18.3.0/24 overlaps 172.18.0.0/16, "
                               "already in use");
    berr_clear(&e);
    char a1[IPAM_PREFIX_STRLEN], a2[IPAM_PREFIX_STRLEN], a3[IPAM_PREFIX_STRLEN];
    char b[IPAM_PREFIX_STRLEN];
    assert_int_equal(ipam_address_acquire(dir, "p_default", "p-web-1", NULL, a1, &e), 0);
    assert_string_equal(a1, "172.18.0.2");
    assert_int_equal(ipam_address_acquire(dir, "p_default", "p-db-1", NULL, a2, &e), 0);
    assert_string_equal(a2, "172.18.0.3");
    assert_int_equal(ipam_address_acquire(dir, "p_fixed", "p-web-1", NULL, a3, &e), 0);
    assert_string_equal(a3, "10.30.4.0");
    assert_int_equal(ipam_address_acquire(dir, "p_default", "p-x-1", "172.18.0.2", b, &e), -EEXIST);
    assert_string_equal(e.msg, "network p_default: ipv4_address 172.18.0.2 is already in use by "
                               "p-web-1");
    berr_clear(&e);
    assert_int_equal(ipam_address_acquire(dir, "p_none", "p-x-1", NULL, b, &e), -ENOENT);
    berr_clear(&e);
    /* reopened from disk: the same answers */
    assert_int_equal(ipam_network_acquire(dir, "p_default", NULL, NULL, 0, &again, &e), 0);
    assert_string_equal(again.subnet, "172.18.0.0/16");
    assert_int_equal(ipam_address_acquire(dir, "p_default", "p-db-1", NULL, b, &e), 0);
    assert_string_equal(b, "172.18.0.3");
    assert_int_equal(ipam_address_acquire(dir, "p_default", "p-web-1", NULL, b, &e), 0);
    assert_string_equal(b, "172.18.0.2");
    /* the file is berth's JSON */
    _cleanup_free_ char *path = xasprintf("%s/network/ipam.json", dir);
    _cleanup_free_ char *text = NULL;
    size_t len;
    assert_int_equal(fs_read_file(AT_FDCWD, path, 1 << 20, &text, &len, &e), 0);
    assert_non_null(strstr(text, "\"p-db-1\": \"172.18.0.3\""));
    scratch_remove(dir);
}

/* The ULA pool: fd00::/8 with 40 bits of the seed's digest, a /48, the
 * same for the same seed; its /64s are taken in order, skipping what is
 * in use. */
static void test_ula_pool(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix a, b, c;
    ipam_ula_pool("machine-1", 9, &a);
    ipam_ula_pool("machine-1", 9, &b);
    ipam_ula_pool("machine-2", 9, &c);
    assert_int_equal(a.family, AF_INET6);
    assert_int_equal(a.len, 48);
    assert_int_equal(a.addr[0], 0xfd);
    assert_memory_equal(a.addr, b.addr, 16);
    assert_memory_not_equal(a.addr, c.addr, 6);
    for (int i = 6; i < 16; i++)
        assert_int_equal(a.addr[i], 0);
    /* SHA-256("machine-1") begins f7 a7 26 6d f8: known bytes, so a change of
     * the derivation is seen */
    assert_prefix(&a, true, "fdf7:a726:6df8::/48");
    struct ipam_prefix host;
    ipam_ula_pool_host("/nonexistent-store", &host);
    assert_int_equal(host.addr[0], 0xfd);
    assert_int_equal(host.len, 48);

    struct ipam_prefix pool = P("fd42:1:2::/48"), got;
    assert_int_equal(ipam_pick_subnet6(NULL, 0, NULL, &pool, &got, &e), 0);
    assert_prefix(&got, true, "fd42:1:2::/64");
    struct ipam_prefix taken[] = {P("fd42:1:2::/64"), P("fd42:1:2:1::5/128"), P("10.0.0.0/8")};
    assert_int_equal(ipam_pick_subnet6(taken, 3, NULL, &pool, &got, &e), 0);
    assert_prefix(&got, true, "fd42:1:2:2::/64");
    /* the host's fd00::/64 (this machine's eth0) is skipped like any route */
    struct ipam_prefix low = P("fd00::/48"), hostnet = P("fd00::2/64");
    assert_int_equal(ipam_pick_subnet6(&hostnet, 1, NULL, &low, &got, &e), 0);
    assert_prefix(&got, true, "fd00:0:0:1::/64");
    /* a pool wholly in use */
    struct ipam_prefix all = P("fd42::/16");
    assert_int_equal(ipam_pick_subnet6(&all, 1, NULL, &pool, &got, &e), -ENOSPC);
    assert_non_null(strstr(e.msg, "fd42:1:2::/48"));
    berr_clear(&e);
    /* an explicit subnet: checked like an IPv4 one, and must be IPv6 */
    assert_int_equal(ipam_pick_subnet6(taken, 3, "fd42:1:2::/56", &pool, &got, &e), -EEXIST);
    assert_string_equal(e.msg, "subnet fd42:1:2::/56 overlaps fd42:1:2::/64, already in use");
    berr_clear(&e);
    assert_int_equal(ipam_pick_subnet6(taken, 3, "192.0.2.0/24", &pool, &got, &e), -EINVAL);
    berr_clear(&e);
    assert_int_equal(ipam_pick_subnet6(taken, 3, "fd43::/64", NULL, &got, &e), 0);
    assert_prefix(&got, true, "fd43::/64");
}

/* IPv6 container addresses: in order after the gateway, in ip_range,
 * skipping taken ones; a requested one checked as ipv4_address is. */
static void test_address6(void **state)
{
    (void)state;
    struct berr e = BERR_INIT;
    struct ipam_prefix sub = P("fd42:7::/64"), gw, a;
    assert_int_equal(ipam_pick_gateway(&sub, NULL, &gw, &e), 0);
    assert_prefix(&gw, false, "fd42:7::1");
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, NULL, 0, NULL, &a, &e), 0);
    assert_prefix(&a, false, "fd42:7::2");
    struct ipam_prefix taken[] = {P("fd42:7::2"), P("fd42:7::3")};
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, NULL, &a, &e), 0);
    assert_prefix(&a, false, "fd42:7::4");
    struct ipam_prefix range = P("fd42:7::100/120");
    assert_int_equal(ipam_pick_address(&sub, &range, &gw, taken, 2, NULL, &a, &e), 0);
    assert_prefix(&a, false, "fd42:7::100");
    /* a range at the subnet's start never hands out the network address */
    struct ipam_prefix front = P("fd42:7::/126"), gw2 = P("fd42:7::2");
    assert_int_equal(ipam_pick_address(&sub, &front, &gw2, NULL, 0, NULL, &a, &e), 0);
    assert_prefix(&a, false, "fd42:7::1");
    struct ipam_prefix full[] = {P("fd42:7::1"), P("fd42:7::3")};
    assert_int_equal(ipam_pick_address(&sub, &front, &gw2, full, 2, NULL, &a, &e), -ENOSPC);
    assert_string_equal(e.msg,
                        "no free address left in ip_range fd42:7::/126 of subnet fd42:7::/64");
    berr_clear(&e);
    /* requested */
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "fd42:7::99", &a, &e), 0);
    assert_prefix(&a, false, "fd42:7::99");
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "fd42:7:0::3", &a, &e), -EEXIST);
    assert_string_equal(e.msg, "ipv6_address fd42:7:0::3 is already in use");
    berr_clear(&e);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "fd42:8::3", &a, &e), -EINVAL);
    assert_string_equal(e.msg, "ipv6_address fd42:8::3 is outside subnet fd42:7::/64");
    berr_clear(&e);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "fd42:7::1", &a, &e), -EEXIST);
    berr_clear(&e);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "fd42:7::", &a, &e), -EINVAL);
    berr_clear(&e);
    assert_int_equal(ipam_pick_address(&sub, NULL, &gw, taken, 2, "10.0.0.1", &a, &e), -EINVAL);
    assert_string_equal(e.msg, "ipv6_address 10.0.0.1 is not an IPv6 address");
    berr_clear(&e);
    assert_int_equal(ipam_pick_gateway(&sub, "fd42:7::", &gw2, &e), -EINVAL);
    berr_clear(&e);
}

/* A network with enable_ipv6 in the state file: both subnets recorded,
 * v6 addresses kept by container name, released with the v4 ones, and
 * the v6 subnet taken for the next network. */
static void test_persistence6(void **state)
{
    (void)state;
    char *dir = scratch_dir("ipam-v6");
    struct berr e = BERR_INIT;
    struct ipam_prefix pool = P("fd42:99:1::/48");
    struct ipam_request auto6 = {.ipv6 = true, .pool6 = &pool};
    struct ipam_network n1, n2, again;
    assert_int_equal(ipam_network_acquire(dir, "v_a", &auto6, NULL, 0, &n1, &e), 0);
    assert_string_equal(n1.subnet, "172.17.0.0/16");
    assert_string_equal(n1.subnet6, "fd42:99:1::/64");
    assert_string_equal(n1.gateway6, "fd42:99:1::1");
    assert_int_equal(ipam_network_acquire(dir, "v_b", &auto6, NULL, 0, &n2, &e), 0);
    assert_string_equal(n2.subnet6, "fd42:99:1:1::/64");
    /* an explicit one overlapping v_a's */
    struct ipam_request clash = {.ipv6 = true, .subnet6 = "fd42:99:1::/60", .pool6 = &pool};
    assert_int_equal(ipam_network_acquire(dir, "v_c", &clash, NULL, 0, &again, &e), -EEXIST);
    assert_string_equal(e.msg, "network v_c: subnet fd42:99:1::/60 overlaps fd42:99:1::/64, "
                               "already in use");
    berr_clear(&e);
    /* nothing of v_c was recorded */
    assert_int_equal(ipam_address_acquire(dir, "v_c", "x", NULL, (char[50]){0}, &e), -ENOENT);
    berr_clear(&e);
    struct ipam_request fixed = {.ipv6 = true,
                                 .subnet6 = "fd42:98::/64",
                                 .gateway6 = "fd42:98::fe",
                                 .ip_range6 = "fd42:98::10/124"};
    assert_int_equal(ipam_network_acquire(dir, "v_d", &fixed, NULL, 0, &again, &e), 0);
    assert_string_equal(again.gateway6, "fd42:98::fe");
    assert_string_equal(again.ip_range6, "fd42:98::10/124");
    /* asked for again without IPv6: an error, not a silent v4-only network */
    assert_int_equal(ipam_network_acquire(dir, "v_d", NULL, NULL, 0, &again, &e), -EEXIST);
    berr_clear(&e);
    char a[IPAM_PREFIX_STRLEN];
    assert_int_equal(ipam_address6_acquire(dir, "v_a", "c1", NULL, a, &e), 0);
    assert_string_equal(a, "fd42:99:1::2");
    assert_int_equal(ipam_address6_acquire(dir, "v_a", "c2", NULL, a, &e), 0);
    assert_string_equal(a, "fd42:99:1::3");
    assert_int_equal(ipam_address6_acquire(dir, "v_a", "c1", NULL, a, &e), 0);
    assert_string_equal(a, "fd42:99:1::2");
    assert_int_equal(ipam_address6_acquire(dir, "v_a", "c3", "fd42:99:1::0003", a, &e), -EEXIST);
    assert_string_equal(e.msg, "network v_a: ipv6_address fd42:99:1::0003 is already in use by c2");
    berr_clear(&e);
    assert_int_equal(ipam_address6_acquire(dir, "v_d", "c1", NULL, a, &e), 0);
    assert_string_equal(a, "fd42:98::10");
    /* the v4 address is independent */
    assert_int_equal(ipam_address_acquire(dir, "v_a", "c1", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.2");
    /* a network without IPv6 has no v6 address to give */
    assert_int_equal(ipam_network_acquire(dir, "v_4", NULL, NULL, 0, &again, &e), 0);
    assert_string_equal(again.subnet6, "");
    assert_int_equal(ipam_address6_acquire(dir, "v_4", "c1", NULL, a, &e), -ENOENT);
    berr_clear(&e);
    /* release: both families go */
    assert_int_equal(ipam_address_release(dir, "v_a", "c1", &e), 0);
    assert_int_equal(ipam_address6_acquire(dir, "v_a", "c4", NULL, a, &e), 0);
    assert_string_equal(a, "fd42:99:1::2");
    assert_int_equal(ipam_network_release(dir, "v_a", &e), 0);
    assert_int_equal(ipam_network_acquire(dir, "v_e", &auto6, NULL, 0, &again, &e), 0);
    assert_string_equal(again.subnet6, "fd42:99:1::/64");
    scratch_remove(dir);
}

static void test_release_reuse(void **state)
{
    (void)state;
    char *dir = scratch_dir("ipam-release");
    struct berr e = BERR_INIT;
    struct ipam_network n;
    char a[IPAM_PREFIX_STRLEN];
    assert_int_equal(ipam_network_acquire(dir, "r_a", NULL, NULL, 0, &n, &e), 0);
    assert_string_equal(n.subnet, "172.17.0.0/16");
    assert_int_equal(ipam_address_acquire(dir, "r_a", "c1", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.2");
    assert_int_equal(ipam_address_acquire(dir, "r_a", "c2", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.3");
    assert_int_equal(ipam_address_release(dir, "r_a", "c1", &e), 0);
    assert_int_equal(ipam_address_release(dir, "r_a", "c1", &e), 0);
    assert_int_equal(ipam_address_acquire(dir, "r_a", "c3", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.2");
    assert_int_equal(ipam_address_acquire(dir, "r_a", "c2", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.3");
    assert_int_equal(ipam_network_acquire(dir, "r_b", NULL, NULL, 0, &n, &e), 0);
    assert_string_equal(n.subnet, "172.18.0.0/16");
    assert_int_equal(ipam_network_release(dir, "r_a", &e), 0);
    assert_int_equal(ipam_network_release(dir, "r_a", &e), 0);
    assert_int_equal(ipam_network_acquire(dir, "r_c", NULL, NULL, 0, &n, &e), 0);
    assert_string_equal(n.subnet, "172.17.0.0/16");
    /* the released network's addresses went with it */
    assert_int_equal(ipam_address_acquire(dir, "r_c", "c2", NULL, a, &e), 0);
    assert_string_equal(a, "172.17.0.2");
    scratch_remove(dir);
}

#define KIDS   6
#define ROUNDS 5

/* Each child waits on the barrier (the pipe's write end closing), then
 * takes a network and an address; it reports both on its pipe. */
static void child_run(const char *dir, int barrier, int out, int idx)
{
    char c;
    if (read(barrier, &c, 1) != 0)
        _exit(3);
    struct berr e = BERR_INIT;
    struct ipam_network n;
    char net[32], ctr[32], a[IPAM_PREFIX_STRLEN];
    snprintf(net, sizeof(net), "race_%d", idx);
    snprintf(ctr, sizeof(ctr), "ctr-%d", idx);
    if (ipam_network_acquire(dir, net, NULL, NULL, 0, &n, &e) < 0 ||
        ipam_address_acquire(dir, "shared", ctr, NULL, a, &e) < 0) {
        dprintf(out, "error %s\n", e.msg);
        _exit(1);
    }
    dprintf(out, "%s %s\n", n.subnet, a);
    _exit(0);
}

static void test_two_processes(void **state)
{
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        char *dir = scratch_dir("ipam-race");
        struct berr e = BERR_INIT;
        struct ipam_network n;
        assert_int_equal(ipam_network_acquire(dir, "shared", NULL, NULL, 0, &n, &e), 0);
        int barrier[2];
        assert_int_equal(pipe(barrier), 0);
        int outs[KIDS];
        pid_t pids[KIDS];
        for (int i = 0; i < KIDS; i++) {
            int p[2];
            assert_int_equal(pipe(p), 0);
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(barrier[1]);
                close(p[0]);
                child_run(dir, barrier[0], p[1], i);
            }
            close(p[1]);
            outs[i] = p[0];
        }
        close(barrier[0]);
        close(barrier[1]); /* all start at once */
        char subnets[KIDS][64], addrs[KIDS][64];
        for (int i = 0; i < KIDS; i++) {
            char buf[256] = "";
            ssize_t got = 0, r;
            while ((r = read(outs[i], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
                got += r;
            close(outs[i]);
            int st;
            assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("child %d: %s", i, buf);
            assert_int_equal(sscanf(buf, "%63s %63s", subnets[i], addrs[i]), 2);
        }
        for (int i = 0; i < KIDS; i++)
            for (int j = i + 1; j < KIDS; j++) {
                if (strcmp(subnets[i], subnets[j]) == 0)
                    fail_msg("two processes got subnet %s", subnets[i]);
                if (strcmp(addrs[i], addrs[j]) == 0)
                    fail_msg("two processes got address %s", addrs[i]);
            }
        scratch_remove(dir);
    }
}

static void test_corrupt_state(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"networks\": {\"x\": ",
        "[]",
        "{\"networks\": 3}",
        "{\"networks\": {\"x\": {\"subnet\": \"nope\", \"gateway\": \"10.0.0.1\"}}}",
        ("{\"networks\": {\"x\": {\"subnet\": \"10.0.0.0/8\", \"gateway\": \"10.0.0.1\", "
         "\"addresses\": {\"c\": 5}}}}"),
        "\x01\x02\xff",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char *dir = scratch_dir("ipam-corrupt");
        _cleanup_free_ char *nd = xasprintf("%s/network", dir);
        _cleanup_free_ char *path = xasprintf("%s/network/ipam.json", dir);
        struct berr e = BERR_INIT;
        assert_int_equal(fs_mkdir_p(nd, 0700, &e), 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bodies[i], f);
        fclose(f);
        struct ipam_network n;
        char a[IPAM_PREFIX_STRLEN];
        assert_int_equal(ipam_network_acquire(dir, "x2", NULL, NULL, 0, &n, &e), -EINVAL);
        assert_err_contains(&e, path);
        berr_clear(&e);
        assert_int_equal(ipam_address_acquire(dir, "x", "c", NULL, a, &e), -EINVAL);
        assert_err_contains(&e, path);
        berr_clear(&e);
        assert_int_equal(ipam_network_release(dir, "x", &e), -EINVAL);
        berr_clear(&e);
        scratch_remove(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_order),        cmocka_unit_test(test_pick_skips_overlap),
        cmocka_unit_test(test_explicit_subnet),   cmocka_unit_test(test_v6_overlap),
        cmocka_unit_test(test_address_order),     cmocka_unit_test(test_exhaust_slash30),
        cmocka_unit_test(test_requested_address), cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_release_reuse),     cmocka_unit_test(test_two_processes),
        cmocka_unit_test(test_corrupt_state),     cmocka_unit_test(test_ula_pool),
        cmocka_unit_test(test_address6),          cmocka_unit_test(test_persistence6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
