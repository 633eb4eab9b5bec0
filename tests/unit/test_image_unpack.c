/* SPDX-License-Identifier: Apache-2.0 */
/* The layer extractor against hostile archives (SECURITY.md B: L01-L06,
 * L07, L09, L11, L14, L15), plus whiteouts and gzip/zstd layers. Every
 * case runs in a scratch tree: T/a/b/root is the layer root, T/sentinel a
 * directory outside it that must stay byte-identical. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/xattr.h>

#include "engine/image/layer.h"
#include "engine/image/store.h"
#include "engine/image/unpack.h"
#include "image_testlib.h"
#include "util/cleanup.h"

struct fx {
    char *t, *root, *sentinel, *before;
    int rootfd;
    const struct ev_sink *sink; /* where apply's warnings go (NULL: dropped) */
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->t = test_tmpdir("unpack");
    _cleanup_free_ char *a = xasprintf("%s/a", f->t);
    _cleanup_free_ char *b = xasprintf("%s/a/b", f->t);
    f->root = xasprintf("%s/a/b/root", f->t);
    f->sentinel = xasprintf("%s/sentinel", f->t);
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(f->sentinel, 0755), 0);
    _cleanup_free_ char *sf = xasprintf("%s/f", f->sentinel);
    write_file(sf, "sentinel\n", 9);
    assert_int_equal(chmod(sf, 0400), 0);
    _cleanup_free_ char *sd = xasprintf("%s/dir", f->sentinel);
    assert_int_equal(mkdir(sd, 0700), 0);
    f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->rootfd >= 0);
    f->before = snapshot(f->t, f->root);
    /* The snapshot sees the sentinel's mode and content hash. */
    assert_non_null(strstr(f->before, "/sentinel/f 100400 0:0 9 sha256:"));
    *state = f;
    return 0;
}

/* The sentinel and everything else outside the root is unchanged. */
static void check_outside(struct fx *f)
{
    _cleanup_free_ char *after = snapshot(f->t, f->root);
    assert_string_equal(f->before, after);
    ssize_t n = getxattr(f->sentinel, "trusted.overlay.opaque", NULL, 0);
    assert_true(n < 0);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    check_outside(f);
    close(f->rootfd);
    rm_rf(f->t);
    free(f->t);
    free(f->root);
    free(f->sentinel);
    free(f->before);
    free(f);
    return 0;
}

/* A fresh, empty layer root (the previous one removed). */
static void fresh_root(struct fx *f)
{
    close(f->rootfd);
    rm_rf(f->root);
    assert_int_equal(mkdir(f->root, 0755), 0);
    f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->rootfd >= 0);
}

static int apply_bytes_to(int rootfd, const char *buf, size_t len, uint64_t budget, char *diffid,
                          const struct ev_sink *sink, struct berr *e)
{
    _cleanup_close_ int fd = memfd_create("layer", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    struct unpack_stats st = {0};
    return layer_apply(fd, rootfd, budget, NULL, "layer test", sink, diffid, &st, e);
}

static int apply_bytes(int rootfd, const char *buf, size_t len, uint64_t budget, char *diffid,
                       struct berr *e)
{
    return apply_bytes_to(rootfd, buf, len, budget, diffid, NULL, e);
}

static int apply(struct fx *f, struct tb *t, struct berr *e)
{
    size_t len;
    _cleanup_free_ char *buf = tb_finish(t, &len);
    return apply_bytes_to(f->rootfd, buf, len, 1ull << 30, NULL, f->sink, e);
}

/* Applies a one-entry-per-call list and expects failure naming the entry. */
static void expect_refused(struct fx *f, struct tb *t, const char *entry)
{
    struct berr e = BERR_INIT;
    int r = apply(f, t, &e);
    if (r == 0)
        fail_msg("entry \"%s\" was accepted", entry);
    assert_non_null(e.msg);
    if (!strstr(e.msg, entry))
        fail_msg("error does not name \"%s\": %s", entry, e.msg);
    berr_clear(&e);
}

static void expect_ok(struct fx *f, struct tb *t)
{
    struct berr e = BERR_INIT;
    int r = apply(f, t, &e);
    if (r < 0)
        fail_msg("refused: %s", e.msg);
}

static bool exists_in_root(struct fx *f, const char *path, mode_t type)
{
    struct stat st;
    return fstatat(f->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           (type == 0 || (st.st_mode & S_IFMT) == type);
}

static void test_clean_path(void **state)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"a/b", "a/b"}, {"./a//b/", "a/b"}, {"/etc/x", "etc/x"}, {"a//../x", "x"},
        {".", ""},      {"/", ""},          {"a/b/../c", "a/c"}, {"a/./.", "a"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *o;
        assert_int_equal(unpack_clean_path(ok[i].in, &o), 0);
        assert_string_equal(o, ok[i].out);
        free(o);
    }
    static const char *const bad[] = {"..",        "../x",  "./../../x",
                                      "a/../../x", "/../x", "a/b/../../.."};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *o = NULL;
        assert_int_equal(unpack_clean_path(bad[i], &o), -EXDEV);
        assert_null(o);
    }
}

