/* SPDX-License-Identifier: Apache-2.0 */
/* Variable substitution as BuildKit's shell lexer does it ($VAR, ${VAR},
 * the :- - :+ + :? ? forms, # ## % %% / // with the shell's patterns,
 * quotes, the escape character), and the walk
 * over one stage that yields each instruction expanded with docker's ARG
 * and ENV scoping: global ARGs (before the first FROM) for FROM only and
 * for a stage's `ARG NAME` that re-declares them, build args overriding
 * defaults, ENV shadowing ARG. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define EXPAND_MAX_BYTES (1024 * 1024) /* one expanded word */
/* ARG and ENV values set in one walk, all told: `ENV A$i=$A` 10000 times
 * with a 1 MiB A must not take 10 GiB. */
#define SCOPE_MAX_BYTES (16 * 1024 * 1024)
/* Names a walk may hold (global ARGs, a stage's ARGs and ENVs), so that
 * setting and looking one up stays cheap. */
#define SCOPE_MAX_NAMES  1024
#define INSTR_MAX_BYTES  (16 * 1024 * 1024) /* all of one instruction's */
#define EXPAND_MAX_DEPTH 64                 /* ${a:-${b:-${c...}}} */

static void buf_putc(struct strbuf *b, char c)
{
    strbuf_put(b, &c, 1);
}

struct lexer {
    const char *s;
    char esc;
    char *const *env;
    bool raw_quotes; /* heredoc bodies: quotes are text, escapes only guard '$' */
    int depth;
    struct berr *e;
};

/* The value of name in env (the last entry wins), or NULL when unset. */
static const char *lookup(char *const *env, const char *name, size_t n)
{
    const char *found = NULL;
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            found = env[i] + n + 1;
    return found;
}

static int lex_until(struct lexer *lx, char stop, struct strbuf *out);

static bool name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Values longer than this take no wildcard pattern (each candidate
 * substring is matched on its own: quadratic, cubic for ${v/p/r}). */
#define PATTERN_MAX_VALUE 4096

