/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the compose value syntaxes: sizes, durations, the shell
 * word splitter of command/entrypoint, and the lexical path helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compose/path.h"
#include "compose/shellwords.h"
#include "compose/units.h"
#include "util/cleanup.h"
#include "util/strv.h"

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)

static const struct {
    const char *in;
    int rc;
    int64_t bytes;
} size_cases[] = {
    {"0", 0, 0},
    {"100", 0, 100},
    {"100b", 0, 100},
    {"100B", 0, 100},
    {"512k", 0, 512 * KiB},
    {"512kb", 0, 512 * KiB},
    {"512KiB", 0, 512 * KiB},
    {"32m", 0, 32 * MiB},
    {"32MB", 0, 32 * MiB},
    {"32mi", 0, 32 * MiB},
    {"1g", 0, GiB},
    {"1G", 0, GiB},
    {"1gb", 0, GiB},
    {"1.5g", 0, GiB + GiB / 2},
    {"0.5m", 0, MiB / 2},
    {"2 g", 0, 2 * GiB},
    {"1t", 0, 1024 * GiB},
    {"1p", 0, 1024 * 1024 * GiB},
    {"1.", 0, 1},
    {".5k", 0, 512},
    {"12x", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"g", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"1gg", -EINVAL, 0},
    {"1bb", -EINVAL, 0},
    {"1kib2", -EINVAL, 0},
    {"1 ", 0, 1}, /* go-units takes a trailing blank as "no unit" */
    {" 1", -EINVAL, 0},
    {"1  g", -EINVAL, 0},
    {"1.2.3", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {"99999999999p", -ERANGE, 0},
};

static void test_sizes(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
        int64_t v = -42;
        int rc = parse_size(size_cases[i].in, &v);
        if (rc != size_cases[i].rc || (rc == 0 && v != size_cases[i].bytes)) {
            fprintf(stderr, "parse_size(\"%s\"): rc %d value %lld, expected rc %d value %lld\n",
                    size_cases[i].in, rc, (long long)v, size_cases[i].rc,
                    (long long)size_cases[i].bytes);
            fail();
        }
    }
}

#define SEC 1000000000LL

static const struct {
    const char *in;
    int rc;
    int64_t ns;
} duration_cases[] = {
    {"0", 0, 0},
    {"10s", 0, 10 * SEC},
    {"1m30s", 0, 90 * SEC},
    {"1.5s", 0, 1500000000LL},
    {"100ms", 0, 100000000LL},
    {"2h", 0, 7200 * SEC},
    {"1h2m3s4ms5us6ns", 0, 3723 * SEC + 4005006LL},
    {"3\xC2\xB5s", 0, 3000},
    {"1d", 0, 86400 * SEC},
    {"1w", 0, 7 * 86400 * SEC},
    {".5s", 0, SEC / 2},
    {"+5s", 0, 5 * SEC},
    {"-1s", 0, -SEC},
    {"0s", 0, 0},
    {"10", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"s", -EINVAL, 0},
    {"abc", -EINVAL, 0},
    {"1x", -EINVAL, 0},
    {"1 s", -EINVAL, 0},
    {"1s ", -EINVAL, 0},
    {".s", -EINVAL, 0},
    {"1.2.3s", -EINVAL, 0},
    {"-", -EINVAL, 0},
    {"9999999999h", -ERANGE, 0},
};

static void test_durations(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(duration_cases); i++) {
        int64_t v = -42;
        int rc = parse_duration(duration_cases[i].in, &v);
        if (rc != duration_cases[i].rc || (rc == 0 && v != duration_cases[i].ns)) {
            fprintf(stderr, "parse_duration(\"%s\"): rc %d value %lld, expected rc %d value %lld\n",
                    duration_cases[i].in, rc, (long long)v, duration_cases[i].rc,
                    (long long)duration_cases[i].ns);
            fail();
        }
    }
}

