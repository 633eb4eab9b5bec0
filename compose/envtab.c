/* SPDX-License-Identifier: Apache-2.0 */
/* The sorted variable table interpolation reads: the process environment over
 * the .env files, looked up by binary search. Not here: parsing .env
 * (compose/dotenv.c), substitution (compose/interp.c). */
#include "compose/envtab.h"

#include <stdlib.h>
#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

static size_t key_len(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq ? (size_t)(eq - e) : strlen(e);
}

static int cmp_keys(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int cmp_entry(const void *x, const void *y)
{
    const char *a = *(char *const *)x, *b = *(char *const *)y;
    return cmp_keys(a, key_len(a), b, key_len(b));
}

/* Index of name, or where it would go (*found false). */
static size_t find(const struct envtab *t, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *e = t->entries[mid];
        int c = cmp_keys(e, key_len(e), name, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct tagged {
    char *e;
    size_t idx;
};

static int cmp_tagged(const void *x, const void *y)
{
    const struct tagged *a = x, *b = y;
    int c = cmp_entry(&a->e, &b->e);
    return c ? c : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

void envtab_add(struct envtab *t, char *const *env)
{
    size_t add = 0;
    for (size_t i = 0; env && env[i]; i++)
        add += strchr(env[i], '=') != NULL;
    if (!add)
        return;
    /* The new entries sorted (first occurrence of a key first), then merged
     * with the table, whose entries win. */
    struct tagged *nv = xcalloc(add, sizeof *nv);
    size_t k = 0;
    for (size_t i = 0; env[i]; i++)
        if (strchr(env[i], '='))
            nv[k] = (struct tagged){env[i], k}, k++;
    qsort(nv, add, sizeof *nv, cmp_tagged);
    char **out = xcalloc(t->n + add + 1, sizeof *out);
    size_t o = 0, i = 0, j = 0;
    while (i < t->n || j < add) {
        if (j < add && j > 0 && cmp_entry(&nv[j - 1].e, &nv[j].e) == 0) {
            j++; /* a later duplicate within env */
            continue;
        }
        int c = i == t->n ? 1 : j == add ? -1 : cmp_entry(&t->entries[i], &nv[j].e);
        if (c <= 0) {
            out[o++] = t->entries[i++];
            if (c == 0)
                j++;
        } else {
            out[o++] = xstrdup(nv[j++].e);
        }
    }
    free(nv);
    free(t->entries);
    t->entries = out;
    t->n = o;
}

const char *envtab_get(const struct envtab *t, const char *name, size_t len)
{
    bool found;
    size_t i = find(t, name, len, &found);
    return found ? t->entries[i] + len + 1 : NULL;
}

char **envtab_strv(const struct envtab *t)
{
    char **v = xcalloc(t->n + 1, sizeof *v);
    for (size_t i = 0; i < t->n; i++)
        v[i] = xstrdup(t->entries[i]);
    return v;
}

void envtab_free(struct envtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->entries[i]);
    free(t->entries);
    *t = (struct envtab){0};
}
