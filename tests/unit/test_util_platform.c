/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for platforms: parsing and normalization as docker and
 * containerd do them, matching, choosing an index entry for a platform and
 * listing an index's platforms; compose's pull_policy schedules; the
 * --format template subset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/ui/gotmpl.h"
#include "compose/units.h"
#include "engine/image/manifest.h"
#include "util/cleanup.h"
#include "util/platform.h"
#include "util/xalloc.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_parse_normalize(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"linux/amd64", "linux/amd64"},    {"linux/x86_64", "linux/amd64"},
        {"linux/x86-64", "linux/amd64"},   {"Linux/AMD64", "linux/amd64"},
        {"linux/amd64/v1", "linux/amd64"}, {"linux/amd64/v3", "linux/amd64/v3"},
        {"linux/aarch64", "linux/arm64"},  {"linux/arm64/v8", "linux/arm64"},
        {"linux/arm64/8", "linux/arm64"},  {"linux/armhf", "linux/arm/v7"},
        {"linux/armel", "linux/arm/v6"},   {"linux/arm", "linux/arm/v7"},
        {"linux/arm/6", "linux/arm/v6"},   {"linux/i386", "linux/386"},
        {"arm64", "linux/arm64"},          {"windows/amd64", "windows/amd64"},
        {"linux/s390x", "linux/s390x"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct platform p;
        struct berr e = BERR_INIT;
        if (platform_parse(ok[i].in, &p, &e) < 0)
            fail_msg("%s: %s", ok[i].in, e.msg);
        char buf[PLATFORM_STR_MAX];
        platform_format(&p, buf, sizeof buf);
        if (strcmp(buf, ok[i].out) != 0)
            fail_msg("%s: got %s, expected %s", ok[i].in, buf, ok[i].out);
    }
    static const char *const bad[] = {"",           "/",           "linux/",     "/amd64",
                                      "a/b/c/d",    "linux//v7",   "linux/am d", "linux/a;b",
                                      "linux/$(x)", "linux/amd64/"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct platform p;
        struct berr e = BERR_INIT;
        if (platform_parse(bad[i], &p, &e) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_non_null(strstr(e.msg, "invalid platform"));
        berr_clear(&e);
    }
    /* "linux" alone is this host's architecture. */
    struct platform p, host;
    assert_int_equal(platform_parse("linux", &p, NULL), 0);
    platform_host(&host);
    assert_string_equal(p.arch, host.arch);
    assert_string_equal(p.os, "linux");
}

static void test_match(void **state)
{
    (void)state;
    struct platform want, have;
    platform_set(&want, "linux", "arm64", NULL);
    platform_set(&have, "linux", "aarch64", "v8");
    assert_true(platform_matches(&want, &have));
    platform_set(&have, "linux", "amd64", NULL);
    assert_false(platform_matches(&want, &have));
    platform_set(&want, "linux", "amd64", NULL);
    platform_set(&have, "linux", "amd64", "v2");
    assert_true(platform_matches(&want, &have)); /* no variant asked for */
    platform_set(&want, "linux", "arm", "v6");
    platform_set(&have, "linux", "armhf", NULL);
    assert_false(platform_matches(&want, &have));
    platform_set(&want, "windows", "amd64", NULL);
    platform_set(&have, "linux", "amd64", NULL);
    assert_false(platform_matches(&want, &have));
}

