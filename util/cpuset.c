/* SPDX-License-Identifier: Apache-2.0 */
/* CPU lists (cpuset.h). */
#include "util/cpuset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cpu_number(const char **p, unsigned *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    unsigned long n = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (unsigned long)(*s - '0');
        if (n >= CPUSET_MAX)
            return -ERANGE;
    }
    *p = s;
    *out = (unsigned)n;
    return 0;
}

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    return s;
}

int cpuset_parse(const char *s, struct cpuset *out)
{
    memset(out, 0, sizeof *out);
    bool any = false;
    for (const char *p = skip_blank(s); *p;) {
        unsigned lo, hi;
        int r = cpu_number(&p, &lo);
        if (r < 0)
            return r;
        hi = lo;
        if (*p == '-') {
            p++;
            r = cpu_number(&p, &hi);
            if (r < 0)
                return r;
            if (hi < lo)
                return -EINVAL;
        }
        for (unsigned c = lo; c <= hi; c++)
            out->bits[c / 64] |= UINT64_C(1) << (c % 64);
        any = true;
        p = skip_blank(p);
        if (*p == ',') {
            p = skip_blank(p + 1);
            if (!*p)
                return -EINVAL;
        } else if (*p) {
            return -EINVAL;
        }
    }
    return any ? 0 : -EINVAL;
}

bool cpuset_has(const struct cpuset *c, unsigned cpu)
{
    return cpu < CPUSET_MAX && (c->bits[cpu / 64] >> (cpu % 64) & 1);
}

int cpuset_first_outside(const struct cpuset *want, const struct cpuset *have)
{
    for (unsigned w = 0; w < CPUSET_MAX / 64; w++) {
        uint64_t extra = want->bits[w] & ~have->bits[w];
        if (extra)
            return (int)(w * 64 + (unsigned)__builtin_ctzll(extra));
    }
    return -1;
}
