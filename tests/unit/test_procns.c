/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for ulimits, sysctls and the namespace keys (pid, ipc, uts,
 * cgroup, cgroup_parent): Docker's rules at load (names, soft above hard,
 * only namespaced sysctls, conflicts with other keys), the plan (shared
 * namespaces made container names, the hard-limit check against berth's
 * own, the config that decides recreation) and the record's JSON, which
 * leaves out every default so that older records read back the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <sys/resource.h>

#include "plan_testutil.h"
#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "util/rlimits.h"

static void test_rlimit_names(void **state)
{
    (void)state;
    assert_int_equal(rlimit_by_name("nofile"), RLIMIT_NOFILE);
    assert_int_equal(rlimit_by_name("nproc"), RLIMIT_NPROC);
    assert_int_equal(rlimit_by_name("as"), RLIMIT_AS);
    assert_int_equal(rlimit_by_name("rttime"), RLIMIT_RTTIME);
    assert_int_equal(rlimit_by_name("NOFILE"), -1);
    assert_int_equal(rlimit_by_name("files"), -1);
    assert_string_equal(rlimit_name(RLIMIT_MEMLOCK), "memlock");
}

static void test_ulimits_at_load(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n    ulimits:\n"
                             "      nofile: {soft: 100, hard: 200}\n      nproc: 50\n"
                             "      core: -1\n",
                             NULL),
                     0);
    const struct service *s = ct_service(&l, "web");
    assert_int_equal(s->n_ulimits, 3);
    assert_string_equal(s->ulimits[0].name, "nofile");
    assert_int_equal(s->ulimits[0].soft, 100);
    assert_int_equal(s->ulimits[0].hard, 200);
    assert_int_equal(s->ulimits[0].pos.line, 5);
    assert_int_equal(s->ulimits[1].soft, 50);
    assert_int_equal(s->ulimits[1].hard, 50);
    assert_int_equal(s->ulimits[2].hard, ULIMIT_UNLIMITED);
    struct berr e = BERR_INIT;
    assert_int_equal(compose_service_refused(s, &e), 0);
    assert_false(ct_warned(&l.w, "ulimits"));
    ct_load_done(&l);

    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"      nofiles: 10\n",
         "compose.yaml:5:7: service \"web\": ulimits: unknown limit \"nofiles\""},
        {"      nofile: {soft: 20, hard: 10}\n", "soft limit 20 is above the hard limit 10"},
        {"      nofile: {soft: -1, hard: 10}\n", "the soft limit -1 is above the hard limit 10"},
        {"      nofile: -2\n", "nofile: invalid value -2"},
        {"      nofile: {soft: 1}\n", "needs both soft and hard"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *y =
            xasprintf("services:\n  web:\n    image: x\n    ulimits:\n%s", bad[i].body);
        ct_assert_refused(&l, y, bad[i].needle);
    }
}

static void test_sysctls_at_load(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n    sysctls:\n"
                             "      - net.ipv4.ip_unprivileged_port_start=80\n"
                             "      - kernel.msgmax=9000\n      - kernel.shmmax=1000000\n"
                             "      - fs.mqueue.msg_max=20\n      - kernel.sem=1 2 3 4\n",
                             NULL),
                     0);
    char **v = ct_service(&l, "web")->sysctls;
    assert_non_null(v);
    assert_string_equal(v[0], "net.ipv4.ip_unprivileged_port_start=80");
    assert_string_equal(v[4], "kernel.sem=1 2 3 4");
    assert_null(v[5]);
    ct_load_done(&l);

    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"    sysctls: {vm.swappiness: \"1\"}\n",
         "compose.yaml:4:15: service \"web\": sysctls: \"vm.swappiness\" is not allowed: it is not "
         "namespaced"},
        {"    sysctls: [kernel.hostname=x]\n", "use the hostname key"},
        {"    sysctls: [kernel.domainname=x]\n", "use the domainname key"},
        {"    sysctls: [kernel.pid_max=100]\n", "not namespaced"},
        {"    sysctls: [net.=1]\n", "invalid name"},
        {"    sysctls: [net.ipv4..x=1]\n", "invalid name"},
        {"    sysctls: [\"net.ipv4/../../x=1\"]\n", "invalid name"},
        {"    sysctls: {net.ipv4.ip_forward: \"\"}\n", "net.ipv4.ip_forward: no value"},
        {"    network_mode: host\n    sysctls: {net.ipv4.ip_forward: \"1\"}\n",
         "not allowed with network_mode \"host\""},
        {"    ipc: host\n    sysctls: {kernel.shmmax: \"1\"}\n", "not allowed with ipc: host"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", bad[i].body);
        ct_assert_refused(&l, y, bad[i].needle);
    }
}

