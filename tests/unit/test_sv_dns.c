/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the embedded DNS server: net/dns.h's wire format (good
 * queries, hostile ones: short headers, long labels and names, a pointer in
 * the question, several questions, another opcode, an answer as a query,
 * every truncation of a good query) and answers built from it; and
 * engine/supervise/sv_dns.h on a real loop with no root: the server on
 * 127.0.0.1 ports with a fake lookup, fake upstreams on other 127.0.0.1
 * ports (one that answers, one that never does), and a client socket.
 * Not here: binding in a container's namespace (the supervisor's tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "engine/supervise/sv_dns.h"
#include "net/dns.h"
#include "util/cleanup.h"

/* --- building queries ------------------------------------------------------ */

/* A query: header (id, flags byte 2, qdcount), then wire (a name in wire
 * form, wlen bytes), type and class. Returns its length. */
static size_t mkquery(uint8_t *b, uint16_t id, uint8_t f2, uint16_t qd, const char *wire,
                      size_t wlen, uint16_t type, uint16_t class)
{
    memset(b, 0, 12);
    b[0] = (uint8_t)(id >> 8);
    b[1] = (uint8_t)id;
    b[2] = f2;
    b[4] = (uint8_t)(qd >> 8);
    b[5] = (uint8_t)qd;
    memcpy(b + 12, wire, wlen);
    size_t p = 12 + wlen;
    b[p++] = (uint8_t)(type >> 8);
    b[p++] = (uint8_t)type;
    b[p++] = (uint8_t)(class >> 8);
    b[p++] = (uint8_t) class;
    return p;
}

/* A wire name of labels of the given lengths ('a' repeated). */
static size_t mkname(char *w, const unsigned *lens, size_t n)
{
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        w[p++] = (char)lens[i];
        memset(w + p, 'a', lens[i]);
        p += lens[i];
    }
    w[p++] = 0;
    return p;
}

#define W(s) s, sizeof(s) - 1

/* Parses exactly len bytes from a heap copy of that size, so that ASan sees
 * any read past the end. */
static int parse_exact(const uint8_t *msg, size_t len, struct dns_question *q)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, msg, len);
    int r = dns_parse_query(copy, len, q);
    free(copy);
    return r;
}

/* --- the wire format ----------------------------------------------------- */

static void test_parse_good(void **state)
{
    (void)state;
    static const struct {
        const char *wire;
        size_t wlen;
        uint8_t f2;
        uint16_t type;
        const char *name;
    } cases[] = {
        {W("\x03web\x00"), 0x01, 1, "web"},
        {W("\x03WeB\x07"
           "Example\x03Org\x00"),
         0x00, 28, "web.example.org"},
        {W("\x00"), 0x01, 2, ""},
        {W("\x05my-db\x01_\x00"), 0x01, 12, "my-db._"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[512];
        size_t len =
            mkquery(b, 0xbeef, cases[i].f2, 1, cases[i].wire, cases[i].wlen, cases[i].type, 1);
        struct dns_question q;
        assert_int_equal(parse_exact(b, len, &q), 0);
        assert_string_equal(q.name, cases[i].name);
        assert_int_equal(q.id, 0xbeef);
        assert_int_equal(q.rd, cases[i].f2 & 1);
        assert_int_equal(q.qtype, cases[i].type);
        assert_int_equal(q.qclass, 1);
        assert_int_equal(q.end, len);
        /* Every shorter message is refused, and never read past. */
        for (size_t cut = 0; cut < len; cut++)
            assert_int_equal(parse_exact(b, cut, &q), -EINVAL);
    }
    /* The longest labels and names: 63, and 255 bytes in wire form. */
    char w[600];
    uint8_t b[700];
    struct dns_question q;
    size_t wl = mkname(w, (unsigned[]){63}, 1);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, w, wl, 1, 1), &q), 0);
    assert_int_equal(strlen(q.name), 63);
    wl = mkname(w, (unsigned[]){63, 63, 63, 61}, 4); /* 4 + 250 + root = 255 */
    assert_int_equal(wl, 255);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, w, wl, 1, 1), &q), 0);
    assert_int_equal(strlen(q.name), 253);
}

