/* SPDX-License-Identifier: Apache-2.0 */
/* `load`: imports a docker-archive (docker save: manifest.json, legacy
 * <id>/layer.tar or blobs/sha256/...) or an OCI image-layout tar, plain or
 * compressed, from a file or standard input.
 *
 * One pass over the outer archive stages every member as a temp file in the
 * store, hashed while written (the input may be a pipe, and members come in
 * any order). Then the manifests are checked against the staged digests,
 * each layer is unpacked once (DiffID verified on the uncompressed stream),
 * blobs and layers are committed, and the index is replaced last: a killed
 * load leaves no visible image, and a re-run completes it.
 * Not here: the store's blob writer and index (engine/image/store.c), applying
 * layers (engine/image/layer.c), the `load` command (cmd/cmd_image.c). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/image/archive_int.h"
#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/layer.h"
#include "engine/image/manifest.h"
#include "engine/image/reference.h"
#include "engine/image/store.h"
#include "engine/image/unpack.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define MEMBERS_MAX  100000
#define LINK_DEPTH   8
#define INDEX_DEPTH  2
#define COPY_BUF     (64u << 10)
#define KILL_ENV     "BERTH_TEST_KILL_AT"
#define ANNOT_NAMEOK ":/"

static void load_free(struct load *l)
{
    pull_free(l->pull);
    l->pull = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (l->m[i]->tmpname)
            unlinkat(l->s->tmpfd, l->m[i]->tmpname, 0);
        free(l->m[i]->name);
        free(l->m[i]->link);
        free(l->m[i]->tmpname);
        free(l->m[i]);
    }
    free(l->m);
    json_decref(l->by_name);
    for (size_t i = 0; i < l->n_plans; i++) {
        struct plan *p = &l->plans[i];
        free(p->manifest);
        for (size_t k = 0; k < p->n_layers; k++)
            free(p->layers[k].media_type);
        free(p->layers);
        strv_free(p->refs);
        free(p->created);
    }
    free(l->plans);
}

/* ---- staging ---- */

static struct member *add_member(struct load *l, const char *name)
{
    json_t *old = json_object_get(l->by_name, name);
    if (old) {
        /* A later member of the same name replaces the earlier one. */
        struct member *m = l->m[json_integer_value(old)];
        if (m->tmpname)
            unlinkat(l->s->tmpfd, m->tmpname, 0);
        free(m->tmpname);
        free(m->link);
        m->tmpname = m->link = NULL;
        m->size = 0;
        return m;
    }
    l->m = xreallocarray(l->m, l->n + 1, sizeof *l->m);
    struct member *m = l->m[l->n] = xcalloc(1, sizeof *m);
    m->name = xstrdup(name);
    json_object_set_new(l->by_name, name, json_integer((json_int_t)l->n));
    l->n++;
    return m;
}

static bool is_top_json(const char *name)
{
    return strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0 ||
           strcmp(name, "oci-layout") == 0 || strcmp(name, "repositories") == 0;
}

/* The finished temp file of w becomes the member name. */
static struct member *stage_member(struct load *l, const char *name, struct blob_writer *w)
{
    struct member *m = add_member(l, name);
    memcpy(m->digest, w->digest, DIGEST_STR_SIZE);
    m->size = (int64_t)w->size;
    blob_writer_detach(w, &m->tmpname);
    return m;
}

static int stage_file(struct load *l, struct archive *a, const char *name, struct berr *e)
{
    _cleanup_blob_writer_ struct blob_writer *w = NULL;
    int r = blob_writer_open(l->s, &w, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = xmalloc(COPY_BUF);
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, COPY_BUF);
        if (n < 0)
            return berr_set(e, -EINVAL, "%s: %s: %s", l->src, name, archive_error_string(a));
        if (n == 0)
            break;
        if (is_top_json(name) && w->size + (uint64_t)n > IMAGE_JSON_MAX)
            return berr_set(e, -EFBIG, "%s: %s: too large (limit %u bytes)", l->src, name,
                            IMAGE_JSON_MAX);
        if ((r = blob_writer_write(w, buf, (size_t)n, e)) < 0)
            return r;
    }
    if ((r = blob_writer_finish(w, e)) < 0)
        return r;
    stage_member(l, name, w);
    return 0;
}

