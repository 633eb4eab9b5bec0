/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for engine/supervise/sv_proxy.h, with no root and on
 * 127.0.0.1 only: the proxy's loop runs in a thread of its own while the
 * test talks to it with plain blocking sockets, and a target echo server
 * (TCP or UDP) runs in another. Checks: 1 MiB echoed back identical,
 * half-close passed through, a dead target closes the client, a busy port
 * names the test's own PID, two UDP clients kept apart, idle UDP flows
 * expired, and stop closes every fd the proxy had. Not here: kernel NAT,
 * IPv6 (the machine may have no ::1), throughput (tests/bench). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/supervise/sv_proxy.h"
#include "util/cleanup.h"
#include "util/err.h"

#define MIB (1024 * 1024)

static int fd_count(void)
{
    _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    return n - 1; /* the directory's own */
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* A socket on 127.0.0.1:port (0: any), listening when TCP. */
static int bound(int type, uint16_t port)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = loopback(port);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static void set_timeout(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

/* --- The proxy's loop, in a thread ------------------------------------ */

struct harness {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    struct sv_proxy *p;
};

static void on_stop(uv_async_t *a)
{
    struct harness *h = a->data;
    sv_proxy_stop(h->p);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    struct harness *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void harness_start(struct harness *h, int proto, uint16_t target_port, uint64_t udp_idle)
{
    assert_int_equal(uv_loop_init(&h->loop), 0);
    struct sv_proxy_spec s = {.proto = proto,
                              .host_ip = "127.0.0.1",
                              .host_port = 0,
                              .ctr_addr = "127.0.0.1",
                              .ctr_port = target_port,
                              .service = "web"};
    struct berr e = BERR_INIT;
    int r = sv_proxy_start(&h->loop, &s, &h->p, &e);
    if (r < 0)
        fail_msg("sv_proxy_start: %s", e.msg);
    assert_true(sv_proxy_port(h->p) != 0);
    if (udp_idle)
        sv_proxy_set_udp_idle(h->p, udp_idle);
    uv_async_init(&h->loop, &h->stop, on_stop);
    h->stop.data = h;
    assert_int_equal(pthread_create(&h->thread, NULL, loop_main, h), 0);
}

/* Stops the proxy and waits (5 s at most) for its loop to run dry: every
 * handle closed. */
static void harness_stop(struct harness *h)
{
    uv_async_send(&h->stop);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int r = pthread_timedjoin_np(h->thread, NULL, &until);
    if (r != 0)
        fail_msg("the proxy's loop still runs 5 s after stop: handles left open");
    assert_int_equal(uv_loop_close(&h->loop), 0);
}

static int connect_proxy(struct harness *h)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = loopback(sv_proxy_port(h->p));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    set_timeout(fd, 5000);
    return fd;
}

/* --- A TCP echo server for one connection ----------------------------- */

struct echo {
    int lfd;
    uint16_t port;
    pthread_t thread;
    bool saw_eof; /* read EOF from the proxy before closing */
    size_t bytes;
};

static void *echo_main(void *arg)
{
    struct echo *s = arg;
    struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
    if (poll(&pfd, 1, 10000) != 1)
        return NULL;
    int c = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return NULL;
    set_timeout(c, 10000); /* a proxy that never passes EOF on ends it */
    char *buf = malloc(MIB);
    for (;;) {
        ssize_t n = read(c, buf, MIB);
        if (n == 0)
            s->saw_eof = true;
        if (n <= 0)
            break;
        s->bytes += (size_t)n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(c, buf + off, (size_t)(n - off));
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    free(buf);
    close(c);
    return NULL;
}

static void echo_start(struct echo *s)
{
    memset(s, 0, sizeof(*s));
    s->lfd = bound(SOCK_STREAM, 0);
    s->port = port_of(s->lfd);
    assert_int_equal(pthread_create(&s->thread, NULL, echo_main, s), 0);
}

static void echo_join(struct echo *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    if (pthread_timedjoin_np(s->thread, NULL, &until) != 0)
        fail_msg("the target's connection was still open 15 s on");
    close(s->lfd);
}

/* --- Tests ------------------------------------------------------------ */

/* 1 MiB through the proxy and back, written and read at once (the proxy
 * must keep both directions moving under back-pressure). */
static void test_tcp_echo_1mib(void **state)
{
    int before = fd_count();
    struct echo srv;
    echo_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_TCP, srv.port, 0);
    int fd = connect_proxy(&h);

    char *out = malloc(MIB), *in = malloc(MIB);
    for (size_t i = 0; i < MIB; i++)
        out[i] = (char)(i * 7 + i / 4096);
    size_t sent = 0, got = 0;
    uint64_t deadline = now_ms() + 20000;
    while (got < MIB && now_ms() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < MIB ? POLLOUT : 0)};
        assert_true(poll(&pfd, 1, 1000) >= 0);
        if ((pfd.revents & POLLOUT) && sent < MIB) {
            ssize_t w = send(fd, out + sent, MIB - sent > 65536 ? 65536 : MIB - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, in + got, MIB - got, MSG_DONTWAIT);
            if (r == 0)
                break;
            if (r > 0)
                got += (size_t)r;
        }
    }
    assert_int_equal(sent, MIB);
    if (got != MIB)
        fail_msg("got %zu of %d bytes back through the proxy", got, MIB);
    assert_memory_equal(in, out, MIB);
    free(in);
    free(out);
    close(fd);
    echo_join(&srv);
    harness_stop(&h);
    assert_int_equal(fd_count(), before);
}

