/* SPDX-License-Identifier: Apache-2.0 */
/* CPU lists as the kernel writes them ("0-3,8,10-11"): the one parser, for
 * compose's `cpuset` (its syntax, at load) and for checking it against the
 * host's online CPUs (/sys/devices/system/cpu/online, at up). */
#ifndef BERTH_UTIL_CPUSET_H
#define BERTH_UTIL_CPUSET_H

#include <stdbool.h>
#include <stdint.h>

#define CPUSET_MAX 4096 /* CPUs a list may name: 0 .. CPUSET_MAX-1 */

struct cpuset {
    uint64_t bits[CPUSET_MAX / 64];
};

/* Parses a list of CPU numbers and ranges separated by commas (spaces and a
 * trailing newline around items allowed, as the kernel's files have
 * them). Returns 0, -EINVAL (not a list, a range backwards, empty) or
 * -ERANGE (a CPU at or past CPUSET_MAX). */
int cpuset_parse(const char *s, struct cpuset *out);

bool cpuset_has(const struct cpuset *c, unsigned cpu);

/* The first CPU in want that is not in have, or -1 when want is a subset. */
int cpuset_first_outside(const struct cpuset *want, const struct cpuset *have);

#endif
