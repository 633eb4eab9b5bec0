/* SPDX-License-Identifier: Apache-2.0 */
/* The registry client: one libcurl handle per repository, GET of manifests
 * (into memory, bounded) and blobs (streamed into the store's blob writer,
 * bounded by the descriptor's size), registry errors turned into one line.
 * Not here: endpoints (endpoint.c), verification (engine/image). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/image/imgconfig.h"
#include "engine/registry/client_int.h"
#include "engine/registry/httpparse.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define ERRBODY_MAX 4096u

/* One response being received: the body goes to w (status 200) or, for
 * an error, into errbody; a manifest's body into mem. */
struct response {
    struct registry_client *c;
    struct blob_writer *w;
    char *mem;
    size_t len, max;
    char *errbody;
    size_t errlen;
    char *content_type;
    char *www_auth;  /* WWW-Authenticate lines of the last response, joined */
    struct berr err; /* why the body was cut short */
    CURLcode cc;     /* the transfer's outcome */
};

static void response_free(struct response *r)
{
    free(r->mem);
    free(r->errbody);
    free(r->content_type);
    free(r->www_auth);
    berr_clear(&r->err);
}

void registry_client_free(struct registry_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->domain);
    free(c->repo);
    free(c->shown);
    registry_endpoints_free(c->eps, c->n_eps);
    registry_tls_free(&c->tls);
    free(c->proxy);
    free(c->noproxy);
    registry_auth_clear(&c->auth);
    free(c);
}

/* The proxy for c's registry over its current scheme, and the NO_PROXY
 * list libcurl applies to redirects to other hosts. */
static void choose_proxy(struct registry_client *c)
{
    struct registry_proxy_env pe;
    registry_proxy_env_get(&pe);
    const char *proxy = registry_proxy_for(&pe, !c->plain_http, c->host);
    free(c->proxy);
    c->proxy = proxy ? xstrdup(proxy) : NULL;
    free(c->noproxy);
    c->noproxy = xasprintf("%s%slocalhost,127.0.0.0/8,::1", pe.no ? pe.no : "", pe.no ? "," : "");
}

/* Makes endpoint i the one c speaks to: its URL, TLS material and proxy. */
static int use_endpoint(struct registry_client *c, size_t i, struct berr *e)
{
    const struct registry_endpoint *ep = &c->eps[i];
    c->cur = i;
    free(c->base);
    c->base = xstrdup(ep->base);
    c->host = ep->host;
    c->plain_http = ep->plain_http;
    c->verify = ep->verify;
    c->http_fallback = ep->http_fallback;
    registry_tls_free(&c->tls);
    choose_proxy(c);
    if (!ep->plain_http) {
        char *cafile = NULL;
        curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &cafile);
        int r = registry_tls_load(ep->host, cafile, &c->tls, e);
        if (r < 0)
            return r;
    }
    return 0;
}

int registry_client_next_endpoint(struct registry_client *c, struct berr *e)
{
    if (c->cur + 1 >= c->n_eps)
        return 0;
    int r = use_endpoint(c, c->cur + 1, e);
    return r < 0 ? r : 1;
}

/* A client of domain's registry (repo NULL: for a login's /v2/ only), at
 * its first endpoint. */
static int client_open(const char *domain, const char *repo, struct registry_client **out,
                       struct berr *e)
{
    struct registry_config cfg;
    int r = registry_config_load(&cfg, e);
    if (r < 0)
        return r;
    CURL *curl = curl_easy_init();
    if (!curl) {
        registry_config_free(&cfg);
        return berr_set(e, -ENOMEM, "%s: initializing libcurl", domain);
    }
    _cleanup_registry_client_ struct registry_client *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    c->n_eps = registry_endpoints(&cfg, domain, &c->eps);
    registry_config_free(&cfg);
    c->domain = xstrdup(domain);
    c->repo = repo ? xstrdup(repo) : NULL;
    if ((r = use_endpoint(c, 0, e)) < 0)
        return r;
    *out = TAKE_PTR(c);
    return 0;
}

