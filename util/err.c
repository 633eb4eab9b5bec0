/* SPDX-License-Identifier: Apache-2.0 */
/* The error object's few operations: set a message, add errno's text, wrap
 * with context, move and clear. A NULL berr is accepted everywhere and means
 * the caller ignores the error. Not here: printing errors to the user
 * (util/log.c and the commands in cmd/), compose's file:line:col diagnostics
 * (compose/diag.c). */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static int store(struct berr *e, int code, char *msg)
{
    if (code >= 0)
        code = -EINVAL;
    if (!e) {
        free(msg);
        return code;
    }
    free(e->msg);
    e->code = code;
    e->msg = msg;
    return code;
}

int berr_set(struct berr *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    return store(e, code, msg);
}

int berr_errno(struct berr *e, int errnum, const char *fmt, ...)
{
    if (errnum < 0)
        errnum = -errnum;
    if (errnum == 0)
        errnum = EIO;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = xvasprintf(fmt, ap);
    va_end(ap);
    char *msg = xasprintf("%s: %s", ctx, strerror(errnum));
    free(ctx);
    return store(e, -errnum, msg);
}

int berr_wrap(struct berr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *ctx = xvasprintf(fmt, ap);
    va_end(ap);
    if (!e) {
        free(ctx);
        return -EIO;
    }
    if (!e->msg) {
        e->code = e->code < 0 ? e->code : -EIO;
        e->msg = ctx;
        return e->code;
    }
    char *msg = xasprintf("%s: %s", ctx, e->msg);
    free(ctx);
    free(e->msg);
    e->msg = msg;
    if (e->code >= 0)
        e->code = -EIO;
    return e->code;
}

void berr_clear(struct berr *e)
{
    if (!e)
        return;
    free(e->msg);
    e->msg = NULL;
    e->code = 0;
}

void berr_move(struct berr *dst, struct berr *src)
{
    if (!dst || !src) {
        berr_clear(src);
        return;
    }
    berr_clear(dst);
    dst->code = src->code;
    dst->msg = src->msg;
    src->code = 0;
    src->msg = NULL;
}
