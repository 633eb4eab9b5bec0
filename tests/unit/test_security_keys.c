/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the security keys (SECURITY.md E07, "hardening keys fail
 * open"): capability names and Docker's way of combining cap_add and
 * cap_drop (moby oci/caps TweakCapabilities), their reading at load,
 * security_opt's forms, the plan's caps and no_new_privs (and its config,
 * which decides recreation), and the fail-closed refusal of keys berth does
 * not honour yet whose absence would give a container more privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "plan_testutil.h"
#include "engine/plan/plan.h"
#include "engine/runtime/ctrplan_sec.h"
#include "util/caps.h"

#define BIT(c) (1ULL << (c))

/* --- Names ------------------------------------------------------------------ */

static void test_caps_names(void **state)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        {"NET_ADMIN", 12},
        {"net_admin", 12},
        {"CAP_NET_ADMIN", 12},
        {"cap_net_admin", 12},
        {"Cap_Sys_Admin", 21},
        {"CHOWN", 0},
        {"checkpoint_restore", 40},
        {"CAP_BPF", 39},
        {"ALL", CAPS_NAME_ALL},
        {"all", CAPS_NAME_ALL},
        {"CAP_ALL", -EINVAL}, /* Docker: unknown capability "CAP_ALL" */
        {"", -EINVAL},
        {"CAP_", -EINVAL},
        {"NET ADMIN", -EINVAL},
        {"NET_ADMINX", -EINVAL},
        {"SYS_WHATEVER", -EINVAL},
        {"12", -EINVAL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int got = caps_parse_name(cases[i].name);
        if (got != cases[i].want)
            fail_msg("caps_parse_name(\"%s\") = %d, want %d", cases[i].name, got, cases[i].want);
    }
    assert_int_equal(caps_parse_name(NULL), -EINVAL);
    /* Every known number has a name that parses back to it. */
    for (int c = 0; c <= CAPS_LAST_KNOWN; c++) {
        assert_non_null(caps_name(c));
        assert_int_equal(caps_parse_name(caps_name(c)), c);
        assert_int_equal(caps_parse_name(caps_name(c) + 4), c);
    }
    assert_null(caps_name(CAPS_LAST_KNOWN + 1));
    assert_null(caps_name(-1));
    /* Docker's default set, by name. */
    const char *defaults[] = {"CHOWN",   "DAC_OVERRIDE", "FSETID",           "FOWNER",
                              "MKNOD",   "NET_RAW",      "SETGID",           "SETUID",
                              "SETFCAP", "SETPCAP",      "NET_BIND_SERVICE", "SYS_CHROOT",
                              "KILL",    "AUDIT_WRITE"};
    uint64_t set = 0;
    for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
        set |= BIT(caps_parse_name(defaults[i]));
    assert_int_equal(set, CAPS_DOCKER_DEFAULT);
}

/* --- Docker's combination ----------------------------------------------------- */

static struct caps_list list_of(const char *names)
{
    struct caps_list l = {0};
    _cleanup_free_ char *copy = xstrdup(names);
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        int c = caps_parse_name(t);
        assert_true(c >= 0);
        if (c == CAPS_NAME_ALL)
            l.all = true;
        else
            l.set |= BIT(c);
    }
    return l;
}

static void test_caps_tweak_docker_cases(void **state)
{
    const uint64_t D = CAPS_DOCKER_DEFAULT, ALL = CAPS_ALL_KNOWN;
    const uint64_t NET_RAW = BIT(13), SYS_ADMIN = BIT(21), NET_ADMIN = BIT(12), CHOWN = BIT(0),
                   NBS = BIT(10);
    static const char *const add[] = {
        "",    "",      "SYS_ADMIN", "",          "NET_BIND_SERVICE",        "ALL",   "ALL",
        "ALL", "CHOWN", "",          "NET_ADMIN", "net_admin cap_sys_admin", "CHOWN",
    };
    static const char *const drop[] = {
        "",    "NET_RAW", "",          "ALL",     "ALL", "",          "NET_ADMIN",
        "ALL", "CHOWN",   "SYS_ADMIN", "NET_RAW", "all", "ALL CHOWN",
    };
    const uint64_t want[] = {
        D,                /* nothing to tweak: the defaults */
        D & ~NET_RAW,     /* drop one */
        D | SYS_ADMIN,    /* add one */
        0,                /* drop ALL */
        NBS,              /* drop ALL, add back one */
        ALL,              /* add ALL */
        ALL & ~NET_ADMIN, /* add ALL but one */
        ALL,              /* add ALL wins over drop ALL, as in Docker */
        D,                /* drop then add: the add stays */
        D,                /* dropping what is not there */
        (D & ~NET_RAW) | NET_ADMIN,
        NET_ADMIN | SYS_ADMIN, /* drop all (any case), add two */
        CHOWN,                 /* drop ALL: only the adds, even one also dropped */
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        uint64_t got = caps_tweak(D, ALL, list_of(add[i]), list_of(drop[i]));
        if (got != want[i])
            fail_msg("case %zu (add [%s] drop [%s]): %#llx, want %#llx", i, add[i], drop[i],
                     (unsigned long long)got, (unsigned long long)want[i]);
    }
}