/* L01: names that climb out are refused; absolute names stay inside. */
static void test_L01_traversal_names(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {"../x", "./../../x", "a/../../x", "../../../sentinel/f"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct tb *t = tb_new("none");
        tb_file(t, bad[i], 0644, "pwned\n");
        expect_refused(f, t, bad[i]);
        check_outside(f);
    }
    struct tb *t = tb_new("none");
    tb_file(t, "/etc/x", 0644, "inside\n");
    tb_file(t, "a//../x", 0644, "inside\n");
    _cleanup_free_ char *abs = xasprintf("%s/f", f->sentinel);
    tb_file(t, abs, 0644, "inside\n");
    expect_ok(f, t);
    assert_true(exists_in_root(f, "etc/x", S_IFREG));
    assert_true(exists_in_root(f, "x", S_IFREG));
    _cleanup_free_ char *rel = xasprintf("%s/f", f->sentinel + 1);
    assert_true(exists_in_root(f, rel, S_IFREG));
    check_outside(f);
}

/* L02: a symlink to the sentinel, then a write through it; chains. */
static void test_L02_symlink_then_write(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    tb_symlink(t, "etc", f->sentinel);
    tb_file(t, "etc/pwn", 0644, "pwned\n");
    struct berr e = BERR_INIT;
    apply(f, t, &e); /* refused or kept inside: both fine */
    berr_clear(&e);
    char target[4096];
    ssize_t n = readlinkat(f->rootfd, "etc", target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, f->sentinel); /* the link is stored as a link */
    check_outside(f);

    fresh_root(f);
    t = tb_new("none");
    tb_symlink(t, "c3", "../../../../../../../../../../../../");
    tb_symlink(t, "c2", "c3");
    tb_symlink(t, "c1", "c2");
    _cleanup_free_ char *via = xasprintf("c1%s/chain", f->sentinel);
    tb_file(t, via, 0644, "pwned\n");
    tb_symlink(t, "up", "/");
    _cleanup_free_ char *via2 = xasprintf("up%s/dir/chain2", f->sentinel);
    tb_file(t, via2, 0644, "pwned\n");
    apply(f, t, &e);
    berr_clear(&e);
    check_outside(f);
}

