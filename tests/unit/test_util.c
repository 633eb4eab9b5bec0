/* Unit tests for util/: errors, string vectors, signal names, fs helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/signame.h"
#include "util/strv.h"
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
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
    assert_false(fs_exists(dir));
}

static void test_rm_rf_deep(void **state)
{
    _cleanup_free_ char *dir = mktmp();
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    /* Deeper than PATH_MAX, built fd-relative. */
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(mkdirat(fd, "dddddddd", 0755), 0);
        int f = openat(fd, "file", O_CREAT | O_WRONLY, 0600);
        close(f);
        int n = openat(fd, "dddddddd", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = n;
    }
    close(fd);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, &e), 0);
    assert_false(fs_exists(dir));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_chain),  cmocka_unit_test(test_strv_env),
        cmocka_unit_test(test_signals),    cmocka_unit_test(test_open_in_root),
        cmocka_unit_test(test_rm_rf_deep), cmocka_unit_test(test_write_read_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
