/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS server, on the supervisor's libuv loop. The owner binds
 * one UDP and one listening TCP socket at 127.0.0.11:53 inside each
 * container's network namespace and hands them over with an "asker"
 * pointer naming the container. A and AAAA queries (class IN) for names the
 * owner's lookup knows are answered from it (TTL 600, as docker; the
 * addresses rotate from one answer to the next); other types of a known
 * name get NODATA; everything else is forwarded, from the supervisor's own
 * network namespace, to the asker's own upstreams (its compose `dns:`) or
 * else the host's resolvers (the server's upstreams) under a fresh
 * random id, and the answer relayed with the client's id (TC passes
 * through). An upstream that does not answer in its share of the forward
 * timeout is replaced by the next; when none answers, the client gets
 * SERVFAIL. At most 1024 UDP queries are forwarded at a time (over that:
 * SERVFAIL at once). A malformed query is dropped, or answered FORMERR
 * (NOTIMP for another opcode) when its header is readable. TCP carries
 * length-prefixed messages (RFC 1035 4.2.2), one at a time per connection,
 * forwarded over TCP; a connection with no complete query for the idle
 * timeout is closed, and an asker has at most 16 connections.
 *
 * Answering a UDP query allocates nothing: one receive buffer (recvmmsg
 * batches where libuv has them) and one set of answer buffers serve every
 * socket, as the loop runs one callback at a time; the answers to one
 * batch go out with one sendmmsg.
 *
 * Not here: binding the sockets in a namespace, what names mean (the
 * lookup), the wire format (net/dns.h), reading the host's resolv.conf
 * (net/etcfiles.h). Ownership: the server owns every fd handed to it. */
#ifndef BERTH_SUPERVISE_SV_DNS_H
#define BERTH_SUPERVISE_SV_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/err.h"

struct sv_dns;

/* What the server asks its owner: the addresses of name (already lower-
 * cased, no trailing dot) as asker sees them (only containers on a network
 * asker shares). Fills up to cap addresses of family (4 or 16 bytes each)
 * into out; returns their number, 0 when the name is known but has none of
 * that family (NODATA), or -ENOENT when the name is not berth's (forward).
 * family is AF_INET or AF_INET6. Another negative code: SERVFAIL. */
typedef int (*sv_dns_lookup_fn)(void *owner, void *asker, const char *name, int family,
                                uint8_t *out, size_t cap);

struct sv_dns_options {
    char *const
        *upstreams; /* "a.b.c.d" / "x::y", optionally "addr#port" for tests; NULL-terminated */
    sv_dns_lookup_fn lookup;
    void *owner;
    int64_t forward_timeout_ms; /* over all upstreams; 0: 4000 */
    int64_t tcp_idle_ms; /* a TCP client with no complete query this long is closed; 0: 10000 */
};

/* At most this many upstreams are used (glibc's MAXNS is 3). */
#define SV_DNS_UPSTREAMS_MAX 8

/* Fails (-EINVAL, naming it) on an upstream that is not an address. */
int sv_dns_new(uv_loop_t *loop, const struct sv_dns_options *o, struct sv_dns **out,
               struct berr *e);

/* upstreams: where asker's queries that are not berth's go (its compose
 * `dns:`), at most SV_DNS_UPSTREAMS_MAX of them; NULL or empty: the server's.
 * An entry that is not an address fails (-EINVAL, naming it).
 * Serves a UDP socket (and a listening TCP socket, or -1) already bound by the caller (in a
 * container's netns); the server owns the fds from then on (also when this fails: then they
 * are closed). */
int sv_dns_listen(struct sv_dns *d, int udp_fd, int tcp_fd, void *asker, char *const *upstreams,
                  struct berr *e);

/* Stops serving asker's sockets and closes them (a container that ended): its
 * forwarded queries and TCP connections are dropped. */
void sv_dns_unlisten(struct sv_dns *d, void *asker);

/* Replaces the upstreams (bad addresses are skipped); queries already
 * forwarded finish with the upstream they were sent to. */
void sv_dns_set_upstreams(struct sv_dns *d, char *const *upstreams);

/* Closes everything; with the loop running, the handles close asynchronously (then free). */
void sv_dns_free(struct sv_dns *d);

#endif
