/* SPDX-License-Identifier: Apache-2.0 */
/* The image module's half of the builder: scratch directories, a layer
 * from a directory in overlay form (the tar read back: order, whiteouts,
 * opaque markers, hard links, xattrs, DiffID), the unpacked layer kept by
 * rename, image commit (lookup, save and load elsewhere, tags moved as
 * docker moves them, bad configs refused with the index unchanged), and
 * the pins that keep a build's layers from a concurrent clean-up.
 * Whiteouts and trusted.* xattrs need root: without it the program is
 * skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/xattr.h>

#include "engine/image/image.h"
#include "engine/image/store.h"
#include "image_testlib.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"

struct fx {
    char *t, *root;
    struct store *s;
    char *scratch;
    int lock;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->t = test_tmpdir("build");
    f->root = xasprintf("%s/store", f->t);
    struct berr e = BERR_INIT;
    assert_int_equal(store_open(f->root, &f->s, &e), 0);
    assert_int_equal(image_scratch_begin(f->s, &f->scratch, &f->lock, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->scratch)
        image_scratch_end(f->s, f->scratch, f->lock);
    free(f->scratch);
    store_close(f->s);
    rm_rf(f->t);
    free(f->t);
    free(f->root);
    free(f);
    return 0;
}

static void mkfile(const char *dir, const char *rel, const char *content)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    write_file(p, content, strlen(content));
}

static void mkdir_in(const char *dir, const char *rel, mode_t mode)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    assert_int_equal(mkdir(p, mode), 0);
    assert_int_equal(chmod(p, mode), 0);
}

static void setx(const char *dir, const char *rel, const char *name, const char *val)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
    assert_int_equal(lsetxattr(p, name, val, strlen(val), 0), 0);
}

static bool hasx(const char *path, const char *name)
{
    char v[256];
    return lgetxattr(path, name, v, sizeof v) >= 0;
}

static int fix_time_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
    return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* A RUN step's upper dir, as overlayfs leaves it, with fixed times (the
 * same tree made twice is the same layer). */
static char *make_upper_order(struct fx *f, const char *name, bool reversed)
{
    char *u = xasprintf("%s/%s", f->scratch, name);
    assert_int_equal(mkdir(u, 0755), 0);
    mkdir_in(u, "etc", 0755);
    setx(u, "etc", "trusted.overlay.impure", "y");
    mkfile(u, "etc/hosts", "127.0.0.1 localhost\n");
    mkfile(u, "etc/hostname", "box\n");
    _cleanup_free_ char *hosts = xasprintf("%s/etc/hosts", u);
    _cleanup_free_ char *hard = xasprintf("%s/etc/hard", u);
    assert_int_equal(link(hosts, hard), 0);
    _cleanup_free_ char *lnk = xasprintf("%s/etc/link", u);
    assert_int_equal(symlink("hosts", lnk), 0);
    _cleanup_free_ char *wh = xasprintf("%s/gone", u);
    assert_int_equal(mknod(wh, S_IFCHR | 0, makedev(0, 0)), 0);
    mkdir_in(u, "opq", 0750);
    setx(u, "opq", "trusted.overlay.opaque", "y");
    setx(u, "opq", "trusted.overlay.origin", "stray-file-handle");
    mkfile(u, "opq/new", "new\n");
    mkfile(u, "xa", "x");
    setx(u, "xa", reversed ? "user.z" : "user.test", reversed ? "last" : "hello");
    setx(u, "xa", reversed ? "user.test" : "user.z", reversed ? "hello" : "last");
    setx(u, "xa", "trusted.overlay.origin", "stray");
    mkfile(u, "z-\xc3\xa9", "utf-8 name");
    mkfile(u, "zz-\xff", "not utf-8");
    assert_int_equal(nftw(u, fix_time_cb, 16, FTW_PHYS | FTW_DEPTH), 0);
    return u;
}

static char *make_upper(struct fx *f, const char *name)
{
    return make_upper_order(f, name, false);
}

struct seen {
    char **names; /* "NAME TYPE [-> TARGET | => HARDLINK]" */
    bool overlay_xattr;
    char *user_test; /* xa's user.test */
};

static void seen_free(struct seen *s)
{
    strv_free(s->names);
    free(s->user_test);
}

