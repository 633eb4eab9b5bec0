/* SPDX-License-Identifier: Apache-2.0 */
/* Links, addresses and routes (net/link.h) through libnl-route: the
 * host's prefixes and default MTU, forwarding sysctls, bridges and veth
 * endpoints. libnl's negative NLE_* codes are turned into negative errno
 * values here, with nl_geterror's text in the message. Not here: making
 * or entering namespaces (net/netns.c), subnet and address choice
 * (net/ipam.c). */
#include "net/link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netns.h"
#include "net/nl_internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free)

#define DEFAULT_MTU 1500

/* The errno closest to a libnl error code (either sign). */
static int nl_errno(int nlerr)
{
    static const int map[][2] = {
        {NLE_INTR, EINTR},           {NLE_BAD_SOCK, EBADF},
        {NLE_AGAIN, EAGAIN},         {NLE_NOMEM, ENOMEM},
        {NLE_EXIST, EEXIST},         {NLE_INVAL, EINVAL},
        {NLE_RANGE, ERANGE},         {NLE_MSGSIZE, EMSGSIZE},
        {NLE_OPNOTSUPP, EOPNOTSUPP}, {NLE_AF_NOSUPPORT, EAFNOSUPPORT},
        {NLE_OBJ_NOTFOUND, ENOENT},  {NLE_NOADDR, EADDRNOTAVAIL},
        {NLE_BUSY, EBUSY},           {NLE_PROTO_MISMATCH, EPROTONOSUPPORT},
        {NLE_NOACCESS, EACCES},      {NLE_PERM, EPERM},
        {NLE_NODEV, ENODEV},
    };
    int code = nlerr < 0 ? -nlerr : nlerr;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (map[i][0] == code)
            return -map[i][1];
    return -EIO;
}

/* Sets e from a libnl error: "<what>: <nl_geterror>". */
int nl_fail(struct berr *e, int nlerr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *what = xvasprintf(fmt, ap);
    va_end(ap);
    return berr_set(e, nl_errno(nlerr), "%s: %s", what, nl_geterror(nlerr));
}

bool nl_not_found(int nlerr)
{
    return nlerr == -NLE_OBJ_NOTFOUND || nlerr == -NLE_NODEV;
}

/* A connected NETLINK_ROUTE socket in the calling thread's netns. */
int nl_host_sock(struct nl_sock **out, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return berr_set(e, -ENOMEM, "allocating a netlink socket");
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0)
        return nl_fail(e, r, "connecting a netlink socket");
    *out = TAKE_PTR(sk);
    return 0;
}

/* A NETLINK_ROUTE socket inside the netns nsfd. */
int nl_ns_sock(int nsfd, struct nl_sock **out, struct berr *e)
{
    _cleanup_close_ int fd = netns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, e);
    if (fd < 0)
        return fd;
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0)
        return berr_errno(e, errno, "binding a netlink socket in a network namespace");
    _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return berr_set(e, -ENOMEM, "allocating a netlink socket");
    int r = nl_socket_set_fd(sk, NETLINK_ROUTE, fd);
    if (r < 0)
        return nl_fail(e, r, "using a netlink socket in a network namespace");
    fd = -1; /* the nl_sock owns it now */
    *out = TAKE_PTR(sk);
    return 0;
}

/* A link name the kernel would take: 1-15 bytes, no '/', ':' or space. */
static int check_ifname(const char *name, const char *what, struct berr *e)
{
    if (!name || !*name)
        return berr_set(e, -EINVAL, "%s: empty interface name", what);
    if (strlen(name) >= IFNAMSIZ)
        return berr_set(e, -EINVAL, "%s \"%s\": interface names have at most %d bytes", what, name,
                        IFNAMSIZ - 1);
    if (strpbrk(name, "/: \t\n") || !strcmp(name, ".") || !strcmp(name, ".."))
        return berr_set(e, -EINVAL, "%s \"%s\": not a valid interface name", what, name);
    return 0;
}

