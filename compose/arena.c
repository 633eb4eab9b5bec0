/* SPDX-License-Identifier: Apache-2.0 */
/* The bump allocator's slow path (a new chunk) and its release; the fast path
 * is inline in arena.h. One arena per compose load, freed whole. Not here: the
 * node types that live in it (compose/yaml.h). */
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

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

static void out_of_memory(void)
{
    fputs("berth: out of memory\n", stderr);
    abort();
}

/* A chunk for at least cap bytes; its cap may come out larger. */
static struct arena_chunk *new_chunk(size_t cap)
{
    struct arena_chunk *c;
    if (cap >= HUGE_PAGE / 8 && cap <= CHUNK_MAX) {
        size_t size = (sizeof *c + cap + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        c = aligned_alloc(HUGE_PAGE, size);
        if (!c)
            out_of_memory();
        madvise(c, size, MADV_HUGEPAGE); /* advice only: no huge pages is fine */
        cap = size - sizeof *c;
    } else {
        c = xmalloc(sizeof *c + cap);
    }
    c->cap = cap;
    return c;
}

void *arena_alloc_slow(struct arena *a, size_t n, bool aligned, bool zero)
{
    if (n > SIZE_MAX / 2)
        out_of_memory();
    size_t want = n ? n : 1;
    size_t r = aligned ? round_up(want) : want;
    void *p;
    if ((size_t)(a->end - a->next) < round_up(want)) {
        size_t grow = a->bytes < CHUNK_MIN   ? CHUNK_MIN
                      : a->bytes > CHUNK_MAX ? CHUNK_MAX
                                             : a->bytes;
        bool own = round_up(want) > grow / 4;
        struct arena_chunk *c = new_chunk(own ? round_up(want) : grow);
        if (own && a->head) {
            /* Keep the partly used chunk at the head for later small
             * requests; the big one goes behind it. */
            c->next = a->head->next;
            a->head->next = c;
            a->bytes += r;
            p = c->data;
            if (zero)
                memset(p, 0, n);
            return p;
        }
        c->next = a->head;
        a->head = c;
        a->next = c->data;
        a->end = c->data + c->cap;
    }
    if (aligned) {
        p = a->next;
        a->next += r;
    } else {
        a->end -= r;
        p = a->end;
    }
    a->bytes += r;
    if (zero)
        memset(p, 0, n);
    return p;
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
    a->next = a->end = NULL;
}