/* Cleans a link target relative to the member's directory. */
static int clean_link(const char *member, const char *target, bool relative, char **out)
{
    if (!relative || target[0] == '/')
        return unpack_clean_path(target, out);
    const char *slash = strrchr(member, '/');
    _cleanup_free_ char *joined =
        xasprintf("%.*s/%s", slash ? (int)(slash - member) : 0, member, target);
    return unpack_clean_path(joined, out);
}

static int stage_all(struct load *l, int fd, struct berr *e)
{
    struct archive *a = archive_read_new();
    int r = 0;
    if (archive_support_safe_filters(a) < 0 || archive_read_support_format_tar(a) != ARCHIVE_OK) {
        r = berr_set(e, -ENOTSUP, "libarchive lacks an in-process decompressor");
        goto out;
    }
    if (archive_read_open_fd(a, fd, COPY_BUF) != ARCHIVE_OK) {
        r = berr_set(e, -EINVAL, "%s: not a valid image archive: %s", l->src,
                     archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *ent;
        int ar = archive_read_next_header(a, &ent);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar < ARCHIVE_WARN) {
            r = berr_set(e, -EINVAL, "%s: not a valid image archive: %s", l->src,
                         archive_error_string(a));
            goto out;
        }
        if (l->n >= MEMBERS_MAX) {
            r = berr_set(e, -E2BIG, "%s: too many members (limit %d)", l->src, MEMBERS_MAX);
            goto out;
        }
        const char *raw = archive_entry_pathname(ent);
        _cleanup_free_ char *name = NULL;
        /* Members outside the archive's namespace can never be named by a
         * valid manifest: skip them. */
        if (!raw || unpack_clean_path(raw, &name) < 0 || !*name)
            continue;
        const char *hl = archive_entry_hardlink(ent);
        mode_t type = archive_entry_filetype(ent);
        if (hl || type == AE_IFLNK) {
            _cleanup_free_ char *t = NULL;
            const char *target = hl ? hl : archive_entry_symlink(ent);
            if (!target || clean_link(name, target, !hl, &t) < 0)
                continue;
            struct member *m = add_member(l, name);
            m->link = TAKE_PTR(t);
        } else if (type == AE_IFREG) {
            if (is_top_json(name) && archive_entry_size_is_set(ent) &&
                archive_entry_size(ent) > (la_int64_t)IMAGE_JSON_MAX) {
                r = berr_set(e, -EFBIG, "%s: %s: too large (%lld bytes, limit %u)", l->src, name,
                             (long long)archive_entry_size(ent), IMAGE_JSON_MAX);
                goto out;
            }
            if ((r = stage_file(l, a, name, e)) < 0)
                goto out;
        }
    }
out:
    archive_read_free(a);
    return r;
}

/* The staged file a path in manifest.json / index.json names. */
static int find_member(struct load *l, const char *path, const char *what, struct member **out,
                       struct berr *e)
{
    if (!path || !*path || path[0] == '/')
        return berr_set(e, -EINVAL, "%s: %s: invalid path \"%.200s\"", l->src, what,
                        path ? path : "");
    for (const char *p = path; *p;) {
        const char *end = strchrnul(p, '/');
        if (end - p == 2 && p[0] == '.' && p[1] == '.')
            return berr_set(e, -EINVAL, "%s: %s: invalid path \"%.200s\"", l->src, what, path);
        p = *end ? end + 1 : end;
    }
    _cleanup_free_ char *name = NULL;
    if (unpack_clean_path(path, &name) < 0)
        return berr_set(e, -EINVAL, "%s: %s: invalid path \"%.200s\"", l->src, what, path);
    for (int depth = 0; depth <= LINK_DEPTH; depth++) {
        json_t *ix = json_object_get(l->by_name, name);
        if (!ix)
            break;
        struct member *m = l->m[json_integer_value(ix)];
        if (!m->link) {
            *out = m;
            return 0;
        }
        free(name);
        name = xstrdup(m->link);
    }
    return berr_set(e, -ENOENT, "%s: %s: \"%.200s\" is missing from the archive", l->src, what,
                    path);
}

static int read_member(struct load *l, struct member *m, char **buf, size_t *len, struct berr *e)
{
    if (m->size > (int64_t)IMAGE_JSON_MAX)
        return berr_set(e, -EFBIG, "%s: %s: too large (%lld bytes, limit %u)", l->src, m->name,
                        (long long)m->size, IMAGE_JSON_MAX);
    if (!m->tmpname)
        return store_blob_read(l->s, m->digest, IMAGE_JSON_MAX, buf, len, e);
    int r = fs_read_file(l->s->tmpfd, m->tmpname, IMAGE_JSON_MAX, buf, len, e);
    if (r < 0)
        return berr_wrap(e, "%s: %s", l->src, m->name);
    return 0;
}

