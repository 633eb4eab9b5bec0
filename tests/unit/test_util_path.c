/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the lexical path normaliser (util/path.h), one table run
 * in each of the three ways its callers use it: compose and the plan
 * (absolute result, a relative input taken from the root) and the
 * runtime's mount targets (absolute input only, result relative to the
 * root). Not here: compose's base-directory joins (test_compose_units.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/path.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* in; as compose and the plan get it; as the runtime gets it (NULL:
 * -EINVAL, a relative input). */
static const struct {
    const char *in, *abs, *rel;
} cases[] = {
    /* escapes (containerd CVE-2022-23648: image VOLUMEs with traversal):
     * ".." at the root stays at the root */
    {"/..", "/", ""},
    {"/../../etc/passwd", "/etc/passwd", "etc/passwd"},
    {"/a/../../..", "/", ""},
    {"/a/b/../../../c", "/c", "c"},
    {"/proc/../../proc/self", "/proc/self", "proc/self"},
    /* repeated slashes */
    {"//", "/", ""},
    {"///a//b///c", "/a/b/c", "a/b/c"},
    /* trailing dots and slashes */
    {"/a/b/", "/a/b", "a/b"},
    {"/a/b/.", "/a/b", "a/b"},
    {"/a/b/..", "/a", "a"},
    {"/a/b/./", "/a/b", "a/b"},
    {"/a/..", "/", ""},
    /* "." segments */
    {"/./a/./b/.", "/a/b", "a/b"},
    {"/.", "/", ""},
    /* the root */
    {"/", "/", ""},
    /* names that only look special are names */
    {"/...", "/...", "..."},
    {"/a/.../b", "/a/.../b", "a/.../b"},
    {"/..a/b..", "/..a/b..", "..a/b.."},
    {"/.hidden", "/.hidden", ".hidden"},
    {"/a/ /b", "/a/ /b", "a/ /b"},
    /* empty and relative inputs: from the root, or refused */
    {"", "/", NULL},
    {".", "/", NULL},
    {"..", "/", NULL},
    {"data", "/data", NULL},
    {"../../etc", "/etc", NULL},
    {"a/./b/../c/", "/a/c", NULL},
    {"...", "/...", NULL},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        char buf[PATH_MAX];
        _cleanup_free_ char *dup = path_normalize_dup(cases[i].in);
        if (strcmp(dup, cases[i].abs) != 0)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].in, dup, cases[i].abs);
        assert_int_equal(path_normalize(cases[i].in, 0, buf, sizeof buf), 0);
        assert_string_equal(buf, cases[i].abs);
        int r = path_normalize(cases[i].in, PATH_NORM_ABSOLUTE_ONLY | PATH_NORM_STRIP_ROOT, buf,
                               sizeof buf);
        if (!cases[i].rel) {
            assert_int_equal(r, -EINVAL);
            continue;
        }
        if (r != 0 || strcmp(buf, cases[i].rel) != 0)
            fail_msg("\"%s\" (mount target): rc %d \"%s\", want \"%s\"", cases[i].in, r, buf,
                     cases[i].rel);
        /* and relative without ABSOLUTE_ONLY: the same */
        assert_int_equal(path_normalize(cases[i].in, PATH_NORM_STRIP_ROOT, buf, sizeof buf), 0);
        assert_string_equal(buf, cases[i].rel);
    }
}

static void test_bounds(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(path_normalize(NULL, 0, buf, sizeof buf), -EINVAL);
    /* exactly fits: "/abcdef" and its NUL */
    assert_int_equal(path_normalize("/abcdef", 0, buf, 8), 0);
    assert_string_equal(buf, "/abcdef");
    assert_int_equal(path_normalize("/abcdefg", 0, buf, 8), -ENAMETOOLONG);
    assert_int_equal(path_normalize("/abcdefgh", PATH_NORM_STRIP_ROOT, buf, 8), -ENAMETOOLONG);
    assert_int_equal(path_normalize("/abcdefg", PATH_NORM_STRIP_ROOT, buf, 8), 0);
    /* a segment that does not fit is too long even when a later ".." would
     * remove it (as the runtime has always had it) */
    assert_int_equal(path_normalize("/abcdefghij/../x", 0, buf, 8), -ENAMETOOLONG);
    assert_int_equal(path_normalize("/", 0, buf, 1), -ENAMETOOLONG);
    assert_int_equal(path_normalize("/", PATH_NORM_STRIP_ROOT, buf, 1), 0);
    assert_string_equal(buf, "");
    assert_int_equal(path_normalize("/", PATH_NORM_STRIP_ROOT, buf, 0), -ENAMETOOLONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
