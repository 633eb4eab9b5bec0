/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark client (not a test): floods a DNS server with A queries for
 * one name over UDP, keeping a bounded window of queries outstanding (a
 * lost answer is given up after 100 ms), and prints the replies received
 * per second and, of them, the NOERROR answers (an echo server's replies
 * are not answers). Plain libc (sendmmsg/recvmmsg), so it can be built static and
 * run inside a container. Usage: dns_flood ADDR PORT NAME SECONDS.
 * Not here: the server (dns_serve.c) and the comparison (bench_dns.sh). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 128
#define BATCH  32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An A query for name (dotted) into b; its length, or 0 if too long. */
static size_t mkquery(uint8_t *b, size_t cap, const char *name)
{
    size_t p = 12, nl = strlen(name);
    if (nl + 12 + 2 + 4 > cap)
        return 0;
    memset(b, 0, 12);
    b[2] = 0x01; /* RD */
    b[5] = 1;    /* one question */
    for (const char *s = name; *s;) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        if (l == 0 || l > 63)
            return 0;
        b[p++] = (uint8_t)l;
        memcpy(b + p, s, l);
        p += l;
        s += l + (dot ? 1 : 0);
    }
    b[p++] = 0;
    b[p++] = 0;
    b[p++] = 1; /* A */
    b[p++] = 0;
    b[p++] = 1; /* IN */
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: dns_flood ADDR PORT NAME SECONDS\n");
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "dns_flood: %s: not an IPv4 address\n", argv[1]);
        return 2;
    }
    double secs = atof(argv[4]);
    uint8_t q[BATCH][300];
    size_t qlen = mkquery(q[0], sizeof q[0], argv[3]);
    if (!qlen) {
        fprintf(stderr, "dns_flood: %s: not a name\n", argv[3]);
        return 2;
    }
    for (int i = 1; i < BATCH; i++)
        memcpy(q[i], q[0], qlen);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("dns_flood: socket");
        return 1;
    }
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct mmsghdr sm[BATCH], rm[BATCH];
    struct iovec siov[BATCH], riov[BATCH];
    static uint8_t rbuf[BATCH][1500];
    for (int i = 0; i < BATCH; i++) {
        siov[i] = (struct iovec){q[i], qlen};
        riov[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
        sm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &siov[i], .msg_iovlen = 1}};
        rm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &riov[i], .msg_iovlen = 1}};
    }
    uint16_t id = 0;
    long replies = 0, answers = 0, lost = 0, outstanding = 0;
    double start = now_s(), end = start + secs, last = start;
    while (now_s() < end) {
        while (outstanding + BATCH <= WINDOW) {
            for (int i = 0; i < BATCH; i++) {
                q[i][0] = (uint8_t)(id >> 8);
                q[i][1] = (uint8_t)id++;
            }
            int n = sendmmsg(fd, sm, BATCH, 0);
            if (n <= 0)
                break;
            outstanding += n;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            if (now_s() - last >= 0.1) { /* answers lost: give them up */
                lost += outstanding;
                outstanding = 0;
            }
            continue;
        }
        int n = recvmmsg(fd, rm, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            replies++;
            if (rm[i].msg_len >= 12 && (rbuf[i][2] & 0x80) && (rbuf[i][3] & 0x0f) == 0)
                answers++;
        }
        if (n > 0) {
            outstanding -= n;
            if (outstanding < 0)
                outstanding = 0;
            last = now_s();
        }
    }
    double took = now_s() - start;
    printf("%.0f %.0f replies/s, NOERROR answers/s (%ld replies, %ld answers, %ld lost, %.1f s)\n",
           (double)replies / took, (double)answers / took, replies, answers, lost, took);
    return replies ? 0 : 1;
}
