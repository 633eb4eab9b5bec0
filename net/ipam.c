/* SPDX-License-Identifier: Apache-2.0 */
/* IP address management (net/ipam.h): prefix arithmetic, docker's default
 * pools, subnet/gateway/address choice, and the locked JSON state file.
 * Not here: reading the host's routes (the caller's), netlink, bridges. */
#include "net/ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define STATE_FILE "ipam.json"
#define LOCK_FILE  "ipam.lock"
#define STATE_MAX  (16u << 20)

static unsigned prefix_bytes(int family)
{
    return family == AF_INET ? 4 : 16;
}

static unsigned prefix_bits(int family)
{
    return prefix_bytes(family) * 8;
}

/* Whether the first n bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
    unsigned whole = n / 8, rest = n % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static bool host_bits_zero(const struct ipam_prefix *p)
{
    unsigned total = prefix_bits(p->family);
    for (unsigned i = p->len; i < total; i++)
        if (p->addr[i / 8] & (0x80u >> (i % 8)))
            return false;
    return true;
}

int ipam_addr_parse(const char *s, const char *what, struct ipam_prefix *out, struct berr *e)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return berr_set(e, -EINVAL, "%s: empty address", what);
    if (inet_pton(AF_INET, s, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, s, out->addr) == 1)
        out->family = AF_INET6;
    else
        return berr_set(e, -EINVAL, "%s \"%s\" is not an IPv4 or IPv6 address", what, s);
    out->len = prefix_bits(out->family);
    return 0;
}

int ipam_prefix_parse(const char *s, bool strict, const char *what, struct ipam_prefix *out,
                      struct berr *e)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return berr_set(e, -EINVAL, "%s: empty prefix", what);
    const char *slash = strchr(s, '/');
    _cleanup_free_ char *addr = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
    if (ipam_addr_parse(addr, what, out, NULL) < 0)
        return berr_set(e, -EINVAL, "%s \"%s\" is not an IPv4 or IPv6 prefix", what, s);
    if (slash) {
        const char *d = slash + 1;
        unsigned len = 0;
        if (!*d || strlen(d) > 3)
            return berr_set(e, -EINVAL, "%s \"%s\": bad prefix length", what, s);
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return berr_set(e, -EINVAL, "%s \"%s\": bad prefix length", what, s);
            len = len * 10 + (unsigned)(*d - '0');
        }
        if (len > prefix_bits(out->family))
            return berr_set(e, -EINVAL, "%s \"%s\": prefix length %u is longer than %u", what, s,
                            len, prefix_bits(out->family));
        out->len = len;
    }
    if (strict && !host_bits_zero(out)) {
        struct ipam_prefix net = *out;
        for (unsigned i = net.len; i < prefix_bits(net.family); i++)
            net.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
        char buf[IPAM_PREFIX_STRLEN];
        ipam_prefix_format(&net, true, buf);
        return berr_set(e, -EINVAL, "%s \"%s\" has host bits set (the network is %s)", what, s,
                        buf);
    }
    return 0;
}

void ipam_prefix_format(const struct ipam_prefix *p, bool with_len, char buf[IPAM_PREFIX_STRLEN])
{
    char a[INET6_ADDRSTRLEN] = "";
    if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    if (with_len)
        snprintf(buf, IPAM_PREFIX_STRLEN, "%s/%u", a, p->len);
    else
        snprintf(buf, IPAM_PREFIX_STRLEN, "%s", a);
}

bool ipam_prefix_overlaps(const struct ipam_prefix *a, const struct ipam_prefix *b)
{
    if (a->family != b->family)
        return false;
    return bits_equal(a->addr, b->addr, a->len < b->len ? a->len : b->len);
}

bool ipam_prefix_contains(const struct ipam_prefix *b, const struct ipam_prefix *a)
{
    return a->family == b->family && a->len >= b->len && bits_equal(a->addr, b->addr, b->len);
}

#define P16(b)                                                                                     \
    {                                                                                              \
        AF_INET, 16,                                                                               \
        {                                                                                          \
            172, b, 0, 0                                                                           \
        }                                                                                          \
    }
#define P20(c)                                                                                     \
    {                                                                                              \
        AF_INET, 20,                                                                               \
        {                                                                                          \
            192, 168, c, 0                                                                         \
        }                                                                                          \
    }

/* Docker's default address pools (moby libnetwork/ipamutils, the
 * PredefinedLocalScopeDefaultNetworks list): 172.17.0.0/16 to 172.31.0.0/16
 * as /16s, then 192.168.0.0/16 split into /20s, taken in this order. */
