/* SPDX-License-Identifier: Apache-2.0 */
/* Image references as docker parses them: name, tag, digest, the default
 * registry and library/ prefix, and the short "familiar" form users see. Not
 * here: lookup of a reference in the store (engine/image/images.c). */
#include "engine/image/reference.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/digest.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define DEFAULT_DOMAIN  "docker.io"
#define LEGACY_DOMAIN   "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_LEN    255

/* docker/distribution reference/regexp.go, written as POSIX EREs. */
#define RE_DOMAIN_COMP "([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
#define RE_DOMAIN      "^(" RE_DOMAIN_COMP "(\\." RE_DOMAIN_COMP ")*|\\[[a-fA-F0-9:]+\\])(:[0-9]+)?$"
#define RE_PATH_COMP   "^[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*$"
#define RE_TAG         "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"

static bool ref_re_match(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

bool ref_tag_is_valid(const char *tag)
{
    return tag && ref_re_match(RE_TAG, tag);
}

void ref_free(struct imgref *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof *r);
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isupper((unsigned char)s[i]))
            return true;
    return false;
}

static int bad(struct berr *e, const char *s, const char *why)
{
    return berr_set(e, -EINVAL, "invalid reference format \"%.300s\": %s", s, why);
}

int ref_parse(const char *s, struct imgref *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return berr_set(e, -EINVAL, "invalid reference format: empty image reference");
    if (strlen(s) == DIGEST_HEX_LEN && digest_hex_is_valid(s, DIGEST_HEX_LEN))
        return bad(e, s, "cannot specify 64-byte hexadecimal strings");

    _cleanup_free_ char *name = NULL;
    _cleanup_free_ char *tag = NULL;
    _cleanup_free_ char *digest = NULL;
    const char *at = strchr(s, '@');
    size_t name_end = at ? (size_t)(at - s) : strlen(s);
    if (at) {
        if (!digest_is_valid(at + 1))
            return bad(e, s, "invalid digest (want sha256: and 64 lowercase hex)");
        digest = xstrdup(at + 1);
    }
    /* A tag follows the last ':' that comes after the last '/'. */
    const char *slash = memrchr(s, '/', name_end);
    const char *colon = memrchr(s, ':', name_end);
    if (colon && (!slash || colon > slash)) {
        tag = xstrndup(colon + 1, (size_t)(s + name_end - colon - 1));
        if (!ref_tag_is_valid(tag))
            return bad(e, s, "invalid tag");
        name_end = (size_t)(colon - s);
    }
    name = xstrndup(s, name_end);
    if (!*name)
        return bad(e, s, "missing repository name");

    /* splitDockerDomain */
    _cleanup_free_ char *domain = NULL;
    _cleanup_free_ char *path = NULL;
    char *sl = strchr(name, '/');
    size_t first = sl ? (size_t)(sl - name) : 0;
    bool is_domain =
        sl && (memchr(name, '.', first) || memchr(name, ':', first) ||
               (first == 9 && strncmp(name, "localhost", 9) == 0) || has_upper(name, first));
    if (is_domain) {
        domain = xstrndup(name, first);
        path = xstrdup(sl + 1);
    } else {
        domain = xstrdup(DEFAULT_DOMAIN);
        path = xstrdup(name);
    }
    if (strcmp(domain, LEGACY_DOMAIN) == 0) {
        free(domain);
        domain = xstrdup(DEFAULT_DOMAIN);
    }
    if (has_upper(path, strlen(path)))
        return bad(e, s, "repository name must be lowercase");
    if (strcmp(domain, DEFAULT_DOMAIN) == 0 && !strchr(path, '/')) {
        char *p = xasprintf(OFFICIAL_PREFIX "%s", path);
        free(path);
        path = p;
    }
    if (!ref_re_match(RE_DOMAIN, domain))
        return bad(e, s, "invalid registry domain");
    /* Each path component on its own (no empty ones: "a//b", "a/"). */
    _cleanup_free_ char *copy = xstrdup(path);
    char *p = copy;
    for (;;) {
        char *next = strchr(p, '/');
        if (next)
            *next = '\0';
        if (!ref_re_match(RE_PATH_COMP, p))
            return bad(e, s, "invalid repository name");
        if (!next)
            break;
        p = next + 1;
    }
    if (strlen(domain) + 1 + strlen(path) > NAME_MAX_LEN)
        return bad(e, s, "repository name must not be more than 255 characters");
    if (!tag && !digest)
        tag = xstrdup("latest");
    out->domain = TAKE_PTR(domain);
    out->path = TAKE_PTR(path);
    out->tag = TAKE_PTR(tag);
    out->digest = TAKE_PTR(digest);
    return 0;
}

char *ref_name(const struct imgref *r)
{
    return xasprintf("%s/%s", r->domain, r->path);
}

static char *with_suffix(char *name, const struct imgref *r)
{
    char *s = xasprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "",
                        r->digest ? "@" : "", r->digest ? r->digest : "");
    free(name);
    return s;
}

char *ref_string(const struct imgref *r)
{
    return with_suffix(ref_name(r), r);
}

char *ref_familiar_name(const struct imgref *r)
{
    if (strcmp(r->domain, DEFAULT_DOMAIN) != 0)
        return ref_name(r);
    const char *p = r->path;
    if (strncmp(p, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX)) == 0 &&
        !strchr(p + strlen(OFFICIAL_PREFIX), '/'))
        p += strlen(OFFICIAL_PREFIX);
    return xstrdup(p);
}

char *ref_familiar(const struct imgref *r)
{
    return with_suffix(ref_familiar_name(r), r);
}

char *ref_familiarize(const char *normalized)
{
    _cleanup_imgref_ struct imgref r = {0};
    if (ref_parse(normalized, &r, NULL) < 0)
        return xstrdup(normalized);
    return ref_familiar(&r);
}
