/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS server (sv_dns.h): the per-asker listeners (UDP and
 * TCP), answering from the owner's lookup, and forwarding the rest to the
 * upstreams over UDP (a table of queries in flight, keyed by a random id)
 * or, for TCP clients, over a TCP connection per attempt. Not here: the
 * wire format (net/dns.c), binding sockets in a namespace, name lookup.
 *
 * Lifetimes: every handle's data points to its owner (the server, a
 * listener, a TCP connection, a TCP forward attempt); an owner counts its
 * open handles and is freed by the close callback of its last one, so an
 * owner can be dropped at any time (unlisten, a timeout) with callbacks
 * still queued. A dropped owner is unlinked from everything at once; its
 * callbacks that still run see `dead` and do nothing. */
#include "engine/supervise/sv_dns.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "net/dns.h"
#include "util/cleanup.h"

#define INFLIGHT_MAX     1024
#define TCP_PER_ASKER    16
#define RECV_BATCH       16    /* datagrams per recvmmsg */
#define DGRAM_CHUNK      65536 /* libuv's UV__UDP_DGRAM_MAXSIZE: one recvmmsg slot */
#define ADDRS_MAX        256   /* addresses asked of the lookup for one answer */
#define FWD_QUERY_MAX    4096  /* a bigger query to forward gets SERVFAIL */
#define TCP_WRITE_QUEUED 65536 /* a TCP client that reads no answers is closed past this */

struct upstream {
    struct sockaddr_storage sa;
    socklen_t len;
};

struct listener;

/* A UDP query forwarded upstream, waiting for its answer. */
struct pending {
    struct listener *l; /* NULL: the slot is free */
    uint16_t up_id, client_id;
    unsigned attempt; /* index of the upstream it was last sent to */
    uint64_t deadline;
    struct upstream up; /* where it was sent: only its answer counts */
    struct sockaddr_storage client;
    uint8_t *query;
    size_t len;
};

struct conn;

/* One try of a TCP client's query at one upstream. */
struct tattempt {
    struct sv_dns *d;
    struct conn *c; /* NULL once dropped */
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uint8_t *resp; /* 2-byte length and the answer */
    size_t have;
};

struct conn {
    struct sv_dns *d;
    struct listener *l; /* only while !dead: a listener may go first */
    struct conn *next, *prev;
    uv_tcp_t tcp;
    uv_timer_t idle, fwd_timer;
    int open_handles;
    bool dead, busy; /* busy: a forward is in progress */
    bool processing; /* in conn_process */
    bool reading;
    uint8_t *buf; /* what the client sent, not yet handled */
    size_t have;
    /* the forward in progress: the query with its length prefix */
    uint8_t *fq;
    size_t fqlen;
    uint16_t client_id;
    unsigned attempt;
    struct tattempt *att;
};

struct listener {
    struct sv_dns *d;
    struct listener *next;
    void *asker;
    uv_udp_t udp;
    uv_tcp_t tcp;
    int open_handles;
    bool dead;
    struct conn *conns;
    unsigned nconns;
    /* the asker's own upstreams (its compose `dns:`), when own */
    bool own;
    size_t nup;
    struct upstream up[SV_DNS_UPSTREAMS_MAX];
};

struct sv_dns {
    uv_loop_t *loop;
    sv_dns_lookup_fn lookup;
    void *owner;
    uint64_t timeout_ms, idle_ms;
    struct upstream up[SV_DNS_UPSTREAMS_MAX];
    size_t nup;
    struct listener *listeners;
    /* forwarding over UDP: a socket per family, opened when first used */
    uv_udp_t fwd[2];
    enum { FWD_UNTRIED, FWD_OPEN, FWD_FAILED } fwd_state[2];
    uv_timer_t timer;
    uint64_t timer_due; /* 0: not armed */
    struct pending pend[INFLIGHT_MAX];
    size_t npend;
    uint16_t by_id[65536]; /* upstream id -> index in pend + 1 */
    uint8_t rnd[256];      /* getrandom bytes for ids, used from rnd_pos */
    size_t rnd_pos;
    unsigned rotate;
    uint8_t *rbuf; /* the receive buffer of every UDP socket */
    uint8_t out[DNS_UDP_MAX];
    /* the answers of the current recvmmsg batch (batch_slot) */
    struct listener *batch_l;
    unsigned nbatch;
    uint8_t bout[RECV_BATCH][DNS_UDP_MAX];
    struct sockaddr_storage bto[RECV_BATCH];
    struct iovec biov[RECV_BATCH];
    struct mmsghdr bmsg[RECV_BATCH];
    uint8_t addrs[ADDRS_MAX * 16], addrs2[ADDRS_MAX * 16];
    int live; /* open handles of the server and owners not yet freed */
    bool freeing;
};

