/* SPDX-License-Identifier: Apache-2.0 */
/* berth's nftables table per project (net/nft.h): the script that defines
 * it from checked input, and applying, removing and listing through
 * libnftables. Not here: links, addresses, sysctls, the loopback proxy. */
#include "net/nft.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "net/ipam.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* nft's table names may be longer; a project name this long is a mistake. */
#define PROJECT_MAX 200
/* IFNAMSIZ - 1 */
#define IFNAME_MAX 15

/* s for an error message: at most 64 bytes, a byte outside printable
 * ASCII as '?', so a hostile name cannot break the one-line message. */
#define SHOWN_MAX 68
static const char *shown(const char *s, char buf[SHOWN_MAX])
{
    if (!s)
        return "(null)";
    size_t i = 0;
    for (; s[i] && i < SHOWN_MAX - 4; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    strcpy(buf + i, s[i] ? "..." : "");
    return buf;
}

/* A compose project's name, or (with a '.', which no project name has)
 * one of berth's own scopes such as a build's network: "build.1a2b3c4d".
 * nft's identifiers allow all of these characters. */
static bool project_ok(const char *s)
{
    if (!s || !*s || strlen(s) > PROJECT_MAX)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-.") == strlen(s);
}

static int check_project(const char *s, struct berr *e)
{
    if (!project_ok(s))
        return berr_set(e, -EINVAL, "nftables: project name \"%s\" is not [a-z0-9][a-z0-9_.-]*",
                        shown(s, (char[SHOWN_MAX]){0}));
    return 0;
}

/* Interface names reach the script inside double quotes: letters, digits
 * and "_.-" only (berth's bridges are "br-" and hex). */
static int check_ifname(const char *s, const char *what, struct berr *e)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    if (!s || !*s || strlen(s) > IFNAME_MAX || strspn(s, ok) != strlen(s))
        return berr_set(e, -EINVAL, "nftables: %s \"%s\" is not an interface name", what,
                        shown(s, (char[SHOWN_MAX]){0}));
    return 0;
}

/* A bare address of family af, formatted again from its bytes (so only
 * what inet_ntop writes reaches the script). */
static int canon_addr(const char *s, int af, const char *what, char buf[INET6_ADDRSTRLEN],
                      struct berr *e)
{
    unsigned char bin[16];
    if (!s || inet_pton(af, s, bin) != 1 || !inet_ntop(af, bin, buf, INET6_ADDRSTRLEN))
        return berr_set(e, -EINVAL, "nftables: %s \"%s\" is not an %s address", what,
                        shown(s, (char[SHOWN_MAX]){0}), af == AF_INET ? "IPv4" : "IPv6");
    return 0;
}

/* A subnet of family af, canonical ("a.b.c.d/n"). */
static int canon_subnet(const char *s, int af, const char *bridge, char buf[IPAM_PREFIX_STRLEN],
                        struct berr *e)
{
    struct ipam_prefix p;
    if (strspn(s, "0123456789abcdefABCDEF:./") != strlen(s))
        return berr_set(e, -EINVAL, "nftables: network %s: subnet \"%s\" is not a prefix", bridge,
                        shown(s, (char[SHOWN_MAX]){0}));
    int r = ipam_prefix_parse(s, true, "subnet", &p, e);
    if (r < 0)
        return berr_wrap(e, "nftables: network %s", bridge);
    if (p.family != af)
        return berr_set(e, -EINVAL, "nftables: network %s: subnet %s is not %s", bridge, s,
                        af == AF_INET ? "IPv4" : "IPv6");
    ipam_prefix_format(&p, true, buf);
    return 0;
}

static const char *proto_name(int proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_SCTP:
        return "sctp";
    default:
        return NULL;
    }
}

/* Where a port is published, per family: not at all, on every local
 * address of the family, or on one address. */
enum bind_kind { BIND_NONE, BIND_ANY, BIND_ONE };

struct port_plan {
    const char *proto;
    enum bind_kind claim[2]; /* what host_ip names: [0] IPv4, [1] IPv6 */
    enum bind_kind bind[2];  /* the rules made (no loopback, ...) */
    char host[INET6_ADDRSTRLEN];
    char ctr[2][INET6_ADDRSTRLEN];
};

