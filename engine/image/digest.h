/* SPDX-License-Identifier: Apache-2.0 */
/* Content digests: strict validation of "sha256:<64 lowercase hex>" strings
 * (before any path or URL is formed from one) and streaming sha256 through
 * libcrypto. */
#ifndef BERTH_ENGINE_IMAGE_DIGEST_H
#define BERTH_ENGINE_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_SIZE 72

/* True for exactly "sha256:" followed by 64 lowercase hex digits. */
bool digest_is_valid(const char *d);

/* Like digest_is_valid, with an error naming the digest and the context
 * (what refers to it, e.g. "index.json"). */
int digest_validate(const char *d, const char *what, struct berr *e);

/* The 64-hex part of a valid digest. */
const char *digest_hex(const char *d);

/* True for a lowercase hex string of length n. */
bool digest_hex_is_valid(const char *s, size_t n);

struct sha256;

struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *buf, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_SIZE bytes). The context can be
 * reused afterwards (it is reset). */
void sha256_final(struct sha256 *h, char out[DIGEST_STR_SIZE]);
void sha256_free(struct sha256 *h);

/* One-shot digest of a buffer. */
void sha256_digest(const void *buf, size_t len, char out[DIGEST_STR_SIZE]);

static inline void cleanup_sha256p(struct sha256 **h)
{
    sha256_free(*h);
}
#define _cleanup_sha256_ __attribute__((cleanup(cleanup_sha256p)))

#endif
