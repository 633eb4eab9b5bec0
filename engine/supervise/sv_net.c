/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's side of networking: for each container, the network
 * namespace held on a file under the run root with a veth into each of its
 * networks' bridges (made once, kept across restarts), the embedded DNS
 * server's sockets inside that namespace (127.0.0.11:53, as docker), the
 * generated /etc/hostname, /etc/hosts and /etc/resolv.conf; for the
 * project, its published ports (a socket bound per port, which reserves
 * it and serves loopback and hairpin traffic) and its nftables table
 * (DNAT for the ports, masquerade, isolation), applied whenever the set of
 * ports changes. Everything comes from the container records: `up` has
 * decided the addresses (IPAM), so a new supervisor after a reboot can
 * rebuild it all. Not here: IPAM and network records (cmd), the libraries
 * doing the work (net/, sv_dns.c, sv_proxy.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/runtime/netsetup.h"
#include "engine/supervise/sv_dir.h"
#include "engine/supervise/sv_dns.h"
#include "engine/supervise/sv_internal.h"
#include "engine/supervise/sv_proxy.h"
#include "engine/volume/mounts.h"
#include "net/etcfiles.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/nft.h"
#include "net/portbind.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define EMBEDDED_DNS NETSETUP_EMBEDDED_DNS

static bool has_endpoints(const struct ctr_plan *pl)
{
    return netsetup_has_endpoints(pl);
}

static void bare_addr(const char *cidr, char buf[IPAM_PREFIX_STRLEN])
{
    netsetup_bare_addr(cidr, buf);
}

/* The subnet of an interface address ("172.18.0.2/16" -> "172.18.0.0/16"). */
static int subnet_of(const char *cidr, char buf[IPAM_PREFIX_STRLEN])
{
    struct ipam_prefix p;
    struct berr ign = BERR_INIT;
    if (ipam_prefix_parse(cidr, false, "address", &p, &ign) < 0) {
        berr_clear(&ign);
        return -EINVAL;
    }
    unsigned bytes = p.family == AF_INET ? 4 : 16;
    for (unsigned i = p.len; i < bytes * 8; i++)
        p.addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    ipam_prefix_format(&p, true, buf);
    return 0;
}

static const struct plan_endpoint *primary_endpoint(const struct ctr_plan *pl)
{
    return netsetup_primary(pl);
}

/* ---- the DNS server's view of the project ------------------------------ */

/* The endpoint of c on network, or NULL. */
static const struct plan_endpoint *endpoint_on(const struct sv_ctr *c, const char *network)
{
    const struct ctr_plan *pl = &c->rec.plan;
    if (!has_endpoints(pl))
        return NULL;
    for (size_t i = 0; i < pl->n_endpoints; i++)
        if (strcmp(pl->endpoints[i].network, network) == 0)
            return &pl->endpoints[i];
    return NULL;
}

bool sv_answers_to(const char *service, const char *ctr, char **aliases, char **links,
                   const char *name)
{
    if (strcasecmp(service, name) == 0 || strcasecmp(ctr, name) == 0)
        return true;
    for (size_t i = 0; aliases && aliases[i]; i++)
        if (strcasecmp(aliases[i], name) == 0)
            return true;
    for (size_t i = 0; links && links[i]; i++) {
        const char *colon = strchr(links[i], ':');
        size_t n = colon ? (size_t)(colon - links[i]) : strlen(links[i]);
        if (strlen(ctr) == n && strncmp(ctr, links[i], n) == 0 &&
            strcasecmp(colon ? colon + 1 : links[i], name) == 0)
            return true;
    }
    return false;
}

bool sv_endpoint_addr(const struct plan_endpoint *ep, int family, uint8_t *out, size_t cap,
                      size_t *n)
{
    const char *cidr = family == AF_INET ? ep->addr4 : ep->addr6;
    if (!cidr || *n >= cap)
        return false; /* maybe an address of this family on another network */
    char a[IPAM_PREFIX_STRLEN];
    bare_addr(cidr, a);
    if (inet_pton(family, a, out + (family == AF_INET ? 4 : 16) * *n) == 1)
        (*n)++;
    return true;
}

/* Whether t answers to name on endpoint ep, as asker sees it. */
static bool answers_to(const struct sv_ctr *asker, const struct sv_ctr *t,
                       const struct plan_endpoint *ep, const char *name)
{
    return sv_answers_to(t->rec.service, t->rec.name, ep->aliases, asker->rec.plan.links, name);
}

static int dns_lookup(void *owner, void *asker_p, const char *name, int family, uint8_t *out,
                      size_t cap)
{
    struct supervisor *sv = owner;
    const struct sv_ctr *asker = asker_p;
    bool known = false;
    size_t n = 0;
    for (size_t i = 0; i < sv->n; i++) {
        const struct sv_ctr *t = sv->ctrs[i];
        if (!t->run || t->run->reaped || !has_endpoints(&t->rec.plan))
            continue;
        for (size_t k = 0; k < t->rec.plan.n_endpoints; k++) {
            const struct plan_endpoint *ep = &t->rec.plan.endpoints[k];
            if (!endpoint_on(asker, ep->network) || !answers_to(asker, t, ep, name))
                continue;
            known = true;
            if (sv_endpoint_addr(ep, family, out, cap, &n))
                break; /* one address per container */
        }
    }
    /* other projects' containers on a network asker shares */
    if (!sv->peers)
        sv->peers = sv_dir_new(sv->opt.root, sv->opt.runroot, sv->opt.project);
    if (sv_dir_lookup(sv->peers, &asker->rec.plan, name, family, out, cap, &n) > 0)
        known = true;
    return known ? (int)n : -ENOENT;
}

char **sv_host_upstreams(const char *resolv_conf)
{
    struct net_resolv rc = {0};
    struct berr ign = BERR_INIT;
    char **ups = NULL;
    if (net_resolv_load(resolv_conf ? resolv_conf : "/etc/resolv.conf", NET_RESOLVED_STUB_PATH, &rc,
                        NULL, NULL, &ign) == 0) {
        for (size_t i = 0; rc.nameservers && rc.nameservers[i]; i++)
            strv_push(&ups, xstrdup(rc.nameservers[i]));
    }
    berr_clear(&ign);
    net_resolv_free(&rc);
    if (!ups)
        for (size_t i = 0; net_dns_fallback_v4[i]; i++)
            strv_push(&ups, xstrdup(net_dns_fallback_v4[i]));
    return ups;
}

static int dns_server(struct supervisor *sv, struct berr *e)
{
    if (sv->dns)
        return 0;
    _cleanup_strv_ char **ups = sv_host_upstreams(sv->opt.resolv_conf);
    struct sv_dns_options o = {.upstreams = ups, .lookup = dns_lookup, .owner = sv};
    return sv_dns_new(&sv->loop, &o, &sv->dns, e);
}

int sv_dns_bind_ns(int nsfd, const char *who, int *udp, int *tcp, struct berr *e)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, EMBEDDED_DNS, &sa.sin_addr);
    _cleanup_close_ int u = netns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0, e);
    if (u < 0)
        return u;
    _cleanup_close_ int t = netns_socket(nsfd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, e);
    if (t < 0)
        return t;
    int one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(u, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        bind(t, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(t, 64) < 0)
        return berr_errno(e, errno, "%s: binding the DNS server on %s:53", who, EMBEDDED_DNS);
    *udp = TAKE_FD(u);
    *tcp = TAKE_FD(t);
    return 0;
}

