/* SPDX-License-Identifier: Apache-2.0 */
/* The build's output as docker's plain progress writes it: "#N title",
 * RUN's output lines as "#N 0.123 line", then "#N CACHED", "#N DONE 0.3s"
 * or "#N ERROR: why", and a blank line. Nothing when quiet. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/build/builder_int.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static bool quiet(const struct builder *b)
{
    return b->o->quiet || b->o->out_fd < 0;
}

static void out(const struct builder *b, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(b->o->out_fd, s, n);
        if (w <= 0)
            return; /* progress is best effort */
        s += w;
        n -= (size_t)w;
    }
}

static void outf(const struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(const struct builder *b, const char *fmt, ...)
{
    if (quiet(b))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n > 0)
        out(b, s, (size_t)n);
    free(s);
}

void prog_begin(struct builder *b, struct bstep *s, const char *fmt, ...)
{
    memset(s, 0, sizeof *s);
    s->b = b;
    s->id = ++b->next_id;
    s->t0_ns = time_now_ns();
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s->title, fmt, ap) < 0)
        s->title = NULL;
    va_end(ap);
    outf(b, "#%u %s\n", s->id, s->title ? s->title : "");
}

static double since(const struct bstep *s)
{
    return (double)(time_now_ns() - s->t0_ns) / 1e9;
}

void prog_line(struct bstep *s, const char *line, size_t len)
{
    unsigned slot = s->tail_next % (sizeof s->tail / sizeof s->tail[0]);
    free(s->tail[slot]);
    s->tail[slot] = xstrndup(line, len);
    s->tail_next++;
    if (s->n_tail < sizeof s->tail / sizeof s->tail[0])
        s->n_tail++;
    outf(s->b, "#%u %.3f %.*s\n", s->id, since(s), (int)len, line);
}

void prog_note(struct bstep *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    outf(s->b, "#%u %s\n", s->id, m ? m : "");
    free(m);
}

void prog_cached(struct bstep *s)
{
    outf(s->b, "#%u CACHED\n\n", s->id);
}

void prog_done(struct bstep *s)
{
    outf(s->b, "#%u DONE %.1fs\n\n", s->id, since(s));
}

void prog_error(struct bstep *s, const char *msg)
{
    outf(s->b, "#%u ERROR: %s\n", s->id, msg);
    /* The last lines of output, even when quiet: the error is about them. */
    if (s->n_tail > 0 && s->b->o->out_fd >= 0) {
        char *head = xasprintf("------\n > %s:\n", s->title ? s->title : "");
        out(s->b, head, strlen(head));
        free(head);
        unsigned cap = sizeof s->tail / sizeof s->tail[0];
        for (unsigned k = 0; k < s->n_tail; k++) {
            const char *l = s->tail[(s->tail_next - s->n_tail + k) % cap];
            out(s->b, l, strlen(l));
            out(s->b, "\n", 1);
        }
        out(s->b, "------\n", 7);
    }
    outf(s->b, "\n");
}

void prog_end(struct bstep *s)
{
    for (unsigned k = 0; k < sizeof s->tail / sizeof s->tail[0]; k++)
        free(s->tail[k]);
    free(s->title);
    memset(s, 0, sizeof *s);
}

char *prog_stage_title(const struct bstage *st)
{
    if (st->label)
        return xasprintf("[%s %d/%d]", st->label, st->step, st->n_steps);
    return xasprintf("[%d/%d]", st->step, st->n_steps);
}
