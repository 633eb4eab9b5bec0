/* SPDX-License-Identifier: Apache-2.0 */
/* The published-port proxy (sv_proxy.h): listeners bound with plain
 * socket calls (so a failure leaves nothing behind and names the holder of
 * a busy port), then handed to libuv; TCP connections pumped both ways in
 * chunks that go from a read straight into a write request (one buffer per
 * chunk, no copy), with reading stopped while the other side has too many
 * bytes queued; UDP flows, one connected upstream socket per client
 * address. Not here: kernel NAT, deciding which ports to publish.
 *
 * Ownership, libuv style: the proxy owns its listeners, its timer, and the
 * list of connections and flows; each connection or flow owns its handles
 * and frees itself in the close callback of its last handle; a chunk is
 * owned by the read that filled it, then by the write or send request that
 * carries it, and freed in that request's callback (also when the request
 * is cancelled by a close). The proxy frees itself once stopped and every
 * handle, connection and flow is gone. */
#include "engine/supervise/sv_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/portbind.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define PX_CHUNK      (256 * 1024) /* read size: big reads, fewer system calls */
#define PX_MAX_CHUNKS (SV_PROXY_QUEUE_MAX / PX_CHUNK)
#define PX_POOL       16 /* idle chunks a proxy keeps for its next reads (4 MiB) */
#define PX_RANDOM_TRY 8  /* random ports tried when 0.0.0.0 and :: must share one */

/* A buffer with the request that will carry it. */
struct px_chunk {
    union {
        uv_write_t write;
        uv_udp_send_t send;
    } req;
    struct px_chunk *next; /* in the proxy's pool */
    size_t cap;            /* bytes of data (PX_CHUNK unless shrunk to a datagram) */
    char data[];
};

struct px_listener {
    struct sv_proxy *p;
    int family; /* of the address bound */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_udp_t udp;
    } u;
};

/* One TCP connection: side 0 is the client, side 1 the container. */
struct px_conn {
    struct sv_proxy *p;
    struct px_conn *prev, *next;
    uv_tcp_t side[2];
    uv_connect_t connect;
    uv_shutdown_t shut[2];
    bool reading[2];
    bool eof[2];       /* side i sent EOF */
    bool shut_done[2]; /* the shutdown towards side i completed */
    int chunks[2];     /* write requests towards side i not yet called back */
    int open;          /* handles not yet closed */
    bool closing;
};

/* One UDP client: its address and the upstream socket connected to the
 * target for it. */
struct px_flow {
    struct sv_proxy *p;
    struct px_flow *prev, *next;
    struct px_listener *lis; /* where the client's datagrams come in */
    struct sockaddr_storage client;
    uv_udp_t up;
    uint64_t last_ms;
};

struct sv_proxy {
    uv_loop_t *loop;
    int proto;
    char *service;
    uint16_t port;
    struct sockaddr_storage target;
    struct sockaddr_storage target6; /* for IPv6 clients; ss_family 0: target */
    struct px_listener lis[2];
    int nlis;
    uv_timer_t timer; /* UDP: expires idle flows */
    uint64_t udp_idle_ms;
    struct px_conn *conns;
    struct px_flow *flows;
    struct px_chunk *pool; /* idle chunks, PX_POOL at most */
    size_t npool;
    size_t nconns, nflows; /* linked (not closing) */
    size_t alive;          /* connections and flows not yet freed */
    int open_handles;      /* listeners and timer not yet closed */
    bool stopping;
};

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16) &&
           x->sin6_scope_id == y->sin6_scope_id;
}

static struct px_chunk *chunk_of(const uv_buf_t *buf)
{
    return buf->base ? (struct px_chunk *)(buf->base - offsetof(struct px_chunk, data)) : NULL;
}

/* A chunk for a read, into buf, owned by the read callback. Chunks are
 * reused: a fresh allocation for every read costs a page fault per page
 * once malloc has given the last one back (measured: a tenth of the
 * throughput). */
static void chunk_get(struct sv_proxy *p, uv_buf_t *buf)
{
    struct px_chunk *c = p->pool;
    if (c) {
        p->pool = c->next;
        p->npool--;
    } else if ((c = malloc(sizeof(*c) + PX_CHUNK))) {
        c->cap = PX_CHUNK;
    }
    *buf = c ? uv_buf_init(c->data, PX_CHUNK) : uv_buf_init(NULL, 0); /* NULL: UV_ENOBUFS */
}

