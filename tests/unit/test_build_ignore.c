/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the .dockerignore matcher (engine/build/build.h), with
 * the cases of docker's documentation and moby/patternmatcher's rules:
 * comments, cleaning, '*' '?' '[...]' '**', '!' exceptions in order,
 * directories excluding what is below them, and the walker's question
 * "could anything below this excluded directory come back". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/build.h"
#include "util/xalloc.h"

static struct dockerignore *load(const char *text)
{
    struct dockerignore *di = NULL;
    struct berr e = BERR_INIT;
    int r = dockerignore_parse(".dockerignore", text, strlen(text), &di, &e);
    if (r < 0)
        print_error("unexpected error: %s\n", e.msg);
    berr_clear(&e);
    assert_int_equal(r, 0);
    return di;
}

/* patterns; path; excluded? */
static const struct {
    const char *patterns, *path;
    bool excluded;
} cases[] = {
    /* docker's documentation */
    {"# comment\n*/temp*\n", "somedir/temporary.txt", true},
    {"*/temp*\n", "somedir/temp", true},
    {"*/temp*\n", "temp", false},
    {"*/temp*\n", "a/b/temp", false},
    {"*/*/temp*\n", "somedir/subdir/temporary.txt", true},
    {"*/*/temp*\n", "somedir/temporary.txt", false},
    {"temp?\n", "tempa", true},
    {"temp?\n", "temp", false},
    {"temp?\n", "tempab", false},
    {"**/*.go\n", "a/b/c.go", true},
    {"**/*.go\n", "c.go", true},
    {"**/*.go\n", "c.gox", false},
    {"*.md\n!README*.md\nREADME-secret.md\n", "README.md", false},
    {"*.md\n!README*.md\nREADME-secret.md\n", "README-secret.md", true},
    {"*.md\n!README*.md\nREADME-secret.md\n", "other.md", true},
    {"*.md\nREADME-secret.md\n!README*.md\n", "README-secret.md", false},
    /* cleaning: leading / and ./, trailing /, blanks */
    {"/secret\n", "secret", true},
    {"./secret\n", "secret", true},
    {"  build/  \n", "build/x/y.o", true},
    {"a//b/../c\n", "a/c", true},
    {"secret\n", "./secret", true},
    /* a directory excludes everything below it */
    {"node_modules\n", "node_modules/x/index.js", true},
    {"node_modules\n", "src/node_modules", false},
    {"**/node_modules\n", "src/node_modules/x", true},
    /* '*' stays within a segment */
    {"*\n", "a/b", true}, /* "a" matches, so a/b is below it */
    {"a/*\n", "a/b/c", true},
    {"a/*.c\n", "a/b/c.c", false},
    /* ** forms */
    {"a/**\n", "a/b/c", true},
    {"a/**\n", "a", false},
    {"a/**/b\n", "a/b", true},
    {"a/**/b\n", "a/x/y/b", true},
    {"a/**/b\n", "a/x/y/bb", false},
    /* classes and escapes */
    {"[a-c].txt\n", "b.txt", true},
    {"[a-c].txt\n", "d.txt", false},
    {"[^a-c].txt\n", "d.txt", true},
    {"\\*.txt\n", "*.txt", true},
    {"\\*.txt\n", "a.txt", false},
    {"a.c\n", "abc", false}, /* '.' is literal */
    {"a+(b)\n", "a+(b)", true},
    /* exceptions re-include below an excluded directory */
    {"docs\n!docs/keep.md\n", "docs/keep.md", false},
    {"docs\n!docs/keep.md\n", "docs/other.md", true},
    {"!x\n", "x", false},
    {"", "anything", false},
    {"# only a comment\n\n", "anything", false},
    {"!  spaced\nspaced\n", "spaced", true},
    {"*\n!src\nsrc/*.tmp\n", "src/a.c", false},
    {"*\n!src\nsrc/*.tmp\n", "src/a.tmp", true},
    {"*\n!src\nsrc/*.tmp\n", "Dockerfile", true},
    /* '#' starts a comment only as the first character */
    {" # x\n", "# x", true},
    {"\xef\xbb\xbf# bom\n", "\xef\xbb\xbf# bom", false},
    /* "**" then plain characters: a suffix */
    {"**foo\n", "barfoo", true},
    {"**foo\n", "a/barfoo", true},
    {"**/foo\n", "foo", true},
    {"**/foo\n", "barfoo", false},
    /* '!' in a class is a member, '^' negates */
    {"[!a]\n", "!", true},
    {"[!a]\n", "b", false},
};

