/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for compose/yaml: positions, scalar styles and types, anchors,
 * merge keys, duplicate keys, and hostile inputs (alias and merge bombs,
 * deep nesting, invalid UTF-8, NUL bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "compose/merge.h"
#include "compose/yaml.h"
#include "compose_testutil.h"

struct parsed {
    struct arena a;
    struct diag d;
    struct ydocs docs;
    struct ct_warnings w;
    struct berr e;
    int r;
};

static const struct ysource test_src = {"t.yaml", 0};

static int parse_lim(struct parsed *p, const char *buf, size_t len, const struct yaml_limits *lim)
{
    memset(p, 0, sizeof *p);
    p->d.warn = ct_warn_cb;
    p->d.warn_userdata = &p->w;
    p->r = yaml_parse(&p->a, &test_src, buf, len, lim, &p->d, &p->docs);
    diag_to_berr(&p->d, &p->e);
    return p->r;
}

static int parse_n(struct parsed *p, const char *buf, size_t len)
{
    struct yaml_limits lim;
    yaml_compose_limits(&lim);
    return parse_lim(p, buf, len, &lim);
}

static int parse(struct parsed *p, const char *buf)
{
    return parse_n(p, buf, strlen(buf));
}

static void parsed_done(struct parsed *p)
{
    arena_free(&p->a);
    diag_free(&p->d);
    berr_clear(&p->e);
    ct_warnings_clear(&p->w);
}

static struct ynode *root(struct parsed *p)
{
    assert_int_equal(p->r, 0);
    assert_true(p->docs.n >= 1);
    assert_non_null(p->docs.docs[0]);
    return p->docs.docs[0];
}

#define assert_err(p, needle)                                                                      \
    do {                                                                                           \
        assert_true((p)->r < 0);                                                                   \
        if (!(p)->e.msg || !strstr((p)->e.msg, (needle))) {                                        \
            fprintf(stderr, "expected error containing [%s], got [%s]\n", (needle),                \
                    (p)->e.msg ? (p)->e.msg : "(none)");                                           \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void assert_pos(const struct ynode *n, int line, int col)
{
    assert_non_null(n);
    if (n->line != line || n->col != col) {
        fprintf(stderr, "expected %d:%d, got %d:%d\n", line, col, n->line, n->col);
        fail();
    }
}

/* --- Positions ----------------------------------------------------------- */

static void test_positions(void **state)
{
    struct parsed p;
    parse(&p, "services:\n"
              "  web:\n"
              "    image: \"nginx\"\n"
              "    command: [a, 'b']\n"
              "    environment:\n"
              "      - A=1\n"
              "\n"
              "# comment\n"
              "name: x\n");
    struct ynode *r = root(&p);
    assert_pos(r, 1, 1);
    assert_pos(r->pairs[0].key, 1, 1);
    struct ynode *services = ymap_get(r, "services");
    assert_pos(services, 2, 3);
    assert_pos(services->pairs[0].key, 2, 3);
    struct ynode *web = ymap_get(services, "web");
    assert_pos(web, 3, 5);
    const struct ypair *img = ymap_get_pair(web, "image");
    assert_pos(img->key, 3, 5);
    assert_pos(img->value, 3, 12);
    struct ynode *cmd = ymap_get(web, "command");
    assert_pos(cmd, 4, 14);
    assert_pos(cmd->items[0], 4, 15);
    assert_pos(cmd->items[1], 4, 18);
    assert_pos(ymap_get(web, "environment")->items[0], 6, 9);
    assert_pos(ymap_get_pair(r, "name")->key, 9, 1);
    assert_ptr_equal(img->value->src, &test_src);
    parsed_done(&p);
}

/* --- Scalars ------------------------------------------------------------- */

static const struct {
    const char *yaml;
    enum yscalar_type type;
    enum yscalar_style style;
    const char *value;
} scalar_cases[] = {
    {"a: 123", YTYPE_INT, YSTYLE_PLAIN, "123"},
    {"a: \"123\"", YTYPE_STR, YSTYLE_DOUBLE, "123"},
    {"a: '123'", YTYPE_STR, YSTYLE_SINGLE, "123"},
    {"a: -7", YTYPE_INT, YSTYLE_PLAIN, "-7"},
    {"a: 0x1F", YTYPE_INT, YSTYLE_PLAIN, "0x1F"},
    {"a: 0o17", YTYPE_INT, YSTYLE_PLAIN, "0o17"},
    {"a: 1.5", YTYPE_FLOAT, YSTYLE_PLAIN, "1.5"},
    {"a: 1e3", YTYPE_FLOAT, YSTYLE_PLAIN, "1e3"},
    {"a: .inf", YTYPE_FLOAT, YSTYLE_PLAIN, ".inf"},
    {"a: true", YTYPE_BOOL, YSTYLE_PLAIN, "true"},
    {"a: False", YTYPE_BOOL, YSTYLE_PLAIN, "False"},
    {"a: yes", YTYPE_STR, YSTYLE_PLAIN, "yes"},
    {"a: \"true\"", YTYPE_STR, YSTYLE_DOUBLE, "true"},
    {"a: ~", YTYPE_NULL, YSTYLE_PLAIN, "~"},
    {"a:", YTYPE_NULL, YSTYLE_PLAIN, ""},
    {"a: null", YTYPE_NULL, YSTYLE_PLAIN, "null"},
    {"a: ''", YTYPE_STR, YSTYLE_SINGLE, ""},
    {"a: !!str 123", YTYPE_STR, YSTYLE_PLAIN, "123"},
    {"a: !!int \"42\"", YTYPE_INT, YSTYLE_DOUBLE, "42"},
    {"a: 12abc", YTYPE_STR, YSTYLE_PLAIN, "12abc"},
    {"a: 1000:1000", YTYPE_STR, YSTYLE_PLAIN, "1000:1000"},
    {"a: |\n  x\n  y\n", YTYPE_STR, YSTYLE_LITERAL, "x\ny\n"},
    {"a: >\n  x\n  y\n", YTYPE_STR, YSTYLE_FOLDED, "x y\n"},
    {"a: \"tab\\there\"", YTYPE_STR, YSTYLE_DOUBLE, "tab\there"},
    {"a: 'it''s'", YTYPE_STR, YSTYLE_SINGLE, "it's"},
};

static void test_scalars(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(scalar_cases); i++) {
        struct parsed p;
        parse(&p, scalar_cases[i].yaml);
        struct ynode *v = ymap_get(root(&p), "a");
        assert_non_null(v);
        assert_int_equal(v->kind, YNODE_SCALAR);
        if (yscalar_type(v) != scalar_cases[i].type || v->style != scalar_cases[i].style ||
            strcmp(v->str, scalar_cases[i].value) != 0) {
            fprintf(stderr, "case %zu [%s]: type %d style %d value [%s]\n", i, scalar_cases[i].yaml,
                    yscalar_type(v), v->style, v->str);
            fail();
        }
        parsed_done(&p);
    }
}

static void test_typed_values(void **state)
{
    struct parsed p;
    parse(&p, "i: 0x1F\no: 0o17\nn: -12\nu: 1_000\nb: TRUE\nf: 2.5\nbig: 99999999999999999999\n"
              "s: \"5\"\nz: \"a\\0b\"\n");
    struct ynode *r = root(&p);
    int64_t i;
    assert_int_equal(yscalar_int(ymap_get(r, "i"), &i), 0);
    assert_int_equal(i, 31);
    assert_int_equal(yscalar_int(ymap_get(r, "o"), &i), 0);
    assert_int_equal(i, 15);
    assert_int_equal(yscalar_int(ymap_get(r, "n"), &i), 0);
    assert_int_equal(i, -12);
    assert_int_equal(yscalar_int(ymap_get(r, "u"), &i), 0);
    assert_int_equal(i, 1000);
    assert_int_equal(yscalar_int(ymap_get(r, "big"), &i), -ERANGE);
    assert_int_equal(yscalar_int(ymap_get(r, "s"), &i), -EINVAL);
    bool b = false;
    assert_int_equal(yscalar_bool(ymap_get(r, "b"), &b), 0);
    assert_true(b);
    double f;
    assert_int_equal(yscalar_float(ymap_get(r, "f"), &f), 0);
    assert_true(f == 2.5);
    assert_int_equal(yscalar_float(ymap_get(r, "n"), &f), 0);
    assert_true(f == -12);
    struct ynode *z = ymap_get(r, "z");
    assert_int_equal(z->len, 3);
    assert_true(yscalar_has_nul(z));
    assert_string_equal(ynode_describe(ymap_get(r, "s")), "a string");
    assert_string_equal(ynode_describe(ymap_get(r, "f")), "a number");
    parsed_done(&p);
}

static void test_multi_documents(void **state)
{
    struct parsed p;
    parse(&p, "a: 1\n---\nb: &x 2\n---\n---\nc: 3\n");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.docs.n, 4);
    assert_non_null(ymap_get(p.docs.docs[0], "a"));
    assert_non_null(ymap_get(p.docs.docs[1], "b"));
    assert_true(ynode_is_null(p.docs.docs[2]));
    assert_non_null(ymap_get(p.docs.docs[3], "c"));
    parsed_done(&p);
    /* Anchors don't cross documents. */
    parse(&p, "a: &x 1\n---\nb: *x\n");
    assert_err(&p, "t.yaml:3:4: unknown anchor *x");
    parsed_done(&p);
    parse(&p, "");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.docs.n, 0);
    parsed_done(&p);
}

