/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for logging and lifecycle hooks: the logging, post_start,
 * pre_stop and attach keys at load (values, errors at their place,
 * warnings), the plan's JSON (nothing written for the defaults, so older
 * containers keep their config), the json-file line (Docker's format)
 * and both line formats read back, the tag template, the defaults a driver
 * gets, and rotation (max-file, compress, a follower's hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "compose_testutil.h"
#include "scratch.h"
#include "engine/plan/plan.h"
#include "engine/supervise/logfile.h"

static void test_keys_at_load(void **state)
{
    (void)state;
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    attach: false\n"
                    "    logging:\n"
                    "      driver: local\n"
                    "      options: {max-size: 1m, max-file: 4, compress: \"false\", tag: "
                    "\"{{.Name}}\", mode: non-blocking}\n"
                    "    post_start:\n"
                    "      - command: echo hi there\n"
                    "        user: nobody\n"
                    "        working_dir: /tmp\n"
                    "        environment: {A: b}\n"
                    "    pre_stop:\n"
                    "      - command: [sh, -c, 'echo bye']\n"
                    "  db:\n"
                    "    image: x\n",
                    NULL);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    assert_true(s->no_attach);
    assert_string_equal(s->logging.driver, "local");
    assert_int_equal(s->logging.max_size, 1024 * 1024);
    assert_int_equal(s->logging.max_file, 4);
    assert_int_equal(s->logging.compress, -1);
    assert_string_equal(s->logging.tag, "{{.Name}}");
    assert_true(ct_warned(&l.w, "logging option \"mode\" is not supported"));
    assert_false(ct_warned(&l.w, "post_start"));
    assert_int_equal(s->n_post_start, 1);
    assert_string_equal(s->post_start[0].command[2], "there");
    assert_string_equal(s->post_start[0].user, "nobody");
    assert_string_equal(s->post_start[0].working_dir, "/tmp");
    assert_string_equal(s->post_start[0].environment[0], "A=b");
    assert_int_equal(s->n_pre_stop, 1);
    assert_string_equal(s->pre_stop[0].command[2], "echo bye");
    s = ct_service(&l, "db");
    assert_false(s->no_attach);
    assert_null(s->logging.driver);
    assert_int_equal(s->n_post_start + s->n_pre_stop, 0);
    ct_load_done(&l);
}

static void test_keys_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"    logging: {driver: fluentd}\n",
         "compose.yaml:4:23: service \"web\": logging.driver: unknown logging driver \"fluentd\""},
        {"    logging: {options: {max-size: lots}}\n",
         "service \"web\": logging.options.max-size: expected a size such as 10m, got \"lots\""},
        {"    logging: {options: {max-file: 0}}\n",
         "logging.options.max-file: expected a whole number from 1 to 10000, got \"0\""},
        {"    logging: {options: {compress: maybe}}\n",
         "logging.options.compress: expected true or false, got \"maybe\""},
        {"    post_start: [{user: root}]\n", "post_start: a hook needs a command"},
        {"    pre_stop: [{command: \"\"}]\n", "pre_stop.command: the command is empty"},
        {"    pre_stop: [{command: x, working_dir: rel}]\n",
         "pre_stop: working_dir must be an absolute path, got \"rel\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *yaml = xasprintf("services:\n  web:\n    image: x\n%s", cases[i].yaml);
        struct ct_load l;
        assert_int_not_equal(ct_load(&l, yaml, NULL), 0);
        ct_assert_error(&l, cases[i].want);
        ct_load_done(&l);
    }
}

/* A privileged hook runs as exec --privileged: the service is not
 * refused, and the plan carries it. */
static void test_privileged_hook(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n"
                             "    post_start:\n      - command: id\n        privileged: true\n",
                             NULL),
                     0);
    const struct service *s = ct_service(&l, "web");
    struct berr e = BERR_INIT;
    assert_int_equal(compose_service_refused(s, &e), 0);
    assert_true(s->post_start[0].privileged);
    struct ctr_plan c = {0};
    plan_logs(s, &c);
    assert_true(c.post_start[0].privileged);
    json_t *j = json_object();
    plan_logs_to_json(&c, j);
    struct ctr_plan back = {0};
    plan_logs_from_json(j, &back);
    assert_true(back.post_start[0].privileged);
    json_decref(j);
    plan_logs_free(&back);
    plan_logs_free(&c);
    ct_load_done(&l);
}

