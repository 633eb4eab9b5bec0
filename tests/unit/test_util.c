/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for util/: errors, string vectors, signal names, fs helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/supervise/logfile.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/signame.h"
#include "util/strv.h"
#include "util/units.h"
#include "util/xalloc.h"

static void test_err_chain(void **state)
{
    struct berr e = BERR_INIT;
    assert_int_equal(berr_errno(&e, ENOENT, "opening %s", "x.yaml"), -ENOENT);
    assert_int_equal(berr_wrap(&e, "service \"%s\"", "web"), -ENOENT);
    assert_string_equal(e.msg, "service \"web\": opening x.yaml: No such file or directory");
    assert_int_equal(berr_set(&e, 5, "positive"), -EINVAL);
    berr_clear(&e);
    assert_null(e.msg);
    assert_int_equal(e.code, 0);
}

static void test_strv_env(void **state)
{
    _cleanup_strv_ char **env = NULL;
    strv_env_put(&env, "A=1");
    strv_env_put(&env, "B=2");
    strv_env_set(&env, "A", "3");
    assert_int_equal(strv_len(env), 2);
    assert_string_equal(env[0], "A=3");
    assert_string_equal(strv_env_get(env, "B"), "2");
    assert_null(strv_env_get(env, "C"));
    assert_null(strv_env_get(env, "A="));
}

static void test_signals(void **state)
{
    char buf[16];
    assert_int_equal(signal_parse("SIGTERM"), SIGTERM);
    assert_int_equal(signal_parse("term"), SIGTERM);
    assert_int_equal(signal_parse("9"), SIGKILL);
    assert_int_equal(signal_parse("SIGRTMIN+3"), SIGRTMIN + 3);
    assert_true(signal_parse("SIGFOO") < 0);
    assert_true(signal_parse("999") < 0);
    assert_true(signal_parse("") < 0);
    assert_true(signal_parse("0") < 0);
    assert_string_equal(signal_name(SIGKILL, buf), "SIGKILL");
    assert_string_equal(signal_name(SIGRTMIN + 2, buf), "SIGRTMIN+2");
}

static char *mktmp(void)
{
    const char *base = getenv("BERTH_TEST_TMP");
    if (!base)
        base = "/tmp";
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(base, 0755, &e), 0);
    char *t = xasprintf("%s/util-XXXXXX", base);
    assert_non_null(mkdtemp(t));
    return t;
}

