/* SPDX-License-Identifier: Apache-2.0 */
/* The event renderer (cmd/ui/render.h): the plain, tty, json and quiet
 * views of the engine's events and the containers' output lines. Not
 * here: deciding the mode from the flags and the terminal (the helpers at
 * the top only map words), anything the engine does. */
#include "cmd/ui/render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

static const char *const log_colors[] = {"36", "33", "32", "35", "34",
                                         "96", "93", "92", "95", "94"};
static const char *const spinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

int ui_progress_parse(const char *s, enum ui_progress *out)
{
    static const char *const words[] = {
        [UI_PROGRESS_AUTO] = "auto", [UI_PROGRESS_TTY] = "tty",     [UI_PROGRESS_PLAIN] = "plain",
        [UI_PROGRESS_JSON] = "json", [UI_PROGRESS_QUIET] = "quiet",
    };
    for (size_t i = 0; i < ARRAY_SIZE(words); i++)
        if (strcmp(s, words[i]) == 0) {
            *out = (enum ui_progress)i;
            return 0;
        }
    return -1;
}

int ui_ansi_parse(const char *s, enum ui_ansi *out)
{
    static const char *const words[] = {
        [UI_ANSI_AUTO] = "auto", [UI_ANSI_NEVER] = "never", [UI_ANSI_ALWAYS] = "always"};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++)
        if (strcmp(s, words[i]) == 0) {
            *out = (enum ui_ansi)i;
            return 0;
        }
    return -1;
}

enum ui_progress ui_progress_resolve(enum ui_progress p, enum ui_ansi a, bool stderr_tty)
{
    if (p == UI_PROGRESS_AUTO)
        p = stderr_tty ? UI_PROGRESS_TTY : UI_PROGRESS_PLAIN;
    if (p == UI_PROGRESS_TTY && a == UI_ANSI_NEVER)
        p = UI_PROGRESS_PLAIN;
    return p;
}

bool ui_color_resolve(enum ui_ansi a, bool stdout_tty, const char *no_color)
{
    if (a != UI_ANSI_AUTO)
        return a == UI_ANSI_ALWAYS;
    return stdout_tty && !(no_color && *no_color);
}

/* One line of the TTY view's block: an object and where it stands. */
struct tline {
    enum ev_type type;
    char *name;
    char *status;
    int64_t t0, t1; /* first event; the one that finished it (0: pending) */
    int64_t current, total;
    bool error;
};

struct ui_render {
    struct ui_render_opts o;
    bool logs_view;
    struct tline *lines; /* the block being drawn (tty) */
    size_t n;
    size_t drawn; /* lines of it on the screen, above the cursor */
    int64_t now;  /* the latest event's time: pending lines count to it */
    unsigned frame;
};

struct ui_render *ui_render_new(const struct ui_render_opts *o)
{
    struct ui_render *r = xcalloc(1, sizeof *r);
    r->o = *o;
    return r;
}

static void block_reset(struct ui_render *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->lines[i].name);
        free(r->lines[i].status);
    }
    free(r->lines);
    r->lines = NULL;
    r->n = r->drawn = 0;
}

void ui_render_free(struct ui_render *r)
{
    if (!r)
        return;
    block_reset(r);
    free(r);
}

void ui_render_set_color(struct ui_render *r, bool on)
{
    r->o.color = on;
}

void ui_render_logs_view(struct ui_render *r, bool on)
{
    r->logs_view = on;
}

/* "Container", "Image", ...: the word the progress lines start with. */
static const char *kind_word(enum ev_type t)
{
    switch (t) {
    case EV_CONTAINER:
        return "Container";
    case EV_IMAGE:
        return "Image";
    case EV_NETWORK:
        return "Network";
    case EV_VOLUME:
        return "Volume";
    case EV_BUILD:
        return "Build";
    case EV_SERVICE:
        return "Service";
    default:
        return "Project";
    }
}

static bool is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* In the attached view the logs speak for starts and health. */
static bool quiet_in_logs_view(const char *status)
{
    return is(status, "Starting") || is(status, "Started") || is(status, "Waiting") ||
           is(status, "Healthy") || is(status, "Error");
}

/* ---- lines every view but json shares ---------------------------------- */

static const char *display_name(const struct ev *e)
{
    const char *n = ev_attr_get(e, "logName");
    return n ? n : e->name ? e->name : "";
}

static void write_exit(struct ui_render *r, const struct ev *e)
{
    const char *code = ev_attr_get(e, "exitCode");
    if (is(ev_attr_get(e, "oomKilled"), "true"))
        fprintf(r->o.out,
                "%s exited with code %s (OOM killed: the container reached its memory limit)\n",
                display_name(e), code ? code : "0");
    else
        fprintf(r->o.out, "%s exited with code %s\n", display_name(e), code ? code : "0");
    fflush(r->o.out);
}

