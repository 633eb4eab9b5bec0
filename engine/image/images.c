/* SPDX-License-Identifier: Apache-2.0 */
/* Image lookup, listing and removal over the index (images.json).
 * Not here: the index file's format and its writer (engine/image/store.c),
 * rebuilding a damaged index (engine/image/repair.c). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

void image_free(struct image *img)
{
    if (!img)
        return;
    free(img->ref);
    free(img->familiar);
    free(img->id);
    free(img->manifest_digest);
    strv_free(img->layer_dirs);
    free(img->created);
    strv_free(img->entrypoint);
    strv_free(img->cmd);
    strv_free(img->env);
    free(img->working_dir);
    free(img->user);
    free(img->stop_signal);
    strv_free(img->health_test);
    strv_free(img->volumes);
    free(img);
}

void image_list_free(struct image **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        image_free(list[i]);
    free(list);
}

/* The index is checked when it is loaded (store_index_load); this only
 * keeps a NULL from reaching strcmp should that ever change. */
static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool is_hex(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= DIGEST_HEX_LEN && digest_hex_is_valid(s, n);
}

/* The image ID a short or full ID names. */
static int match_id(json_t *images, const char *hexprefix, const char *given, const char **id,
                    struct berr *e)
{
    const char *found = NULL, *key;
    json_t *v;
    size_t n = strlen(hexprefix);
    json_object_foreach(images, key, v)
    {
        if (strncmp(digest_hex(key), hexprefix, n) != 0)
            continue;
        if (found)
            return berr_set(e, -EINVAL, "image ID \"%s\" is ambiguous", given);
        found = key;
    }
    if (!found)
        return -ENOENT;
    *id = found;
    return 0;
}

/* Finds the image ref_or_id names. *ref is the normalized reference when a
 * tagged reference matched (heap), else NULL. *id points into idx. */
static int resolve(json_t *idx, const char *ref_or_id, const char **id, char **ref, struct berr *e)
{
    json_t *images = json_object_get(idx, "images");
    json_t *refs = json_object_get(idx, "refs");
    *ref = NULL;
    if (strncmp(ref_or_id, "sha256:", 7) == 0) {
        if (!is_hex(ref_or_id + 7))
            return berr_set(e, -EINVAL, "invalid image ID \"%.100s\"", ref_or_id);
        int r = match_id(images, ref_or_id + 7, ref_or_id, id, e);
        if (r == -ENOENT)
            return berr_set(e, -ENOENT, "image \"%s\" not found", ref_or_id);
        return r;
    }
    _cleanup_imgref_ struct imgref pr = {0};
    struct berr pe = BERR_INIT;
    if (ref_parse(ref_or_id, &pr, &pe) == 0) {
        if (pr.digest) {
            const char *key;
            json_t *v;
            json_object_foreach(images, key, v)
            {
                const char *m = json_string_value(json_object_get(v, "manifest"));
                if (str_eq(m, pr.digest)) {
                    *id = key;
                    return 0;
                }
            }
        } else {
            _cleanup_free_ char *norm = ref_string(&pr);
            const char *target = json_string_value(json_object_get(refs, norm));
            if (target && json_object_get(images, target)) {
                *id = json_object_iter_key(json_object_iter_at(images, target));
                *ref = TAKE_PTR(norm);
                return 0;
            }
        }
    }
    if (is_hex(ref_or_id)) {
        int r = match_id(images, ref_or_id, ref_or_id, id, e);
        if (r != -ENOENT) {
            berr_clear(&pe);
            return r;
        }
    }
    if (pe.msg) {
        int code = pe.code;
        berr_move(e, &pe);
        return code;
    }
    return berr_set(e, -ENOENT, "image \"%s\" not found", ref_or_id);
}