static void test_matching(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dockerignore *di = load(cases[i].patterns);
        bool got = dockerignore_excluded(di, cases[i].path);
        if (got != cases[i].excluded)
            print_error("case %zu: \"%s\" with [%s]: got %d\n", i, cases[i].path, cases[i].patterns,
                        got);
        assert_int_equal(got, cases[i].excluded);
        dockerignore_free(di);
    }
}

static void test_may_reinclude(void **state)
{
    (void)state;
    struct dockerignore *di = load("node_modules\n.git\n!node_modules/keep/**\n!**/*.keep\n");
    assert_true(dockerignore_may_reinclude(di, "node_modules"));
    assert_true(dockerignore_may_reinclude(di, "node_modules/keep"));
    assert_true(dockerignore_may_reinclude(di, ".git")); /* **: anything may */
    dockerignore_free(di);

    di = load("node_modules\n.git\nbuild\n!build/out\n!src/*/keep\n");
    assert_false(dockerignore_may_reinclude(di, "node_modules"));
    assert_false(dockerignore_may_reinclude(di, ".git"));
    assert_true(dockerignore_may_reinclude(di, "build"));
    assert_true(dockerignore_may_reinclude(di, "build/out"));
    assert_true(dockerignore_may_reinclude(di, "build/out/deep"));
    assert_false(dockerignore_may_reinclude(di, "build/other"));
    assert_true(dockerignore_may_reinclude(di, "src/a"));
    assert_false(dockerignore_may_reinclude(di, "src/a/b"));
    dockerignore_free(di);

    di = load("*\n!b*\n");
    assert_true(dockerignore_may_reinclude(di, "bin"));
    assert_true(dockerignore_may_reinclude(di, "bin/x"));
    assert_false(dockerignore_may_reinclude(di, "lib"));
    dockerignore_free(di);
    assert_false(dockerignore_may_reinclude(NULL, "x") == false);
}

static void test_errors(void **state)
{
    (void)state;
    const struct {
        const char *text, *msg;
    } bad[] = {
        {"ok\n# fine\n[a-\n", ".dockerignore:3: bad pattern: [a-"},
        {"a\n\nb[\n", ".dockerignore:3: bad pattern: b["},
        {"x\\\n", ".dockerignore:1: bad pattern: x\\"},
        {"!a[]\n", ".dockerignore:1: bad pattern: a[]"},
        {"a\n ! \n", ".dockerignore:2: illegal exclusion pattern: \"!\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dockerignore *di = NULL;
        struct berr e = BERR_INIT;
        assert_true(dockerignore_parse(".dockerignore", bad[i].text, strlen(bad[i].text), &di, &e) <
                    0);
        assert_null(di);
        assert_string_equal(e.msg, bad[i].msg);
        berr_clear(&e);
    }
    size_t n = DI_MAX_BYTES + 1;
    char *big = xmalloc(n);
    memset(big, 'a', n);
    struct dockerignore *di = NULL;
    struct berr e = BERR_INIT;
    assert_true(dockerignore_parse(".dockerignore", big, n, &di, &e) < 0);
    assert_non_null(strstr(e.msg, "larger than"));
    berr_clear(&e);
    /* the pattern cap */
    for (size_t i = 0; i + 1 < n; i += 2) {
        big[i] = 'a';
        big[i + 1] = '\n';
    }
    assert_true(dockerignore_parse(".dockerignore", big, (DI_MAX_PATTERNS + 1) * 2, &di, &e) < 0);
    assert_string_equal(e.msg, ".dockerignore:10001: more than 10000 patterns");
    berr_clear(&e);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_may_reinclude),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
