/* SPDX-License-Identifier: Apache-2.0 */
/* The lowest rung of user output: one "berth: ..." line on stderr for a
 * warning, an informational line or an error object. Not here: deciding which
 * error to print and the exit code (cmd/), progress and tables (cmd/ui/,
 * engine/supervise/control.c). */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("berth: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void log_berr(const struct berr *e)
{
    fprintf(stderr, "berth: %s\n", e && e->msg ? e->msg : "unknown error");
}