/* The DNS sockets inside the container's namespace, handed to the server. */
static int dns_listen(struct sv_ctr *c, int nsfd, struct berr *e)
{
    int r = dns_server(c->sv, e);
    if (r < 0)
        return r;
    int u, t;
    r = sv_dns_bind_ns(nsfd, c->rec.name, &u, &t, e);
    if (r < 0)
        return r;
    r = sv_dns_listen(c->sv->dns, u, t, c, c->rec.plan.dns, e); /* the server's now */
    if (r < 0)
        return r;
    c->dns_listening = true;
    return 0;
}

/* Turns on IP forwarding of family where it is off, and says so (as
 * docker does). */
static void forwarding_on(struct sv_ctr *c, int family)
{
    _cleanup_free_ char *m = link_forwarding_on(family);
    if (m)
        sv_warn(c, "%s", m);
}

/* Once per container in this supervisor: a fresh namespace, its links,
 * its DNS sockets. On failure nothing is left. */
static int net_attach(struct sv_ctr *c, struct berr *e)
{
    struct supervisor *sv = c->sv;
    if (c->netns_fd >= 0 || !has_endpoints(&c->rec.plan))
        return 0;
    if (!sv->forwarding_checked) {
        forwarding_on(c, AF_INET);
        sv->forwarding_checked = true;
    }
    if (!sv->forwarding6_checked && netsetup_primary6(&c->rec.plan)) {
        forwarding_on(c, AF_INET6);
        sv->forwarding6_checked = true;
    }
    _cleanup_close_ int nsfd = netsetup_attach(&c->rec.plan, c->rec.name, &sv->mtu, e);
    if (nsfd < 0)
        return nsfd;
    int r = sv_shape_attach(c, nsfd, e);
    if (r < 0)
        return r;
    if ((r = dns_listen(c, nsfd, e)) < 0) {
        sv_shape_forget(c);
        return r;
    }
    c->netns_fd = TAKE_FD(nsfd);
    return 0;
}