/* A member named after its digest ("blobs/sha256/<hex>", "<hex>.json")
 * must hash to it. */
static int check_named_digest(struct load *l, const char *path, const struct member *m,
                              struct berr *e)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    char hex[DIGEST_HEX_LEN + 1] = "";
    if (n >= DIGEST_HEX_LEN) {
        memcpy(hex, base, DIGEST_HEX_LEN);
        hex[DIGEST_HEX_LEN] = '\0';
    }
    bool named = digest_hex_is_valid(hex, DIGEST_HEX_LEN) &&
                 ((n == DIGEST_HEX_LEN && slash && slash - path >= 6 &&
                   strncmp(slash - 6, "sha256", 6) == 0) ||
                  strcmp(base + DIGEST_HEX_LEN, ".json") == 0);
    if (n >= DIGEST_HEX_LEN && named && strcmp(hex, digest_hex(m->digest)) != 0)
        return berr_set(e, -EBADMSG, "%s: %s: content does not match its digest (it is %s)", l->src,
                        path, m->digest);
    return 0;
}

static int add_ref(struct load *l, struct plan *p, const char *name, const char *what,
                   struct berr *e)
{
    _cleanup_imgref_ struct imgref r = {0};
    int rc = ref_parse(name, &r, e);
    if (rc < 0)
        return berr_wrap(e, "%s: %s", l->src, what);
    if (r.digest)
        return berr_set(e, -EINVAL, "%s: %s: \"%.200s\": a digest reference cannot name an image",
                        l->src, what, name);
    char *s = ref_string(&r);
    if (strv_contains(p->refs, s))
        free(s);
    else
        strv_push(&p->refs, s);
    return 0;
}

static struct plan *new_plan(struct load *l)
{
    l->plans = xreallocarray(l->plans, l->n_plans + 1, sizeof *l->plans);
    struct plan *p = &l->plans[l->n_plans++];
    memset(p, 0, sizeof *p);
    p->refs = xcalloc(1, sizeof(char *));
    return p;
}

/* Config blob → DiffIDs and creation time; ChainIDs follow. */
static int plan_config(struct load *l, struct plan *p, const char *what, size_t n_layers,
                       struct berr *e)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = read_member(l, p->config, &buf, &len, e);
    if (r < 0)
        return r;
    struct imgconfig c;
    _cleanup_free_ char *cw = xasprintf("%s: %s", l->src, what);
    if ((r = imgconfig_parse(buf, len, cw, &c, e)) < 0)
        return r;
    if (l->want && c.architecture && *c.architecture) {
        struct platform have;
        platform_set(&have, c.os && *c.os ? c.os : "linux", c.architecture, c.variant);
        if (!platform_matches(l->want, &have)) {
            char w[PLATFORM_STR_MAX], h[PLATFORM_STR_MAX];
            platform_format(l->want, w, sizeof w);
            platform_format(&have, h, sizeof h);
            imgconfig_free(&c);
            return berr_set(e, -EINVAL,
                            "image with reference %s was found but does not match the specified "
                            "platform: wanted %s, actual: %s",
                            l->src, w, h);
        }
    }
    if (c.n_diff_ids != n_layers) {
        r = berr_set(e, -EINVAL, "%s: %zu layers but %zu rootfs.diff_ids in the config", cw,
                     n_layers, c.n_diff_ids);
        imgconfig_free(&c);
        return r;
    }
    const char *parent = NULL;
    for (size_t i = 0; i < n_layers; i++) {
        memcpy(p->layers[i].diffid, c.diff_ids[i], DIGEST_STR_SIZE);
        chain_id(parent, p->layers[i].diffid, p->layers[i].chain);
        parent = p->layers[i].chain;
    }
    p->created = TAKE_PTR(c.created);
    imgconfig_free(&c);
    return 0;
}

/* ---- docker-archive ---- */

