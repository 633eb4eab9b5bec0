/* SPDX-License-Identifier: Apache-2.0 */
/* A container's namespace, links and /etc files from its plan
 * (engine/runtime/netsetup.h). Not here: IPAM, DNS serving, ports. */
#include "engine/runtime/netsetup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "net/etcfiles.h"
#include "net/ipam.h"
#include "net/link.h"
#include "net/netns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

bool netsetup_has_endpoints(const struct ctr_plan *pl)
{
    return !pl->network_mode && pl->n_endpoints > 0;
}

/* The first endpoint on a network that is not internal with an address
 * of that family. */
static const struct plan_endpoint *first_routed(const struct ctr_plan *pl, bool v6)
{
    if (!netsetup_has_endpoints(pl))
        return NULL;
    for (size_t i = 0; i < pl->n_endpoints; i++)
        if (!pl->endpoints[i].internal && (v6 ? pl->endpoints[i].addr6 : pl->endpoints[i].addr4))
            return &pl->endpoints[i];
    return NULL;
}

const struct plan_endpoint *netsetup_primary(const struct ctr_plan *pl)
{
    return first_routed(pl, false);
}

const struct plan_endpoint *netsetup_primary6(const struct ctr_plan *pl)
{
    return first_routed(pl, true);
}

void netsetup_bare_addr(const char *cidr, char buf[50])
{
    snprintf(buf, 50, "%s", cidr ? cidr : "");
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
}

static const char *prefix_len(const char *cidr)
{
    const char *slash = cidr ? strchr(cidr, '/') : NULL;
    return slash ? slash + 1 : "32";
}

/* A host-side veth name nobody else uses: "veth" + 7 random hex digits
 * (a namespace being freed may still hold the last one's for a while). */
static void random_ifname(char out[16])
{
    uint8_t b[4] = {0};
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        memcpy(b, &ts.tv_nsec, sizeof b);
    }
    snprintf(out, 16, "veth%02x%02x%02x%x", b[0], b[1], b[2], b[3] & 0xf);
}

int netsetup_bridge(const char *bridge, const char *gateway4, const char *subnet_len, unsigned mtu,
                    struct berr *e)
{
    _cleanup_free_ char *gw =
        gateway4 ? xasprintf("%s/%s", gateway4, subnet_len ? subnet_len : "32") : NULL;
    struct link_bridge_spec bs = {.name = bridge, .gateway4 = gw, .mtu = mtu};
    return link_bridge_ensure(&bs, NULL, e);
}

/* The endpoint's bridge as its plan records it (both gateways). */
static int endpoint_bridge(const struct plan_endpoint *ep, unsigned mtu, struct berr *e)
{
    _cleanup_free_ char *gw4 =
        ep->gateway4 ? xasprintf("%s/%s", ep->gateway4, prefix_len(ep->addr4)) : NULL;
    _cleanup_free_ char *gw6 =
        ep->addr6 && ep->gateway6 ? xasprintf("%s/%s", ep->gateway6, prefix_len(ep->addr6)) : NULL;
    struct link_bridge_spec bs = {.name = ep->bridge, .gateway4 = gw4, .gateway6 = gw6, .mtu = mtu};
    return link_bridge_ensure(&bs, NULL, e);
}

static int attach_endpoints(int nsfd, const struct ctr_plan *pl, const char *name, unsigned mtu,
                            struct berr *e)
{
    const struct plan_endpoint *primary = netsetup_primary(pl);
    const struct plan_endpoint *primary6 = netsetup_primary6(pl);
    for (size_t i = 0; i < pl->n_endpoints; i++) {
        const struct plan_endpoint *ep = &pl->endpoints[i];
        if (!ep->bridge || !ep->addr4)
            return berr_set(e, -EINVAL,
                            "%s: no address on network %s (recreate it: berth up "
                            "--force-recreate)",
                            name, ep->network);
        unsigned ep_mtu = ep->mtu ? ep->mtu : mtu; /* the network's driver.mtu */
        int r = endpoint_bridge(ep, ep_mtu, e);
        if (r < 0)
            return berr_wrap(e, "%s: network %s", name, ep->network);
        char host[16], ifname[16];
        random_ifname(host);
        snprintf(ifname, sizeof ifname, "eth%u", (unsigned)i);
        struct link_endpoint_spec es = {
            .bridge = ep->bridge,
            .host_ifname = host,
            .ifname = ifname,
            .mac = ep->mac_address ? ep->mac_address : (i == 0 ? pl->mac_address : NULL),
            .addr4 = ep->addr4,
            .addr6 = ep->addr6,
            .gateway4 = ep == primary ? ep->gateway4 : NULL,
            .gateway6 = ep == primary6 ? ep->gateway6 : NULL,
            .mtu = ep_mtu,
            .isolated = ep->no_icc,
        };
        r = link_endpoint_add(nsfd, &es, e);
        if (r < 0)
            return berr_wrap(e, "%s: network %s", name, ep->network);
    }
    return 0;
}