static char *blob_path(struct fx *f, const char *digest)
{
    return xasprintf("%s/blobs/sha256/%s", f->root, digest_hex(digest));
}

static void read_layer(struct fx *f, const char *digest, struct seen *out)
{
    memset(out, 0, sizeof *out);
    _cleanup_free_ char *p = blob_path(f, digest);
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, p, 65536), ARCHIVE_OK);
    struct archive_entry *ent;
    int r;
    while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(ent);
        char t = archive_entry_hardlink(ent)               ? 'h'
                 : archive_entry_filetype(ent) == AE_IFDIR ? 'd'
                 : archive_entry_filetype(ent) == AE_IFLNK ? 'l'
                 : archive_entry_filetype(ent) == AE_IFREG ? 'f'
                                                           : '?';
        char *line = t == 'h'   ? xasprintf("%s h=>%s", n, archive_entry_hardlink(ent))
                     : t == 'l' ? xasprintf("%s l->%s", n, archive_entry_symlink(ent))
                                : xasprintf("%s %c", n, t);
        strv_push(&out->names, line);
        archive_entry_xattr_reset(ent);
        const char *k;
        const void *v;
        size_t vn;
        while (archive_entry_xattr_next(ent, &k, &v, &vn) == ARCHIVE_OK) {
            if (strncmp(k, "trusted.overlay.", 16) == 0)
                out->overlay_xattr = true;
            if (strcmp(n, "xa") == 0 && strcmp(k, "user.test") == 0) {
                /* pax carries it twice (LIBARCHIVE. and SCHILY.xattr). */
                free(out->user_test);
                out->user_test = xstrndup(v, vn);
            }
        }
        archive_read_data_skip(a);
    }
    assert_int_equal(r, ARCHIVE_EOF);
    archive_read_free(a);
}

/* sha256 of the blob's decompressed bytes; returns their count. */
static uint64_t blob_diffid(struct fx *f, const char *digest, char out[DIGEST_STR_SIZE])
{
    _cleanup_free_ char *p = blob_path(f, digest);
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    assert_int_equal(archive_read_open_filename(a, p, 65536), ARCHIVE_OK);
    struct archive_entry *ent;
    assert_int_equal(archive_read_next_header(a, &ent), ARCHIVE_OK);
    struct sha256 *h = sha256_new();
    char buf[65536];
    la_ssize_t n;
    uint64_t total = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        sha256_update(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    assert_int_equal(n, 0);
    sha256_final(h, out);
    sha256_free(h);
    archive_read_free(a);
    return total;
}

static void file_digest(const char *path, char out[DIGEST_STR_SIZE], size_t *len)
{
    _cleanup_free_ char *buf = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, path, 1 << 26, &buf, len, &e), 0);
    sha256_digest(buf, *len, out);
}

