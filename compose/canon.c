/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical pass (see canon.h): a table per compose object gives each
 * key its type and its place in compose's output order; keys with a short
 * syntax or a special shape have their own function.
 * Not here: the short-syntax string parsers (compose/syntax.c), merging
 * (compose/merge.c), the typed model (compose/model.c). */
#include "compose/canon.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/envmap.h"
#include "compose/model_internal.h"
#include "compose/path.h"
#include "compose/shellwords.h"
#include "compose/strvec.h"
#include "compose/syntax.h"
#include "compose/units.h"
#include "util/cleanup.h"
#include "util/duration.h"
#include "util/path.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct field;

/* A value made for a field from an input node, kept for the next time the
 * same node comes under the same field. */
struct memo_entry {
    const struct ynode *in;
    const struct field *f;
    struct ynode *out;
};

/* Direct-mapped: a new entry takes its slot from the one there. */
#define MEMO_SLOTS 256

/* A schema's fields by a hash of their names, made when the schema is first
 * used in a pass (its tables are static and stay unsorted, in output order):
 * slot holds a field's index + 1, 0 when free. */
#define FIELD_SLOTS     256
#define FIELD_INDEX_MAX 128 /* schemas with more fields are scanned */
#define FIELD_INDEXES   32  /* direct-mapped by schema */

struct field_index {
    const struct schema *sc;
    uint8_t slot[FIELD_SLOTS];
    uint8_t len[FIELD_INDEX_MAX]; /* each field's name length */
};

struct canon {
    const struct canon_opts *o;
    struct arena *a;
    struct model m;               /* for the value helpers shared with the model */
    struct service stub;          /* the object messages name */
    const struct ynode *svc_body; /* the service being read, NULL elsewhere */
    struct memo_entry memo[MEMO_SLOTS];
    struct field_index fields[FIELD_INDEXES];
};

enum kind {
    K_STR,         /* a string (numbers kept as written) */
    K_PATH,        /* a string, made absolute against the base directory */
    K_BOOL,        /* true/false, also as strings */
    K_INT,         /* a whole number */
    K_UINT,        /* a whole number >= 0 */
    K_FLOAT,       /* a number (cpus) */
    K_DURATION,    /* a Go duration, printed as Go prints it */
    K_BYTES,       /* a size, printed as a byte count string */
    K_STRLIST,     /* a list of strings */
    K_STR_OR_LIST, /* a string or a list of strings: a list */
    K_MAP_STR,     /* a mapping or KEY=VALUE list: a mapping of strings */
    K_MAP_EQ,      /* like K_MAP_STR, a bare KEY is null (environment) */
    K_STRUCT,      /* a mapping with its own table */
    K_MAP_OF,      /* names to K_STRUCT values (or null) */
    K_ANY,         /* kept as written (not interpreted by berth) */
    K_FN,          /* its own function */
};

/* Field flags. */
#define F_OMITZERO 1u /* a Go value field: false, 0, "" are left out of the output */
#define F_ALWAYS   2u /* printed in JSON even when unset (command, entrypoint) */
#define F_KEEP     4u /* printed when empty (a Go pointer to a struct, or [] command) */
#define F_NONULL   8u /* null is refused in every file, not left to merging */

struct schema;
typedef struct ynode *(*canon_fn)(struct canon *c, const struct ynode *v, const char *path);

struct field {
    const char *key;
    enum kind kind;
    unsigned flags;
    const struct schema *sub;
    canon_fn fn;
};

struct schema {
    const struct field *fields;
    size_t n;
    const char *const *sorted_ix; /* unused */
};

/* --- Nodes ------------------------------------------------------------------ */

/* Where values compose adds by default "come from". */
static const struct ysource defaults_src = {"(default)", 0};

struct ynode *canon_key(struct arena *a, const struct ynode *pos, const char *text)
{
    return ynode_new_scalar(a, pos ? pos->src : &defaults_src, pos ? pos->line : 0,
                            pos ? pos->col : 0, text, strlen(text), YSTYLE_PLAIN);
}

static struct ynode *n_str(struct canon *c, const struct ynode *at, const char *s, size_t len)
{
    return ynode_new_scalar(c->a, at ? at->src : &defaults_src, at ? at->line : 0, at ? at->col : 0,
                            s, len, YSTYLE_DOUBLE);
}

static struct ynode *n_cstr(struct canon *c, const struct ynode *at, const char *s)
{
    return n_str(c, at, s, strlen(s));
}

static struct ynode *n_plain(struct canon *c, const struct ynode *at, const char *s)
{
    return ynode_new_scalar(c->a, at ? at->src : &defaults_src, at ? at->line : 0, at ? at->col : 0,
                            s, strlen(s), YSTYLE_PLAIN);
}

static struct ynode *n_int(struct canon *c, const struct ynode *at, int64_t v)
{
    char buf[FORMAT_INT_MAX];
    size_t len = format_int(buf, v);
    return ynode_new_scalar(c->a, at ? at->src : &defaults_src, at ? at->line : 0, at ? at->col : 0,
                            buf, len, YSTYLE_PLAIN);
}

static struct ynode *n_bool(struct canon *c, const struct ynode *at, bool v)
{
    return n_plain(c, at, v ? "true" : "false");
}

static struct ynode *n_null(struct canon *c, const struct ynode *at)
{
    return n_plain(c, at, "null");
}

/* Shortest text that reads back as the same float32 (as Go prints one). */
static struct ynode *n_float32(struct canon *c, const struct ynode *at, double v)
{
    char buf[64];
    float f = (float)v;
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f)
            break;
    }
    return n_plain(c, at, buf);
}

struct mb {
    struct ypair *p;
    size_t n, cap;
};

/* Room for n pairs in all, when the caller knows about how many come. */
static void mb_reserve(struct canon *c, struct mb *b, size_t n)
{
    if (n <= b->cap)
        return;
    struct ypair *np = arena_alloc_uninit(c->a, n * sizeof *np);
    if (b->n)
        memcpy(np, b->p, b->n * sizeof *np);
    b->p = np;
    b->cap = n;
}

static void mb_add(struct canon *c, struct mb *b, struct ynode *key, struct ynode *val)
{
    if (!val)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct ypair *np = arena_alloc_uninit(c->a, cap * sizeof *np);
        if (b->n)
            memcpy(np, b->p, b->n * sizeof *np);
        b->p = np;
        b->cap = cap;
    }
    b->p[b->n++] = (struct ypair){key, val};
}

static void mb_addk(struct canon *c, struct mb *b, const struct ynode *pos, const char *key,
                    struct ynode *val)
{
    if (val)
        mb_add(c, b, canon_key(c->a, pos, key), val);
}

static struct ynode *mb_done(struct canon *c, struct mb *b, const struct ynode *pos, bool ordered)
{
    static const struct ynode nowhere = {.kind = YNODE_MAP, .src = &defaults_src};
    struct ynode *n = ynode_new_map(c->a, pos ? pos : &nowhere, b->p, b->n);
    n->ordered = ordered;
    return n;
}

struct sb {
    struct ynode **v;
    size_t n, cap;
};

static void sb_add(struct canon *c, struct sb *b, struct ynode *item)
{
    if (!item)
        return;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct ynode **nv = arena_alloc_uninit(c->a, cap * sizeof *nv);
        if (b->n)
            memcpy(nv, b->v, b->n * sizeof *nv);
        b->v = nv;
        b->cap = cap;
    }
    b->v[b->n++] = item;
}

static struct ynode *sb_done(struct canon *c, struct sb *b, const struct ynode *pos)
{
    struct ynode *n = arena_alloc(c->a, sizeof *n);
    n->kind = YNODE_SEQ;
    n->src = pos ? pos->src : &defaults_src;
    n->line = pos ? pos->line : 0;
    n->col = pos ? pos->col : 0;
    n->items = b->v;
    n->n_items = b->n;
    uint64_t w = 1;
    for (size_t i = 0; i < b->n; i++)
        w += b->v[i]->weight;
    n->weight = w;
    return n;
}

/* --- Messages ----------------------------------------------------------- */

static void cerr(struct canon *c, const struct ynode *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cerr(struct canon *c, const struct ynode *at, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (c->stub.name)
        svc_error(&c->m, &c->stub, at, path, "%s", msg);
    else
        diag_error_at(c->o->d, YPOS(at), "%s: %s", path, msg);
}

/* A list or mapping value: false when it is null (nothing to do) or of
 * another kind (said). */
static bool want_kind(struct canon *c, const struct ynode *v, const char *path,
                      enum ynode_kind kind)
{
    if (ynode_is_null(v))
        return false;
    if (v->kind != kind) {
        cerr(c, v, path, "expected a %s, got %s", kind == YNODE_SEQ ? "list" : "mapping",
             ynode_describe(v));
        return false;
    }
    return true;
}

static bool is_ext(const struct ynode *k)
{
    return k->len >= 2 && k->str[0] == 'x' && k->str[1] == '-';
}

static bool key_is(const struct ynode *k, const char *s)
{
    size_t n = strlen(s);
    return k->len == n && memcmp(k->str, s, n) == 0;
}

static bool has_tag(const struct ynode *n, const char *tag)
{
    return n && n->tag && strcmp(n->tag, tag) == 0;
}

static bool lenient_text(const struct canon *c, const struct ynode *v)
{
    return c->o->lenient && v->kind == YNODE_SCALAR && memchr(v->str, '$', v->len);
}

static void unknown_key(struct canon *c, const struct schema *sc, const struct ynode *k,
                        const char *path)
{
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < sc->n; i++) {
        size_t dd = str_edit_distance(k->str, k->len, sc->fields[i].key, strlen(sc->fields[i].key));
        if (dd < bd) {
            bd = dd;
            best = sc->fields[i].key;
        }
    }
    _cleanup_free_ char *where = *path ? xasprintf("%s: ", path) : xstrdup("");
    if (c->stub.name)
        diag_error_at(c->o->d, YPOS(k), "%s %s: %sunknown key %s%s%s%s",
                      c->m.kind ? c->m.kind : "service", QS(c->stub.name), where, QN(k),
                      best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "");
    else
        diag_error_at(c->o->d, YPOS(k), "%sunknown key %s%s%s%s", where, QN(k),
                      best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "");
}

/* --- Scalars ------------------------------------------------------------ */

/* A scalar's text as a canonical string: an untagged string is its own
 * canonical node (a string prints by its text, whatever its style), a
 * number's text becomes a string. */
static struct ynode *n_text(struct canon *c, const struct ynode *v)
{
    if (!v->tag && yscalar_type(v) == YTYPE_STR)
        return (struct ynode *)v;
    return n_str(c, v, v->str, v->len);
}

/* A mapping key as canonical: a plain untagged key is its own. */
static struct ynode *n_key(struct canon *c, const struct ynode *k)
{
    if (!k->tag && k->style == YSTYLE_PLAIN && !yscalar_has_nul(k))
        return (struct ynode *)k;
    return canon_key(c->a, k, k->str);
}

static struct ynode *c_str(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v) && !v->tag)
        return NULL;
    return want_string(&c->m, &c->stub, path, v) ? n_text(c, v) : NULL;
}

/* The specification's string-or-boolean (build.sbom, build.provenance): a
 * boolean becomes the string compose-go decodes it to. */
static struct ynode *c_str_or_bool(struct canon *c, const struct ynode *v, const char *path)
{
    bool b;
    if (v->kind == YNODE_SCALAR && yscalar_type(v) == YTYPE_BOOL && yscalar_bool(v, &b) == 0)
        return n_cstr(c, v, b ? "true" : "false");
    return c_str(c, v, path);
}

static struct ynode *c_path(struct canon *c, const struct ynode *v, const char *path)
{
    const char *s = want_string(&c->m, &c->stub, path, v);
    if (!s)
        return NULL;
    if (!*s || lenient_text(c, v))
        return n_cstr(c, v, s);
    _cleanup_free_ char *abs = NULL;
    if (s[0] == '~' && (s[1] == '/' || !s[1])) {
        const char *home = c->o->env ? envtab_get(c->o->env, "HOME", 4) : NULL;
        if (!home || home[0] != '/') {
            cerr(c, v, path, "%s: \"~\" needs HOME to be set to an absolute path", QS(s));
            return NULL;
        }
        abs = path_absolute(home, s[1] ? s + 2 : ".");
    } else {
        abs = path_absolute(c->o->base_dir, s);
    }
    return n_cstr(c, v, abs);
}

