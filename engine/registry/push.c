/* SPDX-License-Identifier: Apache-2.0 */
/* `push` (OCI distribution spec, "Pushing"): every blob of the stored
 * manifest the registry lacks, then the manifest byte for byte (so the
 * registry's digest is the store's). A blob the registry has is skipped
 * (HEAD); one the image's other repository on the same registry has is
 * mounted from there; others are uploaded whole (POST, PUT ?digest=) or,
 * above the chunk size, in chunks (PATCH with Content-Range, each to the
 * Location the last answer gave, then PUT ?digest=), streamed from the
 * store file. Not here: the HTTP side of a request (request.c), output
 * (cmd/). */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/image/manifest.h"
#include "engine/registry/client_int.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define CHUNK_MIN 1024u
#define CHUNK_MAX (1u << 30)

struct push {
    struct registry_client *c;
    const struct ev_sink *sink;
    const char *mount_from; /* a repository of the same registry naming the image, or NULL */
    uint64_t chunk;
    struct registry_push_result *res;
    bool layer; /* the blob being pushed is a layer (the config's progress is not shown) */
};

static void cleanup_replyp(struct registry_reply *r)
{
    registry_reply_free(r);
}
#define _cleanup_reply_ __attribute__((cleanup(cleanup_replyp)))

/* BERTH_PUSH_CHUNK_SIZE, or the default. */
static int chunk_size(uint64_t *out, struct berr *e)
{
    const char *v = getenv("BERTH_PUSH_CHUNK_SIZE");
    *out = REGISTRY_PUSH_CHUNK;
    if (!v || !*v)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-' || v[0] == '+' || n < CHUNK_MIN || n > CHUNK_MAX)
        return berr_set(e, -EINVAL,
                        "BERTH_PUSH_CHUNK_SIZE=\"%.40s\": expected a number of bytes from %u to %u",
                        v, CHUNK_MIN, CHUNK_MAX);
    *out = n;
    return 0;
}

static void say(const struct push *p, const char *digest, const char *status, uint64_t cur,
                uint64_t total)
{
    if (!p->layer)
        return;
    char id[13];
    snprintf(id, sizeof id, "%.12s", digest_hex(digest));
    struct ev ev = {.type = EV_IMAGE,
                    .action = "push",
                    .id = id,
                    .name = p->c->shown,
                    .status = status,
                    .current = (int64_t)cur,
                    .total = (int64_t)total};
    ev_emit(p->sink, &ev);
}

/* An answer the step did not expect: the registry's words. */
static int unexpected(const struct registry_reply *r, struct berr *e)
{
    _cleanup_free_ char *why = registry_error_text(r->body, r->body_len, r->code);
    return berr_set(e, r->code == 404 ? -ENOENT : -EIO, "%s", why);
}

/* HEAD /v2/NAME/blobs/DIGEST: whether the registry has the blob. */
static int blob_exists(struct push *p, const char *digest, bool *yes, struct berr *e)
{
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", p->c->base, p->c->repo, digest);
    _cleanup_reply_ struct registry_reply r = {0};
    int rc = registry_request(p->c, "HEAD", url, NULL, NULL, &r, e);
    if (rc < 0)
        return rc;
    *yes = r.code == 200;
    if (r.code != 200 && r.code != 404)
        return unexpected(&r, e);
    return 0;
}

/* POST /v2/NAME/blobs/uploads/ (with mount and from when there is a
 * repository to mount from): *mounted when the registry mounted the blob,
 * else *session is where the upload goes. */
static int upload_start(struct push *p, const char *digest, bool *mounted, char **session,
                        struct berr *e)
{
    _cleanup_free_ char *url = p->mount_from
                                   ? xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                               p->c->base, p->c->repo, digest, p->mount_from)
                                   : xasprintf("%s/v2/%s/blobs/uploads/", p->c->base, p->c->repo);
    _cleanup_reply_ struct registry_reply r = {0};
    int rc = registry_request(p->c, "POST", url, NULL, NULL, &r, e);
    if (rc < 0)
        return rc;
    *mounted = p->mount_from && r.code == 201;
    if (*mounted)
        return 0;
    if (r.code != 202)
        return unexpected(&r, e);
    return registry_location(p->c->base, url, r.location, NULL, session, e);
}

