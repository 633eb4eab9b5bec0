/* SPDX-License-Identifier: Apache-2.0 */
/* .env files parsed by compose-go's dotenv rules (quotes, escapes, export,
 * inline comments, interpolation against earlier values). Not here: the lookup
 * table the values go into (compose/envtab.c), ${VAR} in compose files
 * (compose/interp.c). */
#include "compose/dotenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/interp.h"
#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct parse {
    const char *s, *end;
    const char *name;
    int line;
    const struct envtab *env;
    struct diag *d;
    struct strvec out;
    bool raw;
    size_t *slots; /* hash of keys -> index in out + 1 (0: empty) */
    size_t n_slots;
};

static uint64_t hash_key(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

/* The slot of key: holding its index + 1, or 0 where it would go. */
static size_t *slot_of(struct parse *p, const char *key, size_t klen)
{
    size_t mask = p->n_slots - 1;
    for (size_t i = hash_key(key, klen) & mask;; i = (i + 1) & mask) {
        size_t *sl = &p->slots[i];
        if (!*sl)
            return sl;
        const char *e = p->out.v[*sl - 1];
        if (strncmp(e, key, klen) == 0 && e[klen] == '=')
            return sl;
    }
}

static void grow_slots(struct parse *p)
{
    free(p->slots);
    p->n_slots = p->n_slots ? p->n_slots * 2 : 64;
    p->slots = xcalloc(p->n_slots, sizeof *p->slots);
    for (size_t i = 0; i < p->out.n; i++) {
        const char *e = p->out.v[i];
        *slot_of(p, e, (size_t)(strchr(e, '=') - e)) = i + 1;
    }
}

/* Variables for interpolation: the environment first, then the lines
 * above (the last definition of a key). */
static const char *lookup(void *ud, const char *name, size_t len)
{
    struct parse *p = ud;
    const char *v = p->env ? envtab_get(p->env, name, len) : NULL;
    if (v)
        return v;
    if (!p->n_slots)
        return NULL;
    size_t *sl = slot_of(p, name, len);
    return *sl ? p->out.v[*sl - 1] + len + 1 : NULL;
}

static void set(struct parse *p, const char *key, size_t klen, const char *val, size_t vlen)
{
    char *entry = xasprintf("%.*s=%.*s", (int)klen, key, (int)vlen, val);
    if (2 * (p->out.n + 1) > p->n_slots)
        grow_slots(p);
    size_t *sl = slot_of(p, key, klen);
    if (*sl) {
        free(p->out.v[*sl - 1]);
        p->out.v[*sl - 1] = entry;
        return;
    }
    strvec_push(&p->out, entry);
    *sl = p->out.n;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int interpolate(struct parse *p, const char *v, size_t len, char **out, size_t *olen)
{
    if (p->raw) {
        *out = xstrndup(v, len);
        *olen = len;
        return 0;
    }
    struct interp ip = {lookup, p, NULL};
    char *err;
    if (interp_string(&ip, v, len, out, olen, &err) < 0) {
        diag_error_at(p->d, p->name, p->line, 0, "%s", err);
        free(err);
        return -EINVAL;
    }
    return 0;
}

/* After a closing quote: only blanks or a comment may follow. */
static int after_quote(struct parse *p, const char *q)
{
    while (q < p->end && is_blank(*q))
        q++;
    if (q < p->end && *q != '\n' && *q != '\r' && *q != '#') {
        diag_error_at(p->d, p->name, p->line, 0, "unexpected text after the closing quote");
        return -EINVAL;
    }
    while (q < p->end && *q != '\n')
        q++;
    p->s = q < p->end ? q + 1 : q;
    return 0;
}

static int value_double(struct parse *p, const char *key, size_t klen)
{
    const char *q = p->s + 1;
    int start_line = p->line;
    size_t cap = 64, n = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;; q++) {
        if (q >= p->end) {
            diag_error_at(p->d, p->name, start_line, 0, "unterminated double-quoted value");
            return -EINVAL;
        }
        if (n + 3 > cap)
            buf = xrealloc(buf, cap *= 2);
        if (*q == '"')
            break;
        if (*q == '\\' && q + 1 < p->end) {
            char c = *++q;
            switch (c) {
            case 'n':
                buf[n++] = '\n';
                break;
            case 'r':
                buf[n++] = '\r';
                break;
            case 't':
                buf[n++] = '\t';
                break;
            case '$':
                /* A literal "$": kept escaped for interpolation. */
                buf[n++] = '$';
                buf[n++] = '$';
                break;
            default:
                buf[n++] = c;
            }
            continue;
        }
        buf[n++] = *q;
    }
    char *val;
    size_t vlen;
    if (interpolate(p, buf, n, &val, &vlen) < 0)
        return -EINVAL;
    set(p, key, klen, val, vlen);
    free(val);
    return after_quote(p, q + 1);
}

/* Taken as written, except that \' is a quote inside the value (as
 * compose-go reads 'Let\'s go!'); any other backslash stays. */
static int value_single(struct parse *p, const char *key, size_t klen)
{
    const char *start = p->s + 1, *q = start;
    int start_line = p->line;
    size_t n = 0;
    _cleanup_free_ char *buf = xmalloc((size_t)(p->end - start) + 1);
    bool esc = false; /* the previous byte was a backslash, not yet written */
    for (; q < p->end && (*q != '\'' || esc); q++) {
        if (*q == '\\' && !esc) {
            esc = true;
            continue;
        }
        if (esc && *q != '\'')
            buf[n++] = '\\';
        esc = false;
        buf[n++] = *q;
    }
    if (q >= p->end) {
        diag_error_at(p->d, p->name, start_line, 0, "unterminated single-quoted value");
        return -EINVAL;
    }
    set(p, key, klen, buf, n);
    return after_quote(p, q + 1);
}

static int value_plain(struct parse *p, const char *key, size_t klen)
{
    const char *v = p->s, *e = v;
    while (e < p->end && *e != '\n')
        e++;
    const char *next = e < p->end ? e + 1 : e;
    /* A comment starts at a "#" after a blank. */
    for (const char *c = v; c < e; c++)
        if (*c == '#' && (c == v || is_blank(c[-1]))) {
            e = c;
            break;
        }
    while (e > v && (is_blank(e[-1]) || e[-1] == '\r'))
        e--;
    char *val;
    size_t vlen;
    if (interpolate(p, v, (size_t)(e - v), &val, &vlen) < 0)
        return -EINVAL;
    set(p, key, klen, val, vlen);
    free(val);
    p->s = next;
    return 0;
}

static bool key_char(char c)
{
    return c == '_' || c == '.' || c == '-' || c == '[' || c == ']' || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int parse_line(struct parse *p)
{
    const char *s = p->s;
    while (s < p->end && (is_blank(*s) || *s == '\r'))
        s++;
    if (s >= p->end || *s == '\n' || *s == '#') {
        while (s < p->end && *s != '\n')
            s++;
        p->s = s < p->end ? s + 1 : s;
        return 0;
    }
    if ((size_t)(p->end - s) > 7 && memcmp(s, "export", 6) == 0 && is_blank(s[6])) {
        s += 7;
        while (s < p->end && is_blank(*s))
            s++;
    }
    const char *key = s;
    while (s < p->end && key_char(*s))
        s++;
    size_t klen = (size_t)(s - key);
    const char *after = s;
    while (s < p->end && is_blank(*s))
        s++;
    if (klen == 0 || (s < p->end && *s != '=' && *s != '\n' && *s != '\r' && *s != '#')) {
        diag_error_at(p->d, p->name, p->line, 0,
                      "invalid line: expected KEY=VALUE (a key holds letters, digits, \"_\", "
                      "\".\" and \"-\")");
        return -EINVAL;
    }
    if (s >= p->end || *s != '=') {
        /* A bare KEY: its value comes from the environment, if any. */
        const char *v = p->env ? envtab_get(p->env, key, klen) : NULL;
        if (v)
            set(p, key, klen, v, strlen(v));
        while (s < p->end && *s != '\n')
            s++;
        p->s = s < p->end ? s + 1 : s;
        (void)after;
        return 0;
    }
    s++; /* '=' */
    while (s < p->end && is_blank(*s))
        s++;
    p->s = s;
    if (!p->raw && s < p->end && *s == '"')
        return value_double(p, key, klen);
    if (!p->raw && s < p->end && *s == '\'')
        return value_single(p, key, klen);
    if (p->raw) {
        const char *e = s;
        while (e < p->end && *e != '\n')
            e++;
        const char *ee = e;
        if (ee > s && ee[-1] == '\r')
            ee--;
        set(p, key, klen, s, (size_t)(ee - s));
        p->s = e < p->end ? e + 1 : e;
        return 0;
    }
    return value_plain(p, key, klen);
}

int dotenv_parse(const char *buf, size_t len, const char *name, const struct envtab *env, bool raw,
                 struct diag *d, char ***out)
{
    struct parse p = {
        .s = buf, .end = buf + len, .name = name, .line = 1, .env = env, .d = d, .raw = raw};
    if (memchr(buf, '\0', len)) {
        diag_error_at(d, name, 0, 0, "contains a NUL byte; not a text file");
        return -EINVAL;
    }
    int r = 0;
    while (p.s < p.end && r == 0) {
        const char *before = p.s;
        r = parse_line(&p);
        /* Count the lines consumed (quoted values counted their own). */
        for (const char *c = before; c < p.s && r == 0; c++)
            if (*c == '\n')
                p.line++;
    }
    free(p.slots);
    if (r < 0) {
        strvec_clear(&p.out);
        return r;
    }
    *out = strvec_take(&p.out);
    return 0;
}

int dotenv_read(const char *path, const char *name, const struct envtab *env, bool raw,
                struct diag *d, char ***out)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct berr e = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, path, DOTENV_MAX_BYTES, &buf, &len, &e);
    berr_clear(&e);
    if (r == -ENOENT)
        return r;
    if (r == -EFBIG) {
        diag_error_at(d, name, 0, 0, "env file is larger than the limit of %d bytes",
                      DOTENV_MAX_BYTES);
        return -EINVAL;
    }
    if (r == -EINVAL) {
        diag_error_at(d, name, 0, 0, "env file is not a regular file");
        return -EINVAL;
    }
    if (r < 0) {
        diag_error_at(d, name, 0, 0, "cannot read env file: %s", strerror(-r));
        return -EINVAL;
    }
    return dotenv_parse(buf, len, name, env, raw, d, out);
}
