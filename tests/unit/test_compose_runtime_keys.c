/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the typed model of the keys the runtime works from:
 * volumes and tmpfs (mounts), depends_on, healthcheck, restart, deploy,
 * labels, profiles, container_name, scale, init, stdin_open, shm_size and
 * the top-level volumes, with their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose_testutil.h"

static void test_mounts(void **state)
{
    char *env[] = {"HOME=/home/u", NULL};
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    volumes:\n"
                    "      - ./data:/srv/data\n"
                    "      - db:/var/lib/db:ro\n"
                    "      - /anon\n"
                    "      - ~/cfg:/etc/cfg:ro,rshared\n"
                    "      - type: tmpfs\n"
                    "        target: /cache\n"
                    "        tmpfs: {size: 64m, mode: 01777}\n"
                    "      - type: bind\n"
                    "        source: ../up\n"
                    "        target: /up\n"
                    "        bind: {propagation: slave}\n"
                    "      - type: volume\n"
                    "        source: db\n"
                    "        target: /nc\n"
                    "        volume: {nocopy: true}\n"
                    "    tmpfs: [\"/run:size=1k,mode=755\", /tmp]\n"
                    "volumes:\n"
                    "  db:\n",
                    env);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    assert_int_equal(s->n_mounts, 9);
    _cleanup_free_ char *data = xasprintf("%s/data", l.dir);
    assert_int_equal(s->mounts[0].type, MOUNT_BIND);
    assert_string_equal(s->mounts[0].source, data);
    assert_string_equal(s->mounts[0].target, "/srv/data");
    assert_true(s->mounts[0].create_host_path);
    assert_int_equal(s->mounts[0].pos.line, 5);
    assert_int_equal(s->mounts[1].type, MOUNT_VOLUME);
    assert_string_equal(s->mounts[1].source, "db");
    assert_true(s->mounts[1].read_only);
    assert_int_equal(s->mounts[2].type, MOUNT_VOLUME);
    assert_null(s->mounts[2].source);
    assert_string_equal(s->mounts[3].source, "/home/u/cfg");
    assert_string_equal(s->mounts[3].propagation, "rshared");
    assert_true(s->mounts[3].read_only);
    assert_int_equal(s->mounts[4].type, MOUNT_TMPFS);
    assert_int_equal(s->mounts[4].tmpfs_size, 64LL << 20);
    assert_int_equal(s->mounts[4].tmpfs_mode, 01777);
    _cleanup_free_ char *up = xstrdup(l.dir);
    *strrchr(up, '/') = '\0';
    _cleanup_free_ char *upw = xasprintf("%s/up", up);
    assert_string_equal(s->mounts[5].source, upw);
    assert_string_equal(s->mounts[5].propagation, "slave");
    assert_true(s->mounts[5].create_host_path);
    assert_true(s->mounts[6].nocopy);
    assert_int_equal(s->mounts[7].type, MOUNT_TMPFS);
    assert_string_equal(s->mounts[7].target, "/run");
    assert_int_equal(s->mounts[7].tmpfs_size, 1024);
    assert_int_equal(s->mounts[7].tmpfs_mode, 0755);
    assert_string_equal(s->mounts[8].target, "/tmp");
    assert_int_equal(l.p->n_volumes, 1);
    assert_string_equal(l.p->volumes[0].key, "db");
    assert_string_equal(l.p->volumes[0].name, "proj_db");
    assert_false(ct_warned(&l.w, "key \"volumes\""));
    assert_false(ct_warned(&l.w, "key \"tmpfs\""));
    ct_assert_warned(&l, "volumes: propagation rshared is not supported yet; the mount is private");
    ct_assert_warned(&l, "volumes: propagation slave is not supported yet");
    ct_load_done(&l);
}