static void test_layer_from_dir(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *u = make_upper(f, "upper1");
    struct image_layer_ref l;
    struct berr e = BERR_INIT;
    assert_int_equal(image_layer_from_dir(f->s, u, NULL, &l, &e), 0);
    assert_null(e.msg);
    assert_false(fs_exists(u)); /* moved into the store, not copied */
    assert_string_equal(l.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert_string_equal(l.chain_id, l.diff_id);

    /* The blob: its digest and size, its entries and their order. */
    _cleanup_free_ char *bp = blob_path(f, l.digest);
    char d[DIGEST_STR_SIZE];
    size_t len;
    file_digest(bp, d, &len);
    assert_string_equal(d, l.digest);
    assert_int_equal(len, l.size);
    struct seen s;
    read_layer(f, l.digest, &s);
    const char *want[] = {
        "etc/ d",
        "etc/hard f",
        "etc/hostname f",
        "etc/hosts h=>etc/hard",
        "etc/link l->hosts",
        ".wh.gone f",
        "opq/ d",
        "opq/.wh..wh..opq f",
        "opq/new f",
        "xa f",
        "z-\xc3\xa9 f",
        "zz-\xff f",
        NULL,
    };
    for (size_t i = 0; want[i]; i++) {
        assert_non_null(s.names[i]);
        assert_string_equal(s.names[i], want[i]);
    }
    assert_int_equal(strv_len(s.names), ARRAY_SIZE(want) - 1);
    assert_false(s.overlay_xattr);
    assert_non_null(s.user_test);
    assert_string_equal(s.user_test, "hello");
    seen_free(&s);
    char diff[DIGEST_STR_SIZE];
    uint64_t tar_len = blob_diffid(f, l.digest, diff);
    assert_string_equal(diff, l.diff_id);
    /* One gzip member, nothing after it (its trailer ends the file and
     * names the tar's length), no time in its header (the same tree gives
     * the same blob). */
    _cleanup_free_ char *gz = NULL;
    struct berr re = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, bp, 1 << 26, &gz, &len, &re), 0);
    assert_true(len > 18);
    assert_int_equal((unsigned char)gz[0], 0x1f);
    assert_int_equal((unsigned char)gz[1], 0x8b);
    assert_int_equal(gz[4] | gz[5] | gz[6] | gz[7], 0);
    const unsigned char *isz = (const unsigned char *)gz + len - 4;
    assert_int_equal((uint32_t)(isz[0] | isz[1] << 8 | isz[2] << 16 | (uint32_t)isz[3] << 24),
                     (uint32_t)tar_len);
    assert_int_equal(tar_len % 512, 0);

    /* The unpacked layer: the same tree, overlay's bookkeeping gone but
     * for the opaque marker, the whiteout still a whiteout. */
    _cleanup_free_ char *ld = image_layer_dir(f->s, l.chain_id);
    assert_non_null(ld);
    _cleanup_free_ char *wh = xasprintf("%s/gone", ld);
    struct stat st;
    assert_int_equal(lstat(wh, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    _cleanup_free_ char *opq = xasprintf("%s/opq", ld);
    assert_true(hasx(opq, "trusted.overlay.opaque"));
    assert_false(hasx(opq, "trusted.overlay.origin"));
    _cleanup_free_ char *etc = xasprintf("%s/etc", ld);
    assert_false(hasx(etc, "trusted.overlay.impure"));
    _cleanup_free_ char *xa = xasprintf("%s/xa", ld);
    assert_true(hasx(xa, "user.test"));
    assert_false(hasx(xa, "trusted.overlay.origin"));
    assert_true(image_layer_present(f->s, &l));
    assert_true(store_layer_size(f->s, l.chain_id) > 0);

    /* The same tree again (its xattrs set in another order): the same
     * blob; the store has the layer, the dir is dropped. */
    _cleanup_free_ char *u2 = make_upper_order(f, "again", true);
    struct image_layer_ref l2;
    assert_int_equal(image_layer_from_dir(f->s, u2, NULL, &l2, &e), 0);
    assert_false(fs_exists(u2));
    assert_string_equal(l2.chain_id, l.chain_id);
    assert_string_equal(l2.digest, l.digest);
}

static void test_bad_dirs(void **state)
{
    struct fx *f = *state;
    struct image_layer_ref l;
    struct berr e = BERR_INIT;
    assert_int_equal(image_layer_from_dir(f->s, "relative/x", NULL, &l, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "relative/x"));
    berr_clear(&e);
    _cleanup_free_ char *missing = xasprintf("%s/missing", f->scratch);
    assert_int_equal(image_layer_from_dir(f->s, missing, NULL, &l, &e), -ENOENT);
    assert_non_null(strstr(e.msg, missing));
    berr_clear(&e);
    _cleanup_free_ char *u = make_upper(f, "u");
    assert_int_equal(image_layer_from_dir(f->s, u, "sha256:nothex", &l, &e), -EINVAL);
    berr_clear(&e);
    assert_true(fs_exists(u));
    /* A mount left inside (a tmpfs a step mounted): refused, not read. */
    _cleanup_free_ char *mnt = xasprintf("%s/etc", u);
    assert_int_equal(mount("berth-test", mnt, "tmpfs", 0, "size=64k"), 0);
    assert_int_equal(image_layer_from_dir(f->s, u, NULL, &l, &e), -EXDEV);
    assert_non_null(strstr(e.msg, "\"etc\": a mount point"));
    berr_clear(&e);
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
    assert_true(fs_exists(u));
    /* Nothing reached the store. */
    _cleanup_free_ char *layers = xasprintf("%s/layers", f->root);
    _cleanup_free_ char *blobs = xasprintf("%s/blobs/sha256", f->root);
    _cleanup_strv_ char **ln = NULL, **bn = NULL;
    int fd = open(layers, O_RDONLY | O_DIRECTORY);
    ln = fs_list_names(fd, true);
    close(fd);
    fd = open(blobs, O_RDONLY | O_DIRECTORY);
    bn = fs_list_names(fd, true);
    close(fd);
    assert_int_equal(strv_len(ln), 0);
    assert_int_equal(strv_len(bn), 0);
}

/* A config naming the layers' DiffIDs (in order, or as given). */
static char *config_for(const char *d1, const char *d2, const char *cmd)
{
    return xasprintf(
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":"
        "\"2026-01-02T03:04:05Z\",\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\"],"
        "\"Cmd\":[\"%s\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"%s%s%s]}}",
        cmd, d1, d2 ? ",\"" : "", d2 ? d2 : "", d2 ? "\"" : "");
}

