#include "cmd/project.h"

#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

int cli_load_project(struct cli *c, struct project **out, struct berr *e)
{
    struct compose_opts o = {
        .files = c->files,
        .project_name = c->project_name,
        .project_dir = c->project_dir,
        .environ = c->environ,
    };
    return compose_load(&o, out, e);
}

int cli_project_name(struct cli *c, char **name, struct project **p, struct berr *e)
{
    *p = NULL;
    int r = cli_load_project(c, p, e);
    if (r == 0) {
        *name = xstrdup((*p)->name);
        return 0;
    }
    if (r == -ENOENT && c->project_name) {
        berr_clear(e); /* -p alone is enough */
        *name = xstrdup(c->project_name);
        return 0;
    }
    return r;
}

static int cmp_records(const void *a, const void *b)
{
    const struct ctr_record *x = a, *y = b;
    int r = strcmp(x->service, y->service);
    if (r)
        return r;
    if (x->oneoff != y->oneoff)
        return x->oneoff ? 1 : -1;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return strcmp(x->name, y->name);
}

int cli_project_containers(struct cli *c, const char *name, const struct project *p,
                           char *const *services, bool oneoff, struct ctr_record **out, size_t *n,
                           struct berr *e)
{
    *out = NULL;
    *n = 0;
    for (size_t i = 0; p && services && services[i]; i++)
        if (!project_service(p, services[i]))
            return berr_set(e, -ENOENT, "no such service: %s", services[i]);
    struct ctr_record *all = NULL;
    size_t n_all = 0;
    int r = ctr_list(c->root, name, &all, &n_all, e);
    if (r < 0)
        return r;
    size_t k = 0;
    for (size_t i = 0; i < n_all; i++) {
        bool keep = (oneoff || !all[i].oneoff) &&
                    (!services || !services[0] || strv_contains(services, all[i].service));
        if (keep)
            all[k++] = all[i];
        else
            ctr_record_free(&all[i]);
    }
    qsort(all, k, sizeof *all, cmp_records);
    *out = all;
    *n = k;
    return 0;
}
