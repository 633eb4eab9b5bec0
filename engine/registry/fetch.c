/* SPDX-License-Identifier: Apache-2.0 */
/* Layer blobs fetched several at once: a libcurl multi handle driven by a
 * libuv loop of its own (curl's sockets on uv_poll_t, its timeout on a
 * uv_timer_t), at most FETCH_PARALLEL transfers at a time. Each transfer
 * resumes with a Range request from the bytes the job already has; a
 * transient failure (a refused or dropped connection, a timeout or a stall
 * below the low-speed limit, 408, 429, 5xx) is tried again after a back-off
 * (Retry-After honoured, capped). SIGINT and SIGTERM stop every transfer
 * and end the jobs as interrupted. The bytes go to the image module's ops
 * (image.h), which store, hash and unpack them.
 * Not here: manifests and the other sequential requests (client.c), what
 * the bytes become (engine/image/pullstream.c). */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "engine/registry/client_int.h"
#include "engine/registry/httpparse.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define FETCH_PARALLEL 6
#define WAIT_MS        200
#define FETCH_BUFFER   (256L << 10) /* asking again for a blob another process fetches */

enum xstate { X_QUEUED, X_WAIT, X_RUN, X_BACKOFF, X_ENDED };

/* One job's transfers. */
struct xfer {
    struct fetch *f;
    struct image_blob_job *job;
    CURL *h;
    struct curl_slist *hdrs;
    uv_timer_t timer; /* back-off, or waiting for another process */
    enum xstate state;
    unsigned attempt; /* transient failures in a row */
    uint64_t have;    /* bytes the job has */
    uint64_t offset;  /* where this request started */
    bool body_seen;
    long code;
    bool has_range, has_retry_after;
    uint64_t range_start;
    unsigned retry_after_ms;
    char *errbody;
    size_t errlen;
    char *www_auth;  /* a 401's challenges (WWW-Authenticate lines, joined) */
    unsigned gen;    /* c->auth.gen the request was sent with */
    bool reauthed;   /* this job's 401 was answered once already */
    struct berr err; /* why a callback stopped the transfer */
    char cerr[CURL_ERROR_SIZE];
};

struct fetch {
    uv_loop_t loop;
    uv_timer_t timer; /* libcurl's timeout */
    uv_signal_t sigint, sigterm;
    CURLM *multi;
    struct registry_client *c;
    const struct image_blob_ops *ops;
    struct xfer *x;
    size_t n, next, active, ended;
    size_t waiting; /* jobs whose blob another process fetches */
    int rc;
    struct berr err;
};

/* A socket libcurl asked to watch. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct fetch *f;
};

static void start_request(struct xfer *x);
static void fill(struct fetch *f);

/* ---- ending jobs ---- */

static void close_sock(uv_handle_t *h)
{
    free(h->data);
}

/* Ends every job still running as cancelled, and the loop. */
static void fail_all(struct fetch *f, int rc, struct berr *e)
{
    if (f->rc == 0) {
        f->rc = rc;
        berr_move(&f->err, e);
    }
    for (size_t i = 0; i < f->n; i++) {
        struct xfer *x = &f->x[i];
        if (x->state == X_ENDED)
            continue;
        if (x->state == X_RUN)
            curl_multi_remove_handle(f->multi, x->h);
        uv_timer_stop(&x->timer);
        x->state = X_ENDED;
        struct berr cancelled = BERR_INIT;
        f->ops->end(x->job, -ECANCELED, &cancelled);
        berr_clear(&cancelled);
        f->ended++;
    }
    uv_stop(&f->loop);
}

/* The job's last word: r 0 all bytes there, else the failure in e. */
static void finish(struct xfer *x, int r, struct berr *e)
{
    struct fetch *f = x->f;
    x->state = X_ENDED;
    f->ended++;
    f->active--;
    int rc = f->ops->end(x->job, r, e);
    if (rc < 0 || r < 0) {
        fail_all(f, rc < 0 ? rc : r, e);
        return;
    }
    if (f->ended == f->n)
        uv_stop(&f->loop);
    else
        fill(f);
}

static void on_retry_timer(uv_timer_t *t)
{
    struct xfer *x = t->data;
    start_request(x);
}

