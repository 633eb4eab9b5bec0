/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for net/portholder.h: golden /proc/net/tcp, tcp6 and udp text
 * (which sockets hold a port for which asked address), and a real listener
 * and UDP socket made by the test, found with the test's own PID and comm.
 * The golden text is a little-endian host's (the kernel prints host-order
 * words). Not here: sockets of other processes or namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/portholder.h"
#include "util/cleanup.h"

/* 8080 on 127.0.0.1 listening (11111) with an accepted connection and a
 * client of it; 22 on 0.0.0.0 (22222); 8081 on 10.0.0.1 only (88888); a
 * TIME_WAIT socket on 9000 (inode 0). */
static const char tcp_table[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "11111 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "22222 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "33333 1 0000000000000000 20 4 30 10 -1\n"
    "   3: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "44444 1 0000000000000000 20 4 30 10 -1\n"
    "   4: 0100000A:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "88888 1 0000000000000000 100 0 0 10 0\n"
    "   5: 0100007F:2328 0100007F:C351 06 00000000:00000000 03:00001000 00000000     0        0 "
    "0 3 0000000000000000\n";

/* 80 on :: (55555), 8082 on ::1 (66666), 8083 on ::ffff:127.0.0.1 (77777). */
static const char tcp6_table[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 55555 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 66666 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 77777 1 0000000000000000 100 0 0 10 0\n";

/* udp: 53 on 127.0.0.53 unconnected (12121), 5000 connected (13131). */
static const char udp_table[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode ref pointer drops\n"
    "  100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 "
    "12121 2 0000000000000000 0\n"
    "  101: 0100007F:1388 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 "
    "13131 2 0000000000000000 0\n";

static const struct {
    const char *table;
    bool v6;
    int proto;
    const char *host_ip;
    uint16_t port;
    int ret;
    unsigned long inode;
} cases[] = {
    {tcp_table, false, IPPROTO_TCP, NULL, 8080, 1, 11111},
    {tcp_table, false, IPPROTO_TCP, "127.0.0.1", 8080, 1, 11111},
    {tcp_table, false, IPPROTO_TCP, "0.0.0.0", 8080, 1, 11111},
    {tcp_table, false, IPPROTO_TCP, "", 8080, 1, 11111},
    /* the listener is on 127.0.0.1 only */
    {tcp_table, false, IPPROTO_TCP, "127.0.0.2", 8080, 0, 0},
    /* 0.0.0.0 holds the port for every address */
    {tcp_table, false, IPPROTO_TCP, "192.0.2.7", 22, 1, 22222},
    {tcp_table, false, IPPROTO_TCP, "10.0.0.1", 8081, 1, 88888},
    {tcp_table, false, IPPROTO_TCP, "127.0.0.1", 8081, 0, 0},
    /* a client's port and a TIME_WAIT socket hold nothing */
    {tcp_table, false, IPPROTO_TCP, NULL, 50000, 0, 0},
    {tcp_table, false, IPPROTO_TCP, NULL, 9000, 0, 0},
    /* v4 table, v6 address */
    {tcp_table, false, IPPROTO_TCP, "::1", 8080, 0, 0},
    {tcp_table, false, IPPROTO_TCP, "::", 8080, 1, 11111},
    {tcp6_table, true, IPPROTO_TCP, "127.0.0.1", 80, 1, 55555},
    {tcp6_table, true, IPPROTO_TCP, "::1", 80, 1, 55555},
    {tcp6_table, true, IPPROTO_TCP, "::1", 8082, 1, 66666},
    {tcp6_table, true, IPPROTO_TCP, "[::1]", 8082, 1, 66666},
    {tcp6_table, true, IPPROTO_TCP, "::2", 8082, 0, 0},
    {tcp6_table, true, IPPROTO_TCP, "127.0.0.1", 8082, 0, 0},
    {tcp6_table, true, IPPROTO_TCP, NULL, 8082, 1, 66666},
    {tcp6_table, true, IPPROTO_TCP, "127.0.0.1", 8083, 1, 77777},
    {tcp6_table, true, IPPROTO_TCP, "127.0.0.2", 8083, 0, 0},
    {udp_table, false, IPPROTO_UDP, NULL, 53, 1, 12121},
    {udp_table, false, IPPROTO_UDP, "127.0.0.53", 53, 1, 12121},
    {udp_table, false, IPPROTO_UDP, "127.0.0.1", 53, 0, 0},
    {udp_table, false, IPPROTO_UDP, NULL, 5000, 1, 13131},
    /* a TCP lookup wants LISTEN */
    {udp_table, false, IPPROTO_TCP, NULL, 53, 0, 0},
    {tcp_table, false, IPPROTO_TCP, "bogus", 8080, -EINVAL, 0},
    {tcp_table, false, IPPROTO_TCP, "[::1", 8080, -EINVAL, 0},
    {"", false, IPPROTO_TCP, NULL, 8080, 0, 0},
    {"garbage\n\n: :\n", false, IPPROTO_TCP, NULL, 8080, 0, 0},
};

static void test_parse_golden(void **state)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    skip();
#endif
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        unsigned long inode = 0;
        int r = port_holder_parse(cases[i].table, cases[i].v6, cases[i].proto, cases[i].host_ip,
                                  cases[i].port, &inode);
        if (r != cases[i].ret || inode != cases[i].inode)
            fail_msg("case %zu (%s port %u): got %d inode %lu, want %d inode %lu", i,
                     cases[i].host_ip ? cases[i].host_ip : "(any)", cases[i].port, r, inode,
                     cases[i].ret, cases[i].inode);
    }
}

static void self_comm(char comm[16])
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/comm", "re");
    assert_non_null(f);
    assert_non_null(fgets(comm, 16, f));
    comm[strcspn(comm, "\n")] = '\0';
}

/* A socket of the test's own, bound to 127.0.0.1:0 (and listening when
 * TCP); *port gets its port. */
static int bound_socket(int type, uint16_t *port)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void check_own(int type, int proto)
{
    uint16_t port;
    int fd = bound_socket(type, &port);
    char want[16], comm[16] = "";
    self_comm(want);
    pid_t pid = 0;
    assert_int_equal(port_holder(proto, "127.0.0.1", port, &pid, comm), 1);
    assert_int_equal(pid, getpid());
    assert_string_equal(comm, want);
    pid = 0;
    assert_int_equal(port_holder(proto, NULL, port, &pid, comm), 1);
    assert_int_equal(pid, getpid());
    /* the socket is on 127.0.0.1 only */
    assert_int_equal(port_holder(proto, "127.0.0.2", port, &pid, comm), 0);
    close(fd);
    assert_int_equal(port_holder(proto, "127.0.0.1", port, &pid, comm), 0);
}

static void test_own_tcp_listener(void **state)
{
    check_own(SOCK_STREAM, IPPROTO_TCP);
}

static void test_own_udp_socket(void **state)
{
    check_own(SOCK_DGRAM, IPPROTO_UDP);
}

static void test_bad_arguments(void **state)
{
    pid_t pid;
    char comm[16];
    assert_int_equal(port_holder(IPPROTO_SCTP, NULL, 80, &pid, comm), -EINVAL);
    assert_int_equal(port_holder(IPPROTO_TCP, "no.such", 80, &pid, comm), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_golden),
        cmocka_unit_test(test_own_tcp_listener),
        cmocka_unit_test(test_own_udp_socket),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
