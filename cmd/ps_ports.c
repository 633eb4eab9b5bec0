/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting of a container's ports for `ps` and `port` (see
 * cmd/ps_ports.h). Not here: binding them (engine/supervise/sv_net.c),
 * reading the run state (cmd/ps_state.c). */
#include "cmd/ps_ports.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/ctrplan.h"
#include "util/xalloc.h"

/* An `expose` entry: "80", "80/udp", "8000-8010/tcp". false for text that
 * is none of them. */
static bool parse_expose(const char *s, unsigned *lo, unsigned *hi, int *proto)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (end == s || a == 0 || a > 65535)
        return false;
    if (*end == '-') {
        const char *t = end + 1;
        b = strtoul(t, &end, 10);
        if (end == t || b < a || b > 65535)
            return false;
    }
    *proto = IPPROTO_TCP;
    if (*end == '/') {
        *proto = plan_proto_parse(end + 1);
        if (*proto < 0)
            return false;
    } else if (*end) {
        return false;
    }
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return true;
}

static bool published(const struct run_state *rs, int proto, unsigned port)
{
    for (size_t i = 0; i < rs->n_ports; i++)
        if (rs->ports[i].proto == proto && rs->ports[i].ctr_port == port)
            return true;
    return false;
}

static const char *proto_name(int proto)
{
    const char *n = plan_proto_name(proto);
    return n ? n : "tcp";
}

static const char *url_of(const struct run_port *p)
{
    return p->host_ip[0] ? p->host_ip : "0.0.0.0";
}

static void append(char **s, const char *piece)
{
    char *x = xasprintf("%s%s%s", *s, **s ? ", " : "", piece);
    free(*s);
    *s = x;
}

/* Runs the statement after it for every exposed port that is not
 * published (a range: each of its ports). */
#define EXPOSED_ONLY(expose, rs, port, proto)                                                      \
    for (size_t ei_ = 0; (expose) && (expose)[ei_]; ei_++)                                         \
        for (unsigned lo_ = 0, hi_ = 0, once_ = 1;                                                 \
             once_ && parse_expose((expose)[ei_], &lo_, &hi_, &(proto)); once_ = 0)                \
            for ((port) = lo_; (port) <= hi_; (port)++)                                            \
                if (!published((rs), (proto), (port)))

char *ps_ports_text(const struct run_state *rs, char *const *expose)
{
    char *s = xstrdup("");
    char buf[96];
    for (size_t i = 0; i < rs->n_ports; i++) {
        const struct run_port *p = &rs->ports[i];
        bool v6 = strchr(url_of(p), ':') != NULL; /* "[::]:8080", as docker shows it */
        snprintf(buf, sizeof buf, "%s%s%s:%u->%u/%s", v6 ? "[" : "", url_of(p), v6 ? "]" : "",
                 (unsigned)p->host_port, (unsigned)p->ctr_port, proto_name(p->proto));
        append(&s, buf);
    }
    unsigned port;
    int proto;
    EXPOSED_ONLY(expose, rs, port, proto)
    {
        snprintf(buf, sizeof buf, "%u/%s", port, proto_name(proto));
        append(&s, buf);
    }
    return s;
}

json_t *ps_ports_publishers(const struct run_state *rs, char *const *expose)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rs->n_ports; i++) {
        const struct run_port *p = &rs->ports[i];
        json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s}", "URL", url_of(p), "TargetPort",
                                           (int)p->ctr_port, "PublishedPort", (int)p->host_port,
                                           "Protocol", proto_name(p->proto)));
    }
    unsigned port;
    int proto;
    EXPOSED_ONLY(expose, rs, port, proto)
    {
        json_array_append_new(a,
                              json_pack("{s:s, s:i, s:i, s:s}", "URL", "", "TargetPort", (int)port,
                                        "PublishedPort", 0, "Protocol", proto_name(proto)));
    }
    return a;
}

int ps_port_lookup(const struct run_state *rs, int proto, uint16_t ctr_port, char *out,
                   size_t outsz)
{
    for (size_t i = 0; i < rs->n_ports; i++) {
        const struct run_port *p = &rs->ports[i];
        if (p->proto == proto && p->ctr_port == ctr_port) {
            snprintf(out, outsz, "%s:%u", url_of(p), (unsigned)p->host_port);
            return 0;
        }
    }
    return -1;
}

char *ps_ports_public_list(const struct run_state *rs, char *const *expose)
{
    char *s = xstrdup("");
    char buf[32];
    for (size_t i = 0; i < rs->n_ports; i++) {
        snprintf(buf, sizeof buf, "%u/%s", (unsigned)rs->ports[i].host_port,
                 proto_name(rs->ports[i].proto));
        append(&s, buf);
    }
    unsigned port;
    int proto;
    EXPOSED_ONLY(expose, rs, port, proto)
    {
        (void)port;
        snprintf(buf, sizeof buf, "0/%s", proto_name(proto));
        append(&s, buf);
    }
    return s;
}