static void test_parse_hostile(void **state)
{
    (void)state;
    char w[600];
    uint8_t b[700];
    struct dns_question q;
    /* a truncated header */
    size_t len = mkquery(b, 1, 0, 1, W("\x03web\x00"), 1, 1);
    assert_int_equal(parse_exact(b, 11, &q), -EINVAL);
    /* a label of 64 */
    size_t wl = mkname(w, (unsigned[]){64}, 1);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, w, wl, 1, 1), &q), -EINVAL);
    /* a name of 256 bytes in wire form */
    wl = mkname(w, (unsigned[]){63, 63, 63, 62}, 4);
    assert_int_equal(wl, 256);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, w, wl, 1, 1), &q), -EINVAL);
    /* a compression pointer in the question (to itself, and to the header) */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\xc0\x0c"), 1, 1), &q), -EINVAL);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\x03web\xc0\x00"), 1, 1), &q), -EINVAL);
    /* the reserved label types 0x40 and 0x80 */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\x41\x00"), 1, 1), &q), -EINVAL);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\x81\x00"), 1, 1), &q), -EINVAL);
    /* qdcount 0 and 2 */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 0, W("\x03web\x00"), 1, 1), &q), -EINVAL);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 2, W("\x03web\x00"), 1, 1), &q), -EINVAL);
    /* opcode 1 (IQUERY) and 2 (STATUS) */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0x08, 1, W("\x03web\x00"), 1, 1), &q), -ENOTSUP);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0x10, 1, W("\x03web\x00"), 1, 1), &q), -ENOTSUP);
    /* an answer (QR=1) */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0x80, 1, W("\x03web\x00"), 1, 1), &q), -EINVAL);
    /* a dot, a blank, a NUL, a byte above 0x7e inside a label */
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\x03w.b\x00"), 1, 1), &q), -EINVAL);
    assert_int_equal(parse_exact(b, mkquery(b, 1, 0, 1, W("\x03w b\x00"), 1, 1), &q), -EINVAL);
    assert_int_equal(parse_exact(b,
                                 mkquery(b, 1, 0, 1,
                                         W("\x03w\x00"
                                           "b\x00"),
                                         1, 1),
                                 &q),
                     -EINVAL);
    assert_int_equal(parse_exact(b,
                                 mkquery(b, 1, 0, 1,
                                         W("\x03w\xff"
                                           "b\x00"),
                                         1, 1),
                                 &q),
                     -EINVAL);
    (void)len;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void test_build_answer(void **state)
{
    (void)state;
    uint8_t b[512], out[512];
    size_t len = mkquery(b, 0x1234, 0x01, 1, W("\x03WeB\x00"), 1, 1);
    struct dns_question q;
    assert_int_equal(dns_parse_query(b, len, &q), 0);
    const uint8_t a4[] = {10, 0, 0, 2, 10, 0, 0, 3};
    int n = dns_build_answer(b, &q, 0, AF_INET, a4, 2, 600, out, sizeof out);
    assert_int_equal(n, (int)len + 2 * 16);
    assert_int_equal(rd16(out), 0x1234);
    assert_int_equal(out[2], 0x80 | 0x04 | 0x01); /* QR, AA, RD */
    assert_int_equal(out[3], 0x80);               /* RA, NOERROR */
    assert_int_equal(rd16(out + 4), 1);
    assert_int_equal(rd16(out + 6), 2);
    assert_int_equal(rd16(out + 8), 0);
    assert_int_equal(rd16(out + 10), 0);
    assert_memory_equal(out + 12, b + 12, len - 12); /* the question, its case kept */
    const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 10, 0, 0, 3};
    assert_memory_equal(out + len + 16, rr, sizeof rr);
    /* AAAA */
    uint8_t a6[16] = {0xfd, [15] = 4};
    n = dns_build_answer(b, &q, 0, AF_INET6, a6, 1, 600, out, sizeof out);
    assert_int_equal(n, (int)len + 28);
    assert_int_equal(rd16(out + len + 2), 28);
    assert_int_equal(rd16(out + len + 10), 16);
    assert_memory_equal(out + len + 12, a6, 16);
    /* NODATA, and SERVFAIL (not authoritative) */
    n = dns_build_answer(b, &q, 0, 0, NULL, 0, 600, out, sizeof out);
    assert_int_equal(n, (int)len);
    assert_int_equal(rd16(out + 6), 0);
    n = dns_build_answer(b, &q, DNS_RCODE_SERVFAIL, 0, NULL, 0, 0, out, sizeof out);
    assert_int_equal(out[2], 0x80 | 0x01);
    assert_int_equal(out[3], 0x80 | 2);
    /* What does not fit is cut at a record boundary, with TC */
    n = dns_build_answer(b, &q, 0, AF_INET, a4, 2, 600, out, len + 16 + 15);
    assert_int_equal(n, (int)len + 16);
    assert_int_equal(rd16(out + 6), 1);
    assert_true(out[2] & 0x02);
    assert_int_equal(dns_build_answer(b, &q, 0, AF_INET, a4, 2, 600, out, len - 1), -ENOSPC);
    /* a family that is neither, with addresses */
    assert_int_equal(dns_build_answer(b, &q, 0, AF_UNIX, a4, 1, 600, out, sizeof out), -EINVAL);
    /* the id helpers */
    dns_msg_set_id(out, 0xabcd);
    assert_int_equal(dns_msg_id(out), 0xabcd);
}