/* Parses an address of family ("a.b.c.d/n", "x::y/n", or without /n). */
static int parse_addr(const char *s, int family, const char *what, struct nl_addr **out,
                      struct berr *e)
{
    int r = nl_addr_parse(s, family, out);
    if (r < 0 || nl_addr_get_family(*out) != family || nl_addr_get_len(*out) == 0) {
        if (r >= 0)
            nl_addr_put(*out);
        *out = NULL;
        return berr_set(e, -EINVAL, "%s \"%s\" is not an %s address", what, s,
                        family == AF_INET ? "IPv4" : "IPv6");
    }
    return 0;
}

/* The link called name, or *out NULL when there is none. */
static int link_get(struct nl_sock *sk, const char *name, struct rtnl_link **out, struct berr *e)
{
    *out = NULL;
    int r = rtnl_link_get_kernel(sk, 0, name, out);
    if (r < 0 && nl_not_found(r))
        return 0;
    if (r < 0)
        return nl_fail(e, r, "looking up link %s", name);
    return 0;
}

static bool link_is_bridge(struct rtnl_link *l)
{
    const char *type = rtnl_link_get_type(l);
    return type && !strcmp(type, "bridge");
}

static void ipam_from_nl(struct nl_addr *a, struct ipam_prefix *p)
{
    memset(p, 0, sizeof *p);
    p->family = nl_addr_get_family(a);
    p->len = nl_addr_get_prefixlen(a);
    memcpy(p->addr, nl_addr_get_binary_addr(a), nl_addr_get_len(a));
}

/* Whether a is an IPv4 or IPv6 address with bytes (not "default"). */
static bool nl_addr_is_ip(struct nl_addr *a)
{
    if (!a)
        return false;
    int f = nl_addr_get_family(a);
    unsigned len = nl_addr_get_len(a);
    return (f == AF_INET && len == 4) || (f == AF_INET6 && len == 16);
}

static void prefix_push(struct ipam_prefix **v, size_t *n, struct nl_addr *a)
{
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    ipam_from_nl(a, &(*v)[(*n)++]);
}

int link_host_prefixes(struct ipam_prefix **out, size_t *n, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_host_sock(&sk, e);
    if (r < 0)
        return r;
    _cleanup_(nl_cache_freep) struct nl_cache *routes = NULL;
    r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes);
    if (r < 0)
        return nl_fail(e, r, "reading the host's routes");
    _cleanup_(nl_cache_freep) struct nl_cache *addrs = NULL;
    r = rtnl_addr_alloc_cache(sk, &addrs);
    if (r < 0)
        return nl_fail(e, r, "reading the host's addresses");
    _cleanup_free_ struct ipam_prefix *v = NULL;
    size_t nv = 0;
    for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *rt = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || !nl_addr_is_ip(dst) ||
            nl_addr_get_prefixlen(dst) == 0)
            continue;
        prefix_push(&v, &nv, dst);
    }
    for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
        struct nl_addr *local = rtnl_addr_get_local((struct rtnl_addr *)o);
        if (nl_addr_is_ip(local))
            prefix_push(&v, &nv, local);
    }
    *out = TAKE_PTR(v);
    *n = nv;
    return 0;
}

int link_default_mtu(unsigned *mtu, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_host_sock(&sk, e);
    if (r < 0)
        return r;
    _cleanup_(nl_cache_freep) struct nl_cache *routes = NULL;
    r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
    if (r < 0)
        return nl_fail(e, r, "reading the host's routes");
    int ifindex = 0;
    uint32_t best = UINT32_MAX;
    for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
        struct rtnl_route *rt = (struct rtnl_route *)o;
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_type(rt) != RTN_UNICAST ||
            (dst && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(rt) < 1)
            continue;
        uint32_t prio = rtnl_route_get_priority(rt);
        int idx = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0));
        if (idx > 0 && (ifindex == 0 || prio < best)) {
            ifindex = idx;
            best = prio;
        }
    }
    *mtu = DEFAULT_MTU;
    if (ifindex == 0)
        return 0;
    _cleanup_(rtnl_link_putp) struct rtnl_link *dev = NULL;
    r = rtnl_link_get_kernel(sk, ifindex, NULL, &dev);
    if (r < 0)
        return nl_fail(e, r, "looking up the default route's device (index %d)", ifindex);
    if (rtnl_link_get_mtu(dev) > 0)
        *mtu = rtnl_link_get_mtu(dev);
    return 0;
}

