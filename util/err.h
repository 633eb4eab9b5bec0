/* SPDX-License-Identifier: Apache-2.0 */
/* Error objects: every fallible function returns a negative errno-style code
 * and fills a caller-owned struct berr with a message. Callers that add
 * context wrap the message ("loading image x: reading y: No such file"), so
 * the user sees one line naming what is at fault. Every function here
 * accepts e == NULL, meaning "the caller ignores this error": pass NULL
 * rather than a local berr that is cleared. */
#ifndef BERTH_UTIL_ERR_H
#define BERTH_UTIL_ERR_H

#include <errno.h>

#include "util/cleanup.h"

struct berr {
    int code;  /* negative errno-style code, 0 when no error is set */
    char *msg; /* heap-allocated message chain, NULL when no error is set */
};

#define BERR_INIT                                                                                  \
    {                                                                                              \
        0, NULL                                                                                    \
    }

/* Sets the error (replacing any earlier one). code is a negative errno value;
 * a non-negative code is stored as -EINVAL. Returns the stored code. */
int berr_set(struct berr *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like berr_set with code -errnum, and ": strerror(errnum)" appended. errnum
 * may be given positive or negative. */
int berr_errno(struct berr *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context to the current message: "context: message". If no error is
 * set it sets one with -EIO. Returns the stored code. */
int berr_wrap(struct berr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void berr_clear(struct berr *e);

/* Moves src into dst (dst is cleared first; a NULL dst drops src's error). */
void berr_move(struct berr *dst, struct berr *src);

/* A struct berr cleared when it leaves scope. */
#define _cleanup_berr_ _cleanup_(berr_clear)

#endif
