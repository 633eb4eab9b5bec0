/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the supervisor's event stream (engine/supervise/sv_events.c)
 * over a real control socket, with no containers: a subscriber gets the
 * ring's replay and the new events of its services, its stream ends with
 * "done" when the supervisor ends, one that never reads is dropped once
 * it is SV_EVENTS_QUEUE_MAX behind, without the loop waiting for it, and a
 * connection served from a socketpair (sv_serve_fd) holds the supervisor
 * until it subscribes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/supervise/control.h"
#include "engine/supervise/sv_internal.h"
#include "scratch.h"
#include "util/cleanup.h"

struct fixture {
    char *dir;
    struct supervisor *sv;
    int holder; /* a connection with no request: it keeps the supervisor busy */
};

static void spin(struct supervisor *sv);

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    f->dir = scratch_dir("sv_events");
    struct sv_options o = {
        .root = f->dir,
        .runroot = f->dir,
        .project = "evu",
        .events_fd = -1,
        .stop_timeout_ns = -1,
    };
    f->sv = sv_new(NULL, &o);
    struct berr e = BERR_INIT;
    assert_int_equal(sv_listen(f->sv, &e), 0);
    f->holder = ctl_connect(f->dir, "evu", &e);
    assert_true(f->holder >= 0);
    for (int i = 0; i < 200 && !f->sv->clients; i++) {
        spin(f->sv);
        usleep(1000);
    }
    assert_non_null(f->sv->clients);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->holder >= 0)
        close(f->holder);
    sv_free(f->sv);
    scratch_remove(f->dir);
    free(f);
    return 0;
}

static void spin(struct supervisor *sv)
{
    for (int i = 0; i < 20; i++)
        uv_run(&sv->loop, UV_RUN_NOWAIT);
}

static size_t subscribers(struct supervisor *sv)
{
    size_t n = 0;
    for (struct sv_client *cl = sv->clients; cl; cl = cl->next)
        n += cl->events && !cl->closing;
    return n;
}

/* A client subscribed with req (a JSON line); the supervisor has taken it. */
static int subscribe(struct fixture *f, const char *req)
{
    struct berr e = BERR_INIT;
    int fd = ctl_connect(f->dir, "evu", &e);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t before = subscribers(f->sv);
    for (int i = 0; i < 200 && subscribers(f->sv) == before; i++) {
        spin(f->sv);
        usleep(1000);
    }
    assert_int_equal(subscribers(f->sv), before + 1);
    return fd;
}

static void publish(struct supervisor *sv, int64_t t, const char *service, const char *action,
                    const char *detail)
{
    struct ev e = {.time_ns = t,
                   .type = EV_CONTAINER,
                   .action = action,
                   .id = "c1",
                   .service = service,
                   .detail = detail};
    sv_publish(sv, &e);
}

/* Everything the supervisor has sent fd so far (it must have closed it, or
 * be done within 2 s), as text. */
