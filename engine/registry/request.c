/* SPDX-License-Identifier: Apache-2.0 */
/* One registry request with any method, for uploads: the body streamed
 * from a store file (or memory) and rewound when libcurl asks, the headers
 * an upload follows (Location, Docker-Content-Digest), the error body kept
 * for the message, a 401 answered in one place; and where an upload's
 * Location leads. Not here: what the requests mean (push.c), GETs of
 * manifests and blobs (client.c). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/registry/client_int.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define REPLY_BODY_MAX 4096u

struct transfer {
    const struct registry_body *body;
    uint64_t pos; /* bytes of body sent */
    int read_errno;
    struct registry_reply *reply;
};

void registry_reply_free(struct registry_reply *r)
{
    free(r->location);
    free(r->digest);
    free(r->www_auth);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    const struct registry_body *b = t->body;
    uint64_t left = b->len - t->pos;
    size_t want = size * n < left ? size * n : (size_t)left;
    if (want == 0)
        return 0;
    if (b->fd < 0) {
        memcpy(buf, b->mem + b->off + t->pos, want);
        t->pos += want;
        return want;
    }
    ssize_t got = pread(b->fd, buf, want, (off_t)(b->off + t->pos));
    if (got <= 0) {
        t->read_errno = got < 0 ? errno : EIO; /* 0: the file got shorter */
        return CURL_READFUNC_ABORT;
    }
    t->pos += (uint64_t)got;
    return (size_t)got;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
    struct transfer *t = ud;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > t->body->len)
        return CURL_SEEKFUNC_FAIL;
    t->pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct registry_reply *r = ud;
    size_t len = size * n;
    size_t room = REPLY_BODY_MAX - r->body_len;
    size_t take = len < room ? len : room;
    if (take > 0) {
        r->body = xrealloc(r->body, r->body_len + take + 1);
        memcpy(r->body + r->body_len, buf, take);
        r->body_len += take;
        r->body[r->body_len] = '\0';
    }
    return len;
}

/* The value of header line buf (len bytes) when it is name, trimmed; else
 * NULL. Heap string. */
static char *header_value(const char *buf, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || buf[nl] != ':' || strncasecmp(buf, name, nl) != 0)
        return NULL;
    const char *v = buf + nl + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    return xstrndup(v, vl);
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct registry_reply *r = ud;
    size_t len = size * n;
    char *v;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or a 100 Continue): only the
         * last one's headers count. */
        registry_reply_free(r);
    } else if ((v = header_value(buf, len, "Location"))) {
        free(r->location);
        r->location = v;
    } else if ((v = header_value(buf, len, "Docker-Content-Digest"))) {
        free(r->digest);
        r->digest = v;
    } else if ((v = header_value(buf, len, "WWW-Authenticate"))) {
        registry_challenge_add(&r->www_auth, v, strlen(v));
        free(v);
    }
    return len;
}

