/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for named volumes: the name rule, creation, listing,
 * inspection and removal, and seeding from image layers (content, owners,
 * modes, times, symlinks as links, whiteouts, deep and wide trees, hostile
 * symlinked targets, and that nothing outside the volume is written). The
 * seeding tests mount the layers and need root; they are skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/volume/volume.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

#define T_MTIME 1600000000

struct fx {
    char *dir;  /* scratch dir of this test */
    char *root; /* $BERTH_ROOT */
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->dir = scratch_dir("test_volume");
    f->root = xasprintf("%s/root", f->dir);
    assert_int_equal(mkdir(f->root, 0700), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    scratch_remove(f->dir);
    free(f->root);
    free(f);
    return 0;
}

static char *pjoin(const char *a, const char *b)
{
    return xasprintf("%s/%s", a, b);
}

static void set_times(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void mk_dir(const char *base, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
    _cleanup_free_ char *p = pjoin(base, rel);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
    if (geteuid() == 0)
        assert_int_equal(lchown(p, uid, gid), 0);
    assert_int_equal(chmod(p, mode), 0);
    set_times(p, T_MTIME);
}

static void mk_file(const char *base, const char *rel, const char *content, mode_t mode, uid_t uid,
                    gid_t gid)
{
    _cleanup_free_ char *p = pjoin(base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    if (geteuid() == 0)
        assert_int_equal(lchown(p, uid, gid), 0);
    assert_int_equal(chmod(p, mode), 0);
    set_times(p, T_MTIME + 1);
}

static void mk_link(const char *base, const char *rel, const char *target, uid_t uid, gid_t gid)
{
    _cleanup_free_ char *p = pjoin(base, rel);
    assert_int_equal(symlink(target, p), 0);
    if (geteuid() == 0)
        assert_int_equal(lchown(p, uid, gid), 0);
    set_times(p, T_MTIME + 2);
}

static void mk_node(const char *base, const char *rel, mode_t mode, dev_t dev)
{
    _cleanup_free_ char *p = pjoin(base, rel);
    assert_int_equal(mknod(p, mode, dev), 0);
    assert_int_equal(chmod(p, mode & 07777), 0);
}

static char *read_text(const char *path)
{
    char *buf = NULL;
    struct berr e = BERR_INIT;
    if (fs_read_file(AT_FDCWD, path, 1 << 20, &buf, NULL, &e) < 0) {
        berr_clear(&e);
        return NULL;
    }
    return buf;
}

/* A listing of everything under a tree (path, type, mode, owner, size,
 * mtime, link target), skipping one subtree: to prove nothing else changed. */
static char *snap_buf;
static size_t snap_len;
static const char *snap_skip;

static int snap_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if (snap_skip && strncmp(path, snap_skip, strlen(snap_skip)) == 0)
        return 0;
    char link[PATH_MAX] = "";
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0)
            link[n] = '\0';
    }
    char *line = xasprintf("%s %o %u:%u %lld %lld %s\n", path, (unsigned)st->st_mode,
                           (unsigned)st->st_uid, (unsigned)st->st_gid, (long long)st->st_size,
                           S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_mtim.tv_sec, link);
    size_t l = strlen(line);
    snap_buf = xrealloc(snap_buf, snap_len + l + 1);
    memcpy(snap_buf + snap_len, line, l + 1);
    snap_len += l;
    free(line);
    return 0;
}

static char *snapshot(const char *dir, const char *skip)
{
    snap_buf = xstrdup("");
    snap_len = 0;
    snap_skip = skip;
    assert_int_equal(nftw(dir, snap_cb, 64, FTW_PHYS), 0);
    return snap_buf;
}

static bool need_root(void)
{
    if (geteuid() == 0)
        return true;
    print_message("skipped: seeding mounts layers and needs root\n");
    return false;
}

/* --- names, create, list, inspect, remove ---------------------------------- */

