/* SPDX-License-Identifier: Apache-2.0 */
/* The client of `up --wait` (cmd/up_wait.h): seeds each awaited container
 * from the supervisor's "state" taken before the start, starts them as
 * `up -d` does, then follows the supervisor's event stream from a time
 * taken before the start (the ring replays what happened in between)
 * until the decision of cmd/up_wait.c says ready or failed. The progress
 * lines the start did not show (" Container x  Healthy") are rendered from
 * the stream as the supervisor's own wait showed them. Not here: the
 * decision (cmd/up_wait.c), the start itself (cmd/cmd_up.c,
 * cmd/project.c), the stream (engine/supervise/sv_events.c). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/up.h"
#include "cmd/up_wait.h"
#include "engine/supervise/control.h"
#include "util/cleanup.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* How long the supervisor gets to answer "state". */
#define STATE_TIMEOUT_MS 5000

struct follow {
    struct cli *c;
    const char *project;
    const struct ctr_record *recs;
    struct upw_ctr *ctrs;
    size_t n;
    int64_t shown_ns; /* progress to this time was rendered by the start */
    enum upw_verdict v;
    char *msg;
};

static void follow_fini(struct follow *f)
{
    for (size_t i = 0; f->ctrs && i < f->n; i++)
        upw_fini(&f->ctrs[i]);
    free(f->ctrs);
    free(f->msg);
}

/* The supervisor's "state" on fd: each container's run state by name
 * (a new reference), or NULL when it does not answer. */
static json_t *states_on(int fd, struct berr *e)
{
    json_auto_t *req = json_pack("{s:s}", "op", "state");
    json_t *reply = NULL;
    if (ctl_query(fd, req, STATE_TIMEOUT_MS, &reply, e) < 0)
        return NULL;
    json_t *all = json_incref(json_object_get(reply, "containers"));
    json_decref(reply);
    return all;
}

static void seed(struct follow *f, json_t *states)
{
    for (size_t i = 0; i < f->n; i++) {
        json_t *j = json_object_get(states, f->recs[i].name);
        if (!j)
            continue;
        struct run_state st;
        run_state_from_json(j, &st);
        upw_seed(&f->ctrs[i], &st);
    }
}

/* A die leaves open whether the container runs again; the supervisor's
 * state says (asked on a connection of its own: the stream's takes no
 * requests). None answering: it has ended, and so has the container. */
static void resolve_restarts(struct follow *f)
{
    bool need = false;
    for (size_t i = 0; i < f->n; i++)
        need = need || upw_needs_restart(&f->ctrs[i]);
    if (!need)
        return;
    _cleanup_close_ int fd = ctl_connect(f->c->runroot, f->project, NULL);
    json_auto_t *all = fd >= 0 ? states_on(fd, NULL) : NULL;
    for (size_t i = 0; i < f->n; i++) {
        if (!upw_needs_restart(&f->ctrs[i]))
            continue;
        json_t *j = json_object_get(all, f->recs[i].name);
        struct run_state st;
        if (j)
            run_state_from_json(j, &st);
        upw_resolve_restart(&f->ctrs[i], j ? &st : NULL);
    }
}

/* A streamed event as the start's progress showed it: the supervisor's
 * stream leaves out the renderer's logName, which goes back after image,
 * where the supervisor put it. Events without a status (die, restart),
 * the stream's own "create", and what the start has rendered already are
 * not progress lines. */
static void render(struct follow *f, const struct ev *e, const struct ctr_record *r)
{
    if (!e->status || strcmp(e->action, "create") == 0 || e->time_ns <= f->shown_ns)
        return;
    struct ev x = *e;
    x.n_attrs = 0;
    for (size_t i = 0; i < e->n_attrs; i++) {
        ev_attr_add(&x, e->attrs[i].key, e->attrs[i].value);
        if (strcmp(e->attrs[i].key, "image") == 0)
            ev_attr_add(&x, "logName", r->plan.log_name);
    }
    struct ev_sink s = ui_render_sink(f->c->ui);
    ev_emit(&s, &x);
}

static void decide(struct follow *f)
{
    free(f->msg);
    f->v = upw_decide(f->ctrs, f->n, &f->msg);
}

/* ctl_events' callback: 1 once decided. */
static int on_stream(json_t *j, void *ud)
{
    struct follow *f = ud;
    struct ev e;
    if (ev_from_json(j, &e) < 0)
        return 0;
    for (size_t i = 0; i < f->n; i++)
        if (upw_apply(&f->ctrs[i], &e)) {
            render(f, &e, &f->recs[i]);
            break;
        }
    resolve_restarts(f);
    decide(f);
    return f->v == UPW_PENDING ? 0 : 1;
}

/* Follows the stream on conn from since_ns until the verdict. */
static int follow_stream(struct follow *f, int conn, int64_t since_ns, struct berr *e)
{
    json_auto_t *req = json_pack("{s:s, s:I}", "op", "events", "since_ns", (json_int_t)since_ns);
    int r = ctl_events(conn, req, 0, on_stream, f, e);
    if (r == -EPIPE)
        return berr_set(e, -EIO, "the supervisor went away before answering");
    if (r < 0)
        return r;
    if (f->v == UPW_PENDING) /* the stream ended: the supervisor has nothing left to run */
        return berr_set(e, -EIO, "the containers ended before they were ready");
    if (f->v == UPW_FAILED)
        return berr_set(e, -EIO, "%s", f->msg);
    return 0;
}

int up_wait_start(struct cli *c, const char *project, int ctl, struct runtime *rt,
                  const struct ctr_record *recs, size_t n, int lockfd, struct berr *e)
{
    _cleanup_(follow_fini) struct follow f = {.c = c, .project = project, .recs = recs, .n = n};
    f.ctrs = xcalloc(n + 1, sizeof *f.ctrs);
    for (size_t i = 0; i < n; i++)
        upw_init(&f.ctrs[i], &recs[i]);
    int64_t since = time_now_ns();
    /* The stream's connection, made before the start: while it (and ctl)
     * is not yet a stream, the supervisor cannot end unseen. */
    _cleanup_close_ int conn = -1;
    if (ctl >= 0) {
        conn = ctl_connect(c->runroot, project, e);
        if (conn < 0)
            return conn;
        json_auto_t *states = states_on(conn, e);
        if (!states)
            return -EIO;
        seed(&f, states);
    }
    struct cli_progress p = {.ui = c->ui};
    int r = up_start_conn(c, project, ctl, rt, recs, n, &conn, lockfd, &p, e);
    if (r < 0)
        return r;
    f.shown_ns = p.last_ns;
    decide(&f);
    if (f.v == UPW_READY)
        return 0;
    if (f.v == UPW_FAILED)
        return berr_set(e, -EIO, "%s", f.msg);
    return follow_stream(&f, conn, since, e);
}
