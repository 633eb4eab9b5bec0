/* SPDX-License-Identifier: Apache-2.0 */
/* The container's plan (ctrplan.h): freeing it, and its JSON form in the
 * container record. Not here: making a plan from a service (engine/plan). */
#include "engine/runtime/ctrplan.h"
#include "engine/runtime/ctrplan_sec.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/ctrplan_shape.h"
#include "util/caps.h"
#include "util/strv.h"
#include "util/xalloc.h"

static void health_free(struct plan_health *h)
{
    strv_free(h->test);
    memset(h, 0, sizeof *h);
}

static void endpoint_free(struct plan_endpoint *ep)
{
    free(ep->network);
    strv_free(ep->aliases);
    free(ep->ipv4_address);
    free(ep->ipv6_address);
    free(ep->mac_address);
    free(ep->bridge);
    free(ep->addr4);
    free(ep->gateway4);
    free(ep->addr6);
    free(ep->gateway6);
}

static void plan_net_free(struct ctr_plan *c)
{
    free(c->service);
    free(c->network_mode);
    for (size_t i = 0; i < c->n_endpoints; i++)
        endpoint_free(&c->endpoints[i]);
    free(c->endpoints);
    for (size_t i = 0; i < c->n_ports; i++)
        free(c->ports[i].host_ip);
    free(c->ports);
    strv_free(c->expose);
    strv_free(c->dns);
    strv_free(c->dns_search);
    strv_free(c->dns_opt);
    strv_free(c->extra_hosts);
    strv_free(c->links);
    free(c->domainname);
    free(c->mac_address);
}

void ctr_plan_free(struct ctr_plan *c)
{
    free(c->name);
    free(c->log_name);
    strv_free(c->argv);
    strv_free(c->env);
    free(c->cwd);
    free(c->user);
    free(c->hostname);
    strv_free(c->layer_dirs);
    health_free(&c->health);
    for (size_t i = 0; i < c->n_depends; i++)
        free(c->depends[i].service);
    free(c->depends);
    for (size_t i = 0; i < c->n_mounts; i++) {
        free(c->mounts[i].source);
        free(c->mounts[i].target);
    }
    free(c->mounts);
    strv_free(c->labels);
    plan_net_free(c);
    plan_procns_free(c);
    plan_files_free(c);
    plan_logs_free(c);
    cgroup_limits_free(&c->limits);
    plan_sec_free(c);
    free(c->config);
    memset(c, 0, sizeof *c);
}

const char *plan_restart_name(enum plan_restart_policy p)
{
    switch (p) {
    case PLAN_RESTART_ALWAYS:
        return "always";
    case PLAN_RESTART_ON_FAILURE:
        return "on-failure";
    case PLAN_RESTART_UNLESS_STOPPED:
        return "unless-stopped";
    default:
        return "no";
    }
}

const char *plan_condition_name(enum plan_dep_condition c)
{
    switch (c) {
    case PLAN_DEP_HEALTHY:
        return "service_healthy";
    case PLAN_DEP_COMPLETED:
        return "service_completed_successfully";
    default:
        return "service_started";
    }
}

const char *plan_proto_name(int proto)
{
    switch (proto) {
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_SCTP:
        return "sctp";
    default:
        return "tcp";
    }
}

int plan_proto_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "tcp") == 0)
        return IPPROTO_TCP;
    if (strcmp(name, "udp") == 0)
        return IPPROTO_UDP;
    if (strcmp(name, "sctp") == 0)
        return IPPROTO_SCTP;
    return -1;
}

