/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for links and network namespaces (net/link.h, net/netns.h)
 * against the real kernel, as root: namespaces bound on files (idempotent
 * create and remove, sockets made inside), bridges (created once, their
 * gateway address once, a non-bridge of that name refused), veth
 * endpoints (inside: name, MAC, address, default route; a byte each way
 * to the bridge's address; failures leave no link), the host's prefixes,
 * the default MTU and the forwarding switch (restored as found). Every
 * link and namespace has a name made from this process's id, every
 * address is in 10.213.0.0/16, and traffic goes only between the test's
 * own namespace and bridge; each test checks that nothing it made is
 * left. Skipped without root. Not here: IPAM (test_net_ipam.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/ipam.h"
#include "net/link.h"
#include "net/netns.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include "scratch.h"

/* Names and addresses of this run. */
struct fx {
    char *dir;                                 /* scratch directory for namespace files */
    char ns[512];                              /* DIR/ns */
    char br[IFNAMSIZ];                         /* the test bridge */
    char veth[IFNAMSIZ];                       /* an endpoint's host side */
    char vbad[IFNAMSIZ];                       /* an endpoint that must not stay */
    char other[IFNAMSIZ], otherpeer[IFNAMSIZ]; /* a non-bridge link */
    unsigned oct;                              /* 10.213.OCT.0/24 */
    char gw[32], gwcidr[32], addr[32], addrcidr[32];
};

static void must(int r, struct berr *e)
{
    if (r < 0)
        fail_msg("unexpected error %d: %s", r, e->msg ? e->msg : "(no message)");
}

/* Whether the host has a prefix overlapping 10.213.oct.0/24. */
static bool subnet_taken(const struct ipam_prefix *v, size_t n, unsigned oct)
{
    struct ipam_prefix p = {.family = AF_INET, .len = 24, .addr = {10, 213, (uint8_t)oct, 0}};
    for (size_t i = 0; i < n; i++)
        if (ipam_prefix_overlaps(&p, &v[i]))
            return true;
    return false;
}

static int group_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    int pid = getpid();
    f->dir = scratch_dir("netlink");
    snprintf(f->ns, sizeof f->ns, "%s/ns", f->dir);
    snprintf(f->br, sizeof f->br, "bt%db", pid);
    snprintf(f->veth, sizeof f->veth, "bt%dv", pid);
    snprintf(f->vbad, sizeof f->vbad, "bt%dw", pid);
    snprintf(f->other, sizeof f->other, "bt%dx", pid);
    snprintf(f->otherpeer, sizeof f->otherpeer, "bt%dy", pid);
    /* A /24 no route or address of the host overlaps (another run of
     * this test in the other build holds one). */
    _cleanup_berr_ struct berr e = BERR_INIT;
    _cleanup_free_ struct ipam_prefix *v = NULL;
    size_t n = 0;
    must(link_host_prefixes(&v, &n, &e), &e);
    f->oct = 256;
    for (unsigned i = 0; i < 256 && f->oct == 256; i++)
        if (!subnet_taken(v, n, ((unsigned)pid + i) % 256))
            f->oct = ((unsigned)pid + i) % 256;
    assert_int_not_equal(f->oct, 256);
    snprintf(f->gw, sizeof f->gw, "10.213.%u.1", f->oct);
    snprintf(f->gwcidr, sizeof f->gwcidr, "10.213.%u.1/24", f->oct);
    snprintf(f->addr, sizeof f->addr, "10.213.%u.2", f->oct);
    snprintf(f->addrcidr, sizeof f->addrcidr, "10.213.%u.2/24", f->oct);
    *state = f;
    return 0;
}

/* After each test: no link of this run and no namespace file is left.
 * What a failed test left is removed first (so the next test starts
 * clean), then reported. cmocka counts a failing per-test teardown as a
 * failure (a failing group teardown is only printed). */
static int nothing_left(void **state)
{
    struct fx *f = *state;
    const char *names[] = {f->br, f->veth, f->vbad, f->other, f->otherpeer};
    bool left[ARRAY_SIZE(names)];
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        left[i] = link_exists(names[i]);
        if (left[i])
            link_remove(names[i], NULL);
    }
    bool ns_left = fs_exists(f->ns);
    netns_remove(f->ns, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (left[i])
            fail_msg("link %s was left", names[i]);
    if (ns_left)
        fail_msg("network namespace %s was left", f->ns);
    return 0;
}

/* The last test: netns_dir_release undoes netns_create's self-bind of
 * the directory, and no mount of this run is left. */
static void test_dir_released(void **state)
{
    struct fx *f = *state;
    _cleanup_berr_ struct berr e = BERR_INIT;
    must(netns_dir_release(f->dir, &e), &e);
    must(netns_dir_release(f->dir, &e), &e);
    _cleanup_free_ char *mounts = NULL;
    size_t len;
    must(fs_read_file(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &mounts, &len, &e), &e);
    assert_null(strstr(mounts, f->dir));
}

static int group_teardown(void **state)
{
    struct fx *f = *state;
    netns_dir_release(f->dir, NULL);
    scratch_remove(f->dir);
    free(f);
    return 0;
}

static ino_t ino_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

static ino_t fd_ino(int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    return st.st_ino;
}

static struct sockaddr_in sin_of(const char *ip, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

/* Binds fd to ip (port 0): 0 or -errno. */
static int bind_ip(int fd, const char *ip)
{
    struct sockaddr_in a = sin_of(ip, 0);
    return bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
}

static int udp_in(int nsfd)
{
    struct berr e = BERR_INIT;
    int s = netns_socket(nsfd, AF_INET, SOCK_DGRAM, 0, &e);
    must(s, &e);
    return s;
}

static void test_netns_lifecycle(void **state)
{
    struct fx *f = *state;
    _cleanup_berr_ struct berr e = BERR_INIT;
    must(netns_create(f->ns, &e), &e);
    ino_t first = ino_of(f->ns);
    /* again: the same namespace, untouched */
    must(netns_create(f->ns, &e), &e);
    assert_int_equal(ino_of(f->ns), first);
    _cleanup_close_ int nsfd = netns_open(f->ns, &e);
    must(nsfd, &e);
    assert_int_equal(fd_ino(nsfd), first);
    assert_int_not_equal(ino_of("/proc/self/ns/net"), first);
    /* netns_socket's socket is inside (lo up there: 127.0.0.1 binds;
     * the host's gateway address is not there) and the thread is back */
    _cleanup_close_ int s = udp_in(nsfd);
    assert_int_equal(bind_ip(s, "127.0.0.1"), 0);
    struct ifreq ifr = {.ifr_name = "lo"};
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    assert_true(ifr.ifr_flags & IFF_UP);
    assert_int_equal(ino_of("/proc/thread-self/ns/net"), ino_of("/proc/self/ns/net"));
    assert_int_not_equal(ino_of("/proc/thread-self/ns/net"), first);
    /* a namespace file that is not one: refused by open */
    _cleanup_free_ char *plain = xasprintf("%s/plain", f->dir);
    int pfd = open(plain, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(pfd >= 0);
    close(pfd);
    assert_int_equal(netns_open(plain, &e), -EINVAL);
    assert_non_null(strstr(e.msg, plain));
    berr_clear(&e);
    assert_int_equal(unlink(plain), 0);
    /* remove, twice; the file is gone and cannot be opened */
    must(netns_remove(f->ns, &e), &e);
    must(netns_remove(f->ns, &e), &e);
    assert_false(fs_exists(f->ns));
    assert_true(netns_open(f->ns, &e) < 0);
    berr_clear(&e);
    /* an empty file left where a namespace was bound (a crash between
     * the two steps) is bound again */
    pfd = open(f->ns, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
    assert_true(pfd >= 0);
    close(pfd);
    must(netns_create(f->ns, &e), &e);
    _cleanup_close_ int again = netns_open(f->ns, &e);
    must(again, &e);
    must(netns_remove(f->ns, &e), &e);
    /* a directory that does not exist: an error, nothing made */
    _cleanup_free_ char *missing = xasprintf("%s/no/ns", f->dir);
    assert_true(netns_create(missing, &e) < 0);
    assert_non_null(strstr(e.msg, "/no"));
    berr_clear(&e);
    assert_false(fs_exists(missing));
}

/* How many times ip is on ifname (IPv4), and whether ifname is up. */
static int addr_count(const char *ifname, const char *ip, bool *up)
{
    struct ifaddrs *ifa = NULL;
    assert_int_equal(getifaddrs(&ifa), 0);
    struct in_addr want;
    assert_int_equal(inet_pton(AF_INET, ip, &want), 1);
    int n = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (strcmp(i->ifa_name, ifname) != 0 || !i->ifa_addr)
            continue;
        if (up)
            *up = i->ifa_flags & IFF_UP;
        if (i->ifa_addr->sa_family == AF_INET &&
            ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == want.s_addr)
            n++;
    }
    freeifaddrs(ifa);
    return n;
}

/* Whether link_host_prefixes lists cidr (exactly: address and length). */
static bool host_has_prefix(const char *cidr)
{
    struct berr e = BERR_INIT;
    struct ipam_prefix want;
    must(ipam_prefix_parse(cidr, false, "prefix", &want, &e), &e);
    _cleanup_free_ struct ipam_prefix *v = NULL;
    size_t n = 0;
    must(link_host_prefixes(&v, &n, &e), &e);
    for (size_t i = 0; i < n; i++)
        if (v[i].family == want.family && v[i].len == want.len && !memcmp(v[i].addr, want.addr, 4))
            return true;
    return false;
}

static void test_bridge_ensure(void **state)
{
    struct fx *f = *state;
    _cleanup_berr_ struct berr e = BERR_INIT;
    _cleanup_free_ char *subnet = xasprintf("10.213.%u.0/24", f->oct);
    assert_false(host_has_prefix(subnet));
    struct link_bridge_spec s = {.name = f->br, .gateway4 = f->gwcidr};
    bool created = false;
    must(link_bridge_ensure(&s, &created, &e), &e);
    assert_true(created);
    must(link_bridge_ensure(&s, &created, &e), &e);
    assert_false(created);
    bool up = false;
    assert_int_equal(addr_count(f->br, f->gw, &up), 1);
    assert_true(up);
    assert_true(host_has_prefix(subnet));
    /* a bad gateway: refused before anything changes */
    struct link_bridge_spec bad = {.name = f->br, .gateway4 = "10.213.300.1/24"};
    assert_int_equal(link_bridge_ensure(&bad, NULL, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "10.213.300.1/24"));
    berr_clear(&e);
    /* a name longer than the kernel takes */
    struct link_bridge_spec longname = {.name = "bt-name-of-16-by"};
    assert_int_equal(link_bridge_ensure(&longname, NULL, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "bt-name-of-16-by"));
    berr_clear(&e);
    must(link_remove(f->br, &e), &e);
    assert_false(link_exists(f->br));
    must(link_remove(f->br, &e), &e);
}

static void test_bridge_refuses_non_bridge(void **state)
{
    struct fx *f = *state;
    _cleanup_berr_ struct berr e = BERR_INIT;
    struct nl_sock *sk = nl_socket_alloc();
    assert_non_null(sk);
    assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
    assert_int_equal(rtnl_link_veth_add(sk, f->other, f->otherpeer, getpid()), 0);
    nl_socket_free(sk);
    struct link_bridge_spec s = {.name = f->other, .gateway4 = f->gwcidr};
    bool created = true;
    assert_int_equal(link_bridge_ensure(&s, &created, &e), -EEXIST);
    assert_false(created);
    assert_non_null(strstr(e.msg, f->other));
    assert_non_null(strstr(e.msg, "not a bridge"));
    berr_clear(&e);
    /* left as it was: still there, without the address */
    assert_true(link_exists(f->other));
    assert_int_equal(addr_count(f->other, f->gw, NULL), 0);
    must(link_remove(f->other, &e), &e);
    assert_false(link_exists(f->other));
    assert_false(link_exists(f->otherpeer));
}

/* Whether nsfd has a default route of family via gw on ifindex. */
static bool ns_default_route(int nsfd, int family, const char *gw, int ifindex)
{
    struct berr e = BERR_INIT;
    int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, &e);
    must(fd, &e);
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    assert_int_equal(bind(fd, (struct sockaddr *)&local, sizeof local), 0);
    struct nl_sock *sk = nl_socket_alloc();
    assert_int_equal(nl_socket_set_fd(sk, NETLINK_ROUTE, fd), 0);
    struct nl_cache *c = NULL;
    assert_int_equal(rtnl_route_alloc_cache(sk, family, 0, &c), 0);
    uint8_t want[16];
    unsigned wlen = family == AF_INET ? 4 : 16;
    assert_int_equal(inet_pton(family, gw, want), 1);
    bool found = false;
    for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *rt = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst)) ||
            rtnl_route_get_nnexthops(rt) != 1)
            continue;
        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
        struct nl_addr *via = rtnl_route_nh_get_gateway(nh);
        if (via && nl_addr_get_len(via) == wlen &&
            !memcmp(nl_addr_get_binary_addr(via), want, wlen) &&
            rtnl_route_nh_get_ifindex(nh) == ifindex)
            found = true;
    }
    nl_cache_free(c);
    nl_socket_free(sk);
    return found;
}

