/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the compose model through compose_load: every supported
 * service key in its forms, environment resolution, warnings for keys not
 * supported yet, error messages with file:line:col, merging of several
 * files, stdin and the file size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>

#include "compose_testutil.h"

/* "services:\n  web:\n    image: img\n    <line>\n": the line under test is
 * line 4, its key at column 5. */
static int load_key(struct ct_load *l, const char *line, char **env)
{
    _cleanup_free_ char *yaml = xasprintf("services:\n  web:\n    image: img\n    %s\n", line);
    return ct_load(l, yaml, env);
}

static const struct service *web(const struct ct_load *l)
{
    if (!l->p) {
        fprintf(stderr, "load failed: %s\n", l->e.msg);
        fail();
    }
    const struct service *s = project_service(l->p, "web");
    assert_non_null(s);
    return s;
}

/* A table row: the line, and either the expected value or an error. */
struct icase {
    const char *line;
    int64_t want;
    const char *err;
};

static void run_int_cases(const struct icase *c, size_t n, int64_t (*get)(const struct service *))
{
    for (size_t i = 0; i < n; i++) {
        struct ct_load l;
        int r = load_key(&l, c[i].line, NULL);
        if (c[i].err) {
            if (r == 0 || !strstr(l.e.msg, c[i].err)) {
                fprintf(stderr, "[%s]: expected error [%s], got [%s]\n", c[i].line, c[i].err,
                        l.e.msg ? l.e.msg : "(none)");
                fail();
            }
        } else if (r != 0 || get(web(&l)) != c[i].want) {
            fprintf(stderr, "[%s]: expected %lld, got %lld (%s)\n", c[i].line, (long long)c[i].want,
                    r == 0 ? (long long)get(web(&l)) : 0LL, l.e.msg ? l.e.msg : "");
            fail();
        }
        ct_load_done(&l);
    }
}

static int64_t get_mem(const struct service *s)
{
    return s->mem_limit;
}

static void test_mem_limit(void **state)
{
    static const struct icase cases[] = {
        {"mem_limit: 1073741824", 1073741824LL, NULL},
        {"mem_limit: 32m", 32LL << 20, NULL},
        {"mem_limit: 1g", 1LL << 30, NULL},
        {"mem_limit: 512k", 512LL << 10, NULL},
        {"mem_limit: 1.5g", 3LL << 29, NULL},
        {"mem_limit: 100b", 100, NULL},
        {"mem_limit: 1GB", 1LL << 30, NULL},
        {"mem_limit: 2Gi", 2LL << 30, NULL},
        {"mem_limit: \"64M\"", 64LL << 20, NULL},
        {"mem_limit: '0'", 0, NULL},
        {"mem_limit: 12x", 0,
         "compose.yaml:4:16: service \"web\": mem_limit: invalid size \"12x\" (use a number with "
         "b, k, m or g)"},
        {"mem_limit: -5", 0, "compose.yaml:4:16: service \"web\": mem_limit: invalid size \"-5\""},
        {"mem_limit: 1.5", 0,
         "mem_limit: expected a size such as \"512m\" or a whole number of "
         "bytes, got \"1.5\""},
        {"mem_limit: [1]", 0, "compose.yaml:4:16: service \"web\": mem_limit: expected a size"},
        {"mem_limit: true", 0, "got a boolean"},
        {"mem_limit: 99999999999p", 0, "mem_limit: size \"99999999999p\" is too large"},
    };
    run_int_cases(cases, ARRAY_SIZE(cases), get_mem);
}

static int64_t get_pids(const struct service *s)
{
    return s->pids_limit;
}

static void test_pids_limit(void **state)
{
    static const struct icase cases[] = {
        {"pids_limit: 100", 100, NULL},
        {"pids_limit: -1", -1, NULL},
        {"pids_limit: 0", -1, NULL},
        {"pids_limit: \"50\"", 50, NULL},
        {"pids_limit: -2", 0,
         "compose.yaml:4:17: service \"web\": pids_limit: invalid limit \"-2\" (use a positive "
         "number, or -1 for no limit)"},
        {"pids_limit: 1.5", 0, "pids_limit: invalid limit \"1.5\""},
        {"pids_limit: lots", 0, "pids_limit: invalid limit \"lots\""},
        {"pids_limit: {}", 0, "pids_limit: expected a whole number, got a mapping"},
    };
    run_int_cases(cases, ARRAY_SIZE(cases), get_pids);
    /* Absent: 0, "not set". */
    struct ct_load l;
    assert_int_equal(load_key(&l, "tty: false", NULL), 0);
    assert_int_equal(web(&l)->pids_limit, 0);
    assert_int_equal(web(&l)->mem_limit, 0);
    assert_int_equal(web(&l)->stop_signal, 0);
    assert_int_equal(web(&l)->stop_grace_ns, -1);
    assert_true(web(&l)->cpus == 0);
    ct_load_done(&l);
}

