/* SPDX-License-Identifier: Apache-2.0 */
/* A container's networking plan from its service: the networks it joins
 * (by real name, in connection order), network_mode with service:X made a
 * container name, published ports one per container port, expose, the
 * resolver keys, extra hosts and links made container names. Refuses a
 * network whose driver is not bridge. Not here: addresses, bridges, DNS or
 * port forwarding (the supervisor, from IPAM, when the container is
 * created). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plan/plan.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* The name of the first container of service `name`, or NULL when the
 * project has no such service. Heap string. */
static char *first_container(const struct project *p, const char *name)
{
    const struct service *t = project_service(p, name);
    if (!t)
        return NULL;
    return t->container_name ? xstrdup(t->container_name) : xasprintf("%s-%s-1", p->name, name);
}

static int plan_network_mode(const struct project *p, const struct service *s, struct ctr_plan *out,
                             struct berr *e)
{
    if (!s->network_mode)
        return 0;
    if (strncmp(s->network_mode, "service:", 8) != 0) {
        out->network_mode = xstrdup(s->network_mode);
        return 0;
    }
    _cleanup_free_ char *peer = first_container(p, s->network_mode + 8);
    if (!peer)
        return berr_set(e, -EINVAL, "service \"%s\": network_mode: unknown service \"%s\"", s->name,
                        s->network_mode + 8);
    out->network_mode = str_join("container", ':', peer);
    return 0;
}

/* The aux_addresses entry ("name=ip") of def holding address addr (as
 * written or in another spelling of it), or NULL. */
static const char *aux_named(const struct network_def *def, const char *addr)
{
    unsigned char want[16], have[16];
    int af = addr && strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (!addr || inet_pton(af, addr, want) != 1)
        return NULL;
    for (size_t i = 0; i < def->n_ipam; i++)
        for (char **a = def->ipam[i].aux_addresses; a && *a; a++)
            if (inet_pton(af, strchr(*a, '=') + 1, have) == 1 &&
                memcmp(want, have, af == AF_INET ? 4 : 16) == 0)
                return *a;
    return NULL;
}

static int plan_endpoints(const struct project *p, const struct service *s, struct ctr_plan *out,
                          struct berr *e)
{
    out->endpoints = xcalloc(s->n_networks + 1, sizeof *out->endpoints);
    for (size_t i = 0; i < s->n_networks; i++) {
        const struct svc_network *sn = &s->networks[i];
        const struct network_def *def = project_network(p, sn->key);
        if (!def)
            return berr_set(
                e, -EINVAL, "%s:%d:%d: service \"%s\" refers to undefined network \"%s\"",
                sn->pos.file ? sn->pos.file : "?", sn->pos.line, sn->pos.col, s->name, sn->key);
        if (def->driver && strcmp(def->driver, "bridge") != 0)
            return berr_set(e, -ENOTSUP,
                            "%s:%d:%d: service \"%s\": network \"%s\" uses driver \"%s\"; berth "
                            "makes only bridge networks",
                            def->pos.file ? def->pos.file : "?", def->pos.line, def->pos.col,
                            s->name, def->key, def->driver);
        /* fail closed: an option that would leave the containers more
         * exposed than the file asks if ignored (compose/netopts.c) */
        if (def->refused && !def->external)
            return berr_set(e, -EPERM,
                            "%s:%d:%d: service \"%s\": network \"%s\": %s; refusing to start "
                            "the service",
                            def->refused_pos.file ? def->refused_pos.file : "?",
                            def->refused_pos.line, def->refused_pos.col, s->name, def->key,
                            def->refused);
        const char *what = "ipv4_address", *asked = sn->ipv4_address;
        const char *aux = aux_named(def, asked);
        if (!aux) {
            what = "ipv6_address";
            asked = sn->ipv6_address;
            aux = aux_named(def, asked);
        }
        if (aux)
            return berr_set(e, -EEXIST,
                            "%s:%d:%d: service \"%s\": network \"%s\": %s %s is reserved by ipam "
                            "aux_addresses (%s)",
                            sn->pos.file ? sn->pos.file : "?", sn->pos.line, sn->pos.col, s->name,
                            def->key, what, asked, aux);
        struct plan_endpoint *ep = &out->endpoints[out->n_endpoints++];
        ep->network = xstrdup(def->name);
        ep->aliases = sn->aliases && sn->aliases[0] ? strv_dup(sn->aliases) : NULL;
        ep->ipv4_address = sn->ipv4_address ? xstrdup(sn->ipv4_address) : NULL;
        ep->ipv6_address = sn->ipv6_address ? xstrdup(sn->ipv6_address) : NULL;
        ep->mac_address = sn->mac_address ? xstrdup(sn->mac_address) : NULL;
        ep->gw_priority = sn->gw_priority;
        ep->internal = def->internal;
    }
    return 0;
}