int link_forwarding_enable(int family, bool *changed, struct berr *e)
{
    const char *path = family == AF_INET    ? "/proc/sys/net/ipv4/ip_forward"
                       : family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                            : NULL;
    if (!path)
        return berr_set(e, -EAFNOSUPPORT, "forwarding: family %d is not IPv4 or IPv6", family);
    *changed = false;
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", path);
    char buf[16];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0)
        return berr_errno(e, errno, "reading %s", path);
    buf[n] = '\0';
    if (buf[0] != '0')
        return 0;
    if (pwrite(fd, "1", 1, 0) != 1)
        return berr_errno(e, errno, "turning on forwarding in %s", path);
    *changed = true;
    return 0;
}

/* Adds local (with its prefix length) to link ifindex; *added tells
 * whether it was not there before. */
static int addr_add(struct nl_sock *sk, int ifindex, struct nl_addr *local, bool nodad, bool *added,
                    const char *ifname, struct berr *e)
{
    *added = false;
    _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
    if (!a)
        return berr_set(e, -ENOMEM, "allocating an address");
    rtnl_addr_set_ifindex(a, ifindex);
    int r = rtnl_addr_set_local(a, local);
    if (r >= 0 && nodad)
        rtnl_addr_set_flags(a, IFA_F_NODAD);
    if (r >= 0)
        r = rtnl_addr_add(sk, a, NLM_F_EXCL);
    if (r == -NLE_EXIST)
        return 0;
    if (r < 0) {
        char buf[IPAM_PREFIX_STRLEN + 8];
        return nl_fail(e, r, "adding address %s to %s", nl_addr2str(local, buf, sizeof buf),
                       ifname);
    }
    *added = true;
    return 0;
}

static void addr_del(struct nl_sock *sk, int ifindex, struct nl_addr *local)
{
    _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
    if (!a)
        return;
    rtnl_addr_set_ifindex(a, ifindex);
    if (rtnl_addr_set_local(a, local) >= 0)
        rtnl_addr_delete(sk, a, 0);
}

static int link_up(struct nl_sock *sk, struct rtnl_link *l, struct berr *e)
{
    if (rtnl_link_get_flags(l) & IFF_UP)
        return 0;
    _cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
    if (!change)
        return berr_set(e, -ENOMEM, "allocating a link");
    rtnl_link_set_flags(change, IFF_UP);
    int r = rtnl_link_change(sk, l, change, 0);
    if (r < 0)
        return nl_fail(e, r, "bringing up %s", rtnl_link_get_name(l));
    return 0;
}

static int link_delete(struct nl_sock *sk, const char *name)
{
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_alloc();
    if (!l)
        return -NLE_NOMEM;
    rtnl_link_set_name(l, name);
    return rtnl_link_delete(sk, l);
}