static void two_layers(struct fx *f, struct image_layer_ref l[2])
{
    struct berr e = BERR_INIT;
    _cleanup_free_ char *u = make_upper(f, "base");
    assert_int_equal(image_layer_from_dir(f->s, u, NULL, &l[0], &e), 0);
    _cleanup_free_ char *u2 = xasprintf("%s/top", f->scratch);
    assert_int_equal(mkdir(u2, 0755), 0);
    mkdir_in(u2, "etc", 0755);
    mkfile(u2, "etc/hosts", "10.0.0.1 other\n");
    mkfile(u2, "app", "#!/bin/sh\n");
    assert_int_equal(image_layer_from_dir(f->s, u2, l[0].chain_id, &l[1], &e), 0);
    char chain[DIGEST_STR_SIZE];
    chain_id(l[0].chain_id, l[1].diff_id, chain);
    assert_string_equal(l[1].chain_id, chain);
}

static char *index_text(struct fx *f)
{
    _cleanup_free_ char *p = xasprintf("%s/images.json", f->root);
    char *buf = NULL;
    size_t len;
    struct berr e = BERR_INIT;
    if (fs_read_file(AT_FDCWD, p, 1 << 24, &buf, &len, &e) < 0) {
        berr_clear(&e);
        return xstrdup("");
    }
    return buf;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    assert_true(vasprintf(&cmd, fmt, ap) >= 0);
    va_end(ap);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* Another tool reads the committed image: from `image save`'s archive,
 * and from the store's own blobs laid out as an OCI layout (what a push
 * sends: the gzip layers and the manifest as stored), copied into a
 * docker-archive, which needs every layer decompressed; that archive is
 * loaded back, which checks every DiffID against the config. */
static void skopeo_reads(struct fx *f, const struct image *img, const char *saved)
{
    if (sh("command -v skopeo >/dev/null 2>&1") != 0) {
        printf("note: skopeo missing, the cross-tool check is skipped\n");
        return;
    }
    _cleanup_free_ char *raw = xasprintf("%s/raw.json", f->t);
    assert_int_equal(sh("skopeo inspect --raw docker-archive:%s:test/built:1 >%s", saved, raw), 0);
    _cleanup_free_ char *rawtxt = NULL;
    size_t len;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, raw, 1 << 20, &rawtxt, &len, &e), 0);
    assert_non_null(strstr(rawtxt, img->id));

    _cleanup_free_ char *lay = xasprintf("%s/layout", f->t);
    assert_int_equal(mkdir(lay, 0755), 0);
    _cleanup_free_ char *blobs = xasprintf("%s/blobs", lay);
    assert_int_equal(mkdir(blobs, 0755), 0);
    _cleanup_free_ char *sha = xasprintf("%s/sha256", blobs);
    _cleanup_free_ char *store_blobs = xasprintf("%s/blobs/sha256", f->root);
    assert_int_equal(symlink(store_blobs, sha), 0);
    mkfile(lay, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
    _cleanup_free_ char *mpath = xasprintf("%s/%s", store_blobs, digest_hex(img->manifest_digest));
    struct stat st;
    assert_int_equal(stat(mpath, &st), 0);
    _cleanup_free_ char *index =
        xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                  "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
                  "\"annotations\":{\"org.opencontainers.image.ref.name\":\"built\"}}]}",
                  img->manifest_digest, (long long)st.st_size);
    mkfile(lay, "index.json", index);
    _cleanup_free_ char *conv = xasprintf("%s/conv.tar", f->t);
    assert_int_equal(sh("skopeo copy -q oci:%s:built docker-archive:%s:conv/built:1", lay, conv),
                     0);
    _cleanup_free_ char *root3 = xasprintf("%s/store3", f->t);
    struct store *s3 = NULL;
    assert_int_equal(store_open(root3, &s3, &e), 0);
    _cleanup_strv_ char **loaded = NULL;
    assert_int_equal(image_load_archive(s3, conv, &loaded, &e), 0);
    _cleanup_image_ struct image *back = NULL;
    assert_int_equal(store_image_get(s3, "conv/built:1", &back, &e), 0);
    assert_string_equal(back->id, img->id);
    store_close(s3);
}

