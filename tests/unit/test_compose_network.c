/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the network keys through compose_load and plan_container:
 * ports (short and long syntax), networks (connection order, the implicit
 * default network, top-level definitions), network_mode, links and the
 * dependencies they imply, the resolver and host keys, every validation
 * error's text, the warnings kept until the wiring lands, and the plan's
 * networking with its JSON round trip. Not here: making any network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>

#include "engine/plan/plan.h"
#include "plan_testutil.h"

/* "services:\n  web:\n    image: img\n<body>" */
static int load_web(struct ct_load *l, const char *body)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: img\n%s", body);
    return ct_load(l, y, NULL);
}

static void expect_error(const char *yaml, const char *err)
{
    struct ct_load l;
    int r = ct_load(&l, yaml, NULL);
    if (r == 0 || !l.e.msg || !strstr(l.e.msg, err))
        fail_msg("expected error [%s], got [%s]", err, l.e.msg ? l.e.msg : "(none)");
    ct_load_done(&l);
}

static void expect_web_error(const char *body, const char *err)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: img\n%s", body);
    expect_error(y, err);
}

/* --- ports --------------------------------------------------------------- */

struct pcase {
    const char *body;
    size_t n; /* entries */
    const char *host_ip;
    unsigned published, published_end, target, target_end;
    int proto;
    const char *mode;
};

