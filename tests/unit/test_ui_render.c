/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cmd/ui/render: one recorded sequence of events (create,
 * start, health_status, die with exitCode, restart, a layer's progress
 * with a total, an output line, a project error) rendered in the plain,
 * tty and json modes, each compared with the text written out here, and
 * the attached view's rule (only stops and errors are progress lines),
 * and a warning in every mode.
 * Not here: the engine's emitting (integration tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ui/render.h"

#define T0 1000000000000000000LL /* 2001-09-09T01:46:40Z */
#define MS 1000000LL

struct capture {
    char *out, *err;
    size_t out_len, err_len;
};

static void play(struct ui_render *r)
{
    struct ev_sink s = ui_render_sink(r);
    struct ev e = {.time_ns = T0,
                   .type = EV_CONTAINER,
                   .action = "create",
                   .id = "c0ffee",
                   .service = "web",
                   .name = "proj-web-1",
                   .status = "Created"};
    ev_attr_add(&e, "name", "proj-web-1");
    ev_attr_add(&e, "image", "busybox");
    ev_emit(&s, &e);

    e.time_ns = T0 + 300 * MS;
    e.action = "start";
    e.status = "Started";
    ev_emit(&s, &e);

    struct ev_log l = {.service = "web",
                       .name = "proj-web-1",
                       .log_name = "web-1",
                       .stream = 1,
                       .data = "hello",
                       .len = 5,
                       .width = 6,
                       .index = 1};
    ev_emit_log(&s, &l);

    struct ev h = e;
    h.time_ns = T0 + 1200 * MS;
    h.action = "health_status";
    h.status = "Healthy";
    ev_attr_add(&h, "health_status", "healthy");
    ev_emit(&s, &h);

    struct ev d = e;
    d.time_ns = T0 + 2000 * MS;
    d.action = "die";
    d.status = NULL;
    ev_attr_add(&d, "exitCode", "1");
    ev_emit(&s, &d);

    struct ev rs = e;
    rs.time_ns = T0 + 2100 * MS;
    rs.action = "restart";
    rs.status = NULL;
    ev_emit(&s, &rs);

    struct ev layer = {.time_ns = T0 + 2200 * MS,
                       .type = EV_IMAGE,
                       .action = "layer",
                       .id = "a1b2c3d4e5f6",
                       .name = "a1b2c3d4e5f6",
                       .status = "Downloading",
                       .current = 1500000,
                       .total = 3000000};
    ev_emit(&s, &layer);
    layer.time_ns = T0 + 2700 * MS;
    layer.status = "Pull complete";
    layer.current = 3000000;
    ev_emit(&s, &layer);

    struct ev err = {.time_ns = T0 + 3000 * MS,
                     .type = EV_PROJECT,
                     .action = "error",
                     .name = "proj",
                     .detail = "container proj-web-1: boom"};
    ev_emit(&s, &err);
}

static void render(enum ui_progress mode, bool color, bool logs_view, struct capture *c)
{
    memset(c, 0, sizeof *c);
    FILE *out = open_memstream(&c->out, &c->out_len);
    FILE *err = open_memstream(&c->err, &c->err_len);
    assert_non_null(out);
    assert_non_null(err);
    struct ui_render_opts o = {.mode = mode, .color = color, .out = out, .err = err};
    struct ui_render *r = ui_render_new(&o);
    ui_render_logs_view(r, logs_view);
    play(r);
    ui_render_free(r);
    fclose(out);
    fclose(err);
}

static void capture_free(struct capture *c)
{
    free(c->out);
    free(c->err);
}

static void test_plain(void **state)
{
    (void)state;
    struct capture c;
    render(UI_PROGRESS_PLAIN, false, false, &c);
    assert_string_equal(c.err, " Container proj-web-1  Created\n"
                               " Container proj-web-1  Started\n"
                               " Container proj-web-1  Healthy\n"
                               " Image a1b2c3d4e5f6  Downloading\n"
                               " Image a1b2c3d4e5f6  Pull complete\n"
                               "berth: container proj-web-1: boom\n");
    assert_string_equal(c.out, "web-1   | hello\n"
                               "proj-web-1 exited with code 1\n");
    capture_free(&c);
}

/* Attached, as `up` shows it today: the logs speak for starts and health;
 * log prefixes coloured by the container's index. */
static void test_plain_logs_view(void **state)
{
    (void)state;
    struct capture c;
    render(UI_PROGRESS_PLAIN, true, true, &c);
    assert_string_equal(c.err, " Container proj-web-1  Created\n"
                               " Image a1b2c3d4e5f6  Downloading\n"
                               " Image a1b2c3d4e5f6  Pull complete\n"
                               "berth: container proj-web-1: boom\n");
    assert_string_equal(c.out, "\033[33mweb-1   |\033[0m hello\n"
                               "proj-web-1 exited with code 1\n");
    capture_free(&c);
}

