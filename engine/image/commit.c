/* SPDX-License-Identifier: Apache-2.0 */
/* A built image into the store: its config and an OCI manifest as blobs,
 * its entry in the index as a load makes it, its tags moved to it as
 * docker moves them; and the parts of a stored image a build starts from.
 * Not here: layers from directories (engine/image/layerdir.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

bool image_layer_present(struct store *s, const struct image_layer_ref *l)
{
    return store_blob_exists(s, l->digest) && store_layer_exists(s, l->chain_id);
}

char *image_layer_dir(struct store *s, const char *chain_id)
{
    return digest_is_valid(chain_id) ? store_layer_path(s, chain_id) : NULL;
}

/* ---- the parts of a stored image ---- */

static void set_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int parts_layers(const struct oci_manifest *m, const struct imgconfig *c, const char *id,
                        struct image_layer_ref **layers, size_t *n, struct berr *e)
{
    if (c->n_diff_ids != m->n_layers)
        return berr_set(e, -EINVAL, "image %s: %zu layers but %zu rootfs.diff_ids in the config",
                        id, m->n_layers, c->n_diff_ids);
    struct image_layer_ref *out = xcalloc(m->n_layers + 1, sizeof *out);
    for (size_t i = 0; i < m->n_layers; i++) {
        set_str(out[i].diff_id, sizeof out[i].diff_id, c->diff_ids[i]);
        set_str(out[i].digest, sizeof out[i].digest, m->layers[i].digest);
        set_str(out[i].media_type, sizeof out[i].media_type, m->layers[i].media_type);
        out[i].size = m->layers[i].size;
        chain_id(i ? out[i - 1].chain_id : NULL, out[i].diff_id, out[i].chain_id);
    }
    *layers = out;
    *n = m->n_layers;
    return 0;
}

int image_parts_get(struct store *s, const char *ref_or_id, json_t **config,
                    struct image_layer_ref **layers, size_t *n, struct berr *e)
{
    *config = NULL;
    *layers = NULL;
    *n = 0;
    _cleanup_json_ json_t *idx = NULL;
    _cleanup_free_ char *id = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0 || (r = store_image_resolve(idx, ref_or_id, &id, e)) < 0)
        return r;
    json_t *entry = json_object_get(json_object_get(idx, "images"), id);
    const char *mdigest = json_string_value(json_object_get(entry, "manifest"));
    if (!mdigest)
        return berr_set(e, -ENOENT, "image %s has no stored manifest (load or pull it again)",
                        ref_or_id);
    _cleanup_free_ char *cbuf = NULL, *mbuf = NULL;
    size_t clen = 0, mlen = 0;
    if ((r = store_blob_read(s, id, IMAGE_JSON_MAX, &cbuf, &clen, e)) < 0 ||
        (r = store_blob_read(s, mdigest, IMAGE_JSON_MAX, &mbuf, &mlen, e)) < 0)
        return berr_wrap(e, "image %s", ref_or_id);
    struct imgconfig c;
    if ((r = imgconfig_parse(cbuf, clen, id, &c, e)) < 0)
        return r;
    struct oci_manifest m;
    if ((r = manifest_parse(mbuf, mlen, mdigest, &m, e)) < 0) {
        imgconfig_free(&c);
        return r;
    }
    _cleanup_json_ json_t *cfg = NULL;
    r = parts_layers(&m, &c, id, layers, n, e);
    if (r == 0 && (r = image_json_load(cbuf, clen, id, &cfg, e)) < 0) {
        free(*layers);
        *layers = NULL;
        *n = 0;
    }
    if (r == 0)
        *config = TAKE_PTR(cfg);
    manifest_free(&m);
    imgconfig_free(&c);
    return r;
}

/* ---- commit ---- */

/* The OCI name of a layer media type: a docker layer's bytes are the same
 * as the OCI type's, and an OCI manifest names only OCI types. */
