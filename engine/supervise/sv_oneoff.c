/* SPDX-License-Identifier: Apache-2.0 */
/* An attached one-off's embedded DNS server, on a thread (sv_oneoff.h). */
#include "engine/supervise/sv_oneoff.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "engine/runtime/ctrplan.h"
#include "engine/supervise/sv_dir.h"
#include "engine/supervise/sv_dns.h"
#include "engine/supervise/sv_internal.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct sv_oneoff_dns {
    uv_loop_t loop;
    uv_async_t stop; /* from the main thread: the server goes, the loop ends */
    struct sv_dns *dns;
    struct sv_dir *dir;
    const struct ctr_plan *plan;
    pthread_t thread;
    bool serving;
};

static int lookup(void *owner, void *asker, const char *name, int family, uint8_t *out, size_t cap)
{
    struct sv_oneoff_dns *o = owner;
    (void)asker;
    size_t n = 0;
    return sv_dir_lookup(o->dir, o->plan, name, family, out, cap, &n) > 0 ? (int)n : -ENOENT;
}

static void on_stop(uv_async_t *a)
{
    struct sv_oneoff_dns *o = a->data;
    sv_dns_free(o->dns);
    o->dns = NULL;
    uv_close((uv_handle_t *)&o->stop, NULL);
}

int sv_oneoff_dns_new(const char *root, const char *runroot, const char *resolv_conf,
                      const struct ctr_plan *pl, const char *name, int nsfd,
                      struct sv_oneoff_dns **out, struct berr *e)
{
    *out = NULL;
    struct sv_oneoff_dns *o = xcalloc(1, sizeof *o);
    int r = uv_loop_init(&o->loop);
    if (r < 0) {
        free(o);
        return berr_set(e, r, "%s: the DNS server's loop: %s", name, uv_strerror(r));
    }
    o->plan = pl;
    o->dir = sv_dir_new(root, runroot, NULL);
    uv_async_init(&o->loop, &o->stop, on_stop);
    o->stop.data = o;
    _cleanup_strv_ char **ups = sv_host_upstreams(resolv_conf);
    struct sv_dns_options opt = {.upstreams = ups, .lookup = lookup, .owner = o};
    int u, t;
    if ((r = sv_dns_new(&o->loop, &opt, &o->dns, e)) < 0 ||
        (r = sv_dns_bind_ns(nsfd, name, &u, &t, e)) < 0 ||
        (r = sv_dns_listen(o->dns, u, t, o, pl->dns, e)) < 0) {
        sv_oneoff_dns_free(o);
        return r;
    }
    *out = o;
    return 0;
}

static void *serve(void *arg)
{
    struct sv_oneoff_dns *o = arg;
    uv_run(&o->loop, UV_RUN_DEFAULT);
    return NULL;
}

int sv_oneoff_dns_serve(struct sv_oneoff_dns *o, struct berr *e)
{
    /* Every signal stays the main thread's. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&o->thread, NULL, serve, o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return berr_errno(e, r, "starting the DNS server's thread");
    o->serving = true;
    return 0;
}

void sv_oneoff_dns_free(struct sv_oneoff_dns *o)
{
    if (!o)
        return;
    if (o->serving) {
        uv_async_send(&o->stop);
        pthread_join(o->thread, NULL);
    } else {
        /* never served: the loop runs here until the server is gone */
        on_stop(&o->stop);
        uv_run(&o->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&o->loop);
    sv_dir_free(o->dir);
    free(o);
}