static int bridge_create(struct nl_sock *sk, const struct link_bridge_spec *s, struct berr *e)
{
    _cleanup_(rtnl_link_putp) struct rtnl_link *b = rtnl_link_bridge_alloc();
    if (!b)
        return berr_set(e, -ENOMEM, "allocating a bridge");
    rtnl_link_set_name(b, s->name);
    if (s->mtu)
        rtnl_link_set_mtu(b, s->mtu);
    int r = rtnl_link_add(sk, b, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return nl_fail(e, r, "creating bridge %s", s->name);
    return 0;
}

/* Turns IPv6 on for ifname (disable_ipv6=0) where it is off: a bridge
 * made while net.ipv6.conf.default.disable_ipv6 is 1 refuses addresses. */
static int ipv6_enable_on(const char *ifname, struct berr *e)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && access("/proc/sys/net/ipv6", F_OK) < 0)
        return berr_set(e, -EAFNOSUPPORT, "IPv6 is disabled on this host (no /proc/sys/net/ipv6)");
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", path);
    char buf[8] = "";
    if (pread(fd, buf, sizeof buf - 1, 0) < 0)
        return berr_errno(e, errno, "reading %s", path);
    if (buf[0] == '0')
        return 0;
    if (pwrite(fd, "0", 1, 0) != 1)
        return berr_errno(e, errno, "turning IPv6 on in %s", path);
    return 0;
}

/* The bridge's addresses and up state, on a bridge that exists. */
struct bridge_work {
    struct nl_addr *gw4, *gw6;
    bool added4, added6;
};

static int bridge_complete(struct nl_sock *sk, const char *name, struct bridge_work *w,
                           struct berr *e)
{
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
    int r = link_get(sk, name, &l, e);
    if (r < 0)
        return r;
    if (!l)
        return berr_set(e, -ENODEV, "bridge %s disappeared while being set up", name);
    int idx = rtnl_link_get_ifindex(l);
    if (w->gw4 && (r = addr_add(sk, idx, w->gw4, false, &w->added4, name, e)) < 0)
        return r;
    if (w->gw6 && ((r = ipv6_enable_on(name, e)) < 0 ||
                   (r = addr_add(sk, idx, w->gw6, true, &w->added6, name, e)) < 0))
        return r;
    return link_up(sk, l, e);
}

int link_bridge_ensure(const struct link_bridge_spec *s, bool *created, struct berr *e)
{
    if (created)
        *created = false;
    int r = check_ifname(s->name, "bridge", e);
    if (r < 0)
        return r;
    _cleanup_(nl_addr_putp) struct nl_addr *gw4 = NULL;
    _cleanup_(nl_addr_putp) struct nl_addr *gw6 = NULL;
    if (s->gateway4 && (r = parse_addr(s->gateway4, AF_INET, "bridge gateway", &gw4, e)) < 0)
        return berr_wrap(e, "bridge %s", s->name);
    if (s->gateway6 && (r = parse_addr(s->gateway6, AF_INET6, "bridge gateway", &gw6, e)) < 0)
        return berr_wrap(e, "bridge %s", s->name);
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    if ((r = nl_host_sock(&sk, e)) < 0)
        return r;
    _cleanup_(rtnl_link_putp) struct rtnl_link *old = NULL;
    if ((r = link_get(sk, s->name, &old, e)) < 0)
        return r;
    if (old && !link_is_bridge(old))
        return berr_set(e, -EEXIST, "link %s exists and is not a bridge", s->name);
    bool made = false;
    if (!old) {
        if ((r = bridge_create(sk, s, e)) < 0)
            return r;
        made = true;
    }
    struct bridge_work w = {.gw4 = gw4, .gw6 = gw6};
    r = bridge_complete(sk, s->name, &w, e);
    if (r < 0) {
        if (made) {
            link_delete(sk, s->name);
        } else {
            int idx = rtnl_link_get_ifindex(old);
            if (w.added4)
                addr_del(sk, idx, gw4);
            if (w.added6)
                addr_del(sk, idx, gw6);
        }
        return r;
    }
    if (created)
        *created = made;
    return 0;
}

int link_remove(const char *ifname, struct berr *e)
{
    int r = check_ifname(ifname, "link", e);
    if (r < 0)
        return r;
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    if ((r = nl_host_sock(&sk, e)) < 0)
        return r;
    r = link_delete(sk, ifname);
    if (r < 0 && !nl_not_found(r))
        return nl_fail(e, r, "deleting link %s", ifname);
    return 0;
}