/* --- Reading at load --------------------------------------------------------- */

static void test_caps_at_load(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    cap_add: [net_admin, CAP_SYS_PTRACE]\n"
                    "    cap_drop: [ALL]\n"
                    "  db:\n"
                    "    image: x\n",
                    NULL);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    assert_int_equal(s->cap_add.set, BIT(12) | BIT(19));
    assert_false(s->cap_add.all);
    assert_int_equal(s->cap_drop.set, 0);
    assert_true(s->cap_drop.all);
    assert_false(ct_warned(&l.w, "cap_add"));
    assert_false(ct_warned(&l.w, "cap_drop"));
    s = ct_service(&l, "db");
    assert_int_equal(s->cap_add.set | s->cap_drop.set, 0);
    ct_load_done(&l);

    /* An unknown name is an error at load naming the file, line, service. */
    r = ct_load(&l,
                "services:\n"
                "  web:\n"
                "    image: x\n"
                "    cap_drop:\n"
                "      - NET_RAW\n"
                "      - NET_RAWR\n",
                NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "compose.yaml:6:9: service \"web\": cap_drop: unknown capability "
                        "\"NET_RAWR\"");
    ct_load_done(&l);
    r = ct_load(&l, "services:\n  web:\n    image: x\n    cap_add: [CAP_ALL]\n", NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "compose.yaml:4:15: service \"web\": cap_add: unknown capability");
    ct_load_done(&l);
}

static void test_security_opt_forms(void **state)
{
    static const struct {
        const char *opts;
        bool nnp;
    } ok[] = {
        {"[no-new-privileges]", true},
        {"[\"no-new-privileges:true\"]", true},
        {"[\"no-new-privileges=true\"]", true},
        {"[\"no-new-privileges=1\"]", true},
        {"[\"no-new-privileges:false\"]", false},
        {"[no-new-privileges, \"no-new-privileges=false\"]", false}, /* the last one says */
        {"[\"no-new-privileges=false\", no-new-privileges]", true},
        {"[\"seccomp=unconfined\"]", false},
        {"[\"seccomp:builtin\"]", false},
        {"[\"label=disable\", disable, \"apparmor=unconfined\"]", false},
        {"[\"systempaths=unconfined\", \"writable-cgroups=false\"]", false},
        {"[\"mask=/proc/a:/sys/b\", \"unmask=ALL\", \"unmask=/proc/kcore\"]", false},
        {"[\"seccomp=p.json\", \"apparmor=docker-default\", \"label=type:x_t\"]", false},
        {"[]", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        _cleanup_free_ char *y =
            xasprintf("services:\n  web:\n    image: x\n    security_opt: %s\n", ok[i].opts);
        struct ct_load l;
        if (ct_load(&l, y, NULL) != 0)
            fail_msg("%s: %s", ok[i].opts, l.e.msg);
        const struct service *s = ct_service(&l, "web");
        if (s->no_new_privs != ok[i].nnp || s->n_refused != 0)
            fail_msg("%s: no_new_privs %d, %zu refused", ok[i].opts, s->no_new_privs, s->n_refused);
        ct_load_done(&l);
    }
    /* Honoured: nothing is warned about at load (LSM options a host
     * cannot apply are said by `up`: engine/plan/plan_sec.h). */
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n"
                             "    security_opt: [\"seccomp=unconfined\", \"seccomp:builtin\", "
                             "\"mask=/proc/x\", \"apparmor=p\"]\n",
                             NULL),
                     0);
    assert_false(ct_warned(&l.w, "security_opt"));
    const struct service *s = ct_service(&l, "web");
    assert_null(s->seccomp); /* builtin: the last one says */
    assert_string_equal(s->mask[0], "/proc/x");
    assert_string_equal(s->apparmor, "p");
    ct_load_done(&l);
    /* What Docker refuses is an error. */
    static const char *const bad[] = {
        "[\"no-new-privileges=maybe\"]",
        "[bogus]",
        "[\"bogus=1\"]",
        "[\"writable-cgroups=perhaps\"]",
        "[\"systempaths=confined\"]",
        "[\"mask=proc/relative\"]",
        "[\"unmask=/proc/../etc\"]",
        "[\"seccomp=\"]",
        "[\"apparmor=\"]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *y =
            xasprintf("services:\n  web:\n    image: x\n    security_opt: %s\n", bad[i]);
        ct_assert_refused(&l, y,
                          "compose.yaml:4:20: service \"web\": security_opt: invalid option");
    }
}