static void test_build_error(void **state)
{
    (void)state;
    uint8_t b[512], out[64];
    size_t len = mkquery(b, 0x4242, 0x08 | 0x01, 2, W("\x03web\x00"), 1, 1);
    assert_int_equal(dns_build_error(b, len, DNS_RCODE_NOTIMP, out, sizeof out), 12);
    assert_int_equal(rd16(out), 0x4242);
    assert_int_equal(out[2], 0x80 | 0x08 | 0x01);
    assert_int_equal(out[3] & 0x0f, DNS_RCODE_NOTIMP);
    assert_int_equal(rd16(out + 4), 0);
    assert_int_equal(dns_build_error(b, 11, 1, out, sizeof out), -EINVAL);
    assert_int_equal(dns_build_error(b, len, 1, out, 11), -ENOSPC);
    b[2] = 0x80; /* never answer an answer */
    assert_int_equal(dns_build_error(b, len, 1, out, sizeof out), -EINVAL);
}

/* --- the server on a loop ------------------------------------------------- */

/* The fake lookup: "web" has two IPv4 addresses, "db" one of each family. */
static int fake_lookup(void *owner, void *asker, const char *name, int family, uint8_t *out,
                       size_t cap)
{
    int *calls = owner;
    (*calls)++;
    assert_true(asker == (void *)0x5ee || asker == (void *)0x5ef); /* the second: own upstreams */
    if (!strcmp(name, "web")) {
        if (family == AF_INET6)
            return 0;
        const uint8_t a[] = {10, 0, 0, 2, 10, 0, 0, 3};
        memcpy(out, a, cap < 2 ? cap * 4 : 8);
        return cap < 2 ? (int)cap : 2;
    }
    if (!strcmp(name, "db")) {
        if (cap < 1)
            return 0;
        if (family == AF_INET)
            memcpy(out, (uint8_t[]){10, 0, 0, 4}, 4);
        else
            memcpy(out, (uint8_t[16]){0xfd, [15] = 4}, 16);
        return 1;
    }
    return -ENOENT;
}

/* An upstream that answers every query with 192.0.2.7, or (mute) never. */
struct upstream {
    uv_udp_t udp;
    uv_tcp_t tcp;     /* the answering one's, on the same port */
    uv_tcp_t conn[4]; /* a connection per forwarded query */
    int nconn;
    bool has_tcp;
    uint8_t tbuf[600];
    size_t thave;
    int tcp_queries;
    struct sockaddr_storage from; /* where the last query came from */
    bool mute;
    int queries;
    uint16_t last_id;
    char addr[64];
};

static void up_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    static char buf[65536]; /* the test's own loop: one callback at a time */
    *b = uv_buf_init(buf, sizeof buf);
}

static void up_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                    unsigned flags)
{
    struct upstream *u = h->data;
    if (n <= 0 || !from)
        return;
    u->queries++;
    memcpy(&u->from, from, sizeof(struct sockaddr_in));
    struct dns_question q;
    if (dns_parse_query((uint8_t *)b->base, (size_t)n, &q) < 0)
        return;
    u->last_id = q.id;
    if (u->mute)
        return;
    uint8_t out[512];
    int len = dns_build_answer((uint8_t *)b->base, &q, 0, AF_INET, (uint8_t[]){192, 0, 2, 7}, 1, 60,
                               out, sizeof out);
    uv_buf_t ob = uv_buf_init((char *)out, (unsigned)len);
    assert_true(uv_udp_try_send(h, &ob, 1, from) == len);
}

static int bound_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

static void tup_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    struct upstream *u = h->data;
    *b = uv_buf_init((char *)u->tbuf + u->thave, (unsigned)(sizeof u->tbuf - u->thave));
}

static void tup_written(uv_write_t *w, int status)
{
    free(w);
}

/* The TCP upstream: answers one length-prefixed query with 192.0.2.7. */
static void tup_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct upstream *u = s->data;
    if (n <= 0)
        return;
    u->thave += (size_t)n;
    if (u->thave < 2 || u->thave < 2u + (size_t)(u->tbuf[0] << 8 | u->tbuf[1]))
        return;
    u->tcp_queries++;
    struct dns_question q;
    assert_int_equal(dns_parse_query(u->tbuf + 2, u->thave - 2, &q), 0);
    u->last_id = q.id;
    uint8_t *w = malloc(sizeof(uv_write_t) + 600);
    uint8_t *out = w + sizeof(uv_write_t);
    int len = dns_build_answer(u->tbuf + 2, &q, 0, AF_INET, (uint8_t[]){192, 0, 2, 7}, 1, 60,
                               out + 2, 598);
    out[0] = 0;
    out[1] = (uint8_t)len;
    uv_buf_t ob = uv_buf_init((char *)out, (unsigned)len + 2);
    assert_int_equal(uv_write((uv_write_t *)w, s, &ob, 1, tup_written), 0);
    u->thave = 0;
}

