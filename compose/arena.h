/* SPDX-License-Identifier: Apache-2.0 */
/* A bump allocator for one compose load: the YAML node trees of every file
 * and the merged tree live here and are released together, so shared (aliased
 * or merged) nodes need no reference counts.
 *
 * The head chunk's free room lies between next and end: aligned objects are
 * taken from its bottom, strings (unaligned) from its top. The common case is
 * inline; a request that doesn't fit goes to arena_alloc_slow. */
#ifndef BERTH_COMPOSE_ARENA_H
#define BERTH_COMPOSE_ARENA_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t bytes;        /* total handed out, for tests and limits */
    unsigned char *next; /* the head chunk's free room: [next, end) */
    unsigned char *end;
};

#define ARENA_INIT                                                                                 \
    {                                                                                              \
        NULL, 0, NULL, NULL                                                                        \
    }

#define ARENA_ALIGN alignof(max_align_t)
/* Requests up to this size may take the inline path. */
#define ARENA_FAST_MAX 4096u

/* n bytes (aligned unless aligned is false), zeroed when zero is set, from a
 * new chunk when the head has no room; aborts on out-of-memory. */
void *arena_alloc_slow(struct arena *a, size_t n, bool aligned, bool zero);

/* Memory aligned for any type, not initialised. */
static inline void *arena_alloc_uninit(struct arena *a, size_t n)
{
    size_t r = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0 || n > ARENA_FAST_MAX || r > (size_t)(a->end - a->next))
        return arena_alloc_slow(a, n, true, false);
    void *p = a->next;
    a->next += r;
    a->bytes += r;
    return p;
}

/* Zeroed memory aligned for any type; aborts on out-of-memory (xalloc). */
static inline void *arena_alloc(struct arena *a, size_t n)
{
    void *p = arena_alloc_uninit(a, n);
    memset(p, 0, n);
    return p;
}

static inline void *arena_allocarray(struct arena *a, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / 2 / size)
        return arena_alloc_slow(a, SIZE_MAX, true, true); /* aborts */
    return arena_alloc(a, nmemb * size);
}

/* Copies n bytes and appends a NUL (no alignment: strings share the room). */
static inline char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p;
    if (n < ARENA_FAST_MAX && n + 1 <= (size_t)(a->end - a->next)) {
        a->end -= n + 1;
        a->bytes += n + 1;
        p = (char *)a->end;
    } else {
        p = arena_alloc_slow(a, n + 1, false, false);
    }
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static inline char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a);

static inline void cleanup_arenap(struct arena *a)
{
    arena_free(a);
}
#define _cleanup_arena_ __attribute__((cleanup(cleanup_arenap)))

#endif
