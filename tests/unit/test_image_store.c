/* SPDX-License-Identifier: Apache-2.0 */
/* The content store and `load`: blobs verified as written, docker-archive
 * and OCI-layout imports built in memory, DiffID checks (L13), hostile
 * manifests (L16), atomicity (a failed load leaves nothing), lookup,
 * listing, removal and garbage collection, containers protecting images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/image/image.h"
#include "engine/image/store.h"
#include "image_testlib.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

struct fx {
    char *t, *root, *before;
    struct store *s;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->t = test_tmpdir("store");
    f->root = xasprintf("%s/store", f->t);
    _cleanup_free_ char *sent = xasprintf("%s/sentinel", f->t);
    assert_int_equal(mkdir(sent, 0755), 0);
    _cleanup_free_ char *sf = xasprintf("%s/sentinel/passwd", f->t);
    write_file(sf, "root:x:0:0::/root:/bin/sh\n", 26);
    struct berr e = BERR_INIT;
    assert_int_equal(store_open(f->root, &f->s, &e), 0);
    f->before = snapshot(f->t, f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *after = snapshot(f->t, f->root);
    assert_string_equal(f->before, after);
    store_close(f->s);
    rm_rf(f->t);
    free(f->t);
    free(f->root);
    free(f->before);
    free(f);
    return 0;
}

static size_t count_dir(const char *root, const char *sub)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", root, sub);
    DIR *d = opendir(p);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* Nothing visible and nothing left behind. */
static void assert_empty_store(struct fx *f)
{
    struct image **list = NULL;
    size_t n = 9;
    struct berr e = BERR_INIT;
    assert_int_equal(store_image_list_all(f->s, true, &list, &n, &e), 0);
    assert_int_equal(n, 0);
    image_list_free(list, n);
    assert_int_equal(count_dir(f->root, "layers"), 0);
    assert_int_equal(count_dir(f->root, "blobs/sha256"), 0);
    assert_int_equal(count_dir(f->root, "tmp"), 0);
}

static void test_blob_put_verify(void **state)
{
    struct fx *f = *state;
    char want[DIGEST_STR_SIZE], got[DIGEST_STR_SIZE];
    sha256_digest("hello world", 11, want);
    struct berr e = BERR_INIT;
    bool created;
    /* One flipped byte: refused, nothing committed. */
    assert_int_equal(store_blob_put(f->s, "hello worle", 11, want, got, &created, &e), -EBADMSG);
    assert_non_null(strstr(e.msg, "digest mismatch"));
    berr_clear(&e);
    assert_false(store_blob_exists(f->s, want));
    assert_int_equal(count_dir(f->root, "blobs/sha256"), 0);
    assert_int_equal(count_dir(f->root, "tmp"), 0);
    /* Invalid expected digests are refused before any path is formed. */
    assert_int_equal(store_blob_put(f->s, "x", 1, "sha256:../../x", got, NULL, &e), -EINVAL);
    berr_clear(&e);
    assert_int_equal(store_blob_put(f->s, "hello world", 11, want, got, &created, &e), 0);
    assert_true(created);
    assert_string_equal(got, want);
    assert_true(store_blob_exists(f->s, want));
    assert_int_equal(store_blob_put(f->s, "hello world", 11, want, got, &created, &e), 0);
    assert_false(created);
    char *buf = NULL;
    size_t len;
    assert_int_equal(store_blob_read(f->s, want, 100, &buf, &len, &e), 0);
    assert_string_equal(buf, "hello world");
    free(buf);
    /* Size mismatch through the streaming writer. */
    struct blob_writer *w;
    assert_int_equal(blob_writer_open(f->s, &w, &e), 0);
    assert_int_equal(blob_writer_write(w, "hello world", 11, &e), 0);
    assert_int_equal(blob_writer_commit(w, want, 12, NULL, &e), -EBADMSG);
    berr_clear(&e);
    blob_writer_free(w);
    assert_int_equal(count_dir(f->root, "tmp"), 0);
    /* The empty index; GC with no images removes the blob. */
    json_t *idx;
    assert_int_equal(store_index_load(f->s, &idx, &e), 0);
    assert_int_equal(store_gc(f->s, idx, NULL, &e), 0);
    json_decref(idx);
    assert_false(store_blob_exists(f->s, want));
}

