/* SPDX-License-Identifier: Apache-2.0 */
/* tc(8)'s rate, time and percent syntaxes (compose/tcunits.h), after
 * iproute2's get_rate64, get_time and get_percent, with their limits
 * made explicit. */
#include "compose/tcunits.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

/* A finite, non-negative decimal number at the start of s ("1.5", "10",
 * ".5"); *end after it. No sign, no hex, no exponent, no spaces: a
 * compose value, not a C literal. */
static int leading_number(const char *s, double *v, const char **end)
{
    const char *p = s;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (digits == 0)
        return -EINVAL;
    char buf[64];
    if ((size_t)(p - s) >= sizeof buf)
        return -ERANGE;
    memcpy(buf, s, (size_t)(p - s));
    buf[p - s] = '\0';
    *v = strtod(buf, NULL);
    if (!isfinite(*v))
        return -ERANGE;
    *end = p;
    return 0;
}

struct unit {
    const char *name;
    double scale;
};

static const struct unit rate_units[] = {
    {"", 1.},
    {"bit", 1.},
    {"kbit", 1e3},
    {"kibit", 1024.},
    {"mbit", 1e6},
    {"mibit", 1024. * 1024.},
    {"gbit", 1e9},
    {"gibit", 1024. * 1024. * 1024.},
    {"bps", 8.},
    {"kbps", 8e3},
    {"kibps", 8. * 1024.},
    {"mbps", 8e6},
    {"mibps", 8. * 1024. * 1024.},
    {"gbps", 8e9},
    {"gibps", 8. * 1024. * 1024. * 1024.},
};

static const struct unit time_units[] = {
    {"", 1.},      {"us", 1.},     {"usec", 1.}, {"usecs", 1.}, {"ms", 1e3},
    {"msec", 1e3}, {"msecs", 1e3}, {"s", 1e6},   {"sec", 1e6},  {"secs", 1e6},
};

/* A number with one of n units (any case when fold, as tc's rates),
 * rounded to a whole count of the smallest, min to max. */
static int scaled(const char *s, const struct unit *units, size_t n, bool fold, uint64_t min,
                  uint64_t max, uint64_t *out)
{
    double v;
    const char *unit;
    int r = leading_number(s, &v, &unit);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if ((fold ? strcasecmp(unit, units[i].name) : strcmp(unit, units[i].name)) != 0)
            continue;
        double x = v * units[i].scale + 0.5; /* rounded to the nearest */
        if (x < (double)min || x >= (double)max + 1.)
            return -ERANGE;
        *out = (uint64_t)x;
        return 0;
    }
    return -EINVAL;
}

int tc_rate_parse(const char *s, uint64_t *bits)
{
    return scaled(s, rate_units, ARRAY_SIZE(rate_units), true, TC_RATE_MIN_BITS, TC_RATE_MAX_BITS,
                  bits);
}

int tc_time_parse(const char *s, uint64_t *us)
{
    return scaled(s, time_units, ARRAY_SIZE(time_units), false, 0, TC_TIME_MAX_US, us);
}

int tc_percent_parse(const char *s, double *pct)
{
    double v;
    const char *rest;
    int r = leading_number(s, &v, &rest);
    if (r < 0)
        return r;
    if (strcmp(rest, "%") != 0 && *rest)
        return -EINVAL;
    if (v > 100.)
        return -ERANGE;
    *pct = v;
    return 0;
}
