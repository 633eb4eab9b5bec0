/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven tests of interpolation (compose-go's template rules), .env
 * parsing (compose-go's dotenv rules), and their use by the loader: the
 * shell's variables over .env, --env-file, errors naming file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose/dotenv.h"
#include "compose/interp.h"
#include "compose_testutil.h"

static void test_interp_table(void **state)
{
    char *vars[] = {"A=a",     "EMPTY=", "B=bee",      "NUM=8080", "X_1=x1",
                    "lower=l", "SP=a b", "DOLLAR=$$x", NULL};
    struct envtab t = {0};
    envtab_add(&t, vars);
    struct interp ip = {interp_envtab_lookup, &t, NULL};
    static const struct {
        const char *in, *out, *err;
    } cases[] = {
        {"plain", "plain", NULL},
        {"$A", "a", NULL},
        {"${A}", "a", NULL},
        {"x${A}y", "xay", NULL},
        {"$A$B", "abee", NULL},
        {"$Ab", "", NULL}, /* the name is "Ab" */
        {"${UNSET}", "", NULL},
        {"$UNSET-x", "-x", NULL},
        {"${UNSET:-def}", "def", NULL},
        {"${UNSET-def}", "def", NULL},
        {"${EMPTY:-def}", "def", NULL},
        {"${EMPTY-def}", "", NULL},
        {"${A:-def}", "a", NULL},
        {"${UNSET:-}", "", NULL},
        {"${A:+rep}", "rep", NULL},
        {"${EMPTY:+rep}", "", NULL},
        {"${EMPTY+rep}", "rep", NULL},
        {"${UNSET+rep}", "", NULL},
        {"${UNSET:-${B}}", "bee", NULL},
        {"${UNSET:-${ALSO:-${A}}}", "a", NULL},
        {"${UNSET:-x:y}", "x:y", NULL},
        {"${UNSET:-{a}}", "{a}", NULL},
        {"${UNSET-:2283:2283}", ":2283:2283", NULL},
        {"$$", "$", NULL},
        {"$$A", "$A", NULL},
        {"$${A}", "${A}", NULL},
        {"$$$$", "$$", NULL},
        {"a $ b", "a $ b", NULL},
        {"100$", "100$", NULL},
        {"$1", "$1", NULL},
        {"${NUM}:80", "8080:80", NULL},
        {"${X_1}", "x1", NULL},
        {"${lower}", "l", NULL},
        {"${SP}", "a b", NULL},
        {"${DOLLAR}", "$$x", NULL}, /* values are not re-interpolated */
        {"${A:?must be set}", "a", NULL},
        {"${UNSET:?must be set}", NULL, "required variable UNSET is missing a value: must be set"},
        {"${EMPTY:?oops}", NULL, "required variable EMPTY is missing a value: oops"},
        {"${EMPTY?oops}", "", NULL},
        {"${UNSET?}", NULL, "required variable UNSET is missing a value"},
        {"${UNSET:?need ${A}}", NULL, "missing a value: need a"},
        {"${A", NULL, "invalid interpolation format: unterminated \"${\""},
        {"${}", NULL, "invalid interpolation format: \"${}\""},
        {"${ A}", NULL, "invalid interpolation format"},
        {"${A/x/y}", NULL, "invalid interpolation format: \"${A/x/y}\""},
        {"${A:x}", NULL, "invalid interpolation format"},
        {"${1A}", NULL, "invalid interpolation format"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *out = NULL, *err = NULL;
        size_t len;
        int r = interp_string(&ip, cases[i].in, strlen(cases[i].in), &out, &len, &err);
        if (cases[i].err) {
            if (r == 0 || !strstr(err, cases[i].err)) {
                fprintf(stderr, "[%s]: expected error [%s], got [%s]\n", cases[i].in, cases[i].err,
                        r == 0 ? out : err);
                fail();
            }
        } else if (r != 0 || strcmp(out, cases[i].out) != 0) {
            fprintf(stderr, "[%s]: expected [%s], got [%s]\n", cases[i].in, cases[i].out,
                    r == 0 ? out : err);
            fail();
        }
        free(out);
        free(err);
    }
    envtab_free(&t);
}

static void test_interp_depth(void **state)
{
    struct envtab t = {0};
    struct interp ip = {interp_envtab_lookup, &t, NULL};
    struct ct_buf b = {0};
    for (int i = 0; i < 10000; i++)
        ct_printf(&b, "${A%d:-", i);
    ct_printf(&b, "x");
    for (int i = 0; i < 10000; i++)
        ct_printf(&b, "}");
    char *out = NULL, *err = NULL;
    size_t len;
    double t0 = ct_now();
    assert_int_equal(interp_string(&ip, b.s, b.len, &out, &len, &err), -EINVAL);
    assert_true(ct_now() - t0 < 1.0);
    assert_non_null(strstr(err, "nested deeper than"));
    free(err);
    free(b.s);
    /* A huge name is fine (and fast). */
    struct ct_buf n = {0};
    ct_printf(&n, "${");
    for (int i = 0; i < 65536; i++)
        ct_printf(&n, "A");
    ct_printf(&n, ":-ok}");
    assert_int_equal(interp_string(&ip, n.s, n.len, &out, &len, &err), 0);
    assert_string_equal(out, "ok");
    free(out);
    free(n.s);
}

static void test_dotenv_table(void **state)
{
    char *vars[] = {"SHELL_ONLY=sh", "OVER=fromshell", NULL};
    struct envtab t = {0};
    envtab_add(&t, vars);
    static const struct {
        const char *in, *out; /* out: entries joined with "|" */
        const char *err;
    } cases[] = {
        {"A=1\nB=2\n", "A=1|B=2", NULL},
        {"# comment\n\n  \nA=1", "A=1", NULL},
        {"export A=1\nexport  B=2", "A=1|B=2", NULL},
        {"A = spaced  \n", "A=spaced", NULL},
        {"A=x # comment\nB=x#notcomment", "A=x|B=x#notcomment", NULL},
        {"A='single $SHELL_ONLY \\n'", "A=single $SHELL_ONLY \\n", NULL},
        /* \' is a quote inside single quotes; other backslashes stay. */
        {"A='Let\\'s go!'", "A=Let's go!", NULL},
        {"A='a\\b\\\\'", "A=a\\b\\\\", NULL},
        {"A=\"double $SHELL_ONLY\"", "A=double sh", NULL},
        {"A=\"esc\\n\\t\\\\\\\"\\$X\"", "A=esc\n\t\\\"$X", NULL},
        {"A=\"multi\nline\"\nB=2", "A=multi\nline|B=2", NULL},
        {"A='multi\nline'", "A=multi\nline", NULL},
        {"A=\"q\" # trailing comment", "A=q", NULL},
        {"A=", "A=", NULL},
        {"A=1\r\nB=2\r\n", "A=1|B=2", NULL},
        {"A=1\nB=${A}2\nC=$B", "A=1|B=12|C=12", NULL},
        {"OVER=file\nD=$OVER", "OVER=file|D=fromshell", NULL},
        {"SHELL_ONLY\nNOT_SET\n", "SHELL_ONLY=sh", NULL},
        {"A=1\nA=2\n", "A=2", NULL},
        {"A=${MISSING:-dflt}", "A=dflt", NULL},
        {"dotted.key-x=1", "dotted.key-x=1", NULL},
        {"A=\"unterminated\n", NULL, "t.env:1: unterminated double-quoted value"},
        {"A='x' junk", NULL, "t.env:1: unexpected text after the closing quote"},
        {"ok=1\n=novalue", NULL, "t.env:2: invalid line"},
        {"A=1\nB C=2", NULL, "t.env:2: invalid line"},
        {"A=${B:?needed}", NULL, "t.env:1: required variable B is missing a value: needed"},
        {"A=\"x\ny\"\nB=\"z", NULL, "t.env:3: unterminated"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct diag d = {0};
        char **out = NULL;
        int r = dotenv_parse(cases[i].in, strlen(cases[i].in), "t.env", &t, false, &d, &out);
        if (cases[i].err) {
            if (r == 0 || !d.errors || !strstr(d.errors[0], cases[i].err)) {
                fprintf(stderr, "[%s]: expected error [%s], got [%s]\n", cases[i].in, cases[i].err,
                        d.errors ? d.errors[0] : "(none)");
                fail();
            }
        } else {
            struct ct_buf b = {0};
            ct_printf(&b, "%s", "");
            for (size_t j = 0; r == 0 && out[j]; j++)
                ct_printf(&b, "%s%s", j ? "|" : "", out[j]);
            if (r != 0 || strcmp(b.s, cases[i].out) != 0) {
                fprintf(stderr, "[%s]: expected [%s], got [%s] %s\n", cases[i].in, cases[i].out,
                        b.s, d.errors ? d.errors[0] : "");
                fail();
            }
            free(b.s);
        }
        strv_free(out);
        diag_free(&d);
    }
    /* format: raw keeps everything as written. */
    struct diag d = {0};
    char **out = NULL;
    const char *raw = "A='q' # c\nB=$X\n";
    assert_int_equal(dotenv_parse(raw, strlen(raw), "t.env", &t, true, &d, &out), 0);
    assert_string_equal(out[0], "A='q' # c");
    assert_string_equal(out[1], "B=$X");
    strv_free(out);
    envtab_free(&t);
}

static void test_dotenv_huge(void **state)
{
    /* 200k lines each referring to the line above: linear. */
    struct ct_buf b = {0};
    ct_printf(&b, "V0=x\n");
    for (int i = 1; i < 200000; i++)
        ct_printf(&b, "V%d=${V%d}\n", i, i - 1);
    struct diag d = {0};
    char **out = NULL;
    double t0 = ct_now();
    assert_int_equal(dotenv_parse(b.s, b.len, "big.env", NULL, false, &d, &out), 0);
    assert_true(ct_now() - t0 < 5.0);
    assert_string_equal(out[199999], "V199999=x");
    strv_free(out);
    free(b.s);
}

static const struct service *svc(const struct ct_load *l, const char *name)
{
    if (!l->p) {
        fprintf(stderr, "load failed: %s\n", l->e.msg);
        fail();
    }
    return project_service(l->p, name);
}

static const char *env_of(const struct service *s, const char *key)
{
    return strv_env_get(s->environment, key);
}

static void test_loader_interpolation(void **state)
{
    char *env[] = {"TAG=1.25", "PORT=8080", "SHELLWINS=shell", "HOME=/root", NULL};
    const char *names[] = {"compose.yaml", "+.env", NULL};
    const char *contents[] = {
        "name: ${PROJ:-demo}\n"
        "services:\n"
        "  web:\n"
        "    image: nginx:${TAG}\n"
        "    command: [\"echo\", \"$$HOME\", \"${FROM_DOTENV}\"]\n"
        "    environment:\n"
        "      A: ${SHELLWINS}\n"
        "      B: ${UNSET_VAR}\n"
        "      C: ${UNSET_VAR:-x}\n"
        "      FROM_DOTENV:\n"
        "      ${KEY}: keys are not interpolated\n"
        "    mem_limit: ${MEM:-64m}\n"
        "    tty: ${TTY:-true}\n"
        "    stop_grace_period: ${GRACE}\n",
        "FROM_DOTENV=dot\nSHELLWINS=dotenv\nGRACE=3s\nPROJ=fromenv\n",
    };
    struct ct_load l;
    assert_int_equal(ct_load_files(&l, names, contents, env), 0);
    const struct service *s = svc(&l, "web");
    assert_string_equal(l.p->name, "fromenv");
    assert_string_equal(s->image, "nginx:1.25");
    assert_string_equal(s->command[1], "$HOME");
    assert_string_equal(s->command[2], "dot");
    assert_string_equal(env_of(s, "A"), "shell");
    assert_string_equal(env_of(s, "B"), "");
    assert_string_equal(env_of(s, "C"), "x");
    assert_string_equal(env_of(s, "FROM_DOTENV"), "dot");
    assert_string_equal(env_of(s, "${KEY}"), "keys are not interpolated");
    assert_int_equal(s->mem_limit, 64LL << 20);
    assert_true(s->tty);
    assert_int_equal(s->stop_grace_ns, 3000000000LL);
    ct_assert_warned(&l, "compose.yaml:8:10: The \"UNSET_VAR\" variable is not set. Defaulting to "
                         "a blank string.");
    /* Once per variable. */
    size_t n = 0;
    for (size_t i = 0; l.w.msgs[i]; i++)
        n += strstr(l.w.msgs[i], "UNSET_VAR") != NULL;
    assert_int_equal(n, 1);
    ct_load_done(&l);
}

static void test_loader_errors(void **state)
{
    struct ct_load l;
    assert_int_not_equal(ct_load(&l,
                                 "services:\n"
                                 "  web:\n"
                                 "    image: ${IMAGE:?set IMAGE to the image to run}\n"
                                 "    hostname: ${BROKEN\n",
                                 NULL),
                         0);
    ct_assert_error(&l, "compose.yaml:3:12: required variable IMAGE is missing a value: set IMAGE "
                        "to the image to run");
    ct_assert_error(&l, "compose.yaml:4:15: invalid interpolation format: unterminated \"${\"");
    ct_load_done(&l);
    const char *names[] = {"compose.yaml", "+.env", NULL};
    const char *contents[] = {"services:\n  web:\n    image: x\n", "GOOD=1\nBAD LINE\n"};
    assert_int_not_equal(ct_load_files(&l, names, contents, NULL), 0);
    ct_assert_error(&l, ".env:2: invalid line");
    ct_load_done(&l);
}

static void test_env_file_flag(void **state)
{
    char *tmp = ct_mkdtemp();
    char *dir = xasprintf("%s/proj", tmp);
    free(ct_write(dir, "compose.yaml", "services:\n  web:\n    image: img:${V}\n"));
    free(ct_write(dir, ".env", "V=dotenv\n"));
    free(ct_write(dir, "a.env", "V=a\nW=a\n"));
    free(ct_write(dir, "b.env", "V=b\n"));
    char *env[] = {NULL};
    char *files[] = {"a.env", "b.env", NULL};
    struct compose_opts o = {.environ = env, .cwd = dir, .env_files = files};
    struct project *p = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(compose_load(&o, &p, &e), 0);
    assert_string_equal(p->services[0].image, "img:a"); /* the first file wins */
    project_free(p);
    char *missing[] = {"nope.env", NULL};
    o.env_files = missing;
    assert_int_not_equal(compose_load(&o, &p, &e), 0);
    assert_non_null(strstr(e.msg, "couldn't find env file"));
    berr_clear(&e);
    /* COMPOSE_DISABLE_ENV_FILE skips .env. */
    char *env2[] = {"COMPOSE_DISABLE_ENV_FILE=1", NULL};
    struct compose_opts o2 = {.environ = env2, .cwd = dir};
    assert_int_equal(compose_load(&o2, &p, &e), 0);
    assert_string_equal(p->services[0].image, "img:");
    project_free(p);
    o2.environ = env;
    assert_int_equal(compose_load(&o2, &p, &e), 0);
    assert_string_equal(p->services[0].image, "img:dotenv");
    project_free(p);
    /* --no-interpolate leaves the text alone. */
    o2.no_interpolate = true;
    assert_int_equal(compose_load(&o2, &p, &e), 0);
    assert_string_equal(p->services[0].image, "img:${V}");
    project_free(p);
    free(dir);
    ct_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interp_table),         cmocka_unit_test(test_interp_depth),
        cmocka_unit_test(test_dotenv_table),         cmocka_unit_test(test_dotenv_huge),
        cmocka_unit_test(test_loader_interpolation), cmocka_unit_test(test_loader_errors),
        cmocka_unit_test(test_env_file_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