static void write_log_line(struct ui_render *r, const struct ev_log *l)
{
    if (r->o.color)
        fprintf(r->o.out, "\033[%sm%-*s  |\033[0m %.*s\n",
                log_colors[(size_t)l->index % ARRAY_SIZE(log_colors)], l->width, l->log_name,
                (int)l->len, l->data);
    else
        fprintf(r->o.out, "%-*s  | %.*s\n", l->width, l->log_name, (int)l->len, l->data);
    fflush(r->o.out);
}

/* A project's notice, as text. */
static void write_project(struct ui_render *r, const struct ev *e)
{
    if (is(e->action, "attach")) {
        fprintf(r->o.out, "Attaching to %s\n", e->detail ? e->detail : "");
        fflush(r->o.out);
    } else if (is(e->action, "stopping") && is(ev_attr_get(e, "reason"), "abort")) {
        fprintf(r->o.out, "Aborting on container exit...\n");
        fflush(r->o.out);
    } else if (is(e->action, "stopping")) {
        fprintf(r->o.err, "Gracefully stopping... (press Ctrl+C again to force)\n");
    } else if (is(e->action, "error")) {
        fprintf(r->o.err, "berth: %s\n", e->detail ? e->detail : "error");
    }
}

static struct tline *tty_line(struct ui_render *r, const struct ev *e);

/* ---- plain -------------------------------------------------------------- */

static void plain_event(struct ui_render *r, const struct ev *e)
{
    if (e->type == EV_PROJECT) {
        write_project(r, e);
        return;
    }
    if (e->type == EV_CONTAINER && is(e->action, "die")) {
        write_exit(r, e);
        return;
    }
    /* the error itself comes as the command's (or the project's) error */
    if (!e->status || is(e->status, "Error"))
        return;
    /* a layer's progress: a line when its status changes, not per chunk */
    if (e->type == EV_IMAGE && is(e->action, "layer")) {
        struct tline *l = tty_line(r, e);
        if (is(l->status, e->status))
            return;
        free(l->status);
        l->status = xstrdup(e->status);
    }
    /* docker compose quotes a volume's name where it creates one */
    bool quote = e->type == EV_VOLUME && is(e->action, "create");
    const char *q = quote ? "\"" : "";
    if (r->logs_view) {
        if (!quiet_in_logs_view(e->status))
            fprintf(r->o.err, " %s %s%s%s  %s\n", kind_word(e->type), q, e->name ? e->name : "", q,
                    e->status);
        return;
    }
    fprintf(r->o.err, " %s %s%s%s  %s%s%s\n", kind_word(e->type), q, e->name ? e->name : "", q,
            e->status, e->detail ? ": " : "", e->detail ? e->detail : "");
}

/* ---- tty ---------------------------------------------------------------- */

static bool status_pending(const char *s)
{
    size_t n = strlen(s);
    return (n > 3 && strcmp(s + n - 3, "ing") == 0 && strcmp(s, "Running") != 0) ||
           strcmp(s, "Recreate") == 0;
}

static bool status_error(const char *s)
{
    return strcmp(s, "Error") == 0 || strcmp(s, "Unhealthy") == 0;
}

/* 1234567 -> "1.23MB", as docker's progress shows sizes. */
static void short_size(int64_t v, char *buf, size_t n)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double d = (double)v;
    size_t u = 0;
    while (d >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        d /= 1000;
        u++;
    }
    if (u == 0) /* 0 <= v < 1000: as such, the compiler can bound it */
        snprintf(buf, n, "%uB", v > 0 ? (unsigned)(v % 1000) : 0u);
    else
        snprintf(buf, n, "%.3g%s", d, units[u]);
}

static void tty_draw_line(struct ui_render *r, const struct tline *l, int label_w, int status_w)
{
    FILE *f = r->o.err;
    const char *mark, *color;
    if (l->error) {
        mark = "✘";
        color = "31";
    } else if (l->t1) {
        mark = "✔";
        color = "32";
    } else {
        mark = spinner[r->frame % ARRAY_SIZE(spinner)];
        color = "34";
    }
    int64_t end = l->t1 ? l->t1 : r->now;
    double secs = end > l->t0 ? (double)(end - l->t0) / 1e9 : 0;
    _cleanup_free_ char *label = xasprintf("%s %s", kind_word(l->type), l->name);
    fputs("\r\033[2K ", f);
    if (r->o.color)
        fprintf(f, "\033[%sm%s\033[0m", color, mark);
    else
        fputs(mark, f);
    fprintf(f, " %-*s  %-*s", label_w, label, status_w, l->status);
    if (l->total > 0 && !l->t1) {
        enum { BAR = 20 };
        int64_t cur = l->current < 0 ? 0 : l->current > l->total ? l->total : l->current;
        int fill = (int)(cur * BAR / l->total);
        char a[16], b[16];
        short_size(cur, a, sizeof a);
        short_size(l->total, b, sizeof b);
        fputs(" [", f);
        for (int i = 0; i < BAR; i++)
            fputc(i < fill ? '=' : i == fill ? '>' : ' ', f);
        fprintf(f, "] %s/%s", a, b);
    }
    fprintf(f, " %5.1fs\n", secs);
}

