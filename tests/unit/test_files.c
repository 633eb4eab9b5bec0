/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the files a service gets and its metadata keys: configs
 * and secrets (targets, owner and mode as docker compose defaults them,
 * sources, external and unset ones), their plan and its record (the
 * config text never holds a secret's content), volumes_from, annotations,
 * label_file, runtime and use_api_socket, and binfmt_misc entries against
 * an architecture's ELF header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "plan_testutil.h"
#include "engine/plan/plan.h"
#include "util/binfmt.h"

/* --- Configs and secrets ------------------------------------------------------ */

static void test_file_refs_defaults(void **state)
{
    (void)state;
    struct ct_load l;
    char *env[] = {"TOKEN=t0k3n", NULL};
    int r =
        ct_load(&l,
                "services:\n"
                "  web:\n"
                "    image: x\n"
                "    secrets:\n"
                "      - db\n"
                "      - {source: tok, target: token, uid: \"1000\", gid: \"1001\", mode: 0400}\n"
                "      - {source: db, target: /etc/db.pw}\n"
                "    configs:\n"
                "      - app\n"
                "      - {source: app, target: etc/app.conf, mode: 0640}\n"
                "secrets:\n"
                "  db: {file: ./db.txt}\n"
                "  tok: {environment: TOKEN}\n"
                "configs:\n"
                "  app: {content: \"port=1\"}\n",
                env);
    if (r != 0)
        fail_msg("%s", l.e.msg);
    const struct service *s = ct_service(&l, "web");
    assert_int_equal(s->n_files, 5);
    static const struct {
        bool secret;
        const char *source, *target;
        uint32_t uid, gid, mode;
    } want[] = {
        {true, "db", "/run/secrets/db", 0, 0, 0444},
        {true, "tok", "/run/secrets/token", 1000, 1001, 0400},
        {true, "db", "/etc/db.pw", 0, 0, 0444},
        {false, "app", "/app", 0, 0, 0444},
        {false, "app", "/etc/app.conf", 0, 0, 0640},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        const struct svc_file_ref *f = &s->files[i];
        assert_int_equal(f->secret, want[i].secret);
        assert_string_equal(f->source, want[i].source);
        assert_string_equal(f->target, want[i].target);
        assert_int_equal(f->uid, want[i].uid);
        assert_int_equal(f->gid, want[i].gid);
        assert_int_equal(f->mode, want[i].mode);
        assert_string_equal(f->pos.file, "compose.yaml");
    }
    assert_int_equal(l.p->n_secrets, 2);
    assert_int_equal(l.p->n_configs, 1);
    assert_non_null(strstr(l.p->secrets[0].file, "/proj/db.txt"));
    assert_string_equal(l.p->secrets[1].environment, "TOKEN");
    assert_string_equal(l.p->secrets[1].content, "t0k3n");
    assert_string_equal(l.p->configs[0].content, "port=1");
    /* Top-level configs and secrets are no longer "not supported yet". */
    assert_false(ct_warned(&l.w, "not supported"));
    ct_load_done(&l);
}

static void test_file_refs_errors(void **state)
{
    (void)state;
    struct ct_load l;
    /* An undefined name: one line naming the file:line and the service. */
    assert_int_not_equal(
        ct_load(&l, "services:\n  web:\n    image: x\n    secrets: [nope]\n", NULL), 0);
    ct_assert_error(&l, "compose.yaml:4:15: service \"web\" refers to undefined secret \"nope\"");
    ct_load_done(&l);
    assert_int_not_equal(
        ct_load(&l,
                "services:\n  web:\n    image: x\n    configs: [{source: c, mode: 0999}]\n"
                "configs:\n  c: {content: x}\n",
                NULL),
        0);
    ct_assert_error(&l, "mode");
    ct_load_done(&l);
}

static void test_plan_files(void **state)
{
    (void)state;
    char *env[] = {"TOKEN=t0k3n", NULL};
    const char *yaml = "services:\n"
                       "  web:\n"
                       "    image: x\n"
                       "    secrets: [db, tok]\n"
                       "    configs: [app]\n"
                       "secrets:\n"
                       "  db: {file: ./db.txt}\n"
                       "  tok: {environment: TOKEN}\n"
                       "configs:\n"
                       "  app: {content: \"port=1\"}\n";
    struct planned p;
    plan_yaml(&p, yaml, env);
    if (p.r != 0)
        fail_msg("%s", p.e.msg);
    assert_int_equal(p.c.n_files, 3);
    assert_non_null(strstr(p.c.files[0].source, "/proj/db.txt"));
    assert_null(p.c.files[0].content);
    assert_null(p.c.files[1].source);
    assert_string_equal(p.c.files[1].content, "t0k3n");
    assert_string_equal(p.c.files[2].target, "/app");
    assert_string_equal(p.c.files[2].content, "port=1");
    /* The config text that decides recreation never holds a secret. */
    assert_null(strstr(p.c.config, "t0k3n"));
    assert_non_null(strstr(p.c.config, "/run/secrets/tok"));
    /* The record keeps everything needed to start again. */
    json_t *j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_int_equal(back.n_files, 3);
    assert_string_equal(back.files[1].content, "t0k3n");
    assert_string_equal(back.files[1].target, "/run/secrets/tok");
    assert_true(back.files[1].secret);
    assert_int_equal(back.files[1].mode, 0444);
    ctr_plan_free(&back);
    json_decref(j);
    /* A changed content recreates the container (it then gets it). */
    char *env2[] = {"TOKEN=other", NULL};
    struct planned q;
    plan_yaml(&q, yaml, env2);
    assert_int_equal(q.r, 0);
    assert_string_not_equal(p.c.config, q.c.config);
    planned_done(&q);
    planned_done(&p);

    /* No files: nothing in the record (older containers keep their
     * config). */
    plan_yaml(&p, "services:\n  web:\n    image: x\n", NULL);
    assert_int_equal(p.r, 0);
    assert_null(strstr(p.c.config, "files"));
    assert_null(strstr(p.c.config, "volumes_from"));
    assert_null(strstr(p.c.config, "annotations"));
    planned_done(&p);
}

static void test_plan_files_errors(void **state)
{
    (void)state;
    struct planned p;
    /* external: config prints it; up says berth has no swarm. */
    plan_yaml(&p,
              "services:\n  web:\n    image: x\n    secrets: [ext]\n"
              "secrets:\n  ext: {external: true}\n",
              NULL);
    assert_int_equal(p.r, -ENOTSUP);
    assert_non_null(strstr(p.e.msg, "compose.yaml:4:15: service \"web\": secret \"ext\" is "
                                    "external, and berth has no swarm"));
    planned_done(&p);
    /* An environment secret whose variable is unset. */
    plan_yaml(&p,
              "services:\n  web:\n    image: x\n    secrets: [e]\n"
              "secrets:\n  e: {environment: NOT_THERE}\n",
              NULL);
    assert_int_equal(p.r, -EINVAL);
    assert_non_null(strstr(p.e.msg, "compose.yaml:4:15: service \"web\": secret \"e\": "
                                    "environment variable \"NOT_THERE\" is not set"));
    planned_done(&p);
    /* Targets on /proc or /sys are refused, as every mount's. */
    plan_yaml(&p,
              "services:\n  web:\n    image: x\n    configs: [{source: c, target: /proc/x}]\n"
              "configs:\n  c: {content: x}\n",
              NULL);
    assert_int_equal(p.r, -EPERM);
    assert_non_null(strstr(p.e.msg, "config target \"/proc/x\" is not allowed"));
    planned_done(&p);
}

/* --- volumes_from and the metadata keys --------------------------------------- */

static void test_volumes_from(void **state)
{
    (void)state;
    struct planned p;
    plan_yaml(&p,
              "services:\n"
              "  data: {image: x}\n"
              "  named: {image: x, container_name: keeper}\n"
              "  web:\n"
              "    image: x\n"
              "    volumes_from: [data, \"named:ro\", \"data:rw\", \"container:other\","
              " \"container:c2:ro\"]\n",
              NULL);
    if (p.r != 0)
        fail_msg("%s", p.e.msg);
    assert_int_equal(strv_len(p.c.volumes_from), 5);
    _cleanup_free_ char *first = xasprintf("%s-data-1", p.l.p->name);
    _cleanup_free_ char *third = xasprintf("%s-data-1:rw", p.l.p->name);
    assert_string_equal(p.c.volumes_from[0], first);
    assert_string_equal(p.c.volumes_from[1], "keeper:ro");
    assert_string_equal(p.c.volumes_from[2], third);
    assert_string_equal(p.c.volumes_from[3], "other");
    assert_string_equal(p.c.volumes_from[4], "c2:ro");
    /* The implied dependency on the services, not on containers. */
    const struct service *s = ct_service(&p.l, "web");
    assert_int_equal(s->n_depends, 2);
    planned_done(&p);

    struct ct_load l;
    assert_int_not_equal(
        ct_load(&l,
                "services:\n  web:\n    image: x\n    volumes_from: [\"data:rx\"]\n"
                "  data: {image: x}\n",
                NULL),
        0);
    ct_assert_error(&l, "compose.yaml:4:20: service \"web\": volumes_from: invalid entry");
    ct_load_done(&l);
}

static void test_metadata_keys(void **state)
{
    (void)state;
    struct ct_load l;
    char *dir = ct_mkdtemp();
    _cleanup_free_ char *lf = ct_write(dir, "a.labels", "# labels\nfrom.file=1\nboth=file\n");
    _cleanup_free_ char *y = xasprintf("services:\n"
                                       "  web:\n"
                                       "    image: x\n"
                                       "    labels: {both: own}\n"
                                       "    label_file: %s\n"
                                       "    annotations: {a.b: \"1\"}\n"
                                       "    runtime: berth\n"
                                       "    use_api_socket: false\n",
                                       lf);
    if (ct_load(&l, y, NULL) != 0)
        fail_msg("%s", l.e.msg);
    const struct service *s = ct_service(&l, "web");
    /* label_file's labels, under those of labels: */
    assert_string_equal(strv_env_get(s->labels, "from.file"), "1");
    assert_string_equal(strv_env_get(s->labels, "both"), "own");
    assert_string_equal(s->annotations[0], "a.b=1");
    assert_int_equal(s->n_refused, 0);
    assert_false(ct_warned(&l.w, "not supported"));
    ct_load_done(&l);
    ct_rmtree(dir);

    /* A missing label file: one line naming the file:line. */
    assert_int_not_equal(
        ct_load(&l, "services:\n  web:\n    image: x\n    label_file: ./gone.labels\n", NULL), 0);
    ct_assert_error(&l, "compose.yaml:4:17: service \"web\": label_file:");
    ct_assert_error(&l, "gone.labels: no such file");
    ct_load_done(&l);

    /* Another runtime, or the API socket: config prints them, up refuses. */
    assert_int_equal(ct_load(&l, "services:\n  web:\n    image: x\n    runtime: runc\n", NULL), 0);
    struct berr e = BERR_INIT;
    assert_int_equal(compose_service_refused(ct_service(&l, "web"), &e), -EPERM);
    assert_string_equal(e.msg, "compose.yaml:4:14: service \"web\": runtime \"runc\" is not "
                               "available: berth runs containers with its own built-in runtime "
                               "only, \"berth\"");
    assert_false(ct_warned(&l.w, "runtime"));
    berr_clear(&e);
    ct_load_done(&l);
    assert_int_equal(
        ct_load(&l, "services:\n  web:\n    image: x\n    use_api_socket: true\n", NULL), 0);
    assert_int_equal(compose_service_refused(ct_service(&l, "web"), &e), -EPERM);
    assert_string_equal(e.msg, "compose.yaml:4:21: service \"web\": use_api_socket: berth has no "
                               "daemon, so there is no API socket to give the container");
    berr_clear(&e);
    ct_load_done(&l);
}

/* --- binfmt_misc ------------------------------------------------------------------ */

/* qemu-user-static's aarch64 entry, as the kernel prints it. */
static const char qemu_aarch64[] = "enabled\n"
                                   "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
                                   "flags: POCF\n"
                                   "offset 0\n"
                                   "magic 7f454c460201010000000000000000000200b700\n"
                                   "mask ffffffffffffff00fffffffffffffffffeffffff\n";

static const char qemu_s390x[] = "enabled\n"
                                 "interpreter /usr/bin/qemu-s390x-static\n"
                                 "flags: F\n"
                                 "offset 0\n"
                                 "magic 7f454c4602020100000000000000000000020016\n"
                                 "mask ffffffffffffff00fffffffffffffffffffeffff\n";

static void test_binfmt(void **state)
{
    (void)state;
    struct platform arm64, amd64, s390x, riscv;
    platform_set(&arm64, "linux", "arm64", NULL);
    platform_set(&amd64, "linux", "amd64", NULL);
    platform_set(&s390x, "linux", "s390x", NULL);
    platform_set(&riscv, "linux", "riscv64", NULL);
    assert_true(binfmt_entry_runs(qemu_aarch64, &arm64));
    assert_false(binfmt_entry_runs(qemu_aarch64, &amd64));
    assert_false(binfmt_entry_runs(qemu_aarch64, &riscv));
    assert_true(binfmt_entry_runs(qemu_s390x, &s390x));
    assert_false(binfmt_entry_runs(qemu_s390x, &arm64));
    /* A disabled entry runs nothing. */
    _cleanup_free_ char *off = xstrdup(qemu_aarch64);
    memcpy(off, "disabled", 8);
    assert_false(binfmt_entry_runs(off, &arm64));
    /* Not ELF (a Windows PE handler), or a magic past the header. */
    assert_false(binfmt_entry_runs("enabled\noffset 0\nmagic 4d5a\n", &arm64));
    assert_false(binfmt_entry_runs("enabled\noffset 30\nmagic 7f\n", &arm64));
    assert_false(binfmt_entry_runs("enabled\noffset 0\nmagic zz\n", &arm64));
    assert_false(binfmt_entry_runs("", &arm64));

    /* A directory of entries: only an enabled binfmt_misc counts. */
    char *dir = ct_mkdtemp();
    free(ct_write(dir, "qemu-aarch64", qemu_aarch64));
    free(ct_write(dir, "status", "disabled\n"));
    assert_false(binfmt_can_run(dir, &arm64));
    free(ct_write(dir, "status", "enabled\n"));
    assert_true(binfmt_can_run(dir, &arm64));
    assert_false(binfmt_can_run(dir, &s390x));
    ct_rmtree(dir);
    assert_false(binfmt_can_run("/nonexistent/binfmt", &arm64));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_refs_defaults),
        cmocka_unit_test(test_file_refs_errors),
        cmocka_unit_test(test_plan_files),
        cmocka_unit_test(test_plan_files_errors),
        cmocka_unit_test(test_volumes_from),
        cmocka_unit_test(test_metadata_keys),
        cmocka_unit_test(test_binfmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