static void test_custom_tag_warns(void **state)
{
    struct parsed p;
    parse(&p, "a: !custom []\nb: !!str x\nc: !reset []\nd: !override {}\n");
    assert_int_equal(p.r, 0);
    assert_true(ct_warned(&p.w, "t.yaml:1:4: YAML tag \"!custom\" is not supported yet; ignored"));
    assert_false(ct_warned(&p.w, "!reset"));
    assert_false(ct_warned(&p.w, "!override"));
    assert_false(ct_warned(&p.w, "2:"));
    parsed_done(&p);
}

/* --- Anchors, aliases, merge keys ---------------------------------------- */

static void test_aliases_shared(void **state)
{
    struct parsed p;
    parse(&p, "base: &b {x: 1, y: [1, 2]}\nuse: *b\nlist: [*b, *b]\ns: &s hello\nt: *s\n");
    struct ynode *r = root(&p);
    struct ynode *base = ymap_get(r, "base");
    assert_ptr_equal(ymap_get(r, "use"), base);
    assert_ptr_equal(ymap_get(r, "list")->items[1], base);
    assert_ptr_equal(ymap_get(r, "t"), ymap_get(r, "s"));
    /* Weights count aliases expanded: base = 1 + 2 keys + 1 + (1 + 2). */
    assert_int_equal(base->weight, 7);
    assert_int_equal(ymap_get(r, "list")->weight, 15);
    parsed_done(&p);
}

