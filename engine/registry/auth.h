/* SPDX-License-Identifier: Apache-2.0 */
/* Registry authentication's pure parts, shared by the module's files and
 * its unit tests (other modules use engine/registry/registry.h): the
 * WWW-Authenticate challenges a registry answers a 401 with, and the
 * credentials of Docker's config.json. No network here; the flow that uses
 * them (tokens, retries) is registry_authorize (client_int.h). */
#ifndef BERTH_ENGINE_REGISTRY_AUTH_H
#define BERTH_ENGINE_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The longest WWW-Authenticate value kept (all of a response's header
 * lines, joined with ", "), and the most challenges read from it. */
#define REGISTRY_CHALLENGE_MAX  8192u
#define REGISTRY_CHALLENGES_MAX 8u
/* The largest config.json read. */
#define REGISTRY_DOCKER_CONFIG_MAX (1024u * 1024u)
/* The canonical config.json key of docker.io, as docker writes it. */
#define REGISTRY_DOCKER_HUB_AUTHKEY "https://index.docker.io/v1/"

/* One challenge: its scheme, lowercased ("bearer", "basic", or another),
 * and the parameters berth uses (NULL when absent). A token68 or an
 * unknown parameter is skipped. */
struct registry_challenge {
    char *scheme;
    char *realm;
    char *service;
    char *scope;
    char *error; /* Bearer's error="insufficient_scope", ... */
};

/* Parses a WWW-Authenticate value (RFC 7235: several challenges separated
 * by commas, each a scheme and its key=value parameters, values a token
 * or a quoted string with \-escapes and commas inside). Fills up to max
 * challenges into out and returns how many, or a negative code with e
 * filled for a value that is not one (an unterminated quote, a parameter
 * before any scheme, more than REGISTRY_CHALLENGE_MAX bytes). */
int registry_challenges_parse(const char *value, struct registry_challenge *out, size_t max,
                              struct berr *e);

/* Adds one WWW-Authenticate header line's value (vl bytes) to *joined, the
 * response's challenges so far ("a, b": several lines are one list), up to
 * REGISTRY_CHALLENGE_MAX bytes; beyond that the line is dropped. */
void registry_challenge_add(char **joined, const char *v, size_t vl);
void registry_challenges_free(struct registry_challenge *c, size_t n);

/* The first challenge of scheme (lowercase) among n, or NULL. */
const struct registry_challenge *registry_challenge_find(const struct registry_challenge *c,
                                                         size_t n, const char *scheme);

/* Credentials for one registry. */
struct registry_creds {
    char *user;
    char *password;
    char *identity_token; /* `identitytoken` (not used: see registry_creds_parse) */
    bool helpers;         /* the file names credential helpers (credsStore/credHelpers) */
};
void registry_creds_clear(struct registry_creds *c);

/* Finds domain's entry in a config.json document ("docker.io",
 * "127.0.0.1:5000"): the `auths` key that is the domain itself (docker.io:
 * "https://index.docker.io/v1/"), else the first whose host (the key
 * without "http(s)://" and path) is the domain (docker.io also
 * index.docker.io and registry-1.docker.io). Its `auth` (base64
 * "user:password") or `username`/`password`; `identitytoken` is kept
 * but berth does not exchange it (no refresh_token grant). out->helpers
 * tells the caller to warn that credsStore or a credHelpers entry for the
 * domain is not used. path names the file in errors. Returns 1 with out
 * filled, 0 when the file has no entry for the domain, or a negative code
 * for a document that is not a config.json (not JSON, `auths` not an
 * object, an `auth` that is not base64 "user:password"). */
int registry_creds_parse(const char *doc, size_t len, const char *path, const char *domain,
                         struct registry_creds *out, struct berr *e);

/* registry_creds_parse on the file at path (at most REGISTRY_DOCKER_CONFIG_MAX
 * bytes); a file that does not exist has no entry (0). */
int registry_creds_load(const char *path, const char *domain, struct registry_creds *out,
                        struct berr *e);

/* The config.json key docker writes for domain (docker.io: its
 * REGISTRY_DOCKER_HUB_AUTHKEY, else the domain). Heap string. */
char *registry_auth_key(const char *domain);

/* Base64 of len bytes (heap string); and its decoding into a NUL-ended
 * heap buffer, or -EINVAL for text that is not base64. */
char *registry_base64(const void *buf, size_t len);
int registry_unbase64(const char *text, char **out, size_t *outlen);

#endif