static bool has_wildcard(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

/* Whether v[from, to) matches pat (a glob as the shell's patterns). */
static bool glob_at(const char *pat, const char *v, size_t from, size_t to, char *scratch)
{
    memcpy(scratch, v + from, to - from);
    scratch[to - from] = '\0';
    return fnmatch(pat, scratch, 0) == 0;
}

/* ${v#p} ${v##p} ${v%p} ${v%%p}: the shortest (longest) prefix (suffix)
 * matching p removed. */
static void trim_pattern(const char *v, const char *pat, bool prefix, bool longest,
                         struct strbuf *out)
{
    size_t n = strlen(v);
    if (!has_wildcard(pat)) { /* a plain string: one comparison */
        size_t pl = strlen(pat);
        if (pl <= n && (prefix ? strncmp(v, pat, pl) == 0 : strcmp(v + n - pl, pat) == 0))
            strbuf_put(out, prefix ? v + pl : v, n - pl);
        else
            strbuf_put(out, v, n);
        return;
    }
    _cleanup_free_ char *scratch = xmalloc(n + 1);
    for (size_t k = 0; k <= n; k++) {
        size_t len = longest ? n - k : k; /* the candidate's length */
        if (prefix ? glob_at(pat, v, 0, len, scratch) : glob_at(pat, v, n - len, n, scratch)) {
            strbuf_put(out, prefix ? v + len : v, n - len);
            return;
        }
    }
    strbuf_put(out, v, n);
}

/* ${v/p/r} ${v//p/r}: the first (every) longest match of p replaced. */
static void replace_pattern(const char *v, const char *pat, const char *rep, bool all,
                            struct strbuf *out)
{
    size_t n = strlen(v), rl = strlen(rep);
    if (!*pat) {
        strbuf_put(out, v, n);
        return;
    }
    bool glob = has_wildcard(pat);
    size_t pl = strlen(pat);
    _cleanup_free_ char *scratch = xmalloc(n + 1);
    size_t i = 0;
    bool done = false;
    while (i < n) {
        size_t end = 0;
        bool hit = false;
        if (!done && !glob) {
            hit = strncmp(v + i, pat, pl) == 0;
            end = i + pl;
        }
        for (size_t to = n; !done && glob && to > i; to--)
            if (glob_at(pat, v, i, to, scratch)) {
                hit = true;
                end = to;
                break;
            }
        if (hit) {
            strbuf_put(out, rep, rl);
            i = end;
            done = !all;
            continue;
        }
        strbuf_put(out, v + i, 1);
        i++;
    }
}

/* The pattern forms: lx->s is at '#', '%' or '/'. */
static int lex_pattern(struct lexer *lx, const char *name, size_t n, const char *val,
                       struct strbuf *out)
{
    char mod = *lx->s++;
    bool twice = *lx->s == mod;
    if (twice)
        lx->s++;
    struct strbuf pat = {0}, rep = {0};
    int r = lex_until(lx, mod == '/' ? '/' : '}', &pat);
    if (r == 0 && mod == '/' && *lx->s == '/') {
        lx->s++;
        r = lex_until(lx, '}', &rep);
    }
    if (r == 0 && *lx->s != '}')
        r = berr_set(lx->e, -EINVAL, "missing '}' in substitution of %.*s", (int)n, name);
    const char *v = val ? val : "", *p = pat.s ? pat.s : "";
    if (r == 0 && strlen(v) > PATTERN_MAX_VALUE && has_wildcard(p))
        r = berr_set(lx->e, -E2BIG,
                     "%.*s: a value of more than %d bytes takes no wildcard "
                     "pattern",
                     (int)n, name, PATTERN_MAX_VALUE);
    if (r == 0) {
        lx->s++;
        if (mod == '/')
            replace_pattern(v, p, rep.s ? rep.s : "", twice, out);
        else
            trim_pattern(v, p, mod == '#', twice, out);
        if (!out->s)
            strbuf_put(out, "", 0);
    }
    free(pat.s);
    free(rep.s);
    return r;
}

/* ${name...}: lx->s is after "${". */
static int lex_braced(struct lexer *lx, struct strbuf *out)
{
    const char *name = lx->s;
    while (name_char(*lx->s))
        lx->s++;
    size_t n = (size_t)(lx->s - name);
    if (n == 0)
        return berr_set(lx->e, -EINVAL, "syntax error: bad substitution: ${%.20s", name);
    const char *val = lookup(lx->env, name, n);
    if (*lx->s == '}') {
        lx->s++;
        if (val)
            strbuf_put(out, val, strlen(val));
        return 0;
    }
    if (!*lx->s)
        return berr_set(lx->e, -EINVAL, "syntax error: missing '}' after ${%.*s", (int)n, name);
    if (*lx->s == '#' || *lx->s == '%' || *lx->s == '/')
        return lex_pattern(lx, name, n, val, out);
    bool colon = *lx->s == ':';
    if (colon)
        lx->s++;
    char mod = *lx->s;
    if (mod != '-' && mod != '+' && mod != '?')
        return berr_set(lx->e, -EINVAL, "unsupported modifier (%c) in substitution of %.*s",
                        mod ? mod : '}', (int)n, name);
    lx->s++;
    struct strbuf word = {0};
    int r = lex_until(lx, '}', &word);
    if (r == 0 && *lx->s != '}')
        r = berr_set(lx->e, -EINVAL, "missing '}' in substitution of %.*s", (int)n, name);
    if (r < 0) {
        free(word.s);
        return r;
    }
    lx->s++;
    bool set = val && (!colon || *val);
    const char *w = word.s ? word.s : "";
    if (mod == '-')
        w = set ? val : w;
    else if (mod == '+')
        w = set ? w : "";
    else if (!set)
        r = berr_set(lx->e, -EINVAL, "%.*s: %s", (int)n, name, *w ? w : "is not set");
    else
        w = val;
    if (r == 0)
        strbuf_put(out, w, strlen(w));
    free(word.s);
    return r;
}

/* A '$' was read: a variable, or a literal '$'. */
static int lex_dollar(struct lexer *lx, struct strbuf *out)
{
    if (*lx->s == '{') {
        lx->s++;
        if (++lx->depth > EXPAND_MAX_DEPTH)
            return berr_set(lx->e, -EINVAL, "substitutions nested too deep");
        int r = lex_braced(lx, out);
        lx->depth--;
        return r;
    }
    const char *name = lx->s;
    if (isdigit((unsigned char)*lx->s))
        while (isdigit((unsigned char)*lx->s))
            lx->s++; /* positional: $1, $12 */
    else if (*lx->s && strchr("@*#?-$!", *lx->s))
        lx->s++; /* a shell's special parameter: never set here */
    else if (name_start(*lx->s))
        while (name_char(*lx->s))
            lx->s++;
    size_t n = (size_t)(lx->s - name);
    if (n == 0) {
        buf_putc(out, '$');
        return 0;
    }
    const char *val = lookup(lx->env, name, n);
    if (val)
        strbuf_put(out, val, strlen(val));
    return 0;
}

static int lex_double(struct lexer *lx, struct strbuf *out)
{
    for (;;) {
        char c = *lx->s;
        if (!c)
            return berr_set(lx->e, -EINVAL,
                            "unexpected end of statement while looking for matching "
                            "double-quote");
        lx->s++;
        if (c == '"')
            return 0;
        if (c == '$') {
            int r = lex_dollar(lx, out);
            if (r < 0)
                return r;
        } else if (c == lx->esc) {
            char n = *lx->s;
            if (n == '"' || n == '$' || n == lx->esc) {
                buf_putc(out, n);
                lx->s++;
            } else if (n) {
                buf_putc(out, c);
            }
        } else {
            buf_putc(out, c);
        }
    }
}

/* Up to stop (not consumed); a '/' stop (a ${v/p/r} pattern) also ends
 * at '}' (${v/p} has no replacement). */
static int lex_until(struct lexer *lx, char stop, struct strbuf *out)
{
    while (*lx->s && *lx->s != stop && !(stop == '/' && *lx->s == '}')) {
        if (out->len > EXPAND_MAX_BYTES)
            return berr_set(lx->e, -E2BIG, "expansion longer than %d bytes", EXPAND_MAX_BYTES);
        char c = *lx->s++;
        int r = 0;
        if (c == '$') {
            r = lex_dollar(lx, out);
        } else if (c == lx->esc) {
            if (lx->raw_quotes && *lx->s != '$')
                buf_putc(out, c);
            else if (*lx->s)
                buf_putc(out, *lx->s++);
        } else if (c == '\'' && !lx->raw_quotes) {
            const char *end = strchr(lx->s, '\'');
            if (!end)
                return berr_set(lx->e, -EINVAL,
                                "unexpected end of statement while looking for matching "
                                "single-quote");
            strbuf_put(out, lx->s, (size_t)(end - lx->s));
            lx->s = end + 1;
        } else if (c == '"' && !lx->raw_quotes) {
            r = lex_double(lx, out);
        } else {
            buf_putc(out, c);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* used: NULL, or the bytes the instruction's expansions made so far,
 * capped at INSTR_MAX_BYTES. */
static int expand(const char *word, char escape, char *const *env, bool raw_quotes, size_t *used,
                  char **out, struct berr *e)
{
    struct lexer lx = {.s = word, .esc = escape, .env = env, .raw_quotes = raw_quotes, .e = e};
    struct strbuf b = {0};
    strbuf_put(&b, "", 0);
    int r = lex_until(&lx, '\0', &b);
    if (r == 0 && b.len > EXPAND_MAX_BYTES)
        r = berr_set(e, -E2BIG, "expansion longer than %d bytes", EXPAND_MAX_BYTES);
    if (r == 0 && used && (*used += b.len) > INSTR_MAX_BYTES)
        r = berr_set(e, -E2BIG, "expansions longer than %d bytes in all", INSTR_MAX_BYTES);
    if (r < 0) {
        free(b.s);
        return r;
    }
    *out = b.s;
    return 0;
}

int df_expand_word(const char *word, char escape, char *const *env, char **out, struct berr *e)
{
    return expand(word, escape, env, false, NULL, out, e);
}

/* --- checks on expanded values ------------------------------------------ */

static int port_number(const char *s, size_t n, long *out)
{
    if (n == 0 || n > 5)
        return -EINVAL;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    if (v > 65535)
        return -EINVAL;
    *out = v;
    return 0;
}

int df_check_port(const char *s, struct berr *e)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (slash && strcasecmp(slash + 1, "tcp") && strcasecmp(slash + 1, "udp") &&
        strcasecmp(slash + 1, "sctp"))
        return berr_set(e, -EINVAL, "invalid proto in EXPOSE %s (tcp, udp or sctp)", s);
    const char *dash = memchr(s, '-', n);
    long lo, hi;
    if (port_number(s, dash ? (size_t)(dash - s) : n, &lo) < 0 ||
        (dash && port_number(dash + 1, n - (size_t)(dash - s) - 1, &hi) < 0) || (dash && hi < lo))
        return berr_set(e, -EINVAL, "invalid port in EXPOSE: %s", s);
    return 0;
}

/* --- the walk ------------------------------------------------------------ */

struct df_walk {
    const struct dockerfile *df;
    size_t stage, next;
    char **build_args;
    char **global;          /* global ARGs with a value, "K=V" */
    char **global_declared; /* every global ARG's name */
    char **args;            /* this stage's ARGs with a value */
    char **env;             /* the image's Env, then ENV */
    size_t scope_bytes;     /* every value set so far (an upper bound) */
    size_t instr_bytes;     /* what the current instruction's expansions made */
    size_t n_names;         /* names declared or set so far */
};

/* Sets KEY=VALUE in *v, counting it against SCOPE_MAX_BYTES. */
static int count_name(struct df_walk *w, struct berr *e)
{
    if (++w->n_names > SCOPE_MAX_NAMES)
        return berr_set(e, -E2BIG, "more than %d ARG and ENV names", SCOPE_MAX_NAMES);
    return 0;
}

static int scope_set(struct df_walk *w, char ***v, const char *key, const char *value,
                     struct berr *e)
{
    if (!strv_env_get(*v, key) && count_name(w, e) < 0)
        return -E2BIG;
    w->scope_bytes += strlen(key) + strlen(value) + 2;
    if (w->scope_bytes > SCOPE_MAX_BYTES)
        return berr_set(e, -E2BIG, "ARG and ENV values larger than %d bytes in all",
                        SCOPE_MAX_BYTES);
    strv_env_set(v, key, value);
    return 0;
}

void df_walk_free(struct df_walk *w)
{
    if (!w)
        return;
    strv_free(w->build_args);
    strv_free(w->global);
    strv_free(w->global_declared);
    strv_free(w->args);
    strv_free(w->env);
    free(w);
}

void df_walk_set_image_env(struct df_walk *w, char *const *env)
{
    for (size_t i = 0; env && env[i]; i++)
        strv_env_put(&w->env, env[i]);
}

char **df_walk_env(const struct df_walk *w)
{
    char **v = w->args ? strv_dup(w->args) : xcalloc(1, sizeof(char *));
    for (size_t i = 0; w->env && w->env[i]; i++)
        strv_env_put(&v, w->env[i]);
    return v;
}

static int werr(const struct df_walk *w, const struct df_instr *in, struct berr *e)
{
    return berr_wrap(e, "%s:%d", w->df->name, in->line);
}

/* An ARG's value: the build arg, else its default (expanded with vars),
 * else fallback (a global ARG's value); NULL: declared without one. */
static int arg_value(struct df_walk *w, const struct df_kv *kv, char *const *vars,
                     char *const *fallback, char **out, struct berr *e)
{
    *out = NULL;
    const char *v = lookup(w->build_args, kv->key, strlen(kv->key));
    if (v) {
        *out = xstrdup(v);
        return 0;
    }
    if (kv->has_value)
        return expand(kv->value, w->df->escape, vars, false, &w->instr_bytes, out, e);
    v = lookup(fallback, kv->key, strlen(kv->key));
    *out = v ? xstrdup(v) : NULL;
    return 0;
}

/* docker's automatic platform ARGs: in the global scope without an ARG
 * line when the builder passes them (a stage still re-declares them). */
static const char *const platform_args[] = {
    "BUILDPLATFORM",  "BUILDOS",  "BUILDARCH",  "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
};

static int eval_globals(struct df_walk *w, struct berr *e)
{
    for (size_t i = 0; i < ARRAY_SIZE(platform_args); i++) {
        const char *v = lookup(w->build_args, platform_args[i], strlen(platform_args[i]));
        if (!v)
            continue;
        strv_push(&w->global_declared, xstrdup(platform_args[i]));
        strv_env_set(&w->global, platform_args[i], v);
    }
    for (size_t i = 0; i < w->df->n_meta_args; i++) {
        const struct df_instr *in = &w->df->meta_args[i];
        for (size_t j = 0; j < in->n_kvs; j++) {
            _cleanup_free_ char *v = NULL;
            if (arg_value(w, &in->kvs[j], w->global, NULL, &v, e) < 0)
                return werr(w, in, e);
            if (count_name(w, e) < 0)
                return werr(w, in, e);
            strv_push(&w->global_declared, xstrdup(in->kvs[j].key));
            if (v && scope_set(w, &w->global, in->kvs[j].key, v, e) < 0)
                return werr(w, in, e);
        }
    }
    return 0;
}

int df_walk_new(const struct dockerfile *df, size_t stage, char *const *build_args,
                struct df_walk **out, struct berr *e)
{
    if (stage >= df->n_stages)
        return berr_set(e, -EINVAL, "%s: no stage %zu", df->name, stage);
    _cleanup_(df_walk_freep) struct df_walk *w = xcalloc(1, sizeof(*w));
    w->df = df;
    w->stage = stage;
    w->build_args = build_args ? strv_dup(build_args) : NULL;
    int r = eval_globals(w, e);
    if (r < 0)
        return r;
    *out = TAKE_PTR(w);
    return 0;
}

/* The variables in scope: ARGs, then ENV (a later entry wins). */
static char **scope(const struct df_walk *w)
{
    size_t na = strv_len(w->args), ne = strv_len(w->env);
    char **v = xcalloc(na + ne + 1, sizeof(char *));
    if (na)
        memcpy(v, w->args, na * sizeof(char *));
    if (ne)
        memcpy(v + na, w->env, ne * sizeof(char *));
    return v;
}

static int expand_in_place(char **s, char esc, char *const *vars, size_t *used, struct berr *e)
{
    char *o;
    int r = expand(*s, esc, vars, false, used, &o, e);
    if (r < 0)
        return r;
    free(*s);
    *s = o;
    return 0;
}

static int expand_args(char **args, char esc, char *const *vars, size_t *used, struct berr *e)
{
    for (size_t i = 0; args && args[i]; i++) {
        int r = expand_in_place(&args[i], esc, vars, used, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static int expand_flags(struct df_instr *in, char esc, char *const *vars, size_t *used,
                        struct berr *e)
{
    for (size_t i = 0; i < in->n_flags; i++) {
        int r = expand_in_place(&in->flags[i].value, esc, vars, used, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static int expand_kvs(struct df_instr *in, char esc, char *const *vars, size_t *used,
                      struct berr *e)
{
    for (size_t i = 0; i < in->n_kvs; i++) {
        int r = expand_in_place(&in->kvs[i].key, esc, vars, used, e);
        if (r == 0 && in->kvs[i].value)
            r = expand_in_place(&in->kvs[i].value, esc, vars, used, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static int walk_from(struct df_walk *w, struct df_instr *in, struct berr *e)
{
    int r = expand_args(in->args, w->df->escape, w->global, &w->instr_bytes, e);
    if (r == 0)
        r = expand_flags(in, w->df->escape, w->global, &w->instr_bytes, e);
    if (r == 0 && !in->args[0][0])
        r = berr_set(e, -EINVAL, "base name (%s) should not be blank", in->args[0]);
    return r;
}

/* Each name in turn: `ARG A=1 B=$A` sees A (a fresh scope each time, as
 * setting one may replace an entry the last scope pointed at). */
static int walk_arg(struct df_walk *w, struct df_instr *in, struct berr *e)
{
    for (size_t i = 0; i < in->n_kvs; i++) {
        _cleanup_free_ char *v = NULL;
        _cleanup_free_ char **vars = scope(w);
        int r = arg_value(w, &in->kvs[i], vars, w->global, &v, e);
        if (r < 0)
            return r;
        free(in->kvs[i].value);
        in->kvs[i].value = v ? xstrdup(v) : NULL;
        in->kvs[i].has_value = v != NULL;
        if (v && scope_set(w, &w->args, in->kvs[i].key, v, e) < 0)
            return -E2BIG;
    }
    return 0;
}

static int walk_run(struct df_walk *w, struct df_instr *in, char *const *vars, struct berr *e)
{
    for (size_t i = 0; i < in->n_mounts; i++)
        df_mount_clear(&in->mounts[i]);
    in->n_mounts = 0;
    for (size_t i = 0; i < in->n_flags; i++) {
        int r = expand_in_place(&in->flags[i].value, w->df->escape, vars, &w->instr_bytes, e);
        if (r < 0)
            return r;
        if (strcmp(in->flags[i].name, "mount") != 0)
            continue;
        struct df_mount m;
        if (df_mount_parse(in->flags[i].value, &m, e) < 0)
            return berr_wrap(e, "--mount=%s", in->flags[i].value);
        in->mounts = df_grow(in->mounts, in->n_mounts, sizeof(*in->mounts));
        in->mounts[in->n_mounts++] = m;
    }
    return 0;
}

static int walk_copy(struct df_walk *w, struct df_instr *in, char *const *vars, struct berr *e)
{
    int r = expand_args(in->args, w->df->escape, vars, &w->instr_bytes, e);
    if (r == 0)
        r = expand_flags(in, w->df->escape, vars, &w->instr_bytes, e);
    for (size_t i = 0; r == 0 && i < in->n_heredocs; i++) {
        if (!in->heredocs[i].expand)
            continue;
        char *o;
        r = expand(in->heredocs[i].content, w->df->escape, vars, true, &w->instr_bytes, &o, e);
        if (r == 0) {
            free(in->heredocs[i].content);
            in->heredocs[i].content = o;
        }
    }
    return r;
}

static int walk_checks(struct df_instr *in, struct berr *e)
{
    if (in->kind == DF_EXPOSE)
        for (size_t i = 0; in->args[i]; i++)
            if (df_check_port(in->args[i], e) < 0)
                return -EINVAL;
    if (in->kind == DF_STOPSIGNAL && signal_parse(in->args[0]) <= 0)
        return berr_set(e, -EINVAL, "invalid STOPSIGNAL: %s", in->args[0]);
    if (in->kind == DF_VOLUME)
        for (size_t i = 0; in->args[i]; i++)
            if (!in->args[i][0])
                return berr_set(e, -EINVAL, "VOLUME specified can not be an empty string");
    if ((in->kind == DF_WORKDIR || in->kind == DF_USER) && !in->args[0][0])
        return berr_set(e, -EINVAL, "%s is empty once expanded", df_kind_name(in->kind));
    return 0;
}

static int walk_one(struct df_walk *w, struct df_instr *in, struct berr *e)
{
    _cleanup_free_ char **vars = scope(w);
    char esc = w->df->escape;
    int r = 0;
    switch (in->kind) {
    case DF_FROM:
        return walk_from(w, in, e);
    case DF_ARG:
        return walk_arg(w, in, e);
    case DF_RUN:
        return walk_run(w, in, vars, e);
    case DF_COPY:
    case DF_ADD:
        return walk_copy(w, in, vars, e);
    case DF_ENV:
        r = expand_kvs(in, esc, vars, &w->instr_bytes, e);
        for (size_t i = 0; r == 0 && i < in->n_kvs; i++)
            r = scope_set(w, &w->env, in->kvs[i].key, in->kvs[i].value, e);
        return r;
    case DF_LABEL:
        return expand_kvs(in, esc, vars, &w->instr_bytes, e);
    case DF_EXPOSE:
    case DF_VOLUME:
    case DF_USER:
    case DF_WORKDIR:
    case DF_STOPSIGNAL:
        r = expand_args(in->args, esc, vars, &w->instr_bytes, e);
        return r < 0 ? r : walk_checks(in, e);
    default:
        return 0; /* CMD ENTRYPOINT SHELL HEALTHCHECK ONBUILD MAINTAINER */
    }
}

int df_walk_next(struct df_walk *w, struct df_instr **out, struct berr *e)
{
    const struct df_stage *st = &w->df->stages[w->stage];
    if (w->next >= st->n_instrs)
        return 0;
    _cleanup_(df_instr_freep) struct df_instr *in = df_instr_dup(&st->instrs[w->next++]);
    w->instr_bytes = 0;
    if (walk_one(w, in, e) < 0)
        return werr(w, in, e);
    *out = TAKE_PTR(in);
    return 1;
}

int df_walk_expand(struct df_walk *w, struct df_instr *in, struct berr *e)
{
    w->instr_bytes = 0;
    if (walk_one(w, in, e) < 0)
        return werr(w, in, e);
    return 0;
}
