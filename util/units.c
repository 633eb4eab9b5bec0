/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes and durations from text (util/units.h). Not here: printing
 * durations (util/duration.c), compose's messages about bad values
 * (compose/model.c). */
#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* digits [ "." digits ]: at least one digit in all. Returns the length
 * consumed, 0 when there is no number. */
static size_t scan_decimal(const char *s, double *out)
{
    size_t i = strspn(s, "0123456789");
    if (i > 0 && i <= 15 && s[i] != '.') { /* a whole number: exact in a double */
        uint64_t v = 0;
        for (size_t k = 0; k < i; k++)
            v = v * 10 + (uint64_t)(s[k] - '0');
        *out = (double)v;
        return i;
    }
    size_t j = i;
    if (s[j] == '.')
        j += 1 + strspn(s + j + 1, "0123456789");
    if (j == 0 || (i == 0 && j == 1))
        return 0;
    char buf[64];
    if (j >= sizeof buf)
        *out = HUGE_VAL;
    else {
        memcpy(buf, s, j);
        buf[j] = '\0';
        *out = strtod(buf, NULL);
    }
    return j;
}

int parse_size(const char *s, int64_t *out)
{
    double v;
    size_t n = scan_decimal(s, &v);
    if (n == 0)
        return -EINVAL;
    const char *sfx = s + n;
    if (*sfx == ' ')
        sfx++;
    double mult = 1;
    size_t len = strlen(sfx);
    if (len > 3)
        return -EINVAL;
    if (len > 0) {
        char u[4] = {0};
        for (size_t i = 0; i < len; i++)
            u[i] = (char)tolower((unsigned char)sfx[i]);
        if (u[0] == 'b') {
            if (len > 1)
                return -EINVAL;
        } else {
            const char *units = "kmgtp";
            const char *hit = strchr(units, u[0]);
            if (!hit || !u[0])
                return -EINVAL;
            for (const char *q = units; q <= hit; q++)
                mult *= 1024.0;
            if (len == 2 && u[1] != 'i' && u[1] != 'b')
                return -EINVAL;
            if (len == 3 && strcmp(u + 1, "ib") != 0)
                return -EINVAL;
        }
    }
    v *= mult;
    if (!(v < 9223372036854775808.0))
        return -ERANGE;
    *out = (int64_t)v;
    return 0;
}

static const struct {
    const char *name;
    int64_t ns;
} duration_units[] = {
    {"ns", 1LL},
    {"us", 1000LL},
    {"\xC2\xB5s", 1000LL}, /* µs, micro sign */
    {"\xCE\xBCs", 1000LL}, /* μs, Greek mu */
    {"ms", 1000000LL},
    {"s", 1000000000LL},
    {"m", 60LL * 1000000000LL},
    {"h", 3600LL * 1000000000LL},
    {"d", 24LL * 3600LL * 1000000000LL},       /* with DURATION_DAYS_WEEKS */
    {"w", 7LL * 24LL * 3600LL * 1000000000LL}, /* with DURATION_DAYS_WEEKS */
};
#define N_GO_UNITS 8 /* the rows before "d": Go's own */

int duration_parse(const char *s, unsigned flags, int64_t *ns)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    /* Whole nanoseconds are summed exactly; fractions in floating point, as
     * Go does. */
    double total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.')
            return -EINVAL;
        double v;
        size_t n = scan_decimal(s, &v);
        if (n == 0)
            return -EINVAL;
        s += n;
        size_t ulen = 0;
        while (s[ulen] && s[ulen] != '.' && !isdigit((unsigned char)s[ulen]))
            ulen++;
        if (ulen == 0)
            return -EINVAL; /* missing unit */
        int64_t unit = 0;
        size_t n_units = (flags & DURATION_DAYS_WEEKS)
                             ? sizeof duration_units / sizeof duration_units[0]
                             : N_GO_UNITS;
        for (size_t i = 0; i < n_units; i++)
            if (strlen(duration_units[i].name) == ulen &&
                memcmp(duration_units[i].name, s, ulen) == 0)
                unit = duration_units[i].ns;
        if (!unit)
            return -EINVAL;
        s += ulen;
        total += v * (double)unit;
        if (!(total < 9223372036854775808.0))
            return -ERANGE;
    }
    *ns = neg ? -(int64_t)total : (int64_t)total;
    return 0;
}
