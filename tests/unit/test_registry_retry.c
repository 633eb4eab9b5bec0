/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the blob transport's pure pieces (engine/registry/
 * httpparse.h): Content-Range of a resumed download, Retry-After in both
 * forms and its cap, the back-off schedule, and which failures are tried
 * again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "engine/registry/httpparse.h"

static void test_content_range(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        int rc;
        uint64_t start;
        int64_t total;
    } rows[] = {
        {"bytes 100-199/200", 0, 100, 200},
        {" bytes 0-0/1", 0, 0, 1},
        {"bytes 1000000-2999999/3000000", 0, 1000000, 3000000},
        {"bytes 5-9/*", 0, 5, -1},
        {"BYTES 5-9/10 ", 0, 5, 10},
        {"bytes */200", -1, 0, 0},  /* unsatisfied range */
        {"bytes 9-5/10", -1, 0, 0}, /* end before start */
        {"bytes 5-9/9", -1, 0, 0},  /* end past the total */
        {"bytes 5-9", -1, 0, 0},
        {"items 5-9/10", -1, 0, 0},
        {"bytes -5-9/10", -1, 0, 0},
        {"bytes 5-9/10x", -1, 0, 0},
        {"bytes 99999999999999999999-1/2", -1, 0, 0}, /* overflow */
        {"", -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t start = 77;
        int64_t total = 77;
        int rc = http_content_range(rows[i].v, &start, &total);
        if (rc != rows[i].rc)
            fail_msg("\"%s\": rc %d, want %d", rows[i].v, rc, rows[i].rc);
        if (rc == 0 && (start != rows[i].start || total != rows[i].total))
            fail_msg("\"%s\": %llu/%lld", rows[i].v, (unsigned long long)start, (long long)total);
    }
    assert_int_equal(http_content_range(NULL, NULL, NULL), -1);
}

static void test_retry_after(void **state)
{
    (void)state;
    time_t now = curl_getdate("Fri, 04 Dec 2026 21:00:00 GMT", NULL);
    assert_true(now > 0);
    unsigned ms = 7;
    assert_int_equal(http_retry_after_ms("2", now, 30000, &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(http_retry_after_ms(" 0 ", now, 30000, &ms), 0);
    assert_int_equal(ms, 0);
    /* capped */
    assert_int_equal(http_retry_after_ms("3600", now, 30000, &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(http_retry_after_ms("99999999999999999999", now, 30000, &ms), -1);
    /* an HTTP date: relative to now, capped, the past is 0 */
    assert_int_equal(http_retry_after_ms("Fri, 04 Dec 2026 21:00:05 GMT", now, 30000, &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(http_retry_after_ms("Fri, 04 Dec 2026 22:00:00 GMT", now, 30000, &ms), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(http_retry_after_ms("Fri, 04 Dec 2026 20:00:00 GMT", now, 30000, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(http_retry_after_ms("soon", now, 30000, &ms), -1);
    assert_int_equal(http_retry_after_ms("-1", now, 30000, &ms), -1);
    assert_int_equal(http_retry_after_ms(NULL, now, 30000, &ms), -1);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(REGISTRY_RETRIES, 3);
    assert_int_equal(registry_backoff_ms(1), 1000);
    assert_int_equal(registry_backoff_ms(2), 2000);
    assert_int_equal(registry_backoff_ms(3), 4000);
    assert_int_equal(registry_backoff_ms(0), 1000);
    assert_true(registry_backoff_ms(1000) <= 1000u << 9); /* bounded */
}

static void test_transient(void **state)
{
    (void)state;
    const long again[] = {408, 429, 500, 502, 503, 504, 599};
    const long never[] = {200, 206, 301, 400, 401, 403, 404, 416, 501, 505};
    for (size_t i = 0; i < sizeof again / sizeof again[0]; i++)
        if (!http_status_transient(again[i]))
            fail_msg("HTTP %ld should be tried again", again[i]);
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (http_status_transient(never[i]))
            fail_msg("HTTP %ld should not be tried again", never[i]);
    assert_true(registry_curl_transient(CURLE_COULDNT_CONNECT));
    assert_true(registry_curl_transient(CURLE_PARTIAL_FILE));
    assert_true(registry_curl_transient(CURLE_OPERATION_TIMEDOUT));
    assert_true(registry_curl_transient(CURLE_RECV_ERROR));
    assert_false(registry_curl_transient(CURLE_OK));
    assert_false(registry_curl_transient(CURLE_WRITE_ERROR));
    assert_false(registry_curl_transient(CURLE_COULDNT_RESOLVE_HOST));
    assert_false(registry_curl_transient(CURLE_UNSUPPORTED_PROTOCOL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_range),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_transient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
