/* SPDX-License-Identifier: Apache-2.0 */
/* The network keys of the typed model: a service's networks (in connection
 * order), network_mode, ports, expose, dns, dns_search, dns_opt,
 * extra_hosts, links, external_links, mac_address and domainname, and the
 * top-level networks. Values come from the canonical tree (long syntax);
 * each is checked here ("file:line:col: service "web": key: message").
 * Not here: references between services and to undeclared networks, and the
 * dependencies links and network_mode imply (compose/validate.c,
 * compose/normalize.c); making any network (engine/). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model.h"
#include "compose/internal.h"
#include "compose/model_internal.h"
#include "compose/envmap.h"
#include "compose/netopts.h"
#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* A value left as written by `config --no-interpolate` ("${IP}"): it can't
 * be checked, and nothing runs from such a project. */
static bool raw(const struct model *m, const struct ynode *v)
{
    return v && m->p->tree && !m->p->tree->interpolated && v->kind == YNODE_SCALAR &&
           memchr(v->str, '$', v->len);
}

static bool is_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static bool is_ipv6(const char *s)
{
    struct in6_addr a;
    return inet_pton(AF_INET6, s, &a) == 1;
}

/* An optional string member of a mapping into *dst (NULL when absent). */
static int opt_member(struct model *m, const struct service *s, const char *key,
                      const struct ynode *map, const char *member, char **dst)
{
    const struct ynode *v = ymap_get(map, member);
    if (!v || ynode_is_null(v))
        return 0;
    const char *str = want_string(m, s, key, v);
    if (!str)
        return -EINVAL;
    free(*dst);
    *dst = *str ? xstrdup(str) : NULL;
    return 0;
}

/* --- networks ------------------------------------------------------------ */

static void svc_network_clear(struct svc_network *n)
{
    free(n->key);
    strv_free(n->aliases);
    free(n->ipv4_address);
    free(n->ipv6_address);
    free(n->mac_address);
}

static int want_priority(struct model *m, const struct service *s, const struct ynode *map,
                         const char *member, int *out)
{
    const struct ynode *v = ymap_get(map, member);
    int64_t n;
    if (!v || ynode_is_null(v) || raw(m, v))
        return 0;
    if (want_int(m, s, "networks", v, INT_MIN, &n) < 0)
        return -EINVAL;
    if (n > INT_MAX) {
        svc_error(m, s, v, "networks", "%s %s is too large", member, QN(v));
        return -EINVAL;
    }
    *out = (int)n;
    return 0;
}

static int svc_network_one(struct model *m, const struct service *s, const struct ypair *kv,
                           struct svc_network *n)
{
    const struct ynode *k = kv->key, *v = kv->value;
    n->key = xstrdup(k->str);
    n->pos = pos_of(m, k);
    if (ynode_is_null(v))
        return 0;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "networks", "%s: expected a mapping, got %s", k->str, ynode_describe(v));
        return -EINVAL;
    }
    const struct ynode *al = ymap_get(v, "aliases");
    if (al && !ynode_is_null(al) && want_str_list(m, s, "networks", al, false, &n->aliases) < 0)
        return -EINVAL;
    if (opt_member(m, s, "networks", v, "ipv4_address", &n->ipv4_address) < 0 ||
        opt_member(m, s, "networks", v, "ipv6_address", &n->ipv6_address) < 0 ||
        opt_member(m, s, "networks", v, "mac_address", &n->mac_address) < 0)
        return -EINVAL;
    const struct ynode *a4 = ymap_get(v, "ipv4_address"), *a6 = ymap_get(v, "ipv6_address");
    if (n->ipv4_address && !raw(m, a4) && !is_ipv4(n->ipv4_address)) {
        svc_error(m, s, a4, "networks", "%s: ipv4_address: invalid IPv4 address %s", k->str,
                  QN(a4));
        return -EINVAL;
    }
    if (n->ipv6_address && !raw(m, a6) && !is_ipv6(n->ipv6_address)) {
        svc_error(m, s, a6, "networks", "%s: ipv6_address: invalid IPv6 address %s", k->str,
                  QN(a6));
        return -EINVAL;
    }
    if (want_priority(m, s, v, "priority", &n->priority) < 0 ||
        want_priority(m, s, v, "gw_priority", &n->gw_priority) < 0)
        return -EINVAL;
    return 0;
}

/* compose-go's NetworksByPriority: priority descending, then the key. */
static int cmp_connect_order(const void *x, const void *y)
{
    const struct svc_network *a = x, *b = y;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    return strcmp(a->key, b->key);
}