static int build_image(struct store *s, json_t *entry, const char *id, const char *ref,
                       struct image **out, struct berr *e)
{
    _cleanup_free_ char *cfg = NULL;
    size_t len = 0;
    int r = store_blob_read(s, id, IMAGE_JSON_MAX, &cfg, &len, e);
    if (r < 0)
        return berr_wrap(e, "image %s (run 'berth image repair' to rebuild the image index)", id);
    struct imgconfig c;
    if ((r = imgconfig_parse(cfg, len, id, &c, e)) < 0)
        return r;
    struct image *img = xcalloc(1, sizeof *img);
    img->ref = ref ? xstrdup(ref) : NULL;
    img->familiar = ref ? ref_familiarize(ref) : NULL;
    img->id = xstrdup(id);
    const char *m = json_string_value(json_object_get(entry, "manifest"));
    img->manifest_digest = m ? xstrdup(m) : NULL;
    json_t *layers = json_object_get(entry, "layers");
    img->layer_dirs = xcalloc(json_array_size(layers) + 1, sizeof(char *));
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        const char *chain = json_string_value(json_object_get(l, "chain_id"));
        if (!digest_is_valid(chain)) {
            image_free(img);
            imgconfig_free(&c);
            return berr_set(e, -EINVAL, "image %s: corrupt index entry", id);
        }
        img->layer_dirs[i] = store_layer_path(s, chain);
        img->n_layers++;
        img->size += json_integer_value(json_object_get(l, "unpacked_size"));
    }
    img->created = TAKE_PTR(c.created);
    if (c.architecture && *c.architecture)
        platform_set(&img->platform, c.os && *c.os ? c.os : "linux", c.architecture, c.variant);
    img->entrypoint = TAKE_PTR(c.entrypoint);
    img->cmd = TAKE_PTR(c.cmd);
    img->env = TAKE_PTR(c.env);
    img->working_dir = TAKE_PTR(c.working_dir);
    img->user = TAKE_PTR(c.user);
    img->stop_signal = TAKE_PTR(c.stop_signal);
    img->health_test = TAKE_PTR(c.health_test);
    img->health_interval_ns = c.health_interval_ns;
    img->health_timeout_ns = c.health_timeout_ns;
    img->health_start_period_ns = c.health_start_period_ns;
    img->health_start_interval_ns = c.health_start_interval_ns;
    img->health_retries = c.health_retries;
    img->volumes = TAKE_PTR(c.volumes);
    imgconfig_free(&c);
    *out = img;
    return 0;
}

int store_image_get(struct store *s, const char *ref_or_id, struct image **out, struct berr *e)
{
    _cleanup_json_ json_t *idx = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0)
        return r;
    const char *id;
    _cleanup_free_ char *ref = NULL;
    if ((r = resolve(idx, ref_or_id, &id, &ref, e)) < 0)
        return r;
    /* Looked up by ID: report the image's first reference, if any. */
    if (!ref) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(idx, "refs"), k, v)
        {
            if (str_eq(json_string_value(v), id)) {
                ref = xstrdup(k);
                break;
            }
        }
    }
    json_t *entry = json_object_get(json_object_get(idx, "images"), id);
    return build_image(s, entry, id, ref, out, e);
}

static int cmp_image(const void *a, const void *b)
{
    const struct image *x = *(struct image *const *)a, *y = *(struct image *const *)b;
    if (!x->ref || !y->ref)
        return x->ref ? -1 : y->ref ? 1 : strcmp(x->id, y->id);
    return strcmp(x->ref, y->ref);
}

int store_image_list_all(struct store *s, bool include_untagged, struct image ***out, size_t *n,
                         struct berr *e)
{
    _cleanup_json_ json_t *idx = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0)
        return r;
    json_t *images = json_object_get(idx, "images");
    json_t *tagged = json_object();
    struct image **list = NULL;
    size_t cnt = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(idx, "refs"), k, v)
    {
        const char *id = json_string_value(v);
        json_t *entry = id ? json_object_get(images, id) : NULL;
        if (!entry)
            continue;
        struct image *img;
        if ((r = build_image(s, entry, id, k, &img, e)) < 0)
            goto fail;
        list = xreallocarray(list, cnt + 1, sizeof *list);
        list[cnt++] = img;
        json_object_set_new(tagged, id, json_true());
    }
    if (include_untagged) {
        json_object_foreach(images, k, v)
        {
            if (json_object_get(tagged, k))
                continue;
            struct image *img;
            if ((r = build_image(s, v, k, NULL, &img, e)) < 0)
                goto fail;
            list = xreallocarray(list, cnt + 1, sizeof *list);
            list[cnt++] = img;
        }
    }
    json_decref(tagged);
    if (cnt > 1)
        xqsort(list, cnt, sizeof *list, cmp_image);
    *out = list;
    *n = cnt;
    return 0;
