/* SPDX-License-Identifier: Apache-2.0 */
/* Being let into a registry (docker's token authentication): on a 401, a
 * Bearer token from the challenge's realm for the repository's scope,
 * anonymous or with the user's Basic credentials, kept for every request
 * of the pull and refreshed when stale; or Basic credentials sent
 * directly. Not here: the challenges' syntax (challenge.c), config.json
 * (creds.c), the requests that need it (client.c). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/registry/client_int.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static long long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

void registry_auth_clear(struct registry_auth *a)
{
    if (a->header)
        explicit_bzero(a->header, strlen(a->header));
    free(a->header);
    free(a->challenge);
    free(a->actions);
    free(a->config);
    registry_creds_clear(&a->creds);
    *a = (struct registry_auth){0};
}

static void set_header(struct registry_auth *a, enum registry_auth_kind kind, char *header)
{
    if (a->header)
        explicit_bzero(a->header, strlen(a->header));
    free(a->header);
    a->header = header;
    a->kind = kind;
    a->gen++;
}

/* The user's credentials for c's registry, read once from config.json. */
static int load_creds(struct registry_client *c, struct berr *e)
{
    struct registry_auth *a = &c->auth;
    if (a->creds_loaded)
        return 0;
    a->creds_loaded = true;
    a->config = registry_docker_config_path();
    if (!a->config)
        return 0;
    int r = registry_creds_load(a->config, c->domain, &a->creds, e);
    if (r < 0)
        return r;
    if (a->creds.helpers && c->sink)
        ev_warn(c->sink, EV_IMAGE, c->domain,
                "%s names credential helpers (credsStore/credHelpers), which berth does not use; "
                "%s",
                a->config,
                a->creds.user ? "its auths entry is used" : "pulling without credentials");
    if (a->creds.identity_token && !a->creds.user && c->sink)
        ev_warn(c->sink, EV_IMAGE, c->domain,
                "%s: the identity token for %s is not used by berth; pulling without credentials",
                a->config, c->domain);
    return 0;
}

/* Credentials may go over plain HTTP to a loopback host only. */
static bool cleartext_ok(const char *url_or_domain, bool plain)
{
    if (!plain)
        return true;
    const char *host = url_or_domain;
    if (strncasecmp(host, "http://", 7) == 0)
        host += 7;
    _cleanup_free_ char *domain = xstrndup(host, strcspn(host, "/?#"));
    char *at = strrchr(domain, '@'); /* user@host: the host decides */
    return registry_is_loopback(at ? at + 1 : domain);
}

static int basic(struct registry_client *c, struct berr *e)
{
    struct registry_auth *a = &c->auth;
    int r = load_creds(c, e);
    if (r < 0)
        return r;
    if (!a->creds.user)
        return berr_set(e, -EACCES, "%s: the registry asks for a login (berth login %s)", c->domain,
                        c->domain);
    if (a->kind == REGISTRY_AUTH_BASIC)
        return berr_set(e, -EACCES,
                        "%s: the registry refused the credentials of \"%s\"%s%s (berth login %s)",
                        c->domain, a->creds.user, a->config ? " from " : "",
                        a->config ? a->config : "", c->domain);
    if (!cleartext_ok(c->host, c->plain_http)) /* the endpoint: a mirror, maybe */
        return berr_set(e, -EPERM,
                        "%s: the registry asks for a password over plain HTTP; berth sends "
                        "credentials in clear text to loopback hosts only",
                        c->domain);
    _cleanup_free_ char *pair = xasprintf("%s:%s", a->creds.user, a->creds.password);
    _cleanup_free_ char *b64 = registry_base64(pair, strlen(pair));
    explicit_bzero(pair, strlen(pair));
    set_header(a, REGISTRY_AUTH_BASIC, xasprintf("Authorization: Basic %s", b64));
    explicit_bzero(b64, strlen(b64));
    return 0;
}

struct body {
    char *buf;
    size_t len;
    bool too_big;
};

static size_t on_token_body(char *data, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t len = size * n;
    if (b->len + len > REGISTRY_TOKEN_BODY_MAX) {
        b->too_big = true;
        return 0;
    }
    b->buf = xrealloc(b->buf, b->len + len + 1);
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    b->buf[b->len] = '\0';
    return len;
}