/* Words joined with "|" for comparison; "" words show as "". */
static const struct {
    const char *in;
    const char *words;
    long stop;
} split_cases[] = {
    {"echo hello", "echo|hello", -1},
    {"  a \t b\n c  ", "a|b|c", -1},
    {"", "", -1},
    {"   ", "", -1},
    {"a \"b c\" d", "a|b c|d", -1},
    {"a 'b c'", "a|b c", -1},
    {"a\\ b", "a b", -1},
    {"\\ ", " ", -1},
    {"\"a\\\"b\"", "a\"b", -1},
    {"'a\\b'", "a\\b", -1},
    {"\"a\\\\b\"", "a\\b", -1},
    {"\"a\\nb\"", "anb", -1},
    {"\"\"", "\"\"", -1},
    {"''", "\"\"", -1},
    {"a \"\" b", "a|\"\"|b", -1},
    {"a\"b\"c", "abc", -1},
    {"a'b'\"c\"", "abc", -1},
    {"'it'\\''s'", "it's", -1},
    {"sh -c 'echo $HOME; ls'", "sh|-c|echo $HOME; ls", -1},
    {"echo $HOME ${X}", "echo|$HOME|${X}", -1},
    {"echo $(date +%s) x", "echo|$(date +%s)|x", -1},
    {"echo `a b` c", "echo|`a b`|c", -1},
    {"a;b", "a", 1},
    {"echo a && echo b", "echo|a", 7},
    {"a | b", "a", 2},
    {"cmd > out", "cmd", 4},
    {"cmd 2>/dev/null", "cmd", 5},
    {"a '&&' b", "a|&&|b", -1},
    {"a \\; b", "a|;|b", -1},
};

static void test_shellwords(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(split_cases); i++) {
        _cleanup_strv_ char **argv = NULL;
        long stop = -2;
        const char *err = NULL;
        int rc = shellwords_split(split_cases[i].in, &argv, &stop, &err);
        char joined[256] = "";
        for (size_t j = 0; rc == 0 && argv[j]; j++) {
            if (j)
                strcat(joined, "|");
            strcat(joined, argv[j][0] ? argv[j] : "\"\"");
        }
        if (rc != 0 || strcmp(joined, split_cases[i].words) != 0 || stop != split_cases[i].stop) {
            fprintf(stderr, "split [%s]: rc %d words [%s] stop %ld (%s)\n", split_cases[i].in, rc,
                    joined, stop, err ? err : "");
            fail();
        }
    }
}

static void test_shellwords_errors(void **state)
{
    static const struct {
        const char *in, *err;
    } cases[] = {
        {"\"abc", "unterminated double quote"},
        {"'abc", "unterminated single quote"},
        {"abc\\", "trailing backslash"},
        {"a `b", "unterminated backquote"},
        {"a $(b", "unterminated $("},
        {"a (b)", "unexpected \"(\""},
        {"a )", "unexpected \")\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char **argv = NULL;
        long stop;
        const char *err = NULL;
        assert_int_equal(shellwords_split(cases[i].in, &argv, &stop, &err), -EINVAL);
        assert_null(argv);
        assert_non_null(err);
        if (!strstr(err, cases[i].err)) {
            fprintf(stderr, "[%s]: %s\n", cases[i].in, err);
            fail();
        }
    }
}

static void test_paths(void **state)
{
    static const struct {
        const char *base, *p, *abs;
    } cases[] = {
        {"/w", "compose.yaml", "/w/compose.yaml"},
        {"/w", "./a/../b.yml", "/w/b.yml"},
        {"/w/x", "../../../../c", "/c"},
        {"/w", "/abs//d/./e/", "/abs/d/e"},
        {"/", "a", "/a"},
        {"/w", ".", "/w"},
        {"/w", "..", "/"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *a = path_absolute(cases[i].base, cases[i].p);
        assert_string_equal(a, cases[i].abs);
    }
    _cleanup_free_ char *d1 = path_dirname("/a/b");
    _cleanup_free_ char *d2 = path_dirname("/a");
    _cleanup_free_ char *d3 = path_dirname("/");
    assert_string_equal(d1, "/a");
    assert_string_equal(d2, "/");
    assert_string_equal(d3, "/");
    assert_string_equal(path_basename("/a/My Proj"), "My Proj");
    assert_string_equal(path_basename("/"), "/");
    _cleanup_free_ char *s1 = path_display("/w", "/w/compose.yaml");
    _cleanup_free_ char *s2 = path_display("/w/sub", "/w/compose.yaml");
    _cleanup_free_ char *s3 = path_display("/w", "/wx/compose.yaml");
    _cleanup_free_ char *s4 = path_display("/", "/compose.yaml");
    assert_string_equal(s1, "compose.yaml");
    assert_string_equal(s2, "/w/compose.yaml");
    assert_string_equal(s3, "/wx/compose.yaml");
    assert_string_equal(s4, "compose.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),      cmocka_unit_test(test_durations),
        cmocka_unit_test(test_shellwords), cmocka_unit_test(test_shellwords_errors),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