/* Rewrites the block in place: up to its first line, then every line. */
static void tty_draw(struct ui_render *r)
{
    int label_w = 0, status_w = 0;
    for (size_t i = 0; i < r->n; i++) {
        int lw = (int)(strlen(kind_word(r->lines[i].type)) + 1 + strlen(r->lines[i].name));
        int sw = (int)strlen(r->lines[i].status);
        label_w = lw > label_w ? lw : label_w;
        status_w = sw > status_w ? sw : status_w;
    }
    if (r->drawn)
        fprintf(r->o.err, "\033[%zuA", r->drawn);
    for (size_t i = 0; i < r->n; i++)
        tty_draw_line(r, &r->lines[i], label_w, status_w);
    r->drawn = r->n;
    r->frame++;
    fflush(r->o.err);
}

static struct tline *tty_line(struct ui_render *r, const struct ev *e)
{
    const char *name = e->name ? e->name : e->id ? e->id : "";
    for (size_t i = 0; i < r->n; i++)
        if (r->lines[i].type == e->type && strcmp(r->lines[i].name, name) == 0)
            return &r->lines[i];
    r->lines = xreallocarray(r->lines, r->n + 1, sizeof *r->lines);
    struct tline *l = &r->lines[r->n++];
    memset(l, 0, sizeof *l);
    l->type = e->type;
    l->name = xstrdup(name);
    l->t0 = e->time_ns;
    return l;
}

/* What is printed below the block ends it: the next event starts another. */
static void tty_below(struct ui_render *r)
{
    block_reset(r);
}

static void tty_event(struct ui_render *r, const struct ev *e)
{
    if (e->time_ns > r->now)
        r->now = e->time_ns;
    if (e->type == EV_PROJECT) {
        tty_below(r);
        write_project(r, e);
        return;
    }
    if (e->type == EV_CONTAINER && is(e->action, "die")) {
        tty_below(r);
        write_exit(r, e);
        return;
    }
    if (!e->status || (r->logs_view && quiet_in_logs_view(e->status) && !is(e->status, "Error")))
        return;
    struct tline *l = tty_line(r, e);
    free(l->status);
    l->status = xstrdup(e->status);
    l->current = e->current;
    l->total = e->total;
    l->error = status_error(e->status);
    l->t1 = status_pending(e->status) && !l->error ? 0 : e->time_ns ? e->time_ns : 1;
    tty_draw(r);
}

/* ---- json --------------------------------------------------------------- */

static void json_line(struct ui_render *r, json_t *j)
{
    _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT);
    if (txt)
        fprintf(r->o.out, "%s\n", txt);
    fflush(r->o.out);
}

/* A string for JSON: jansson refuses bytes that are not UTF-8, which a
 * container may well print; those become '?'. */
static json_t *lossy_string(const char *data, size_t len)
{
    json_t *s = json_stringn(data, len);
    if (s)
        return s;
    _cleanup_free_ char *copy = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)data[i] < 0x80 && data[i] != '\0' ? data[i] : '?';
    return json_stringn(copy, len);
}

static void json_event(struct ui_render *r, const struct ev *e)
{
    json_t *j = ev_to_json(e);
    json_line(r, j);
    json_decref(j);
}

static void json_log(struct ui_render *r, const struct ev_log *l)
{
    json_t *j =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s}", "type", "log", "service", l->service, "name",
                  l->name, "log_name", l->log_name, "stream", l->stream == 2 ? "stderr" : "stdout");
    json_object_set_new(j, "line", lossy_string(l->data, l->len));
    json_line(r, j);
    json_decref(j);
}

/* ---- the sink ----------------------------------------------------------- */

/* A build step's event as docker's plain build progress writes it: "#3
 * [2/5] RUN make", "#3 0.120 output", "#3 DONE 0.3s"; a failed step's last
 * output lines even when quiet. */
