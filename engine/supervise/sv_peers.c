/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS server's view of other projects: containers of another
 * project that share a network with the asker (one project's network that
 * the other names as external) answer to their service name, container
 * name and aliases there, as on docker's shared networks, and to the
 * aliases the asker's external_links give them. Their records are read
 * from the store (ROOT/containers) when its directory changes, and each
 * answer is checked against the peer's run state, so that only running
 * containers are answered. Not here: the project's own containers
 * (sv_net.c), the server (sv_dns.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/runtime/netsetup.h"
#include "engine/supervise/records.h"
#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

struct sv_peers {
    struct timespec stamp; /* ROOT/containers' mtime when read */
    bool read;
    struct ctr_record *recs; /* other projects' containers on a network */
    size_t n;
};

static void peers_clear(struct sv_peers *p)
{
    ctr_list_free(p->recs, p->n);
    p->recs = NULL;
    p->n = 0;
}

void sv_peers_free(struct supervisor *sv)
{
    if (!sv->peers)
        return;
    peers_clear(sv->peers);
    free(sv->peers);
    sv->peers = NULL;
}

/* Reads the records again when the store's container directory changed
 * (a container made or removed, in any project). */
static void peers_refresh(struct supervisor *sv)
{
    if (!sv->peers)
        sv->peers = xcalloc(1, sizeof *sv->peers);
    struct sv_peers *p = sv->peers;
    _cleanup_free_ char *dir = xasprintf("%s/containers", sv->opt.root);
    struct stat st;
    if (stat(dir, &st) < 0) {
        peers_clear(p);
        p->read = false;
        return;
    }
    if (p->read && st.st_mtim.tv_sec == p->stamp.tv_sec && st.st_mtim.tv_nsec == p->stamp.tv_nsec)
        return;
    peers_clear(p);
    struct ctr_record *all = NULL;
    size_t n = 0;
    struct berr ign = BERR_INIT;
    if (ctr_list(sv->opt.root, NULL, NULL, &all, &n, &ign) < 0) {
        berr_clear(&ign);
        p->read = false;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].project, sv->opt.project) == 0 || !netsetup_has_endpoints(&all[i].plan)) {
            ctr_record_free(&all[i]);
            continue;
        }
        p->recs = xreallocarray(p->recs, p->n + 1, sizeof *p->recs);
        p->recs[p->n++] = all[i];
    }
    free(all);
    p->stamp = st.st_mtim;
    p->read = true;
}

static bool on_network(const struct ctr_plan *pl, const char *network)
{
    for (size_t i = 0; netsetup_has_endpoints(pl) && i < pl->n_endpoints; i++)
        if (strcmp(pl->endpoints[i].network, network) == 0)
            return true;
    return false;
}

static bool peer_running(const struct supervisor *sv, const struct ctr_record *t)
{
    struct run_state rs;
    return run_state_read(sv->opt.runroot, t->project, t->name, &rs) == 0 && run_state_alive(&rs);
}

int sv_peers_lookup(struct supervisor *sv, const struct ctr_plan *asker, const char *name,
                    int family, uint8_t *out, size_t cap, size_t *n)
{
    if (!netsetup_has_endpoints(asker))
        return 0;
    peers_refresh(sv);
    bool known = false;
    for (size_t i = 0; i < sv->peers->n; i++) {
        const struct ctr_record *t = &sv->peers->recs[i];
        for (size_t k = 0; k < t->plan.n_endpoints; k++) {
            const struct plan_endpoint *ep = &t->plan.endpoints[k];
            if (!on_network(asker, ep->network) ||
                !sv_answers_to(t->service, t->name, ep->aliases, asker->links, name) ||
                !peer_running(sv, t))
                continue;
            known = true;
            if (sv_endpoint_addr(ep, family, out, cap, n))
                break; /* one address per container */
        }
    }
    return known;
}