static void test_plan_json(void **state)
{
    (void)state;
    /* Defaults: nothing written (containers made before keep their config). */
    struct ctr_plan c = {0};
    c.argv = xcalloc(2, sizeof *c.argv);
    c.argv[0] = xstrdup("true");
    json_t *j = plan_to_json(&c);
    assert_null(json_object_get(j, "logging"));
    assert_null(json_object_get(j, "post_start"));
    assert_null(json_object_get(j, "pre_stop"));
    assert_null(json_object_get(j, "no_attach"));
    json_decref(j);
    /* Set: written and read back. */
    c.logging.driver = xstrdup("syslog");
    c.logging.max_size = 4096;
    c.logging.compress = -1;
    c.logging.tag = xstrdup("t{{.ID}}");
    c.no_attach = true;
    c.n_pre_stop = 1;
    c.pre_stop = xcalloc(1, sizeof *c.pre_stop);
    c.pre_stop[0].argv = xcalloc(2, sizeof(char *));
    c.pre_stop[0].argv[0] = xstrdup("stop-me");
    c.pre_stop[0].cwd = xstrdup("/w");
    j = plan_to_json(&c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    json_decref(j);
    assert_string_equal(back.logging.driver, "syslog");
    assert_int_equal(back.logging.max_size, 4096);
    assert_int_equal(back.logging.compress, -1);
    assert_string_equal(back.logging.tag, "t{{.ID}}");
    assert_true(back.no_attach);
    assert_int_equal(back.n_pre_stop, 1);
    assert_string_equal(back.pre_stop[0].argv[0], "stop-me");
    assert_string_equal(back.pre_stop[0].cwd, "/w");
    assert_null(back.pre_stop[0].user);
    assert_int_equal(back.n_post_start, 0);
    ctr_plan_free(&back);
    ctr_plan_free(&c);
}

static void test_json_line(void **state)
{
    (void)state;
    size_t n;
    /* 2026-12-05T02:08:57.123456789Z */
    int64_t t = 1796436537123456789LL;
    _cleanup_free_ char *l = log_json_line(t, "stdout", false, "say \"hi\"", 8, &n);
    assert_string_equal(
        l, "{\"log\":\"say \\\"hi\\\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-05T02:08:57."
           "123456789Z\"}\n");
    assert_int_equal(n, strlen(l));
    struct log_entry e;
    assert_true(log_parse_line(l, n - 1, &e));
    assert_int_equal(e.time_ns, t);
    assert_string_equal(e.stream, "stdout");
    assert_false(e.partial);
    assert_int_equal(e.len, 8);
    assert_memory_equal(e.data, "say \"hi\"", 8);
    log_entry_clear(&e);
    /* A piece of a longer line: no newline, as Docker. */
    _cleanup_free_ char *p = log_json_line(t, "stderr", true, "abc", 3, &n);
    assert_non_null(strstr(p, "\"log\":\"abc\",\"stream\":\"stderr\""));
    assert_true(log_parse_line(p, n - 1, &e));
    assert_true(e.partial);
    assert_string_equal(e.stream, "stderr");
    log_entry_clear(&e);
    /* Invalid UTF-8 becomes U+FFFD, as Go's encoder writes it. */
    _cleanup_free_ char *u = log_json_line(t, "stdout", false,
                                           "a\xff"
                                           "b",
                                           3, &n);
    assert_non_null(strstr(u, "\"log\":\"a\xef\xbf\xbd"
                              "b\\n\""));
    /* The old format still reads. */
    const char *old = "2026-11-29T02:08:57.5Z stderr P the line";
    assert_true(log_parse_line(old, strlen(old), &e));
    assert_true(e.partial);
    assert_int_equal(e.len, 8);
    assert_null(e.own);
    /* Not a log line. */
    assert_false(log_parse_line("{\"log\":1}", 9, &e));
    assert_false(log_parse_line("{broken", 7, &e));
}

static void test_tags_and_defaults(void **state)
{
    (void)state;
    struct log_tag_vars v = {.name = "p-web-1",
                             .id = "0123456789abcdef0123",
                             .image_name = "busybox",
                             .image_id = "sha256:fedcba9876543210"};
    char *out;
    struct berr e = BERR_INIT;
    assert_int_equal(
        log_tag_expand("{{.Name}}/{{ .ID }}/{{.FullID}}/{{.ImageName}}/{{.ImageID}}", &v, &out, &e),
        0);
    assert_string_equal(out, "p-web-1/0123456789ab/0123456789abcdef0123/busybox/fedcba987654");
    free(out);
    assert_int_equal(log_tag_expand("x{{.Labels}}", &v, &out, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "logging option tag x{{.Labels}}"));
    berr_clear(&e);

    unsetenv("BERTH_LOG_MAX_SIZE");
    struct plan_logging pl = {0};
    struct log_config c;
    assert_int_equal(log_config_from_plan(&pl, &v, &c, &e), 0);
    assert_int_equal(c.driver, LOG_JSON_FILE);
    assert_int_equal(c.max_size, LOG_MAX_SIZE_DEFAULT);
    assert_int_equal(c.max_file, LOG_MAX_FILE_DEFAULT);
    assert_false(c.compress);
    log_config_clear(&c);
    pl.driver = "local";
    assert_int_equal(log_config_from_plan(&pl, &v, &c, &e), 0);
    assert_int_equal(c.max_size, LOG_LOCAL_MAX_SIZE);
    assert_int_equal(c.max_file, LOG_LOCAL_MAX_FILE);
    assert_true(c.compress);
    log_config_clear(&c);
    pl.compress = -1;
    pl.max_size = -1;
    assert_int_equal(log_config_from_plan(&pl, &v, &c, &e), 0);
    assert_false(c.compress);
    assert_int_equal(c.max_size, 0); /* unlimited */
    log_config_clear(&c);
    pl = (struct plan_logging){.driver = "syslog"};
    setenv("BERTH_SYSLOG_SOCKET", "/x/y.sock", 1);
    assert_int_equal(log_config_from_plan(&pl, &v, &c, &e), 0);
    assert_string_equal(c.tag, "0123456789ab"); /* Docker's default tag */
    assert_string_equal(c.socket, "/x/y.sock");
    log_config_clear(&c);
    unsetenv("BERTH_SYSLOG_SOCKET");
}

static size_t count_files(const char *dir, const char *suffix)
{
    size_t n = 0;
    for (int i = *suffix ? 1 : 0; i <= 200; i++) {
        _cleanup_free_ char *p = i ? xasprintf("%s/container.log.%d%s", dir, i, suffix)
                                   : xasprintf("%s/container.log", dir);
        n += access(p, F_OK) == 0;
    }
    return n;
}

static void write_lines(struct log_writer *w, int n)
{
    for (int i = 0; i < n; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "line %d", i);
        log_writer_line(w, "stdout", false, line, (size_t)len);
    }
}

