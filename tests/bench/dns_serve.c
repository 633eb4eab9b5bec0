/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark harness (not a test): serves DNS on 127.0.0.1 with berth's
 * embedded server (engine/supervise/sv_dns.h) and a fixed lookup ("web"
 * has 10.0.0.2), or, as the reference, a plain libuv UDP echo loop on the
 * same kind of socket. Prints the UDP port it bound, then serves until
 * SIGTERM or SIGINT. Usage: dns_serve dns|echo. Not here: the client
 * (dns_flood.c) and the figures (bench_dns.sh). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "engine/supervise/sv_dns.h"

static int lookup(void *owner, void *asker, const char *name, int family, uint8_t *out, size_t cap)
{
    if (strcmp(name, "web"))
        return -ENOENT;
    if (family != AF_INET || cap < 1)
        return 0;
    memcpy(out, (uint8_t[]){10, 0, 0, 2}, 4);
    return 1;
}

static int bound_socket(int type, int *port)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        perror("dns_serve: socket");
        exit(1);
    }
    if (type == SOCK_STREAM && listen(fd, 16) < 0) {
        perror("dns_serve: listen");
        exit(1);
    }
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    *port = ntohs(sa.sin_port);
    return fd;
}

static char echo_buf[16 * 65536];

static void echo_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    *b = uv_buf_init(echo_buf, sizeof echo_buf);
}

static void echo_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags)
{
    if (n <= 0 || !from)
        return;
    uv_buf_t ob = uv_buf_init(b->base, (unsigned)n);
    (void)uv_udp_try_send(h, &ob, 1, from);
}

static void on_signal(uv_signal_t *s, int sig)
{
    uv_stop(s->loop);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "dns") && strcmp(argv[1], "echo"))) {
        fprintf(stderr, "usage: dns_serve dns|echo\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_signal_t sterm, sint;
    uv_signal_init(loop, &sterm);
    uv_signal_init(loop, &sint);
    uv_signal_start(&sterm, on_signal, SIGTERM);
    uv_signal_start(&sint, on_signal, SIGINT);
    int port, tport;
    int ufd = bound_socket(SOCK_DGRAM, &port);
    struct sv_dns *d = NULL;
    uv_udp_t echo;
    if (!strcmp(argv[1], "dns")) {
        int tfd = bound_socket(SOCK_STREAM, &tport);
        struct sv_dns_options o = {.lookup = lookup};
        struct berr e = BERR_INIT;
        if (sv_dns_new(loop, &o, &d, &e) < 0 || sv_dns_listen(d, ufd, tfd, NULL, &e) < 0) {
            fprintf(stderr, "dns_serve: %s\n", e.msg);
            return 1;
        }
    } else {
        uv_udp_init_ex(loop, &echo, AF_UNSPEC | UV_UDP_RECVMMSG);
        uv_udp_open(&echo, ufd);
        uv_udp_recv_start(&echo, echo_alloc, echo_recv);
    }
    printf("%d\n", port);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    if (d)
        sv_dns_free(d);
    else
        uv_close((uv_handle_t *)&echo, NULL);
    uv_close((uv_handle_t *)&sterm, NULL);
    uv_close((uv_handle_t *)&sint, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop) == 0 ? 0 : 1;
}