static char *drain(struct fixture *f, int fd, bool until_eof)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    for (int idle = 0; idle < 200;) {
        spin(f->sv);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10) <= 0) {
            idle++;
            if (!until_eof && idle > 20)
                break;
            continue;
        }
        if (len + 4096 > cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_replay_filter_and_end(void **state)
{
    struct fixture *f = *state;
    publish(f->sv, 1000, "web", "create", NULL);
    publish(f->sv, 2000, "db", "create", NULL);
    publish(f->sv, 3000, "web", "start", NULL);
    int fd = subscribe(f, "{\"op\":\"events\",\"since_ns\":2000,\"services\":[\"web\"]}\n");
    publish(f->sv, 4000, "db", "die", NULL);
    publish(f->sv, 5000, "web", "die", NULL);
    /* the last request's connection goes: the supervisor, with nothing
     * else to do, ends, and the stream says so */
    close(f->holder);
    f->holder = -1;
    _cleanup_free_ char *got = drain(f, fd, true);
    close(fd);
    /* replayed from 2000 (web's start only), then web's die, then done */
    assert_int_equal(count(got, "\n"), 3);
    assert_non_null(strstr(got, "\"action\":\"start\""));
    assert_null(strstr(got, "\"action\":\"create\""));
    assert_non_null(strstr(got, "\"action\":\"die\""));
    assert_null(strstr(got, "\"service\":\"db\""));
    assert_non_null(strstr(got, "{\"event\":\"done\",\"ok\":true}\n"));
    assert_true(strstr(got, "\"start\"") < strstr(got, "\"die\""));
}

static void test_no_since_no_replay(void **state)
{
    struct fixture *f = *state;
    publish(f->sv, 1000, "web", "create", NULL);
    int fd = subscribe(f, "{\"op\":\"events\"}\n");
    publish(f->sv, 2000, "web", "start", NULL);
    _cleanup_free_ char *got = drain(f, fd, false);
    close(fd);
    assert_null(strstr(got, "\"create\""));
    assert_int_equal(count(got, "\"action\":\"start\""), 1);
}

static void test_until_past_ends_after_replay(void **state)
{
    struct fixture *f = *state;
    publish(f->sv, 1000, "web", "create", NULL);
    publish(f->sv, 2000, "web", "start", NULL);
    publish(f->sv, 3000, "web", "die", NULL);
    /* the stream ends at once: connect and read, no subscriber to wait for */
    const char *req = "{\"op\":\"events\",\"since_ns\":0,\"until_ns\":2000}\n";
    struct berr e = BERR_INIT;
    int fd = ctl_connect(f->dir, "evu", &e);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    _cleanup_free_ char *got = drain(f, fd, true);
    close(fd);
    assert_int_equal(count(got, "\n"), 3);
    assert_non_null(strstr(got, "\"start\""));
    assert_null(strstr(got, "\"die\""));
    assert_non_null(strstr(got, "{\"event\":\"done\",\"ok\":true}\n"));
}

static void test_never_reading_client_is_dropped(void **state)
{
    struct fixture *f = *state;
    int slow = subscribe(f, "{\"op\":\"events\"}\n");
    int fast = subscribe(f, "{\"op\":\"events\"}\n");
    char *detail = xmalloc(8192);
    memset(detail, 'x', 8191);
    detail[8191] = '\0';
    /* 2 MB of events: far past the kernel's socket buffer and the bound;
     * the fast client reads along, the slow one never does */
    size_t cap = 1 << 16, len = 0;
    char *fast_got = xmalloc(cap);
    for (int i = 0; i < 256; i++) {
        publish(f->sv, 1000 + i, "web", "die", detail);
        spin(f->sv);
        ssize_t n;
        while ((n = recv(fast, fast_got + len, cap - len, MSG_DONTWAIT)) > 0) {
            len += (size_t)n;
            if (cap - len < 65536)
                fast_got = xrealloc(fast_got, cap *= 2);
        }
    }
    free(detail);
    /* the slow one is gone, the fast one still subscribed */
    assert_int_equal(subscribers(f->sv), 1);
    /* what the slow one gets is what was sent before the drop, then EOF,
     * with no "done": its stream did not end with the supervisor */
    _cleanup_free_ char *got = drain(f, slow, true);
    close(slow);
    assert_true(count(got, "\n") < 256);
    assert_null(strstr(got, "\"done\""));
    close(fast);
    free(fast_got);
}

/* A connection the supervisor's starter made before it ran (sv_serve_fd,
 * as `up --wait` does with a new detached supervisor): with no other
 * client and nothing to run, it keeps the supervisor from ending until it
 * asks for the stream, and then gets everything since its time. */
static void test_served_connection_keeps_it_until_subscribed(void **state)
{
    struct fixture *f = *state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    struct berr e = BERR_INIT;
    assert_int_equal(sv_serve_fd(f->sv, sp[1], &e), 0);
    publish(f->sv, 1000, "job", "start", NULL);
    publish(f->sv, 2000, "job", "die", NULL);
    close(f->holder);
    f->holder = -1;
    spin(f->sv);
    sv_maybe_quit(f->sv);
    assert_false(f->sv->quitting);
    const char *req = "{\"op\":\"events\",\"since_ns\":1000}\n";
    assert_int_equal(write(sp[0], req, strlen(req)), (ssize_t)strlen(req));
    _cleanup_free_ char *got = drain(f, sp[0], true);
    close(sp[0]);
    /* the replay, then the end: as a stream it no longer holds it */
    assert_true(f->sv->quitting);
    assert_int_equal(count(got, "\n"), 3);
    assert_true(strstr(got, "\"start\"") && strstr(got, "\"die\""));
    assert_non_null(strstr(got, "{\"event\":\"done\",\"ok\":true}\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_filter_and_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_since_no_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_until_past_ends_after_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_reading_client_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_served_connection_keeps_it_until_subscribed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