/* A byte from the namespace (its address from) to a listener on the
 * bridge's address gw in the host, and one back. */
static void exchange(int nsfd, int family, const char *gw, const char *from_ip)
{
    struct sockaddr_storage where = {.ss_family = (sa_family_t)family};
    socklen_t wl = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    void *wa = family == AF_INET ? (void *)&((struct sockaddr_in *)&where)->sin_addr
                                 : (void *)&((struct sockaddr_in6 *)&where)->sin6_addr;
    assert_int_equal(inet_pton(family, gw, wa), 1);
    _cleanup_close_ int host = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(host >= 0);
    assert_int_equal(bind(host, (struct sockaddr *)&where, wl), 0);
    assert_int_equal(getsockname(host, (struct sockaddr *)&where, &wl), 0);
    struct berr e = BERR_INIT;
    _cleanup_close_ int in = netns_socket(nsfd, family, SOCK_DGRAM, 0, &e);
    must(in, &e);
    assert_int_equal(connect(in, (struct sockaddr *)&where, wl), 0);
    assert_int_equal(send(in, "x", 1, 0), 1);
    struct pollfd p = {.fd = host, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    char c = 0;
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    assert_int_equal(recvfrom(host, &c, 1, 0, (struct sockaddr *)&from, &fl), 1);
    assert_int_equal(c, 'x');
    char ip[INET6_ADDRSTRLEN];
    const void *fa = family == AF_INET ? (void *)&((struct sockaddr_in *)&from)->sin_addr
                                       : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
    inet_ntop(family, fa, ip, sizeof ip);
    /* from_ip as inet_ntop writes it ("fdbe:7213:0::2" is "fdbe:7213::2") */
    unsigned char want[sizeof(struct in6_addr)];
    char want_ip[INET6_ADDRSTRLEN];
    assert_int_equal(inet_pton(family, from_ip, want), 1);
    inet_ntop(family, want, want_ip, sizeof want_ip);
    assert_string_equal(ip, want_ip);
    assert_int_equal(sendto(host, "y", 1, 0, (struct sockaddr *)&from, fl), 1);
    p.fd = in;
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(recv(in, &c, 1, 0), 1);
    assert_int_equal(c, 'y');
}

static void test_endpoint(void **state)
{
    struct fx *f = *state;
    _cleanup_berr_ struct berr e = BERR_INIT;
    struct link_bridge_spec b = {.name = f->br, .gateway4 = f->gwcidr};
    must(link_bridge_ensure(&b, NULL, &e), &e);
    must(netns_create(f->ns, &e), &e);
    _cleanup_close_ int nsfd = netns_open(f->ns, &e);
    must(nsfd, &e);
    struct link_endpoint_spec s = {
        .bridge = f->br,
        .host_ifname = f->veth,
        .ifname = "eth0",
        .addr4 = f->addrcidr,
        .gateway4 = f->gw,
    };
    must(link_endpoint_add(nsfd, &s, &e), &e);
    /* host side: up, in the bridge */
    assert_true(link_exists(f->veth));
    _cleanup_free_ char *master = xasprintf("/sys/class/net/%s/master", f->veth);
    char target[256] = "";
    assert_true(readlink(master, target, sizeof target - 1) > 0);
    assert_non_null(strstr(target, f->br));
    /* inside: eth0 up, with the address and the MAC made from it */
    _cleanup_close_ int in = udp_in(nsfd);
    struct ifreq ifr = {.ifr_name = "eth0"};
    assert_int_equal(ioctl(in, SIOCGIFFLAGS, &ifr), 0);
    assert_true(ifr.ifr_flags & IFF_UP);
    assert_int_equal(ioctl(in, SIOCGIFHWADDR, &ifr), 0);
    const uint8_t mac[6] = {0x02, 0x42, 10, 213, (uint8_t)f->oct, 2};
    assert_memory_equal(ifr.ifr_hwaddr.sa_data, mac, 6);
    assert_int_equal(ioctl(in, SIOCGIFINDEX, &ifr), 0);
    assert_true(ns_default_route(nsfd, AF_INET, f->gw, ifr.ifr_ifindex));
    /* the address is the namespace's, not the host's; the bridge's is
     * the host's, not the namespace's */
    assert_int_equal(bind_ip(in, f->addr), 0);
    _cleanup_close_ int host = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind_ip(host, f->addr), -EADDRNOTAVAIL);
    _cleanup_close_ int in2 = udp_in(nsfd);
    assert_int_equal(bind_ip(in2, f->gw), -EADDRNOTAVAIL);
    exchange(nsfd, AF_INET, f->gw, f->addr);

    /* an existing host_ifname: an error naming it, no new link */
    struct link_endpoint_spec dup = s;
    dup.ifname = "eth1";
    assert_int_equal(link_endpoint_add(nsfd, &dup, &e), -EEXIST);
    assert_non_null(strstr(e.msg, f->veth));
    berr_clear(&e);
    struct ifreq q = {.ifr_name = "eth1"};
    assert_int_equal(ioctl(in, SIOCGIFINDEX, &q), -1);
    /* a failure after the pair is made (no route to that gateway):
     * the pair is deleted */
    struct link_endpoint_spec bad = s;
    bad.host_ifname = f->vbad;
    bad.ifname = "eth2";
    bad.addr4 = NULL;
    bad.gateway4 = "10.213.255.254";
    assert_true(link_endpoint_add(nsfd, &bad, &e) < 0);
    assert_non_null(strstr(e.msg, "10.213.255.254"));
    berr_clear(&e);
    assert_false(link_exists(f->vbad));
    struct ifreq q2 = {.ifr_name = "eth2"};
    assert_int_equal(ioctl(in, SIOCGIFINDEX, &q2), -1);
    /* a bridge that does not exist */
    struct link_endpoint_spec nob = s;
    nob.bridge = f->other;
    nob.host_ifname = f->vbad;
    assert_int_equal(link_endpoint_add(nsfd, &nob, &e), -ENODEV);
    assert_non_null(strstr(e.msg, f->other));
    berr_clear(&e);
    assert_false(link_exists(f->vbad));

    must(link_remove(f->veth, &e), &e);
    assert_int_equal(ioctl(in, SIOCGIFINDEX, &ifr), -1); /* the peer went with it */
    must(netns_remove(f->ns, &e), &e);
    must(link_remove(f->br, &e), &e);
    assert_false(link_exists(f->veth));
    assert_false(link_exists(f->br));
}