static void test_namespace_keys_at_load(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  db:\n    image: x\n    ipc: shareable\n"
                             "  web:\n    image: x\n    pid: service:db\n    ipc: service:db\n"
                             "    uts: host\n    cgroup: host\n    cgroup_parent: /ci//jobs/\n",
                             NULL),
                     0);
    const struct service *s = ct_service(&l, "web");
    assert_string_equal(s->pid, "service:db");
    assert_string_equal(s->ipc, "service:db");
    assert_true(s->uts_host);
    assert_true(s->cgroup_host);
    assert_string_equal(s->cgroup_parent, "ci/jobs");
    /* compose's implied dependency: db starts first */
    assert_int_equal(s->n_depends, 1);
    assert_string_equal(s->depends_on[0].service, "db");
    assert_false(ct_warned(&l.w, "not supported"));
    ct_load_done(&l);

    static const struct {
        const char *body, *needle;
    } bad[] = {
        {"    pid: private\n", "compose.yaml:4:10: service \"web\": pid: invalid PID mode"},
        {"    pid: \"service:\"\n", "uses the PID namespace of undefined service \"\""},
        {"    ipc: sharable\n", "invalid IPC mode"},
        {"    uts: private\n", "invalid UTS mode"},
        {"    cgroup: none\n", "invalid cgroup namespace mode"},
        {"    cgroup_parent: a/../b\n", "no \".\" or \"..\" segments"},
        {"    cgroup_parent: /berth/x\n", "inside berth's own cgroup tree"},
        {"    cgroup_parent: berth-1234/x\n", "inside berth's own cgroup tree"},
        {"    uts: host\n    hostname: h\n", "conflicting options: hostname and the UTS mode"},
        {"    pid: service:nothere\n", "uses the PID namespace of undefined service"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", bad[i].body);
        ct_assert_refused(&l, y, bad[i].needle);
    }
    /* Joining an IPC namespace: only one its owner shares, as Docker. */
    static const struct {
        const char *db, *web, *needle;
    } join[] = {
        {"", "    ipc: service:db\n",
         "compose.yaml:7:10: service \"web\": ipc: service \"db\" does not share its IPC "
         "namespace (give it ipc: shareable"},
        {"    ipc: none\n", "    ipc: service:db\n", "service \"db\" does not share"},
        {"", "    ipc: container:proj-db-1\n",
         "ipc: the container of service \"db\" does not share its IPC namespace"},
        {"    container_name: data\n", "    ipc: container:data\n",
         "the container of service \"db\" does not share"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(join); i++) {
        _cleanup_free_ char *y =
            xasprintf("name: proj\nservices:\n  db:\n    image: x\n%s  web:\n    image: x\n%s",
                      join[i].db, join[i].web);
        ct_assert_refused(&l, y, join[i].needle);
    }
    /* shareable, declared after the one that joins it; a container of
     * another name (not the project's) is left to the start */
    assert_int_equal(ct_load(&l,
                             "name: proj\nservices:\n  web:\n    image: x\n    ipc: service:db\n"
                             "  db:\n    image: x\n    ipc: shareable\n  w2:\n    image: x\n"
                             "    ipc: container:proj-db-1\n  w3:\n    image: x\n"
                             "    ipc: container:other\n",
                             NULL),
                     0);
    ct_load_done(&l);
    /* The defaults, spelled out, ask for nothing. */
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n    ipc: private\n"
                             "    cgroup: private\n",
                             NULL),
                     0);
    s = ct_service(&l, "web");
    assert_null(s->ipc);
    assert_false(s->cgroup_host);
    ct_load_done(&l);
}

/* A project "proj" with a service "db" (shareable) beside "web" (for
 * service:db). */
static void plan_of_proj(struct planned *p, const char *body)
{
    _cleanup_free_ char *y =
        xasprintf("name: proj\nservices:\n  db:\n    image: x\n    ipc: shareable\n  web:\n"
                  "    image: x\n%s",
                  body);
    plan_yaml(p, y, NULL);
}