/* Sends len bytes of fd from off to url with method; 201 (PUT) or 202
 * (PATCH) expected. For a PATCH, *next is where the upload goes on. */
static int send_part(struct push *p, const char *method, const char *url, int fd, uint64_t off,
                     uint64_t len, uint64_t total, char **next, struct berr *e)
{
    _cleanup_free_ char *range =
        len ? xasprintf("Content-Range: %" PRIu64 "-%" PRIu64, off, off + len - 1) : NULL;
    const char *hdrs[] = {"Content-Type: application/octet-stream", total > len ? range : NULL,
                          NULL};
    struct registry_body body = {.fd = fd, .off = off, .len = len};
    _cleanup_reply_ struct registry_reply r = {0};
    int rc = registry_request(p->c, method, url, hdrs, len ? &body : NULL, &r, e);
    if (rc < 0)
        return rc;
    bool put = strcmp(method, "PUT") == 0;
    if (r.code != (put ? 201 : 202))
        return unexpected(&r, e);
    p->res->bytes_pushed += len;
    return put ? 0 : registry_location(p->c->base, url, r.location, NULL, next, e);
}

/* The blob into the upload at *loc: whole in the closing PUT when it fits
 * in a chunk, else in chunks (PATCH), then the closing PUT. *loc follows
 * the upload (for a cancel). */
static int upload(struct push *p, const char *digest, int fd, uint64_t size, char **loc,
                  struct berr *e)
{
    uint64_t off = 0;
    int rc = 0;
    while (size > p->chunk && off < size && rc == 0) {
        uint64_t n = size - off < p->chunk ? size - off : p->chunk;
        char *next = NULL;
        say(p, digest, "Pushing", off, size);
        rc = send_part(p, "PATCH", *loc, fd, off, n, size, &next, e);
        if (rc == 0) {
            free(*loc);
            *loc = next;
            off += n;
        }
    }
    if (rc < 0)
        return rc;
    _cleanup_free_ char *url = NULL;
    if ((rc = registry_location(p->c->base, *loc, *loc, digest, &url, e)) < 0)
        return rc;
    if (off == 0)
        say(p, digest, "Pushing", 0, size);
    return send_part(p, "PUT", url, fd, off, size - off, size, NULL, e);
}

/* Cancels an upload that failed (DELETE), so that the registry does not
 * keep it until its purge; its own failure is not the push's error. */
static void cancel(struct push *p, const char *loc)
{
    struct registry_reply r = {0};
    if (registry_request(p->c, "DELETE", loc, NULL, NULL, &r, NULL) == 0)
        registry_reply_free(&r);
}

static int push_blob(struct push *p, struct store *s, const struct descriptor *d, bool layer,
                     struct berr *e)
{
    bool have = false, mounted = false;
    p->layer = layer;
    int rc = blob_exists(p, d->digest, &have, e);
    if (rc < 0)
        return rc;
    if (have) {
        p->res->blobs_present++;
        say(p, d->digest, "Layer already exists", 0, 0);
        return 0;
    }
    _cleanup_close_ int fd = image_blob_open(s, d->digest, e);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(e, errno, "reading the stored blob");
    if (d->size >= 0 && (uint64_t)st.st_size != (uint64_t)d->size)
        return berr_set(e, -EIO, "the stored blob has %jd bytes, the manifest says %" PRId64,
                        (intmax_t)st.st_size, d->size);
    char *session = NULL;
    if ((rc = upload_start(p, d->digest, &mounted, &session, e)) < 0)
        return rc;
    if (mounted) {
        p->res->blobs_mounted++;
        _cleanup_free_ char *what = xasprintf("Mounted from %s", p->mount_from);
        say(p, d->digest, what, 0, 0);
        return 0;
    }
    if ((rc = upload(p, d->digest, fd, (uint64_t)st.st_size, &session, e)) < 0)
        cancel(p, session);
    free(session);
    if (rc < 0)
        return rc;
    p->res->blobs_pushed++;
    say(p, d->digest, "Pushed", (uint64_t)st.st_size, (uint64_t)st.st_size);
    return 0;
}