static void tup_conn(uv_stream_t *server, int status)
{
    struct upstream *u = server->data;
    assert_true(u->nconn < 4);
    uv_tcp_t *c = &u->conn[u->nconn++];
    assert_int_equal(uv_tcp_init(server->loop, c), 0);
    c->data = u;
    u->thave = 0;
    assert_int_equal(uv_accept(server, (uv_stream_t *)c), 0);
    assert_int_equal(uv_read_start((uv_stream_t *)c, tup_alloc, tup_read), 0);
}

static void upstream_start(uv_loop_t *loop, struct upstream *u, bool mute)
{
    u->mute = mute;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    uv_os_fd_t fd;
    if (!mute) {
        assert_int_equal(uv_tcp_init(loop, &u->tcp), 0);
        u->tcp.data = u;
        u->has_tcp = true;
        assert_int_equal(uv_tcp_bind(&u->tcp, (struct sockaddr *)&sa, 0), 0);
        assert_int_equal(uv_listen((uv_stream_t *)&u->tcp, 4, tup_conn), 0);
        uv_fileno((uv_handle_t *)&u->tcp, &fd);
        sa.sin_port = htons((uint16_t)bound_port(fd));
    }
    assert_int_equal(uv_udp_init(loop, &u->udp), 0);
    u->udp.data = u;
    assert_int_equal(uv_udp_bind(&u->udp, (struct sockaddr *)&sa, 0), 0);
    uv_fileno((uv_handle_t *)&u->udp, &fd);
    snprintf(u->addr, sizeof u->addr, "127.0.0.1#%d", bound_port(fd));
    assert_int_equal(uv_udp_recv_start(&u->udp, up_alloc, up_recv), 0);
}

struct fx {
    uv_loop_t loop;
    struct sv_dns *d;
    struct upstream good, dead1, dead2;
    struct upstream own; /* answers, but only the asker that names it reaches it */
    int calls;
    int udp_fd, tcp_fd; /* the server's (it owns them) */
    struct sockaddr_in udp_at, tcp_at;
    int client;
};

static int server_socket(int type, struct sockaddr_in *at)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 16), 0);
    *at = sa;
    at->sin_port = htons((uint16_t)bound_port(fd));
    return fd;
}

/* The server with upstreams ups (the fixture's, by name) and timeout. */
static void serve(struct fx *f, const char *ups, int64_t timeout_ms)
{
    char *v[4] = {0};
    size_t n = 0;
    for (const char *p = ups; *p; p++)
        v[n++] = *p == 'g' ? f->good.addr : *p == '1' ? f->dead1.addr : f->dead2.addr;
    struct sv_dns_options o = {
        .upstreams = v,
        .lookup = fake_lookup,
        .owner = &f->calls,
        .forward_timeout_ms = timeout_ms,
        .tcp_idle_ms = 300,
    };
    struct berr e = BERR_INIT;
    assert_int_equal(sv_dns_new(&f->loop, &o, &f->d, &e), 0);
    f->udp_fd = server_socket(SOCK_DGRAM, &f->udp_at);
    f->tcp_fd = server_socket(SOCK_STREAM, &f->tcp_at);
    assert_int_equal(sv_dns_listen(f->d, f->udp_fd, f->tcp_fd, (void *)0x5ee, NULL, &e), 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    upstream_start(&f->loop, &f->good, false);
    upstream_start(&f->loop, &f->dead1, true);
    upstream_start(&f->loop, &f->dead2, true);
    upstream_start(&f->loop, &f->own, false);
    f->client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(f->client >= 0);
    *state = f;
    return 0;
}

static void on_close_noop(uv_handle_t *h)
{
    (void)h;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sv_dns_free(f->d);
    uv_close((uv_handle_t *)&f->good.udp, on_close_noop);
    uv_close((uv_handle_t *)&f->dead1.udp, on_close_noop);
    uv_close((uv_handle_t *)&f->dead2.udp, on_close_noop);
    uv_close((uv_handle_t *)&f->good.tcp, on_close_noop);
    for (int i = 0; i < f->good.nconn; i++)
        uv_close((uv_handle_t *)&f->good.conn[i], on_close_noop);
    uv_close((uv_handle_t *)&f->own.udp, on_close_noop);
    uv_close((uv_handle_t *)&f->own.tcp, on_close_noop);
    for (int i = 0; i < f->own.nconn; i++)
        uv_close((uv_handle_t *)&f->own.conn[i], on_close_noop);
    /* Every handle closes within a few turns; one left open fails here
     * rather than hanging the test. */
    for (int i = 0; i < 200 && uv_loop_alive(&f->loop); i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_false(uv_loop_alive(&f->loop));
    assert_int_equal(uv_loop_close(&f->loop), 0);
    close(f->client);
    free(f);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop until fd is readable or ms pass; whether it is. */
static bool run_until_readable(struct fx *f, int fd, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2) == 1)
            return true;
    }
    return false;
}

