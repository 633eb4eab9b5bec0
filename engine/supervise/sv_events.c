/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's events: the ring of recent ones (engine/events/ring.h)
 * and their stream to the control-socket clients that asked for it with
 * {"op":"events"} (`berth events`). Each event goes out as one ev_to_json
 * line; the stream ends with {"event":"done","ok":true} when the
 * supervisor ends. A subscriber that does not read is dropped (its
 * connection closed) once its unsent lines pass SV_EVENTS_QUEUE_MAX: the
 * loop never waits for a reader, and the events it missed stay in the
 * ring for a `--since` replay. Not here: the other requests
 * (sv_control.c), where the state changes happen (supervisor.c,
 * sv_health.c), how a person sees an event (cmd/). */
#include <stdio.h>
#include <string.h>

#include "engine/supervise/sv_internal.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static bool wants(const struct sv_client *cl, const struct ev *e)
{
    if (!cl->ev_services)
        return true;
    return e->service && strv_contains(cl->ev_services, e->service);
}

/* One event to one subscriber, or the subscriber dropped when it has
 * fallen too far behind. */
static void send_event(struct sv_client *cl, const struct ev *e)
{
    if (cl->closing || !wants(cl, e))
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) > SV_EVENTS_QUEUE_MAX) {
        sv_client_detach(cl);
        return;
    }
    json_t *j = ev_to_json(e);
    sv_client_send(cl, j);
    json_decref(j);
}

/* What the stream carries: docker's container actions, and berth's
 * "error" (a container that could not be started, the message as detail),
 * which docker has no event for (its API call fails instead) but a client
 * following the project (`up --wait`) must see. The progress-only steps
 * ("starting", "creating", "destroying") and the project's notices are
 * for the person watching `up`, not for `berth events`. */
static bool streamed(const struct ev *e)
{
    static const char *const actions[] = {
        "create", "start", "health_status", "die",     "restart", "oom", "kill",
        "stop",   "pause", "unpause",       "destroy", "error",   NULL};
    if (e->type != EV_CONTAINER || !e->action)
        return false;
    for (size_t i = 0; actions[i]; i++)
        if (strcmp(actions[i], e->action) == 0)
            return true;
    return false;
}

void sv_publish(struct supervisor *sv, const struct ev *e)
{
    if (!streamed(e))
        return;
    struct ev x = *e;
    if (x.time_ns == 0)
        x.time_ns = time_now_ns();
    /* docker's attributes only: logName is the renderer's */
    x.n_attrs = 0;
    for (size_t i = 0; i < e->n_attrs; i++)
        if (strcmp(e->attrs[i].key, "logName") != 0)
            x.attrs[x.n_attrs++] = e->attrs[i];
    ev_ring_push(&sv->ring, &x);
    /* send_event may drop a client: it stays allocated (and keeps its
     * next) until the loop runs its close callback */
    for (struct sv_client *cl = sv->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->events)
            send_event(cl, &x);
    }
}

static void replay_one(void *ud, const struct ev *e)
{
    send_event(ud, e);
}

/* The stream's end: "done", then the connection closes. */
static void end_stream(struct sv_client *cl)
{
    json_t *msg = json_pack("{s:s, s:b}", "event", "done", "ok", 1);
    sv_client_send(cl, msg);
    json_decref(msg);
    sv_client_detach(cl);
}

void sv_events_subscribe(struct sv_client *cl, json_t *req)
{
    struct supervisor *sv = cl->sv;
    json_t *services = json_object_get(req, "services");
    size_t i;
    json_t *v;
    json_array_foreach(services, i, v)
    {
        if (json_is_string(v))
            strv_push(&cl->ev_services, xstrdup(json_string_value(v)));
    }
    cl->events = true;
    json_t *since = json_object_get(req, "since_ns");
    int64_t until = json_integer_value(json_object_get(req, "until_ns"));
    if (json_is_integer(since))
        ev_ring_replay(&sv->ring, json_integer_value(since), until, replay_one, cl);
    /* an end already past: the replay was all of it */
    if ((sv->quitting || (until > 0 && until <= time_now_ns())) && !cl->closing)
        end_stream(cl);
    /* the connection kept the supervisor alive until now; as a stream it
     * no longer does */
    sv_maybe_quit(sv);
}

void sv_state_reply(struct sv_client *cl)
{
    struct supervisor *sv = cl->sv;
    json_t *all = json_object();
    for (size_t i = 0; i < sv->n; i++) {
        struct run_state st;
        sv_run_state(sv->ctrs[i], &st);
        json_object_set_new(all, sv->ctrs[i]->rec.name, run_state_to_json(&st));
    }
    json_t *msg = json_pack("{s:s, s:b, s:o}", "event", "done", "ok", 1, "containers", all);
    sv_client_send(cl, msg);
    json_decref(msg);
}

void sv_events_end(struct supervisor *sv)
{
    for (struct sv_client *cl = sv->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->events && !cl->closing)
            end_stream(cl);
    }
}
