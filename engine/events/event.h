/* SPDX-License-Identifier: Apache-2.0 */
/* What happens in the engine, as typed events. The engine (image store,
 * runtime, volumes, supervisor; next the network, pull and build code)
 * never writes to stdout or stderr: it hands each event to the sink its
 * caller gave it, and cmd/ui renders them (docker compose's TTY view,
 * plain lines, or JSON lines with --progress json). The supervisor also
 * keeps a short ring of recent events and streams them over the control
 * socket (`berth events`, `ps`, `up --wait`).
 *
 * Ownership: an event and every string it points to are borrowed for the
 * duration of the sink call; a sink that keeps one copies it (ev_copy).
 * A NULL sink, or a sink without the callback, drops what it is given. */
#ifndef BERTH_EVENTS_EVENT_H
#define BERTH_EVENTS_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* docker's object types ("container", "image", "network", "volume"), plus
 * berth's own: "build" steps, "project" notices (attaching, stopping,
 * an error that ends an attached `up`) and "service" (a service built). */
enum ev_type {
    EV_CONTAINER,
    EV_IMAGE,
    EV_NETWORK,
    EV_VOLUME,
    EV_BUILD,
    EV_PROJECT,
    EV_SERVICE, /* a service as a whole: compose's " Service web  Built" */
};

#define EV_MAX_ATTRS 8

struct ev_attr {
    const char *key;
    const char *value;
};

struct ev {
    int64_t time_ns; /* CLOCK_REALTIME, ns since the epoch; 0: ev_emit sets it */
    enum ev_type type;
    /* docker's action names where docker has one: container "create",
     * "start", "health_status", "die", "restart", "oom", "kill", "stop",
     * "pause", "unpause", "destroy"; image "pull", "load", "layer" (one
     * layer's progress), "tag", "delete"; network and volume "create",
     * "destroy"; build "step"; project "attach", "stopping", "error";
     * of any type berth's "warning" (ev_warn). */
    const char *action;
    const char *id;      /* container id, image id, network or volume name; or NULL */
    const char *service; /* or NULL */
    const char *name;    /* container name, image reference, network name; or NULL */
    /* What a person reads in the TTY and plain views, docker compose's
     * words: "Created", "Started", "Healthy", "Exited (1)", "Pulling fs
     * layer", "Downloading", "CACHED"; or NULL. */
    const char *status;
    const char *detail; /* longer text: an error message, a step's command; or NULL */
    /* Progress (a layer's bytes, a build's steps): 0 <= current <= total;
     * total 0 when unknown or not progress. */
    int64_t current, total;
    /* docker's "attributes": name, image, exitCode, health_status, ... */
    size_t n_attrs;
    struct ev_attr attrs[EV_MAX_ATTRS];
};

/* An output line of a container, for the attached view ("web-1  | ..."). */
struct ev_log {
    const char *service;
    const char *name;     /* container name */
    const char *log_name; /* the prefix to show ("web-1", or the run's name) */
    int stream;           /* 1 stdout, 2 stderr */
    const char *data;     /* without the newline */
    size_t len;
    int width; /* the widest log_name attached so far (the prefixes' column) */
    int index; /* the container's place in the project (picks its colour) */
};

struct ev_sink {
    void (*event)(void *ud, const struct ev *e);
    void (*log)(void *ud, const struct ev_log *l);
    void *ud;
};

/* Hands e to the sink (time_ns set if 0). */
void ev_emit(const struct ev_sink *s, struct ev *e);
void ev_emit_log(const struct ev_sink *s, const struct ev_log *l);
/* A warning: something went wrong that does not stop the work (an entry of
 * a layer skipped, a state file not written). An event of the given type
 * with action "warning" and the formatted message as its detail; the
 * renderer shows it as "berth: warning: MESSAGE". */
void ev_warn(const struct ev_sink *s, enum ev_type type, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds an attribute (silently dropped past EV_MAX_ATTRS; value NULL: not
 * added). */
void ev_attr_add(struct ev *e, const char *key, const char *value);
const char *ev_attr_get(const struct ev *e, const char *key);

const char *ev_type_name(enum ev_type t);
int ev_type_parse(const char *s, enum ev_type *out);

/* docker compose events --json's object: {"time", "type", "action", "id",
 * "service", "attributes"}, plus berth's "name", "status", "detail",
 * "current", "total" where set. New reference. */
json_t *ev_to_json(const struct ev *e);
/* The reverse, borrowing strings from j (valid while j lives). -1 when j
 * is not an event object. */
int ev_from_json(json_t *j, struct ev *out);

/* A heap copy that owns its strings; ev_free releases one. */
struct ev *ev_copy(const struct ev *e);
void ev_free(struct ev *e);

#endif
