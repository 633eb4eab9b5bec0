/* SPDX-License-Identifier: Apache-2.0 */
/* Durations as Go prints them (time.Duration.String: "1h2m3.5s", "200ms",
 * "1.5µs", "0s"), the form docker compose users see. */
#ifndef BERTH_UTIL_DURATION_H
#define BERTH_UTIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 32 bytes always suffice. */
void duration_go(int64_t ns, char *buf, size_t size);

#endif