static void test_stale_cleanup(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *stale = xasprintf("%s/tmp/layer-dead", f->root);
    assert_int_equal(mkdir(stale, 0755), 0);
    _cleanup_free_ char *sf = xasprintf("%s/tmp/layer-dead/file", f->root);
    write_file(sf, "x", 1);
    _cleanup_free_ char *ix = xasprintf("%s/.images.json.tmp.999", f->root);
    write_file(ix, "{", 1);
    struct store *s2;
    struct berr e = BERR_INIT;
    assert_int_equal(store_open(f->root, &s2, &e), 0);
    store_close(s2);
    assert_false(fs_exists(stale));
    assert_false(fs_exists(ix));
}

/* ---- archive builders ---- */

/* A layer with content chosen by variant, compressed by filter. */
static char *make_layer(const char *filter, int variant, size_t *len)
{
    struct tb *t = tb_new(filter);
    if (variant == 0) {
        tb_dir(t, "bin", 0755);
        tb_file(t, "bin/hello", 0755, "#!/bin/sh\necho hello\n");
        tb_file(t, "etc/os-release", 0644, "ID=berth-test\n");
    } else {
        tb_file(t, "etc/app.conf", 0644, "answer=42\n");
        tb_file(t, "bin/.wh.hello", 0644, "");
    }
    return tb_finish(t, len);
}

struct arch {
    struct tb *t;
};

static void add_bytes(struct tb *t, const char *path, const char *buf, size_t len)
{
    tb_add(t, 'f', path, NULL, 0644, buf, len, 0, 0);
}

static char *config_json(const char *const *diffids, size_t n)
{
    char *ids = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *x = xasprintf("%s%s\"%s\"", ids, i ? "," : "", diffids[i]);
        free(ids);
        ids = x;
    }
    char *c = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
                        "\"created\":\"2024-01-01T00:00:00Z\",\"config\":{\"Entrypoint\":"
                        "[\"/bin/hello\"],\"Env\":[\"PATH=/bin\"],\"WorkingDir\":\"/\"},"
                        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                        ids);
    free(ids);
    return c;
}

struct docker_opts {
    const char *layer_filter;    /* "none" or "gzip" */
    const char *tags;            /* JSON array text */
    const char *layer_path_over; /* replaces the first layer path */
    bool bad_diffid;             /* config's second DiffID wrong */
    bool legacy;                 /* <id>/layer.tar layout with a symlinked duplicate */
    size_t manifest_pad;         /* extra bytes in manifest.json */
};

static char *docker_archive(const struct docker_opts *o, const char *outer_filter, size_t *len)
{
    size_t l0, l1, p0, p1;
    _cleanup_free_ char *layer0 = make_layer(o->layer_filter, 0, &l0);
    _cleanup_free_ char *layer1 = make_layer(o->layer_filter, 1, &l1);
    _cleanup_free_ char *plain0 = make_layer("none", 0, &p0);
    _cleanup_free_ char *plain1 = make_layer("none", 1, &p1);
    char d0[DIGEST_STR_SIZE], d1[DIGEST_STR_SIZE], b0[DIGEST_STR_SIZE], b1[DIGEST_STR_SIZE];
    sha256_digest(plain0, p0, d0);
    sha256_digest(plain1, p1, d1);
    sha256_digest(layer0, l0, b0);
    sha256_digest(layer1, l1, b1);
    if (o->bad_diffid)
        d1[10] = d1[10] == 'a' ? 'b' : 'a';
    const char *ids[] = {d0, d1};
    _cleanup_free_ char *cfg = config_json(ids, 2);
    char cd[DIGEST_STR_SIZE];
    sha256_digest(cfg, strlen(cfg), cd);
    struct tb *t = tb_new(outer_filter);
    _cleanup_free_ char *cpath = NULL, *lp0 = NULL, *lp1 = NULL;
    if (o->legacy) {
        cpath = xasprintf("%s.json", digest_hex(cd));
        lp0 = xstrdup("aaaa/layer.tar");
        lp1 = xstrdup("bbbb/layer.tar");
        tb_dir(t, "aaaa", 0755);
        add_bytes(t, "aaaa/layer.tar", layer0, l0);
        add_bytes(t, "cccc/layer.tar", layer1, l1);
        tb_dir(t, "bbbb", 0755);
        tb_symlink(t, "bbbb/layer.tar", "../cccc/layer.tar");
    } else {
        cpath = xasprintf("blobs/sha256/%s", digest_hex(cd));
        lp0 = xasprintf("blobs/sha256/%s", digest_hex(b0));
        lp1 = xasprintf("blobs/sha256/%s", digest_hex(b1));
        add_bytes(t, lp0, layer0, l0);
        add_bytes(t, lp1, layer1, l1);
    }
    add_bytes(t, cpath, cfg, strlen(cfg));
    char *pad = xcalloc(1, o->manifest_pad + 1);
    memset(pad, ' ', o->manifest_pad);
    _cleanup_free_ char *man = xasprintf("[{\"Config\":\"%s\",\"RepoTags\":%s,\"Layers\":"
                                         "[\"%s\",\"%s\"]}]%s",
                                         cpath, o->tags ? o->tags : "[\"test/app:1\"]",
                                         o->layer_path_over ? o->layer_path_over : lp0, lp1, pad);
    free(pad);
    add_bytes(t, "manifest.json", man, strlen(man));
    return tb_finish(t, len);
}

