/* SPDX-License-Identifier: Apache-2.0 */
/* ${VAR} substitution with compose-go's template rules, on one string and on a
 * whole tree (keys stay as written; errors name file:line:col). Not here:
 * where the variables come from (compose/envtab.c, dotenv.c). */
#include "compose/interp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool name_start(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static int fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(*err);
    *err = xvasprintf(fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int subst(const struct interp *ip, const char *s, size_t len, struct strbuf *out, int depth,
                 char **err);

/* The end of a "${...}" body starting at s[i] (just after "${"): the index
 * of its closing brace, nested "${" counted; SIZE_MAX when unterminated. */
static size_t closing_brace(const char *s, size_t len, size_t i)
{
    int nest = 0;
    for (; i < len; i++) {
        if (s[i] == '$' && i + 1 < len && (s[i + 1] == '$' || s[i + 1] == '{')) {
            nest += s[i + 1] == '{';
            i++;
        } else if (s[i] == '}') {
            if (nest == 0)
                return i;
            nest--;
        }
    }
    return SIZE_MAX;
}

static int braced(const struct interp *ip, const char *body, size_t len, struct strbuf *out,
                  int depth, char **err)
{
    size_t n = 0;
    if (len == 0 || !name_start(body[0]))
        return fail(err,
                    "invalid interpolation format: \"${%.*s}\": a variable name must start "
                    "with a letter or \"_\"",
                    (int)(len > 64 ? 64 : len), body);
    while (n < len && name_char(body[n]))
        n++;
    const char *val = ip->lookup(ip->ud, body, n);
    if (n == len) {
        if (val)
            strbuf_put(out, val, strlen(val));
        else if (ip->unset)
            ip->unset(ip->ud, body, n);
        return 0;
    }
    const char *op = body + n;
    size_t rest = len - n;
    bool colon = op[0] == ':';
    char kind = colon ? (rest > 1 ? op[1] : 0) : op[0];
    if (kind != '-' && kind != '?' && kind != '+')
        return fail(
            err,
            "invalid interpolation format: \"${%.*s}\" (supported: ${VAR}, ${VAR:-default}, "
            "${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+replacement}, "
            "${VAR+replacement})",
            (int)(len > 64 ? 64 : len), body);
    const char *arg = op + (colon ? 2 : 1);
    size_t arglen = rest - (size_t)(colon ? 2 : 1);
    bool set = val != NULL, nonempty = val && *val;
    bool present = colon ? nonempty : set;
    switch (kind) {
    case '-':
        if (present)
            strbuf_put(out, val, strlen(val));
        else
            return subst(ip, arg, arglen, out, depth + 1, err);
        return 0;
    case '+':
        if (present)
            return subst(ip, arg, arglen, out, depth + 1, err);
        return 0;
    default: /* '?' */
        if (present) {
            strbuf_put(out, val, strlen(val));
            return 0;
        }
        struct strbuf msg = {0};
        int r = subst(ip, arg, arglen, &msg, depth + 1, err);
        if (r == 0)
            fail(err, "required variable %.*s is missing a value%s%s", (int)n, body,
                 msg.len ? ": " : "", msg.len ? msg.s : "");
        free(msg.s);
        return -EINVAL;
    }
}

static int subst(const struct interp *ip, const char *s, size_t len, struct strbuf *out, int depth,
                 char **err)
{
    if (depth > INTERP_MAX_DEPTH)
        return fail(err, "interpolation nested deeper than %d levels", INTERP_MAX_DEPTH);
    size_t lit = 0; /* start of the pending literal run */
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '$' || i + 1 >= len)
            continue;
        char c = s[i + 1];
        if (c != '$' && c != '{' && !name_start(c))
            continue; /* a lone "$" stays */
        strbuf_put(out, s + lit, i - lit);
        if (c == '$') {
            strbuf_put(out, "$", 1);
            i++;
        } else if (c == '{') {
            size_t end = closing_brace(s, len, i + 2);
            if (end == SIZE_MAX)
                return fail(err, "invalid interpolation format: unterminated \"${\"");
            int r = braced(ip, s + i + 2, end - i - 2, out, depth, err);
            if (r < 0)
                return r;
            i = end;
        } else {
            size_t j = i + 1;
            while (j < len && name_char(s[j]))
                j++;
            const char *val = ip->lookup(ip->ud, s + i + 1, j - i - 1);
            if (val)
                strbuf_put(out, val, strlen(val));
            else if (ip->unset)
                ip->unset(ip->ud, s + i + 1, j - i - 1);
            i = j - 1;
        }
        lit = i + 1;
    }
    strbuf_put(out, s + lit, len - lit);
    return 0;
}

