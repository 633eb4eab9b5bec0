/* SPDX-License-Identifier: Apache-2.0 */
/* Collecting a load's diagnostics: errors kept in order with file:line:col,
 * warnings passed to the caller's callback, all errors joined into one berr at
 * the end. Not here: deciding what is wrong (every compose pass), printing
 * (cmd/). */
#include "compose/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* "file:line:col: message". A message that fits a stack buffer is made
 * there in one go (a big file's warnings are many), a longer one on the
 * heap. */
__attribute__((format(printf, 4, 0))) static char *format_at(const char *file, int line, int col,
                                                             const char *fmt, va_list ap)
{
    char buf[512];
    int n = 0;
    if (file && line > 0 && col > 0)
        n = snprintf(buf, sizeof buf, "%s:%d:%d: ", file, line, col);
    else if (file && line > 0)
        n = snprintf(buf, sizeof buf, "%s:%d: ", file, line);
    else if (file)
        n = snprintf(buf, sizeof buf, "%s: ", file);
    if (n >= 0 && (size_t)n < sizeof buf) {
        va_list aq;
        va_copy(aq, ap);
        int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, aq);
        va_end(aq);
        if (m >= 0 && (size_t)n + (size_t)m < sizeof buf)
            return xmemdup(buf, (size_t)n + (size_t)m + 1);
    }
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    if (!file)
        return TAKE_PTR(msg);
    if (line > 0 && col > 0)
        return xasprintf("%s:%d:%d: %s", file, line, col, msg);
    if (line > 0)
        return xasprintf("%s:%d: %s", file, line, msg);
    return xasprintf("%s: %s", file, msg);
}

static void add_error(struct diag *d, char *msg)
{
    d->n_errors++;
    if (d->n_errors > DIAG_MAX_ERRORS) {
        free(msg);
        return;
    }
    strv_push(&d->errors, msg);
}

void diag_error(struct diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    add_error(d, msg);
}

void diag_error_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = format_at(file, line, col, fmt, ap);
    va_end(ap);
    add_error(d, msg);
}

static void emit_warning(struct diag *d, const char *msg)
{
    d->n_warnings++;
    if (d->warn)
        d->warn(d->warn_userdata, msg);
    else
        log_warn("%s", msg);
}

void diag_warn(struct diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    emit_warning(d, msg);
}

void diag_warn_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = format_at(file, line, col, fmt, ap);
    va_end(ap);
    emit_warning(d, msg);
}

void diag_unsupported_at(struct diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    if (d->quiet_unsupported)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = format_at(file, line, col, fmt, ap);
    va_end(ap);
    emit_warning(d, msg);
}

int diag_to_berr(struct diag *d, struct berr *e)
{
    if (d->n_errors == 0)
        return 0;
    size_t len = 0, n = strv_len(d->errors);
    for (size_t i = 0; i < n; i++)
        len += strlen(d->errors[i]) + 1;
    _cleanup_free_ char *extra = NULL;
    if (d->n_errors > n) {
        extra = xasprintf("... and %zu more errors", d->n_errors - n);
        len += strlen(extra) + 1;
    }
    char *msg = xmalloc(len + 1), *p = msg;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%s", i ? "\n" : "", d->errors[i]);
    if (extra)
        p += sprintf(p, "\n%s", extra);
    *p = '\0';
    int r = berr_set(e, -EINVAL, "%s", msg);
    free(msg);
    diag_free(d);
    return r;
}

void diag_free(struct diag *d)
{
    strv_free(d->errors);
    d->errors = NULL;
    d->n_errors = 0;
}

const char *diag_quote(char *buf, const char *s, size_t len)
{
    char *p = buf;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* Cut at a character boundary, never inside a UTF-8 sequence. */
        if (i >= DIAG_QUOTE_MAX && (c & 0xC0) != 0x80) {
            p += sprintf(p, "...");
            break;
        }
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\n') {
            p += sprintf(p, "\\n");
        } else if (c == '\t') {
            p += sprintf(p, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            p += sprintf(p, "\\x%02x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = '\0';
    return buf;
}
