/* SPDX-License-Identifier: Apache-2.0 */
/* The build's progress as events (EV_BUILD "step", see build_env.sink in
 * build.h), in the order docker's plain progress shows them: a step's
 * title, RUN's output lines, then CACHED, DONE or ERROR. cmd/ui renders
 * them ("#3 [2/5] RUN make", "#3 0.120 ...", "#3 DONE 0.3s"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/builder_int.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static void emit(struct bstep *s, const char *status, const char *detail, int64_t current)
{
    char id[16];
    snprintf(id, sizeof id, "%u", s->id);
    struct ev ev = {
        .type = EV_BUILD,
        .action = "step",
        .id = id,
        .service = s->b->o->name,
        .name = s->b->o->name,
        .status = status,
        .detail = detail,
        .current = current,
    };
    pthread_mutex_lock(&s->b->lock);
    ev_emit(&s->b->env->sink, &ev);
    pthread_mutex_unlock(&s->b->lock);
}

static int64_t since_ms(const struct bstep *s)
{
    return (time_now_ns() - s->t0_ns) / 1000000;
}

void prog_begin(struct builder *b, struct bstep *s, const char *fmt, ...)
{
    memset(s, 0, sizeof *s);
    s->b = b;
    s->id = __atomic_add_fetch(&b->next_id, 1, __ATOMIC_RELAXED);
    s->t0_ns = time_now_ns();
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s->title, fmt, ap) < 0)
        s->title = NULL;
    va_end(ap);
    emit(s, "Started", s->title ? s->title : "", 0);
}

void prog_line(struct bstep *s, const char *line, size_t len)
{
    unsigned cap = sizeof s->tail / sizeof s->tail[0];
    unsigned slot = s->tail_next % cap;
    free(s->tail[slot]);
    s->tail[slot] = xstrndup(line, len);
    s->tail_next++;
    if (s->n_tail < cap)
        s->n_tail++;
    emit(s, "Output", s->tail[slot], since_ms(s));
}

void prog_note(struct bstep *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    va_end(ap);
    emit(s, "Note", m ? m : "", 0);
    free(m);
}

void prog_cached(struct bstep *s)
{
    emit(s, "CACHED", NULL, 0);
}

void prog_done(struct bstep *s)
{
    emit(s, "DONE", NULL, since_ms(s));
}

void prog_error(struct bstep *s, const char *msg)
{
    emit(s, "ERROR", msg, since_ms(s));
    if (s->n_tail == 0)
        return;
    struct strbuf sb = {0};
    char *head = xasprintf("------\n > %s:\n", s->title ? s->title : "");
    strbuf_put(&sb, head, strlen(head));
    free(head);
    unsigned cap = sizeof s->tail / sizeof s->tail[0];
    for (unsigned k = 0; k < s->n_tail; k++) {
        const char *l = s->tail[(s->tail_next - s->n_tail + k) % cap];
        strbuf_put(&sb, l, strlen(l));
        strbuf_put(&sb, "\n", 1);
    }
    strbuf_put(&sb, "------", 6);
    emit(s, "Tail", sb.s, 0);
    free(sb.s);
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