/* --- lifetimes ------------------------------------------------------------ */

static void dns_maybe_free(struct sv_dns *d)
{
    if (d->freeing && d->live == 0) {
        free(d->rbuf);
        free(d);
    }
}

static void on_server_handle_closed(uv_handle_t *h)
{
    struct sv_dns *d = h->data;
    d->live--;
    dns_maybe_free(d);
}

static void on_listener_handle_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    if (--l->open_handles == 0) {
        struct sv_dns *d = l->d;
        free(l);
        d->live--;
        dns_maybe_free(d);
    }
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles == 0) {
        struct sv_dns *d = c->d;
        free(c->buf);
        free(c->fq);
        free(c);
        d->live--;
        dns_maybe_free(d);
    }
}

static void on_attempt_closed(uv_handle_t *h)
{
    struct tattempt *a = h->data;
    struct sv_dns *d = a->d;
    free(a->resp);
    free(a);
    d->live--;
    dns_maybe_free(d);
}

static void attempt_drop(struct tattempt *a)
{
    a->c = NULL;
    uv_close((uv_handle_t *)&a->tcp, on_attempt_closed);
}

static void conn_drop(struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    struct listener *l = c->l;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->nconns--;
    if (c->att)
        attempt_drop(c->att);
    c->att = NULL;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->fwd_timer, on_conn_handle_closed);
}

static void pending_release(struct sv_dns *d, struct pending *p)
{
    d->by_id[p->up_id] = 0;
    free(p->query);
    p->query = NULL;
    p->l = NULL;
    d->npend--;
}

static void listener_drop(struct listener *l)
{
    struct sv_dns *d = l->d;
    l->dead = true;
    if (d->batch_l == l) {
        d->batch_l = NULL;
        d->nbatch = 0;
    }
    for (size_t i = 0; i < INFLIGHT_MAX && d->npend; i++)
        if (d->pend[i].l == l)
            pending_release(d, &d->pend[i]);
    while (l->conns)
        conn_drop(l->conns);
    uv_close((uv_handle_t *)&l->udp, on_listener_handle_closed);
    if (l->open_handles == 2)
        uv_close((uv_handle_t *)&l->tcp, on_listener_handle_closed);
}

/* --- upstreams ------------------------------------------------------------ */

/* "addr" or "addr#port" (53 by default); a scope ("fe80::1%eth0") is kept. */
static int upstream_parse(const char *s, struct upstream *u)
{
    char host[INET6_ADDRSTRLEN + 32];
    const char *port = "53", *hash = strchr(s, '#');
    size_t n = hash ? (size_t)(hash - s) : strlen(s);
    if (n == 0 || n >= sizeof host)
        return -EINVAL;
    memcpy(host, s, n);
    host[n] = '\0';
    if (hash)
        port = hash + 1;
    struct addrinfo hints = {
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
        .ai_socktype = SOCK_DGRAM,
    };
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return -EINVAL;
    memset(u, 0, sizeof *u);
    memcpy(&u->sa, ai->ai_addr, ai->ai_addrlen);
    u->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static int upstreams_set(struct sv_dns *d, char *const *v, struct berr *e)
{
    d->nup = 0;
    for (size_t i = 0; v && v[i] && d->nup < SV_DNS_UPSTREAMS_MAX; i++) {
        if (upstream_parse(v[i], &d->up[d->nup]) == 0)
            d->nup++;
        else if (e)
            return berr_set(e, -EINVAL, "DNS upstream %s: not an address", v[i]);
    }
    return 0;
}

void sv_dns_set_upstreams(struct sv_dns *d, char *const *upstreams)
{
    upstreams_set(d, upstreams, NULL);
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
    }
    return false;
}

/* A fresh id for a forwarded query, not guessable from outside, and not
 * one already in flight. */
