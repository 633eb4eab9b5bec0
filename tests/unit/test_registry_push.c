/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for pushing's pure logic: where an upload's Location header
 * leads (relative or absolute, same host, another host only over https,
 * the closing PUT's digest added to the query), and the registry's error
 * answers turned into one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/registry/client_int.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define BASE "http://127.0.0.1:5000"
#define POST BASE "/v2/test/bb/blobs/uploads/"
#define DIG  "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void test_location_table(void **state)
{
    static const struct {
        const char *base, *req, *loc, *digest, *want; /* want NULL: refused */
    } rows[] = {
        /* relative, as many registries answer */
        {BASE, POST, "/v2/test/bb/blobs/uploads/u1?_state=x", NULL,
         BASE "/v2/test/bb/blobs/uploads/u1?_state=x"},
        {BASE, POST, "u2", NULL, BASE "/v2/test/bb/blobs/uploads/u2"},
        /* absolute on the same host and port */
        {BASE, POST, BASE "/v2/test/bb/blobs/uploads/u3", NULL,
         BASE "/v2/test/bb/blobs/uploads/u3"},
        /* the closing PUT: digest added to a query there or not */
        {BASE, POST, "/v2/x/blobs/uploads/u4?_state=ab%3D", DIG,
         BASE "/v2/x/blobs/uploads/u4?_state=ab%3D&digest=" DIG},
        {BASE, POST, "/v2/x/blobs/uploads/u5", DIG, BASE "/v2/x/blobs/uploads/u5?digest=" DIG},
        /* another host: over https only */
        {BASE, POST, "http://10.0.0.1:5000/v2/x/blobs/uploads/u6", NULL, NULL},
        {BASE, POST, "http://127.0.0.1:5001/v2/x/blobs/uploads/u7", NULL, NULL},
        {BASE, POST, "https://storage.example/upload/u8", NULL,
         "https://storage.example/upload/u8"},
        {"https://registry.example", "https://registry.example/v2/x/blobs/uploads/",
         "https://registry.example:443/v2/x/blobs/uploads/u9", NULL,
         "https://registry.example:443/v2/x/blobs/uploads/u9"},
        /* none, or not a URL */
        {BASE, POST, "", NULL, NULL},
        {BASE, POST, NULL, NULL, NULL},
        {BASE, POST, "http://[::1", NULL, NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct berr e = BERR_INIT;
        char *got = NULL;
        int r = registry_location(rows[i].base, rows[i].req, rows[i].loc, rows[i].digest, &got, &e);
        if (!rows[i].want) {
            if (r == 0)
                fail_msg("row %zu (%s): accepted as %s", i, rows[i].loc, got);
            assert_non_null(e.msg);
            assert_non_null(strstr(e.msg, rows[i].base));
            berr_clear(&e);
            continue;
        }
        if (r < 0)
            fail_msg("row %zu (%s): %s", i, rows[i].loc, e.msg);
        _cleanup_free_ char *want = xstrdup(rows[i].want);
        /* ':' in the digest may come back encoded */
        if (strcmp(got, want) != 0) {
            char *colon = strstr(want, "digest=sha256:");
            _cleanup_free_ char *alt =
                colon ? xasprintf("%.*sdigest=sha256%%3a%s", (int)(colon - want), want,
                                  colon + strlen("digest=sha256:"))
                      : NULL;
            if (!alt || strcasecmp(got, alt) != 0)
                fail_msg("row %zu (%s): got %s, want %s", i, rows[i].loc, got, want);
        }
        free(got);
    }
}

static void test_error_text(void **state)
{
    static const struct {
        const char *body;
        long code;
        const char *want;
    } rows[] = {
        {"{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided digest did not match "
         "uploaded content\"}]}",
         400, "HTTP 400, DIGEST_INVALID: provided digest did not match uploaded content"},
        {"{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}", 405, "HTTP 405, UNSUPPORTED: "},
        {"Method not allowed\n", 405, "HTTP 405, Method not allowed"},
        {"<html>\n<body>oops</body></html>", 502, "HTTP 502, <html>"},
        {"binary\x01stuff", 500, "HTTP 500"},
        {"{\"not\": \"errors\"}", 500, "HTTP 500"},
        {"", 404, "HTTP 404"},
        {NULL, 404, "HTTP 404"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        size_t len = rows[i].body ? strlen(rows[i].body) : 0;
        _cleanup_free_ char *got = registry_error_text(rows[i].body, len, rows[i].code);
        if (strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu: got \"%s\", want \"%s\"", i, got, rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_location_table),
        cmocka_unit_test(test_error_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