static void svc_networks_free(struct service *s)
{
    for (size_t i = 0; i < s->n_networks; i++)
        svc_network_clear(&s->networks[i]);
    free(s->networks);
    s->networks = NULL;
    s->n_networks = 0;
}

void key_networks(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "networks", "expected a mapping or a list of networks, got %s",
                  ynode_describe(v));
        return;
    }
    svc_networks_free(s);
    s->networks = xcalloc(v->n_pairs + 1, sizeof *s->networks);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ypair *p = &v->pairs[i];
        if (p->key->len >= 2 && memcmp(p->key->str, "x-", 2) == 0)
            continue;
        struct svc_network *n = &s->networks[s->n_networks++];
        if (svc_network_one(m, s, p, n) < 0) {
            svc_networks_free(s);
            return;
        }
    }
    qsort(s->networks, s->n_networks, sizeof *s->networks, cmp_connect_order);
}

void key_network_mode(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *str = want_string(m, s, "network_mode", kv->value);
    if (!str)
        return;
    bool named = strncmp(str, "service:", 8) == 0 || strncmp(str, "container:", 10) == 0;
    if (!*str || (named && !strchr(str, ':')[1])) {
        svc_error(m, s, kv->value, "network_mode",
                  "invalid network mode %s (use host, none, service:NAME or container:NAME)",
                  QN(kv->value));
        return;
    }
    free(s->network_mode);
    s->network_mode = xstrdup(str);
}

/* --- ports --------------------------------------------------------------- */

/* "N" or "N-M" with 0 <= N <= M <= 65535. */
static int port_range(const char *str, uint16_t *lo, uint16_t *hi)
{
    unsigned long v[2];
    const char *p = str;
    for (int i = 0; i < 2; i++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        char *end;
        errno = 0;
        v[i] = strtoul(p, &end, 10);
        if (errno || v[i] > 65535 || end - p > 5)
            return -EINVAL;
        p = end;
        if (i == 0 && *p == '\0') {
            v[1] = v[0];
            break;
        }
        if (i == 0 && *p++ != '-')
            return -EINVAL;
        if (i == 1 && *p)
            return -EINVAL;
    }
    if (v[1] < v[0])
        return -EINVAL;
    *lo = (uint16_t)v[0];
    *hi = (uint16_t)v[1];
    return 0;
}

static void svc_port_clear(struct svc_port *p)
{
    free(p->host_ip);
    free(p->mode);
    free(p->name);
    free(p->app_protocol);
}

/* The entry as the file asks; 1 for an entry left as written (skipped). */
static int port_one(struct model *m, const struct service *s, const struct ynode *it,
                    struct svc_port *out)
{
    static const char *const members[] = {"target", "published", "host_ip", "protocol", "mode"};
    if (raw(m, it))
        return 1;
    if (it->kind != YNODE_MAP) {
        svc_error(m, s, it, "ports", "expected a port mapping, got %s", ynode_describe(it));
        return -EINVAL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(members); i++)
        if (raw(m, ymap_get(it, members[i])))
            return 1;
    out->pos = pos_of(m, it);
    const struct ynode *t = ymap_get(it, "target");
    int64_t target;
    if (!t || ynode_is_null(t)) {
        svc_error(m, s, it, "ports", "a port mapping needs a target");
        return -EINVAL;
    }
    if (want_int(m, s, "ports", t, 1, &target) < 0)
        return -EINVAL;
    if (target > 65535) {
        svc_error(m, s, t, "ports", "invalid target port %s (use a number from 1 to 65535)", QN(t));
        return -EINVAL;
    }
    out->target = out->target_end = (uint16_t)target;
    _cleanup_free_ char *pub = NULL, *proto = NULL;
    if (opt_member(m, s, "ports", it, "published", &pub) < 0 ||
        opt_member(m, s, "ports", it, "protocol", &proto) < 0 ||
        opt_member(m, s, "ports", it, "host_ip", &out->host_ip) < 0 ||
        opt_member(m, s, "ports", it, "mode", &out->mode) < 0 ||
        opt_member(m, s, "ports", it, "name", &out->name) < 0 ||
        opt_member(m, s, "ports", it, "app_protocol", &out->app_protocol) < 0)
        return -EINVAL;
    if (pub && port_range(pub, &out->published, &out->published_end) < 0) {
        svc_error(m, s, ymap_get(it, "published"), "ports",
                  "invalid published port %s (use a number from 0 to 65535, or a range such as "
                  "8000-8010)",
                  QS(pub));
        return -EINVAL;
    }
    /* One host port per target port, or a host range for one target (any
     * free port in it). */
    if (out->published_end != out->published && out->target_end != out->target &&
        out->published_end - out->published != out->target_end - out->target) {
        svc_error(m, s, it, "ports", "the host and container port ranges have different lengths");
        return -EINVAL;
    }
    if (out->host_ip && !is_ipv4(out->host_ip) && !is_ipv6(out->host_ip)) {
        svc_error(m, s, ymap_get(it, "host_ip"), "ports", "invalid host_ip %s", QS(out->host_ip));
        return -EINVAL;
    }
    if (!proto || strcmp(proto, "tcp") == 0)
        out->proto = IPPROTO_TCP;
    else if (strcmp(proto, "udp") == 0)
        out->proto = IPPROTO_UDP;
    else if (strcmp(proto, "sctp") == 0)
        out->proto = IPPROTO_SCTP;
    else {
        svc_error(m, s, ymap_get(it, "protocol"), "ports",
                  "invalid protocol %s (use tcp, udp or sctp)", QS(proto));
        return -EINVAL;
    }
    if (!out->mode)
        out->mode = xstrdup("ingress");
    else if (strcmp(out->mode, "ingress") && strcmp(out->mode, "host")) {
        svc_error(m, s, ymap_get(it, "mode"), "ports", "invalid mode %s (use ingress or host)",
                  QS(out->mode));
        return -EINVAL;
    }
    return 0;
}