static uint16_t fresh_id(struct sv_dns *d)
{
    for (;;) {
        if (d->rnd_pos + 2 > sizeof d->rnd) {
            size_t got = 0;
            while (got < sizeof d->rnd) {
                ssize_t r = getrandom(d->rnd + got, sizeof d->rnd - got, 0);
                if (r > 0)
                    got += (size_t)r;
                else if (r < 0 && errno != EINTR)
                    abort(); /* getrandom cannot fail on Linux >= 3.17 once seeded */
            }
            d->rnd_pos = 0;
        }
        uint16_t id = (uint16_t)(d->rnd[d->rnd_pos] << 8 | d->rnd[d->rnd_pos + 1]);
        d->rnd_pos += 2;
        if (!d->by_id[id])
            return id;
    }
}

/* --- receive buffers ------------------------------------------------------ */

static void give_rbuf(struct sv_dns *d, uv_buf_t *buf)
{
    *buf = uv_buf_init((char *)d->rbuf, RECV_BATCH * DGRAM_CHUNK);
}

static void on_listener_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    give_rbuf(((struct listener *)h->data)->d, buf);
}

static void on_fwd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    give_rbuf(h->data, buf);
}

/* --- answering from the lookup --------------------------------------------- */

/* Builds the answer to q into out from the owner's lookup: its length, or
 * -ENOENT when the name is not berth's (forward it), or another <0. */
static int local_answer(struct sv_dns *d, void *asker, const uint8_t *msg,
                        const struct dns_question *q, uint8_t *out, size_t cap)
{
    if (q->qclass != DNS_CLASS_IN)
        return -ENOENT;
    int family = q->qtype == DNS_TYPE_A ? AF_INET : q->qtype == DNS_TYPE_AAAA ? AF_INET6 : 0;
    int n;
    if (family) {
        n = d->lookup(d->owner, asker, q->name, family, d->addrs, ADDRS_MAX);
    } else {
        /* Another type of a name berth knows: it has no such records. */
        n = d->lookup(d->owner, asker, q->name, AF_INET, d->addrs, ADDRS_MAX);
        if (n == -ENOENT)
            n = d->lookup(d->owner, asker, q->name, AF_INET6, d->addrs, ADDRS_MAX);
        if (n > 0)
            n = 0;
    }
    if (n == -ENOENT)
        return -ENOENT;
    int rcode = DNS_RCODE_NOERROR;
    if (n < 0) {
        rcode = DNS_RCODE_SERVFAIL;
        n = 0;
    }
    if (n > ADDRS_MAX)
        n = ADDRS_MAX;
    const uint8_t *a = d->addrs;
    if (n > 1) { /* rotate, so that clients taking the first spread out */
        size_t alen = family == AF_INET ? 4 : 16, k = d->rotate++ % (unsigned)n;
        memcpy(d->addrs2, d->addrs + k * alen, ((size_t)n - k) * alen);
        memcpy(d->addrs2 + ((size_t)n - k) * alen, d->addrs, k * alen);
        a = d->addrs2;
    }
    return dns_build_answer(msg, q, rcode, family, a, (size_t)n, DNS_TTL_DEFAULT, out, cap);
}

/* The error answer to a query dns_parse_query refused (r), if it has one. */
static int error_answer(const uint8_t *msg, size_t len, int r, uint8_t *out, size_t cap)
{
    return dns_build_error(msg, len, r == -ENOTSUP ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR, out,
                           cap);
}

/* The upstreams l's queries go to: its own, or the server's. */
static const struct upstream *ups_of(const struct sv_dns *d, const struct listener *l, size_t *n)
{
    if (l && l->own) {
        *n = l->nup;
        return l->up;
    }
    *n = d->nup;
    return d->up;
}

static uint64_t attempt_ms(const struct sv_dns *d, size_t nup)
{
    uint64_t ms = d->timeout_ms / (nup ? nup : 1);
    return ms ? ms : 1;
}

/* --- UDP: forwarding ------------------------------------------------------- */

static void udp_reply(struct listener *l, const uint8_t *msg, size_t len, const struct sockaddr *to)
{
    uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
    /* A full socket buffer drops the answer: the client asks again. */
    (void)uv_udp_try_send(&l->udp, &b, 1, to);
}

static void udp_servfail(struct sv_dns *d, struct listener *l, const uint8_t *msg,
                         const struct dns_question *q, const struct sockaddr *to)
{
    int n = dns_build_answer(msg, q, DNS_RCODE_SERVFAIL, 0, NULL, 0, 0, d->out, sizeof d->out);
    if (n > 0)
        udp_reply(l, d->out, (size_t)n, to);
}