static void test_tty(void **state)
{
    (void)state;
    struct capture c;
    render(UI_PROGRESS_TTY, true, false, &c);
    /* the block is rewritten in place (cursor up) with each event; what
     * is printed below it (an output line, an exit) ends it, and the next
     * event starts another; the spinner turns once per redraw */
    assert_string_equal(
        c.err, "\r\033[2K \033[32m✔\033[0m Container proj-web-1  Created   0.0s\n"
               "\033[1A"
               "\r\033[2K \033[32m✔\033[0m Container proj-web-1  Started   0.3s\n"
               "\r\033[2K \033[32m✔\033[0m Container proj-web-1  Healthy   0.0s\n"
               "\r\033[2K \033[34m⠸\033[0m Image a1b2c3d4e5f6  Downloading [==========>         ] "
               "1.5MB/3MB   0.0s\n"
               "\033[1A"
               "\r\033[2K \033[32m✔\033[0m Image a1b2c3d4e5f6  Pull complete   0.5s\n"
               "berth: container proj-web-1: boom\n");
    assert_string_equal(c.out, "\033[33mweb-1   |\033[0m hello\n"
                               "proj-web-1 exited with code 1\n");
    capture_free(&c);
}

static void test_json(void **state)
{
    (void)state;
    struct capture c;
    render(UI_PROGRESS_JSON, true, false, &c);
    assert_string_equal(c.err, "");
#define CTR                                                                                        \
    "\"id\":\"c0ffee\",\"service\":\"web\",\"attributes\":{\"name\":\"proj-web-1\","               \
    "\"image\":\"busybox\""
    assert_string_equal(
        c.out,
        "{\"time\":\"2001-09-09T01:46:40.000000000Z\",\"type\":\"container\",\"action\":"
        "\"create\"," CTR
        "},\"name\":\"proj-web-1\",\"status\":\"Created\",\"time_ns\":1000000000000000000}\n"
        "{\"time\":\"2001-09-09T01:46:40.300000000Z\",\"type\":\"container\",\"action\":"
        "\"start\"," CTR
        "},\"name\":\"proj-web-1\",\"status\":\"Started\",\"time_ns\":1000000000300000000}\n"
        "{\"type\":\"log\",\"service\":\"web\",\"name\":\"proj-web-1\",\"log_name\":\"web-1\","
        "\"stream\":\"stdout\",\"line\":\"hello\"}\n"
        "{\"time\":\"2001-09-09T01:46:41.200000000Z\",\"type\":\"container\","
        "\"action\":\"health_status\"," CTR
        ",\"health_status\":\"healthy\"},\"name\":\"proj-web-1\","
        "\"status\":\"Healthy\",\"time_ns\":1000000001200000000}\n"
        "{\"time\":\"2001-09-09T01:46:42.000000000Z\",\"type\":\"container\",\"action\":"
        "\"die\"," CTR
        ",\"exitCode\":\"1\"},\"name\":\"proj-web-1\",\"time_ns\":1000000002000000000}\n"
        "{\"time\":\"2001-09-09T01:46:42.100000000Z\",\"type\":\"container\",\"action\":"
        "\"restart\"," CTR "},\"name\":\"proj-web-1\",\"time_ns\":1000000002100000000}\n"
        "{\"time\":\"2001-09-09T01:46:42.200000000Z\",\"type\":\"image\",\"action\":\"layer\","
        "\"id\":\"a1b2c3d4e5f6\",\"service\":\"\",\"attributes\":{},\"name\":\"a1b2c3d4e5f6\","
        "\"status\":\"Downloading\",\"current\":1500000,\"total\":3000000,"
        "\"time_ns\":1000000002200000000}\n"
        "{\"time\":\"2001-09-09T01:46:42.700000000Z\",\"type\":\"image\",\"action\":\"layer\","
        "\"id\":\"a1b2c3d4e5f6\",\"service\":\"\",\"attributes\":{},\"name\":\"a1b2c3d4e5f6\","
        "\"status\":\"Pull complete\",\"current\":3000000,\"total\":3000000,"
        "\"time_ns\":1000000002700000000}\n"
        "{\"time\":\"2001-09-09T01:46:43.000000000Z\",\"type\":\"project\",\"action\":\"error\","
        "\"id\":\"\",\"service\":\"\",\"attributes\":{},\"name\":\"proj\","
        "\"detail\":\"container proj-web-1: boom\",\"time_ns\":1000000003000000000}\n");
#undef CTR
    capture_free(&c);
}

/* Quiet: no progress; output, exits and errors stay. */
static void test_quiet(void **state)
{
    (void)state;
    struct capture c;
    render(UI_PROGRESS_QUIET, false, false, &c);
    assert_string_equal(c.err, "berth: container proj-web-1: boom\n");
    assert_string_equal(c.out, "web-1   | hello\n"
                               "proj-web-1 exited with code 1\n");
    capture_free(&c);
}

/* A container's output that is not UTF-8 still makes a JSON line. */
static void test_json_log_not_utf8(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct ui_render_opts o = {.mode = UI_PROGRESS_JSON, .out = out, .err = stderr};
    struct ui_render *r = ui_render_new(&o);
    struct ev_sink s = ui_render_sink(r);
    struct ev_log l = {.service = "web",
                       .name = "p-web-1",
                       .log_name = "web-1",
                       .stream = 2,
                       .data = "a\xff"
                               "b",
                       .len = 3};
    ev_emit_log(&s, &l);
    ui_render_free(r);
    fclose(out);
    assert_string_equal(buf, "{\"type\":\"log\",\"service\":\"web\",\"name\":\"p-web-1\","
                             "\"log_name\":\"web-1\",\"stream\":\"stderr\",\"line\":\"a?b\"}\n");
    free(buf);
}