static void test_ports_forms(void **state)
{
    static const struct pcase cases[] = {
        {"    ports: [\"8080:80\"]\n", 1, NULL, 8080, 8080, 80, 80, IPPROTO_TCP, "ingress"},
        {"    ports: [\"80\"]\n", 1, NULL, 0, 0, 80, 80, IPPROTO_TCP, "ingress"},
        {"    ports: [8080]\n", 1, NULL, 0, 0, 8080, 8080, IPPROTO_TCP, "ingress"},
        {"    ports: [\"127.0.0.1:8080:80/udp\"]\n", 1, "127.0.0.1", 8080, 8080, 80, 80,
         IPPROTO_UDP, "ingress"},
        {"    ports: [\"127.0.0.1::80\"]\n", 1, "127.0.0.1", 0, 0, 80, 80, IPPROTO_TCP, "ingress"},
        {"    ports: [\"[::1]:8080:80/sctp\"]\n", 1, "::1", 8080, 8080, 80, 80, IPPROTO_SCTP,
         "ingress"},
        /* A host range for one container port: any free one in it. */
        {"    ports: [\"9000-9010:80\"]\n", 1, NULL, 9000, 9010, 80, 80, IPPROTO_TCP, "ingress"},
        /* Ranges of the same length: one entry per port (the first checked). */
        {"    ports: [\"8000-8002:80-82\"]\n", 3, NULL, 8000, 8000, 80, 80, IPPROTO_TCP, "ingress"},
        {"    ports:\n      - target: 80\n        published: \"8080\"\n        protocol: udp\n"
         "        mode: host\n        host_ip: 127.0.0.2\n",
         1, "127.0.0.2", 8080, 8080, 80, 80, IPPROTO_UDP, "host"},
        {"    ports:\n      - target: 443\n        published: 7000-7005\n", 1, NULL, 7000, 7005,
         443, 443, IPPROTO_TCP, "ingress"},
        {"    ports:\n      - target: \"53\"\n", 1, NULL, 0, 0, 53, 53, IPPROTO_TCP, "ingress"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct pcase *c = &cases[i];
        struct ct_load l;
        if (load_web(&l, c->body) != 0)
            fail_msg("[%s]: %s", c->body, l.e.msg);
        const struct service *s = ct_service(&l, "web");
        if (s->n_ports != c->n)
            fail_msg("[%s]: %zu entries, want %zu", c->body, s->n_ports, c->n);
        const struct svc_port *p = &s->ports[0];
        if (c->host_ip)
            assert_string_equal(p->host_ip, c->host_ip);
        else
            assert_null(p->host_ip);
        if (p->published != c->published || p->published_end != c->published_end ||
            p->target != c->target || p->target_end != c->target_end || p->proto != c->proto)
            fail_msg("[%s]: got %u-%u:%u-%u proto %d", c->body, p->published, p->published_end,
                     p->target, p->target_end, p->proto);
        assert_string_equal(p->mode, c->mode);
        assert_int_equal(p->pos.line, 4 + (c->body[10] == '\n'));
        ct_load_done(&l);
    }
    /* The expanded range keeps port-to-port pairs. */
    struct ct_load l;
    assert_int_equal(load_web(&l, "    ports: [\"8000-8002:80-82\"]\n"), 0);
    const struct service *s = ct_service(&l, "web");
    assert_int_equal(s->ports[2].published, 8002);
    assert_int_equal(s->ports[2].target, 82);
    ct_load_done(&l);
    /* name and app_protocol are kept. */
    assert_int_equal(load_web(&l, "    ports:\n      - {target: 80, name: web, app_protocol: "
                                  "http}\n"),
                     0);
    s = ct_service(&l, "web");
    assert_string_equal(s->ports[0].name, "web");
    assert_string_equal(s->ports[0].app_protocol, "http");
    ct_load_done(&l);
}

static void test_ports_errors(void **state)
{
    expect_web_error("    ports: [\"70000:80\"]\n",
                     "compose.yaml:4:13: service \"web\": ports: invalid port \"70000:80\": "
                     "invalid host port");
    expect_web_error("    ports: [\"8080:0\"]\n", "invalid container port");
    expect_web_error("    ports: [\"8000-8002:80-81\"]\n",
                     "ports: invalid port \"8000-8002:80-81\": the host and container port "
                     "ranges have different lengths");
    expect_web_error("    ports:\n      - target: 70000\n",
                     "compose.yaml:5:17: service \"web\": ports: invalid target port \"70000\"");
    expect_web_error("    ports:\n      - target: 80\n        published: \"99999\"\n",
                     "invalid published port \"99999\"");
    expect_web_error("    ports:\n      - target: 80\n        host_ip: nowhere\n",
                     "compose.yaml:5:9: service \"web\": ports: invalid host_ip \"nowhere\"");
    expect_web_error("    ports:\n      - target: 80\n        protocol: icmp\n",
                     "invalid protocol \"icmp\" (use tcp, udp or sctp)");
    expect_web_error("    ports:\n      - published: \"80\"\n", "a port mapping needs a target");
}

/* --- networks ------------------------------------------------------------ */

static void test_default_network(void **state)
{
    struct ct_load l;
    assert_int_equal(load_web(&l, ""), 0);
    const struct service *s = ct_service(&l, "web");
    assert_null(s->network_mode);
    assert_int_equal(s->n_networks, 1);
    assert_string_equal(s->networks[0].key, "default");
    assert_null(s->networks[0].aliases);
    assert_int_equal(l.p->n_networks, 1);
    assert_string_equal(l.p->networks[0].key, "default");
    assert_string_equal(l.p->networks[0].name, "proj_default");
    assert_true(l.p->networks[0].used);
    assert_true(l.p->networks[0].enable_ipv4);
    assert_null(l.p->networks[0].driver);
    /* The implicit default network makes no warning. */
    assert_false(ct_warned(&l.w, "networks"));
    ct_load_done(&l);

    /* network_mode: no networks, no default network. */
    assert_int_equal(load_web(&l, "    network_mode: host\n"), 0);
    s = ct_service(&l, "web");
    assert_string_equal(s->network_mode, "host");
    assert_int_equal(s->n_networks, 0);
    assert_int_equal(l.p->n_networks, 0);
    ct_load_done(&l);

    assert_int_equal(load_web(&l, "    network_mode: none\n"), 0);
    assert_string_equal(ct_service(&l, "web")->network_mode, "none");
    ct_load_done(&l);
}

static const char *const order_yaml =
    "services:\n"
    "  web:\n"
    "    image: img\n"
    "    networks:\n"
    "      zeta:\n"
    "      back:\n"
    "        aliases: [api, api2]\n"
    "        ipv4_address: 172.28.0.5\n"
    "        ipv6_address: \"fd00::5\"\n"
    "        mac_address: \"02:42:ac:11:00:05\"\n"
    "      front:\n"
    "        priority: 100\n"
    "        gw_priority: 7\n"
    "      alpha:\n"
    "        priority: -1\n"
    "  db:\n"
    "    image: img\n"
    "    networks: [back, default]\n"
    "networks:\n"
    "  front:\n"
    "    driver: bridge\n"
    "    internal: true\n"
    "    attachable: true\n"
    "    enable_ipv6: true\n"
    "    driver_opts: {com.docker.network.bridge.name: br-front}\n"
    "    labels: [tier=front]\n"
    "    ipam:\n"
    "      driver: default\n"
    "      config:\n"
    "        - subnet: 172.28.0.0/16\n"
    "          gateway: 172.28.0.1\n"
    "          ip_range: 172.28.5.0/24\n"
    "  back:\n"
    "    name: my-back\n"
    "  zeta:\n"
    "    external: true\n"
    "  alpha:\n"
    "    external: true\n"
    "    name: the-alpha\n"
    "  unused:\n";

static void test_networks_order(void **state)
{
    struct ct_load l;
    if (ct_load(&l, order_yaml, NULL) != 0)
        fail_msg("%s", l.e.msg);
    const struct service *s = ct_service(&l, "web");
    /* Priority descending, then the key. */
    static const char *const want[] = {"front", "back", "zeta", "alpha"};
    assert_int_equal(s->n_networks, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(s->networks[i].key, want[i]);
    assert_int_equal(s->networks[0].priority, 100);
    assert_int_equal(s->networks[0].gw_priority, 7);
    assert_int_equal(s->networks[3].priority, -1);
    const struct svc_network *b = &s->networks[1];
    assert_string_equal(b->aliases[0], "api");
    assert_string_equal(b->aliases[1], "api2");
    assert_null(b->aliases[2]);
    assert_string_equal(b->ipv4_address, "172.28.0.5");
    assert_string_equal(b->ipv6_address, "fd00::5");
    assert_string_equal(b->mac_address, "02:42:ac:11:00:05");
    assert_int_equal(b->pos.line, 6);
    assert_null(s->networks[2].ipv4_address);
    const struct service *db = ct_service(&l, "db");
    assert_int_equal(db->n_networks, 2);
    assert_string_equal(db->networks[0].key, "back");
    assert_string_equal(db->networks[1].key, "default");

    /* Top level, with the default network db uses. */
    const struct network_def *f = project_network(l.p, "front");
    assert_non_null(f);
    assert_string_equal(f->name, "proj_front");
    assert_string_equal(f->driver, "bridge");
    assert_true(f->internal && f->attachable && f->enable_ipv6 && f->enable_ipv4);
    assert_false(f->external);
    assert_string_equal(f->driver_opts[0], "com.docker.network.bridge.name=br-front");
    assert_string_equal(f->labels[0], "tier=front");
    assert_string_equal(f->ipam_driver, "default");
    assert_int_equal(f->n_ipam, 1);
    assert_string_equal(f->ipam[0].subnet, "172.28.0.0/16");
    assert_string_equal(f->ipam[0].gateway, "172.28.0.1");
    assert_string_equal(f->ipam[0].ip_range, "172.28.5.0/24");
    assert_int_equal(f->pos.line, 20);
    assert_true(f->used);
    assert_string_equal(project_network(l.p, "back")->name, "my-back");
    const struct network_def *z = project_network(l.p, "zeta");
    assert_true(z->external);
    assert_string_equal(z->name, "zeta");
    assert_string_equal(project_network(l.p, "alpha")->name, "the-alpha");
    const struct network_def *u = project_network(l.p, "unused");
    assert_non_null(u);
    assert_false(u->used);
    assert_string_equal(project_network(l.p, "default")->name, "proj_default");
    assert_true(project_network(l.p, "default")->used);
    assert_null(project_network(l.p, "nope"));
    ct_load_done(&l);
}

static void test_network_errors(void **state)
{
    expect_web_error("    networks: [front]\n",
                     "compose.yaml:4:16: service \"web\" refers to undefined network \"front\"");
    expect_error("services:\n  web:\n    image: img\n    network_mode: host\n"
                 "    networks: [default]\n",
                 "compose.yaml:4:19: service \"web\" declares mutually exclusive `network_mode` "
                 "and `networks`");
    expect_web_error("    network_mode: \"service:db\"\n",
                     "compose.yaml:4:19: service \"web\" uses the network of undefined service "
                     "\"db\"");
    expect_web_error("    links: [db]\n",
                     "compose.yaml:4:13: service \"web\" links to undefined service \"db\"");
    expect_web_error("    links: [\"db:database\"]\n", "links to undefined service \"db\"");
    expect_error("services:\n  web:\n    image: img\n    networks:\n      front:\n"
                 "        ipv4_address: 300.1.2.3\nnetworks:\n  front:\n",
                 "compose.yaml:6:23: service \"web\": networks: front: ipv4_address: invalid "
                 "IPv4 address \"300.1.2.3\"");
    expect_error("services:\n  web:\n    image: img\n    networks:\n      front:\n"
                 "        ipv4_address: \"fd00::1\"\nnetworks:\n  front:\n",
                 "ipv4_address: invalid IPv4 address \"fd00::1\"");
    expect_error("services:\n  web:\n    image: img\n    networks:\n      front:\n"
                 "        ipv6_address: 10.0.0.1\nnetworks:\n  front:\n",
                 "front: ipv6_address: invalid IPv6 address \"10.0.0.1\"");
    expect_web_error("    network_mode: \"service:\"\n",
                     "compose.yaml:4:19: service \"web\" uses the network of undefined service "
                     "\"\"");
    expect_web_error("    network_mode: \"container:\"\n",
                     "compose.yaml:4:19: service \"web\": network_mode: invalid network mode "
                     "\"container:\"");
    expect_web_error("    extra_hosts: [\"=1.2.3.4\"]\n", "invalid extra host");
    expect_web_error("    links: [\"db:a:b\"]\n", "links to undefined service");
}

static bool depends_on(const struct service *s, const char *on, bool restart)
{
    for (size_t i = 0; i < s->n_depends; i++)
        if (strcmp(s->depends_on[i].service, on) == 0)
            return s->depends_on[i].restart == restart && s->depends_on[i].required &&
                   s->depends_on[i].condition == DEP_STARTED;
    return false;
}

static void test_implied_dependencies(void **state)
{
    struct ct_load l;
    const char *y = "services:\n"
                    "  web:\n    image: img\n    links: [\"db:database\", cache]\n"
                    "  side:\n    image: img\n    network_mode: \"service:web\"\n"
                    "  db:\n    image: img\n"
                    "  cache:\n    image: img\n";
    if (ct_load(&l, y, NULL) != 0)
        fail_msg("%s", l.e.msg);
    const struct service *web = ct_service(&l, "web"), *side = ct_service(&l, "side");
    assert_true(depends_on(web, "db", true));
    assert_true(depends_on(web, "cache", true));
    assert_true(depends_on(side, "web", true));
    assert_string_equal(web->links[0], "db:database");
    assert_string_equal(web->links[1], "cache:cache");
    assert_null(web->links[2]);
    assert_string_equal(side->network_mode, "service:web");
    /* Start order: db and cache before web, web before side. */
    size_t at[4] = {0};
    for (size_t i = 0; i < l.p->n_services; i++)
        at[l.p->start_order[i]] = i;
    assert_true(at[2] < at[0] && at[3] < at[0] && at[0] < at[1]);
    ct_load_done(&l);
}

/* --- The list and string keys -------------------------------------------- */

static void test_resolver_and_host_keys(void **state)
{
    struct ct_load l;
    if (load_web(&l, "    dns: 10.0.0.53\n    dns_search: example.com\n"
                     "    dns_opt: [ndots:2, timeout:1]\n"
                     "    extra_hosts: [\"db=10.0.0.2\", \"cache:10.0.0.3\", \"v6=[::1]\"]\n"
                     "    external_links: [other-db, \"other-cache:cache\"]\n"
                     "    mac_address: \"02:42:ac:11:00:02\"\n    domainname: example.org\n"
                     "    expose: [\"80\", 8080, \"9000-9001/udp\"]\n") != 0)
        fail_msg("%s", l.e.msg);
    const struct service *s = ct_service(&l, "web");
    assert_string_equal(s->dns[0], "10.0.0.53");
    assert_null(s->dns[1]);
    assert_string_equal(s->dns_search[0], "example.com");
    assert_string_equal(s->dns_opt[0], "ndots:2");
    assert_string_equal(s->dns_opt[1], "timeout:1");
    /* extra_hosts: "name:ip", sorted as compose prints them. */
    assert_string_equal(s->extra_hosts[0], "cache:10.0.0.3");
    assert_string_equal(s->extra_hosts[1], "db:10.0.0.2");
    assert_string_equal(s->extra_hosts[2], "v6:::1");
    assert_string_equal(s->external_links[0], "other-db:other-db");
    assert_string_equal(s->external_links[1], "other-cache:cache");
    assert_string_equal(s->mac_address, "02:42:ac:11:00:02");
    assert_string_equal(s->domainname, "example.org");
    assert_string_equal(s->expose[0], "80");
    assert_string_equal(s->expose[1], "8080");
    assert_string_equal(s->expose[2], "9000-9001/udp");
    ct_load_done(&l);

    assert_int_equal(load_web(&l, "    dns: [1.1.1.1, \"2606:4700::1111\"]\n"
                                  "    extra_hosts:\n      db: 10.0.0.2\n"),
                     0);
    s = ct_service(&l, "web");
    assert_string_equal(s->dns[1], "2606:4700::1111");
    assert_string_equal(s->extra_hosts[0], "db:10.0.0.2");
    ct_load_done(&l);

    expect_web_error("    dns: [\"not-an-ip\"]\n",
                     "compose.yaml:4:11: service \"web\": dns: invalid nameserver address "
                     "\"not-an-ip\"");
}

/* Honoured now: none of the keys warns, nor the top-level networks. */
static void test_keys_honoured(void **state)
{
    static const char *const keys[] = {
        "ports: [\"80\"]",     "expose: [\"80\"]",         "dns: [1.1.1.1]",     "dns_search: [a]",
        "dns_opt: [ndots:1]",  "extra_hosts: [a=1.2.3.4]", "mac_address: x",     "domainname: d",
        "networks: [default]", "external_links: [c]",      "network_mode: none",
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        struct ct_load l;
        _cleanup_free_ char *body = xasprintf("    %s\n", keys[i]);
        if (load_web(&l, body) != 0)
            fail_msg("[%s]: %s", keys[i], l.e.msg);
        if (ct_warned(&l.w, "not supported yet"))
            fail_msg("[%s]: still warned about", keys[i]);
        ct_load_done(&l);
    }
    struct ct_load l;
    assert_int_equal(ct_load(&l, "services:\n  web:\n    image: img\nnetworks:\n  n: {}\n", NULL),
                     0);
    assert_false(ct_warned(&l.w, "not supported yet"));
    ct_load_done(&l);
}

/* --- The plan ------------------------------------------------------------ */

static void plan_web(struct planned *p, const char *body)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: img\n%s"
                                       "  db:\n    image: img\n    container_name: the-db\n"
                                       "  cache:\n    image: img\n",
                                       body);
    plan_yaml(p, y, NULL);
}