static int64_t get_signal(const struct service *s)
{
    return s->stop_signal;
}

static void test_stop_signal(void **state)
{
    static const struct icase cases[] = {
        {"stop_signal: SIGKILL", SIGKILL, NULL},
        {"stop_signal: TERM", SIGTERM, NULL},
        {"stop_signal: sigint", SIGINT, NULL},
        {"stop_signal: 9", SIGKILL, NULL},
        {"stop_signal: \"SIGUSR1\"", SIGUSR1, NULL},
        {"stop_signal: SIGRTMIN+2", 0, NULL}, /* checked below: runtime value */
        {"stop_signal: SIGFOO", 0,
         "compose.yaml:4:18: service \"web\": stop_signal: invalid signal \"SIGFOO\" (use a name "
         "such as SIGTERM or SIGINT, or a number)"},
        {"stop_signal: 0", 0, "stop_signal: invalid signal \"0\""},
        {"stop_signal: [x]", 0,
         "compose.yaml:4:18: service \"web\": stop_signal: expected a "
         "string, got a list"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        if (strstr(cases[i].line, "RTMIN")) {
            struct ct_load l;
            assert_int_equal(load_key(&l, cases[i].line, NULL), 0);
            assert_int_equal(web(&l)->stop_signal, SIGRTMIN + 2);
            ct_load_done(&l);
            continue;
        }
        run_int_cases(&cases[i], 1, get_signal);
    }
}

static int64_t get_grace(const struct service *s)
{
    return s->stop_grace_ns;
}

static void test_stop_grace_period(void **state)
{
    static const struct icase cases[] = {
        {"stop_grace_period: 10s", 10000000000LL, NULL},
        {"stop_grace_period: 1m30s", 90000000000LL, NULL},
        {"stop_grace_period: 1.5s", 1500000000LL, NULL},
        {"stop_grace_period: 100ms", 100000000LL, NULL},
        {"stop_grace_period: 2h", 7200000000000LL, NULL},
        {"stop_grace_period: 0", 0, NULL},
        {"stop_grace_period: \"0s\"", 0, NULL},
        {"stop_grace_period: -1s", 0,
         "compose.yaml:4:24: service \"web\": stop_grace_period: must not be negative, got "
         "\"-1s\""},
        {"stop_grace_period: 10", 0,
         "compose.yaml:4:24: service \"web\": stop_grace_period: invalid duration \"10\" (use a "
         "number with a unit, such as \"10s\", \"1m30s\" or \"500ms\")"},
        {"stop_grace_period: soon", 0, "stop_grace_period: invalid duration \"soon\""},
        {"stop_grace_period: 1x", 0, "stop_grace_period: invalid duration \"1x\""},
        {"stop_grace_period: [1s]", 0, "stop_grace_period: expected a string, got a list"},
    };
    run_int_cases(cases, ARRAY_SIZE(cases), get_grace);
}

static int64_t get_tty(const struct service *s)
{
    return s->tty;
}

static int64_t get_ro(const struct service *s)
{
    return s->read_only;
}

static void test_booleans(void **state)
{
    static const struct icase tty[] = {
        {"tty: true", 1, NULL},
        {"tty: True", 1, NULL},
        {"tty: false", 0, NULL},
        {"tty: \"true\"", 1, NULL},
        {"tty: \"0\"", 0, NULL},
        /* YAML 1.1's words, plain, read with a warning (as compose-go);
         * quoted they stay strings that are not booleans. */
        {"tty: yes", 1, NULL},
        {"tty: off", 0, NULL},
        {"tty: Y", 1, NULL},
        {"tty: \"yes\"", 0,
         "compose.yaml:4:10: service \"web\": tty: expected true or false, got "
         "\"yes\""},
        {"tty: 1", 0, "tty: expected true or false, got a number"},
        {"tty: [true]", 0, "tty: expected true or false, got a list"},
    };
    run_int_cases(tty, ARRAY_SIZE(tty), get_tty);
    static const struct icase ro[] = {
        {"read_only: true", 1, NULL},
        {"read_only: FALSE", 0, NULL},
        {"read_only: ~", 0,
         "compose.yaml:4:16: service \"web\": read_only: expected true or "
         "false, got null"},
    };
    run_int_cases(ro, ARRAY_SIZE(ro), get_ro);
}

static void test_cpus(void **state)
{
    static const struct {
        const char *line;
        double want;
        const char *err;
    } cases[] = {
        {"cpus: 0.5", 0.5, NULL},
        {"cpus: 2", 2, NULL},
        {"cpus: \"1.5\"", 1.5, NULL},
        {"cpus: '0.25'", 0.25, NULL},
        {"cpus: 0", 0, NULL},
        {"cpus: 1e-1", 0.1, NULL},
        {"cpus: -1", 0,
         "compose.yaml:4:11: service \"web\": cpus: invalid number of CPUs \"-1\" (use a positive "
         "number such as 0.5 or 2)"},
        {"cpus: many", 0, "cpus: invalid number of CPUs \"many\""},
        {"cpus: \"0x10\"", 0, "cpus: invalid number of CPUs \"0x10\""},
        {"cpus: .inf", 0, "cpus: invalid number of CPUs \".inf\""},
        {"cpus: 1e400", 0, "cpus: invalid number of CPUs \"1e400\""},
        {"cpus: [1]", 0, "cpus: expected a number such as 0.5 or 2, got a list"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ct_load l;
        int r = load_key(&l, cases[i].line, NULL);
        if (cases[i].err) {
            if (r == 0 || !strstr(l.e.msg, cases[i].err)) {
                fprintf(stderr, "[%s]: got [%s]\n", cases[i].line, l.e.msg ? l.e.msg : "");
                fail();
            }
        } else {
            assert_int_equal(r, 0);
            assert_true(fabs(web(&l)->cpus - cases[i].want) < 1e-12);
        }
        ct_load_done(&l);
    }
}

/* String keys: image, working_dir, user, hostname. */
static void test_strings(void **state)
{
    static const struct {
        const char *line;
        const char *key; /* which field to check */
        const char *want;
        const char *err;
    } cases[] = {
        {"user: app", "user", "app", NULL},
        {"user: 1000", "user", "1000", NULL},
        {"user: 1000:1000", "user", "1000:1000", NULL},
        {"user: \"\"", "user", NULL, NULL},
        {"user: true", "user", NULL,
         "compose.yaml:4:11: service \"web\": user: expected a string, got a boolean"},
        {"hostname: web1", "hostname", "web1", NULL},
        {"hostname: 123", "hostname", "123", NULL},
        {"hostname: {a: 1}", "hostname", NULL, "hostname: expected a string, got a mapping"},
        {"working_dir: /srv/app", "working_dir", "/srv/app", NULL},
        {"working_dir: app", "working_dir", NULL,
         "compose.yaml:4:18: service \"web\": working_dir: must be an absolute path, got \"app\""},
        {"hostname: \"a\\0b\"", "hostname", NULL, "hostname: contains a NUL character"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ct_load l;
        int r = load_key(&l, cases[i].line, NULL);
        if (cases[i].err) {
            if (r == 0 || !strstr(l.e.msg, cases[i].err)) {
                fprintf(stderr, "[%s]: got [%s]\n", cases[i].line, l.e.msg ? l.e.msg : "");
                fail();
            }
            ct_load_done(&l);
            continue;
        }
        const struct service *s = web(&l);
        const char *got = strcmp(cases[i].key, "user") == 0       ? s->user
                          : strcmp(cases[i].key, "hostname") == 0 ? s->hostname
                                                                  : s->working_dir;
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
        ct_load_done(&l);
    }
}

static void test_image(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l, "services:\n  web:\n    image: \"nginx:1.25\"\n", NULL), 0);
    assert_string_equal(web(&l)->image, "nginx:1.25");
    assert_int_equal(web(&l)->image_pos.line, 3);
    assert_int_equal(web(&l)->image_pos.col, 12);
    assert_ptr_equal(web(&l)->image_pos.file, l.p->files[0]);
    assert_int_equal(web(&l)->pos.line, 2);
    assert_int_equal(web(&l)->pos.col, 3);
    ct_load_done(&l);
    static const struct {
        const char *yaml, *err;
    } bad[] = {
        {"services:\n  web:\n    image: [a]\n",
         "compose.yaml:3:12: service \"web\": image: expected a string, got a list"},
        {"services:\n  web:\n    image: ''\n",
         "compose.yaml:3:12: service \"web\": image: must not be empty"},
        {"services:\n  web:\n    hostname: h\n",
         "compose.yaml:2:3: service \"web\" has neither an image nor a build context specified"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_not_equal(ct_load(&l, bad[i].yaml, NULL), 0);
        ct_assert_error(&l, bad[i].err);
        ct_load_done(&l);
    }
}

/* Words joined with "|"; "(unset)" for a NULL vector. */
static void join(char *const *v, char *buf, size_t size)
{
    if (!v) {
        snprintf(buf, size, "(unset)");
        return;
    }
    buf[0] = '\0';
    for (size_t i = 0; v[i]; i++) {
        if (i)
            strncat(buf, "|", size - strlen(buf) - 1);
        strncat(buf, v[i], size - strlen(buf) - 1);
    }
}

static void test_command_entrypoint(void **state)
{
    static const struct {
        const char *line;
        bool entry;
        const char *want; /* joined; "" for an empty override */
        bool set;
        const char *err;
    } cases[] = {
        {"command: echo \"hello world\"", false, "echo|hello world", true, NULL},
        {"command: [\"sh\", \"-c\", \"echo $$HOME\"]", false, "sh|-c|echo $HOME", true, NULL},
        {"command: sh -c 'echo $$HOME'", false, "sh|-c|echo $HOME", true, NULL},
        {"command: a\\ b c", false, "a b|c", true, NULL},
        {"command: a '' b", false, "a||b", true, NULL},
        {"command: []", false, "", true, NULL},
        {"command: \"\"", false, "", true, NULL},
        {"command:", false, "(unset)", false, NULL},
        {"command: [sleep, 10, true]", false, "sleep|10|true", true, NULL},
        {"command: echo a && echo b", false, "echo|a", true, NULL},
        {"entrypoint: /bin/sh -c", true, "/bin/sh|-c", true, NULL},
        {"entrypoint: [\"/init\"]", true, "/init", true, NULL},
        {"entrypoint: ''", true, "", true, NULL},
        {"command: \"echo \\\"unterminated\"", false, NULL, false,
         "compose.yaml:4:14: service \"web\": command: unterminated double quote in "
         "\"echo \\\"unterminated\""},
        {"command: {a: 1}", false, NULL, false,
         "command: expected a string or a list of strings, got a mapping"},
        {"command: [a, [b]]", false, NULL, false,
         "compose.yaml:4:18: service \"web\": command: item 2: expected a string, got a list"},
        {"entrypoint: [a, ~]", true, NULL, false,
         "entrypoint: item 2: expected a string, got null"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ct_load l;
        int r = load_key(&l, cases[i].line, NULL);
        if (cases[i].err) {
            if (r == 0 || !strstr(l.e.msg, cases[i].err)) {
                fprintf(stderr, "[%s]: got [%s]\n", cases[i].line, l.e.msg ? l.e.msg : "");
                fail();
            }
            ct_load_done(&l);
            continue;
        }
        const struct service *s = web(&l);
        char buf[256];
        join(cases[i].entry ? s->entrypoint : s->command, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0 ||
            (cases[i].entry ? s->entrypoint_set : s->command_set) != cases[i].set) {
            fprintf(stderr, "[%s]: got [%s]\n", cases[i].line, buf);
            fail();
        }
        ct_load_done(&l);
    }
    /* The operator that cuts the command is warned about. */
    struct ct_load l;
    assert_int_equal(load_key(&l, "command: echo a && echo b", NULL), 0);
    ct_assert_warned(&l, "compose.yaml:4:14: service \"web\": command: the unquoted \"&\" ends "
                         "the command; the rest (\"&& echo b\") is dropped");
    ct_load_done(&l);
}

static void test_environment(void **state)
{
    char *env[] = {"HOSTVAR=fromhost", "G=gval", "PATH=/bin", NULL};
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {"    environment:\n"
         "      A: hello\n"
         "      B: 42\n"
         "      C: True\n"
         "      D: 1.50\n"
         "      E: \"\"\n"
         "      F:\n"
         "      G: ~\n"
         "      HOSTVAR:\n"
         "      H: 'x=y'\n",
         "A=hello|B=42|C=true|D=1.50|E=|G=gval|HOSTVAR=fromhost|H=x=y"},
        {"    environment:\n"
         "      - A=1\n"
         "      - B=\n"
         "      - C\n"
         "      - HOSTVAR\n"
         "      - D=x=y\n"
         "      - A=2\n",
         "A=2|B=|HOSTVAR=fromhost|D=x=y"},
        /* Empty or null: no variables (compose leaves the key out). */
        {"    environment: []\n", "(unset)"},
        {"    environment: {}\n", "(unset)"},
        {"    environment:\n", "(unset)"},
        {"    environment: [\"A=with space\", 'B=\"q\"']\n", "A=with space|B=\"q\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *yaml = xasprintf("services:\n  web:\n    image: x\n%s", cases[i].yaml);
        struct ct_load l;
        if (ct_load(&l, yaml, env) != 0) {
            fprintf(stderr, "case %zu: %s\n", i, l.e.msg);
            fail();
        }
        char buf[512];
        join(web(&l)->environment, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0) {
            fprintf(stderr, "case %zu: got [%s]\n", i, buf);
            fail();
        }
        ct_load_done(&l);
    }
    /* Without the key, no vector at all. */
    struct ct_load l;
    assert_int_equal(load_key(&l, "tty: true", env), 0);
    assert_null(web(&l)->environment);
    ct_load_done(&l);
}

static void test_environment_errors(void **state)
{
    static const struct {
        const char *lines, *err;
    } cases[] = {
        {"    environment: A=1\n",
         "compose.yaml:4:18: service \"web\": environment: expected a mapping or a list of "
         "\"KEY=VALUE\" strings, got a string"},
        {"    environment:\n      - A=1\n      - [x]\n",
         "compose.yaml:6:9: service \"web\": environment: expected a \"KEY=VALUE\" string, got a "
         "list"},
        {"    environment:\n      - =x\n",
         "compose.yaml:5:9: service \"web\": environment: invalid variable name \"\""},
        {"    environment:\n      A: [1]\n",
         "compose.yaml:5:10: service \"web\": environment: A: expected a string, number, boolean "
         "or null, got a list"},
        {"    environment:\n      \"A=B\": x\n", "environment: invalid variable name \"A=B\""},
        {"    environment:\n      A: \"x\\0y\"\n", "environment: A: value contains a NUL"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *yaml =
            xasprintf("services:\n  web:\n    image: x\n%s", cases[i].lines);
        struct ct_load l;
        assert_int_not_equal(ct_load(&l, yaml, NULL), 0);
        ct_assert_error(&l, cases[i].err);
        ct_load_done(&l);
    }
}

static void test_unknown_keys_warn(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    cpu_count: 2\n"
                    "    x-custom: 1\n"
                    "    isolation: default\n"
                    "    healthcheck:\n"
                    "      test: [CMD, true]\n"
                    "x-top: &t 1\n"
                    "version: \"3.8\"\n"
                    "secrets: {}\n",
                    NULL);
    assert_int_equal(r, 0);
    ct_assert_warned(&l, "compose.yaml:4:5: service \"web\": key \"cpu_count\" is a Windows key "
                         "(Docker ignores it on Linux too); ignored");
    ct_assert_warned(&l, "compose.yaml:6:5: service \"web\": key \"isolation\" is a Windows "
                         "key; ignored");
    ct_assert_warned(&l, "compose.yaml:10:1: the attribute `version` is obsolete, it will be "
                         "ignored, please remove it to avoid potential confusion");
    assert_false(ct_warned(&l.w, "secrets")); /* honoured */
    assert_false(ct_warned(&l.w, "x-"));
    assert_false(ct_warned(&l.w, "healthcheck"));
    ct_load_done(&l);
    /* Unknown keys are errors, with the nearest known key as a hint; all
     * of them are reported at once. */
    r = ct_load(&l,
                "services:\n"
                "  web:\n"
                "    imgae: y\n"
                "    image: x\n"
                "    healthcheck: {test: [CMD, true], intervl: 1s}\n"
                "foo: bar\n",
                NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "compose.yaml:3:5: service \"web\": unknown key \"imgae\" (did you mean "
                        "\"image\"?)");
    ct_assert_error(&l, "compose.yaml:5:38: service \"web\": healthcheck: unknown key "
                        "\"intervl\" (did you mean \"interval\"?)");
    ct_assert_error(&l, "compose.yaml:6:1: unknown key \"foo\"");
    ct_load_done(&l);
}

static void test_warnings_default_to_stderr(void **state)
{
    /* With no callback, warnings go to stderr as one line each. */
    char *tmp = ct_mkdtemp();
    free(
        ct_write(tmp, "compose.yaml", "services:\n  web:\n    image: x\n    isolation: process\n"));
    _cleanup_free_ char *errpath = xasprintf("%s/stderr", tmp);
    int saved = dup(STDERR_FILENO);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);
    static char *empty[] = {NULL};
    struct compose_opts o = {.environ = empty, .cwd = tmp};
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    int r = compose_load(&o, &p, &e);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_int_equal(r, 0);
    project_free(p);
    _cleanup_free_ char *out = NULL;
    size_t len;
    assert_int_equal(fs_read_file(AT_FDCWD, errpath, 65536, &out, &len, &e), 0);
    assert_string_equal(out, "berth: warning: compose.yaml:4:5: service \"web\": key "
                             "\"isolation\" is a Windows key; ignored\n");
    ct_rmtree(tmp);
}

static void test_services_shape(void **state)
{
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"services:\n  -web:\n    image: x\n",
         "compose.yaml:2:3: invalid service name \"-web\": it must start with a letter or digit"},
        {"services:\n  \"we b\":\n    image: x\n", "invalid service name \"we b\""},
        {"services:\n  web: nginx\n",
         "compose.yaml:2:8: service \"web\": expected a mapping of service keys, got a string"},
        {"services:\n  web:\n", "service \"web\": expected a mapping of service keys, got null"},
        {"services: []\n",
         "compose.yaml:1:11: services: expected a mapping of service names to services, got a "
         "list"},
        {"", "compose.yaml: empty compose file: no services defined"},
        {"# only a comment\n", "compose.yaml: empty compose file"},
        {"- a\n- b\n", "compose.yaml:1:1: a compose file must be a mapping at the top level, not "
                       "a list"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ct_load l;
        assert_int_not_equal(ct_load(&l, cases[i].yaml, NULL), 0);
        ct_assert_error(&l, cases[i].err);
        assert_null(l.p);
        ct_load_done(&l);
    }
    /* A project without (enabled) services loads, as in docker compose. */
    static const char *const none[] = {"name: x\nnetworks: {n: {}}\n", "services: {}\n",
                                       "services:\n",
                                       "services: {web: {image: x, profiles: [dev]}}\n"};
    for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
        struct ct_load l;
        assert_int_equal(ct_load(&l, none[i], NULL), 0);
        assert_int_equal(l.p->n_services, 0);
        ct_load_done(&l);
    }
    /* Valid names, services in file order; an entry named x- is a service
     * there (compose-go: only keys of the top level and of objects are
     * extensions). */
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  Web.1_a-b: {image: x}\n  x-tmpl: {image: y}\n"
                             "  0db: {image: z}\n  api: {image: w}\n",
                             NULL),
                     0);
    assert_int_equal(l.p->n_services, 4);
    assert_string_equal(l.p->services[0].name, "Web.1_a-b");
    assert_string_equal(l.p->services[1].name, "x-tmpl");
    assert_string_equal(l.p->services[2].name, "0db");
    assert_string_equal(l.p->services[3].name, "api");
    ct_load_done(&l);
}

