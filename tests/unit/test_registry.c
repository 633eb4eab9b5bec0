/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for pulling's pure logic: where a registry answers (endpoint),
 * which registries this version can pull from, references as a pull names
 * them, and the manifest documents registries answer (Docker schema 2
 * manifest list and manifest, platform choice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "engine/registry/config.h"
#include "engine/registry/registry.h"
#include "scratch.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* With no configuration: HTTPS, verified, but for loopback hosts (as
 * docker: unverified HTTPS, then plain HTTP). */
static void test_endpoint_table(void **state)
{
    static const struct {
        const char *ref, *base;
        bool loopback;
    } rows[] = {
        {"busybox", "https://registry-1.docker.io", false},
        {"docker.io/library/redis:7", "https://registry-1.docker.io", false},
        {"index.docker.io/x/y", "https://registry-1.docker.io", false},
        {"ghcr.io/org/app:1.2", "https://ghcr.io", false},
        {"registry.example:5000/a/b", "https://registry.example:5000", false},
        {"127.0.0.1:5000/test/busybox", "https://127.0.0.1:5000", true},
        {"127.1.2.3:80/x", "https://127.1.2.3:80", true},
        {"localhost:5000/x", "https://localhost:5000", true},
        {"localhost/x", "https://localhost", true},
        {"[::1]:5000/x", "https://[::1]:5000", true},
        {"128.0.0.1:5000/x", "https://128.0.0.1:5000", false},
        {"10.0.0.1:5000/x", "https://10.0.0.1:5000", false},
        {"localhost.example:5000/x", "https://localhost.example:5000", false},
        {"127.0.0.1.example:5000/x", "https://127.0.0.1.example:5000", false},
        {"[::2]:5000/x", "https://[::2]:5000", false},
    };
    char *dir = scratch_dir("endpoints");
    _cleanup_free_ char *config = xasprintf("%s/config.json", dir);
    FILE *f = fopen(config, "w");
    assert_non_null(f);
    fputs("{}", f);
    fclose(f);
    setenv("BERTH_CONFIG", config, 1);
    setenv("BERTH_CERTS_D", dir, 1);
    struct registry_config cfg = {0};
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        _cleanup_imgref_ struct imgref r = {0};
        struct berr e = BERR_INIT;
        if (ref_parse(rows[i].ref, &r, &e) < 0)
            fail_msg("%s: %s", rows[i].ref, e.msg);
        struct registry_endpoint *eps = NULL;
        size_t n = registry_endpoints(&cfg, r.domain, &eps);
        assert_int_equal(n, 1);
        if (strcmp(eps[0].base, rows[i].base) != 0 || eps[0].verify == rows[i].loopback ||
            eps[0].http_fallback != rows[i].loopback || eps[0].plain_http || eps[0].mirror)
            fail_msg("%s: %s (verify %d, fallback %d), want %s", rows[i].ref, eps[0].base,
                     eps[0].verify, eps[0].http_fallback, rows[i].base);
        registry_endpoints_free(eps, n);
        /* every registry is pullable (authentication is not missing) */
        assert_true(registry_pull_supported(r.domain, NULL));
    }
    unsetenv("BERTH_CONFIG");
    unsetenv("BERTH_CERTS_D");
    scratch_remove(dir);
}

