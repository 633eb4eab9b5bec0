/* SPDX-License-Identifier: Apache-2.0 */
/* OCI and docker manifests and image indexes: parsing, choosing the host's
 * platform, and synthesizing a manifest for a legacy archive. Not here:
 * fetching or storing blobs (engine/image/store.c, archive.c). */
#include "engine/image/manifest.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/digest.h"
#include "engine/image/imgconfig.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static const char *const layer_types[] = {
    MT_OCI_LAYER,
    MT_OCI_LAYER "+gzip",
    MT_OCI_LAYER "+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

bool descriptor_is_index(const struct descriptor *d)
{
    return d->media_type &&
           (strcmp(d->media_type, MT_OCI_INDEX) == 0 || strcmp(d->media_type, MT_DOCKER_LIST) == 0);
}

void descriptor_free(struct descriptor *d)
{
    if (!d)
        return;
    free(d->media_type);
    free(d->digest);
    free(d->platform_os);
    free(d->platform_arch);
    free(d->platform_variant);
    free(d->image_name);
    free(d->ref_name);
    memset(d, 0, sizeof *d);
}

static char *str_or_null(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int descriptor_parse(json_t *j, const char *what, struct descriptor *d, struct berr *e)
{
    memset(d, 0, sizeof *d);
    if (!json_is_object(j))
        return berr_set(e, -EINVAL, "%s: descriptor must be an object", what);
    json_t *mt = json_object_get(j, "mediaType");
    if (mt && !json_is_string(mt))
        return berr_set(e, -EINVAL, "%s: mediaType must be a string", what);
    const char *dg = json_string_value(json_object_get(j, "digest"));
    int r = digest_validate(dg, what, e);
    if (r < 0)
        return r;
    json_t *sz = json_object_get(j, "size");
    if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        return berr_set(e, -EINVAL, "%s: descriptor size must be a non-negative integer", what);
    d->media_type = mt ? xstrdup(json_string_value(mt)) : NULL;
    d->digest = xstrdup(dg);
    d->size = json_integer_value(sz);
    json_t *pl = json_object_get(j, "platform");
    if (json_is_object(pl)) {
        d->platform_os = str_or_null(pl, "os");
        d->platform_arch = str_or_null(pl, "architecture");
        d->platform_variant = str_or_null(pl, "variant");
    }
    json_t *an = json_object_get(j, "annotations");
    if (json_is_object(an)) {
        d->image_name = str_or_null(an, "io.containerd.image.name");
        d->ref_name = str_or_null(an, "org.opencontainers.image.ref.name");
        json_t *rt = json_object_get(an, "vnd.docker.reference.type");
        d->attestation =
            json_is_string(rt) && strcmp(json_string_value(rt), "attestation-manifest") == 0;
    }
    return 0;
}

void manifest_free(struct oci_manifest *m)
{
    if (!m)
        return;
    descriptor_free(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        descriptor_free(&m->layers[i]);
    free(m->layers);
    memset(m, 0, sizeof *m);
}

void index_free(struct oci_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->n; i++)
        descriptor_free(&ix->manifests[i]);
    free(ix->manifests);
    memset(ix, 0, sizeof *ix);
}

static bool layer_type_ok(const char *mt)
{
    if (!mt)
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
        if (strcmp(mt, layer_types[i]) == 0)
            return true;
    return false;
}

int manifest_parse(const char *buf, size_t len, const char *what, struct oci_manifest *out,
                   struct berr *e)
{
    memset(out, 0, sizeof *out);
    json_t *root = NULL;
    int r = image_json_load(buf, len, what, &root, e);
    if (r < 0)
        return r;
    struct oci_manifest m = {0};
    _cleanup_free_ char *cw = xasprintf("%s: config", what);
    json_t *mt = json_object_get(root, "mediaType");
    json_t *layers = json_object_get(root, "layers");
    if (!json_is_object(root)) {
        r = berr_set(e, -EINVAL, "%s: manifest must be a JSON object", what);
        goto out;
    }
    /* CVE-2021-41190: never accept a document that could be read as both. */
    if (json_object_get(root, "manifests")) {
        r = berr_set(e, -EINVAL, "%s: manifest has a \"manifests\" field (ambiguous document)",
                     what);
        goto out;
    }
    if (mt && (!json_is_string(mt) || (strcmp(json_string_value(mt), MT_OCI_MANIFEST) != 0 &&
                                       strcmp(json_string_value(mt), MT_DOCKER_MANIFEST) != 0))) {
        r = berr_set(e, -EINVAL, "%s: unsupported manifest media type", what);
        goto out;
    }
    json_t *sv = json_object_get(root, "schemaVersion");
    if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
        r = berr_set(e, -EINVAL, "%s: schemaVersion must be 2", what);
        goto out;
    }
    if ((r = descriptor_parse(json_object_get(root, "config"), cw, &m.config, e)) < 0)
        goto out;
    if (!json_is_array(layers)) {
        r = berr_set(e, -EINVAL, "%s: \"layers\" must be an array", what);
        goto out;
    }
    m.layers = xcalloc(json_array_size(layers) + 1, sizeof *m.layers);
    size_t i;
    json_t *it;
    json_array_foreach(layers, i, it)
    {
        _cleanup_free_ char *lw = xasprintf("%s: layers[%zu]", what, i);
        if ((r = descriptor_parse(it, lw, &m.layers[i], e)) < 0)
            goto out;
        m.n_layers++;
        if (!layer_type_ok(m.layers[i].media_type)) {
            r = berr_set(e, -EINVAL, "%s: unsupported layer media type \"%.100s\"", lw,
                         m.layers[i].media_type);
            goto out;
        }
    }
    *out = m;
    memset(&m, 0, sizeof m);
    r = 0;
out:
    manifest_free(&m);
    json_decref(root);
    return r;
}