static void svc_ports_free(struct service *s)
{
    for (size_t i = 0; i < s->n_ports; i++)
        svc_port_clear(&s->ports[i]);
    free(s->ports);
    s->ports = NULL;
    s->n_ports = 0;
}

void key_ports(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, "ports", "expected a list of ports, got %s", ynode_describe(v));
        return;
    }
    svc_ports_free(s);
    s->ports = xcalloc(v->n_items + 1, sizeof *s->ports);
    for (size_t i = 0; i < v->n_items; i++) {
        struct svc_port *p = &s->ports[s->n_ports];
        int r = port_one(m, s, v->items[i], p);
        if (r < 0) {
            svc_port_clear(p);
            svc_ports_free(s);
            return;
        }
        if (r > 0)
            svc_port_clear(p), memset(p, 0, sizeof *p);
        else
            s->n_ports++;
    }
}

/* --- The list keys ------------------------------------------------------- */

static void str_list(struct model *m, struct service *s, const struct ypair *kv, char ***dst)
{
    if (ynode_is_null(kv->value))
        return;
    want_str_list(m, s, kv->key->str, kv->value, true, dst);
}

void key_expose(struct model *m, struct service *s, const struct ypair *kv)
{
    str_list(m, s, kv, &s->expose);
}

void key_dns(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value) || want_str_list(m, s, "dns", kv->value, true, &v) < 0)
        return;
    for (size_t i = 0; v[i]; i++)
        if (!raw(m, kv->value->kind == YNODE_SEQ ? kv->value->items[i] : kv->value) &&
            !is_ipv4(v[i]) && !is_ipv6(v[i])) {
            svc_error(m, s, kv->value->kind == YNODE_SEQ ? kv->value->items[i] : kv->value, "dns",
                      "invalid nameserver address %s (use an IPv4 or IPv6 address)", QS(v[i]));
            return;
        }
    strv_free(s->dns);
    s->dns = TAKE_PTR(v);
}

void key_dns_search(struct model *m, struct service *s, const struct ypair *kv)
{
    str_list(m, s, kv, &s->dns_search);
}

void key_dns_opt(struct model *m, struct service *s, const struct ypair *kv)
{
    str_list(m, s, kv, &s->dns_opt);
}

/* The canonical "name=ip" as "name:ip". */
void key_extra_hosts(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value) || want_str_list(m, s, "extra_hosts", kv->value, false, &v) < 0)
        return;
    for (size_t i = 0; v[i]; i++) {
        char *eq = strchr(v[i], '=');
        if (!eq)
            eq = strchr(v[i], ':');
        if (!eq || eq == v[i] || !eq[1]) {
            svc_error(m, s, kv->value->items[i], "extra_hosts",
                      "invalid extra host %s (use \"host=ip\" or \"host:ip\")", QS(v[i]));
            return;
        }
        *eq = ':';
    }
    strv_free(s->extra_hosts);
    s->extra_hosts = TAKE_PTR(v);
}

