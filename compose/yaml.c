/* SPDX-License-Identifier: Apache-2.0 */
/* YAML to node tree through libyaml's event API, keeping positions, tags and
 * scalar styles, with bounds on depth, node count and alias expansion so a
 * hostile file cannot exhaust memory. Not here: reading and typing the tree
 * (compose/yaml_read.c), writing YAML back (compose/emit.c). */
#include "compose/yaml.h"

#include <errno.h>
#include <inttypes.h>
#include <search.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

void yaml_compose_limits(struct yaml_limits *l)
{
    l->max_depth = YAML_COMPOSE_MAX_DEPTH;
    l->max_nodes = YAML_COMPOSE_MAX_NODES;
    l->alias_mult = YAML_COMPOSE_ALIAS_MULT;
    l->alias_base = YAML_COMPOSE_ALIAS_BASE;
}

/* --- Parser state -------------------------------------------------------- */

struct anchor {
    const char *name;
    struct ynode *node;
};

/* An open sequence or mapping and the children read so far (for a mapping:
 * key, value, key, value...). The kids array outlives the frame: the next
 * collection opened at the same depth reuses it. */
struct frame {
    struct ynode *node;
    struct ynode **kids;
    size_t n, cap;
    size_t n_merge; /* `<<` keys seen */
};

struct parser {
    struct arena *a;
    const struct ysource *src;
    const struct yaml_limits *lim;
    struct diag *d;
    const char *buf;
    size_t len;
    struct frame *stack;
    size_t depth, stack_cap;
    void *anchors;  /* tsearch tree of struct anchor, per document */
    uint64_t nodes; /* nodes of the file itself: the budget grows with them */
    uint64_t work;  /* what expanding every alias and merge would produce */
    struct ynode *root;
    struct ynode **docs;
    size_t n_docs, docs_cap;
    bool failed; /* an error that didn't stop the parse (duplicate key) */
};

static int anchor_cmp(const void *a, const void *b)
{
    return strcmp(((const struct anchor *)a)->name, ((const struct anchor *)b)->name);
}

static void anchor_nofree(void *p)
{
    (void)p; /* anchors live in the arena */
}

static void reset_anchors(struct parser *p)
{
    if (p->anchors)
        tdestroy(p->anchors, anchor_nofree);
    p->anchors = NULL;
}

static void parser_release(struct parser *p)
{
    for (size_t i = 0; i < p->stack_cap; i++)
        free(p->stack[i].kids);
    free(p->stack);
    free(p->docs);
    reset_anchors(p);
}

static int fail_at(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    diag_error_at(p->d, p->src->name, (int)m->line + 1, (int)m->column + 1, "%s", msg);
    return -EINVAL;
}

/* Adds n to the expansion work and refuses the file once it passes the
 * budget, which grows with the file's own size: a normal file that reuses
 * anchors a few times stays far below it, a billion-laughs file hits it
 * within a few levels. */
static int charge(struct parser *p, uint64_t n, const yaml_mark_t *m)
{
    uint64_t budget = p->lim->alias_mult * p->nodes + p->lim->alias_base;
    p->work += n;
    if (p->work > budget)
        return fail_at(p, m,
                       "aliases and merge keys expand this document past %" PRIu64
                       " nodes (about %" PRIu64 " times its own size); refusing it as an "
                       "alias bomb",
                       budget, p->lim->alias_mult);
    return 0;
}

static bool is_standard_tag(const char *tag)
{
    return strcmp(tag, "!") == 0 || strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0;
}

static struct ynode *new_node(struct parser *p, enum ynode_kind kind, const yaml_mark_t *m,
                              const yaml_char_t *tag)
{
    struct ynode *n = arena_alloc(p->a, sizeof *n);
    n->kind = kind;
    n->src = p->src;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    n->weight = 1;
    if (tag) {
        n->tag = arena_strdup(p->a, (const char *)tag);
        if (!is_standard_tag(n->tag) && strcmp(n->tag, "!reset") != 0 &&
            strcmp(n->tag, "!override") != 0)
            diag_warn_at(p->d, YPOS(n), "YAML tag %s is not supported yet; ignored", QS(n->tag));
    }
    return n;
}

static int count_node(struct parser *p, const yaml_mark_t *m)
{
    if (++p->nodes > p->lim->max_nodes)
        return fail_at(p, m, "more than %zu YAML nodes in one file; refusing it",
                       p->lim->max_nodes);
    p->work++;
    return 0;
}