/* A transient failure: another try after the back-off, or the end. */
static void retry(struct xfer *x, const char *why)
{
    /* A try that brought bytes was worth it: only failures in a row count. */
    if (x->have > x->offset)
        x->attempt = 0;
    if (++x->attempt > REGISTRY_RETRIES) {
        struct berr e = BERR_INIT;
        berr_set(&e, -EIO, "%s (gave up after %u tries)", why, REGISTRY_RETRIES + 1);
        finish(x, -EIO, &e);
        berr_clear(&e);
        return;
    }
    unsigned delay = x->has_retry_after ? x->retry_after_ms : registry_backoff_ms(x->attempt);
    x->f->ops->retry(x->job, why, x->attempt, delay);
    x->state = X_BACKOFF;
    uv_timer_start(&x->timer, on_retry_timer, delay, 0);
}

/* An error answer as one line. */
static void http_error(const struct xfer *x, struct berr *e)
{
    _cleanup_free_ char *why = registry_error_text(x->errbody, x->errlen, x->code);
    int code = x->code == 404 ? -ENOENT : x->code == 401 || x->code == 403 ? -EACCES : -EIO;
    berr_set(e, code, "%s: %s", x->f->c->base, why);
}

/* A 401 on a blob (a token gone stale mid-pull): answered once through
 * registry_authorize (blocking: the other transfers wait for the token),
 * then the request sent again from where the job is. */
static void reauthorize(struct xfer *x)
{
    struct registry_client *c = x->f->c;
    struct berr e = BERR_INIT;
    x->reauthed = true;
    _cleanup_free_ char *challenge = TAKE_PTR(x->www_auth);
    int r = registry_authorize(c, challenge, "pull", x->gen, &e);
    if (r == 0)
        start_request(x);
    else
        finish(x, r, &e);
    berr_clear(&e);
}

/* A transfer libcurl is done with. */
static void transfer_done(struct xfer *x, CURLcode cc)
{
    struct fetch *f = x->f;
    curl_multi_remove_handle(f->multi, x->h);
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->code);
    struct berr e = BERR_INIT;
    if (x->err.code) {
        int r = x->err.code;
        berr_move(&e, &x->err);
        finish(x, r, &e);
    } else if (cc == CURLE_OK && (x->code == 200 || x->code == 206)) {
        if (x->have == (uint64_t)x->job->size) {
            finish(x, 0, &e);
        } else {
            char why[160];
            snprintf(why, sizeof why, "the registry's answer ended after %llu of %lld bytes",
                     (unsigned long long)x->have, (long long)x->job->size);
            retry(x, why);
        }
    } else if (cc == CURLE_OK && http_status_transient(x->code)) {
        char why[64];
        snprintf(why, sizeof why, "the registry answered HTTP %ld", x->code);
        retry(x, why);
    } else if (cc == CURLE_OK && x->code == 401 && x->www_auth && !x->reauthed) {
        reauthorize(x);
    } else if (cc == CURLE_OK && x->code == 401) {
        _cleanup_free_ char *why = registry_error_text(x->errbody, x->errlen, x->code);
        int r = registry_auth_denied(f->c, why, &e);
        finish(x, r, &e);
    } else if (cc == CURLE_OK) {
        http_error(x, &e);
        finish(x, e.code, &e);
    } else if (registry_curl_transient(cc)) {
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s: %s", f->c->base,
                 *x->cerr ? x->cerr : curl_easy_strerror(cc));
        retry(x, why);
    } else {
        int r = registry_transfer_error(f->c, cc, x->cerr, &e);
        finish(x, r, &e);
    }
    berr_clear(&e);
}

static void check_info(struct fetch *f)
{
    CURLMsg *m;
    int left;
    while (f->rc == 0 && (m = curl_multi_info_read(f->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        transfer_done(x, m->data.result);
    }
}

/* ---- a transfer's callbacks ---- */

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    _cleanup_free_ char *line = xstrndup(buf, len);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) {
        /* A new answer (after a redirect): forget the last one's. */
        x->has_range = x->has_retry_after = false;
        free(x->www_auth);
        x->www_auth = NULL;
    } else if (strncasecmp(line, "www-authenticate:", 17) == 0) {
        const char *v = line + 17 + strspn(line + 17, " \t");
        registry_challenge_add(&x->www_auth, v, strlen(v));
    } else if (strncasecmp(line, "content-range:", 14) == 0) {
        int64_t total;
        x->has_range = http_content_range(line + 14, &x->range_start, &total) == 0;
    } else if (strncasecmp(line, "retry-after:", 12) == 0) {
        x->has_retry_after = http_retry_after_ms(line + 12, time(NULL), REGISTRY_RETRY_AFTER_MAX_MS,
                                                 &x->retry_after_ms) == 0;
    }
    return len;
}