/* Gives back a chunk (NULL: none): to the pool, or freed. */
static void chunk_put(struct sv_proxy *p, struct px_chunk *c)
{
    if (!c)
        return;
    if (c->cap != PX_CHUNK || p->npool >= PX_POOL || p->stopping) {
        free(c);
        return;
    }
    c->next = p->pool;
    p->pool = c;
    p->npool++;
}

static void proxy_maybe_free(struct sv_proxy *p)
{
    if (!p->stopping || p->open_handles || p->alive)
        return;
    while (p->pool) {
        struct px_chunk *c = p->pool;
        p->pool = c->next;
        free(c);
    }
    free(p->service);
    free(p);
}

static void on_proxy_handle_closed(uv_handle_t *h)
{
    struct sv_proxy *p = h->data;
    p->open_handles--;
    proxy_maybe_free(p);
}

/* --- TCP ---------------------------------------------------------------- */

static void conn_unlink(struct px_conn *c)
{
    struct sv_proxy *p = c->p;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    p->nconns--;
}

static void on_conn_closed(uv_handle_t *h)
{
    struct px_conn *c = h->data;
    if (--c->open)
        return;
    struct sv_proxy *p = c->p;
    free(c);
    p->alive--;
    proxy_maybe_free(p);
}

/* Closes both sides; pending writes are called back with UV_ECANCELED
 * before the close callbacks, so the connection outlives its chunks. */
static void conn_close(struct px_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    conn_unlink(c);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&c->side[i], on_conn_closed);
}

static int side_of(struct px_conn *c, const void *stream)
{
    return stream == (const void *)&c->side[0] ? 0 : 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct px_conn *c = h->data;
    chunk_get(c->p, buf);
}

/* Reading side i goes on while the other side has room in its queue. */
static void conn_pace(struct px_conn *c, int i)
{
    bool room = c->chunks[1 - i] < PX_MAX_CHUNKS;
    if (c->closing || c->eof[i] || room == c->reading[i])
        return;
    if (room && uv_read_start((uv_stream_t *)&c->side[i], on_conn_alloc, on_read) < 0) {
        conn_close(c);
        return;
    }
    if (!room)
        uv_read_stop((uv_stream_t *)&c->side[i]);
    c->reading[i] = room;
}

static void on_write(uv_write_t *req, int status)
{
    struct px_conn *c = req->data;
    int o = side_of(c, req->handle);
    chunk_put(c->p, (struct px_chunk *)req);
    c->chunks[o]--;
    if (status < 0) {
        conn_close(c); /* a no-op when the close cancelled it */
        return;
    }
    conn_pace(c, 1 - o);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct px_conn *c = req->data;
    int o = side_of(c, req->handle);
    c->shut_done[o] = true;
    if (status < 0 || (c->shut_done[0] && c->shut_done[1]))
        conn_close(c);
}

/* Side i read nread bytes into buf's chunk (owned here): handed to a write
 * on the other side, EOF passed on as a shutdown, an error closes both. */
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct px_conn *c = s->data;
    struct px_chunk *ch = chunk_of(buf);
    int i = side_of(c, s), o = 1 - i;
    if (nread > 0) {
        uv_buf_t b = uv_buf_init(buf->base, (unsigned)nread);
        ch->req.write.data = c;
        if (uv_write(&ch->req.write, (uv_stream_t *)&c->side[o], &b, 1, on_write) < 0) {
            chunk_put(c->p, ch);
            conn_close(c);
            return;
        }
        c->chunks[o]++;
        conn_pace(c, i);
        return;
    }
    chunk_put(c->p, ch);
    if (nread == 0)
        return; /* EAGAIN */
    if (nread != UV_EOF) {
        conn_close(c);
        return;
    }
    c->eof[i] = true;
    c->reading[i] = false;
    uv_read_stop(s);
    c->shut[o].data = c;
    if (uv_shutdown(&c->shut[o], (uv_stream_t *)&c->side[o], on_shutdown) < 0)
        conn_close(c);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct px_conn *c = req->data;
    if (status == UV_ECANCELED)
        return; /* closed meanwhile */
    if (status < 0) {
        conn_close(c); /* the container does not answer: the client goes */
        return;
    }
    conn_pace(c, 0);
    conn_pace(c, 1);
}

