/* SPDX-License-Identifier: Apache-2.0 */
/* How two compose trees combine: mappings key by key, later wins; lists
 * appended or de-duplicated by their key; !reset and !override. Used for -f
 * files, override files and extends. Not here: which files merge and in what
 * order (compose/files.c). */
#include "compose/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/envmap.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

enum merge_rule {
    MERGE_DEEP,      /* mappings key by key; lists appended; otherwise replace */
    MERGE_REPLACE,   /* the later value replaces the earlier one whole */
    MERGE_ENV,       /* list-or-dict merged by variable name */
    MERGE_UNIQUE,    /* lists appended, one entry per key (a later entry replaces) */
    MERGE_LOGGING,   /* another driver replaces the whole logging */
    MERGE_BY_SUBNET, /* ipam.config: entries of one subnet merged, others kept */
};

enum unique_key { U_NONE, U_TEXT, U_PORT, U_TARGET, U_PATH };

/* Paths are keys separated by "."; "*" matches any one key. The first
 * matching entry wins; no match means MERGE_DEEP. (compose-go's
 * mergeSpecials and unique-by-key indexers.) */
static const struct {
    const char *path;
    enum merge_rule rule;
    enum unique_key key;
} merge_rules[] = {
    {"services.*.environment", MERGE_ENV, U_NONE},
    {"services.*.command", MERGE_REPLACE, U_NONE},
    {"services.*.entrypoint", MERGE_REPLACE, U_NONE},
    {"services.*.healthcheck.test", MERGE_REPLACE, U_NONE},
    {"services.*.ulimits.*", MERGE_REPLACE, U_NONE},
    {"services.*.logging", MERGE_LOGGING, U_NONE},
    {"services.*.ports", MERGE_UNIQUE, U_PORT},
    {"services.*.volumes", MERGE_UNIQUE, U_TARGET},
    {"services.*.secrets", MERGE_UNIQUE, U_TARGET},
    {"services.*.configs", MERGE_UNIQUE, U_TARGET},
    {"services.*.env_file", MERGE_UNIQUE, U_PATH},
    {"services.*.devices", MERGE_UNIQUE, U_TARGET},
    {"services.*.expose", MERGE_UNIQUE, U_TEXT},
    {"services.*.dns", MERGE_UNIQUE, U_TEXT},
    {"services.*.dns_opt", MERGE_UNIQUE, U_TEXT},
    {"services.*.dns_search", MERGE_UNIQUE, U_TEXT},
    {"services.*.cap_add", MERGE_UNIQUE, U_TEXT},
    {"services.*.cap_drop", MERGE_UNIQUE, U_TEXT},
    {"services.*.profiles", MERGE_UNIQUE, U_TEXT},
    {"services.*.links", MERGE_UNIQUE, U_TEXT},
    {"services.*.tmpfs", MERGE_UNIQUE, U_TEXT},
    {"services.*.extra_hosts", MERGE_UNIQUE, U_TEXT},
    {"services.*.networks.*.aliases", MERGE_UNIQUE, U_TEXT},
    {"services.*.networks.*.link_local_ips", MERGE_UNIQUE, U_TEXT},
    {"services.*.build.tags", MERGE_UNIQUE, U_TEXT},
    {"services.*.build.platforms", MERGE_UNIQUE, U_TEXT},
    {"services.*.build.extra_hosts", MERGE_UNIQUE, U_TEXT},
    {"networks.*.ipam.config", MERGE_BY_SUBNET, U_NONE},
    {"models.*.runtime_flags", MERGE_REPLACE, U_NONE},
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

/* Whether the pairs being merged are the entries of services: (a service
 * named x- is a service there, not an extension). */
static bool is_service_entry(const struct path *p)
{
    return p->n == 1 && p->keys[0]->len == 8 && memcmp(p->keys[0]->str, "services", 8) == 0;
}

static size_t rule_index(const struct path *p)
{
    for (size_t i = 0; i < sizeof merge_rules / sizeof merge_rules[0]; i++)
        if (path_matches(merge_rules[i].path, p))
            return i;
    return SIZE_MAX;
}

static bool has_tag(const struct ynode *n, const char *tag)
{
    return n && n->tag && strcmp(n->tag, tag) == 0;
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
 * over's new keys in over order; a `!reset` value removes the key. Keys
 * sort once, so this is n log n. */
static struct ynode *merge_maps(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p)
{
    _cleanup_free_ size_t *sorted = xcalloc(base->n_pairs, sizeof *sorted);
    for (size_t i = 0; i < base->n_pairs; i++)
        sorted[i] = i;
    qsort_r(sorted, base->n_pairs, sizeof *sorted, cmp_key_index, base);
    size_t cap = base->n_pairs + over->n_pairs;
    struct ypair *pairs = arena_allocarray(a, cap, sizeof *pairs);
    _cleanup_free_ bool *drop = xcalloc(cap ? cap : 1, sizeof *drop);
    if (base->n_pairs)
        memcpy(pairs, base->pairs, base->n_pairs * sizeof *pairs);
    size_t n = base->n_pairs;
    for (size_t i = 0; i < over->n_pairs; i++) {
        struct ypair *op = &over->pairs[i];
        size_t at = find_key(base, sorted, op->key);
        if (has_tag(op->value, "!reset")) {
            if (at != SIZE_MAX)
                drop[at] = true;
            continue;
        }
        if (at == SIZE_MAX) {
            pairs[n++] = *op;
            continue;
        }
        /* Extensions and `!override` values are replaced whole. */
        if ((op->key->len >= 2 && memcmp(op->key->str, "x-", 2) == 0 && !is_service_entry(p)) ||
            has_tag(op->value, "!override")) {
            pairs[at].value = op->value;
            continue;
        }
        p->keys[p->n++] = op->key;
        pairs[at].value = merge_node(a, pairs[at].value, op->value, p);
        p->n--;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (!drop[i])
            pairs[o++] = pairs[i];
    struct ynode *m = ynode_new_map(a, base, pairs, o);
    m->ordered = base->ordered;
    return m;
}

/* The identity of a list entry under a unique-by-key rule. */
static char *entry_key(const struct ynode *it, enum unique_key k)
{
    if (it->kind == YNODE_SCALAR)
        return xstrndup(it->str, it->len);
    if (it->kind != YNODE_MAP)
        return xasprintf("%p", (const void *)it);
    const struct ynode *t = ymap_get(it, "target"), *s = ymap_get(it, "source");
    switch (k) {
    case U_PORT: {
        const struct ynode *ip = ymap_get(it, "host_ip"), *pub = ymap_get(it, "published"),
                           *pr = ymap_get(it, "protocol");
        return xasprintf("%s:%s:%s/%s", ip ? ip->str : "", pub ? pub->str : "", t ? t->str : "",
                         pr ? pr->str : "tcp");
    }
    case U_TARGET:
        if (t)
            return xasprintf("t:%s", t->str);
        return xasprintf("s:%s", s ? s->str : "");
    case U_PATH: {
        const struct ynode *pa = ymap_get(it, "path");
        return xstrdup(pa && pa->kind == YNODE_SCALAR ? pa->str : "");
    }
    default:
        return xasprintf("%p", (const void *)it);
    }
}

struct keyed {
    char *key;
    size_t idx;
};

static int cmp_keyed(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

/* base's items then over's, one per key: a later entry takes the place of
 * the first one with its key. */
static struct ynode *merge_unique(struct arena *a, struct ynode *base, struct ynode *over,
                                  enum unique_key k)
{
    size_t n = base->n_items + over->n_items;
    struct ynode **all = xcalloc(n ? n : 1, sizeof *all);
    struct keyed *ks = xcalloc(n ? n : 1, sizeof *ks);
    for (size_t i = 0; i < n; i++) {
        all[i] = i < base->n_items ? base->items[i] : over->items[i - base->n_items];
        ks[i] = (struct keyed){entry_key(all[i], k), i};
    }
    qsort(ks, n, sizeof *ks, cmp_keyed);
    bool *keep = xcalloc(n ? n : 1, sizeof *keep);
    struct ynode **value = xcalloc(n ? n : 1, sizeof *value);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && strcmp(ks[j + 1].key, ks[i].key) == 0)
            j++;
        keep[ks[i].idx] = true;
        value[ks[i].idx] = all[ks[j].idx];
        i = j + 1;
    }
    struct ynode **items = arena_allocarray(a, n, sizeof *items);
    size_t o = 0;
    uint64_t w = 1;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) {
            items[o++] = value[i];
            w += value[i]->weight;
        }
    for (size_t i = 0; i < n; i++)
        free(ks[i].key);
    free(ks);
    free(keep);
    free(value);
    free(all);
    struct ynode *r = arena_alloc(a, sizeof *r);
    *r = *base;
    r->tag = NULL;
    r->items = items;
    r->n_items = o;
    r->weight = w;
    return r;
}

static struct ynode *append_seqs(struct arena *a, struct ynode *base, struct ynode *over)
{
    size_t n = base->n_items + over->n_items;
    struct ynode **items = arena_allocarray(a, n, sizeof *items);
    if (base->n_items)
        memcpy(items, base->items, base->n_items * sizeof *items);
    if (over->n_items)
        memcpy(items + base->n_items, over->items, over->n_items * sizeof *items);
    struct ynode *r = arena_alloc(a, sizeof *r);
    *r = *base;
    r->tag = NULL;
    r->items = items;
    r->n_items = n;
    r->weight = base->weight + over->weight;
    return r;
}

static struct ynode *merge_maps(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p);

static const struct ynode *subnet_of(const struct ynode *it)
{
    return it->kind == YNODE_MAP ? ymap_get(it, "subnet") : NULL;
}

/* ipam.config: a later entry for a subnet an earlier one has is merged
 * into it, key by key (compose-go's mergeIPAMConfig); the others are
 * kept, new subnets appended. (compose-go also drops an earlier entry
 * whose subnet no later entry names, when the later list is not empty:
 * berth keeps it, as a network's other ranges should not vanish.) */
static struct ynode *merge_by_subnet(struct arena *a, struct ynode *base, struct ynode *over,
                                     struct path *p)
{
    size_t n = base->n_items;
    struct ynode **items = arena_allocarray(a, n + over->n_items, sizeof *items);
    if (n)
        memcpy(items, base->items, n * sizeof *items);
    for (size_t i = 0; i < over->n_items; i++) {
        struct ynode *o = over->items[i];
        const struct ynode *os = subnet_of(o);
        size_t j = 0;
        while (os && j < n && !(subnet_of(items[j]) && yscalar_cmp(subnet_of(items[j]), os) == 0))
            j++;
        if (os && j < n)
            items[j] = merge_maps(a, items[j], o, p);
        else
            items[n++] = o;
    }
    struct ynode *r = arena_alloc(a, sizeof *r);
    *r = *base;
    r->tag = NULL;
    r->items = items;
    r->n_items = n;
    r->weight = 1;
    for (size_t i = 0; i < n; i++)
        r->weight += items[i]->weight;
    return r;
}

static struct ynode *merge_node(struct arena *a, struct ynode *base, struct ynode *over,
                                struct path *p)
{
    if (!base)
        return over;
    if (!over)
        return base;
    if (has_tag(over, "!override"))
        return over;
    size_t ri = p->n < MERGE_MAX_DEPTH ? rule_index(p) : SIZE_MAX;
    enum merge_rule rule = ri == SIZE_MAX ? MERGE_DEEP : merge_rules[ri].rule;
    if (p->n >= MERGE_MAX_DEPTH)
        rule = MERGE_REPLACE;
    /* A bare null in a later file leaves the earlier value in place
     * (compose's rule; `!reset` clears explicitly), except where the later
     * value replaces whole (command: ~ drops the earlier command). */
    if (ynode_is_null(over) && !over->tag && rule != MERGE_REPLACE)
        return base;
    switch (rule) {
    case MERGE_ENV: {
        struct ynode *m = envmap_merge(a, base, over);
        return m ? m : over;
    }
    case MERGE_LOGGING: {
        const struct ynode *bd = ymap_get(base, "driver"), *od = ymap_get(over, "driver");
        if (bd && od && yscalar_cmp(bd, od) != 0)
            return over;
        if (base->kind == YNODE_MAP && over->kind == YNODE_MAP)
            return merge_maps(a, base, over, p);
        return over;
    }
    case MERGE_BY_SUBNET:
        if (base->kind == YNODE_SEQ && over->kind == YNODE_SEQ)
            return merge_by_subnet(a, base, over, p);
        return over;
    case MERGE_UNIQUE:
        if (base->kind == YNODE_SEQ && over->kind == YNODE_SEQ)
            return merge_unique(a, base, over, merge_rules[ri].key);
        return over;
    case MERGE_DEEP:
        if (base->kind == YNODE_MAP && over->kind == YNODE_MAP)
            return merge_maps(a, base, over, p);
        if (base->kind == YNODE_SEQ && over->kind == YNODE_SEQ)
            return append_seqs(a, base, over);
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

struct ynode *merge_service(struct arena *a, struct ynode *base, struct ynode *over)
{
    static const struct ynode services = {.kind = YNODE_SCALAR, .str = "services", .len = 8};
    static const struct ynode any = {.kind = YNODE_SCALAR, .str = "*", .len = 1};
    struct path p = {.keys = {&services, &any}, .n = 2};
    return merge_node(a, base, over, &p);
}
