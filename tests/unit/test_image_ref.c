/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the image module's parsers: references, digests, image
 * configs, manifests and indexes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/image/digest.h"
#include "engine/image/imgconfig.h"
#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_ref_table(void **state)
{
    static const struct {
        const char *in, *norm, *familiar;
    } ok[] = {
        {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
        {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest"},
        {"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"berth-test/busybox-oci:gzip", "docker.io/berth-test/busybox-oci:gzip",
         "berth-test/busybox-oci:gzip"},
        {"localhost/foo", "localhost/foo:latest", "localhost/foo:latest"},
        {"localhost:5000/a/b:v1", "localhost:5000/a/b:v1", "localhost:5000/a/b:v1"},
        {"ghcr.io/org/app:1.0-rc_1", "ghcr.io/org/app:1.0-rc_1", "ghcr.io/org/app:1.0-rc_1"},
        {"a__b/c.d-e:T_ag", "docker.io/a__b/c.d-e:T_ag", "a__b/c.d-e:T_ag"},
        {"busybox@sha256:" HEX64, "docker.io/library/busybox@sha256:" HEX64,
         "busybox@sha256:" HEX64},
        {"busybox:1@sha256:" HEX64, "docker.io/library/busybox:1@sha256:" HEX64,
         "busybox:1@sha256:" HEX64},
        {"Registry.Example.com/x", "Registry.Example.com/x:latest",
         "Registry.Example.com/x:latest"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct imgref r;
        struct berr e = BERR_INIT;
        int rc = ref_parse(ok[i].in, &r, &e);
        if (rc < 0)
            fail_msg("%s: %s", ok[i].in, e.msg);
        _cleanup_free_ char *n = ref_string(&r);
        _cleanup_free_ char *f = ref_familiar(&r);
        assert_string_equal(n, ok[i].norm);
        assert_string_equal(f, ok[i].familiar);
        _cleanup_free_ char *back = ref_familiarize(n);
        assert_string_equal(back, ok[i].familiar);
        ref_free(&r);
    }
    static const char *const bad[] = {
        "",
        "Busybox",
        "busybox:",
        ":tag",
        "busybox:-x",
        "a//b",
        "a/",
        "/a",
        "../x",
        "a/../b",
        "busybox:"
        "x"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "busybox@sha256:abc",
        "busybox@md5:" HEX64,
        "busybox@sha256:" HEX64 "0",
        HEX64,
        "a b",
        "-a/b",
        "a-/b:1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct imgref r;
        struct berr e = BERR_INIT;
        if (ref_parse(bad[i], &r, &e) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(e.msg);
        assert_non_null(strstr(e.msg, "reference"));
        berr_clear(&e);
    }
}

static void test_digest_validation(void **state)
{
    assert_true(digest_is_valid("sha256:" HEX64));
    static const char *const bad[] = {
        "sha256:../x",
        "sha256:../../" HEX64,
        "sha256:"
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "sha256:" HEX64 "0",
        "sha512:" HEX64 HEX64,
        "md5:0123456789abcdef0123456789abcdef",
        ":" HEX64,
        HEX64,
        "sha256:" HEX64 "/",
        "",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_false(digest_is_valid(bad[i]));
        struct berr e = BERR_INIT;
        assert_int_equal(digest_validate(bad[i], "index.json", &e), -EINVAL);
        assert_non_null(strstr(e.msg, "index.json"));
        berr_clear(&e);
    }
    assert_false(digest_is_valid(NULL));
    char d[DIGEST_STR_SIZE];
    sha256_digest("abc", 3, d);
    assert_string_equal(d,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    struct sha256 *h = sha256_new();
    sha256_update(h, "a", 1);
    sha256_update(h, "bc", 2);
    sha256_final(h, d);
    sha256_free(h);
    assert_string_equal(d,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_config_parse(void **state)
{
    const char *cfg =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
        "\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
        "\"Cmd\":[\"echo hi\"],\"WorkingDir\":\"/w\",\"User\":\"app\",\"StopSignal\":\"SIGINT\"},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]}}";
    struct imgconfig c;
    struct berr e = BERR_INIT;
    assert_int_equal(imgconfig_parse(cfg, strlen(cfg), "config", &c, &e), 0);
    assert_string_equal(c.created, "2024-01-01T00:00:00Z");
    assert_string_equal(c.env[1], "A=1");
    assert_null(c.env[2]);
    assert_string_equal(c.entrypoint[0], "/bin/sh");
    assert_string_equal(c.cmd[0], "echo hi");
    assert_string_equal(c.working_dir, "/w");
    assert_string_equal(c.user, "app");
    assert_string_equal(c.stop_signal, "SIGINT");
    assert_int_equal(c.n_diff_ids, 1);
    imgconfig_free(&c);

    /* Null config keys are absent, not errors. */
    const char *nulls = "{\"config\":{\"Cmd\":null,\"Entrypoint\":null},"
                        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    assert_int_equal(imgconfig_parse(nulls, strlen(nulls), "config", &c, &e), 0);
    assert_null(c.cmd);
    assert_null(c.created);
    assert_null(c.volumes);
    imgconfig_free(&c);

    /* VOLUMEs: the object's keys, sorted; a count cap. */
    const char *vols = "{\"config\":{\"Volumes\":{\"/var/lib/db\":{},\"/../../etc\":{},"
                       "\"rel\":{}}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    assert_int_equal(imgconfig_parse(vols, strlen(vols), "config", &c, &e), 0);
    assert_string_equal(c.volumes[0], "/../../etc");
    assert_string_equal(c.volumes[1], "/var/lib/db");
    assert_string_equal(c.volumes[2], "rel");
    assert_null(c.volumes[3]);
    imgconfig_free(&c);
    char *many = xstrdup("{\"config\":{\"Volumes\":{");
    for (int i = 0; i < 10000; i++) {
        char *n = xasprintf("%s%s\"/v%d\":{}", many, i ? "," : "", i);
        free(many);
        many = n;
    }
    char *doc = xasprintf("%s}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", many);
    free(many);
    assert_int_equal(imgconfig_parse(doc, strlen(doc), "config", &c, &e), -E2BIG);
    assert_non_null(strstr(e.msg, "10000 Volumes declared (at most 256)"));
    berr_clear(&e);
    free(doc);

    static const char *const bad[] = {
        "[]",
        "{\"rootfs\":{\"type\":\"layers\"}}",
        "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:../x\"]}}",
        "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]},\"config\":"
        "{\"Cmd\":\"sh\"}}",
        "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
        "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Volumes\":[\"/a\"]}}",
        "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Volumes\":{\"\":{}}}}",
        "{\"a\":1,\"a\":2,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
        "{",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (imgconfig_parse(bad[i], strlen(bad[i]), "cfg.json", &c, &e) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(e.msg, "cfg.json"));
        berr_clear(&e);
    }
    /* Size cap before parsing. */
    size_t big = IMAGE_JSON_MAX + 1;
    char *buf = xmalloc(big);
    memset(buf, ' ', big);
    assert_int_equal(imgconfig_parse(buf, big, "huge", &c, &e), -EFBIG);
    free(buf);
    berr_clear(&e);

    long long t;
    assert_int_equal(rfc3339_parse("2024-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 1704067200);
    assert_int_equal(rfc3339_parse("2024-01-01T02:00:00.123456789+02:00", &t), 0);
    assert_int_equal(t, 1704067200);
    assert_true(rfc3339_parse("yesterday", &t) < 0);
    assert_true(rfc3339_parse(NULL, &t) < 0);
}

static void test_manifest_parse(void **state)
{
    struct berr e = BERR_INIT;
    const char *m = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
                    "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"sha256:" HEX64
                    "\",\"size\":10},\"layers\":[{\"mediaType\":\"" MT_OCI_LAYER
                    "+zstd\",\"digest\":\"sha256:" HEX64 "\",\"size\":5}]}";
    struct oci_manifest om;
    assert_int_equal(manifest_parse(m, strlen(m), "m", &om, &e), 0);
    assert_int_equal(om.n_layers, 1);
    assert_int_equal(om.layers[0].size, 5);
    manifest_free(&om);

    /* Type confusion (CVE-2021-41190) and bad digests are refused. */
    const char *both =
        "{\"schemaVersion\":2,\"manifests\":[],\"config\":{\"digest\":\"sha256:" HEX64
        "\",\"size\":1},\"layers\":[]}";
    assert_true(manifest_parse(both, strlen(both), "m", &om, &e) < 0);
    berr_clear(&e);
    const char *ix_both = "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}";
    struct oci_index ix;
    assert_true(index_parse(ix_both, strlen(ix_both), "i", &ix, &e) < 0);
    berr_clear(&e);
    const char *trav = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:../../x\","
                       "\"size\":1}]}";
    assert_true(index_parse(trav, strlen(trav), "index.json", &ix, &e) < 0);
    assert_non_null(strstr(e.msg, "invalid digest"));
    berr_clear(&e);
    const char *neg =
        "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:" HEX64 "\",\"size\":-1}]}";
    assert_true(index_parse(neg, strlen(neg), "i", &ix, &e) < 0);
    berr_clear(&e);
    const char *badlayer = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" HEX64
                           "\",\"size\":1},\"layers\":[{\"mediaType\":\"text/html\","
                           "\"digest\":\"sha256:" HEX64 "\",\"size\":1}]}";
    assert_true(manifest_parse(badlayer, strlen(badlayer), "m", &om, &e) < 0);
    berr_clear(&e);

    /* Platform choice skips attestations and other architectures. */
    _cleanup_free_ char *plat =
        xasprintf("{\"schemaVersion\":2,\"manifests\":["
                  "{\"digest\":\"sha256:" HEX64 "\",\"size\":1,\"platform\":{\"os\":\"linux\","
                  "\"architecture\":\"s390x-not\"}},"
                  "{\"digest\":\"sha256:" HEX64 "\",\"size\":2,\"platform\":{\"os\":\"unknown\","
                  "\"architecture\":\"unknown\"},\"annotations\":{\"vnd.docker.reference.type\":"
                  "\"attestation-manifest\"}},"
                  "{\"digest\":\"sha256:" HEX64 "\",\"size\":3,\"platform\":{\"os\":\"linux\","
                  "\"architecture\":\"%s\"}}]}",
                  platform_host_arch());
    assert_int_equal(index_parse(plat, strlen(plat), "i", &ix, &e), 0);
    assert_int_equal(index_pick_platform(&ix), 2);
    index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ref_table),
        cmocka_unit_test(test_digest_validation),
        cmocka_unit_test(test_config_parse),
        cmocka_unit_test(test_manifest_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
