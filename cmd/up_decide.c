/* SPDX-License-Identifier: Apache-2.0 */
/* The decisions of `up` that need no store, no runtime and no files: which
 * services, how many replicas, keep or recreate, what a scale-down removes,
 * which published ports clash.
 * Pure functions of the project and the records (cmd/up.h); the phases
 * that act on them are in cmd/cmd_up.c. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/up.h"
#include "net/portbind.h"
#include "util/xalloc.h"

static bool named(char *const *services, const char *name)
{
    for (size_t k = 0; services && services[k]; k++)
        if (strcmp(services[k], name) == 0)
            return true;
    return false;
}

bool *up_wanted(const struct project *p, char *const *services, bool no_deps)
{
    bool all = !services || !services[0];
    bool *want = xcalloc(p->n_services + 1, sizeof *want);
    for (size_t i = 0; i < p->n_services; i++)
        want[i] = all || named(services, p->services[i].name);
    for (bool grew = !no_deps; grew;) {
        grew = false;
        for (size_t i = 0; i < p->n_services; i++)
            for (size_t d = 0; want[i] && d < p->services[i].n_depends; d++)
                for (size_t j = 0; j < p->n_services; j++)
                    if (!want[j] &&
                        strcmp(p->services[j].name, p->services[i].depends_on[d].service) == 0)
                        want[j] = grew = true;
    }
    return want;
}

int up_replicas(const struct service *s, char *const *scale)
{
    int replicas = s->replicas > 0 ? s->replicas : 1;
    size_t slen = strlen(s->name);
    for (size_t k = 0; scale && scale[k]; k++)
        if (strncmp(scale[k], s->name, slen) == 0 && scale[k][slen] == '=')
            replicas = atoi(scale[k] + slen + 1);
    return replicas;
}

enum up_action up_decide(const struct ctr_record *old, const char *want, bool force_recreate,
                         bool no_recreate)
{
    if (!old)
        return UP_CREATE;
    bool same = old->plan.config && want && strcmp(old->plan.config, want) == 0;
    return (same && !force_recreate) || no_recreate ? UP_KEEP : UP_RECREATE;
}

bool up_scaled_down(const struct project *p, const bool *want, const struct ctr_record *r,
                    const struct up_item *items, size_t n_items)
{
    const struct service *s = r->oneoff ? NULL : project_service(p, r->service);
    if (!s || !want[s - p->services])
        return false;
    for (size_t i = 0; i < n_items; i++)
        if (strcmp(items[i].plan.name, r->name) == 0)
            return false;
    return true;
}

static bool fixed_port(const struct plan_port *p)
{
    return p->host_port != 0 && p->host_port_end <= p->host_port;
}

/* The host IP as an address (no host IP: 0.0.0.0); false for text that is
 * none (the bind check refuses it). */
static bool host_addr(const char *ip, struct sockaddr_storage *a, bool *any)
{
    if (port_addr_parse(ip && *ip ? ip : "0.0.0.0", 0, a) < 0)
        return false;
    static const uint8_t zero[16];
    if (a->ss_family == AF_INET)
        *any = !memcmp(&((struct sockaddr_in *)a)->sin_addr, zero, 4);
    else
        *any = !memcmp(&((struct sockaddr_in6 *)a)->sin6_addr, zero, 16);
    return true;
}

bool up_ports_clash(const struct plan_port *a, const struct plan_port *b)
{
    if (a->proto != b->proto || !fixed_port(a) || !fixed_port(b) || a->host_port != b->host_port)
        return false;
    struct sockaddr_storage x, y;
    bool xany, yany;
    if (!host_addr(a->host_ip, &x, &xany) || !host_addr(b->host_ip, &y, &yany) ||
        x.ss_family != y.ss_family)
        return false;
    if (xany || yany)
        return true;
    if (x.ss_family == AF_INET)
        return !memcmp(&((struct sockaddr_in *)&x)->sin_addr, &((struct sockaddr_in *)&y)->sin_addr,
                       4);
    return !memcmp(&((struct sockaddr_in6 *)&x)->sin6_addr, &((struct sockaddr_in6 *)&y)->sin6_addr,
                   16);
}