static void test_plan_network(void **state)
{
    struct planned p;
    plan_yaml(&p, order_yaml, NULL);
    assert_int_equal(p.r, 0);
    assert_string_equal(p.c.service, "web");
    assert_null(p.c.network_mode);
    assert_int_equal(p.c.n_endpoints, 4);
    static const char *const want[] = {"proj_front", "my-back", "zeta", "the-alpha"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(p.c.endpoints[i].network, want[i]);
        assert_null(p.c.endpoints[i].bridge);
        assert_null(p.c.endpoints[i].addr4);
    }
    assert_true(p.c.endpoints[0].internal);
    assert_int_equal(p.c.endpoints[0].gw_priority, 7);
    assert_false(p.c.endpoints[1].internal);
    assert_string_equal(p.c.endpoints[1].aliases[1], "api2");
    assert_string_equal(p.c.endpoints[1].ipv4_address, "172.28.0.5");
    assert_string_equal(p.c.endpoints[1].ipv6_address, "fd00::5");
    assert_string_equal(p.c.endpoints[1].mac_address, "02:42:ac:11:00:05");
    assert_null(p.c.endpoints[2].aliases);
    planned_done(&p);

    plan_web(&p, "    links: [\"db:database\", cache]\n    external_links: [\"x:y\"]\n"
                 "    ports: [\"127.0.0.1:8080:80\", \"9000-9001:90-91/udp\", \"7000-7005:70\","
                 " \"60\"]\n"
                 "    expose: [\"80\", \"81/udp\"]\n    dns: [10.0.0.53]\n"
                 "    dns_search: [example.com]\n    dns_opt: [ndots:2]\n"
                 "    extra_hosts: [\"h=10.1.1.1\"]\n    domainname: example.org\n"
                 "    mac_address: \"02:42:ac:11:00:02\"\n");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.c.n_endpoints, 1);
    assert_string_equal(p.c.endpoints[0].network, "proj_default");
    assert_string_equal(p.c.links[0], "the-db:database");
    assert_string_equal(p.c.links[1], "proj-cache-1:cache");
    assert_string_equal(p.c.links[2], "x:y");
    assert_null(p.c.links[3]);
    assert_int_equal(p.c.n_ports, 5);
    const struct plan_port *pp = p.c.ports;
    assert_string_equal(pp[0].host_ip, "127.0.0.1");
    assert_int_equal(pp[0].proto, IPPROTO_TCP);
    assert_int_equal(pp[0].host_port, 8080);
    assert_int_equal(pp[0].host_port_end, 8080);
    assert_int_equal(pp[0].ctr_port, 80);
    assert_int_equal(pp[2].proto, IPPROTO_UDP);
    assert_int_equal(pp[2].host_port, 9001);
    assert_int_equal(pp[2].host_port_end, 9001);
    assert_int_equal(pp[2].ctr_port, 91);
    assert_int_equal(pp[3].host_port, 7000);
    assert_int_equal(pp[3].host_port_end, 7005);
    assert_int_equal(pp[3].ctr_port, 70);
    assert_null(pp[4].host_ip);
    assert_int_equal(pp[4].host_port, 0);
    assert_int_equal(pp[4].host_port_end, 0);
    assert_int_equal(pp[4].ctr_port, 60);
    assert_string_equal(p.c.expose[0], "80/tcp");
    assert_string_equal(p.c.expose[1], "81/udp");
    assert_string_equal(p.c.dns[0], "10.0.0.53");
    assert_string_equal(p.c.dns_search[0], "example.com");
    assert_string_equal(p.c.dns_opt[0], "ndots:2");
    assert_string_equal(p.c.extra_hosts[0], "h:10.1.1.1");
    assert_string_equal(p.c.domainname, "example.org");
    assert_string_equal(p.c.mac_address, "02:42:ac:11:00:02");
    planned_done(&p);

    plan_web(&p, "    network_mode: \"service:db\"\n");
    assert_int_equal(p.r, 0);
    assert_string_equal(p.c.network_mode, "container:the-db");
    assert_int_equal(p.c.n_endpoints, 0);
    planned_done(&p);
    plan_web(&p, "    network_mode: \"service:cache\"\n");
    assert_string_equal(p.c.network_mode, "container:proj-cache-1");
    planned_done(&p);
    plan_web(&p, "    network_mode: \"container:abc\"\n");
    assert_string_equal(p.c.network_mode, "container:abc");
    planned_done(&p);
    plan_web(&p, "    network_mode: host\n");
    assert_string_equal(p.c.network_mode, "host");
    planned_done(&p);
}

