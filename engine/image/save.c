/* SPDX-License-Identifier: Apache-2.0 */
/* `image save`: stored images written as a docker-archive (manifest.json,
 * the config, each layer as the uncompressed tar its DiffID names) that is
 * also an OCI image layout (oci-layout, index.json, a manifest per image),
 * as docker 25+ writes it. Streamed: a compressed layer is decompressed
 * twice (once to learn its size, which the tar header needs first, once to
 * write it), never held in memory. Not here: loading (archive.c). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/layer.h"
#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define SAVE_BUF (128 * 1024)

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

struct save_layer {
    char diffid[DIGEST_STR_SIZE];
    char *blob;   /* the stored blob's digest */
    int64_t size; /* of the uncompressed tar */
};

struct save_image {
    char *id;
    char *config;
    size_t config_len;
    char **refs; /* normalized references to tag it with */
    struct save_layer *layers;
    size_t n_layers;
    char *manifest; /* the OCI manifest written for the uncompressed layers */
    char manifest_digest[DIGEST_STR_SIZE];
};

static void save_image_free(struct save_image *im)
{
    free(im->id);
    free(im->config);
    strv_free(im->refs);
    for (size_t i = 0; i < im->n_layers; i++)
        free(im->layers[i].blob);
    free(im->layers);
    free(im->manifest);
}

static void free_archive_read(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

/* True when arg names the image id by its ID (full or short, with or
 * without "sha256:") rather than by a reference. */
static bool names_id(const char *arg, const char *id)
{
    const char *hex = strncmp(arg, "sha256:", 7) == 0 ? arg + 7 : arg;
    size_t n = strlen(hex);
    return n > 0 && n <= 64 && strspn(hex, "0123456789abcdef") == n && strncmp(id + 7, hex, n) == 0;
}

/* Streams the uncompressed bytes of a stored layer blob: to out when not
 * NULL, else only counted and hashed. *size and diffid receive what was
 * seen. */
static int layer_stream(struct store *s, const char *blob, const char *what, struct archive *out,
                        int64_t *size, char diffid[DIGEST_STR_SIZE], struct berr *e)
{
    _cleanup_close_ int fd = image_blob_open(s, blob, e);
    if (fd < 0)
        return berr_wrap(e, "%s", what);
    __attribute__((cleanup(free_archive_read))) struct archive *raw = archive_read_new();
    if (archive_support_safe_filters(raw) < 0 || archive_read_support_format_raw(raw) != ARCHIVE_OK)
        return berr_set(e, -ENOTSUP, "%s: libarchive lacks an in-process decompressor", what);
    struct archive_entry *ent;
    if (archive_read_open_fd(raw, fd, SAVE_BUF) != ARCHIVE_OK ||
        archive_read_next_header(raw, &ent) != ARCHIVE_OK)
        return berr_set(e, -EIO, "%s: %s", what, archive_error_string(raw));
    _cleanup_sha256_ struct sha256 *h = sha256_new();
    _cleanup_free_ char *buf = xmalloc(SAVE_BUF);
    int64_t total = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(raw, buf, SAVE_BUF);
        if (n < 0)
            return berr_set(e, -EIO, "%s: %s", what, archive_error_string(raw));
        if (n == 0)
            break;
        sha256_update(h, buf, (size_t)n);
        total += n;
        if (out && archive_write_data(out, buf, (size_t)n) != n) {
            const char *why = archive_error_string(out);
            return berr_set(e, -EIO, "%s: writing: %s", what,
                            why ? why : "more bytes than when it was measured");
        }
    }
    sha256_final(h, diffid);
    *size = total;
    return 0;
}

/* Everything about one REF the archive needs, checked before anything is
 * written: the config, each layer's DiffID and uncompressed size. */
