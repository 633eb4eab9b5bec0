/* SPDX-License-Identifier: Apache-2.0 */
/* The driver_opts table of bridge networks and the parsing of each value
 * (compose/netopts.h). Not here: where the file says it (model_net.c),
 * what is done with the values (cmd/net_project.c, net/nft.c,
 * engine/plan/netplan.c). */
#include "compose/netopts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define DOCKER_NS "com.docker.network."

/* How a row's value is read and what it does. */
enum opt_kind {
    OPT_IFNAME,      /* the bridge's name */
    OPT_MTU,         /* 0 (the default) or 68..65535 */
    OPT_MASQUERADE,  /* boolean; false: no masquerade */
    OPT_ICC,         /* boolean; false: containers cut off from each other */
    OPT_HOST_BIND,   /* an address: the default host_ip of published ports */
    OPT_GW_MODE,     /* "nat" honoured; the other modes refused */
    OPT_REFUSE_TRUE, /* boolean; true asks for what berth does not do */
    OPT_REFUSE,      /* any value: refused */
    OPT_IGNORE,      /* any value: ignored with a warning */
};

/* Docker's bridge driver options (docs.docker.com, "Bridge network
 * driver"; moby's libnetwork/drivers/bridge). One row per option, with
 * why it is refused or ignored. An option of docker's namespace that is
 * not here is refused (its effect is unknown, so ignoring it may expose
 * more); one outside the namespace is ignored with a warning. */
static const struct opt_row {
    const char *key;
    enum opt_kind kind;
    const char *why; /* for OPT_REFUSE, OPT_REFUSE_TRUE, OPT_IGNORE, OPT_GW_MODE */
} opt_rows[] = {
    /* clang-format off */
    {DOCKER_NS "bridge.name",                    OPT_IFNAME,      NULL},
    {DOCKER_NS "driver.mtu",                     OPT_MTU,         NULL},
    {DOCKER_NS "bridge.enable_ip_masquerade",    OPT_MASQUERADE,  NULL},
    {DOCKER_NS "bridge.enable_icc",              OPT_ICC,         NULL},
    {DOCKER_NS "bridge.host_binding_ipv4",       OPT_HOST_BIND,   NULL},
    {DOCKER_NS "bridge.gateway_mode_ipv4",       OPT_GW_MODE,     "berth only NATs (gateway mode \"nat\")"},
    {DOCKER_NS "bridge.gateway_mode_ipv6",       OPT_GW_MODE,     "berth only NATs (gateway mode \"nat\")"},
    {DOCKER_NS "bridge.inhibit_ipv4",            OPT_REFUSE_TRUE, "berth always puts the gateway's IPv4 address on the bridge"},
    {DOCKER_NS "host_ipv4",                      OPT_REFUSE,      "berth masquerades to the outgoing interface's address"},
    {DOCKER_NS "host_ipv6",                      OPT_REFUSE,      "berth masquerades to the outgoing interface's address"},
    {DOCKER_NS "bridge.default_bridge",          OPT_IGNORE,      "it only marks the daemon's default bridge"},
    {DOCKER_NS "container_iface_prefix",         OPT_IGNORE,      "berth names the interfaces eth0, eth1, ..."},
    {DOCKER_NS "bridge.trusted_host_interfaces", OPT_IGNORE,      "no host interface reaches the containers directly"},
    /* clang-format on */
};

void netopts_clear(struct netopts *o)
{
    free(o->bridge_name);
    free(o->host_binding_ipv4);
    *o = (struct netopts){0};
}

bool netopt_ifname_ok(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    size_t n = strlen(s);
    return n > 0 && n <= 15 && strspn(s, ok) == n && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Go's strconv.ParseBool, as docker reads these options. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        if (strcmp(s, t[i]) == 0)
            return *out = true, 0;
        if (strcmp(s, f[i]) == 0)
            return *out = false, 0;
    }
    return -EINVAL;
}