/* --- Fail closed (the defect: hardening keys were ignored) --------------------- */

static void assert_refused(const char *body, const char *needle)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", body);
    struct ct_load l;
    /* The file loads (config prints it) ... */
    if (ct_load(&l, y, NULL) != 0)
        fail_msg("%s: %s", body, l.e.msg);
    const struct service *s = ct_service(&l, "web");
    struct berr e = BERR_INIT;
    /* ... but the service is refused, naming the file, line, service, key. */
    if (compose_service_refused(s, &e) != -EPERM)
        fail_msg("not refused: %s", body);
    _cleanup_free_ char *want = xasprintf("compose.yaml:4:");
    if (!strstr(e.msg, want) || !strstr(e.msg, "service \"web\": ") || !strstr(e.msg, needle) ||
        !strstr(e.msg, "refusing to start the service"))
        fail_msg("%s: message [%s]", body, e.msg);
    ct_assert_warned(&l, "compose.yaml:4:");
    berr_clear(&e);
    ct_load_done(&l);
}

static void assert_not_refused(const char *body)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", body);
    struct ct_load l;
    if (ct_load(&l, y, NULL) != 0)
        fail_msg("%s: %s", body, l.e.msg);
    struct berr e = BERR_INIT;
    if (compose_service_refused(ct_service(&l, "web"), &e) != 0)
        fail_msg("%s: refused: %s", body, e.msg);
    ct_load_done(&l);
}

static void test_hardening_keys_fail_closed(void **state)
{
    assert_refused("    userns_mode: \"keep-id\"\n", "userns_mode \"keep-id\"");
    /* Honoured (issue 14): seccomp profiles, AppArmor where the host has
     * it, oom_score_adj; SELinux labels are refused by the plan where
     * SELinux runs. */
    assert_not_refused("    oom_score_adj: 500\n");
    assert_not_refused("    security_opt: [\"seccomp=strict.json\"]\n");
    assert_not_refused("    security_opt: [\"apparmor=docker-default\"]\n");
    assert_not_refused("    security_opt: [\"label:level:s0:c100,c200\"]\n");

    /* Keys whose absence only means less privilege or exposure warn. */
    assert_not_refused("    privileged: true\n");
    assert_not_refused("    devices: [\"/dev/fuse:/dev/fuse\"]\n");
    assert_not_refused("    runtime: berth\n");
    assert_not_refused("    use_api_socket: false\n");
    assert_not_refused("    device_cgroup_rules: [\"c 1:3 mr\"]\n");
    assert_not_refused("    pid: host\n");
    assert_not_refused("    ipc: host\n");
    assert_not_refused("    ipc: private\n");
    assert_not_refused("    userns_mode: host\n");
    assert_not_refused("    group_add: [wheel]\n");
    assert_not_refused("    ports: [\"8080:80\"]\n");
    assert_not_refused("    oom_kill_disable: true\n");
    assert_not_refused("    security_opt: [\"seccomp=unconfined\", \"apparmor=unconfined\"]\n");
    /* A value that asks for nothing refuses nothing. */
    assert_not_refused("    ulimits: {}\n");
    assert_not_refused("    sysctls: []\n");
}

/* --- The plan ------------------------------------------------------------------ */

static void test_plan_caps(void **state)
{
    struct planned d, p;
    plan_of(&d, "");
    assert_int_equal(d.r, 0);
    assert_int_equal(d.c.caps, CAPS_DOCKER_DEFAULT);
    assert_false(d.c.no_new_privs);

    /* caps_drop_all_fails_open: cap_drop ALL and no-new-privileges reach
     * the plan, and change its config (up recreates the container). */
    plan_of(&p, "    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.c.caps, 0);
    assert_true(p.c.no_new_privs);
    assert_string_not_equal(p.c.config, d.c.config);
    /* The record keeps them. */
    json_t *j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_int_equal(back.caps, 0);
    assert_true(back.no_new_privs);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);

    plan_of(&p, "    cap_drop: [NET_RAW]\n");
    assert_int_equal(p.c.caps, CAPS_DOCKER_DEFAULT & ~BIT(13));
    assert_int_equal(p.c.caps_named, BIT(13));
    assert_string_not_equal(p.c.config, d.c.config);
    planned_done(&p);

    plan_of(&p, "    cap_add: [SYS_ADMIN]\n");
    assert_int_equal(p.c.caps, CAPS_DOCKER_DEFAULT | BIT(21));
    assert_string_not_equal(p.c.config, d.c.config);
    planned_done(&p);

    plan_of(&p, "    security_opt: [no-new-privileges]\n");
    assert_true(p.c.no_new_privs);
    assert_string_not_equal(p.c.config, d.c.config);
    planned_done(&p);

    /* A record from before these keys: Docker's defaults, same config. */
    j = plan_to_json(&d.c);
    assert_null(json_object_get(j, "caps"));
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_int_equal(back.caps, CAPS_DOCKER_DEFAULT);
    assert_false(back.no_new_privs);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&d);
}