static void test_volume_defs(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  a:\n    image: x\n"
                             "volumes:\n"
                             "  plain: {}\n"
                             "  named: {name: real, driver: local, labels: [a=b, c]}\n"
                             "  ext: {external: true}\n"
                             "  legacy: {external: {name: old}}\n",
                             NULL),
                     0);
    assert_int_equal(l.p->n_volumes, 4);
    assert_string_equal(l.p->volumes[0].name, "proj_plain");
    assert_false(l.p->volumes[0].external);
    assert_string_equal(l.p->volumes[1].name, "real");
    assert_string_equal(l.p->volumes[1].driver, "local");
    assert_string_equal(l.p->volumes[1].labels[0], "a=b");
    assert_string_equal(l.p->volumes[1].labels[1], "c=");
    assert_string_equal(l.p->volumes[2].name, "ext");
    assert_true(l.p->volumes[2].external);
    assert_string_equal(l.p->volumes[3].name, "old");
    ct_load_done(&l);
}

static void test_depends_on(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n"
                             "  web:\n"
                             "    image: x\n"
                             "    depends_on:\n"
                             "      db: {condition: service_healthy, restart: true}\n"
                             "      init: {condition: service_completed_successfully}\n"
                             "      cache: {required: false}\n"
                             "  worker:\n"
                             "    image: x\n"
                             "    depends_on: [db, cache]\n"
                             "  db: {image: x}\n"
                             "  init: {image: x}\n"
                             "  cache: {image: x}\n",
                             NULL),
                     0);
    const struct service *w = ct_service(&l, "web");
    assert_int_equal(w->n_depends, 3);
    assert_string_equal(w->depends_on[0].service, "db");
    assert_int_equal(w->depends_on[0].condition, DEP_HEALTHY);
    assert_true(w->depends_on[0].restart);
    assert_true(w->depends_on[0].required);
    assert_int_equal(w->depends_on[0].pos.line, 5);
    assert_int_equal(w->depends_on[1].condition, DEP_COMPLETED);
    assert_false(w->depends_on[2].required);
    const struct service *k = ct_service(&l, "worker");
    assert_int_equal(k->n_depends, 2);
    assert_int_equal(k->depends_on[1].condition, DEP_STARTED);
    assert_false(k->depends_on[1].restart);
    ct_load_done(&l);
}

static void test_healthcheck_restart(void **state)
{
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n"
                             "  a:\n"
                             "    image: x\n"
                             "    restart: on-failure:3\n"
                             "    healthcheck:\n"
                             "      test: curl -f http://localhost\n"
                             "      interval: 1m30s\n"
                             "      timeout: 10s\n"
                             "      retries: 3\n"
                             "      start_period: 40s\n"
                             "      start_interval: 5s\n"
                             "  b:\n"
                             "    image: x\n"
                             "    restart: unless-stopped\n"
                             "    healthcheck: {test: [CMD, true, \"1\"]}\n"
                             "  c:\n"
                             "    image: x\n"
                             "    healthcheck: {disable: true}\n"
                             "    deploy:\n"
                             "      restart_policy: {condition: on-failure, max_attempts: 5, "
                             "delay: 2s, window: 1m}\n"
                             "  d:\n"
                             "    image: x\n"
                             "    restart: \"no\"\n"
                             "    healthcheck: {test: [NONE]}\n",
                             NULL),
                     0);
    const struct service *a = ct_service(&l, "a");
    assert_int_equal(a->restart.policy, RESTART_ON_FAILURE);
    assert_int_equal(a->restart.max_retries, 3);
    assert_int_equal(a->restart.window_ns, -1);
    assert_true(a->healthcheck.set);
    assert_string_equal(a->healthcheck.test[0], "CMD-SHELL");
    assert_string_equal(a->healthcheck.test[1], "curl -f http://localhost");
    assert_int_equal(a->healthcheck.interval_ns, 90000000000LL);
    assert_int_equal(a->healthcheck.timeout_ns, 10000000000LL);
    assert_int_equal(a->healthcheck.retries, 3);
    assert_int_equal(a->healthcheck.start_period_ns, 40000000000LL);
    assert_int_equal(a->healthcheck.start_interval_ns, 5000000000LL);
    const struct service *b = ct_service(&l, "b");
    assert_int_equal(b->restart.policy, RESTART_UNLESS_STOPPED);
    assert_string_equal(b->healthcheck.test[1], "true");
    assert_int_equal(b->healthcheck.retries, -1);
    assert_int_equal(b->healthcheck.interval_ns, -1);
    const struct service *c = ct_service(&l, "c");
    assert_true(c->healthcheck.disable);
    assert_null(c->healthcheck.test);
    assert_int_equal(c->restart.policy, RESTART_ON_FAILURE);
    assert_int_equal(c->restart.max_retries, 5);
    assert_int_equal(c->restart.delay_ns, 2000000000LL);
    assert_int_equal(c->restart.window_ns, 60000000000LL);
    const struct service *d = ct_service(&l, "d");
    assert_int_equal(d->restart.policy, RESTART_NO);
    assert_true(d->healthcheck.disable);
    assert_false(ct_service(&l, "a")->healthcheck.disable);
    ct_assert_warned(&l, "service \"c\": deploy.restart_policy.delay is ignored");
    ct_assert_warned(&l, "service \"c\": deploy.restart_policy.window is ignored");
    ct_load_done(&l);
    /* Without a condition: the specification's default, any. */
    assert_int_equal(ct_load(&l,
                             "services:\n  a:\n    image: x\n"
                             "    deploy: {restart_policy: {max_attempts: 2}}\n",
                             NULL),
                     0);
    assert_int_equal(ct_service(&l, "a")->restart.policy, RESTART_ALWAYS);
    assert_false(ct_warned(&l.w, "restart_policy"));
    ct_load_done(&l);
}

