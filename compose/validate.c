/* SPDX-License-Identifier: Apache-2.0 */
/* Checks across a normalized project that no single key can make: references
 * between services and to declared networks and volumes, dependency cycles,
 * shared names and targets, and the start order. Every problem is reported at
 * once. Not here: per-key type checks (compose/canon.c, compose/model.c). */
#include "compose/validate.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool is_ext(const struct ynode *k)
{
    return k->len >= 2 && k->str[0] == 'x' && k->str[1] == '-';
}

struct svc {
    const struct ynode *key, *body;
};

struct vctx {
    struct diag *d;
    const struct ynode *root;
    char *const *disabled;
    struct svc *s;
    size_t n;
    size_t *sorted; /* indexes sorted by name */
};

static int cmp_svc(const void *x, const void *y, void *c_)
{
    struct vctx *c = c_;
    return yscalar_cmp(c->s[*(const size_t *)x].key, c->s[*(const size_t *)y].key);
}

static size_t find_svc(const struct vctx *c, const char *name, size_t len)
{
    struct ynode probe = {.kind = YNODE_SCALAR, .str = name, .len = len};
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = yscalar_cmp(c->s[c->sorted[mid]].key, &probe);
        if (r == 0)
            return c->sorted[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static bool top_has(const struct vctx *c, const char *section, const char *name)
{
    const struct ynode *m = ymap_get(c->root, section);
    return m && m->kind == YNODE_MAP && ymap_get_pair(m, name);
}

/* A reference from service i to another service. */
static void check_service_ref(struct vctx *c, size_t i, const struct ynode *at, const char *name,
                              size_t len, const char *what, bool required)
{
    if (find_svc(c, name, len) != SIZE_MAX)
        return;
    _cleanup_free_ char *n = xstrndup(name, len);
    if (strv_contains(c->disabled, n)) {
        if (required)
            diag_error_at(c->d, YPOS(at),
                          "service %s %s service %s, which is disabled by its profiles (enable "
                          "one with --profile or COMPOSE_PROFILES)",
                          QN(c->s[i].key), what, QS(n));
        else
            diag_warn_at(c->d, YPOS(at),
                         "service %s: optional dependency %s is disabled by its profiles; "
                         "ignored",
                         QN(c->s[i].key), QS(n));
        return;
    }
    if (!required) {
        diag_warn_at(c->d, YPOS(at), "service %s: optional dependency %s is not defined; ignored",
                     QN(c->s[i].key), QS(n));
        return;
    }
    diag_error_at(c->d, YPOS(at), "service %s %s undefined service %s", QN(c->s[i].key), what,
                  QS(n));
}

static void check_service(struct vctx *c, size_t i)
{
    const struct ynode *k = c->s[i].key, *b = c->s[i].body;
    if (b->kind != YNODE_MAP)
        return;
    if (!ymap_get(b, "image") && !ymap_get(b, "build") && !ymap_get(b, "provider"))
        diag_error_at(c->d, YPOS(k),
                      "service %s has neither an image nor a build context specified", QN(k));
    const struct ynode *deps = ymap_get(b, "depends_on");
    for (size_t j = 0; deps && deps->kind == YNODE_MAP && j < deps->n_pairs; j++) {
        const struct ynode *dk = deps->pairs[j].key,
                           *req = ymap_get(deps->pairs[j].value, "required");
        if (dk->line == 0)
            continue; /* implied by links or network_mode, reported there */
        check_service_ref(c, i, dk, dk->str, dk->len, "depends on",
                          !req || strcmp(req->str, "false") != 0);
    }
    const struct ynode *links = ymap_get(b, "links");
    for (size_t j = 0; links && links->kind == YNODE_SEQ && j < links->n_items; j++) {
        const struct ynode *l = links->items[j];
        const char *colon = memchr(l->str, ':', l->len);
        check_service_ref(c, i, l, l->str, colon ? (size_t)(colon - l->str) : l->len, "links to",
                          true);
    }
    const struct ynode *nm = ymap_get(b, "network_mode");
    if (nm && strncmp(nm->str, "service:", 8) == 0)
        check_service_ref(c, i, nm, nm->str + 8, nm->len - 8, "uses the network of", true);
    static const struct {
        const char *key, *what;
    } ns_keys[] = {{"ipc", "uses the IPC namespace of"}, {"pid", "uses the PID namespace of"}};
    for (size_t j = 0; j < ARRAY_SIZE(ns_keys); j++) {
        const struct ynode *v = ymap_get(b, ns_keys[j].key);
        if (v && v->kind == YNODE_SCALAR && strncmp(v->str, "service:", 8) == 0)
            check_service_ref(c, i, v, v->str + 8, v->len - 8, ns_keys[j].what, true);
    }
    /* volumes_from: SERVICE[:ro|rw], or container:NAME[:mode] (not a
     * service of the project). */
    const struct ynode *vf = ymap_get(b, "volumes_from");
    for (size_t j = 0; vf && vf->kind == YNODE_SEQ && j < vf->n_items; j++) {
        const struct ynode *e = vf->items[j];
        if (e->kind != YNODE_SCALAR || strncmp(e->str, "container:", 10) == 0)
            continue;
        const char *colon = memchr(e->str, ':', e->len);
        check_service_ref(c, i, e, e->str, colon ? (size_t)(colon - e->str) : e->len,
                          "takes volumes from", true);
    }
    const struct ynode *nets = ymap_get(b, "networks");
    if (nm && nets && nets->kind == YNODE_MAP && nets->n_pairs)
        diag_error_at(c->d, YPOS(nm),
                      "service %s declares mutually exclusive `network_mode` and `networks`",
                      QN(k));
    for (size_t j = 0; nets && nets->kind == YNODE_MAP && j < nets->n_pairs; j++) {
        const struct ynode *nk = nets->pairs[j].key;
        if (!is_ext(nk) && !top_has(c, "networks", nk->str))
            diag_error_at(c->d, YPOS(nk),
                          "service %s refers to undefined network %s (declare it under the "
                          "top-level networks: key)",
                          QN(k), QN(nk));
    }
    const struct ynode *vols = ymap_get(b, "volumes");
    for (size_t j = 0; vols && vols->kind == YNODE_SEQ && j < vols->n_items; j++) {
        const struct ynode *v = vols->items[j];
        const struct ynode *t = ymap_get(v, "type"), *src = ymap_get(v, "source"),
                           *tgt = ymap_get(v, "target");
        if (t && strcmp(t->str, "volume") == 0 && src && src->len &&
            !top_has(c, "volumes", src->str))
            diag_error_at(c->d, YPOS(v),
                          "service %s refers to undefined volume %s (declare it under the "
                          "top-level volumes: key)",
                          QN(k), QN(src));
        for (size_t m = 0; tgt && m < j; m++) {
            const struct ynode *t2 = ymap_get(vols->items[m], "target");
            if (t2 && yscalar_cmp(t2, tgt) == 0) {
                diag_error_at(c->d, YPOS(v),
                              "service %s: duplicate mount target %s (first at line %d)", QN(k),
                              QN(tgt), vols->items[m]->line);
                break;
            }
        }
    }
    static const char *const refs[][2] = {{"secrets", "secret"}, {"configs", "config"}};
    for (size_t r = 0; r < 2; r++) {
        const struct ynode *l = ymap_get(b, refs[r][0]);
        for (size_t j = 0; l && l->kind == YNODE_SEQ && j < l->n_items; j++) {
            const struct ynode *src = ymap_get(l->items[j], "source");
            if (src && !top_has(c, refs[r][0], src->str))
                diag_error_at(c->d, YPOS(l->items[j]),
                              "service %s refers to undefined %s %s (declare it under the "
                              "top-level %s: key)",
                              QN(k), refs[r][1], QN(src), refs[r][0]);
        }
    }
}

static int cmp_cname(const void *x, const void *y)
{
    const struct ynode *a = *(const struct ynode *const *)x, *b = *(const struct ynode *const *)y;
    int r = yscalar_cmp(a, b);
    if (r)
        return r;
    return a->line != b->line ? (a->line < b->line ? -1 : 1)
                              : (a->col < b->col ? -1 : a->col > b->col);
}

static void check_container_names(struct vctx *c)
{
    const struct ynode **names = xcalloc(c->n ? c->n : 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ynode *cn = ymap_get(c->s[i].body, "container_name");
        if (cn)
            names[k++] = cn;
    }
    qsort(names, k, sizeof *names, cmp_cname);
    for (size_t i = 1; i < k; i++)
        if (yscalar_cmp(names[i - 1], names[i]) == 0)
            diag_error_at(c->d, YPOS(names[i]),
                          "container_name %s is already used by another service (line %d)",
                          QN(names[i]), names[i - 1]->line);
    free(names);
}

/* The dependencies of service i that exist, as indexes. */
static size_t deps_of(const struct vctx *c, size_t i, size_t **out)
{
    const struct ynode *deps = ymap_get(c->s[i].body, "depends_on");
    size_t n = deps && deps->kind == YNODE_MAP ? deps->n_pairs : 0;
    *out = xcalloc(n ? n : 1, sizeof **out);
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        size_t t = find_svc(c, deps->pairs[j].key->str, deps->pairs[j].key->len);
        if (t != SIZE_MAX)
            (*out)[k++] = t;
    }
    return k;
}

/* Depth-first, iterative (a 100k-long chain can't blow the stack): a
 * post-order gives dependencies first, file order among the rest; a grey
 * node met again closes a cycle, reported with its path. */
static size_t *order_services(struct vctx *c)
{
    enum { WHITE, GREY, BLACK };
    unsigned char *color = xcalloc(c->n ? c->n : 1, 1);
    size_t *order = xcalloc(c->n ? c->n : 1, sizeof *order);
    size_t n_order = 0;
    struct frame {
        size_t svc, next, n;
        size_t *deps;
    } *stack = xcalloc(c->n ? c->n : 1, sizeof *stack);
    bool cycle_reported = false;
    for (size_t root = 0; root < c->n; root++) {
        if (color[root] != WHITE)
            continue;
        size_t depth = 0;
        stack[depth] = (struct frame){root, 0, 0, NULL};
        stack[depth].n = deps_of(c, root, &stack[depth].deps);
        color[root] = GREY;
        depth = 1;
        while (depth) {
            struct frame *f = &stack[depth - 1];
            if (f->next == f->n) {
                color[f->svc] = BLACK;
                order[n_order++] = f->svc;
                free(f->deps);
                depth--;
                continue;
            }
            size_t t = f->deps[f->next++];
            if (color[t] == GREY) {
                if (!cycle_reported) {
                    size_t from = 0;
                    while (stack[from].svc != t)
                        from++;
                    size_t len = 0;
                    for (size_t i = from; i < depth; i++)
                        len += c->s[stack[i].svc].key->len + 4;
                    len += c->s[t].key->len + 1;
                    char *msg = xcalloc(1, len);
                    for (size_t i = from; i < depth; i++) {
                        strcat(msg, c->s[stack[i].svc].key->str);
                        strcat(msg, " -> ");
                    }
                    strcat(msg, c->s[t].key->str);
                    diag_error_at(c->d, YPOS(c->s[t].key), "dependency cycle detected: %s", msg);
                    free(msg);
                    cycle_reported = true;
                }
                continue;
            }
            if (color[t] == BLACK)
                continue;
            color[t] = GREY;
            stack[depth] = (struct frame){t, 0, 0, NULL};
            stack[depth].n = deps_of(c, t, &stack[depth].deps);
            depth++;
        }
    }
    free(stack);
    free(color);
    return order;
}

int validate_project(struct diag *d, const struct ynode *root, char *const *disabled,
                     size_t **start_order)
{
    struct vctx c = {.d = d, .root = root, .disabled = disabled};
    size_t errs = d->n_errors;
    const struct ynode *svcs = ymap_get(root, "services");
    size_t cap = svcs && svcs->kind == YNODE_MAP ? svcs->n_pairs : 0;
    c.s = xcalloc(cap ? cap : 1, sizeof *c.s);
    for (size_t i = 0; i < cap; i++) /* every entry, x- named too, is a service */
        c.s[c.n++] = (struct svc){svcs->pairs[i].key, svcs->pairs[i].value};
    c.sorted = xcalloc(c.n ? c.n : 1, sizeof *c.sorted);
    for (size_t i = 0; i < c.n; i++)
        c.sorted[i] = i;
    qsort_r(c.sorted, c.n, sizeof *c.sorted, cmp_svc, &c);
    for (size_t i = 0; i < c.n; i++)
        check_service(&c, i);
    check_container_names(&c);
    *start_order = order_services(&c);
    free(c.sorted);
    free(c.s);
    return d->n_errors > errs ? -EINVAL : 0;
}
