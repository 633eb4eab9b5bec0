/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics of one compose load: errors are collected (so a user sees every
 * problem of a file at once, first one first) and warnings are handed to a
 * callback as they arise. Every line names its place as "file:line:col: ". */
#ifndef BERTH_COMPOSE_DIAG_H
#define BERTH_COMPOSE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util/err.h"

/* After this many errors the rest are only counted. */
#define DIAG_MAX_ERRORS 50

struct diag {
    char **errors; /* NULL-terminated, in the order found */
    size_t n_errors;
    size_t n_warnings;                             /* warnings given so far */
    void (*warn)(void *userdata, const char *msg); /* NULL: log_warn */
    void *warn_userdata;
    /* What is not supported yet is not said (`config`, which runs nothing:
     * those warnings belong to the commands that run containers). */
    bool quiet_unsupported;
};

void diag_error(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* file may be NULL (no position); line/col are 1-based, 0 to omit. */
void diag_error_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_warn(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_warn_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A warning that a key or value is not supported yet: diag_warn_at unless
 * d->quiet_unsupported. */
void diag_unsupported_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Quotes a user-given string for a message: "name", with control characters
 * escaped and anything past DIAG_QUOTE_MAX bytes cut ("..."). buf must hold
 * DIAG_QBUF bytes. QS/QN give a buffer that lives to the end of the caller's
 * full expression, for use directly as printf arguments. */
#define DIAG_QUOTE_MAX 80
#define DIAG_QBUF      (4 * DIAG_QUOTE_MAX + 16)
const char *diag_quote(char *buf, const char *s, size_t len);
#define QS(s) diag_quote((char[DIAG_QBUF]){0}, (s), strlen(s))
#define QN(n) diag_quote((char[DIAG_QBUF]){0}, (n)->str, (n)->len)

/* Moves the collected errors into e as one message (lines joined by "\n")
 * and returns -EINVAL; returns 0 when there are none. */
int diag_to_berr(struct diag *d, struct berr *e);
void diag_free(struct diag *d);

#endif