static int plan_image(struct store *s, const char *arg, struct save_image *im, struct berr *e)
{
    _cleanup_image_ struct image *img = NULL;
    int r = store_image_get(s, arg, &img, e);
    if (r < 0)
        return r;
    im->id = xstrdup(img->id);
    if (img->ref && !names_id(arg, img->id))
        strv_push(&im->refs, xstrdup(img->ref));
    if (!img->manifest_digest)
        return berr_set(e, -ENOENT, "image %s has no stored manifest (load or pull it again)", arg);
    _cleanup_free_ char *mbuf = NULL;
    size_t mlen = 0;
    if ((r = store_blob_read(s, img->manifest_digest, IMAGE_JSON_MAX, &mbuf, &mlen, e)) < 0 ||
        (r = store_blob_read(s, img->id, IMAGE_JSON_MAX, &im->config, &im->config_len, e)) < 0)
        return berr_wrap(e, "image %s", arg);
    struct oci_manifest m = {0};
    struct imgconfig c = {0};
    if ((r = manifest_parse(mbuf, mlen, "manifest", &m, e)) < 0)
        return berr_wrap(e, "image %s", arg);
    if ((r = imgconfig_parse(im->config, im->config_len, "config", &c, e)) < 0) {
        manifest_free(&m);
        return berr_wrap(e, "image %s", arg);
    }
    if (c.n_diff_ids != m.n_layers) {
        r = berr_set(e, -EINVAL, "image %s: %zu layers but %zu rootfs.diff_ids in the config", arg,
                     m.n_layers, c.n_diff_ids);
        goto out;
    }
    im->layers = xcalloc(m.n_layers ? m.n_layers : 1, sizeof *im->layers);
    for (size_t i = 0; i < m.n_layers; i++) {
        struct save_layer *l = &im->layers[im->n_layers++];
        memcpy(l->diffid, c.diff_ids[i], DIGEST_STR_SIZE);
        l->blob = xstrdup(m.layers[i].digest);
        if (strcmp(l->blob, l->diffid) == 0) {
            l->size = m.layers[i].size; /* a plain tar, verified when stored */
            continue;
        }
        _cleanup_free_ char *what = xasprintf("image %s: layer %s", arg, l->blob);
        char got[DIGEST_STR_SIZE];
        if ((r = layer_stream(s, l->blob, what, NULL, &l->size, got, e)) < 0)
            goto out;
        if (strcmp(got, l->diffid) != 0) {
            r = berr_set(e, -EIO,
                         "%s: DiffID mismatch: the image config says %s, the content is %s", what,
                         l->diffid, got);
            goto out;
        }
    }
    const char **digests = xcalloc(im->n_layers + 1, sizeof *digests);
    const char **types = xcalloc(im->n_layers + 1, sizeof *types);
    int64_t *sizes = xcalloc(im->n_layers + 1, sizeof *sizes);
    for (size_t i = 0; i < im->n_layers; i++) {
        digests[i] = im->layers[i].diffid;
        types[i] = MT_OCI_LAYER;
        sizes[i] = im->layers[i].size;
    }
    im->manifest =
        manifest_synthesize(im->id, (int64_t)im->config_len, digests, sizes, types, im->n_layers);
    free(digests);
    free(types);
    free(sizes);
    sha256_digest(im->manifest, strlen(im->manifest), im->manifest_digest);
out:
    manifest_free(&m);
    imgconfig_free(&c);
    return r;
}

static int put_header(struct archive *a, const char *name, int64_t size, struct berr *e)
{
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, name);
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_perm(ent, 0644);
    archive_entry_set_size(ent, size);
    archive_entry_set_mtime(ent, 0, 0);
    int r = archive_write_header(a, ent);
    archive_entry_free(ent);
    if (r != ARCHIVE_OK)
        return berr_set(e, -EIO, "%s: %s", name, archive_error_string(a));
    return 0;
}

static int put_buf(struct archive *a, const char *name, const void *buf, size_t len, struct berr *e)
{
    int r = put_header(a, name, (int64_t)len, e);
    if (r < 0)
        return r;
    if (len && archive_write_data(a, buf, len) != (la_ssize_t)len)
        return berr_set(e, -EIO, "%s: %s", name, archive_error_string(a));
    return 0;
}

static char *blob_name(const char *digest)
{
    return xasprintf("blobs/sha256/%s", digest + 7);
}

static int put_layer(struct store *s, struct archive *a, const struct save_layer *l, struct berr *e)
{
    _cleanup_free_ char *name = blob_name(l->diffid);
    int r = put_header(a, name, l->size, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("layer %s", l->diffid);
    int64_t got = 0;
    char diffid[DIGEST_STR_SIZE];
    if ((r = layer_stream(s, l->blob, what, a, &got, diffid, e)) < 0)
        return r;
    if (got != l->size || strcmp(diffid, l->diffid) != 0)
        return berr_set(e, -EIO, "%s: changed while it was saved", what);
    return 0;
}

static json_t *ref_annotations(const char *ref)
{
    struct imgref ir = {0};
    if (ref_parse(ref, &ir, NULL) < 0)
        return NULL;
    json_t *o = json_pack("{s:s, s:s}", "io.containerd.image.name", ref,
                          "org.opencontainers.image.ref.name", ir.tag ? ir.tag : "latest");
    ref_free(&ir);
    return o;
}

static json_t *index_entry(const struct save_image *im, const char *ref)
{
    json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_MANIFEST, "digest",
                          im->manifest_digest, "size", (json_int_t)strlen(im->manifest));
    json_t *ann = ref ? ref_annotations(ref) : NULL;
    if (ann)
        json_object_set_new(d, "annotations", ann);
    return d;
}