int registry_client_new(const struct imgref *ref, struct registry_client **out, struct berr *e)
{
    int r = client_open(ref->domain, ref->path, out, e);
    if (r < 0)
        return r;
    (*out)->shown = ref_name(ref);
    return 0;
}

static long response_code(struct registry_client *c)
{
    long code = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct response *r = ud;
    size_t len = size * n;
    if (response_code(r->c) != 200) {
        registry_errbody_append(&r->errbody, &r->errlen, buf, len);
        return len;
    }
    if (r->len + len > r->max) {
        berr_set(&r->err, -EFBIG, "the registry sent more than the %zu bytes expected", r->max);
        return 0;
    }
    if (r->w) {
        if (blob_writer_write(r->w, buf, len, &r->err) < 0)
            return 0;
    } else {
        r->mem = xrealloc(r->mem, r->len + len + 1);
        memcpy(r->mem + r->len, buf, len);
        r->mem[r->len + len] = '\0';
    }
    r->len += len;
    return len;
}

/* The value of header line buf if it is name's ("content-type:"), without
 * the blanks around it; NULL otherwise. */
static const char *header_value(const char *buf, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(buf, name, nl) != 0)
        return NULL;
    const char *v = buf + nl;
    size_t vl = len - nl;
    while (vl > 0 && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    *vlen = vl;
    return v;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct response *r = ud;
    size_t len = size * n, vl = 0;
    const char *v;
    if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect) */
        free(r->www_auth);
        r->www_auth = NULL;
    } else if ((v = header_value(buf, len, "www-authenticate:", &vl))) {
        registry_challenge_add(&r->www_auth, v, vl);
    } else if ((v = header_value(buf, len, "content-type:", &vl))) {
        free(r->content_type);
        r->content_type = xstrndup(v, vl);
    }
    return len;
}

void registry_errbody_append(char **body, size_t *blen, const char *buf, size_t len)
{
    size_t room = ERRBODY_MAX - *blen;
    size_t take = len < room ? len : room;
    *body = xrealloc(*body, *blen + take + 1);
    memcpy(*body + *blen, buf, take);
    *blen += take;
    (*body)[*blen] = '\0';
}

long registry_low_speed_time(void)
{
    const char *v = getenv("BERTH_REGISTRY_LOW_SPEED_TIME");
    char *end = NULL;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    return n > 0 && n <= 3600 && end && !*end ? n : REGISTRY_LOW_SPEED_TIME_S;
}

void registry_easy_setup(struct registry_client *c, CURL *h, const char *url,
                         struct curl_slist **hdrs)
{
    size_t bl = strlen(c->base);
    bool ours = strncmp(url, c->base, bl) == 0 && (url[bl] == '/' || url[bl] == '\0');
    if (hdrs && c->auth.header && ours) /* never to another host (an upload's storage) */
        *hdrs = curl_slist_append(*hdrs, c->auth.header);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->plain_http ? "http" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->plain_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, REGISTRY_MAX_REDIRS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, REGISTRY_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, registry_low_speed_time());
    if (!c->verify) { /* an insecure registry: its certificate is not checked */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->tls.ca_pem) { /* the system's CAs and certs.d's, as one bundle */
        struct curl_blob ca = {c->tls.ca_pem, c->tls.ca_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (c->tls.cert) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->tls.cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->tls.key);
    }
    /* The proxy is chosen here as docker chooses it (HTTPS_PROXY,
     * HTTP_PROXY, NO_PROXY; loopback never): "" keeps libcurl from
     * reading the environment its own way. */
    curl_easy_setopt(h, CURLOPT_PROXY, c->proxy ? c->proxy : "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, c->noproxy);
}

/* Whether a failed HTTPS attempt may be retried as plain HTTP: the TLS
 * handshake failed (a plain-HTTP server answers it with garbage), or the
 * HTTPS port refused where the HTTP one is another (no port given). */
static bool may_fall_back(const struct registry_client *c, CURLcode cc)
{
    if (!c->http_fallback)
        return false;
    return cc == CURLE_SSL_CONNECT_ERROR ||
           (cc == CURLE_COULDNT_CONNECT &&
            !strchr(c->host[0] == '[' ? strchr(c->host, ']') : c->host, ':'));
}

