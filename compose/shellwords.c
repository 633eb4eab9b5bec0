/* SPDX-License-Identifier: Apache-2.0 */
/* Splitting the string form of command and entrypoint into words the way
 * go-shellwords does (quotes and backslashes, no expansion). Not here:
 * Docker's entrypoint/command combination rules (engine/plan/plan.c). */
#include "compose/shellwords.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct word {
    char *buf;
    size_t len, cap;
    bool got; /* a word has started, even if empty ("") */
};

static void word_add(struct word *w, char c)
{
    if (w->len + 1 >= w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->buf = xrealloc(w->buf, w->cap);
    }
    w->buf[w->len++] = c;
    w->got = true;
}

static void word_end(struct word *w, struct strvec *argv)
{
    if (!w->got)
        return;
    strvec_push(argv, xstrndup(w->buf ? w->buf : "", w->len));
    w->len = 0;
    w->got = false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int shellwords_split(const char *s, char ***argv_out, long *stop, const char **err)
{
    struct strvec argv = {0};
    struct word w = {0};
    bool esc = false, sq = false, dq = false, bq = false, dollar = false;
    *stop = -1;
    *err = NULL;
    int r = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (esc) {
            word_add(&w, c);
            esc = false;
            continue;
        }
        if (c == '\\' && !sq) {
            esc = true;
            continue;
        }
        if (c == '\\') {
            word_add(&w, c);
            continue;
        }
        if (is_blank(c)) {
            if (sq || dq || bq || dollar)
                word_add(&w, c);
            else
                word_end(&w, &argv);
            continue;
        }
        /* Quotes are recognized inside backquotes too, as go-shellwords
         * does. */
        if (c == '\'' && !dq && !dollar) {
            if (sq)
                w.got = true;
            sq = !sq;
            continue;
        }
        if (c == '"' && !sq && !dollar) {
            if (dq)
                w.got = true;
            dq = !dq;
            continue;
        }
        if (!sq && !dq) {
            if (c == '`' && !dollar) {
                bq = !bq;
            } else if (c == '(' && !bq) {
                if (dollar || w.len == 0 || w.buf[w.len - 1] != '$') {
                    *err = "unexpected \"(\" (quote it)";
                    r = -EINVAL;
                    break;
                }
                dollar = true;
            } else if (c == ')' && !bq) {
                if (!dollar) {
                    *err = "unexpected \")\" (quote it)";
                    r = -EINVAL;
                    break;
                }
                dollar = false;
            } else if (!bq && !dollar && strchr(";&|<>", c)) {
                /* "2>": the redirected descriptor number is not a word. */
                if (c == '>' && w.len > 0 && w.buf[0] >= '0' && w.buf[0] <= '9') {
                    w.len = 0;
                    w.got = false;
                }
                *stop = (long)i;
                break;
            }
        }
        word_add(&w, c);
    }
    if (r == 0) {
        if (esc)
            *err = "trailing backslash", r = -EINVAL;
        else if (sq)
            *err = "unterminated single quote", r = -EINVAL;
        else if (dq)
            *err = "unterminated double quote", r = -EINVAL;
        else if (bq)
            *err = "unterminated backquote", r = -EINVAL;
        else if (dollar)
            *err = "unterminated $(", r = -EINVAL;
    }
    if (r == 0)
        word_end(&w, &argv);
    free(w.buf);
    if (r < 0) {
        strvec_clear(&argv);
        return r;
    }
    *argv_out = strvec_take(&argv);
    return 0;
}