char *registry_error_text(const char *body, size_t len, long code)
{
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(j, "errors"), 0);
    const char *ecode = json_string_value(json_object_get(first, "code"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    char *s = NULL;
    bool json = j != NULL;
    if (ecode || msg)
        s = xasprintf("HTTP %ld, %.100s: %.200s", code, ecode ? ecode : "error", msg ? msg : "");
    json_decref(j);
    if (s)
        return s;
    /* Not the registry's JSON: a short line of text is still its words. */
    size_t n = 0;
    while (!json && body && n < len && n < 100 && body[n] >= ' ' && body[n] < 0x7f)
        n++;
    if (n > 0 && (n == len || body[n] == '\n' || body[n] == '\r'))
        return xasprintf("HTTP %ld, %.*s", code, (int)n, body);
    return xasprintf("HTTP %ld", code);
}

static void set_method(CURL *h, const char *method, struct transfer *t)
{
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0 && !t->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    } else if (strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(t->body ? t->body->len : 0));
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, t);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
        if (strcmp(method, "PUT") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* url, on c's plain-HTTP base when it was made for the HTTPS one before
 * c fell back (registry_fall_back). Heap string. */
static char *on_base(const struct registry_client *c, const char *url)
{
    size_t hl = strlen(c->host);
    if (c->plain_http && strncmp(url, "https://", 8) == 0 && strncmp(url + 8, c->host, hl) == 0 &&
        (url[8 + hl] == '/' || url[8 + hl] == '\0'))
        return xasprintf("http://%s", url + 8);
    return xstrdup(url);
}

/* One request as registry_request's, a 401 returned in *out as any
 * other answer. */
static int request_once(struct registry_client *c, const char *method, const char *url,
                        const char *const *headers, const struct registry_body *body,
                        struct registry_reply *out, struct berr *e)
{
    static const struct registry_body empty = {.fd = -1, .mem = ""};
    _cleanup_free_ char *u = on_base(c, url);
    memset(out, 0, sizeof *out);
    struct transfer t = {.body = body, .reply = out};
    if (!body && strcmp(method, "PUT") == 0)
        t.body = &empty;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:"); /* no 100-continue wait */
    for (size_t i = 0; headers && headers[i]; i++)
        hdrs = curl_slist_append(hdrs, headers[i]);
    CURL *h = c->curl;
    registry_easy_setup(c, h, u, &hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    set_method(h, method, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->code);
    int rc = 0;
    size_t blen = strlen(c->base);
    if (cc != CURLE_OK && !out->code && strncmp(u, c->base, blen) == 0 &&
        registry_fall_back(c, cc)) {
        registry_reply_free(out); /* then url goes to the plain-HTTP base */
        return request_once(c, method, url, headers, body, out, e);
    }
    if (cc == CURLE_ABORTED_BY_CALLBACK && t.read_errno)
        rc = berr_errno(e, t.read_errno, "reading the blob to send");
    else if (cc != CURLE_OK)
        rc = registry_transfer_error(c, cc, cerr, e);
    if (rc < 0)
        registry_reply_free(out);
    return rc;
}

int registry_request(struct registry_client *c, const char *method, const char *url,
                     const char *const *headers, const struct registry_body *body,
                     struct registry_reply *out, struct berr *e)
{
    int rc = registry_auth_refresh(c, e);
    if (rc < 0)
        return rc;
    for (int attempt = 0;; attempt++) {
        unsigned gen = c->auth.gen;
        rc = request_once(c, method, url, headers, body, out, e);
        if (rc < 0 || out->code != 401)
            return rc;
        if (attempt > 0 || !out->www_auth)
            break;
        _cleanup_free_ char *challenge = TAKE_PTR(out->www_auth);
        registry_reply_free(out);
        if ((rc = registry_authorize(c, challenge, "pull,push", gen, e)) < 0)
            return rc;
    }
    _cleanup_free_ char *why = registry_error_text(out->body, out->body_len, out->code);
    registry_reply_free(out);
    return registry_auth_denied(c, why, e);
}

static void cleanup_curlup(CURLU **u)
{
    curl_url_cleanup(*u);
}
#define _cleanup_curlu_ __attribute__((cleanup(cleanup_curlup)))

static char *url_part(CURLU *u, CURLUPart what)
{
    char *s = NULL;
    if (curl_url_get(u, what, &s, what == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) != CURLUE_OK)
        return NULL;
    char *copy = xstrdup(s);
    curl_free(s);
    return copy;
}

static bool same_host(CURLU *a, CURLU *b)
{
    _cleanup_free_ char *ha = url_part(a, CURLUPART_HOST), *hb = url_part(b, CURLUPART_HOST);
    _cleanup_free_ char *pa = url_part(a, CURLUPART_PORT), *pb = url_part(b, CURLUPART_PORT);
    return ha && hb && pa && pb && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
}

int registry_location(const char *base, const char *request_url, const char *location,
                      const char *digest, char **out, struct berr *e)
{
    if (!location || !*location)
        return berr_set(e, -EPROTO, "%s: the registry gave no upload location", base);
    _cleanup_curlu_ CURLU *u = curl_url();
    _cleanup_curlu_ CURLU *b = curl_url();
    if (!u || !b)
        return berr_set(e, -ENOMEM, "%s: parsing an upload location", base);
    if (curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, request_url, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK)
        return berr_set(e, -EPROTO, "%s: invalid upload location \"%.200s\"", base, location);
    _cleanup_free_ char *scheme = url_part(u, CURLUPART_SCHEME);
    if (!same_host(u, b) && (!scheme || strcmp(scheme, "https") != 0))
        return berr_set(e, -EPROTO,
                        "%s: the registry sent the upload to another host (\"%.200s\"), which is "
                        "followed only over https",
                        base, location);
    if (digest) {
        _cleanup_free_ char *q = xasprintf("digest=%s", digest);
        if (curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
            return berr_set(e, -EPROTO, "%s: invalid upload location \"%.200s\"", base, location);
    }
    char *s = NULL;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        return berr_set(e, -EPROTO, "%s: invalid upload location \"%.200s\"", base, location);
    *out = xstrdup(s);
    curl_free(s);
    return 0;
}
