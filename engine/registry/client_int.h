/* SPDX-License-Identifier: Apache-2.0 */
/* Registry module internals shared by its files (not for other modules:
 * they use engine/registry/registry.h): the client's fields and the one
 * place a libcurl easy handle is set up for a registry request, so that
 * every transfer (manifests, blobs, parallel fetches, uploads) gets the same
 * protocols, TLS, proxy, timeouts and credentials. */
#ifndef BERTH_ENGINE_REGISTRY_CLIENT_INT_H
#define BERTH_ENGINE_REGISTRY_CLIENT_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/events/event.h"
#include "engine/registry/auth.h"
#include "engine/registry/config.h"
#include "engine/registry/registry.h"

#define REGISTRY_CONNECT_TIMEOUT_S 30L
#define REGISTRY_LOW_SPEED_TIME_S  60L
#define REGISTRY_MAX_REDIRS        5L
/* A token response's size cap, and a token's shortest and longest life
 * (docker's minimum: a shorter or missing expires_in counts as 60 s). */
#define REGISTRY_TOKEN_BODY_MAX   (256u * 1024u)
#define REGISTRY_TOKEN_MIN_LIFE_S 60
#define REGISTRY_TOKEN_MAX_LIFE_S (7 * 24 * 3600)

/* How the client is let in (registry_authorize fills it): nothing yet
 * (anonymous), Basic credentials, or a Bearer token for one scope. */
enum registry_auth_kind { REGISTRY_AUTH_NONE, REGISTRY_AUTH_BASIC, REGISTRY_AUTH_BEARER };

struct registry_auth {
    enum registry_auth_kind kind;
    char *header;      /* "Authorization: ..." for every request, or NULL */
    char *challenge;   /* the Bearer challenge the token answers, for a refresh */
    char *actions;     /* the token's scope actions: "pull", "pull,push" */
    long long expires; /* CLOCK_MONOTONIC second the token is stale at */
    unsigned gen;      /* bumped at every new header */
    unsigned token_requests;
    bool creds_loaded;           /* creds read (or given by login) */
    struct registry_creds creds; /* user NULL: none for this registry */
    char *config;                /* the file creds came from, for messages */
};

struct registry_client {
    CURL *curl;   /* for the sequential requests (manifests, tokens) */
    char *base;   /* http://127.0.0.1:5000 */
    char *domain; /* 127.0.0.1:5000, docker.io: names the registry in messages */
    char *repo;   /* test/busybox; NULL for a login's check of /v2/ */
    char *shown;  /* 127.0.0.1:5000/test/busybox, for messages */
    bool plain_http;
    /* Where the pull may be served from (config.h), and the one in use:
     * its TLS material, proxy, and whether a TLS handshake failure may
     * still turn it into plain HTTP (until the first HTTPS answer). */
    struct registry_endpoint *eps;
    size_t n_eps, cur;
    char *host; /* registry.example:5000, for messages and certs.d */
    bool verify, http_fallback;
    struct registry_tls tls;
    char *proxy;                /* NULL: direct */
    char *noproxy;              /* for redirects to other hosts */
    const struct ev_sink *sink; /* warnings (credential helpers); NULL drops them */
    struct registry_auth auth;
};

/* Moves c to its next endpoint (the next docker.io mirror, or docker.io
 * itself): 1 when there is one, 0 when none is left, <0 when its TLS
 * material cannot be read. */
int registry_client_next_endpoint(struct registry_client *c, struct berr *e);

/* After a transfer of c that got no HTTP answer (cc): when c may still
 * fall back from HTTPS to plain HTTP (an insecure or loopback registry
 * whose TLS handshake failed), switches c->base to http:// and returns
 * true: the caller repeats the request at the new base. Otherwise false. */
bool registry_fall_back(struct registry_client *c, CURLcode cc);

/* A transfer that got no HTTP answer, as one line naming the registry and,
 * for TLS failures, what would help. */
int registry_transfer_error(struct registry_client *c, CURLcode cc, const char *cerr,
                            struct berr *e);

/* Resets h and sets it up for a request to url of c's registry: user agent,
 * protocols (https only, http for plain-HTTP registries), redirects,
 * connect and low-speed timeouts, TLS (verification, certs.d's CAs and
 * client certificate), the proxy from the environment. *hdrs receives the headers
 * the request must carry beyond the caller's own (append to it before the
 * call, free it after the transfer with curl_slist_free_all): the
 * client's Authorization header when it holds one (c->auth.header; record
 * c->auth.gen alongside, for registry_authorize) and url is on c->base.
 * hdrs NULL: no credentials (the token request itself). libcurl sends
 * that header to the first host only: a redirect elsewhere (a blob's CDN)
 * goes without. */
