/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for registry authentication's pure parts: WWW-Authenticate
 * challenges (several, quoted commas, escapes, malformed and hostile
 * values), Docker's config.json (key forms, auth and username/password,
 * helpers, malformed files), login's SERVER names, and login/logout
 * writing the file (mode, other keys kept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/registry/auth.h"
#include "engine/registry/registry.h"
#include "scratch.h"
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

static void test_base64(void **state)
{
    static const char *const texts[] = {"", "a", "ab", "abc", "alice:s3cret", "u:p:with:colons"};
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        _cleanup_free_ char *b = registry_base64(texts[i], strlen(texts[i]));
        _cleanup_free_ char *back = NULL;
        size_t len = 99;
        assert_int_equal(registry_unbase64(b, &back, &len), 0);
        assert_int_equal(len, strlen(texts[i]));
        assert_string_equal(back, texts[i]);
    }
    _cleanup_free_ char *b = registry_base64("alice:s3cret", 12);
    assert_string_equal(b, "YWxpY2U6czNjcmV0");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(registry_unbase64("abc", &out, &len), -EINVAL);
    assert_int_equal(registry_unbase64("a!c=", &out, &len), -EINVAL);
    assert_null(out);
}

static void test_config_entries(void **state)
{
    /* YWxpY2U6czNjcmV0 = alice:s3cret; Ym9iOnB3 = bob:pw */
    static const struct {
        const char *doc, *domain;
        int r;
        const char *user, *password;
        bool helpers;
    } rows[] = {
        {"{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"YWxpY2U6czNjcmV0\"}}}", "127.0.0.1:5000", 1,
         "alice", "s3cret", false},
        {"{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnB3\"}}}", "docker.io", 1,
         "bob", "pw", false},
        {"{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"Ym9iOnB3\"}}}", "docker.io", 1, "bob",
         "pw", false},
        {"{\"auths\":{\"http://127.0.0.1:5000/v2/\":{\"username\":\"alice\",\"password\":\"x\"}}}",
         "127.0.0.1:5000", 1, "alice", "x", false},
        {"{\"auths\":{\"GHCR.IO\":{\"auth\":\"Ym9iOnB3\"}}}", "ghcr.io", 1, "bob", "pw", false},
        {"{\"auths\":{\"https://ghcr.io\":{\"auth\":\"Ym9iOnB3\"}}}", "ghcr.io", 1, "bob", "pw",
         false},
        /* the exact key wins over a URL form */
        {"{\"auths\":{\"https://r:1/v1/\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
         "\"r:1\":{\"auth\":\"Ym9iOnB3\"}}}",
         "r:1", 1, "bob", "pw", false},
        /* none for this registry; another port is another registry */
        {"{\"auths\":{\"127.0.0.1:5001\":{\"auth\":\"Ym9iOnB3\"}}}", "127.0.0.1:5000", 0, NULL,
         NULL, false},
        {"{}", "docker.io", 0, NULL, NULL, false},
        {"{\"auths\":{\"r:1\":{}}}", "r:1", 0, NULL, NULL, false},
        /* helpers are reported; auths still used */
        {"{\"credsStore\":\"desktop\",\"auths\":{\"r:1\":{\"auth\":\"Ym9iOnB3\"}}}", "r:1", 1,
         "bob", "pw", true},
        {"{\"credHelpers\":{\"r:1\":\"pass\"}}", "r:1", 0, NULL, NULL, true},
        {"{\"credHelpers\":{\"other:1\":\"pass\"}}", "r:1", 0, NULL, NULL, false},
        /* an identity token alone is an entry (not used for pulls) */
        {"{\"auths\":{\"r:1\":{\"identitytoken\":\"t\"}}}", "r:1", 1, NULL, NULL, false},
        /* malformed */
        {"{\"auths\":{", "r:1", -1, NULL, NULL, false},
        {"[]", "r:1", -1, NULL, NULL, false},
        {"{\"auths\":[]}", "r:1", -1, NULL, NULL, false},
        {"{\"auths\":{\"r:1\":\"x\"}}", "r:1", -1, NULL, NULL, false},
        {"{\"auths\":{\"r:1\":{\"auth\":\"bm9jb2xvbg==\"}}}", "r:1", -1, NULL, NULL, false},
        {"{\"auths\":{\"r:1\":{\"auth\":\"!!!!\"}}}", "r:1", -1, NULL, NULL, false},
        {"{\"auths\":{},\"auths\":{}}", "r:1", -1, NULL, NULL, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct registry_creds c = {0};
        struct berr e = BERR_INIT;
        int r = registry_creds_parse(rows[i].doc, strlen(rows[i].doc), "/x/config.json",
                                     rows[i].domain, &c, &e);
        if (rows[i].r < 0) {
            if (r >= 0)
                fail_msg("%s: accepted, want an error", rows[i].doc);
            if (!strstr(e.msg, "/x/config.json"))
                fail_msg("%s: the error does not name the file: %s", rows[i].doc, e.msg);
            berr_clear(&e);
            registry_creds_clear(&c);
            continue;
        }
        if (r != rows[i].r)
            fail_msg("%s: %d, want %d (%s)", rows[i].doc, r, rows[i].r, S(e.msg));
        if (strcmp(S(c.user), S(rows[i].user)) != 0 ||
            strcmp(S(c.password), S(rows[i].password)) != 0 || c.helpers != rows[i].helpers)
            fail_msg("%s: %s/%s helpers %d", rows[i].doc, S(c.user), S(c.password), c.helpers);
        registry_creds_clear(&c);
    }
}

static void test_server_domain(void **state)
{
    static const struct {
        const char *in, *want; /* want NULL: refused */
    } rows[] = {
        {NULL, "docker.io"},
        {"", "docker.io"},
        {"docker.io", "docker.io"},
        {"index.docker.io", "docker.io"},
        {"https://index.docker.io/v1/", "docker.io"},
        {"registry-1.docker.io", "docker.io"},
        {"127.0.0.1:5000", "127.0.0.1:5000"},
        {"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"},
        {"GHCR.io", "ghcr.io"},
        {"[::1]:5000", "[::1]:5000"},
        {"https://", NULL},
        {"user@host", NULL},
        {"a b", NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct berr e = BERR_INIT;
        _cleanup_free_ char *d = registry_server_domain(rows[i].in, &e);
        if (strcmp(S(d), S(rows[i].want)) != 0)
            fail_msg("%s: %s, want %s", S(rows[i].in), S(d), S(rows[i].want));
        if (!d)
            assert_non_null(e.msg);
        berr_clear(&e);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = xcalloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_save_erase(void **state)
{
    char *dir = scratch_dir("registry_auth");
    _cleanup_free_ char *path = xasprintf("%s/new/config.json", dir);
    struct berr e = BERR_INIT;
    bool helpers = true;
    /* a new file in a new 0700 directory, 0600 */
    assert_int_equal(registry_creds_save(path, "r:1", "alice", "s3cret", &helpers, &e), 0);
    assert_false(helpers);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    _cleanup_free_ char *parent = xasprintf("%s/new", dir);
    assert_int_equal(stat(parent, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    struct registry_creds c = {0};
    assert_int_equal(registry_creds_load(path, "r:1", &c, &e), 1);
    assert_string_equal(c.user, "alice");
    assert_string_equal(c.password, "s3cret");
    registry_creds_clear(&c);
    /* docker.io under docker's key; the other keys kept */
    FILE *f = fopen(path, "w");
    fputs("{\"psFormat\":\"x\",\"credsStore\":\"desktop\",\"auths\":{\"r:1\":{\"auth\":"
          "\"Ym9iOnB3\"}}}",
          f);
    fclose(f);
    assert_int_equal(registry_creds_save(path, "docker.io", "bob", "pw", &helpers, &e), 0);
    assert_true(helpers);
    _cleanup_free_ char *text = slurp(path);
    assert_non_null(strstr(text, "\"psFormat\": \"x\""));
    assert_non_null(strstr(text, "\"https://index.docker.io/v1/\""));
    assert_non_null(strstr(text, "\"r:1\""));
    /* erase: every key naming the registry; 0 when none */
    assert_int_equal(registry_creds_erase(path, "docker.io", &e), 1);
    assert_int_equal(registry_creds_erase(path, "docker.io", &e), 0);
    assert_int_equal(registry_creds_load(path, "r:1", &c, &e), 1);
    registry_creds_clear(&c);
    _cleanup_free_ char *missing = xasprintf("%s/none/config.json", dir);
    assert_int_equal(registry_creds_erase(missing, "r:1", &e), 0);
    assert_int_equal(registry_creds_load(missing, "r:1", &c, &e), 0);
    /* a malformed file is an error naming it, and is left as it was */
    f = fopen(path, "w");
    fputs("{\"auths\":", f);
    fclose(f);
    assert_true(registry_creds_save(path, "r:1", "a", "b", &helpers, &e) < 0);
    assert_non_null(strstr(e.msg, path));
    berr_clear(&e);
    _cleanup_free_ char *after = slurp(path);
    assert_string_equal(after, "{\"auths\":");
    assert_true(registry_creds_erase(path, "r:1", &e) < 0);
    berr_clear(&e);
    scratch_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenges),    cmocka_unit_test(test_challenges_hostile),
        cmocka_unit_test(test_base64),        cmocka_unit_test(test_config_entries),
        cmocka_unit_test(test_server_domain), cmocka_unit_test(test_save_erase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