/* Sends a query over UDP; the answer's length, or -1 with none in ms. */
static ssize_t ask_udp(struct fx *f, const uint8_t *q, size_t len, uint8_t *out, size_t cap, int ms)
{
    assert_int_equal(sendto(f->client, q, len, 0, (struct sockaddr *)&f->udp_at, sizeof f->udp_at),
                     (ssize_t)len);
    if (!run_until_readable(f, f->client, ms))
        return -1;
    return recv(f->client, out, cap, 0);
}

static void test_udp_known_name(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7001, 0x01, 1, W("\x03WEB\x00"), DNS_TYPE_A, 1);
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 32);
    assert_int_equal(rd16(a), 0x7001);
    assert_int_equal(a[3] & 0x0f, 0);
    assert_int_equal(rd16(a + 6), 2);
    /* both addresses, in either order, with docker's TTL */
    uint32_t got = (uint32_t)a[len + 15] << 8 | a[len + 16 + 15];
    assert_true(got == (2u << 8 | 3u) || got == (3u << 8 | 2u));
    assert_int_equal(rd16(a + len + 6), 0);
    assert_int_equal(rd16(a + len + 8), 600);
    assert_int_equal(f->good.queries, 0);
}

/* A burst read in recvmmsg batches: every query answered, each once. */
static void test_udp_burst(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        size_t len = mkquery(q, (uint16_t)(0x100 + i), 0x01, 1, W("\x03web\x00"), 1, 1);
        assert_int_equal(
            sendto(f->client, q, len, 0, (struct sockaddr *)&f->udp_at, sizeof f->udp_at),
            (ssize_t)len);
    }
    bool seen[N] = {0};
    for (int got = 0; got < N; got++) {
        assert_true(run_until_readable(f, f->client, 2000));
        assert_true(recv(f->client, a, sizeof a, 0) > 12);
        int i = rd16(a) - 0x100;
        assert_true(i >= 0 && i < N && !seen[i]);
        seen[i] = true;
        assert_int_equal(rd16(a + 6), 2);
    }
    assert_false(run_until_readable(f, f->client, 100));
}

static void test_udp_nodata(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    /* AAAA of a name with IPv4 addresses only */
    size_t len = mkquery(q, 0x7002, 0x01, 1, W("\x03web\x00"), DNS_TYPE_AAAA, 1);
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len);
    assert_int_equal(rd16(a), 0x7002);
    assert_int_equal(a[3] & 0x0f, 0);
    assert_int_equal(rd16(a + 6), 0);
    /* MX of a known name */
    len = mkquery(q, 0x7003, 0x01, 1, W("\x02\x64\x62\x00"), 15, 1);
    n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len);
    assert_int_equal(rd16(a + 6), 0);
    /* AAAA of db: its IPv6 address */
    len = mkquery(q, 0x7004, 0x01, 1, W("\x02\x64\x62\x00"), DNS_TYPE_AAAA, 1);
    n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 28);
    assert_int_equal(a[len + 12], 0xfd);
    assert_int_equal(f->good.queries, 0);
}

static void test_udp_forward(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7005, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 16);
    assert_int_equal(rd16(a), 0x7005); /* the client's own id */
    assert_int_equal(f->good.queries, 1);
    assert_int_not_equal(f->good.last_id, 0x7005); /* the upstream saw another */
    assert_memory_equal(a + len + 12, ((uint8_t[]){192, 0, 2, 7}), 4);
    /* PTR (of a name the lookup does not know), and another class of a
     * known name: forwarded too */
    len = mkquery(q, 0x7006, 0x01, 1,
                  W("\x01"
                    "2\x01"
                    "0\x01"
                    "0\x02"
                    "10\x07in-addr\x04"
                    "arpa\x00"),
                  DNS_TYPE_PTR, 1);
    assert_true(ask_udp(f, q, len, a, sizeof a, 2000) > 0);
    len = mkquery(q, 0x7007, 0x01, 1, W("\x03web\x00"), DNS_TYPE_A, 3);
    assert_true(ask_udp(f, q, len, a, sizeof a, 2000) > 0);
    assert_int_equal(f->good.queries, 3);
}