static void fall_back_to_http(struct registry_client *c)
{
    free(c->base);
    c->base = xasprintf("http://%s", c->host);
    c->plain_http = true;
    c->http_fallback = false;
    choose_proxy(c);
}

bool registry_fall_back(struct registry_client *c, CURLcode cc)
{
    /* docker's order for an insecure registry: HTTPS, then HTTP; no
     * request got an answer yet, so no credentials were sent */
    if (!may_fall_back(c, cc))
        return false;
    fall_back_to_http(c);
    return true;
}

static const char *config_path(void)
{
    const char *p = getenv("BERTH_CONFIG");
    return p && *p ? p : REGISTRY_CONFIG_DEFAULT;
}

/* A transfer that got no HTTP answer, as one line naming the registry and,
 * for TLS failures, what would help. */
int registry_transfer_error(struct registry_client *c, CURLcode cc, const char *cerr,
                            struct berr *e)
{
    const char *why = *cerr ? cerr : curl_easy_strerror(cc);
    if (cc == CURLE_PEER_FAILED_VERIFICATION)
        return berr_set(e, -EIO,
                        "%s: TLS certificate verification failed: %s (if the registry's "
                        "certificate comes from your own CA, put the CA in %s/%s/ca.crt)",
                        c->host, why, registry_certs_d(), c->host);
    if (cc == CURLE_SSL_CONNECT_ERROR && !c->plain_http)
        return berr_set(e, -EIO, "%s: TLS handshake failed: %s%s%s%s", c->host, why,
                        c->verify ? " (a registry that speaks plain HTTP must be listed in "
                                    "\"insecure-registries\" in "
                                  : "",
                        c->verify ? config_path() : "", c->verify ? ")" : "");
    if (cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CACERT_BADFILE)
        return berr_set(e, -EIO, "%s: the certificates in %s: %s", c->host,
                        c->tls.dir ? c->tls.dir : registry_certs_d(), why);
    return berr_set(e, -EIO, "%s: %s", c->base, why);
}

/* Ready for the same request again (over plain HTTP, or after a 401 was
 * answered): nothing of a body was taken. */
static void response_reset(struct response *r)
{
    free(r->errbody);
    free(r->content_type);
    free(r->mem);
    free(r->www_auth);
    r->errbody = r->content_type = r->mem = r->www_auth = NULL;
    r->errlen = r->len = 0;
}

/* One GET of c->base + path on c->curl into r: 0 for a 200, else a
 * negative code with e filled (r->www_auth holds a 401's challenges). */