static struct ynode *c_bool(struct canon *c, const struct ynode *v, const char *path)
{
    bool b;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    return want_bool(&c->m, &c->stub, path, v, &b) == 0 ? n_bool(c, v, b) : NULL;
}

static struct ynode *c_int(struct canon *c, const struct ynode *v, const char *path, int64_t min)
{
    int64_t n;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    return want_int(&c->m, &c->stub, path, v, min, &n) == 0 ? n_int(c, v, n) : NULL;
}

static struct ynode *c_float(struct canon *c, const struct ynode *v, const char *path)
{
    double f;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    return want_cpus(&c->m, &c->stub, path, v, &f) == 0 ? n_float32(c, v, f) : NULL;
}

static struct ynode *c_duration(struct canon *c, const struct ynode *v, const char *path)
{
    int64_t ns;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    if (want_duration(&c->m, &c->stub, path, v, &ns) < 0)
        return NULL;
    char buf[64];
    duration_go(ns, buf, sizeof buf);
    return n_cstr(c, v, buf);
}

static struct ynode *c_bytes(struct canon *c, const struct ynode *v, const char *path)
{
    int64_t b;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    if (want_size(&c->m, &c->stub, path, v, &b) < 0)
        return NULL;
    char buf[FORMAT_INT_MAX];
    return n_str(c, v, buf, format_int(buf, b));
}

/* Strings of a list item: any scalar's text but null. */
static struct ynode *item_str(struct canon *c, const struct ynode *it, size_t i, const char *path)
{
    if (it->kind != YNODE_SCALAR || ynode_is_null(it) || yscalar_has_nul(it)) {
        cerr(c, it, path, "item %zu: expected a string, got %s", i + 1,
             yscalar_has_nul(it) ? "a string with a NUL" : ynode_describe(it));
        return NULL;
    }
    bool b;
    if (yscalar_bool(it, &b) == 0)
        return n_cstr(c, it, b ? "true" : "false");
    return n_text(c, it);
}

static struct ynode *c_strlist(struct canon *c, const struct ynode *v, const char *path,
                               bool allow_one)
{
    struct sb b = {0};
    if (allow_one && v->kind == YNODE_SCALAR) {
        if (ynode_is_null(v))
            return NULL;
        sb_add(c, &b, item_str(c, v, 0, path));
        return b.n ? sb_done(c, &b, v) : NULL;
    }
    if (v->kind != YNODE_SEQ) {
        cerr(c, v, path, "expected a list of strings, got %s", ynode_describe(v));
        return NULL;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        struct ynode *it = item_str(c, v->items[i], i, path);
        if (!it)
            return NULL;
        sb_add(c, &b, it);
    }
    return sb_done(c, &b, v);
}

/* Mappings of strings from a mapping or a KEY=VALUE list. */
static struct ynode *c_map(struct canon *c, const struct ynode *v, const char *path, bool eq)
{
    struct ynode *map;
    const struct ynode *bad = NULL;
    if (envmap_from_node(c->a, v, &map, &bad) < 0) {
        cerr(c, bad, path,
             bad == v ? "expected a mapping or a list of \"KEY=VALUE\" strings, got %s"
                      : "expected a \"KEY=VALUE\" string, got %s",
             ynode_describe(bad));
        return NULL;
    }
    struct mb b = {0};
    mb_reserve(c, &b, map->n_pairs);
    bool ok = true;
    for (size_t i = 0; i < map->n_pairs; i++) {
        struct ynode *k = map->pairs[i].key, *val = map->pairs[i].value;
        if (k->len == 0 || yscalar_has_nul(k) || (eq && memchr(k->str, '=', k->len))) {
            cerr(c, k, path, "invalid %s %s", eq ? "variable name" : "name", QN(k));
            ok = false;
            continue;
        }
        /* envmap marks a bare list entry ("KEY") as a plain empty scalar. */
        if (ynode_is_null(val)) {
            mb_add(c, &b, n_key(c, k), eq ? n_null(c, val) : n_cstr(c, val, ""));
            continue;
        }
        if (val->kind != YNODE_SCALAR) {
            cerr(c, val, path, "%s: expected a string, number, boolean or null, got %s", k->str,
                 ynode_describe(val));
            ok = false;
            continue;
        }
        if (yscalar_has_nul(val)) {
            cerr(c, val, path, "%s: value contains a NUL character", k->str);
            ok = false;
            continue;
        }
        bool bv;
        struct ynode *out =
            yscalar_bool(val, &bv) == 0 ? n_cstr(c, val, bv ? "true" : "false") : n_text(c, val);
        mb_add(c, &b, n_key(c, k), out);
    }
    return ok ? mb_done(c, &b, v, false) : NULL;
}

/* --- Structures ----------------------------------------------------------- */

static struct ynode *c_struct(struct canon *c, const struct schema *sc, const struct ynode *v,
                              const char *path);

static struct ynode *canon_value(struct canon *c, const struct field *f, const struct ynode *v,
                                 const char *path);

static struct ynode *c_map_of(struct canon *c, const struct schema *sc, const struct ynode *v,
                              const char *path)
{
    if (v->kind != YNODE_MAP) {
        cerr(c, v, path, "expected a mapping, got %s", ynode_describe(v));
        return NULL;
    }
    struct mb b = {0};
    mb_reserve(c, &b, v->n_pairs);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        _cleanup_free_ char *p = str_join(path, '.', k->str);
        struct ynode *out = ynode_is_null(val) ? n_null(c, val) : c_struct(c, sc, val, p);
        if (out)
            mb_add(c, &b, v->pairs[i].key, out);
    }
    return mb_done(c, &b, v, false);
}

/* Whether a canonical value is Go's zero value (left out by omitempty). */
static bool is_zero(const struct ynode *n)
{
    if (n->kind == YNODE_SEQ)
        return false; /* lists here are never nil once given */
    if (n->kind == YNODE_MAP)
        return false;
    switch (yscalar_type(n)) {
    case YTYPE_BOOL:
        return strcmp(n->str, "false") == 0;
    case YTYPE_INT:
    case YTYPE_FLOAT:
        return strtod(n->str, NULL) == 0;
    case YTYPE_NULL:
        return true;
    default:
        return n->len == 0;
    }
}

/* --- Shared nodes ---------------------------------------------------------- */

/* Nodes under an anchor (`<<: *base`, `logging: *logging`) hang under many
 * services; their canonical value is made once per pass (while a small cache
 * keeps it) and shared, as the input was. A value is only kept when making it
 * reported nothing, so each service still gets the messages that name it:
 * the same node under the same field then reports nothing again. */
static struct memo_entry *memo_slot(struct canon *c, const struct ynode *in, const struct field *f)
{
    uint64_t h = ((uint64_t)(uintptr_t)in ^ ((uint64_t)(uintptr_t)f << 1)) * 0x9E3779B97F4A7C15u;
    return &c->memo[(h >> 32) % MEMO_SLOTS];
}

static struct ynode *canon_value_shared(struct canon *c, const struct field *f,
                                        const struct ynode *v, const char *path)
{
    if (f->kind == K_ANY)
        return (struct ynode *)v;
    if (v->kind == YNODE_SCALAR) /* cheap to make again */
        return canon_value(c, f, v, path);
    struct memo_entry *e = memo_slot(c, v, f);
    if (e->in == v && e->f == f)
        return e->out;
    size_t errors = c->o->d->n_errors, warnings = c->o->d->n_warnings;
    struct ynode *out = canon_value(c, f, v, path);
    if (out && c->o->d->n_errors == errors && c->o->d->n_warnings == warnings)
        *e = (struct memo_entry){v, f, out};
    return out;
}

static size_t field_hash(const char *s, size_t len)
{
    return (len * 131 + (unsigned char)s[0] * 31 + (unsigned char)s[len - 1]) % FIELD_SLOTS;
}

static const struct field_index *field_index_of(struct canon *c, const struct schema *sc)
{
    struct field_index *x = &c->fields[((uintptr_t)sc / sizeof(void *)) % FIELD_INDEXES];
    if (x->sc == sc)
        return x;
    x->sc = sc;
    memset(x->slot, 0, sizeof x->slot);
    for (size_t i = 0; i < sc->n; i++) {
        size_t len = strlen(sc->fields[i].key), h = field_hash(sc->fields[i].key, len);
        while (x->slot[h])
            h = (h + 1) % FIELD_SLOTS;
        x->slot[h] = (uint8_t)(i + 1);
        x->len[i] = (uint8_t)len;
    }
    return x;
}

/* The field named exactly k (every field name is shorter than 256 bytes). */
static const struct field *find_field(struct canon *c, const struct schema *sc,
                                      const struct ynode *k)
{
    if (sc->n > FIELD_INDEX_MAX) {
        for (size_t i = 0; i < sc->n; i++)
            if (strlen(sc->fields[i].key) == k->len &&
                memcmp(sc->fields[i].key, k->str, k->len) == 0)
                return &sc->fields[i];
        return NULL;
    }
    if (k->len == 0 || k->len > UINT8_MAX)
        return NULL;
    const struct field_index *x = field_index_of(c, sc);
    for (size_t h = field_hash(k->str, k->len); x->slot[h]; h = (h + 1) % FIELD_SLOTS) {
        size_t i = x->slot[h] - 1u;
        if (x->len[i] == k->len && memcmp(sc->fields[i].key, k->str, k->len) == 0)
            return &sc->fields[i];
    }
    return NULL;
}

static bool final_reuses(const struct field *f);

static struct ynode *c_struct(struct canon *c, const struct schema *sc, const struct ynode *v,
                              const char *path)
{
    if (v->kind != YNODE_MAP) {
        cerr(c, v, path, "expected a mapping, got %s", ynode_describe(v));
        return NULL;
    }
    /* The value of each field, found in one pass over the mapping (the
     * largest schema, a service's, has fewer than 128 fields). */
    const struct ypair *small_at[128];
    _cleanup_free_ const struct ypair **big_at =
        sc->n > ARRAY_SIZE(small_at) ? xcalloc(sc->n, sizeof *big_at) : NULL;
    const struct ypair **at = big_at ? big_at : small_at;
    if (!big_at)
        memset(small_at, 0, sc->n * sizeof *small_at);
    struct mb ext = {0};
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ypair *pr = &v->pairs[i];
        if (is_ext(pr->key)) {
            mb_add(c, &ext, pr->key, pr->value);
            continue;
        }
        const struct field *f = find_field(c, sc, pr->key);
        if (!f) {
            unknown_key(c, sc, pr->key, path);
            continue;
        }
        at[f - sc->fields] = pr;
    }
    struct mb b = {0};
    mb_reserve(c, &b, v->n_pairs + 2); /* and command and entrypoint, always in the output */
    for (size_t i = 0; i < sc->n; i++) {
        const struct field *f = &sc->fields[i];
        const struct ypair *pr = at[i];
        if (!pr) {
            if ((f->flags & F_ALWAYS) && c->o->final) {
                struct ynode *nul = n_null(c, NULL);
                nul->yaml_omit = 1;
                mb_addk(c, &b, NULL, f->key, nul);
            }
            continue;
        }
        struct ynode *out;
        if (has_tag(pr->value, "!reset")) {
            if (c->o->final)
                continue; /* a reset with nothing to reset */
            out = pr->value;
        } else if (!c->o->final && ynode_is_null(pr->value) && !pr->value->tag &&
                   f->kind != K_BOOL && !(f->flags & F_NONULL)) {
            out = pr->value; /* merging decides what a null means */
        } else if (c->o->final && pr->value->canonical && final_reuses(f)) {
            out = pr->value;
        } else {
            /* The key's path for messages ("healthcheck.interval"). */
            char p[256];
            const char *fpath = f->key;
            size_t pl = strlen(path), fl = strlen(f->key);
            if (pl && pl + fl + 2 <= sizeof p) {
                memcpy(p, path, pl);
                p[pl] = '.';
                memcpy(p + pl + 1, f->key, fl + 1);
                fpath = p;
            }
            out = canon_value_shared(c, f, pr->value, fpath);
            /* Only fresh nodes: K_ANY values are the input's own. */
            if (out && out != pr->value && !c->o->final && final_reuses(f))
                out->canonical = 1;
            if (out && has_tag(pr->value, "!override") && !c->o->final) {
                struct ynode *copy = arena_alloc(c->a, sizeof *copy);
                *copy = *out;
                ynode_set_tag(copy, pr->value->tag);
                out = copy;
            }
        }
        if (!out && (f->flags & F_ALWAYS) && c->o->final) {
            out = n_null(c, NULL);
            out->yaml_omit = 1;
        }
        if (!out)
            continue;
        /* A byte size is printed as a string ("67108864") but is zero as
         * compose-go's int64 is. */
        if (c->o->final && (f->flags & F_OMITZERO) &&
            (is_zero(out) ||
             (f->kind == K_BYTES && out->kind == YNODE_SCALAR && strcmp(out->str, "0") == 0)))
            continue;
        /* Go's omitempty leaves out empty lists and mappings. */
        if (c->o->final && f->kind != K_STRUCT && !(f->flags & (F_ALWAYS | F_KEEP)) &&
            ((out->kind == YNODE_MAP && out->n_pairs == 0) ||
             (out->kind == YNODE_SEQ && out->n_items == 0)))
            continue;
        mb_add(c, &b, pr->key, out);
    }
    for (size_t i = 0; i < ext.n; i++)
        mb_add(c, &b, ext.p[i].key, ext.p[i].value);
    return mb_done(c, &b, v, true);
}