static void test_misc_keys(void **state)
{
    char *profiles_env[] = {"COMPOSE_PROFILES=debug", NULL};
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n"
                             "  a:\n"
                             "    image: x\n"
                             "    container_name: my-a\n"
                             "    labels: {com.example.x: \"1\", b: true}\n"
                             "    profiles: [debug, tools]\n"
                             "    init: true\n"
                             "    stdin_open: true\n"
                             "    shm_size: 256m\n"
                             "    scale: 3\n"
                             "  b:\n"
                             "    image: x\n"
                             "    labels: [k=v]\n"
                             "    mem_limit: 1g\n"
                             "    deploy:\n"
                             "      replicas: 2\n"
                             "      resources:\n"
                             "        limits: {cpus: '0.5', memory: 64m, pids: 50}\n"
                             "        reservations: {memory: 1m}\n",
                             profiles_env),
                     0);
    const struct service *a = ct_service(&l, "a");
    assert_string_equal(a->container_name, "my-a");
    assert_string_equal(a->labels[0], "com.example.x=1");
    assert_string_equal(a->labels[1], "b=true");
    assert_string_equal(a->profiles[1], "tools");
    assert_true(a->init);
    assert_true(a->stdin_open);
    assert_int_equal(a->shm_size, 256LL << 20);
    assert_int_equal(a->replicas, 3);
    const struct service *b = ct_service(&l, "b");
    assert_int_equal(b->replicas, 2);
    assert_int_equal(b->mem_limit, 64LL << 20); /* deploy limits win */
    assert_true(b->cpus == 0.5);
    assert_int_equal(b->pids_limit, 50);
    assert_string_equal(b->labels[0], "k=v");
    assert_int_equal(b->res.mem_reservation, 1LL << 20); /* the memory soft limit */
    assert_false(ct_warned(&l.w, "reservations"));
    assert_false(ct_warned(&l.w, "deploy.replicas"));
    /* keys the runtime honours are never warned about */
    assert_false(ct_warned(&l.w, "container_name"));
    assert_false(ct_warned(&l.w, "init"));
    assert_false(ct_warned(&l.w, "stdin_open"));
    assert_false(ct_warned(&l.w, "shm_size"));
    assert_false(ct_warned(&l.w, "scale"));
    assert_false(ct_warned(&l.w, "key \"deploy\" is not supported"));
    assert_false(ct_warned(&l.w, "key \"profiles\" is not supported"));
    /* Defaults. */
    ct_load_done(&l);
    assert_int_equal(ct_load(&l, "services:\n  a:\n    image: x\n", NULL), 0);
    a = ct_service(&l, "a");
    assert_int_equal(a->replicas, 1);
    assert_int_equal(a->restart.policy, RESTART_NO);
    assert_false(a->healthcheck.set);
    assert_int_equal(a->healthcheck.retries, -1);
    assert_null(a->mounts);
    ct_load_done(&l);
}