static void test_alias_errors(void **state)
{
    struct parsed p;
    parse(&p, "a: *nope\n");
    assert_err(&p, "t.yaml:1:4: unknown anchor *nope");
    parsed_done(&p);
    parse(&p, "a: &x [1, *x]\n");
    assert_err(&p, "t.yaml:1:11: alias *x refers to a node that contains it");
    parsed_done(&p);
    parse(&p, "a: &x {k: *x}\n");
    assert_err(&p, "refers to a node that contains it");
    parsed_done(&p);
    parse(&p, "? [a, b]\n: c\n");
    assert_err(&p, "a mapping key must be a string, not a list");
    parsed_done(&p);
    /* An anchor may be redefined; an alias takes the latest. */
    parse(&p, "a: &x 1\nb: &x 2\nc: *x\n");
    assert_string_equal(ymap_get(root(&p), "c")->str, "2");
    parsed_done(&p);
}

static const char *keys_of(const struct ynode *m, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_pairs; i++) {
        strncat(buf, m->pairs[i].key->str, size - strlen(buf) - 1);
        strncat(buf, "=", size - strlen(buf) - 1);
        const struct ynode *v = m->pairs[i].value;
        strncat(buf, v->kind == YNODE_SCALAR ? v->str : "?", size - strlen(buf) - 1);
        if (i + 1 < m->n_pairs)
            strncat(buf, ",", size - strlen(buf) - 1);
    }
    return buf;
}