static bool is_internal_bridge(const struct nft_project *p, const char *bridge)
{
    for (size_t i = 0; i < p->n_nets; i++)
        if (p->nets[i].internal && strcmp(p->nets[i].bridge, bridge) == 0)
            return true;
    return false;
}

/* Checks one port and decides its rules. A loopback host_ip gets none. */
static int plan_port(const struct nft_project *p, const struct nft_port *pt, struct port_plan *pl,
                     struct berr *e)
{
    *pl = (struct port_plan){0};
    pl->proto = proto_name(pt->proto);
    if (!pl->proto)
        return berr_set(e, -EINVAL, "nftables: port %u: protocol %d is not tcp, udp or sctp",
                        pt->host_port, pt->proto);
    if (pt->host_port == 0 || pt->ctr_port == 0)
        return berr_set(e, -EINVAL, "nftables: port %u:%u: a port is 0", pt->host_port,
                        pt->ctr_port);
    if (check_ifname(pt->bridge, "bridge", e) < 0)
        return berr_wrap(e, "port %u", pt->host_port);
    if (pt->ctr_addr4 && canon_addr(pt->ctr_addr4, AF_INET, "container address", pl->ctr[0], e) < 0)
        return berr_wrap(e, "port %u", pt->host_port);
    if (pt->ctr_addr6 &&
        canon_addr(pt->ctr_addr6, AF_INET6, "container address", pl->ctr[1], e) < 0)
        return berr_wrap(e, "port %u", pt->host_port);

    const char *h = pt->host_ip;
    unsigned char bin[16] = {0};
    if (!h || !*h) {
        pl->bind[0] = pl->bind[1] = BIND_ANY;
    } else if (inet_pton(AF_INET, h, bin) == 1) {
        pl->bind[0] = bin[0] || bin[1] || bin[2] || bin[3] ? BIND_ONE : BIND_ANY;
        inet_ntop(AF_INET, bin, pl->host, sizeof pl->host);
    } else if (inet_pton(AF_INET6, h, bin) == 1) {
        struct in6_addr a;
        memcpy(&a, bin, sizeof a);
        if (IN6_IS_ADDR_V4MAPPED(&a))
            return berr_set(e, -EINVAL,
                            "nftables: port %u: host_ip %s is IPv4-mapped: give the IPv4 form",
                            pt->host_port, h);
        pl->bind[1] = IN6_IS_ADDR_UNSPECIFIED(&a) ? BIND_ANY : BIND_ONE;
        inet_ntop(AF_INET6, bin, pl->host, sizeof pl->host);
    } else {
        return berr_set(e, -EINVAL, "nftables: port %u: host_ip \"%s\" is not an address",
                        pt->host_port, shown(h, (char[SHOWN_MAX]){0}));
    }
    memcpy(pl->claim, pl->bind, sizeof pl->claim);
    if ((pl->bind[0] == BIND_ONE && bin[0] == 127) ||
        (pl->bind[1] == BIND_ONE && memcmp(bin, &in6addr_loopback, sizeof in6addr_loopback) == 0))
        pl->bind[0] = pl->bind[1] = BIND_NONE;
    if (is_internal_bridge(p, pt->bridge))
        pl->bind[0] = pl->bind[1] = BIND_NONE;
    if (!pt->ctr_addr4)
        pl->bind[0] = BIND_NONE;
    if (!pt->ctr_addr6)
        pl->bind[1] = BIND_NONE;
    return 0;
}

/* Two entries for one protocol, host port and address (or one of them on
 * every address of the family): the second would never see a packet. */
