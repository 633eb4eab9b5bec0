/* SPDX-License-Identifier: Apache-2.0 */
/* The Dockerfile parser, as BuildKit's frontend reads a Dockerfile:
 * parser directives at the top, comments, line continuations with the
 * escape character, heredocs, flags, exec (JSON) and shell forms, every
 * instruction's arguments, then the stages. Nothing is expanded here
 * (expand.c does that for the builder, step by step). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/strv.h"
#include "util/units.h"
#include "util/xalloc.h"

/* The instructions, their flags and what each flag takes. */
enum flag_type { FLAG_STR, FLAG_BOOL, FLAG_MULTI, FLAG_DURATION, FLAG_UINT };

struct flag_spec {
    const char *name;
    enum flag_type type;
};

/* clang-format off */
static const struct flag_spec from_flags[]   = {{"platform", FLAG_STR}, {NULL, 0}};
static const struct flag_spec run_flags[]    = {{"mount", FLAG_MULTI}, {"network", FLAG_STR},
                                                {"security", FLAG_STR}, {NULL, 0}};
static const struct flag_spec copy_flags[]   = {{"from", FLAG_STR}, {"chown", FLAG_STR},
                                                {"chmod", FLAG_STR}, {"link", FLAG_BOOL},
                                                {"exclude", FLAG_MULTI}, {"parents", FLAG_BOOL},
                                                {NULL, 0}};
static const struct flag_spec add_flags[]    = {{"chown", FLAG_STR}, {"chmod", FLAG_STR},
                                                {"link", FLAG_BOOL}, {"exclude", FLAG_MULTI},
                                                {"parents", FLAG_BOOL}, {"checksum", FLAG_STR},
                                                {"keep-git-dir", FLAG_BOOL}, {NULL, 0}};
static const struct flag_spec health_flags[] = {{"interval", FLAG_DURATION},
                                                {"timeout", FLAG_DURATION},
                                                {"start-period", FLAG_DURATION},
                                                {"start-interval", FLAG_DURATION},
                                                {"retries", FLAG_UINT}, {NULL, 0}};
static const struct flag_spec no_flags[]     = {{NULL, 0}};

static const struct {
    const char *name;
    enum df_kind kind;
    const struct flag_spec *flags;
} instrs[] = {
    {"FROM",        DF_FROM,        from_flags},
    {"RUN",         DF_RUN,         run_flags},
    {"CMD",         DF_CMD,         no_flags},
    {"ENTRYPOINT",  DF_ENTRYPOINT,  no_flags},
    {"ENV",         DF_ENV,         no_flags},
    {"ARG",         DF_ARG,         no_flags},
    {"LABEL",       DF_LABEL,       no_flags},
    {"EXPOSE",      DF_EXPOSE,      no_flags},
    {"USER",        DF_USER,        no_flags},
    {"WORKDIR",     DF_WORKDIR,     no_flags},
    {"COPY",        DF_COPY,        copy_flags},
    {"ADD",         DF_ADD,         add_flags},
    {"VOLUME",      DF_VOLUME,      no_flags},
    {"HEALTHCHECK", DF_HEALTHCHECK, health_flags},
    {"STOPSIGNAL",  DF_STOPSIGNAL,  no_flags},
    {"SHELL",       DF_SHELL,       no_flags},
    {"ONBUILD",     DF_ONBUILD,     no_flags},
    {"MAINTAINER",  DF_MAINTAINER,  no_flags},
};
/* clang-format on */

const char *df_kind_name(enum df_kind k)
{
    for (size_t i = 0; i < ARRAY_SIZE(instrs); i++)
        if (instrs[i].kind == k)
            return instrs[i].name;
    return "?";
}

struct parser {
    const char *name;
    char escape;
    char **lines; /* the text split at newlines (\r stripped) */
    size_t n_lines;
    size_t next; /* the next line to read */
    struct berr *e;
};

static int perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    return berr_set(p->e, -EINVAL, "%s:%d: %s", p->name, line, msg);
}

/* --- freeing and copying --------------------------------------------- */