json_t *plan_json_strv(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* Optional members are written only when set, so that the JSON of a plan
 * without them (and the config text made from it) stays as it was. */
static void put_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

void plan_json_put_strv(json_t *o, const char *k, char *const *v)
{
    if (v && v[0])
        json_object_set_new(o, k, plan_json_strv(v));
}

void plan_json_put_int(json_t *o, const char *k, int64_t v)
{
    if (v)
        json_object_set_new(o, k, json_integer((json_int_t)v));
}

static json_t *endpoint_json(const struct plan_endpoint *ep)
{
    json_t *o = json_object();
    json_object_set_new(o, "network", json_string(ep->network ? ep->network : ""));
    plan_json_put_strv(o, "aliases", ep->aliases);
    put_str(o, "ipv4_address", ep->ipv4_address);
    put_str(o, "ipv6_address", ep->ipv6_address);
    put_str(o, "mac_address", ep->mac_address);
    plan_json_put_int(o, "gw_priority", ep->gw_priority);
    put_str(o, "bridge", ep->bridge);
    put_str(o, "addr4", ep->addr4);
    put_str(o, "gateway4", ep->gateway4);
    put_str(o, "addr6", ep->addr6);
    put_str(o, "gateway6", ep->gateway6);
    if (ep->internal)
        json_object_set_new(o, "internal", json_true());
    plan_json_put_int(o, "mtu", ep->mtu);
    if (ep->no_masquerade)
        json_object_set_new(o, "no_masquerade", json_true());
    if (ep->no_icc)
        json_object_set_new(o, "no_icc", json_true());
    return o;
}

static void net_to_json(const struct ctr_plan *c, json_t *j)
{
    put_str(j, "service", c->service);
    put_str(j, "network_mode", c->network_mode);
    if (c->n_endpoints) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_endpoints; i++)
            json_array_append_new(a, endpoint_json(&c->endpoints[i]));
        json_object_set_new(j, "endpoints", a);
    }
    if (c->n_ports) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->n_ports; i++) {
            const struct plan_port *p = &c->ports[i];
            json_t *o = json_pack("{s:s, s:i, s:i, s:i}", "proto", plan_proto_name(p->proto),
                                  "host_port", (int)p->host_port, "host_port_end",
                                  (int)p->host_port_end, "ctr_port", (int)p->ctr_port);
            put_str(o, "host_ip", p->host_ip);
            json_array_append_new(a, o);
        }
        json_object_set_new(j, "ports", a);
    }
    plan_json_put_strv(j, "expose", c->expose);
    plan_json_put_strv(j, "dns", c->dns);
    plan_json_put_strv(j, "dns_search", c->dns_search);
    plan_json_put_strv(j, "dns_opt", c->dns_opt);
    plan_json_put_strv(j, "extra_hosts", c->extra_hosts);
    plan_json_put_strv(j, "links", c->links);
    put_str(j, "domainname", c->domainname);
    put_str(j, "mac_address", c->mac_address);
}

static const char *const mount_types[] = {"bind", "volume", "tmpfs"};