static const struct ipam_prefix default_pools[] = {
    P16(17),  P16(18),  P16(19),  P16(20),  P16(21),  P16(22),  P16(23),  P16(24),
    P16(25),  P16(26),  P16(27),  P16(28),  P16(29),  P16(30),  P16(31),  P20(0),
    P20(16),  P20(32),  P20(48),  P20(64),  P20(80),  P20(96),  P20(112), P20(128),
    P20(144), P20(160), P20(176), P20(192), P20(208), P20(224), P20(240),
};

const struct ipam_prefix *ipam_default_pools(size_t *n)
{
    *n = sizeof(default_pools) / sizeof(default_pools[0]);
    return default_pools;
}

int ipam_pick_subnet(const struct ipam_prefix *taken, size_t ntaken, const char *explicit_subnet,
                     struct ipam_prefix *out, struct berr *e)
{
    if (explicit_subnet) {
        struct ipam_prefix p;
        int r = ipam_prefix_parse(explicit_subnet, true, "subnet", &p, e);
        if (r < 0)
            return r;
        for (size_t i = 0; i < ntaken; i++) {
            if (ipam_prefix_overlaps(&p, &taken[i])) {
                char a[IPAM_PREFIX_STRLEN], b[IPAM_PREFIX_STRLEN];
                ipam_prefix_format(&p, true, a);
                ipam_prefix_format(&taken[i], true, b);
                return berr_set(e, -EEXIST, "subnet %s overlaps %s, already in use", a, b);
            }
        }
        *out = p;
        return 0;
    }
    size_t npools;
    const struct ipam_prefix *pools = ipam_default_pools(&npools);
    for (size_t i = 0; i < npools; i++) {
        bool free_ = true;
        for (size_t j = 0; j < ntaken && free_; j++)
            free_ = !ipam_prefix_overlaps(&pools[i], &taken[j]);
        if (free_) {
            *out = pools[i];
            return 0;
        }
    }
    return berr_set(e, -ENOSPC,
                    "no free subnet: all %zu default address pools overlap a route or network "
                    "already in use",
                    npools);
}

void ipam_ula_pool(const void *seed, size_t len, struct ipam_prefix *out)
{
    unsigned char md[EVP_MAX_MD_SIZE] = {0};
    unsigned mdlen = 0;
    if (EVP_Digest(seed, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        memset(md, 0, sizeof md); /* never: SHA-256 is always there */
    memset(out, 0, sizeof *out);
    out->family = AF_INET6;
    out->len = 48;
    out->addr[0] = 0xfd;
    memcpy(out->addr + 1, md, 5);
}

void ipam_ula_pool_host(const char *fallback, struct ipam_prefix *out)
{
    _cleanup_free_ char *id = NULL;
    size_t len = 0;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, "/etc/machine-id", 4096, &id, &len, &ign) < 0 || len == 0) {
        berr_clear(&ign);
        free(id);
        id = xstrdup(fallback ? fallback : "berth");
        len = strlen(id);
    }
    ipam_ula_pool(id, len, out);
}