static int check_duplicates(const struct nft_project *p, const struct port_plan *plans,
                            struct berr *e)
{
    for (size_t i = 0; i < p->n_ports; i++)
        for (size_t j = i + 1; j < p->n_ports; j++) {
            const struct port_plan *a = &plans[i], *b = &plans[j];
            if (p->ports[i].host_port != p->ports[j].host_port || a->proto != b->proto)
                continue;
            for (int v6 = 0; v6 < 2; v6++) {
                if (a->claim[v6] == BIND_NONE || b->claim[v6] == BIND_NONE)
                    continue;
                if (a->claim[v6] == BIND_ANY || b->claim[v6] == BIND_ANY ||
                    strcmp(a->host, b->host) == 0)
                    return berr_set(e, -EINVAL,
                                    "nftables: host port %u/%s is published twice (on %s and %s)",
                                    p->ports[i].host_port, a->proto,
                                    a->claim[v6] == BIND_ANY ? "every address" : a->host,
                                    b->claim[v6] == BIND_ANY ? "every address" : b->host);
            }
        }
    return 0;
}

/* One DNAT rule of a port for family v6 (0/1), in prerouting or output.
 * Loopback destinations are excluded in both chains: a packet to
 * 127.0.0.1 arriving on another interface is a martian the kernel drops,
 * unless a DNAT rewrites it first (CVE-2020-8558). */
static void emit_dnat(FILE *f, const struct nft_port *pt, const struct port_plan *pl, int v6,
                      bool output)
{
    const char *ip = v6 ? "ip6" : "ip";
    if (pl->bind[v6] == BIND_ONE)
        fprintf(f, "\t\t%s daddr %s ", ip, pl->host);
    else
        fprintf(f, "\t\tmeta nfproto %s fib daddr type local %s daddr != %s ", v6 ? "ipv6" : "ipv4",
                ip, v6 ? "::1" : "127.0.0.0/8");
    if (!output)
        fprintf(f, "iifname != \"%s\" ", pt->bridge);
    if (v6)
        fprintf(f, "%s dport %u dnat ip6 to [%s]:%u\n", pl->proto, pt->host_port, pl->ctr[1],
                pt->ctr_port);
    else
        fprintf(f, "%s dport %u dnat ip to %s:%u\n", pl->proto, pt->host_port, pl->ctr[0],
                pt->ctr_port);
}

static void emit_dnat_chain(FILE *f, const struct nft_project *p, const struct port_plan *plans,
                            bool output)
{
    if (output)
        fputs("\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n", f);
    else
        fputs("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy "
              "accept;\n",
              f);
    for (size_t i = 0; i < p->n_ports; i++)
        for (int v6 = 0; v6 < 2; v6++)
            if (plans[i].bind[v6] != BIND_NONE)
                emit_dnat(f, &p->ports[i], &plans[i], v6, output);
    fputs("\t}\n", f);
}

/* A network's checked subnets ("" when none). */
struct net_plan {
    char sub[2][IPAM_PREFIX_STRLEN];
};

static void emit_postrouting(FILE *f, const struct nft_project *p, const struct net_plan *nets)
{
    fputs("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
          "accept;\n",
          f);
    for (size_t i = 0; i < p->n_nets; i++) {
        if (p->nets[i].internal || p->nets[i].no_masquerade)
            continue;
        for (int v6 = 0; v6 < 2; v6++)
            if (nets[i].sub[v6][0])
                fprintf(f, "\t\t%s saddr %s oifname != \"%s\" masquerade\n", v6 ? "ip6" : "ip",
                        nets[i].sub[v6], p->nets[i].bridge);
    }
    fputs("\t}\n", f);
}

/* Into a bridge from anywhere else passes only what belongs to a
 * connection (replies to the containers' own, and related ICMP) or what a
 * published port's DNAT made: not only new connections are dropped but
 * also packets conntrack calls invalid, which a "ct state new" test would
 * let through. An internal network's bridge is cut off both ways.
 * Nothing is accepted here: the host's firewall still decides what
 * passes. */
