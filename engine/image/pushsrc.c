/* SPDX-License-Identifier: Apache-2.0 */
/* What a push reads of a stored image: its manifest exactly as stored (so
 * the registry gets the same digest), its references (where its blobs may
 * already be on a registry) and its blobs, opened for streaming. Not here:
 * the upload itself (engine/registry/push.c). */
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

void image_push_src_free(struct image_push_src *p)
{
    free(p->id);
    free(p->manifest);
    strv_free(p->refs);
    memset(p, 0, sizeof *p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The references naming id in the index, sorted. */
static int refs_of(struct store *s, const char *id, char ***out, struct berr *e)
{
    json_t *idx = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0)
        return r;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(idx, "refs"), k, v)
    {
        const char *target = json_string_value(v);
        if (target && strcmp(target, id) == 0)
            strv_push(out, xstrdup(k));
    }
    json_decref(idx);
    if (*out)
        xqsort(*out, strv_len(*out), sizeof **out, cmp_str);
    return 0;
}

int image_push_src_get(struct store *s, const char *ref_or_id, struct image_push_src *out,
                       struct berr *e)
{
    memset(out, 0, sizeof *out);
    _cleanup_image_ struct image *img = NULL;
    int r = store_image_get(s, ref_or_id, &img, e);
    if (r < 0)
        return r;
    if (!img->manifest_digest)
        return berr_set(e, -ENOENT, "image %s has no stored manifest (load or pull it again)",
                        img->id);
    r = store_blob_read(s, img->manifest_digest, IMAGE_JSON_MAX, &out->manifest, &out->manifest_len,
                        e);
    if (r < 0)
        return berr_wrap(e, "image %s: manifest", img->id);
    sha256_digest(out->manifest, out->manifest_len, out->manifest_digest);
    if (strcmp(out->manifest_digest, img->manifest_digest) != 0) {
        r = berr_set(e, -EIO, "image %s: the stored manifest hashes to %s, not %s", img->id,
                     out->manifest_digest, img->manifest_digest);
        image_push_src_free(out);
        return r;
    }
    if ((r = refs_of(s, img->id, &out->refs, e)) < 0) {
        image_push_src_free(out);
        return r;
    }
    out->id = TAKE_PTR(img->id);
    return 0;
}

int image_blob_open(struct store *s, const char *digest, struct berr *e)
{
    int fd = store_blob_open(s, digest, e);
    if (fd == -ENOENT)
        return berr_set(e, -ENOENT, "blob %s is not in the store", digest);
    return fd;
}