static void test_name_rule(void **state)
{
    (void)state;
    const char *ok[] = {"ab", "a1", "A_", "my_vol.x-1", "proj_data", "0x"};
    const char *bad[] = {"",    "a",  "_ab",  ".ab", "-ab", "a/b", "../x", "a b",
                         "a:b", "..", "a\nb", "é1",  "/ab", "ab/", "a\\b"};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        assert_true(volume_name_valid(ok[i]));
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (volume_name_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(volume_name_valid(NULL));
    char longname[VOLUME_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname);
    longname[VOLUME_NAME_MAX] = '\0';
    assert_true(volume_name_valid(longname));
    longname[VOLUME_NAME_MAX] = 'a';
    longname[VOLUME_NAME_MAX + 1] = '\0';
    assert_false(volume_name_valid(longname));
}

static void test_create_list_remove(void **state)
{
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    bool created = false;
    assert_int_equal(volume_ensure(f->root, "vol1", NULL, &created, &e), 0);
    assert_true(created);
    _cleanup_free_ char *data = volume_data_path(f->root, "vol1");
    struct stat st;
    assert_int_equal(stat(data, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0755);
    _cleanup_free_ char *meta = xasprintf("%s/volumes/vol1/volume.json", f->root);
    assert_true(fs_exists(meta));

    assert_int_equal(volume_ensure(f->root, "vol1", NULL, &created, &e), 0);
    assert_false(created);
    char *labels[] = {"com.docker.compose.project=p", "tier=db", "flag", NULL};
    assert_int_equal(volume_ensure(f->root, "vol0", labels, &created, &e), 0);
    assert_true(created);
    assert_int_equal(volume_exists(f->root, "vol0", &e), 0);
    assert_int_equal(volume_exists(f->root, "nope", &e), -ENOENT);
    berr_clear(&e);

    struct volume_info vi;
    assert_int_equal(volume_inspect(f->root, "vol0", &vi, &e), 0);
    assert_string_equal(vi.name, "vol0");
    assert_string_equal(vi.driver, "local");
    assert_non_null(vi.created);
    assert_true(strv_contains(vi.labels, "tier=db"));
    assert_true(strv_contains(vi.labels, "com.docker.compose.project=p"));
    assert_true(strv_contains(vi.labels, "flag="));
    volume_info_free(&vi);

    char **names = NULL;
    assert_int_equal(volume_list(f->root, &names, &e), 0);
    assert_int_equal(strv_len(names), 2);
    assert_string_equal(names[0], "vol0");
    assert_string_equal(names[1], "vol1");
    strv_free(names);

    /* data survives until removal */
    _cleanup_free_ char *file = pjoin(data, "keep");
    mk_file(data, "keep", "x", 0644, 0, 0);
    assert_int_equal(volume_ensure(f->root, "vol1", NULL, &created, &e), 0);
    assert_true(fs_exists(file));

    assert_int_equal(volume_remove(f->root, "vol1", &e), 0);
    assert_false(fs_exists(data));
    assert_int_equal(volume_remove(f->root, "vol1", &e), -ENOENT);
    assert_non_null(strstr(e.msg, "no such volume"));
    berr_clear(&e);
    assert_int_equal(volume_list(f->root, &names, &e), 0);
    assert_int_equal(strv_len(names), 1);
    strv_free(names);
}

static void test_invalid_names_form_no_path(void **state)
{
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    bool created = true;
    /* a sentinel beside the store that a traversal would reach */
    _cleanup_free_ char *victim = pjoin(f->dir, "victim");
    assert_int_equal(mkdir(victim, 0755), 0);
    mk_file(victim, "_data", "precious", 0644, 0, 0);
    const char *bad[] = {"../victim", "../../x", "a/b", "/abs", ".", "..", "x"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(volume_ensure(f->root, bad[i], NULL, &created, &e), -EINVAL);
        assert_false(created);
        assert_non_null(strstr(e.msg, "invalid volume name"));
        berr_clear(&e);
        assert_int_equal(volume_remove(f->root, bad[i], &e), -EINVAL);
        berr_clear(&e);
        assert_int_equal(volume_seed(f->root, bad[i], NULL, "/x", &e), -EINVAL);
        berr_clear(&e);
        assert_int_equal(volume_mark_used(f->root, bad[i], &e), -EINVAL);
        berr_clear(&e);
    }
    _cleanup_free_ char *kept = pjoin(victim, "_data");
    _cleanup_free_ char *txt = read_text(kept);
    assert_string_equal(txt, "precious");
    /* nothing was created in the store for them */
    char **names = NULL;
    assert_int_equal(volume_list(f->root, &names, &e), 0);
    assert_int_equal(strv_len(names), 0);
    strv_free(names);
}

static void test_leftovers_removed(void **state)
{
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    bool created;
    assert_int_equal(volume_ensure(f->root, "base", NULL, &created, &e), 0);
    /* a creation and a removal killed halfway, by processes long gone */
    _cleanup_free_ char *vols = pjoin(f->root, "volumes");
    mk_dir(vols, ".new.999999999.half", 0700, 0, 0);
    mk_dir(vols, ".rm.999999999.gone", 0700, 0, 0);
    mk_dir(vols, ".rm.999999999.gone/_data/deep", 0700, 0, 0);
    char **names = NULL;
    assert_int_equal(volume_list(f->root, &names, &e), 0);
    assert_int_equal(strv_len(names), 1);
    assert_string_equal(names[0], "base");
    strv_free(names);
    _cleanup_free_ char *a = pjoin(vols, ".new.999999999.half");
    _cleanup_free_ char *b = pjoin(vols, ".rm.999999999.gone");
    assert_false(fs_exists(a));
    assert_false(fs_exists(b));
}

/* --- seeding ----------------------------------------------------------------- */

struct image_fx {
    char *l1, *l2;
    char *layers[3];
};

/* Two layers: the first has /data with files, links, a FIFO and a device
 * node, /etc/passwd; the second overrides a file, whites one out and adds
 * one. */
static void make_image(struct fx *f, struct image_fx *im)
{
    im->l1 = pjoin(f->dir, "layers/l1");
    im->l2 = pjoin(f->dir, "layers/l2");
    mk_dir(im->l1, "", 0755, 0, 0);
    mk_dir(im->l2, "", 0755, 0, 0);
    mk_dir(im->l1, "etc", 0755, 0, 0);
    mk_file(im->l1, "etc/passwd", "root:x:0:0:image:/root:/bin/sh\n", 0644, 0, 0);
    mk_dir(im->l1, "data", 0750, 1000, 1001);
    mk_file(im->l1, "data/file", "hello", 0640, 7, 8);
    mk_file(im->l1, "data/setuid", "s", 04755, 0, 0);
    mk_dir(im->l1, "data/sub/deep", 0700, 9, 9);
    mk_file(im->l1, "data/sub/deep/f2", "deep", 0600, 9, 9);
    mk_link(im->l1, "data/link", "/etc/passwd", 5, 6);
    mk_link(im->l1, "data/up", "../../../../..", 0, 0);
    mk_link(im->l1, "data/rootlink", "/", 0, 0);
    mk_node(im->l1, "data/fifo", S_IFIFO | 0620, 0);
    mk_node(im->l1, "data/null", S_IFCHR | 0666, makedev(1, 3));
    mk_file(im->l1, "data/gone", "to be whited out", 0644, 0, 0);
    mk_dir(im->l2, "data", 0750, 1000, 1001);
    mk_file(im->l2, "data/file", "hello2", 0640, 7, 8);
    mk_node(im->l2, "data/gone", S_IFCHR | 0, makedev(0, 0)); /* overlay whiteout */
    mk_file(im->l2, "data/new", "layer2", 0644, 0, 0);
    im->layers[0] = im->l1;
    im->layers[1] = im->l2;
    im->layers[2] = NULL;
}

static void free_image(struct image_fx *im)
{
    free(im->l1);
    free(im->l2);
}

static void expect_stat(const char *path, mode_t type, mode_t mode, uid_t uid, gid_t gid)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        fail_msg("%s: missing", path);
    if ((st.st_mode & S_IFMT) != type)
        fail_msg("%s: type %o, expected %o", path, st.st_mode & S_IFMT, type);
    if (type != S_IFLNK && (st.st_mode & 07777) != mode)
        fail_msg("%s: mode %o, expected %o", path, st.st_mode & 07777, mode);
    if (st.st_uid != uid || st.st_gid != gid)
        fail_msg("%s: owner %u:%u, expected %u:%u", path, st.st_uid, st.st_gid, uid, gid);
}

static void test_seed_copies_content(void **state)
{
    if (!need_root())
        return;
    struct fx *f = *state;
    struct image_fx im;
    make_image(f, &im);
    struct berr e = BERR_INIT;
    bool created;
    assert_int_equal(volume_ensure(f->root, "seeded", NULL, &created, &e), 0);
    _cleanup_free_ char *voldir = xasprintf("%s/volumes/seeded", f->root);
    _cleanup_free_ char *before = snapshot(f->dir, voldir);

    if (volume_seed(f->root, "seeded", im.layers, "/data", &e) < 0)
        fail_msg("%s", e.msg);

    _cleanup_free_ char *after = snapshot(f->dir, voldir);
    assert_string_equal(before, after); /* nothing outside the volume changed */

    _cleanup_free_ char *d = volume_data_path(f->root, "seeded");
    expect_stat(d, S_IFDIR, 0750, 1000, 1001); /* the target's owner and mode */
    _cleanup_free_ char *file = pjoin(d, "file");
    expect_stat(file, S_IFREG, 0640, 7, 8);
    _cleanup_free_ char *txt = read_text(file);
    assert_string_equal(txt, "hello2"); /* the upper layer wins */
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, T_MTIME + 1);
    _cleanup_free_ char *suid = pjoin(d, "setuid");
    expect_stat(suid, S_IFREG, 04755, 0, 0);
    _cleanup_free_ char *deep = pjoin(d, "sub/deep/f2");
    expect_stat(deep, S_IFREG, 0600, 9, 9);
    _cleanup_free_ char *deepdir = pjoin(d, "sub/deep");
    expect_stat(deepdir, S_IFDIR, 0700, 9, 9);
    assert_int_equal(stat(deepdir, &st), 0);
    _cleanup_free_ char *srcdeep = pjoin(im.l1, "data/sub/deep");
    struct stat sst;
    assert_int_equal(stat(srcdeep, &sst), 0);
    /* dir times kept after filling it */
    assert_int_equal(st.st_mtim.tv_sec, sst.st_mtim.tv_sec);
    assert_int_equal(st.st_mtim.tv_nsec, sst.st_mtim.tv_nsec);
    _cleanup_free_ char *link = pjoin(d, "link");
    expect_stat(link, S_IFLNK, 0, 5, 6);
    char target[PATH_MAX];
    ssize_t n = readlink(link, target, sizeof target - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "/etc/passwd");
    assert_int_equal(lstat(link, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, T_MTIME + 2);
    _cleanup_free_ char *up = pjoin(d, "up");
    expect_stat(up, S_IFLNK, 0, 0, 0);
    _cleanup_free_ char *rl = pjoin(d, "rootlink");
    expect_stat(rl, S_IFLNK, 0, 0, 0);
    _cleanup_free_ char *fifo = pjoin(d, "fifo");
    expect_stat(fifo, S_IFIFO, 0620, 0, 0);
    _cleanup_free_ char *null = pjoin(d, "null");
    assert_false(fs_exists(null)); /* device nodes are not copied */
    _cleanup_free_ char *gone = pjoin(d, "gone");
    assert_false(fs_exists(gone)); /* whited out by the upper layer */
    _cleanup_free_ char *nw = pjoin(d, "new");
    _cleanup_free_ char *nt = read_text(nw);
    assert_string_equal(nt, "layer2");

    /* the volume's own bookkeeping is done */
    _cleanup_free_ char *pending = pjoin(voldir, "seed-pending");
    _cleanup_free_ char *tmp = pjoin(voldir, "_seed");
    _cleanup_free_ char *lower = pjoin(voldir, "_lower");
    assert_false(fs_exists(pending));
    assert_false(fs_exists(tmp));
    assert_false(fs_exists(lower));
    free_image(&im);
}

static void test_seed_only_new_and_empty(void **state)
{
    if (!need_root())
        return;
    struct fx *f = *state;
    struct image_fx im;
    make_image(f, &im);
    struct berr e = BERR_INIT;
    bool created;

    /* seeded once: later content is the volume's own */
    assert_int_equal(volume_ensure(f->root, "once", NULL, &created, &e), 0);
    assert_int_equal(volume_seed(f->root, "once", im.layers, "/data", &e), 0);
    _cleanup_free_ char *d = volume_data_path(f->root, "once");
    _cleanup_free_ char *file = pjoin(d, "file");
    assert_int_equal(unlink(file), 0);
    assert_int_equal(volume_seed(f->root, "once", im.layers, "/data", &e), 0);
    assert_false(fs_exists(file));

    /* nocopy: used without seeding, never seeded afterwards */
    assert_int_equal(volume_ensure(f->root, "nocopy", NULL, &created, &e), 0);
    assert_int_equal(volume_mark_used(f->root, "nocopy", &e), 0);
    assert_int_equal(volume_seed(f->root, "nocopy", im.layers, "/data", &e), 0);
    _cleanup_free_ char *d2 = volume_data_path(f->root, "nocopy");
    _cleanup_free_ char *f2 = pjoin(d2, "file");
    assert_false(fs_exists(f2));

    /* not empty: not seeded */
    assert_int_equal(volume_ensure(f->root, "full", NULL, &created, &e), 0);
    _cleanup_free_ char *d3 = volume_data_path(f->root, "full");
    mk_file(d3, "mine", "mine", 0644, 0, 0);
    assert_int_equal(volume_seed(f->root, "full", im.layers, "/data", &e), 0);
    _cleanup_free_ char *f3 = pjoin(d3, "file");
    assert_false(fs_exists(f3));
    struct stat st;
    assert_int_equal(stat(d3, &st), 0);
    assert_int_equal(st.st_uid, 0); /* untouched */

    /* a seed killed halfway left a copy aside: it is thrown away */
    assert_int_equal(volume_ensure(f->root, "killed", NULL, &created, &e), 0);
    _cleanup_free_ char *vd = xasprintf("%s/volumes/killed", f->root);
    mk_dir(vd, "_seed/partial", 0700, 0, 0);
    assert_int_equal(volume_seed(f->root, "killed", im.layers, "/data", &e), 0);
    _cleanup_free_ char *d4 = volume_data_path(f->root, "killed");
    _cleanup_free_ char *f4 = pjoin(d4, "file");
    _cleanup_free_ char *p4 = pjoin(d4, "partial");
    assert_true(fs_exists(f4));
    assert_false(fs_exists(p4));

    /* a target the image does not have: nothing to copy, volume empty */
    assert_int_equal(volume_ensure(f->root, "absent", NULL, &created, &e), 0);
    assert_int_equal(volume_seed(f->root, "absent", im.layers, "/no/such/dir", &e), 0);
    _cleanup_free_ char *d5 = volume_data_path(f->root, "absent");
    int err = 0;
    _cleanup_closedir_ DIR *dd = opendir(d5);
    assert_non_null(dd);
    int entries = 0;
    struct dirent *de;
    while ((de = readdir(dd)))
        entries++;
    assert_int_equal(entries, 2);
    (void)err;

    /* a caller that ignores SIGCHLD loses the child's status: the outcome
     * comes through the pipe all the same */
    assert_int_equal(volume_ensure(f->root, "sigign", NULL, &created, &e), 0);
    void (*old)(int) = signal(SIGCHLD, SIG_IGN);
    int sr = volume_seed(f->root, "sigign", im.layers, "/data", &e);
    signal(SIGCHLD, old);
    if (sr < 0)
        fail_msg("%s", e.msg);
    _cleanup_free_ char *d7 = volume_data_path(f->root, "sigign");
    _cleanup_free_ char *f7 = pjoin(d7, "file");
    assert_true(fs_exists(f7));

    /* one layer: mounted as a read-only bind */
    char *one[] = {im.l1, NULL};
    assert_int_equal(volume_ensure(f->root, "onelayer", NULL, &created, &e), 0);
    if (volume_seed(f->root, "onelayer", one, "/data", &e) < 0)
        fail_msg("%s", e.msg);
    _cleanup_free_ char *d6 = volume_data_path(f->root, "onelayer");
    _cleanup_free_ char *f6 = pjoin(d6, "file");
    _cleanup_free_ char *t6 = read_text(f6);
    assert_string_equal(t6, "hello");
    free_image(&im);
}

/* Targets through symlinks in the image resolve inside the image: never to
 * the host. */
static void test_seed_hostile_targets(void **state)
{
    if (!need_root())
        return;
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    bool created;
    /* a host directory with a secret, which the image tries to reach */
    _cleanup_free_ char *host = pjoin(f->dir, "hostsecret");
    mk_dir(host, "", 0700, 0, 0);
    mk_file(host, "secret", "host secret", 0600, 0, 0);
    _cleanup_free_ char *l = pjoin(f->dir, "evil");
    mk_dir(l, "", 0755, 0, 0);
    mk_dir(l, "etc", 0755, 0, 0);
    mk_file(l, "etc/passwd", "image passwd\n", 0644, 0, 0);
    mk_link(l, "abs", host, 0, 0);                             /* absolute host path */
    mk_link(l, "rel", "../../../../../../../../../../", 0, 0); /* climbs out */
    _cleanup_free_ char *relhost = xasprintf("../../../../../../../../..%s", host);
    mk_link(l, "relhost", relhost, 0, 0);
    mk_link(l, "root", "/", 0, 0);
    mk_link(l, "procself", "/proc/self/root", 0, 0);
    char *layers[] = {l, NULL};

    const char *targets[] = {"/abs", "/relhost", "/abs/../hostsecret"};
    for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
        _cleanup_free_ char *name = xasprintf("evil%zu", i);
        assert_int_equal(volume_ensure(f->root, name, NULL, &created, &e), 0);
        if (volume_seed(f->root, name, layers, targets[i], &e) < 0)
            fail_msg("%s: %s", targets[i], e.msg);
        _cleanup_free_ char *d = volume_data_path(f->root, name);
        _cleanup_free_ char *s = pjoin(d, "secret");
        if (fs_exists(s))
            fail_msg("target %s copied the host's secret", targets[i]);
    }
    /* "/rel/etc" and "/root/etc" are the image's /etc, not the host's */
    const char *inside[] = {"/rel/etc", "/root/etc"};
    for (size_t i = 0; i < ARRAY_SIZE(inside); i++) {
        _cleanup_free_ char *name = xasprintf("inside%zu", i);
        assert_int_equal(volume_ensure(f->root, name, NULL, &created, &e), 0);
        if (volume_seed(f->root, name, layers, inside[i], &e) < 0)
            fail_msg("%s: %s", inside[i], e.msg);
        _cleanup_free_ char *d = volume_data_path(f->root, name);
        _cleanup_free_ char *pw = pjoin(d, "passwd");
        _cleanup_free_ char *txt = read_text(pw);
        assert_non_null(txt);
        assert_string_equal(txt, "image passwd\n");
    }
    /* a magic link is refused, not followed to the host */
    assert_int_equal(volume_ensure(f->root, "magic", NULL, &created, &e), 0);
    int r = volume_seed(f->root, "magic", layers, "/procself/etc", &e);
    berr_clear(&e);
    (void)r;
    _cleanup_free_ char *dm = volume_data_path(f->root, "magic");
    _cleanup_free_ char *pm = pjoin(dm, "passwd");
    _cleanup_free_ char *tm = read_text(pm);
    if (tm)
        assert_string_equal(tm, "image passwd\n");
    /* the host secret is intact and nothing was written beside it */
    _cleanup_free_ char *sec = pjoin(host, "secret");
    _cleanup_free_ char *st = read_text(sec);
    assert_string_equal(st, "host secret");
}