/* L03: the symlink comes in layer N, the write in layer N+1. */
static void test_L03_symlink_across_layers(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    tb_symlink(t, "etc", f->sentinel);
    expect_ok(f, t);
    /* Separate layer directories (how berth stores them)... */
    _cleanup_free_ char *root2 = xasprintf("%s/a/b/root/layer2", f->t);
    assert_int_equal(mkdir(root2, 0755), 0);
    _cleanup_close_ int fd2 = open(root2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    t = tb_new("none");
    tb_file(t, "etc/pwn", 0644, "pwned\n");
    size_t len;
    _cleanup_free_ char *l2 = tb_finish(t, &len);
    struct berr e = BERR_INIT;
    assert_int_equal(apply_bytes(fd2, l2, len, 1 << 20, NULL, &e), 0);
    struct stat st;
    assert_int_equal(fstatat(fd2, "etc", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* ...and the same two layers flattened into one tree. */
    apply_bytes(f->rootfd, l2, len, 1 << 20, NULL, &e);
    berr_clear(&e);
    check_outside(f);
}

/* L04: hard links to outside files, through "..", to a symlink pointing
 * out (containerd's HardlinkSymlinkChmod), to itself, to a later entry. */
static void test_L04_hardlinks(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *abs = xasprintf("%s/f", f->sentinel);
    static const char *const rel[] = {"../../f", "../../../sentinel/f"};
    struct tb *t = tb_new("none");
    tb_hardlink(t, "h1", abs);
    expect_refused(f, t, "h1");
    for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
        t = tb_new("none");
        tb_hardlink(t, "h2", rel[i]);
        expect_refused(f, t, "h2");
    }
    t = tb_new("none");
    tb_symlink(t, "s", abs);
    tb_hardlink(t, "h3", "s"); /* header mode 0777: must not chmod the target */
    expect_ok(f, t);
    assert_true(exists_in_root(f, "h3", S_IFLNK));
    t = tb_new("none");
    tb_hardlink(t, "self", "self");
    expect_refused(f, t, "self");
    t = tb_new("none");
    tb_hardlink(t, "early", "notyet");
    tb_file(t, "notyet", 0644, "x");
    expect_refused(f, t, "early");
    /* A legitimate hard link inside works. */
    t = tb_new("none");
    tb_file(t, "orig", 0600, "data");
    tb_hardlink(t, "dir/link", "/orig");
    expect_ok(f, t);
    struct stat a, b;
    assert_int_equal(fstatat(f->rootfd, "orig", &a, 0), 0);
    assert_int_equal(fstatat(f->rootfd, "dir/link", &b, 0), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    struct stat sst;
    assert_int_equal(stat(abs, &sst), 0);
    assert_int_equal(sst.st_mode & 07777, 0400);
    assert_int_equal(sst.st_nlink, 1);
    check_outside(f);
}

/* L05: directory d, then symlink d -> sentinel, then d/x and d again. */
static void test_L05_dir_symlink_swap(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    tb_dir(t, "d", 0777);
    tb_symlink(t, "d", f->sentinel);
    tb_add(t, 'f', "d/x", NULL, 0777, "x", 1, 12345, 12345);
    struct berr e = BERR_INIT;
    apply(f, t, &e);
    berr_clear(&e);
    check_outside(f);

    fresh_root(f);
    t = tb_new("none");
    tb_dir(t, "d", 0700);
    tb_symlink(t, "d", f->sentinel);
    tb_add(t, 'd', "d", NULL, 0777, NULL, 0, 12345, 12345); /* replaces the link */
    tb_hardlink(t, "d/h", "/d");
    apply(f, t, &e);
    berr_clear(&e);
    struct stat st;
    assert_int_equal(fstatat(f->rootfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0777);
    assert_int_equal(st.st_uid, 12345);
    check_outside(f);
}

/* L06: whiteouts, good and bad. */
static void test_L06_whiteouts(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {".wh.", "a/.wh.", ".wh..", ".wh...", "../.wh.x"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct tb *t = tb_new("none");
        tb_file(t, bad[i], 0644, "");
        expect_refused(f, t, bad[i]);
    }
    /* Under a symlinked parent, never at the target. */
    struct tb *t = tb_new("none");
    tb_symlink(t, "l", f->sentinel);
    tb_file(t, "l/.wh.f", 0644, "");
    struct berr e = BERR_INIT;
    apply(f, t, &e);
    berr_clear(&e);
    t = tb_new("none");
    tb_symlink(t, "l2", f->sentinel);
    tb_file(t, "l2/.wh..wh..opq", 0644, "");
    apply(f, t, &e);
    berr_clear(&e);
    check_outside(f);

    /* Valid: a character device 0/0 owned as the entry; opaque xattr. */
    fresh_root(f);
    t = tb_new("none");
    tb_file(t, "gone", 0644, "in this layer"); /* replaced by the whiteout */
    tb_add(t, 'f', ".wh.gone", NULL, 0644, NULL, 0, 1234, 4321);
    tb_add(t, 'f', "sub/.wh.other", NULL, 0644, NULL, 0, 0, 0);
    tb_dir(t, "o", 0755);
    tb_file(t, "o/.wh..wh..opq", 0644, "");
    tb_file(t, "o/kept", 0644, "k");
    tb_file(t, ".wh..wh..opq", 0644, "");
    tb_file(t, ".wh..wh.plnk", 0644, "");
    expect_ok(f, t);
    struct stat st;
    assert_int_equal(fstatat(f->rootfd, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    assert_int_equal(st.st_uid, 1234);
    assert_int_equal(st.st_gid, 4321);
    assert_true(exists_in_root(f, "sub/other", S_IFCHR));
    assert_false(exists_in_root(f, ".wh.gone", 0));
    assert_false(exists_in_root(f, ".wh..wh.plnk", 0));
    char v[4] = "";
    _cleanup_free_ char *o = xasprintf("%s/o", f->root);
    assert_int_equal(getxattr(o, "trusted.overlay.opaque", v, sizeof v), 1);
    assert_int_equal(v[0], 'y');
    assert_true(exists_in_root(f, "o/kept", S_IFREG));
    assert_int_equal(getxattr(f->root, "trusted.overlay.opaque", v, sizeof v), 1);
    check_outside(f);
}

/* The warnings a layer's unpacking hands its sink. */
struct warned {
    int n;
    char detail[512];
};

static void on_warning(void *ud, const struct ev *e)
{
    struct warned *w = ud;
    if (e->type == EV_IMAGE && strcmp(e->action, "warning") == 0) {
        w->n++;
        snprintf(w->detail, sizeof w->detail, "%s", e->detail ? e->detail : "");
    }
}

/* L07: device nodes are skipped with a warning (an image "warning" event,
 * never a write of the engine's own); FIFOs are created. */
static void test_L07_devices(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    tb_add(t, 'c', "dev/mem", NULL, 0600, NULL, 0, 0, 0);
    tb_add(t, 'p', "fifo", NULL, 0640, NULL, 0, 7, 8);
    struct warned w = {0};
    struct ev_sink sink = {.event = on_warning, .ud = &w};
    f->sink = &sink;
    expect_ok(f, t);
    f->sink = NULL;
    assert_int_equal(w.n, 1);
    assert_string_equal(w.detail, "layer test: entry \"dev/mem\": device node skipped");
    assert_false(exists_in_root(f, "dev/mem", 0));
    struct stat st;
    assert_int_equal(fstatat(f->rootfd, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_uid, 7);
}

static void add_xattr_file(struct tb *t, const char *path, int n, const char *const *names,
                           const char *const *values)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 0);
    for (int i = 0; i < n; i++)
        archive_entry_xattr_add_entry(e, names[i], values[i], strlen(values[i]));
    assert_true(archive_write_header(t->a, e) >= ARCHIVE_WARN);
    archive_entry_free(e);
}

/* L09: image-supplied overlay xattrs are dropped; count is capped. */
static void test_L09_xattrs(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    const char *names[] = {"trusted.overlay.opaque", "trusted.overlay.redirect", "user.berth"};
    const char *values[] = {"y", "/elsewhere", "1"};
    add_xattr_file(t, "x", 3, names, values);
    expect_ok(f, t);
    _cleanup_free_ char *x = xasprintf("%s/x", f->root);
    char v[16];
    assert_true(getxattr(x, "trusted.overlay.opaque", v, sizeof v) < 0);
    assert_true(getxattr(x, "trusted.overlay.redirect", v, sizeof v) < 0);
    assert_int_equal(getxattr(x, "user.berth", v, sizeof v), 1);

    t = tb_new("none");
    const char *many_n[200], *many_v[200];
    char bufs[200][32];
    for (int i = 0; i < 200; i++) {
        snprintf(bufs[i], sizeof bufs[i], "user.x%d", i);
        many_n[i] = bufs[i];
        many_v[i] = "v";
    }
    add_xattr_file(t, "many", 200, many_n, many_v);
    expect_refused(f, t, "many");
}

/* L11: a gzip bomb stops at the byte budget. */
static void test_L11_budget(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("gzip");
    size_t big = 16u << 20;
    char *zeros = xcalloc(1, big);
    tb_add(t, 'f', "zeros", NULL, 0644, zeros, big, 0, 0);
    free(zeros);
    size_t len;
    _cleanup_free_ char *buf = tb_finish(t, &len);
    assert_true(len < 100000);
    setenv("BERTH_MAX_LAYER_BYTES", "1048576", 1);
    uint64_t budget;
    struct berr e = BERR_INIT;
    assert_int_equal(layer_byte_budget(len, &budget, &e), 0);
    assert_int_equal(budget, 1048576);
    setenv("BERTH_MAX_LAYER_BYTES", "12x", 1);
    assert_true(layer_byte_budget(len, &budget, &e) < 0);
    berr_clear(&e);
    unsetenv("BERTH_MAX_LAYER_BYTES");
    assert_int_equal(layer_byte_budget(len, &budget, &e), 0);
    assert_int_equal(budget, 8 * len + (1ull << 30));
    int r = apply_bytes(f->rootfd, buf, len, 1048576, NULL, &e);
    assert_int_equal(r, -EFBIG);
    assert_non_null(strstr(e.msg, "exceeds the limit"));
    berr_clear(&e);
}

/* L14: corrupt and truncated tars fail cleanly. */
static void test_L14_corrupt(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    char data[10000];
    memset(data, 'a', sizeof data);
    tb_add(t, 'f', "big", NULL, 0644, data, sizeof data, 0, 0);
    tb_file(t, "after", 0644, "x");
    size_t len;
    _cleanup_free_ char *buf = tb_finish(t, &len);
    struct berr e = BERR_INIT;
    /* Truncated in the middle of the data. */
    assert_true(apply_bytes(f->rootfd, buf, 5000, 1 << 30, NULL, &e) < 0);
    assert_non_null(e.msg);
    berr_clear(&e);
    /* A header byte flipped: bad checksum. */
    fresh_root(f);
    char *bad = xmemdup(buf, len);
    bad[3] ^= 0x20;
    assert_true(apply_bytes(f->rootfd, bad, len, 1 << 30, NULL, &e) < 0);
    berr_clear(&e);
    free(bad);
    /* Garbage and emptiness. */
    assert_true(apply_bytes(f->rootfd, "not a tar at all", 16, 1 << 30, NULL, &e) < 0);
    berr_clear(&e);
    assert_true(apply_bytes(f->rootfd, "", 0, 1 << 30, NULL, &e) < 0);
    berr_clear(&e);
    /* A truncated gzip stream. */
    t = tb_new("gzip");
    tb_add(t, 'f', "big", NULL, 0644, data, sizeof data, 0, 0);
    size_t glen;
    _cleanup_free_ char *gz = tb_finish(t, &glen);
    assert_true(apply_bytes(f->rootfd, gz, glen / 2, 1 << 30, NULL, &e) < 0);
    berr_clear(&e);
}

/* L15: duplicates (last wins) and "." setting the root's mode and owner. */
static void test_L15_duplicates_and_root(void **state)
{
    struct fx *f = *state;
    struct tb *t = tb_new("none");
    tb_file(t, "dup", 0644, "one");
    tb_dir(t, "dup", 0755);
    tb_file(t, "dup/child", 0644, "c");
    tb_file(t, "dup", 0600, "three");
    tb_add(t, 'd', ".", NULL, 0777, NULL, 0, 12345, 12345);
    tb_add(t, 'd', "/", NULL, 0777, NULL, 0, 12345, 12345);
    expect_ok(f, t);
    char *buf = NULL;
    size_t len;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(f->rootfd, "dup", 100, &buf, &len, &e), 0);
    assert_string_equal(buf, "three");
    free(buf);
    struct stat st;
    assert_int_equal(fstat(f->rootfd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0777);
    assert_int_equal(st.st_uid, 12345);
    check_outside(f);
    /* A root entry that is not a directory is refused. */
    t = tb_new("none");
    tb_symlink(t, ".", f->sentinel);
    expect_refused(f, t, ".");
}

/* The same tree from plain, gzip and zstd layers; DiffID = sha256 of the
 * uncompressed tar. Metadata lands as written. */
static void test_compressed_layers(void **state)
{
    struct fx *f = *state;
    const char *filters[] = {"none", "gzip", "zstd"};
    char plain_diffid[DIGEST_STR_SIZE] = "";
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        fresh_root(f);
        struct tb *t = tb_new(filters[i]);
        tb_dir(t, "bin", 0755);
        tb_add(t, 'f', "bin/tool", NULL, 04755, "#!/bin/sh\n", 10, 0, 0);
        tb_add(t, 'f', "home/app/.profile", NULL, 0640, "x=1\n", 4, 1000, 1000);
        tb_symlink(t, "sh", "/bin/tool");
        size_t len;
        _cleanup_free_ char *buf = tb_finish(t, &len);
        char diffid[DIGEST_STR_SIZE];
        struct berr e = BERR_INIT;
        if (apply_bytes(f->rootfd, buf, len, 1 << 30, diffid, &e) < 0)
            fail_msg("%s: %s", filters[i], e.msg);
        if (i == 0) {
            char expect[DIGEST_STR_SIZE];
            sha256_digest(buf, len, expect);
            assert_string_equal(diffid, expect);
            memcpy(plain_diffid, diffid, sizeof diffid);
        } else {
            assert_string_equal(diffid, plain_diffid);
        }
        struct stat st;
        assert_int_equal(fstatat(f->rootfd, "bin/tool", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 04755);
        assert_int_equal(st.st_size, 10);
        assert_int_equal(st.st_mtime, 1700000000);
        assert_int_equal(fstatat(f->rootfd, "home/app/.profile", &st, 0), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(fstatat(f->rootfd, "bin", &st, 0), 0);
        assert_int_equal(st.st_mtime, 1700000000);
        assert_true(exists_in_root(f, "sh", S_IFLNK));
    }
    /* Wrong expected DiffID is refused. */
    struct tb *t = tb_new("gzip");
    tb_file(t, "a", 0644, "a");
    size_t len;
    _cleanup_free_ char *buf = tb_finish(t, &len);
    _cleanup_close_ int fd = memfd_create("layer", MFD_CLOEXEC);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    struct berr e = BERR_INIT;
    assert_int_equal(layer_apply(fd, -1, 1 << 20, plain_diffid, "layer x", NULL, NULL, NULL, &e),
                     -EBADMSG);
    assert_non_null(strstr(e.msg, "DiffID mismatch"));
    berr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_path),
        cmocka_unit_test_setup_teardown(test_L01_traversal_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L02_symlink_then_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L03_symlink_across_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L04_hardlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L05_dir_symlink_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L06_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L07_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L09_xattrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L11_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L14_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_L15_duplicates_and_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compressed_layers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