static void build_step(struct ui_render *r, const struct ev *e)
{
    FILE *f = r->o.err;
    const char *id = e->id ? e->id : "?", *d = e->detail ? e->detail : "";
    if (is(e->status, "Tail")) {
        fprintf(f, "%s\n", d);
    } else if (r->o.mode == UI_PROGRESS_QUIET) {
        return;
    } else if (is(e->status, "Output")) {
        fprintf(f, "#%s %.3f %s\n", id, (double)e->current / 1000, d);
    } else if (is(e->status, "CACHED")) {
        fprintf(f, "#%s CACHED\n\n", id);
    } else if (is(e->status, "DONE")) {
        fprintf(f, "#%s DONE %.1fs\n\n", id, (double)e->current / 1000);
    } else if (is(e->status, "ERROR")) {
        fprintf(f, "#%s ERROR: %s\n\n", id, d);
    } else {
        fprintf(f, "#%s %s\n", id, d);
    }
    fflush(f);
}

static void on_event(void *ud, const struct ev *e)
{
    struct ui_render *r = ud;
    if (e->type == EV_BUILD && is(e->action, "step") && r->o.mode != UI_PROGRESS_JSON) {
        if (r->o.mode == UI_PROGRESS_TTY)
            tty_below(r);
        build_step(r, e);
        return;
    }
    if (is(e->action, "warning") && r->o.mode != UI_PROGRESS_JSON) {
        /* in every text mode, quiet too: as the engine printed them */
        if (r->o.mode == UI_PROGRESS_TTY)
            tty_below(r);
        fprintf(r->o.err, "berth: warning: %s\n", e->detail ? e->detail : "");
        fflush(r->o.err);
        return;
    }
    switch (r->o.mode) {
    case UI_PROGRESS_JSON:
        json_event(r, e);
        break;
    case UI_PROGRESS_TTY:
        tty_event(r, e);
        break;
    case UI_PROGRESS_QUIET:
        if (e->type == EV_CONTAINER && is(e->action, "die"))
            write_exit(r, e);
        else if (e->type == EV_PROJECT && is(e->action, "error"))
            write_project(r, e);
        break;
    default:
        plain_event(r, e);
        break;
    }
}

static void on_log(void *ud, const struct ev_log *l)
{
    struct ui_render *r = ud;
    if (r->o.mode == UI_PROGRESS_JSON) {
        json_log(r, l);
        return;
    }
    if (r->o.mode == UI_PROGRESS_TTY)
        tty_below(r);
    write_log_line(r, l);
}

struct ev_sink ui_render_sink(struct ui_render *r)
{
    if (!r)
        return (struct ev_sink){0}; /* renders nothing */
    return (struct ev_sink){.event = on_event, .log = on_log, .ud = r};
}

void ui_progress(struct ui_render *r, enum ev_type type, const char *action, const char *name,
                 const char *status)
{
    struct ev e = {.type = type, .action = action, .id = name, .name = name, .status = status};
    ev_attr_add(&e, "name", name);
    struct ev_sink s = ui_render_sink(r);
    ev_emit(&s, &e);
}

void ui_progress_ctr(struct ui_render *r, const char *action, const char *id, const char *service,
                     const char *name, const char *image, const char *status)
{
    struct ev e = {.type = EV_CONTAINER,
                   .action = action,
                   .id = id,
                   .service = service,
                   .name = name,
                   .status = status};
    ev_attr_add(&e, "name", name);
    ev_attr_add(&e, "image", image);
    struct ev_sink s = ui_render_sink(r);
    ev_emit(&s, &e);
}

void ui_notice(struct ui_render *r, const char *action, const char *detail, const char *reason)
{
    struct ev e = {.type = EV_PROJECT, .action = action, .detail = detail};
    ev_attr_add(&e, "reason", reason);
    struct ev_sink s = ui_render_sink(r);
    ev_emit(&s, &e);
}

void ui_exited(struct ui_render *r, const char *name, const char *log_name, int code)
{
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    struct ev e = {.type = EV_CONTAINER, .action = "die", .id = name, .name = name};
    ev_attr_add(&e, "name", name);
    ev_attr_add(&e, "exitCode", num);
    ev_attr_add(&e, "logName", log_name);
    struct ev_sink s = ui_render_sink(r);
    ev_emit(&s, &e);
}

void ui_render_progress_json(json_t *msg, void *ud)
{
    struct ui_render *r = ud;
    const char *kind = json_string_value(json_object_get(msg, "event"));
    if (!r || !kind || strcmp(kind, "progress") != 0)
        return;
    struct ev e;
    if (ev_from_json(msg, &e) < 0) {
        /* a supervisor of an older berth: progress without an event */
        memset(&e, 0, sizeof e);
        e.type = EV_CONTAINER;
        e.action = "";
        e.name = json_string_value(json_object_get(msg, "name"));
        e.status = json_string_value(json_object_get(msg, "status"));
        e.detail = json_string_value(json_object_get(msg, "detail"));
        if (!e.name || !e.status)
            return;
    }
    struct ev_sink s = ui_render_sink(r);
    ev_emit(&s, &e);
}
