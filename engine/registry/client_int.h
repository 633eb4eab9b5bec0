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
};

/* Resets h and sets it up for a request to url of c's registry: user agent,
 * protocols (https only, http for plain-HTTP registries), redirects,
 * connect and low-speed timeouts, proxy rules. *hdrs receives the headers
 * the request must carry beyond the caller's own (append to it before the
 * call, free it after the transfer with curl_slist_free_all). */
void registry_easy_setup(struct registry_client *c, CURL *h, const char *url,
                         struct curl_slist **hdrs);

/* An error answer's body, kept up to 4 KiB (*body NUL-terminated). */
void registry_errbody_append(char **body, size_t *blen, const char *buf, size_t len);
/* The registry's own words for an error answer ({"errors": [{"code",
 * "message"}]} in body), else the HTTP status. Heap string. */
char *registry_error_text(const char *body, size_t len, long code);

/* Seconds below 1 byte/s before a transfer is dropped as stalled:
 * REGISTRY_LOW_SPEED_TIME_S, or BERTH_REGISTRY_LOW_SPEED_TIME (1-3600; for
 * tests and slow links). */
long registry_low_speed_time(void);

/* The fetcher of manifests and blobs one at a time (client.c);
 * registry_fetcher adds the parallel blob transport (fetch.c). */
struct image_fetcher registry_fetcher_seq(struct registry_client *c);

#endif