/* "NAME" or "NAME:ALIAS" as "NAME:ALIAS". */
static void alias_list(struct model *m, struct service *s, const struct ypair *kv, char ***dst)
{
    const char *key = kv->key->str;
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value) || want_str_list(m, s, key, kv->value, false, &v) < 0)
        return;
    struct strvec out = {0};
    for (size_t i = 0; v[i]; i++) {
        const char *colon = strchr(v[i], ':');
        if (v[i][0] == ':' || (colon && (!colon[1] || strchr(colon + 1, ':')))) {
            svc_error(m, s, kv->value->items[i], key, "invalid link %s (use NAME or NAME:ALIAS)",
                      QS(v[i]));
            strvec_clear(&out);
            return;
        }
        strvec_push(&out, colon ? xstrdup(v[i]) : str_join(v[i], ':', v[i]));
    }
    strv_free(*dst);
    *dst = strvec_take(&out);
}

void key_links(struct model *m, struct service *s, const struct ypair *kv)
{
    alias_list(m, s, kv, &s->links);
}

void key_external_links(struct model *m, struct service *s, const struct ypair *kv)
{
    alias_list(m, s, kv, &s->external_links);
}

static void set_str(struct model *m, struct service *s, const struct ypair *kv, char **dst)
{
    const char *str = want_string(m, s, kv->key->str, kv->value);
    if (!str)
        return;
    free(*dst);
    *dst = *str ? xstrdup(str) : NULL;
}

void key_mac_address(struct model *m, struct service *s, const struct ypair *kv)
{
    set_str(m, s, kv, &s->mac_address);
}

void key_domainname(struct model *m, struct service *s, const struct ypair *kv)
{
    set_str(m, s, kv, &s->domainname);
}

void service_net_clear(struct service *s)
{
    free(s->network_mode);
    svc_networks_free(s);
    svc_ports_free(s);
    strv_free(s->expose);
    strv_free(s->dns);
    strv_free(s->dns_search);
    strv_free(s->dns_opt);
    strv_free(s->extra_hosts);
    strv_free(s->links);
    strv_free(s->external_links);
    free(s->mac_address);
    free(s->domainname);
}

/* --- The top-level networks ---------------------------------------------- */

static void network_def_clear(struct network_def *n)
{
    free(n->key);
    free(n->name);
    free(n->driver);
    strv_free(n->driver_opts);
    netopts_clear(&n->opts);
    free(n->refused);
    strv_free(n->labels);
    free(n->ipam_driver);
    for (size_t i = 0; i < n->n_ipam; i++) {
        free(n->ipam[i].subnet);
        free(n->ipam[i].gateway);
        free(n->ipam[i].ip_range);
        strv_free(n->ipam[i].aux_addresses);
    }
    free(n->ipam);
}

/* Whether bare address addr lies in subnet "a/len" of its family. */
static bool subnet_holds(const char *subnet, const char *addr)
{
    const char *slash = strchr(subnet, '/');
    if (!slash)
        return false;
    _cleanup_free_ char *net = xstrndup(subnet, (size_t)(slash - subnet));
    char *end;
    unsigned long len = strtoul(slash + 1, &end, 10);
    unsigned char a[16], b[16];
    int af = strchr(net, ':') ? AF_INET6 : AF_INET;
    if (*end || inet_pton(af, net, a) != 1 || inet_pton(af, addr, b) != 1 ||
        len > (af == AF_INET ? 32u : 128u))
        return false;
    for (unsigned i = 0; i < len; i++)
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
            return false;
    return true;
}

/* ipam.config[].aux_addresses: name -> address, each inside the entry's
 * subnet (berth never hands them to a container). */
