/* SPDX-License-Identifier: Apache-2.0 */
/* The TCP stream tool of bench_net.sh (a benchmark, not a test): `sink
 * PORT` accepts connections one after another and reads each to its end,
 * then closes it; `send ADDR PORT MIB` connects, writes MIB MiB of zeros,
 * shuts its side down, waits for the sink to close (so every byte has been
 * read) and prints the MB/s. Plain libc, so it can be built static and run
 * inside a container. Not here: the containers, namespaces and figures
 * (bench_net.sh). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)

static char buf[BUF];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sink(int port)
{
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0) {
        perror("net_stream: sink");
        return 1;
    }
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        while (read(c, buf, sizeof(buf)) > 0)
            ;
        close(c);
    }
}

static int send_to(const char *addr, int port, long mib)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
        connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("net_stream: connect");
        return 1;
    }
    double t0 = now_s();
    long long left = (long long)mib << 20;
    while (left > 0) {
        ssize_t n = write(s, buf, left < BUF ? (size_t)left : BUF);
        if (n <= 0) {
            perror("net_stream: write");
            return 1;
        }
        left -= n;
    }
    shutdown(s, SHUT_WR);
    while (read(s, buf, sizeof(buf)) > 0)
        ;
    printf("%.0f\n", (double)mib * 1048576.0 / 1e6 / (now_s() - t0));
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "sink") == 0)
        return sink(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "send") == 0)
        return send_to(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: net_stream sink PORT | send ADDR PORT MIB\n");
    return 2;
}