static void emit_forward(FILE *f, const struct nft_project *p)
{
    fputs("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n", f);
    for (size_t i = 0; i < p->n_nets; i++) {
        const char *br = p->nets[i].bridge;
        if (p->nets[i].internal) {
            fprintf(f, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", br, br);
            fprintf(f, "\t\toifname \"%s\" iifname != \"%s\" drop\n", br, br);
        } else {
            fprintf(f,
                    "\t\toifname \"%s\" iifname != \"%s\" ct state != { established, related "
                    "} ct status & dnat == 0 drop\n",
                    br, br);
        }
    }
    fputs("\t}\n", f);
}

int nft_project_script(const struct nft_project *p, char **out, struct berr *e)
{
    if (check_project(p->project, e) < 0)
        return -EINVAL;
    _cleanup_free_ struct net_plan *nets = xcalloc(p->n_nets ? p->n_nets : 1, sizeof *nets);
    for (size_t i = 0; i < p->n_nets; i++) {
        const struct nft_net *n = &p->nets[i];
        if (check_ifname(n->bridge, "bridge", e) < 0)
            return -EINVAL;
        if (n->subnet4 && canon_subnet(n->subnet4, AF_INET, n->bridge, nets[i].sub[0], e) < 0)
            return -EINVAL;
        if (n->subnet6 && canon_subnet(n->subnet6, AF_INET6, n->bridge, nets[i].sub[1], e) < 0)
            return -EINVAL;
    }
    _cleanup_free_ struct port_plan *plans = xcalloc(p->n_ports ? p->n_ports : 1, sizeof *plans);
    for (size_t i = 0; i < p->n_ports; i++)
        if (plan_port(p, &p->ports[i], &plans[i], e) < 0)
            return -EINVAL;
    if (check_duplicates(p, plans, e) < 0)
        return -EINVAL;

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return berr_errno(e, errno, "nftables: building the script");
    /* Declaring the table first makes the delete valid when it is absent;
     * the three commands are one transaction. */
    fprintf(f, "table inet " NFT_TABLE_PREFIX "%s\n", p->project);
    fprintf(f, "delete table inet " NFT_TABLE_PREFIX "%s\n", p->project);
    fprintf(f, "table inet " NFT_TABLE_PREFIX "%s {\n", p->project);
    emit_dnat_chain(f, p, plans, false);
    emit_dnat_chain(f, p, plans, true);
    emit_postrouting(f, p, nets);
    emit_forward(f, p);
    fputs("}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return berr_errno(e, errno, "nftables: building the script");
    }
    *out = buf;
    return 0;
}

static void nft_ctx_freep(struct nft_ctx **c)
{
    if (*c)
        nft_ctx_free(*c);
}

/* libnftables' first error line, without its "Error: " and the echoed
 * script lines below it. */
static char *first_error_line(const char *text)
{
    if (!text || !*text)
        return xstrdup("unknown error");
    const char *s = strstr(text, "Error: ");
    s = s ? s + strlen("Error: ") : text;
    return xstrndup(s, strcspn(s, "\n"));
}

int nft_run(const char *script, char **out, struct berr *e)
{
    _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return berr_set(e, -ENOMEM, "nftables: cannot make a libnftables context");
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
        return berr_set(e, -ENOMEM, "nftables: cannot buffer libnftables output");
    if (nft_run_cmd_from_buffer(ctx, script) != 0) {
        _cleanup_free_ char *msg = first_error_line(nft_ctx_get_error_buffer(ctx));
        return berr_set(e, -EIO, "%s", msg);
    }
    if (out) {
        /* Reading the buffer empties it: read once. */
        const char *text = nft_ctx_get_output_buffer(ctx);
        *out = xstrdup(text ? text : "");
    }
    return 0;
}

int nft_project_apply(const struct nft_project *p, struct berr *e)
{
    _cleanup_free_ char *script = NULL;
    int r = nft_project_script(p, &script, e);
    if (r < 0)
        return r;
    r = nft_run(script, NULL, e);
    if (r < 0)
        return berr_wrap(e, "applying nftables table " NFT_TABLE_PREFIX "%s", p->project);
    return 0;
}

int nft_project_remove(const char *project, struct berr *e)
{
    if (check_project(project, e) < 0)
        return -EINVAL;
    /* Declared then deleted in one transaction: no error when absent. */
    _cleanup_free_ char *script =
        xasprintf("table inet " NFT_TABLE_PREFIX "%s\ndelete table inet " NFT_TABLE_PREFIX "%s\n",
                  project, project);
    if (nft_run(script, NULL, e) < 0)
        return berr_wrap(e, "removing nftables table " NFT_TABLE_PREFIX "%s", project);
    return 0;
}

/* Runs a listing command with JSON output: *root (the parsed output, to
 * json_decref) and its "nftables" array in *items; what names it in an
 * error. */
static int list_json(const char *cmd, const char *what, json_t **root, json_t **items,
                     struct berr *e)
{
    *root = NULL;
    _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx)
        return berr_set(e, -ENOMEM, "nftables: cannot make a libnftables context");
    nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
        return berr_set(e, -ENOMEM, "nftables: cannot buffer libnftables output");
    if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
        _cleanup_free_ char *msg = first_error_line(nft_ctx_get_error_buffer(ctx));
        return berr_set(e, -EIO, "listing %s: %s", what, msg);
    }
    json_error_t jerr;
    *root = json_loads(nft_ctx_get_output_buffer(ctx), 0, &jerr);
    *items = json_object_get(*root, "nftables");
    if (!json_is_array(*items)) {
        json_decref(*root);
        *root = NULL;
        return berr_set(e, -EIO, "listing %s: unexpected output", what);
    }
    return 0;
}