/* network_mode container:NAME: the namespace of that container, which
 * must be running in this project. */
static int shared_netns(struct sv_ctr *c, char **path, struct berr *e)
{
    const char *target = c->rec.plan.network_mode + strlen("container:");
    struct sv_ctr *t = sv_find_ctr(c->sv, target);
    if (t && t->netns_fd >= 0) {
        *path = netsetup_fd_path(t->netns_fd);
        return 0;
    }
    if (t && t->run && !t->run->reaped) {
        *path = xasprintf("/proc/%d/ns/net", (int)t->run->proc.pid);
        return 0;
    }
    return berr_set(e, -ENOENT, "%s: network_mode container:%s: no such running container",
                    c->rec.name, target);
}

static int etc_files(struct sv_ctr *c, struct mount_set *ms, struct berr *e)
{
    _cleanup_free_ char *dir = ctr_path(c->sv->opt.root, c->rec.id, NULL);
    struct netsetup_files o = {.resolv_conf = c->sv->opt.resolv_conf, .embedded_dns = true};
    return netsetup_etc(dir, c->rec.service, &c->rec.plan, &o, &ms->specs, &ms->n, &ms->strings, e);
}

int sv_net_prepare(struct sv_ctr *c, struct container_spec *spec, struct mount_set *ms,
                   char **netns_path, struct berr *e)
{
    const struct ctr_plan *pl = &c->rec.plan;
    *netns_path = NULL;
    const char *mode = pl->network_mode;
    if (mode && strcmp(mode, "host") == 0) {
        spec->net_host = true;
    } else if (mode && strncmp(mode, "container:", 10) == 0) {
        int r = shared_netns(c, netns_path, e);
        if (r < 0)
            return r;
    } else if (has_endpoints(pl)) {
        int r = net_attach(c, e);
        if (r < 0)
            return r;
        *netns_path = netsetup_fd_path(c->netns_fd);
    }
    spec->netns_path = *netns_path;
    return etc_files(c, ms, e);
}

/* ---- published ports and the project's rules -------------------------- */

static int bind_port(struct sv_ctr *c, const struct plan_port *pp, const char *ctr_addr,
                     const char *ctr_addr6, struct sv_proxy **out, struct berr *e)
{
    struct sv_proxy_spec s = {
        .proto = pp->proto,
        .host_ip = pp->host_ip,
        .host_port = pp->host_port,
        .ctr_addr = ctr_addr,
        .ctr_addr6 = ctr_addr6,
        .ctr_port = pp->ctr_port,
        .service = c->rec.service,
    };
    if (pp->host_port_end <= pp->host_port)
        return sv_proxy_start(&c->sv->loop, &s, out, e);
    /* A range for one target: the first free port in it. */
    int r = -EADDRINUSE;
    for (unsigned p = pp->host_port; p <= pp->host_port_end; p++) {
        s.host_port = (uint16_t)p;
        berr_clear(e);
        r = sv_proxy_start(&c->sv->loop, &s, out, e);
        if (r != -EADDRINUSE)
            return r;
    }
    berr_clear(e);
    char what[PORT_TEXT_MAX];
    port_text(what, pp->proto, pp->host_ip, pp->host_port, pp->host_port_end);
    return berr_set(e, -EADDRINUSE, "service \"%s\": no free host port in %s", c->rec.service,
                    what);
}