static const struct {
    const char *yaml;
    const char *expect; /* the pairs of m, in order */
} merge_cases[] = {
    /* One source; explicit keys win wherever they stand. */
    {"x: &a {p: 1, q: 2}\nm:\n  <<: *a\n  q: 9\n", "p=1,q=9"},
    {"x: &a {p: 1, q: 2}\nm:\n  q: 9\n  <<: *a\n", "q=9,p=1"},
    /* A list: earlier sources win. */
    {"x: &a {p: 1, q: 2}\ny: &b {q: 3, r: 4}\nm:\n  <<: [*a, *b]\n", "p=1,q=2,r=4"},
    {"x: &a {p: 1, q: 2}\ny: &b {q: 3, r: 4}\nm:\n  <<: [*b, *a]\n", "q=3,r=4,p=1"},
    {"x: &a {p: 1, q: 2}\ny: &b {q: 3, r: 4}\nm:\n  <<: [*a, *b]\n  q: 9\n", "p=1,r=4,q=9"},
    /* An inline mapping works too, and merged keys come where << stood. */
    {"m:\n  z: 0\n  <<: {a: 1}\n  y: 2\n", "z=0,a=1,y=2"},
    /* Merges nest: a source that itself merged. */
    {"x: &a {p: 1}\ny: &b {<<: *a, q: 2}\nm: {<<: *b, r: 3}\n", "p=1,q=2,r=3"},
    /* A quoted "<<" is an ordinary key. */
    {"m: {\"<<\": 1}\n", "<<=1"},
};

static void test_merge_keys(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(merge_cases); i++) {
        struct parsed p;
        parse(&p, merge_cases[i].yaml);
        if (p.r != 0) {
            fprintf(stderr, "case %zu: %s\n", i, p.e.msg);
            fail();
        }
        char buf[256];
        const char *got = keys_of(ymap_get(root(&p), "m"), buf, sizeof buf);
        if (strcmp(got, merge_cases[i].expect) != 0) {
            fprintf(stderr, "case %zu: expected %s, got %s\n", i, merge_cases[i].expect, got);
            fail();
        }
        parsed_done(&p);
    }
}

static void test_merge_key_errors(void **state)
{
    struct parsed p;
    parse(&p, "m:\n  <<: 5\n");
    assert_err(&p, "t.yaml:2:7: merge key <<: expected a mapping or a list of mappings, got a "
                   "number");
    parsed_done(&p);
    parse(&p, "x: &a [1]\nm:\n  <<: [*a]\n");
    assert_err(&p, "merge key <<: expected a mapping or a list of mappings, got a list");
    parsed_done(&p);
}

static void test_duplicate_keys(void **state)
{
    struct parsed p;
    parse(&p, "a: 1\nb: 2\na: 3\n");
    assert_err(&p, "t.yaml:3:1: duplicate key \"a\" (first defined at line 1)");
    parsed_done(&p);
    /* Every duplicate is reported, at any depth. */
    parse(&p, "s:\n  web:\n    image: a\n    image: b\n  db: {x: 1, x: 2}\n");
    assert_err(&p, "t.yaml:4:5: duplicate key \"image\" (first defined at line 3)");
    assert_err(&p, "t.yaml:5:14: duplicate key \"x\" (first defined at line 5)");
    parsed_done(&p);
    /* Keys differing in quoting are still the same key. */
    parse(&p, "a: 1\n\"a\": 2\n");
    assert_err(&p, "duplicate key \"a\"");
    parsed_done(&p);
    /* A merged key overridden by an explicit one is not a duplicate. */
    parse(&p, "x: &a {k: 1}\nm: {<<: *a, k: 2}\n");
    assert_int_equal(p.r, 0);
    parsed_done(&p);
}