static void test_udp_dead_upstream_then_next(void **state)
{
    struct fx *f = *state;
    serve(f, "1g", 400);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7008, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    int64_t t0 = now_ms();
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 3000);
    int64_t took = now_ms() - t0;
    assert_int_equal(n, (ssize_t)len + 16);
    assert_int_equal(rd16(a), 0x7008);
    assert_int_equal(a[3] & 0x0f, 0);
    assert_int_equal(f->dead1.queries, 1);
    assert_int_equal(f->good.queries, 1);
    assert_true(took >= 150); /* the dead one had its share (200 ms) first */
}

static void test_udp_all_dead_servfail(void **state)
{
    struct fx *f = *state;
    serve(f, "12", 300);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7009, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    int64_t t0 = now_ms();
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 3000);
    int64_t took = now_ms() - t0;
    assert_int_equal(n, (ssize_t)len);
    assert_int_equal(rd16(a), 0x7009);
    assert_int_equal(a[3] & 0x0f, DNS_RCODE_SERVFAIL);
    assert_int_equal(f->dead1.queries, 1);
    assert_int_equal(f->dead2.queries, 1);
    assert_true(took < 1500);
}

/* An answer with the right id from an address that is not the upstream's
 * is not relayed; the upstream's own is. */
static void test_udp_spoofed_answer_ignored(void **state)
{
    struct fx *f = *state;
    serve(f, "1", 5000);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7012, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    assert_int_equal(sendto(f->client, q, len, 0, (struct sockaddr *)&f->udp_at, sizeof f->udp_at),
                     (ssize_t)len);
    for (int i = 0; i < 500 && !f->dead1.queries; i++)
        run_until_readable(f, f->client, 2);
    assert_int_equal(f->dead1.queries, 1);
    /* the answer, as the upstream would give it */
    struct dns_question dq;
    size_t ql = mkquery(q, f->dead1.last_id, 0x01, 1, W("\x07\x65xample\x03org\x00"), 1, 1);
    assert_int_equal(dns_parse_query(q, ql, &dq), 0);
    int al = dns_build_answer(q, &dq, 0, AF_INET, (uint8_t[]){6, 6, 6, 6}, 1, 60, a, sizeof a);
    int spoof = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(sendto(spoof, a, (size_t)al, 0, (struct sockaddr *)&f->dead1.from,
                            sizeof(struct sockaddr_in)),
                     al);
    close(spoof);
    assert_false(run_until_readable(f, f->client, 300));
    uv_buf_t b = uv_buf_init((char *)a, (unsigned)al);
    assert_int_equal(uv_udp_try_send(&f->dead1.udp, &b, 1, (struct sockaddr *)&f->dead1.from), al);
    assert_true(run_until_readable(f, f->client, 2000));
    assert_int_equal(recv(f->client, a, sizeof a, 0), al);
    assert_int_equal(rd16(a), 0x7012);
}

/* Over 1024 queries in flight: SERVFAIL at once. */
static void test_udp_inflight_bound(void **state)
{
    struct fx *f = *state;
    serve(f, "1", 20000);
    uint8_t q[512], a[512];
    for (int i = 0; i <= 1024; i++) {
        size_t len = mkquery(q, (uint16_t)i, 0x01, 1, W("\x07\x65xample\x03org\x00"), 1, 1);
        assert_int_equal(
            sendto(f->client, q, len, 0, (struct sockaddr *)&f->udp_at, sizeof f->udp_at),
            (ssize_t)len);
        if (i % 64 == 63) /* let the server read them before its buffer fills */
            for (int k = 0; k < 20 && f->dead1.queries < i + 1; k++)
                run_until_readable(f, f->client, 1);
    }
    assert_true(run_until_readable(f, f->client, 2000));
    assert_int_equal(recv(f->client, a, sizeof a, 0),
                     (ssize_t)mkquery(q, 0, 1, 1, W("\x07\x65xample\x03org\x00"), 1, 1));
    assert_int_equal(rd16(a), 1024);
    assert_int_equal(a[3] & 0x0f, DNS_RCODE_SERVFAIL);
    assert_int_equal(f->dead1.queries, 1024);
}

static void test_udp_malformed(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    /* two questions: FORMERR with the id */
    size_t len = mkquery(q, 0x700a, 0x01, 2, W("\x03web\x00"), DNS_TYPE_A, 1);
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, 12);
    assert_int_equal(rd16(a), 0x700a);
    assert_int_equal(a[3] & 0x0f, DNS_RCODE_FORMERR);
    /* another opcode: NOTIMP */
    len = mkquery(q, 0x700b, 0x10, 1, W("\x03web\x00"), DNS_TYPE_A, 1);
    n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, 12);
    assert_int_equal(a[3] & 0x0f, DNS_RCODE_NOTIMP);
    /* an answer, and a short header: dropped */
    len = mkquery(q, 0x700c, 0x80, 1, W("\x03web\x00"), DNS_TYPE_A, 1);
    assert_int_equal(ask_udp(f, q, len, a, sizeof a, 200), -1);
    assert_int_equal(ask_udp(f, q, 5, a, sizeof a, 200), -1);
    assert_int_equal(f->good.queries, 0);
}

