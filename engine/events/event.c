/* SPDX-License-Identifier: Apache-2.0 */
/* The event type's helpers (engine/events/event.h): emitting, attributes,
 * JSON in and out, copies. Not here: rendering (cmd/ui), the supervisor's
 * ring and its stream over the control socket (engine/supervise). */
#include "engine/events/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timefmt.h"
#include "util/xalloc.h"

static const char *const type_names[] = {
    [EV_CONTAINER] = "container", [EV_IMAGE] = "image", [EV_NETWORK] = "network",
    [EV_VOLUME] = "volume",       [EV_BUILD] = "build", [EV_PROJECT] = "project",
    [EV_SERVICE] = "service",
};

const char *ev_type_name(enum ev_type t)
{
    if ((size_t)t < sizeof type_names / sizeof type_names[0] && type_names[t])
        return type_names[t];
    return "unknown";
}

int ev_type_parse(const char *s, enum ev_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i] && strcmp(type_names[i], s) == 0) {
            *out = (enum ev_type)i;
            return 0;
        }
    return -1;
}

void ev_emit(const struct ev_sink *s, struct ev *e)
{
    if (!s || !s->event)
        return;
    if (e->time_ns == 0)
        e->time_ns = time_now_ns();
    s->event(s->ud, e);
}

void ev_warn(const struct ev_sink *s, enum ev_type type, const char *name, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct ev e = {.type = type, .action = "warning", .name = name, .detail = msg};
    ev_emit(s, &e);
}

void ev_emit_log(const struct ev_sink *s, const struct ev_log *l)
{
    if (s && s->log)
        s->log(s->ud, l);
}

void ev_attr_add(struct ev *e, const char *key, const char *value)
{
    if (!value || e->n_attrs >= EV_MAX_ATTRS)
        return;
    e->attrs[e->n_attrs].key = key;
    e->attrs[e->n_attrs].value = value;
    e->n_attrs++;
}

const char *ev_attr_get(const struct ev *e, const char *key)
{
    for (size_t i = 0; i < e->n_attrs; i++)
        if (strcmp(e->attrs[i].key, key) == 0)
            return e->attrs[i].value;
    return NULL;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

json_t *ev_to_json(const struct ev *e)
{
    char when[TIME_RFC3339_MAX];
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(time_rfc3339(e->time_ns, 9, when)));
    json_object_set_new(o, "type", json_string(ev_type_name(e->type)));
    set_str(o, "action", e->action ? e->action : "");
    set_str(o, "id", e->id ? e->id : "");
    set_str(o, "service", e->service ? e->service : "");
    json_t *a = json_object();
    for (size_t i = 0; i < e->n_attrs; i++)
        json_object_set_new(a, e->attrs[i].key, json_string(e->attrs[i].value));
    json_object_set_new(o, "attributes", a);
    set_str(o, "name", e->name);
    set_str(o, "status", e->status);
    set_str(o, "detail", e->detail);
    if (e->total > 0) {
        json_object_set_new(o, "current", json_integer(e->current));
        json_object_set_new(o, "total", json_integer(e->total));
    }
    json_object_set_new(o, "time_ns", json_integer(e->time_ns));
    return o;
}

static const char *get_str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

int ev_from_json(json_t *j, struct ev *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        return -1;
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *action = json_string_value(json_object_get(j, "action"));
    if (!type || !action || ev_type_parse(type, &out->type) < 0)
        return -1;
    out->action = action;
    out->id = get_str(j, "id");
    out->service = get_str(j, "service");
    out->name = get_str(j, "name");
    out->status = get_str(j, "status");
    out->detail = get_str(j, "detail");
    out->time_ns = json_integer_value(json_object_get(j, "time_ns"));
    out->current = json_integer_value(json_object_get(j, "current"));
    out->total = json_integer_value(json_object_get(j, "total"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "attributes"), k, v)
    {
        if (json_is_string(v))
            ev_attr_add(out, k, json_string_value(v));
    }
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

struct ev *ev_copy(const struct ev *e)
{
    struct ev *c = xmalloc(sizeof *c);
    *c = *e;
    c->action = dup_or_null(e->action);
    c->id = dup_or_null(e->id);
    c->service = dup_or_null(e->service);
    c->name = dup_or_null(e->name);
    c->status = dup_or_null(e->status);
    c->detail = dup_or_null(e->detail);
    for (size_t i = 0; i < e->n_attrs; i++) {
        c->attrs[i].key = xstrdup(e->attrs[i].key);
        c->attrs[i].value = xstrdup(e->attrs[i].value);
    }
    return c;
}

void ev_free(struct ev *e)
{
    if (!e)
        return;
    free((char *)e->action);
    free((char *)e->id);
    free((char *)e->service);
    free((char *)e->name);
    free((char *)e->status);
    free((char *)e->detail);
    for (size_t i = 0; i < e->n_attrs; i++) {
        free((char *)e->attrs[i].key);
        free((char *)e->attrs[i].value);
    }
    free(e);
}