static void test_all_errors_reported(void **state)
{
    struct ct_load l;
    assert_int_not_equal(ct_load(&l,
                                 "services:\n"
                                 "  web:\n"
                                 "    image: x\n"
                                 "    mem_limit: 12x\n"
                                 "    stop_signal: NOPE\n"
                                 "  db:\n"
                                 "    image: y\n"
                                 "    tty: maybe\n",
                                 NULL),
                         0);
    ct_assert_error(&l, "compose.yaml:4:16: service \"web\": mem_limit: invalid size \"12x\"");
    ct_assert_error(&l, "\ncompose.yaml:5:18: service \"web\": stop_signal: invalid signal");
    ct_assert_error(&l, "\ncompose.yaml:8:10: service \"db\": tty: expected true or false");
    /* The first line is the first problem. */
    assert_true(strncmp(l.e.msg, "compose.yaml:4:16:", 18) == 0);
    ct_load_done(&l);
    /* Duplicate keys and a bad value in the same file: both reported. */
    assert_int_not_equal(ct_load(&l, "services:\n  web:\n    image: x\n    image: y\n", NULL), 0);
    ct_assert_error(&l, "compose.yaml:4:5: duplicate key \"image\" (first defined at line 3)");
    ct_load_done(&l);
}

static void test_merge_files(void **state)
{
    const char *names[] = {"compose.yaml", "override.yaml", NULL};
    const char *contents[] = {
        "services:\n"
        "  web:\n"
        "    image: a\n"
        "    command: x y\n"
        "    environment: [A=1, B=2]\n"
        "    mem_limit: 1g\n"
        "    tty: true\n",
        "services:\n"
        "  web:\n"
        "    image: b\n"
        "    command: [z]\n"
        "    environment:\n"
        "      B: 3\n"
        "      C: 4\n"
        "  db:\n"
        "    image: pg\n"
        "    environment: {X: 1}\n",
        NULL,
    };
    struct ct_load l;
    assert_int_equal(ct_load_files(&l, names, contents, NULL), 0);
    assert_int_equal(l.p->n_services, 2);
    assert_string_equal(l.p->services[0].name, "web");
    assert_string_equal(l.p->services[1].name, "db");
    const struct service *w = web(&l);
    char buf[256];
    assert_string_equal(w->image, "b");
    assert_ptr_equal(w->image_pos.file, l.p->files[1]);
    assert_ptr_equal(w->pos.file, l.p->files[0]);
    join(w->command, buf, sizeof buf);
    assert_string_equal(buf, "z");
    join(w->environment, buf, sizeof buf);
    assert_string_equal(buf, "A=1|B=3|C=4");
    assert_int_equal(w->mem_limit, 1LL << 30);
    assert_true(w->tty);
    assert_ptr_equal(l.p->services[1].pos.file, l.p->files[1]);
    ct_load_done(&l);

    /* A map in the base, a list in the override; an empty override. */
    const char *c2[] = {
        "services:\n  web:\n    image: a\n    environment: {A: 1, B: 2}\n",
        "services:\n  web:\n    environment: [B, D=4]\n    command: []\n",
        NULL,
    };
    char *env[] = {"B=host", NULL};
    assert_int_equal(ct_load_files(&l, names, c2, env), 0);
    join(web(&l)->environment, buf, sizeof buf);
    assert_string_equal(buf, "A=1|B=host|D=4");
    assert_true(web(&l)->command_set);
    assert_null(web(&l)->command[0]);
    ct_load_done(&l);

    /* A null in the later file keeps the earlier value; command is
     * replaced even by null (compose's special rule). */
    const char *c5[] = {
        "services:\n  web:\n    image: a\n    mem_limit: 1g\n    command: [x]\n",
        "services:\n  web:\n    image: ~\n    mem_limit:\n    command: null\n",
        NULL,
    };
    assert_int_equal(ct_load_files(&l, names, c5, NULL), 0);
    assert_string_equal(web(&l)->image, "a");
    assert_int_equal(web(&l)->mem_limit, 1LL << 30);
    assert_false(web(&l)->command_set);
    assert_null(web(&l)->command);
    ct_load_done(&l);

    /* Errors name the file they are in. */
    const char *c3[] = {
        "services:\n  web:\n    image: a\n",
        "services:\n  web:\n    mem_limit: lots\n",
        NULL,
    };
    assert_int_not_equal(ct_load_files(&l, names, c3, NULL), 0);
    ct_assert_error(&l, "override.yaml:3:16: service \"web\": mem_limit: invalid size \"lots\"");
    ct_load_done(&l);
    const char *c4[] = {"services: [\n", "services:\n  a: {image: x}\n  a: {image: y}\n", NULL};
    assert_int_not_equal(ct_load_files(&l, names, c4, NULL), 0);
    ct_assert_error(&l, "compose.yaml:2:1:");
    ct_assert_error(&l, "\noverride.yaml:3:3: duplicate key \"a\" (first defined at line 2)");
    ct_load_done(&l);
}

