#include "compose/merge.h"

#include <stdlib.h>
#include <string.h>

#include "compose/envmap.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

enum merge_rule {
    MERGE_DEEP,    /* mappings key by key; otherwise replace */
    MERGE_REPLACE, /* the later value replaces the earlier one whole */
    MERGE_ENV,     /* list-or-dict merged by variable name */
};

/* Paths are keys separated by "."; "*" matches any one key. The first
 * matching entry wins; no match means MERGE_DEEP. */
static const struct {
    const char *path;
    enum merge_rule rule;
} merge_rules[] = {
    {"services.*.environment", MERGE_ENV},
    {"services.*.command", MERGE_REPLACE},
    {"services.*.entrypoint", MERGE_REPLACE},
};

/* Beyond this depth everything is replaced (the parser's cap is lower). */
#define MERGE_MAX_DEPTH 128

struct path {
    const struct ynode *keys[MERGE_MAX_DEPTH];
    size_t n;
};

static bool path_matches(const char *pattern, const struct path *p)
{
    const char *s = pattern;
    for (size_t i = 0; i < p->n; i++) {
        const char *e = strchr(s, '.');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        const struct ynode *k = p->keys[i];
        bool star = len == 1 && s[0] == '*';
        if (!star && (k->len != len || memcmp(k->str, s, len) != 0))
            return false;
        if (!e)
            return i + 1 == p->n;
        s = e + 1;
    }
    return false;
}

static enum merge_rule rule_for(const struct path *p)
{
    for (size_t i = 0; i < sizeof merge_rules / sizeof merge_rules[0]; i++)
        if (path_matches(merge_rules[i].path, p))
            return merge_rules[i].rule;
    return MERGE_DEEP;
}

static struct ynode *merge_node(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p);

static int cmp_key_index(const void *x, const void *y, void *map_)
{
    const struct ynode *map = map_;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return yscalar_cmp(map->pairs[a].key, map->pairs[b].key);
}

static size_t find_key(const struct ynode *map, const size_t *sorted, const struct ynode *key)
{
    size_t lo = 0, hi = map->n_pairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = yscalar_cmp(map->pairs[sorted[mid]].key, key);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Base's keys in base order (values merged where over has them too), then
 * over's new keys in over order. Keys sort once, so this is n log n. */
static struct ynode *merge_maps(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p)
{
    _cleanup_free_ size_t *sorted = xcalloc(base->n_pairs, sizeof *sorted);
    for (size_t i = 0; i < base->n_pairs; i++)
        sorted[i] = i;
    qsort_r(sorted, base->n_pairs, sizeof *sorted, cmp_key_index, base);
    size_t cap = base->n_pairs + over->n_pairs;
    struct ypair *pairs = arena_allocarray(a, cap, sizeof *pairs);
    memcpy(pairs, base->pairs, base->n_pairs * sizeof *pairs);
    size_t n = base->n_pairs;
    for (size_t i = 0; i < over->n_pairs; i++) {
        struct ypair *op = &over->pairs[i];
        size_t at = find_key(base, sorted, op->key);
        if (at == SIZE_MAX) {
            pairs[n++] = *op;
            continue;
        }
        /* Extensions are replaced whole, as compose does. */
        if (op->key->len >= 2 && memcmp(op->key->str, "x-", 2) == 0) {
            pairs[at].value = op->value;
            continue;
        }
        p->keys[p->n++] = op->key;
        pairs[at].value = merge_node(a, pairs[at].value, op->value, p);
        p->n--;
    }
    return ynode_new_map(a, base, pairs, n);
}

static struct ynode *merge_node(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p)
{
    if (!base)
        return over;
    if (!over)
        return base;
    enum merge_rule rule = p->n < MERGE_MAX_DEPTH ? rule_for(p) : MERGE_REPLACE;
    switch (rule) {
    case MERGE_ENV: {
        struct ynode *m = envmap_merge(a, base, over);
        return m ? m : over;
    }
    case MERGE_DEEP:
        if (base->kind == YNODE_MAP && over->kind == YNODE_MAP && p->n < MERGE_MAX_DEPTH)
            return merge_maps(a, base, over, p);
        /* A bare null in a later file leaves the earlier value in place
         * (compose's rule; the `!reset` tag, to come, clears explicitly). */
        if (ynode_is_null(over) && !over->tag)
            return base;
        return over;
    case MERGE_REPLACE:
    default:
        return over;
    }
}

struct ynode *merge_trees(struct arena *a, struct ynode *base, struct ynode *over)
{
    struct path p = {.n = 0};
    return merge_node(a, base, over, &p);
}
