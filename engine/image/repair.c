/* SPDX-License-Identifier: Apache-2.0 */
/* Rebuilding a damaged image index (images.json) from what the store holds:
 * every manifest blob whose config blob and unpacked layers are all there
 * becomes an image again; references are kept from the damaged file where
 * it still parses far enough to name them, else the images come back
 * untagged. Nothing is removed: the damaged file is kept beside the new one,
 * and no garbage collection runs.
 * Not here: the index in normal use (engine/image/store.c, images.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define INDEX_FILE     "images.json"
#define INDEX_KEPT     "images.json.corrupt"
#define INDEX_READ_MAX (64u << 20)

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of regular files in blobs/sha256 small enough to be a manifest. */
static char **manifest_candidates(struct store *s)
{
    _cleanup_strv_ char **all = fs_list_names(s->blobsfd, false);
    char **names = xcalloc(1, sizeof(char *));
    for (char **n = all; *n; n++) {
        struct stat st;
        if (strlen(*n) != DIGEST_HEX_LEN || !digest_hex_is_valid(*n, DIGEST_HEX_LEN) ||
            fstatat(s->blobsfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_size > (off_t)IMAGE_JSON_MAX)
            continue;
        strv_push(&names, xasprintf("sha256:%s", *n));
    }
    /* Sorted, so the same store always rebuilds to the same index. */
    size_t n = strv_len(names);
    if (n > 1)
        xqsort(names, n, sizeof *names, cmp_name);
    return names;
}

/* The index entry for the image that manifest mdigest describes, or NULL
 * when it is not a manifest or anything it needs is missing; *id gets the
 * image ID (its config digest). */
static json_t *entry_from_manifest(struct store *s, const char *mdigest, char **id)
{
    struct berr e = BERR_INIT;
    _cleanup_free_ char *buf = NULL, *cfg = NULL;
    size_t len = 0, clen = 0;
    if (store_blob_read(s, mdigest, IMAGE_JSON_MAX, &buf, &len, &e) < 0 || len == 0 ||
        buf[0] != '{') {
        berr_clear(&e);
        return NULL;
    }
    struct oci_manifest m;
    if (manifest_parse(buf, len, mdigest, &m, &e) < 0) {
        berr_clear(&e);
        return NULL;
    }
    json_t *entry = NULL;
    struct imgconfig c = {0};
    if (store_blob_read(s, m.config.digest, IMAGE_JSON_MAX, &cfg, &clen, &e) < 0 ||
        imgconfig_parse(cfg, clen, m.config.digest, &c, &e) < 0 || c.n_diff_ids != m.n_layers)
        goto out;
    json_t *layers = json_array();
    char chain[DIGEST_STR_SIZE];
    for (size_t i = 0; i < m.n_layers; i++) {
        chain_id(i ? chain : NULL, c.diff_ids[i], chain);
        if (!store_layer_exists(s, chain)) {
            json_decref(layers);
            goto out;
        }
        json_array_append_new(layers,
                              index_layer_new(m.layers[i].digest, m.layers[i].size,
                                              m.layers[i].media_type ? m.layers[i].media_type : "",
                                              c.diff_ids[i], chain, store_layer_size(s, chain)));
    }
    entry = index_image_new(mdigest, m.config.size, c.created, layers);
    *id = xstrdup(m.config.digest);
out:
    berr_clear(&e);
    imgconfig_free(&c);
    manifest_free(&m);
    return entry;
}

/* References the damaged text still names: {"refs": {REF: ID}} read as far
 * as it goes, each pair checked on its own. */
static json_t *salvage_refs(const char *buf, size_t len)
{
    json_t *out = json_object();
    _cleanup_json_ json_t *old = buf ? json_loadb(buf, len, 0, NULL) : NULL;
    json_t *refs = json_object_get(old, "refs");
    const char *k;
    json_t *v;
    json_object_foreach(refs, k, v)
    {
        _cleanup_imgref_ struct imgref pr = {0};
        if (json_is_string(v) && digest_is_valid(json_string_value(v)) &&
            ref_parse(k, &pr, NULL) == 0)
            json_object_set(out, k, v);
    }
    return out;
}

static int repair_locked(struct store *s, size_t *n_images, size_t *n_refs, struct berr *e)
{
    /* Damaged: the index is refused, or an image it lists cannot be read
     * (a config blob missing or unreadable). */
    struct image **list = NULL;
    size_t n = 0;
    struct berr le = BERR_INIT;
    if (store_image_list_all(s, true, &list, &n, &le) == 0) {
        image_list_free(list, n);
        return berr_set(e, -EEXIST, "%s/%s: the image index is not damaged; nothing to repair",
                        s->root, INDEX_FILE);
    }
    berr_clear(&le);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int r = fs_read_file(s->rootfd, INDEX_FILE, INDEX_READ_MAX, &buf, &len, e);
    if (r < 0 && r != -EFBIG)
        return berr_wrap(e, "%s/%s", s->root, INDEX_FILE);
    berr_clear(e);
    /* Keep the damaged text for inspection (an oversized one is not read). */
    if (buf && (r = fs_write_atomic(s->rootfd, INDEX_KEPT, buf, len, 0600, e)) < 0)
        return berr_wrap(e, "%s/%s: keeping the damaged index", s->root, INDEX_FILE);
    _cleanup_json_ json_t *idx = json_pack("{s:{}, s:{}}", "images", "refs");
    _cleanup_json_ json_t *old_refs = salvage_refs(buf, len);
    json_t *images = json_object_get(idx, "images");
    json_t *refs = json_object_get(idx, "refs");
    _cleanup_strv_ char **cands = manifest_candidates(s);
    for (size_t i = 0; cands[i]; i++) {
        _cleanup_free_ char *id = NULL;
        json_t *entry = entry_from_manifest(s, cands[i], &id);
        if (!entry)
            continue;
        if (json_object_get(images, id))
            json_decref(entry); /* the same image under another compression */
        else
            json_object_set_new(images, id, entry);
    }
    const char *k;
    json_t *v;
    json_object_foreach(old_refs, k, v)
    {
        if (json_object_get(images, json_string_value(v)))
            json_object_set(refs, k, v);
    }
    if ((r = store_index_save(s, idx, e)) < 0)
        return r;
    *n_images = json_object_size(images);
    *n_refs = json_object_size(refs);
    return 0;
}

int store_index_repair(struct store *s, size_t *n_images, size_t *n_refs, struct berr *e)
{
    int r = store_lock(s, e);
    if (r < 0)
        return r;
    r = repair_locked(s, n_images, n_refs, e);
    store_unlock(s);
    return r;
}
