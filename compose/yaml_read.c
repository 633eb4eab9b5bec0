/* SPDX-License-Identifier: Apache-2.0 */
/* Reading parsed trees: lookups and the YAML 1.2 core-schema typing of
 * scalars (see compose/yaml.h).
 * Not here: parsing (compose/yaml.c), writing (compose/emit.c). */
#include "compose/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

const struct ypair *ymap_get_pair(const struct ynode *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ynode *k = map->pairs[i].key;
        if (k->len == klen && memcmp(k->str, key, klen) == 0)
            return &map->pairs[i];
    }
    return NULL;
}

struct ynode *ymap_get(const struct ynode *map, const char *key)
{
    const struct ypair *pr = ymap_get_pair(map, key);
    return pr ? pr->value : NULL;
}

bool yscalar_has_nul(const struct ynode *n)
{
    return n->kind == YNODE_SCALAR && memchr(n->str, '\0', n->len) != NULL;
}

static bool is_one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

/* Integer text as YAML libraries in Go read it: optional sign, "_" digit
 * separators dropped, 0x / 0o / 0b prefixes, a leading 0 meaning octal. */
static int parse_int_text(const char *s, int64_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    else if (s[0] == '0' && s[1] != '\0')
        base = 8, s += 1;
    uint64_t v = 0;
    bool any = false;
    for (; *s; s++) {
        if (*s == '_')
            continue;
        unsigned dgt;
        if (*s >= '0' && *s <= '9')
            dgt = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            dgt = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            dgt = (unsigned)(*s - 'A' + 10);
        else
            return -EINVAL;
        if (dgt >= base)
            return -EINVAL;
        if (v > (UINT64_MAX - dgt) / base)
            return -ERANGE;
        v = v * base + dgt;
        any = true;
    }
    if (!any)
        return -EINVAL;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -ERANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and .inf / .nan */
static bool is_float_text(const char *s)
{
    const char *t = s;
    if (*t == '+' || *t == '-')
        t++;
    if (*t == '.' && is_one_of(t, (const char *const[]){".inf", ".Inf", ".INF", NULL}))
        return true;
    if (*t == '.' && t == s && is_one_of(t, (const char *const[]){".nan", ".NaN", ".NAN", NULL}))
        return true;
    size_t int_digits = strspn(t, "0123456789");
    t += int_digits;
    size_t frac_digits = 0;
    if (*t == '.') {
        t++;
        frac_digits = strspn(t, "0123456789");
        t += frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (*t == 'e' || *t == 'E') {
        t++;
        if (*t == '+' || *t == '-')
            t++;
        size_t e = strspn(t, "0123456789");
        if (e == 0)
            return false;
        t += e;
    }
    return *t == '\0';
}

static enum yscalar_type scalar_type(const struct ynode *n)
{
    if (n->tag) {
        const char *t = n->tag;
        if (strcmp(t, "!") == 0 || strcmp(t, YAML_TAG_PREFIX "str") == 0)
            return YTYPE_STR;
        if (strcmp(t, YAML_TAG_PREFIX "null") == 0)
            return YTYPE_NULL;
        if (strcmp(t, YAML_TAG_PREFIX "bool") == 0)
            return YTYPE_BOOL;
        if (strcmp(t, YAML_TAG_PREFIX "int") == 0)
            return YTYPE_INT;
        if (strcmp(t, YAML_TAG_PREFIX "float") == 0)
            return YTYPE_FLOAT;
    }
    if (n->style != YSTYLE_PLAIN)
        return YTYPE_STR;
    if (n->len == 0)
        return YTYPE_NULL;
    /* Most plain scalars are words: only these first characters can start
     * a null, a boolean or a number. */
    switch (n->str[0]) {
    case '~':
        return n->len == 1 ? YTYPE_NULL : YTYPE_STR;
    case 'n':
    case 'N':
        return n->len == 4 && is_one_of(n->str, null_words) ? YTYPE_NULL : YTYPE_STR;
    case 't':
    case 'T':
        return n->len == 4 && is_one_of(n->str, true_words) ? YTYPE_BOOL : YTYPE_STR;
    case 'f':
    case 'F':
        return n->len == 5 && is_one_of(n->str, false_words) ? YTYPE_BOOL : YTYPE_STR;
    case '+':
    case '-':
    case '.':
        break;
    default:
        if (n->str[0] < '0' || n->str[0] > '9')
            return YTYPE_STR;
    }
    if (yscalar_has_nul(n))
        return YTYPE_STR;
    int64_t i;
    if (parse_int_text(n->str, &i) != -EINVAL)
        return YTYPE_INT;
    if (is_float_text(n->str))
        return YTYPE_FLOAT;
    return YTYPE_STR;
}

enum yscalar_type yscalar_type(const struct ynode *n)
{
    if (n->kind != YNODE_SCALAR)
        return YTYPE_STR;
    return n->typed ? (enum yscalar_type)n->type : scalar_type(n);
}

void ynode_set_tag(struct ynode *n, const char *tag)
{
    n->tag = tag;
    n->typed = 0;
    if (n->kind == YNODE_SCALAR) {
        n->type = scalar_type(n);
        n->typed = 1;
    }
}

bool ynode_is_null(const struct ynode *n)
{
    return !n || (n->kind == YNODE_SCALAR && yscalar_type(n) == YTYPE_NULL);
}

int yscalar_bool(const struct ynode *n, bool *out)
{
    if (n->kind != YNODE_SCALAR || yscalar_type(n) != YTYPE_BOOL)
        return -EINVAL;
    if (is_one_of(n->str, true_words))
        *out = true;
    else if (is_one_of(n->str, false_words))
        *out = false;
    else
        return -EINVAL;
    return 0;
}

int yscalar_int(const struct ynode *n, int64_t *out)
{
    if (n->kind != YNODE_SCALAR || yscalar_type(n) != YTYPE_INT)
        return -EINVAL;
    return parse_int_text(n->str, out);
}

int yscalar_float(const struct ynode *n, double *out)
{
    if (n->kind != YNODE_SCALAR)
        return -EINVAL;
    enum yscalar_type t = yscalar_type(n);
    if (t == YTYPE_INT) {
        int64_t i;
        int r = parse_int_text(n->str, &i);
        if (r < 0)
            return r;
        *out = (double)i;
        return 0;
    }
    if (t != YTYPE_FLOAT || !is_float_text(n->str))
        return -EINVAL;
    const char *s = n->str;
    const char *u = (*s == '+' || *s == '-') ? s + 1 : s;
    if (u[0] == '.' && (u[1] == 'i' || u[1] == 'I')) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (u[0] == '.' && (u[1] == 'n' || u[1] == 'N')) {
        *out = NAN;
        return 0;
    }
    errno = 0;
    *out = strtod(s, NULL);
    return errno == ERANGE ? -ERANGE : 0;
}

const char *ynode_describe(const struct ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YNODE_MAP:
        return "a mapping";
    case YNODE_SEQ:
        return "a list";
    default:
        break;
    }
    switch (yscalar_type(n)) {
    case YTYPE_NULL:
        return "null";
    case YTYPE_BOOL:
        return "a boolean";
    case YTYPE_INT:
    case YTYPE_FLOAT:
        return "a number";
    default:
        return "a string";
    }
}