fail:
    json_decref(tagged);
    image_list_free(list, cnt);
    return r;
}

int store_image_list(struct store *s, struct image ***out, size_t *n, struct berr *e)
{
    return store_image_list_all(s, false, out, n, e);
}

/* Drops a reference, and when it was pulled. */
static void untag(json_t *idx, const char *ref, char ***untagged)
{
    if (untagged)
        strv_push(untagged, ref_familiarize(ref));
    json_object_del(json_object_get(idx, "pulled"), ref);
    json_object_del(json_object_get(idx, "refs"), ref);
}

static char *short_id(const char *id)
{
    return xstrndup(digest_hex(id), 12);
}

int store_image_remove_ex(struct store *s, const char *ref_or_id, bool force, char ***untagged,
                          char ***deleted, struct berr *e)
{
    int r = store_lock(s, e);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *idx = NULL;
    _cleanup_free_ char *ref = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_strv_ char **refs_of = NULL;
    _cleanup_strv_ char **users = NULL;
    _cleanup_free_ char *sid = NULL;
    if ((r = store_index_load(s, &idx, e)) < 0)
        goto out;
    const char *idp;
    if ((r = resolve(idx, ref_or_id, &idp, &ref, e)) < 0)
        goto out;
    id = xstrdup(idp);
    json_t *refs = json_object_get(idx, "refs");
    const char *k;
    json_t *v;
    json_object_foreach(refs, k, v)
    {
        if (str_eq(json_string_value(v), id))
            strv_push(&refs_of, xstrdup(k));
    }
    size_t nrefs = strv_len(refs_of);
    sid = short_id(id);
    if (ref && nrefs > 1) {
        /* Other tags remain: only this one goes. */
        untag(idx, ref, untagged);
        r = store_index_save(s, idx, e);
        goto out;
    }
    if (!ref && nrefs > 1 && !force) {
        r = berr_set(e, -EBUSY,
                     "conflict: unable to delete %s (must be forced) - image is referenced in "
                     "multiple repositories",
                     sid);
        goto out;
    }
    users = store_containers_using(s, id);
    if (users[0] && !force) {
        _cleanup_free_ char *cid = xstrndup(users[0], 12);
        if (ref) {
            _cleanup_free_ char *fam = ref_familiarize(ref);
            r = berr_set(e, -EBUSY,
                         "conflict: unable to remove repository reference \"%s\" (must force) - "
                         "container %s is using its referenced image %s",
                         fam, cid, sid);
        } else {
            r = berr_set(e, -EBUSY,
                         "conflict: unable to delete %s (must be forced) - image is being used by "
                         "container %s",
                         sid, cid);
        }
        goto out;
    }
    for (size_t i = 0; refs_of && refs_of[i]; i++)
        untag(idx, refs_of[i], untagged);
    if (users[0]) {
        /* Forced while a container uses it: the image stays, untagged, so
         * its layers stay under the container. */
        r = store_index_save(s, idx, e);
        goto out;
    }
    json_object_del(json_object_get(idx, "images"), id);
    if ((r = store_index_save(s, idx, e)) < 0)
        goto out;
    if (deleted)
        strv_push(deleted, xstrdup(id));
    r = store_gc(s, idx, deleted, e);
out:
    store_unlock(s);
    return r;
}

int store_image_remove(struct store *s, const char *ref_or_id, char ***untagged, struct berr *e)
{
    return store_image_remove_ex(s, ref_or_id, false, untagged, NULL, e);
}

int store_image_resolve(json_t *idx, const char *ref_or_id, char **id, struct berr *e)
{
    const char *found;
    _cleanup_free_ char *ref = NULL;
    int r = resolve(idx, ref_or_id, &found, &ref, e);
    if (r < 0)
        return r;
    *id = xstrdup(found);
    return 0;
}