/* Every networking change changes the config text (up recreates). */
static void test_plan_config_changes(void **state)
{
    static const char *const bodies[] = {
        "    ports: [\"8080:80\"]\n",
        "    ports: [\"8081:80\"]\n",
        "    ports: [\"8080:80/udp\"]\n",
        "    ports: [\"127.0.0.1:8080:80\"]\n",
        "    expose: [\"80\"]\n",
        "    dns: [10.0.0.53]\n",
        "    dns_search: [example.com]\n",
        "    dns_opt: [ndots:2]\n",
        "    extra_hosts: [\"h=10.1.1.1\"]\n",
        "    links: [db]\n",
        "    external_links: [x]\n",
        "    domainname: example.org\n",
        "    mac_address: \"02:42:ac:11:00:02\"\n",
        "    network_mode: host\n",
        "    network_mode: none\n",
        "    networks: {default: {aliases: [a]}}\n",
        "    networks: {default: {ipv4_address: 10.9.0.9}}\n",
    };
    size_t n = ARRAY_SIZE(bodies) + 1;
    char **configs = xcalloc(n, sizeof *configs);
    for (size_t i = 0; i < n; i++) {
        struct planned p;
        plan_web(&p, i ? bodies[i - 1] : "");
        if (p.r != 0)
            fail_msg("[%s]: %s", i ? bodies[i - 1] : "", p.e.msg);
        configs[i] = xstrdup(p.c.config);
        for (size_t j = 0; j < i; j++)
            if (strcmp(configs[i], configs[j]) == 0)
                fail_msg("[%s] and [%s] give the same config", i ? bodies[i - 1] : "",
                         j ? bodies[j - 1] : "");
        planned_done(&p);
    }
    for (size_t i = 0; i < n; i++)
        free(configs[i]);
    free(configs);
}

