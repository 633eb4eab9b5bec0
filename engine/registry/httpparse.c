/* SPDX-License-Identifier: Apache-2.0 */
/* Header values and retry rules of the blob transport (httpparse.h). HTTP
 * dates are libcurl's to parse (curl_getdate). */
#include "engine/registry/httpparse.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal number of at most 19 digits at *p, advancing *p. */
static int number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    while (isdigit((unsigned char)s[n]) && n < 19)
        v = v * 10 + (uint64_t)(s[n++] - '0');
    if (n == 0 || isdigit((unsigned char)s[n]))
        return -1;
    *out = v;
    *p = s + n;
    return 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int http_content_range(const char *v, uint64_t *start, int64_t *total)
{
    if (!v)
        return -1;
    v = skip_ws(v);
    if (strncasecmp(v, "bytes", 5) != 0)
        return -1;
    const char *p = skip_ws(v + 5);
    uint64_t a, b, t;
    if (number(&p, &a) < 0 || *p++ != '-' || number(&p, &b) < 0 || b < a || *p++ != '/')
        return -1;
    int64_t tot = -1;
    if (*p == '*') {
        p++;
    } else {
        if (number(&p, &t) < 0 || t <= b)
            return -1;
        tot = (int64_t)t;
    }
    if (*skip_ws(p) != '\0')
        return -1;
    *start = a;
    *total = tot;
    return 0;
}

int http_retry_after_ms(const char *v, time_t now, unsigned cap_ms, unsigned *ms)
{
    if (!v)
        return -1;
    v = skip_ws(v);
    uint64_t secs;
    const char *p = v;
    if (number(&p, &secs) == 0 && *skip_ws(p) == '\0') {
        *ms = secs >= cap_ms / 1000u ? cap_ms : (unsigned)secs * 1000u;
        return 0;
    }
    time_t when = curl_getdate(v, NULL);
    if (when == -1)
        return -1;
    if (when <= now) {
        *ms = 0;
        return 0;
    }
    uint64_t d = (uint64_t)(when - now);
    *ms = d >= cap_ms / 1000u ? cap_ms : (unsigned)d * 1000u;
    return 0;
}

unsigned registry_backoff_ms(unsigned attempt)
{
    if (attempt < 1)
        attempt = 1;
    if (attempt > 10)
        attempt = 10;
    return 1000u << (attempt - 1);
}

bool http_status_transient(long code)
{
    return code == 408 || code == 429 || (code >= 500 && code <= 599 && code != 501 && code != 505);
}

bool registry_curl_transient(int cc)
{
    switch ((CURLcode)cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}