/* PUT /v2/NAME/manifests/TAG: the manifest as stored, with its media type;
 * the registry must name the same digest. */
static int push_manifest(struct push *p, const struct image_push_src *src, const char *tag,
                         struct berr *e)
{
    json_t *j = json_loadb(src->manifest, src->manifest_len, 0, NULL);
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    _cleanup_free_ char *ctype = xasprintf("Content-Type: %s", mt ? mt : MT_OCI_MANIFEST);
    json_decref(j);
    _cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", p->c->base, p->c->repo, tag);
    const char *hdrs[] = {ctype, NULL};
    struct registry_body body = {.fd = -1, .mem = src->manifest, .len = src->manifest_len};
    _cleanup_reply_ struct registry_reply r = {0};
    int rc = registry_request(p->c, "PUT", url, hdrs, &body, &r, e);
    if (rc < 0)
        return rc;
    if (r.code != 201)
        return unexpected(&r, e);
    if (r.digest && strcmp(r.digest, src->manifest_digest) != 0)
        return berr_set(e, -EIO, "the registry stored it as %.100s, not %s", r.digest,
                        src->manifest_digest);
    memcpy(p->res->digest, src->manifest_digest, DIGEST_STR_SIZE);
    p->res->size = src->manifest_len;
    return 0;
}

/* Another repository of the same registry the image has a reference in:
 * its blobs may be there already. */
static char *mount_source(const struct imgref *to, char *const *refs)
{
    for (size_t i = 0; refs && refs[i]; i++) {
        _cleanup_imgref_ struct imgref r = {0};
        if (ref_parse(refs[i], &r, NULL) == 0 && strcmp(r.domain, to->domain) == 0 &&
            strcmp(r.path, to->path) != 0)
            return xstrdup(r.path);
    }
    return NULL;
}

static int push_blobs(struct push *p, struct store *s, const struct image_push_src *src,
                      struct berr *e)
{
    struct oci_manifest m = {0};
    int rc = manifest_parse(src->manifest, src->manifest_len, "the stored manifest", &m, e);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < m.n_layers && rc == 0; i++)
        if ((rc = push_blob(p, s, &m.layers[i], true, e)) < 0)
            berr_wrap(e, "layer %s", m.layers[i].digest);
    if (rc == 0 && (rc = push_blob(p, s, &m.config, false, e)) < 0)
        berr_wrap(e, "config %s", m.config.digest);
    manifest_free(&m);
    return rc;
}

int registry_push(struct store *s, const char *ref, const struct ev_sink *sink,
                  struct registry_push_result *res, struct berr *e)
{
    memset(res, 0, sizeof *res);
    _cleanup_imgref_ struct imgref ir = {0};
    int rc = ref_parse(ref, &ir, e);
    if (rc < 0)
        return rc;
    struct push p = {.sink = sink, .res = res};
    if ((rc = chunk_size(&p.chunk, e)) < 0)
        return rc;
    struct image_push_src src = {0};
    if ((rc = image_push_src_get(s, ref, &src, e)) < 0)
        return rc;
    _cleanup_free_ char *from = mount_source(&ir, src.refs);
    p.mount_from = from;
    _cleanup_registry_client_ struct registry_client *c = NULL;
    if ((rc = registry_client_new(&ir, &c, e)) == 0) {
        p.c = c;
        if ((rc = push_blobs(&p, s, &src, e)) == 0 &&
            (rc = push_manifest(&p, &src, ir.digest ? ir.digest : ir.tag, e)) < 0)
            berr_wrap(e, "manifest %s", src.manifest_digest);
        if (rc < 0)
            berr_wrap(e, "pushing %s%s%s", c->shown, ir.digest ? "@" : ":",
                      ir.digest ? ir.digest : ir.tag);
    }
    image_push_src_free(&src);
    return rc;
}
