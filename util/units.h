/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes ("512m") and durations ("1m30s") from text, read the way docker
 * and compose read them: the one parser of each, for the compose file
 * (compose/units.h), `logs --since` and BERTH_LOG_MAX_SIZE. Not here:
 * printing a duration (util/duration.h). */
#ifndef BERTH_UTIL_UNITS_H
#define BERTH_UTIL_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Docker's RAMInBytes (go-units): a decimal number, an optional space, an
 * optional unit k, m, g, t or p (any case, binary multiples) optionally
 * followed by "i" and/or "b"; "b" alone means bytes. "1.5g" is 1.5 GiB,
 * truncated to whole bytes. Returns 0, -EINVAL or -ERANGE. */
int parse_size(const char *s, int64_t *out);

enum duration_flags {
    /* Also "d" (24h) and "w" (7d), as compose reads durations; without it
     * only Go's time.ParseDuration units. */
    DURATION_DAYS_WEEKS = 1 << 0,
};

/* Go durations (time.ParseDuration): a sequence of decimal numbers with
 * units ns, us (µs), ms, s, m, h (and d, w with DURATION_DAYS_WEEKS):
 * "10s", "1m30s", "1.5s", "100ms", "2h". "0" alone is allowed. A leading
 * "-" is a negative duration (the caller decides whether it may be).
 * Returns 0, -EINVAL or -ERANGE; *ns in nanoseconds. */
int duration_parse(const char *s, unsigned flags, int64_t *ns);

#endif