int netsetup_attach(const struct ctr_plan *pl, const char *name, unsigned *mtu, struct berr *e)
{
    if (!*mtu) {
        struct berr ign = BERR_INIT;
        if (link_default_mtu(mtu, &ign) < 0 || !*mtu)
            *mtu = 1500;
        berr_clear(&ign);
    }
    _cleanup_close_ int nsfd = netns_new(e);
    if (nsfd < 0)
        return berr_wrap(e, "%s", name);
    int r = attach_endpoints(nsfd, pl, name, *mtu, e);
    if (r < 0)
        return r; /* closing nsfd frees the namespace and the links made */
    return TAKE_FD(nsfd);
}

char *netsetup_fd_path(int fd)
{
    return xasprintf("/proc/self/fd/%d", fd);
}

static bool mounted_at(const struct ctr_plan *pl, const char *target)
{
    for (size_t i = 0; i < pl->n_mounts; i++)
        if (strcmp(pl->mounts[i].target, target) == 0)
            return true;
    return false;
}

static int write_one(int dfd, const char *dir, const char *file, const char *target,
                     const char *text, struct mount_spec **mounts, size_t *n, char ***strings,
                     struct berr *e)
{
    int r = fs_write_replace(dfd, file, text, strlen(text), 0644, e);
    if (r < 0)
        return berr_wrap(e, "writing %s", target);
    char *src = xasprintf("%s/%s", dir, file);
    strv_push(strings, src);
    *mounts = xreallocarray(*mounts, *n + 1, sizeof **mounts);
    (*mounts)[(*n)++] =
        (struct mount_spec){.kind = MOUNT_KIND_BIND, .source = src, .target = target};
    return 0;
}

static int resolv_text(const struct ctr_plan *pl, const struct netsetup_files *o, char **out,
                       struct berr *e)
{
    _cleanup_(net_resolv_free) struct net_resolv host = {0};
    _cleanup_free_ char *host_text = NULL;
    struct berr le = BERR_INIT;
    if (net_resolv_load(o->resolv_conf ? o->resolv_conf : "/etc/resolv.conf",
                        NET_RESOLVED_STUB_PATH, &host, &host_text, NULL, &le) < 0) {
        berr_clear(&le);
        net_resolv_parse("", &host);
        host_text = xstrdup("");
    }
    const char *mode = pl->network_mode;
    struct net_resolv_spec rs = {
        .mode = mode && strcmp(mode, "host") == 0   ? NET_RESOLV_HOST
                : mode && strcmp(mode, "none") == 0 ? NET_RESOLV_NONE
                                                    : NET_RESOLV_BRIDGE,
        .embedded_dns = NETSETUP_EMBEDDED_DNS,
        .dns = pl->dns,
        .dns_search = pl->dns_search,
        .dns_opt = pl->dns_opt,
    };
    _cleanup_strv_ char **ups = NULL;
    if (rs.mode == NET_RESOLV_BRIDGE && !o->embedded_dns) {
        /* No server of berth's to ask: the resolvers the container can reach. */
        int r = net_dns_upstreams(&host, pl->dns, false, &ups, e);
        if (r < 0)
            return r;
        rs.mode = NET_RESOLV_HOST;
        rs.dns = ups;
    }
    return net_resolv_render(&host, host_text, &rs, out, e);
}

int netsetup_etc(const char *dir, const char *service, const struct ctr_plan *pl,
                 const struct netsetup_files *o, struct mount_spec **mounts, size_t *n,
                 char ***strings, struct berr *e)
{
    const struct plan_endpoint *primary = netsetup_primary(pl);
    if (!primary && netsetup_has_endpoints(pl))
        primary = &pl->endpoints[0];
    char addr[50] = "";
    if (primary)
        netsetup_bare_addr(primary->addr4, addr);
    const struct plan_endpoint *p6 = primary && primary->addr6 ? primary : netsetup_primary6(pl);
    char addr6[50] = "";
    if (p6)
        netsetup_bare_addr(p6->addr6, addr6);
    _cleanup_strv_ char **extra = strv_dup(pl->extra_hosts);
    for (size_t i = 0; o->more_hosts && o->more_hosts[i]; i++)
        strv_push(&extra, xstrdup(o->more_hosts[i]));
    _cleanup_free_ char *hostname = NULL, *hosts = NULL, *resolv = NULL;
    struct net_hosts_spec hs = {
        .hostname = pl->hostname,
        .domainname = pl->domainname,
        .addr = *addr ? addr : NULL,
        .addr6 = *addr6 ? addr6 : NULL,
        .extra_hosts = extra,
        .host_gateway = primary ? primary->gateway4 : NULL,
        .base = o->hosts_base,
    };
    int r = net_hostname_render(pl->hostname, &hostname, e);
    if (r == 0)
        r = net_hosts_render(&hs, &hosts, e);
    if (r == 0)
        r = resolv_text(pl, o, &resolv, e);
    if (r < 0)
        return berr_wrap(e, "service \"%s\"", service);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
    static const char *const targets[] = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"};
    const char *texts[] = {hostname, hosts, resolv};
    for (size_t i = 0; i < 3; i++) {
        if (mounted_at(pl, targets[i]))
            continue; /* the file's own mount wins, as in docker */
        r = write_one(dfd, dir, files[i], targets[i], texts[i], mounts, n, strings, e);
        if (r < 0)
            return berr_wrap(e, "service \"%s\"", service);
    }
    return 0;
}