/* The answer's status, at its first body bytes: a 200 to a range request
 * starts the blob over, a 206 must start where asked. */
static int check_status(struct xfer *x)
{
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->code);
    if (x->code == 206 && (!x->has_range || x->range_start != x->offset))
        return berr_set(&x->err, -EBADMSG,
                        "%s: the registry answered a range request from byte %llu with other "
                        "bytes",
                        x->f->c->base, (unsigned long long)x->offset);
    if (x->code == 200 && x->offset > 0) {
        int r = x->f->ops->restart(x->job, &x->err);
        if (r < 0)
            return r;
        x->have = x->offset = 0;
    }
    return 0;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (!x->body_seen) {
        x->body_seen = true;
        if (check_status(x) < 0)
            return 0;
    }
    if (x->code != 200 && x->code != 206) {
        registry_errbody_append(&x->errbody, &x->errlen, buf, len);
        return len;
    }
    if (x->f->ops->data(x->job, buf, len, &x->err) < 0)
        return 0;
    x->have += len;
    return len;
}

static void start_request(struct xfer *x)
{
    struct fetch *f = x->f;
    struct registry_client *c = f->c;
    if (!x->h && !(x->h = curl_easy_init())) {
        struct berr e = BERR_INIT;
        berr_set(&e, -ENOMEM, "%s: initializing libcurl", c->base);
        finish(x, -ENOMEM, &e);
        berr_clear(&e);
        return;
    }
    struct berr e = BERR_INIT;
    if (registry_auth_refresh(c, &e) < 0) { /* a token past its expires_in */
        finish(x, e.code, &e);
        berr_clear(&e);
        return;
    }
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->repo, x->job->digest);
    x->hdrs = NULL;
    x->gen = c->auth.gen;
    if (x->have > 0) {
        char range[64];
        snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)x->have);
        x->hdrs = curl_slist_append(x->hdrs, range);
    }
    registry_easy_setup(c, x->h, url, &x->hdrs);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    /* Fewer, larger writes into the partial file (and wake-ups of its
     * unpacker). */
    curl_easy_setopt(x->h, CURLOPT_BUFFERSIZE, FETCH_BUFFER);
    *x->cerr = '\0';
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->cerr);
    x->offset = x->have;
    x->body_seen = x->has_range = x->has_retry_after = false;
    x->code = 0;
    free(x->errbody);
    x->errbody = NULL;
    x->errlen = 0;
    free(x->www_auth);
    x->www_auth = NULL;
    x->state = X_RUN;
    curl_multi_add_handle(f->multi, x->h);
}

/* ---- starting jobs ---- */

static void begin(struct xfer *x);

static void on_wait_timer(uv_timer_t *t)
{
    begin(t->data);
}

static void begin(struct xfer *x)
{
    struct berr e = BERR_INIT;
    uint64_t offset = 0;
    int r = x->f->ops->begin(x->job, &offset, &e);
    bool was_waiting = x->state == X_WAIT;
    if (was_waiting && r != IMAGE_BLOB_WAIT)
        x->f->waiting--;
    if (r < 0) {
        finish(x, r, &e);
    } else if (r == IMAGE_BLOB_WAIT) {
        if (x->state != X_WAIT)
            x->f->waiting++;
        x->state = X_WAIT;
        uv_timer_start(&x->timer, on_wait_timer, WAIT_MS, 0);
    } else if (r == IMAGE_BLOB_SKIP) {
        finish(x, 0, &e);
    } else {
        x->have = offset;
        if (offset == (uint64_t)x->job->size)
            finish(x, 0, &e); /* all kept from an earlier pull */
        else
            start_request(x);
    }
    berr_clear(&e);
    if (was_waiting && r == IMAGE_BLOB_START)
        fill(x->f); /* the jobs held back while this one waited */
}