static void test_multi_document_file(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: a\n    environment: [A=1]\n"
                             "---\n"
                             "services:\n  web:\n    environment: [B=2]\n",
                             NULL),
                     0);
    char buf[128];
    join(web(&l)->environment, buf, sizeof buf);
    assert_string_equal(buf, "A=1|B=2");
    ct_load_done(&l);
}

static void test_anchors_in_services(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "x-base: &base\n"
                             "  image: common\n"
                             "  environment: &env\n"
                             "    LEVEL: info\n"
                             "  stop_grace_period: 5s\n"
                             "services:\n"
                             "  a:\n"
                             "    <<: *base\n"
                             "  b:\n"
                             "    <<: *base\n"
                             "    image: special\n"
                             "    environment:\n"
                             "      <<: *env\n"
                             "      EXTRA: 1\n",
                             NULL),
                     0);
    const struct service *a = project_service(l.p, "a"), *b = project_service(l.p, "b");
    assert_string_equal(a->image, "common");
    assert_string_equal(b->image, "special");
    assert_int_equal(b->stop_grace_ns, 5000000000LL);
    char buf[128];
    join(b->environment, buf, sizeof buf);
    assert_string_equal(buf, "LEVEL=info|EXTRA=1");
    /* A value that came through an alias points at the anchor's place. */
    assert_int_equal(a->image_pos.line, 2);
    ct_load_done(&l);
}

