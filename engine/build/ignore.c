/* SPDX-License-Identifier: Apache-2.0 */
/* .dockerignore as moby/patternmatcher reads and matches it: one pattern
 * a line, '#' comments, blank lines skipped, each pattern cleaned like a
 * path (leading "/" and "./" gone), "!" for an exception; '*' and '?'
 * within one path segment, "[...]" classes, "**" across segments, '\\'
 * escaping. A path is excluded when the last pattern matching it or one of
 * its parent directories is not an exception. Patterns become POSIX
 * extended regular expressions (libc's regcomp). A line is a comment only
 * when '#' is its very first character. */
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/path.h"
#include "util/xalloc.h"

struct di_pattern {
    char *text; /* cleaned, without the '!' */
    bool exception;
    /* "**" then only plain characters: the path ends with what follows,
     * as patternmatcher's suffix match ("**foo" matches "barfoo") */
    const char *suffix;
    regex_t re;
};

struct dockerignore {
    struct di_pattern *p;
    size_t n;
};

void dockerignore_free(struct dockerignore *di)
{
    if (!di)
        return;
    for (size_t i = 0; i < di->n; i++) {
        free(di->p[i].text);
        regfree(&di->p[i].re);
    }
    free(di->p);
    free(di);
}

static void put(char **o, size_t *n, const char *s)
{
    size_t l = strlen(s);
    memcpy(*o + *n, s, l);
    *n += l;
}

/* "[...]" at *s (after the '['): copied into the expression; -EINVAL when
 * it is not closed. */
static int put_class(const char **s, char **o, size_t *n)
{
    const char *c = *s;
    put(o, n, "[");
    if (*c == '^') { /* Go's negation; '!' is a member, as in docker */
        put(o, n, "^");
        c++;
    }
    if (*c == ']' || !*c)
        return -EINVAL;
    for (; *c && *c != ']'; c++) {
        if (*c == '\\' && c[1])
            c++;
        (*o)[(*n)++] = *c;
    }
    if (*c != ']')
        return -EINVAL;
    put(o, n, "]");
    *s = c + 1;
    return 0;
}

/* The pattern as an anchored extended regular expression. */
static int to_regex(const char *pat, char **out)
{
    _cleanup_free_ char *o = xmalloc(strlen(pat) * 8 + 8);
    size_t n = 0;
    put(&o, &n, "^");
    for (const char *s = pat; *s;) {
        char c = *s++;
        if (c == '*' && *s == '*') {
            s++;
            if (*s == '/')
                s++;
            put(&o, &n, *s ? "(.*/)?" : ".*");
        } else if (c == '*') {
            put(&o, &n, "[^/]*");
        } else if (c == '?') {
            put(&o, &n, "[^/]");
        } else if (c == '[') {
            if (put_class(&s, &o, &n) < 0)
                return -EINVAL;
        } else {
            if (c == '\\') {
                if (!*s)
                    return -EINVAL;
                c = *s++;
            }
            if (strchr(".+()|{}^$[]\\*?", c))
                o[n++] = '\\';
            o[n++] = c;
        }
    }
    put(&o, &n, "$");
    o[n] = '\0';
    *out = TAKE_PTR(o);
    return 0;
}

static int add_pattern(struct dockerignore *di, const char *name, int line, char *l, struct berr *e)
{
    bool exception = *l == '!';
    if (exception) {
        l++;
        while (*l == ' ' || *l == '\t')
            l++;
        if (!*l)
            return berr_set(e, -EINVAL, "%s:%d: illegal exclusion pattern: \"!\"", name, line);
    }
    char clean[4096];
    if (path_normalize(l, PATH_NORM_STRIP_ROOT, clean, sizeof(clean)) < 0)
        return berr_set(e, -EINVAL, "%s:%d: pattern too long", name, line);
    if (!*clean)
        return 0; /* "/" or "." alone: matches nothing below the root */
    _cleanup_free_ char *re = NULL;
    if (to_regex(clean, &re) < 0)
        return berr_set(e, -EINVAL, "%s:%d: bad pattern: %s", name, line, l);
    struct di_pattern p = {.text = xstrdup(clean), .exception = exception};
    if (strncmp(clean, "**", 2) == 0 && clean[2] && !strpbrk(clean + 2, "*?[]\\"))
        p.suffix = p.text + 2;
    if (regcomp(&p.re, re, REG_EXTENDED | REG_NOSUB) != 0) {
        free(p.text);
        return berr_set(e, -EINVAL, "%s:%d: bad pattern: %s", name, line, l);
    }
    di->p = df_grow(di->p, di->n, sizeof(*di->p));
    di->p[di->n++] = p;
    return 0;
}