static void close_ports(struct sv_ctr *c)
{
    for (size_t i = 0; i < c->n_proxies; i++)
        if (c->proxies[i])
            sv_proxy_stop(c->proxies[i]);
    free(c->proxies);
    c->proxies = NULL;
    c->n_proxies = 0;
}

/* Binds c's published ports when not bound yet. */
static int bind_ports(struct sv_ctr *c, struct berr *e)
{
    const struct ctr_plan *pl = &c->rec.plan;
    if (c->proxies || pl->n_ports == 0)
        return 0;
    const struct plan_endpoint *ep = primary_endpoint(pl);
    char addr[IPAM_PREFIX_STRLEN], addr6[IPAM_PREFIX_STRLEN] = "";
    if (ep) {
        bare_addr(ep->addr4, addr);
        if (ep->addr6)
            bare_addr(ep->addr6, addr6);
    } else if (pl->network_mode && strcmp(pl->network_mode, "host") == 0) {
        return 0; /* the host's own ports: nothing to publish, as docker */
    } else {
        sv_warn(c, "ports are not published: the container is on no network that is not "
                   "internal");
        return 0;
    }
    c->proxies = xcalloc(pl->n_ports, sizeof *c->proxies);
    c->n_proxies = pl->n_ports;
    for (size_t i = 0; i < pl->n_ports; i++) {
        int r = bind_port(c, &pl->ports[i], addr, *addr6 ? addr6 : NULL, &c->proxies[i], e);
        if (r < 0) {
            close_ports(c);
            return r;
        }
    }
    return 0;
}

static int apply_rules(struct supervisor *sv, struct berr *e)
{
    struct nft_net *nets = NULL;
    struct nft_port *ports = NULL;
    size_t n_nets = 0, n_ports = 0;
    char(*subnets)[IPAM_PREFIX_STRLEN] = NULL;
    char(*addrs)[IPAM_PREFIX_STRLEN] = NULL;
    size_t n_eps = 0;
    for (size_t i = 0; i < sv->n; i++)
        n_eps += has_endpoints(&sv->ctrs[i]->rec.plan) ? sv->ctrs[i]->rec.plan.n_endpoints : 0;
    if (n_eps == 0 && !sv->rules_applied)
        return 0;
    nets = xcalloc(n_eps + 1, sizeof *nets);
    subnets = xcalloc(2 * n_eps + 1, sizeof *subnets);
    size_t n_pp = 0;
    for (size_t i = 0; i < sv->n; i++)
        n_pp += sv->ctrs[i]->n_proxies;
    ports = xcalloc(n_pp + 1, sizeof *ports);
    addrs = xcalloc(2 * n_pp + 1, sizeof *addrs);
    for (size_t i = 0; i < sv->n; i++) {
        const struct sv_ctr *c = sv->ctrs[i];
        const struct ctr_plan *pl = &c->rec.plan;
        if (!has_endpoints(pl))
            continue;
        for (size_t k = 0; k < pl->n_endpoints; k++) {
            const struct plan_endpoint *ep = &pl->endpoints[k];
            if (!ep->bridge || !ep->addr4)
                continue;
            bool seen = false;
            for (size_t j = 0; j < n_nets && !seen; j++)
                seen = strcmp(nets[j].bridge, ep->bridge) == 0;
            char *sub4 = subnets[2 * n_nets], *sub6 = subnets[2 * n_nets + 1];
            if (seen || subnet_of(ep->addr4, sub4) < 0)
                continue;
            nets[n_nets] = (struct nft_net){
                .bridge = ep->bridge,
                .subnet4 = sub4,
                .subnet6 = ep->addr6 && subnet_of(ep->addr6, sub6) == 0 ? sub6 : NULL,
                .internal = ep->internal,
                .no_masquerade = ep->no_masquerade};
            n_nets++;
        }
        const struct plan_endpoint *ep = primary_endpoint(pl);
        for (size_t k = 0; k < c->n_proxies && ep; k++) {
            if (!c->proxies[k])
                continue;
            char *a4 = addrs[2 * n_ports], *a6 = addrs[2 * n_ports + 1];
            bare_addr(ep->addr4, a4);
            if (ep->addr6)
                bare_addr(ep->addr6, a6);
            ports[n_ports] = (struct nft_port){
                .proto = pl->ports[k].proto,
                .host_ip = pl->ports[k].host_ip,
                .host_port = sv_proxy_port(c->proxies[k]),
                .ctr_addr4 = a4,
                .ctr_addr6 = ep->addr6 ? a6 : NULL,
                .ctr_port = pl->ports[k].ctr_port,
                .bridge = ep->bridge,
            };
            n_ports++;
        }
    }
    struct nft_project p = {.project = sv->opt.nft_scope ? sv->opt.nft_scope : sv->opt.project,
                            .nets = nets,
                            .n_nets = n_nets,
                            .ports = ports,
                            .n_ports = n_ports};
    int r = nft_project_apply(&p, e);
    if (r == 0)
        sv->rules_applied = true;
    free(nets);
    free(subnets);
    free(ports);
    free(addrs);
    return r;
}

