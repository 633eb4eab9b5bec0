/* SPDX-License-Identifier: Apache-2.0 */
/* Value syntaxes of berth's x-berth-network extension, read as tc(8)
 * reads them: rates ("10mbit", "1.5gbit", "100kbps" in bytes, "2mibit";
 * a bare number is bits per second; units case-insensitive), times
 * ("50ms", "1.5s", "200us"; a bare number is microseconds) and percents
 * ("1%", "0.5%", or a bare number). Pure functions; each returns 0 or
 * -EINVAL (-ERANGE for a value out of range). */
#ifndef BERTH_COMPOSE_TCUNITS_H
#define BERTH_COMPOSE_TCUNITS_H

#include <stdint.h>

/* The rates berth shapes with: from 8kbit (below it a queue's burst would
 * take longer than the kernel's timers count) to 17gbit (libnl's rates
 * are ints of bytes per second). */
#define TC_RATE_MIN_BITS UINT64_C(8000)
#define TC_RATE_MAX_BITS (UINT64_C(0x7fffffff) * 8)
/* The longest delay or jitter netem's 32-bit tick fields hold safely. */
#define TC_TIME_MAX_US (UINT64_C(60) * 1000000)

/* A rate in bits per second, TC_RATE_MIN_BITS to TC_RATE_MAX_BITS. */
int tc_rate_parse(const char *s, uint64_t *bits);
/* A time in microseconds, 0 to TC_TIME_MAX_US. */
int tc_time_parse(const char *s, uint64_t *us);
/* A percentage, 0 to 100. */
int tc_percent_parse(const char *s, double *pct);

#endif