static void test_syntax_errors(void **state)
{
    struct parsed p;
    parse(&p, "a: b\n  c: d\n");
    assert_err(&p, "t.yaml:2:4: mapping values are not allowed in this context");
    parsed_done(&p);
    parse(&p, "a: [1, 2\n");
    assert_err(&p, "t.yaml:2:1:");
    parsed_done(&p);
    parse(&p, "a: \"unterminated\n");
    assert_err(&p, "t.yaml:");
    assert_err(&p, "found unexpected end of stream");
    parsed_done(&p);
    parse(&p, "\tkey: 1\n");
    assert_err(&p, "t.yaml:1:1:");
    parsed_done(&p);
}

/* --- Tree merging (the -f override rules) ------------------------------- */

static void test_merge_trees(void **state)
{
    struct parsed base, over;
    parse(&base, "a: {p: 1, q: 2}\nl: [1, 2]\ns: x\nx-e: {k: 1, j: 2}\nn: keep\n"
                 "services: {web: {environment: [A=1, B=2], command: [a]}}\n");
    parse(&over, "a: {q: 3, r: 4}\nl: [3]\ns: {m: 1}\nx-e: {k: 9}\nn: ~\nnew: 1\n"
                 "services: {web: {environment: {B: 3}, command: ~}}\n");
    struct ynode *m = merge_trees(&base.a, root(&base), root(&over));
    char buf[256];
    /* Mappings key by key (base order, then new keys). */
    assert_string_equal(keys_of(ymap_get(m, "a"), buf, sizeof buf), "p=1,q=3,r=4");
    /* Sequences are appended; scalars are replaced; so are x- keys, whole. */
    assert_int_equal(ymap_get(m, "l")->n_items, 3);
    assert_int_equal(ymap_get(m, "s")->kind, YNODE_MAP);
    assert_string_equal(keys_of(ymap_get(m, "x-e"), buf, sizeof buf), "k=9");
    /* null keeps the earlier value; new top-level keys come last. */
    assert_string_equal(ymap_get(m, "n")->str, "keep");
    assert_ptr_equal(m->pairs[m->n_pairs - 1].key, over.docs.docs[0]->pairs[5].key);
    /* environment merges by name, command is replaced even by null. */
    struct ynode *w = ymap_get(ymap_get(m, "services"), "web");
    assert_string_equal(keys_of(ymap_get(w, "environment"), buf, sizeof buf), "A=1,B=3");
    assert_true(ynode_is_null(ymap_get(w, "command")));
    /* The inputs are untouched. */
    assert_string_equal(keys_of(ymap_get(root(&base), "a"), buf, sizeof buf), "p=1,q=2");
    assert_ptr_equal(merge_trees(&base.a, NULL, root(&over)), root(&over));
    assert_ptr_equal(merge_trees(&base.a, root(&base), NULL), root(&base));
    parsed_done(&base);
    parsed_done(&over);
}

/* --- Hostile inputs ------------------------------------------------------ */

