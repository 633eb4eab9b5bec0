/* SPDX-License-Identifier: Apache-2.0 */
/* Table-driven tests of the whole-specification loader: port and volume
 * short syntaxes, merging of several files (per-key rules, !reset,
 * !override), extends, include, profiles, cross-service validation with
 * every error reported at once, start order, config output and hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose/syntax.h"
#include "compose_testutil.h"

static void test_port_specs(void **state)
{
    static const struct {
        const char *in;
        const char *want; /* "ip,published,target,proto" entries joined with ";" */
        const char *err;
    } cases[] = {
        {"80", ",,80,tcp", NULL},
        {"8080:80", ",8080,80,tcp", NULL},
        {"127.0.0.1:8080:80", "127.0.0.1,8080,80,tcp", NULL},
        {"127.0.0.1::80", "127.0.0.1,,80,tcp", NULL},
        {"[::1]:8080:80", "::1,8080,80,tcp", NULL},
        {"53:53/udp", ",53,53,udp", NULL},
        {"9090-9091:8080-8081", ",9090,8080,tcp;,9091,8081,tcp", NULL},
        {"3000-3002", ",,3000,tcp;,,3001,tcp;,,3002,tcp", NULL},
        {"8000-8010:80", ",8000-8010,80,tcp", NULL},
        {"9999-10000:9999-10000", ",10000,10000,tcp;,9999,9999,tcp", NULL}, /* docker's order */
        {"80/sctp", ",,80,sctp", NULL},
        {"0:80", ",0,80,tcp", NULL},
        {"", NULL, "invalid container port"},
        {"abc", NULL, "invalid container port"},
        {"70000", NULL, "invalid container port"},
        {"0", NULL, "invalid container port"},
        {"80/xyz", NULL, "invalid protocol"},
        {"1.2.3:80:80", NULL, "invalid host IP"},
        {"x:80", NULL, "invalid host port"},
        {"8000-8001:80-82", NULL, "different lengths"},
        {"90-80", NULL, "invalid container port"},
    };
    struct port_entry pe[16];
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *err = NULL;
        long n = port_spec_parse(cases[i].in, pe, 16, &err);
        if (cases[i].err) {
            if (n >= 0 || !strstr(err, cases[i].err)) {
                fprintf(stderr, "[%s]: expected [%s], got %ld [%s]\n", cases[i].in, cases[i].err, n,
                        n < 0 ? err : "");
                fail();
            }
            continue;
        }
        struct ct_buf b = {0};
        ct_printf(&b, "%s", "");
        for (long j = 0; j < n; j++)
            ct_printf(&b, "%s%s,%s,%u,%s", j ? ";" : "", pe[j].host_ip, pe[j].published,
                      pe[j].target, pe[j].protocol);
        if (n < 0 || strcmp(b.s, cases[i].want) != 0) {
            fprintf(stderr, "[%s]: expected [%s], got [%s]\n", cases[i].in, cases[i].want, b.s);
            fail();
        }
        free(b.s);
    }
    /* The cap on expanded entries. */
    const char *err;
    assert_int_equal(port_spec_parse("1-65535", pe, 16, &err), -E2BIG);
}

