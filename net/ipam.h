/* SPDX-License-Identifier: Apache-2.0 */
/* IP address management for berth's networks: prefixes (IPv4 and IPv6,
 * parsed and overlap-checked), docker's default address pools, picking a
 * network's subnet and gateway, allocating container addresses within it,
 * and the on-disk state (ROOT/network/ipam.json, read-modify-written under
 * an flock on ROOT/network/ipam.lock) that keeps two processes from handing
 * out the same subnet or address and lets a restarted container keep its
 * address. Not here: gathering the host's routes and addresses (the caller
 * passes them as taken prefixes), bridges, veths and anything netlink. */
#ifndef BERTH_NET_IPAM_H
#define BERTH_NET_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* An address with a prefix length. addr holds 4 (AF_INET) or 16 (AF_INET6)
 * bytes in network order; host bits may be set (a host's interface address). */
struct ipam_prefix {
    int family;
    unsigned len;
    uint8_t addr[16];
};

/* "a.b.c.d/n" or "x::y/n" (or no "/n": a host prefix). */
#define IPAM_PREFIX_STRLEN 50

/* Parses s; what names the value in the error ("subnet", "ip_range"). With
 * strict, host bits set are refused (a subnet as the user wrote it). */
int ipam_prefix_parse(const char *s, bool strict, const char *what, struct ipam_prefix *out,
                      struct berr *e);

/* Parses a bare address (no "/n") as a host prefix (/32 or /128). */
int ipam_addr_parse(const char *s, const char *what, struct ipam_prefix *out, struct berr *e);

/* Formats p as "addr/len" (with_len) or "addr" into buf. */
void ipam_prefix_format(const struct ipam_prefix *p, bool with_len, char buf[IPAM_PREFIX_STRLEN]);

/* Whether the two prefixes share any address (never across families). */
bool ipam_prefix_overlaps(const struct ipam_prefix *a, const struct ipam_prefix *b);

/* Whether a lies wholly inside b. */
bool ipam_prefix_contains(const struct ipam_prefix *b, const struct ipam_prefix *a);

/* Docker's default IPv4 pools, in docker's order; *n gets their count. */
const struct ipam_prefix *ipam_default_pools(size_t *n);

/* The ULA pool of this host, as docker 27 derives one from its engine ID
 * (RFC 4193 section 3.2.2, loosely): fd00::/8 with a 40-bit global ID, the
 * first five bytes of SHA-256(seed), as a /48 (split into /64 subnets). */
void ipam_ula_pool(const void *seed, size_t len, struct ipam_prefix *out);

/* The host's ULA pool: from /etc/machine-id, or (none readable) from
 * fallback, e.g. the store's path, so it stays the same on this host. */
void ipam_ula_pool_host(const char *fallback, struct ipam_prefix *out);

/* Chooses a network's subnet. With explicit (the compose file's
 * ipam.config subnet) that subnet is checked against taken: an overlap is an
 * error naming both prefixes. Without, the first default pool subnet that
 * overlaps none of taken. */
int ipam_pick_subnet(const struct ipam_prefix *taken, size_t ntaken, const char *explicit_subnet,
                     struct ipam_prefix *out, struct berr *e);

/* Chooses a network's IPv6 subnet: explicit (an IPv6 subnet, checked as
 * ipam_pick_subnet does), or the first /64 of pool that overlaps none of
 * taken. */
int ipam_pick_subnet6(const struct ipam_prefix *taken, size_t ntaken, const char *explicit_subnet,
                      const struct ipam_prefix *pool, struct ipam_prefix *out, struct berr *e);

/* The gateway of subnet: given (which must be a host address inside it), or
 * the first host address. */
int ipam_pick_gateway(const struct ipam_prefix *subnet, const char *given, struct ipam_prefix *out,
                      struct berr *e);

/* A container address in subnet: requested (an error if of the other
 * family, outside the subnet, the network or (IPv4) broadcast address, the
 * gateway, or taken), or the first free address of range (NULL: the whole
 * subnet), skipping the network and broadcast addresses, the gateway and
 * taken. Messages call requested "ipv4_address" or "ipv6_address". */
int ipam_pick_address(const struct ipam_prefix *subnet, const struct ipam_prefix *range,
                      const struct ipam_prefix *gateway, const struct ipam_prefix *taken,
                      size_t ntaken, const char *requested, struct ipam_prefix *out,
                      struct berr *e);

/* What the file asks of a network (every field may be NULL). */
struct ipam_request {
    const char *subnet, *gateway, *ip_range;
    /* IPv6 (ipv6 set: enable_ipv6): the file's v6 entry, and the pool of a
     * subnet chosen when the file gives none (ipam_ula_pool_host) */
    bool ipv6;
    const char *subnet6, *gateway6, *ip_range6;
    const struct ipam_prefix *pool6;
    /* ipam aux_addresses: bare addresses (either family) never handed to
     * a container; NULL-terminated or NULL */
    const char *const *aux;
};

/* A network's allocation, formatted. */
struct ipam_network {
    char subnet[IPAM_PREFIX_STRLEN];
    char gateway[IPAM_PREFIX_STRLEN];
    char ip_range[IPAM_PREFIX_STRLEN]; /* "" when the whole subnet */
    char subnet6[IPAM_PREFIX_STRLEN];  /* the three: "" without IPv6 */
    char gateway6[IPAM_PREFIX_STRLEN];
    char ip_range6[IPAM_PREFIX_STRLEN];
};

/* Under the store's lock: returns network's recorded allocation, or
 * records a new one (req, checked against host_taken and every other
 * recorded network's subnets, v4 and v6). A recorded network asked for
 * with another subnet, or with IPv6 on or off where it was not, is an
 * error (release it first). root is the store (ROOT/network is made). */
int ipam_network_acquire(const char *root, const char *network, const struct ipam_request *req,
                         const struct ipam_prefix *host_taken, size_t nhost,
                         struct ipam_network *out, struct berr *e);

/* Under the store's lock: returns container's recorded address on network
 * (the same one on every call), or records a new one (requested: the
 * file's ipv4_address, or NULL), never one of the network's aux addresses
 * (requested as one: an error naming it). out gets the bare address. */
int ipam_address_acquire(const char *root, const char *network, const char *container,
                         const char *requested, char out[IPAM_PREFIX_STRLEN], struct berr *e);

/* The same for the container's IPv6 address (requested: the file's
 * ipv6_address) on a network that has an IPv6 subnet. */
int ipam_address6_acquire(const char *root, const char *network, const char *container,
                          const char *requested, char out[IPAM_PREFIX_STRLEN], struct berr *e);

/* Forgets container's addresses (v4 and v6) on network (none recorded:
 * not an error). */
int ipam_address_release(const char *root, const char *network, const char *container,
                         struct berr *e);

/* The containers holding an address on network (NULL-terminated, NULL
 * when none): a network that still has them is in use. */
int ipam_network_users(const char *root, const char *network, char ***out, struct berr *e);

/* Forgets network's subnet and every address on it (none: not an error). */
int ipam_network_release(const char *root, const char *network, struct berr *e);

/* Subnets are the host's, not a store's: every berth on the host (any
 * store) chooses one under this lock, from the host's routes as they are
 * once the previous choice has its bridge. Takes the lock (waiting for
 * it) and returns its fd: closing it releases the lock. */
#define IPAM_HOST_LOCK "/run/lock/berth-network.lock"
int ipam_host_lock(struct berr *e);

#endif
