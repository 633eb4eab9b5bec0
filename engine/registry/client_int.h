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

#include "engine/registry/config.h"
#include "engine/registry/registry.h"

#define REGISTRY_CONNECT_TIMEOUT_S 30L
#define REGISTRY_LOW_SPEED_TIME_S  60L
#define REGISTRY_MAX_REDIRS        5L

struct registry_client {
    CURL *curl;  /* for the sequential requests (manifests, tokens) */
    char *base;  /* http://127.0.0.1:5000 */
    char *repo;  /* test/busybox */
    char *shown; /* 127.0.0.1:5000/test/busybox, for messages */
    bool plain_http;
    /* Where the pull may be served from (config.h), and the one in use:
     * its TLS material, proxy, and whether a TLS handshake failure may
     * still turn it into plain HTTP (until the first HTTPS answer). */
    struct registry_endpoint *eps;
    size_t n_eps, cur;
    char *host; /* registry.example:5000, for messages and certs.d */
    bool verify, http_fallback;
    struct registry_tls tls;
    char *proxy;   /* NULL: direct */
    char *noproxy; /* for redirects to other hosts */
};

/* Moves c to its next endpoint (the next docker.io mirror, or docker.io
 * itself): 1 when there is one, 0 when none is left, <0 when its TLS
 * material cannot be read. */
int registry_client_next_endpoint(struct registry_client *c, struct berr *e);

/* Resets h and sets it up for a request to url of c's registry: user agent,
 * protocols (https only, http for plain-HTTP registries), redirects,
 * connect and low-speed timeouts, TLS (verification, certs.d's CAs and
 * client certificate), the proxy from the environment. *hdrs receives the headers
 * the request must carry beyond the caller's own (append to it before the
 * call, free it after the transfer with curl_slist_free_all). */
void registry_easy_setup(struct registry_client *c, CURL *h, const char *url,
                         struct curl_slist **hdrs);

#endif
