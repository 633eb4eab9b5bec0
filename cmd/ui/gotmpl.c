/* SPDX-License-Identifier: Apache-2.0 */
/* A Go text/template subset for --format (cmd/ui/gotmpl.h). */
#include "cmd/ui/gotmpl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A value as Go's fmt %v prints a decoded JSON value. */
static void print_go(FILE *b, json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        fwrite(json_string_value(v), 1, json_string_length(v), b);
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        fputs(num, b);
        break;
    case JSON_REAL:
        snprintf(num, sizeof num, "%g", json_real_value(v));
        fputs(num, b);
        break;
    case JSON_TRUE:
        fputs("true", b);
        break;
    case JSON_FALSE:
        fputs("false", b);
        break;
    case JSON_NULL:
        fputs("<nil>", b);
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        fputs("[", b);
        json_array_foreach(v, i, x)
        {
            if (i)
                fputs(" ", b);
            print_go(b, x);
        }
        fputs("]", b);
        break;
    }
    case JSON_OBJECT: {
        /* Go prints maps sorted by key. */
        size_t n = json_object_size(v), i = 0;
        _cleanup_free_ const char **keys = xcalloc(n + 1, sizeof *keys);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            keys[i++] = k;
        }
        xqsort(keys, n, sizeof *keys, cmp_key);
        fputs("map[", b);
        for (i = 0; i < n; i++) {
            if (i)
                fputs(" ", b);
            fputs(keys[i], b);
            fputs(":", b);
            print_go(b, json_object_get(v, keys[i]));
        }
        fputs("]", b);
        break;
    }
    }
}

/* One action's text between {{ and }}, trimmed: "json .A.B" or ".A.B".
 * *json tells which; *path points at the path (".", ".A.B"). */
static int parse_action(const char *s, size_t n, bool *json, char **path, struct berr *e)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    *json = n > 4 && strncmp(s, "json", 4) == 0 && isspace((unsigned char)s[4]);
    if (*json) {
        s += 5;
        n -= 5;
        while (n && isspace((unsigned char)*s))
            s++, n--;
    }
    bool ok = n > 0 && s[0] == '.';
    for (size_t i = 1; ok && i < n; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_' || (s[i] == '.' && s[i - 1] != '.');
    if (!ok || (n > 1 && s[n - 1] == '.'))
        return berr_set(e, -ENOTSUP,
                        "template action \"{{%.*s}}\" is not supported (only {{.Field.Sub}} and "
                        "{{json .Field}}; or --format json)",
                        (int)(n > 200 ? 200 : n), s);
    *path = xstrndup(s, n);
    return 0;
}

/* Walks "." or ".A.B" from v; NULL when a key is missing. */
static json_t *lookup(json_t *v, const char *path)
{
    const char *p = path + 1;
    while (*p && v) {
        const char *dot = strchrnul(p, '.');
        _cleanup_free_ char *k = xstrndup(p, (size_t)(dot - p));
        v = json_is_object(v) ? json_object_get(v, k) : NULL;
        p = *dot ? dot + 1 : dot;
    }
    return v;
}

static int walk(const char *tmpl, json_t *v, FILE *b, struct berr *e)
{
    const char *p = tmpl;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            if (b)
                fputs(p, b);
            return 0;
        }
        if (b)
            fwrite(p, 1, (size_t)(open - p), b);
        const char *close = strstr(open + 2, "}}");
        if (!close)
            return berr_set(e, -EINVAL, "template: unclosed action (\"{{\" without \"}}\")");
        bool json;
        _cleanup_free_ char *path = NULL;
        int r = parse_action(open + 2, (size_t)(close - open - 2), &json, &path, e);
        if (r < 0)
            return r;
        if (b) {
            json_t *x = lookup(v, path);
            if (json) {
                char *txt = x ? json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                fputs(txt ? txt : "null", b);
                free(txt);
            } else if (x) {
                print_go(b, x);
            } else {
                fputs("<no value>", b);
            }
        }
        p = close + 2;
    }
}

int gotmpl_check(const char *tmpl, struct berr *e)
{
    return walk(tmpl, NULL, NULL, e);
}

char *gotmpl_render(const char *tmpl, json_t *v, struct berr *e)
{
    char *out = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&out, &len);
    if (!b)
        abort(); /* out of memory, as xmalloc */
    int r = walk(tmpl, v, b, e);
    fclose(b);
    if (r < 0) {
        free(out);
        return NULL;
    }
    return out;
}
