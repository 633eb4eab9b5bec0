/* SPDX-License-Identifier: Apache-2.0 */
/* Building a NULL-terminated string vector in amortized O(1) per item
 * (util/strv's strv_push recounts the vector each time, which is quadratic
 * for the huge lists a hostile compose file can hold). Its "KEY=VALUE"
 * items are made with str_join (util/strv.h). */
#ifndef BERTH_COMPOSE_STRVEC_H
#define BERTH_COMPOSE_STRVEC_H

#include <stddef.h>
#include <string.h>

#include "util/strv.h"
#include "util/xalloc.h"

struct strvec {
    char **v; /* always NULL-terminated once anything was pushed */
    size_t n, cap;
};

/* Takes ownership of s. */
static inline void strvec_push(struct strvec *sv, char *s)
{
    if (sv->n + 2 > sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xreallocarray(sv->v, sv->cap, sizeof *sv->v);
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

/* The vector (an empty one rather than NULL); sv is left empty. */
static inline char **strvec_take(struct strvec *sv)
{
    char **v = sv->v ? sv->v : xcalloc(1, sizeof(char *));
    *sv = (struct strvec){0};
    return v;
}

static inline void strvec_clear(struct strvec *sv)
{
    strv_free(sv->v);
    *sv = (struct strvec){0};
}

#endif
