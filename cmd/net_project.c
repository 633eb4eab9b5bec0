/* SPDX-License-Identifier: Apache-2.0 */
/* The project's networks as the commands see them: `up` makes the
 * networks its containers join (a record, a subnet from IPAM, the bridge)
 * or finds the external ones, and gives each new container its address on
 * each (IPAM, by container name, so a recreated or restarted container
 * asks again and gets what it had); removing a container frees its
 * addresses; `down` removes the project's networks and its nftables table.
 * (A container's namespace is held by the process that starts it, so
 * nothing of it outlives that process.)
 * Not here: what runs while containers run (the supervisor's sv_net.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/project.h"
#include "cmd/up.h"
#include "engine/runtime/netsetup.h"
#include "engine/supervise/records.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netrec.h"
#include "net/nft.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static const struct network_def *find_def(const struct project *p, const char *name)
{
    for (size_t i = 0; i < p->n_networks; i++)
        if (strcmp(p->networks[i].name, name) == 0)
            return &p->networks[i];
    return NULL;
}

static bool in_list(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* "172.18.0.1" and "172.18.0.0/16" -> "172.18.0.1/16" (heap). */
static char *with_len(const char *addr, const char *subnet)
{
    const char *slash = subnet ? strchr(subnet, '/') : NULL;
    return xasprintf("%s/%s", addr, slash ? slash + 1 : "32");
}

static int bridge_up(const struct net_record *rec, struct berr *e)
{
    unsigned mtu = rec->mtu;
    struct berr ign = BERR_INIT;
    if (!mtu && link_default_mtu(&mtu, &ign) < 0)
        mtu = 1500;
    berr_clear(&ign);
    _cleanup_free_ char *gw = with_len(rec->gateway4, rec->subnet4);
    _cleanup_free_ char *gw6 =
        rec->subnet6 && rec->gateway6 ? with_len(rec->gateway6, rec->subnet6) : NULL;
    struct link_bridge_spec bs = {.name = rec->bridge, .gateway4 = gw, .gateway6 = gw6, .mtu = mtu};
    return link_bridge_ensure(&bs, NULL, e);
}

/* Undoes a network made by this `up`. */
static void network_unmake(struct cli *c, const struct net_record *rec)
{
    struct berr ign = BERR_INIT;
    link_remove(rec->bridge, &ign);
    berr_clear(&ign);
    ipam_network_release(c->root, rec->name, &ign);
    berr_clear(&ign);
    net_record_remove(c->root, rec->name, &ign);
    berr_clear(&ign);
}

static bool is_v6_entry(const struct network_ipam_config *cfg)
{
    return cfg->subnet && strchr(cfg->subnet, ':');
}

/* The bare addresses of an entry's aux_addresses ("name=ip"). */
static void aux_of(const struct network_ipam_config *cfg, char ***out)
{
    for (size_t i = 0; cfg->aux_addresses && cfg->aux_addresses[i]; i++)
        strv_push(out, xstrdup(strchr(cfg->aux_addresses[i], '=') + 1));
}

/* The file's ipam.config as one request: its first IPv4 entry (or one
 * without a subnet) and, with enable_ipv6, its first IPv6 entry (docker
 * 27 ignores an IPv6 entry without enable_ipv6: berth says so). *pos4 and
 * *pos6 get the entries' places (the network's when none). */
static void ipam_request_of(const struct network_def *def, const struct ipam_prefix *pool6,
                            struct ipam_request *req, const struct srcpos **pos4,
                            const struct srcpos **pos6, char ***aux)
{
    *req = (struct ipam_request){.ipv6 = def->enable_ipv6, .pool6 = pool6};
    *pos4 = *pos6 = &def->pos;
    bool have4 = false, have6 = false;
    for (size_t i = 0; i < def->n_ipam; i++) {
        const struct network_ipam_config *cfg = &def->ipam[i];
        if (!is_v6_entry(cfg) && !have4) {
            have4 = true;
            req->subnet = cfg->subnet;
            req->gateway = cfg->gateway;
            req->ip_range = cfg->ip_range;
            *pos4 = &cfg->pos;
            aux_of(cfg, aux);
        } else if (is_v6_entry(cfg) && !have6) {
            have6 = true;
            *pos6 = &cfg->pos;
            if (!def->enable_ipv6) {
                log_warn("%s:%d:%d: network %s: IPv6 subnet %s is ignored: enable_ipv6 is not "
                         "set",
                         cfg->pos.file ? cfg->pos.file : "?", cfg->pos.line, cfg->pos.col, def->key,
                         cfg->subnet);
                continue;
            }
            req->subnet6 = cfg->subnet;
            req->gateway6 = cfg->gateway;
            req->ip_range6 = cfg->ip_range;
            aux_of(cfg, aux);
        }
    }
    req->aux = (const char *const *)*aux;
}