static void on_fwd_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags);

/* The socket that forwards to upstreams of family, opened when first used;
 * NULL when it cannot be (then that family's upstreams fail). */
static uv_udp_t *fwd_socket(struct sv_dns *d, int family)
{
    int k = family == AF_INET6;
    uv_udp_t *u = &d->fwd[k];
    if (d->fwd_state[k] != FWD_UNTRIED)
        return d->fwd_state[k] == FWD_OPEN ? u : NULL;
    d->fwd_state[k] = FWD_FAILED; /* not tried again */
    if (uv_udp_init_ex(d->loop, u, (unsigned)family | UV_UDP_RECVMMSG) < 0)
        return NULL;
    u->data = d;
    d->live++;
    struct sockaddr_storage any = {.ss_family = (sa_family_t)family};
    if (uv_udp_bind(u, (struct sockaddr *)&any, 0) < 0 ||
        uv_udp_recv_start(u, on_fwd_alloc, on_fwd_recv) < 0) {
        uv_close((uv_handle_t *)u, on_server_handle_closed);
        return NULL;
    }
    d->fwd_state[k] = FWD_OPEN;
    return u;
}

static void arm_timer(struct sv_dns *d, uint64_t deadline);

/* Sends p to its current upstream, or the next ones that can be sent to;
 * when none is left the client gets SERVFAIL and p is released. */
static void pending_send(struct sv_dns *d, struct pending *p)
{
    size_t idx = (size_t)(p - d->pend), nup;
    const struct upstream *ups = ups_of(d, p->l, &nup);
    for (; p->attempt < nup; p->attempt++) {
        const struct upstream *up = &ups[p->attempt];
        uv_udp_t *u = fwd_socket(d, up->sa.ss_family);
        if (!u)
            continue;
        d->by_id[p->up_id] = 0;
        p->up_id = fresh_id(d);
        d->by_id[p->up_id] = (uint16_t)(idx + 1);
        dns_msg_set_id(p->query, p->up_id);
        p->up = *up;
        uv_buf_t b = uv_buf_init((char *)p->query, (unsigned)p->len);
        if (uv_udp_try_send(u, &b, 1, (const struct sockaddr *)&up->sa) < 0)
            continue;
        p->deadline = uv_now(d->loop) + attempt_ms(d, nup);
        arm_timer(d, p->deadline);
        return;
    }
    dns_msg_set_id(p->query, p->client_id);
    struct dns_question q;
    if (dns_parse_query(p->query, p->len, &q) == 0)
        udp_servfail(d, p->l, p->query, &q, (const struct sockaddr *)&p->client);
    pending_release(d, p);
}

static void on_timer(uv_timer_t *t)
{
    struct sv_dns *d = t->data;
    d->timer_due = 0;
    uint64_t now = uv_now(d->loop), next = 0;
    for (size_t i = 0; i < INFLIGHT_MAX && d->npend; i++) {
        struct pending *p = &d->pend[i];
        if (p->l && p->deadline <= now) {
            p->attempt++;
            pending_send(d, p);
        }
        if (p->l && (!next || p->deadline < next))
            next = p->deadline;
    }
    if (next)
        arm_timer(d, next);
}