int link_ns_veths_remove(int nsfd, struct berr *e)
{
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_ns_sock(nsfd, &sk, e);
    if (r < 0)
        return r;
    _cleanup_(nl_cache_freep) struct nl_cache *links = NULL;
    r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
    if (r < 0)
        return nl_fail(e, r, "listing the links of a network namespace");
    int first = 0;
    for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
        struct rtnl_link *l = (struct rtnl_link *)o;
        const char *type = rtnl_link_get_type(l);
        if (!type || strcmp(type, "veth") != 0)
            continue;
        r = rtnl_link_delete(sk, l); /* takes the host side with it */
        if (r < 0 && !nl_not_found(r) && !first)
            first = nl_fail(e, r, "deleting link %s", rtnl_link_get_name(l));
    }
    return first;
}

bool link_exists(const char *ifname)
{
    return ifname && strlen(ifname) < IFNAMSIZ && if_nametoindex(ifname) != 0;
}

/* The endpoint's parsed inputs. */
struct endpoint {
    const struct link_endpoint_spec *s;
    uint8_t mac[6];
    struct nl_addr *addr4, *addr6, *gw4, *gw6;
};

static void endpoint_clear(struct endpoint *ep)
{
    nl_addr_put(ep->addr4);
    nl_addr_put(ep->addr6);
    nl_addr_put(ep->gw4);
    nl_addr_put(ep->gw6);
}

static int parse_mac(const char *s, uint8_t mac[6], struct berr *e)
{
    unsigned b[6];
    char end;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) !=
            6 ||
        strlen(s) != 17)
        return berr_set(e, -EINVAL, "MAC address \"%s\" is not of the form 02:42:ac:11:00:02", s);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    if (mac[0] & 1)
        return berr_set(e, -EINVAL, "MAC address \"%s\" is a multicast address", s);
    return 0;
}