/* A tree deeper than any fd or path limit, and a wide merged directory
 * whose reading must resume in the right place after each subdirectory. */
static void test_seed_deep_and_wide(void **state)
{
    if (!need_root())
        return;
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    bool created;
    _cleanup_free_ char *l1 = pjoin(f->dir, "wide1");
    _cleanup_free_ char *l2 = pjoin(f->dir, "wide2");
    mk_dir(l1, "data", 0755, 0, 0);
    mk_dir(l2, "data", 0755, 0, 0);
    for (int i = 0; i < 300; i++) {
        _cleanup_free_ char *dn = xasprintf("data/d%03d", i);
        _cleanup_free_ char *fn = xasprintf("data/d%03d/f", i);
        _cleanup_free_ char *ff = xasprintf("data/f%03d", i);
        const char *layer = i % 2 ? l1 : l2;
        mk_dir(layer, dn, 0755, 0, 0);
        mk_file(layer, fn, dn, 0644, 0, 0);
        mk_file(i % 3 ? l1 : l2, ff, "x", 0644, 0, 0);
    }
    /* 3000 levels below data/deep */
    _cleanup_free_ char *deepbase = pjoin(l1, "data");
    int fd = open(deepbase, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    const int depth = 3000;
    for (int i = 0; i < depth; i++) {
        assert_int_equal(mkdirat(fd, "deep", 0755), 0);
        int n = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(n >= 0);
        close(fd);
        fd = n;
    }
    int bf = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(bf >= 0);
    assert_int_equal(write(bf, "bottom", 6), 6);
    close(bf);
    close(fd);
    char *layers[] = {l1, l2, NULL};
    assert_int_equal(volume_ensure(f->root, "wide", NULL, &created, &e), 0);
    if (volume_seed(f->root, "wide", layers, "/data", &e) < 0)
        fail_msg("%s", e.msg);
    _cleanup_free_ char *d = volume_data_path(f->root, "wide");
    for (int i = 0; i < 300; i++) {
        _cleanup_free_ char *fn = xasprintf("%s/d%03d/f", d, i);
        _cleanup_free_ char *ff = xasprintf("%s/f%03d", d, i);
        _cleanup_free_ char *txt = read_text(fn);
        _cleanup_free_ char *want = xasprintf("data/d%03d", i);
        if (!txt || strcmp(txt, want) != 0)
            fail_msg("%s not copied", fn);
        if (!fs_exists(ff))
            fail_msg("%s not copied", ff);
    }
    fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < depth; i++) {
        int n = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (n < 0)
            fail_msg("level %d of the deep tree is missing", i);
        close(fd);
        fd = n;
    }
    char buf[16] = "";
    int bfd = openat(fd, "bottom", O_RDONLY | O_CLOEXEC);
    assert_true(bfd >= 0);
    assert_int_equal(read(bfd, buf, sizeof buf), 6);
    assert_memory_equal(buf, "bottom", 6);
    close(bfd);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_rule),
        cmocka_unit_test_setup_teardown(test_create_list_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_names_form_no_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_copies_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_only_new_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_hostile_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_deep_and_wide, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