static int get_once(struct registry_client *c, const char *path, bool manifest, struct response *r,
                    struct berr *e)
{
    _cleanup_free_ char *url = xasprintf("%s%s", c->base, path);
    struct curl_slist *hdrs = NULL;
    if (manifest)
        hdrs = curl_slist_append(hdrs, registry_manifest_accept);
    CURL *h = c->curl;
    registry_easy_setup(c, h, url, &hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = r->cc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    long code = response_code(c);
    if (cc == CURLE_WRITE_ERROR && r->err.code) {
        int rc = r->err.code;
        berr_move(e, &r->err);
        return rc;
    }
    if (cc != CURLE_OK && r->len == 0 && registry_fall_back(c, cc)) {
        response_reset(r);
        return get_once(c, path, manifest, r, e);
    }
    if (cc != CURLE_OK)
        return registry_transfer_error(c, cc, cerr, e);
    c->http_fallback = false; /* HTTPS answered: it stays HTTPS */
    if (code == 200)
        return 0;
    _cleanup_free_ char *why = registry_error_text(r->errbody, r->errlen, code);
    if (code == 401)
        return berr_set(e, -EACCES, "%s", why);
    return berr_set(e, code == 404 ? -ENOENT : -EIO, "%s: %s", c->base, why);
}

/* get_once, tried again after a back-off when it failed in a way that may
 * pass (registry_curl_transient, http_status_transient). */
static int get_retried(struct registry_client *c, const char *path, bool manifest,
                       struct response *r, struct berr *e)
{
    for (unsigned attempt = 1;; attempt++) {
        int rc = get_once(c, path, manifest, r, e);
        bool transient = r->cc == CURLE_OK ? http_status_transient(response_code(c))
                                           : !r->err.code && registry_curl_transient(r->cc);
        if (rc == 0 || !transient || attempt > REGISTRY_RETRIES)
            return rc;
        if (r->w && blob_writer_reset(r->w, e) < 0)
            return rc;
        berr_clear(e);
        response_reset(r);
        unsigned ms = registry_backoff_ms(attempt);
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

/* A GET that answers the registry's 401 once (registry_authorize) and
 * sends the request again with what that gave. */
static int get_path(struct registry_client *c, const char *path, bool manifest, struct response *r,
                    struct berr *e)
{
    int rc = registry_auth_refresh(c, e);
    if (rc < 0)
        return rc;
    for (int attempt = 0;; attempt++) {
        unsigned gen = c->auth.gen;
        rc = get_retried(c, path, manifest, r, e);
        if (rc >= 0 || response_code(c) != 401)
            return rc;
        if (attempt > 0 || !r->www_auth)
            break;
        _cleanup_free_ char *challenge = TAKE_PTR(r->www_auth);
        response_reset(r);
        berr_clear(e);
        if ((rc = registry_authorize(c, challenge, "pull", gen, e)) < 0)
            return rc;
    }
    _cleanup_free_ char *why = xstrdup(e && e->msg ? e->msg : "HTTP 401");
    berr_clear(e);
    return registry_auth_denied(c, why, e);
}

static int get(struct registry_client *c, const char *kind, const char *what, struct response *r,
               struct berr *e)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/%s/%s", c->repo, kind, what);
    return get_path(c, path, strcmp(kind, "manifests") == 0, r, e);
}

int registry_login(const char *domain, const char *user, const char *password, struct berr *e)
{
    _cleanup_registry_client_ struct registry_client *c = NULL;
    int rc = client_open(domain, NULL, &c, e);
    if (rc < 0)
        return berr_wrap(e, "login to %s failed", domain);
    c->auth.creds_loaded = true;
    c->auth.creds.user = xstrdup(user);
    c->auth.creds.password = xstrdup(password);
    struct response r = {.c = c, .max = IMAGE_JSON_MAX};
    rc = get_path(c, "/v2/", false, &r, e);
    response_free(&r);
    if (rc < 0)
        return berr_wrap(e, "login to %s failed", domain);
    return 0;
}

int registry_get_manifest(struct registry_client *c, const char *tag_or_digest, char **doc,
                          size_t *len, char **media_type, struct berr *e)
{
    struct response r = {.c = c, .max = IMAGE_JSON_MAX};
    int rc = get(c, "manifests", tag_or_digest, &r, e);
    if (rc == -ENOENT) {
        berr_clear(e);
        bool by_digest = strncmp(tag_or_digest, "sha256:", 7) == 0;
        rc = berr_set(e, -ENOENT, "%s%s%s: not found in the registry (manifest unknown)", c->shown,
                      by_digest ? "@" : ":", tag_or_digest);
    } else if (rc < 0 && rc != -EACCES && rc != -EPERM) { /* those name the registry */
        berr_wrap(e, "%s: manifest %s", c->shown, tag_or_digest);
    }
    if (rc == 0) {
        *doc = r.mem ? TAKE_PTR(r.mem) : xstrdup("");
        *len = r.len;
        *media_type = TAKE_PTR(r.content_type);
    }
    response_free(&r);
    return rc;
}

static int fetch(void *ctx, const char *digest, int64_t size, bool manifest, struct blob_writer *w,
                 struct berr *e)
{
    struct registry_client *c = ctx;
    struct response r = {.c = c, .w = w, .max = size < 0 ? 0 : (size_t)size};
    int rc = get(c, manifest ? "manifests" : "blobs", digest, &r, e);
    response_free(&r);
    return rc;
}

struct image_fetcher registry_fetcher_seq(struct registry_client *c)
{
    return (struct image_fetcher){.ctx = c, .fetch = fetch};
}