static int put_json(struct archive *a, const char *name, json_t *doc, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        return berr_set(e, -ENOMEM, "%s: cannot encode", name);
    return put_buf(a, name, text, strlen(text), e);
}

static int write_all(struct store *s, const struct save_image *ims, size_t n, struct archive *a,
                     struct berr *e)
{
    _cleanup_strv_ char **done = NULL;
    _cleanup_json_ json_t *manifest = json_array();
    _cleanup_json_ json_t *index = json_array();
    int r;
    for (size_t i = 0; i < n; i++) {
        const struct save_image *im = &ims[i];
        _cleanup_free_ char *cname = blob_name(im->id);
        _cleanup_free_ char *mname = blob_name(im->manifest_digest);
        if (!strv_contains(done, im->id)) {
            if ((r = put_buf(a, cname, im->config, im->config_len, e)) < 0)
                return r;
            strv_push(&done, xstrdup(im->id));
        }
        json_t *layers = json_array();
        json_t *entry = json_pack("{s:s, s:n, s:o}", "Config", cname, "RepoTags", "Layers", layers);
        json_array_append_new(manifest, entry);
        for (size_t j = 0; j < im->n_layers; j++) {
            const struct save_layer *l = &im->layers[j];
            _cleanup_free_ char *lname = blob_name(l->diffid);
            json_array_append_new(layers, json_string_nocheck(lname));
            if (strv_contains(done, l->diffid))
                continue;
            if ((r = put_layer(s, a, l, e)) < 0)
                return r;
            strv_push(&done, xstrdup(l->diffid));
        }
        if (!strv_contains(done, im->manifest_digest)) {
            if ((r = put_buf(a, mname, im->manifest, strlen(im->manifest), e)) < 0)
                return r;
            strv_push(&done, xstrdup(im->manifest_digest));
        }
        if (!im->refs) {
            json_array_append_new(index, index_entry(im, NULL));
            continue;
        }
        json_t *tags = json_array();
        json_object_set_new(entry, "RepoTags", tags);
        for (size_t k = 0; im->refs[k]; k++) {
            _cleanup_free_ char *fam = ref_familiarize(im->refs[k]);
            json_array_append_new(tags, json_string_nocheck(fam));
            json_array_append_new(index, index_entry(im, im->refs[k]));
        }
    }
    _cleanup_json_ json_t *ix = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                          MT_OCI_INDEX, "manifests", index);
    _cleanup_json_ json_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
    if ((r = put_json(a, "index.json", ix, e)) < 0 ||
        (r = put_json(a, "manifest.json", manifest, e)) < 0 ||
        (r = put_json(a, "oci-layout", layout, e)) < 0)
        return r;
    return 0;
}

int image_save(struct store *s, char *const *refs, int fd, struct berr *e)
{
    size_t n = 0;
    struct save_image *ims = xcalloc(strv_len(refs) + 1, sizeof *ims);
    int r = 0;
    for (size_t i = 0; refs && refs[i]; i++) {
        struct save_image im = {0};
        if ((r = plan_image(s, refs[i], &im, e)) < 0) {
            save_image_free(&im);
            goto out;
        }
        /* Several REFs of one image: one entry with all their tags. */
        struct save_image *same = NULL;
        for (size_t j = 0; j < n && !same; j++)
            if (strcmp(ims[j].id, im.id) == 0)
                same = &ims[j];
        if (!same) {
            ims[n++] = im;
            continue;
        }
        for (size_t k = 0; im.refs && im.refs[k]; k++)
            if (!strv_contains(same->refs, im.refs[k]))
                strv_push(&same->refs, xstrdup(im.refs[k]));
        save_image_free(&im);
    }
    struct archive *a = archive_write_new();
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_add_filter_none(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        r = berr_set(e, -EIO, "cannot start the archive: %s", archive_error_string(a));
        archive_write_free(a);
        goto out;
    }
    r = write_all(s, ims, n, a, e);
    if (archive_write_close(a) != ARCHIVE_OK && r == 0)
        r = berr_set(e, -EIO, "writing the archive: %s", archive_error_string(a));
    archive_write_free(a);
out:
    for (size_t i = 0; i < n; i++)
        save_image_free(&ims[i]);
    free(ims);
    return r;
}

int image_save_file(struct store *s, char *const *refs, const char *path, struct berr *e)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return berr_errno(e, errno, "%s", tmp);
    int r = image_save(s, refs, fd, e);
    if (r == 0 && fsync(fd) < 0)
        r = berr_errno(e, errno, "%s", tmp);
    if (close(fd) < 0 && r == 0)
        r = berr_errno(e, errno, "%s", tmp);
    if (r == 0 && rename(tmp, path) < 0)
        r = berr_errno(e, errno, "%s", path);
    if (r < 0)
        unlink(tmp);
    return r;
}