static void test_commit_get_save_load(void **state)
{
    struct fx *f = *state;
    struct image_layer_ref l[2];
    two_layers(f, l);
    _cleanup_free_ char *cfg = config_for(l[0].diff_id, l[1].diff_id, "sh");
    char *tags[] = {"test/built:1", "Built2", NULL};
    struct berr e = BERR_INIT;
    _cleanup_free_ char *id = NULL;
    /* "Built2" is no reference: refused before anything is written. */
    _cleanup_free_ char *before = index_text(f);
    assert_int_equal(image_commit(f->s, cfg, strlen(cfg), l, 2, tags, &id, &e), -EINVAL);
    assert_null(id);
    assert_non_null(strstr(e.msg, "Built2"));
    berr_clear(&e);
    _cleanup_free_ char *after = index_text(f);
    assert_string_equal(before, after);
    tags[1] = "built2";
    assert_int_equal(image_commit(f->s, cfg, strlen(cfg), l, 2, tags, &id, &e), 0);
    char want_id[DIGEST_STR_SIZE];
    sha256_digest(cfg, strlen(cfg), want_id);
    assert_string_equal(id, want_id);

    _cleanup_image_ struct image *img = NULL;
    assert_int_equal(store_image_get(f->s, "test/built:1", &img, &e), 0);
    assert_string_equal(img->id, id);
    assert_string_equal(img->ref, "docker.io/test/built:1");
    assert_int_equal(img->n_layers, 2);
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *ld = image_layer_dir(f->s, l[i].chain_id);
        assert_string_equal(img->layer_dirs[i], ld);
    }
    assert_string_equal(img->env[1], "A=1");
    assert_string_equal(img->cmd[0], "sh");
    assert_null(img->cmd[1]);
    _cleanup_image_ struct image *img2 = NULL;
    assert_int_equal(store_image_get(f->s, "built2", &img2, &e), 0);
    assert_string_equal(img2->id, id);
    json_t *insp = NULL;
    assert_int_equal(store_image_inspect(f->s, "built2", &insp, &e), 0);
    assert_int_equal(json_array_size(json_object_get(insp, "RepoTags")), 2);
    assert_int_equal(json_array_size(json_object_get(json_object_get(insp, "RootFS"), "Layers")),
                     2);
    json_decref(insp);

    /* The parts a later build starts from. */
    json_t *config = NULL;
    struct image_layer_ref *parts = NULL;
    size_t n = 0;
    assert_int_equal(image_parts_get(f->s, "built2", &config, &parts, &n, &e), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(parts[i].digest, l[i].digest);
        assert_string_equal(parts[i].diff_id, l[i].diff_id);
        assert_string_equal(parts[i].chain_id, l[i].chain_id);
        assert_string_equal(parts[i].media_type, l[i].media_type);
        assert_int_equal(parts[i].size, l[i].size);
    }
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(config, "config"), "Cmd"), 0)),
                        "sh");
    json_decref(config);
    free(parts);

    /* Saved, then loaded into another store: the same image. */
    _cleanup_free_ char *out = xasprintf("%s/out.tar", f->t);
    char *refs[] = {"test/built:1", NULL};
    assert_int_equal(image_save_file(f->s, refs, out, &e), 0);
    _cleanup_free_ char *root2 = xasprintf("%s/store2", f->t);
    struct store *s2 = NULL;
    assert_int_equal(store_open(root2, &s2, &e), 0);
    _cleanup_strv_ char **loaded = NULL;
    assert_int_equal(image_load_archive(s2, out, &loaded, &e), 0);
    assert_string_equal(loaded[0], "docker.io/test/built:1");
    _cleanup_image_ struct image *back = NULL;
    assert_int_equal(store_image_get(s2, "test/built:1", &back, &e), 0);
    assert_string_equal(back->id, id);
    _cleanup_free_ char *wh = xasprintf("%s/gone", back->layer_dirs[0]);
    struct stat st;
    assert_int_equal(lstat(wh, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    _cleanup_free_ char *opq = xasprintf("%s/opq", back->layer_dirs[0]);
    assert_true(hasx(opq, "trusted.overlay.opaque"));
    _cleanup_free_ char *hard = xasprintf("%s/etc/hard", back->layer_dirs[0]);
    _cleanup_free_ char *hosts = xasprintf("%s/etc/hosts", back->layer_dirs[0]);
    struct stat a, b;
    assert_int_equal(stat(hard, &a), 0);
    assert_int_equal(stat(hosts, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    _cleanup_free_ char *utf = xasprintf("%s/z-\xc3\xa9", back->layer_dirs[0]);
    assert_true(fs_exists(utf));
    _cleanup_free_ char *lat = xasprintf("%s/zz-\xff", back->layer_dirs[0]);
    assert_true(fs_exists(lat));
    store_close(s2);
    skopeo_reads(f, img, out);
}

static bool list_has(struct fx *f, const char *id, const char *ref)
{
    struct image **list = NULL;
    size_t n = 0;
    struct berr e = BERR_INIT;
    assert_int_equal(store_image_list_all(f->s, true, &list, &n, &e), 0);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i]->id, id) == 0 &&
            (ref ? list[i]->ref && strcmp(list[i]->ref, ref) == 0 : !list[i]->ref))
            found = true;
    image_list_free(list, n);
    return found;
}

