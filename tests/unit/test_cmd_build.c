/* SPDX-License-Identifier: Apache-2.0 */
/* The pure decisions of building from the commands (cmd/cmd_build.c):
 * when up and run build a service (its image present or not, --build,
 * --no-build, pull_policy: build), and the build args the builder gets
 * (the file's, --build-arg over them, a bare KEY from the environment).
 * The builds themselves run in the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cmd/build.h"
#include "util/cleanup.h"
#include "util/strv.h"

static void test_decide(void **state)
{
    (void)state;
    static const struct {
        bool has_build, pull_build, present;
        enum cli_build_when when;
        enum cli_build_decision want;
    } t[] = {
        {false, false, false, BUILD_MISSING, BUILD_SKIP}, /* pulled, not built */
        {false, false, false, BUILD_ALWAYS, BUILD_SKIP},
        {true, false, false, BUILD_MISSING, BUILD_RUN}, /* compose's default */
        {true, false, true, BUILD_MISSING, BUILD_SKIP},
        {true, false, true, BUILD_ALWAYS, BUILD_RUN}, /* --build */
        {true, true, true, BUILD_MISSING, BUILD_RUN}, /* pull_policy: build */
        {true, false, true, BUILD_NEVER, BUILD_SKIP}, /* --no-build */
        {true, false, false, BUILD_NEVER, BUILD_MISSING_REFUSED},
        {true, true, true, BUILD_NEVER, BUILD_SKIP}, /* --no-build wins */
        {true, true, false, BUILD_NEVER, BUILD_MISSING_REFUSED},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct service s = {
            .name = "web", .has_build = t[i].has_build, .pull_build = t[i].pull_build};
        enum cli_build_decision got = cli_build_decide(&s, t[i].present, t[i].when);
        if (got != t[i].want) {
            fprintf(stderr, "row %zu: got %d, want %d\n", i, got, t[i].want);
            fail();
        }
    }
}

static void test_args(void **state)
{
    (void)state;
    char *file[] = {"A=1", "B=2", "C=", NULL};
    char *env[] = {"FROM_ENV=e", "B=env-not-used", NULL};
    static const struct {
        char *flags[4];
        const char *want;
    } t[] = {
        {{NULL}, "A=1|B=2|C="},
        {{"B=flag", NULL}, "A=1|B=flag|C="},           /* a flag overrides the file */
        {{"NEW=x", NULL}, "A=1|B=2|C=|NEW=x"},         /* and adds */
        {{"FROM_ENV", NULL}, "A=1|B=2|C=|FROM_ENV=e"}, /* bare: the environment's */
        {{"UNSET", NULL}, "A=1|B=2|C="},               /* bare and unset: left out */
        {{"A", NULL}, "A=1|B=2|C="},                   /* bare, unset: the file's stays */
        {{"C=3", "C=4", NULL}, "A=1|B=2|C=4"},         /* the last flag wins */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        _cleanup_strv_ char **got = cli_build_args(file, t[i].flags, env);
        _cleanup_free_ char *j = strv_join(got, "|");
        if (strcmp(j, t[i].want) != 0) {
            fprintf(stderr, "row %zu: got [%s], want [%s]\n", i, j, t[i].want);
            fail();
        }
    }
    _cleanup_strv_ char **none = cli_build_args(NULL, NULL, env);
    assert_true(!none || !none[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