static void test_plan_json_round_trip(void **state)
{
    struct planned p;
    plan_web(&p, "    networks:\n      default:\n        aliases: [w]\n"
                 "        ipv4_address: 10.1.0.7\n        ipv6_address: \"fd00::7\"\n"
                 "        mac_address: \"02:42:ac:11:00:07\"\n        gw_priority: 3\n"
                 "    links: [db]\n    external_links: [\"x:y\"]\n"
                 "    ports: [\"127.0.0.1:8080:80\", \"7000-7005:70/sctp\", \"60/udp\"]\n"
                 "    expose: [\"80\"]\n    dns: [10.0.0.53]\n"
                 "    dns_search: [example.com]\n    dns_opt: [ndots:2]\n"
                 "    extra_hosts: [\"h=10.1.1.1\"]\n    domainname: example.org\n"
                 "    mac_address: \"02:42:ac:11:00:02\"\n");
    assert_int_equal(p.r, 0);
    /* What the supervisor fills when it creates the container. */
    struct plan_endpoint *ep = &p.c.endpoints[0];
    ep->bridge = xstrdup("berth0");
    ep->addr4 = xstrdup("10.1.0.7/16");
    ep->gateway4 = xstrdup("10.1.0.1");
    ep->addr6 = xstrdup("fd00::7/64");
    ep->gateway6 = xstrdup("fd00::1");
    ep->internal = true;
    json_t *j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_string_equal(back.service, "web");
    assert_int_equal(back.n_endpoints, 1);
    const struct plan_endpoint *b = &back.endpoints[0];
    assert_string_equal(b->network, "proj_default");
    assert_string_equal(b->aliases[0], "w");
    assert_string_equal(b->ipv4_address, "10.1.0.7");
    assert_string_equal(b->ipv6_address, "fd00::7");
    assert_string_equal(b->mac_address, "02:42:ac:11:00:07");
    assert_int_equal(b->gw_priority, 3);
    assert_string_equal(b->bridge, "berth0");
    assert_string_equal(b->addr4, "10.1.0.7/16");
    assert_string_equal(b->gateway4, "10.1.0.1");
    assert_string_equal(b->addr6, "fd00::7/64");
    assert_string_equal(b->gateway6, "fd00::1");
    assert_true(b->internal);
    assert_int_equal(back.n_ports, 3);
    assert_string_equal(back.ports[0].host_ip, "127.0.0.1");
    assert_int_equal(back.ports[0].host_port, 8080);
    assert_int_equal(back.ports[0].ctr_port, 80);
    assert_int_equal(back.ports[1].proto, IPPROTO_SCTP);
    assert_int_equal(back.ports[1].host_port, 7000);
    assert_int_equal(back.ports[1].host_port_end, 7005);
    assert_int_equal(back.ports[2].proto, IPPROTO_UDP);
    assert_null(back.ports[2].host_ip);
    assert_int_equal(back.ports[2].host_port_end, 0);
    assert_string_equal(back.expose[0], "80/tcp");
    assert_string_equal(back.dns[0], "10.0.0.53");
    assert_string_equal(back.dns_search[0], "example.com");
    assert_string_equal(back.dns_opt[0], "ndots:2");
    assert_string_equal(back.extra_hosts[0], "h:10.1.1.1");
    assert_string_equal(back.links[0], "the-db:db");
    assert_string_equal(back.links[1], "x:y");
    assert_string_equal(back.domainname, "example.org");
    assert_string_equal(back.mac_address, "02:42:ac:11:00:02");
    /* And the same JSON again. */
    json_t *again = plan_to_json(&back);
    assert_true(json_equal(j, again));
    json_decref(again);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);

    plan_web(&p, "    network_mode: \"service:db\"\n");
    j = plan_to_json(&p.c);
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_string_equal(back.network_mode, "container:the-db");
    assert_int_equal(back.n_endpoints, 0);
    assert_null(back.links);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);

    /* A record from before networking: no endpoints, nothing set. */
    j = json_pack("{s:[s]}", "argv", "/bin/true");
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_null(back.service);
    assert_int_equal(back.n_endpoints, 0);
    assert_int_equal(back.n_ports, 0);
    assert_null(back.dns);
    ctr_plan_free(&back);
    json_decref(j);
    /* A damaged record is refused, not half-read. */
    j = json_pack("{s:[s], s:[{s:s, s:i}]}", "argv", "/bin/true", "ports", "proto", "icmp",
                  "ctr_port", 80);
    assert_int_equal(plan_from_json(j, &back, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "invalid container plan: port 1"));
    berr_clear(&e);
    json_decref(j);
    j = json_pack("{s:[s], s:[{}]}", "argv", "/bin/true", "endpoints");
    assert_int_equal(plan_from_json(j, &back, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "endpoint 1 has no network"));
    berr_clear(&e);
    json_decref(j);
}