static void arm_timer(struct sv_dns *d, uint64_t deadline)
{
    if (d->freeing || (d->timer_due && d->timer_due <= deadline))
        return;
    uint64_t now = uv_now(d->loop);
    d->timer_due = deadline;
    uv_timer_start(&d->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

static void forward_udp(struct sv_dns *d, struct listener *l, const uint8_t *msg, size_t len,
                        const struct dns_question *q, const struct sockaddr *client)
{
    size_t nup;
    ups_of(d, l, &nup);
    if (d->npend >= INFLIGHT_MAX || nup == 0 || len > FWD_QUERY_MAX) {
        udp_servfail(d, l, msg, q, client);
        return;
    }
    struct pending *p = NULL;
    for (size_t i = 0; i < INFLIGHT_MAX && !p; i++)
        if (!d->pend[i].l)
            p = &d->pend[i];
    p->query = malloc(len);
    if (!p->query) {
        udp_servfail(d, l, msg, q, client);
        return;
    }
    memcpy(p->query, msg, len);
    p->len = len;
    p->l = l;
    p->client_id = q->id;
    p->up_id = 0;
    p->attempt = 0;
    memset(&p->client, 0, sizeof p->client);
    memcpy(&p->client, client,
           client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
    d->npend++;
    pending_send(d, p);
}

/* An upstream's answer: relayed to its client with the client's id, if it
 * is the answer to a query in flight from the upstream it was sent to. */
static void on_fwd_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct sv_dns *d = h->data;
    uint8_t *msg = (uint8_t *)buf->base;
    if (nread <= 0 || !addr || (flags & UV_UDP_PARTIAL) || d->freeing ||
        !dns_msg_is_response(msg, (size_t)nread))
        return;
    uint16_t idx = d->by_id[dns_msg_id(msg)];
    if (!idx)
        return;
    struct pending *p = &d->pend[idx - 1];
    if (!same_addr(addr, &p->up.sa))
        return;
    dns_msg_set_id(msg, p->client_id);
    udp_reply(p->l, msg, (size_t)nread, (const struct sockaddr *)&p->client);
    pending_release(d, p);
}

/* --- UDP: queries ---------------------------------------------------------- */

/* Answers from one recvmmsg batch go out together with one sendmmsg when
 * the batch ends (libuv's UV_UDP_MMSG_FREE call): a syscall per batch, not
 * per answer. A batch belongs to one listener; one left over (its end
 * never came) is dropped rather than sent on another's socket. */
static uint8_t *batch_slot(struct sv_dns *d, struct listener *l, unsigned flags)
{
    if (!(flags & UV_UDP_MMSG_CHUNK))
        return NULL;
    if (d->batch_l != l) {
        d->batch_l = l;
        d->nbatch = 0;
    }
    return d->nbatch < RECV_BATCH ? d->bout[d->nbatch] : NULL;
}

static void batch_add(struct sv_dns *d, size_t len, const struct sockaddr *to)
{
    unsigned i = d->nbatch++;
    memcpy(&d->bto[i], to,
           to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    d->biov[i] = (struct iovec){d->bout[i], len};
    d->bmsg[i] =
        (struct mmsghdr){.msg_hdr = {
                             .msg_name = &d->bto[i],
                             .msg_namelen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                      : sizeof(struct sockaddr_in),
                             .msg_iov = &d->biov[i],
                             .msg_iovlen = 1,
                         }};
}

static void batch_flush(struct sv_dns *d, struct listener *l)
{
    uv_os_fd_t fd;
    if (d->batch_l == l && d->nbatch && !l->dead && uv_fileno((uv_handle_t *)&l->udp, &fd) == 0) {
        /* A full socket buffer drops the rest: the clients ask again. */
        for (unsigned sent = 0; sent < d->nbatch;) {
            int n = sendmmsg(fd, d->bmsg + sent, d->nbatch - sent, MSG_DONTWAIT);
            if (n <= 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            sent += (unsigned)n;
        }
    }
    d->batch_l = NULL;
    d->nbatch = 0;
}

static void on_listener_udp(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                            const struct sockaddr *addr, unsigned flags)
{
    struct listener *l = h->data;
    struct sv_dns *d = l->d;
    if (nread == 0 && !addr && (flags & UV_UDP_MMSG_FREE)) {
        batch_flush(d, l);
        return;
    }
    if (nread <= 0 || !addr || l->dead || (flags & UV_UDP_PARTIAL))
        return;
    const uint8_t *msg = (const uint8_t *)buf->base;
    size_t len = (size_t)nread;
    uint8_t *slot = batch_slot(d, l, flags);
    uint8_t *out = slot ? slot : d->out;
    struct dns_question q;
    int r = dns_parse_query(msg, len, &q);
    if (r < 0)
        r = error_answer(msg, len, r, out, DNS_UDP_MAX);
    else
        r = local_answer(d, l->asker, msg, &q, out, DNS_UDP_MAX);
    if (r == -ENOENT)
        forward_udp(d, l, msg, len, &q, addr);
    else if (r > 0 && slot)
        batch_add(d, (size_t)r, addr);
    else if (r > 0)
        udp_reply(l, out, (size_t)r, addr);
}

/* --- TCP ------------------------------------------------------------------- */

#define CONN_BUF (2 + DNS_TCP_MAX)

struct twrite {
    uv_write_t req;
    struct conn *c;
    uint8_t data[];
};

static void conn_process(struct conn *c);

static void on_conn_write(uv_write_t *req, int status)
{
    struct twrite *w = req->data;
    struct conn *c = w->c;
    free(w);
    if (status < 0)
        conn_drop(c);
}

/* Writes msg to the client with its length prefix. */
static void conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
    if (c->dead)
        return;
    struct twrite *w = malloc(sizeof *w + 2 + len);
    if (!w) {
        conn_drop(c);
        return;
    }
    w->req.data = w;
    w->c = c;
    w->data[0] = (uint8_t)(len >> 8);
    w->data[1] = (uint8_t)len;
    memcpy(w->data + 2, msg, len);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(2 + len));
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_conn_write) < 0) {
        free(w);
        conn_drop(c);
        return;
    }
    /* A client that sends queries but reads no answers. */
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > TCP_WRITE_QUEUED)
        conn_drop(c);
}