/* A client that writes and does not read: the proxy stops reading it once
 * its queues are full, so the client's writes stall after a bounded amount
 * (the sockets' buffers, tens of MiB at most on loopback) instead of the
 * proxy holding everything in memory; once the client reads, all of it
 * comes back (reading resumed on every side). */
static void test_tcp_backpressure(void **state)
{
    struct echo srv;
    echo_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_TCP, srv.port, 0);
    int fd = connect_proxy(&h);
    size_t limit = 256 * (size_t)MIB, sent = 0;
    char *chunk = calloc(1, MIB);
    uint64_t last = now_ms();
    while (sent < limit && now_ms() - last < 1000) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 100) != 1)
            continue;
        ssize_t w = send(fd, chunk, MIB, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            last = now_ms();
        }
    }
    if (sent >= 128 * (size_t)MIB)
        fail_msg("the proxy took %zu MiB from a client that never reads", sent / MIB);
    /* Reading now drains every queue: the proxy must take up reading each
     * side it paused, or the echo stalls short. */
    size_t got = 0;
    while (got < sent) {
        ssize_t r = recv(fd, chunk, MIB, 0);
        if (r <= 0)
            fail_msg("got %zu of %zu bytes back once the client read again", got, sent);
        got += (size_t)r;
    }
    free(chunk);
    close(fd);
    echo_join(&srv);
    harness_stop(&h);
}

/* The client's shutdown(SHUT_WR) reaches the target as EOF; the target's
 * close reaches the client as EOF, after the data. */
static void test_tcp_half_close(void **state)
{
    struct echo srv;
    echo_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_TCP, srv.port, 0);
    int fd = connect_proxy(&h);
    assert_int_equal(send(fd, "half", 4, MSG_NOSIGNAL), 4);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    char buf[16];
    size_t got = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + got, sizeof(buf) - got, 0);
        if (r < 0)
            fail_msg("no EOF at the client within 5 s of its shutdown: %s", strerror(errno));
        if (r == 0)
            break;
        got += (size_t)r;
    }
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "half", 4);
    echo_join(&srv);
    if (!srv.saw_eof)
        fail_msg("the target never saw the client's EOF");
    close(fd);
    harness_stop(&h);
}

/* A target that refuses: the proxy closes the client at once. */
static void test_tcp_target_down(void **state)
{
    int gone = bound(SOCK_STREAM, 0);
    uint16_t port = port_of(gone);
    close(gone);
    struct harness h;
    harness_start(&h, IPPROTO_TCP, port, 0);
    int fd = connect_proxy(&h);
    uint64_t t0 = now_ms();
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail_msg("the client is still open 5 s after the target refused");
    assert_true(r == 0 || (r < 0 && errno == ECONNRESET));
    assert_true(now_ms() - t0 < 2000);
    close(fd);
    harness_stop(&h);
}

static void check_busy(int type, int proto, const char *name)
{
    int fd = bound(type, 0);
    uint16_t port = port_of(fd);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct sv_proxy_spec s = {.proto = proto,
                              .host_ip = "127.0.0.1",
                              .host_port = port,
                              .ctr_addr = "127.0.0.1",
                              .ctr_port = 1,
                              .service = "web"};
    struct sv_proxy *p = NULL;
    _cleanup_berr_ struct berr e = BERR_INIT;
    assert_int_equal(sv_proxy_start(&loop, &s, &p, &e), -EADDRINUSE);
    assert_null(p);
    char want[128];
    snprintf(want, sizeof(want),
             "service \"web\": host port 127.0.0.1:%u/%s is already in use by PID %d (", port, name,
             (int)getpid());
    if (strncmp(e.msg, want, strlen(want)) != 0)
        fail_msg("got \"%s\", want it to start \"%s\"", e.msg, want);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(fd);
}

/* A port the test holds: -EADDRINUSE naming the test's PID. */
static void test_busy_port(void **state)
{
    int before = fd_count();
    check_busy(SOCK_STREAM, IPPROTO_TCP, "tcp");
    check_busy(SOCK_DGRAM, IPPROTO_UDP, "udp");
    assert_int_equal(fd_count(), before);
}