static void test_invalid_utf8_and_nul(void **state)
{
    static const struct {
        const char *data;
        size_t len;
        const char *expect;
    } cases[] = {
        {"a: \xff\n", 6, "t.yaml:1:4: invalid leading UTF-8 octet"},
        {"a: b\nc: \xc0\xaf\n", 11, "t.yaml:2:4: "}, /* overlong "/" */
        {"a: \xed\xa0\x80\n", 7, "t.yaml:1:4: "},    /* lone surrogate */
        {"k\xed\xb0\x80: v\n", 8, "t.yaml:1:2: "},   /* surrogate in a key */
        {"a: b\0c\n", 7, "t.yaml:1:5: control characters are not allowed"},
        {"a: \xe2\x82\n", 6, "t.yaml:1:5: invalid trailing UTF-8 octet"}, /* truncated */
        {"\xff\xfe"
         "a\0:\0 \0\xff\xdb\0\0",
         12, "t.yaml:"}, /* UTF-16LE, lone surrogate */
        {"\0\0\0\0", 4, "t.yaml:1:1: control characters are not allowed"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse_n(&p, cases[i].data, cases[i].len);
        if (p.r == 0 || !p.e.msg || !strstr(p.e.msg, cases[i].expect)) {
            fprintf(stderr, "case %zu: expected [%s], got [%s]\n", i, cases[i].expect,
                    p.e.msg ? p.e.msg : "(no error)");
            fail();
        }
        parsed_done(&p);
    }
    /* A well-formed UTF-16 file parses. */
    static const char utf16[] = "\xff\xfe"
                                "a\0:\0 \0b\0\n\0";
    struct parsed p;
    parse_n(&p, utf16, sizeof utf16 - 1);
    assert_string_equal(ymap_get(root(&p), "a")->str, "b");
    parsed_done(&p);
}

static char *repeat(const char *s, size_t n)
{
    size_t len = strlen(s);
    char *out = xmalloc(len * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * len, s, len);
    out[len * n] = '\0';
    return out;
}

/* 9 anchors x 9 aliases x 9 levels ("billion laughs"). */
static char *billion_laughs(void)
{
    struct ct_buf b = {0};
    ct_printf(&b, "x-l0: &l0 \"lol\"\n");
    for (int lvl = 1; lvl <= 9; lvl++) {
        ct_printf(&b, "x-l%d: &l%d [", lvl, lvl);
        for (int j = 0; j < 9; j++)
            ct_printf(&b, "%s*l%d", j ? ", " : "", lvl - 1);
        ct_printf(&b, "]\n");
    }
    ct_printf(&b, "services:\n  web:\n    image: x\n    environment: *l9\n");
    return b.s;
}

static void test_billion_laughs(void **state)
{
    _cleanup_free_ char *doc = billion_laughs();
    struct parsed p;
    double t0 = ct_now();
    parse(&p, doc);
    double dt = ct_now() - t0;
    assert_err(&p, "refusing it as an alias bomb");
    assert_err(&p, "t.yaml:");
    assert_true(dt < 1.0);
    assert_true(p.a.bytes < 1024 * 1024);
    parsed_done(&p);
}

static void test_reasonable_aliases_pass(void **state)
{
    /* 50 services each pulling a 20-key anchor through << and an alias:
     * ordinary reuse stays far under the budget. */
    struct ct_buf b = {0};
    ct_printf(&b, "x-common: &common\n");
    for (int i = 0; i < 20; i++)
        ct_printf(&b, "  k%d: v%d\n", i, i);
    ct_printf(&b, "x-env: &env [A=1, B=2]\nservices:\n");
    for (int i = 0; i < 50; i++)
        ct_printf(&b, "  s%d:\n    <<: *common\n    environment: *env\n", i);
    struct parsed p;
    parse(&p, b.s);
    assert_int_equal(p.r, 0);
    struct ynode *s7 = ymap_get(ymap_get(root(&p), "services"), "s7");
    assert_int_equal(s7->n_pairs, 21);
    parsed_done(&p);
    free(b.s);
}

/* Each level merges the previous one and also holds it as a value, so the
 * expanded size doubles per level while the file grows by one line. */
static void test_merge_key_bomb(void **state)
{
    struct ct_buf b = {0};
    ct_printf(&b, "x-m0: &m0 {a: 1, b: 2}\n");
    for (int i = 1; i <= 40; i++)
        ct_printf(&b, "x-m%d: &m%d {<<: [*m%d, *m%d, *m%d], k%d: *m%d}\n", i, i, i - 1, i - 1,
                  i - 1, i, i - 1);
    struct parsed p;
    double t0 = ct_now();
    parse(&p, b.s);
    assert_err(&p, "refusing it as an alias bomb");
    assert_true(ct_now() - t0 < 1.0);
    parsed_done(&p);
    free(b.s);
}

/* A wide anchor merged many times: the merge work itself is charged. */
static void test_merge_key_wide(void **state)
{
    struct ct_buf b = {0};
    ct_printf(&b, "x-big: &big {");
    for (int i = 0; i < 300; i++)
        ct_printf(&b, "%sk%d: %d", i ? ", " : "", i, i);
    ct_printf(&b, "}\nl:\n");
    _cleanup_free_ char *refs = repeat("*big, ", 300);
    for (int i = 0; i < 200; i++)
        ct_printf(&b, "  - {<<: [%s*big]}\n", refs);
    struct parsed p;
    double t0 = ct_now();
    parse(&p, b.s);
    assert_err(&p, "refusing it as an alias bomb");
    assert_true(ct_now() - t0 < 1.0);
    parsed_done(&p);
    free(b.s);
}

static void test_deep_flow_nesting(void **state)
{
    /* 200k nested "[" (400 KB): libyaml's loader would take minutes. */
    const size_t depth = 200000;
    char *doc = xmalloc(2 * depth + 8);
    memcpy(doc, "a: ", 3);
    memset(doc + 3, '[', depth);
    memset(doc + 3 + depth, ']', depth);
    doc[3 + 2 * depth] = '\0';
    struct parsed p;
    double t0 = ct_now();
    parse(&p, doc);
    double dt = ct_now() - t0;
    assert_err(&p, "t.yaml:1:67: nesting deeper than 64 levels");
    assert_true(dt < 1.0);
    parsed_done(&p);
    /* The same for flow mappings. */
    memset(doc + 3, '{', depth);
    memset(doc + 3 + depth, '}', depth);
    t0 = ct_now();
    parse(&p, doc);
    assert_err(&p, "nesting deeper than 64 levels");
    assert_true(ct_now() - t0 < 1.0);
    parsed_done(&p);
    free(doc);
}

static void test_deep_block_nesting(void **state)
{
    /* Block mappings, one more space of indentation per level. */
    struct ct_buf b = {0};
    for (int i = 0; i < 1000; i++)
        ct_printf(&b, "%*sk%d:\n", i, "", i);
    struct parsed p;
    double t0 = ct_now();
    parse(&p, b.s);
    assert_err(&p, "t.yaml:65:65: nesting deeper than 64 levels");
    assert_true(ct_now() - t0 < 1.0);
    parsed_done(&p);
    free(b.s);
    /* 200k block sequences on one line: "- - - - ... x". */
    _cleanup_free_ char *seqs = repeat("- ", 200000);
    t0 = ct_now();
    parse(&p, seqs);
    assert_err(&p, "nesting deeper than 64 levels");
    assert_true(ct_now() - t0 < 1.0);
    parsed_done(&p);
}

static void test_depth_limit_exact(void **state)
{
    struct yaml_limits lim;
    yaml_compose_limits(&lim);
    lim.max_depth = 5;
    struct parsed p;
    parse_lim(&p, "a: [[[[1]]]]\n", 12, &lim); /* 5 levels: the mapping and 4 lists */
    assert_int_equal(p.r, 0);
    parsed_done(&p);
    parse_lim(&p, "a: [[[[[1]]]]]\n", 14, &lim);
    assert_err(&p, "t.yaml:1:8: nesting deeper than 5 levels");
    parsed_done(&p);
}

static void test_node_limit(void **state)
{
    struct yaml_limits lim;
    yaml_compose_limits(&lim);
    lim.max_nodes = 100;
    _cleanup_free_ char *items = repeat("1, ", 200);
    _cleanup_free_ char *doc = xasprintf("a: [%s]\n", items);
    struct parsed p;
    parse_lim(&p, doc, strlen(doc), &lim);
    assert_err(&p, "more than 100 YAML nodes in one file");
    parsed_done(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_typed_values),
        cmocka_unit_test(test_multi_documents),
        cmocka_unit_test(test_custom_tag_warns),
        cmocka_unit_test(test_aliases_shared),
        cmocka_unit_test(test_alias_errors),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_merge_key_errors),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_merge_trees),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_reasonable_aliases_pass),
        cmocka_unit_test(test_merge_key_bomb),
        cmocka_unit_test(test_merge_key_wide),
        cmocka_unit_test(test_deep_flow_nesting),
        cmocka_unit_test(test_deep_block_nesting),
        cmocka_unit_test(test_depth_limit_exact),
        cmocka_unit_test(test_node_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
