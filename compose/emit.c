/* SPDX-License-Identifier: Apache-2.0 */
/* Writing a canonical tree out as docker compose config prints it: YAML like
 * Go's yaml encoder (quoting, literal blocks, indents) or JSON like
 * encoding/json, through a buffered writer. Not here: choosing what to print
 * and config hashes (compose/config.c), putting the tree in canonical form
 * (compose/canon.c). */
#include "compose/emit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compose/units.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

void emit_flush(struct emit_buf *b)
{
    if (b->out && b->len)
        fwrite(b->s, 1, b->len, b->out);
    b->len = 0;
}

void emit_put_slow(struct emit_buf *b, const char *s, size_t n)
{
    if (b->out && b->len + n + 1 > EMIT_FLUSH_AT)
        emit_flush(b);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(struct emit_buf *b, const char *s)
{
    emit_put(b, s, strlen(s));
}

static void spaces(struct emit_buf *b, int n)
{
    static const char sp[] = "                                                                ";
    while (n > 0) {
        int k = n > 64 ? 64 : n;
        emit_put(b, sp, (size_t)k);
        n -= k;
    }
}

/* --- Which pairs print, in which order ----------------------------------- */

static bool omitted_yaml(const struct ynode *v)
{
    if (!v->yaml_omit)
        return false;
    return ynode_is_null(v) || (v->kind == YNODE_MAP && v->n_pairs == 0);
}

static int cmp_pairs(const void *x, const void *y)
{
    const struct ypair *a = *(const struct ypair *const *)x, *b = *(const struct ypair *const *)y;
    return yscalar_cmp(a->key, b->key);
}

/* Room for the print order of a mapping of up to 32 pairs. */
struct order_buf {
    const struct ypair *v[32];
};

/* The pairs of a mapping in print order: in buf when they fit, else in a
 * heap array (free it when it is not buf->v). */
static bool is_ext_key(const struct ynode *k)
{
    return k->len >= 2 && k->str[0] == 'x' && k->str[1] == '-';
}

/* drop_ext: leave out x- keys (a compose object's extensions). */
static const struct ypair **print_order(const struct ynode *m, bool sort, bool yaml, bool drop_ext,
                                        size_t *n, struct order_buf *buf)
{
    const struct ypair **v =
        m->n_pairs <= sizeof buf->v / sizeof *buf->v ? buf->v : xcalloc(m->n_pairs, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < m->n_pairs; i++)
        if ((!yaml || !omitted_yaml(m->pairs[i].value)) &&
            !(drop_ext && is_ext_key(m->pairs[i].key)))
            v[k++] = &m->pairs[i];
    if (sort && k <= 16) { /* insertion sort: the common small mapping */
        for (size_t i = 1; i < k; i++) {
            const struct ypair *x = v[i];
            size_t j = i;
            for (; j > 0 && yscalar_cmp(v[j - 1]->key, x->key) > 0; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
    } else if (sort) {
        qsort(v, k, sizeof *v, cmp_pairs);
    }
    *n = k;
    return v;
}

/* --- Scalars: what a value is and how to print it -------------------------- */

enum stype { S_STR, S_INT, S_FLOAT, S_BOOL, S_NULL };

static enum stype stype_of(const struct ynode *n)
{
    switch (yscalar_type(n)) {
    case YTYPE_NULL:
        return S_NULL;
    case YTYPE_BOOL:
        return S_BOOL;
    case YTYPE_INT:
        return S_INT;
    case YTYPE_FLOAT:
        return S_FLOAT;
    default:
        return S_STR;
    }
}

/* The text of a non-string scalar as Go prints the decoded value. */
static void typed_text(const struct ynode *n, enum stype t, char *buf, size_t size)
{
    if (t == S_NULL) {
        snprintf(buf, size, "null");
    } else if (t == S_BOOL) {
        bool v = false;
        yscalar_bool(n, &v);
        snprintf(buf, size, "%s", v ? "true" : "false");
    } else if (t == S_INT && n->style == YSTYLE_PLAIN && n->len < size && n->str[0] >= '1' &&
               n->str[0] <= '9' && strspn(n->str, "0123456789") == n->len && n->len < 19) {
        memcpy(buf, n->str, n->len + 1); /* a plain decimal prints as written */
    } else if (t == S_INT) {
        int64_t v = 0;
        if (yscalar_int(n, &v) == 0 && size >= FORMAT_INT_MAX)
            format_int(buf, v);
        else
            snprintf(buf, size, "%s", n->str);
    } else {
        double v = 0;
        yscalar_float(n, &v);
        if (!isfinite(v)) {
            snprintf(buf, size, "%s", n->str);
            return;
        }
        /* A canonical float32 is already in its shortest form. */
        if (n->style == YSTYLE_PLAIN && strlen(n->str) < size &&
            strspn(n->str, "0123456789.-e+") == strlen(n->str)) {
            snprintf(buf, size, "%s", n->str);
            return;
        }
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, size, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
}

/* y, yes, n, no, on, off in lower, Title or UPPER case. */
static bool old_bool(const char *s, size_t len)
{
    static const char *const words[] = {"y", "yes", "n", "no", "on", "off"};
    if (len > 3)
        return false;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        const char *w = words[i];
        if (strlen(w) != len)
            continue;
        bool lower = true, title = true, upper = true;
        for (size_t j = 0; j < len; j++) {
            char up = (char)(w[j] - 'a' + 'A');
            lower = lower && s[j] == w[j];
            title = title && s[j] == (j ? w[j] : up);
            upper = upper && s[j] == up;
        }
        if (lower || title || upper)
            return true;
    }
    return false;
}

/* Would a plain scalar with this text read back as something else than a
 * string (YAML 1.1 booleans and sexagesimal numbers included, as Go's YAML
 * library checks)? */
static bool looks_typed(const char *s, size_t len)
{
    if (len == 0)
        return true;
    /* Only these first characters can start a non-string, and the words
     * (null, true, false, yes, no, on, off...) are at most 5 letters. */
    /* Digits alone read as a number (an integer, or a float when an octal
     * reading fails). */
    size_t digits = 0;
    while (digits < len && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits == len)
        return true;
    switch (s[0]) {
    case '~':
    case 'n':
    case 'N':
    case 't':
    case 'T':
    case 'f':
    case 'F':
    case 'y':
    case 'Y':
    case 'o':
    case 'O':
        if (len > 5)
            return false;
        break;
    case '+':
    case '-':
    case '.':
        break;
    default:
        if (s[0] < '0' || s[0] > '9')
            return false;
    }
    if (memchr(s, '\0', len))
        return false;
    struct ynode probe = {.kind = YNODE_SCALAR, .style = YSTYLE_PLAIN, .str = s, .len = len};
    if (yscalar_type(&probe) != YTYPE_STR)
        return true;
    if (old_bool(s, len))
        return true;
    /* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)? */
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    while ((*p >= '0' && *p <= '9') || *p == '_')
        p++;
    int groups = 0;
    while (*p == ':') {
        p++;
        int d = 0;
        while (*p >= '0' && *p <= '9' && d < 3)
            p++, d++;
        if (d == 0 || d > 2 || (d == 2 && p[-2] > '5'))
            return false;
        groups++;
    }
    if (!groups)
        return false;
    if (*p == '.') {
        p++;
        while ((*p >= '0' && *p <= '9') || *p == '_')
            p++;
    }
    return *p == '\0';
}

/* UTF-8 decode at s; returns the length (1 for an invalid byte, *cp = -1). */
static size_t utf8_next(const unsigned char *s, size_t len, long *cp)
{
    unsigned char c = s[0];
    size_t n;
    long v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0)
        n = 2, v = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 3, v = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 4, v = c & 0x07;
    else {
        *cp = -1;
        return 1;
    }
    if (n > len) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

/* libyaml's notion of a printable character. */
static bool printable(long cp)
{
    return cp == 0x0A || (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

enum qstyle { Q_PLAIN, Q_SINGLE, Q_DOUBLE, Q_LITERAL };

/* Bytes as choose_style sees them: 0 printable ASCII of no interest, 1 a
 * printable byte to look at (":", "#", "$"), 2 anything else. */
static const unsigned char byte_class[256] = {
    [0x00 ... 0x1F] = 2, [0x7F ... 0xFF] = 2, [':'] = 1, ['#'] = 1, ['$'] = 1,
};

/* *dollar: whether the text holds a "$". */
static enum qstyle choose_style(const char *s, size_t len, bool *dollar)
{
    *dollar = true; /* unless the scan below says otherwise */
    if (looks_typed(s, len))
        return Q_DOUBLE;
    bool special = false, multiline = false, space_break = false;
    bool indicator = false; /* ": " or " #" within the text */
    bool has_dollar = false;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char cl = byte_class[u[i]];
        if (cl == 0) { /* the common case */
            i++;
            continue;
        }
        if (cl == 1) {
            if ((u[i] == ':' && (i + 1 == len || s[i + 1] == ' ')) ||
                (u[i] == '#' && i > 0 && s[i - 1] == ' '))
                indicator = true;
            has_dollar = has_dollar || u[i] == '$';
            i++;
            continue;
        }
        long cp;
        size_t n = utf8_next(u + i, len - i, &cp);
        if (cp < 0 || !printable(cp))
            special = true;
        if (cp == '\n') {
            multiline = true;
            if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
                space_break = true;
        }
        i += n;
    }
    *dollar = has_dollar;
    if (special)
        return Q_DOUBLE;
    if (multiline)
        return space_break || s[0] == ' ' ? Q_DOUBLE : Q_LITERAL;
    bool plain = true;
    if (s[0] == ' ' || s[len - 1] == ' ')
        plain = false;
    switch (s[0]) {
    case '#':
    case ',':
    case '[':
    case ']':
    case '{':
    case '}':
    case '&':
    case '*':
    case '!':
    case '|':
    case '>':
    case '\'':
    case '"':
    case '%':
    case '@':
    case '`':
        plain = false;
    }
    if ((s[0] == '-' || s[0] == '?' || s[0] == ':') && (len == 1 || s[1] == ' '))
        plain = false;
    if (s[0] == '?' || s[0] == ':')
        plain = plain && len > 1 && s[1] != ' ';
    if (len >= 3 && (s[0] == '-' || s[0] == '.') && s[1] == s[0] && s[2] == s[0]) /* ---, ... */
        plain = false;
    return plain && !indicator ? Q_PLAIN : Q_SINGLE;
}

/* The length of the run at u of printable ASCII bytes that are none of
 * those in special. */
static size_t plain_run(const unsigned char *u, size_t len, const char *special)
{
    size_t i = 0;
    while (i < len && u[i] >= 0x20 && u[i] < 0x7F && !strchr(special, u[i]))
        i++;
    return i;
}

/* The string's bytes, "$" doubled when asked. */
static void put_text(struct emit_buf *b, const char *s, size_t len, const struct emit_opts *o)
{
    if (!o->escape_dollar) {
        emit_put(b, s, len);
        return;
    }
    size_t start = 0;
    for (const char *d; (d = memchr(s + start, '$', len - start));) {
        size_t i = (size_t)(d - s);
        emit_put(b, s + start, i + 1 - start);
        emit_put(b, "$", 1);
        start = i + 1;
    }
    emit_put(b, s + start, len - start);
}

static void yaml_double(struct emit_buf *b, const char *s, size_t len, const struct emit_opts *o)
{
    emit_put(b, "\"", 1);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t run = plain_run(u + i, len - i, "\"\\");
        if (run) {
            put_text(b, s + i, run, o);
            i += run;
            continue;
        }
        long cp;
        size_t n = utf8_next(u + i, len - i, &cp);
        char esc[16] = "";
        switch (cp) {
        case 0:
            strcpy(esc, "\\0");
            break;
        case 7:
            strcpy(esc, "\\a");
            break;
        case 8:
            strcpy(esc, "\\b");
            break;
        case 9:
            strcpy(esc, "\\t");
            break;
        case 10:
            strcpy(esc, "\\n");
            break;
        case 11:
            strcpy(esc, "\\v");
            break;
        case 12:
            strcpy(esc, "\\f");
            break;
        case 13:
            strcpy(esc, "\\r");
            break;
        case 27:
            strcpy(esc, "\\e");
            break;
        case '"':
            strcpy(esc, "\\\"");
            break;
        case '\\':
            strcpy(esc, "\\\\");
            break;
        case 0x85:
            strcpy(esc, "\\N");
            break;
        case 0xA0:
            strcpy(esc, "\\_");
            break;
        case 0x2028:
            strcpy(esc, "\\L");
            break;
        case 0x2029:
            strcpy(esc, "\\P");
            break;
        default:
            if (cp < 0)
                snprintf(esc, sizeof esc, "\\x%02X", u[i]);
            else if (!printable(cp) || cp == 0xFEFF)
                snprintf(esc, sizeof esc, cp <= 0xFF ? "\\x%02lX" : "\\u%04lX", cp);
        }
        if (esc[0])
            puts_(b, esc);
        else
            put_text(b, s + i, n, o);
        i += n;
    }
    emit_put(b, "\"", 1);
}

static void yaml_string(struct emit_buf *b, const char *s, size_t len, int indent,
                        const struct emit_opts *o)
{
    bool dollar;
    switch (choose_style(s, len, &dollar)) {
    case Q_PLAIN:
        if (dollar)
            put_text(b, s, len, o);
        else
            emit_put(b, s, len);
        return;
    case Q_SINGLE:
        emit_put(b, "'", 1);
        for (size_t start = 0; start < len;) {
            const char *q = memchr(s + start, '\'', len - start);
            size_t stop = q ? (size_t)(q - s) + 1 : len;
            put_text(b, s + start, stop - start, o);
            if (q)
                emit_put(b, "'", 1); /* a quote is written twice */
            start = stop;
        }
        emit_put(b, "'", 1);
        return;
    case Q_DOUBLE:
        yaml_double(b, s, len, o);
        return;
    case Q_LITERAL: {
        size_t trail = 0;
        while (trail < len && s[len - 1 - trail] == '\n')
            trail++;
        puts_(b, trail == 0 ? "|-" : trail == 1 ? "|" : "|+");
        emit_put(b, "\n", 1);
        size_t end = trail ? len - 1 : len; /* the caller writes the last newline */
        size_t start = 0;
        while (start <= end) {
            const char *nl = memchr(s + start, '\n', end - start);
            size_t stop = nl ? (size_t)(nl - s) : end;
            if (stop > start) {
                spaces(b, indent);
                put_text(b, s + start, stop - start, o);
            }
            if (!nl)
                break;
            emit_put(b, "\n", 1);
            start = stop + 1;
        }
        return;
    }
    }
}

static void yaml_scalar(struct emit_buf *b, const struct ynode *n, int indent,
                        const struct emit_opts *o)
{
    enum stype t = stype_of(n);
    if (t == S_STR) {
        yaml_string(b, n->str, n->len, indent, o);
        return;
    }
    char buf[64];
    typed_text(n, t, buf, sizeof buf);
    puts_(b, buf);
}

/* --- YAML ------------------------------------------------------------------ */

static void yaml_node(struct emit_buf *b, const struct ynode *n, int indent,
                      const struct emit_opts *o);

/* Writes the value after "key:" or "-": inline for scalars and empty
 * collections, else on the next lines. */
static void yaml_value(struct emit_buf *b, const struct ynode *v, int indent, bool in_seq,
                       const struct emit_opts *o)
{
    if (v->kind == YNODE_SCALAR) {
        emit_put(b, " ", 1);
        yaml_scalar(b, v, indent + 2, o);
        emit_put(b, "\n", 1);
        return;
    }
    size_t n = v->kind == YNODE_MAP ? v->n_pairs : v->n_items;
    if (v->kind == YNODE_MAP) {
        n = 0; /* the pairs that print */
        for (size_t i = 0; i < v->n_pairs; i++)
            n += !omitted_yaml(v->pairs[i].value);
    }
    if (n == 0) {
        puts_(b, v->kind == YNODE_MAP ? " {}\n" : " []\n");
        return;
    }
    if (in_seq) {
        emit_put(b, " ", 1);
        yaml_node(b, v, -(indent + 2), o); /* first line continues after "- " */
        return;
    }
    emit_put(b, "\n", 1);
    yaml_node(b, v, indent + 2, o);
}

/* indent < 0: the first line is already indented (after "- "). */
static void yaml_node(struct emit_buf *b, const struct ynode *n, int indent,
                      const struct emit_opts *o)
{
    bool first_inline = indent < 0;
    if (first_inline)
        indent = -indent;
    if (n->kind == YNODE_MAP) {
        size_t k;
        struct order_buf ob;
        const struct ypair **pp = print_order(n, !n->ordered, true, false, &k, &ob);
        for (size_t i = 0; i < k; i++) {
            if (!(first_inline && i == 0))
                spaces(b, indent);
            /* Compose's keys are strings: "010" or "true" printed bare
             * would read back as 8 or a boolean. */
            yaml_string(b, pp[i]->key->str, pp[i]->key->len, indent + 2, o);
            emit_put(b, ":", 1);
            yaml_value(b, pp[i]->value, indent, false, o);
        }
        if (pp != ob.v)
            free(pp);
    } else if (n->kind == YNODE_SEQ) {
        for (size_t i = 0; i < n->n_items; i++) {
            if (!(first_inline && i == 0))
                spaces(b, indent);
            emit_put(b, "-", 1);
            yaml_value(b, n->items[i], indent, true, o);
        }
    } else {
        if (!first_inline)
            spaces(b, indent);
        yaml_scalar(b, n, indent, o);
        emit_put(b, "\n", 1);
    }
}

void emit_yaml(struct emit_buf *b, const struct ynode *root, const struct emit_opts *o)
{
    yaml_node(b, root, 0, o);
}

/* --- JSON ------------------------------------------------------------------ */

static void json_string(struct emit_buf *b, const char *s, size_t len, const struct emit_opts *o)
{
    emit_put(b, "\"", 1);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t run = plain_run(u + i, len - i, "\"\\<>&");
        if (run) {
            put_text(b, s + i, run, o);
            i += run;
            continue;
        }
        long cp;
        size_t n = utf8_next(u + i, len - i, &cp);
        char esc[16] = "";
        if (cp < 0)
            strcpy(esc, "\\ufffd");
        else if (cp == '"')
            strcpy(esc, "\\\"");
        else if (cp == '\\')
            strcpy(esc, "\\\\");
        else if (cp == '\n')
            strcpy(esc, "\\n");
        else if (cp == '\r')
            strcpy(esc, "\\r");
        else if (cp == '\t')
            strcpy(esc, "\\t");
        else if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' || cp == 0x2028 || cp == 0x2029)
            snprintf(esc, sizeof esc, "\\u%04lx", cp);
        if (esc[0])
            puts_(b, esc);
        else
            put_text(b, s + i, n, o);
        i += n;
    }
    emit_put(b, "\"", 1);
}

static void json_nl(struct emit_buf *b, int indent, int depth)
{
    if (indent < 0)
        return;
    emit_put(b, "\n", 1);
    spaces(b, indent * depth);
}

static void json_node(struct emit_buf *b, const struct ynode *n, int indent, int depth, bool sort,
                      const struct emit_opts *o)
{
    if (n->kind == YNODE_MAP) {
        size_t k;
        struct order_buf ob;
        /* Compose objects (the canonical tree's ordered mappings) below
         * the top level keep their x- keys out of JSON, as compose-go's
         * structs do (Extensions `json:"-"`); the project's own are kept. */
        bool drop_ext = o->drop_object_ext && n->ordered && depth > 0;
        const struct ypair **pp = print_order(n, sort || !n->ordered, false, drop_ext, &k, &ob);
        if (k == 0) {
            if (pp != ob.v)
                free(pp);
            puts_(b, "{}");
            return;
        }
        emit_put(b, "{", 1);
        for (size_t i = 0; i < k; i++) {
            if (i)
                emit_put(b, ",", 1);
            json_nl(b, indent, depth + 1);
            json_string(b, pp[i]->key->str, pp[i]->key->len, o);
            puts_(b, indent < 0 ? ":" : ": ");
            json_node(b, pp[i]->value, indent, depth + 1, false, o);
        }
        if (pp != ob.v)
            free(pp);
        json_nl(b, indent, depth);
        emit_put(b, "}", 1);
    } else if (n->kind == YNODE_SEQ) {
        if (n->n_items == 0) {
            puts_(b, "[]");
            return;
        }
        emit_put(b, "[", 1);
        for (size_t i = 0; i < n->n_items; i++) {
            if (i)
                emit_put(b, ",", 1);
            json_nl(b, indent, depth + 1);
            json_node(b, n->items[i], indent, depth + 1, false, o);
        }
        json_nl(b, indent, depth);
        emit_put(b, "]", 1);
    } else {
        enum stype t = stype_of(n);
        if (t == S_STR) {
            json_string(b, n->str, n->len, o);
            return;
        }
        char buf[64];
        typed_text(n, t, buf, sizeof buf);
        if (t == S_FLOAT && !strpbrk(buf, "0123456789"))
            json_string(b, buf, strlen(buf), o); /* .inf / .nan have no JSON form */
        else
            puts_(b, buf);
    }
}

void emit_json(struct emit_buf *b, const struct ynode *root, int indent, const struct emit_opts *o)
{
    json_node(b, root, indent, 0, o->sort_root, o);
}