static void test_unlisten_closes(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x700d, 0x01, 1, W("\x03web\x00"), DNS_TYPE_A, 1);
    assert_true(ask_udp(f, q, len, a, sizeof a, 2000) > 0);
    sv_dns_unlisten(f->d, (void *)0x5ee);
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    /* both sockets closed: nothing answers, nothing listens */
    assert_int_equal(fcntl(f->udp_fd, F_GETFD), -1);
    assert_int_equal(fcntl(f->tcp_fd, F_GETFD), -1);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(s, (struct sockaddr *)&f->tcp_at, sizeof f->tcp_at), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(s);
}

/* Connects to the server's TCP socket and sends a length-prefixed query. */
static int tcp_ask(struct fx *f, const uint8_t *q, size_t len)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(s, (struct sockaddr *)&f->tcp_at, sizeof f->tcp_at), 0);
    uint8_t b[600] = {(uint8_t)(len >> 8), (uint8_t)len};
    memcpy(b + 2, q, len);
    assert_int_equal(write(s, b, len + 2), (ssize_t)len + 2);
    return s;
}

/* Reads exactly n bytes from s, running the loop; whether it could. */
static bool tcp_read_exact(struct fx *f, int s, uint8_t *b, size_t n, int64_t end)
{
    size_t have = 0;
    while (have < n && now_ms() < end) {
        if (!run_until_readable(f, s, (int)(end - now_ms())))
            return false;
        ssize_t r = recv(s, b + have, n - have, MSG_DONTWAIT);
        if (r <= 0)
            return false;
        have += (size_t)r;
    }
    return have == n;
}

/* Reads one length-prefixed answer, running the loop; its length or -1. */
static ssize_t tcp_answer(struct fx *f, int s, uint8_t *out, size_t cap, int ms)
{
    int64_t end = now_ms() + ms;
    uint8_t pre[2];
    if (!tcp_read_exact(f, s, pre, 2, end))
        return -1;
    size_t len = rd16(pre);
    assert_true(len <= cap);
    return tcp_read_exact(f, s, out, len, end) ? (ssize_t)len : -1;
}

static void test_tcp_query(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x700e, 0x01, 1, W("\x03web\x00"), DNS_TYPE_A, 1);
    int s = tcp_ask(f, q, len);
    ssize_t n = tcp_answer(f, s, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 32);
    assert_int_equal(rd16(a), 0x700e);
    assert_int_equal(rd16(a + 6), 2);
    /* a second query on the same connection */
    len = mkquery(q, 0x700f, 0x01, 1, W("\x02\x64\x62\x00"), DNS_TYPE_A, 1);
    uint8_t b[600] = {0, (uint8_t)len};
    memcpy(b + 2, q, len);
    assert_int_equal(write(s, b, len + 2), (ssize_t)len + 2);
    n = tcp_answer(f, s, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 16);
    assert_int_equal(rd16(a), 0x700f);
    /* idle for longer than tcp_idle_ms: closed (EOF) */
    assert_true(run_until_readable(f, s, 2000));
    assert_int_equal(recv(s, b, sizeof b, MSG_DONTWAIT), 0);
    close(s);
}

static void test_tcp_forward(void **state)
{
    struct fx *f = *state;
    serve(f, "1g", 2000);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7011, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    int s = tcp_ask(f, q, len);
    ssize_t n = tcp_answer(f, s, a, sizeof a, 3000);
    assert_int_equal(n, (ssize_t)len + 16);
    assert_int_equal(rd16(a), 0x7011);
    assert_int_equal(a[3] & 0x0f, 0);
    assert_memory_equal(a + len + 12, ((uint8_t[]){192, 0, 2, 7}), 4);
    assert_int_equal(f->good.tcp_queries, 1);
    assert_int_not_equal(f->good.last_id, 0x7011);
    /* Pipelined: a forwarded query, then a local one, in one write; the
     * answers come in order (reading waits for the forward). */
    uint8_t two[600];
    size_t l1 = mkquery(two + 2, 0x7013, 0x01, 1, W("\x07\x65xample\x03org\x00"), 1, 1);
    two[0] = 0;
    two[1] = (uint8_t)l1;
    size_t l2 = mkquery(two + 4 + l1, 0x7014, 0x01, 1, W("\x03web\x00"), 1, 1);
    two[2 + l1] = 0;
    two[3 + l1] = (uint8_t)l2;
    assert_int_equal(write(s, two, 4 + l1 + l2), (ssize_t)(4 + l1 + l2));
    assert_int_equal(tcp_answer(f, s, a, sizeof a, 3000), (ssize_t)l1 + 16);
    assert_int_equal(rd16(a), 0x7013);
    assert_int_equal(tcp_answer(f, s, a, sizeof a, 3000), (ssize_t)l2 + 32);
    assert_int_equal(rd16(a), 0x7014);
    close(s);
}