/* IPv6: the bridge's gateway and the endpoint's address (no DAD wait),
 * the default route via the gateway, a random unicast, locally
 * administered MAC when there is no IPv4 address, and a byte each way. */
static void test_endpoint_v6(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *v6 = NULL;
    size_t len;
    if (fs_read_file(AT_FDCWD, "/proc/sys/net/ipv6/conf/all/disable_ipv6", 16, &v6, &len, NULL) <
            0 ||
        v6[0] != '0')
        skip();
    _cleanup_berr_ struct berr e = BERR_INIT;
    _cleanup_free_ char *gw = xasprintf("fdbe:7213:%x::1", f->oct);
    _cleanup_free_ char *gwcidr = xasprintf("%s/64", gw);
    _cleanup_free_ char *addr = xasprintf("fdbe:7213:%x::2", f->oct);
    _cleanup_free_ char *addrcidr = xasprintf("%s/64", addr);
    struct link_bridge_spec b = {.name = f->br, .gateway4 = f->gwcidr, .gateway6 = gwcidr};
    must(link_bridge_ensure(&b, NULL, &e), &e);
    must(netns_create(f->ns, &e), &e);
    _cleanup_close_ int nsfd = netns_open(f->ns, &e);
    must(nsfd, &e);
    struct link_endpoint_spec s = {
        .bridge = f->br,
        .host_ifname = f->veth,
        .ifname = "eth0",
        .addr6 = addrcidr,
        .gateway6 = gw,
        .mtu = 1400,
    };
    must(link_endpoint_add(nsfd, &s, &e), &e);
    _cleanup_close_ int in = udp_in(nsfd);
    struct ifreq ifr = {.ifr_name = "eth0"};
    assert_int_equal(ioctl(in, SIOCGIFHWADDR, &ifr), 0);
    uint8_t m0 = (uint8_t)ifr.ifr_hwaddr.sa_data[0];
    assert_int_equal(m0 & 0x03, 0x02);
    assert_int_equal(ioctl(in, SIOCGIFMTU, &ifr), 0);
    assert_int_equal(ifr.ifr_mtu, 1400);
    assert_int_equal(ioctl(in, SIOCGIFINDEX, &ifr), 0);
    assert_true(ns_default_route(nsfd, AF_INET6, gw, ifr.ifr_ifindex));
    exchange(nsfd, AF_INET6, gw, addr);
    must(link_remove(f->veth, &e), &e);
    must(netns_remove(f->ns, &e), &e);
    must(link_remove(f->br, &e), &e);
}