static void test_plan_refuses(void **state)
{
    struct planned p;
    plan_of(&p, "    userns_mode: keep-id\n");
    assert_int_equal(p.r, -EPERM);
    assert_int_equal(strncmp(p.e.msg, "compose.yaml:4:5: ", 18), 0);
    assert_non_null(strstr(p.e.msg, "compose.yaml:4:5: service \"web\": userns_mode "
                                    "\"keep-id\" is not supported yet; refusing to start the "
                                    "service"));
    planned_done(&p);
}

/* privileged, group_add, OOM, masks and a seccomp profile: planned, kept
 * in the record, and changing the config; an old record has none. */
static void test_plan_sec(void **state)
{
    struct planned d, p;
    plan_of(&d, "");
    assert_int_equal(d.r, 0);
    assert_false(d.c.privileged);
    assert_null(d.c.seccomp);
    json_t *j = plan_to_json(&d.c);
    assert_null(json_object_get(j, "privileged"));
    assert_null(json_object_get(j, "oom_score_adj"));
    json_decref(j);

    plan_of(&p, "    privileged: true\n    group_add: [audio, \"42\"]\n"
                "    oom_score_adj: -5\n    oom_kill_disable: true\n"
                "    security_opt: [\"seccomp=unconfined\", \"mask=/proc/x\", "
                "\"unmask=ALL\", \"systempaths=unconfined\"]\n");
    assert_int_equal(p.r, 0);
    assert_string_not_equal(p.c.config, d.c.config);
    j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_true(back.privileged);
    assert_string_equal(back.group_add[1], "42");
    assert_true(back.oom_score_adj_set);
    assert_int_equal(back.oom_score_adj, -5);
    assert_true(back.oom_kill_disable);
    assert_string_equal(back.seccomp, "unconfined");
    assert_string_equal(back.mask[0], "/proc/x");
    assert_string_equal(back.unmask[0], "ALL");
    assert_true(back.systempaths_unconfined);
    struct container_sec cs;
    plan_sec_spec(&back, &cs);
    assert_true(cs.privileged && cs.oom_kill_disable && cs.systempaths_unconfined);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);

    /* A profile is read from the project directory and kept as text. */
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n"
                             "    security_opt: [\"seccomp=p.json\"]\n",
                             NULL),
                     0);
    free(ct_write(l.dir, "p.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}"));
    static char *cmd[] = {"/bin/true", NULL};
    struct image img = {.id = "sha256:aaaa", .familiar = "x:latest", .cmd = cmd};
    struct ctr_plan c;
    assert_int_equal(plan_container(l.p, ct_service(&l, "web"), &img, 1, "0123456789ab", &c, &e),
                     0);
    assert_string_equal(c.seccomp, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
    assert_non_null(strstr(c.seccomp_source, "/p.json"));
    ctr_plan_free(&c);
    /* One that does not parse: compose file:line:col and the profile's. */
    free(ct_write(l.dir, "p.json", "{\n  \"defaultAction\": ,\n}"));
    assert_true(plan_container(l.p, ct_service(&l, "web"), &img, 1, "0123456789ab", &c, &e) < 0);
    if (!strstr(e.msg, "compose.yaml:4:20: service \"web\": security_opt seccomp: ") ||
        !strstr(e.msg, "/p.json:2:"))
        fail_msg("%s", e.msg);
    berr_clear(&e);
    ct_load_done(&l);

    /* oom_score_adj out of range is a load error naming file:line. */
    assert_int_not_equal(
        ct_load(&l, "services:\n  web:\n    image: x\n    oom_score_adj: 1001\n", NULL), 0);
    ct_assert_error(&l, "compose.yaml:4:20: service \"web\": oom_score_adj: 1001 is out of range");
    ct_load_done(&l);
    planned_done(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_names),
        cmocka_unit_test(test_caps_tweak_docker_cases),
        cmocka_unit_test(test_caps_at_load),
        cmocka_unit_test(test_security_opt_forms),
        cmocka_unit_test(test_hardening_keys_fail_closed),
        cmocka_unit_test(test_plan_caps),
        cmocka_unit_test(test_plan_refuses),
        cmocka_unit_test(test_plan_sec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
