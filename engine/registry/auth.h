/* SPDX-License-Identifier: Apache-2.0 */
/* Registry authentication's pure parts, shared by the module's files and
 * its unit tests (other modules use engine/registry/registry.h): the
 * WWW-Authenticate challenges a registry answers a 401 with. No network
 * here. */
#ifndef BERTH_ENGINE_REGISTRY_AUTH_H
#define BERTH_ENGINE_REGISTRY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* The longest WWW-Authenticate value kept (all of a response's header
 * lines, joined with ", "), and the most challenges read from it. */
#define REGISTRY_CHALLENGE_MAX  8192u
#define REGISTRY_CHALLENGES_MAX 8u
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
void registry_challenges_free(struct registry_challenge *c, size_t n);

/* The first challenge of scheme (lowercase) among n, or NULL. */
const struct registry_challenge *registry_challenge_find(const struct registry_challenge *c,
                                                         size_t n, const char *scheme);

#endif