/* Where a client that came in on l goes: the container's IPv6 address
 * for one on an IPv6 listener, when it has one. */
static const struct sockaddr *target_of(const struct sv_proxy *p, const struct px_listener *l)
{
    if (l->family == AF_INET6 && p->target6.ss_family == AF_INET6)
        return (const struct sockaddr *)&p->target6;
    return (const struct sockaddr *)&p->target;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct px_listener *l = server->data;
    struct sv_proxy *p = l->p;
    if (status < 0 || p->stopping)
        return;
    struct px_conn *c = xcalloc(1, sizeof(*c));
    c->p = p;
    for (int i = 0; i < 2; i++) {
        uv_tcp_init(p->loop, &c->side[i]);
        c->side[i].data = c;
    }
    c->open = 2;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->nconns++;
    p->alive++;
    if (uv_accept(server, (uv_stream_t *)&c->side[0]) < 0 || p->nconns > SV_PROXY_MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->side[0], 1);
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->side[1], target_of(p, l), on_connect) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->side[1], 1);
}

/* --- UDP ---------------------------------------------------------------- */

static void on_flow_closed(uv_handle_t *h)
{
    struct px_flow *f = h->data;
    struct sv_proxy *p = f->p;
    free(f);
    p->alive--;
    proxy_maybe_free(p);
}

static void flow_close(struct px_flow *f)
{
    struct sv_proxy *p = f->p;
    if (f->prev)
        f->prev->next = f->next;
    else
        p->flows = f->next;
    if (f->next)
        f->next->prev = f->prev;
    p->nflows--;
    if (!p->nflows)
        uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&f->up, on_flow_closed);
}

static void on_sent(uv_udp_send_t *req, int status)
{
    chunk_put(req->data, (struct px_chunk *)req);
}

/* Sends the chunk's n bytes on u (to addr, or connected when NULL); a
 * full queue drops the datagram, as a full socket buffer would. */
static void udp_forward(struct sv_proxy *p, uv_udp_t *u, struct px_chunk *ch, size_t n,
                        const struct sockaddr *addr)
{
    if (uv_udp_get_send_queue_size(u) > SV_PROXY_QUEUE_MAX) {
        chunk_put(p, ch);
        return;
    }
    /* A small datagram that must wait is shrunk to its size (in place),
     * so a queue of them does not hold a whole chunk each. */
    if (uv_udp_get_send_queue_count(u) > 0 && n < PX_CHUNK / 2) {
        struct px_chunk *small = realloc(ch, sizeof(*ch) + n);
        if (small) {
            ch = small;
            ch->cap = n;
        }
    }
    uv_buf_t b = uv_buf_init(ch->data, (unsigned)n);
    ch->req.send.data = p;
    if (uv_udp_send(&ch->req.send, u, &b, 1, addr, on_sent) < 0)
        chunk_put(p, ch);
}

static void on_flow_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct px_flow *f = h->data;
    chunk_get(f->p, buf);
}

static void on_listener_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct px_listener *l = h->data;
    chunk_get(l->p, buf);
}

/* A reply from the container to one client. */
static void on_flow_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags)
{
    struct px_flow *f = u->data;
    struct px_chunk *ch = chunk_of(buf);
    if (nread < 0 || (nread == 0 && !addr) || (flags & UV_UDP_PARTIAL)) {
        chunk_put(f->p, ch); /* nothing, a truncated datagram, or an ICMP error */
        return;
    }
    f->last_ms = uv_now(f->p->loop);
    udp_forward(f->p, &f->lis->u.udp, ch, (size_t)nread, (const struct sockaddr *)&f->client);
}

static void on_timer(uv_timer_t *t)
{
    struct sv_proxy *p = t->data;
    uint64_t now = uv_now(p->loop);
    for (struct px_flow *f = p->flows, *next; f; f = next) {
        next = f->next;
        if (now - f->last_ms >= p->udp_idle_ms)
            flow_close(f);
    }
}

static void timer_arm(struct sv_proxy *p)
{
    uint64_t every = p->udp_idle_ms / 4 ? p->udp_idle_ms / 4 : 1;
    uv_timer_start(&p->timer, on_timer, every, every);
}