static void test_plan_refuses_driver(void **state)
{
    struct planned p;
    plan_yaml(&p,
              "services:\n  web:\n    image: img\n    networks: [front]\n"
              "networks:\n  front:\n    driver: overlay\n",
              NULL);
    assert_int_equal(p.r, -ENOTSUP);
    assert_non_null(strstr(p.e.msg, "compose.yaml:6:3: service \"web\": network \"front\" uses "
                                    "driver \"overlay\"; berth makes only bridge networks"));
    planned_done(&p);
    /* config still prints it. */
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: img\n    networks: [front]\n"
                             "networks:\n  front:\n    driver: macvlan\n",
                             NULL),
                     0);
    _cleanup_free_ char *text = compose_config_text(l.p, COMPOSE_FORMAT_YAML, NULL);
    assert_non_null(strstr(text, "driver: macvlan"));
    ct_load_done(&l);
    /* bridge, or no driver, plans. */
    plan_yaml(&p,
              "services:\n  web:\n    image: img\n    networks: [front]\n"
              "networks:\n  front:\n    driver: bridge\n",
              NULL);
    assert_int_equal(p.r, 0);
    planned_done(&p);
}

/* driver_opts and aux_addresses in the model: what is honoured lands in
 * the typed fields, what is ignored is warned about with its place, what
 * is refused is kept for the plan, values that do not parse are errors. */