static int plan_docker(struct load *l, struct member *mj, struct berr *e)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = read_member(l, mj, &buf, &len, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("%s: manifest.json", l->src);
    json_t *root = NULL;
    if ((r = image_json_load(buf, len, what, &root, e)) < 0)
        return r;
    if (!json_is_array(root) || json_array_size(root) == 0) {
        r = berr_set(e, -EINVAL, "%s: must be a non-empty array", what);
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(root, i, it)
    {
        const char *cfg = json_string_value(json_object_get(it, "Config"));
        json_t *layers = json_object_get(it, "Layers");
        json_t *tags = json_object_get(it, "RepoTags");
        if (!cfg || !json_is_array(layers) ||
            (tags && !json_is_null(tags) && !json_is_array(tags))) {
            r = berr_set(e, -EINVAL, "%s: entry %zu: needs Config, Layers (and RepoTags a list)",
                         what, i);
            goto out;
        }
        struct plan *p = new_plan(l);
        if ((r = find_member(l, cfg, "manifest.json Config", &p->config, e)) < 0 ||
            (r = check_named_digest(l, cfg, p->config, e)) < 0)
            goto out;
        p->n_layers = json_array_size(layers);
        p->layers = xcalloc(p->n_layers + 1, sizeof *p->layers);
        size_t k;
        json_t *lp;
        json_array_foreach(layers, k, lp)
        {
            struct plan_layer *pl = &p->layers[k];
            const char *lpath = json_string_value(lp);
            if ((r = find_member(l, lpath, "manifest.json Layers", &pl->blob, e)) < 0 ||
                (r = check_named_digest(l, lpath, pl->blob, e)) < 0)
                goto out;
            pl->path = pl->blob->name;
            memcpy(pl->digest, pl->blob->digest, DIGEST_STR_SIZE);
            pl->size = pl->blob->size;
        }
        if ((r = plan_config(l, p, cfg, p->n_layers, e)) < 0)
            goto out;
        /* The media type says what the blob is: plain tar when it hashes to
         * the DiffID, else compressed (detected from the bytes on unpack). */
        for (k = 0; k < p->n_layers; k++) {
            struct plan_layer *pl = &p->layers[k];
            pl->media_type = xstrdup(strcmp(pl->digest, pl->diffid) == 0
                                         ? MT_OCI_LAYER
                                         : "application/vnd.docker.image.rootfs.diff.tar.gzip");
        }
        json_t *tag;
        json_array_foreach(tags, k, tag)
        {
            if (!json_is_string(tag)) {
                r = berr_set(e, -EINVAL, "%s: RepoTags must be strings", what);
                goto out;
            }
            if ((r = add_ref(l, p, json_string_value(tag), "manifest.json RepoTags", e)) < 0)
                goto out;
        }
        const char **dg = xcalloc(p->n_layers + 1, sizeof *dg);
        const char **mt = xcalloc(p->n_layers + 1, sizeof *mt);
        int64_t *sz = xcalloc(p->n_layers + 1, sizeof *sz);
        for (k = 0; k < p->n_layers; k++) {
            dg[k] = p->layers[k].digest;
            mt[k] = p->layers[k].media_type;
            sz[k] = p->layers[k].size;
        }
        p->manifest =
            manifest_synthesize(p->config->digest, p->config->size, dg, sz, mt, p->n_layers);
        p->manifest_len = strlen(p->manifest);
        sha256_digest(p->manifest, p->manifest_len, p->manifest_digest);
        free(dg);
        free(mt);
        free(sz);
    }
out:
    json_decref(root);
    return r;
}

/* ---- OCI image layout ---- */

/* A pull's blob: taken from the store when it is there, else streamed from
 * the fetcher into tmp/ and checked against the descriptor. */
static int member_from_store(struct load *l, const struct descriptor *d, const char *path,
                             const char *label, struct berr *e)
{
    _cleanup_close_ int fd = store_blob_open(l->s, d->digest, e);
    struct stat st;
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0)
        return berr_errno(e, errno, "%s: %s %s", l->src, label, d->digest);
    struct member *m = add_member(l, path);
    memcpy(m->digest, d->digest, DIGEST_STR_SIZE);
    m->size = (int64_t)st.st_size;
    l->stats->blobs_present++;
    return 0;
}