static struct ynode *canon_value(struct canon *c, const struct field *f, const struct ynode *v,
                                 const char *path)
{
    switch (f->kind) {
    case K_STR:
        return c_str(c, v, path);
    case K_PATH:
        return ynode_is_null(v) ? NULL : c_path(c, v, path);
    case K_BOOL:
        return c_bool(c, v, path); /* null is not a boolean */
    case K_INT:
        return ynode_is_null(v) ? NULL : c_int(c, v, path, INT64_MIN);
    case K_UINT:
        return ynode_is_null(v) ? NULL : c_int(c, v, path, 0);
    case K_FLOAT:
        return ynode_is_null(v) ? NULL : c_float(c, v, path);
    case K_DURATION:
        return ynode_is_null(v) ? NULL : c_duration(c, v, path);
    case K_BYTES:
        return ynode_is_null(v) ? NULL : c_bytes(c, v, path);
    case K_STRLIST:
        return ynode_is_null(v) ? NULL : c_strlist(c, v, path, false);
    case K_STR_OR_LIST:
        return ynode_is_null(v) ? NULL : c_strlist(c, v, path, true);
    case K_MAP_STR:
        return ynode_is_null(v) ? NULL : c_map(c, v, path, false);
    case K_MAP_EQ:
        return ynode_is_null(v) ? NULL : c_map(c, v, path, true);
    case K_STRUCT:
        return ynode_is_null(v) ? NULL : c_struct(c, f->sub, v, path);
    case K_MAP_OF:
        return ynode_is_null(v) ? NULL : c_map_of(c, f->sub, v, path);
    case K_FN:
        return f->fn(c, v, path);
    case K_ANY:
    default:
        return (struct ynode *)v;
    }
}