json_t *plan_to_json(const struct ctr_plan *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "name", json_string(c->name ? c->name : ""));
    json_object_set_new(j, "log_name", json_string(c->log_name ? c->log_name : ""));
    json_object_set_new(j, "argv", plan_json_strv(c->argv));
    json_object_set_new(j, "env", plan_json_strv(c->env));
    json_object_set_new(j, "cwd", json_string(c->cwd ? c->cwd : "/"));
    if (c->user)
        json_object_set_new(j, "user", json_string(c->user));
    json_object_set_new(j, "hostname", json_string(c->hostname ? c->hostname : ""));
    json_object_set_new(j, "read_only", json_boolean(c->read_only));
    json_object_set_new(j, "tty", json_boolean(c->tty));
    json_object_set_new(j, "stdin_open", json_boolean(c->stdin_open));
    json_object_set_new(j, "init", json_boolean(c->init));
    json_object_set_new(j, "shm_size", json_integer(c->shm_size));
    json_object_set_new(j, "memory", json_integer(c->limits.memory));
    json_object_set_new(j, "cpus", json_real(c->limits.cpus));
    json_object_set_new(j, "pids", json_integer(c->limits.pids));
    json_object_set_new(j, "stop_signal", json_integer(c->stop_signal));
    json_object_set_new(j, "stop_grace_ns", json_integer(c->stop_grace_ns));
    json_object_set_new(j, "layers", plan_json_strv(c->layer_dirs));
    if (c->health.enabled)
        json_object_set_new(
            j, "health",
            json_pack("{s:o, s:I, s:I, s:I, s:I, s:i}", "test", plan_json_strv(c->health.test),
                      "interval_ns", (json_int_t)c->health.interval_ns, "timeout_ns",
                      (json_int_t)c->health.timeout_ns, "start_period_ns",
                      (json_int_t)c->health.start_period_ns, "start_interval_ns",
                      (json_int_t)c->health.start_interval_ns, "retries", c->health.retries));
    json_object_set_new(j, "restart",
                        json_pack("{s:s, s:i}", "policy", plan_restart_name(c->restart.policy),
                                  "max_retries", c->restart.max_retries));
    json_t *deps = json_array();
    for (size_t i = 0; i < c->n_depends; i++)
        json_array_append_new(
            deps, json_pack("{s:s, s:s, s:b, s:b}", "service", c->depends[i].service, "condition",
                            plan_condition_name(c->depends[i].condition), "required",
                            c->depends[i].required, "restart", c->depends[i].restart));
    json_object_set_new(j, "depends_on", deps);
    json_t *mounts = json_array();
    for (size_t i = 0; i < c->n_mounts; i++) {
        const struct plan_mount *m = &c->mounts[i];
        json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I, s:i}", "type", mount_types[m->type],
                              "target", m->target, "read_only", m->read_only, "create_host_path",
                              m->create_host_path, "nocopy", m->nocopy, "tmpfs_size",
                              (json_int_t)m->tmpfs_size, "tmpfs_mode", (int)m->tmpfs_mode);
        if (m->source)
            json_object_set_new(o, "source", json_string(m->source));
        json_array_append_new(mounts, o);
    }
    json_object_set_new(j, "mounts", mounts);
    json_object_set_new(j, "labels", plan_json_strv(c->labels));
    /* Written only when not Docker's defaults, so that a container made
     * before these keys were honoured keeps its config (and is not
     * recreated), and one whose caps changed is. */
    if (c->caps != CAPS_DOCKER_DEFAULT)
        json_object_set_new(j, "caps", json_integer((json_int_t)c->caps));
    plan_json_put_int(j, "caps_named", (int64_t)c->caps_named);
    if (c->no_new_privs)
        json_object_set_new(j, "no_new_privs", json_true());
    if (c->userns_auto)
        json_object_set_new(j, "userns_mode", json_string("auto"));
    net_to_json(c, j);
    plan_procns_to_json(c, j);
    plan_files_to_json(c, j);
    plan_logs_to_json(c, j);
    plan_res_to_json(&c->limits, j);
    plan_shape_to_json(&c->shape, j);
    plan_sec_to_json(c, j);
    return j;
}

char **plan_json_strv_of(json_t *a)
{
    char **v = xcalloc(1, sizeof(char *));
    size_t i;
    json_t *it;
    json_array_foreach(a, i, it) if (json_is_string(it))
        strv_push(&v, xstrdup(json_string_value(it)));
    return v;
}

char *plan_json_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? xstrdup(v) : NULL;
}

char **plan_json_get_strv(json_t *o, const char *k)
{
    json_t *a = json_object_get(o, k);
    if (json_array_size(a) == 0)
        return NULL;
    return plan_json_strv_of(a);
}

/* A port number member: 0..65535, else -1. */
static int json_port(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
        return -1;
    return (int)json_integer_value(v);
}

