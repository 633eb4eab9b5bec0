/* SPDX-License-Identifier: Apache-2.0 */
/* The renderer of the engine's events (engine/events/event.h) for a
 * person or a program: docker compose's --progress modes. It is the sink
 * the commands hand the engine, and the one place the progress lines,
 * "Attaching to", the "exited with code" lines and the containers' output
 * lines are written. Not here: what the engine emits, the tables and JSON
 * of ps, ls, images (cmd/ui/format.h).
 *
 *   plain  " Container proj-web-1  Started" lines on stderr; output lines
 *          ("web-1  | ...", coloured prefixes with colour) on stdout;
 *   tty    docker compose's block of " ✔ Container proj-web-1  Started
 *          0.3s" lines, rewritten in place (cursor up) as events come,
 *          a spinner while pending, a bar for a layer's progress; output
 *          lines below it;
 *   json   one JSON object per line on stdout: each event as ev_to_json
 *          gives it, each output line as {"type":"log","service",
 *          "name","log_name","stream":"stdout"|"stderr","line"};
 *   quiet  no progress: output lines, exit lines and errors only.
 *
 * Ownership: the renderer writes to the FILEs it was given and owns
 * nothing else; events are read during the sink call only. */
#ifndef BERTH_CMD_UI_RENDER_H
#define BERTH_CMD_UI_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/events/event.h"

enum ui_progress {
    UI_PROGRESS_AUTO, /* tty when stderr is a terminal (and --ansi allows), else plain */
    UI_PROGRESS_TTY,
    UI_PROGRESS_PLAIN,
    UI_PROGRESS_JSON,
    UI_PROGRESS_QUIET,
};

enum ui_ansi {
    UI_ANSI_AUTO, /* colours when stdout is a terminal and NO_COLOR is unset */
    UI_ANSI_NEVER,
    UI_ANSI_ALWAYS,
};

/* The --progress and --ansi words ("auto tty plain json quiet", "never
 * always auto"); -1 for another word. */
int ui_progress_parse(const char *s, enum ui_progress *out);
int ui_ansi_parse(const char *s, enum ui_ansi *out);

/* The mode to render in: auto resolved by whether stderr is a terminal;
 * tty needs the cursor movement --ansi never forbids (then plain). */
enum ui_progress ui_progress_resolve(enum ui_progress p, enum ui_ansi a, bool stderr_tty);
/* Whether to colour: always, never, or (auto) when stdout is a terminal
 * and NO_COLOR (no_color, may be NULL) is unset or empty. */
bool ui_color_resolve(enum ui_ansi a, bool stdout_tty, const char *no_color);

struct ui_render_opts {
    enum ui_progress mode; /* resolved: not UI_PROGRESS_AUTO */
    bool color;
    FILE *out; /* output lines, exit lines, "Attaching to", JSON: stdout */
    FILE *err; /* progress lines and errors: stderr */
};

struct ui_render;

struct ui_render *ui_render_new(const struct ui_render_opts *o);
void ui_render_free(struct ui_render *r);

/* The sink that renders into r (valid while r lives); r NULL: a sink that
 * drops everything (so do the helpers below). */
struct ev_sink ui_render_sink(struct ui_render *r);

/* Colours on or off from now on (`up --no-color`). */
void ui_render_set_color(struct ui_render *r, bool on);

/* The attached view of `up` that supervises its containers itself: from
 * now on only stops and errors are progress lines (the logs speak for the
 * rest), without their detail, as docker compose shows them. */
void ui_render_logs_view(struct ui_render *r, bool on);

/* A progress event of the command itself (" Container proj-web-1
 * Created", " Volume \"proj_data\"  Created"): rendered as the engine's. */
void ui_progress(struct ui_render *r, enum ev_type type, const char *action, const char *name,
                 const char *status);

/* The same for a container the command creates, with docker's event
 * fields: its id, service and image (attribute). */
void ui_progress_ctr(struct ui_render *r, const char *action, const char *id, const char *service,
                     const char *name, const char *image, const char *status);

/* A project's notice of the command itself ("attach" with the names,
 * "stopping" with reason "signal" or "abort", "error"), as the engine's. */
void ui_notice(struct ui_render *r, const char *action, const char *detail, const char *reason);
/* A container found exited (die, exitCode code), shown under log_name. */
void ui_exited(struct ui_render *r, const char *name, const char *log_name, int code);

/* A supervisor's message on the control socket or the detached start's
 * pipe (engine/supervise/control.h): its progress events rendered into ud
 * (a struct ui_render *); other messages ignored. A ctl_request callback. */
void ui_render_progress_json(json_t *msg, void *ud);

#endif
