/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for a service's build: section in the typed model (struct
 * svc_build, compose/model_build.c): the string and long forms, paths,
 * args from the environment, secrets, the keys ignored or refused, the
 * default image name and compose's errors with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose_testutil.h"

static char *joined(char *const *v)
{
    return v ? strv_join(v, "|") : xstrdup("(unset)");
}

static void assert_list(char *const *v, const char *want)
{
    _cleanup_free_ char *got = joined(v);
    assert_string_equal(got, want);
}

static void test_string_form(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l, "services:\n  Web:\n    build: ./app\n", NULL), 0);
    const struct service *s = ct_service(&l, "Web");
    assert_true(s->has_build);
    assert_non_null(s->build);
    _cleanup_free_ char *ctx = xasprintf("%s/app", l.dir);
    _cleanup_free_ char *df = xasprintf("%s/app/Dockerfile", l.dir);
    assert_string_equal(s->build->context, ctx);
    assert_string_equal(s->build->dockerfile, df);
    assert_false(s->build->remote);
    assert_null(s->build->dockerfile_inline);
    /* docker compose's PROJECT-SERVICE, lowercase */
    assert_string_equal(s->image, "proj-web");
    assert_true(s->image_default);
    assert_int_equal(s->build->pos.line, 3);
    ct_load_done(&l);
}

static void test_long_form(void **state)
{
    (void)state;
    struct ct_load l;
    char *env[] = {"FROM_ENV=yes", NULL};
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: reg.example/web:1\n"
                    "    build:\n"
                    "      context: ctx\n"
                    "      dockerfile: docker/Dockerfile.dev\n"
                    "      args: [A=1, FROM_ENV, NOT_SET]\n"
                    "      target: dev\n"
                    "      labels: {l1: v1}\n"
                    "      tags: [web:extra]\n"
                    "      network: host\n"
                    "      shm_size: 128m\n"
                    "      extra_hosts: [\"mirror:10.1.1.1\"]\n"
                    "      platforms: [linux/amd64]\n"
                    "      pull: true\n"
                    "      no_cache: true\n"
                    "      secrets: [tok, {source: key, target: sshkey}]\n"
                    "secrets:\n"
                    "  tok: {environment: TOKEN}\n"
                    "  key: {file: ./key.pem}\n",
                    env);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    const struct svc_build *b = s->build;
    assert_string_equal(s->image, "reg.example/web:1");
    assert_false(s->image_default);
    _cleanup_free_ char *df = xasprintf("%s/ctx/docker/Dockerfile.dev", l.dir);
    assert_string_equal(b->dockerfile, df);
    /* a bare arg takes the environment's value; an unset one is left out */
    assert_list(b->args, "A=1|FROM_ENV=yes");
    assert_string_equal(b->target, "dev");
    assert_list(b->labels, "l1=v1");
    assert_list(b->tags, "web:extra");
    assert_string_equal(b->network, "host");
    assert_int_equal(b->shm_size, 128 * 1024 * 1024);
    assert_list(b->extra_hosts, "mirror:10.1.1.1");
    assert_list(b->platforms, "linux/amd64");
    assert_true(b->pull);
    assert_true(b->no_cache);
    _cleanup_free_ char *secrets = xasprintf("id=tok,env=TOKEN|id=sshkey,src=%s/key.pem", l.dir);
    assert_list(b->secrets, secrets);
    assert_null(b->refused);
    ct_load_done(&l);
}

static void test_inline_and_remote(void **state)
{
    (void)state;
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  inline:\n"
                    "    build:\n"
                    "      dockerfile_inline: |\n"
                    "        FROM scratch\n"
                    "  remote:\n"
                    "    build: https://github.com/example/repo.git#main\n",
                    NULL);
    assert_int_equal(r, 0);
    const struct svc_build *b = ct_service(&l, "inline")->build;
    assert_string_equal(b->dockerfile_inline, "FROM scratch\n");
    assert_null(b->dockerfile);
    assert_string_equal(b->context, l.dir); /* compose's default "." */
    b = ct_service(&l, "remote")->build;
    assert_true(b->remote);
    assert_string_equal(b->context, "https://github.com/example/repo.git#main");
    ct_load_done(&l);
}

static void test_ignored_and_refused(void **state)
{
    (void)state;
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    build:\n"
                    "      context: .\n"
                    "      cache_from: [x/y:cache]\n"
                    "      ssh: [default]\n"
                    "      privileged: true\n"
                    "      ulimits: {nofile: 10}\n"
                    "  plain:\n"
                    "    build:\n"
                    "      context: .\n"
                    "      privileged: false\n",
                    NULL);
    assert_int_equal(r, 0);
    ct_assert_warned(&l, "compose.yaml:5:7: service \"web\": build.cache_from is not supported; "
                         "ignored (berth's build cache is local to its store)");
    ct_assert_warned(&l, "compose.yaml:6:7: service \"web\": build.ssh is not supported; ignored");
    const struct svc_build *b = ct_service(&l, "web")->build;
    /* the first refused key is what a build names */
    assert_non_null(b->refused);
    assert_non_null(strstr(b->refused, "build.privileged is not supported"));
    assert_int_equal(b->refused_pos.line, 7);
    assert_int_equal(b->refused_pos.col, 7);
    assert_string_equal(b->refused_pos.file, "compose.yaml");
    /* privileged: false asks for nothing */
    assert_null(ct_service(&l, "plain")->build->refused);
    ct_load_done(&l);
}

static void test_pull_policy_build(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n"
                             "  web:\n"
                             "    build: .\n"
                             "    pull_policy: build\n",
                             NULL),
                     0);
    assert_true(ct_service(&l, "web")->pull_build);
    assert_false(ct_warned(&l.w, "pull_policy"));
    ct_load_done(&l);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *err;
    } bad[] = {
        {"services:\n  web:\n    build:\n      context: .\n      dockerfile: D\n"
         "      dockerfile_inline: FROM scratch\n",
         "compose.yaml:6:26: service \"web\" declares mutualy exclusive dockerfile and "
         "dockerfile_inline"},
        {"services:\n  web:\n    platform: linux/arm64\n    build:\n      context: .\n"
         "      platforms: [linux/amd64]\n",
         "compose.yaml:6:18: service \"web\": service.build.platforms MUST include "
         "service.platform \"linux/arm64\""},
        {"services:\n  web:\n    build:\n      context: .\n      secrets: [nope]\n",
         "compose.yaml:5:17: service \"web\": build.secrets: refers to undefined build secret "
         "\"nope\" (declare it under the top-level secrets: key)"},
        {"services:\n  web:\n    build:\n      context: .\n      secrets: [s]\nsecrets:\n"
         "  s: {external: true}\n",
         "compose.yaml:5:17: service \"web\": build.secrets: build.secrets only supports "
         "environment or file-based secrets: \"s\""},
        {"services:\n  web:\n    build:\n      context: .\n      shm_size: lots\n",
         "compose.yaml:5:17: service \"web\": build.shm_size"},
        {"services:\n  web:\n    build:\n      context: [a]\n",
         "compose.yaml:4:16: service \"web\": build.context: expected a string"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct ct_load l;
        assert_int_not_equal(ct_load(&l, bad[i].yaml, NULL), 0);
        ct_assert_error(&l, bad[i].err);
        ct_load_done(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_form),       cmocka_unit_test(test_long_form),
        cmocka_unit_test(test_inline_and_remote), cmocka_unit_test(test_ignored_and_refused),
        cmocka_unit_test(test_pull_policy_build), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