struct lines {
    size_t n;
    char last[64];
};

static void count_cb(void *ud, const char *buf, size_t len)
{
    struct lines *l = ud;
    for (size_t i = 0; i < len; i++)
        l->n += buf[i] == '\n';
}

/* Rotation keeps max-file files, gzips them with compress, and keeps the
 * ones a follower may still need while it holds the log. */
static void test_rotation(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = scratch_dir("logs");
    struct berr e = BERR_INIT;
    struct log_config c = {.driver = LOG_JSON_FILE, .max_size = 1000, .max_file = 3};
    struct log_writer w;
    assert_int_equal(log_writer_open(&w, dir, &c, &e), 0);
    write_lines(&w, 200); /* ~80 bytes a line: about 16 rotations */
    log_writer_close(&w);
    assert_int_equal(count_files(dir, ""), 3);
    assert_int_equal(count_files(dir, ".gz"), 0);

    /* A follower holds the log: nothing it may need is removed. */
    int hold = log_follow_lock(dir);
    assert_true(hold >= 0);
    c = (struct log_config){.driver = LOG_JSON_FILE, .max_size = 1000, .max_file = 3};
    assert_int_equal(log_writer_open(&w, dir, &c, &e), 0);
    write_lines(&w, 100);
    log_writer_close(&w);
    assert_true(count_files(dir, "") > 6);
    close(hold);
    /* The first rotation without one trims back to max-file. */
    c = (struct log_config){.driver = LOG_JSON_FILE, .max_size = 1000, .max_file = 3};
    assert_int_equal(log_writer_open(&w, dir, &c, &e), 0);
    write_lines(&w, 20);
    log_writer_close(&w);
    assert_int_equal(count_files(dir, ""), 3);

    /* compress: the rotated files are gzipped and read back whole. */
    c = (struct log_config){.driver = LOG_LOCAL, .max_size = 1000, .max_file = 4, .compress = true};
    assert_int_equal(log_writer_open(&w, dir, &c, &e), 0);
    write_lines(&w, 200);
    log_writer_close(&w);
    assert_int_equal(count_files(dir, ".gz"), 3);
    assert_int_equal(count_files(dir, ""), 1);
    struct log_snapshot snap;
    assert_int_equal(log_snapshot_take(dir, &snap), 0);
    assert_int_equal(snap.n, 4);
    struct lines l = {0};
    for (size_t i = 0; i < snap.n; i++) {
        assert_true(snap.f[i].fd >= 0);
        assert_int_equal(snap.f[i].gz, i + 1 < snap.n);
        assert_int_equal(log_read_fd(snap.f[i].fd, snap.f[i].gz, count_cb, &l), 0);
    }
    assert_true(l.n > 20 && l.n < 200);
    log_snapshot_free(&snap);
    scratch_remove(dir);
    dir = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_at_load),    cmocka_unit_test(test_keys_errors),
        cmocka_unit_test(test_privileged_hook), cmocka_unit_test(test_plan_json),
        cmocka_unit_test(test_json_line),       cmocka_unit_test(test_tags_and_defaults),
        cmocka_unit_test(test_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