int index_parse(const char *buf, size_t len, const char *what, struct oci_index *out,
                struct berr *e)
{
    memset(out, 0, sizeof *out);
    json_t *root = NULL;
    int r = image_json_load(buf, len, what, &root, e);
    if (r < 0)
        return r;
    struct oci_index ix = {0};
    json_t *ms = json_object_get(root, "manifests");
    if (!json_is_object(root)) {
        r = berr_set(e, -EINVAL, "%s: index must be a JSON object", what);
        goto out;
    }
    if (json_object_get(root, "layers") || json_object_get(root, "config")) {
        r = berr_set(e, -EINVAL, "%s: index has \"layers\" or \"config\" (ambiguous document)",
                     what);
        goto out;
    }
    json_t *sv = json_object_get(root, "schemaVersion");
    if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
        r = berr_set(e, -EINVAL, "%s: schemaVersion must be 2", what);
        goto out;
    }
    if (!json_is_array(ms)) {
        r = berr_set(e, -EINVAL, "%s: \"manifests\" must be an array", what);
        goto out;
    }
    ix.manifests = xcalloc(json_array_size(ms) + 1, sizeof *ix.manifests);
    size_t i;
    json_t *it;
    json_array_foreach(ms, i, it)
    {
        _cleanup_free_ char *mw = xasprintf("%s: manifests[%zu]", what, i);
        if ((r = descriptor_parse(it, mw, &ix.manifests[i], e)) < 0)
            goto out;
        ix.n++;
    }
    *out = ix;
    memset(&ix, 0, sizeof ix);
    r = 0;
out:
    index_free(&ix);
    json_decref(root);
    return r;
}

const char *platform_host_arch(void)
{
    static struct platform host;
    if (!host.arch[0])
        platform_host(&host);
    return host.arch;
}

static void descriptor_platform(const struct descriptor *d, struct platform *out)
{
    platform_set(out, d->platform_os ? d->platform_os : "linux", d->platform_arch,
                 d->platform_variant);
}

int index_pick(const struct oci_index *ix, const struct platform *want)
{
    struct platform host;
    if (!want) {
        platform_host(&host);
        want = &host;
    }
    /* An entry of exactly the variant asked for first, then any variant
     * when none was asked for (amd64/v2 serves amd64). */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ix->n; i++) {
            const struct descriptor *d = &ix->manifests[i];
            if (d->attestation || (!d->platform_os && !d->platform_arch))
                continue;
            struct platform have;
            descriptor_platform(d, &have);
            if (pass == 0
                    ? platform_matches(want, &have) && strcmp(want->variant, have.variant) == 0
                    : platform_matches(want, &have))
                return (int)i;
        }
    }
    /* Without platform information, a single non-attestation entry is it. */
    int only = -1;
    for (size_t i = 0; i < ix->n; i++) {
        if (ix->manifests[i].attestation || ix->manifests[i].platform_arch)
            continue;
        if (only >= 0)
            return -ENOENT;
        only = (int)i;
    }
    return only >= 0 ? only : -ENOENT;
}

int index_pick_platform(const struct oci_index *ix)
{
    return index_pick(ix, NULL);
}

char *index_platforms(const struct oci_index *ix)
{
    char *out = NULL;
    for (size_t i = 0; i < ix->n; i++) {
        const struct descriptor *d = &ix->manifests[i];
        if (d->attestation || !d->platform_arch)
            continue;
        struct platform p;
        char buf[PLATFORM_STR_MAX];
        descriptor_platform(d, &p);
        platform_format(&p, buf, sizeof buf);
        char *next = out ? xasprintf("%s, %s", out, buf) : xstrdup(buf);
        free(out);
        out = next;
    }
    return out ? out : xstrdup("none");
}

char *manifest_synthesize(const char *config_digest, int64_t config_size,
                          const char *const *layer_digests, const int64_t *layer_sizes,
                          const char *const *layer_media_types, size_t n_layers)
{
    json_t *layers = json_array();
    for (size_t i = 0; i < n_layers; i++)
        json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
                                                layer_media_types[i], "digest", layer_digests[i],
                                                "size", (json_int_t)layer_sizes[i]));
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                          MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest",
                          config_digest, "size", (json_int_t)config_size, "layers", layers);
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    if (!s)
        abort();
    char *r = xstrdup(s);
    free(s);
    return r;
}
