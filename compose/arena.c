#include "compose/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/xalloc.h"

/* Small requests share chunks that grow with the arena, from 64 KiB to
 * 8 MiB, so a big project takes few chunks and the slack stays within half
 * of what is used; a large request gets a chunk of its own. Chunks of 256 KiB
 * and more are whole 2 MiB pages, which the kernel may back with huge pages:
 * a big project's trees then cost a few page faults instead of thousands. */
#define CHUNK_MIN (64u * 1024u)
#define CHUNK_MAX (8u * 1024u * 1024u)
#define HUGE_PAGE (2u * 1024u * 1024u)
#define ALIGN     (alignof(max_align_t))

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/* A chunk for at least cap bytes; its cap may come out larger. */
static struct arena_chunk *new_chunk(size_t cap)
{
    struct arena_chunk *c;
    if (cap >= HUGE_PAGE / 8 && cap <= CHUNK_MAX) {
        size_t size = (sizeof *c + cap + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        c = aligned_alloc(HUGE_PAGE, size);
        if (!c) {
            fputs("berth: out of memory\n", stderr);
            abort();
        }
        madvise(c, size, MADV_HUGEPAGE); /* advice only: no huge pages is fine */
        cap = size - sizeof *c;
    } else {
        c = xmalloc(sizeof *c + cap);
    }
    c->used = 0;
    c->cap = cap;
    return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) {
        fputs("berth: out of memory\n", stderr);
        abort();
    }
    n = round_up(n ? n : 1);
    struct arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t grow = a->bytes < CHUNK_MIN   ? CHUNK_MIN
                      : a->bytes > CHUNK_MAX ? CHUNK_MAX
                                             : a->bytes;
        bool own = n > grow / 4;
        c = new_chunk(own ? n : grow);
        if (own && a->head) {
            /* Keep the partly used chunk at the head for later small
             * requests; the big one goes behind it. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    a->bytes += n;
    memset(p, 0, n);
    return p;
}

void *arena_allocarray(struct arena *a, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / 2 / size) {
        fputs("berth: out of memory\n", stderr);
        abort();
    }
    return arena_alloc(a, nmemb * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->bytes = 0;
}