/* The file's com.docker.network.bridge.name must name nothing yet: no
 * link of the host (another program's, or a bridge berth made for another
 * network) and no other network's record (its bridge may be gone after a
 * reboot). Under the host's network lock. */
static int bridge_name_free(struct cli *c, const struct network_def *def, const char *svc,
                            struct berr *e)
{
    const char *name = def->opts.bridge_name;
    const char *other = NULL;
    struct net_record *recs = NULL;
    size_t n = 0;
    struct berr ign = BERR_INIT;
    if (net_record_list(c->root, NULL, &recs, &n, &ign) == 0)
        for (size_t i = 0; i < n && !other; i++)
            if (strcmp(recs[i].bridge, name) == 0 && strcmp(recs[i].name, def->name) != 0)
                other = recs[i].name;
    berr_clear(&ign);
    int r = 0;
    if (other || link_exists(name))
        r = berr_set(e, -EEXIST,
                     "%s:%d:%d: service \"%s\": network %s: com.docker.network.bridge.name: %s "
                     "%s already exists%s%s",
                     def->pos.file ? def->pos.file : "?", def->pos.line, def->pos.col, svc,
                     def->name, other ? "the bridge of network" : "a link named",
                     other ? other : name, other ? " as " : "", other ? name : "");
    net_record_list_free(recs, n);
    return r;
}

/* What the file's driver_opts ask that a network made before does not
 * have (NULL when the same): it must be removed first, never run as it
 * was. */
static const char *opts_changed(const struct network_def *def, const struct net_record *rec)
{
    if (def->opts.bridge_name ? strcmp(def->opts.bridge_name, rec->bridge) != 0
                              : strncmp(rec->bridge, "br-", 3) != 0 || strlen(rec->bridge) != 15)
        return "com.docker.network.bridge.name";
    if (def->opts.mtu != rec->mtu)
        return "com.docker.network.driver.mtu";
    if (def->opts.no_masquerade != rec->no_masquerade)
        return "com.docker.network.bridge.enable_ip_masquerade";
    if (def->opts.no_icc != rec->no_icc)
        return "com.docker.network.bridge.enable_icc";
    return NULL;
}

