/* SPDX-License-Identifier: Apache-2.0 */
/* `up`'s check of the host ports it is about to publish, before any
 * network, address or container is made (cmd/up.h): the supervisor binds
 * them only when it starts the containers, by which time a busy port
 * would leave networks and containers behind. Two planned ports on one
 * host port are refused first (no bind tells that), then each port gets
 * the supervisor's own bind (net/portbind.h), closed at once. A port the
 * project's running supervisor already holds is the project's own (`up`
 * again, a recreated service): the holder's PID, from /proc, is compared
 * with the supervisor's, from its control socket. Not here: the bind that
 * publishes (engine/supervise/sv_proxy.c), the pure clash rule
 * (cmd/up_decide.c). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmd/up.h"
#include "net/portbind.h"
#include "net/portholder.h"

/* Whether a container with this plan gets its ports published: on a
 * network of its own that is not internal (sv_net.c publishes on its
 * first such one; network_mode host, none, service: publish nothing). */
static bool publishes(const struct ctr_plan *pl)
{
    for (size_t k = 0; !pl->network_mode && k < pl->n_endpoints; k++)
        if (!pl->endpoints[k].internal)
            return true;
    return false;
}

/* The ports entry of s that the plan's k-th port comes from (a container
 * port range is one plan port per port), or NULL. */
static const struct srcpos *port_pos(const struct service *s, size_t k)
{
    for (size_t i = 0; s && i < s->n_ports; i++) {
        size_t n = (size_t)(s->ports[i].target_end - s->ports[i].target) + 1;
        if (k < n)
            return s->ports[i].pos.file ? &s->ports[i].pos : NULL;
        k -= n;
    }
    return NULL;
}

static int at_pos(struct berr *e, const struct srcpos *pos)
{
    if (pos)
        return berr_wrap(e, "%s:%d:%d", pos->file, pos->line, pos->col);
    return e ? e->code : -EINVAL;
}

static bool checked(const struct plan_port *pp)
{
    return (pp->proto == IPPROTO_TCP || pp->proto == IPPROTO_UDP) && pp->host_port != 0;
}

/* The PID of the project's running supervisor (0: none runs). */
static pid_t own_supervisor(int ctl)
{
    struct ucred cred = {0};
    socklen_t len = sizeof cred;
    if (ctl < 0 || getsockopt(ctl, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return 0;
    return cred.pid;
}

/* The error for it's k-th port, which o's m-th port (o may be it) takes
 * already. */
static int clash_error(const struct up_item *it, size_t k, const struct up_item *o, size_t m,
                       struct berr *e)
{
    const struct plan_port *pp = &it->plan.ports[k];
    const struct srcpos *at = port_pos(it->svc, k);
    const struct srcpos *opos = port_pos(o->svc, m);
    char what[PORT_TEXT_MAX], where[32] = "";
    port_text(what, pp->proto, pp->host_ip, pp->host_port, 0);
    if (opos && at && strcmp(opos->file, at->file) == 0)
        snprintf(where, sizeof where, " (line %d)", opos->line);
    if (o != it && o->svc == it->svc)
        berr_set(e, -EADDRINUSE,
                 "service \"%s\": host port %s is already allocated to its container %s (a "
                 "fixed host port publishes one replica)",
                 it->svc->name, what, o->plan.name);
    else
        berr_set(e, -EADDRINUSE,
                 "service \"%s\": host port %s is already allocated to service \"%s\"%s",
                 it->svc->name, what, o->svc->name, where);
    return at_pos(e, at);
}

/* Two planned ports on one host port: the later one is refused. */
static int check_clashes(const struct up *u, struct berr *e)
{
    for (size_t i = 0; i < u->pl.n_items; i++) {
        const struct up_item *it = &u->pl.items[i];
        for (size_t k = 0; publishes(&it->plan) && k < it->plan.n_ports; k++) {
            if (!checked(&it->plan.ports[k]))
                continue;
            for (size_t j = 0; j <= i; j++) {
                const struct up_item *o = &u->pl.items[j];
                size_t upto = j == i ? k : o->plan.n_ports;
                for (size_t m = 0; publishes(&o->plan) && m < upto; m++)
                    if (up_ports_clash(&it->plan.ports[k], &o->plan.ports[m]))
                        return clash_error(it, k, o, m, e);
            }
        }
    }
    return 0;
}

/* One port's bind test: 0 when it can be bound, or is held by the
 * project's own supervisor (own, 0 when none runs). */
static int try_port(int proto, const char *ip, uint16_t port, pid_t own)
{
    int r = port_try(proto, ip, port);
    if (r != -EADDRINUSE || own <= 0)
        return r;
    pid_t pid;
    char comm[16];
    return port_holder(proto, ip, port, &pid, comm) == 1 && pid == own ? 0 : r;
}

static int check_port(const struct up_item *it, size_t k, pid_t own, struct berr *e)
{
    const struct plan_port *pp = &it->plan.ports[k];
    const char *name = it->svc->name;
    if (pp->host_port_end <= pp->host_port) {
        int r = try_port(pp->proto, pp->host_ip, pp->host_port, own);
        if (r == 0)
            return 0;
        port_bind_error(e, r, name, pp->proto, pp->host_ip, pp->host_port);
        return at_pos(e, port_pos(it->svc, k));
    }
    /* A range for one container port: any free port in it will do. */
    int r = -EADDRINUSE;
    for (unsigned p = pp->host_port; p <= pp->host_port_end && r == -EADDRINUSE; p++)
        r = try_port(pp->proto, pp->host_ip, (uint16_t)p, own);
    if (r == 0)
        return 0;
    if (r != -EADDRINUSE) {
        port_bind_error(e, r, name, pp->proto, pp->host_ip, pp->host_port);
    } else {
        char what[PORT_TEXT_MAX];
        port_text(what, pp->proto, pp->host_ip, pp->host_port, pp->host_port_end);
        berr_set(e, -EADDRINUSE, "service \"%s\": no free host port in %s", name, what);
    }
    return at_pos(e, port_pos(it->svc, k));
}

int up_ports_check(struct up *u, struct berr *e)
{
    int r = check_clashes(u, e);
    if (r < 0)
        return r;
    pid_t own = own_supervisor(u->ctl);
    for (size_t i = 0; i < u->pl.n_items; i++) {
        const struct up_item *it = &u->pl.items[i];
        if (!publishes(&it->plan))
            continue;
        for (size_t k = 0; k < it->plan.n_ports; k++) {
            if (!checked(&it->plan.ports[k]))
                continue;
            r = check_port(it, k, own, e);
            if (r < 0)
                return r;
        }
    }
    return 0;
}
