/* SPDX-License-Identifier: Apache-2.0 */
/* NULL-terminated string vectors and the KEY=VALUE environment operations on
 * them (get, set, put), for argv and envp. Simple and O(n) per push; the
 * compose loader's large lists use compose/strvec.h instead. */
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void strv_free(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

void strv_push(char ***v, char *s)
{
    size_t n = strv_len(*v);
    *v = xreallocarray(*v, n + 2, sizeof(char *));
    (*v)[n] = s;
    (*v)[n + 1] = NULL;
}

char **strv_dup(char *const *v)
{
    size_t n = strv_len(v);
    char **r = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

bool strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static ssize_t env_find(char *const *env, const char *key, size_t klen)
{
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], key, klen) == 0 && (env[i][klen] == '=' || env[i][klen] == '\0'))
            return (ssize_t)i;
    return -1;
}

const char *strv_env_get(char *const *env, const char *key)
{
    size_t klen = strlen(key);
    ssize_t i = env_find(env, key, klen);
    if (i < 0 || env[i][klen] != '=')
        return NULL;
    return env[i] + klen + 1;
}

void strv_env_set(char ***env, const char *key, const char *value)
{
    char *entry = xasprintf("%s=%s", key, value);
    ssize_t i = env_find(*env, key, strlen(key));
    if (i >= 0) {
        free((*env)[i]);
        (*env)[i] = entry;
    } else {
        strv_push(env, entry);
    }
}

void strv_env_put(char ***env, const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t klen = eq ? (size_t)(eq - entry) : strlen(entry);
    ssize_t i = env_find(*env, entry, klen);
    if (i >= 0) {
        free((*env)[i]);
        (*env)[i] = xstrdup(entry);
    } else {
        strv_push(env, xstrdup(entry));
    }
}

char *str_join(const char *a, char sep, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = xmalloc(la + lb + 2);
    memcpy(s, a, la);
    s[la] = sep;
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

char *strv_join(char *const *v, const char *sep)
{
    size_t ls = strlen(sep), len = 0, n = 0;
    for (; v && v[n]; n++)
        len += strlen(v[n]) + (n ? ls : 0);
    char *out = xmalloc(len + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(o, sep, ls);
            o += ls;
        }
        size_t l = strlen(v[i]);
        memcpy(o, v[i], l);
        o += l;
    }
    *o = '\0';
    return out;
}

size_t str_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t x = d[i - 1][j] + 1, y = d[i][j - 1] + 1,
                   z = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            d[i][j] = x < y ? (x < z ? x : z) : (y < z ? y : z);
        }
    return d[la][lb];
}

void strbuf_put(struct strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}