static void test_open_in_root(void **state)
{
    _cleanup_free_ char *dir = mktmp();
    _cleanup_close_ int root = open(dir, O_PATH | O_DIRECTORY);
    assert_true(root >= 0);
    /* An absolute symlink resolves inside the root, not on the host. */
    assert_int_equal(symlinkat("/realetc", root, "etc"), 0);
    assert_int_equal(mkdirat(root, "realetc", 0755), 0);
    int fd = fs_open_in_root(root, "/etc/passwd", O_RDONLY, 0);
    assert_int_equal(fd, -ENOENT);
    assert_int_equal(symlinkat("/etc/passwd", root, "pw"), 0);
    fd = fs_open_in_root(root, "/pw", O_RDONLY, 0);
    assert_int_equal(fd, -ENOENT);
    /* Magic links are refused. */
    assert_int_equal(symlinkat("/proc/self/root/etc/passwd", root, "magic"), 0);
    fd = fs_open_in_root(root, "/magic", O_RDONLY, 0);
    assert_true(fd < 0);
    /* ".." cannot climb out. */
    fd = fs_open_in_root(root, "../../../../", O_PATH | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(fstat(root, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    close(fd);
    /* mkdirs through a symlink stays inside. */
    assert_int_equal(symlinkat("../../realetc", root, "link"), 0);
    fd = fs_mkdirs_in_root(root, "/link/a/b", 0755);
    assert_true(fd >= 0);
    close(fd);
    struct stat st;
    assert_int_equal(fstatat(root, "realetc/a/b", &st, 0), 0);
    struct berr e = BERR_INIT;
    _cleanup_close_ int parent = open(dir, O_PATH | O_DIRECTORY);
    assert_true(parent >= 0);
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
    assert_false(fs_exists(dir));
}

/* A scratch directory on a tmpfs of its own where the test may mount one
 * (root: main made the mount namespace private), so that creating and
 * removing tens of thousands of entries costs no journal; else on disk. */
static char *fast_scratch(bool *mounted)
{
    char *dir = mktmp();
    *mounted = mount("tmpfs", dir, "tmpfs", 0, "size=256m") == 0;
    return dir;
}

static void fast_scratch_remove(char *dir, bool mounted)
{
    if (mounted)
        assert_int_equal(umount2(dir, MNT_DETACH), 0);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
    free(dir);
}

/* Makes a chain of depth directories named dname below fd, with files
 * regular files in each level. */
static void make_chain(int fd, const char *dname, int depth, int files)
{
    int cur = dup(fd);
    for (int i = 0; i < depth; i++) {
        assert_int_equal(mkdirat(cur, dname, 0755), 0);
        for (int k = 0; k < files; k++) {
            char f[32];
            snprintf(f, sizeof f, "f%d", k);
            int ff = openat(cur, f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            assert_true(ff >= 0);
            close(ff);
        }
        int n = openat(cur, dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(n >= 0);
        close(cur);
        cur = n;
    }
    close(cur);
}

/* 10k deep (far beyond PATH_MAX and any recursion budget), built
 * fd-relative: removed without recursion. */
static void test_rm_rf_deep(void **state)
{
    bool mounted;
    char *dir = fast_scratch(&mounted);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(mkdirat(fd, "t", 0755), 0);
    int t = openat(fd, "t", O_RDONLY | O_DIRECTORY);
    make_chain(t, "dddddddd", 10000, 1);
    close(t);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(fd, "t", &e), 0);
    assert_int_equal(faccessat(fd, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    close(fd);
    fast_scratch_remove(dir, mounted);
}

/* 20k subdirectories side by side (on a tmpfs, so that it stays quick):
 * the parent is read by one stream, kept open while each child goes. */
static void test_rm_rf_wide(void **state)
{
    bool mounted;
    char *dir = fast_scratch(&mounted);
    if (!mounted) {
        fast_scratch_remove(dir, mounted);
        print_message("SKIPPED: rm_rf_wide needs root for a tmpfs\n");
        skip();
    }
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_int_equal(mkdirat(fd, "w", 0755), 0);
    _cleanup_close_ int w = openat(fd, "w", O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 20000; i++) {
        char n[32];
        snprintf(n, sizeof n, "sub%05d", i);
        assert_int_equal(mkdirat(w, n, 0755), 0);
    }
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(fd, "w", &e), 0);
    assert_int_equal(faccessat(fd, "w", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    close(TAKE_FD(fd));
    fast_scratch_remove(dir, mounted);
}

/* Symlinks inside the tree are removed as links, never followed: what
 * they point at (outside, or up the tree) keeps every file. */
static void test_rm_rf_symlinks(void **state)
{
    _cleanup_free_ char *dir = mktmp();
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_int_equal(mkdirat(fd, "outside", 0755), 0);
    int k = openat(fd, "outside/keep", O_CREAT | O_WRONLY, 0600);
    assert_true(k >= 0);
    close(k);
    assert_int_equal(mkdirat(fd, "t", 0755), 0);
    assert_int_equal(mkdirat(fd, "t/sub", 0755), 0);
    _cleanup_free_ char *abs = xasprintf("%s/outside", dir);
    assert_int_equal(symlinkat(abs, fd, "t/abs"), 0);
    assert_int_equal(symlinkat("../outside", fd, "t/rel"), 0);
    assert_int_equal(symlinkat("../../outside/keep", fd, "t/sub/file"), 0);
    assert_int_equal(symlinkat("../..", fd, "t/sub/up"), 0);
    assert_int_equal(symlinkat("/", fd, "t/sub/root"), 0);
    assert_int_equal(symlinkat("nowhere", fd, "t/dangling"), 0);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(fd, "t", &e), 0);
    assert_int_equal(faccessat(fd, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(fd, "outside/keep", F_OK, 0), 0);
    /* The target itself a symlink: the link goes, not what it names. */
    assert_int_equal(symlinkat("outside", fd, "link"), 0);
    assert_int_equal(fs_rm_rf_at(fd, "link", &e), 0);
    assert_int_equal(faccessat(fd, "outside/keep", F_OK, 0), 0);
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
}

/* The rename race (defect 8): a thread moves a deep subdirectory of the
 * tree out of it, to a sibling of the tree, and back, in a loop, while the
 * tree is removed. The walk then finds itself inside the moved directory,
 * whose "..", "../.." lead to the sibling and above: climbing there by a
 * depth count removed the files beside and above the tree. Nothing
 * outside the tree may go, whatever the timing. */
#define RACE_UP    24 /* levels above the tree, each with a sentinel */
#define RACE_DEPTH 12 /* the tree's depth */
#define RACE_MOVED "t/d/d/d/d"

struct mover {
    int pfd;
    atomic_int stop;
    long moves;
};

static void *mover_run(void *arg)
{
    struct mover *m = arg;
    while (!atomic_load(&m->stop)) {
        if (renameat(m->pfd, RACE_MOVED, m->pfd, "side/x") == 0)
            m->moves++;
        renameat(m->pfd, "side/x", m->pfd, RACE_MOVED);
    }
    return NULL;
}

static void put_file(int dfd, const char *name)
{
    int f = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(f >= 0);
    close(f);
}

static void test_rm_rf_rename_race(void **state)
{
    bool mounted;
    char *dir = fast_scratch(&mounted);
    int cur = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(cur >= 0);
    /* dir/u/u/.../u (RACE_UP levels, a sentinel in each) / {t, side} */
    for (int i = 0; i < RACE_UP; i++) {
        put_file(cur, "sentinel");
        assert_int_equal(mkdirat(cur, "u", 0755), 0);
        int n = openat(cur, "u", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(n >= 0);
        close(cur);
        cur = n;
    }
    _cleanup_close_ int pfd = cur;
    put_file(pfd, "sentinel");
    assert_int_equal(mkdirat(pfd, "side", 0755), 0);
    put_file(pfd, "side/sentinel");
    long moved = 0, refused = 0;
    for (int iter = 0; iter < 300; iter++) {
        assert_int_equal(mkdirat(pfd, "t", 0755), 0);
        _cleanup_close_ int t = openat(pfd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_chain(t, "d", RACE_DEPTH, 12);
        struct mover m = {.pfd = pfd};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, mover_run, &m), 0);
        struct berr e = BERR_INIT;
        int r = fs_rm_rf_at(pfd, "t", &e);
        atomic_store(&m.stop, 1);
        pthread_join(th, NULL);
        moved += m.moves;
        if (r < 0) {
            /* Refusing a tree that keeps changing is allowed; removing
             * anything outside it is not. */
            refused++;
            berr_clear(&e);
        }
        /* Every sentinel beside and above the tree is still there. */
        char path[RACE_UP * 3 + 32] = "";
        for (int up = 0; up <= RACE_UP; up++) {
            char rel[RACE_UP * 3 + 16] = "";
            for (int k = 0; k < up; k++)
                strcat(rel, "../");
            snprintf(path, sizeof path, "%ssentinel", rel);
            if (faccessat(pfd, path, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
                fail_msg("iteration %d: %s (%d levels above the tree) was removed", iter, path, up);
        }
        if (faccessat(pfd, "side/sentinel", F_OK, AT_SYMLINK_NOFOLLOW) != 0)
            fail_msg("iteration %d: side/sentinel (beside the tree) was removed", iter);
        /* Whatever was left (in the tree, or moved beside it) goes now. */
        assert_int_equal(fs_rm_rf_at(pfd, "t", &e), 0);
        assert_int_equal(fs_rm_rf_at(pfd, "side/x", &e), 0);
        assert_int_equal(faccessat(pfd, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    }
    print_message("rm_rf_rename_race: %ld moves, %ld removals refused of 300\n", moved, refused);
    close(TAKE_FD(pfd));
    fast_scratch_remove(dir, mounted);
}

static void test_write_read_atomic(void **state)
{
    _cleanup_free_ char *dir = mktmp();
    _cleanup_close_ int d = open(dir, O_RDONLY | O_DIRECTORY);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_write_atomic(d, "f.json", "{}", 2, 0644, &e), 0);
    _cleanup_free_ char *buf = NULL;
    size_t len;
    assert_int_equal(fs_read_file(d, "f.json", 100, &buf, &len, &e), 0);
    assert_string_equal(buf, "{}");
    assert_int_equal(len, 2);
    /* A FIFO is refused without blocking. */
    assert_int_equal(mkfifoat(d, "fifo", 0600), 0);
    char *b2 = NULL;
    assert_true(fs_read_file(d, "fifo", 100, &b2, &len, &e) < 0);
    assert_non_null(strstr(e.msg, "not a regular file"));
    berr_clear(&e);
    assert_int_equal(fs_write_atomic(d, "big", "0123456789", 10, 0644, &e), 0);
    assert_true(fs_read_file(d, "big", 5, &b2, &len, &e) < 0);
    assert_non_null(strstr(e.msg, "too large"));
    berr_clear(&e);
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
}

/* The one joiner (util/strv.h) and the path join built on it. */
static void test_join(void **state)
{
    _cleanup_free_ char *a = str_join("KEY", '=', "v=1");
    assert_string_equal(a, "KEY=v=1");
    char *v[] = {"a", "", "b c", NULL};
    _cleanup_free_ char *b = strv_join(v, ", ");
    assert_string_equal(b, "a, , b c");
    _cleanup_free_ char *c = strv_join(NULL, ",");
    assert_string_equal(c, "");
    char *one[] = {"x", NULL};
    _cleanup_free_ char *d = strv_join(one, "--");
    assert_string_equal(d, "x");
    _cleanup_free_ char *e = fs_path_join("/a//", "//b/c");
    assert_string_equal(e, "/a/b/c");
    _cleanup_free_ char *g = fs_path_join("rel", "");
    assert_string_equal(g, "rel/");
}

/* The one duration parser and size parser (util/units.h) as `logs
 * --since` and BERTH_LOG_MAX_SIZE use them: Go's units only, no sign. */
static void test_units_for_logs(void **state)
{
    int64_t ns;
    assert_int_equal(duration_parse("1h30m", 0, &ns), 0);
    assert_true(ns == 5400LL * 1000000000LL);
    assert_int_equal(duration_parse("1d", 0, &ns), -EINVAL);
    assert_int_equal(duration_parse("1d", DURATION_DAYS_WEEKS, &ns), 0);
    assert_true(ns == 86400LL * 1000000000LL);
    const int64_t now = 1000000LL * 1000000000LL;
    assert_int_equal(log_parse_since("10m", now, &ns), 0);
    assert_true(ns == now - 600LL * 1000000000LL);
    assert_int_equal(log_parse_since("1.5s", now, &ns), 0);
    assert_true(ns == now - 1500000000LL);
    assert_int_equal(log_parse_since("-5m", now, &ns), -EINVAL);
    assert_int_equal(log_parse_since("1d", now, &ns), -EINVAL);
    assert_int_equal(log_parse_since("5x", now, &ns), -EINVAL);
    setenv("BERTH_LOG_MAX_SIZE", "1m", 1);
    assert_true(log_max_size_from_env() == 1024 * 1024);
    setenv("BERTH_LOG_MAX_SIZE", "1.5K", 1);
    assert_true(log_max_size_from_env() == 4096); /* the floor */
    setenv("BERTH_LOG_MAX_SIZE", "0", 1);
    assert_true(log_max_size_from_env() == LOG_MAX_SIZE_DEFAULT);
    setenv("BERTH_LOG_MAX_SIZE", "lots", 1);
    assert_true(log_max_size_from_env() == LOG_MAX_SIZE_DEFAULT);
    unsetenv("BERTH_LOG_MAX_SIZE");
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(str_edit_distance("FORM", 4, "FROM", 4), 2);
    assert_int_equal(str_edit_distance("RUNN", 4, "RUN", 3), 1);
    assert_int_equal(str_edit_distance("", 0, "abc", 3), 3);
    assert_int_equal(str_edit_distance("same", 4, "same", 4), 0);
    assert_int_equal(str_edit_distance("kitten", 6, "sitting", 7), 3);
    char long_key[42];
    memset(long_key, 'a', 41);
    long_key[41] = '\0';
    assert_int_equal(str_edit_distance(long_key, 41, "a", 1), 99);
}

int main(void)
{
    /* Scratch tmpfs mounts stay this process's own (fast_scratch). */
    if (unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_chain),
        cmocka_unit_test(test_strv_env),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_open_in_root),
        cmocka_unit_test(test_rm_rf_deep),
        cmocka_unit_test(test_rm_rf_wide),
        cmocka_unit_test(test_rm_rf_symlinks),
        cmocka_unit_test(test_rm_rf_rename_race),
        cmocka_unit_test(test_write_read_atomic),
        cmocka_unit_test(test_units_for_logs),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