static void test_stdin(void **state)
{
    static const char doc[] = "services:\n  web:\n    image: from-stdin\n";
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], doc, sizeof doc - 1), (ssize_t)(sizeof doc - 1));
    close(fds[1]);
    int saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    char *tmp = ct_mkdtemp();
    static char *empty[] = {NULL};
    char *files[] = {"-", NULL};
    struct compose_opts o = {.files = files, .environ = empty, .cwd = tmp};
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    int r = compose_load(&o, &p, &e);
    dup2(saved, STDIN_FILENO);
    close(saved);
    if (r != 0)
        fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(r, 0);
    assert_string_equal(project_service(p, "web")->image, "from-stdin");
    assert_string_equal(p->files[0], "-");
    assert_string_equal(p->working_dir, tmp);
    project_free(p);
    ct_rmtree(tmp);
}

static void test_size_cap(void **state)
{
    struct ct_load l;
    char *env[] = {"BERTH_MAX_COMPOSE_BYTES=100", NULL};
    struct ct_buf b = {0};
    ct_printf(&b, "services:\n  web:\n    image: x\n");
    while (b.len < 200)
        ct_printf(&b, "# padding\n");
    assert_int_not_equal(ct_load(&l, b.s, env), 0);
    ct_assert_error(&l, "compose.yaml: file is larger than the limit of 100 bytes; refusing it "
                        "(set BERTH_MAX_COMPOSE_BYTES to raise the limit)");
    ct_load_done(&l);
    char *env_ok[] = {"BERTH_MAX_COMPOSE_BYTES=1k", NULL};
    assert_int_equal(ct_load(&l, b.s, env_ok), 0);
    ct_load_done(&l);
    free(b.s);
    char *env_bad[] = {"BERTH_MAX_COMPOSE_BYTES=lots", NULL};
    assert_int_not_equal(ct_load(&l, "services: {web: {image: x}}\n", env_bad), 0);
    ct_assert_error(&l, "BERTH_MAX_COMPOSE_BYTES: invalid size \"lots\"");
    ct_load_done(&l);

    /* A 1 GiB (sparse) file is refused from its size, before any reading. */
    char *tmp = ct_mkdtemp();
    _cleanup_free_ char *path = ct_write(tmp, "compose.yaml", "services:\n");
    assert_int_equal(truncate(path, 1LL << 30), 0);
    static char *empty[] = {NULL};
    struct compose_opts o = {.environ = empty, .cwd = tmp};
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    double t0 = ct_now();
    assert_int_not_equal(compose_load(&o, &p, &e), 0);
    assert_true(ct_now() - t0 < 1.0);
    assert_non_null(strstr(e.msg, "compose.yaml: file is larger than the limit of 16777216 bytes"));
    berr_clear(&e);
    ct_rmtree(tmp);
}

