/* SPDX-License-Identifier: Apache-2.0 */
/* Signal names as docker and compose accept them: "SIGTERM", "TERM",
 * "sigterm", "15", "SIGRTMIN+3". */
#ifndef BERTH_UTIL_SIGNAME_H
#define BERTH_UTIL_SIGNAME_H

/* Returns the signal number, or -EINVAL for an unknown or out-of-range one. */
int signal_parse(const char *s);
/* "SIGTERM"; "SIGRTMIN+3"; NULL for an invalid number. Static storage is not
 * used: the result points into a constant table or into buf (>= 16 bytes). */
const char *signal_name(int sig, char buf[16]);

#endif
