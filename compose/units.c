/* SPDX-License-Identifier: Apache-2.0 */
/* Size ("512m") and duration ("1m30s") syntaxes as docker reads them, and
 * integer formatting for canonical output. Not here: Go-style duration
 * printing (util/duration.c). */
#include "compose/units.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

size_t format_int(char *buf, int64_t v)
{
    char tmp[FORMAT_INT_MAX];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[o++] = '-';
    while (n)
        buf[o++] = tmp[--n];
    buf[o] = '\0';
    return o;
}

int pull_refresh_parse(const char *v, int64_t *ns)
{
    const int64_t day = 24 * 3600 * INT64_C(1000000000);
    if (strcmp(v, "daily") == 0) {
        *ns = day;
        return 0;
    }
    if (strcmp(v, "weekly") == 0) {
        *ns = 7 * day;
        return 0;
    }
    if (strncmp(v, "every_", 6) != 0)
        return -ENOENT;
    int64_t d;
    if (parse_duration(v + 6, &d) < 0 || d <= 0)
        return -EINVAL;
    *ns = d;
    return 0;
}