static void test_bad_input(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct sv_proxy_spec s = {.proto = IPPROTO_TCP,
                              .host_ip = "127.0.0.1",
                              .ctr_addr = "not-an-address",
                              .ctr_port = 80,
                              .service = "web"};
    struct sv_proxy *p = NULL;
    _cleanup_berr_ struct berr e = BERR_INIT;
    assert_int_equal(sv_proxy_start(&loop, &s, &p, &e), -EINVAL);
    assert_string_equal(e.msg, "service \"web\": container address \"not-an-address\" is not an "
                               "IP address");
    s.ctr_addr = "127.0.0.1";
    s.host_ip = "300.1.1.1";
    assert_int_equal(sv_proxy_start(&loop, &s, &p, &e), -EINVAL);
    assert_string_equal(e.msg, "service \"web\": host IP \"300.1.1.1\" is not an IP address");
    s.host_ip = NULL;
    s.proto = 99;
    assert_int_equal(sv_proxy_start(&loop, &s, &p, &e), -EINVAL);
    assert_null(p);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* --- UDP -------------------------------------------------------------- */

struct uecho {
    int fd;
    uint16_t port;
    pthread_t thread;
    volatile bool quit;
    uint16_t sources[16]; /* source ports seen, in order of first sight */
    int nsources;
};

static void *uecho_main(void *arg)
{
    struct uecho *s = arg;
    while (!s->quit) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) != 1)
            continue;
        char buf[2048];
        struct sockaddr_in from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            continue;
        uint16_t sp = ntohs(from.sin_port);
        bool seen = false;
        for (int i = 0; i < s->nsources; i++)
            seen |= s->sources[i] == sp;
        if (!seen && s->nsources < 16)
            s->sources[s->nsources++] = sp;
        sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
    return NULL;
}

static void uecho_start(struct uecho *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = bound(SOCK_DGRAM, 0);
    s->port = port_of(s->fd);
    assert_int_equal(pthread_create(&s->thread, NULL, uecho_main, s), 0);
}

static void uecho_join(struct uecho *s)
{
    s->quit = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static int udp_client(struct harness *h)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = loopback(sv_proxy_port(h->p));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    set_timeout(fd, 3000);
    return fd;
}

static void udp_roundtrip(int fd, const char *msg)
{
    assert_int_equal(send(fd, msg, strlen(msg), 0), (ssize_t)strlen(msg));
    char buf[64];
    ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);
    if (r < 0)
        fail_msg("no UDP reply to \"%s\" within 3 s: %s", msg, strerror(errno));
    buf[r] = '\0';
    if (strcmp(buf, msg) != 0)
        fail_msg("sent \"%s\" through the proxy, got back \"%s\"", msg, buf);
}

/* Two clients, each gets its own replies, through two flows (two source
 * ports at the target). */
static void test_udp_two_clients(void **state)
{
    int before = fd_count();
    struct uecho srv;
    uecho_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_UDP, srv.port, 0);
    int a = udp_client(&h), b = udp_client(&h);
    for (int i = 0; i < 5; i++) {
        udp_roundtrip(a, "from a");
        udp_roundtrip(b, "from b");
    }
    assert_int_equal(srv.nsources, 2);
    close(a);
    close(b);
    harness_stop(&h);
    uecho_join(&srv);
    assert_int_equal(fd_count(), before);
}

/* An idle flow is closed: the client's next datagram comes from a new
 * upstream socket. */
static void test_udp_idle_flow_expires(void **state)
{
    struct uecho srv;
    uecho_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_UDP, srv.port, 100);
    int a = udp_client(&h);
    udp_roundtrip(a, "one");
    udp_roundtrip(a, "two");
    assert_int_equal(srv.nsources, 1);
    usleep(400 * 1000);
    udp_roundtrip(a, "three");
    if (srv.nsources != 2)
        fail_msg("the flow idle for 400 ms (limit 100 ms) was kept");
    close(a);
    harness_stop(&h);
    uecho_join(&srv);
}

/* Stop with a connection open: the client sees EOF, the loop runs dry
 * and no fd of the proxy's is left. */
static void test_stop_closes_everything(void **state)
{
    int before = fd_count();
    struct echo srv;
    echo_start(&srv);
    struct harness h;
    harness_start(&h, IPPROTO_TCP, srv.port, 0);
    int fd = connect_proxy(&h);
    char c;
    assert_int_equal(send(fd, "x", 1, MSG_NOSIGNAL), 1);
    assert_int_equal(recv(fd, &c, 1, 0), 1);
    harness_stop(&h);
    ssize_t r = recv(fd, &c, 1, 0);
    if (r != 0)
        fail_msg("the client's connection was not closed by stop (recv %zd)", r);
    close(fd);
    echo_join(&srv);
    int after = fd_count();
    if (after != before)
        fail_msg("%d fds open before the proxy, %d after it stopped", before, after);
}

int main(void)
{
    /* libuv's first loop opens a pipe the process keeps (its signal lock):
     * opened here, before any test counts fds. */
    uv_loop_t first;
    if (uv_loop_init(&first) != 0 || uv_loop_close(&first) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_echo_1mib),
        cmocka_unit_test(test_tcp_backpressure),
        cmocka_unit_test(test_tcp_half_close),
        cmocka_unit_test(test_tcp_target_down),
        cmocka_unit_test(test_busy_port),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_udp_two_clients),
        cmocka_unit_test(test_udp_idle_flow_expires),
        cmocka_unit_test(test_stop_closes_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