static void test_host_facts(void **state)
{
    _cleanup_berr_ struct berr e = BERR_INIT;
    unsigned mtu = 0;
    must(link_default_mtu(&mtu, &e), &e);
    assert_true(mtu >= 68 && mtu <= 65536);
    /* lo's address is among the host's prefixes */
    assert_true(host_has_prefix("127.0.0.1/8"));
}

static int read_forward(void)
{
    _cleanup_berr_ struct berr e = BERR_INIT;
    _cleanup_free_ char *s = NULL;
    size_t len;
    must(fs_read_file(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", 64, &s, &len, &e), &e);
    return atoi(s);
}

static void write_forward(int v)
{
    _cleanup_close_ int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char c = v ? '1' : '0';
    assert_int_equal(write(fd, &c, 1), 1);
}

/* Turned on when off, reported once; the machine's setting is restored.
 * When forwarding is already on it is never turned off here (other work
 * on this host may rely on it), so only the "already on" half runs. */
static void test_forwarding(void **state)
{
    _cleanup_berr_ struct berr e = BERR_INIT;
    int saved = read_forward();
    bool first = false, second = true;
    /* every call made before any assertion, so the setting is restored
     * even when one fails */
    int r1 = link_forwarding_enable(AF_INET, &first, &e);
    int now = read_forward();
    int r2 = r1 < 0 ? r1 : link_forwarding_enable(AF_INET, &second, &e);
    write_forward(saved);
    must(r1, &e);
    must(r2, &e);
    assert_int_equal(read_forward(), saved);
    assert_int_equal(now, 1);
    assert_int_equal(first, saved == 0); /* changed only when it was off */
    assert_false(second);
    if (saved != 0)
        printf("note: IPv4 forwarding was already on; the off-to-on turn is not exercised\n");
    assert_int_equal(link_forwarding_enable(AF_UNIX, &first, &e), -EAFNOSUPPORT);
}

int main(void)
{
    /* Links and namespaces need root (CAP_NET_ADMIN, CAP_SYS_ADMIN):
     * without it nothing here can run, and ctest counts the run as
     * skipped (SKIP_RETURN_CODE), not passed. */
    if (geteuid() != 0) {
        printf("SKIPPED: test_net_link needs root\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_netns_lifecycle, nothing_left),
        cmocka_unit_test_teardown(test_bridge_ensure, nothing_left),
        cmocka_unit_test_teardown(test_bridge_refuses_non_bridge, nothing_left),
        cmocka_unit_test_teardown(test_endpoint, nothing_left),
        cmocka_unit_test_teardown(test_endpoint_v6, nothing_left),
        cmocka_unit_test_teardown(test_host_facts, nothing_left),
        cmocka_unit_test_teardown(test_forwarding, nothing_left),
        cmocka_unit_test_teardown(test_dir_released, nothing_left),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