static void test_plan_and_record(void **state)
{
    (void)state;
    struct planned d, p;
    plan_of_proj(&d, "");
    assert_int_equal(d.r, 0);
    json_t *j = plan_to_json(&d.c);
    static const char *const keys[] = {"ulimits",  "sysctls",       "pid_mode",     "ipc_mode",
                                       "uts_host", "cgroupns_host", "cgroup_parent"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (json_object_get(j, keys[i]))
            fail_msg("a default plan writes \"%s\"", keys[i]);
    json_decref(j);

    plan_of_proj(&p,
                 "    ulimits: {nofile: {soft: 10, hard: 20}}\n    sysctls: [kernel.msgmax=100]\n"
                 "    pid: service:db\n    ipc: none\n    cgroup: host\n    cgroup_parent: ci\n");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.c.n_ulimits, 1);
    assert_int_equal(p.c.ulimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(p.c.ulimits[0].soft, 10);
    assert_int_equal(p.c.ulimits[0].hard, 20);
    assert_string_equal(p.c.pid_mode, "container:proj-db-1");
    assert_string_equal(p.c.ipc_mode, "none");
    assert_true(p.c.cgroupns_host);
    assert_string_equal(p.c.cgroup_parent, "ci");
    assert_string_not_equal(p.c.config, d.c.config);
    /* The record keeps them all. */
    j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_int_equal(back.n_ulimits, 1);
    assert_int_equal(back.ulimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(back.ulimits[0].hard, 20);
    assert_string_equal(back.sysctls[0], "kernel.msgmax=100");
    assert_string_equal(back.pid_mode, "container:proj-db-1");
    assert_string_equal(back.ipc_mode, "none");
    assert_true(back.cgroupns_host);
    assert_false(back.uts_host);
    assert_string_equal(back.cgroup_parent, "ci");
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);
    planned_done(&d);
}

static int find_none(void *ctx, const char *name, int *pidfd, struct berr *e)
{
    (void)ctx;
    (void)pidfd;
    return berr_set(e, -ENOENT, "container %s is not running", name);
}

static void test_spec_from_plan(void **state)
{
    (void)state;
    struct planned p;
    plan_of_proj(&p, "    pid: host\n    uts: host\n    ipc: service:db\n");
    assert_int_equal(p.r, 0);
    /* uts: host gives the host's name, not a made-up one */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    assert_string_equal(p.c.hostname, host);
    struct container_spec spec = {.name = "proj-web-1"};
    struct berr e = BERR_INIT;
    assert_int_equal(plan_procns_spec(&p.c, &spec, find_none, NULL, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "ipc container:proj-db-1: container proj-db-1 is not running"));
    assert_int_equal(spec.ipc_join_pidfd, -1);
    berr_clear(&e);
    free(p.c.ipc_mode);
    p.c.ipc_mode = NULL;
    assert_int_equal(plan_procns_spec(&p.c, &spec, find_none, NULL, &e), 0);
    assert_int_equal(spec.pid_ns, NS_HOST);
    assert_int_equal(spec.uts_ns, NS_HOST);
    assert_int_equal(spec.ipc_ns, NS_PRIVATE);
    assert_int_equal(spec.cgroup_ns, NS_PRIVATE);
    plan_procns_spec_release(&spec);
    planned_done(&p);
}

static void test_plan_hard_limit(void **state)
{
    (void)state;
    bool raisable;
    uint64_t max = plan_ulimit_ceiling(RLIMIT_NOFILE, &raisable);
    if (max == UINT64_MAX || max > (1ULL << 40))
        skip();
    if (!raisable) {
        struct rlimit have;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &have), 0);
        assert_int_equal(max, have.rlim_max);
    }
    _cleanup_free_ char *body =
        xasprintf("    ulimits:\n      nofile: %llu\n", (unsigned long long)max + 1);
    struct planned p;
    plan_of_proj(&p, body);
    assert_int_equal(p.r, -EPERM);
    _cleanup_free_ char *want = xasprintf(
        "compose.yaml:9:7: service \"web\": ulimits nofile: the hard limit %llu is above "
        "%s %llu",
        (unsigned long long)max + 1, raisable ? "the kernel's maximum" : "berth's own hard limit",
        (unsigned long long)max);
    if (!strstr(p.e.msg, want))
        fail_msg("message [%s], want [%s]", p.e.msg, want);
    planned_done(&p);
    /* -1 (unlimited) asks for more than any finite limit. */
    plan_of_proj(&p, "    ulimits:\n      nofile: -1\n");
    assert_int_equal(p.r, -EPERM);
    assert_non_null(strstr(p.e.msg, "the hard limit unlimited is above"));
    planned_done(&p);
    /* At the limit is fine. */
    _cleanup_free_ char *at =
        xasprintf("    ulimits:\n      nofile: %llu\n", (unsigned long long)max);
    plan_of_proj(&p, at);
    assert_int_equal(p.r, 0);
    planned_done(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rlimit_names),    cmocka_unit_test(test_ulimits_at_load),
        cmocka_unit_test(test_sysctls_at_load), cmocka_unit_test(test_namespace_keys_at_load),
        cmocka_unit_test(test_plan_and_record), cmocka_unit_test(test_spec_from_plan),
        cmocka_unit_test(test_plan_hard_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