static int net_from_json(json_t *j, struct ctr_plan *out, struct berr *e)
{
    out->service = plan_json_str(j, "service");
    out->network_mode = plan_json_str(j, "network_mode");
    json_t *eps = json_object_get(j, "endpoints"), *it;
    size_t i;
    out->endpoints = xcalloc(json_array_size(eps) + 1, sizeof *out->endpoints);
    json_array_foreach(eps, i, it)
    {
        const char *net = json_string_value(json_object_get(it, "network"));
        if (!net || !*net)
            return berr_set(e, -EINVAL, "invalid container plan: endpoint %zu has no network",
                            i + 1);
        struct plan_endpoint *ep = &out->endpoints[out->n_endpoints++];
        ep->network = xstrdup(net);
        ep->aliases = plan_json_get_strv(it, "aliases");
        ep->ipv4_address = plan_json_str(it, "ipv4_address");
        ep->ipv6_address = plan_json_str(it, "ipv6_address");
        ep->mac_address = plan_json_str(it, "mac_address");
        ep->gw_priority = (int)json_integer_value(json_object_get(it, "gw_priority"));
        ep->bridge = plan_json_str(it, "bridge");
        ep->addr4 = plan_json_str(it, "addr4");
        ep->gateway4 = plan_json_str(it, "gateway4");
        ep->addr6 = plan_json_str(it, "addr6");
        ep->gateway6 = plan_json_str(it, "gateway6");
        ep->internal = json_is_true(json_object_get(it, "internal"));
        json_int_t mtu = json_integer_value(json_object_get(it, "mtu"));
        ep->mtu = mtu >= 68 && mtu <= 65535 ? (unsigned)mtu : 0;
        ep->no_masquerade = json_is_true(json_object_get(it, "no_masquerade"));
        ep->no_icc = json_is_true(json_object_get(it, "no_icc"));
    }
    json_t *ports = json_object_get(j, "ports");
    out->ports = xcalloc(json_array_size(ports) + 1, sizeof *out->ports);
    json_array_foreach(ports, i, it)
    {
        int proto = plan_proto_parse(json_string_value(json_object_get(it, "proto")));
        int hp = json_port(it, "host_port"), hpe = json_port(it, "host_port_end"),
            cp = json_port(it, "ctr_port");
        if (proto < 0 || hp < 0 || hpe < 0 || cp <= 0)
            return berr_set(e, -EINVAL, "invalid container plan: port %zu", i + 1);
        struct plan_port *p = &out->ports[out->n_ports++];
        p->proto = proto;
        p->host_port = (uint16_t)hp;
        p->host_port_end = (uint16_t)hpe;
        p->ctr_port = (uint16_t)cp;
        p->host_ip = plan_json_str(it, "host_ip");
    }
    out->expose = plan_json_get_strv(j, "expose");
    out->dns = plan_json_get_strv(j, "dns");
    out->dns_search = plan_json_get_strv(j, "dns_search");
    out->dns_opt = plan_json_get_strv(j, "dns_opt");
    out->extra_hosts = plan_json_get_strv(j, "extra_hosts");
    out->links = plan_json_get_strv(j, "links");
    out->domainname = plan_json_str(j, "domainname");
    out->mac_address = plan_json_str(j, "mac_address");
    return 0;
}