/* realm?service=..&scope=..(&account=..), escaped. Heap string. */
static char *token_url(struct registry_client *c, const struct registry_challenge *ch,
                       const char *actions)
{
    char *url = xstrdup(ch->realm);
    char sep = strchr(url, '?') ? '&' : '?';
    struct {
        const char *key;
        char *value;
    } q[] = {
        {"service", ch->service ? xstrdup(ch->service) : NULL},
        {"scope", c->repo && actions ? xasprintf("repository:%s:%s", c->repo, actions) : NULL},
        {"account", c->auth.creds.user ? xstrdup(c->auth.creds.user) : NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
        if (!q[i].value)
            continue;
        char *esc = curl_easy_escape(c->curl, q[i].value, 0);
        char *next = xasprintf("%s%c%s=%s", url, sep, q[i].key, esc ? esc : "");
        curl_free(esc);
        free(q[i].value);
        free(url);
        url = next;
        sep = '&';
    }
    return url;
}

/* Printable ASCII without blanks: nothing that could end the header. */
static bool header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* The token of a 200 answer: `token` or `access_token`, its life from
 * `expires_in`. */
static int token_take(struct registry_client *c, const struct body *b, const char *realm,
                      struct berr *e)
{
    json_t *j = json_loadb(b->buf ? b->buf : "", b->len, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (!tok || !*tok)
        tok = json_string_value(json_object_get(j, "access_token"));
    if (!tok || !*tok || !header_safe(tok)) {
        json_decref(j);
        return berr_set(e, -EPROTO, "%s: the token server %s answered no usable token", c->domain,
                        realm);
    }
    json_int_t life = json_integer_value(json_object_get(j, "expires_in"));
    if (life < REGISTRY_TOKEN_MIN_LIFE_S)
        life = REGISTRY_TOKEN_MIN_LIFE_S;
    if (life > REGISTRY_TOKEN_MAX_LIFE_S)
        life = REGISTRY_TOKEN_MAX_LIFE_S;
    set_header(&c->auth, REGISTRY_AUTH_BEARER, xasprintf("Authorization: Bearer %s", tok));
    c->auth.expires = now_s() + life;
    json_decref(j);
    return 0;
}

static int token_refused(struct registry_client *c, long code, const struct body *b,
                         const char *realm, const char *actions, struct berr *e)
{
    const struct registry_creds *cr = &c->auth.creds;
    if (code == 401 && cr->user)
        return berr_set(e, -EACCES,
                        "%s: the token server %s refused the credentials of \"%s\" (berth login "
                        "%s)",
                        c->domain, realm, cr->user, c->domain);
    json_t *j = b->buf ? json_loadb(b->buf, b->len, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(j, "errors"), 0);
    const char *msg = json_string_value(json_object_get(first, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(j, "details"));
    _cleanup_free_ char *what =
        c->repo ? xasprintf("repository:%s:%s", c->repo, actions) : xstrdup("the login");
    int r = berr_set(e, code == 401 || code == 403 ? -EACCES : -EIO,
                     "%s: the token server %s denied %s (HTTP %ld%s%.200s)%s", c->domain, realm,
                     what, code, msg ? ": " : "", msg ? msg : "",
                     cr->user || code >= 500 ? "" : " (berth login, if it needs one)");
    json_decref(j);
    return r;
}

/* Where a token may be asked for: https, or http for a plain-HTTP
 * registry; credentials in clear text only to a loopback host. */
static int realm_check(struct registry_client *c, const char *realm, struct berr *e)
{
    bool http = strncasecmp(realm, "http://", 7) == 0;
    if (!http && strncasecmp(realm, "https://", 8) != 0)
        return berr_set(e, -EPROTO, "%s: the token realm \"%.200s\" is not an https URL", c->domain,
                        realm);
    if (http && !c->plain_http)
        return berr_set(e, -EPERM,
                        "%s: the token realm %.200s is plain HTTP while the registry is HTTPS; "
                        "refused",
                        c->domain, realm);
    if (http && c->auth.creds.user && !cleartext_ok(realm, true))
        return berr_set(e, -EPERM,
                        "%s: the token realm %.200s is plain HTTP on a host that is not loopback; "
                        "berth does not send credentials there",
                        c->domain, realm);
    return 0;
}

static int bearer(struct registry_client *c, const struct registry_challenge *ch,
                  const char *actions, struct berr *e)
{
    if (!ch->realm || !*ch->realm)
        return berr_set(e, -EPROTO, "%s: a Bearer challenge without a realm", c->domain);
    int r = load_creds(c, e);
    if (r < 0 || (r = realm_check(c, ch->realm, e)) < 0)
        return r;
    _cleanup_free_ char *url = token_url(c, ch, actions);
    CURL *h = c->curl;
    registry_easy_setup(c, h, url, NULL);
    bool http = strncasecmp(ch->realm, "http://", 7) == 0;
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, http ? "http,https" : "https");
    if (c->auth.creds.user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->auth.creds.user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->auth.creds.password);
    }
    struct body b = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_token_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    c->auth.token_requests++;
    CURLcode cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
    curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (b.too_big)
        r = berr_set(e, -EFBIG, "%s: the token server %s sent more than %u bytes", c->domain,
                     ch->realm, REGISTRY_TOKEN_BODY_MAX);
    else if (cc != CURLE_OK)
        r = berr_set(e, -EIO, "%s: token server %s: %s", c->domain, ch->realm,
                     *cerr ? cerr : curl_easy_strerror(cc));
    else if (code != 200)
        r = token_refused(c, code, &b, ch->realm, actions, e);
    else
        r = token_take(c, &b, ch->realm, e);
    free(b.buf);
    return r;
}

int registry_authorize(struct registry_client *c, const char *challenge, const char *actions,
                       unsigned sent_gen, struct berr *e)
{
    if (sent_gen != c->auth.gen)
        return 0;
    struct registry_challenge ch[REGISTRY_CHALLENGES_MAX] = {0};
    struct berr perr = BERR_INIT;
    int n = registry_challenges_parse(challenge ? challenge : "", ch, ARRAY_SIZE(ch), &perr);
    if (n < 0) {
        int r = berr_set(e, -EPROTO, "%s: the registry's 401 answer: %s", c->domain, perr.msg);
        berr_clear(&perr);
        return r;
    }
    const struct registry_challenge *b = registry_challenge_find(ch, (size_t)n, "bearer");
    int r;
    if (b) {
        r = bearer(c, b, actions, e);
        if (r == 0) { /* kept for a refresh when the token goes stale */
            char *copy = xstrdup(challenge);
            free(c->auth.challenge);
            c->auth.challenge = copy;
            copy = xstrdup(actions ? actions : "pull");
            free(c->auth.actions);
            c->auth.actions = copy;
        }
    } else if (registry_challenge_find(ch, (size_t)n, "basic")) {
        r = basic(c, e);
    } else {
        r = berr_set(e, -EACCES,
                     "%s: the registry asks for authentication berth does not speak (%s)",
                     c->domain, n > 0 ? ch[0].scheme : "no challenge");
    }
    registry_challenges_free(ch, (size_t)n);
    return r;
}

int registry_auth_refresh(struct registry_client *c, struct berr *e)
{
    struct registry_auth *a = &c->auth;
    if (a->kind != REGISTRY_AUTH_BEARER || now_s() < a->expires || !a->challenge)
        return 0;
    _cleanup_free_ char *challenge = xstrdup(a->challenge);
    _cleanup_free_ char *actions = xstrdup(a->actions);
    return registry_authorize(c, challenge, actions, a->gen, e);
}

int registry_auth_denied(struct registry_client *c, const char *why, struct berr *e)
{
    const struct registry_auth *a = &c->auth;
    if (a->kind == REGISTRY_AUTH_BASIC)
        return berr_set(e, -EACCES,
                        "%s: the registry refused the credentials of \"%s\" (%s; berth login %s)",
                        c->domain, a->creds.user, why, c->domain);
    return berr_set(e, -EACCES, "%s: access to %s denied (%s)%s", c->domain,
                    c->repo ? c->shown : "the registry", why,
                    a->creds.user ? "" : " (berth login, if it needs one)");
}