static void test_tags_move(void **state)
{
    struct fx *f = *state;
    struct image_layer_ref l[2];
    two_layers(f, l);
    struct berr e = BERR_INIT;
    _cleanup_free_ char *c1 = config_for(l[0].diff_id, l[1].diff_id, "one");
    _cleanup_free_ char *c2 = config_for(l[0].diff_id, l[1].diff_id, "two");
    _cleanup_free_ char *c3 = config_for(l[0].diff_id, NULL, "three");
    char *t1[] = {"app:1", "app:latest", NULL};
    char *t2[] = {"app", NULL};
    char *t3[] = {"app:1", NULL};
    _cleanup_free_ char *i1 = NULL, *i2 = NULL, *i3 = NULL;
    assert_int_equal(image_commit(f->s, c1, strlen(c1), l, 2, t1, &i1, &e), 0);
    assert_int_equal(image_commit(f->s, c2, strlen(c2), l, 2, t2, &i2, &e), 0);
    /* app:latest moved; the first image keeps app:1. */
    assert_true(list_has(f, i1, "docker.io/library/app:1"));
    assert_false(list_has(f, i1, "docker.io/library/app:latest"));
    assert_true(list_has(f, i2, "docker.io/library/app:latest"));
    assert_int_equal(image_commit(f->s, c3, strlen(c3), l, 1, t3, &i3, &e), 0);
    /* Its last tag gone, the first image is dangling: listed as <none>. */
    assert_true(list_has(f, i1, NULL));
    assert_true(list_has(f, i3, "docker.io/library/app:1"));
    /* No tag: stored, untagged. */
    _cleanup_free_ char *c4 = config_for(l[0].diff_id, NULL, "four");
    _cleanup_free_ char *i4 = NULL;
    assert_int_equal(image_commit(f->s, c4, strlen(c4), l, 1, NULL, &i4, &e), 0);
    assert_true(list_has(f, i4, NULL));
    /* Dangling images go with prune, the tagged stay with their layers. */
    _cleanup_strv_ char **deleted = NULL;
    assert_int_equal(store_image_prune(f->s, false, NULL, &deleted, NULL, &e), 0);
    assert_true(strv_contains(deleted, i1));
    assert_true(strv_contains(deleted, i4));
    assert_true(image_layer_present(f->s, &l[0]));
    assert_true(image_layer_present(f->s, &l[1]));
}