static int aux_addresses_of(struct model *m, const struct service *none, const struct ynode *it,
                            struct network_ipam_config *c)
{
    const struct ynode *v = ymap_get(it, "aux_addresses");
    struct ynode *map;
    const struct ynode *badn = NULL;
    if (!v || ynode_is_null(v) || raw(m, v))
        return 0;
    if (envmap_from_node(m->a, v, &map, &badn) < 0) {
        svc_error(m, none, badn, "ipam", "aux_addresses: expected a mapping of names to addresses");
        return -EINVAL;
    }
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ynode *k = map->pairs[i].key, *a = map->pairs[i].value;
        if (raw(m, a))
            continue;
        const char *addr = a && a->kind == YNODE_SCALAR ? a->str : "";
        if (!is_ipv4(addr) && !is_ipv6(addr)) {
            svc_error(m, none, k, "ipam", "aux_addresses: %s: invalid address %s", k->str,
                      QS(addr));
            return -EINVAL;
        }
        if (!c->subnet) {
            svc_error(m, none, k, "ipam", "aux_addresses: %s: needs the entry's subnet", k->str);
            return -EINVAL;
        }
        if (!subnet_holds(c->subnet, addr)) {
            svc_error(m, none, k, "ipam", "aux_addresses: %s: %s is outside subnet %s", k->str,
                      addr, c->subnet);
            return -EINVAL;
        }
        strv_push(&c->aux_addresses, str_join(k->str, '=', addr));
    }
    return 0;
}

static int ipam_of(struct model *m, const struct service *none, const struct ynode *ipam,
                   struct network_def *def)
{
    if (ipam->kind != YNODE_MAP) {
        svc_error(m, none, ipam, "ipam", "expected a mapping, got %s", ynode_describe(ipam));
        return -EINVAL;
    }
    if (opt_member(m, none, "ipam", ipam, "driver", &def->ipam_driver) < 0)
        return -EINVAL;
    const struct ynode *cfg = ymap_get(ipam, "config");
    if (!cfg || ynode_is_null(cfg))
        return 0;
    if (cfg->kind != YNODE_SEQ) {
        svc_error(m, none, cfg, "ipam", "config: expected a list, got %s", ynode_describe(cfg));
        return -EINVAL;
    }
    def->ipam = xcalloc(cfg->n_items + 1, sizeof *def->ipam);
    for (size_t i = 0; i < cfg->n_items; i++) {
        const struct ynode *it = cfg->items[i];
        struct network_ipam_config *c = &def->ipam[def->n_ipam++];
        c->pos = pos_of(m, it);
        if (it->kind != YNODE_MAP) {
            svc_error(m, none, it, "ipam", "config: expected a mapping, got %s",
                      ynode_describe(it));
            return -EINVAL;
        }
        if (opt_member(m, none, "ipam", it, "subnet", &c->subnet) < 0 ||
            opt_member(m, none, "ipam", it, "gateway", &c->gateway) < 0 ||
            opt_member(m, none, "ipam", it, "ip_range", &c->ip_range) < 0 ||
            aux_addresses_of(m, none, it, c) < 0)
            return -EINVAL;
    }
    return 0;
}

/* n's place with the file as messages name it ("compose.yaml"). */
static struct srcpos named_pos(const struct model *m, const struct ynode *n)
{
    struct srcpos pos = pos_of(m, n);
    if (m->p->file_names && m->p->file_names[n->src->index])
        pos.file = m->p->file_names[n->src->index];
    return pos;
}

/* Each driver_opts entry through the table (compose/netopts.h): honoured
 * ones fill def->opts, the first refused one is kept for the plan to
 * refuse the network's services, ignored ones are warned about here. */
static int driver_opts_of(struct model *m, const struct service *none, const struct ynode *opts,
                          struct network_def *def)
{
    struct ynode *map;
    const struct ynode *badn = NULL;
    if (envmap_from_node(m->a, opts, &map, &badn) < 0)
        return -EINVAL; /* want_kv_list said it */
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ynode *k = map->pairs[i].key, *val = map->pairs[i].value;
        if (raw(m, val))
            continue;
        bool b;
        const char *text = !val || ynode_is_null(val) ? "" : val->str;
        if (val && !ynode_is_null(val) && yscalar_bool(val, &b) == 0)
            text = b ? "true" : "false";
        _cleanup_free_ char *why = NULL;
        int r = netopt_classify(k->str, text, &def->opts, &why);
        if (r < 0) {
            svc_error(m, none, val && val->line > 0 ? val : k, "driver_opts", "%s", why);
            return r;
        }
        if (r == NETOPT_IGNORED && k->line > 0)
            diag_warn_at(m->d, YPOS(k), "network %s: driver_opts: %s", QS(def->key), why);
        if (r == NETOPT_REFUSED && !def->refused) {
            def->refused = xasprintf("driver_opts: %s", why);
            def->refused_pos = named_pos(m, k);
        }
    }
    return 0;
}

