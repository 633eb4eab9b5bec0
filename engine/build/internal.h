/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the build module's own files (not a door: other modules
 * use engine/build/build.h). */
#ifndef BERTH_BUILD_INTERNAL_H
#define BERTH_BUILD_INTERNAL_H

#include "engine/build/build.h"
#include "util/xalloc.h"

/* Room for element n of an array that only ever grows by appending from
 * n = 0 (its capacity the next power of two), so n appends cost O(n). */
static inline void *df_grow(void *p, size_t n, size_t size)
{
    if (n == 0 || (n & (n - 1)) == 0)
        return xreallocarray(p, n ? 2 * n : 1, size);
    return p;
}

/* Appends s to the NULL-terminated *v of *n entries (O(1) amortised;
 * strv_push counts the entries each time). */
static inline void df_words_push(char ***v, size_t *n, char *s)
{
    *v = df_grow(*v, *n + 1, sizeof(char *));
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

/* A deep copy of in (the walk hands out expanded copies). */
struct df_instr *df_instr_dup(const struct df_instr *in);
/* Releases what in holds, not in itself. */
void df_instr_clear(struct df_instr *in);
/* Parses one --mount value into m (cleared first on failure too). */
int df_mount_parse(const char *spec, struct df_mount *m, struct berr *e);
void df_mount_clear(struct df_mount *m);
/* Checks an EXPOSE word ("80", "80/udp", "8000-8010/tcp"). */
int df_check_port(const char *s, struct berr *e);

#endif