static void test_hostile_through_loader(void **state)
{
    struct ct_load l;
    assert_int_not_equal(ct_load(&l, "services:\n  web:\n    image: \xff\n", NULL), 0);
    ct_assert_error(&l, "compose.yaml:3:12: invalid leading UTF-8 octet");
    ct_load_done(&l);
    /* A NUL byte in the file (ct_load takes C strings: write it by hand). */
    static const char nul[] = "services:\n  web:\n    image: a\0b\n";
    char *tmp = ct_mkdtemp();
    free(ct_write_n(tmp, "compose.yaml", nul, sizeof nul - 1));
    static char *empty[] = {NULL};
    struct compose_opts o = {.environ = empty, .cwd = tmp};
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    assert_int_not_equal(compose_load(&o, &p, &e), 0);
    assert_non_null(strstr(e.msg, "compose.yaml:3:13: control characters are not allowed"));
    berr_clear(&e);
    ct_rmtree(tmp);
    /* An alias bomb referenced from environment. */
    struct ct_buf b = {0};
    ct_printf(&b, "x-l0: &l0 [A=1]\n");
    for (int i = 1; i <= 9; i++)
        ct_printf(&b, "x-l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i,
                  i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    ct_printf(&b, "services:\n  web:\n    image: x\n    environment: *l9\n");
    double t0 = ct_now();
    assert_int_not_equal(ct_load(&l, b.s, NULL), 0);
    assert_true(ct_now() - t0 < 1.0);
    ct_assert_error(&l, "compose.yaml:");
    ct_assert_error(&l, "refusing it as an alias bomb");
    ct_load_done(&l);
    free(b.s);
}

static void test_unreadable_files(void **state)
{
    char *tmp = ct_mkdtemp();
    _cleanup_free_ char *d = xasprintf("%s/dir.yaml", tmp);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(d, 0755, &e), 0);
    static char *empty[] = {NULL};
    char *files[] = {"missing.yaml", "dir.yaml", NULL};
    struct compose_opts o = {.files = files, .environ = empty, .cwd = tmp};
    struct project *p = NULL;
    assert_int_not_equal(compose_load(&o, &p, &e), 0);
    assert_null(p);
    assert_non_null(strstr(e.msg, "missing.yaml: cannot read: No such file or directory"));
    assert_non_null(strstr(e.msg, "\ndir.yaml: not a regular file"));
    berr_clear(&e);
    ct_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_limit),
        cmocka_unit_test(test_pids_limit),
        cmocka_unit_test(test_stop_signal),
        cmocka_unit_test(test_stop_grace_period),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_image),
        cmocka_unit_test(test_command_entrypoint),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_environment_errors),
        cmocka_unit_test(test_unknown_keys_warn),
        cmocka_unit_test(test_warnings_default_to_stderr),
        cmocka_unit_test(test_services_shape),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_merge_files),
        cmocka_unit_test(test_multi_document_file),
        cmocka_unit_test(test_anchors_in_services),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_hostile_through_loader),
        cmocka_unit_test(test_unreadable_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
