/* SPDX-License-Identifier: Apache-2.0 */
/* WWW-Authenticate challenges (RFC 7235) as registries send them: Bearer
 * realm/service/scope, Basic realm, several challenges in one value. Pure
 * string code, bounded, for any bytes a server sends. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry/auth.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* RFC 7230 tchar. */
static bool is_tchar(char ch)
{
    return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A parameter's value at *pp: a quoted string (unescaped) or, leniently, a
 * token68-like run up to a comma or blank. Heap string; NULL for an
 * unterminated quote. */
static char *read_value(const char **pp)
{
    const char *p = *pp;
    if (*p != '"') {
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        *pp = p;
        return xstrndup(start, (size_t)(p - start));
    }
    p++;
    char *out = xmalloc(strlen(p) + 1);
    size_t n = 0;
    for (; *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (!*p) {
            free(out);
            return NULL;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    *pp = p + 1;
    return out;
}

static void set_param(struct registry_challenge *c, const char *key, size_t keylen, char *value)
{
    static const struct {
        const char *name;
        size_t off;
    } params[] = {
        {"realm", offsetof(struct registry_challenge, realm)},
        {"service", offsetof(struct registry_challenge, service)},
        {"scope", offsetof(struct registry_challenge, scope)},
        {"error", offsetof(struct registry_challenge, error)},
    };
    for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
        char **slot = (char **)((char *)c + params[i].off);
        if (strlen(params[i].name) == keylen && strncasecmp(params[i].name, key, keylen) == 0 &&
            !*slot) {
            *slot = value;
            return;
        }
    }
    free(value);
}

void registry_challenges_free(struct registry_challenge *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].scheme);
        free(c[i].realm);
        free(c[i].service);
        free(c[i].scope);
        free(c[i].error);
        c[i] = (struct registry_challenge){0};
    }
}

int registry_challenges_parse(const char *value, struct registry_challenge *out, size_t max,
                              struct berr *e)
{
    if (strlen(value) > REGISTRY_CHALLENGE_MAX)
        return berr_set(e, -EINVAL, "a WWW-Authenticate header longer than %u bytes",
                        REGISTRY_CHALLENGE_MAX);
    size_t n = 0;
    bool current = false; /* out[n - 1] takes the parameters that follow */
    bool sep = true;      /* at the start or after a comma: a scheme may begin */
    const char *p = value;
    for (;;) {
        for (; *p == ' ' || *p == '\t' || *p == ','; p++)
            sep = sep || *p == ',';
        if (!*p)
            break;
        const char *tok = p;
        while (is_tchar(*p))
            p++;
        size_t toklen = (size_t)(p - tok);
        p = skip_ws(p);
        if (toklen == 0 || *p == '=') { /* key=value, or a token68's padding */
            if (toklen > 0 && !current && n == 0) {
                registry_challenges_free(out, n);
                return berr_set(e, -EINVAL, "a WWW-Authenticate parameter before any scheme");
            }
            if (*p == '=')
                p = skip_ws(p + 1);
            else if (toklen == 0 && *p != '"')
                p++; /* a stray character: skipped */
            char *v = read_value(&p);
            if (!v) {
                registry_challenges_free(out, n);
                return berr_set(e, -EINVAL, "an unterminated quoted string in WWW-Authenticate");
            }
            if (current && toklen > 0)
                set_param(&out[n - 1], tok, toklen, v);
            else
                free(v);
            sep = false;
            continue;
        }
        if (!sep) /* a token68 after the scheme: not used */
            continue;
        sep = false;
        current = n < max;
        if (current) {
            out[n].scheme = xstrndup(tok, toklen);
            for (char *s = out[n].scheme; *s; s++)
                *s = (char)tolower((unsigned char)*s);
            n++;
        }
    }
    return (int)n;
}

const struct registry_challenge *registry_challenge_find(const struct registry_challenge *c,
                                                         size_t n, const char *scheme)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].scheme, scheme) == 0)
            return &c[i];
    return NULL;
}

void registry_challenge_add(char **joined, const char *v, size_t vl)
{
    size_t have = *joined ? strlen(*joined) : 0;
    if (have + vl + 2 > REGISTRY_CHALLENGE_MAX)
        return;
    char *j = xasprintf("%s%s%.*s", *joined ? *joined : "", *joined ? ", " : "", (int)vl, v);
    free(*joined);
    *joined = j;
}