static void test_index_pick(void **state)
{
    (void)state;
    const char *doc =
        "{\"schemaVersion\":2,\"manifests\":["
        "{\"digest\":\"sha256:" HEX64 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"amd64\",\"variant\":\"v3\"}},"
        "{\"digest\":\"sha256:" HEX64 "\",\"size\":2,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"amd64\"}},"
        "{\"digest\":\"sha256:" HEX64 "\",\"size\":3,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"digest\":\"sha256:" HEX64 "\",\"size\":4,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"arm\",\"variant\":\"v7\"}},"
        "{\"digest\":\"sha256:" HEX64 "\",\"size\":5,\"platform\":{\"os\":\"unknown\","
        "\"architecture\":\"unknown\"},\"annotations\":{\"vnd.docker.reference.type\":"
        "\"attestation-manifest\"}}]}";
    struct oci_index ix;
    struct berr e = BERR_INIT;
    assert_int_equal(index_parse(doc, strlen(doc), "i", &ix, &e), 0);
    static const struct {
        const char *want;
        int pick;
    } cases[] = {
        {"linux/amd64", 1}, /* the exact variant first */
        {"linux/amd64/v3", 0},      {"linux/x86_64", 1},
        {"linux/arm64", 2}, /* v8 is arm64's default */
        {"linux/aarch64/v8", 2},    {"linux/armhf", 3},
        {"linux/arm/v6", -ENOENT},  {"linux/s390x", -ENOENT},
        {"windows/amd64", -ENOENT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct platform p;
        assert_int_equal(platform_parse(cases[i].want, &p, NULL), 0);
        int got = index_pick(&ix, &p);
        if (got != cases[i].pick)
            fail_msg("%s: picked %d, expected %d", cases[i].want, got, cases[i].pick);
    }
    _cleanup_free_ char *list = index_platforms(&ix);
    assert_string_equal(list, "linux/amd64/v3, linux/amd64, linux/arm64, linux/arm/v7");
    index_free(&ix);
}

static void test_pull_refresh(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int64_t ns;
    } cases[] = {
        {"daily", 0, 24 * 3600 * 1000000000LL},
        {"weekly", 0, 7 * 24 * 3600 * 1000000000LL},
        {"every_12h", 0, 12 * 3600 * 1000000000LL},
        {"every_2d", 0, 2 * 24 * 3600 * 1000000000LL},
        {"every_1w", 0, 7 * 24 * 3600 * 1000000000LL},
        {"every_1s", 0, 1000000000LL},
        {"every_1h30m", 0, 5400 * 1000000000LL},
        {"every_", -EINVAL, 0},
        {"every_0s", -EINVAL, 0},
        {"every_-1h", -EINVAL, 0},
        {"every_x", -EINVAL, 0},
        {"every_12", -EINVAL, 0},
        {"always", -ENOENT, 0},
        {"missing", -ENOENT, 0},
        {"Daily", -ENOENT, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t v = 0;
        int rc = pull_refresh_parse(cases[i].in, &v);
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].ns))
            fail_msg("%s: rc %d ns %lld, expected rc %d ns %lld", cases[i].in, rc, (long long)v,
                     cases[i].rc, (long long)cases[i].ns);
    }
}

static void test_template(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:I, s:{s:[s,s], s:n, s:{s:s, s:s}}, s:b}", "Id", "sha256:1",
                          "Size", (json_int_t)42, "Config", "Env", "A=1", "B=2", "Labels", "Ports",
                          "b", "2", "a", "1", "Tty", 0);
    static const struct {
        const char *tmpl, *out;
    } ok[] = {
        {"{{.Id}}", "sha256:1"},
        {"id={{ .Id }} size={{.Size}}", "id=sha256:1 size=42"},
        {"{{.Config.Env}}", "[A=1 B=2]"},
        {"{{json .Config.Env}}", "[\"A=1\",\"B=2\"]"},
        {"{{.Config.Labels}}", "<nil>"},
        {"{{.Config.Ports}}", "map[a:1 b:2]"},
        {"{{.Tty}}", "false"},
        {"{{.Nope}}", "<no value>"},
        {"{{.Config.Nope.Deeper}}", "<no value>"},
        {"plain", "plain"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct berr e = BERR_INIT;
        _cleanup_free_ char *got = gotmpl_render(ok[i].tmpl, v, &e);
        if (!got)
            fail_msg("%s: %s", ok[i].tmpl, e.msg);
        if (strcmp(got, ok[i].out) != 0)
            fail_msg("%s: got \"%s\", expected \"%s\"", ok[i].tmpl, got, ok[i].out);
    }
    static const char *const bad[] = {
        "{{range .X}}{{end}}", "{{.Id | printf}}", "{{.Id", "{{Id}}", "{{.Id.}}", "{{..Id}}"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct berr e = BERR_INIT;
        if (gotmpl_check(bad[i], &e) == 0)
            fail_msg("\"%s\" accepted", bad[i]);
        berr_clear(&e);
    }
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_normalize), cmocka_unit_test(test_match),
        cmocka_unit_test(test_index_pick),      cmocka_unit_test(test_pull_refresh),
        cmocka_unit_test(test_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
