/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for how the user tells berth to reach registries: the
 * configuration file (insecure registries with names and CIDRs, docker.io
 * mirrors, and its errors), the endpoints a pull tries, certs.d, and the
 * proxy a request takes (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/registry/config.h"
#include "engine/registry/registry.h"
#include "scratch.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static int parse(const char *text, struct registry_config *cfg, struct berr *e)
{
    return registry_config_parse(text, strlen(text), "/etc/berth/config.json", cfg, e);
}

static void test_config_parse(void **state)
{
    struct registry_config cfg;
    struct berr e = BERR_INIT;
    /* daemon.json's other keys are ignored, so one can be copied as is */
    assert_int_equal(parse("{\"debug\": true, \"insecure-registries\": [\"Reg.Example:5000\", "
                           "\"10.0.0.0/8\", \"fd00::/8\", \"plain.example\"], "
                           "\"registry-mirrors\": [\"https://m1.example/\", "
                           "\"http://127.0.0.1:5001\"], \"log-driver\": \"json-file\"}",
                           &cfg, &e),
                     0);
    assert_int_equal(strv_len(cfg.insecure), 2);
    assert_string_equal(cfg.insecure[0], "reg.example:5000");
    assert_int_equal(cfg.n_cidrs, 2);
    assert_int_equal(strv_len(cfg.mirrors), 2);
    assert_string_equal(cfg.mirrors[0], "https://m1.example");
    assert_string_equal(cfg.mirrors[1], "http://127.0.0.1:5001");
    registry_config_free(&cfg);
    assert_int_equal(parse("{}", &cfg, &e), 0);
    assert_null(cfg.insecure);
    assert_null(cfg.mirrors);
    registry_config_free(&cfg);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"insecure-registries\": [\"a\",]}", "/etc/berth/config.json:1:"},
        {"[]", "/etc/berth/config.json: expected a JSON object"},
        {"{\"insecure-registries\": \"reg:5000\"}",
         "/etc/berth/config.json: \"insecure-registries\": expected an array of strings"},
        {"{\"insecure-registries\": [5000]}",
         "\"insecure-registries\": entry 1: expected a non-empty string"},
        {"{\"insecure-registries\": [\"http://reg:5000\"]}", "without a scheme"},
        {"{\"insecure-registries\": [\"10.0.0.0/33\"]}", "\"10.0.0.0/33\" is not a valid CIDR"},
        {"{\"insecure-registries\": [\"reg/x\"]}", "\"reg/x\" is not a valid CIDR"},
        {"{\"insecure-registries\": [\"reg x\"]}", "is not a registry HOST[:PORT]"},
        {"{\"registry-mirrors\": {\"a\": 1}}", "\"registry-mirrors\": expected an array"},
        {"{\"registry-mirrors\": [\"mirror.example\"]}", "not an http:// or https:// URL"},
        {"{\"registry-mirrors\": [\"https://m.example/v2/\"]}", "a path, query or fragment"},
        {"{\"registry-mirrors\": [\"https://u:p@m.example\"]}", "credentials"},
        {"{\"registry-mirrors\": [\"https://\"]}", "no host"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (parse(bad[i].text, &cfg, &e) != -EINVAL || !strstr(e.msg, bad[i].msg))
            fail_msg("%s: %s, want %s", bad[i].text, e.msg ? e.msg : "no error", bad[i].msg);
        assert_null(cfg.insecure);
        assert_null(cfg.cidrs);
        berr_clear(&e);
    }
}

