/* The RFC 3339 formatter (util/timefmt.h). Not here: parsing of
 * timestamps, durations (util/duration.h). */
#include "util/timefmt.h"

#include <stdio.h>
#include <time.h>

char *time_rfc3339(int64_t unix_ns, unsigned frac_digits, char buf[TIME_RFC3339_MAX])
{
    int64_t secs = unix_ns / 1000000000LL;
    int64_t frac = unix_ns % 1000000000LL;
    if (frac < 0) {
        frac += 1000000000LL;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, TIME_RFC3339_MAX, "1970-01-01T00:00:00Z");
        return buf;
    }
    char head[24];
    strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac_digits == 0) {
        snprintf(buf, TIME_RFC3339_MAX, "%sZ", head);
        return buf;
    }
    if (frac_digits > 9)
        frac_digits = 9;
    for (unsigned i = frac_digits; i < 9; i++)
        frac /= 10;
    /* frac < 10^9 fits an unsigned int: GCC then bounds the output. */
    snprintf(buf, TIME_RFC3339_MAX, "%s.%0*uZ", head, (int)frac_digits, (unsigned)frac);
    return buf;
}

int64_t time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