static int network_make(struct cli *c, const struct project *p, const struct network_def *def,
                        const char *svc, char ***made, struct berr *e)
{
    _cleanup_close_ int lock = ipam_host_lock(e);
    if (lock < 0)
        return lock;
    /* before anything is recorded */
    int r = def->opts.bridge_name ? bridge_name_free(c, def, svc, e) : 0;
    if (r < 0)
        return r;
    _cleanup_free_ struct ipam_prefix *host = NULL;
    size_t nhost = 0;
    r = link_host_prefixes(&host, &nhost, e);
    if (r < 0)
        return r;
    struct ipam_prefix pool6;
    ipam_ula_pool_host(c->root, &pool6);
    struct ipam_request req;
    const struct srcpos *pos4, *pos6;
    _cleanup_strv_ char **aux = NULL;
    ipam_request_of(def, &pool6, &req, &pos4, &pos6, &aux);
    struct ipam_network alloc;
    r = ipam_network_acquire(c->root, def->name, &req, host, nhost, &alloc, e);
    if (r < 0) {
        /* the IPv6 entry's place when the message is about its subnet */
        bool about6 = req.subnet6 && e->msg && strstr(e->msg, req.subnet6);
        const struct srcpos *pos = about6 ? pos6 : pos4;
        /* (ipam's message names the network, by its real name) */
        if (pos->file)
            return berr_wrap(e, "%s:%d:%d: service \"%s\"", pos->file, pos->line, pos->col, svc);
        return berr_wrap(e, "service \"%s\"", svc);
    }
    char created[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 9, created);
    _cleanup_free_ char *id = ctr_new_id();
    _cleanup_free_ char *bridge =
        def->opts.bridge_name ? xstrdup(def->opts.bridge_name) : net_bridge_name(id);
    _cleanup_free_ char *subnet = xstrdup(alloc.subnet);
    _cleanup_free_ char *gateway = xstrdup(alloc.gateway);
    _cleanup_free_ char *subnet6 = alloc.subnet6[0] ? xstrdup(alloc.subnet6) : NULL;
    _cleanup_free_ char *gateway6 = alloc.gateway6[0] ? xstrdup(alloc.gateway6) : NULL;
    struct net_record rec = {
        .name = (char *)def->name,
        .id = id,
        .bridge = bridge,
        .project = p->name,
        .key = def->key,
        .subnet4 = subnet,
        .gateway4 = gateway,
        .subnet6 = subnet6,
        .gateway6 = gateway6,
        .internal = def->internal,
        .enable_ipv6 = subnet6 != NULL,
        .mtu = def->opts.mtu,
        .no_masquerade = def->opts.no_masquerade,
        .no_icc = def->opts.no_icc,
        .host_binding_ipv4 = def->opts.host_binding_ipv4,
        .labels = def->labels,
        .created = created,
    };
    ui_progress(c->ui, EV_NETWORK, "creating", def->name, "Creating");
    r = net_record_write(c->root, &rec, e);
    if (r == 0)
        r = bridge_up(&rec, e);
    if (r < 0) {
        network_unmake(c, &rec);
        return berr_wrap(e, "network %s", def->name);
    }
    strv_push(made, xstrdup(def->name));
    ui_progress(c->ui, EV_NETWORK, "create", def->name, "Created");
    return 0;
}

/* Whether two containers ask for the same address (both set). */
static bool same_requested(const char *a, const char *b)
{
    struct ipam_prefix x, y;
    if (!a || !b)
        return false;
    if (ipam_addr_parse(a, "", &x, NULL) < 0 || ipam_addr_parse(b, "", &y, NULL) < 0)
        return strcmp(a, b) == 0;
    return x.family == y.family && memcmp(x.addr, y.addr, 16) == 0;
}

/* What these networks need of the host to forward: IP forwarding, and a
 * firewall that does not drop it. On one that would (docker and ufw set
 * FORWARD's policy to drop), their containers would have no way out and
 * their published ports would not answer other hosts, with nothing else
 * to tell why: said here. Internal networks forward nothing. */
static void host_forwarding(struct cli *c, char **names)
{
    _cleanup_strv_ char **bridges = NULL;
    bool v6 = false;
    for (size_t i = 0; names && names[i]; i++) {
        _cleanup_(net_record_free) struct net_record rec = {0};
        struct berr ign = BERR_INIT;
        if (net_record_read(c->root, names[i], &rec, &ign) == 0 && !rec.internal) {
            strv_push(&bridges, xstrdup(rec.bridge));
            v6 = v6 || rec.subnet6;
        }
        berr_clear(&ign);
    }
    if (!bridges)
        return;
    /* IP forwarding, as docker turns it on (the supervisor checks again
     * after a reboot): said here, where the user sees it. */
    for (int k = 0; k < (v6 ? 2 : 1); k++) {
        _cleanup_free_ char *m = link_forwarding_on(k ? AF_INET6 : AF_INET);
        if (m)
            log_warn("%s", m);
    }
    _cleanup_free_ char *where = NULL;
    struct berr ign = BERR_INIT;
    if (nft_forward_blocked((const char *const *)bridges, &where, &ign) == 1)
        log_warn("the host's firewall drops forwarded traffic (nftables chain %s: policy "
                 "drop, as docker and ufw set it): the containers cannot reach past their "
                 "networks and their published ports do not answer other hosts, unless a "
                 "rule there accepts berth's bridges (br-*)",
                 where);
    berr_clear(&ign);
}

