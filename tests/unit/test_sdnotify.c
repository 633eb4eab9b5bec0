/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for util/sdnotify: $NOTIFY_SOCKET addresses (paths and
 * abstract names), the datagram, and the variable's removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/sdnotify.h"

static void test_parse_path(void **state)
{
    struct sockaddr_un a;
    socklen_t len = 0;
    struct berr e = BERR_INIT;
    assert_int_equal(sdnotify_parse_addr("/run/systemd/notify", &a, &len, &e), 0);
    assert_int_equal(a.sun_family, AF_UNIX);
    assert_string_equal(a.sun_path, "/run/systemd/notify");
    assert_int_equal(len,
                     offsetof(struct sockaddr_un, sun_path) + strlen("/run/systemd/notify") + 1);
}

static void test_parse_abstract(void **state)
{
    struct sockaddr_un a;
    socklen_t len = 0;
    struct berr e = BERR_INIT;
    assert_int_equal(sdnotify_parse_addr("@sd/x", &a, &len, &e), 0);
    assert_int_equal(a.sun_path[0], '\0');
    assert_memory_equal(a.sun_path + 1, "sd/x", 4);
    /* counted by length, no terminating NUL */
    assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 5);
}

static void test_parse_rejects(void **state)
{
    struct sockaddr_un a;
    socklen_t len = 0;
    struct berr e = BERR_INIT;
    const char *bad[] = {"", "relative/sock", "@", "vsock:2:1234"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_true(sdnotify_parse_addr(bad[i], &a, &len, &e) < 0);
        assert_non_null(e.msg);
        berr_clear(&e);
    }
    char longp[sizeof a.sun_path + 2];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(sdnotify_parse_addr(longp, &a, &len, &e), -ENAMETOOLONG);
    berr_clear(&e);
    /* exactly sun_path long: fits as an abstract name, not as a path */
    char fit[sizeof a.sun_path + 1];
    memset(fit, 'y', sizeof fit - 1);
    fit[sizeof fit - 1] = '\0';
    fit[0] = '@';
    assert_int_equal(sdnotify_parse_addr(fit, &a, &len, &e), 0);
    fit[0] = '/';
    assert_int_equal(sdnotify_parse_addr(fit, &a, &len, &e), -ENAMETOOLONG);
    berr_clear(&e);
}

/* The whole way: from the environment to a listening socket, and the
 * variable gone afterwards. */
static void test_send_abstract(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "@berth-test-sdnotify-%d", (int)getpid());
    struct sockaddr_un a;
    socklen_t len;
    struct berr e = BERR_INIT;
    assert_int_equal(sdnotify_parse_addr(name, &a, &len, &e), 0);
    int srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(srv >= 0);
    assert_int_equal(bind(srv, (struct sockaddr *)&a, len), 0);

    setenv("NOTIFY_SOCKET", name, 1);
    struct sdnotify n;
    assert_int_equal(sdnotify_from_env(&n, &e), 0);
    assert_null(getenv("NOTIFY_SOCKET"));
    assert_true(sdnotify_enabled(&n));
    assert_int_equal(sdnotify_sendf(&n, "STATUS=%d/%d running", 1, 2), 0);
    assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
    char buf[128];
    ssize_t r = recv(srv, buf, sizeof buf - 1, 0);
    assert_true(r > 0);
    buf[r] = '\0';
    assert_string_equal(buf, "STATUS=1/2 running");
    r = recv(srv, buf, sizeof buf - 1, 0);
    assert_true(r > 0);
    buf[r] = '\0';
    assert_string_equal(buf, "READY=1");
    sdnotify_close(&n);
    assert_false(sdnotify_enabled(&n));
    close(srv);
}

static void test_unset_and_bad(void **state)
{
    struct sdnotify n;
    struct berr e = BERR_INIT;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdnotify_from_env(&n, &e), 0);
    assert_false(sdnotify_enabled(&n));
    assert_int_equal(sdnotify_send(&n, "READY=1"), 0); /* nobody to tell */
    setenv("NOTIFY_SOCKET", "not-a-path", 1);
    assert_true(sdnotify_from_env(&n, &e) < 0);
    assert_false(sdnotify_enabled(&n));
    assert_null(getenv("NOTIFY_SOCKET")); /* removed even so */
    berr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_path),    cmocka_unit_test(test_parse_abstract),
        cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_send_abstract),
        cmocka_unit_test(test_unset_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