static const char *oci_layer_type(const char *mt)
{
    static const char *const map[][2] = {
        {"application/vnd.docker.image.rootfs.diff.tar", MT_OCI_LAYER},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", MT_OCI_LAYER "+gzip"},
        {"application/vnd.docker.image.rootfs.diff.tar.zstd", MT_OCI_LAYER "+zstd"},
        {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (strcmp(mt, map[i][0]) == 0)
            return map[i][1];
    return mt;
}

/* Everything that can be checked before the store is touched: the config
 * parses, its DiffIDs are the layers', each layer's ChainID follows from
 * them, the tags are references docker would accept. */
static int commit_check(const char *config, size_t len, const struct image_layer_ref *layers,
                        size_t n, char *const *tags, char ***norm, struct berr *e)
{
    struct imgconfig c;
    int r = imgconfig_parse(config, len, "the image config", &c, e);
    if (r < 0)
        return r;
    if (c.n_diff_ids != n)
        r = berr_set(e, -EINVAL, "the image config has %zu rootfs.diff_ids for %zu layers",
                     c.n_diff_ids, n);
    char chain[DIGEST_STR_SIZE];
    for (size_t i = 0; r == 0 && i < n; i++) {
        const struct image_layer_ref *l = &layers[i];
        chain_id(i ? chain : NULL, c.diff_ids[i], chain);
        if (strcmp(c.diff_ids[i], l->diff_id) != 0)
            r = berr_set(e, -EINVAL,
                         "the image config's rootfs.diff_ids[%zu] is %s, but layer %zu "
                         "has DiffID %.71s",
                         i, c.diff_ids[i], i, l->diff_id);
        else if (strcmp(chain, l->chain_id) != 0)
            r = berr_set(e, -EINVAL,
                         "layer %zu: ChainID %.71s does not follow from the layers "
                         "below it (expected %s)",
                         i, l->chain_id, chain);
        else if (!digest_is_valid(l->digest) || !*l->media_type)
            r = berr_set(e, -EINVAL, "layer %zu (%s): no blob digest or media type", i, chain);
    }
    imgconfig_free(&c);
    for (size_t i = 0; r == 0 && tags && tags[i]; i++) {
        _cleanup_imgref_ struct imgref ir = {0};
        if ((r = ref_parse(tags[i], &ir, e)) < 0)
            break;
        if (ir.digest)
            r = berr_set(e, -EINVAL,
                         "refusing to create a tag with a digest reference (\"%.200s\")", tags[i]);
        else
            strv_push(norm, ref_string(&ir));
    }
    return r;
}

/* The config and manifest blobs; the manifest's digest into mdigest. */
static int put_blobs(struct store *s, const char *config, size_t len,
                     const struct image_layer_ref *layers, size_t n, char id[DIGEST_STR_SIZE],
                     char mdigest[DIGEST_STR_SIZE], struct berr *e)
{
    int r = store_blob_put(s, config, len, NULL, id, NULL, e);
    if (r < 0)
        return berr_wrap(e, "storing the image config");
    _cleanup_free_ const char **digests = xcalloc(n + 1, sizeof *digests);
    _cleanup_free_ const char **types = xcalloc(n + 1, sizeof *types);
    _cleanup_free_ int64_t *sizes = xcalloc(n + 1, sizeof *sizes);
    for (size_t i = 0; i < n; i++) {
        digests[i] = layers[i].digest;
        types[i] = oci_layer_type(layers[i].media_type);
        sizes[i] = layers[i].size;
    }
    _cleanup_free_ char *m = manifest_synthesize(id, (int64_t)len, digests, sizes, types, n);
    if ((r = store_blob_put(s, m, strlen(m), NULL, mdigest, NULL, e)) < 0)
        return berr_wrap(e, "storing the image manifest");
    return 0;
}

static json_t *commit_entry(struct store *s, const char *mdigest, size_t config_len,
                            const char *created, const struct image_layer_ref *layers, size_t n)
{
    json_t *ls = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct image_layer_ref *l = &layers[i];
        json_array_append_new(ls, index_layer_new(l->digest, l->size, oci_layer_type(l->media_type),
                                                  l->diff_id, l->chain_id,
                                                  store_layer_size(s, l->chain_id)));
    }
    return index_image_new(mdigest, (int64_t)config_len, created, ls);
}

/* Under the writer lock: the layers are there (a clean-up may have taken
 * a layer no image named), then blobs, then the index. A base image's
 * layer may lack its blob: a pull skips the blob of a layer the store
 * has unpacked already (from a load), and so does its image. */
static int commit_locked(struct store *s, const char *config, size_t len,
                         const struct image_layer_ref *layers, size_t n, char *const *norm,
                         char id[DIGEST_STR_SIZE], struct berr *e)
{
    for (size_t i = 0; i < n; i++)
        if (!store_layer_exists(s, layers[i].chain_id))
            return berr_set(e, -ENOENT, "layer %zu (%s, blob %s) is not in the image store %s", i,
                            layers[i].chain_id, layers[i].digest, store_root(s));
    char mdigest[DIGEST_STR_SIZE];
    _cleanup_json_ json_t *idx = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0 || (r = put_blobs(s, config, len, layers, n, id, mdigest, e)) < 0)
        return r;
    json_t *images = json_object_get(idx, "images");
    if (!json_object_get(images, id)) {
        struct imgconfig c;
        if ((r = imgconfig_parse(config, len, id, &c, e)) < 0)
            return r;
        json_object_set_new(images, id, commit_entry(s, mdigest, len, c.created, layers, n));
        imgconfig_free(&c);
    }
    /* A tag names one image: the one it named before keeps its other tags,
     * or none (then it is listed as <none>, as docker's dangling images). */
    for (size_t i = 0; norm && norm[i]; i++) {
        json_object_del(json_object_get(idx, "pulled"), norm[i]);
        json_object_set_new(json_object_get(idx, "refs"), norm[i], json_string(id));
    }
    if (norm && norm[0]) {
        char now[TIME_RFC3339_MAX];
        json_object_set_new(json_object_get(images, id), "tagged",
                            json_string(time_rfc3339(time_now_ns(), 0, now)));
    }
    return store_index_save(s, idx, e);
}

int image_commit(struct store *s, const char *config, size_t len,
                 const struct image_layer_ref *layers, size_t n, char *const *tags, char **id,
                 struct berr *e)
{
    if (id)
        *id = NULL;
    _cleanup_strv_ char **norm = NULL;
    int r = commit_check(config, len, layers, n, tags, &norm, e);
    if (r < 0)
        return berr_wrap(e, "committing the image");
    bool had_lock = s->locked;
    if ((r = store_lock(s, e)) < 0)
        return r;
    char cid[DIGEST_STR_SIZE];
    r = commit_locked(s, config, len, layers, n, norm, cid, e);
    if (!had_lock)
        store_unlock(s);
    if (r < 0)
        return berr_wrap(e, "committing the image");
    if (id)
        *id = xstrdup(cid);
    return 0;
}
