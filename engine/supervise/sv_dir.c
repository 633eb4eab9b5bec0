/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the store's containers from their records (sv_dir.h). */
#include "engine/supervise/sv_dir.h"

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

struct sv_dir {
    char *root, *runroot, *exclude;
    struct timespec stamp; /* ROOT/containers' mtime when read */
    bool read;
    struct ctr_record *recs; /* the containers on a network */
    size_t n;
};

static void dir_clear(struct sv_dir *d)
{
    ctr_list_free(d->recs, d->n);
    d->recs = NULL;
    d->n = 0;
}

struct sv_dir *sv_dir_new(const char *root, const char *runroot, const char *exclude_project)
{
    struct sv_dir *d = xcalloc(1, sizeof *d);
    d->root = xstrdup(root);
    d->runroot = xstrdup(runroot);
    d->exclude = exclude_project ? xstrdup(exclude_project) : NULL;
    return d;
}

void sv_dir_free(struct sv_dir *d)
{
    if (!d)
        return;
    dir_clear(d);
    free(d->root);
    free(d->runroot);
    free(d->exclude);
    free(d);
}

/* Reads the records again when the store's container directory changed
 * (a container made or removed, in any project). */
static void dir_refresh(struct sv_dir *d)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", d->root);
    struct stat st;
    if (stat(dir, &st) < 0) {
        dir_clear(d);
        d->read = false;
        return;
    }
    if (d->read && st.st_mtim.tv_sec == d->stamp.tv_sec && st.st_mtim.tv_nsec == d->stamp.tv_nsec)
        return;
    dir_clear(d);
    struct ctr_record *all = NULL;
    size_t n = 0;
    struct berr ign = BERR_INIT;
    if (ctr_list(d->root, NULL, NULL, &all, &n, &ign) < 0) {
        berr_clear(&ign);
        d->read = false;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if ((d->exclude && strcmp(all[i].project, d->exclude) == 0) ||
            !netsetup_has_endpoints(&all[i].plan)) {
            ctr_record_free(&all[i]);
            continue;
        }
        d->recs = xreallocarray(d->recs, d->n + 1, sizeof *d->recs);
        d->recs[d->n++] = all[i];
    }
    free(all);
    d->stamp = st.st_mtim;
    d->read = true;
}

static bool on_network(const struct ctr_plan *pl, const char *network)
{
    for (size_t i = 0; netsetup_has_endpoints(pl) && i < pl->n_endpoints; i++)
        if (strcmp(pl->endpoints[i].network, network) == 0)
            return true;
    return false;
}

static bool running(const struct sv_dir *d, const struct ctr_record *t)
{
    struct run_state rs;
    return run_state_read(d->runroot, t->project, t->name, &rs) == 0 && run_state_alive(&rs);
}

int sv_dir_lookup(struct sv_dir *d, const struct ctr_plan *asker, const char *name, int family,
                  uint8_t *out, size_t cap, size_t *n)
{
    if (!netsetup_has_endpoints(asker))
        return 0;
    dir_refresh(d);
    bool known = false;
    for (size_t i = 0; i < d->n; i++) {
        const struct ctr_record *t = &d->recs[i];
        for (size_t k = 0; k < t->plan.n_endpoints; k++) {
            const struct plan_endpoint *ep = &t->plan.endpoints[k];
            if (!on_network(asker, ep->network) ||
                !sv_answers_to(t->service, t->name, ep->aliases, asker->links, name) ||
                !running(d, t))
                continue;
            known = true;
            if (sv_endpoint_addr(ep, family, out, cap, n))
                break; /* one address per container */
        }
    }
    return known;
}