static void test_commit_refused(void **state)
{
    struct fx *f = *state;
    struct image_layer_ref l[2];
    two_layers(f, l);
    struct berr e = BERR_INIT;
    char *tags[] = {"keep:1", NULL};
    _cleanup_free_ char *good = config_for(l[0].diff_id, l[1].diff_id, "sh");
    assert_int_equal(image_commit(f->s, good, strlen(good), l, 2, tags, NULL, &e), 0);
    _cleanup_free_ char *before = index_text(f);
    _cleanup_free_ char *swapped = config_for(l[1].diff_id, l[0].diff_id, "sh");
    char *moved[] = {"keep:1", NULL};
    assert_int_equal(image_commit(f->s, swapped, strlen(swapped), l, 2, moved, NULL, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "rootfs.diff_ids[0]"));
    berr_clear(&e);
    _cleanup_free_ char *one = config_for(l[0].diff_id, NULL, "sh");
    assert_int_equal(image_commit(f->s, one, strlen(one), l, 2, moved, NULL, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "1 rootfs.diff_ids for 2 layers"));
    berr_clear(&e);
    assert_int_equal(image_commit(f->s, "{nope", 5, l, 2, moved, NULL, &e), -EINVAL);
    berr_clear(&e);
    /* A layer the store lacks (its blob alone may lack: a base image's). */
    struct image_layer_ref gone[2] = {l[0], l[1]};
    gone[1].diff_id[10] = gone[1].diff_id[10] == 'a' ? 'b' : 'a';
    chain_id(gone[0].chain_id, gone[1].diff_id, gone[1].chain_id);
    _cleanup_free_ char *c5 = config_for(l[0].diff_id, gone[1].diff_id, "five");
    assert_int_equal(image_commit(f->s, c5, strlen(c5), gone, 2, moved, NULL, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "layer 1"));
    berr_clear(&e);
    _cleanup_free_ char *after = index_text(f);
    assert_string_equal(before, after);
    /* Nor was its config stored. */
    char d[DIGEST_STR_SIZE];
    sha256_digest(c5, strlen(c5), d);
    assert_false(store_blob_exists(f->s, d));
}

/* A build's layers survive another writer's clean-up until the build
 * ends; a killed build's scratch directory goes with the next writer. */
static void test_scratch_and_pins(void **state)
{
    struct fx *f = *state;
    struct image_layer_ref l;
    struct berr e = BERR_INIT;
    _cleanup_free_ char *u = make_upper(f, "pinned");
    assert_int_equal(image_layer_from_dir(f->s, u, NULL, &l, &e), 0);
    /* Debris a build leaves: an overlay work dir, read-only dirs. */
    _cleanup_free_ char *w = xasprintf("%s/work", f->scratch);
    assert_int_equal(mkdir(w, 0755), 0);
    mkdir_in(w, "work", 0);
    mkdir_in(w, "ro", 0555);
    mkfile(w, "ro/f", "x");
    _cleanup_free_ char *whp = xasprintf("%s/work/work/#1", f->scratch);
    assert_int_equal(mknod(whp, S_IFCHR | 0, makedev(0, 0)), 0);

    struct store *other = NULL;
    assert_int_equal(store_open(f->root, &other, &e), 0);
    assert_int_equal(store_image_prune(other, true, NULL, NULL, NULL, &e), 0);
    assert_true(image_layer_present(f->s, &l));
    assert_true(fs_exists(f->scratch));

    image_scratch_end(f->s, f->scratch, f->lock);
    assert_false(fs_exists(f->scratch));
    free(f->scratch);
    f->scratch = NULL;
    assert_int_equal(store_image_prune(other, true, NULL, NULL, NULL, &e), 0);
    assert_false(image_layer_present(f->s, &l));

    /* A scratch directory whose owner is gone. */
    char *dead = NULL;
    int lk = -1;
    assert_int_equal(image_scratch_begin(f->s, &dead, &lk, &e), 0);
    _cleanup_free_ char *dw = xasprintf("%s/w", dead);
    assert_int_equal(mkdir(dw, 0), 0);
    close(lk);
    assert_int_equal(store_lock(other, &e), 0);
    store_unlock(other);
    assert_false(fs_exists(dead));
    free(dead);
    store_close(other);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("SKIPPED: test_image_build needs root (whiteouts, trusted.* xattrs)\n");
        return 77;
    }
    /* Mounts a test makes die with this process, even when it fails
     * before unmounting them. */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("unshare(CLONE_NEWNS)");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layer_from_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_get_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scratch_and_pins, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