static int fetch_member(struct load *l, const struct descriptor *d, const char *path,
                        const char *label, bool manifest, bool layer, struct berr *e)
{
    if (store_blob_exists(l->s, d->digest))
        return member_from_store(l, d, path, label, e);
    if (layer && l->fetch->fetch_blobs) {
        /* Streamed later, several at once, unpacked as it arrives. */
        struct member *m = add_member(l, path);
        memcpy(m->digest, d->digest, DIGEST_STR_SIZE);
        m->size = d->size;
        m->remote = true;
        return 0;
    }
    if (!manifest && l->fetch->fetch_blobs) {
        /* Fetched once however many pulls want it at the same time. */
        int r = pull_lock_blob(l, d->digest, e);
        if (r < 0)
            return r;
        if (r == 0)
            return member_from_store(l, d, path, label, e);
    }
    if (manifest && d->size > (int64_t)IMAGE_JSON_MAX)
        return berr_set(e, -EFBIG, "%s: %s %s: too large (%lld bytes, limit %u)", l->src, label,
                        d->digest, (long long)d->size, IMAGE_JSON_MAX);
    _cleanup_blob_writer_ struct blob_writer *w = NULL;
    int r = blob_writer_open(l->s, &w, e);
    if (r < 0)
        return r;
    if ((r = l->fetch->fetch(l->fetch->ctx, d->digest, d->size, manifest, w, e)) < 0)
        return berr_wrap(e, "%s: %s %s", l->src, label, d->digest);
    if ((r = blob_writer_finish(w, e)) < 0)
        return r;
    if (strcmp(w->digest, d->digest) != 0)
        return berr_set(e, -EBADMSG,
                        "%s: %s %s: digest mismatch: the registry sent content hashing to %s",
                        l->src, label, d->digest, w->digest);
    if ((int64_t)w->size != d->size)
        return berr_set(e, -EBADMSG, "%s: %s %s: size mismatch: %lld bytes expected, %llu sent",
                        l->src, label, d->digest, (long long)d->size, (unsigned long long)w->size);
    struct member *m = stage_member(l, path, w);
    l->stats->blobs_fetched++;
    l->stats->bytes_fetched += (uint64_t)m->size;
    return 0;
}

static int oci_blob(struct load *l, const struct descriptor *d, const char *what, const char *label,
                    bool manifest, bool layer, struct member **out, struct berr *e)
{
    /* d->digest was validated by the parser before this path is formed. */
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest_hex(d->digest));
    int r;
    if (l->fetch && !json_object_get(l->by_name, path) &&
        (r = fetch_member(l, d, path, label, manifest, layer, e)) < 0)
        return r;
    r = find_member(l, path, what, out, e);
    if (r < 0)
        return r;
    if (strcmp((*out)->digest, d->digest) != 0)
        return berr_set(e, -EBADMSG, "%s: %s: digest mismatch: %s says %s, the content is %s",
                        l->src, path, what, d->digest, (*out)->digest);
    if ((*out)->size != d->size)
        return berr_set(e, -EBADMSG, "%s: %s: size mismatch: %s says %lld, the blob has %lld",
                        l->src, path, what, (long long)d->size, (long long)(*out)->size);
    return 0;
}

