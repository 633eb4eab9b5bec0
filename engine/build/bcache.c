/* SPDX-License-Identifier: Apache-2.0 */
/* The step cache. A step's key is a sha256 over its parent's key and what
 * the step is (the instruction once expanded, and for COPY and ADD the
 * checksum of their sources), so equal keys mean equal results; a key's
 * record, ROOT/buildcache/steps/<hex>, holds the layer the step made (or
 * none) and when. A record whose layer the store no longer has (an image
 * removed, a prune) is a miss. Records are written atomically; a damaged
 * one is a miss. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/build/builder_int.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct sha256 *bkey_begin(const char *parent, const char *what)
{
    struct sha256 *h = sha256_new();
    bkey_str(h, "berth-build-v1");
    bkey_str(h, parent ? parent : "");
    bkey_str(h, what);
    return h;
}

/* Length-prefixed, so that ("ab","c") and ("a","bc") differ. */
void bkey_str(struct sha256 *h, const char *s)
{
    char len[24];
    size_t n = s ? strlen(s) : 0;
    int k = snprintf(len, sizeof len, "%zu:", s ? n : (size_t)-1);
    sha256_update(h, len, (size_t)k);
    if (n)
        sha256_update(h, s, n);
}

static void bkey_strv(struct sha256 *h, char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char cnt[24];
    snprintf(cnt, sizeof cnt, "%zu", n);
    bkey_str(h, cnt);
    for (size_t i = 0; i < n; i++)
        bkey_str(h, v[i]);
}

void bkey_instr(struct sha256 *h, const struct df_instr *in)
{
    bkey_str(h, df_kind_name(in->kind));
    bkey_str(h, in->json ? "json" : "shell");
    bkey_strv(h, in->args);
    for (size_t i = 0; i < in->n_flags; i++) {
        bkey_str(h, in->flags[i].name);
        bkey_str(h, in->flags[i].value);
    }
    for (size_t i = 0; i < in->n_kvs; i++) {
        bkey_str(h, in->kvs[i].key);
        bkey_str(h, in->kvs[i].has_value ? in->kvs[i].value : NULL);
    }
    for (size_t i = 0; i < in->n_heredocs; i++) {
        bkey_str(h, in->heredocs[i].name);
        bkey_str(h, in->heredocs[i].content);
    }
    if (in->healthcheck_none)
        bkey_str(h, "none");
    if (in->onbuild)
        bkey_str(h, in->onbuild->raw);
}

void bkey_end(struct sha256 *h, char out[DIGEST_STR_SIZE])
{
    sha256_final(h, out);
    sha256_free(h);
}

static char *rec_path(struct builder *b, const char *key)
{
    return xasprintf("%s/steps/%s", b->cache_dir, digest_hex(key));
}

static bool copy_digest(json_t *o, const char *k, char out[DIGEST_STR_SIZE])
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || !digest_is_valid(s))
        return false;
    snprintf(out, DIGEST_STR_SIZE, "%s", s);
    return true;
}

int bcache_get(struct builder *b, const char *key, struct bcache_rec *out)
{
    memset(out, 0, sizeof *out);
    _cleanup_free_ char *path = rec_path(b, key);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return 0;
    int hit = 0;
    json_t *l = json_object_get(j, "layer");
    json_t *c = json_object_get(j, "created");
    if (!json_is_integer(c))
        goto out;
    out->created_ns = json_integer_value(c);
    if (json_is_object(l)) {
        struct image_layer_ref *r = &out->layer;
        const char *mt = json_string_value(json_object_get(l, "mediaType"));
        json_t *sz = json_object_get(l, "size");
        if (!copy_digest(l, "diff_id", r->diff_id) || !copy_digest(l, "digest", r->digest) ||
            !copy_digest(l, "chain_id", r->chain_id) || !mt || strlen(mt) >= sizeof r->media_type ||
            !json_is_integer(sz))
            goto out;
        snprintf(r->media_type, sizeof r->media_type, "%s", mt);
        r->size = json_integer_value(sz);
        out->has_layer = true;
        if (!image_layer_present(b->env->store, r))
            goto out;
    } else if (!json_is_null(l)) {
        goto out;
    }
    hit = 1;
out:
    json_decref(j);
    return hit;
}

int bcache_put(struct builder *b, const char *key, const struct bcache_rec *rec, struct berr *e)
{
    _cleanup_free_ char *dir = xasprintf("%s/steps", b->cache_dir);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    json_t *j = json_object();
    if (rec->has_layer) {
        const struct image_layer_ref *l = &rec->layer;
        json_object_set_new(j, "layer",
                            json_pack("{s:s, s:s, s:s, s:s, s:I}", "diff_id", l->diff_id, "digest",
                                      l->digest, "chain_id", l->chain_id, "mediaType",
                                      l->media_type, "size", (json_int_t)l->size));
    } else {
        json_object_set_new(j, "layer", json_null());
    }
    json_object_set_new(j, "created", json_integer(rec->created_ns));
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    _cleanup_close_ int dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    return fs_write_atomic(dfd, digest_hex(key), text, strlen(text), 0600, e);
}