struct oci_opts {
    const char *name;        /* io.containerd.image.name, or NULL */
    const char *ref_name;    /* org.opencontainers.image.ref.name, or NULL */
    const char *index_dg;    /* replaces the manifest digest in index.json */
    bool wrong_layer_digest; /* the manifest names another digest than the blob's */
};

static char *oci_archive(const struct oci_opts *o, size_t *len)
{
    size_t l0, p0;
    _cleanup_free_ char *layer0 = make_layer("zstd", 0, &l0);
    _cleanup_free_ char *plain0 = make_layer("none", 0, &p0);
    char d0[DIGEST_STR_SIZE], b0[DIGEST_STR_SIZE], cd[DIGEST_STR_SIZE], md[DIGEST_STR_SIZE];
    sha256_digest(plain0, p0, d0);
    sha256_digest(layer0, l0, b0);
    const char *ids[] = {d0};
    _cleanup_free_ char *cfg = config_json(ids, 1);
    sha256_digest(cfg, strlen(cfg), cd);
    char named_b0[DIGEST_STR_SIZE];
    memcpy(named_b0, b0, sizeof b0);
    if (o->wrong_layer_digest)
        named_b0[10] = named_b0[10] == 'a' ? 'b' : 'a';
    _cleanup_free_ char *man = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
        "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
        "\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"%s\",\"size\":%zu}]}",
        cd, strlen(cfg), named_b0, l0);
    sha256_digest(man, strlen(man), md);
    _cleanup_free_ char *annot = xstrdup("");
    if (o->name || o->ref_name) {
        free(annot);
        annot = xasprintf(",\"annotations\":{%s%s%s%s%s%s%s}",
                          o->name ? "\"io.containerd.image.name\":\"" : "", o->name ? o->name : "",
                          o->name ? "\"" : "", o->name && o->ref_name ? "," : "",
                          o->ref_name ? "\"org.opencontainers.image.ref.name\":\"" : "",
                          o->ref_name ? o->ref_name : "", o->ref_name ? "\"" : "");
    }
    _cleanup_free_ char *index = xasprintf(
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
        "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu%s}]}",
        o->index_dg ? o->index_dg : md, strlen(man), annot);
    struct tb *t = tb_new("none");
    add_bytes(t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    add_bytes(t, "index.json", index, strlen(index));
    _cleanup_free_ char *mp = xasprintf("blobs/sha256/%s", digest_hex(md));
    _cleanup_free_ char *cp = xasprintf("blobs/sha256/%s", digest_hex(cd));
    _cleanup_free_ char *lp = xasprintf("blobs/sha256/%s", digest_hex(b0));
    add_bytes(t, mp, man, strlen(man));
    add_bytes(t, cp, cfg, strlen(cfg));
    add_bytes(t, lp, layer0, l0);
    return tb_finish(t, len);
}

static int load_bytes(struct fx *f, const char *buf, size_t len, char ***loaded, struct berr *e)
{
    _cleanup_free_ char *dir = test_tmpdir("archive");
    _cleanup_free_ char *p = xasprintf("%s/image.tar", dir);
    write_file(p, buf, len);
    int r = image_load_archive(f->s, p, loaded, e);
    rm_rf(dir);
    return r;
}