static int endpoint_parse(const struct link_endpoint_spec *s, struct endpoint *ep, struct berr *e)
{
    ep->s = s;
    int r;
    if ((r = check_ifname(s->bridge, "bridge", e)) < 0 ||
        (r = check_ifname(s->host_ifname, "host interface", e)) < 0 ||
        (r = check_ifname(s->ifname, "container interface", e)) < 0)
        return r;
    if ((s->addr4 && (r = parse_addr(s->addr4, AF_INET, "address", &ep->addr4, e)) < 0) ||
        (s->addr6 && (r = parse_addr(s->addr6, AF_INET6, "address", &ep->addr6, e)) < 0) ||
        (s->gateway4 && (r = parse_addr(s->gateway4, AF_INET, "gateway", &ep->gw4, e)) < 0) ||
        (s->gateway6 && (r = parse_addr(s->gateway6, AF_INET6, "gateway", &ep->gw6, e)) < 0))
        return r;
    if (s->mac)
        return parse_mac(s->mac, ep->mac, e);
    if (ep->addr4) {
        ep->mac[0] = 0x02;
        ep->mac[1] = 0x42;
        memcpy(ep->mac + 2, nl_addr_get_binary_addr(ep->addr4), 4);
        return 0;
    }
    if (getrandom(ep->mac, sizeof ep->mac, 0) != sizeof ep->mac)
        return berr_errno(e, errno, "choosing a MAC address");
    ep->mac[0] = (uint8_t)((ep->mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
    return 0;
}

/* The veth pair, host side in the bridge (index bridx) and up, the peer
 * made inside nsfd as ifname with its MAC and MTU (down). */
static int veth_create(struct nl_sock *sk, int nsfd, const struct endpoint *ep, int bridx,
                       unsigned mtu, struct berr *e)
{
    const struct link_endpoint_spec *s = ep->s;
    _cleanup_(rtnl_link_putp) struct rtnl_link *veth = rtnl_link_veth_alloc();
    if (!veth)
        return berr_set(e, -ENOMEM, "allocating a veth");
    _cleanup_(rtnl_link_putp) struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
    _cleanup_(nl_addr_putp) struct nl_addr *mac = nl_addr_build(AF_LLC, ep->mac, sizeof ep->mac);
    if (!peer || !mac)
        return berr_set(e, -ENOMEM, "allocating a veth");
    rtnl_link_set_name(veth, s->host_ifname);
    rtnl_link_set_master(veth, bridx);
    rtnl_link_set_mtu(veth, mtu);
    rtnl_link_set_flags(veth, IFF_UP);
    rtnl_link_set_name(peer, s->ifname);
    rtnl_link_set_ns_fd(peer, nsfd);
    rtnl_link_set_addr(peer, mac);
    rtnl_link_set_mtu(peer, mtu);
    /* not up yet: the kernel configures the peer before pairing it, and
     * a veth without its peer refuses to open (ENOTCONN) */
    int r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return nl_fail(e, r, "creating veth %s (%s in the container) on bridge %s", s->host_ifname,
                       s->ifname, s->bridge);
    return 0;
}

static int route_default_add(struct nl_sock *sk, int ifindex, struct nl_addr *gw,
                             const char *ifname, struct berr *e)
{
    int family = nl_addr_get_family(gw);
    char buf[IPAM_PREFIX_STRLEN + 8];
    nl_addr2str(gw, buf, sizeof buf);
    _cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
    _cleanup_(nl_addr_putp) struct nl_addr *dst = nl_addr_build(family, NULL, 0);
    _cleanup_(nl_addr_putp) struct nl_addr *via = nl_addr_clone(gw);
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    if (!rt || !dst || !via || !nh) {
        if (nh)
            rtnl_route_nh_free(nh);
        return berr_set(e, -ENOMEM, "allocating a route");
    }
    nl_addr_set_prefixlen(via, family == AF_INET ? 32 : 128);
    rtnl_route_set_family(rt, (uint8_t)family);
    rtnl_route_set_table(rt, RT_TABLE_MAIN);
    rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
    rtnl_route_set_type(rt, RTN_UNICAST);
    int r = rtnl_route_set_dst(rt, dst);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, via);
    rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
    if (r >= 0)
        r = rtnl_route_add(sk, rt, NLM_F_EXCL);
    if (r < 0)
        return nl_fail(e, r, "adding default route via %s on %s", buf, ifname);
    return 0;
}

/* Inside the netns: addresses and default routes on the peer. */
static int endpoint_configure(int nsfd, const struct endpoint *ep, struct berr *e)
{
    const struct link_endpoint_spec *s = ep->s;
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    int r = nl_ns_sock(nsfd, &sk, e);
    if (r < 0)
        return r;
    _cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
    if ((r = link_get(sk, s->ifname, &l, e)) < 0)
        return r;
    if (!l)
        return berr_set(e, -ENODEV, "%s is not in the container's network namespace", s->ifname);
    int idx = rtnl_link_get_ifindex(l);
    bool added;
    if (ep->addr4 && (r = addr_add(sk, idx, ep->addr4, false, &added, s->ifname, e)) < 0)
        return r;
    if (ep->addr6 && (r = addr_add(sk, idx, ep->addr6, true, &added, s->ifname, e)) < 0)
        return r;
    if ((r = link_up(sk, l, e)) < 0)
        return r;
    if (ep->gw4 && (r = route_default_add(sk, idx, ep->gw4, s->ifname, e)) < 0)
        return r;
    if (ep->gw6 && (r = route_default_add(sk, idx, ep->gw6, s->ifname, e)) < 0)
        return r;
    return 0;
}

/* Makes bridge port ifindex isolated (IFLA_BRPORT_ISOLATED, Linux 4.18):
 * the bridge forwards nothing between two isolated ports, while frames
 * to the bridge itself (the gateway, the host, the embedded DNS server,
 * the published-port proxy) and routed traffic (published ports' DNAT)
 * still pass. This is how enable_icc: false is kept: frames between two
 * ports of one bridge never meet the inet nftables hooks (without
 * br_netfilter), and a bridge-family table would need `meta ibrname`,
 * which kernels without nft_meta_bridge refuse; the flag needs nothing
 * but the bridge. libnl 3.7 has no setter for it: the message is built
 * with libnl's own message API, as `bridge link set dev X isolated on`
 * sends it. */
static int port_isolate(struct nl_sock *sk, int ifindex, const char *ifname, struct berr *e)
{
    _cleanup_(nlmsg_freep) struct nl_msg *msg =
        nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
    if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0)
        return berr_set(e, -ENOMEM, "allocating a netlink message");
    struct nlattr *info = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
    if (!info || nla_put_u8(msg, IFLA_BRPORT_ISOLATED, 1) < 0)
        return berr_set(e, -ENOMEM, "allocating a netlink message");
    nla_nest_end(msg, info);
    int r = nl_send_auto(sk, msg);
    if (r >= 0)
        r = nl_wait_for_ack(sk);
    if (r < 0)
        return nl_fail(e, r, "isolating bridge port %s (enable_icc: false)", ifname);
    return 0;
}