void df_instr_clear(struct df_instr *in)
{
    free(in->raw);
    for (size_t i = 0; i < in->n_flags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
    }
    free(in->flags);
    strv_free(in->args);
    for (size_t i = 0; i < in->n_kvs; i++) {
        free(in->kvs[i].key);
        free(in->kvs[i].value);
    }
    free(in->kvs);
    for (size_t i = 0; i < in->n_mounts; i++)
        df_mount_clear(&in->mounts[i]);
    free(in->mounts);
    for (size_t i = 0; i < in->n_heredocs; i++) {
        free(in->heredocs[i].name);
        free(in->heredocs[i].content);
    }
    free(in->heredocs);
    free(in->stage_name);
    df_instr_free(in->onbuild);
    memset(in, 0, sizeof(*in));
}

void df_instr_free(struct df_instr *in)
{
    if (!in)
        return;
    df_instr_clear(in);
    free(in);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

struct df_instr *df_instr_dup(const struct df_instr *in)
{
    struct df_instr *o = xcalloc(1, sizeof(*o));
    *o = *in;
    o->raw = dup_or_null(in->raw);
    o->flags = xcalloc(in->n_flags + 1, sizeof(*o->flags));
    for (size_t i = 0; i < in->n_flags; i++) {
        o->flags[i].name = xstrdup(in->flags[i].name);
        o->flags[i].value = xstrdup(in->flags[i].value);
    }
    o->args = in->args ? strv_dup(in->args) : NULL;
    o->kvs = xcalloc(in->n_kvs + 1, sizeof(*o->kvs));
    for (size_t i = 0; i < in->n_kvs; i++) {
        o->kvs[i] = in->kvs[i];
        o->kvs[i].key = xstrdup(in->kvs[i].key);
        o->kvs[i].value = dup_or_null(in->kvs[i].value);
    }
    o->mounts = xcalloc(in->n_mounts + 1, sizeof(*o->mounts));
    for (size_t i = 0; i < in->n_mounts; i++) {
        const struct df_mount *m = &in->mounts[i];
        o->mounts[i] = *m;
        o->mounts[i].id = dup_or_null(m->id);
        o->mounts[i].target = dup_or_null(m->target);
        o->mounts[i].source = dup_or_null(m->source);
        o->mounts[i].from = dup_or_null(m->from);
        o->mounts[i].sharing = dup_or_null(m->sharing);
        o->mounts[i].env = dup_or_null(m->env);
    }
    o->heredocs = xcalloc(in->n_heredocs + 1, sizeof(*o->heredocs));
    for (size_t i = 0; i < in->n_heredocs; i++) {
        o->heredocs[i] = in->heredocs[i];
        o->heredocs[i].name = xstrdup(in->heredocs[i].name);
        o->heredocs[i].content = xstrdup(in->heredocs[i].content);
    }
    o->stage_name = dup_or_null(in->stage_name);
    o->onbuild = in->onbuild ? df_instr_dup(in->onbuild) : NULL;
    return o;
}

void dockerfile_free(struct dockerfile *df)
{
    if (!df)
        return;
    free(df->name);
    free(df->syntax);
    for (size_t i = 0; i < df->n_meta_args; i++)
        df_instr_clear(&df->meta_args[i]);
    free(df->meta_args);
    for (size_t i = 0; i < df->n_stages; i++) {
        for (size_t j = 0; j < df->stages[i].n_instrs; j++)
            df_instr_clear(&df->stages[i].instrs[j]);
        free(df->stages[i].instrs);
        free(df->stages[i].name);
    }
    free(df->stages);
    free(df);
}

int dockerfile_find_stage(const struct dockerfile *df, const char *name)
{
    for (size_t i = 0; i < df->n_stages; i++)
        if (df->stages[i].name && strcasecmp(df->stages[i].name, name) == 0)
            return (int)i;
    char *end;
    errno = 0;
    long n = strtol(name, &end, 10);
    if (*name && !*end && errno == 0 && n >= 0 && (size_t)n < df->n_stages)
        return (int)n;
    return -1;
}

/* --- words ------------------------------------------------------------ */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *s)
{
    while (is_ws(*s))
        s++;
    return s;
}

/* Words split at blanks, quotes and escapes kept (BuildKit's parseWords:
 * ENV, LABEL and ARG arguments, heredoc detection). */