void registry_easy_setup(struct registry_client *c, CURL *h, const char *url,
                         struct curl_slist **hdrs);

/* A request's body: len bytes of fd from off, read as they are sent (a
 * blob is never loaded whole) and read again when libcurl rewinds; or of
 * mem when fd < 0. */
struct registry_body {
    int fd;
    const char *mem;
    uint64_t off, len;
};

/* What the registry answered: the status, the headers an upload follows,
 * and the start of the body (an error's JSON). */
struct registry_reply {
    long code;
    char *location; /* Location, as sent */
    char *digest;   /* Docker-Content-Digest */
    char *www_auth; /* WWW-Authenticate, every line joined (a 401's challenges) */
    char *body;
    size_t body_len;
};
void registry_reply_free(struct registry_reply *r);

/* Sends one request on c's handle: method "HEAD", "GET", "POST", "PUT",
 * "PATCH" or "DELETE" to url, with the NULL-terminated headers (may be
 * NULL) and body (NULL: none). Every upload request goes through here, so
 * a 401 is answered in this one place: registry_authorize for the scope
 * "pull,push", then the request once more (a second 401 is an error). Any
 * other HTTP answer is returned in *out for the caller to judge; a
 * transfer that fails is an error naming the registry. */
int registry_request(struct registry_client *c, const char *method, const char *url,
                     const char *const *headers, const struct registry_body *body,
                     struct registry_reply *out, struct berr *e);

/* The registry's own words for an error answer ({"errors": [{"code",
 * "message"}]} in body, or a short line of text), else the HTTP status.
 * Heap string. */
char *registry_error_text(const char *body, size_t len, long code);

/* Where an upload goes next: location (a Location header, absolute or
 * relative) resolved against request_url, the URL that answered it. It
 * must name base's host and port, or be https (a session handed to another
 * host, e.g. a storage backend, is followed only over TLS; the registry's
 * credentials are not for that host). With digest, "digest=DIGEST" is
 * added to its query (the closing PUT). Heap string in *out. */
int registry_location(const char *base, const char *request_url, const char *location,
                      const char *digest, char **out, struct berr *e);

/* An error answer's body, kept up to 4 KiB (*body NUL-terminated). */
void registry_errbody_append(char **body, size_t *blen, const char *buf, size_t len);
/* Seconds below 1 byte/s before a transfer is dropped as stalled:
 * REGISTRY_LOW_SPEED_TIME_S, or BERTH_REGISTRY_LOW_SPEED_TIME (1-3600; for
 * tests and slow links). */
long registry_low_speed_time(void);

/* The fetcher of manifests and blobs one at a time (client.c);
 * registry_fetcher adds the parallel blob transport (fetch.c). */
struct image_fetcher registry_fetcher_seq(struct registry_client *c);

/* Answers a 401: challenge is the response's WWW-Authenticate value (every
 * such header line, joined with ", "), actions the scope the request needs
 * on c->repo ("pull"; a push asks "pull,push"). sent_gen is c->auth.gen
 * when the failed request was set up: when the header changed since (a
 * parallel transfer refreshed the token), this returns 0 at once.
 * Otherwise, for a Bearer challenge: a token from the realm (GET
 * realm?service=..&scope=repository:REPO:ACTIONS, with Basic credentials
 * when config.json has some for the registry; https only, http only for a
 * plain-HTTP registry and credentials never in clear text to a host that
 * is not loopback), kept with its expiry; for a Basic challenge: the
 * stored credentials (none: "the registry asks for a login"; already sent:
 * "refused the credentials"). Returns 0 when the request should be sent
 * again (once: a second 401 is the caller's error), or a negative code
 * with e filled with one line naming the registry. Blocking (c->curl). */
int registry_authorize(struct registry_client *c, const char *challenge, const char *actions,
                       unsigned sent_gen, struct berr *e);

/* Before a request: refreshes a Bearer token whose expires_in has passed
 * (0 when none needs it). */
int registry_auth_refresh(struct registry_client *c, struct berr *e);

/* The error of a request still refused after registry_authorize (a
 * second 401): one line naming the registry and what it said. */
int registry_auth_denied(struct registry_client *c, const char *why, struct berr *e);

void registry_auth_clear(struct registry_auth *a);

#endif
