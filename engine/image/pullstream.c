/* SPDX-License-Identifier: Apache-2.0 */
/* A pull's layers, downloaded and unpacked at once. The fetcher (the
 * registry's transport, on its own event loop on this thread) appends each
 * blob's bytes to a partial file of the store, hashing them; worker threads
 * unpack every layer from that file as it grows, waiting when they catch up
 * with the download. Memory stays bounded whatever the blob's size: the
 * file is the buffer. A blob is verified (size, digest) before its layer
 * counts as unpacked, and nothing reaches the store before the commit.
 *
 * The partial file (partial/sha256-<hex>) outlives an interrupted pull, so
 * the next one resumes where this one stopped; its lock file says which
 * process fetches it, so two pulls sharing a blob download it once: the
 * second waits and then finds the blob in the store.
 * Not here: planning and the commit of the image (archive.c), the HTTP
 * side (engine/registry). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/image/archive_int.h"
#include "engine/image/layer.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define WORKERS_MAX  4
#define READ_BUF     (128u << 10)
#define PROGRESS_NS  100000000LL /* progress events: at most 10 a second per layer */
#define SHORT_ID_LEN 12
#define HASH_CHUNK   (256u << 10)
#define WRITE_BUF    (256u << 10) /* received bytes written to the partial file at once */

enum stream_state { ST_RUNNING, ST_DONE, ST_FAILED };

/* One blob: downloaded into its partial file, or read from the store. */
struct pstream {
    struct pull *pu;
    struct image_blob_job job;
    char digest[DIGEST_STR_SIZE];
    char short_id[SHORT_ID_LEN + 1];
    const char *label; /* "layer 2": the first layer that uses it */
    int64_t size;
    int fd;     /* partial file, or the store's blob */
    int lockfd; /* the blob's fetch lock, held until the commit */
    char *wbuf; /* received, not yet in fd */
    size_t wlen;
    struct sha256 *h;
    uint64_t written;        /* bytes in fd, readable (under pu->mu) */
    uint64_t received;       /* bytes received in this pull */
    enum stream_state state; /* under pu->mu */
    bool fetch;              /* downloaded (else it came from the store) */
    bool skipped;            /* another process stored it while this one waited */
    bool committed, waiting;
    int64_t last_ev;
};

/* One layer: unpacked by a worker from its blob's stream. */
struct pull_ujob {
    struct pull *pu;
    struct plan_layer *pl;
    struct pstream *st;
    uint64_t pos; /* bytes of the blob read */
    char *tmpname;
    int dirfd;
    int rc;
    struct berr err;
    int64_t last_ev;
    bool extracting;
    bool found; /* the other process that stored the blob made the layer too */
    char *buf;
};