static void test_driver_opts_model(void **state)
{
    struct ct_load l;
    const char *yaml = "services:\n  web:\n    image: img\n    networks: [front]\n"
                       "networks:\n"
                       "  front:\n"
                       "    driver_opts:\n"
                       "      com.docker.network.bridge.name: br-x\n"
                       "      com.docker.network.driver.mtu: 1400\n"
                       "      com.docker.network.bridge.enable_ip_masquerade: false\n"
                       "      com.docker.network.bridge.enable_icc: \"0\"\n"
                       "      com.docker.network.bridge.host_binding_ipv4: 127.0.0.1\n"
                       "      com.docker.network.container_iface_prefix: en\n"
                       "      com.example.x: y\n"
                       "    ipam:\n"
                       "      config:\n"
                       "        - subnet: 10.20.0.0/24\n"
                       "          aux_addresses: {r: 10.20.0.2, p: 10.20.0.3}\n"
                       "        - subnet: fd00:20::/64\n"
                       "          aux_addresses: {r6: \"fd00:20::2\"}\n";
    if (ct_load(&l, yaml, NULL) != 0)
        fail_msg("%s", l.e.msg);
    const struct network_def *f = project_network(l.p, "front");
    assert_string_equal(f->opts.bridge_name, "br-x");
    assert_int_equal(f->opts.mtu, 1400);
    assert_true(f->opts.no_masquerade && f->opts.no_icc);
    assert_string_equal(f->opts.host_binding_ipv4, "127.0.0.1");
    assert_null(f->refused);
    assert_true(ct_warned(&l.w, "compose.yaml:13:7: network \"front\": driver_opts: "
                                "com.docker.network.container_iface_prefix is ignored"));
    assert_true(ct_warned(&l.w, "compose.yaml:14:7: network \"front\": driver_opts: "
                                "com.example.x is ignored"));
    assert_string_equal(f->ipam[0].aux_addresses[0], "r=10.20.0.2");
    assert_string_equal(f->ipam[0].aux_addresses[1], "p=10.20.0.3");
    assert_null(f->ipam[0].aux_addresses[2]);
    assert_string_equal(f->ipam[1].aux_addresses[0], "r6=fd00:20::2");
    ct_load_done(&l);

    /* Refused: kept (the first one, with its place), not an error here:
     * config still prints the file. */
    if (ct_load(&l,
                "services:\n  web:\n    image: img\n"
                "networks:\n  n:\n    driver_opts:\n"
                "      com.docker.network.bridge.gateway_mode_ipv4: routed\n"
                "      com.docker.network.bridge.inhibit_ipv4: true\n",
                NULL) != 0)
        fail_msg("%s", l.e.msg);
    f = project_network(l.p, "n");
    assert_non_null(strstr(f->refused, "gateway_mode_ipv4: \"routed\" is not supported"));
    assert_int_equal(f->refused_pos.line, 7);
    assert_int_equal(f->refused_pos.col, 7);
    ct_load_done(&l);
    if (ct_load(&l, "services:\n  web:\n    image: img\nnetworks:\n  n:\n    enable_ipv4: false\n",
                NULL) != 0)
        fail_msg("%s", l.e.msg);
    f = project_network(l.p, "n");
    assert_non_null(strstr(f->refused, "enable_ipv4: false is not supported"));
    assert_int_equal(f->refused_pos.line, 6);
    ct_load_done(&l);

    /* Values that do not parse, aux addresses out of place. */
    static const char *const head = "services:\n  web:\n    image: img\nnetworks:\n  n:\n";
    static const struct {
        const char *body, *err;
    } bad[] = {
        {"    driver_opts: {com.docker.network.driver.mtu: abc}\n",
         "compose.yaml:6:50: network \"n\": driver_opts: com.docker.network.driver.mtu: invalid "
         "MTU \"abc\" (use a number from 68 to 65535)"},
        {"    driver_opts: {com.docker.network.bridge.enable_icc: maybe}\n",
         "enable_icc: invalid boolean \"maybe\""},
        {"    driver_opts: {com.docker.network.bridge.host_binding_ipv4: 1.2.3}\n",
         "host_binding_ipv4: invalid IPv4 address \"1.2.3\""},
        {"    driver_opts: {com.docker.network.bridge.name: this-name-is-too-long}\n",
         "bridge.name: invalid interface name \"this-name-is-too-long\""},
        {"    ipam:\n      config:\n        - subnet: 10.20.0.0/24\n"
         "          aux_addresses: {r: 10.21.0.2}\n",
         "compose.yaml:9:27: network \"n\": ipam: aux_addresses: r: 10.21.0.2 is outside subnet "
         "10.20.0.0/24"},
        {"    ipam:\n      config:\n        - subnet: 10.20.0.0/24\n"
         "          aux_addresses: {r: \"fd00::1\"}\n",
         "aux_addresses: r: fd00::1 is outside subnet 10.20.0.0/24"},
        {"    ipam:\n      config:\n        - subnet: 10.20.0.0/24\n"
         "          aux_addresses: {r: nope}\n",
         "aux_addresses: r: invalid address \"nope\""},
        {"    ipam:\n      config:\n        - gateway: 10.20.0.1\n"
         "          aux_addresses: {r: 10.20.0.2}\n",
         "aux_addresses: r: needs the entry's subnet"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        _cleanup_free_ char *y = xasprintf("%s%s", head, bad[i].body);
        expect_error(y, bad[i].err);
    }
}

/* The plan refuses a service on a network with a refused option (not on
 * an external one: its options are its maker's), binds ports without a
 * host IP where host_binding_ipv4 says, and refuses an aux address asked
 * as ipv4_address or ipv6_address. */
static void test_plan_driver_opts(void **state)
{
    struct planned p;
    plan_yaml(&p,
              "services:\n  web:\n    image: img\n    networks: [front]\n"
              "networks:\n  front:\n"
              "    driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: isolated}\n",
              NULL);
    assert_int_equal(p.r, -EPERM);
    assert_string_equal(p.e.msg,
                        "compose.yaml:7:19: service \"web\": network \"front\": driver_opts: "
                        "com.docker.network.bridge.gateway_mode_ipv4: \"isolated\" is not "
                        "supported: berth only NATs (gateway mode \"nat\"); refusing to start the "
                        "service");
    planned_done(&p);
    plan_yaml(&p,
              "services:\n  web:\n    image: img\n    networks: [front]\n"
              "networks:\n  front:\n    external: true\n"
              "    driver_opts: {com.docker.network.bridge.gateway_mode_ipv4: isolated}\n",
              NULL);
    assert_int_equal(p.r, 0);
    planned_done(&p);

    plan_yaml(
        &p,
        "services:\n  web:\n    image: img\n    networks: [back, front]\n"
        "    ports: [\"8080:80\", \"10.0.0.1:8081:81\", \"[::1]:8082:82\"]\n"
        "networks:\n"
        "  front:\n    driver_opts: {com.docker.network.bridge.host_binding_ipv4: 127.0.0.1}\n"
        "  back:\n    internal: true\n"
        "    driver_opts: {com.docker.network.bridge.host_binding_ipv4: 127.0.0.2}\n",
        NULL);
    assert_int_equal(p.r, 0);
    assert_int_equal(p.c.n_ports, 3);
    /* through front, the first network with a way out */
    assert_string_equal(p.c.ports[0].host_ip, "127.0.0.1");
    assert_string_equal(p.c.ports[1].host_ip, "10.0.0.1");
    assert_string_equal(p.c.ports[2].host_ip, "::1");
    planned_done(&p);
    plan_web(&p, "    ports: [\"8080:80\"]\n");
    assert_int_equal(p.r, 0);
    assert_null(p.c.ports[0].host_ip);
    planned_done(&p);

#define AUX_YAML                                                                                   \
    "services:\n  web:\n    image: img\n    networks:\n      front:\n"                             \
    "        %s: \"%s\"\n"                                                                         \
    "networks:\n  front:\n    enable_ipv6: true\n    ipam:\n      config:\n"                       \
    "        - subnet: 10.20.0.0/24\n          aux_addresses: {router: 10.20.0.5}\n"               \
    "        - subnet: fd00:20::/64\n          aux_addresses: {r6: \"fd00:20::5\"}\n"
    _cleanup_free_ char *y4 = xasprintf(AUX_YAML, "ipv4_address", "10.20.0.5");
    plan_yaml(&p, y4, NULL);
    assert_int_equal(p.r, -EEXIST);
    assert_non_null(strstr(p.e.msg, "compose.yaml:5:7: service \"web\": network \"front\": "
                                    "ipv4_address 10.20.0.5 is reserved by ipam aux_addresses "
                                    "(router=10.20.0.5)"));
    planned_done(&p);
    _cleanup_free_ char *y6 = xasprintf(AUX_YAML, "ipv6_address", "fd00:20:0::0005");
    plan_yaml(&p, y6, NULL);
    assert_int_equal(p.r, -EEXIST);
    assert_non_null(strstr(p.e.msg, "ipv6_address fd00:20:0::0005 is reserved by ipam "
                                    "aux_addresses (r6=fd00:20::5)"));
    planned_done(&p);
    _cleanup_free_ char *ok = xasprintf(AUX_YAML, "ipv4_address", "10.20.0.6");
    plan_yaml(&p, ok, NULL);
    assert_int_equal(p.r, 0);
    planned_done(&p);
#undef AUX_YAML
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_forms),
        cmocka_unit_test(test_ports_errors),
        cmocka_unit_test(test_default_network),
        cmocka_unit_test(test_networks_order),
        cmocka_unit_test(test_network_errors),
        cmocka_unit_test(test_implied_dependencies),
        cmocka_unit_test(test_resolver_and_host_keys),
        cmocka_unit_test(test_keys_honoured),
        cmocka_unit_test(test_plan_network),
        cmocka_unit_test(test_plan_config_changes),
        cmocka_unit_test(test_plan_json_round_trip),
        cmocka_unit_test(test_plan_refuses_driver),
        cmocka_unit_test(test_driver_opts_model),
        cmocka_unit_test(test_plan_driver_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