static void test_volume_specs(void **state)
{
    static const struct {
        const char *in, *type, *source, *target;
        bool ro;
        const char *err;
    } cases[] = {
        {"/data", "volume", NULL, "/data", false, NULL},
        {"db:/data", "volume", "db", "/data", false, NULL},
        {"./x:/data:ro", "bind", "./x", "/data", true, NULL},
        {"~/x:/data:rw", "bind", "~/x", "/data", false, NULL},
        {"/abs:/data:ro,z", "bind", "/abs", "/data", true, NULL},
        {"db:/data:nocopy", "volume", "db", "/data", false, NULL},
        {"/a:/b:rshared,cached", "bind", "/a", "/b", false, NULL},
        {"a:b:c:d", NULL, NULL, NULL, false, "too many colons"},
        {"/a:/b:bogus", NULL, NULL, NULL, false, "unknown option"},
        {":/b", NULL, NULL, NULL, false, "empty source"},
        {"", NULL, NULL, NULL, false, "empty volume"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct volume_spec v;
        const char *err = NULL;
        int r = volume_spec_parse(cases[i].in, &v, &err);
        if (cases[i].err) {
            assert_int_equal(r, -EINVAL);
            assert_non_null(strstr(err, cases[i].err));
            continue;
        }
        assert_int_equal(r, 0);
        assert_string_equal(v.type, cases[i].type);
        if (cases[i].source)
            assert_string_equal(v.source, cases[i].source);
        else
            assert_null(v.source);
        assert_string_equal(v.target, cases[i].target);
        assert_int_equal(v.read_only, cases[i].ro);
        volume_spec_free(&v);
    }
}

/* The YAML config of files loaded together. */
static char *config_of(struct ct_load *l, const char *const *names, const char *const *contents,
                       char **env)
{
    if (ct_load_files(l, names, contents, env) != 0) {
        fprintf(stderr, "load failed: %s\n", l->e.msg);
        fail();
    }
    return compose_config_text(l->p, COMPOSE_FORMAT_YAML, NULL);
}

#define assert_has(text, needle)                                                                   \
    do {                                                                                           \
        if (!strstr((text), (needle))) {                                                           \
            fprintf(stderr, "expected [%s] in:\n%s\n", (needle), (text));                          \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#define assert_lacks(text, needle)                                                                 \
    do {                                                                                           \
        if (strstr((text), (needle))) {                                                            \
            fprintf(stderr, "unexpected [%s] in:\n%s\n", (needle), (text));                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void test_merge_rules(void **state)
{
    const char *names[] = {"compose.yaml", "override.yaml", NULL};
    const char *contents[] = {
        "services:\n"
        "  web:\n"
        "    image: a\n"
        "    command: [old]\n"
        "    ports: [\"8080:80\", \"443:443\"]\n"
        "    expose: [\"3000\"]\n"
        "    dns: [1.1.1.1]\n"
        "    volumes: [\"./a:/data\", \"/cache\"]\n"
        "    environment: {A: 1, B: 2}\n"
        "    labels: [x=1]\n"
        "    logging: {driver: json-file, options: {max-size: 1m}}\n"
        "    healthcheck: {test: [CMD, a], interval: 5s}\n"
        "    cap_add: [NET_ADMIN]\n"
        "    tmpfs: /run\n"
        "    read_only: true\n"
        "    sysctls: {net.core.somaxconn: 1024}\n",
        "services:\n"
        "  web:\n"
        "    command: new words\n"
        "    ports: [{target: 80, published: 8080}, \"9000:9000\"]\n"
        "    expose: [\"3000\", 4000]\n"
        "    dns: 8.8.8.8\n"
        "    volumes: [\"./b:/data:ro\"]\n"
        "    environment: [B=3, C=4]\n"
        "    labels: {y: \"2\"}\n"
        "    logging: {options: {max-file: \"3\"}}\n"
        "    healthcheck: {test: [CMD, b]}\n"
        "    cap_add: !reset []\n"
        "    tmpfs: [/run, /tmp]\n"
        "    read_only: !reset null\n"
        "    sysctls: !override {net.ipv4.ip_forward: 1}\n",
        NULL,
    };
    struct ct_load l;
    _cleanup_free_ char *y = config_of(&l, names, contents, NULL);
    assert_has(y, "    command:\n      - new\n      - words\n");
    /* ports: one per (ip, published, target, protocol); the long entry
     * takes the short one's place. */
    assert_has(y, "    ports:\n"
                  "      - mode: ingress\n        target: 80\n        published: \"8080\"\n"
                  "        protocol: tcp\n"
                  "      - mode: ingress\n        target: 443\n        published: \"443\"\n"
                  "        protocol: tcp\n"
                  "      - mode: ingress\n        target: 9000\n        published: \"9000\"\n");
    assert_has(y, "    expose:\n      - \"3000\"\n      - \"4000\"\n");
    assert_has(y, "    dns:\n      - 1.1.1.1\n      - 8.8.8.8\n");
    /* volumes: by target; the later one wins in place. */
    assert_has(y, "        target: /data\n        read_only: true\n");
    assert_has(y, "        target: /cache\n");
    assert_has(y, "    environment:\n      A: \"1\"\n      B: \"3\"\n      C: \"4\"\n");
    assert_has(y, "    labels:\n      x: \"1\"\n      \"y\": \"2\"\n"); /* "y" is a YAML 1.1 bool */
    assert_has(y, "    logging:\n      driver: json-file\n      options:\n        max-file: \"3\"\n"
                  "        max-size: 1m\n");
    assert_has(y, "      test:\n        - CMD\n        - b\n      interval: 5s\n");
    assert_lacks(y, "cap_add");
    assert_lacks(y, "read_only: true\n    restart");
    assert_has(y, "    sysctls:\n      net.ipv4.ip_forward: \"1\"\n    tmpfs:\n      - /run\n"
                  "      - /tmp\n");
    assert_lacks(y, "somaxconn");
    const struct service *s = project_service(l.p, "web");
    assert_false(s->read_only);
    ct_load_done(&l);
    /* A different logging driver replaces the whole block. */
    const char *c2[] = {
        "services:\n  web:\n    image: a\n    logging: {driver: json-file, options: {a: b}}\n",
        "services:\n  web:\n    logging: {driver: syslog}\n",
        NULL,
    };
    _cleanup_free_ char *y2 = config_of(&l, names, c2, NULL);
    assert_has(y2, "    logging:\n      driver: syslog\n    networks");
    ct_load_done(&l);
}

static void test_extends(void **state)
{
    const char *names[] = {"compose.yaml", "+common/base.yaml", NULL};
    const char *contents[] = {
        "services:\n"
        "  base:\n"
        "    image: busybox\n"
        "    environment: {LEVEL: base, KEEP: 1}\n"
        "    command: [sleep, \"1\"]\n"
        "  mid:\n"
        "    extends: base\n"
        "    environment: {LEVEL: mid}\n"
        "  top:\n"
        "    extends: {service: mid}\n"
        "    command: [sleep, \"3\"]\n"
        "  remote:\n"
        "    extends: {file: common/base.yaml, service: tool}\n"
        "    mem_limit: 64m\n",
        "services:\n"
        "  tool:\n"
        "    image: alpine\n"
        "    volumes: [\"./data:/data\"]\n"
        "    mem_limit: 32m\n",
        NULL,
    };
    struct ct_load l;
    _cleanup_free_ char *y = config_of(&l, names, contents, NULL);
    const struct service *top = project_service(l.p, "top");
    assert_string_equal(top->image, "busybox");
    assert_string_equal(strv_env_get(top->environment, "LEVEL"), "mid");
    assert_string_equal(strv_env_get(top->environment, "KEEP"), "1");
    assert_string_equal(top->command[1], "3");
    const struct service *remote = project_service(l.p, "remote");
    assert_string_equal(remote->image, "alpine");
    assert_int_equal(remote->mem_limit, 64LL << 20);
    /* Paths of the extended file are relative to that file. */
    _cleanup_free_ char *data = xasprintf("source: %s/common/data\n", l.dir);
    assert_has(y, data);
    assert_lacks(y, "extends");
    ct_load_done(&l);

    static const struct {
        const char *yaml, *err;
    } bad[] = {
        {"services:\n  a:\n    extends: b\n  b:\n    extends: a\n", "extends cycle: "},
        {"services:\n  a:\n    extends: a\n", "extends cycle: "},
        {"services:\n  a:\n    extends: ghost\n",
         "compose.yaml:3:14: service \"a\": cannot extend service \"ghost\": no such service"},
        {"services:\n  a:\n    extends: {file: nope.yaml, service: x}\n",
         "nope.yaml: cannot read: No such file or directory"},
        {"services:\n  a:\n    extends: {file: x.yaml}\n", "extends: service is required"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_not_equal(ct_load(&l, bad[i].yaml, NULL), 0);
        ct_assert_error(&l, bad[i].err);
        ct_load_done(&l);
    }

    /* Another file's services are checked only when extended: a broken
     * one nothing extends is no error, and one extended twice is reported
     * once. */
    const char *c2[] = {
        "services:\n  a:\n    extends: {file: o.yaml, service: ok}\n",
        "services:\n  ok: {image: x}\n  broken: {image: x, nokey: 1}\n",
        NULL,
    };
    const char *n2[] = {"compose.yaml", "+o.yaml", NULL};
    assert_int_equal(ct_load_files(&l, n2, c2, NULL), 0);
    ct_load_done(&l);
    const char *c3[] = {
        "services:\n  a:\n    extends: {file: o.yaml, service: broken}\n"
        "  b:\n    extends: {file: o.yaml, service: broken}\n",
        c2[1],
        NULL,
    };
    assert_int_not_equal(ct_load_files(&l, n2, c3, NULL), 0);
    ct_assert_error(&l, "o.yaml:3:22: service \"broken\": unknown key \"nokey\"");
    const char *first = strstr(l.e.msg, "unknown key");
    assert_non_null(first);
    assert_null(strstr(first + 1, "unknown key"));
    ct_load_done(&l);
}

static void test_include(void **state)
{
    const char *names[] = {"compose.yaml", "+db/compose.yaml", "+db/.env", "+.env", NULL};
    const char *contents[] = {
        "include:\n"
        "  - db/compose.yaml\n"
        "services:\n"
        "  web:\n"
        "    image: web\n"
        "    depends_on: [db]\n",
        "services:\n"
        "  db:\n"
        "    image: postgres:${PG:-15}\n"
        "    environment: {WHO: \"${WHO}\"}\n"
        "    volumes: [\"./init:/docker-entrypoint-initdb.d\", \"pgdata:/var/lib/pg\"]\n"
        "volumes:\n"
        "  pgdata:\n",
        "PG=16\nWHO=db-env\n",
        "WHO=parent\n",
        NULL,
    };
    struct ct_load l;
    _cleanup_free_ char *y = config_of(&l, names, contents, NULL);
    const struct service *db = project_service(l.p, "db");
    assert_non_null(db);
    assert_string_equal(db->image, "postgres:16");
    /* The including project's variables win over the included .env. */
    assert_string_equal(strv_env_get(db->environment, "WHO"), "parent");
    _cleanup_free_ char *init = xasprintf("source: %s/db/init\n", l.dir);
    assert_has(y, init);
    assert_has(y, "  pgdata:\n    name: proj_pgdata\n");
    assert_lacks(y, "include");
    ct_load_done(&l);

    /* A service defined again by the including file is merged over the
     * included one (compose-go); another resource defined twice is an
     * error. */
    const char *n2[] = {"compose.yaml", "+other.yaml", NULL};
    const char *c2[] = {
        "include: [other.yaml]\nservices:\n  web:\n    image: a\n",
        "services:\n  web:\n    image: b\n    environment: [X=1]\n",
        NULL,
    };
    assert_int_equal(ct_load_files(&l, n2, c2, NULL), 0);
    const struct service *web = project_service(l.p, "web");
    assert_non_null(web);
    assert_string_equal(web->image, "a");
    assert_string_equal(strv_env_get(web->environment, "X"), "1");
    ct_load_done(&l);
    const char *c2n[] = {
        "include: [other.yaml]\nservices: {web: {image: a}}\nnetworks:\n  n: {}\n",
        "services: {db: {image: b}}\nnetworks:\n  n: {}\n",
        NULL,
    };
    assert_int_not_equal(ct_load_files(&l, n2, c2n, NULL), 0);
    ct_assert_error(&l, "compose.yaml:4:3: networks \"n\" conflicts with the one imported by "
                        "the include at line 1");
    ct_load_done(&l);
    const char *c3[] = {"include: [compose.yaml]\nservices:\n  web:\n    image: a\n", "", NULL};
    const char *n3[] = {"compose.yaml", "+other.yaml", NULL};
    assert_int_not_equal(ct_load_files(&l, n3, c3, NULL), 0);
    ct_assert_error(&l, "include cycle:");
    ct_load_done(&l);
}

static void test_profiles(void **state)
{
    const char *yaml = "services:\n"
                       "  web: {image: a}\n"
                       "  debug: {image: b, profiles: [debug]}\n"
                       "  tools: {image: c, profiles: [tools, debug]}\n"
                       "  needs: {image: d, profiles: [x], depends_on: [debug]}\n";
    static const struct {
        char *env;
        const char *profile;
        const char *service;
        const char *want;
    } cases[] = {
        {NULL, NULL, NULL, "web"},
        {NULL, "debug", NULL, "web,debug,tools"},
        {"COMPOSE_PROFILES=tools", NULL, NULL, "web,tools"},
        {"COMPOSE_PROFILES=tools, debug", NULL, NULL, "web,debug,tools"},
        {NULL, "*", NULL, "web,debug,tools,needs"},
        /* naming a service enables all its profiles */
        {NULL, NULL, "tools", "web,debug,tools"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *tmp = ct_mkdtemp();
        char *dir = xasprintf("%s/proj", tmp);
        free(ct_write(dir, "compose.yaml", yaml));
        char *env[] = {cases[i].env, NULL};
        char *profiles[] = {(char *)cases[i].profile, NULL};
        char *services[] = {(char *)cases[i].service, NULL};
        struct compose_opts o = {.environ = env,
                                 .cwd = dir,
                                 .profiles = cases[i].profile ? profiles : NULL,
                                 .services = cases[i].service ? services : NULL};
        struct project *p = NULL;
        struct berr e = BERR_INIT;
        if (compose_load(&o, &p, &e) != 0) {
            fprintf(stderr, "case %zu: %s\n", i, e.msg);
            fail();
        }
        struct ct_buf b = {0};
        for (size_t k = 0; k < p->n_services; k++)
            ct_printf(&b, "%s%s", k ? "," : "", p->services[k].name);
        if (strcmp(b.s, cases[i].want) != 0) {
            fprintf(stderr, "case %zu: got [%s]\n", i, b.s);
            fail();
        }
        char *const *all = compose_all_profiles(p);
        assert_string_equal(all[0], "debug");
        assert_string_equal(all[1], "tools");
        assert_string_equal(all[2], "x");
        free(b.s);
        project_free(p);
        free(dir);
        ct_rmtree(tmp);
    }
    /* A dependency disabled by its profiles is an error. */
    struct ct_load l;
    char *env[] = {"COMPOSE_PROFILES=x", NULL};
    assert_int_not_equal(ct_load(&l, yaml, env), 0);
    ct_assert_error(&l, "compose.yaml:5:49: service \"needs\" depends on service \"debug\", which "
                        "is disabled by its profiles");
    ct_load_done(&l);
}

static void test_validation_all_at_once(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  a:\n"
                    "    image: x\n"
                    "    depends_on: [b]\n"
                    "    container_name: same\n"
                    "    networks: [front]\n"
                    "    secrets: [token]\n"
                    "  b:\n"
                    "    image: x\n"
                    "    depends_on: [c]\n"
                    "    container_name: same\n"
                    "  c:\n"
                    "    image: x\n"
                    "    depends_on: [a]\n"
                    "    network_mode: service:ghost\n"
                    "    links: [phantom:alias]\n"
                    "    volumes: [data:/data]\n"
                    "  d:\n"
                    "    build: .\n"
                    "    network_mode: host\n"
                    "    networks: [default]\n"
                    "  e:\n"
                    "    hostname: nothing-to-run\n"
                    "  f:\n"
                    "    image: x\n"
                    "    ports: [\"99999:80\"]\n"
                    "    stop_grace_period: 5 minutes\n"
                    "    restart: sometimes\n"
                    "    mem_limit: 12q\n",
                    NULL);
    assert_int_not_equal(r, 0);
    /* Value errors first (all of them), then nothing is validated further:
     * the file must be fixed first. */
    ct_assert_error(&l, "compose.yaml:26:13: service \"f\": ports: invalid port \"99999:80\": "
                        "invalid host port");
    ct_assert_error(&l, "compose.yaml:27:24: service \"f\": stop_grace_period: invalid duration");
    ct_assert_error(&l, "compose.yaml:28:14: service \"f\": restart: invalid restart policy");
    ct_assert_error(&l, "compose.yaml:29:16: service \"f\": mem_limit: invalid size \"12q\"");
    ct_load_done(&l);
    r = ct_load(&l,
                "services:\n"
                "  a:\n"
                "    image: x\n"
                "    depends_on: [b]\n"
                "    container_name: same\n"
                "    networks: [front]\n"
                "    secrets: [token]\n"
                "  b:\n"
                "    image: x\n"
                "    depends_on: [c]\n"
                "    container_name: same\n"
                "  c:\n"
                "    image: x\n"
                "    depends_on: [a]\n"
                "    network_mode: service:ghost\n"
                "    links: [phantom:alias]\n"
                "    volumes: [data:/data]\n"
                "  d:\n"
                "    build: .\n"
                "    network_mode: host\n"
                "    networks: [default]\n"
                "  e:\n"
                "    hostname: nothing-to-run\n",
                NULL);
    assert_int_not_equal(r, 0);
    ct_assert_error(&l, "compose.yaml:6:16: service \"a\" refers to undefined network \"front\"");
    ct_assert_error(&l, "compose.yaml:7:15: service \"a\" refers to undefined secret \"token\"");
    ct_assert_error(&l, "compose.yaml:15:19: service \"c\" uses the network of undefined service "
                        "\"ghost\"");
    ct_assert_error(&l, "compose.yaml:16:13: service \"c\" links to undefined service \"phantom\"");
    ct_assert_error(&l, "compose.yaml:17:15: service \"c\" refers to undefined volume \"data\"");
    ct_assert_error(&l, "compose.yaml:20:19: service \"d\" declares mutually exclusive "
                        "`network_mode` and `networks`");
    ct_assert_error(&l, "compose.yaml:22:3: service \"e\" has neither an image nor a build "
                        "context specified");
    ct_assert_error(&l, "compose.yaml:11:21: container_name \"same\" is already used by another "
                        "service (line 5)");
    ct_assert_error(&l, "dependency cycle detected: a -> b -> c -> a");
    ct_load_done(&l);
}

static void test_start_order(void **state)
{
    struct ct_load l;
    assert_int_equal(
        ct_load(&l,
                "services:\n"
                "  web: {image: x, depends_on: [api, cache]}\n"
                "  worker: {image: x, depends_on: {db: {condition: service_healthy}}}\n"
                "  api: {image: x, depends_on: [db]}\n"
                "  db: {image: x}\n"
                "  cache: {image: x}\n"
                "  side: {image: x, network_mode: \"service:cache\"}\n",
                NULL),
        0);
    struct ct_buf b = {0};
    for (size_t i = 0; i < l.p->n_services; i++)
        ct_printf(&b, "%s%s", i ? "," : "", l.p->services[l.p->start_order[i]].name);
    assert_string_equal(b.s, "db,api,cache,web,worker,side");
    free(b.s);
    /* network_mode: service:x is an implicit dependency. */
    const struct service *side = project_service(l.p, "side");
    assert_int_equal(side->n_depends, 1);
    assert_string_equal(side->depends_on[0].service, "cache");
    ct_load_done(&l);
}

/* A build arg with no value takes the variable's or is left out; an
 * environment entry with no value and no variable stays, empty
 * (compose-go loader/normalize.go). */
static void test_build_args_resolved(void **state)
{
    (void)state;
    char *env[] = {"SET=from-env", NULL};
    struct ct_load l;
    const char *names[] = {"compose.yaml", NULL};
    const char *contents[] = {"services:\n"
                              "  app:\n"
                              "    build: {context: ., args: [SET, UNSET, GIVEN=1]}\n"
                              "    environment: [SET, UNSET]\n",
                              NULL};
    _cleanup_free_ char *y = config_of(&l, names, contents, env);
    assert_has(y, "      args:\n        GIVEN: \"1\"\n        SET: from-env\n    environment");
    assert_has(y, "    environment:\n      SET: from-env\n      UNSET: null\n");
    ct_load_done(&l);
}

/* scale is copied into deploy.replicas when deploy is there, never the
 * other way (compose-go loader/validate.go); either sets the replicas. */
static void test_scale_and_replicas(void **state)
{
    (void)state;
    struct ct_load l;
    const char *names[] = {"compose.yaml", NULL};
    const char *contents[] = {"services:\n"
                              "  a: {image: x, deploy: {replicas: 2}}\n"
                              "  b: {image: x, scale: 3, deploy: {mode: replicated}}\n"
                              "  c: {image: x, scale: 4}\n",
                              NULL};
    _cleanup_free_ char *y = config_of(&l, names, contents, NULL);
    assert_has(y, "  a:\n    deploy:\n      replicas: 2\n    image: x\n    networks:\n"
                  "      default: null\n  b:");
    assert_has(y, "  b:\n    deploy:\n      mode: replicated\n      replicas: 3\n");
    assert_has(y, "    scale: 3\n  c:\n");
    assert_has(y, "    scale: 4\n");
    assert_int_equal(project_service(l.p, "a")->replicas, 2);
    assert_int_equal(project_service(l.p, "b")->replicas, 3);
    assert_int_equal(project_service(l.p, "c")->replicas, 4);
    ct_load_done(&l);
}

/* Links and shared namespaces imply a dependency that restarts with its
 * peer; volumes_from one that does not (compose-go loader/normalize.go). */
static void test_implied_dependencies(void **state)
{
    (void)state;
    struct ct_load l;
    const char *names[] = {"compose.yaml", NULL};
    const char *contents[] = {
        "services:\n"
        "  app: {image: x, links: [\"db:database\"], volumes_from: [\"data:ro\"],\n"
        "        pid: \"service:db\"}\n"
        "  side: {image: x, network_mode: \"service:app\"}\n"
        "  db: {image: x}\n"
        "  data: {image: x}\n",
        NULL};
    _cleanup_free_ char *y = config_of(&l, names, contents, NULL);
    assert_has(y, "    depends_on:\n      data:\n        condition: service_started\n"
                  "        required: true\n      db:\n        condition: service_started\n"
                  "        restart: true\n        required: true\n");
    assert_has(y, "    depends_on:\n      app:\n        condition: service_started\n"
                  "        restart: true\n        required: true\n");
    const struct service *app = project_service(l.p, "app");
    assert_int_equal(app->n_depends, 2);
    for (size_t i = 0; i < app->n_depends; i++)
        assert_int_equal(app->depends_on[i].restart, strcmp(app->depends_on[i].service, "db") == 0);
    ct_load_done(&l);
}

static void test_config_output(void **state)
{
    char *env[] = {"HOME=/home/u", "TAG=7", NULL};
    const char *names[] = {"compose.yaml", "+app.env", NULL};
    const char *contents[] = {
        "name: shop\n"
        "x-base: &base\n"
        "  restart: always\n"
        "  logging: {driver: local}\n"
        "services:\n"
        "  app:\n"
        "    <<: *base\n"
        "    image: \"shop:${TAG}\"\n"
        "    env_file: [app.env, {path: missing.env, required: false}]\n"
        "    environment: [\"PRICE=$$5\", FROM_FILE=override]\n"
        "    stop_grace_period: 90s\n"
        "    healthcheck: {test: \"curl -f localhost\", interval: 1h, timeout: 1500ms}\n"
        "    shm_size: 1.5g\n"
        "    cpus: 0.5\n"
        "    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}\n"
        "    extra_hosts: [\"b.local:10.0.0.2\", \"a.local=10.0.0.1\"]\n"
        "    secrets: [api_key]\n"
        "    deploy:\n"
        "      resources: {limits: {memory: 256M}}\n"
        "      restart_policy: {condition: on-failure, max_attempts: 3}\n"
        "    labels:\n"
        "      multi: |\n"
        "        line one\n"
        "        line two\n"
        "    command: [\"echo\", \"yes\", \"\", \"a: b\", \"*star\"]\n"
        "secrets:\n"
        "  api_key: {file: ./key.txt}\n",
        "FROM_FILE=file\nONLY_FILE=1\n",
        NULL,
    };
    struct ct_load l;
    _cleanup_free_ char *y = config_of(&l, names, contents, env);
    assert_has(y, "name: shop\nservices:\n  app:\n    cpus: 0.5\n    command:\n      - echo\n      "
                  "- \"yes\"\n"
                  "      - \"\"\n      - 'a: b'\n      - '*star'\n");
    assert_has(y, "    environment:\n      FROM_FILE: override\n      ONLY_FILE: \"1\"\n"
                  "      PRICE: $$5\n");
    /* env_file is merged into environment and left out, as docker compose
     * config does (cli.WithDiscardEnvFile). */
    assert_lacks(y, "env_file");
    assert_has(y, "    extra_hosts:\n      - a.local=10.0.0.1\n      - b.local=10.0.0.2\n");
    assert_has(y, "      test:\n        - CMD-SHELL\n        - curl -f localhost\n"
                  "      timeout: 1.5s\n      interval: 1h0m0s\n");
    assert_has(y, "    image: shop:7\n");
    assert_has(y, "    labels:\n      multi: |\n        line one\n        line two\n");
    assert_has(y, "        memory: \"268435456\"\n");
    assert_has(y,
               "      restart_policy:\n        condition: on-failure\n        max_attempts: 3\n");
    assert_has(y, "    secrets:\n      - source: api_key\n        target: /run/secrets/api_key\n");
    assert_has(y, "    shm_size: \"1610612736\"\n    stop_grace_period: 1m30s\n");
    assert_has(y, "    ulimits:\n      nofile:\n        soft: 1024\n        hard: 2048\n"
                  "      nproc: 512\n");
    assert_has(y, "networks:\n  default:\n    name: shop_default\n");
    _cleanup_free_ char *sec = xasprintf("secrets:\n  api_key:\n    name: shop_api_key\n"
                                         "    file: %s/key.txt\n",
                                         l.dir);
    assert_has(y, sec);
    assert_has(y, "x-base:\n  logging:\n    driver: local\n  restart: always\n");
    /* The effective environment reaches the model too. */
    const struct service *s = project_service(l.p, "app");
    assert_string_equal(strv_env_get(s->environment, "PRICE"), "$5");
    assert_string_equal(strv_env_get(s->environment, "FROM_FILE"), "override");
    assert_string_equal(strv_env_get(s->environment, "ONLY_FILE"), "1");
    assert_int_equal(s->mem_limit, 256LL << 20);
    /* JSON: Go's indentation and escaping, top level sorted. */
    _cleanup_free_ char *j = compose_config_text(l.p, COMPOSE_FORMAT_JSON, NULL);
    assert_has(j, "{\n  \"name\": \"shop\",\n  \"networks\": {\n");
    assert_has(j, "      \"cpus\": 0.5,\n");
    assert_has(j, "      \"entrypoint\": null,\n");
    assert_has(j, "        \"multi\": \"line one\\nline two\\n\"\n");
    char h[65];
    assert_int_equal(compose_service_hash(l.p, "app", h), 0);
    assert_int_equal(strlen(h), 64);
    assert_int_equal(compose_service_hash(l.p, "nope", h), -ENOENT);
    ct_load_done(&l);
}

/* Hashes are stable, blind to what compose leaves out (scale, depends_on,
 * profiles, build, pull_policy), and change with anything else. */
static void test_hash(void **state)
{
    static const char *const variants[] = {
        "services:\n  a: {image: x, environment: {A: 1}}\n  b: {image: y}\n",
        "services:\n  a: {image: x, environment: [A=1], scale: 3, depends_on: [b],\n"
        "     pull_policy: always}\n  b: {image: y}\n",
        "services:\n  a: {image: x, environment: {A: 2}}\n  b: {image: y}\n",
        "services:\n  a: {image: x, environment: {A: 1}, deploy: {replicas: 2}}\n"
        "  b: {image: y}\n",
        "services:\n  a: {image: x, environment: {A: 1}, deploy: {}}\n  b: {image: y}\n",
        "services:\n  a: {image: x, environment: {A: 1}, x-note: n,\n"
        "     ports: [{target: 80, x-port: p}]}\n  b: {image: y}\n",
        "services:\n  a: {image: x, environment: {A: 1}, ports: [{target: 80}]}\n"
        "  b: {image: y}\n",
    };
    char h[ARRAY_SIZE(variants)][65];
    for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
        struct ct_load l;
        assert_int_equal(ct_load(&l, variants[i], NULL), 0);
        assert_int_equal(compose_service_hash(l.p, "a", h[i]), 0);
        ct_load_done(&l);
    }
    assert_string_equal(h[0], h[1]);
    assert_string_not_equal(h[0], h[2]);
    /* deploy.replicas counts as 1: same as a deploy without it. */
    assert_string_equal(h[3], h[4]);
    assert_string_not_equal(h[0], h[3]);
    /* x- keys are no part of compose's hash (its structs never marshal them). */
    assert_string_equal(h[5], h[6]);
    assert_string_not_equal(h[0], h[5]);
}

/* Networks, volumes, secrets and configs no service uses are left out of
 * the output, as docker compose config leaves them (compose-go
 * Project.WithoutUnnecessaryResources); a section left empty goes too. */
static void test_config_unused_resources(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n"
                             "  web:\n"
                             "    image: x\n"
                             "    networks: [front]\n"
                             "    volumes: [data:/data, \"./src:/src\"]\n"
                             "    secrets: [s1]\n"
                             "    build: {context: ., secrets: [s2]}\n"
                             "networks: {front: {}, back: {}}\n"
                             "volumes: {data: {}, src: {}}\n"
                             "secrets: {s1: {file: ./a}, s2: {file: ./b}, s3: {file: ./c}}\n"
                             "configs: {c1: {file: ./d}}\n",
                             NULL),
                     0);
    _cleanup_free_ char *y = compose_config_text(l.p, COMPOSE_FORMAT_YAML, NULL);
    assert_has(y, "networks:\n  front:\n    name: proj_front\n"
                  "volumes:\n  data:\n    name: proj_data\n"
                  "secrets:\n  s1:\n");
    assert_has(y, "  s2:\n");
    assert_lacks(y, "back");
    assert_lacks(y, "s3");
    assert_lacks(y, "  src:\n");
    assert_lacks(y, "configs");
    ct_load_done(&l);
}

/* JSON output leaves out the x- keys of services, networks... as docker
 * compose's does (compose-go types: Extensions `json:"-"`), and keeps the
 * project's own; YAML keeps them all. */
static void test_json_extensions(void **state)
{
    (void)state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "x-top: {a: 1}\n"
                             "services:\n"
                             "  web: {image: x, x-note: hi, environment: {x-var: v}}\n"
                             "networks:\n"
                             "  default: {x-net: 1}\n",
                             NULL),
                     0);
    _cleanup_free_ char *j = compose_config_text(l.p, COMPOSE_FORMAT_JSON, NULL);
    assert_lacks(j, "x-note");
    assert_lacks(j, "x-net");
    assert_has(j, "\"x-var\": \"v\"");
    assert_has(j, "  \"x-top\": {\n    \"a\": 1\n  }\n");
    _cleanup_free_ char *y = compose_config_text(l.p, COMPOSE_FORMAT_YAML, NULL);
    assert_has(y, "    x-note: hi\n");
    assert_has(y, "    x-net: 1\n");
    ct_load_done(&l);
}

static void test_round_trip(void **state)
{
    char *env[] = {"HOME=/home/u", NULL};
    const char *yaml = "services:\n"
                       "  web:\n"
                       "    image: nginx\n"
                       "    ports: [\"80\", \"127.0.0.1:8000-8001:80-81\"]\n"
                       "    volumes: [\"~/site:/usr/share/nginx/html:ro\", \"logs:/var/log\"]\n"
                       "    tmpfs: [\"/run:size=64m\"]\n"
                       "    environment: {A: \"$$HOME\", EMPTY: \"\", T: \"true\"}\n"
                       "    entrypoint: \"\"\n"
                       "    depends_on: {db: {condition: service_started, restart: true}}\n"
                       "    healthcheck: {disable: true}\n"
                       "    devices: [\"/dev/fuse\"]\n"
                       "    dns_search: example.com\n"
                       "  db:\n"
                       "    image: postgres\n"
                       "    deploy: {replicas: 2}\n"
                       "    init: false\n"
                       "volumes:\n"
                       "  logs: {external: true}\n";
    for (int fmt = 0; fmt < 2; fmt++) {
        struct ct_load l;
        assert_int_equal(ct_load(&l, yaml, env), 0);
        _cleanup_free_ char *first =
            compose_config_text(l.p, fmt ? COMPOSE_FORMAT_JSON : COMPOSE_FORMAT_YAML, NULL);
        ct_load_done(&l);
        if (ct_load(&l, first, env) != 0) {
            fprintf(stderr, "reload failed: %s\n%s\n", l.e.msg, first);
            fail();
        }
        _cleanup_free_ char *second =
            compose_config_text(l.p, fmt ? COMPOSE_FORMAT_JSON : COMPOSE_FORMAT_YAML, NULL);
        if (strcmp(first, second) != 0) {
            fprintf(stderr, "first:\n%s\nsecond:\n%s\n", first, second);
            fail();
        }
        assert_string_equal(strv_env_get(project_service(l.p, "web")->environment, "A"), "$HOME");
        ct_load_done(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_specs),
        cmocka_unit_test(test_volume_specs),
        cmocka_unit_test(test_merge_rules),
        cmocka_unit_test(test_extends),
        cmocka_unit_test(test_include),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_validation_all_at_once),
        cmocka_unit_test(test_start_order),
        cmocka_unit_test(test_build_args_resolved),
        cmocka_unit_test(test_scale_and_replicas),
        cmocka_unit_test(test_implied_dependencies),
        cmocka_unit_test(test_config_output),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_json_extensions),
        cmocka_unit_test(test_config_unused_resources),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