int sv_net_request(struct supervisor *sv, struct sv_ctr **list, size_t n, struct berr *e)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        struct sv_ctr *c = list[i];
        if (c->run || c->proxies)
            continue;
        int r = bind_ports(c, e);
        if (r < 0) {
            for (size_t k = 0; k < i; k++)
                if (!list[k]->run)
                    close_ports(list[k]);
            return r;
        }
        any = any || c->proxies || has_endpoints(&c->rec.plan);
    }
    if (!any && sv->rules_applied)
        return 0;
    int r = apply_rules(sv, e);
    if (r < 0) {
        for (size_t k = 0; k < n; k++)
            if (!list[k]->run)
                close_ports(list[k]);
        return berr_wrap(e, "project \"%s\": applying its nftables rules", sv->opt.project);
    }
    return 0;
}

/* Whether a process may still be in c's namespace: its own, or a
 * running container of the project with network_mode container:c. */
static bool netns_in_use(const struct sv_ctr *c)
{
    if (c->run && !c->run->reaped)
        return true;
    for (size_t i = 0; i < c->sv->n; i++) {
        const struct sv_ctr *o = c->sv->ctrs[i];
        const char *mode = o->rec.plan.network_mode;
        if (o != c && o->run && !o->run->reaped && mode && strncmp(mode, "container:", 10) == 0 &&
            strcmp(mode + 10, c->rec.name) == 0)
            return true;
    }
    return false;
}

/* Closes c's namespace. The kernel frees it once no process is in it,
 * but deletes its links later, from a worker; when nothing runs in it
 * any more its veths go now, so that no host side outlives stop or down. */
static void netns_release(struct sv_ctr *c)
{
    if (c->netns_fd < 0)
        return;
    if (!netns_in_use(c)) {
        struct berr e = BERR_INIT;
        if (link_ns_veths_remove(c->netns_fd, &e) < 0)
            sv_warn(c, "%s", e.msg ? e.msg : "its veths were not deleted");
        berr_clear(&e);
    }
    close(c->netns_fd);
    c->netns_fd = -1;
}

void sv_net_forget(struct sv_ctr *c)
{
    bool had_ports = c->proxies != NULL;
    close_ports(c);
    if (c->dns_listening && c->sv->dns)
        sv_dns_unlisten(c->sv->dns, c);
    c->dns_listening = false;
    netns_release(c);
    sv_shape_forget(c);
    if (had_ports) {
        struct berr e = BERR_INIT;
        if (apply_rules(c->sv, &e) < 0)
            sv_warn(c, "%s", e.msg ? e.msg : "the project's nftables rules were not updated");
        berr_clear(&e);
    }
}

void sv_net_close(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->n; i++) {
        struct sv_ctr *c = sv->ctrs[i];
        close_ports(c);
        c->dns_listening = false;
        if (c->netns_fd >= 0) {
            netns_release(c);
            sv_shape_forget(c);
        }
    }
    sv_dir_free(sv->peers);
    sv->peers = NULL;
    if (sv->dns) {
        sv_dns_free(sv->dns);
        sv->dns = NULL;
    }
}

uint16_t sv_net_published(const struct sv_ctr *c, size_t i)
{
    return i < c->n_proxies && c->proxies[i] ? sv_proxy_port(c->proxies[i]) : 0;
}

bool sv_net_published_v6_too(const struct sv_ctr *c, size_t i)
{
    return i < c->n_proxies && c->proxies[i] && sv_proxy_dual(c->proxies[i]);
}
