/* SPDX-License-Identifier: Apache-2.0 */
/* User-facing diagnostics on stderr: one line each. */
#ifndef BERTH_UTIL_LOG_H
#define BERTH_UTIL_LOG_H

#include "util/err.h"

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "berth: <message>" for an error object. */
void log_berr(const struct berr *e);

#endif