int cli_networks_ensure(struct cli *c, const struct project *p, const struct ctr_plan *const *plans,
                        size_t n, char ***made, struct berr *e)
{
    _cleanup_strv_ char **names = NULL, **svcs = NULL; /* svcs[i]: names[i]'s first user */
    for (size_t i = 0; i < n; i++) {
        const struct ctr_plan *pl = plans[i];
        for (size_t k = 0; !pl->network_mode && k < pl->n_endpoints; k++) {
            const struct plan_endpoint *ep = &pl->endpoints[k];
            if (!in_list(names, ep->network)) {
                strv_push(&names, xstrdup(ep->network));
                strv_push(&svcs, xstrdup(pl->service ? pl->service : pl->name));
            }
            /* One address asked for by two containers: refused before
             * anything is made (the second would fail after the first
             * was created). */
            for (size_t j = 0; j < i; j++)
                for (size_t m = 0; !plans[j]->network_mode && m < plans[j]->n_endpoints; m++) {
                    const struct plan_endpoint *o = &plans[j]->endpoints[m];
                    const char *what =
                        same_requested(o->ipv4_address, ep->ipv4_address)   ? "ipv4_address"
                        : same_requested(o->ipv6_address, ep->ipv6_address) ? "ipv6_address"
                                                                            : NULL;
                    if (what && !strcmp(o->network, ep->network)) {
                        const char *who = pl->service ? pl->service : pl->name;
                        const struct service *sv = pl->service ? project_service(p, who) : NULL;
                        const struct srcpos *pos =
                            sv && k < sv->n_networks ? &sv->networks[k].pos : NULL;
                        berr_set(e, -EEXIST,
                                 "service \"%s\": network %s: %s %s is also service "
                                 "\"%s\"'s",
                                 who, ep->network, what,
                                 what[3] == '4' ? ep->ipv4_address : ep->ipv6_address,
                                 plans[j]->service ? plans[j]->service : plans[j]->name);
                        if (pos && pos->file)
                            berr_wrap(e, "%s:%d:%d", pos->file, pos->line, pos->col);
                        return -EEXIST;
                    }
                }
        }
    }
    for (size_t i = 0; names && names[i]; i++) {
        const struct network_def *def = find_def(p, names[i]);
        _cleanup_(net_record_free) struct net_record rec = {0};
        struct berr re = BERR_INIT;
        int r = net_record_read(c->root, names[i], &rec, &re);
        if (r == -ENOENT) {
            berr_clear(&re);
            if (def && def->external)
                return berr_set(e, -ENOENT,
                                "%s:%d:%d: service \"%s\": network %s declared as external, "
                                "but could not be found",
                                def->pos.file, def->pos.line, def->pos.col, svcs[i], names[i]);
            if (!def)
                return berr_set(e, -ENOENT, "network %s not found", names[i]);
            r = network_make(c, p, def, svcs[i], made, e);
            if (r < 0)
                return r;
            continue;
        }
        if (r < 0) {
            berr_move(e, &re);
            return r;
        }
        if (def && !def->external && rec.project && strcmp(rec.project, p->name) != 0)
            return berr_set(e, -EEXIST,
                            "%s:%d:%d: network %s already exists and belongs to project \"%s\" "
                            "(declare it external: true to share it)",
                            def->pos.file, def->pos.line, def->pos.col, names[i], rec.project);
        if (def && !def->external && def->enable_ipv6 != rec.enable_ipv6)
            return berr_set(e, -EEXIST,
                            "%s:%d:%d: network %s exists with IPv6 %s, but the file sets "
                            "enable_ipv6: %s (remove it first: berth down)",
                            def->pos.file, def->pos.line, def->pos.col, names[i],
                            rec.enable_ipv6 ? "on" : "off", def->enable_ipv6 ? "true" : "false");
        const char *changed = def && !def->external ? opts_changed(def, &rec) : NULL;
        if (changed)
            return berr_set(e, -EEXIST,
                            "%s:%d:%d: network %s exists with another %s than the file's "
                            "driver_opts ask (remove it first: berth down)",
                            def->pos.file, def->pos.line, def->pos.col, names[i], changed);
        /* After a reboot the bridge is gone: make it again, as recorded. */
        r = bridge_up(&rec, e);
        if (r < 0)
            return berr_wrap(e, "network %s", names[i]);
    }
    host_forwarding(c, names);
    return 0;
}