/* One entry per container port: a host range as long as the container
 * range maps port to port; a host range for one container port stays a
 * range (any free port in it). */
static void plan_ports(const struct project *p, const struct service *s, struct ctr_plan *out)
{
    /* A port published without host_ip binds where the network the
     * container publishes through (the first one with a way out, as the
     * default route) says: its host_binding_ipv4. */
    const char *host_default = NULL;
    for (size_t i = 0; !s->network_mode && i < s->n_networks; i++) {
        const struct network_def *def = project_network(p, s->networks[i].key);
        if (def && !def->internal) {
            host_default = def->external ? NULL : def->opts.host_binding_ipv4;
            break;
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_ports; i++)
        n += (size_t)(s->ports[i].target_end - s->ports[i].target) + 1;
    out->ports = xcalloc(n + 1, sizeof *out->ports);
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct svc_port *sp = &s->ports[i];
        bool one = sp->target_end == sp->target;
        for (unsigned t = sp->target; t <= sp->target_end; t++) {
            struct plan_port *pp = &out->ports[out->n_ports++];
            unsigned off = t - sp->target;
            pp->proto = sp->proto;
            pp->host_ip = sp->host_ip    ? xstrdup(sp->host_ip)
                          : host_default ? xstrdup(host_default)
                                         : NULL;
            pp->ctr_port = (uint16_t)t;
            if (sp->published == 0 && sp->published_end == 0)
                continue; /* a random port */
            pp->host_port = (uint16_t)(one ? sp->published : sp->published + off);
            pp->host_port_end = (uint16_t)(one ? sp->published_end : sp->published + off);
        }
    }
}

/* "80" -> "80/tcp"; "8000-8010/udp" as it is. */
static char **plan_expose(char *const *expose)
{
    char **v = NULL;
    for (size_t i = 0; expose && expose[i]; i++)
        strv_push(&v, strchr(expose[i], '/') ? xstrdup(expose[i]) : xasprintf("%s/tcp", expose[i]));
    return v;
}

static int plan_links(const struct project *p, const struct service *s, struct ctr_plan *out,
                      struct berr *e)
{
    for (size_t i = 0; s->links && s->links[i]; i++) {
        const char *colon = strchr(s->links[i], ':');
        _cleanup_free_ char *svc = xstrndup(s->links[i], (size_t)(colon - s->links[i]));
        _cleanup_free_ char *ctr = first_container(p, svc);
        if (!ctr)
            return berr_set(e, -EINVAL, "service \"%s\": links: unknown service \"%s\"", s->name,
                            svc);
        strv_push(&out->links, str_join(ctr, ':', colon + 1));
    }
    for (size_t i = 0; s->external_links && s->external_links[i]; i++)
        strv_push(&out->links, xstrdup(s->external_links[i]));
    return 0;
}

static char **dup_or_null(char *const *v)
{
    return v && v[0] ? strv_dup(v) : NULL;
}

int plan_network(const struct project *p, const struct service *s, struct ctr_plan *out,
                 struct berr *e)
{
    out->service = xstrdup(s->name);
    int r = plan_network_mode(p, s, out, e);
    if (r < 0 || (r = plan_endpoints(p, s, out, e)) < 0 || (r = plan_links(p, s, out, e)) < 0)
        return r;
    plan_ports(p, s, out);
    out->expose = plan_expose(s->expose);
    out->dns = dup_or_null(s->dns);
    out->dns_search = dup_or_null(s->dns_search);
    out->dns_opt = dup_or_null(s->dns_opt);
    out->extra_hosts = dup_or_null(s->extra_hosts);
    out->domainname = s->domainname ? xstrdup(s->domainname) : NULL;
    out->mac_address = s->mac_address ? xstrdup(s->mac_address) : NULL;
    out->shape = (struct net_shape){.egress_bits = s->shape.egress_bits,
                                    .ingress_bits = s->shape.ingress_bits,
                                    .delay_us = s->shape.delay_us,
                                    .jitter_us = s->shape.jitter_us,
                                    .loss_pct = s->shape.loss_pct};
    return 0;
}
