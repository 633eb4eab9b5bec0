/* SPDX-License-Identifier: Apache-2.0 */
/* List-or-mapping keys (`environment` and the like) turned into one mapping,
 * last value winning, bare KEY kept as null; and merging two such mappings.
 * Not here: resolving bare names against variables (compose/normalize.c). */
#include "compose/envmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

struct entry {
    struct ynode *key;
    struct ynode *value;
    size_t seq;
    bool drop;
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static void push(struct entries *es, struct ynode *key, struct ynode *value)
{
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 16;
        es->v = xreallocarray(es->v, es->cap, sizeof *es->v);
    }
    es->v[es->n] = (struct entry){key, value, es->n, false};
    es->n++;
}

static int collect(struct arena *a, const struct ynode *n, struct entries *es,
                   const struct ynode **bad)
{
    if (ynode_is_null(n))
        return 0;
    if (n->kind == YNODE_MAP) {
        for (size_t i = 0; i < n->n_pairs; i++)
            push(es, n->pairs[i].key, n->pairs[i].value);
        return 0;
    }
    if (n->kind != YNODE_SEQ) {
        *bad = n;
        return -EINVAL;
    }
    for (size_t i = 0; i < n->n_items; i++) {
        const struct ynode *it = n->items[i];
        if (it->kind != YNODE_SCALAR || ynode_is_null(it)) {
            *bad = it;
            return -EINVAL;
        }
        const char *eq = memchr(it->str, '=', it->len);
        size_t klen = eq ? (size_t)(eq - it->str) : it->len;
        struct ynode *k =
            ynode_new_scalar(a, it->src, it->line, it->col, it->str, klen, YSTYLE_DOUBLE);
        struct ynode *v;
        if (eq)
            v = ynode_new_scalar(a, it->src, it->line, it->col, eq + 1, it->len - klen - 1,
                                 YSTYLE_DOUBLE);
        else
            v = ynode_new_scalar(a, it->src, it->line, it->col, "", 0, YSTYLE_PLAIN);
        push(es, k, v);
    }
    return 0;
}

static int cmp_entry(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    int c = yscalar_cmp(a->key, b->key);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_seq(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* One pair per name: the first entry's key (its place), the last's value. */
static struct ynode *build(struct arena *a, const struct ynode *pos_from, struct entries *es)
{
    if (es->n == 0)
        return ynode_new_map(a, pos_from, NULL, 0);
    qsort(es->v, es->n, sizeof *es->v, cmp_entry);
    for (size_t i = 0; i < es->n;) {
        size_t j = i + 1;
        while (j < es->n && yscalar_cmp(es->v[i].key, es->v[j].key) == 0) {
            es->v[j].drop = true;
            j++;
        }
        es->v[i].value = es->v[j - 1].value;
        i = j;
    }
    qsort(es->v, es->n, sizeof *es->v, cmp_seq);
    size_t kept = 0;
    for (size_t i = 0; i < es->n; i++)
        kept += !es->v[i].drop;
    struct ypair *pairs = arena_allocarray(a, kept, sizeof *pairs);
    size_t o = 0;
    for (size_t i = 0; i < es->n; i++)
        if (!es->v[i].drop)
            pairs[o++] = (struct ypair){es->v[i].key, es->v[i].value};
    return ynode_new_map(a, pos_from, pairs, kept);
}

/* Whether a small mapping's keys are all different (those the parser
 * made always are); a large one is left to the sort. */
static bool small_and_unique(const struct ynode *n)
{
    if (n->n_pairs > 32)
        return false;
    for (size_t i = 1; i < n->n_pairs; i++)
        for (size_t j = 0; j < i; j++) {
            const struct ynode *x = n->pairs[i].key, *y = n->pairs[j].key;
            if (x->len == y->len && memcmp(x->str, y->str, x->len) == 0)
                return false;
        }
    return true;
}

int envmap_from_node(struct arena *a, const struct ynode *n, struct ynode **out,
                     const struct ynode **bad)
{
    if (n && n->kind == YNODE_MAP && small_and_unique(n)) {
        *out = ynode_new_map(a, n, n->pairs, n->n_pairs); /* already one pair per name */
        return 0;
    }
    struct entries es = {0};
    int r = collect(a, n, &es, bad);
    if (r == 0)
        *out = build(a, n, &es);
    free(es.v);
    return r;
}

struct ynode *envmap_merge(struct arena *a, const struct ynode *base, const struct ynode *over)
{
    struct entries es = {0};
    const struct ynode *bad;
    struct ynode *res = NULL;
    if (collect(a, base, &es, &bad) == 0 && collect(a, over, &es, &bad) == 0)
        res = build(a, ynode_is_null(base) ? over : base, &es);
    free(es.v);
    return res;
}