#define SCHEMA(name, ...)                                                                          \
    static const struct field name##_fields[] = {__VA_ARGS__};                                     \
    static const struct schema name = {name##_fields, ARRAY_SIZE(name##_fields), NULL}

/* --- Service keys with a shape of their own ---------------------------------- */

static struct ynode *c_command(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct sb b = {0};
    if (v->kind == YNODE_SCALAR) {
        if (yscalar_has_nul(v)) {
            cerr(c, v, path, "contains a NUL character");
            return NULL;
        }
        _cleanup_strv_ char **argv = NULL;
        long stop;
        const char *err;
        if (shellwords_split(v->str, &argv, &stop, &err) < 0) {
            cerr(c, v, path, "%s in %s", err, QN(v));
            return NULL;
        }
        if (stop >= 0)
            diag_warn_at(c->o->d, YPOS(v),
                         "service %s: %s: the unquoted %s ends the command; the rest (%s) is "
                         "dropped, as docker compose does (use [sh, -c, \"...\"] to run it "
                         "through a shell)",
                         QS(c->stub.name), path, diag_quote((char[DIAG_QBUF]){0}, v->str + stop, 1),
                         QS(v->str + stop));
        for (size_t i = 0; argv[i]; i++)
            sb_add(c, &b, n_cstr(c, v, argv[i]));
        return sb_done(c, &b, v);
    }
    if (v->kind != YNODE_SEQ) {
        cerr(c, v, path, "expected a string or a list of strings, got %s", ynode_describe(v));
        return NULL;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        struct ynode *it = item_str(c, v->items[i], i, path);
        if (!it)
            return NULL;
        sb_add(c, &b, it);
    }
    return sb_done(c, &b, v);
}

static struct ynode *c_build(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_ports(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_volumes(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_depends_on(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_env_file(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_networks(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_secrets(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_build_secrets(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_configs(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_ulimits(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_extra_hosts(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_devices(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_expose(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_extends(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_restart(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_stop_signal(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_pull_policy(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_hc_test(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_pids(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_memswap(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_working_dir(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_container_name(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_profiles(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_image(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_external(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_scale(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_build_context(struct canon *c, const struct ynode *v, const char *path);
/* A mapping's pairs with key replaced by val (NULL drops it); ordered as v. */
static struct ynode *with_key(struct canon *c, const struct ynode *v, const char *key,
                              struct ynode *val)
{
    struct mb b = {0};
    mb_reserve(c, &b, v->n_pairs);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key;
        bool is = k->len == strlen(key) && memcmp(k->str, key, k->len) == 0;
        if (!is)
            mb_add(c, &b, v->pairs[i].key, v->pairs[i].value);
        else if (val)
            mb_add(c, &b, v->pairs[i].key, val);
    }
    return mb_done(c, &b, v, v->ordered);
}

/* develop: each watch rule needs a path and an action (compose-go); the
 * path is made absolute, as docker compose prints it. */
static struct ynode *c_develop(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind != YNODE_MAP) {
        cerr(c, v, path, "expected a mapping, got %s", ynode_describe(v));
        return NULL;
    }
    const struct ynode *w = ymap_get(v, "watch");
    if (!w || ynode_is_null(w))
        return (struct ynode *)v;
    if (w->kind != YNODE_SEQ) {
        cerr(c, w, "develop.watch", "expected a list of watch rules, got %s", ynode_describe(w));
        return NULL;
    }
    static const char *const actions[] = {"sync", "rebuild", "restart", "sync+restart",
                                          "sync+exec"};
    struct sb out = {0};
    bool ok = true;
    for (size_t i = 0; i < w->n_items; i++) {
        const struct ynode *r = w->items[i];
        if (r->kind != YNODE_MAP) {
            cerr(c, r, "develop.watch", "expected a watch rule (a mapping), got %s",
                 ynode_describe(r));
            ok = false;
            continue;
        }
        const struct ynode *a = ymap_get(r, "action"), *wp = ymap_get(r, "path");
        size_t k = 0;
        while (a && a->kind == YNODE_SCALAR && k < ARRAY_SIZE(actions) &&
               strcmp(a->str, actions[k]))
            k++;
        if (!a || ynode_is_null(a) || (k == ARRAY_SIZE(actions) && !lenient_text(c, a))) {
            cerr(c, a && !ynode_is_null(a) ? a : r, "develop.watch",
                 "%s%s%s: each watch rule needs an action: sync, rebuild, restart, sync+restart "
                 "or sync+exec",
                 a && !ynode_is_null(a) ? "invalid action " : "missing action", "",
                 a && !ynode_is_null(a) ? QN(a) : "");
            ok = false;
            continue;
        }
        if (!wp || ynode_is_null(wp)) {
            cerr(c, r, "develop.watch", "each watch rule needs a path");
            ok = false;
            continue;
        }
        struct ynode *abs = c_path(c, wp, "develop.watch.path");
        if (!abs) {
            ok = false;
            continue;
        }
        sb_add(c, &out, with_key(c, r, "path", abs));
    }
    struct ynode *list = sb_done(c, &out, w);
    return ok ? with_key(c, v, "watch", list) : NULL;
}

/* Device requests (gpus:, deploy.resources.reservations.devices): count is
 * a number or "all", and not given together with device_ids; a
 * reservation also names its capabilities, as compose-go checks. */
static struct ynode *device_requests(struct canon *c, const struct ynode *v, const char *path,
                                     bool need_caps)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind != YNODE_SEQ) {
        cerr(c, v, path, "expected a list of device requests, got %s", ynode_describe(v));
        return NULL;
    }
    bool ok = true;
    struct sb out = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *d = v->items[i];
        if (d->kind != YNODE_MAP) {
            cerr(c, d, path, "expected a device request (a mapping), got %s", ynode_describe(d));
            ok = false;
            continue;
        }
        const struct ynode *count = ymap_get(d, "count"), *ids = ymap_get(d, "device_ids"),
                           *caps = ymap_get(d, "capabilities");
        int64_t n = -1; /* "all", as compose-go's DeviceCount reads it */
        bool has_count = count && !ynode_is_null(count);
        if (has_count && lenient_text(c, count))
            has_count = false; /* left as written */
        else if (has_count && !(count->kind == YNODE_SCALAR && strcmp(count->str, "all") == 0) &&
                 want_int(&c->m, &c->stub, path, count, -1, &n) < 0) {
            ok = false;
            continue;
        }
        if (count && !ynode_is_null(count) && ids && !ynode_is_null(ids)) {
            cerr(c, ids, path, "count and device_ids cannot be set together");
            ok = false;
        }
        if (need_caps && (!caps || ynode_is_null(caps))) {
            cerr(c, d, path, "a device request needs its capabilities (e.g. [gpu])");
            ok = false;
        }
        sb_add(c, &out,
               has_count ? with_key(c, d, "count", n_int(c, count, n)) : (struct ynode *)d);
    }
    return ok ? sb_done(c, &out, v) : NULL;
}

static struct ynode *c_gpus(struct canon *c, const struct ynode *v, const char *path)
{
    if (v->kind == YNODE_SCALAR && strcmp(v->str, "all") == 0) {
        /* compose-go: one request for every device, count -1 */
        struct mb b = {0};
        mb_addk(c, &b, v, "count", n_int(c, v, -1));
        struct sb one = {0};
        sb_add(c, &one, mb_done(c, &b, v, false));
        return sb_done(c, &one, v);
    }
    return device_requests(c, v, path, false);
}

static struct ynode *c_reserved_devices(struct canon *c, const struct ynode *v, const char *path)
{
    return device_requests(c, v, path, true);
}

/* build.ssh: a list ("default", "ID=PATH") or a mapping (ID: PATH); the
 * paths made absolute, as compose-go; null is not a value for it. */
static struct ynode *c_build_ssh(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v)) {
        cerr(c, v, path, "expected a list or mapping of SSH agents or keys, got null");
        return NULL;
    }
    if (v->kind == YNODE_MAP) {
        struct mb b = {0};
        for (size_t i = 0; i < v->n_pairs; i++) {
            const struct ynode *val = v->pairs[i].value;
            struct ynode *p = ynode_is_null(val) ? (struct ynode *)val : c_path(c, val, path);
            if (!p)
                return NULL;
            mb_add(c, &b, v->pairs[i].key, p);
        }
        return mb_done(c, &b, v, false);
    }
    if (v->kind != YNODE_SEQ) {
        cerr(c, v, path, "expected a list or mapping of SSH agents or keys, got %s",
             ynode_describe(v));
        return NULL;
    }
    struct sb out = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        const char *e = want_string(&c->m, &c->stub, path, v->items[i]);
        if (!e)
            return NULL;
        const char *eq = strchr(e, '=');
        if (!eq || lenient_text(c, v->items[i])) {
            sb_add(c, &out, n_cstr(c, v->items[i], e));
            continue;
        }
        _cleanup_free_ char *id = xstrndup(e, (size_t)(eq - e));
        _cleanup_free_ char *abs =
            eq[1] == '/' ? xstrdup(eq + 1) : path_absolute(c->o->base_dir, eq + 1);
        _cleanup_free_ char *entry = xasprintf("%s=%s", id, abs);
        sb_add(c, &out, n_cstr(c, v->items[i], entry));
    }
    return sb_done(c, &out, v);
}

/* label_file: one path or a list, made absolute (compose-go). */
static struct ynode *c_label_file(struct canon *c, const struct ynode *v, const char *path)
{
    if (v->kind == YNODE_SCALAR) {
        struct ynode *p = c_path(c, v, path);
        if (!p)
            return NULL;
        struct sb one = {0};
        sb_add(c, &one, p);
        return sb_done(c, &one, v);
    }
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    struct sb out = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        struct ynode *p = c_path(c, v->items[i], path);
        if (!p)
            return NULL;
        sb_add(c, &out, p);
    }
    return sb_done(c, &out, v);
}

/* build.additional_contexts: a local directory is made absolute; an URL
 * ("docker-image://", "https://", "oci-layout://") or another stage
 * ("target:", "service:") is kept as written. */
static struct ynode *c_additional_contexts(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *m = canon_value(c, &(const struct field){"", K_MAP_STR, 0, NULL, NULL}, v, path);
    if (!m || m->kind != YNODE_MAP)
        return m;
    struct mb b = {0};
    for (size_t i = 0; i < m->n_pairs; i++) {
        struct ynode *val = m->pairs[i].value;
        const char *s = val->kind == YNODE_SCALAR ? val->str : NULL;
        bool local = s && *s && !strstr(s, "://") && strncmp(s, "target:", 7) != 0 &&
                     strncmp(s, "service:", 8) != 0 && strncmp(s, "git@", 4) != 0 &&
                     !lenient_text(c, val);
        mb_add(c, &b, m->pairs[i].key, local ? c_path(c, val, path) : val);
    }
    return mb_done(c, &b, m, m->ordered);
}

static struct ynode *c_rp_condition(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_ipam_config(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_vtype(struct canon *c, const struct ynode *v, const char *path);
static struct ynode *c_vsource(struct canon *c, const struct ynode *v, const char *path);

/* Whether a field's canonical value is the same in the final pass: then a
 * value the first pass made is taken as it is (the final pass only adds
 * defaults, drops zero values and restores the key order). */
static bool final_reuses(const struct field *f)
{
    static const canon_fn same[] = {
        c_command,       c_ports,       c_expose,        c_extra_hosts,    c_devices,
        c_ulimits,       c_secrets,     c_build_secrets, c_configs,        c_networks,
        c_restart,       c_stop_signal, c_image,         c_container_name, c_profiles,
        c_scale,         c_pids,        c_memswap,       c_working_dir,    c_hc_test,
        c_build_context, c_external,    c_ipam_config,   c_rp_condition,   c_vtype,
        c_vsource};
    switch (f->kind) {
    case K_STR:
    case K_PATH:
    case K_BOOL:
    case K_INT:
    case K_UINT:
    case K_FLOAT:
    case K_DURATION:
    case K_BYTES:
    case K_STRLIST:
    case K_STR_OR_LIST:
    case K_MAP_STR:
    case K_MAP_EQ:
        return true;
    case K_FN:
        for (size_t i = 0; i < ARRAY_SIZE(same); i++)
            if (same[i] == f->fn)
                return true;
        return false;
    default:
        return false;
    }
}

SCHEMA(healthcheck_schema, {"test", K_FN, 0, NULL, c_hc_test},
       {"timeout", K_DURATION, 0, NULL, NULL}, {"interval", K_DURATION, 0, NULL, NULL},
       {"retries", K_UINT, 0, NULL, NULL}, {"start_period", K_DURATION, 0, NULL, NULL},
       {"start_interval", K_DURATION, 0, NULL, NULL},
       {"disable", K_BOOL, F_OMITZERO, NULL, NULL}, );

SCHEMA(logging_schema, {"driver", K_STR, 0, NULL, NULL}, {"options", K_MAP_STR, 0, NULL, NULL}, );

SCHEMA(update_schema, {"parallelism", K_UINT, 0, NULL, NULL},
       {"delay", K_DURATION, F_OMITZERO, NULL, NULL}, {"failure_action", K_STR, 0, NULL, NULL},
       {"monitor", K_DURATION, F_OMITZERO, NULL, NULL},
       {"max_failure_ratio", K_FLOAT, F_OMITZERO, NULL, NULL}, {"order", K_STR, 0, NULL, NULL}, );

SCHEMA(resource_schema, {"cpus", K_FLOAT, F_OMITZERO, NULL, NULL},
       {"memory", K_BYTES, F_OMITZERO, NULL, NULL}, {"pids", K_INT, F_OMITZERO, NULL, NULL},
       {"devices", K_FN, 0, NULL, c_reserved_devices},
       {"generic_resources", K_ANY, 0, NULL, NULL}, );

SCHEMA(resources_schema, {"limits", K_STRUCT, 0, &resource_schema, NULL},
       {"reservations", K_STRUCT, 0, &resource_schema, NULL}, );

static struct ynode *c_rp_condition(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    if (s && !lenient_text(c, v) && strcmp(s->str, "none") && strcmp(s->str, "on-failure") &&
        strcmp(s->str, "any")) {
        cerr(c, v, path, "invalid condition %s (use none, on-failure or any)", QN(v));
        return NULL;
    }
    return s;
}

static const struct field restart_policy_fields2[] = {
    {"condition", K_FN, 0, NULL, c_rp_condition},
    {"delay", K_DURATION, 0, NULL, NULL},
    {"max_attempts", K_UINT, 0, NULL, NULL},
    {"window", K_DURATION, 0, NULL, NULL},
};
static const struct schema restart_policy_schema2 = {restart_policy_fields2,
                                                     ARRAY_SIZE(restart_policy_fields2), NULL};

SCHEMA(deploy_schema, {"mode", K_STR, 0, NULL, NULL}, {"replicas", K_FN, 0, NULL, c_scale},
       {"labels", K_MAP_STR, 0, NULL, NULL}, {"update_config", K_STRUCT, 0, &update_schema, NULL},
       {"rollback_config", K_STRUCT, 0, &update_schema, NULL},
       {"resources", K_STRUCT, 0, &resources_schema, NULL},
       {"restart_policy", K_STRUCT, 0, &restart_policy_schema2, NULL},
       {"placement", K_ANY, 0, NULL, NULL}, {"endpoint_mode", K_STR, 0, NULL, NULL}, );

SCHEMA(build_schema, {"context", K_FN, 0, NULL, c_build_context},
       {"dockerfile", K_STR, 0, NULL, NULL}, {"dockerfile_inline", K_STR, 0, NULL, NULL},
       {"entitlements", K_STRLIST, 0, NULL, NULL}, {"args", K_MAP_EQ, 0, NULL, NULL},
       {"provenance", K_FN, 0, NULL, c_str_or_bool}, {"sbom", K_FN, 0, NULL, c_str_or_bool},
       {"ssh", K_FN, F_NONULL, NULL, c_build_ssh}, {"labels", K_MAP_STR, 0, NULL, NULL},
       {"cache_from", K_STR_OR_LIST, 0, NULL, NULL}, {"cache_to", K_STR_OR_LIST, 0, NULL, NULL},
       {"no_cache", K_BOOL, F_OMITZERO, NULL, NULL},
       {"no_cache_filter", K_STR_OR_LIST, 0, NULL, NULL},
       {"additional_contexts", K_FN, 0, NULL, c_additional_contexts},
       {"pull", K_BOOL, F_OMITZERO, NULL, NULL}, {"extra_hosts", K_FN, 0, NULL, c_extra_hosts},
       {"isolation", K_STR, 0, NULL, NULL}, {"network", K_STR, 0, NULL, NULL},
       {"target", K_STR, 0, NULL, NULL}, {"secrets", K_FN, 0, NULL, c_build_secrets},
       {"shm_size", K_BYTES, F_OMITZERO, NULL, NULL}, {"tags", K_STR_OR_LIST, 0, NULL, NULL},
       {"ulimits", K_FN, 0, NULL, c_ulimits}, {"platforms", K_STR_OR_LIST, 0, NULL, NULL},
       {"privileged", K_BOOL, F_OMITZERO, NULL, NULL}, );

/* The service keys in compose's output order (compose-go's ServiceConfig). */
SCHEMA(
    service_schema, {"profiles", K_FN, 0, NULL, c_profiles},
    {"annotations", K_MAP_STR, 0, NULL, NULL}, {"attach", K_BOOL, 0, NULL, NULL},
    {"build", K_FN, 0, NULL, c_build}, {"develop", K_FN, 0, NULL, c_develop},
    {"blkio_config", K_ANY, 0, NULL, NULL}, {"cap_add", K_STRLIST, 0, NULL, NULL},
    {"cap_drop", K_STRLIST, 0, NULL, NULL}, {"cgroup_parent", K_STR, F_OMITZERO, NULL, NULL},
    {"cgroup", K_STR, F_OMITZERO, NULL, NULL}, {"cpu_count", K_INT, F_OMITZERO, NULL, NULL},
    {"cpu_percent", K_FLOAT, F_OMITZERO, NULL, NULL}, {"cpu_period", K_INT, F_OMITZERO, NULL, NULL},
    {"cpu_quota", K_INT, F_OMITZERO, NULL, NULL}, {"cpu_rt_period", K_INT, F_OMITZERO, NULL, NULL},
    {"cpu_rt_runtime", K_INT, F_OMITZERO, NULL, NULL}, {"cpus", K_FLOAT, F_OMITZERO, NULL, NULL},
    {"cpuset", K_STR, F_OMITZERO, NULL, NULL}, {"cpu_shares", K_INT, F_OMITZERO, NULL, NULL},
    {"command", K_FN, F_ALWAYS, NULL, c_command}, {"configs", K_FN, 0, NULL, c_configs},
    {"container_name", K_FN, 0, NULL, c_container_name}, {"credential_spec", K_ANY, 0, NULL, NULL},
    {"depends_on", K_FN, 0, NULL, c_depends_on}, {"deploy", K_STRUCT, 0, &deploy_schema, NULL},
    {"device_cgroup_rules", K_STRLIST, 0, NULL, NULL}, {"devices", K_FN, 0, NULL, c_devices},
    {"dns", K_STR_OR_LIST, 0, NULL, NULL}, {"dns_opt", K_STRLIST, 0, NULL, NULL},
    {"dns_search", K_STR_OR_LIST, 0, NULL, NULL}, {"domainname", K_STR, F_OMITZERO, NULL, NULL},
    {"entrypoint", K_FN, F_ALWAYS, NULL, c_command}, {"provider", K_ANY, 0, NULL, NULL},
    {"environment", K_MAP_EQ, 0, NULL, NULL}, {"env_file", K_FN, 0, NULL, c_env_file},
    {"expose", K_FN, 0, NULL, c_expose}, {"extends", K_FN, 0, NULL, c_extends},
    {"external_links", K_STRLIST, 0, NULL, NULL}, {"extra_hosts", K_FN, 0, NULL, c_extra_hosts},
    {"group_add", K_STRLIST, 0, NULL, NULL}, {"gpus", K_FN, 0, NULL, c_gpus},
    {"hostname", K_STR, F_OMITZERO, NULL, NULL},
    {"healthcheck", K_STRUCT, 0, &healthcheck_schema, NULL}, {"image", K_FN, 0, NULL, c_image},
    {"init", K_BOOL, 0, NULL, NULL}, {"ipc", K_STR, F_OMITZERO, NULL, NULL},
    {"isolation", K_STR, F_OMITZERO, NULL, NULL}, {"labels", K_MAP_STR, 0, NULL, NULL},
    {"label_file", K_FN, 0, NULL, c_label_file}, {"links", K_STRLIST, 0, NULL, NULL},
    {"logging", K_STRUCT, 0, &logging_schema, NULL}, {"mem_limit", K_BYTES, F_OMITZERO, NULL, NULL},
    {"mem_reservation", K_BYTES, F_OMITZERO, NULL, NULL},
    {"memswap_limit", K_FN, F_OMITZERO, NULL, c_memswap},
    {"mem_swappiness", K_INT, F_OMITZERO, NULL, NULL},
    {"mac_address", K_STR, F_OMITZERO, NULL, NULL}, {"models", K_ANY, 0, NULL, NULL},
    {"network_mode", K_STR, F_OMITZERO, NULL, NULL}, {"networks", K_FN, 0, NULL, c_networks},
    {"oom_kill_disable", K_BOOL, F_OMITZERO, NULL, NULL},
    {"oom_score_adj", K_INT, F_OMITZERO, NULL, NULL}, {"pid", K_STR, F_OMITZERO, NULL, NULL},
    {"pids_limit", K_FN, 0, NULL, c_pids}, {"platform", K_STR, F_OMITZERO, NULL, NULL},
    {"ports", K_FN, 0, NULL, c_ports}, {"privileged", K_BOOL, F_OMITZERO, NULL, NULL},
    {"pull_policy", K_FN, F_OMITZERO, NULL, c_pull_policy},
    {"pull_refresh_after", K_STR, F_OMITZERO, NULL, NULL},
    {"read_only", K_BOOL, F_OMITZERO, NULL, NULL}, {"restart", K_FN, F_OMITZERO, NULL, c_restart},
    {"runtime", K_STR, F_OMITZERO, NULL, NULL}, {"scale", K_FN, 0, NULL, c_scale},
    {"secrets", K_FN, 0, NULL, c_secrets}, {"security_opt", K_STRLIST, 0, NULL, NULL},
    {"shm_size", K_BYTES, F_OMITZERO, NULL, NULL}, {"stdin_open", K_BOOL, F_OMITZERO, NULL, NULL},
    {"stop_grace_period", K_DURATION, 0, NULL, NULL},
    {"stop_signal", K_FN, F_OMITZERO, NULL, c_stop_signal},
    {"storage_opt", K_MAP_STR, 0, NULL, NULL}, {"sysctls", K_MAP_STR, 0, NULL, NULL},
    {"tmpfs", K_STR_OR_LIST, 0, NULL, NULL}, {"tty", K_BOOL, F_OMITZERO, NULL, NULL},
    {"ulimits", K_FN, 0, NULL, c_ulimits}, {"use_api_socket", K_BOOL, F_OMITZERO, NULL, NULL},
    {"user", K_STR, F_OMITZERO, NULL, NULL}, {"userns_mode", K_STR, F_OMITZERO, NULL, NULL},
    {"uts", K_STR, F_OMITZERO, NULL, NULL}, {"volumes", K_FN, 0, NULL, c_volumes},
    {"volumes_from", K_STRLIST, 0, NULL, NULL},
    {"working_dir", K_FN, F_OMITZERO, NULL, c_working_dir}, {"post_start", K_ANY, 0, NULL, NULL},
    {"pre_start", K_ANY, 0, NULL, NULL}, {"pre_stop", K_ANY, 0, NULL, NULL}, );

SCHEMA(ipam_pool_schema, {"subnet", K_STR, 0, NULL, NULL}, {"gateway", K_STR, 0, NULL, NULL},
       {"ip_range", K_STR, 0, NULL, NULL}, {"aux_addresses", K_MAP_STR, 0, NULL, NULL}, );

static struct ynode *c_ipam_config(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    struct sb b = {0};
    for (size_t i = 0; i < v->n_items; i++)
        sb_add(c, &b, c_struct(c, &ipam_pool_schema, v->items[i], path));
    return sb_done(c, &b, v);
}

SCHEMA(ipam_schema, {"driver", K_STR, 0, NULL, NULL}, {"config", K_FN, 0, NULL, c_ipam_config},
       {"options", K_MAP_STR, 0, NULL, NULL}, );

SCHEMA(network_schema, {"name", K_STR, 0, NULL, NULL}, {"driver", K_STR, 0, NULL, NULL},
       {"driver_opts", K_MAP_STR, 0, NULL, NULL}, {"ipam", K_STRUCT, 0, &ipam_schema, NULL},
       {"external", K_FN, F_OMITZERO, NULL, c_external},
       {"internal", K_BOOL, F_OMITZERO, NULL, NULL}, {"attachable", K_BOOL, F_OMITZERO, NULL, NULL},
       {"labels", K_MAP_STR, 0, NULL, NULL}, {"enable_ipv4", K_BOOL, 0, NULL, NULL},
       {"enable_ipv6", K_BOOL, 0, NULL, NULL}, );

/* A volume's driver_opts: with a bind option ("o: bind"), device is a host
 * path, made absolute as compose-go does. */
static struct ynode *c_vol_driver_opts(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *m = canon_value(c, &(const struct field){"", K_MAP_STR, 0, NULL, NULL}, v, path);
    const struct ynode *o = m && m->kind == YNODE_MAP ? ymap_get(m, "o") : NULL;
    const struct ynode *dev = o ? ymap_get(m, "device") : NULL;
    if (!dev || dev->kind != YNODE_SCALAR || !strstr(o->str, "bind") || !dev->len ||
        dev->str[0] == '/' || lenient_text(c, dev))
        return m;
    struct ynode *abs = c_path(c, dev, path);
    return abs ? with_key(c, m, "device", abs) : NULL;
}

SCHEMA(volume_schema, {"name", K_STR, 0, NULL, NULL}, {"driver", K_STR, 0, NULL, NULL},
       {"driver_opts", K_FN, 0, NULL, c_vol_driver_opts},
       {"external", K_FN, F_OMITZERO, NULL, c_external}, {"labels", K_MAP_STR, 0, NULL, NULL}, );

SCHEMA(file_object_schema, {"name", K_STR, 0, NULL, NULL}, {"file", K_PATH, 0, NULL, NULL},
       {"environment", K_STR, 0, NULL, NULL}, {"content", K_STR, 0, NULL, NULL},
       {"external", K_FN, F_OMITZERO, NULL, c_external}, {"labels", K_MAP_STR, 0, NULL, NULL},
       {"driver", K_STR, 0, NULL, NULL}, {"driver_opts", K_MAP_STR, 0, NULL, NULL},
       {"template_driver", K_STR, 0, NULL, NULL}, );

/* --- The custom keys ---------------------------------------------------------- */

static struct ynode *c_build_context(struct canon *c, const struct ynode *v, const char *path)
{
    const char *s = want_string(&c->m, &c->stub, path, v);
    if (!s)
        return NULL;
    /* Remote contexts stay as written. */
    if (strstr(s, "://") || strncmp(s, "git@", 4) == 0 || strncmp(s, "github.com/", 11) == 0)
        return n_cstr(c, v, s);
    return c_path(c, v, path);
}

static struct ynode *c_build(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind == YNODE_SCALAR) {
        struct mb b = {0};
        mb_addk(c, &b, v, "context", c_build_context(c, v, path));
        return b.n ? mb_done(c, &b, v, true) : NULL;
    }
    return c_struct(c, &build_schema, v, path);
}

static struct ynode *c_image(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    const struct ynode *build = c->svc_body ? ymap_get(c->svc_body, "build") : NULL;
    if (s && !s->len && build && !ynode_is_null(build)) {
        /* As docker compose: the service is built, under its default
         * name (an unset variable in image: is common in such files). */
        diag_warn_at(c->o->d, YPOS(v),
                     "service %s: image is empty; the image built from build: is used",
                     QS(c->stub.name));
        return NULL;
    }
    if (s && !s->len) {
        cerr(c, v, path, "must not be empty");
        return NULL;
    }
    return s;
}

static struct ynode *c_working_dir(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    if (s && s->len && s->str[0] != '/' && !lenient_text(c, v)) {
        cerr(c, v, path, "must be an absolute path, got %s", QN(v));
        return NULL;
    }
    return s;
}

static bool valid_name(const char *s, size_t len, size_t min)
{
    if (len < min || len > 255)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
            return false;
    }
    return true;
}

static struct ynode *c_container_name(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    if (s && !lenient_text(c, v) && !valid_name(s->str, s->len, 2)) {
        cerr(c, v, path,
             "invalid name %s: it must start with a letter or digit and hold only letters, "
             "digits, \"_\", \".\" and \"-\" (at least 2 characters)",
             QN(v));
        return NULL;
    }
    return s;
}

static struct ynode *c_profiles(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct ynode *l = c_strlist(c, v, path, false);
    for (size_t i = 0; l && i < l->n_items; i++)
        if (!valid_name(l->items[i]->str, l->items[i]->len, 1) && !lenient_text(c, l->items[i])) {
            cerr(c, v->items[i], path,
                 "invalid profile name %s: it must start with a letter or digit and hold only "
                 "letters, digits, \"_\", \".\" and \"-\"",
                 QN(l->items[i]));
            return NULL;
        }
    return l;
}

#define MAX_REPLICAS 10000

static struct ynode *c_scale(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct ynode *n = c_int(c, v, path, 0);
    if (n && !lenient_text(c, v) && strtoll(n->str, NULL, 10) > MAX_REPLICAS) {
        cerr(c, v, path, "%s replicas is more than the limit of %d", n->str, MAX_REPLICAS);
        return NULL;
    }
    return n;
}

static struct ynode *c_pids(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (lenient_text(c, v))
        return n_cstr(c, v, v->str);
    int64_t n;
    if (v->kind != YNODE_SCALAR || yscalar_type(v) == YTYPE_BOOL) {
        cerr(c, v, path, "expected a whole number, got %s", ynode_describe(v));
        return NULL;
    }
    char *end;
    errno = 0;
    n = strtoll(v->str, &end, 0);
    if (!v->len || *end || errno || n < -1) {
        cerr(c, v, path, "invalid limit %s (use a positive number, or -1 for no limit)", QN(v));
        return NULL;
    }
    return n_int(c, v, n);
}

static struct ynode *c_memswap(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind == YNODE_SCALAR && strcmp(v->str, "-1") == 0)
        return n_cstr(c, v, "-1");
    return c_bytes(c, v, path);
}

static struct ynode *c_restart(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    enum restart_policy pol;
    int64_t n;
    if (s && !lenient_text(c, v) && restart_spec_parse(s->str, &pol, &n) < 0) {
        cerr(c, v, path,
             "invalid restart policy %s (use \"no\", always, on-failure, on-failure:N or "
             "unless-stopped)",
             QN(v));
        return NULL;
    }
    return s;
}

static struct ynode *c_stop_signal(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    if (s && !lenient_text(c, v) && signal_parse(s->str) < 0) {
        cerr(c, v, path, "invalid signal %s (use a name such as SIGTERM or SIGINT, or a number)",
             QN(v));
        return NULL;
    }
    return s;
}

static struct ynode *c_pull_policy(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    if (!s || lenient_text(c, v))
        return s;
    static const char *const ok[] = {"always",         "never",  "missing",
                                     "if_not_present", "build",  "refresh",
                                     "daily",          "weekly", NULL};
    int64_t ns;
    bool good = pull_refresh_parse(s->str, &ns) == 0;
    for (size_t i = 0; ok[i] && !good; i++)
        good = strcmp(s->str, ok[i]) == 0;
    if (!good) {
        cerr(c, v, path,
             "invalid pull policy %s (use always, never, missing, build, daily, weekly or "
             "every_<duration>)",
             QN(v));
        return NULL;
    }
    if (c->o->final && strcmp(s->str, "if_not_present") == 0)
        return n_cstr(c, v, "missing");
    return s;
}

static struct ynode *c_external(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind == YNODE_MAP) /* legacy {name: x}: the caller takes the name */
        return n_bool(c, v, true);
    return c_bool(c, v, path);
}

static struct ynode *c_hc_test(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct sb b = {0};
    if (v->kind == YNODE_SCALAR) {
        struct ynode *s = c_str(c, v, path);
        if (!s)
            return NULL;
        sb_add(c, &b, n_cstr(c, v, "CMD-SHELL"));
        sb_add(c, &b, s);
        return sb_done(c, &b, v);
    }
    struct ynode *l = c_strlist(c, v, path, false);
    /* An empty list has no first item to look at (`test: []`). */
    if (l && (l->n_items == 0 ||
              (!lenient_text(c, l->items[0]) && strcmp(l->items[0]->str, "CMD") &&
               strcmp(l->items[0]->str, "CMD-SHELL") && strcmp(l->items[0]->str, "NONE")))) {
        cerr(c, v, path, "a list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
        return NULL;
    }
    return l;
}

/* ports: short specs expand to one entry per port; long entries get
 * compose's defaults (mode ingress, protocol tcp). */
#define MAX_PORTS_PER_SERVICE 65536

static struct ynode *port_node(struct canon *c, const struct ynode *at, const char *name,
                               const char *mode, const char *host_ip, struct ynode *target,
                               const char *published, const char *protocol,
                               const char *app_protocol)
{
    struct mb b = {0};
    if (name && *name)
        mb_addk(c, &b, at, "name", n_cstr(c, at, name));
    mb_addk(c, &b, at, "mode", n_cstr(c, at, mode));
    if (host_ip && *host_ip)
        mb_addk(c, &b, at, "host_ip", n_cstr(c, at, host_ip));
    mb_addk(c, &b, at, "target", target);
    if (published && *published)
        mb_addk(c, &b, at, "published", n_cstr(c, at, published));
    mb_addk(c, &b, at, "protocol", n_cstr(c, at, protocol));
    if (app_protocol && *app_protocol)
        mb_addk(c, &b, at, "app_protocol", n_cstr(c, at, app_protocol));
    return mb_done(c, &b, at, true);
}

static const char *opt_str(struct canon *c, const struct ynode *map, const char *key,
                           const char *path, bool *ok)
{
    const struct ynode *v = ymap_get(map, key);
    if (!v || ynode_is_null(v))
        return NULL;
    const char *s = want_string(&c->m, &c->stub, path, v);
    if (!s)
        *ok = false;
    return s;
}

static struct ynode *c_ports(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    struct sb b = {0};
    /* Entries of one spec; grown only for ranges. */
    struct port_entry small_pe[16];
    long pe_cap = (long)ARRAY_SIZE(small_pe);
    struct port_entry *pe = small_pe, *big_pe = NULL;
    long total = 0;
    bool ok = true;
    for (size_t i = 0; i < v->n_items && ok; i++) {
        const struct ynode *it = v->items[i];
        if (it->kind == YNODE_MAP) {
            static const char *const keys[] = {"name",      "mode",     "host_ip",      "target",
                                               "published", "protocol", "app_protocol", NULL};
            for (size_t k = 0; k < it->n_pairs; k++) {
                bool known = is_ext(it->pairs[k].key);
                for (size_t j = 0; keys[j] && !known; j++)
                    known = strcmp(keys[j], it->pairs[k].key->str) == 0;
                if (!known) {
                    static const struct field pf[] = {
                        {"name", 0, 0, 0, 0},        {"mode", 0, 0, 0, 0},
                        {"host_ip", 0, 0, 0, 0},     {"target", 0, 0, 0, 0},
                        {"published", 0, 0, 0, 0},   {"protocol", 0, 0, 0, 0},
                        {"app_protocol", 0, 0, 0, 0}};
                    static const struct schema ps = {pf, ARRAY_SIZE(pf), NULL};
                    unknown_key(c, &ps, it->pairs[k].key, path);
                    ok = false;
                }
            }
            const struct ynode *t = ymap_get(it, "target");
            if (!t || ynode_is_null(t)) {
                cerr(c, it, path, "a port mapping needs a target");
                ok = false;
                break;
            }
            struct ynode *target = c_int(c, t, path, 1);
            if (!target) {
                ok = false;
                break;
            }
            if (!lenient_text(c, t) && strtoll(target->str, NULL, 10) > 65535) {
                cerr(c, t, path, "invalid target port %s", QN(t));
                ok = false;
                break;
            }
            const char *name = opt_str(c, it, "name", path, &ok),
                       *mode = opt_str(c, it, "mode", path, &ok),
                       *hip = opt_str(c, it, "host_ip", path, &ok),
                       *pub = opt_str(c, it, "published", path, &ok),
                       *proto = opt_str(c, it, "protocol", path, &ok),
                       *app = opt_str(c, it, "app_protocol", path, &ok);
            if (!ok)
                break;
            if (mode && strcmp(mode, "ingress") && strcmp(mode, "host")) {
                cerr(c, ymap_get(it, "mode"), path, "invalid mode %s (use ingress or host)",
                     QS(mode));
                ok = false;
                break;
            }
            if (proto && strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")) {
                cerr(c, ymap_get(it, "protocol"), path,
                     "invalid protocol %s (use tcp, udp or sctp)", QS(proto));
                ok = false;
                break;
            }
            if (pub && *pub && !lenient_text(c, ymap_get(it, "published"))) {
                struct port_entry tmp[1];
                const char *err;
                _cleanup_free_ char *spec = str_join(pub, ':', "1");
                if (port_spec_parse(spec, tmp, 1, &err) < 0) {
                    cerr(c, ymap_get(it, "published"), path, "invalid published port %s", QS(pub));
                    ok = false;
                    break;
                }
            }
            sb_add(c, &b,
                   port_node(c, it, name, mode ? mode : "ingress", hip, target, pub,
                             proto ? proto : "tcp", app));
            total++;
            continue;
        }
        if (it->kind != YNODE_SCALAR || ynode_is_null(it) || yscalar_has_nul(it)) {
            cerr(c, it, path, "expected a port such as \"8080:80\" or a mapping, got %s",
                 ynode_describe(it));
            ok = false;
            break;
        }
        if (lenient_text(c, it)) {
            sb_add(c, &b, n_str(c, it, it->str, it->len));
            continue;
        }
        const char *err;
        long room = MAX_PORTS_PER_SERVICE - total, n;
        while ((n = port_spec_parse(it->str, pe, pe_cap < room ? pe_cap : room, &err)) == -E2BIG &&
               pe_cap < room) {
            pe_cap = pe_cap * 16 < room ? pe_cap * 16 : room;
            pe = big_pe = xreallocarray(big_pe, (size_t)pe_cap, sizeof *pe);
        }
        if (n == -E2BIG) {
            cerr(c, it, path, "more than %d ports in one service", MAX_PORTS_PER_SERVICE);
            ok = false;
            break;
        }
        if (n < 0) {
            cerr(c, it, path,
                 "invalid port %s: %s (the forms: \"80\", \"8080:80\", "
                 "\"127.0.0.1:8080:80\", \"8000-8010:80-90\", each with an optional /udp)",
                 QN(it), err);
            ok = false;
            break;
        }
        for (long j = 0; j < n; j++)
            sb_add(c, &b,
                   port_node(c, it, NULL, "ingress", pe[j].host_ip, n_int(c, it, pe[j].target),
                             pe[j].published, pe[j].protocol, NULL));
        total += n;
    }
    free(big_pe);
    return ok ? sb_done(c, &b, v) : NULL;
}

static struct ynode *c_expose(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct ynode *l = c_strlist(c, v, path, false);
    for (size_t i = 0; l && i < l->n_items; i++)
        if (!lenient_text(c, l->items[i]) && !expose_spec_valid(l->items[i]->str)) {
            cerr(c, v->items[i], path, "invalid port %s (use 3000, 3000-3005 or 3000/udp)",
                 QN(l->items[i]));
            return NULL;
        }
    return l;
}

/* volumes: short specs become long entries. */
static struct ynode *vol_short(struct canon *c, const struct ynode *it, const char *path)
{
    if (lenient_text(c, it))
        return n_str(c, it, it->str, it->len);
    struct volume_spec vs;
    const char *err;
    if (volume_spec_parse(it->str, &vs, &err) < 0) {
        cerr(c, it, path, "invalid volume %s: %s", QN(it), err);
        return NULL;
    }
    struct ynode *res = NULL;
    bool bind = strcmp(vs.type, "bind") == 0;
    _cleanup_free_ char *target = path_normalize_dup(vs.target);
    if (vs.target[0] != '/') {
        cerr(c, it, path, "target %s must be an absolute path in the container", QS(vs.target));
        goto out;
    }
    struct mb b = {0};
    mb_addk(c, &b, it, "type", n_cstr(c, it, vs.type));
    if (vs.source) {
        struct ynode *src = n_cstr(c, it, vs.source);
        if (bind && !(src = c_path(c, src, path)))
            goto out;
        mb_addk(c, &b, it, "source", src);
    }
    mb_addk(c, &b, it, "target", n_cstr(c, it, target));
    if (vs.read_only)
        mb_addk(c, &b, it, "read_only", n_bool(c, it, true));
    if (vs.consistency)
        mb_addk(c, &b, it, "consistency", n_cstr(c, it, vs.consistency));
    if (bind) {
        struct mb bb = {0};
        if (vs.selinux)
            mb_addk(c, &bb, it, "selinux", n_cstr(c, it, vs.selinux));
        if (vs.propagation)
            mb_addk(c, &bb, it, "propagation", n_cstr(c, it, vs.propagation));
        mb_addk(c, &b, it, "bind", mb_done(c, &bb, it, true));
    } else {
        struct mb vb = {0};
        if (vs.nocopy)
            mb_addk(c, &vb, it, "nocopy", n_bool(c, it, true));
        mb_addk(c, &b, it, "volume", mb_done(c, &vb, it, true));
    }
    res = mb_done(c, &b, it, true);
out:
    volume_spec_free(&vs);
    return res;
}

static struct ynode *c_vbind(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_MAP))
        return NULL;
    static const struct field f[] = {
        {"selinux", K_STR, 0, NULL, NULL},
        {"propagation", K_STR, 0, NULL, NULL},
        {"create_host_path", K_BOOL, 0, NULL, NULL},
        {"recursive", K_STR, 0, NULL, NULL},
    };
    static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
    struct ynode *out = c_struct(c, &sc, v, path);
    const struct ynode *prop = out ? ymap_get(out, "propagation") : NULL;
    if (prop && !is_propagation_mode(prop->str) && !lenient_text(c, prop)) {
        cerr(c, prop, path,
             "invalid propagation %s (use private, rprivate, shared, rshared, slave or rslave)",
             QN(prop));
        return NULL;
    }
    /* create_host_path: true is the default and left out, as compose does. */
    const struct ynode *chp = out ? ymap_get(out, "create_host_path") : NULL;
    if (c->o->final && chp && strcmp(chp->str, "true") == 0) {
        struct mb b = {0};
        for (size_t i = 0; i < out->n_pairs; i++)
            if (out->pairs[i].value != chp)
                mb_add(c, &b, out->pairs[i].key, out->pairs[i].value);
        out = mb_done(c, &b, out, true);
    }
    return out;
}

static struct ynode *c_vtmpfs(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    static const struct field f[] = {
        {"size", K_BYTES, F_OMITZERO, NULL, NULL},
        {"mode", K_UINT, F_OMITZERO, NULL, NULL},
    };
    static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
    return c_struct(c, &sc, v, path);
}

SCHEMA(vvolume_schema, {"labels", K_MAP_STR, 0, NULL, NULL},
       {"nocopy", K_BOOL, F_OMITZERO, NULL, NULL}, {"subpath", K_STR, 0, NULL, NULL}, );
SCHEMA(vimage_schema, {"subpath", K_STR, 0, NULL, NULL}, );

static struct ynode *c_vtype(struct canon *c, const struct ynode *v, const char *path)
{
    struct ynode *s = c_str(c, v, path);
    static const char *const ok[] = {"bind", "volume", "tmpfs", "npipe", "cluster", "image", NULL};
    bool good = false;
    for (size_t i = 0; s && ok[i] && !good; i++)
        good = strcmp(s->str, ok[i]) == 0;
    if (s && !good) {
        cerr(c, v, path, "invalid volume type %s (use bind, volume or tmpfs)", QN(v));
        return NULL;
    }
    return s;
}

static struct ynode *c_vsource(struct canon *c, const struct ynode *v, const char *path)
{
    return c_str(c, v, path);
}

SCHEMA(svc_volume_schema, {"type", K_FN, 0, NULL, c_vtype}, {"source", K_FN, 0, NULL, c_vsource},
       {"target", K_STR, 0, NULL, NULL}, {"read_only", K_BOOL, F_OMITZERO, NULL, NULL},
       {"consistency", K_STR, 0, NULL, NULL}, {"bind", K_FN, F_KEEP, NULL, c_vbind},
       {"volume", K_STRUCT, 0, &vvolume_schema, NULL}, {"tmpfs", K_FN, F_KEEP, NULL, c_vtmpfs},
       {"image", K_STRUCT, 0, &vimage_schema, NULL}, );

static struct ynode *vol_long(struct canon *c, const struct ynode *it, const char *path)
{
    struct ynode *out = c_struct(c, &svc_volume_schema, it, path);
    if (!out)
        return NULL;
    const struct ynode *type = ymap_get(out, "type"), *src = ymap_get(out, "source"),
                       *tgt = ymap_get(out, "target");
    if (!type) {
        cerr(c, it, path, "type is required (bind, volume or tmpfs)");
        return NULL;
    }
    if (!tgt || !tgt->len) {
        cerr(c, it, path, "target is required");
        return NULL;
    }
    if (tgt->str[0] != '/' && !lenient_text(c, tgt)) {
        cerr(c, tgt, path, "target %s must be an absolute path in the container", QN(tgt));
        return NULL;
    }
    if (!lenient_text(c, tgt)) { /* cleaned, as compose-go's path.Clean: "/a//b/" is "/a/b" */
        _cleanup_free_ char *clean = path_normalize_dup(tgt->str);
        if (strcmp(clean, tgt->str) != 0)
            out = with_key(c, out, "target", n_cstr(c, tgt, clean));
    }
    if (strcmp(type->str, "bind") == 0) {
        if (!src || !src->len) {
            cerr(c, it, path, "a bind mount needs a source");
            return NULL;
        }
        struct ynode *abs = c_path(c, src, path);
        if (!abs)
            return NULL;
        struct mb b = {0};
        for (size_t i = 0; i < out->n_pairs; i++)
            mb_add(c, &b, out->pairs[i].key,
                   key_is(out->pairs[i].key, "source") ? abs : out->pairs[i].value);
        out = mb_done(c, &b, out, true);
    } else if (strcmp(type->str, "tmpfs") == 0 && src && src->len) {
        cerr(c, src, path, "a tmpfs mount takes no source");
        return NULL;
    }
    return out;
}

static struct ynode *c_volumes(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    struct sb b = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        struct ynode *out;
        if (it->kind == YNODE_MAP)
            out = vol_long(c, it, path);
        else if (it->kind == YNODE_SCALAR && !ynode_is_null(it) && !yscalar_has_nul(it))
            out = vol_short(c, it, path);
        else {
            cerr(c, it, path, "expected a volume such as \"./data:/data\" or a mapping, got %s",
                 ynode_describe(it));
            out = NULL;
        }
        if (!out)
            return NULL;
        sb_add(c, &b, out);
    }
    return sb_done(c, &b, v);
}

static struct ynode *c_depends_on(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct mb b = {0};
    if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            const struct ynode *it = v->items[i];
            if (it->kind != YNODE_SCALAR || ynode_is_null(it) || !it->len || yscalar_has_nul(it)) {
                cerr(c, it, path, "expected a service name, got %s", ynode_describe(it));
                return NULL;
            }
            struct mb d = {0};
            mb_addk(c, &d, it, "condition", n_cstr(c, it, "service_started"));
            mb_addk(c, &d, it, "required", n_bool(c, it, true));
            mb_add(c, &b, canon_key(c->a, it, it->str), mb_done(c, &d, it, true));
        }
        return mb_done(c, &b, v, false);
    }
    if (v->kind != YNODE_MAP) {
        cerr(c, v, path, "expected a list or a mapping of services, got %s", ynode_describe(v));
        return NULL;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *name = v->pairs[i].key, *opt = v->pairs[i].value;
        if (!ynode_is_null(opt) && opt->kind != YNODE_MAP) {
            cerr(c, opt, path, "%s: expected a mapping, got %s", name->str, ynode_describe(opt));
            return NULL;
        }
        static const struct field f[] = {
            {"condition", K_STR, 0, NULL, NULL},
            {"restart", K_BOOL, F_OMITZERO, NULL, NULL},
            {"required", K_BOOL, 0, NULL, NULL},
        };
        static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
        _cleanup_free_ char *p = str_join(path, '.', name->str);
        struct ynode *d = ynode_is_null(opt) ? NULL : c_struct(c, &sc, opt, p);
        if (!ynode_is_null(opt) && !d)
            return NULL;
        const struct ynode *cond = d ? ymap_get(d, "condition") : NULL;
        if (cond && !lenient_text(c, cond) && strcmp(cond->str, "service_started") &&
            strcmp(cond->str, "service_healthy") &&
            strcmp(cond->str, "service_completed_successfully")) {
            cerr(c, cond, path,
                 "%s: invalid condition %s (use service_started, service_healthy or "
                 "service_completed_successfully)",
                 name->str, QN(cond));
            return NULL;
        }
        struct mb out = {0};
        mb_addk(c, &out, opt, "condition",
                cond ? (struct ynode *)cond : n_cstr(c, name, "service_started"));
        const struct ynode *r = d ? ymap_get(d, "restart") : NULL;
        if (r && (!c->o->final || strcmp(r->str, "true") == 0))
            mb_addk(c, &out, r, "restart", (struct ynode *)r);
        const struct ynode *q = d ? ymap_get(d, "required") : NULL;
        mb_addk(c, &out, q, "required", q ? (struct ynode *)q : n_bool(c, name, true));
        mb_add(c, &b, v->pairs[i].key, mb_done(c, &out, opt, true));
    }
    return mb_done(c, &b, v, false);
}

static struct ynode *c_env_file(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct sb b = {0};
    size_t n = v->kind == YNODE_SEQ ? v->n_items : 1;
    for (size_t i = 0; i < n; i++) {
        const struct ynode *it = v->kind == YNODE_SEQ ? v->items[i] : v;
        const struct ynode *p = it, *req = NULL, *fmt = NULL;
        if (it->kind == YNODE_MAP) {
            static const struct field f[] = {{"path", K_STR, 0, NULL, NULL},
                                             {"required", K_BOOL, 0, NULL, NULL},
                                             {"format", K_STR, 0, NULL, NULL}};
            static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
            struct ynode *m = c_struct(c, &sc, it, path);
            if (!m)
                return NULL;
            p = ymap_get(it, "path");
            req = ymap_get(m, "required");
            fmt = ymap_get(m, "format");
            if (!p) {
                cerr(c, it, path, "path is required");
                return NULL;
            }
        }
        struct ynode *abs = c_path(c, p, path);
        if (!abs)
            return NULL;
        if (fmt && strcmp(fmt->str, "raw") && !lenient_text(c, fmt)) {
            cerr(c, fmt, path, "invalid format %s (the only format is raw)", QN(fmt));
            return NULL;
        }
        struct mb e = {0};
        mb_addk(c, &e, p, "path", abs);
        if (req && (!c->o->final || strcmp(req->str, "false") == 0))
            mb_addk(c, &e, req, "required", (struct ynode *)req);
        if (fmt)
            mb_addk(c, &e, fmt, "format", (struct ynode *)fmt);
        sb_add(c, &b, mb_done(c, &e, it, true));
    }
    return sb_done(c, &b, v);
}

SCHEMA(svc_network_schema, {"aliases", K_STRLIST, 0, NULL, NULL},
       {"driver_opts", K_MAP_STR, 0, NULL, NULL}, {"gw_priority", K_INT, F_OMITZERO, NULL, NULL},
       {"interface_name", K_STR, 0, NULL, NULL}, {"ipv4_address", K_STR, 0, NULL, NULL},
       {"ipv6_address", K_STR, 0, NULL, NULL}, {"link_local_ips", K_STRLIST, 0, NULL, NULL},
       {"mac_address", K_STR, 0, NULL, NULL}, {"priority", K_INT, F_OMITZERO, NULL, NULL}, );

static struct ynode *c_networks(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct mb b = {0};
    if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            const struct ynode *it = v->items[i];
            if (it->kind != YNODE_SCALAR || ynode_is_null(it) || !it->len) {
                cerr(c, it, path, "expected a network name, got %s", ynode_describe(it));
                return NULL;
            }
            mb_add(c, &b, canon_key(c->a, it, it->str), n_null(c, it));
        }
        return mb_done(c, &b, v, false);
    }
    return c_map_of(c, &svc_network_schema, v, path);
}

static struct ynode *file_refs(struct canon *c, const struct ynode *v, const char *path,
                               bool secret)
{
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    static const struct field f[] = {
        {"source", K_STR, 0, NULL, NULL}, {"target", K_STR, 0, NULL, NULL},
        {"uid", K_STR, 0, NULL, NULL},    {"gid", K_STR, 0, NULL, NULL},
        {"mode", K_ANY, 0, NULL, NULL},
    };
    static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
    struct sb b = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        struct ynode *m;
        if (it->kind == YNODE_SCALAR && !ynode_is_null(it)) {
            struct mb mb = {0};
            mb_addk(c, &mb, it, "source", n_str(c, it, it->str, it->len));
            m = mb_done(c, &mb, it, true);
        } else {
            m = c_struct(c, &sc, it, path);
        }
        if (!m)
            return NULL;
        const struct ynode *src = ymap_get(m, "source"), *tgt = ymap_get(m, "target"),
                           *mode = ymap_get(m, "mode");
        if (!src || !src->len) {
            cerr(c, it, path, "source is required");
            return NULL;
        }
        struct mb out = {0};
        mb_addk(c, &out, src, "source", (struct ynode *)src);
        if (tgt)
            mb_addk(c, &out, tgt, "target", (struct ynode *)tgt);
        else if (secret) {
            _cleanup_free_ char *t = xasprintf("/run/secrets/%s", src->str);
            mb_addk(c, &out, src, "target", n_cstr(c, src, t));
        }
        mb_addk(c, &out, it, "uid", (struct ynode *)ymap_get(m, "uid"));
        mb_addk(c, &out, it, "gid", (struct ynode *)ymap_get(m, "gid"));
        if (mode && !ynode_is_null(mode)) {
            /* Printed as Go's FileMode: "0" and the octal digits. */
            int64_t mv;
            if (mode->kind != YNODE_SCALAR) {
                cerr(c, mode, path, "mode: expected a number, got %s", ynode_describe(mode));
                return NULL;
            }
            char *end;
            if (yscalar_type(mode) == YTYPE_INT && yscalar_int(mode, &mv) == 0) {
            } else {
                mv = strtoll(mode->str, &end, 8);
                if (!mode->len || *end) {
                    cerr(c, mode, path, "invalid mode %s (use an octal mode such as 0440)",
                         QN(mode));
                    return NULL;
                }
            }
            char buf[32];
            snprintf(buf, sizeof buf, "0%llo", (unsigned long long)mv);
            mb_addk(c, &out, mode, "mode", n_cstr(c, mode, buf));
        }
        sb_add(c, &b, mb_done(c, &out, it, true));
    }
    return sb_done(c, &b, v);
}

static struct ynode *c_secrets(struct canon *c, const struct ynode *v, const char *path)
{
    return file_refs(c, v, path, true);
}

/* build.secrets: no default target (compose-go defaults only the
 * service's secrets, transform/defaults.go). */
static struct ynode *c_build_secrets(struct canon *c, const struct ynode *v, const char *path)
{
    return file_refs(c, v, path, false);
}

static struct ynode *c_configs(struct canon *c, const struct ynode *v, const char *path)
{
    return file_refs(c, v, path, false);
}

static struct ynode *c_ulimits(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_MAP))
        return NULL;
    struct mb b = {0};
    mb_reserve(c, &b, v->n_pairs);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        _cleanup_free_ char *p = str_join(path, '.', k->str);
        if (val->kind == YNODE_MAP) {
            static const struct field f[] = {{"soft", K_INT, 0, NULL, NULL},
                                             {"hard", K_INT, 0, NULL, NULL}};
            static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
            struct ynode *m = c_struct(c, &sc, val, p);
            if (!m)
                return NULL;
            const struct ynode *soft = ymap_get(m, "soft"), *hard = ymap_get(m, "hard");
            if (!soft || !hard) {
                cerr(c, val, p, "needs both soft and hard");
                return NULL;
            }
            if (!lenient_text(c, soft) && !lenient_text(c, hard) &&
                strtoll(soft->str, NULL, 10) > strtoll(hard->str, NULL, 10)) {
                cerr(c, val, p, "soft limit %s is above the hard limit %s", soft->str, hard->str);
                return NULL;
            }
            mb_add(c, &b, v->pairs[i].key, m);
        } else {
            struct ynode *n = c_int(c, val, p, INT64_MIN);
            if (!n)
                return NULL;
            mb_add(c, &b, v->pairs[i].key, n);
        }
    }
    return mb_done(c, &b, v, false);
}

static int cmp_node_str(const void *x, const void *y)
{
    return yscalar_cmp(*(struct ynode *const *)x, *(struct ynode *const *)y);
}

static struct ynode *c_extra_hosts(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    struct sb b = {0};
    if (v->kind == YNODE_MAP) {
        for (size_t i = 0; i < v->n_pairs; i++) {
            const struct ynode *k = v->pairs[i].key, *ip = v->pairs[i].value;
            size_t n = ip->kind == YNODE_SEQ ? ip->n_items : 1;
            for (size_t j = 0; j < n; j++) {
                const struct ynode *one = ip->kind == YNODE_SEQ ? ip->items[j] : ip;
                if (one->kind != YNODE_SCALAR) {
                    cerr(c, one, path, "%s: expected an address, got %s", k->str,
                         ynode_describe(one));
                    return NULL;
                }
                _cleanup_free_ char *e = str_join(k->str, '=', one->str);
                sb_add(c, &b, n_cstr(c, one, e));
            }
        }
    } else if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            const struct ynode *it = v->items[i];
            if (it->kind != YNODE_SCALAR || ynode_is_null(it)) {
                cerr(c, it, path, "expected \"host:ip\" or \"host=ip\", got %s",
                     ynode_describe(it));
                return NULL;
            }
            const char *sep = strchr(it->str, '=');
            if (!sep)
                sep = strchr(it->str, ':');
            if (!sep || sep == it->str) {
                cerr(c, it, path, "invalid extra host %s (use \"host=ip\" or \"host:ip\")", QN(it));
                return NULL;
            }
            const char *ip = sep + 1;
            size_t iplen = strlen(ip);
            if (iplen > 2 && ip[0] == '[' && ip[iplen - 1] == ']')
                ip++, iplen -= 2;
            _cleanup_free_ char *e =
                xasprintf("%.*s=%.*s", (int)(sep - it->str), it->str, (int)iplen, ip);
            sb_add(c, &b, n_cstr(c, it, e));
        }
    } else {
        cerr(c, v, path, "expected a list or a mapping, got %s", ynode_describe(v));
        return NULL;
    }
    qsort(b.v, b.n, sizeof *b.v, cmp_node_str);
    return sb_done(c, &b, v);
}

static struct ynode *c_devices(struct canon *c, const struct ynode *v, const char *path)
{
    if (!want_kind(c, v, path, YNODE_SEQ))
        return NULL;
    static const struct field f[] = {{"source", K_STR, 0, NULL, NULL},
                                     {"target", K_STR, 0, NULL, NULL},
                                     {"permissions", K_STR, 0, NULL, NULL}};
    static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
    struct sb b = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        if (it->kind == YNODE_MAP) {
            struct ynode *m = c_struct(c, &sc, it, path);
            if (!m)
                return NULL;
            sb_add(c, &b, m);
            continue;
        }
        if (it->kind != YNODE_SCALAR || ynode_is_null(it) || !it->len) {
            cerr(c, it, path, "expected a device such as \"/dev/ttyUSB0:/dev/ttyUSB0\", got %s",
                 ynode_describe(it));
            return NULL;
        }
        _cleanup_free_ char *copy = xstrdup(it->str);
        char *parts[4] = {0};
        size_t np = 0;
        for (char *s = copy, *e; np < 4; s = e + 1) {
            parts[np++] = s;
            if (!(e = strchr(s, ':')))
                break;
            *e = '\0';
        }
        if (np > 3) {
            cerr(c, it, path, "confusing device mapping %s, use the long syntax", QN(it));
            return NULL;
        }
        struct mb m = {0};
        mb_addk(c, &m, it, "source", n_cstr(c, it, parts[0]));
        mb_addk(c, &m, it, "target", n_cstr(c, it, np > 1 ? parts[1] : parts[0]));
        mb_addk(c, &m, it, "permissions", n_cstr(c, it, np > 2 ? parts[2] : "rwm"));
        sb_add(c, &b, mb_done(c, &m, it, true));
    }
    return sb_done(c, &b, v);
}

static struct ynode *c_extends(struct canon *c, const struct ynode *v, const char *path)
{
    if (ynode_is_null(v))
        return NULL;
    if (v->kind == YNODE_SCALAR) {
        struct mb b = {0};
        mb_addk(c, &b, v, "service", c_str(c, v, path));
        return b.n ? mb_done(c, &b, v, true) : NULL;
    }
    static const struct field f[] = {{"file", K_STR, 0, NULL, NULL},
                                     {"service", K_STR, 0, NULL, NULL}};
    static const struct schema sc = {f, ARRAY_SIZE(f), NULL};
    struct ynode *m = c_struct(c, &sc, v, path);
    if (m && !ymap_get(m, "service")) {
        cerr(c, v, path, "service is required");
        return NULL;
    }
    return m;
}

/* --- Top level -------------------------------------------------------------- */

static const char *const kinds[] = {"service", "network", "volume", "config", "secret"};

static struct ynode *c_objects(struct canon *c, const struct schema *sc, const struct ynode *v,
                               const char *what, int kind)
{
    if (v->kind != YNODE_MAP) {
        diag_error_at(c->o->d, YPOS(v), "%s: expected a mapping%s, got %s", what,
                      kind == 0 ? " of service names to services" : "", ynode_describe(v));
        return NULL;
    }
    struct mb b = {0};
    mb_reserve(c, &b, v->n_pairs);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        /* Entries of networks, volumes... named x- are extensions; under
         * services: every entry is a service, as compose-go reads it. */
        if (kind != 0 && is_ext(k)) {
            mb_add(c, &b, v->pairs[i].key, (struct ynode *)val);
            continue;
        }
        c->stub.name = (char *)k->str;
        c->m.kind = kinds[kind];
        struct ynode *out;
        if (kind == 0 && !valid_name(k->str, k->len, 1)) {
            diag_error_at(c->o->d, YPOS(k),
                          "invalid service name %s: it must start with a letter or digit and "
                          "hold only letters, digits, \"_\", \".\" and \"-\"",
                          QN(k));
            continue;
        }
        if (ynode_is_null(val)) {
            if (kind == 0 && !val->tag) {
                diag_error_at(c->o->d, YPOS(val),
                              "service %s: expected a mapping of service keys, got null", QN(k));
                continue;
            }
            out = kind == 0 ? (struct ynode *)val
                            : mb_done(c, &(struct mb){0}, val, true); /* name: {} */
        } else if (val->kind != YNODE_MAP) {
            if (kind == 0)
                diag_error_at(c->o->d, YPOS(val),
                              "service %s: expected a mapping of service keys, got %s", QN(k),
                              ynode_describe(val));
            else
                diag_error_at(c->o->d, YPOS(val), "%s %s: expected a mapping, got %s", kinds[kind],
                              QN(k), ynode_describe(val));
            continue;
        } else {
            c->svc_body = kind == 0 ? val : NULL;
            out = c_struct(c, sc, val, "");
            c->svc_body = NULL;
            /* The legacy external: {name: x} names the object. */
            const struct ynode *ext = kind ? ymap_get(val, "external") : NULL;
            if (out && ext && ext->kind == YNODE_MAP && ymap_get(ext, "name") &&
                !ymap_get(out, "name")) {
                struct mb nb = {0};
                mb_addk(c, &nb, ext, "name", c_str(c, ymap_get(ext, "name"), "external.name"));
                for (size_t j = 0; j < out->n_pairs; j++)
                    mb_add(c, &nb, out->pairs[j].key, out->pairs[j].value);
                out = mb_done(c, &nb, out, true);
            }
        }
        c->stub.name = NULL;
        c->m.kind = NULL;
        if (out)
            mb_add(c, &b, v->pairs[i].key, out);
    }
    return mb_done(c, &b, v, false);
}

static int cmp_ext_pairs(const void *x, const void *y)
{
    const struct ypair *a = x, *b = y;
    return yscalar_cmp(a->key, b->key);
}

struct ynode *canon_file(const struct canon_opts *o, struct ynode *root)
{
    struct canon c = {.o = o, .a = o->a};
    c.m.a = o->a;
    c.m.d = o->d;
    c.m.env = o->env;
    struct mb b = {0};
    static const char *const order[] = {"name",    "services", "networks", "volumes",
                                        "secrets", "configs",  "include",  "models"};
    const struct ypair *at[ARRAY_SIZE(order)] = {0};
    struct mb ext = {0};
    for (size_t i = 0; i < root->n_pairs; i++) {
        const struct ypair *pr = &root->pairs[i];
        const struct ynode *k = pr->key;
        size_t j = 0;
        while (j < ARRAY_SIZE(order) &&
               !(strlen(order[j]) == k->len && memcmp(order[j], k->str, k->len) == 0))
            j++;
        if (j < ARRAY_SIZE(order))
            at[j] = pr;
        else if (is_ext(k))
            mb_add(&c, &ext, pr->key, pr->value);
        else if (k->len == 7 && memcmp(k->str, "version", 7) == 0) {
            if (!o->final)
                diag_warn_at(o->d, YPOS(k),
                             "the attribute `version` is obsolete, it will be ignored, please "
                             "remove it to avoid potential confusion");
        } else {
            static const struct field tf[] = {
                {"name", 0, 0, 0, 0},    {"services", 0, 0, 0, 0}, {"networks", 0, 0, 0, 0},
                {"volumes", 0, 0, 0, 0}, {"secrets", 0, 0, 0, 0},  {"configs", 0, 0, 0, 0},
                {"include", 0, 0, 0, 0}, {"version", 0, 0, 0, 0},  {"models", 0, 0, 0, 0}};
            static const struct schema ts = {tf, ARRAY_SIZE(tf), NULL};
            unknown_key(&c, &ts, k, "");
        }
    }
    static const struct schema *const schemas[] = {
        NULL,           &service_schema,     &network_schema,
        &volume_schema, &file_object_schema, &file_object_schema};
    static const int kind_of[] = {0, 0, 1, 2, 4, 3};
    for (size_t j = 0; j < ARRAY_SIZE(order); j++) {
        const struct ypair *pr = at[j];
        if (!pr)
            continue;
        struct ynode *out = NULL;
        if (j == 0) /* checked by the project name's own rules */
            out = pr->value->kind == YNODE_SCALAR && !ynode_is_null(pr->value) &&
                          !yscalar_has_nul(pr->value)
                      ? n_str(&c, pr->value, pr->value->str, pr->value->len)
                      : pr->value;
        else if (j >= 6)
            out = pr->value; /* include is resolved before; models kept */
        else if (!ynode_is_null(pr->value))
            out = c_objects(&c, schemas[j], pr->value, order[j], kind_of[j]);
        else if (j == 1)
            out = pr->value;
        if (out)
            mb_add(&c, &b, pr->key, out);
    }
    /* The top level's extensions sorted, as docker compose prints them in
     * YAML and JSON alike (its Extensions are a Go map). */
    if (ext.n > 1)
        qsort(ext.p, ext.n, sizeof *ext.p, cmp_ext_pairs);
    for (size_t i = 0; i < ext.n; i++)
        mb_add(&c, &b, ext.p[i].key, ext.p[i].value);
    return mb_done(&c, &b, root, true);
}