static struct px_flow *flow_new(struct px_listener *l, const struct sockaddr *client)
{
    struct sv_proxy *p = l->p;
    if (p->nflows >= SV_PROXY_MAX_FLOWS) { /* the least recently used goes */
        struct px_flow *old = p->flows;
        for (struct px_flow *f = p->flows; f; f = f->next)
            if (f->last_ms < old->last_ms)
                old = f;
        flow_close(old);
    }
    struct px_flow *f = xcalloc(1, sizeof(*f));
    f->p = p;
    f->lis = l;
    memcpy(&f->client, client,
           client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
    uv_udp_init(p->loop, &f->up);
    f->up.data = f;
    f->next = p->flows;
    if (p->flows)
        p->flows->prev = f;
    p->flows = f;
    p->nflows++;
    p->alive++;
    if (p->nflows == 1)
        timer_arm(p);
    if (uv_udp_connect(&f->up, target_of(p, l)) < 0 ||
        uv_udp_recv_start(&f->up, on_flow_alloc, on_flow_recv) < 0) {
        flow_close(f);
        return NULL;
    }
    return f;
}

/* A datagram from a client: on to the container through its flow. */
static void on_listener_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *addr, unsigned flags)
{
    struct px_listener *l = u->data;
    struct sv_proxy *p = l->p;
    struct px_chunk *ch = chunk_of(buf);
    if (nread < 0 || !addr || (flags & UV_UDP_PARTIAL) || p->stopping) {
        chunk_put(p, ch);
        return;
    }
    struct px_flow *f = p->flows;
    while (f && !addr_equal(&f->client, addr))
        f = f->next;
    if (!f && !(f = flow_new(l, addr))) {
        chunk_put(p, ch);
        return;
    }
    f->last_ms = uv_now(p->loop);
    udp_forward(p, &f->up, ch, (size_t)nread, NULL);
}

/* --- Binding ------------------------------------------------------------ */

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return 0;
    return ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                         : ((struct sockaddr_in *)&a)->sin_port);
}

static int bind_error(const struct sv_proxy_spec *s, const char *ip, uint16_t port, int err,
                      struct berr *e)
{
    return port_bind_error(e, err, s->service, s->proto, ip, port);
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* Binds the listeners' sockets into fds: the host IP, or 0.0.0.0 (and ::
 * for a v6 target) on one port. Returns their count or <0. */
static int bind_all(const struct sv_proxy_spec *s, int fds[2], struct berr *e)
{
    struct sockaddr_storage addr[2];
    const char *ip[2];
    int n = 1;
    if (s->host_ip && *s->host_ip) {
        ip[0] = s->host_ip;
        if (port_addr_parse(s->host_ip, s->host_port, &addr[0]) < 0)
            return berr_set(e, -EINVAL, "service \"%s\": host IP \"%s\" is not an IP address",
                            s->service ? s->service : "", s->host_ip);
    } else {
        ip[0] = NULL;
        ip[1] = NULL;
        port_addr_parse("0.0.0.0", s->host_port, &addr[0]);
        if (strchr(s->ctr_addr, ':') || s->ctr_addr6) {
            port_addr_parse("::", s->host_port, &addr[1]);
            n = 2;
        }
    }
    for (int attempt = 0;; attempt++) {
        fds[0] = fds[1] = -1;
        fds[0] = port_bind(s->proto, &addr[0]);
        if (fds[0] < 0)
            return bind_error(s, ip[0], s->host_port, fds[0], e);
        if (n == 1)
            return 1;
        uint16_t port = bound_port(fds[0]);
        ((struct sockaddr_in6 *)&addr[1])->sin6_port = htons(port);
        fds[1] = port_bind(s->proto, &addr[1]);
        if (fds[1] >= 0)
            return 2;
        int err = fds[1];
        close_fds(fds, 2);
        fds[0] = fds[1] = -1;
        if (err != -EADDRINUSE || s->host_port || attempt + 1 == PX_RANDOM_TRY)
            return bind_error(s, "::", port, err, e);
        ((struct sockaddr_in6 *)&addr[1])->sin6_port = 0; /* another random port */
    }
}

/* --- The proxy ---------------------------------------------------------- */

