/* SPDX-License-Identifier: Apache-2.0 */
/* Durations printed the way Go's time.Duration prints them, because that is
 * what docker compose users read in `ps` and in errors. Not here: parsing the
 * compose syntaxes ("1m30s", compose/units.c), human "2 minutes ago" forms
 * (cmd/ui/format.c). */
#include "util/duration.h"

#include <stdbool.h>
#include <stdio.h>

void duration_go(int64_t ns, char *buf, size_t size)
{
    if (ns == 0) {
        snprintf(buf, size, "0s");
        return;
    }
    bool neg = ns < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char out[64];
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (u < 1000000000ULL) {
        const char *unit;
        uint64_t div;
        if (u < 1000ULL)
            unit = "ns", div = 1;
        else if (u < 1000000ULL)
            unit = "\xC2\xB5s", div = 1000;
        else
            unit = "ms", div = 1000000;
        uint64_t whole = u / div, frac = u % div;
        o += (size_t)snprintf(out + o, sizeof out - o, "%llu", (unsigned long long)whole);
        if (frac) {
            char f[16];
            int digits = div == 1000 ? 3 : 6;
            snprintf(f, sizeof f, "%0*llu", digits, (unsigned long long)frac);
            for (int i = digits - 1; i > 0 && f[i] == '0'; i--)
                f[i] = '\0';
            o += (size_t)snprintf(out + o, sizeof out - o, ".%s", f);
        }
        snprintf(out + o, sizeof out - o, "%s", unit);
        snprintf(buf, size, "%s", out);
        return;
    }
    uint64_t h = u / 3600000000000ULL, rem = u % 3600000000000ULL;
    uint64_t m = rem / 60000000000ULL;
    rem %= 60000000000ULL;
    uint64_t s = rem / 1000000000ULL, frac = rem % 1000000000ULL;
    if (h)
        o += (size_t)snprintf(out + o, sizeof out - o, "%lluh", (unsigned long long)h);
    if (h || m)
        o += (size_t)snprintf(out + o, sizeof out - o, "%llum", (unsigned long long)m);
    o += (size_t)snprintf(out + o, sizeof out - o, "%llu", (unsigned long long)s);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%09llu", (unsigned long long)frac);
        for (int i = 8; i > 0 && f[i] == '0'; i--)
            f[i] = '\0';
        o += (size_t)snprintf(out + o, sizeof out - o, ".%s", f);
    }
    snprintf(out + o, sizeof out - o, "s");
    snprintf(buf, size, "%s", out);
}
