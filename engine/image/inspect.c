/* SPDX-License-Identifier: Apache-2.0 */
/* `image inspect`: an image as `docker image inspect` shows it, built from
 * the index entry and the image's config blob. Not here: looking images up
 * (images.c), printing and templates (cmd/cmd_image.c). */
#include <stdlib.h>
#include <string.h>

#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

static void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* docker's container.Config keys, in its order: the ones every image shows
 * (with their zero values), then those shown only when the config has them. */
static const char *const config_keys[] = {
    "Hostname",     "Domainname",  "User",       "AttachStdin", "AttachStdout", "AttachStderr",
    "ExposedPorts", "Tty",         "OpenStdin",  "StdinOnce",   "Env",          "Cmd",
    "Healthcheck",  "ArgsEscaped", "Image",      "Volumes",     "WorkingDir",   "Entrypoint",
    "OnBuild",      "Labels",      "StopSignal", "Shell",
};

/* The zero value docker prints for an always-shown key; NULL: shown only
 * when present. */
static json_t *config_zero(const char *key)
{
    static const char *const strings[] = {"Hostname", "Domainname", "User", "Image", "WorkingDir"};
    static const char *const bools[] = {"AttachStdin", "AttachStdout", "AttachStderr",
                                        "Tty",         "OpenStdin",    "StdinOnce"};
    static const char *const nulls[] = {"Env", "Cmd", "Volumes", "Entrypoint", "OnBuild", "Labels"};
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
        if (strcmp(key, strings[i]) == 0)
            return json_string("");
    for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
        if (strcmp(key, bools[i]) == 0)
            return json_false();
    for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
        if (strcmp(key, nulls[i]) == 0)
            return json_null();
    return NULL;
}

static json_t *inspect_config(json_t *cfg)
{
    json_t *out = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
        const char *k = config_keys[i];
        json_t *v = json_is_object(cfg) ? json_object_get(cfg, k) : NULL;
        if (v)
            json_object_set(out, k, v);
        else if ((v = config_zero(k)))
            json_object_set_new(out, k, v);
    }
    return out;
}

static json_t *str_or(json_t *o, const char *k, const char *dflt)
{
    const char *v = json_string_value(json_object_get(o, k));
    return json_string(v ? v : dflt);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* RepoTags and RepoDigests: the familiar forms of the references naming id,
 * and name@digest for those pulled from a registry. */
static void repo_names(json_t *idx, const char *id, json_t *out)
{
    _cleanup_strv_ char **tags = NULL;
    _cleanup_strv_ char **digests = NULL;
    json_t *pulled = json_object_get(idx, "pulled");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(idx, "refs"), k, v)
    {
        const char *target = json_string_value(v);
        if (!target || strcmp(target, id) != 0)
            continue;
        strv_push(&tags, ref_familiarize(k));
        const char *d = json_string_value(json_object_get(json_object_get(pulled, k), "digest"));
        _cleanup_imgref_ struct imgref r = {0};
        if (!d || ref_parse(k, &r, NULL) < 0)
            continue;
        _cleanup_free_ char *name = ref_familiar_name(&r);
        char *rd = xasprintf("%s@%s", name, d);
        if (strv_contains(digests, rd))
            free(rd);
        else
            strv_push(&digests, rd);
    }
    json_t *jt = json_array(), *jd = json_array();
    if (tags)
        xqsort(tags, strv_len(tags), sizeof *tags, cmp_str);
    if (digests)
        xqsort(digests, strv_len(digests), sizeof *digests, cmp_str);
    for (size_t i = 0; tags && tags[i]; i++)
        json_array_append_new(jt, json_string(tags[i]));
    for (size_t i = 0; digests && digests[i]; i++)
        json_array_append_new(jd, json_string(digests[i]));
    json_object_set_new(out, "RepoTags", jt);
    json_object_set_new(out, "RepoDigests", jd);
}

/* GraphDriver and RootFS from the index entry's layers: docker's overlay
 * shape, the top layer as UpperDir and the others, top first, as LowerDir. */
static void layer_info(struct store *s, json_t *entry, json_t *out, json_int_t *size)
{
    json_t *layers = json_object_get(entry, "layers");
    json_t *diff_ids = json_array();
    size_t n = json_array_size(layers);
    _cleanup_free_ char *lower = NULL;
    _cleanup_free_ char *upper = NULL;
    *size = 0;
    for (size_t i = n; i-- > 0;) {
        json_t *l = json_array_get(layers, i);
        *size += json_integer_value(json_object_get(l, "unpacked_size"));
        _cleanup_free_ char *dir =
            store_layer_path(s, json_string_value(json_object_get(l, "chain_id")));
        if (!upper) {
            upper = TAKE_PTR(dir);
            continue;
        }
        char *next = lower ? xasprintf("%s:%s", lower, dir) : xstrdup(dir);
        free(lower);
        lower = next;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_object_get(json_array_get(layers, i), "diff_id");
        json_array_append(diff_ids, d ? d : json_null());
    }
    json_t *data = json_object();
    if (lower)
        json_object_set_new(data, "LowerDir", json_string(lower));
    if (upper)
        json_object_set_new(data, "UpperDir", json_string(upper));
    json_object_set_new(out, "GraphDriver",
                        json_pack("{s:o, s:s}", "Data", data, "Name", "overlay"));
    json_object_set_new(out, "RootFS",
                        json_pack("{s:s, s:o}", "Type", "layers", "Layers", diff_ids));
}

int store_image_inspect(struct store *s, const char *ref_or_id, json_t **out, struct berr *e)
{
    _cleanup_json_ json_t *idx = NULL;
    int r = store_index_load(s, &idx, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *id = NULL;
    if ((r = store_image_resolve(idx, ref_or_id, &id, e)) < 0)
        return r;
    json_t *entry = json_object_get(json_object_get(idx, "images"), id);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if ((r = store_blob_read(s, id, IMAGE_JSON_MAX, &buf, &len, e)) < 0)
        return berr_wrap(e, "image %s (run 'berth image repair' to rebuild the image index)", id);
    _cleanup_json_ json_t *cfg = NULL;
    if ((r = image_json_load(buf, len, id, &cfg, e)) < 0)
        return r;
    if (!json_is_object(cfg))
        return berr_set(e, -EINVAL, "image %s: the config is not a JSON object", id);
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(id));
    repo_names(idx, id, o);
    json_object_set_new(o, "Parent", json_string(""));
    json_object_set_new(o, "Comment", str_or(cfg, "comment", ""));
    json_object_set_new(o, "Created", str_or(cfg, "created", ""));
    json_object_set_new(o, "DockerVersion", json_string(""));
    json_object_set_new(o, "Author", str_or(cfg, "author", ""));
    json_object_set_new(o, "Config", inspect_config(json_object_get(cfg, "config")));
    json_object_set_new(o, "Architecture", str_or(cfg, "architecture", ""));
    const char *variant = json_string_value(json_object_get(cfg, "variant"));
    if (variant && *variant)
        json_object_set_new(o, "Variant", json_string(variant));
    json_object_set_new(o, "Os", str_or(cfg, "os", ""));
    json_int_t size;
    json_t *tail = json_object(); /* GraphDriver and RootFS, after Size */
    layer_info(s, entry, tail, &size);
    json_object_set_new(o, "Size", json_integer(size));
    json_object_update(o, tail);
    json_decref(tail);
    json_object_set_new(o, "Metadata",
                        json_pack("{s:o}", "LastTagTime", str_or(entry, "tagged", ZERO_TIME)));
    *out = o;
    return 0;
}