static void test_load_docker_archive(void **state)
{
    struct fx *f = *state;
    const char *layouts[] = {"blobs", "legacy"};
    for (size_t v = 0; v < 2; v++) {
        struct docker_opts o = {.layer_filter = v ? "none" : "gzip", .legacy = v == 1};
        size_t len;
        _cleanup_free_ char *arch = docker_archive(&o, v ? "none" : "gzip", &len);
        _cleanup_strv_ char **loaded = NULL;
        struct berr e = BERR_INIT;
        if (load_bytes(f, arch, len, &loaded, &e) < 0)
            fail_msg("%s layout: %s", layouts[v], e.msg);
        assert_non_null(loaded);
        assert_string_equal(loaded[0], "docker.io/test/app:1");
        assert_null(loaded[1]);
        struct image *img;
        assert_int_equal(store_image_get(f->s, "test/app:1", &img, &e), 0);
        assert_string_equal(img->familiar, "test/app:1");
        assert_int_equal(img->n_layers, 2);
        assert_string_equal(img->entrypoint[0], "/bin/hello");
        assert_string_equal(img->created, "2024-01-01T00:00:00Z");
        assert_true(img->size > 0);
        _cleanup_free_ char *hello = xasprintf("%s/bin/hello", img->layer_dirs[0]);
        _cleanup_free_ char *wh = xasprintf("%s/bin/hello", img->layer_dirs[1]);
        struct stat st;
        assert_int_equal(lstat(hello, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(lstat(wh, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        /* Short ID, full ID and the normalized name find it too. */
        struct image *by;
        _cleanup_free_ char *shortid = xstrndup(img->id + 7, 12);
        assert_int_equal(store_image_get(f->s, shortid, &by, &e), 0);
        assert_string_equal(by->id, img->id);
        image_free(by);
        assert_int_equal(store_image_get(f->s, img->id, &by, &e), 0);
        image_free(by);
        assert_int_equal(store_image_get(f->s, "docker.io/test/app:1", &by, &e), 0);
        image_free(by);
        assert_int_equal(store_image_get(f->s, "test/app:2", &by, &e), -ENOENT);
        assert_string_equal(e.msg, "image \"test/app:2\" not found");
        berr_clear(&e);
        image_free(img);
        assert_int_equal(count_dir(f->root, "tmp"), 0);
        /* Remove: untagged, deleted, store empty again. */
        _cleanup_strv_ char **untagged = NULL, **deleted = NULL;
        assert_int_equal(store_image_remove_ex(f->s, "test/app:1", false, &untagged, &deleted, &e),
                         0);
        assert_string_equal(untagged[0], "test/app:1");
        assert_int_equal(strv_len(deleted), 3); /* image + 2 layers */
        assert_empty_store(f);
    }
}

static void test_load_oci_and_sharing(void **state)
{
    struct fx *f = *state;
    struct oci_opts o = {.name = "berth-test/oci:zstd", .ref_name = "zstd"};
    size_t len;
    _cleanup_free_ char *arch = oci_archive(&o, &len);
    _cleanup_strv_ char **loaded = NULL;
    struct berr e = BERR_INIT;
    if (load_bytes(f, arch, len, &loaded, &e) < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(loaded[0], "docker.io/berth-test/oci:zstd");
    /* Idempotent re-load. */
    strv_free(loaded);
    loaded = NULL;
    assert_int_equal(load_bytes(f, arch, len, &loaded, &e), 0);
    assert_int_equal(count_dir(f->root, "layers"), 2); /* dir + metadata */
    /* The docker archive's bottom layer is the same DiffID: stored once. */
    struct docker_opts d = {.layer_filter = "gzip"};
    _cleanup_free_ char *darch = docker_archive(&d, "none", &len);
    assert_int_equal(load_bytes(f, darch, len, NULL, &e), 0);
    assert_int_equal(count_dir(f->root, "layers"), 4);
    /* A bare ref.name tag names no repository: loaded by ID. */
    struct oci_opts u = {.ref_name = "latest"};
    _cleanup_free_ char *uarch = oci_archive(&u, &len);
    strv_free(loaded);
    loaded = NULL;
    assert_int_equal(load_bytes(f, uarch, len, &loaded, &e), 0);
    assert_true(digest_is_valid(loaded[0]));
    struct image **list;
    size_t n;
    assert_int_equal(store_image_list(f->s, &list, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0]->ref, "docker.io/berth-test/oci:zstd");
    assert_string_equal(list[1]->ref, "docker.io/test/app:1");
    image_list_free(list, n);
    /* Removing one image keeps the shared layer for the other. */
    _cleanup_strv_ char **untagged = NULL, **deleted = NULL;
    assert_int_equal(
        store_image_remove_ex(f->s, "berth-test/oci:zstd", false, &untagged, &deleted, &e), 0);
    assert_int_equal(strv_len(deleted), 1);
    struct image *img;
    assert_int_equal(store_image_get(f->s, "test/app:1", &img, &e), 0);
    struct stat st;
    assert_int_equal(stat(img->layer_dirs[0], &st), 0);
    image_free(img);
    assert_int_equal(store_image_remove(f->s, "test/app:1", NULL, &e), 0);
    assert_empty_store(f);
}

static void test_load_stdin_compressed(void **state)
{
    struct fx *f = *state;
    struct docker_opts d = {.layer_filter = "none"};
    size_t len;
    _cleanup_free_ char *arch = docker_archive(&d, "zstd", &len);
    _cleanup_free_ char *dir = test_tmpdir("stdin");
    _cleanup_free_ char *p = xasprintf("%s/in.tar.zst", dir);
    write_file(p, arch, len);
    int saved = dup(STDIN_FILENO);
    int fd = open(p, O_RDONLY);
    dup2(fd, STDIN_FILENO);
    close(fd);
    _cleanup_strv_ char **loaded = NULL;
    struct berr e = BERR_INIT;
    int r = image_load_archive(f->s, NULL, &loaded, &e);
    dup2(saved, STDIN_FILENO);
    close(saved);
    rm_rf(dir);
    if (r < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(loaded[0], "docker.io/test/app:1");
}

/* L13 and atomicity: the second layer's DiffID is wrong, so nothing of the
 * load stays: no image, no first layer, no blobs. */
static void test_L13_diffid_mismatch(void **state)
{
    struct fx *f = *state;
    const char *filters[] = {"none", "gzip"};
    for (size_t i = 0; i < 2; i++) {
        struct docker_opts d = {.layer_filter = filters[i], .bad_diffid = true};
        size_t len;
        _cleanup_free_ char *arch = docker_archive(&d, "none", &len);
        struct berr e = BERR_INIT;
        assert_int_equal(load_bytes(f, arch, len, NULL, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "DiffID mismatch"));
        assert_non_null(strstr(e.msg, "layer"));
        berr_clear(&e);
        assert_empty_store(f);
    }
    /* A corrupt layer blob (a flipped byte in the OCI layer) likewise. */
    struct oci_opts o = {.name = "x/y:z", .wrong_layer_digest = true};
    size_t len;
    _cleanup_free_ char *arch = oci_archive(&o, &len);
    struct berr e = BERR_INIT;
    assert_true(load_bytes(f, arch, len, NULL, &e) < 0);
    assert_non_null(strstr(e.msg, "missing from the archive"));
    berr_clear(&e);
    assert_empty_store(f);
}

/* L16: hostile manifest.json / index.json. */
static void test_L16_hostile_manifests(void **state)
{
    struct fx *f = *state;
    struct {
        struct docker_opts o;
        const char *msg;
    } dcases[] = {
        {{.layer_filter = "none", .layer_path_over = "../../../etc/passwd"}, "invalid path"},
        {{.layer_filter = "none", .layer_path_over = "/etc/passwd"}, "invalid path"},
        {{.layer_filter = "none", .layer_path_over = "blobs/../../sentinel/passwd"},
         "invalid path"},
        {{.layer_filter = "none", .tags = "[\"../x\"]"}, "invalid reference"},
        {{.layer_filter = "none", .tags = "[\"Upper:1\"]"}, "invalid reference"},
        {{.layer_filter = "none", .manifest_pad = (4u << 20) + 1}, "too large"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
        size_t len;
        _cleanup_free_ char *arch = docker_archive(&dcases[i].o, "none", &len);
        struct berr e = BERR_INIT;
        if (load_bytes(f, arch, len, NULL, &e) == 0)
            fail_msg("case %zu accepted", i);
        if (!strstr(e.msg, dcases[i].msg))
            fail_msg("case %zu: %s", i, e.msg);
        berr_clear(&e);
        assert_empty_store(f);
    }
    const char *bad_digests[] = {
        "sha256:../../x", "sha256:../../../../../../sentinel/passwd",
        /* Upper-case hex (parenthesised: one string split over two lines). */
        ("sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef01234567"
         "89"),
        "md5:0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_digests); i++) {
        struct oci_opts o = {.name = "x/y:z", .index_dg = bad_digests[i]};
        size_t len;
        _cleanup_free_ char *arch = oci_archive(&o, &len);
        struct berr e = BERR_INIT;
        assert_true(load_bytes(f, arch, len, NULL, &e) < 0);
        if (!strstr(e.msg, "invalid digest"))
            fail_msg("%s: %s", bad_digests[i], e.msg);
        berr_clear(&e);
        assert_empty_store(f);
    }
    /* Not an archive at all; an empty tar. */
    struct berr e = BERR_INIT;
    assert_true(load_bytes(f, "garbage!", 8, NULL, &e) < 0);
    berr_clear(&e);
    size_t len;
    _cleanup_free_ char *empty = tb_finish(tb_new("none"), &len);
    assert_true(load_bytes(f, empty, len, NULL, &e) < 0);
    assert_non_null(strstr(e.msg, "not an image archive"));
    berr_clear(&e);
    assert_int_equal(image_load_archive(f->s, "/nonexistent/x.tar", NULL, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "/nonexistent/x.tar"));
    berr_clear(&e);
    assert_empty_store(f);
}

static void test_remove_rules(void **state)
{
    struct fx *f = *state;
    struct docker_opts d = {.layer_filter = "none", .tags = "[\"a:1\",\"b:1\"]"};
    size_t len;
    _cleanup_free_ char *arch = docker_archive(&d, "none", &len);
    struct berr e = BERR_INIT;
    assert_int_equal(load_bytes(f, arch, len, NULL, &e), 0);
    struct image *img;
    assert_int_equal(store_image_get(f->s, "a:1", &img, &e), 0);
    _cleanup_free_ char *id = xstrdup(img->id);
    image_free(img);
    /* By ID with two tags: must be forced. */
    assert_int_equal(store_image_remove(f->s, id + 7, NULL, &e), -EBUSY);
    assert_non_null(strstr(e.msg, "referenced in multiple repositories"));
    berr_clear(&e);
    /* A container uses it. */
    _cleanup_free_ char *cdir = xasprintf("%s/containers/0123456789abcdef", f->root);
    struct berr e2 = BERR_INIT;
    assert_int_equal(fs_mkdir_p(cdir, 0700, &e2), 0);
    _cleanup_free_ char *cid = xasprintf("%s/image-id", cdir);
    _cleanup_free_ char *line = xasprintf("%s\n", id);
    write_file(cid, line, strlen(line));
    _cleanup_strv_ char **untagged = NULL;
    assert_int_equal(store_image_remove(f->s, "a:1", &untagged, &e), 0); /* b:1 remains */
    assert_string_equal(untagged[0], "a:1");
    assert_int_equal(store_image_remove(f->s, "b:1", NULL, &e), -EBUSY);
    assert_non_null(strstr(e.msg, "container 0123456789ab is using"));
    assert_non_null(strstr(e.msg, "\"b:1\""));
    berr_clear(&e);
    assert_int_equal(store_image_remove(f->s, "nope:1", NULL, &e), -ENOENT);
    assert_string_equal(e.msg, "image \"nope:1\" not found");
    berr_clear(&e);
    /* Forced: untagged, kept for the container. */
    _cleanup_strv_ char **deleted = NULL;
    assert_int_equal(store_image_remove_ex(f->s, "b:1", true, NULL, &deleted, &e), 0);
    assert_null(deleted);
    assert_int_equal(store_image_get(f->s, id, &img, &e), 0);
    assert_null(img->ref);
    struct stat st;
    assert_int_equal(stat(img->layer_dirs[1], &st), 0);
    image_free(img);
    /* The container goes; one being created (staged as .tmp-<id>) still
     * protects the image. */
    rm_rf(cdir);
    _cleanup_free_ char *tdir = xasprintf("%s/containers/.tmp-fedcba9876543210", f->root);
    assert_int_equal(fs_mkdir_p(tdir, 0700, &e2), 0);
    _cleanup_free_ char *tid = xasprintf("%s/image-id", tdir);
    write_file(tid, line, strlen(line));
    assert_int_equal(store_image_remove(f->s, id, NULL, &e), -EBUSY);
    assert_non_null(strstr(e.msg, "container fedcba987654"));
    berr_clear(&e);
    rm_rf(tdir);
    /* Removal by ID deletes everything. */
    assert_int_equal(store_image_remove_ex(f->s, id, false, NULL, &deleted, &e), 0);
    assert_string_equal(deleted[0], id);
    assert_empty_store(f);
    _cleanup_free_ char *cont = xasprintf("%s/containers", f->root);
    rm_rf(cont);
}

/* Loads one image and returns the index text berth wrote for it. */
static char *index_with_one_image(struct fx *f, char **id)
{
    struct docker_opts o = {.layer_filter = "gzip"};
    size_t len;
    _cleanup_free_ char *arch = docker_archive(&o, "gzip", &len);
    struct berr e = BERR_INIT;
    if (load_bytes(f, arch, len, NULL, &e) < 0)
        fail_msg("load: %s", e.msg);
    struct image *img;
    assert_int_equal(store_image_get(f->s, "test/app:1", &img, &e), 0);
    *id = xstrdup(img->id);
    image_free(img);
    _cleanup_free_ char *p = xasprintf("%s/images.json", f->root);
    char *buf = NULL;
    size_t n = 0;
    assert_int_equal(fs_read_file(AT_FDCWD, p, 1 << 20, &buf, &n, &e), 0);
    return buf;
}

static void put_index(struct fx *f, const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/images.json", f->root);
    write_file(p, text, strlen(text));
}

/* Every reader of the index refuses a corrupt one with one line naming the
 * file and the way out, and never crashes (F12; run under ASan as well). */
static void assert_index_refused(struct fx *f, const char *what)
{
    _cleanup_free_ char *want = xasprintf("%s/images.json: corrupt image index (", f->root);
    struct berr e = BERR_INIT;
    struct image **list = NULL;
    size_t n = 0;
    if (store_image_list_all(f->s, true, &list, &n, &e) >= 0)
        fail_msg("%s: the index was accepted", what);
    if (!strstr(e.msg, want) || !strstr(e.msg, "run 'berth image repair'") || strchr(e.msg, '\n'))
        fail_msg("%s: unexpected message: %s", what, e.msg);
    berr_clear(&e);
    struct image *img = NULL;
    assert_true(store_image_get(f->s, "test/app:1", &img, &e) < 0);
    assert_non_null(strstr(e.msg, want));
    berr_clear(&e);
    assert_true(store_image_get(f->s, "sha256:0123", &img, &e) < 0);
    berr_clear(&e);
    assert_true(store_image_remove(f->s, "test/app:1", NULL, &e) < 0);
    assert_non_null(strstr(e.msg, want));
    berr_clear(&e);
}

static void test_F12_corrupt_index_refused(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *id = NULL;
    _cleanup_free_ char *good = index_with_one_image(f, &id);
    /* Truncated at every tenth byte, and empty. */
    for (size_t cut = 0; cut < strlen(good) - 2; cut += 10) {
        _cleanup_free_ char *t = xstrndup(good, cut);
        put_index(f, t);
        _cleanup_free_ char *what = xasprintf("truncated at %zu", cut);
        assert_index_refused(f, what);
    }
    /* Whole-document shapes. */
    static const char *const shapes[] = {
        "[]",
        "null",
        "\"images\"",
        "42",
        "{}",
        "{\"images\":{}}",
        "{\"images\":[],\"refs\":{}}",
        "{\"images\":{},\"refs\":[]}",
        "{\"images\":{},\"refs\":{},\"refs\":{}}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
        put_index(f, shapes[i]);
        assert_index_refused(f, shapes[i]);
    }
    /* One value of the real index replaced: wrong types and bad digests. */
    static const struct {
        const char *path; /* "refs", "image", "image.KEY", "layer.KEY" */
        const char *value;
    } bad[] = {
        {"refs", "5"},
        {"refs", "null"},
        {"refs", "\"sha256:abc\""},
        {"refs", "\"sha256:../../../../etc/passwd\""},
        {"refs", "\"x\""},
        {"badref", "\"@\""},
        {"image", "\"string\""},
        {"image", "[]"},
        {"image.manifest", "5"},
        {"image.manifest", "\"sha256:ZZ\""},
        {"image.layers", "{}"},
        {"image.layers", "null"},
        {"image.size", "\"big\""},
        {"image.size", "-1"},
        {"image.created", "7"},
        {"layer", "\"sha256:abc\""},
        {"layer.chain_id", "7"},
        {"layer.chain_id", "\"sha256:\""},
        {"layer.chain_id", "\"sha256:../../../../tmp\""},
        {"layer.digest", "[]"},
        {"layer.unpacked_size", "\"x\""},
        {"layer.unpacked_size", "1.5"},
        {"layer.media_type", "{}"},
        {"imagekey", "\"sha256:../../x\""},
        {"imagekey", "\"sha256:short\""},
        {"imagekey", "\"\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json_t *idx = json_loads(good, 0, NULL);
        assert_non_null(idx);
        json_t *images = json_object_get(idx, "images");
        json_t *entry = json_object_get(images, id);
        json_t *layer = json_array_get(json_object_get(entry, "layers"), 0);
        json_t *v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        const char *p = bad[i].path;
        if (strcmp(p, "refs") == 0) {
            json_object_set_new(json_object_get(idx, "refs"), "docker.io/test/app:1", v);
        } else if (strcmp(p, "badref") == 0) {
            json_object_set_new(json_object_get(idx, "refs"), json_string_value(v),
                                json_string(id));
            json_decref(v);
        } else if (strcmp(p, "image") == 0) {
            json_object_set_new(images, id, v);
        } else if (strncmp(p, "image.", 6) == 0) {
            json_object_set_new(entry, p + 6, v);
        } else if (strcmp(p, "layer") == 0) {
            json_array_set_new(json_object_get(entry, "layers"), 0, v);
        } else if (strncmp(p, "layer.", 6) == 0) {
            json_object_set_new(layer, p + 6, v);
        } else {
            json_incref(entry);
            json_object_del(images, id);
            json_object_set_new(images, json_string_value(v), entry);
            json_decref(v);
        }
        _cleanup_free_ char *text = json_dumps(idx, 0);
        json_decref(idx);
        put_index(f, text);
        _cleanup_free_ char *what = xasprintf("%s = %s", p, bad[i].value);
        assert_index_refused(f, what);
    }
    /* The real index still works. */
    put_index(f, good);
    struct berr e = BERR_INIT;
    assert_int_equal(store_image_remove(f->s, "test/app:1", NULL, &e), 0);
    assert_empty_store(f);
}

/* The way out the error names: `berth image repair` rebuilds the index
 * from the store's manifests, keeping the references the damaged file
 * still names, and keeps the damaged text beside it. */
static void test_F12_index_repair(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *id = NULL;
    _cleanup_free_ char *good = index_with_one_image(f, &id);
    struct berr e = BERR_INIT;
    size_t ni = 9, nr = 9;
    /* Not damaged: nothing to do. */
    assert_int_equal(store_index_repair(f->s, &ni, &nr, &e), -EEXIST);
    assert_non_null(strstr(e.msg, "not damaged"));
    berr_clear(&e);
    /* The image's entry damaged, the references intact. */
    json_t *idx = json_loads(good, 0, NULL);
    json_object_set_new(json_object_get(idx, "images"), id, json_string("garbage"));
    _cleanup_free_ char *text = json_dumps(idx, 0);
    json_decref(idx);
    put_index(f, text);
    assert_int_equal(store_index_repair(f->s, &ni, &nr, &e), 0);
    assert_int_equal(ni, 1);
    assert_int_equal(nr, 1);
    struct image *img = NULL;
    assert_int_equal(store_image_get(f->s, "test/app:1", &img, &e), 0);
    assert_string_equal(img->id, id);
    assert_int_equal(img->n_layers, 2);
    assert_true(img->size > 0);
    image_free(img);
    _cleanup_free_ char *kept = xasprintf("%s/images.json.corrupt", f->root);
    char *buf = NULL;
    size_t n = 0;
    assert_int_equal(fs_read_file(AT_FDCWD, kept, 1 << 20, &buf, &n, &e), 0);
    assert_string_equal(buf, text);
    free(buf);
    /* Garbage: the image comes back untagged, found by its ID. */
    put_index(f, "\x01garbage");
    assert_int_equal(store_index_repair(f->s, &ni, &nr, &e), 0);
    assert_int_equal(ni, 1);
    assert_int_equal(nr, 0);
    assert_int_equal(store_image_get(f->s, id, &img, &e), 0);
    image_free(img);
    assert_int_equal(store_image_remove(f->s, id, NULL, &e), 0);
    unlink(kept);
    assert_empty_store(f);
    /* An index that loads but names a config blob the store lost is
     * damaged too: listing names the way out, and repair drops the image. */
    free(good);
    free(id);
    good = index_with_one_image(f, &id);
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", f->root, id + 7);
    assert_int_equal(unlink(blob), 0);
    struct image **list = NULL;
    assert_true(store_image_list_all(f->s, true, &list, &n, &e) < 0);
    assert_non_null(strstr(e.msg, "run 'berth image repair'"));
    berr_clear(&e);
    assert_int_equal(store_index_repair(f->s, &ni, &nr, &e), 0);
    assert_int_equal(ni, 0);
    assert_int_equal(store_image_list_all(f->s, true, &list, &n, &e), 0);
    assert_int_equal(n, 0);
    free(list);
    json_t *now = NULL;
    assert_int_equal(store_index_load(f->s, &now, &e), 0);
    assert_int_equal(store_gc(f->s, now, NULL, &e), 0);
    json_decref(now);
    unlink(kept);
    assert_empty_store(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blob_put_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_docker_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_oci_and_sharing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_stdin_compressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L13_diffid_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L16_hostile_manifests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_F12_corrupt_index_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_F12_index_repair, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