int plan_from_json(json_t *j, struct ctr_plan *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j) || !json_is_array(json_object_get(j, "argv")))
        return berr_set(e, -EINVAL, "invalid container plan");
    out->name = plan_json_str(j, "name");
    out->log_name = plan_json_str(j, "log_name");
    out->argv = plan_json_strv_of(json_object_get(j, "argv"));
    out->env = plan_json_strv_of(json_object_get(j, "env"));
    out->cwd = plan_json_str(j, "cwd");
    out->user = plan_json_str(j, "user");
    out->hostname = plan_json_str(j, "hostname");
    out->read_only = json_is_true(json_object_get(j, "read_only"));
    out->tty = json_is_true(json_object_get(j, "tty"));
    out->stdin_open = json_is_true(json_object_get(j, "stdin_open"));
    out->init = json_is_true(json_object_get(j, "init"));
    out->shm_size = json_integer_value(json_object_get(j, "shm_size"));
    out->limits.memory = json_integer_value(json_object_get(j, "memory"));
    out->limits.cpus = json_number_value(json_object_get(j, "cpus"));
    out->limits.pids = json_integer_value(json_object_get(j, "pids"));
    out->stop_signal = (int)json_integer_value(json_object_get(j, "stop_signal"));
    out->stop_grace_ns = json_integer_value(json_object_get(j, "stop_grace_ns"));
    out->layer_dirs = plan_json_strv_of(json_object_get(j, "layers"));
    json_t *h = json_object_get(j, "health");
    if (json_is_object(h)) {
        out->health.enabled = true;
        out->health.test = plan_json_strv_of(json_object_get(h, "test"));
        out->health.interval_ns = json_integer_value(json_object_get(h, "interval_ns"));
        out->health.timeout_ns = json_integer_value(json_object_get(h, "timeout_ns"));
        out->health.start_period_ns = json_integer_value(json_object_get(h, "start_period_ns"));
        out->health.start_interval_ns = json_integer_value(json_object_get(h, "start_interval_ns"));
        out->health.retries = (int)json_integer_value(json_object_get(h, "retries"));
    }
    json_t *r = json_object_get(j, "restart");
    const char *pol = json_string_value(json_object_get(r, "policy"));
    for (int p = PLAN_RESTART_NO; pol && p <= PLAN_RESTART_UNLESS_STOPPED; p++)
        if (strcmp(pol, plan_restart_name(p)) == 0)
            out->restart.policy = p;
    out->restart.max_retries = (int)json_integer_value(json_object_get(r, "max_retries"));
    json_t *deps = json_object_get(j, "depends_on");
    size_t i;
    json_t *it;
    out->depends = xcalloc(json_array_size(deps) + 1, sizeof *out->depends);
    json_array_foreach(deps, i, it)
    {
        const char *svc = json_string_value(json_object_get(it, "service"));
        if (!svc)
            continue;
        struct plan_depend *d = &out->depends[out->n_depends++];
        d->service = xstrdup(svc);
        const char *cond = json_string_value(json_object_get(it, "condition"));
        for (int c = PLAN_DEP_STARTED; cond && c <= PLAN_DEP_COMPLETED; c++)
            if (strcmp(cond, plan_condition_name(c)) == 0)
                d->condition = c;
        d->required = json_is_true(json_object_get(it, "required"));
        d->restart = json_is_true(json_object_get(it, "restart"));
    }
    json_t *mounts = json_object_get(j, "mounts");
    out->mounts = xcalloc(json_array_size(mounts) + 1, sizeof *out->mounts);
    json_array_foreach(mounts, i, it)
    {
        const char *type = json_string_value(json_object_get(it, "type"));
        const char *target = json_string_value(json_object_get(it, "target"));
        if (!type || !target)
            continue;
        struct plan_mount *m = &out->mounts[out->n_mounts++];
        for (int t = 0; t < 3; t++)
            if (strcmp(type, mount_types[t]) == 0)
                m->type = t;
        m->target = xstrdup(target);
        m->source = plan_json_str(it, "source");
        m->read_only = json_is_true(json_object_get(it, "read_only"));
        m->create_host_path = json_is_true(json_object_get(it, "create_host_path"));
        m->nocopy = json_is_true(json_object_get(it, "nocopy"));
        m->tmpfs_size = json_integer_value(json_object_get(it, "tmpfs_size"));
        m->tmpfs_mode = (uint32_t)json_integer_value(json_object_get(it, "tmpfs_mode"));
    }
    out->labels = plan_json_strv_of(json_object_get(j, "labels"));
    /* No "caps": Docker's default set (see plan_to_json). */
    json_t *caps = json_object_get(j, "caps");
    out->caps = json_is_integer(caps) ? (uint64_t)json_integer_value(caps) : CAPS_DOCKER_DEFAULT;
    out->caps_named = (uint64_t)json_integer_value(json_object_get(j, "caps_named"));
    out->no_new_privs = json_is_true(json_object_get(j, "no_new_privs"));
    out->userns_auto = json_is_string(json_object_get(j, "userns_mode"));
    plan_files_from_json(j, out);
    plan_logs_from_json(j, out);
    plan_shape_from_json(j, &out->shape);
    plan_sec_from_json(j, out);
    int nr = net_from_json(j, out, e);
    if (nr == 0)
        nr = plan_procns_from_json(j, out, e);
    if (nr < 0) {
        ctr_plan_free(out);
        return nr;
    }
    plan_res_from_json(j, &out->limits);
    if (!out->argv[0]) {
        ctr_plan_free(out);
        return berr_set(e, -EINVAL, "invalid container plan: no command");
    }
    return 0;
}
