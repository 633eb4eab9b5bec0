/* SPDX-License-Identifier: Apache-2.0 */
/* The stream benchmark for bench_proxy.sh: one TCP stream of N bytes from a
 * client to a sink over loopback, straight to the sink and through the
 * published-port proxy (engine/supervise/sv_proxy.h, its loop in a thread
 * of its own), in alternating rounds; prints each round's MB/s and the
 * ratio of the medians. A benchmark, not a test: it checks nothing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "engine/supervise/sv_proxy.h"

#define BUF (256 * 1024)

static int sink_fd;
static uint16_t sink_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Accepts connections forever; reads each to its end. */
static void *sink_main(void *arg)
{
    char *buf = malloc(BUF);
    for (;;) {
        int c = accept(sink_fd, NULL, NULL);
        if (c < 0)
            continue;
        while (read(c, buf, BUF) > 0)
            ;
        close(c);
    }
    return NULL;
}

static void *loop_main(void *arg)
{
    uv_run(arg, UV_RUN_DEFAULT);
    return NULL;
}

/* Seconds to send n bytes to port and see the far end close. */
static double stream(uint16_t port, size_t n)
{
    static char buf[BUF];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        exit(1);
    }
    double t0 = now_s();
    for (size_t sent = 0; sent < n;) {
        ssize_t w = write(fd, buf, n - sent < BUF ? n - sent : BUF);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    while (read(fd, buf, BUF) > 0) /* the sink's close, through the proxy too */
        ;
    double t = now_s() - t0;
    close(fd);
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    size_t n = mib << 20;
    sink_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(sink_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(sink_fd, 16) < 0 ||
        getsockname(sink_fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("sink");
        return 1;
    }
    sink_port = ntohs(sa.sin_port);
    pthread_t t;
    pthread_create(&t, NULL, sink_main, NULL);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct sv_proxy_spec s = {.proto = IPPROTO_TCP,
                              .host_ip = "127.0.0.1",
                              .ctr_addr = "127.0.0.1",
                              .ctr_port = sink_port,
                              .service = "bench"};
    struct sv_proxy *p;
    struct berr e = BERR_INIT;
    if (sv_proxy_start(&loop, &s, &p, &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    pthread_create(&t, NULL, loop_main, &loop);

    double direct[64], proxied[64];
    if (rounds > 64)
        rounds = 64;
    for (int i = 0; i < rounds; i++) {
        direct[i] = stream(sink_port, n);
        proxied[i] = stream(sv_proxy_port(p), n);
        printf("round %d: direct %.0f MB/s, proxy %.0f MB/s\n", i + 1, (double)n / 1e6 / direct[i],
               (double)n / 1e6 / proxied[i]);
    }
    qsort(direct, (size_t)rounds, sizeof(double), cmp);
    qsort(proxied, (size_t)rounds, sizeof(double), cmp);
    double d = direct[rounds / 2], q = proxied[rounds / 2];
    printf("%zu MiB x %d rounds, medians: direct %.0f MB/s, proxy %.0f MB/s, proxy/direct %.2f\n",
           mib, rounds, (double)n / 1e6 / d, (double)n / 1e6 / q, d / q);
    return 0;
}