static int network_def_of(struct model *m, const struct ynode *k, const struct ynode *v,
                          struct network_def *def)
{
    struct service none = {.name = (char *)k->str};
    def->key = xstrdup(k->str);
    def->pos = pos_of(m, k);
    def->enable_ipv4 = true;
    if (ynode_is_null(v))
        return 0;
    if (v->kind != YNODE_MAP) {
        top_error(m, v, "network %s: expected a mapping, got %s", QN(k), ynode_describe(v));
        return -EINVAL;
    }
    if (opt_member(m, &none, "name", v, "name", &def->name) < 0 ||
        opt_member(m, &none, "driver", v, "driver", &def->driver) < 0)
        return -EINVAL;
    static const struct {
        const char *key;
        size_t off;
    } bools[] = {
        {"internal", offsetof(struct network_def, internal)},
        {"attachable", offsetof(struct network_def, attachable)},
        {"enable_ipv4", offsetof(struct network_def, enable_ipv4)},
        {"enable_ipv6", offsetof(struct network_def, enable_ipv6)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
        const struct ynode *b = ymap_get(v, bools[i].key);
        if (b && !ynode_is_null(b) && !raw(m, b) &&
            want_bool(m, &none, bools[i].key, b, (bool *)((char *)def + bools[i].off)) < 0)
            return -EINVAL;
    }
    const struct ynode *ext = ymap_get(v, "external");
    if (ext && ext->kind == YNODE_MAP)
        def->external = true; /* legacy external: {name: x}; canon took the name */
    else if (ext && !ynode_is_null(ext) && !raw(m, ext) &&
             want_bool(m, &none, "external", ext, &def->external) < 0)
        return -EINVAL;
    const struct ynode *opts = ymap_get(v, "driver_opts"), *lab = ymap_get(v, "labels"),
                       *ipam = ymap_get(v, "ipam");
    if (opts && !ynode_is_null(opts) &&
        (want_kv_list(m, &none, "driver_opts", opts, &def->driver_opts) < 0 ||
         driver_opts_of(m, &none, opts, def) < 0))
        return -EINVAL;
    const struct ynode *v4 = ymap_get(v, "enable_ipv4");
    if (!def->enable_ipv4 && v4 && !def->refused) {
        def->refused = xstrdup("enable_ipv4: false is not supported: berth's networks always "
                               "have IPv4");
        def->refused_pos = named_pos(m, v4);
    }
    if (lab && !ynode_is_null(lab) && want_kv_list(m, &none, "labels", lab, &def->labels) < 0)
        return -EINVAL;
    if (ipam && !ynode_is_null(ipam) && ipam_of(m, &none, ipam, def) < 0)
        return -EINVAL;
    return 0;
}

void build_network_defs(struct model *m, const struct ynode *networks)
{
    struct project *p = m->p;
    if (networks->kind != YNODE_MAP) {
        top_error(m, networks, "networks: expected a mapping of network names, got %s",
                  ynode_describe(networks));
        return;
    }
    const char *kind = m->kind;
    m->kind = "network";
    p->networks = xcalloc(networks->n_pairs + 1, sizeof *p->networks);
    for (size_t i = 0; i < networks->n_pairs; i++) {
        const struct ynode *k = networks->pairs[i].key, *v = networks->pairs[i].value;
        if (k->len >= 2 && memcmp(k->str, "x-", 2) == 0)
            continue;
        struct network_def def = {0};
        if (network_def_of(m, k, v, &def) < 0) {
            network_def_clear(&def);
            continue;
        }
        if (!def.name)
            def.name = def.external ? xstrdup(def.key)
                                    : xasprintf("%s_%s", p->name ? p->name : "", def.key);
        p->networks[p->n_networks++] = def;
    }
    m->kind = kind;
}

void mark_used_networks(struct project *p)
{
    for (size_t i = 0; i < p->n_services; i++)
        for (size_t j = 0; j < p->services[i].n_networks; j++)
            for (size_t k = 0; k < p->n_networks; k++)
                if (strcmp(p->networks[k].key, p->services[i].networks[j].key) == 0)
                    p->networks[k].used = true;
}

void network_defs_clear(struct project *p)
{
    for (size_t i = 0; i < p->n_networks; i++)
        network_def_clear(&p->networks[i]);
    free(p->networks);
    p->networks = NULL;
    p->n_networks = 0;
}

const struct network_def *project_network(const struct project *p, const char *key)
{
    for (size_t i = 0; p && i < p->n_networks; i++)
        if (strcmp(p->networks[i].key, key) == 0)
            return &p->networks[i];
    return NULL;
}