void cli_networks_undo(struct cli *c, char ***made)
{
    for (size_t i = 0; *made && (*made)[i]; i++) {
        _cleanup_(net_record_free) struct net_record rec = {0};
        struct berr ign = BERR_INIT;
        if (net_record_read(c->root, (*made)[i], &rec, &ign) == 0)
            network_unmake(c, &rec);
        berr_clear(&ign);
        ui_progress(c->ui, EV_NETWORK, "destroy", (*made)[i], "Removed");
    }
    strv_free(*made);
    *made = NULL;
}

int up_networks(struct up *u, struct berr *e)
{
    _cleanup_free_ const struct ctr_plan **plans = xcalloc(u->pl.n_items + 1, sizeof *plans);
    for (size_t i = 0; i < u->pl.n_items; i++)
        plans[i] = &u->pl.items[i].plan;
    return cli_networks_ensure(u->c, u->pl.p, plans, u->pl.n_items, &u->nets_made, e);
}

void up_networks_undo(struct up *u)
{
    cli_networks_undo(u->c, &u->nets_made);
}

void cli_endpoints_release(struct cli *c, const struct ctr_plan *pl, const char *name)
{
    for (size_t k = 0; !pl->network_mode && k < pl->n_endpoints; k++) {
        struct berr ign = BERR_INIT;
        ipam_address_release(c->root, pl->endpoints[k].network, name, &ign);
        berr_clear(&ign);
    }
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

int up_endpoints(struct up *u, struct up_item *it, struct berr *e)
{
    return cli_endpoints_assign(u->c, it->svc, &it->plan, e);
}

void cli_ports_external_binding(struct cli *c, const struct project *p, const struct service *s,
                                struct ctr_plan *pl)
{
    for (size_t i = 0; !s->network_mode && i < s->n_networks; i++) {
        const struct network_def *def = project_network(p, s->networks[i].key);
        if (!def || def->internal)
            continue;
        if (!def->external)
            return; /* the plan took this network's own option */
        _cleanup_(net_record_free) struct net_record rec = {0};
        struct berr ign = BERR_INIT;
        if (net_record_read(c->root, def->name, &rec, &ign) == 0 && rec.host_binding_ipv4)
            for (size_t k = 0; k < pl->n_ports; k++)
                if (!pl->ports[k].host_ip)
                    pl->ports[k].host_ip = xstrdup(rec.host_binding_ipv4);
        berr_clear(&ign);
        return;
    }
}

int cli_endpoints_assign(struct cli *c, const struct service *s, struct ctr_plan *pl,
                         struct berr *e)
{
    for (size_t k = 0; !pl->network_mode && k < pl->n_endpoints; k++) {
        struct plan_endpoint *ep = &pl->endpoints[k];
        _cleanup_(net_record_free) struct net_record rec = {0};
        int r = net_record_read(c->root, ep->network, &rec, e);
        char addr[IPAM_PREFIX_STRLEN], addr6[IPAM_PREFIX_STRLEN] = "";
        if (r == 0)
            r = ipam_address_acquire(c->root, ep->network, pl->name, ep->ipv4_address, addr, e);
        if (r == 0 && rec.subnet6)
            r = ipam_address6_acquire(c->root, ep->network, pl->name, ep->ipv6_address, addr6, e);
        else if (r == 0 && ep->ipv6_address)
            r = berr_set(e, -EINVAL,
                         "network %s: ipv6_address %s, but the network has no IPv6 (enable_ipv6 "
                         "is not set)",
                         ep->network, ep->ipv6_address);
        if (r < 0) {
            cli_endpoints_release(c, pl, pl->name);
            if (s && k < s->n_networks && s->networks[k].pos.file)
                return berr_wrap(e, "%s:%d:%d: service \"%s\"", s->networks[k].pos.file,
                                 s->networks[k].pos.line, s->networks[k].pos.col, s->name);
            return berr_wrap(e, "service \"%s\"", s ? s->name : pl->name);
        }
        free(ep->addr4);
        ep->addr4 = with_len(addr, rec.subnet4);
        set_str(&ep->gateway4, rec.gateway4);
        free(ep->addr6);
        ep->addr6 = *addr6 ? with_len(addr6, rec.subnet6) : NULL;
        set_str(&ep->gateway6, *addr6 ? rec.gateway6 : NULL);
        set_str(&ep->bridge, rec.bridge);
        ep->internal = rec.internal;
        ep->mtu = rec.mtu;
        ep->no_masquerade = rec.no_masquerade;
        ep->no_icc = rec.no_icc;
    }
    return 0;
}

int down_networks(struct cli *c, const char *project, bool on_networks, struct berr *e)
{
    int rc = 0;
    struct net_record *recs = NULL;
    size_t n = 0;
    int r = net_record_list(c->root, project, &recs, &n, e);
    if (r < 0)
        return r;
    /* The table first (it names the bridges); a failure is said, and
     * the networks go all the same. */
    struct berr te = BERR_INIT;
    _cleanup_free_ char *scope = cli_nft_scope(c->root, project);
    if ((n > 0 || on_networks) && nft_project_remove(scope, &te) < 0) {
        berr_move(e, &te);
        rc = -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_strv_ char **users = NULL;
        struct berr re = BERR_INIT;
        if (ipam_network_users(c->root, recs[i].name, &users, &re) == 0 && users) {
            log_warn("network %s is still in use by %s; not removed", recs[i].name, users[0]);
            continue;
        }
        berr_clear(&re);
        ui_progress(c->ui, EV_NETWORK, "destroying", recs[i].name, "Removing");
        if (link_remove(recs[i].bridge, &re) < 0 ||
            ipam_network_release(c->root, recs[i].name, &re) < 0 ||
            net_record_remove(c->root, recs[i].name, &re) < 0) {
            if (rc == 0) {
                berr_move(e, &re);
                rc = -EIO;
            }
            berr_clear(&re);
            continue;
        }
        ui_progress(c->ui, EV_NETWORK, "destroy", recs[i].name, "Removed");
    }
    net_record_list_free(recs, n);
    return rc;
}

char **cli_hosts_snapshot(struct cli *c, const char *project, const struct ctr_plan *pl)
{
    char **out = NULL;
    _cleanup_ctr_list_ struct ctr_list l = {0};
    if (!netsetup_has_endpoints(pl) || ctr_list(c->root, project, NULL, &l.v, &l.n, NULL) < 0)
        return NULL;
    for (size_t i = 0; i < l.n; i++) {
        const struct ctr_record *r = &l.v[i];
        struct run_state rs;
        if (!netsetup_has_endpoints(&r->plan) || strcmp(r->name, pl->name) == 0 ||
            run_state_read(c->runroot, project, r->name, &rs) < 0 || !run_state_alive(&rs))
            continue;
        for (size_t k = 0; k < r->plan.n_endpoints; k++) {
            const struct plan_endpoint *ep = &r->plan.endpoints[k];
            bool shared = false;
            for (size_t j = 0; j < pl->n_endpoints && !shared; j++)
                shared = strcmp(pl->endpoints[j].network, ep->network) == 0;
            if (!shared || !ep->addr4)
                continue;
            const char *cidrs[] = {ep->addr4, ep->addr6};
            for (size_t f = 0; f < 2 && cidrs[f]; f++) {
                char a[IPAM_PREFIX_STRLEN];
                netsetup_bare_addr(cidrs[f], a);
                strv_push(&out, xasprintf("%s:%s", r->service, a));
                strv_push(&out, xasprintf("%s:%s", r->name, a));
                for (size_t m = 0; ep->aliases && ep->aliases[m]; m++)
                    strv_push(&out, xasprintf("%s:%s", ep->aliases[m], a));
            }
            break;
        }
    }
    return out;
}
