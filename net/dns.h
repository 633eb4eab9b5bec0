/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS wire format that berth's embedded server needs (RFC 1035): parsing
 * a query's header and single question, building an answer of A or AAAA
 * records (or an error with no records), and reading or rewriting a
 * message's id for forwarding. Every read is bounded by the message's
 * length; names in a question may not use compression pointers. Not here:
 * sockets, the event loop, what a name resolves to (engine/supervise/sv_dns.h),
 * and parsing answers (forwarded answers are relayed as they come). */
#ifndef BERTH_NET_DNS_H
#define BERTH_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX    255
#define DNS_HEADER_LEN  12
#define DNS_UDP_MAX     512   /* a UDP answer without EDNS (RFC 1035 4.2.1) */
#define DNS_TCP_MAX     65535 /* a message over TCP: its 2-byte length prefix */
#define DNS_TTL_DEFAULT 600   /* docker's embedded server's TTL */

enum {
    DNS_TYPE_A = 1,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_AAAA = 28,
    DNS_CLASS_IN = 1,
};

enum {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
};

struct dns_question {
    uint16_t id;
    bool rd;                     /* recursion desired */
    char name[DNS_NAME_MAX + 1]; /* lower-cased, dotted, no trailing dot ("" for the root) */
    uint16_t qtype, qclass;
    size_t end; /* offset just past the question in the message */
};

/* Parses a query: header (QR=0, opcode 0, exactly one question; anything
 * else: -EINVAL, or -ENOTSUP for another opcode), the question's name
 * (labels <= 63, total <= 255, NO compression pointers in a question),
 * type and class. Never reads past len. A label holding '.' or a byte
 * below 0x21 or above 0x7e is refused (-EINVAL): such names are never
 * berth's, and the dotted form could not tell them apart. */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q);

/* Writes a response to q into out (cap bytes): header with q's id, QR=1,
 * RA=1, RD copied, AA=1, the question copied from the query msg, then one
 * A (family AF_INET, 4-byte addrs) or AAAA (AF_INET6, 16) record per
 * address, name as a compression pointer to the question, the given TTL.
 * rcode 0 with no addresses is NODATA. Answers that don't fit in cap are
 * cut at a record boundary with TC set. Returns the length, or <0
 * (-EINVAL for a bad family or q->end, -ENOSPC when not even the question
 * fits). */
int dns_build_answer(const uint8_t *query, const struct dns_question *q, int rcode, int family,
                     const uint8_t *addrs, size_t naddrs, uint32_t ttl, uint8_t *out, size_t cap);

/* Writes a header-only error response (no question) to a message whose
 * header is readable (len >= 12): its id, opcode and RD, QR=1, RA=1, the
 * rcode. For a query that dns_parse_query refused: FORMERR, or NOTIMP for
 * another opcode. Returns 12, or -EINVAL when msg is shorter than a header
 * or is itself a response (never answer an answer), -ENOSPC when cap < 12. */
int dns_build_error(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap);

/* Reads only the id of a message (len >= 2), and rewrites it (for forwarding). */
uint16_t dns_msg_id(const uint8_t *msg);
void dns_msg_set_id(uint8_t *msg, uint16_t id);

/* Whether a message of len bytes has a header with QR=1 (an answer). */
bool dns_msg_is_response(const uint8_t *msg, size_t len);

#endif
