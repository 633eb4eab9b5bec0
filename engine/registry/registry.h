/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling images from registries (OCI distribution API over libcurl): where
 * a reference's registry is and how it is spoken to (endpoint), and a client
 * that fetches manifests and blobs for the image module to verify and
 * import (engine/image: image_pull_import): layer blobs several at once on
 * a libuv loop of its own, resumed with Range requests and retried after
 * transient failures (fetch.c); authenticated as docker does (Bearer
 * tokens, Basic credentials from Docker's config.json, which `login`
 * writes); HTTPS with the system's CAs and certs.d's, unverified or plain
 * HTTP only to loopback hosts and registries the user lists as insecure,
 * docker.io through its configured mirrors, proxies from the environment,
 * as docker (config.h). Not here: verification, planning, unpacking
 * (engine/image), output (cmd/). */
#ifndef BERTH_ENGINE_REGISTRY_H
#define BERTH_ENGINE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/events/event.h"
#include "engine/image/image.h"
#include "engine/image/reference.h"
#include "util/err.h"

/* docker.io's API host. */
#define REGISTRY_DOCKER_HUB "registry-1.docker.io"

/* True for localhost, 127.0.0.0/8 and ::1, with or without a port. */
bool registry_is_loopback(const char *domain);

/* Whether this version can pull from the domain without help it lacks
 * (every registry now); otherwise *missing (static text) would say what is
 * missing. */
bool registry_pull_supported(const char *domain, const char **missing);

/* The Accept header of a manifest request: OCI manifest and index, Docker
 * schema 2 manifest and manifest list. */
extern const char registry_manifest_accept[];

struct registry_client;

int registry_client_new(const struct imgref *ref, struct registry_client **out, struct berr *e);
void registry_client_free(struct registry_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct registry_client *, registry_client_free)
#define _cleanup_registry_client_ _cleanup_(registry_client_freep)

/* GET /v2/<name>/manifests/<tag or digest>: the document (at most
 * IMAGE_JSON_MAX bytes) and its media type (Content-Type). Heap strings. */
int registry_get_manifest(struct registry_client *c, const char *tag_or_digest, char **doc,
                          size_t *len, char **media_type, struct berr *e);

/* The fetcher image_pull_import takes: manifests and blobs of c's
 * repository, layer blobs in parallel (fetch_blobs). SIGINT and SIGTERM
 * are caught while layers download, to stop them cleanly. */
struct image_fetcher registry_fetcher(struct registry_client *c);

/* Pulls ref into the store: the manifest by tag or digest, then every blob
 * the store lacks, verified. *pulled as image_pull_import's. */
int registry_pull(struct store *s, const char *ref, struct image_pull_stats *stats, char ***pulled,
                  struct berr *e);
/* registry_pull for a platform (NULL: this host's; image_pull_import_for). */
int registry_pull_for(struct store *s, const char *ref, const struct platform *platform,
                      struct image_pull_stats *stats, char ***pulled, struct berr *e);

/* What a push did. */
struct registry_push_result {
    char digest[DIGEST_STR_SIZE]; /* the manifest's, as the registry has it */
    size_t size;                  /* the manifest's bytes */
    size_t blobs_pushed, blobs_present, blobs_mounted;
    uint64_t bytes_pushed;
};

/* Default size of an upload's chunks, and the size above which a blob goes
 * up in chunks; BERTH_PUSH_CHUNK_SIZE (bytes, for tests) overrides it. */
#define REGISTRY_PUSH_CHUNK (8u << 20)

/* Pushes the stored image ref names to ref's repository: each blob of its
 * manifest the registry lacks (HEAD; a cross-repository mount from another
 * repository of the same registry the image has a reference in; else an
 * upload, in chunks above the chunk size), then the manifest as stored, by
 * ref's tag or digest. Each layer's progress goes to sink as image "push"
 * events (id: the digest's first 12 hex digits; status "Pushing",
 * "Pushed", "Layer already exists", "Mounted from REPO"). Errors name the
 * image, the blob and the registry's answer. */
int registry_push(struct store *s, const char *ref, const struct ev_sink *sink,
                  struct registry_push_result *res, struct berr *e);

/* Credentials (Docker's config.json). */

/* $DOCKER_CONFIG/config.json, else ~/.docker/config.json ($HOME, else the
 * user's home in the password database). Heap string; NULL when there is
 * no home. */
char *registry_docker_config_path(void);

/* The registry a login SERVER names: docker.io when none, for docker.io's
 * hosts and "https://index.docker.io/v1/"; else the HOST[:PORT] of
 * "HOST[:PORT]" or a URL, lowercased. Heap string, or NULL with e filled. */
char *registry_server_domain(const char *server, struct berr *e);

/* Checks user and password against domain's /v2/ (Basic, or a token from
 * its realm as registry_authorize gets one). 0 when the registry lets them
 * in (or asks for nothing); else a negative code, e saying why in one
 * line naming the registry. */
int registry_login(const char *domain, const char *user, const char *password, struct berr *e);

/* Writes domain's credentials into the config.json at path (docker's key:
 * "https://index.docker.io/v1/" or HOST[:PORT]; `auth`, base64), keeping
 * the file's other keys: created 0600 in a 0700 directory when missing,
 * replaced atomically. *helpers: the file names credential helpers, which
 * berth does not use (for the caller's warning). */
int registry_creds_save(const char *path, const char *domain, const char *user,
                        const char *password, bool *helpers, struct berr *e);

/* Removes every `auths` entry naming domain from the config.json at path.
 * Returns 1 when one was, 0 when there was none (or no file). */
int registry_creds_erase(const char *path, const char *domain, struct berr *e);

#endif