/* A warning (ev_warn) is "berth: warning: ..." on stderr in every text
 * mode, quiet too, as the engine printed them itself; in json an event. */
static void test_warning(void **state)
{
    (void)state;
    const enum ui_progress text[] = {UI_PROGRESS_PLAIN, UI_PROGRESS_TTY, UI_PROGRESS_QUIET,
                                     UI_PROGRESS_JSON};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        struct capture c = {0};
        FILE *out = open_memstream(&c.out, &c.out_len);
        FILE *err = open_memstream(&c.err, &c.err_len);
        struct ui_render_opts o = {.mode = text[i], .out = out, .err = err};
        struct ui_render *r = ui_render_new(&o);
        struct ev_sink s = ui_render_sink(r);
        ev_warn(&s, EV_IMAGE, "layer x", "layer x: entry \"%s\": device node skipped", "dev/mem");
        ui_render_free(r);
        fclose(out);
        fclose(err);
        if (text[i] == UI_PROGRESS_JSON) {
            assert_string_equal(c.err, "");
            assert_non_null(strstr(c.out, "\"type\":\"image\",\"action\":\"warning\""));
            assert_non_null(strstr(
                c.out, "\"detail\":\"layer x: entry \\\"dev/mem\\\": device node skipped\""));
        } else {
            assert_string_equal(
                c.err, "berth: warning: layer x: entry \"dev/mem\": device node skipped\n");
            assert_string_equal(c.out, "");
        }
        capture_free(&c);
    }
}

static void test_modes(void **state)
{
    (void)state;
    enum ui_progress p;
    enum ui_ansi a;
    assert_int_equal(ui_progress_parse("json", &p), 0);
    assert_int_equal(p, UI_PROGRESS_JSON);
    assert_int_equal(ui_progress_parse("fancy", &p), -1);
    assert_int_equal(ui_ansi_parse("never", &a), 0);
    assert_int_equal(a, UI_ANSI_NEVER);
    assert_int_equal(ui_ansi_parse("sometimes", &a), -1);
    assert_int_equal(ui_progress_resolve(UI_PROGRESS_AUTO, UI_ANSI_AUTO, true), UI_PROGRESS_TTY);
    assert_int_equal(ui_progress_resolve(UI_PROGRESS_AUTO, UI_ANSI_AUTO, false), UI_PROGRESS_PLAIN);
    assert_int_equal(ui_progress_resolve(UI_PROGRESS_TTY, UI_ANSI_NEVER, true), UI_PROGRESS_PLAIN);
    assert_int_equal(ui_progress_resolve(UI_PROGRESS_AUTO, UI_ANSI_NEVER, true), UI_PROGRESS_PLAIN);
    assert_true(ui_color_resolve(UI_ANSI_AUTO, true, NULL));
    assert_false(ui_color_resolve(UI_ANSI_AUTO, true, "1"));
    assert_true(ui_color_resolve(UI_ANSI_AUTO, true, ""));
    assert_false(ui_color_resolve(UI_ANSI_AUTO, false, NULL));
    assert_true(ui_color_resolve(UI_ANSI_ALWAYS, false, "1"));
    assert_false(ui_color_resolve(UI_ANSI_NEVER, true, NULL));
}

/* A layer's progress in plain text: a line per status, not per chunk. */
static void test_plain_layer_progress(void **state)
{
    (void)state;
    char *err = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&err, &len);
    assert_non_null(f);
    struct ui_render_opts o = {.mode = UI_PROGRESS_PLAIN, .out = f, .err = f};
    struct ui_render *r = ui_render_new(&o);
    struct ev_sink s = ui_render_sink(r);
    static const char *const steps[] = {"Pulling fs layer", "Downloading",       "Downloading",
                                        "Downloading",      "Download complete", "Extracting",
                                        "Extracting",       "Pull complete"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct ev e = {.time_ns = T0,
                       .type = EV_IMAGE,
                       .action = "layer",
                       .id = "a1b2c3d4e5f6",
                       .name = "a1b2c3d4e5f6",
                       .status = steps[i],
                       .current = (int64_t)i * 1000,
                       .total = 9000};
        ev_emit(&s, &e);
    }
    ui_render_free(r);
    fclose(f);
    assert_string_equal(err, " Image a1b2c3d4e5f6  Pulling fs layer\n"
                             " Image a1b2c3d4e5f6  Downloading\n"
                             " Image a1b2c3d4e5f6  Download complete\n"
                             " Image a1b2c3d4e5f6  Extracting\n"
                             " Image a1b2c3d4e5f6  Pull complete\n");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_plain_logs_view),
        cmocka_unit_test(test_tty),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_json_log_not_utf8),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_warning),
        cmocka_unit_test(test_plain_layer_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