static void conn_servfail(struct conn *c, const uint8_t *msg, size_t len)
{
    struct sv_dns *d = c->d;
    struct dns_question q;
    if (dns_parse_query(msg, len, &q) < 0)
        return;
    int n = dns_build_answer(msg, &q, DNS_RCODE_SERVFAIL, 0, NULL, 0, 0, d->out, sizeof d->out);
    if (n > 0)
        conn_send(c, d->out, (size_t)n);
}

/* Ends the forward in progress: resp (the upstream's answer, its id
 * already the client's) or, when NULL, SERVFAIL goes to the client. */
static void conn_fwd_finish(struct conn *c, const uint8_t *resp, size_t len)
{
    uv_timer_stop(&c->fwd_timer);
    if (c->att)
        attempt_drop(c->att);
    c->att = NULL;
    dns_msg_set_id(c->fq + 2, c->client_id);
    if (resp)
        conn_send(c, resp, len);
    else
        conn_servfail(c, c->fq + 2, c->fqlen - 2);
    free(c->fq);
    c->fq = NULL;
    c->busy = false;
    conn_process(c);
}

static void on_att_connect(uv_connect_t *req, int status);
static void on_conn_fwd_timeout(uv_timer_t *t);

/* Starts the forward at upstream c->attempt, or the next that can be
 * connected to; none left: SERVFAIL. */
static void conn_try(struct conn *c)
{
    struct sv_dns *d = c->d;
    size_t nup;
    const struct upstream *ups = ups_of(d, c->dead ? NULL : c->l, &nup);
    for (; c->attempt < nup; c->attempt++) {
        struct tattempt *a = calloc(1, sizeof *a);
        if (!a)
            break;
        if (uv_tcp_init(d->loop, &a->tcp) < 0) {
            free(a);
            break;
        }
        a->d = d;
        a->c = c;
        a->tcp.data = a;
        a->creq.data = a;
        a->wreq.data = a;
        d->live++;
        dns_msg_set_id(c->fq + 2, fresh_id(d));
        if (uv_tcp_connect(&a->creq, &a->tcp, (const struct sockaddr *)&ups[c->attempt].sa,
                           on_att_connect) < 0) {
            attempt_drop(a);
            continue;
        }
        c->att = a;
        uv_timer_start(&c->fwd_timer, on_conn_fwd_timeout, attempt_ms(d, nup), 0);
        return;
    }
    conn_fwd_finish(c, NULL, 0);
}

static void conn_next(struct conn *c)
{
    uv_timer_stop(&c->fwd_timer);
    if (c->att)
        attempt_drop(c->att);
    c->att = NULL;
    c->attempt++;
    conn_try(c);
}

static void on_conn_fwd_timeout(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (!c->dead && c->busy)
        conn_next(c);
}

static void on_att_write(uv_write_t *req, int status)
{
    struct tattempt *a = req->data;
    if (a->c && status < 0)
        conn_next(a->c);
}

static void on_att_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tattempt *a = h->data;
    if (!a->resp)
        a->resp = malloc(CONN_BUF);
    *buf = uv_buf_init(a->resp ? (char *)a->resp + a->have : NULL,
                       a->resp ? (unsigned)(CONN_BUF - a->have) : 0);
}

static void on_att_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tattempt *a = s->data;
    struct conn *c = a->c;
    if (!c || nread == 0)
        return;
    if (nread < 0) {
        conn_next(c);
        return;
    }
    a->have += (size_t)nread;
    if (a->have < 2)
        return;
    size_t len = (size_t)(a->resp[0] << 8 | a->resp[1]);
    if (a->have < 2 + len)
        return;
    uint8_t *msg = a->resp + 2;
    if (!dns_msg_is_response(msg, len) || dns_msg_id(msg) != dns_msg_id(c->fq + 2)) {
        conn_next(c);
        return;
    }
    dns_msg_set_id(msg, c->client_id);
    conn_fwd_finish(c, msg, len);
}