static void set_anchor(struct parser *p, const yaml_char_t *name, struct ynode *n)
{
    struct anchor key = {.name = (const char *)name};
    struct anchor **found = tfind(&key, &p->anchors, anchor_cmp);
    if (found) {
        (*found)->node = n; /* YAML allows redefining an anchor */
        return;
    }
    struct anchor *an = arena_alloc(p->a, sizeof *an);
    an->name = arena_strdup(p->a, (const char *)name);
    an->node = n;
    if (!tsearch(an, &p->anchors, anchor_cmp)) {
        fputs("berth: out of memory\n", stderr);
        abort();
    }
}

static bool is_merge_key(const struct ynode *k)
{
    if (k->tag)
        return strcmp(k->tag, YAML_TAG_PREFIX "merge") == 0;
    return k->style == YSTYLE_PLAIN && k->len == 2 && memcmp(k->str, "<<", 2) == 0;
}

static void frame_push_kid(struct frame *f, struct ynode *n)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->kids = xreallocarray(f->kids, f->cap, sizeof *f->kids);
    }
    f->kids[f->n++] = n;
}

/* Hands a finished node to its parent, or makes it the document's root. */
static int add_child(struct parser *p, struct ynode *n, const yaml_mark_t *m)
{
    if (p->depth == 0) {
        p->root = n;
        return 0;
    }
    struct frame *f = &p->stack[p->depth - 1];
    if (f->node->kind == YNODE_MAP && f->n % 2 == 0) {
        if (n->kind != YNODE_SCALAR)
            return fail_at(p, m, "a mapping key must be a string, not %s", ynode_describe(n));
        if (is_merge_key(n))
            f->n_merge++;
    }
    frame_push_kid(f, n);
    return 0;
}

static int open_collection(struct parser *p, enum ynode_kind kind, const yaml_event_t *ev,
                           const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (p->depth >= p->lim->max_depth)
        return fail_at(p, &ev->start_mark, "nesting deeper than %zu levels; refusing it",
                       p->lim->max_depth);
    int r = count_node(p, &ev->start_mark);
    if (r < 0)
        return r;
    struct ynode *n = new_node(p, kind, &ev->start_mark, tag);
    n->open = 1;
    if (anchor)
        set_anchor(p, anchor, n);
    if (p->depth == p->stack_cap) {
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 16;
        p->stack = xreallocarray(p->stack, cap, sizeof *p->stack);
        memset(p->stack + p->stack_cap, 0, (cap - p->stack_cap) * sizeof *p->stack);
        p->stack_cap = cap;
    }
    struct frame *f = &p->stack[p->depth++];
    f->node = n;
    f->n = f->n_merge = 0;
    return 0;
}

static int finish_seq(struct parser *p, struct frame *f)
{
    struct ynode *n = f->node;
    n->n_items = f->n;
    n->items = arena_allocarray(p->a, f->n, sizeof *n->items);
    uint64_t w = 1;
    for (size_t i = 0; i < f->n; i++) {
        n->items[i] = f->kids[i];
        w += f->kids[i]->weight;
    }
    n->weight = w;
    return 0;
}

/* --- Mappings: duplicate keys and merge keys ----------------------------- */

int yscalar_cmp(const struct ynode *a, const struct ynode *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->str, b->str, n);
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Orders pair indexes by key, then by position, so equal keys sit together
 * with the first occurrence first. */
static int cmp_pair_index(const void *x, const void *y, void *kids_)
{
    struct ynode **kids = kids_;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int c = yscalar_cmp(kids[2 * a], kids[2 * b]);
    if (c)
        return c;
    return a < b ? -1 : a > b;
}

struct cand {
    struct ypair pair;
    size_t slot; /* index of the `<<` pair it came through */
    bool keep;
};

static int cmp_cand_index(const void *x, const void *y, void *cands_)
{
    struct cand *c = cands_;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int r = yscalar_cmp(c[a].pair.key, c[b].pair.key);
    if (r)
        return r;
    return a < b ? -1 : a > b;
}

