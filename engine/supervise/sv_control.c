/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor's control socket: accepts `berth` commands on
 * $BERTH_RUNROOT/<project>/sock (root only, checked with SO_PEERCRED) and
 * serves their JSON-line requests (see engine/supervise/control.h).
 * Not here: the client side (engine/supervise/control.c), what each request
 * does to a container (engine/supervise/supervisor.c). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* ---- control socket --------------------------------------------------- */

void sv_client_watch(struct sv_client *cl, struct sv_ctr **ctrs, size_t n)
{
    cl->watch = xreallocarray(cl->watch, cl->n_watch + n + 1, sizeof *cl->watch);
    memcpy(cl->watch + cl->n_watch, ctrs, n * sizeof *ctrs);
    cl->n_watch += n;
}

static void client_free(uv_handle_t *h)
{
    struct sv_client *cl = h->data;
    free(cl->in.data);
    free(cl->watch);
    strv_free(cl->ev_services);
    free(cl);
}

void sv_client_detach(struct sv_client *cl)
{
    if (cl->closing)
        return;
    cl->closing = true;
    struct supervisor *sv = cl->sv;
    for (struct sv_client **pp = &sv->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    for (struct sv_waiter *w = sv->waiters; w; w = w->next)
        if (w->client == cl) {
            w->client = NULL;
            w->done = true;
        }
    uv_close((uv_handle_t *)&cl->pipe, client_free);
}

void sv_client_close(struct sv_client *cl)
{
    if (cl->closing)
        return;
    sv_client_detach(cl);
    sv_maybe_quit(cl->sv);
}

static void on_written(uv_write_t *req, int status)
{
    free(req->data);
    free(req);
}

void sv_client_send(struct sv_client *cl, json_t *msg)
{
    if (cl->closing)
        return;
    char *text = json_dumps(msg, JSON_COMPACT);
    size_t len = strlen(text);
    char *line = xrealloc(text, len + 2);
    line[len] = '\n';
    line[len + 1] = '\0';
    uv_write_t *req = xcalloc(1, sizeof *req);
    req->data = line;
    uv_buf_t b = uv_buf_init(line, (unsigned)(len + 1));
    if (uv_write(req, (uv_stream_t *)&cl->pipe, &b, 1, on_written) < 0) {
        free(line);
        free(req);
    }
}

static void reply(struct sv_client *cl, const char *error)
{
    json_t *msg = json_pack("{s:s, s:b}", "event", "done", "ok", error == NULL);
    if (error)
        json_object_set_new(msg, "error", json_string(error));
    sv_client_send(cl, msg);
    json_decref(msg);
}

/* Containers named in a request ("names": [...]; none: all of them). */
static size_t select_ctrs(struct supervisor *sv, json_t *req, struct sv_ctr ***out)
{
    json_t *names = json_object_get(req, "names");
    struct sv_ctr **list = xcalloc(sv->n + 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < sv->n; i++) {
        bool take = !json_is_array(names) || json_array_size(names) == 0;
        size_t j;
        json_t *v;
        json_array_foreach(names, j, v) if (json_is_string(v) && strcmp(json_string_value(v),
                                                                        sv->ctrs[i]->rec.name) == 0)
            take = true;
        if (take)
            list[k++] = sv->ctrs[i];
    }
    *out = list;
    return k;
}

/* Stop requests are checked whenever a run ends, and answered at once. */
void sv_check_stops(struct supervisor *sv)
{
    for (struct stop_wait **pp = &sv->stop_waits; *pp;) {
        struct stop_wait *sw = *pp;
        bool down = true;
        for (size_t i = 0; i < sw->n && down; i++)
            down = sw->ctrs[i]->run == NULL || sw->ctrs[i]->unkillable;
        if (!down) {
            pp = &sw->next;
            continue;
        }
        bool cl_alive = false;
        for (struct sv_client *c = sv->clients; c; c = c->next)
            cl_alive |= c == sw->cl;
        if (cl_alive)
            reply(sw->cl, NULL);
        *pp = sw->next;
        free(sw->ctrs);
        free(sw);
    }
}

static void handle_request(struct sv_client *cl, json_t *req)
{
    struct supervisor *sv = cl->sv;
    const char *op = json_string_value(json_object_get(req, "op"));
    if (!op) {
        reply(cl, "request without \"op\"");
        return;
    }
    if (cl->events)
        return; /* an event stream takes no more requests */
    if (strcmp(op, "events") == 0) {
        sv_events_subscribe(cl, req);
        return;
    }
    if (strcmp(op, "state") == 0) {
        sv_state_reply(cl);
        return;
    }
    if (strcmp(op, "start") == 0) {
        json_t *ids = json_object_get(req, "ids");
        struct ctr_record *all = NULL;
        size_t n_all = 0;
        struct berr e = BERR_INIT;
        if (ctr_list(sv->opt.root, sv->opt.project, &sv->opt.sink, &all, &n_all, &e) < 0) {
            reply(cl, e.msg);
            berr_clear(&e);
            return;
        }
        /* keep request order (dependency order) */
        struct ctr_record *pick = xcalloc(json_array_size(ids) + 1, sizeof *pick);
        size_t k = 0, j;
        json_t *v;
        const char *missing = NULL;
        json_array_foreach(ids, j, v)
        {
            const char *id = json_string_value(v);
            bool found = false;
            for (size_t i = 0; id && i < n_all; i++)
                if (strcmp(all[i].id, id) == 0) {
                    pick[k++] = all[i];
                    found = true;
                }
            if (!found)
                missing = id ? id : "?";
        }
        if (missing) {
            _cleanup_free_ char *msg = xasprintf("no container record %.12s", missing);
            reply(cl, msg);
        } else {
            sv_start_request(sv, pick, k, false, cl);
        }
        free(pick);
        ctr_list_free(all, n_all);
        return;
    }
    struct sv_ctr **list;
    size_t n = select_ctrs(sv, req, &list);
    sv_client_watch(cl, list, n);
    if (strcmp(op, "stop") == 0) {
        json_t *t = json_object_get(req, "timeout_ns");
        int64_t grace = json_is_integer(t) ? json_integer_value(t) : -1;
        for (size_t i = 0; i < n; i++)
            sv_stop_ctr(list[i], false, grace);
        struct stop_wait *sw = xcalloc(1, sizeof *sw);
        sw->cl = cl;
        sw->ctrs = list;
        sw->n = n;
        sw->next = sv->stop_waits;
        sv->stop_waits = sw;
        sv_check_stops(sv);
        return;
    } else if (strcmp(op, "kill") == 0) {
        int sig = (int)json_integer_value(json_object_get(req, "signal"));
        if (sig <= 0)
            sig = SIGKILL;
        for (size_t i = 0; i < n; i++)
            if (list[i]->run && !list[i]->run->reaped)
                sv_signal_ctr(list[i], sig, NULL);
        reply(cl, NULL);
    } else if (strcmp(op, "pause") == 0 || strcmp(op, "unpause") == 0) {
        bool freeze = strcmp(op, "pause") == 0;
        const char *err = NULL;
        for (size_t i = 0; i < n && !err; i++) {
            struct sv_ctr *c = list[i];
            if (!c->run || c->run->reaped || c->paused == freeze)
                continue;
            if (cgroup_freeze(c->run->proc.cg, freeze) < 0)
                err = "the cgroup freezer refused";
            else {
                c->paused = freeze;
                sv_save_state(c);
                sv_progress(c, freeze ? "pause" : "unpause", freeze ? "Paused" : "Unpaused", NULL);
            }
        }
        reply(cl, err);
    } else if (strcmp(op, "forget") == 0) {
        for (size_t i = 0; i < n; i++)
            if (!list[i]->run && list[i]->state != C_BACKOFF && list[i]->state != C_WAITING) {
                list[i]->state = C_IDLE;
                sv_net_forget(list[i]);
            }
        reply(cl, NULL);
    } else if (strcmp(op, "hello") == 0) {
        json_t *msg = json_pack("{s:s, s:b, s:i}", "event", "done", "ok", 1, "pid", (int)getpid());
        sv_client_send(cl, msg);
        json_decref(msg);
    } else {
        _cleanup_free_ char *msg = xasprintf("unknown request \"%s\"", op);
        reply(cl, msg);
    }
    free(list);
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct sv_client *cl = s->data;
    if (n < 0) {
        sv_client_close(cl);
        return;
    }
    if (n == 0)
        return;
    if (cl->in.len + (size_t)n > CLIENT_LINE_MAX) {
        sv_client_close(cl);
        return;
    }
    cl->in.data = xrealloc(cl->in.data, cl->in.len + (size_t)n + 1);
    memcpy(cl->in.data + cl->in.len, buf->base, (size_t)n);
    cl->in.len += (size_t)n;
    char *nl;
    while (!cl->closing && (nl = memchr(cl->in.data, '\n', cl->in.len))) {
        *nl = '\0';
        json_error_t je;
        json_t *req = json_loads(cl->in.data, 0, &je);
        size_t used = (size_t)(nl - cl->in.data) + 1;
        memmove(cl->in.data, nl + 1, cl->in.len - used);
        cl->in.len -= used;
        if (!req) {
            reply(cl, "invalid JSON request");
            continue;
        }
        handle_request(cl, req);
        json_decref(req);
    }
}

static void on_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sv_client *cl = h->data;
    (void)suggested;
    buf->base = cl->sv->readbuf;
    buf->len = sizeof cl->sv->readbuf;
}