static void on_att_connect(uv_connect_t *req, int status)
{
    struct tattempt *a = req->data;
    struct conn *c = a->c;
    if (!c)
        return;
    uv_buf_t b = uv_buf_init((char *)c->fq, (unsigned)c->fqlen);
    if (status < 0 || uv_write(&a->wreq, (uv_stream_t *)&a->tcp, &b, 1, on_att_write) < 0 ||
        uv_read_start((uv_stream_t *)&a->tcp, on_att_alloc, on_att_read) < 0)
        conn_next(c);
}

/* One query from a TCP client: answered, or a forward started (busy). */
static void conn_handle(struct conn *c, const uint8_t *msg, size_t len)
{
    struct sv_dns *d = c->d;
    struct dns_question q;
    int r = dns_parse_query(msg, len, &q);
    if (r < 0) {
        r = error_answer(msg, len, r, d->out, sizeof d->out);
        if (r > 0)
            conn_send(c, d->out, (size_t)r);
        return;
    }
    uint8_t out[DNS_HEADER_LEN + DNS_NAME_MAX + 5 + ADDRS_MAX * 28];
    r = local_answer(d, c->l->asker, msg, &q, out, sizeof out);
    if (r > 0) {
        conn_send(c, out, (size_t)r);
        return;
    }
    if (r != -ENOENT)
        return;
    size_t nup;
    ups_of(d, c->l, &nup);
    if (nup == 0 || !(c->fq = malloc(2 + len))) {
        conn_servfail(c, msg, len);
        return;
    }
    c->fq[0] = (uint8_t)(len >> 8);
    c->fq[1] = (uint8_t)len;
    memcpy(c->fq + 2, msg, len);
    c->fqlen = 2 + len;
    c->client_id = q.id;
    c->attempt = 0;
    c->busy = true;
    conn_try(c);
}

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    *buf = uv_buf_init((char *)c->buf + c->have, (unsigned)(CONN_BUF - c->have));
}

static void on_conn_idle(uv_timer_t *t)
{
    conn_drop(t->data);
}

static void on_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Handles the complete queries buffered, one at a time: reading stops
 * while a forward is in progress, and resumes when it ends. */
static void conn_process(struct conn *c)
{
    if (c->processing) /* a forward that ended at once, from conn_handle below */
        return;
    c->processing = true;
    while (!c->dead && !c->busy && c->have >= 2) {
        size_t len = (size_t)(c->buf[0] << 8 | c->buf[1]);
        if (len < DNS_HEADER_LEN) {
            conn_drop(c);
            return;
        }
        if (c->have < 2 + len)
            break;
        uv_timer_start(&c->idle, on_conn_idle, c->d->idle_ms, 0);
        conn_handle(c, c->buf + 2, len);
        c->have -= 2 + len;
        memmove(c->buf, c->buf + 2 + len, c->have);
    }
    c->processing = false;
    if (c->dead)
        return;
    if (c->busy && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    } else if (!c->busy && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_conn_alloc, on_conn_read) < 0)
            conn_drop(c);
        else
            c->reading = true;
    }
}

static void on_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    if (c->dead || nread == 0)
        return;
    if (nread < 0) {
        conn_drop(c);
        return;
    }
    c->have += (size_t)nread;
    conn_process(c);
}

static void on_tcp_conn(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct sv_dns *d = l->d;
    if (status < 0 || l->dead)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->buf = malloc(CONN_BUF);
    if (!c->buf || uv_tcp_init(d->loop, &c->tcp) < 0) {
        free(c->buf);
        free(c);
        return;
    }
    uv_timer_init(d->loop, &c->idle);
    uv_timer_init(d->loop, &c->fwd_timer);
    c->tcp.data = c->idle.data = c->fwd_timer.data = c;
    c->open_handles = 3;
    c->d = d;
    c->l = l;
    d->live++;
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 || l->nconns > TCP_PER_ASKER ||
        uv_read_start((uv_stream_t *)&c->tcp, on_conn_alloc, on_conn_read) < 0) {
        conn_drop(c);
        return;
    }
    c->reading = true;
    uv_timer_start(&c->idle, on_conn_idle, d->idle_ms, 0);
}