static char **split_words(const char *s, char esc)
{
    char **v = NULL;
    size_t n = 0;
    s = skip_ws(s);
    while (*s) {
        const char *start = s;
        char quote = 0;
        while (*s && (quote || !is_ws(*s))) {
            if (*s == esc && s[1] && quote != '\'') {
                s += 2;
                continue;
            }
            if (quote && *s == quote)
                quote = 0;
            else if (!quote && (*s == '"' || *s == '\''))
                quote = *s;
            s++;
        }
        df_words_push(&v, &n, xstrndup(start, (size_t)(s - start)));
        s = skip_ws(s);
    }
    return v;
}

/* Words split at blanks only (BuildKit's parseStringsWhitespaceDelimited:
 * FROM, COPY, ADD, VOLUME, EXPOSE, STOPSIGNAL). */
static char **split_blanks(const char *s)
{
    char **v = NULL;
    size_t n = 0;
    s = skip_ws(s);
    while (*s) {
        const char *start = s;
        while (*s && !is_ws(*s))
            s++;
        df_words_push(&v, &n, xstrndup(start, (size_t)(s - start)));
        s = skip_ws(s);
    }
    return v;
}

/* A JSON array of strings, or NULL (then the shell form applies). */
static char **parse_json_array(const char *s)
{
    s = skip_ws(s);
    if (*s != '[')
        return NULL;
    json_error_t jerr;
    json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return NULL;
    char **v = NULL;
    size_t n = 0;
    bool ok = json_is_array(j);
    size_t i;
    json_t *el;
    json_array_foreach(j, i, el)
    {
        if (!json_is_string(el) || strlen(json_string_value(el)) != json_string_length(el)) {
            ok = false;
            break;
        }
        df_words_push(&v, &n, xstrdup(json_string_value(el)));
    }
    json_decref(j);
    if (!ok) {
        strv_free(v);
        return NULL;
    }
    return v ? v : xcalloc(1, sizeof(char *));
}

/* --- flags ------------------------------------------------------------ */

static const struct flag_spec *find_flag(const struct flag_spec *specs, const char *name)
{
    for (; specs->name; specs++)
        if (strcmp(specs->name, name) == 0)
            return specs;
    return NULL;
}

static int check_flag_value(struct parser *p, int line, const struct flag_spec *fs, char **value)
{
    if (fs->type == FLAG_BOOL) {
        if (!*value)
            *value = xstrdup("true");
        else if (strcasecmp(*value, "true") && strcasecmp(*value, "false"))
            return perr(p, line, "expecting boolean value for flag %s, not: %s", fs->name, *value);
        return 0;
    }
    if (!*value)
        return perr(p, line, "missing a value on flag: %s", fs->name);
    if (fs->type == FLAG_DURATION) {
        int64_t ns;
        if (duration_parse(*value, 0, &ns) < 0 || ns < 0)
            return perr(p, line, "invalid duration for --%s: %s", fs->name, *value);
        if (ns > 0 && ns < 1000000)
            return perr(p, line, "--%s cannot be less than 1ms: %s", fs->name, *value);
    } else if (fs->type == FLAG_UINT) {
        char *end;
        errno = 0;
        long n = strtol(*value, &end, 10);
        if (!**value || *end || errno || n < 0 || n > 1000000)
            return perr(p, line, "invalid value for --%s: %s (a count 0 or more)", fs->name,
                        *value);
    }
    return 0;
}

/* Reads the --flags at the start of *rest (BuildKit's
 * extractBuilderFlags: quotes removed, "--" ends them) into in->flags,
 * leaving *rest after them. */
static int parse_flags(struct parser *p, int line, const struct flag_spec *specs, const char **rest,
                       struct df_instr *in)
{
    const char *s = skip_ws(*rest);
    _cleanup_free_ char *word = xmalloc(strlen(s) + 1); /* one buffer for every flag */
    while (s[0] == '-' && s[1] == '-') {
        size_t n = 0;
        char quote = 0;
        for (s += 2; *s && (quote || !is_ws(*s)); s++) {
            if (quote && *s == quote)
                quote = 0;
            else if (!quote && (*s == '"' || *s == '\''))
                quote = *s;
            else if (*s == p->escape && s[1] && quote != '\'')
                word[n++] = *++s;
            else
                word[n++] = *s;
        }
        word[n] = '\0';
        s = skip_ws(s);
        if (n == 0)
            break; /* "--": the end of the flags */
        char *eq = strchr(word, '=');
        _cleanup_free_ char *value = eq ? xstrdup(eq + 1) : NULL;
        if (eq)
            *eq = '\0';
        const struct flag_spec *fs = find_flag(specs, word);
        if (!fs)
            return perr(p, line, "unknown flag: --%s", word);
        if (fs->type != FLAG_MULTI)
            for (size_t i = 0; i < in->n_flags; i++)
                if (strcmp(in->flags[i].name, word) == 0)
                    return perr(p, line, "duplicate flag specified: --%s", word);
        int r = check_flag_value(p, line, fs, &value);
        if (r < 0)
            return r;
        in->flags = df_grow(in->flags, in->n_flags, sizeof(*in->flags));
        in->flags[in->n_flags].name = xstrdup(word);
        in->flags[in->n_flags++].value = TAKE_PTR(value);
    }
    *rest = s;
    return 0;
}