/* Clears the host bits of p (its length kept). */
static void clear_host_bits(struct ipam_prefix *p)
{
    for (unsigned i = p->len; i < prefix_bits(p->family); i++)
        p->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

/* The /64s of a pool tried at most (a /48 has this many). */
#define POOL6_TRIES 65536u

int ipam_pick_subnet6(const struct ipam_prefix *taken, size_t ntaken, const char *explicit_subnet,
                      const struct ipam_prefix *pool, struct ipam_prefix *out, struct berr *e)
{
    if (explicit_subnet) {
        int r = ipam_pick_subnet(taken, ntaken, explicit_subnet, out, e);
        if (r < 0)
            return r;
        if (out->family != AF_INET6)
            return berr_set(e, -EINVAL, "subnet %s is not an IPv6 subnet", explicit_subnet);
        return 0;
    }
    if (!pool || pool->family != AF_INET6 || pool->len > 64)
        return berr_set(e, -EINVAL, "no IPv6 address pool to choose a subnet from");
    char pb[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(pool, true, pb);
    struct ipam_prefix base = *pool;
    clear_host_bits(&base);
    uint64_t hi = 0;
    for (int i = 0; i < 8; i++)
        hi = hi << 8 | base.addr[i];
    uint64_t count = 64 - pool->len >= 16 ? POOL6_TRIES : 1ull << (64 - pool->len);
    for (uint64_t k = 0; k < count; k++) {
        struct ipam_prefix c = base;
        c.len = 64;
        for (int i = 0; i < 8; i++)
            c.addr[i] = (uint8_t)((hi + k) >> (56 - 8 * i));
        bool free_ = true;
        for (size_t j = 0; j < ntaken && free_; j++)
            free_ = !ipam_prefix_overlaps(&c, &taken[j]);
        if (free_) {
            *out = c;
            return 0;
        }
    }
    return berr_set(e, -ENOSPC,
                    "no free IPv6 subnet: every /64 of the pool %s overlaps a route or network "
                    "already in use",
                    pb);
}

static uint32_t v4(const struct ipam_prefix *p)
{
    uint32_t x;
    memcpy(&x, p->addr, 4);
    return ntohl(x);
}

static void set_v4(struct ipam_prefix *p, uint32_t a)
{
    memset(p, 0, sizeof(*p));
    p->family = AF_INET;
    p->len = 32;
    uint32_t x = htonl(a);
    memcpy(p->addr, &x, 4);
}

static uint32_t v4_mask(unsigned len)
{
    return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* First and last host address of an IPv4 subnet; false when it has none
 * (a /31 or /32: berth's networks need a network and broadcast address). */
static bool v4_hosts(const struct ipam_prefix *subnet, uint32_t *first, uint32_t *last)
{
    if (subnet->len > 30)
        return false;
    uint32_t net = v4(subnet) & v4_mask(subnet->len);
    *first = net + 1;
    *last = (net | ~v4_mask(subnet->len)) - 1;
    return true;
}

int ipam_pick_gateway(const struct ipam_prefix *subnet, const char *given, struct ipam_prefix *out,
                      struct berr *e)
{
    char sb[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(subnet, true, sb);
    if (given) {
        int r = ipam_addr_parse(given, "gateway", out, e);
        if (r < 0)
            return r;
        if (!ipam_prefix_contains(subnet, out))
            return berr_set(e, -EINVAL, "gateway %s is outside subnet %s", given, sb);
        if (subnet->family == AF_INET) {
            uint32_t first, last;
            if (!v4_hosts(subnet, &first, &last) || v4(out) < first || v4(out) > last)
                return berr_set(e, -EINVAL,
                                "gateway %s is not a host address of subnet %s (network or "
                                "broadcast address)",
                                given, sb);
        } else {
            struct ipam_prefix net = *subnet;
            clear_host_bits(&net);
            if (memcmp(net.addr, out->addr, 16) == 0)
                return berr_set(e, -EINVAL, "gateway %s is the network address of subnet %s", given,
                                sb);
        }
        return 0;
    }
    if (subnet->family == AF_INET) {
        uint32_t first, last;
        if (!v4_hosts(subnet, &first, &last))
            return berr_set(e, -EINVAL, "subnet %s has no host address for a gateway", sb);
        set_v4(out, first);
        return 0;
    }
    if (subnet->len >= 127)
        return berr_set(e, -EINVAL, "subnet %s has no host address for a gateway", sb);
    *out = *subnet;
    for (unsigned i = subnet->len; i < 128; i++)
        out->addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    for (int i = 15; i >= 0; i--)
        if (++out->addr[i] != 0)
            break;
    out->len = 128;
    return 0;
}

static bool v4_taken(uint32_t a, const struct ipam_prefix *taken, size_t ntaken)
{
    struct ipam_prefix p;
    set_v4(&p, a);
    for (size_t i = 0; i < ntaken; i++)
        if (ipam_prefix_overlaps(&p, &taken[i]))
            return true;
    return false;
}

static bool addr_taken(const struct ipam_prefix *p, const struct ipam_prefix *taken, size_t ntaken)
{
    for (size_t i = 0; i < ntaken; i++)
        if (ipam_prefix_overlaps(p, &taken[i]))
            return true;
    return false;
}

static void inc128(uint8_t a[16])
{
    for (int i = 15; i >= 0; i--)
        if (++a[i] != 0)
            break;
}

static int no_room(const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                   struct berr *e)
{
    char sb[IPAM_PREFIX_STRLEN], rb[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(subnet, true, sb);
    if (range) {
        ipam_prefix_format(range, true, rb);
        return berr_set(e, -ENOSPC, "no free address left in ip_range %s of subnet %s", rb, sb);
    }
    return berr_set(e, -ENOSPC, "no free address left in subnet %s", sb);
}

/* ipam_pick_address for an IPv6 subnet: no broadcast address; the
 * network (subnet-router anycast) address is never handed out. Trying
 * ntaken + 2 candidates in order is enough: each one skipped is taken or
 * the gateway. */
static int pick_address6(const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                         const struct ipam_prefix *gateway, const struct ipam_prefix *taken,
                         size_t ntaken, const char *requested, struct ipam_prefix *out,
                         struct berr *e)
{
    char sb[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(subnet, true, sb);
    if (subnet->len > 126)
        return berr_set(e, -ENOSPC, "subnet %s has no host address for containers", sb);
    struct ipam_prefix net = *subnet;
    clear_host_bits(&net);
    net.len = 128;
    if (requested) {
        struct ipam_prefix p;
        int r = ipam_addr_parse(requested, "ipv6_address", &p, e);
        if (r < 0)
            return r;
        if (p.family != AF_INET6)
            return berr_set(e, -EINVAL, "ipv6_address %s is not an IPv6 address", requested);
        if (!ipam_prefix_contains(subnet, &p))
            return berr_set(e, -EINVAL, "ipv6_address %s is outside subnet %s", requested, sb);
        if (memcmp(p.addr, net.addr, 16) == 0)
            return berr_set(e, -EINVAL, "ipv6_address %s is the network address of subnet %s",
                            requested, sb);
        if (gateway && memcmp(p.addr, gateway->addr, 16) == 0)
            return berr_set(e, -EEXIST, "ipv6_address %s is the gateway of subnet %s", requested,
                            sb);
        if (addr_taken(&p, taken, ntaken))
            return berr_set(e, -EEXIST, "ipv6_address %s is already in use", requested);
        *out = p;
        return 0;
    }
    const struct ipam_prefix *lim = subnet;
    struct ipam_prefix c = net;
    if (range) {
        char rb[IPAM_PREFIX_STRLEN];
        ipam_prefix_format(range, true, rb);
        if (!ipam_prefix_contains(subnet, range))
            return berr_set(e, -EINVAL, "ip_range %s is outside subnet %s", rb, sb);
        lim = range;
        c = *range;
        clear_host_bits(&c);
        c.len = 128;
    }
    if (memcmp(c.addr, net.addr, 16) == 0)
        inc128(c.addr);
    for (size_t i = 0; i < ntaken + 2 && ipam_prefix_contains(lim, &c); i++, inc128(c.addr)) {
        if ((gateway && memcmp(c.addr, gateway->addr, 16) == 0) || addr_taken(&c, taken, ntaken))
            continue;
        *out = c;
        return 0;
    }
    return no_room(subnet, range, e);
}

int ipam_pick_address(const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                      const struct ipam_prefix *gateway, const struct ipam_prefix *taken,
                      size_t ntaken, const char *requested, struct ipam_prefix *out, struct berr *e)
{
    if (subnet->family == AF_INET6)
        return pick_address6(subnet, range, gateway, taken, ntaken, requested, out, e);
    char sb[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(subnet, true, sb);
    uint32_t first, last;
    if (!v4_hosts(subnet, &first, &last))
        return berr_set(e, -ENOSPC, "subnet %s has no host address for containers", sb);
    uint32_t gw = gateway ? v4(gateway) : 0;
    if (requested) {
        struct ipam_prefix p;
        int r = ipam_addr_parse(requested, "ipv4_address", &p, e);
        if (r < 0)
            return r;
        if (p.family != AF_INET)
            return berr_set(e, -EINVAL, "ipv4_address %s is not an IPv4 address", requested);
        if (!ipam_prefix_contains(subnet, &p))
            return berr_set(e, -EINVAL, "ipv4_address %s is outside subnet %s", requested, sb);
        uint32_t a = v4(&p);
        if (a < first || a > last)
            return berr_set(e, -EINVAL,
                            "ipv4_address %s is the network or broadcast address of subnet %s",
                            requested, sb);
        if (gateway && a == gw)
            return berr_set(e, -EEXIST, "ipv4_address %s is the gateway of subnet %s", requested,
                            sb);
        if (v4_taken(a, taken, ntaken))
            return berr_set(e, -EEXIST, "ipv4_address %s is already in use", requested);
        *out = p;
        return 0;
    }
    uint32_t lo = first, hi = last;
    if (range) {
        char rb[IPAM_PREFIX_STRLEN];
        ipam_prefix_format(range, true, rb);
        if (!ipam_prefix_contains(subnet, range))
            return berr_set(e, -EINVAL, "ip_range %s is outside subnet %s", rb, sb);
        uint32_t rnet = v4(range) & v4_mask(range->len);
        uint32_t rlast = rnet | ~v4_mask(range->len);
        if (rnet > lo)
            lo = rnet;
        if (rlast < hi)
            hi = rlast;
    }
    for (uint64_t a = lo; a <= hi; a++) {
        if (gateway && a == gw)
            continue;
        if (v4_taken((uint32_t)a, taken, ntaken))
            continue;
        set_v4(out, (uint32_t)a);
        return 0;
    }
    return no_room(subnet, range, e);
}

/* ---- the state file ---- */

/* ROOT/network opened and locked, and the state read from it. */
struct state {
    int dirfd, lockfd;
    char *path;       /* ROOT/network/ipam.json, for messages */
    json_t *doc;      /* {"networks": {NAME: {...}}} */
    json_t *networks; /* borrowed from doc */
};

static void state_close(struct state *st)
{
    json_decref(st->doc);
    if (st->lockfd >= 0)
        close(st->lockfd); /* drops the flock */
    if (st->dirfd >= 0)
        close(st->dirfd);
    free(st->path);
}

static int check_str(json_t *o, const char *key, bool optional, bool is_prefix, const char *path,
                     const char *net, struct berr *e)
{
    json_t *v = json_object_get(o, key);
    if (!v && optional)
        return 0;
    struct ipam_prefix p;
    if (!json_is_string(v) ||
        (is_prefix ? ipam_prefix_parse(json_string_value(v), false, key, &p, NULL)
                   : ipam_addr_parse(json_string_value(v), key, &p, NULL)) < 0)
        return berr_set(e, -EINVAL, "%s: network \"%s\": missing or bad \"%s\"", path, net, key);
    return 0;
}

/* n's map of container to address under key, made when missing. */
static int check_addresses(json_t *n, const char *key, const char *path, const char *net,
                           struct berr *e)
{
    json_t *addrs = json_object_get(n, key);
    if (!addrs) {
        addrs = json_object();
        json_object_set_new(n, key, addrs);
    }
    if (!json_is_object(addrs))
        return berr_set(e, -EINVAL, "%s: network \"%s\": \"%s\" is not an object", path, net, key);
    const char *ctr;
    json_t *a;
    json_object_foreach(addrs, ctr, a)
    {
        struct ipam_prefix p;
        if (!json_is_string(a) || ipam_addr_parse(json_string_value(a), "", &p, NULL) < 0)
            return berr_set(e, -EINVAL, "%s: network \"%s\": bad address of \"%s\"", path, net,
                            ctr);
    }
    return 0;
}

/* The shape berth writes; anything else is a corrupt file. */
static int state_check(struct state *st, struct berr *e)
{
    if (!json_is_object(st->doc))
        return berr_set(e, -EINVAL, "%s: not a JSON object", st->path);
    st->networks = json_object_get(st->doc, "networks");
    if (!st->networks) {
        st->networks = json_object();
        json_object_set_new(st->doc, "networks", st->networks);
    }
    if (!json_is_object(st->networks))
        return berr_set(e, -EINVAL, "%s: \"networks\" is not an object", st->path);
    const char *name;
    json_t *n;
    json_object_foreach(st->networks, name, n)
    {
        if (!json_is_object(n))
            return berr_set(e, -EINVAL, "%s: network \"%s\" is not an object", st->path, name);
        int r;
        bool v6 = json_object_get(n, "subnet6") != NULL;
        if ((r = check_str(n, "subnet", false, true, st->path, name, e)) < 0 ||
            (r = check_str(n, "gateway", false, false, st->path, name, e)) < 0 ||
            (r = check_str(n, "ip_range", true, true, st->path, name, e)) < 0 ||
            (r = check_str(n, "subnet6", true, true, st->path, name, e)) < 0 ||
            (r = check_str(n, "gateway6", !v6, false, st->path, name, e)) < 0 ||
            (r = check_str(n, "ip_range6", true, true, st->path, name, e)) < 0 ||
            (r = check_addresses(n, "addresses", st->path, name, e)) < 0 ||
            (v6 && (r = check_addresses(n, "addresses6", st->path, name, e)) < 0))
            return r;
    }
    return 0;
}

static int state_open(const char *root, struct state *st, struct berr *e)
{
    *st = (struct state){.dirfd = -1, .lockfd = -1};
    _cleanup_free_ char *dir = fs_path_join(root, "network");
    st->path = fs_path_join(dir, STATE_FILE);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return berr_wrap(e, "IP address state");
    st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    st->lockfd = openat(st->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (st->lockfd < 0)
        return berr_errno(e, errno, "opening %s/%s", dir, LOCK_FILE);
    while (flock(st->lockfd, LOCK_EX) < 0) {
        if (errno != EINTR)
            return berr_errno(e, errno, "locking %s/%s", dir, LOCK_FILE);
    }
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct berr re = BERR_INIT;
    r = fs_read_file(st->dirfd, STATE_FILE, STATE_MAX, &buf, &len, &re);
    if (r == -ENOENT) {
        berr_clear(&re);
        st->doc = json_object();
    } else if (r < 0) {
        berr_move(e, &re);
        return berr_wrap(e, "%s", dir);
    } else {
        json_error_t je;
        st->doc = json_loadb(buf, len, 0, &je);
        if (!st->doc)
            return berr_set(e, -EINVAL, "%s: line %d: %s", st->path, je.line, je.text);
    }
    return state_check(st, e);
}

static int state_commit(struct state *st, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(st->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return berr_set(e, -ENOMEM, "%s: encoding the state", st->path);
    size_t len = strlen(text);
    _cleanup_free_ char *withnl = xasprintf("%s\n", text);
    int r = fs_write_atomic(st->dirfd, STATE_FILE, withnl, len + 1, 0600, e);
    if (r < 0)
        return berr_wrap(e, "saving %s", st->path);
    return 0;
}

static void copy_opt(json_t *n, const char *key, char buf[IPAM_PREFIX_STRLEN])
{
    json_t *v = json_object_get(n, key);
    snprintf(buf, IPAM_PREFIX_STRLEN, "%s", v ? json_string_value(v) : "");
}

static void fill_network(json_t *n, struct ipam_network *out)
{
    memset(out, 0, sizeof(*out));
    copy_opt(n, "subnet", out->subnet);
    copy_opt(n, "gateway", out->gateway);
    copy_opt(n, "ip_range", out->ip_range);
    copy_opt(n, "subnet6", out->subnet6);
    copy_opt(n, "gateway6", out->gateway6);
    copy_opt(n, "ip_range6", out->ip_range6);
}

/* A recorded network asked for again: the file must still ask for what it
 * has (want: the file's subnet, or NULL: any). */
static int check_same_subnet(const char *network, const char *have, const char *want,
                             struct berr *e)
{
    if (!want)
        return 0;
    struct ipam_prefix w, g;
    if (ipam_prefix_parse(want, true, "subnet", &w, e) < 0)
        return berr_wrap(e, "network %s", network);
    if (ipam_prefix_parse(have, false, "subnet", &g, NULL) < 0 || w.len != g.len ||
        !ipam_prefix_contains(&g, &w))
        return berr_set(e, -EEXIST, "network %s already has subnet %s, not %s", network,
                        *have ? have : "(none)", want);
    return 0;
}

/* Records subnet, gateway and ip_range (rg: the file's, or NULL) into rec
 * under the keys sfx ("" or "6") names. */
static int record_subnet(json_t *rec, const char *sfx, const struct ipam_prefix *subnet,
                         const struct ipam_prefix *gw, const char *rg, const char *network,
                         struct berr *e)
{
    char sb[IPAM_PREFIX_STRLEN], gb[IPAM_PREFIX_STRLEN], rb[IPAM_PREFIX_STRLEN], key[16];
    ipam_prefix_format(subnet, true, sb);
    ipam_prefix_format(gw, false, gb);
    snprintf(key, sizeof key, "subnet%s", sfx);
    json_object_set_new(rec, key, json_string(sb));
    snprintf(key, sizeof key, "gateway%s", sfx);
    json_object_set_new(rec, key, json_string(gb));
    snprintf(key, sizeof key, "addresses%s", *sfx ? sfx : "");
    json_object_set_new(rec, key, json_object());
    if (!rg)
        return 0;
    struct ipam_prefix range;
    int r = ipam_prefix_parse(rg, true, "ip_range", &range, e);
    if (r < 0)
        return berr_wrap(e, "network %s", network);
    if (range.family != subnet->family || !ipam_prefix_contains(subnet, &range))
        return berr_set(e, -EINVAL, "network %s: ip_range %s is outside subnet %s", network, rg,
                        sb);
    ipam_prefix_format(&range, true, rb);
    snprintf(key, sizeof key, "ip_range%s", sfx);
    json_object_set_new(rec, key, json_string(rb));
    return 0;
}

int ipam_network_acquire(const char *root, const char *network, const struct ipam_request *req,
                         const struct ipam_prefix *host_taken, size_t nhost,
                         struct ipam_network *out, struct berr *e)
{
    _cleanup_(state_close) struct state st = {.dirfd = -1, .lockfd = -1};
    int r = state_open(root, &st, e);
    if (r < 0)
        return r;
    json_t *have = json_object_get(st.networks, network);
    if (have) {
        fill_network(have, out);
        /* the file changed under a network that is still allocated: the
         * caller must release it first, never run with the old subnet */
        bool want6 = req && req->ipv6;
        if (want6 != (out->subnet6[0] != 0))
            return berr_set(e, -EEXIST, "network %s already exists with IPv6 %s (enable_ipv6)",
                            network, want6 ? "off" : "on");
        if ((r = check_same_subnet(network, out->subnet, req ? req->subnet : NULL, e)) < 0 ||
            (r = check_same_subnet(network, out->subnet6, want6 ? req->subnet6 : NULL, e)) < 0)
            return r;
        return 0;
    }
    size_t n = 0, cap = nhost + 2 * json_object_size(st.networks);
    _cleanup_free_ struct ipam_prefix *taken = xreallocarray(NULL, cap ? cap : 1, sizeof(*taken));
    for (size_t i = 0; i < nhost; i++)
        taken[n++] = host_taken[i];
    const char *name;
    json_t *o;
    json_object_foreach(st.networks, name, o)
    {
        ipam_prefix_parse(json_string_value(json_object_get(o, "subnet")), false, "subnet",
                          &taken[n++], NULL);
        json_t *s6 = json_object_get(o, "subnet6");
        if (s6)
            ipam_prefix_parse(json_string_value(s6), false, "subnet", &taken[n++], NULL);
    }
    struct ipam_prefix subnet, gw;
    const char *s = req ? req->subnet : NULL, *g = req ? req->gateway : NULL;
    if ((r = ipam_pick_subnet(taken, n, s, &subnet, e)) < 0 ||
        (r = ipam_pick_gateway(&subnet, g, &gw, e)) < 0)
        return berr_wrap(e, "network %s", network);
    if (subnet.family != AF_INET)
        return berr_set(e, -EINVAL, "network %s: subnet %s is not an IPv4 subnet", network, s);
    json_t *rec = json_object();
    r = record_subnet(rec, "", &subnet, &gw, req ? req->ip_range : NULL, network, e);
    if (r == 0 && req && req->ipv6) {
        struct ipam_prefix subnet6, gw6;
        if ((r = ipam_pick_subnet6(taken, n, req->subnet6, req->pool6, &subnet6, e)) < 0 ||
            (r = ipam_pick_gateway(&subnet6, req->gateway6, &gw6, e)) < 0)
            berr_wrap(e, "network %s", network);
        else
            r = record_subnet(rec, "6", &subnet6, &gw6, req->ip_range6, network, e);
    }
    if (r < 0) {
        json_decref(rec);
        return r;
    }
    if (req && req->aux) {
        json_t *aux = json_array();
        for (size_t i = 0; req->aux[i]; i++) {
            struct ipam_prefix a;
            char buf[IPAM_PREFIX_STRLEN];
            if (ipam_addr_parse(req->aux[i], "aux address", &a, e) < 0) {
                json_decref(aux);
                json_decref(rec);
                return berr_wrap(e, "network %s", network);
            }
            ipam_prefix_format(&a, false, buf);
            json_array_append_new(aux, json_string(buf));
        }
        json_object_set_new(rec, "aux", aux);
    }
    json_object_set_new(st.networks, network, rec);
    if ((r = state_commit(&st, e)) < 0)
        return r;
    fill_network(rec, out);
    return 0;
}

/* Whether two address strings name the same address ("fd00::0010" is
 * "fd00::10"). */
static bool same_addr(const char *a, const char *b)
{
    struct ipam_prefix x, y;
    return ipam_addr_parse(a, "", &x, NULL) == 0 && ipam_addr_parse(b, "", &y, NULL) == 0 &&
           x.family == y.family && memcmp(x.addr, y.addr, 16) == 0;
}

/* ipam_address_acquire for IPv4 (sfx "") or IPv6 (sfx "6"). */
static int address_acquire(const char *root, const char *network, const char *container,
                           const char *requested, const char *sfx, char out[IPAM_PREFIX_STRLEN],
                           struct berr *e)
{
    _cleanup_(state_close) struct state st = {.dirfd = -1, .lockfd = -1};
    int r = state_open(root, &st, e);
    if (r < 0)
        return r;
    json_t *n = json_object_get(st.networks, network);
    if (!n)
        return berr_set(e, -ENOENT, "network %s has no subnet allocated", network);
    char k_sub[16], k_gw[16], k_rg[16], k_addrs[16];
    snprintf(k_sub, sizeof k_sub, "subnet%s", sfx);
    snprintf(k_gw, sizeof k_gw, "gateway%s", sfx);
    snprintf(k_rg, sizeof k_rg, "ip_range%s", sfx);
    snprintf(k_addrs, sizeof k_addrs, "addresses%s", sfx);
    const char *what = *sfx ? "ipv6_address" : "ipv4_address";
    if (!json_object_get(n, k_sub))
        return berr_set(e, -ENOENT, "network %s has no IPv6 subnet (enable_ipv6 is not set)",
                        network);
    json_t *addrs = json_object_get(n, k_addrs);
    json_t *mine = json_object_get(addrs, container);
    if (mine && (!requested || same_addr(requested, json_string_value(mine)))) {
        snprintf(out, IPAM_PREFIX_STRLEN, "%s", json_string_value(mine));
        return 0;
    }
    struct ipam_prefix subnet, gw, range;
    ipam_prefix_parse(json_string_value(json_object_get(n, k_sub)), false, "", &subnet, NULL);
    ipam_addr_parse(json_string_value(json_object_get(n, k_gw)), "", &gw, NULL);
    json_t *rg = json_object_get(n, k_rg);
    if (rg)
        ipam_prefix_parse(json_string_value(rg), false, "", &range, NULL);
    size_t cnt = 0;
    json_t *aux = json_object_get(n, "aux");
    _cleanup_free_ struct ipam_prefix *taken =
        xreallocarray(NULL, json_object_size(addrs) + json_array_size(aux) + 1, sizeof(*taken));
    size_t ai;
    json_t *av;
    json_array_foreach(aux, ai, av)
    {
        const char *str = json_string_value(av);
        if (!str || ipam_addr_parse(str, "", &taken[cnt], NULL) < 0 ||
            taken[cnt].family != subnet.family)
            continue;
        if (requested && same_addr(str, requested))
            return berr_set(e, -EEXIST, "network %s: %s %s is reserved by ipam aux_addresses",
                            network, what, requested);
        cnt++;
    }
    const char *ctr;
    json_t *a;
    json_object_foreach(addrs, ctr, a)
    {
        if (strcmp(ctr, container) == 0)
            continue;
        ipam_addr_parse(json_string_value(a), "", &taken[cnt], NULL);
        if (requested && same_addr(json_string_value(a), requested))
            return berr_set(e, -EEXIST, "network %s: %s %s is already in use by %s", network, what,
                            requested, ctr);
        cnt++;
    }
    struct ipam_prefix got;
    r = ipam_pick_address(&subnet, rg ? &range : NULL, &gw, taken, cnt, requested, &got, e);
    if (r < 0)
        return berr_wrap(e, "network %s", network);
    char buf[IPAM_PREFIX_STRLEN];
    ipam_prefix_format(&got, false, buf);
    json_object_set_new(addrs, container, json_string(buf));
    if ((r = state_commit(&st, e)) < 0)
        return r;
    snprintf(out, IPAM_PREFIX_STRLEN, "%s", buf);
    return 0;
}

int ipam_address_acquire(const char *root, const char *network, const char *container,
                         const char *requested, char out[IPAM_PREFIX_STRLEN], struct berr *e)
{
    return address_acquire(root, network, container, requested, "", out, e);
}

int ipam_address6_acquire(const char *root, const char *network, const char *container,
                          const char *requested, char out[IPAM_PREFIX_STRLEN], struct berr *e)
{
    return address_acquire(root, network, container, requested, "6", out, e);
}

int ipam_address_release(const char *root, const char *network, const char *container,
                         struct berr *e)
{
    _cleanup_(state_close) struct state st = {.dirfd = -1, .lockfd = -1};
    int r = state_open(root, &st, e);
    if (r < 0)
        return r;
    json_t *n = json_object_get(st.networks, network);
    json_t *addrs = json_object_get(n, "addresses"), *addrs6 = json_object_get(n, "addresses6");
    bool gone4 = addrs && json_object_del(addrs, container) == 0;
    bool gone6 = addrs6 && json_object_del(addrs6, container) == 0;
    if (!gone4 && !gone6)
        return 0;
    return state_commit(&st, e);
}

int ipam_network_release(const char *root, const char *network, struct berr *e)
{
    _cleanup_(state_close) struct state st = {.dirfd = -1, .lockfd = -1};
    int r = state_open(root, &st, e);
    if (r < 0)
        return r;
    if (json_object_del(st.networks, network) < 0)
        return 0;
    return state_commit(&st, e);
}

int ipam_network_users(const char *root, const char *network, char ***out, struct berr *e)
{
    *out = NULL;
    _cleanup_(state_close) struct state st = {.dirfd = -1, .lockfd = -1};
    int r = state_open(root, &st, e);
    if (r < 0)
        return r;
    json_t *addrs = json_object_get(json_object_get(st.networks, network), "addresses");
    const char *ctr;
    json_t *a;
    size_t n = 0;
    json_object_foreach(addrs, ctr, a)
    {
        *out = xreallocarray(*out, n + 2, sizeof **out);
        (*out)[n++] = xstrdup(ctr);
        (*out)[n] = NULL;
    }
    return 0;
}

int ipam_host_lock(struct berr *e)
{
    (void)mkdir("/run/lock", 0755); /* most hosts have it */
    int fd = open(IPAM_HOST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", IPAM_HOST_LOCK);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            int r = berr_errno(e, errno, "locking %s", IPAM_HOST_LOCK);
            close(fd);
            return r;
        }
    return fd;
}