/* --- the server ------------------------------------------------------------ */

int sv_dns_new(uv_loop_t *loop, const struct sv_dns_options *o, struct sv_dns **out, struct berr *e)
{
    _cleanup_free_ struct sv_dns *d = calloc(1, sizeof *d);
    if (!d)
        return berr_errno(e, ENOMEM, "DNS server");
    d->loop = loop;
    d->lookup = o->lookup;
    d->owner = o->owner;
    d->timeout_ms = o->forward_timeout_ms > 0 ? (uint64_t)o->forward_timeout_ms : 4000;
    d->idle_ms = o->tcp_idle_ms > 0 ? (uint64_t)o->tcp_idle_ms : 10000;
    d->rnd_pos = sizeof d->rnd;
    int r = upstreams_set(d, o->upstreams, e);
    if (r < 0)
        return r;
    d->rbuf = malloc(RECV_BATCH * DGRAM_CHUNK);
    if (!d->rbuf)
        return berr_errno(e, ENOMEM, "DNS server");
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    d->live = 1;
    *out = TAKE_PTR(d);
    return 0;
}

int sv_dns_listen(struct sv_dns *d, int udp_fd, int tcp_fd, void *asker, char *const *upstreams,
                  struct berr *e)
{
    struct listener *l = calloc(1, sizeof *l);
    int r = 0;
    for (size_t i = 0; l && upstreams && upstreams[i] && l->nup < SV_DNS_UPSTREAMS_MAX; i++) {
        if (upstream_parse(upstreams[i], &l->up[l->nup]) < 0) {
            free(l);
            close(udp_fd);
            if (tcp_fd >= 0)
                close(tcp_fd);
            return berr_set(e, -EINVAL, "DNS upstream %s: not an address", upstreams[i]);
        }
        l->nup++;
    }
    if (l)
        l->own = upstreams && upstreams[0];
    if (!l || (r = uv_udp_init_ex(d->loop, &l->udp, AF_UNSPEC | UV_UDP_RECVMMSG)) < 0) {
        free(l);
        close(udp_fd);
        if (tcp_fd >= 0)
            close(tcp_fd);
        return berr_errno(e, l ? -r : ENOMEM, "DNS server: serving a container's socket");
    }
    l->d = d;
    l->asker = asker;
    l->udp.data = l;
    l->open_handles = 1;
    d->live++;
    if ((r = uv_udp_open(&l->udp, udp_fd)) < 0) {
        close(udp_fd);
        if (tcp_fd >= 0)
            close(tcp_fd);
        uv_close((uv_handle_t *)&l->udp, on_listener_handle_closed);
        return berr_errno(e, -r, "DNS server: serving a container's UDP socket");
    }
    if (tcp_fd >= 0) {
        uv_tcp_init(d->loop, &l->tcp);
        l->tcp.data = l;
        l->open_handles = 2;
        if ((r = uv_tcp_open(&l->tcp, tcp_fd)) < 0)
            close(tcp_fd);
        else
            r = uv_listen((uv_stream_t *)&l->tcp, 64, on_tcp_conn);
        if (r < 0) {
            listener_drop(l);
            return berr_errno(e, -r, "DNS server: serving a container's TCP socket");
        }
    }
    if ((r = uv_udp_recv_start(&l->udp, on_listener_alloc, on_listener_udp)) < 0) {
        listener_drop(l);
        return berr_errno(e, -r, "DNS server: reading a container's UDP socket");
    }
    l->next = d->listeners;
    d->listeners = l;
    return 0;
}

void sv_dns_unlisten(struct sv_dns *d, void *asker)
{
    for (struct listener **pl = &d->listeners; *pl;) {
        struct listener *l = *pl;
        if (l->asker == asker) {
            *pl = l->next;
            listener_drop(l);
        } else {
            pl = &l->next;
        }
    }
}

void sv_dns_free(struct sv_dns *d)
{
    if (!d)
        return;
    d->freeing = true;
    while (d->listeners) {
        struct listener *l = d->listeners;
        d->listeners = l->next;
        listener_drop(l);
    }
    for (int k = 0; k < 2; k++)
        if (d->fwd_state[k] == FWD_OPEN)
            uv_close((uv_handle_t *)&d->fwd[k], on_server_handle_closed);
    uv_close((uv_handle_t *)&d->timer, on_server_handle_closed);
}