const char *df_flag(const struct df_instr *in, const char *name)
{
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, name) == 0)
            return in->flags[i].value;
    return NULL;
}

/* --- arguments of each instruction ------------------------------------ */

static bool heredoc_word(const char *w, struct df_heredoc *h);

static void set_args(struct df_instr *in, char **args)
{
    strv_free(in->args);
    in->args = args ? args : xcalloc(1, sizeof(char *));
}

/* Exec form when rest is a JSON array of strings, else the shell form
 * (the whole line as one argument), as docker falls back. */
static void parse_cmdline(struct df_instr *in, const char *rest)
{
    char **json = parse_json_array(rest);
    in->json = json != NULL;
    if (!json)
        strv_push(&json, xstrdup(rest));
    set_args(in, json);
}

static void add_kv(struct df_instr *in, const char *key, size_t klen, const char *value)
{
    in->kvs = df_grow(in->kvs, in->n_kvs, sizeof(*in->kvs));
    struct df_kv *kv = &in->kvs[in->n_kvs++];
    kv->key = xstrndup(key, klen);
    kv->value = value ? xstrdup(value) : NULL;
    kv->has_value = value != NULL;
}

/* ENV and LABEL: "k=v k2=v2" with quotes, or the legacy "k v..." */
static int parse_name_val(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    const char *kw = df_kind_name(in->kind);
    _cleanup_strv_ char **words = split_words(rest, p->escape);
    if (!strchr(words[0], '=')) {
        const char *s = rest;
        while (*s && !is_ws(*s))
            s++;
        const char *value = skip_ws(s);
        if (!*value)
            return perr(p, line, "%s %s needs a value (%s NAME=VALUE)", kw, words[0], kw);
        add_kv(in, rest, (size_t)(s - rest), value);
        return 0;
    }
    for (size_t i = 0; words[i]; i++) {
        const char *eq = strchr(words[i], '=');
        if (!eq)
            return perr(p, line,
                        "syntax error - can't find = in \"%s\": must be of the form "
                        "name=value",
                        words[i]);
        if (eq == words[i])
            return perr(p, line, "%s names can not be blank", kw);
        add_kv(in, words[i], (size_t)(eq - words[i]), eq + 1);
    }
    return 0;
}

static int parse_arg(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    _cleanup_strv_ char **words = split_words(rest, p->escape);
    for (size_t i = 0; words[i]; i++) {
        const char *eq = strchr(words[i], '=');
        size_t klen = eq ? (size_t)(eq - words[i]) : strlen(words[i]);
        if (klen == 0)
            return perr(p, line, "ARG names can not be blank");
        add_kv(in, words[i], klen, eq ? eq + 1 : NULL);
    }
    return 0;
}

