/* SPDX-License-Identifier: Apache-2.0 */
/* The client side of a project supervisor's control socket
 * ($BERTH_RUNROOT/<project>/sock): one JSON object per line each way.
 *
 * Requests: {"op":"start","ids":[...]}, {"op":"stop","names":[...],
 * "timeout_ns":N}, {"op":"kill","names":[...],"signal":N}, {"op":"pause"|
 * "unpause"|"forget","names":[...]}, {"op":"hello"}. An empty or absent
 * "names" means every container. The supervisor answers with progress
 * events: the container's event as ev_to_json gives it (engine/events),
 * with "event":"progress" ({"event":"progress","type":"container",
 * "action":"start","name":...,"status":"Started",...}), and ends
 * each request with {"event":"done","ok":bool[,"error":...]}. A start is
 * done when each of its containers has started, or as soon as one could
 * not be (`up --wait` then follows the event stream for their health).
 *
 * {"op":"events","services":[...],"since_ns":N,"until_ns":M} makes the
 * connection an event stream: the events of the ring from since_ns on
 * (none without it; to until_ns, which ends the stream when already
 * past), then each new one, as ev_to_json objects (engine/events/event.h),
 * of the named services only when "services" is given; "done" ends the
 * stream when the supervisor ends. A reader that falls 256 KiB behind is
 * disconnected without "done".
 *
 * {"op":"state"} is answered by "done" with "containers": each container's
 * run state (records.h's fields, by container name) as the supervisor
 * knows it now. */
#ifndef BERTH_SUPERVISE_CONTROL_H
#define BERTH_SUPERVISE_CONTROL_H

#include <jansson.h>
#include <stdint.h>

#include "util/err.h"

/* Connects to the project's supervisor. Returns an fd, or -ENOENT /
 * -ECONNREFUSED when none is running (a stale socket is not an error). */
int ctl_connect(const char *runroot, const char *project, struct berr *e);

/* Sends req and reads events until "done"; on_event (may be NULL) sees each
 * progress event. Returns 0 when done says ok, else a negative code with the
 * supervisor's message. */
int ctl_request(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), void *ud,
                struct berr *e);

/* ctl_request, also watching watch_fd while it waits: on_watch runs (and
 * must consume what made watch_fd readable) each time it is. */
int ctl_request_watch(int fd, json_t *req, void (*on_event)(json_t *ev, void *ud), int watch_fd,
                      void (*on_watch)(int watch_fd, void *ud), void *ud, struct berr *e);

/* Sends req and returns the supervisor's "done" answer (*reply, a new
 * reference) when it says ok within timeout_ms; else a negative code. */
int ctl_query(int fd, json_t *req, int timeout_ms, json_t **reply, struct berr *e);

/* Sends an "events" request and hands each event the supervisor streams
 * to on_event until the stream's "done" (returns 0; an error when it is
 * not ok), until_ns (> 0, wall clock) passes (returns 1; when already past,
 * the supervisor ends the stream after its replay), or on_event returns
 * non-zero (returned). The connection ending without "done" is -EPIPE. */
int ctl_events(int fd, json_t *req, int64_t until_ns, int (*on_event)(json_t *ev, void *ud),
               void *ud, struct berr *e);

#endif
