/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS wire format for the embedded server (net/dns.h): a query's
 * header and question in, an answer or a header-only error out. Every
 * offset is checked against the message's length before it is read, and
 * every write against the output's capacity. Not here: anything that owns
 * a socket or knows what names mean. */
#include "net/dns.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Header flag bits (RFC 1035 4.1.1): byte 2 and byte 3 of the message. */
#define F2_QR     0x80
#define F2_OPCODE 0x78
#define F2_AA     0x04
#define F2_TC     0x02
#define F2_RD     0x01
#define F3_RA     0x80

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

uint16_t dns_msg_id(const uint8_t *msg)
{
    return get16(msg);
}

void dns_msg_set_id(uint8_t *msg, uint16_t id)
{
    put16(msg, id);
}

bool dns_msg_is_response(const uint8_t *msg, size_t len)
{
    return len >= DNS_HEADER_LEN && (msg[2] & F2_QR);
}

/* Reads the uncompressed name at msg[*pos] into out (dotted, lower-cased).
 * The wire form, length bytes and the root label included, is at most 255
 * bytes (RFC 1035 3.1), so the dotted form always fits DNS_NAME_MAX + 1. */
static int parse_name(const uint8_t *msg, size_t len, size_t *pos, char out[DNS_NAME_MAX + 1])
{
    size_t p = *pos, o = 0, wire = 0;
    for (;;) {
        if (p >= len)
            return -EINVAL;
        uint8_t l = msg[p++];
        wire++;
        if (l == 0)
            break;
        if (l > 63) /* a compression pointer (0xc0) or a reserved label type */
            return -EINVAL;
        wire += l;
        if (wire + 1 > DNS_NAME_MAX || l > len - p)
            return -EINVAL;
        if (o)
            out[o++] = '.';
        for (uint8_t i = 0; i < l; i++) {
            uint8_t c = msg[p + i];
            if (c < 0x21 || c > 0x7e || c == '.')
                return -EINVAL;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        p += l;
    }
    out[o] = '\0';
    *pos = p;
    return 0;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q)
{
    if (len < DNS_HEADER_LEN || (msg[2] & F2_QR))
        return -EINVAL;
    if (msg[2] & F2_OPCODE)
        return -ENOTSUP;
    if (get16(msg + 4) != 1)
        return -EINVAL;
    size_t pos = DNS_HEADER_LEN;
    int r = parse_name(msg, len, &pos, q->name);
    if (r < 0)
        return r;
    if (len - pos < 4)
        return -EINVAL;
    q->id = get16(msg);
    q->rd = msg[2] & F2_RD;
    q->qtype = get16(msg + pos);
    q->qclass = get16(msg + pos + 2);
    q->end = pos + 4;
    return 0;
}

static void put_header(uint8_t *out, uint16_t id, uint8_t f2, int rcode, uint16_t qd, uint16_t an)
{
    put16(out, id);
    out[2] = (uint8_t)(F2_QR | f2);
    out[3] = (uint8_t)(F3_RA | (rcode & 0x0f));
    put16(out + 4, qd);
    put16(out + 6, an);
    put16(out + 8, 0);
    put16(out + 10, 0);
}

int dns_build_answer(const uint8_t *query, const struct dns_question *q, int rcode, int family,
                     const uint8_t *addrs, size_t naddrs, uint32_t ttl, uint8_t *out, size_t cap)
{
    /* The smallest question is the root (1 byte) with type and class. */
    if (q->end < DNS_HEADER_LEN + 5 || q->end > DNS_HEADER_LEN + DNS_NAME_MAX + 4)
        return -EINVAL;
    size_t alen;
    uint16_t type;
    if (family == AF_INET) {
        alen = 4;
        type = DNS_TYPE_A;
    } else if (family == AF_INET6) {
        alen = 16;
        type = DNS_TYPE_AAAA;
    } else if (naddrs == 0) {
        alen = 0;
        type = 0;
    } else {
        return -EINVAL;
    }
    if (cap < q->end)
        return -ENOSPC;
    size_t rrlen = 2 + 2 + 2 + 4 + 2 + alen;
    size_t fit = (cap - q->end) / (rrlen ? rrlen : 1);
    size_t n = naddrs < fit ? naddrs : fit;
    if (n > UINT16_MAX)
        n = UINT16_MAX;
    uint8_t f2 = (uint8_t)((rcode == DNS_RCODE_NOERROR ? F2_AA : 0) | (q->rd ? F2_RD : 0) |
                           (n < naddrs ? F2_TC : 0));
    put_header(out, q->id, f2, rcode, 1, (uint16_t)n);
    memcpy(out + DNS_HEADER_LEN, query + DNS_HEADER_LEN, q->end - DNS_HEADER_LEN);
    uint8_t *p = out + q->end;
    for (size_t i = 0; i < n; i++) {
        put16(p, 0xc000 | DNS_HEADER_LEN); /* the name: a pointer to the question's */
        put16(p + 2, type);
        put16(p + 4, DNS_CLASS_IN);
        put32(p + 6, ttl);
        put16(p + 10, (uint16_t)alen);
        memcpy(p + 12, addrs + i * alen, alen);
        p += rrlen;
    }
    return (int)(p - out);
}

int dns_build_error(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap)
{
    if (len < DNS_HEADER_LEN || (msg[2] & F2_QR))
        return -EINVAL;
    if (cap < DNS_HEADER_LEN)
        return -ENOSPC;
    uint8_t f2 = msg[2] & (F2_OPCODE | F2_RD);
    put_header(out, get16(msg), f2, rcode, 0, 0);
    return DNS_HEADER_LEN;
}
