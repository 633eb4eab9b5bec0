/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for registry authentication's pure parts: WWW-Authenticate
 * challenges (several, quoted commas, escapes, malformed and hostile
 * values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/registry/auth.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define S(x) ((x) ? (x) : "(null)")

static void test_challenges(void **state)
{
    static const struct {
        const char *in;
        int n;
        const char *scheme, *realm, *service, *scope, *error; /* of the first */
        const char *second;                                   /* the second's scheme */
    } rows[] = {
        {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
         "scope=\"repository:library/redis:pull\"",
         1, "bearer", "https://auth.docker.io/token", "registry.docker.io",
         "repository:library/redis:pull", NULL, NULL},
        {"Basic realm=\"berth-test\"", 1, "basic", "berth-test", NULL, NULL, NULL, NULL},
        {"basic", 1, "basic", NULL, NULL, NULL, NULL, NULL},
        {"BEARER Realm=x , SERVICE = \"s\"", 1, "bearer", "x", "s", NULL, NULL, NULL},
        /* commas and escapes inside quotes; two scopes in one value */
        {"Bearer realm=\"https://a/t?x=1,y=2\",scope=\"repository:a:pull repository:b:pull\","
         "error=\"insufficient_scope\"",
         1, "bearer", "https://a/t?x=1,y=2", NULL, "repository:a:pull repository:b:pull",
         "insufficient_scope", NULL},
        {"Bearer realm=\"a\\\"b\\\\c\"", 1, "bearer", "a\"b\\c", NULL, NULL, NULL, NULL},
        /* several challenges, in one value or joined header lines */
        {"Basic realm=\"r\", Bearer realm=\"https://t\",service=\"s\"", 2, "basic", "r", NULL, NULL,
         NULL, "bearer"},
        {"Negotiate abc==, Basic realm=\"r\"", 2, "negotiate", NULL, NULL, NULL, NULL, "basic"},
        {"Negotiate abcdef, Basic realm=\"r\"", 2, "negotiate", NULL, NULL, NULL, NULL, "basic"},
        {"Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
         2, "newauth", "apps", NULL, NULL, NULL, "basic"},
        {"", 0, NULL, NULL, NULL, NULL, NULL, NULL},
        {" , ,", 0, NULL, NULL, NULL, NULL, NULL, NULL},
        /* a repeated parameter: the first counts */
        {"Bearer realm=a,realm=b", 1, "bearer", "a", NULL, NULL, NULL, NULL},
        /* malformed */
        {"Bearer realm=\"unterminated", -1, NULL, NULL, NULL, NULL, NULL, NULL},
        {"realm=\"x\"", -1, NULL, NULL, NULL, NULL, NULL, NULL},
        {"Bearer realm=\"x\\", -1, NULL, NULL, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct registry_challenge ch[REGISTRY_CHALLENGES_MAX] = {0};
        struct berr e = BERR_INIT;
        int n = registry_challenges_parse(rows[i].in, ch, ARRAY_SIZE(ch), &e);
        if (rows[i].n < 0) {
            if (n >= 0)
                fail_msg("%s: parsed (%d), want an error", rows[i].in, n);
            assert_non_null(e.msg);
            berr_clear(&e);
            continue;
        }
        if (n != rows[i].n)
            fail_msg("%s: %d challenges, want %d (%s)", rows[i].in, n, rows[i].n, S(e.msg));
        if (n > 0) {
            const char *got[] = {ch[0].scheme, ch[0].realm, ch[0].service, ch[0].scope,
                                 ch[0].error};
            const char *want[] = {rows[i].scheme, rows[i].realm, rows[i].service, rows[i].scope,
                                  rows[i].error};
            for (size_t k = 0; k < ARRAY_SIZE(got); k++)
                if (strcmp(S(got[k]), S(want[k])) != 0)
                    fail_msg("%s: field %zu is %s, want %s", rows[i].in, k, S(got[k]), S(want[k]));
        }
        if (rows[i].second)
            assert_string_equal(ch[1].scheme, rows[i].second);
        assert_non_null(registry_challenge_find(ch, (size_t)n, n > 0 ? ch[0].scheme : "x") ||
                        n == 0);
        registry_challenges_free(ch, (size_t)n);
    }
}

/* Hostile values: every prefix of a long mixed value, many challenges
 * (only the first max kept), a value over the cap. No crash, no leak
 * (the sanitizer build), never more than max. */
static void test_challenges_hostile(void **state)
{
    const char *seed = "Bearer realm=\"https://a,b\\\"c\",service=s, Basic realm=x, "
                       "Negotiate tok68==, =,=\"\",\"q\"=1 ,, x y z=\"";
    for (size_t len = 0; len <= strlen(seed); len++) {
        _cleanup_free_ char *v = xstrndup(seed, len);
        struct registry_challenge ch[3] = {0};
        int n = registry_challenges_parse(v, ch, ARRAY_SIZE(ch), NULL);
        assert_true(n <= 3);
        if (n > 0)
            registry_challenges_free(ch, (size_t)n);
    }
    _cleanup_free_ char *many = xstrdup("");
    for (int i = 0; i < 50; i++) {
        char *next = xasprintf("%sS%d realm=r, ", many, i);
        free(many);
        many = next;
    }
    struct registry_challenge ch[REGISTRY_CHALLENGES_MAX] = {0};
    int n = registry_challenges_parse(many, ch, ARRAY_SIZE(ch), NULL);
    assert_int_equal(n, REGISTRY_CHALLENGES_MAX);
    assert_string_equal(ch[0].scheme, "s0");
    registry_challenges_free(ch, (size_t)n);
    _cleanup_free_ char *huge = xmalloc(REGISTRY_CHALLENGE_MAX + 2);
    memset(huge, 'a', REGISTRY_CHALLENGE_MAX + 1);
    huge[REGISTRY_CHALLENGE_MAX + 1] = '\0';
    struct berr e = BERR_INIT;
    assert_true(registry_challenges_parse(huge, ch, ARRAY_SIZE(ch), &e) < 0);
    berr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_challenges_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