static void test_tcp_forward_all_dead(void **state)
{
    struct fx *f = *state;
    /* The TCP ports of the fake upstreams refuse (nothing listens there):
     * each attempt fails at once, and the client gets SERVFAIL. */
    serve(f, "12", 2000);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7010, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    int s = tcp_ask(f, q, len);
    ssize_t n = tcp_answer(f, s, a, sizeof a, 1500);
    assert_int_equal(n, (ssize_t)len);
    assert_int_equal(rd16(a), 0x7010);
    assert_int_equal(a[3] & 0x0f, DNS_RCODE_SERVFAIL);
    close(s);
}

static void test_bad_upstream(void **state)
{
    struct fx *f = *state;
    char *v[] = {"not-an-address", NULL};
    struct sv_dns_options o = {.upstreams = v, .lookup = fake_lookup, .owner = &f->calls};
    struct berr e = BERR_INIT;
    assert_int_equal(sv_dns_new(&f->loop, &o, &f->d, &e), -EINVAL);
    assert_string_equal(e.msg, "DNS upstream not-an-address: not an address");
    berr_clear(&e);
    f->d = NULL;
}

/* An asker with its own upstreams (compose `dns:`): its forwarded queries,
 * over UDP and TCP, go only there; another asker's still go to the
 * server's; its own names are still answered locally. */
static void test_asker_upstreams(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    struct sockaddr_in at2, tat2;
    int u2 = server_socket(SOCK_DGRAM, &at2), t2 = server_socket(SOCK_STREAM, &tat2);
    char *own[] = {f->own.addr, NULL};
    struct berr e = BERR_INIT;
    assert_int_equal(sv_dns_listen(f->d, u2, t2, (void *)0x5ef, own, &e), 0);
    uint8_t q[512], a[512];
    size_t len = mkquery(q, 0x7101, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    assert_true(ask_udp(f, q, len, a, sizeof a, 2000) > 0);
    assert_int_equal(f->good.queries, 1);
    assert_int_equal(f->own.queries, 0);
    /* the same query from the second asker */
    f->udp_at = at2;
    f->tcp_at = tat2;
    ssize_t n = ask_udp(f, q, len, a, sizeof a, 2000);
    assert_int_equal(n, (ssize_t)len + 16);
    assert_int_equal(rd16(a), 0x7101);
    assert_int_equal(f->own.queries, 1);
    assert_int_equal(f->good.queries, 1);
    /* a name berth knows is not forwarded anywhere */
    len = mkquery(q, 0x7102, 0x01, 1, W("\x03web\x00"), DNS_TYPE_A, 1);
    assert_true(ask_udp(f, q, len, a, sizeof a, 2000) > 0);
    assert_int_equal(f->own.queries, 1);
    /* over TCP too */
    len = mkquery(q, 0x7103, 0x01, 1, W("\x07\x65xample\x03org\x00"), DNS_TYPE_A, 1);
    int s = tcp_ask(f, q, len);
    assert_true(tcp_answer(f, s, a, sizeof a, 2000) > 0);
    close(s);
    assert_int_equal(f->own.tcp_queries, 1);
    assert_int_equal(f->good.tcp_queries, 0);
    sv_dns_unlisten(f->d, (void *)0x5ef);
}

/* An asker's upstream that is not an address: refused, naming it, and
 * the sockets handed over are closed. */
static void test_asker_bad_upstream(void **state)
{
    struct fx *f = *state;
    serve(f, "g", 0);
    struct sockaddr_in at2, tat2;
    int u2 = server_socket(SOCK_DGRAM, &at2), t2 = server_socket(SOCK_STREAM, &tat2);
    char *bad[] = {"127.0.0.78", "dns.example", NULL};
    struct berr e = BERR_INIT;
    assert_int_equal(sv_dns_listen(f->d, u2, t2, (void *)0x5ef, bad, &e), -EINVAL);
    assert_string_equal(e.msg, "DNS upstream dns.example: not an address");
    berr_clear(&e);
    assert_int_equal(fcntl(u2, F_GETFD), -1);
    assert_int_equal(fcntl(t2, F_GETFD), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_build_answer),
        cmocka_unit_test(test_build_error),
        cmocka_unit_test_setup_teardown(test_udp_known_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_burst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_nodata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_dead_upstream_then_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_all_dead_servfail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_spoofed_answer_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_inflight_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlisten_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_forward_all_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_upstream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asker_upstreams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asker_bad_upstream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