int nft_tables_list(char ***out, struct berr *e)
{
    json_auto_t *root = NULL;
    json_t *items;
    int r = list_json("list tables", "nftables tables", &root, &items, e);
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = xcalloc(1, sizeof *names);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *t = json_object_get(it, "table");
        const char *fam = json_string_value(json_object_get(t, "family"));
        const char *name = json_string_value(json_object_get(t, "name"));
        if (fam && name && strcmp(fam, "inet") == 0 &&
            strncmp(name, NFT_TABLE_PREFIX, strlen(NFT_TABLE_PREFIX)) == 0)
            strv_push(&names, xstrdup(name));
    }
    *out = TAKE_PTR(names);
    return 0;
}

int nft_project_exists(const char *project, bool *exists, struct berr *e)
{
    if (check_project(project, e) < 0)
        return -EINVAL;
    _cleanup_strv_ char **names = NULL;
    int r = nft_tables_list(&names, e);
    if (r < 0)
        return r;
    *exists = false;
    for (char **n = names; *n; n++)
        if (strcmp(*n + strlen(NFT_TABLE_PREFIX), project) == 0)
            *exists = true;
    return 0;
}

/* Whether table (family, name) of the ruleset has a rule naming one of
 * bridges, or every br- interface. */
static bool table_names_bridges(json_t *items, const char *family, const char *table,
                                const char *const *bridges)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *r = json_object_get(it, "rule");
        const char *f = json_string_value(json_object_get(r, "family"));
        const char *t = json_string_value(json_object_get(r, "table"));
        if (!f || !t || strcmp(f, family) != 0 || strcmp(t, table) != 0)
            continue;
        _cleanup_free_ char *text = json_dumps(r, JSON_COMPACT);
        if (text && strstr(text, "\"br-*\""))
            return true;
        for (size_t k = 0; text && bridges && bridges[k]; k++) {
            _cleanup_free_ char *q = xasprintf("\"%s\"", bridges[k]);
            if (strstr(text, q))
                return true;
        }
    }
    return false;
}

int nft_forward_blocked(const char *const *bridges, char **where, struct berr *e)
{
    *where = NULL;
    json_auto_t *root = NULL;
    json_t *items;
    int r = list_json("list ruleset", "the nftables ruleset", &root, &items, e);
    if (r < 0)
        return r;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *c = json_object_get(it, "chain");
        const char *fam = json_string_value(json_object_get(c, "family"));
        const char *table = json_string_value(json_object_get(c, "table"));
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *hook = json_string_value(json_object_get(c, "hook"));
        const char *policy = json_string_value(json_object_get(c, "policy"));
        if (!fam || !table || !name || !hook || !policy || strcmp(hook, "forward") != 0 ||
            strcmp(policy, "drop") != 0 ||
            strncmp(table, NFT_TABLE_PREFIX, strlen(NFT_TABLE_PREFIX)) == 0 ||
            (strcmp(fam, "ip") != 0 && strcmp(fam, "ip6") != 0 && strcmp(fam, "inet") != 0))
            continue;
        if (table_names_bridges(items, fam, table, bridges))
            continue;
        *where = xasprintf("%s %s %s", fam, table, name);
        return 1;
    }
    return 0;
}
