/* SPDX-License-Identifier: Apache-2.0 */
/* Digest strings checked strictly before any path or URL is made from them,
 * and sha256 streamed through libcrypto. Not here: verifying blobs as they are
 * written (engine/image/store.c). */
#include "engine/image/digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct sha256 {
    EVP_MD_CTX *ctx;
};

bool digest_hex_is_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[n] == '\0';
}

bool digest_is_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0)
        return false;
    if (strlen(d + 7) != DIGEST_HEX_LEN)
        return false;
    return digest_hex_is_valid(d + 7, DIGEST_HEX_LEN);
}

int digest_validate(const char *d, const char *what, struct berr *e)
{
    if (digest_is_valid(d))
        return 0;
    if (!d)
        return berr_set(e, -EINVAL, "%s: missing digest", what);
    /* Print at most a short prefix: the value is attacker-controlled. */
    return berr_set(e, -EINVAL, "%s: invalid digest \"%.80s\" (want sha256: and 64 lowercase hex)",
                    what, d);
}

const char *digest_hex(const char *d)
{
    return d + 7;
}

struct sha256 *sha256_new(void)
{
    struct sha256 *h = xcalloc(1, sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        fputs("berth: libcrypto: cannot initialise sha256\n", stderr);
        abort();
    }
    return h;
}

void sha256_update(struct sha256 *h, const void *buf, size_t len)
{
    if (len > 0)
        EVP_DigestUpdate(h->ctx, buf, len);
}

void sha256_final(struct sha256 *h, char out[DIGEST_STR_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    memcpy(out, "sha256:", 7);
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n && i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + DIGEST_HEX_LEN] = '\0';
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void sha256_free(struct sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void sha256_digest(const void *buf, size_t len, char out[DIGEST_STR_SIZE])
{
    struct sha256 *h = sha256_new();
    sha256_update(h, buf, len);
    sha256_final(h, out);
    sha256_free(h);
}
