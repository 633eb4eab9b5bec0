/* SPDX-License-Identifier: Apache-2.0 */
/* Size ("512m") and duration ("1m30s") syntaxes as docker reads them, and
 * integer formatting for canonical output. Not here: Go-style duration
 * printing (util/duration.c). */
#include "compose/units.h"

#include <stdint.h>

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