static int endpoint_add(struct nl_sock *sk, int nsfd, const struct endpoint *ep, struct berr *e)
{
    const struct link_endpoint_spec *s = ep->s;
    _cleanup_(rtnl_link_putp) struct rtnl_link *br = NULL;
    int r = link_get(sk, s->bridge, &br, e);
    if (r < 0)
        return r;
    if (!br)
        return berr_set(e, -ENODEV, "bridge %s does not exist", s->bridge);
    if (!link_is_bridge(br))
        return berr_set(e, -EINVAL, "link %s is not a bridge", s->bridge);
    _cleanup_(rtnl_link_putp) struct rtnl_link *old = NULL;
    if ((r = link_get(sk, s->host_ifname, &old, e)) < 0)
        return r;
    if (old)
        return berr_set(e, -EEXIST, "link %s already exists", s->host_ifname);
    unsigned mtu = s->mtu ? s->mtu : rtnl_link_get_mtu(br);
    if ((r = veth_create(sk, nsfd, ep, rtnl_link_get_ifindex(br), mtu, e)) < 0)
        return r;
    /* isolated before the peer is up: no frame passes before */
    if (s->isolated) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *host = NULL;
        r = link_get(sk, s->host_ifname, &host, e);
        if (r == 0 && !host)
            r = berr_set(e, -ENODEV, "veth %s vanished", s->host_ifname);
        if (r == 0)
            r = port_isolate(sk, rtnl_link_get_ifindex(host), s->host_ifname, e);
        if (r < 0) {
            link_delete(sk, s->host_ifname);
            return r;
        }
    }
    r = endpoint_configure(nsfd, ep, e);
    if (r < 0) {
        link_delete(sk, s->host_ifname); /* takes the peer with it */
        return berr_wrap(e, "veth %s", s->host_ifname);
    }
    return 0;
}

int link_endpoint_add(int nsfd, const struct link_endpoint_spec *s, struct berr *e)
{
    _cleanup_(endpoint_clear) struct endpoint ep = {0};
    int r = endpoint_parse(s, &ep, e);
    if (r < 0)
        return r;
    _cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
    if ((r = nl_host_sock(&sk, e)) < 0)
        return r;
    return endpoint_add(sk, nsfd, &ep, e);
}

char *link_forwarding_on(int family)
{
    const char *v = family == AF_INET ? "IPv4" : "IPv6";
    const char *key = family == AF_INET ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
    bool changed = false;
    struct berr fe = BERR_INIT;
    char *msg = NULL;
    if (link_forwarding_enable(family, &changed, &fe) < 0)
        msg = xasprintf("%s forwarding could not be turned on: %s", v, fe.msg ? fe.msg : "?");
    else if (changed)
        msg = xasprintf("%s forwarding was off; turned it on (%s=1) for the containers' outbound "
                        "traffic, as docker does",
                        v, key);
    berr_clear(&fe);
    return msg;
}