/* Jobs begin in the order given, and none while one waits for another
 * process: with the jobs sorted by digest (the caller's part), two pulls
 * never each hold a blob the other waits for. */
static void fill(struct fetch *f)
{
    while (f->rc == 0 && f->active < FETCH_PARALLEL && f->next < f->n && f->waiting == 0) {
        struct xfer *x = &f->x[f->next++];
        f->active++;
        begin(x);
    }
}

/* ---- libcurl on the loop ---- */

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(s->f->multi, s->fd, flags, &running);
    check_info(s->f);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct fetch *f = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, close_sock);
            curl_multi_assign(f->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->f = f;
        s->poll.data = s;
        if (uv_poll_init_socket(&f->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        curl_multi_assign(f->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
    struct fetch *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_info(f);
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
    (void)multi;
    struct fetch *f = userp;
    if (ms < 0)
        uv_timer_stop(&f->timer);
    else
        uv_timer_start(&f->timer, on_curl_timeout, (uint64_t)ms, 0);
    return 0;
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct fetch *f = sig->data;
    struct berr e = BERR_INIT;
    berr_set(&e, -EINTR, "%s: interrupted (%s); the bytes received are kept for the next pull",
             f->c->shown, signum == SIGINT ? "SIGINT" : "SIGTERM");
    fail_all(f, -EINTR, &e);
    berr_clear(&e);
}

/* ---- the whole ---- */

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    uv_close(h, h->type == UV_POLL ? close_sock : NULL);
}

static void fetch_free(struct fetch *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct xfer *x = &f->x[i];
        if (x->h) {
            if (x->state == X_RUN)
                curl_multi_remove_handle(f->multi, x->h);
            curl_easy_cleanup(x->h);
        }
        curl_slist_free_all(x->hdrs);
        free(x->errbody);
        free(x->www_auth);
        berr_clear(&x->err);
    }
    if (f->multi)
        curl_multi_cleanup(f->multi);
    uv_walk(&f->loop, close_any, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    free(f->x);
    berr_clear(&f->err);
}

static int fetch_blobs(void *ctx, struct image_blob_job *jobs, size_t n,
                       const struct image_blob_ops *ops, struct berr *e)
{
    if (n == 0)
        return 0;
    struct fetch f = {.c = ctx, .ops = ops, .n = n};
    if (uv_loop_init(&f.loop) < 0)
        return berr_set(e, -ENOMEM, "%s: starting an event loop", f.c->shown);
    f.x = xcalloc(n, sizeof *f.x);
    uv_timer_init(&f.loop, &f.timer);
    f.timer.data = &f;
    uv_signal_init(&f.loop, &f.sigint);
    uv_signal_init(&f.loop, &f.sigterm);
    f.sigint.data = f.sigterm.data = &f;
    uv_signal_start(&f.sigint, on_signal, SIGINT);
    uv_signal_start(&f.sigterm, on_signal, SIGTERM);
    for (size_t i = 0; i < n; i++) {
        f.x[i].f = &f;
        f.x[i].job = &jobs[i];
        uv_timer_init(&f.loop, &f.x[i].timer);
        f.x[i].timer.data = &f.x[i];
    }
    f.multi = curl_multi_init();
    if (!f.multi) {
        fetch_free(&f);
        return berr_set(e, -ENOMEM, "%s: initializing libcurl", f.c->shown);
    }
    curl_multi_setopt(f.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(f.multi, CURLMOPT_SOCKETDATA, &f);
    curl_multi_setopt(f.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(f.multi, CURLMOPT_TIMERDATA, &f);
    fill(&f);
    if (f.ended < f.n && f.rc == 0)
        uv_run(&f.loop, UV_RUN_DEFAULT);
    int r = f.rc;
    if (r < 0)
        berr_move(e, &f.err);
    fetch_free(&f);
    return r;
}

struct image_fetcher registry_fetcher(struct registry_client *c)
{
    struct image_fetcher f = registry_fetcher_seq(c);
    f.fetch_blobs = fetch_blobs;
    return f;
}