static int plan_oci_manifest(struct load *l, const struct descriptor *top,
                             const struct descriptor *d, int depth, struct berr *e)
{
    struct member *mm;
    int r = oci_blob(l, d, "index.json", "manifest", true, false, &mm, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if ((r = read_member(l, mm, &buf, &len, e)) < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("%s: manifest %s", l->src, d->digest);
    if (descriptor_is_index(d)) {
        if (depth >= INDEX_DEPTH)
            return berr_set(e, -ELOOP, "%s: indexes nested too deep", what);
        struct oci_index ix;
        if ((r = index_parse(buf, len, what, &ix, e)) < 0)
            return r;
        int pick = index_pick(&ix, l->want);
        if (pick < 0) {
            struct platform host;
            char want[PLATFORM_STR_MAX];
            platform_host(&host);
            platform_format(l->want ? l->want : &host, want, sizeof want);
            _cleanup_free_ char *has = index_platforms(&ix);
            r = berr_set(e, -ENOENT, "%s: no manifest for %s in the index (it has %s)", l->src,
                         want, has);
        } else
            r = plan_oci_manifest(l, top, &ix.manifests[pick], depth + 1, e);
        index_free(&ix);
        return r;
    }
    struct oci_manifest m;
    if ((r = manifest_parse(buf, len, what, &m, e)) < 0)
        return r;
    struct plan *p = new_plan(l);
    p->manifest_member = mm;
    memcpy(p->manifest_digest, mm->digest, DIGEST_STR_SIZE);
    p->n_layers = m.n_layers;
    p->layers = xcalloc(m.n_layers + 1, sizeof *p->layers);
    _cleanup_free_ char *cw = xasprintf("config %s", m.config.digest);
    if ((r = oci_blob(l, &m.config, "the manifest", "config", false, false, &p->config, e)) < 0)
        goto out;
    for (size_t i = 0; i < m.n_layers; i++) {
        struct plan_layer *pl = &p->layers[i];
        char label[32];
        snprintf(label, sizeof label, "layer %zu", i + 1);
        if ((r = oci_blob(l, &m.layers[i], "the manifest", label, false, true, &pl->blob, e)) < 0)
            goto out;
        pl->path = pl->blob->name;
        memcpy(pl->digest, m.layers[i].digest, DIGEST_STR_SIZE);
        pl->size = m.layers[i].size;
        pl->media_type = xstrdup(m.layers[i].media_type ? m.layers[i].media_type : MT_OCI_LAYER);
    }
    if ((r = plan_config(l, p, cw, m.n_layers, e)) < 0)
        goto out;
    /* The name: containerd's annotation, else the OCI ref.name when it is
     * a whole reference (a bare tag like "1.0" names no repository). */
    if (top->image_name)
        r = add_ref(l, p, top->image_name, "index.json io.containerd.image.name", e);
    else if (top->ref_name && strpbrk(top->ref_name, ANNOT_NAMEOK))
        r = add_ref(l, p, top->ref_name, "index.json org.opencontainers.image.ref.name", e);
out:
    manifest_free(&m);
    return r;
}

static int plan_oci(struct load *l, struct member *ij, struct berr *e)
{
    struct member *layout;
    int r = find_member(l, "oci-layout", "oci-layout", &layout, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if ((r = read_member(l, layout, &buf, &len, e)) < 0)
        return r;
    _cleanup_free_ char *lw = xasprintf("%s: oci-layout", l->src);
    json_t *lj = NULL;
    if ((r = image_json_load(buf, len, lw, &lj, e)) < 0)
        return r;
    bool ok = json_is_string(json_object_get(lj, "imageLayoutVersion"));
    json_decref(lj);
    if (!ok)
        return berr_set(e, -EINVAL, "%s: missing imageLayoutVersion", lw);
    free(buf);
    buf = NULL;
    if ((r = read_member(l, ij, &buf, &len, e)) < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("%s: index.json", l->src);
    struct oci_index ix;
    if ((r = index_parse(buf, len, what, &ix, e)) < 0)
        return r;
    if (ix.n == 0)
        r = berr_set(e, -EINVAL, "%s: no manifests", what);
    for (size_t i = 0; i < ix.n && r == 0; i++) {
        if (ix.manifests[i].attestation)
            continue;
        r = plan_oci_manifest(l, &ix.manifests[i], &ix.manifests[i], 0, e);
    }
    index_free(&ix);
    return r;
}

/* ---- commit ---- */

static int open_member(struct load *l, struct member *m, struct berr *e)
{
    if (!m->tmpname)
        return store_blob_open(l->s, m->digest, e);
    int fd = openat(l->s->tmpfd, m->tmpname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "%s: %s", l->src, m->name);
    return fd;
}

static int adopt(struct load *l, struct member *m, struct berr *e)
{
    if (!m->tmpname)
        return 0;
    int r = store_blob_adopt(l->s, m->tmpname, m->digest, NULL, e);
    if (r < 0)
        return r;
    free(m->tmpname);
    m->tmpname = NULL;
    return 0;
}

static int commit_layer(struct load *l, struct plan_layer *pl, struct berr *e)
{
    if (pl->present || pl->uj)
        return pull_commit_layer(l, pl, e);
    uint64_t budget;
    int r = layer_byte_budget((uint64_t)pl->size, &budget, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("%s: layer %s", l->src, pl->path);
    if (store_layer_exists(l->s, pl->chain)) {
        pl->unpacked = store_layer_size(l->s, pl->chain);
        if (!pl->blob->tmpname)
            return 0;
        /* A new blob for a known layer: it must still hash to the DiffID. */
        _cleanup_close_ int fd = open_member(l, pl->blob, e);
        if (fd < 0)
            return fd;
        if ((r = layer_apply(fd, -1, budget, pl->diffid, what, NULL, NULL, NULL, e)) < 0)
            return r;
        return adopt(l, pl->blob, e);
    }
    _cleanup_close_ int fd = open_member(l, pl->blob, e);
    if (fd < 0)
        return fd;
    _cleanup_free_ char *tmp = NULL;
    _cleanup_close_ int dfd = -1;
    if ((r = store_layer_tmpdir(l->s, &tmp, &dfd, e)) < 0)
        return r;
    struct unpack_stats st = {0};
    r = layer_apply(fd, dfd, budget, pl->diffid, what, &l->s->sink, NULL, &st, e);
    if (r == 0)
        r = adopt(l, pl->blob, e);
    if (r == 0)
        r = store_layer_commit(l->s, tmp, dfd, pl->chain, pl->diffid, st.bytes, e);
    if (r < 0) {
        struct berr e2 = BERR_INIT;
        fs_rm_rf_at(l->s->tmpfd, tmp, &e2);
        berr_clear(&e2);
        return r;
    }
    pl->unpacked = st.bytes;
    if (l->kill_after_layer) {
        /* Test hook: prove that a load killed here leaves no image. */
        raise(SIGKILL);
    }
    return 0;
}

static json_t *index_entry(const struct plan *p)
{
    json_t *layers = json_array();
    for (size_t i = 0; i < p->n_layers; i++) {
        const struct plan_layer *pl = &p->layers[i];
        json_array_append_new(layers, index_layer_new(pl->digest, pl->size, pl->media_type,
                                                      pl->diffid, pl->chain, pl->unpacked));
    }
    return index_image_new(p->manifest_digest, p->config->size, p->created, layers);
}

static int commit_all(struct load *l, char ***loaded, struct berr *e)
{
    int r;
    for (size_t i = 0; i < l->n_plans; i++) {
        struct plan *p = &l->plans[i];
        for (size_t k = 0; k < p->n_layers; k++)
            if ((r = commit_layer(l, &p->layers[k], e)) < 0)
                return r;
        if ((r = adopt(l, p->config, e)) < 0)
            return r;
        if (p->manifest_member) {
            if ((r = adopt(l, p->manifest_member, e)) < 0)
                return r;
        } else if ((r = store_blob_put(l->s, p->manifest, p->manifest_len, p->manifest_digest, NULL,
                                       NULL, e)) < 0) {
            return r;
        }
    }
    json_t *idx = NULL;
    if ((r = store_index_load(l->s, &idx, e)) < 0)
        return r;
    json_t *images = json_object_get(idx, "images");
    json_t *refs = json_object_get(idx, "refs");
    for (size_t i = 0; i < l->n_plans; i++) {
        struct plan *p = &l->plans[i];
        const char *id = p->config->digest;
        json_object_set_new(images, id, index_entry(p));
        for (size_t k = 0; p->refs[k]; k++) {
            json_object_set_new(refs, p->refs[k], json_string(id));
            if (loaded)
                strv_push(loaded, xstrdup(p->refs[k]));
        }
        if (!p->refs[0] && loaded)
            strv_push(loaded, xstrdup(id));
        if (l->fetch)
            index_mark_pulled(idx, p->refs, l->stats->manifest_digest);
    }
    r = store_index_save(l->s, idx, e);
    /* Blobs this load made redundant (an image re-loaded with other layer
     * compression keeps one manifest) and leftovers of killed loads. */
    if (r == 0) {
        struct berr e2 = BERR_INIT;
        store_gc(l->s, idx, NULL, &e2);
        berr_clear(&e2);
    }
    json_decref(idx);
    return r;
}

/* The end of a load or pull: on failure, drops what it committed and no
 * image references; unlocks. */
static int load_end(struct load *l, int r, char **out, char ***loaded)
{
    struct store *s = l->s;
    if (r < 0 && s->locked) {
        json_t *idx = NULL;
        struct berr e2 = BERR_INIT;
        if (store_index_load(s, &idx, &e2) == 0)
            store_gc(s, idx, NULL, &e2);
        json_decref(idx);
        berr_clear(&e2);
    }
    if (r < 0) {
        strv_free(out);
    } else if (loaded) {
        *loaded = out;
    } else {
        strv_free(out);
    }
    load_free(l);
    store_unlock(s);
    return r;
}

int image_load_archive(struct store *s, const char *path, char ***loaded, struct berr *e)
{
    bool from_stdin = !path || strcmp(path, "-") == 0;
    _cleanup_close_ int fd = -1;
    if (from_stdin) {
        if (isatty(STDIN_FILENO))
            return berr_set(e, -EINVAL,
                            "requested load from stdin, but stdin is a terminal "
                            "(use -i FILE or redirect an archive)");
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
            return berr_errno(e, errno, "opening %s", path);
    }
    const char *k = getenv(KILL_ENV);
    struct load l = {
        .s = s,
        .src = from_stdin ? "stdin" : path,
        .by_name = json_object(),
        .kill_after_layer = k && strcmp(k, "after-layer") == 0,
    };
    int r = store_lock(s, e);
    if (r < 0) {
        load_free(&l);
        return r;
    }
    char **out = xcalloc(1, sizeof(char *));
    if ((r = stage_all(&l, from_stdin ? STDIN_FILENO : fd, e)) < 0)
        goto out;
    struct member *mj = NULL, *ij = NULL;
    json_t *x = json_object_get(l.by_name, "manifest.json");
    if (x)
        mj = l.m[json_integer_value(x)];
    x = json_object_get(l.by_name, "index.json");
    if (x)
        ij = l.m[json_integer_value(x)];
    if (mj && mj->link)
        mj = NULL;
    if (ij && ij->link)
        ij = NULL;
    if (mj)
        r = plan_docker(&l, mj, e);
    else if (ij)
        r = plan_oci(&l, ij, e);
    else
        r = berr_set(e, -EINVAL, "%s: not an image archive (no manifest.json or index.json inside)",
                     l.src);
    if (r < 0)
        goto out;
    r = commit_all(&l, &out, e);
out:
    return load_end(&l, r, out, loaded);
}

/* Stages the document fetched by reference (the top of the image) like any
 * other blob, so that a later pull finds it in the store, and plans from it. */
static int pull_plan(struct load *l, const struct imgref *ir, const char *media_type,
                     const void *doc, size_t len, struct berr *e)
{
    char *digest = l->stats->manifest_digest;
    sha256_digest(doc, len, digest);
    if (ir->digest && strcmp(ir->digest, digest) != 0)
        return berr_set(e, -EBADMSG,
                        "%s: digest mismatch: the registry sent a manifest hashing to %s", l->src,
                        digest);
    if (len > IMAGE_JSON_MAX)
        return berr_set(e, -EFBIG, "%s: manifest too large (%zu bytes, limit %u)", l->src, len,
                        IMAGE_JSON_MAX);
    _cleanup_blob_writer_ struct blob_writer *w = NULL;
    int r;
    if ((r = blob_writer_open(l->s, &w, e)) < 0 || (r = blob_writer_write(w, doc, len, e)) < 0 ||
        (r = blob_writer_finish(w, e)) < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest_hex(digest));
    stage_member(l, path, w);
    _cleanup_free_ char *mt = xstrdup(media_type ? media_type : "");
    mt[strcspn(mt, "; \t")] = '\0';
    _cleanup_free_ char *name = ir->digest ? NULL : xstrdup(l->src);
    struct descriptor top = {
        .media_type = *mt ? mt : NULL,
        .digest = digest,
        .size = (int64_t)len,
        /* A digest reference names no tag: the image is found by digest. */
        .image_name = name,
    };
    return plan_oci_manifest(l, &top, &top, 0, e);
}

int image_pull_import(struct store *s, const char *ref, const char *media_type, const void *doc,
                      size_t len, const struct image_fetcher *f, struct image_pull_stats *stats,
                      char ***pulled, struct berr *e)
{
    return image_pull_import_for(s, ref, NULL, media_type, doc, len, f, stats, pulled, e);
}

int image_pull_import_for(struct store *s, const char *ref, const struct platform *platform,
                          const char *media_type, const void *doc, size_t len,
                          const struct image_fetcher *f, struct image_pull_stats *stats,
                          char ***pulled, struct berr *e)
{
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(ref, &ir, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *name = ref_string(&ir);
    struct image_pull_stats dummy = {0};
    struct load l = {
        .s = s,
        .src = name,
        .by_name = json_object(),
        .fetch = f,
        .stats = stats ? stats : &dummy,
        .want = platform,
    };
    /* Staged in a directory of its own: the writer lock is taken for the
     * commit only, so pulls of different images run at once. A fetcher
     * without fetch_blobs plans and fetches under the lock. */
    bool streamed = f->fetch_blobs != NULL;
    if ((r = store_stage_begin(s, e)) < 0 || (!streamed && (r = store_lock(s, e)) < 0)) {
        load_free(&l);
        store_stage_end(s);
        return r;
    }
    char **out = xcalloc(1, sizeof(char *));
    r = pull_plan(&l, &ir, media_type, doc, len, e);
    if (r == 0 && streamed)
        r = pull_layers(&l, e);
    if (streamed) {
        int lr = store_lock(s, r < 0 ? NULL : e);
        if (r == 0)
            r = lr;
    }
    if (r == 0)
        r = commit_all(&l, &out, e);
    r = load_end(&l, r, out, pulled);
    store_stage_end(s);
    return r;
}