struct pull {
    struct load *l;
    pthread_mutex_t mu; /* the streams' written and state, next, cancel */
    pthread_cond_t cv;
    pthread_mutex_t sink_mu;
    struct ev_sink sink; /* locked: the workers emit too */
    struct pstream **st;
    size_t n_st;
    struct pull_ujob **uj;
    size_t n_uj, next;
    bool cancel;
    unsigned sleepers; /* workers waiting for bytes */
    pthread_t workers[WORKERS_MAX];
    size_t n_workers;
    /* Fetch locks of the small blobs planning fetched (the config). */
    struct blob_lock {
        char digest[DIGEST_STR_SIZE];
        int fd;
    } * locks;
    size_t n_locks;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void locked_event(void *ud, const struct ev *e)
{
    struct pull *pu = ud;
    const struct ev_sink *real = &pu->l->s->sink;
    pthread_mutex_lock(&pu->sink_mu);
    if (real->event)
        real->event(real->ud, e);
    pthread_mutex_unlock(&pu->sink_mu);
}

/* A layer's progress line, as docker's: the blob's short ID and a status. */
static void emit(struct pull *pu, const char *short_id, const char *status, int64_t cur,
                 int64_t total, const char *detail)
{
    struct ev ev = {
        .type = EV_IMAGE,
        .action = "layer",
        .id = short_id,
        .name = short_id,
        .status = status,
        .detail = detail,
        .current = cur,
        .total = total,
    };
    ev_attr_add(&ev, "image", pu->l->src);
    ev_emit(&pu->sink, &ev);
}

static bool due(int64_t *last)
{
    int64_t now = mono_ns();
    if (now - *last < PROGRESS_NS)
        return false;
    *last = now;
    return true;
}

static void set_state(struct pstream *st, enum stream_state s)
{
    pthread_mutex_lock(&st->pu->mu);
    st->state = s;
    pthread_cond_broadcast(&st->pu->cv);
    pthread_mutex_unlock(&st->pu->mu);
}

static void set_written(struct pstream *st, uint64_t w)
{
    pthread_mutex_lock(&st->pu->mu);
    st->written = w;
    if (st->pu->sleepers > 0) /* a wake-up per chunk costs more than the chunk */
        pthread_cond_broadcast(&st->pu->cv);
    pthread_mutex_unlock(&st->pu->mu);
}

/* ---- the transport's side (the loop thread) ---- */

/* The kept bytes of an earlier try, hashed so that the digest covers them. */
static int hash_kept(struct pstream *st, uint64_t have, struct berr *e)
{
    _cleanup_free_ char *buf = xmalloc(HASH_CHUNK);
    for (uint64_t off = 0; off < have;) {
        size_t want = have - off < HASH_CHUNK ? (size_t)(have - off) : HASH_CHUNK;
        ssize_t n = pread(st->fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return berr_errno(e, n < 0 ? errno : EIO, "%s: %s %s: reading the partial download",
                              st->pu->l->src, st->label, st->digest);
        sha256_update(st->h, buf, (size_t)n);
        off += (uint64_t)n;
    }
    return 0;
}

static int op_begin(struct image_blob_job *j, uint64_t *offset, struct berr *e)
{
    struct pstream *st = j->ud;
    struct store *s = st->pu->l->s;
    int r = store_partial_lock(s, st->digest, &st->lockfd, e);
    if (r < 0)
        return r;
    if (r == 0) {
        if (!st->waiting)
            emit(st->pu, st->short_id, "Waiting", 0, 0, NULL);
        st->waiting = true;
        return IMAGE_BLOB_WAIT;
    }
    if (store_blob_exists(s, st->digest)) {
        /* Another pull stored it while this one waited. */
        if ((st->fd = store_blob_open(s, st->digest, e)) < 0)
            return st->fd;
        st->fetch = false;
        st->skipped = true;
        st->pu->l->stats->blobs_present++;
        emit(st->pu, st->short_id, "Download complete", 0, 0, NULL);
        set_written(st, (uint64_t)st->size);
        return IMAGE_BLOB_SKIP;
    }
    uint64_t have = 0;
    if ((st->fd = store_partial_open(s, st->digest, &have, e)) < 0)
        return st->fd;
    st->wbuf = xmalloc(WRITE_BUF);
    if (have > (uint64_t)st->size) {
        if (ftruncate(st->fd, 0) < 0)
            return berr_errno(e, errno, "%s: %s %s: truncating the partial download",
                              st->pu->l->src, st->label, st->digest);
        have = 0;
    }
    if ((r = hash_kept(st, have, e)) < 0)
        return r;
    set_written(st, have);
    emit(st->pu, st->short_id, "Downloading", (int64_t)have, st->size, NULL);
    *offset = have;
    return IMAGE_BLOB_START;
}

static int op_restart(struct image_blob_job *j, struct berr *e)
{
    struct pstream *st = j->ud;
    char dummy[DIGEST_STR_SIZE];
    sha256_final(st->h, dummy); /* resets it */
    st->wlen = 0;
    set_written(st, 0);
    if (ftruncate(st->fd, 0) < 0)
        return berr_errno(e, errno, "%s: %s %s: truncating the partial download", st->pu->l->src,
                          st->label, st->digest);
    return 0;
}

/* The bytes held in wbuf go to the partial file and become readable. */
static int flush(struct pstream *st, struct berr *e)
{
    uint64_t w = st->written; /* only this thread changes it */
    size_t done = 0;
    while (done < st->wlen) {
        ssize_t n = pwrite(st->fd, st->wbuf + done, st->wlen - done, (off_t)(w + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(e, errno, "%s: %s %s: writing to the image store", st->pu->l->src,
                              st->label, st->digest);
        done += (size_t)n;
    }
    st->wlen = 0;
    set_written(st, w + done);
    return 0;
}

static int op_data(struct image_blob_job *j, const void *buf, size_t len, struct berr *e)
{
    struct pstream *st = j->ud;
    uint64_t w = st->written + st->wlen;
    if (w + len > (uint64_t)st->size)
        return berr_set(e, -EBADMSG,
                        "%s: %s %s: the registry sent more than the %lld bytes the manifest says",
                        st->pu->l->src, st->label, st->digest, (long long)st->size);
    sha256_update(st->h, buf, len);
    st->received += len;
    /* libcurl hands 16 KiB at a time: written (and woken for) in larger
     * steps. */
    for (const char *p = buf; len > 0;) {
        size_t take = WRITE_BUF - st->wlen < len ? WRITE_BUF - st->wlen : len;
        memcpy(st->wbuf + st->wlen, p, take);
        st->wlen += take;
        p += take;
        len -= take;
        int r;
        if (st->wlen == WRITE_BUF && (r = flush(st, e)) < 0)
            return r;
    }
    if (due(&st->last_ev))
        emit(st->pu, st->short_id, "Downloading", (int64_t)(st->written + st->wlen), st->size,
             NULL);
    return 0;
}

static void op_retry(struct image_blob_job *j, const char *why, unsigned attempt, unsigned delay_ms)
{
    struct pstream *st = j->ud;
    char status[64];
    snprintf(status, sizeof status, "Retrying in %u second%s (attempt %u)", (delay_ms + 999) / 1000,
             delay_ms > 1000 ? "s" : "", attempt + 1);
    emit(st->pu, st->short_id, status, 0, 0, why);
}

static int verify(struct pstream *st, struct berr *e)
{
    const char *src = st->pu->l->src;
    if (!st->fetch)
        return 0; /* the store's blobs were verified as they were written */
    emit(st->pu, st->short_id, "Verifying Checksum", 0, 0, NULL);
    if (st->written != (uint64_t)st->size)
        return berr_set(e, -EBADMSG, "%s: %s %s: size mismatch: %lld bytes expected, %llu sent",
                        src, st->label, st->digest, (long long)st->size,
                        (unsigned long long)st->written);
    char got[DIGEST_STR_SIZE];
    sha256_final(st->h, got);
    if (strcmp(got, st->digest) != 0) {
        /* Bytes that hash wrong are worth nothing: the next pull starts
         * clean. */
        store_partial_remove(st->pu->l->s, st->digest);
        return berr_set(e, -EBADMSG,
                        "%s: %s %s: digest mismatch: the registry sent content hashing to %s", src,
                        st->label, st->digest, got);
    }
    emit(st->pu, st->short_id, "Download complete", 0, 0, NULL);
    return 0;
}

static int op_end(struct image_blob_job *j, int r, struct berr *e)
{
    struct pstream *st = j->ud;
    /* What arrived is kept, for the next try or the next pull. */
    int fr = st->wlen > 0 ? flush(st, r == 0 ? e : NULL) : 0;
    if (r == 0)
        r = fr < 0 ? fr : verify(st, e);
    else if (r != -ECANCELED && r != -EINTR && e && e->msg)
        berr_wrap(e, "%s: %s %s", st->pu->l->src, st->label, st->digest);
    set_state(st, r == 0 ? ST_DONE : ST_FAILED);
    return r;
}

static const struct image_blob_ops blob_ops = {
    .begin = op_begin,
    .restart = op_restart,
    .data = op_data,
    .retry = op_retry,
    .end = op_end,
};

/* ---- the workers ---- */

/* The next bytes of the layer's blob, waiting for the download. */
static ssize_t ujob_read(void *ud, const void **buf, const char **msg)
{
    struct pull_ujob *u = ud;
    struct pstream *st = u->st;
    struct pull *pu = u->pu;
    for (;;) {
        pthread_mutex_lock(&pu->mu);
        while (u->pos >= st->written && st->state == ST_RUNNING && !pu->cancel) {
            pu->sleepers++;
            pthread_cond_wait(&pu->cv, &pu->mu);
            pu->sleepers--;
        }
        uint64_t avail = st->written > u->pos ? st->written - u->pos : 0;
        enum stream_state state = st->state;
        bool cancel = pu->cancel;
        pthread_mutex_unlock(&pu->mu);
        if (cancel) {
            *msg = "cancelled";
            return -1;
        }
        if (state == ST_DONE && st->skipped && u->pos == 0 &&
            store_layer_exists(pu->l->s, u->pl->chain)) {
            u->found = true;
            *msg = "the layer is in the store now";
            return -1;
        }
        if (avail == 0) {
            if (state == ST_DONE)
                return 0;
            *msg = "the download failed";
            return -1;
        }
        size_t want = avail < READ_BUF ? (size_t)avail : READ_BUF;
        ssize_t n = pread(st->fd, u->buf, want, (off_t)u->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *msg = "reading the downloaded bytes";
            return -1;
        }
        if (n == 0)
            continue; /* a restart truncated the file: wait for the bytes again */
        u->pos += (uint64_t)n;
        if (state == ST_DONE && (!u->extracting || due(&u->last_ev))) {
            emit(pu, st->short_id, "Extracting", u->extracting ? (int64_t)u->pos : 0, st->size,
                 NULL);
            u->extracting = true;
        }
        *buf = u->buf;
        return n;
    }
}

static void unpack_one(struct pull_ujob *u)
{
    struct load *l = u->pu->l;
    struct plan_layer *pl = u->pl;
    uint64_t budget;
    int r = layer_byte_budget((uint64_t)pl->size, &budget, &u->err);
    if (r == 0)
        r = store_layer_tmpdir(l->s, &u->tmpname, &u->dirfd, &u->err);
    if (r == 0) {
        _cleanup_free_ char *what = xasprintf("%s: layer %s", l->src, pl->digest);
        struct unpack_stats us = {0};
        u->buf = xmalloc(READ_BUF);
        r = layer_apply_stream(ujob_read, u, u->dirfd, budget, pl->diffid, what, &u->pu->sink, NULL,
                               &us, &u->err);
        free(u->buf);
        u->buf = NULL;
        pl->unpacked = us.bytes;
    }
    if (r < 0 && u->found) {
        berr_clear(&u->err);
        pl->present = true;
        pl->unpacked = store_layer_size(l->s, pl->chain);
        emit(u->pu, u->st->short_id, "Already exists", 0, 0, NULL);
        return;
    }
    /* The tree reaches the disk now, while other layers still come, not
     * all at the commit (store_layer_commit's sync then finds it done). */
    if (r == 0 && syncfs(u->dirfd) < 0)
        r = berr_errno(&u->err, errno, "%s: syncing layer %s", l->src, pl->digest);
    u->rc = r;
    if (r == 0)
        emit(u->pu, u->st->short_id, "Pull complete", 0, 0, NULL);
}

static void *worker(void *arg)
{
    struct pull *pu = arg;
    for (;;) {
        pthread_mutex_lock(&pu->mu);
        struct pull_ujob *u = !pu->cancel && pu->next < pu->n_uj ? pu->uj[pu->next++] : NULL;
        pthread_mutex_unlock(&pu->mu);
        if (!u)
            return NULL;
        unpack_one(u);
    }
}

/* ---- the plan ---- */

static struct pstream *stream_for(struct pull *pu, struct plan_layer *pl, size_t k, struct berr *e)
{
    for (size_t i = 0; i < pu->n_st; i++)
        if (strcmp(pu->st[i]->digest, pl->digest) == 0)
            return pu->st[i];
    struct pstream *st = xcalloc(1, sizeof *st);
    pu->st = xreallocarray(pu->st, pu->n_st + 1, sizeof *pu->st);
    pu->st[pu->n_st++] = st;
    st->pu = pu;
    st->fd = st->lockfd = -1;
    memcpy(st->digest, pl->digest, DIGEST_STR_SIZE);
    snprintf(st->short_id, sizeof st->short_id, "%.12s", digest_hex(pl->digest));
    st->label = xasprintf("layer %zu", k + 1);
    st->size = pl->size;
    st->job = (struct image_blob_job){.digest = st->digest, .size = st->size, .ud = st};
    if (!pl->blob->remote) {
        /* In the store already (planning found it): read from there. */
        if ((st->fd = store_blob_open(pu->l->s, pl->digest, e)) < 0)
            return NULL;
        st->written = (uint64_t)st->size;
        st->state = ST_DONE;
        return st;
    }
    st->fetch = true;
    st->h = sha256_new();
    return st;
}

static int plan_jobs(struct pull *pu, struct plan *p, struct berr *e)
{
    for (size_t k = 0; k < p->n_layers; k++) {
        struct plan_layer *pl = &p->layers[k];
        char short_id[SHORT_ID_LEN + 1];
        snprintf(short_id, sizeof short_id, "%.12s", digest_hex(pl->digest));
        if (store_layer_exists(pu->l->s, pl->chain)) {
            pl->present = true;
            pl->unpacked = store_layer_size(pu->l->s, pl->chain);
            if (pl->blob->remote)
                pu->l->stats->blobs_present++;
            emit(pu, short_id, "Already exists", 0, 0, NULL);
            continue;
        }
        struct pstream *st = stream_for(pu, pl, k, e);
        if (!st)
            return e ? e->code : -EIO;
        struct pull_ujob *u = xcalloc(1, sizeof *u);
        u->pu = pu;
        u->pl = pl;
        u->st = st;
        u->dirfd = -1;
        pl->uj = u;
        pu->uj = xreallocarray(pu->uj, pu->n_uj + 1, sizeof *pu->uj);
        pu->uj[pu->n_uj++] = u;
        emit(pu, short_id, "Pulling fs layer", 0, 0, NULL);
    }
    return 0;
}

static int by_digest(const void *a, const void *b)
{
    const struct pstream *x = *(struct pstream *const *)a, *y = *(struct pstream *const *)b;
    return strcmp(x->digest, y->digest);
}

static int run(struct pull *pu, struct berr *e)
{
    size_t n_fetch = 0;
    for (size_t i = 0; i < pu->n_st; i++)
        n_fetch += pu->st[i]->fetch;
    _cleanup_free_ struct image_blob_job *jobs = xcalloc(n_fetch + 1, sizeof *jobs);
    _cleanup_free_ struct pstream **by_job = xcalloc(n_fetch + 1, sizeof *by_job);
    for (size_t i = 0, k = 0; i < pu->n_st; i++)
        if (pu->st[i]->fetch)
            by_job[k++] = pu->st[i];
    /* The fetch locks are taken in one order by every process. */
    qsort(by_job, n_fetch, sizeof *by_job, by_digest);
    for (size_t k = 0; k < n_fetch; k++)
        jobs[k] = by_job[k]->job;
    size_t want = pu->n_uj < WORKERS_MAX ? pu->n_uj : WORKERS_MAX;
    for (; pu->n_workers < want; pu->n_workers++)
        if (pthread_create(&pu->workers[pu->n_workers], NULL, worker, pu) != 0)
            break;
    if (pu->n_uj > 0 && pu->n_workers == 0)
        return berr_set(e, -EAGAIN, "%s: cannot start a thread to unpack layers", pu->l->src);
    int r = 0;
    if (n_fetch > 0) {
        const struct image_fetcher *f = pu->l->fetch;
        r = f->fetch_blobs(f->ctx, jobs, n_fetch, &blob_ops, e);
        for (size_t i = 0; i < n_fetch; i++) {
            if (by_job[i]->fetch) {
                pu->l->stats->blobs_fetched++;
                pu->l->stats->bytes_fetched += by_job[i]->received;
            }
        }
    }
    if (r < 0) {
        pthread_mutex_lock(&pu->mu);
        pu->cancel = true;
        pthread_cond_broadcast(&pu->cv);
        pthread_mutex_unlock(&pu->mu);
    }
    for (size_t i = 0; i < pu->n_workers; i++)
        pthread_join(pu->workers[i], NULL);
    pu->n_workers = 0;
    if (r < 0)
        return r;
    for (size_t i = 0; i < pu->n_uj; i++) {
        struct pull_ujob *u = pu->uj[i];
        if (u->rc < 0) {
            int rc = u->rc;
            berr_move(e, &u->err);
            return rc;
        }
    }
    return 0;
}

static struct pull *pull_get(struct load *l)
{
    if (l->pull)
        return l->pull;
    struct pull *pu = xcalloc(1, sizeof *pu);
    pu->l = l;
    l->pull = pu;
    pthread_mutex_init(&pu->mu, NULL);
    pthread_cond_init(&pu->cv, NULL);
    pthread_mutex_init(&pu->sink_mu, NULL);
    pu->sink = (struct ev_sink){.event = locked_event, .ud = pu};
    return pu;
}

int pull_lock_blob(struct load *l, const char *digest, struct berr *e)
{
    struct pull *pu = pull_get(l);
    for (bool said = false;; said = true) {
        int fd;
        int r = store_partial_lock(l->s, digest, &fd, e);
        if (r < 0)
            return r;
        if (r == 1) {
            pu->locks = xreallocarray(pu->locks, pu->n_locks + 1, sizeof *pu->locks);
            memcpy(pu->locks[pu->n_locks].digest, digest, DIGEST_STR_SIZE);
            pu->locks[pu->n_locks++].fd = fd;
            return store_blob_exists(l->s, digest) ? 0 : 1;
        }
        if (store_blob_exists(l->s, digest))
            return 0;
        if (!said) {
            char short_id[SHORT_ID_LEN + 1];
            snprintf(short_id, sizeof short_id, "%.12s", digest_hex(digest));
            emit(pu, short_id, "Waiting", 0, 0, NULL);
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000L};
        nanosleep(&ts, NULL);
    }
}

int pull_layers(struct load *l, struct berr *e)
{
    struct pull *pu = pull_get(l);
    for (size_t i = 0; i < l->n_plans; i++) {
        int r = plan_jobs(pu, &l->plans[i], e);
        if (r < 0)
            return r;
    }
    return run(pu, e);
}

int pull_commit_layer(struct load *l, struct plan_layer *pl, struct berr *e)
{
    if (pl->present) {
        if (!store_layer_exists(l->s, pl->chain))
            return berr_set(e, -ENOENT,
                            "%s: layer %s was removed from the store during the pull; pull again",
                            l->src, pl->digest);
        return 0;
    }
    struct pull_ujob *u = pl->uj;
    struct pstream *st = u->st;
    int r;
    if (st->fetch && !st->committed) {
        if ((r = store_partial_commit(l->s, st->digest, st->fd, e)) < 0)
            return berr_wrap(e, "%s", l->src);
        st->committed = true;
    }
    if ((r = store_layer_commit(l->s, u->tmpname, u->dirfd, pl->chain, pl->diffid, pl->unpacked,
                                e)) < 0)
        return r;
    free(u->tmpname);
    u->tmpname = NULL;
    return 0;
}

void pull_free(struct pull *pu)
{
    if (!pu)
        return;
    for (size_t i = 0; i < pu->n_uj; i++) {
        struct pull_ujob *u = pu->uj[i];
        if (u->tmpname)
            fs_rm_rf_at(pu->l->s->tmpfd, u->tmpname, NULL);
        if (u->dirfd >= 0)
            close(u->dirfd);
        free(u->tmpname);
        berr_clear(&u->err);
        free(u);
    }
    free(pu->uj);
    for (size_t i = 0; i < pu->n_st; i++) {
        struct pstream *st = pu->st[i];
        if (st->fd >= 0)
            close(st->fd);
        store_partial_unlock(pu->l->s, st->digest, st->lockfd);
        sha256_free(st->h);
        free(st->wbuf);
        free((char *)st->label);
        free(st);
    }
    free(pu->st);
    for (size_t i = 0; i < pu->n_locks; i++)
        store_partial_unlock(pu->l->s, pu->locks[i].digest, pu->locks[i].fd);
    free(pu->locks);
    pthread_mutex_destroy(&pu->mu);
    pthread_cond_destroy(&pu->cv);
    pthread_mutex_destroy(&pu->sink_mu);
    free(pu);
}