int sv_proxy_start(uv_loop_t *loop, const struct sv_proxy_spec *s, struct sv_proxy **out,
                   struct berr *e)
{
    const char *svc = s->service ? s->service : "";
    if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP)
        return berr_set(e, -EINVAL, "service \"%s\": protocol %d is neither tcp nor udp", svc,
                        s->proto);
    struct sockaddr_storage target;
    if (!s->ctr_addr || port_addr_parse(s->ctr_addr, s->ctr_port, &target) < 0)
        return berr_set(e, -EINVAL, "service \"%s\": container address \"%s\" is not an IP address",
                        svc, s->ctr_addr ? s->ctr_addr : "");
    struct sockaddr_storage target6 = {0};
    if (s->ctr_addr6 &&
        (port_addr_parse(s->ctr_addr6, s->ctr_port, &target6) < 0 || target6.ss_family != AF_INET6))
        return berr_set(e, -EINVAL,
                        "service \"%s\": container address \"%s\" is not an IPv6 address", svc,
                        s->ctr_addr6);
    int fds[2] = {-1, -1};
    int n = bind_all(s, fds, e);
    if (n < 0)
        return n;

    struct sv_proxy *p = xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->proto = s->proto;
    p->service = xstrdup(svc);
    p->target = target;
    p->target6 = target6;
    p->port = bound_port(fds[0]);
    p->udp_idle_ms = SV_PROXY_UDP_IDLE_MS;
    for (int i = 0; i < n; i++) {
        struct px_listener *l = &p->lis[i];
        l->p = p;
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        l->family = getsockname(fds[i], (struct sockaddr *)&bound, &blen) == 0 ? bound.ss_family
                                                                               : AF_UNSPEC;
        int r;
        if (p->proto == IPPROTO_TCP) {
            uv_tcp_init(loop, &l->u.tcp);
            l->u.handle.data = l;
            r = uv_tcp_open(&l->u.tcp, fds[i]);
            if (r < 0)
                close(fds[i]);
            else
                r = uv_listen(&l->u.stream, SOMAXCONN, on_connection);
        } else {
            uv_udp_init(loop, &l->u.udp);
            l->u.handle.data = l;
            r = uv_udp_open(&l->u.udp, fds[i]);
            if (r < 0)
                close(fds[i]);
            else
                r = uv_udp_recv_start(&l->u.udp, on_listener_alloc, on_listener_recv);
        }
        p->nlis++;
        p->open_handles++;
        fds[i] = -1; /* the handle's now (or closed), closed with it */
        if (r < 0) {
            close_fds(fds, n);
            sv_proxy_stop(p);
            return berr_errno(e, r, "service \"%s\": listening on host port %u/%s", svc, p->port,
                              port_proto_name(s->proto));
        }
    }
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->open_handles++;
    *out = p;
    return 0;
}

uint16_t sv_proxy_port(const struct sv_proxy *p)
{
    return p->port;
}

bool sv_proxy_dual(const struct sv_proxy *p)
{
    return p->nlis == 2;
}

int sv_proxy_retarget(struct sv_proxy *p, const char *ctr_addr, uint16_t ctr_port, struct berr *e)
{
    struct sockaddr_storage target;
    if (!ctr_addr || port_addr_parse(ctr_addr, ctr_port, &target) < 0)
        return berr_set(e, -EINVAL, "service \"%s\": container address \"%s\" is not an IP address",
                        p->service, ctr_addr ? ctr_addr : "");
    p->target = target;
    while (p->flows)
        flow_close(p->flows);
    return 0;
}

void sv_proxy_set_udp_idle(struct sv_proxy *p, uint64_t ms)
{
    p->udp_idle_ms = ms;
    if (p->nflows)
        timer_arm(p);
}

void sv_proxy_stop(struct sv_proxy *p)
{
    if (p->stopping)
        return;
    p->stopping = true;
    for (int i = 0; i < p->nlis; i++) {
        p->lis[i].u.handle.data = p;
        uv_close(&p->lis[i].u.handle, on_proxy_handle_closed);
    }
    while (p->conns)
        conn_close(p->conns);
    while (p->flows)
        flow_close(p->flows);
    if (p->open_handles > p->nlis) /* the timer was made */
        uv_close((uv_handle_t *)&p->timer, on_proxy_handle_closed);
    proxy_maybe_free(p);
}