int interp_string(const struct interp *ip, const char *s, size_t len, char **out, size_t *out_len,
                  char **err)
{
    struct strbuf b = {0};
    strbuf_put(&b, "", 0);
    *err = NULL;
    int r = subst(ip, s, len, &b, 0, err);
    if (r < 0) {
        free(b.s);
        return r;
    }
    *out = b.s;
    *out_len = b.len;
    return 0;
}

const char *interp_envtab_lookup(void *ud, const char *name, size_t len)
{
    return envtab_get(ud, name, len);
}

/* --- Trees ------------------------------------------------------------------ */

struct tree_ud {
    struct interp_tree_ctx *c;
    const struct ynode *at;
};

static const char *tree_lookup(void *ud, const char *name, size_t len)
{
    return envtab_get(((struct tree_ud *)ud)->c->env, name, len);
}

static void tree_unset(void *ud, const char *name, size_t len)
{
    struct tree_ud *t = ud;
    _cleanup_free_ char *n = xstrndup(name, len);
    if (strv_contains(*t->c->warned, n))
        return;
    diag_warn_at(t->c->d, YPOS(t->at),
                 "The \"%s\" variable is not set. Defaulting to a blank string.", n);
    strv_push(t->c->warned, TAKE_PTR(n));
}

static struct ynode *interp_scalar(struct interp_tree_ctx *c, struct ynode *n)
{
    if (!memchr(n->str, '$', n->len))
        return n;
    struct tree_ud ud = {c, n};
    struct interp ip = {tree_lookup, &ud, tree_unset};
    char *out, *err;
    size_t len;
    if (interp_string(&ip, n->str, n->len, &out, &len, &err) < 0) {
        diag_error_at(c->d, YPOS(n), "%s", err);
        free(err);
        return n;
    }
    if (len == n->len && memcmp(out, n->str, len) == 0) {
        free(out);
        return n;
    }
    /* The result is a string whatever it looks like: compose converts it to
     * the key's type afterwards, so "${PORT}" may still be a number. */
    struct ynode *r = ynode_new_scalar(c->a, n->src, n->line, n->col, out, len,
                                       n->style == YSTYLE_PLAIN ? YSTYLE_DOUBLE : n->style);
    ynode_set_tag(r, n->tag);
    free(out);
    return r;
}

struct ynode *interp_tree(struct interp_tree_ctx *c, struct ynode *n)
{
    if (!n)
        return n;
    switch (n->kind) {
    case YNODE_SCALAR:
        return interp_scalar(c, n);
    case YNODE_SEQ: {
        struct ynode **items = NULL;
        for (size_t i = 0; i < n->n_items; i++) {
            struct ynode *v = interp_tree(c, n->items[i]);
            if (v != n->items[i] && !items) {
                items = arena_allocarray(c->a, n->n_items, sizeof *items);
                memcpy(items, n->items, n->n_items * sizeof *items);
            }
            if (items)
                items[i] = v;
        }
        if (!items)
            return n;
        struct ynode *r = arena_alloc(c->a, sizeof *r);
        *r = *n;
        r->items = items;
        return r;
    }
    default: {
        struct ypair *pairs = NULL;
        for (size_t i = 0; i < n->n_pairs; i++) {
            struct ynode *v = interp_tree(c, n->pairs[i].value);
            if (v != n->pairs[i].value && !pairs) {
                pairs = arena_allocarray(c->a, n->n_pairs, sizeof *pairs);
                memcpy(pairs, n->pairs, n->n_pairs * sizeof *pairs);
            }
            if (pairs)
                pairs[i].value = v;
        }
        if (!pairs)
            return n;
        struct ynode *r = arena_alloc(c->a, sizeof *r);
        *r = *n;
        r->pairs = pairs;
        return r;
    }
    }
}