static struct sv_client *client_new(struct supervisor *sv)
{
    struct sv_client *cl = xcalloc(1, sizeof *cl);
    cl->sv = sv;
    uv_pipe_init(&sv->loop, &cl->pipe, 0);
    cl->pipe.data = cl;
    return cl;
}

static void client_serve(struct sv_client *cl)
{
    struct supervisor *sv = cl->sv;
    cl->next = sv->clients;
    sv->clients = cl;
    uv_read_start((uv_stream_t *)&cl->pipe, on_client_alloc, on_client_read);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct supervisor *sv = server->data;
    if (status < 0)
        return;
    struct sv_client *cl = client_new(sv);
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
        uv_close((uv_handle_t *)&cl->pipe, client_free);
        return;
    }
    /* Only root (or berth's own user) may drive the supervisor. */
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        (cred.uid != 0 && cred.uid != getuid())) {
        uv_close((uv_handle_t *)&cl->pipe, client_free);
        return;
    }
    client_serve(cl);
}

int sv_serve_fd(struct supervisor *sv, int fd, struct berr *e)
{
    struct sv_client *cl = client_new(sv);
    int r = uv_pipe_open(&cl->pipe, fd);
    if (r < 0) {
        close(fd);
        uv_close((uv_handle_t *)&cl->pipe, client_free);
        return berr_set(e, -EIO, "serving a connection: %s", uv_strerror(r));
    }
    client_serve(cl);
    return 0;
}

int sv_listen(struct supervisor *sv, struct berr *e)
{
    sv->sock_path = sv_socket_path(sv->opt.runroot, sv->opt.project);
    _cleanup_free_ char *dir = xasprintf("%s/%s", sv->opt.runroot, sv->opt.project);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    if (strlen(sv->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return berr_set(e, -ENAMETOOLONG, "control socket path too long: %s", sv->sock_path);
    /* A socket file nobody answers on is a leftover of a killed supervisor. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sv->sock_path);
        int c = connect(probe, (struct sockaddr *)&sa, sizeof sa);
        close(probe);
        if (c == 0)
            return berr_set(e, -EBUSY, "another supervisor serves project %s", sv->opt.project);
    }
    unlink(sv->sock_path);
    uv_pipe_init(&sv->loop, &sv->server, 0);
    sv->server.data = sv;
    mode_t old = umask(0177);
    r = uv_pipe_bind(&sv->server, sv->sock_path);
    umask(old);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&sv->server, 64, on_connection);
    if (r < 0) {
        uv_close((uv_handle_t *)&sv->server, NULL);
        return berr_set(e, -EIO, "control socket %s: %s", sv->sock_path, uv_strerror(r));
    }
    sv->server_open = true;
    return 0;
}
