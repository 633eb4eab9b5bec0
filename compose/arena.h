/* A bump allocator for one compose load: the YAML node trees of every file
 * and the merged tree live here and are released together, so shared (aliased
 * or merged) nodes need no reference counts. */
#ifndef BERTH_COMPOSE_ARENA_H
#define BERTH_COMPOSE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t bytes; /* total handed out, for tests and limits */
};

#define ARENA_INIT                                                                                 \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

/* Zeroed memory aligned for any type; aborts on out-of-memory (xalloc). */
void *arena_alloc(struct arena *a, size_t n);
void *arena_allocarray(struct arena *a, size_t nmemb, size_t size);
/* Copies n bytes and appends a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);

static inline void cleanup_arenap(struct arena *a)
{
    arena_free(a);
}
#define _cleanup_arena_ __attribute__((cleanup(cleanup_arenap)))

#endif
