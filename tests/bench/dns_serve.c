/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark harness (not a test): serves DNS on 127.0.0.1 with berth's
 * embedded server (engine/supervise/sv_dns.h) and a fixed lookup ("web"
 * has 10.0.0.2), or, as the reference, a plain libuv UDP echo loop on the
 * same kind of socket (recvmmsg in, sendmmsg out, as the server does). Prints the UDP port it
 * bound, then serves until SIGTERM or SIGINT. Usage: dns_serve dns|echo. Not here: the client
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

/* The echo loop: what it receives in one recvmmsg batch goes back with
 * one sendmmsg, as the DNS server sends its answers. */
#define ECHO_BATCH 16
struct echo {
    uv_udp_t h;
    char buf[ECHO_BATCH * 65536];
    struct mmsghdr msg[ECHO_BATCH];
    struct iovec iov[ECHO_BATCH];
    struct sockaddr_in to[ECHO_BATCH];
    unsigned n;
};

static void echo_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    struct echo *e = h->data;
    *b = uv_buf_init(e->buf, sizeof e->buf);
}

static void echo_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags)
{
    struct echo *echo_out = h->data;
    if (n == 0 && !from && (flags & UV_UDP_MMSG_FREE) && echo_out->n) {
        uv_os_fd_t fd;
        uv_fileno((uv_handle_t *)h, &fd);
        (void)sendmmsg(fd, echo_out->msg, echo_out->n, MSG_DONTWAIT);
        echo_out->n = 0;
        return;
    }
    if (n <= 0 || !from || from->sa_family != AF_INET)
        return;
    if (!(flags & UV_UDP_MMSG_CHUNK) || echo_out->n == ECHO_BATCH) {
        uv_buf_t ob = uv_buf_init(b->base, (unsigned)n);
        (void)uv_udp_try_send(h, &ob, 1, from);
        return;
    }
    unsigned i = echo_out->n++;
    memcpy(&echo_out->to[i], from, sizeof echo_out->to[i]);
    echo_out->iov[i] = (struct iovec){b->base, (size_t)n};
    echo_out->msg[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &echo_out->to[i],
                                                    .msg_namelen = sizeof echo_out->to[i],
                                                    .msg_iov = &echo_out->iov[i],
                                                    .msg_iovlen = 1}};
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
    struct echo *echo = calloc(1, sizeof *echo);
    if (!strcmp(argv[1], "dns")) {
        int tfd = bound_socket(SOCK_STREAM, &tport);
        struct sv_dns_options o = {.lookup = lookup};
        struct berr e = BERR_INIT;
        if (sv_dns_new(loop, &o, &d, &e) < 0 || sv_dns_listen(d, ufd, tfd, NULL, NULL, &e) < 0) {
            fprintf(stderr, "dns_serve: %s\n", e.msg);
            return 1;
        }
    } else {
        uv_udp_init_ex(loop, &echo->h, AF_UNSPEC | UV_UDP_RECVMMSG);
        echo->h.data = echo;
        uv_udp_open(&echo->h, ufd);
        uv_udp_recv_start(&echo->h, echo_alloc, echo_recv);
    }
    printf("%d\n", port);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    if (d)
        sv_dns_free(d);
    else
        uv_close((uv_handle_t *)&echo->h, NULL);
    uv_close((uv_handle_t *)&sterm, NULL);
    uv_close((uv_handle_t *)&sint, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    free(echo);
    return uv_loop_close(loop) == 0 ? 0 : 1;
}