static void test_errors(void **state)
{
    static const struct {
        const char *lines, *err;
    } cases[] = {
        {"    volumes: [\"a:b:c:d\"]\n",
         "compose.yaml:4:15: service \"web\": volumes: invalid volume \"a:b:c:d\": too many "
         "colons"},
        {"    volumes: [\"./x:rel\"]\n",
         "compose.yaml:4:15: service \"web\": volumes: target \"rel\" must be an absolute path"},
        {"    volumes: [\"./x:/y:bogus\"]\n", "volumes: invalid volume \"./x:/y:bogus\": unknown "
                                              "option"},
        {"    volumes: [nope:/x]\n",
         "compose.yaml:4:15: service \"web\" refers to undefined volume \"nope\""},
        {"    volumes: [{type: bind, target: /x}]\n", "volumes: a bind mount needs a source"},
        {"    volumes: [{target: /x}]\n", "volumes: type is required"},
        {"    volumes: [{type: npipe, source: a, target: /x}]\n",
         "volumes: unsupported volume type \"npipe\""},
        {"    volumes: [\"/a:/x\", \"/b:/x\"]\n",
         "service \"web\": duplicate mount target \"/x\" (first at line 4)"},
        {"    tmpfs: [\"/r:size=lots\"]\n", "tmpfs: invalid size in \"/r:size=lots\""},
        {"    depends_on: [ghost]\n",
         "compose.yaml:4:18: service \"web\" depends on undefined service \"ghost\""},
        {"    depends_on: {web2: {condition: service_ready}}\n",
         "depends_on: web2: invalid condition \"service_ready\""},
        {"    restart: sometimes\n",
         "compose.yaml:4:14: service \"web\": restart: invalid restart policy \"sometimes\""},
        {"    restart: on-failure:x\n", "restart: invalid restart policy \"on-failure:x\""},
        {"    healthcheck: {test: [RUN, x]}\n",
         "healthcheck.test: a list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\""},
        {"    healthcheck: {interval: 10}\n", "healthcheck.interval: invalid duration \"10\""},
        {"    healthcheck: {retries: -1}\n", "healthcheck.retries: invalid number \"-1\""},
        {"    container_name: \"../x\"\n", "container_name: invalid name \"../x\""},
        {"    profiles: [\"-x\"]\n", "profiles: invalid profile name \"-x\""},
        {"    scale: 2147483647\n", "scale: 2147483647 replicas is more than the limit"},
        {"    deploy: {restart_policy: {condition: sometimes}}\n",
         "deploy.restart_policy.condition: invalid condition \"sometimes\""},
        {"    shm_size: big\n", "shm_size: invalid size \"big\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *yaml =
            xasprintf("services:\n  web:\n    image: x\n%s  web2:\n    image: x\n", cases[i].lines);
        struct ct_load l;
        assert_int_not_equal(ct_load(&l, yaml, NULL), 0);
        ct_assert_error(&l, cases[i].err);
        ct_load_done(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mounts),     cmocka_unit_test(test_volume_defs),
        cmocka_unit_test(test_depends_on), cmocka_unit_test(test_healthcheck_restart),
        cmocka_unit_test(test_misc_keys),  cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