static bool same_key(const struct ynode *a, const struct ynode *b)
{
    return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* own: the indexes of a mapping's own pairs, sorted by key when sorted is
 * set (a small mapping's are searched in place). */
static bool own_has_key(struct ynode **kids, const size_t *own, size_t n_own, bool sorted,
                        const struct ynode *key)
{
    if (!sorted) {
        for (size_t i = 0; i < n_own; i++)
            if (same_key(kids[2 * own[i]], key))
                return true;
        return false;
    }
    size_t lo = 0, hi = n_own;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = yscalar_cmp(kids[2 * own[mid]], key);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Mappings up to this many pairs are checked pair against pair instead of
 * sorted: cheaper for the small mappings files are made of. */
#define SMALL_MAP 16

/* Whether a small set of keys holds one twice. */
static bool small_has_duplicate(struct ynode **kids, const size_t *own, size_t n_own)
{
    for (size_t i = 1; i < n_own; i++)
        for (size_t j = 0; j < i; j++)
            if (same_key(kids[2 * own[i]], kids[2 * own[j]]))
                return true;
    return false;
}

struct merge_state {
    struct cand *cands;
    size_t n, cap;
};

static int collect_merge_source(struct parser *p, struct merge_state *ms, size_t slot,
                                const struct ynode *src, const yaml_mark_t *m)
{
    if (src->kind != YNODE_MAP) {
        /* At the offending node (for an alias: the anchored node). */
        yaml_mark_t at = {.line = (size_t)src->line - 1, .column = (size_t)src->col - 1};
        return fail_at(p, &at, "merge key <<: expected a mapping or a list of mappings, got %s",
                       ynode_describe(src));
    }
    for (size_t i = 0; i < src->n_pairs; i++) {
        int r = charge(p, 1, m);
        if (r < 0)
            return r;
        if (ms->n == ms->cap) {
            ms->cap = ms->cap ? ms->cap * 2 : 16;
            ms->cands = xreallocarray(ms->cands, ms->cap, sizeof *ms->cands);
        }
        ms->cands[ms->n++] = (struct cand){.pair = src->pairs[i], .slot = slot};
    }
    return 0;
}

static int finish_map(struct parser *p, struct frame *f, const yaml_mark_t *m)
{
    struct ynode *n = f->node;
    size_t n_kv = f->n / 2;
    size_t small_own[SMALL_MAP];
    _cleanup_free_ size_t *big_own = n_kv > SMALL_MAP ? xcalloc(n_kv, sizeof *big_own) : NULL;
    size_t *own = big_own ? big_own : small_own;
    size_t n_own = 0;
    for (size_t i = 0; i < n_kv; i++)
        if (!f->n_merge || !is_merge_key(f->kids[2 * i]))
            own[n_own++] = i;
    /* Duplicates are reported in key order, so a mapping that has one is
     * sorted whatever its size. */
    bool sorted = big_own || small_has_duplicate(f->kids, own, n_own);
    if (sorted) {
        qsort_r(own, n_own, sizeof *own, cmp_pair_index, f->kids);
        for (size_t j = 1; j < n_own; j++) {
            struct ynode *prev = f->kids[2 * own[j - 1]], *cur = f->kids[2 * own[j]];
            if (yscalar_cmp(prev, cur) == 0) {
                diag_error_at(p->d, YPOS(cur), "duplicate key %s (first defined at line %d)",
                              QN(cur), prev->line);
                p->failed = true;
            }
        }
    }

    struct merge_state ms = {0};
    _cleanup_free_ size_t *order = NULL;
    int r = 0;
    if (f->n_merge) {
        for (size_t i = 0; i < n_kv && r == 0; i++) {
            if (!is_merge_key(f->kids[2 * i]))
                continue;
            struct ynode *v = f->kids[2 * i + 1];
            if (v->kind == YNODE_SEQ) {
                for (size_t j = 0; j < v->n_items && r == 0; j++)
                    r = collect_merge_source(p, &ms, i, v->items[j], m);
            } else {
                r = collect_merge_source(p, &ms, i, v, m);
            }
        }
        if (r < 0) {
            free(ms.cands);
            return r;
        }
        /* Within each key, the first source wins; a key of the mapping itself
         * beats every merged one. */
        if (ms.n <= SMALL_MAP) {
            for (size_t i = 0; i < ms.n; i++) {
                struct cand *c = &ms.cands[i];
                bool first = true;
                for (size_t j = 0; j < i && first; j++)
                    first = !same_key(ms.cands[j].pair.key, c->pair.key);
                c->keep = first && !own_has_key(f->kids, own, n_own, sorted, c->pair.key);
            }
        } else {
            order = xcalloc(ms.n, sizeof *order);
            for (size_t i = 0; i < ms.n; i++)
                order[i] = i;
            qsort_r(order, ms.n, sizeof *order, cmp_cand_index, ms.cands);
            for (size_t i = 0; i < ms.n; i++) {
                struct cand *c = &ms.cands[order[i]];
                bool first =
                    i == 0 || yscalar_cmp(ms.cands[order[i - 1]].pair.key, c->pair.key) != 0;
                c->keep = first && !own_has_key(f->kids, own, n_own, sorted, c->pair.key);
            }
        }
    }

    /* Final pairs in document order, merged ones where their `<<` stood. */
    size_t total = n_own;
    for (size_t i = 0; i < ms.n; i++)
        total += ms.cands[i].keep;
    n->pairs = arena_allocarray(p->a, total, sizeof *n->pairs);
    uint64_t w = 1, merged_w = 0;
    size_t out = 0, ci = 0;
    for (size_t i = 0; i < n_kv; i++) {
        struct ynode *k = f->kids[2 * i];
        if (!is_merge_key(k)) {
            n->pairs[out++] = (struct ypair){k, f->kids[2 * i + 1]};
            w += k->weight + f->kids[2 * i + 1]->weight;
            continue;
        }
        for (; ci < ms.n && ms.cands[ci].slot == i; ci++) {
            if (!ms.cands[ci].keep)
                continue;
            n->pairs[out++] = ms.cands[ci].pair;
            merged_w += ms.cands[ci].pair.key->weight + ms.cands[ci].pair.value->weight;
        }
    }
    n->n_pairs = out;
    n->weight = w + merged_w;
    free(ms.cands);
    return charge(p, merged_w, m);
}

static int close_collection(struct parser *p, const yaml_event_t *ev)
{
    struct frame *f = &p->stack[p->depth - 1];
    int r = f->node->kind == YNODE_SEQ ? finish_seq(p, f) : finish_map(p, f, &ev->start_mark);
    struct ynode *n = f->node;
    p->depth--;
    if (r < 0)
        return r;
    n->open = 0;
    return add_child(p, n, &ev->start_mark);
}

static enum yscalar_style style_of(yaml_scalar_style_t s)
{
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_SINGLE;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return YSTYLE_DOUBLE;
    case YAML_LITERAL_SCALAR_STYLE:
        return YSTYLE_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE:
        return YSTYLE_FOLDED;
    default:
        return YSTYLE_PLAIN;
    }
}

static int on_scalar(struct parser *p, const yaml_event_t *ev)
{
    int r = count_node(p, &ev->start_mark);
    if (r < 0)
        return r;
    struct ynode *n = new_node(p, YNODE_SCALAR, &ev->start_mark, ev->data.scalar.tag);
    n->style = style_of(ev->data.scalar.style);
    n->str = arena_strndup(p->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    n->len = ev->data.scalar.length;
    ynode_set_tag(n, n->tag); /* caches the type */
    if (ev->data.scalar.anchor)
        set_anchor(p, ev->data.scalar.anchor, n);
    return add_child(p, n, &ev->start_mark);
}

static int on_alias(struct parser *p, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    struct anchor key = {.name = name};
    struct anchor **found = tfind(&key, &p->anchors, anchor_cmp);
    if (!found)
        return fail_at(p, &ev->start_mark, "unknown anchor *%s", name);
    struct ynode *target = (*found)->node;
    if (target->open)
        return fail_at(p, &ev->start_mark, "alias *%s refers to a node that contains it", name);
    int r = count_node(p, &ev->start_mark);
    if (r == 0)
        r = charge(p, target->weight, &ev->start_mark);
    if (r == 0)
        r = add_child(p, target, &ev->start_mark);
    return r;
}

static int on_event(struct parser *p, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        reset_anchors(p);
        p->root = NULL;
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        if (p->n_docs == p->docs_cap) {
            p->docs_cap = p->docs_cap ? p->docs_cap * 2 : 4;
            p->docs = xreallocarray(p->docs, p->docs_cap, sizeof *p->docs);
        }
        p->docs[p->n_docs++] = p->root;
        p->root = NULL;
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(p, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_collection(p, YNODE_SEQ, ev, ev->data.sequence_start.anchor,
                               ev->data.sequence_start.tag);
    case YAML_MAPPING_START_EVENT:
        return open_collection(p, YNODE_MAP, ev, ev->data.mapping_start.anchor,
                               ev->data.mapping_start.tag);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_collection(p, ev);
    default:
        return 0;
    }
}

/* libyaml's reader errors carry a byte offset, not a mark. */
static void offset_to_pos(const char *buf, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void libyaml_error(struct parser *p, const yaml_parser_t *yp)
{
    const char *problem = yp->problem ? yp->problem : "unknown YAML error";
    if (yp->error == YAML_MEMORY_ERROR) {
        diag_error_at(p->d, p->src->name, 0, 0, "out of memory while parsing YAML");
        return;
    }
    if (yp->error == YAML_READER_ERROR) {
        int line, col;
        offset_to_pos(p->buf, p->len, yp->problem_offset, &line, &col);
        if (yp->problem_value != -1)
            diag_error_at(p->d, p->src->name, line, col, "%s (byte 0x%02X)", problem,
                          (unsigned)yp->problem_value & 0xFFFFu);
        else
            diag_error_at(p->d, p->src->name, line, col, "%s", problem);
        return;
    }
    int line = (int)yp->problem_mark.line + 1, col = (int)yp->problem_mark.column + 1;
    size_t at = yp->problem_mark.index;
    if (yp->problem && strstr(yp->problem, "cannot start any token") && at < p->len &&
        p->buf[at] == '\t') {
        diag_error_at(p->d, p->src->name, line, col,
                      "a tab character: YAML indents with spaces, never tabs");
        return;
    }
    if (yp->problem && strcmp(yp->problem, "mapping values are not allowed in this context") == 0) {
        /* Most often the line before lacks its colon ("image busybox"),
         * or a plain value holds ": " and needs quotes. */
        size_t end = at < p->len ? at : p->len;
        while (end > 0 && p->buf[end - 1] != '\n')
            end--; /* the start of the error's line */
        size_t e = end, b;
        for (;;) { /* the previous line that is not blank */
            if (e == 0)
                break;
            b = e - 1;
            while (b > 0 && p->buf[b - 1] != '\n')
                b--;
            size_t s0 = b;
            while (s0 < e - 1 && (p->buf[s0] == ' ' || p->buf[s0] == '\t'))
                s0++;
            if (s0 < e - 1 && p->buf[s0] != '#') {
                int n = (int)(e - 1 - s0);
                if (!memchr(p->buf + s0, ':', (size_t)n) && n < 200)
                    diag_error_at(p->d, p->src->name, line, col,
                                  "%s: the line before, \"%.*s\", may lack the colon after its key",
                                  yp->problem, n, p->buf + s0);
                else
                    diag_error_at(p->d, p->src->name, line, col,
                                  "%s: a key may lack its colon, or a value holding \": \" "
                                  "needs quotes",
                                  yp->problem);
                return;
            }
            e = b;
        }
    }
    if (yp->context)
        diag_error_at(p->d, p->src->name, line, col, "%s (%s at line %d, column %d)", problem,
                      yp->context, (int)yp->context_mark.line + 1,
                      (int)yp->context_mark.column + 1);
    else
        diag_error_at(p->d, p->src->name, line, col, "%s", problem);
}

int yaml_parse(struct arena *a, const struct ysource *src, const char *buf, size_t len,
               const struct yaml_limits *lim, struct diag *d, struct ydocs *out)
{
    struct parser p = {.a = a, .src = src, .lim = lim, .d = d, .buf = buf, .len = len};
    yaml_parser_t yp;
    out->docs = NULL;
    out->n = 0;
    if (!yaml_parser_initialize(&yp)) {
        diag_error_at(d, src->name, 0, 0, "out of memory while parsing YAML");
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
    int r = 0;
    for (bool done = false; !done && r == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            libyaml_error(&p, &yp);
            r = -EINVAL;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        r = on_event(&p, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    if (r == 0 && p.failed)
        r = -EINVAL;
    if (r == 0) {
        out->n = p.n_docs;
        out->docs = arena_allocarray(a, p.n_docs, sizeof *out->docs);
        for (size_t i = 0; i < p.n_docs; i++)
            out->docs[i] = p.docs[i];
    }
    parser_release(&p);
    return r;
}

/* --- Building nodes outside the parser (merging) ------------------------ */

struct ynode *ynode_new_scalar(struct arena *a, const struct ysource *src, int line, int col,
                               const char *str, size_t len, enum yscalar_style style)
{
    struct ynode *n = arena_alloc(a, sizeof *n);
    n->kind = YNODE_SCALAR;
    n->style = style;
    n->src = src;
    n->line = line;
    n->col = col;
    n->weight = 1;
    n->str = arena_strndup(a, str, len);
    n->len = len;
    ynode_set_tag(n, NULL); /* caches the type */
    return n;
}

struct ynode *ynode_new_map(struct arena *a, const struct ynode *pos_from, struct ypair *pairs,
                            size_t n_pairs)
{
    struct ynode *n = arena_alloc(a, sizeof *n);
    n->kind = YNODE_MAP;
    n->src = pos_from->src;
    n->line = pos_from->line;
    n->col = pos_from->col;
    n->pairs = pairs;
    n->n_pairs = n_pairs;
    uint64_t w = 1;
    for (size_t i = 0; i < n_pairs; i++)
        w += pairs[i].key->weight + pairs[i].value->weight;
    n->weight = w;
    return n;
}