static void test_config_load(void **state)
{
    char *dir = scratch_dir("regcfg");
    _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
    struct registry_config cfg;
    struct berr e = BERR_INIT;
    setenv("BERTH_CONFIG", path, 1);
    /* a file named by BERTH_CONFIG must exist */
    assert_int_equal(registry_config_load(&cfg, &e), -ENOENT);
    assert_non_null(strstr(e.msg, path));
    berr_clear(&e);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"registry-mirrors\": [\"http://m\"]}", f);
    fclose(f);
    assert_int_equal(registry_config_load(&cfg, &e), 0);
    assert_string_equal(cfg.mirrors[0], "http://m");
    registry_config_free(&cfg);
    /* size-capped */
    f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < REGISTRY_CONFIG_MAX + 1; i++)
        fputc(' ', f);
    fclose(f);
    assert_int_equal(registry_config_load(&cfg, &e), -EFBIG);
    berr_clear(&e);
    unsetenv("BERTH_CONFIG");
    scratch_remove(dir);
}

static void test_cidr(void **state)
{
    struct registry_cidr c;
    assert_true(registry_cidr_parse("10.0.0.0/8", &c));
    assert_true(registry_cidr_contains(&c, "10.255.1.2"));
    assert_false(registry_cidr_contains(&c, "11.0.0.1"));
    assert_false(registry_cidr_contains(&c, "::1"));
    assert_true(registry_cidr_parse("192.168.4.0/22", &c));
    assert_true(registry_cidr_contains(&c, "192.168.7.255"));
    assert_false(registry_cidr_contains(&c, "192.168.8.0"));
    assert_true(registry_cidr_parse("fd00::/8", &c));
    assert_true(registry_cidr_contains(&c, "fd12::1"));
    assert_false(registry_cidr_contains(&c, "fe80::1"));
    assert_false(registry_cidr_contains(&c, "10.0.0.1"));
    assert_true(registry_cidr_parse("0.0.0.0/0", &c));
    assert_true(registry_cidr_contains(&c, "8.8.8.8"));
    static const char *const bad[] = {"10.0.0.0",    "10.0.0.0/", "/8",
                                      "10.0.0.0/33", "::/129",    "10.0.0.0/-1",
                                      "10.0.0.0/8x", "host/8",    "10.0.0.0/1234"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (registry_cidr_parse(bad[i], &c))
            fail_msg("%s parsed", bad[i]);
}

static void test_insecure_match(void **state)
{
    struct registry_config cfg;
    struct berr e = BERR_INIT;
    assert_int_equal(parse("{\"insecure-registries\": [\"reg.example:5000\", \"bare.example\", "
                           "\"10.1.0.0/16\", \"fd00::/8\"]}",
                           &cfg, &e),
                     0);
    char *v4[] = {"10.1.2.3", NULL}, *other[] = {"192.0.2.1", "10.2.0.1", NULL};
    const struct {
        const char *domain;
        char **addrs;
        bool insecure;
    } rows[] = {
        {"reg.example:5000", NULL, true},  {"REG.example:5000", NULL, true},
        {"reg.example:5001", NULL, false}, {"reg.example", NULL, false},
        {"bare.example", NULL, true},      {"bare.example:443", NULL, false},
        {"10.1.200.3:5000", NULL, true},   {"10.2.0.1:5000", NULL, false},
        {"[fd00::5]:5000", NULL, true},    {"[fe80::5]:5000", NULL, false},
        {"named.example:5000", v4, true},  {"named.example:5000", other, false},
        {"127.0.0.1:5000", NULL, true}, /* loopback, as docker's defaults */
        {"localhost", NULL, true},         {"[::1]:5000", NULL, true},
        {"docker.io", v4, false}, /* docker.io is always secure */
        {"ghcr.io", NULL, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
        if (registry_insecure_match(&cfg, rows[i].domain, rows[i].addrs) != rows[i].insecure)
            fail_msg("%s: want insecure %d", rows[i].domain, rows[i].insecure);
    /* no CIDRs configured: nothing is resolved, names alone decide */
    struct registry_config plain = {0};
    assert_false(registry_config_insecure(&plain, "named.example:5000"));
    assert_true(registry_config_insecure(&cfg, "10.1.0.9:80"));
    registry_config_free(&cfg);
}

static void test_endpoints(void **state)
{
    setenv("BERTH_CERTS_D", "/nonexistent/berth-test-certs.d", 1);
    struct registry_config cfg;
    struct berr e = BERR_INIT;
    assert_int_equal(parse("{\"insecure-registries\": [\"reg.example:5000\", \"m2.example\"], "
                           "\"registry-mirrors\": [\"http://127.0.0.1:5001\", "
                           "\"https://m2.example\", \"https://m3.example:8443/\"]}",
                           &cfg, &e),
                     0);
    struct registry_endpoint *v = NULL;
    size_t n = registry_endpoints(&cfg, "docker.io", &v);
    assert_int_equal(n, 4);
    assert_string_equal(v[0].base, "http://127.0.0.1:5001");
    assert_true(v[0].mirror && v[0].plain_http && !v[0].http_fallback);
    assert_string_equal(v[1].base, "https://m2.example");
    assert_true(v[1].mirror && !v[1].verify); /* an insecure mirror */
    assert_string_equal(v[2].base, "https://m3.example:8443");
    assert_string_equal(v[2].host, "m3.example:8443");
    assert_true(v[2].mirror && v[2].verify);
    assert_string_equal(v[3].base, "https://registry-1.docker.io");
    assert_true(!v[3].mirror && v[3].verify && !v[3].http_fallback);
    registry_endpoints_free(v, n);
    /* mirrors are for docker.io only */
    n = registry_endpoints(&cfg, "reg.example:5000", &v);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].base, "https://reg.example:5000");
    assert_true(!v[0].verify && v[0].http_fallback && !v[0].plain_http);
    registry_endpoints_free(v, n);
    n = registry_endpoints(&cfg, "other.example:5000", &v);
    assert_true(v[0].verify && !v[0].http_fallback);
    registry_endpoints_free(v, n);
    registry_config_free(&cfg);
    unsetenv("BERTH_CERTS_D");
}

static void write_file(const char *dir, const char *name, const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_certs_d(void **state)
{
    char *dir = scratch_dir("certsd");
    setenv("BERTH_CERTS_D", dir, 1);
    _cleanup_free_ char *reg = xasprintf("%s/reg.example:5000", dir);
    assert_int_equal(mkdir(reg, 0755), 0);
    write_file(dir, "system.pem", "SYSTEM\n");
    _cleanup_free_ char *sys = xasprintf("%s/system.pem", dir);
    struct registry_tls t;
    struct berr e = BERR_INIT;
    /* no directory, or one without *.crt: the system's CAs alone */
    assert_int_equal(registry_tls_load("none.example", sys, &t, &e), 0);
    assert_null(t.ca_pem);
    registry_tls_free(&t);
    assert_int_equal(registry_tls_load("reg.example:5000", sys, &t, &e), 0);
    assert_null(t.ca_pem);
    registry_tls_free(&t);
    write_file(reg, "b.crt", "CA-B\n");
    write_file(reg, "a.crt", "CA-A\n");
    write_file(reg, "notes.txt", "NOT A CA\n");
    assert_int_equal(registry_tls_load("reg.example:5000", sys, &t, &e), 0);
    assert_non_null(t.ca_pem);
    assert_int_equal(t.ca_len, strlen(t.ca_pem));
    assert_string_equal(t.ca_pem, "SYSTEM\n\nCA-A\n\nCA-B\n\n");
    assert_null(t.cert);
    registry_tls_free(&t);
    /* a client certificate needs its key */
    write_file(reg, "client.cert", "CERT\n");
    assert_int_equal(registry_tls_load("reg.example:5000", sys, &t, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "client.cert: missing key"));
    berr_clear(&e);
    registry_tls_free(&t);
    write_file(reg, "client.key", "KEY\n");
    assert_int_equal(registry_tls_load("reg.example:5000", sys, &t, &e), 0);
    assert_non_null(strstr(t.cert, "/reg.example:5000/client.cert"));
    assert_non_null(strstr(t.key, "/reg.example:5000/client.key"));
    registry_tls_free(&t);
    write_file(reg, "lone.key", "KEY\n");
    assert_int_equal(registry_tls_load("reg.example:5000", sys, &t, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "lone.key: missing client certificate"));
    berr_clear(&e);
    registry_tls_free(&t);
    /* a domain never leaves the directory */
    assert_int_equal(registry_tls_load("..", sys, &t, &e), 0);
    assert_null(t.ca_pem);
    registry_tls_free(&t);
    unsetenv("BERTH_CERTS_D");
    scratch_remove(dir);
}

static void test_proxy_choice(void **state)
{
    struct registry_proxy_env p = {.https = "http://sp:3128", .http = "http://hp:3128"};
    assert_string_equal(registry_proxy_for(&p, true, "reg.example:5000"), "http://sp:3128");
    assert_string_equal(registry_proxy_for(&p, false, "reg.example:5000"), "http://hp:3128");
    assert_null(registry_proxy_for(&p, true, "127.0.0.1:5000"));
    assert_null(registry_proxy_for(&p, false, "localhost:5000"));
    assert_null(registry_proxy_for(&p, true, "[::1]:5000"));
    struct registry_proxy_env none = {0};
    assert_null(registry_proxy_for(&none, true, "reg.example"));
    static const struct {
        const char *no, *domain;
        bool https, direct;
    } rows[] = {
        {"reg.example", "reg.example:5000", true, true},
        {"reg.example", "sub.reg.example", true, true},
        {"reg.example", "xreg.example", true, false},
        {".reg.example", "reg.example", true, false},
        {".reg.example", "a.reg.example", true, true},
        {"*.reg.example", "a.reg.example", true, true},
        {"other, REG.example ", "reg.example", true, true},
        {"reg.example:5000", "reg.example:5000", true, true},
        {"reg.example:5000", "reg.example:5001", true, false},
        {"reg.example:443", "reg.example", true, true},
        {"reg.example:443", "reg.example", false, false},
        {"*", "anything.example", true, true},
        {"10.0.0.0/8", "10.1.2.3:5000", true, true},
        {"10.0.0.0/8", "11.1.2.3:5000", true, false},
        {"10.1.2.3", "10.1.2.3:5000", true, true},
        {"fd00::1", "[fd00::1]:5000", true, true},
        {"[fd00::1]:5000", "[fd00::1]:5000", true, true},
        {"[fd00::1]:5001", "[fd00::1]:5000", true, false},
        {"", "reg.example", true, false},
        {",,", "reg.example", true, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        p.no = rows[i].no;
        const char *got = registry_proxy_for(&p, rows[i].https, rows[i].domain);
        if ((got == NULL) != rows[i].direct)
            fail_msg("NO_PROXY=%s %s: got %s", rows[i].no, rows[i].domain, got ? got : "direct");
    }
}

static void test_proxy_env(void **state)
{
    struct registry_proxy_env p;
    setenv("HTTPS_PROXY", "http://upper:1", 1);
    setenv("https_proxy", "http://lower:1", 1);
    setenv("http_proxy", "http://lower:2", 1);
    unsetenv("HTTP_PROXY");
    setenv("NO_PROXY", "", 1);
    setenv("no_proxy", "x.example", 1);
    registry_proxy_env_get(&p);
    assert_string_equal(p.https, "http://upper:1"); /* the uppercase name first */
    assert_string_equal(p.http, "http://lower:2");
    assert_string_equal(p.no, "x.example"); /* an empty one does not count */
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("http_proxy");
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    registry_proxy_env_get(&p);
    assert_null(p.https);
    assert_null(p.http);
    assert_null(p.no);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_parse), cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_cidr),         cmocka_unit_test(test_insecure_match),
        cmocka_unit_test(test_endpoints),    cmocka_unit_test(test_certs_d),
        cmocka_unit_test(test_proxy_choice), cmocka_unit_test(test_proxy_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
