/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for net/portbind.h: the bind test `up` runs before anything
 * is made agrees with the supervisor's bind (a port the test holds, tcp
 * and udp, is taken; a closed one is free again), and the one message a
 * taken port gives, naming the address, the port, the proto and the test
 * itself as the holder. Only 127.0.0.1 is bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/portbind.h"
#include "util/cleanup.h"

/* A socket of the test's on 127.0.0.1 (a port the kernel picks), bound as
 * the supervisor binds; its port in *port. */
static int hold(int proto, uint16_t *port)
{
    struct sockaddr_storage a;
    assert_int_equal(port_addr_parse("127.0.0.1", 0, &a), 0);
    int fd = port_bind(proto, &a);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void busy_then_free(int proto)
{
    uint16_t port;
    int fd = hold(proto, &port);
    assert_int_equal(port_try(proto, "127.0.0.1", port), -EADDRINUSE);
    assert_int_equal(port_try(proto, NULL, port), -EADDRINUSE); /* 0.0.0.0 takes it too */
    _cleanup_berr_ struct berr e = BERR_INIT;
    assert_int_equal(port_bind_error(&e, -EADDRINUSE, "web", proto, "127.0.0.1", port),
                     -EADDRINUSE);
    char want[128];
    snprintf(want, sizeof want,
             "service \"web\": host port 127.0.0.1:%u/%s is already in use by PID %d (",
             (unsigned)port, port_proto_name(proto), (int)getpid());
    if (strncmp(e.msg, want, strlen(want)) != 0)
        fail_msg("got \"%s\", want it to start \"%s\"", e.msg, want);
    close(fd);
    assert_int_equal(port_try(proto, "127.0.0.1", port), 0);
}

static void test_tcp(void **state)
{
    (void)state;
    busy_then_free(IPPROTO_TCP);
}

static void test_udp(void **state)
{
    (void)state;
    busy_then_free(IPPROTO_UDP);
}

static void test_text(void **state)
{
    (void)state;
    char b[PORT_TEXT_MAX];
    assert_string_equal(port_text(b, IPPROTO_TCP, NULL, 8080, 0), "0.0.0.0:8080/tcp");
    assert_string_equal(port_text(b, IPPROTO_UDP, "::1", 53, 53), "[::1]:53/udp");
    assert_string_equal(port_text(b, IPPROTO_UDP, "[::1]", 53, 0), "[::1]:53/udp");
    assert_string_equal(port_text(b, IPPROTO_TCP, "10.0.0.1", 8000, 8010),
                        "10.0.0.1:8000-8010/tcp");
    _cleanup_berr_ struct berr e = BERR_INIT;
    assert_int_equal(port_bind_error(&e, -EACCES, "db", IPPROTO_TCP, NULL, 80), -EACCES);
    assert_string_equal(e.msg,
                        "service \"db\": binding host port 0.0.0.0:80/tcp: Permission denied");
    assert_int_equal(port_try(IPPROTO_TCP, "no-address", 80), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