static int bad(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *why = xvasprintf(fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int want_bool(const struct opt_row *row, const char *value, bool *b, char **why)
{
    if (parse_bool(value, b) < 0)
        return bad(why, "%s: invalid boolean \"%s\" (use \"true\" or \"false\")", row->key, value);
    return 0;
}

static int apply_mtu(const struct opt_row *row, const char *value, struct netopts *o, char **why)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end || errno || (v != 0 && (v < 68 || v > 65535)))
        return bad(why, "%s: invalid MTU \"%s\" (use a number from 68 to 65535)", row->key, value);
    o->mtu = (unsigned)v;
    return NETOPT_HONOURED;
}

static int apply_host_bind(const struct opt_row *row, const char *value, struct netopts *o,
                           char **why)
{
    struct in_addr a;
    if (inet_pton(AF_INET, value, &a) != 1)
        return bad(why, "%s: invalid IPv4 address \"%s\"", row->key, value);
    free(o->host_binding_ipv4);
    /* 0.0.0.0 is the default: every address, IPv6 too */
    o->host_binding_ipv4 = a.s_addr == INADDR_ANY ? NULL : xstrdup(value);
    return NETOPT_HONOURED;
}

static int apply_row(const struct opt_row *row, const char *value, struct netopts *o, char **why)
{
    bool b = false;
    switch (row->kind) {
    case OPT_IFNAME:
        if (!netopt_ifname_ok(value))
            return bad(why,
                       "%s: invalid interface name \"%s\" (use 1 to 15 letters, digits, \"_\", "
                       "\".\" or \"-\")",
                       row->key, value);
        free(o->bridge_name);
        o->bridge_name = xstrdup(value);
        return NETOPT_HONOURED;
    case OPT_MTU:
        return apply_mtu(row, value, o, why);
    case OPT_MASQUERADE:
    case OPT_ICC:
        if (want_bool(row, value, &b, why) < 0)
            return -EINVAL;
        if (row->kind == OPT_MASQUERADE)
            o->no_masquerade = !b;
        else
            o->no_icc = !b;
        return NETOPT_HONOURED;
    case OPT_HOST_BIND:
        return apply_host_bind(row, value, o, why);
    case OPT_GW_MODE:
        if (strcmp(value, "nat") == 0)
            return NETOPT_HONOURED;
        if (strcmp(value, "nat-unprotected") && strcmp(value, "routed") &&
            strcmp(value, "isolated"))
            return bad(why,
                       "%s: invalid gateway mode \"%s\" (use nat, nat-unprotected, routed or "
                       "isolated)",
                       row->key, value);
        *why = xasprintf("%s: \"%s\" is not supported: %s", row->key, value, row->why);
        return NETOPT_REFUSED;
    case OPT_REFUSE_TRUE:
        if (want_bool(row, value, &b, why) < 0)
            return -EINVAL;
        if (!b)
            return NETOPT_HONOURED;
        *why = xasprintf("%s: \"%s\" is not supported: %s", row->key, value, row->why);
        return NETOPT_REFUSED;
    case OPT_REFUSE:
        *why = xasprintf("%s is not supported: %s", row->key, row->why);
        return NETOPT_REFUSED;
    case OPT_IGNORE:
        *why = xasprintf("%s is ignored: %s", row->key, row->why);
        return NETOPT_IGNORED;
    }
    return -EINVAL;
}

int netopt_classify(const char *key, const char *value, struct netopts *o, char **why)
{
    *why = NULL;
    for (size_t i = 0; i < sizeof opt_rows / sizeof *opt_rows; i++)
        if (strcmp(opt_rows[i].key, key) == 0)
            return apply_row(&opt_rows[i], value ? value : "", o, why);
    if (strncmp(key, DOCKER_NS, strlen(DOCKER_NS)) == 0) {
        *why = xasprintf("%s is not supported: berth does not know what it does", key);
        return NETOPT_REFUSED;
    }
    *why = xasprintf("%s is ignored: not an option of the bridge driver", key);
    return NETOPT_IGNORED;
}
