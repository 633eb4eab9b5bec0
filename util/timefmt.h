/* SPDX-License-Identifier: Apache-2.0 */
/* Timestamps as text: the one RFC 3339 formatter every layer uses (log
 * files, events, records, image configs). UTC only, "Z"-terminated: what
 * docker writes in its JSON and what Go's time.Parse(RFC3339Nano) reads.
 * Parsing lives with its one user; this file only formats. */
#ifndef BERTH_UTIL_TIMEFMT_H
#define BERTH_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Always enough for time_rfc3339's output. */
#define TIME_RFC3339_MAX 40

/* Writes unix_ns (nanoseconds since the epoch) as
 * "2026-12-04T09:24:33.123456789Z" with frac_digits (0..9) digits after the
 * seconds (none and no dot when 0; digits are truncated, not rounded).
 * Returns buf. */
char *time_rfc3339(int64_t unix_ns, unsigned frac_digits, char buf[TIME_RFC3339_MAX]);

/* CLOCK_REALTIME now, in nanoseconds since the epoch. */
int64_t time_now_ns(void);

#endif