int dockerignore_parse(const char *name, const char *text, size_t len, struct dockerignore **out,
                       struct berr *e)
{
    if (len > DI_MAX_BYTES)
        return berr_set(e, -EFBIG, "%s: larger than %d bytes", name, DI_MAX_BYTES);
    if (memchr(text, '\0', len))
        return berr_set(e, -EINVAL, "%s: holds a NUL byte: not a text file", name);
    _cleanup_(dockerignore_freep) struct dockerignore *di = xcalloc(1, sizeof(*di));
    const char *end = text + len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3; /* a UTF-8 byte-order mark */
    for (int line = 1; text < end; line++) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        const char *le = nl ? nl : end;
        if (*text == '#') { /* a comment only with '#' first, as docker reads it */
            text = nl ? nl + 1 : end;
            continue;
        }
        while (text < le && strchr(" \t\r\f\v", *text))
            text++;
        while (le > text && strchr(" \t\r\f\v", le[-1]))
            le--;
        _cleanup_free_ char *l = xstrndup(text, (size_t)(le - text));
        text = nl ? nl + 1 : end;
        if (!*l)
            continue;
        if (di->n >= DI_MAX_PATTERNS)
            return berr_set(e, -E2BIG, "%s:%d: more than %d patterns", name, line, DI_MAX_PATTERNS);
        int r = add_pattern(di, name, line, l, e);
        if (r < 0)
            return r;
    }
    *out = TAKE_PTR(di);
    return 0;
}

/* path, or one of its parent directories, matches p. */
static bool match_one(const struct di_pattern *p, const char *path)
{
    if (!p->suffix)
        return regexec(&p->re, path, 0, NULL, 0) == 0;
    size_t lp = strlen(path), ls = strlen(p->suffix);
    if (lp >= ls && strcmp(path + lp - ls, p->suffix) == 0)
        return true;
    /* a suffix starting with a slash also matches the path without it */
    return p->suffix[0] == '/' && strcmp(path, p->suffix + 1) == 0;
}

static bool matches_or_parent(const struct di_pattern *p, const char *path)
{
    if (match_one(p, path))
        return true;
    _cleanup_free_ char *parent = xstrdup(path);
    for (char *slash = strchr(parent, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        bool m = match_one(p, parent);
        *slash = '/';
        if (m)
            return true;
    }
    return false;
}

bool dockerignore_excluded(const struct dockerignore *di, const char *path)
{
    char clean[4096];
    if (!di || path_normalize(path, PATH_NORM_STRIP_ROOT, clean, sizeof(clean)) < 0 || !*clean)
        return false;
    bool matched = false;
    for (size_t i = 0; i < di->n; i++) {
        /* an exclusion can only change an unmatched path, an exception a
         * matched one */
        if (di->p[i].exception != matched)
            continue;
        if (matches_or_parent(&di->p[i], clean))
            matched = !di->p[i].exception;
    }
    return matched;
}

/* Could exception pattern pat match dir or something below it? Segment
 * by segment: a "**" anywhere, or running out of dir's segments, means it
 * may. Never wrongly false. */
static bool may_match_below(const char *pat, const char *dir)
{
    _cleanup_free_ char *p = xstrdup(pat), *d = xstrdup(dir);
    char *ps = NULL, *ds = NULL;
    char *pc = strtok_r(p, "/", &ps), *dc = strtok_r(d, "/", &ds);
    for (; dc; dc = strtok_r(NULL, "/", &ds), pc = strtok_r(NULL, "/", &ps)) {
        if (!pc || strstr(pc, "**"))
            return true;
        if (fnmatch(pc, dc, 0) != 0)
            return false;
    }
    return true;
}

bool dockerignore_may_reinclude(const struct dockerignore *di, const char *dir)
{
    char clean[4096];
    if (!di || path_normalize(dir, PATH_NORM_STRIP_ROOT, clean, sizeof(clean)) < 0)
        return true;
    for (size_t i = 0; i < di->n; i++)
        if (di->p[i].exception && may_match_below(di->p[i].text, clean))
            return true;
    return false;
}