static void test_pull_refs(void **state)
{
    static const struct {
        const char *in, *domain, *path, *tag, *digest;
    } rows[] = {
        {"127.0.0.1:5000/test/busybox:1", "127.0.0.1:5000", "test/busybox", "1", NULL},
        {"127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", NULL},
        {"localhost:5000/x@sha256:" HEX_A, "localhost:5000", "x", NULL, "sha256:" HEX_A},
        {"redis:7", "docker.io", "library/redis", "7", NULL},
        {"org/app", "docker.io", "org/app", "latest", NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        _cleanup_imgref_ struct imgref r = {0};
        assert_int_equal(ref_parse(rows[i].in, &r, NULL), 0);
        assert_string_equal(r.domain, rows[i].domain);
        assert_string_equal(r.path, rows[i].path);
        if (rows[i].tag)
            assert_string_equal(r.tag, rows[i].tag);
        else
            assert_null(r.tag);
        if (rows[i].digest)
            assert_string_equal(r.digest, rows[i].digest);
        else
            assert_null(r.digest);
    }
}

static void test_accept_header(void **state)
{
    assert_non_null(strstr(registry_manifest_accept, MT_OCI_MANIFEST));
    assert_non_null(strstr(registry_manifest_accept, MT_OCI_INDEX));
    assert_non_null(strstr(registry_manifest_accept, MT_DOCKER_MANIFEST));
    assert_non_null(strstr(registry_manifest_accept, MT_DOCKER_LIST));
}

/* A Docker manifest list as registries serve it: windows and another
 * architecture come first; linux and this host's architecture is chosen. */
static void test_docker_list_platform(void **state)
{
    _cleanup_free_ char *list = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"sha256:" HEX_A "\",\"size\":7,"
        "\"platform\":{\"architecture\":\"%s\",\"os\":\"windows\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"sha256:" HEX_B "\",\"size\":8,"
        "\"platform\":{\"architecture\":\"not-%s\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"sha256:" HEX_C "\",\"size\":9,"
        "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
        platform_host_arch(), platform_host_arch(), platform_host_arch());
    struct descriptor top = {.media_type = MT_DOCKER_LIST};
    assert_true(descriptor_is_index(&top));
    struct oci_index ix;
    struct berr e = BERR_INIT;
    assert_int_equal(index_parse(list, strlen(list), "list", &ix, &e), 0);
    int pick = index_pick_platform(&ix);
    assert_int_equal(pick, 2);
    assert_string_equal(ix.manifests[pick].digest, "sha256:" HEX_C);
    assert_int_equal(ix.manifests[pick].size, 9);
    index_free(&ix);

    /* No manifest for this platform: none is chosen. */
    _cleanup_free_ char *other = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
        "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"sha256:" HEX_A "\",\"size\":7,"
        "\"platform\":{\"architecture\":\"not-%s\",\"os\":\"linux\"}}]}",
        platform_host_arch());
    assert_int_equal(index_parse(other, strlen(other), "index", &ix, &e), 0);
    assert_int_equal(index_pick_platform(&ix), -ENOENT);
    index_free(&ix);
}

/* A Docker schema 2 manifest (gzip layers) parses as an image manifest;
 * it is not taken for an index. */
static void test_docker_manifest(void **state)
{
    const char *m =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
        "\"digest\":\"sha256:" HEX_A "\",\"size\":385},\"layers\":["
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":"
        "\"sha256:" HEX_B "\",\"size\":1088169},"
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":"
        "\"sha256:" HEX_C "\",\"size\":12}]}";
    struct descriptor top = {.media_type = MT_DOCKER_MANIFEST};
    assert_false(descriptor_is_index(&top));
    struct oci_manifest om;
    struct berr e = BERR_INIT;
    assert_int_equal(manifest_parse(m, strlen(m), "manifest", &om, &e), 0);
    assert_string_equal(om.config.digest, "sha256:" HEX_A);
    assert_int_equal(om.n_layers, 2);
    assert_string_equal(om.layers[1].digest, "sha256:" HEX_C);
    assert_int_equal(om.layers[0].size, 1088169);
    manifest_free(&om);
    /* An index served as a manifest is refused, not read as an image. */
    const char *ix = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[]}";
    assert_true(manifest_parse(ix, strlen(ix), "manifest", &om, &e) < 0);
    berr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_table),  cmocka_unit_test(test_pull_refs),
        cmocka_unit_test(test_accept_header),   cmocka_unit_test(test_docker_list_platform),
        cmocka_unit_test(test_docker_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