int store_image_tag(struct store *s, const char *source, const char *target, char **tagged,
                    struct berr *e)
{
    _cleanup_imgref_ struct imgref tr = {0};
    int r = ref_parse(target, &tr, e);
    if (r < 0)
        return r;
    if (tr.digest)
        return berr_set(e, -EINVAL, "refusing to create a tag with a digest reference (\"%.200s\")",
                        target);
    if ((r = store_lock(s, e)) < 0)
        return r;
    _cleanup_json_ json_t *idx = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_free_ char *norm = ref_string(&tr);
    if ((r = store_index_load(s, &idx, e)) < 0 ||
        (r = store_image_resolve(idx, source, &id, e)) < 0)
        goto out;
    /* The reference names another image now: it was not pulled as that. */
    json_object_del(json_object_get(idx, "pulled"), norm);
    json_object_set_new(json_object_get(idx, "refs"), norm, json_string(id));
    char now[TIME_RFC3339_MAX];
    json_object_set_new(json_object_get(json_object_get(idx, "images"), id), "tagged",
                        json_string(time_rfc3339(time_now_ns(), 0, now)));
    if ((r = store_index_save(s, idx, e)) == 0 && tagged)
        *tagged = TAKE_PTR(norm);
out:
    store_unlock(s);
    return r;
}

/* Bytes the store's blobs and unpacked layers take. */
static uint64_t store_usage(struct store *s)
{
    uint64_t total = 0;
    _cleanup_strv_ char **bl = fs_list_names(s->blobsfd, false);
    for (size_t i = 0; bl[i]; i++) {
        struct stat st;
        if (fstatat(s->blobsfd, bl[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    _cleanup_strv_ char **ll = fs_list_names(s->layersfd, false);
    for (size_t i = 0; ll[i]; i++) {
        _cleanup_free_ char *c = xasprintf("sha256:%s", ll[i]);
        int64_t n = strlen(ll[i]) == DIGEST_HEX_LEN ? store_layer_size(s, c) : -1;
        if (n > 0)
            total += (uint64_t)n;
    }
    return total;
}

static bool is_tagged(json_t *idx, const char *id)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(idx, "refs"), k, v)
    {
        if (str_eq(json_string_value(v), id))
            return true;
    }
    return false;
}

int store_image_prune(struct store *s, bool all, char ***untagged, char ***deleted,
                      uint64_t *reclaimed, struct berr *e)
{
    int r = store_lock(s, e);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *idx = NULL;
    _cleanup_strv_ char **gone = NULL;
    uint64_t before = store_usage(s);
    if ((r = store_index_load(s, &idx, e)) < 0)
        goto out;
    json_t *images = json_object_get(idx, "images");
    const char *id;
    json_t *v;
    json_object_foreach(images, id, v)
    {
        if (!all && is_tagged(idx, id))
            continue;
        _cleanup_strv_ char **users = store_containers_using(s, id);
        if (!users[0])
            strv_push(&gone, xstrdup(id));
    }
    for (size_t i = 0; gone && gone[i]; i++) {
        _cleanup_strv_ char **refs_of = NULL;
        const char *k;
        json_object_foreach(json_object_get(idx, "refs"), k, v)
        {
            if (str_eq(json_string_value(v), gone[i]))
                strv_push(&refs_of, xstrdup(k));
        }
        for (size_t j = 0; refs_of && refs_of[j]; j++)
            untag(idx, refs_of[j], untagged);
        json_object_del(images, gone[i]);
        if (deleted)
            strv_push(deleted, xstrdup(gone[i]));
    }
    if (gone && (r = store_index_save(s, idx, e)) < 0)
        goto out;
    /* Blobs and layers no image needs: those of the removed images, and
     * leftovers. */
    r = store_gc(s, idx, deleted, e);
out:
    if (reclaimed) {
        uint64_t after = store_usage(s);
        *reclaimed = before > after ? before - after : 0;
    }
    store_unlock(s);
    return r;
}

int store_ref_refreshed(struct store *s, const char *ref, long long *at, struct berr *e)
{
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(ref, &ir, e);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *idx = NULL;
    if ((r = store_index_load(s, &idx, e)) < 0)
        return r;
    _cleanup_free_ char *norm = ref_string(&ir);
    const char *id = json_string_value(json_object_get(json_object_get(idx, "refs"), norm));
    json_t *entry = id ? json_object_get(json_object_get(idx, "images"), id) : NULL;
    if (!entry)
        return berr_set(e, -ENOENT, "image \"%s\" not found", ref);
    const char *when = json_string_value(
        json_object_get(json_object_get(json_object_get(idx, "pulled"), norm), "at"));
    if (!when)
        when = json_string_value(json_object_get(entry, "loaded"));
    if (!when || rfc3339_parse(when, at) < 0)
        *at = 0; /* unknown: as old as can be */
    return 0;
}