static bool valid_stage_name(const char *s)
{
    if (!islower((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && !strchr("-_.", *s))
            return false;
    return true;
}

static int parse_from(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    set_args(in, split_blanks(rest));
    size_t n = strv_len(in->args);
    if (n != 1 && !(n == 3 && strcasecmp(in->args[1], "AS") == 0))
        return perr(p, line, "FROM requires either one or three arguments (FROM IMAGE [AS NAME])");
    if (n == 3) {
        _cleanup_free_ char *lower = xstrdup(in->args[2]);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!valid_stage_name(lower))
            return perr(p, line,
                        "invalid name for build stage: \"%s\", name can't start with a number "
                        "or contain symbols",
                        in->args[2]);
        in->stage_name = TAKE_PTR(lower);
        free(in->args[2]);
        free(in->args[1]);
        in->args[1] = NULL;
    }
    return 0;
}

static int parse_copy(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    const char *kw = df_kind_name(in->kind);
    char **json = parse_json_array(rest);
    in->json = json != NULL;
    set_args(in, json ? json : split_blanks(rest));
    size_t n = strv_len(in->args);
    if (n < 2)
        return perr(p, line, "%s requires at least two arguments (source and destination)", kw);
    struct df_heredoc h = {0};
    if (!in->json && heredoc_word(in->args[n - 1], &h)) {
        free(h.name);
        return perr(p, line, "%s cannot accept a heredoc as a destination", kw);
    }
    if (in->kind == DF_COPY && df_flag(in, "from") && df_flag(in, "from")[0] == '\0')
        return perr(p, line, "COPY --from needs a stage or image name");
    const char *chmod = df_flag(in, "chmod");
    if (chmod && !strchr(chmod, '$')) {
        char *end;
        long mode = strtol(chmod, &end, 8);
        if (!*chmod || *end || mode < 0 || mode > 07777)
            return perr(p, line, "invalid chmod parameter: %s (an octal mode)", chmod);
    }
    const char *checksum = df_flag(in, "checksum");
    if (checksum && !strchr(checksum, '$') && strncmp(checksum, "sha256:", 7) != 0 &&
        strncmp(checksum, "sha384:", 7) != 0 && strncmp(checksum, "sha512:", 7) != 0)
        return perr(p, line, "invalid checksum %s (sha256:HEX)", checksum);
    return 0;
}

static int parse_mounts(struct parser *p, int line, struct df_instr *in)
{
    for (size_t i = 0; i < in->n_flags; i++) {
        if (strcmp(in->flags[i].name, "mount") != 0 || strchr(in->flags[i].value, '$'))
            continue; /* one with variables is parsed once expanded */
        struct df_mount m;
        struct berr me = BERR_INIT;
        if (df_mount_parse(in->flags[i].value, &m, &me) < 0) {
            int r = perr(p, line, "--mount=%s: %s", in->flags[i].value, me.msg);
            berr_clear(&me);
            return r;
        }
        in->mounts = df_grow(in->mounts, in->n_mounts, sizeof(*in->mounts));
        in->mounts[in->n_mounts++] = m;
    }
    const char *net = df_flag(in, "network");
    if (net && strcmp(net, "default") && strcmp(net, "none") && strcmp(net, "host"))
        return perr(p, line, "unsupported network mode: %s (default, none or host)", net);
    const char *sec = df_flag(in, "security");
    if (sec && strcmp(sec, "sandbox") && strcmp(sec, "insecure"))
        return perr(p, line, "unsupported security mode: %s (sandbox or insecure)", sec);
    return 0;
}

static int parse_healthcheck(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    const char *s = rest;
    while (*s && !is_ws(*s))
        s++;
    size_t n = (size_t)(s - rest);
    s = skip_ws(s);
    if (n == 4 && strncasecmp(rest, "NONE", 4) == 0) {
        if (*s || in->n_flags)
            return perr(p, line, "HEALTHCHECK NONE takes no arguments or flags");
        in->healthcheck_none = true;
        set_args(in, NULL);
        return 0;
    }
    if (n != 3 || strncasecmp(rest, "CMD", 3) != 0)
        return perr(p, line, "unknown type \"%.*s\" in HEALTHCHECK (NONE or CMD)", (int)n, rest);
    if (!*s)
        return perr(p, line, "missing command after HEALTHCHECK CMD");
    parse_cmdline(in, s);
    return 0;
}

static int parse_args(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    switch (in->kind) {
    case DF_FROM:
        return parse_from(p, line, in, rest);
    case DF_RUN:
        parse_cmdline(in, rest);
        return parse_mounts(p, line, in);
    case DF_CMD:
    case DF_ENTRYPOINT:
        parse_cmdline(in, rest);
        return 0;
    case DF_SHELL:
        parse_cmdline(in, rest);
        if (!in->json)
            return perr(p, line, "SHELL requires the arguments to be in JSON form");
        if (!in->args[0])
            return perr(p, line, "SHELL requires at least one argument");
        return 0;
    case DF_ENV:
    case DF_LABEL:
        return parse_name_val(p, line, in, rest);
    case DF_ARG:
        return parse_arg(p, line, in, rest);
    case DF_EXPOSE:
        set_args(in, split_blanks(rest));
        return 0;
    case DF_VOLUME: {
        char **json = parse_json_array(rest);
        in->json = json != NULL;
        set_args(in, json ? json : split_blanks(rest));
        if (!in->args[0])
            return perr(p, line, "VOLUME requires at least one argument");
        return 0;
    }
    case DF_STOPSIGNAL:
        set_args(in, split_blanks(rest));
        if (strv_len(in->args) != 1)
            return perr(p, line, "STOPSIGNAL requires exactly one argument");
        return 0;
    case DF_USER:
    case DF_WORKDIR:
    case DF_MAINTAINER:
        set_args(in, NULL);
        strv_push(&in->args, xstrdup(rest));
        return 0;
    case DF_COPY:
    case DF_ADD:
        return parse_copy(p, line, in, rest);
    case DF_HEALTHCHECK:
        return parse_healthcheck(p, line, in, rest);
    case DF_ONBUILD:
        return 0; /* parse_instr handles the trigger */
    }
    return 0;
}

/* --- heredocs --------------------------------------------------------- */

/* "<<EOF", "<<-EOF", "<<'EOF'", "<<\"EOF\"", "3<<EOF" (BuildKit's
 * ^(\d*)<<(-?)([^<]*)$): the heredoc a word opens, or false. Its name is
 * the rest without quotes; any quote in it turns expansion off. */
static bool heredoc_word(const char *w, struct df_heredoc *h)
{
    while (isdigit((unsigned char)*w))
        w++;
    if (strncmp(w, "<<", 2) != 0)
        return false;
    w += 2;
    h->chomp = *w == '-';
    if (h->chomp)
        w++;
    if (!*w || strchr(w, '<'))
        return false;
    h->expand = !strpbrk(w, "\"'");
    char *name = xmalloc(strlen(w) + 1);
    size_t n = 0;
    for (; *w; w++)
        if (*w != '"' && *w != '\'')
            name[n++] = *w;
    name[n] = '\0';
    if (n == 0) {
        free(name);
        return false;
    }
    h->name = name;
    return true;
}

static int read_heredocs(struct parser *p, int line, struct df_instr *in, const char *rest)
{
    if (in->json)
        return 0;
    _cleanup_strv_ char **words = split_words(rest, p->escape);
    for (size_t i = 0; words[i]; i++) {
        struct df_heredoc h = {0};
        if (!heredoc_word(words[i], &h))
            continue;
        in->heredocs = df_grow(in->heredocs, in->n_heredocs, sizeof(*in->heredocs));
        in->heredocs[in->n_heredocs++] = h;
        struct strbuf body = {0};
        strbuf_put(&body, "", 0);
        for (;;) {
            in->heredocs[in->n_heredocs - 1].content = body.s; /* freed with in */
            if (p->next >= p->n_lines)
                return perr(p, line, "unterminated heredoc: no line \"%s\" ends it", h.name);
            const char *l = p->lines[p->next++];
            if (h.chomp)
                while (*l == '\t')
                    l++;
            if (strcmp(l, h.name) == 0)
                break;
            strbuf_put(&body, l, strlen(l));
            strbuf_put(&body, "\n", 1);
        }
    }
    return 0;
}

/* --- instructions ------------------------------------------------------ */

static int unknown_instr(struct parser *p, int line, const char *word)
{
    size_t best = 3, n = strlen(word);
    _cleanup_free_ char *upper = xstrdup(word);
    for (char *c = upper; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    const char *hint = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(instrs); i++) {
        size_t d = str_edit_distance(upper, n, instrs[i].name, strlen(instrs[i].name));
        if (d < best) {
            best = d;
            hint = instrs[i].name;
        }
    }
    if (hint)
        return perr(p, line, "unknown instruction: %.40s (did you mean %s?)", word, hint);
    return perr(p, line, "unknown instruction: %.40s", word);
}

static int parse_instr(struct parser *p, int line, const char *text, struct df_instr *in)
{
    const char *s = skip_ws(text);
    const char *kw = s;
    while (*s && !is_ws(*s))
        s++;
    _cleanup_free_ char *word = xstrndup(kw, (size_t)(s - kw));
    size_t k = 0;
    while (k < ARRAY_SIZE(instrs) && strcasecmp(word, instrs[k].name) != 0)
        k++;
    if (k == ARRAY_SIZE(instrs))
        return unknown_instr(p, line, word);
    in->kind = instrs[k].kind;
    in->line = line;
    in->raw = xstrdup(skip_ws(text));
    const char *rest = s;
    int r = parse_flags(p, line, instrs[k].flags, &rest, in);
    if (r < 0)
        return r;
    _cleanup_free_ char *trimmed = xstrdup(rest);
    for (size_t n = strlen(trimmed); n > 0 && is_ws(trimmed[n - 1]); n--)
        trimmed[n - 1] = '\0';
    if (!*trimmed)
        return perr(p, line, "%s requires at least one argument", instrs[k].name);
    if (in->kind == DF_ONBUILD) {
        _cleanup_free_ char *sub = xstrndup(trimmed, strcspn(trimmed, " \t"));
        if (!strcasecmp(sub, "ONBUILD"))
            return perr(p, line, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (!strcasecmp(sub, "FROM") || !strcasecmp(sub, "MAINTAINER"))
            return perr(p, line, "%s isn't allowed as an ONBUILD trigger",
                        !strcasecmp(sub, "FROM") ? "FROM" : "MAINTAINER");
        in->onbuild = xcalloc(1, sizeof(*in->onbuild));
        return parse_instr(p, line, trimmed, in->onbuild); /* depth 1: no ONBUILD ONBUILD */
    }
    r = parse_args(p, line, in, trimmed);
    if (r < 0)
        return r;
    /* ONBUILD RUN <<EOF reads its heredoc too */
    if (in->kind == DF_RUN || in->kind == DF_COPY || in->kind == DF_ADD)
        return read_heredocs(p, line, in, trimmed);
    return 0;
}

/* --- lines, directives, stages ----------------------------------------- */

static bool blank(const char *l)
{
    return *skip_ws(l) == '\0';
}

static bool comment(const char *l)
{
    return *skip_ws(l) == '#';
}

/* Removes a trailing escape character (and blanks after it): true when
 * the line continues on the next one. */
static bool trim_continuation(char *l, char esc)
{
    size_t n = strlen(l);
    while (n > 0 && is_ws(l[n - 1]))
        n--;
    if (n == 0 || l[n - 1] != esc || (n >= 2 && l[n - 2] == esc))
        return false; /* "\\" at the end is an escaped escape, as BuildKit reads it */
    l[n - 1] = '\0';
    return true;
}

/* The parser directives at the top ("# key=value"); the first line that
 * is not one ends them. */
static int read_directives(struct parser *p, struct dockerfile *df)
{
    bool seen_escape = false;
    for (; p->next < p->n_lines; p->next++) {
        const char *l = skip_ws(p->lines[p->next]);
        if (*l != '#')
            return 0;
        l = skip_ws(l + 1);
        size_t klen = 0;
        while (isalpha((unsigned char)l[klen]))
            klen++;
        const char *v = skip_ws(l + klen);
        if (klen == 0 || *v != '=')
            return 0;
        _cleanup_free_ char *value = xstrdup(skip_ws(v + 1));
        for (size_t n = strlen(value); n > 0 && is_ws(value[n - 1]); n--)
            value[n - 1] = '\0';
        int line = (int)p->next + 1;
        if (klen == 6 && strncasecmp(l, "escape", 6) == 0) {
            if (seen_escape)
                return perr(p, line, "only one escape parser directive can be used");
            if (strcmp(value, "\\") && strcmp(value, "`"))
                return perr(p, line, "invalid escape token '%s' does not match ` or \\", value);
            p->escape = value[0];
            seen_escape = true;
        } else if (klen == 6 && strncasecmp(l, "syntax", 6) == 0) {
            if (df->syntax)
                return perr(p, line, "only one syntax parser directive can be used");
            df->syntax = TAKE_PTR(value);
        } else if (!(klen == 5 && strncasecmp(l, "check", 5) == 0)) {
            return 0; /* an unknown directive is a comment, and ends them */
        }
    }
    return 0;
}

/* The next logical line (continuations joined, comments and empty
 * continuation lines dropped), or NULL at the end. *line: its first. */
static char *next_logical(struct parser *p, int *line)
{
    while (p->next < p->n_lines && (blank(p->lines[p->next]) || comment(p->lines[p->next])))
        p->next++;
    if (p->next >= p->n_lines)
        return NULL;
    *line = (int)p->next + 1;
    struct strbuf acc = {0};
    const char *first = skip_ws(p->lines[p->next++]);
    strbuf_put(&acc, first, strlen(first));
    bool more = trim_continuation(acc.s, p->escape);
    acc.len = strlen(acc.s);
    while (more && p->next < p->n_lines) {
        const char *l = p->lines[p->next++];
        if (comment(l) || blank(l))
            continue;
        _cleanup_free_ char *part = xstrdup(l);
        more = trim_continuation(part, p->escape);
        strbuf_put(&acc, part, strlen(part)); /* no separator, as docker */
    }
    return acc.s;
}

static int add_to_stages(struct parser *p, struct dockerfile *df, struct df_instr *in)
{
    if (in->kind == DF_FROM) {
        if (in->stage_name && dockerfile_find_stage(df, in->stage_name) >= 0)
            return perr(p, in->line, "duplicate stage name \"%s\"", in->stage_name);
        df->stages = df_grow(df->stages, df->n_stages, sizeof(*df->stages));
        struct df_stage *st = &df->stages[df->n_stages++];
        memset(st, 0, sizeof(*st));
        st->name = dup_or_null(in->stage_name);
    } else if (df->n_stages == 0) {
        if (in->kind != DF_ARG)
            return perr(p, in->line, "%s before the first FROM (only ARG may come first)",
                        df_kind_name(in->kind));
        df->meta_args = df_grow(df->meta_args, df->n_meta_args, sizeof(*df->meta_args));
        df->meta_args[df->n_meta_args++] = *in;
        memset(in, 0, sizeof(*in));
        return 0;
    }
    struct df_stage *st = &df->stages[df->n_stages - 1];
    st->instrs = df_grow(st->instrs, st->n_instrs, sizeof(*st->instrs));
    st->instrs[st->n_instrs++] = *in;
    memset(in, 0, sizeof(*in));
    return 0;
}

static char **split_lines(const char *text, size_t len, size_t *n)
{
    char **v = NULL;
    *n = 0;
    const char *end = text + len;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        size_t l = nl ? (size_t)(nl - text) : (size_t)(end - text);
        if (l > 0 && text[l - 1] == '\r')
            l--;
        df_words_push(&v, n, xstrndup(text, l));
        text = nl ? nl + 1 : end;
    }
    return v ? v : xcalloc(1, sizeof(char *));
}

int dockerfile_parse(const char *name, const char *text, size_t len, struct dockerfile **out,
                     struct berr *e)
{
    if (len > DF_MAX_BYTES)
        return berr_set(e, -EFBIG, "%s: larger than %d bytes", name, DF_MAX_BYTES);
    if (memchr(text, '\0', len))
        return berr_set(e, -EINVAL, "%s: holds a NUL byte: not a text file", name);
    _cleanup_(dockerfile_freep) struct dockerfile *df = xcalloc(1, sizeof(*df));
    _cleanup_strv_ char **lines = NULL;
    struct parser p = {.name = name, .escape = '\\', .e = e};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3; /* a UTF-8 byte-order mark */
        len -= 3;
    }
    lines = split_lines(text, len, &p.n_lines);
    p.lines = lines;
    int r = read_directives(&p, df);
    if (r < 0)
        return r;
    df->escape = p.escape;
    df->name = xstrdup(name);
    size_t count = 0;
    int line;
    char *l;
    while ((l = next_logical(&p, &line))) {
        _cleanup_free_ char *logical = l;
        if (++count > DF_MAX_INSTRS)
            return perr(&p, line, "more than %d instructions", DF_MAX_INSTRS);
        struct df_instr in = {0};
        r = parse_instr(&p, line, logical, &in);
        if (r == 0)
            r = add_to_stages(&p, df, &in);
        df_instr_clear(&in);
        if (r < 0)
            return r;
    }
    if (df->n_stages == 0)
        return berr_set(e, -EINVAL, "%s: no FROM instruction: nothing to build", name);
    *out = TAKE_PTR(df);
    return 0;
}
