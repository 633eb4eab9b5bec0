/* SPDX-License-Identifier: Apache-2.0 */
/* Value syntaxes of compose keys: sizes ("512m") and durations ("1m30s"),
 * read the way docker and compose read them (the parsers are util's), and
 * integers as compose writes them. */
#ifndef BERTH_COMPOSE_UNITS_H
#define BERTH_COMPOSE_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "util/units.h"

/* The compose file's sizes ("512m": parse_size) and durations ("1m30s",
 * also "2d" and "1w": parse_duration) are util/units.h's. */
static inline int parse_duration(const char *s, int64_t *ns)
{
    return duration_parse(s, DURATION_DAYS_WEEKS, ns);
}

/* pull_policy's refresh schedules as compose reads them: "daily" (24h),
 * "weekly" (7 days), "every_<duration>" (every_12h, every_2d, every_1h30m).
 * *ns receives the interval. -ENOENT when v is no schedule, -EINVAL when
 * every_'s duration does not parse or is not positive. */
int pull_refresh_parse(const char *v, int64_t *ns);

/* v in decimal as printf's "%lld" writes it, NUL-terminated, into buf
 * (room for FORMAT_INT_MAX bytes); returns its length. */
#define FORMAT_INT_MAX 21
size_t format_int(char *buf, int64_t v);

#endif
