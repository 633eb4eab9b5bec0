/* SPDX-License-Identifier: Apache-2.0 */
/* Docker-format seccomp profiles (security_opt seccomp=PATH): what does not
 * parse names the file and line:column, wrong fields name the entry, and a
 * compiled filter does what the profile says, checked by loading it in a
 * forked child and making the calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/seccomp_profile.h"
#include "util/cleanup.h"
#include "util/fs.h"

static const struct seccomp_env env0 = {.caps = 0, .arch = "amd64", .kernel = "6.1.0-13-amd64"};

static int compile(const char *text, const struct seccomp_env *env, struct seccomp_prog *p,
                   char *msg, size_t cap)
{
    struct berr e = BERR_INIT;
    int r = seccomp_profile_compile(text, strlen(text), "p.json", env, p, &e);
    msg[0] = '\0';
    if (r < 0)
        snprintf(msg, cap, "%s", e.msg);
    berr_clear(&e);
    return r;
}

static void expect_error(const char *text, const char *want)
{
    struct seccomp_prog p = {0};
    char msg[512];
    int r = compile(text, &env0, &p, msg, sizeof msg);
    if (r == 0 || !strstr(msg, want))
        fail_msg("want an error with \"%s\", got %d \"%s\"", want, r, msg);
    seccomp_prog_free(&p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [,]\n}",
                 "p.json:3:");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"SCMP_ACT_LOG\"}",
                 "p.json:1:");
    expect_error("[]", "p.json: the profile: expected a JSON object");
    expect_error("{}", "defaultAction");
    expect_error("{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "unknown action \"SCMP_ACT_NOPE\"");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                 "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
                 "syscalls[0]: SCMP_ACT_NOTIFY is not supported");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": "
                 "\"SCMP_ACT_LOG\"}, {\"name\": \"a\", "
                 "\"names\": [\"b\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
                 "syscalls[1]: use either 'name' or 'names'");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                 "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 7, \"value\": 1, "
                 "\"op\": \"SCMP_CMP_EQ\"}]}]}",
                 "syscalls[0]: args: index must be 0 to 5");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                 "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, "
                 "\"op\": \"SCMP_CMP_SIMILAR\"}]}]}",
                 "unknown op \"SCMP_CMP_SIMILAR\"");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
                 "unknown architecture \"SCMP_ARCH_VAX\"");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                 "\"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"caps\": [\"CAP_NOPE\"]}}]}",
                 "unknown capability \"CAP_NOPE\"");
    expect_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
                 "\"action\": \"SCMP_ACT_ERRNO\", \"includes\": {\"minKernel\": \"four\"}}]}",
                 "minKernel \"four\" is not MAJOR.MINOR");
}

/* Runs fn in a child under the filter: returns fn's value (0-255). */
static int under_filter(const struct seccomp_prog *p, int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_fprog fp = {.len = p->len, .filter = p->insns};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
            _exit(254);
        /* not _exit: a sanitizer's hook there makes calls the filter refuses */
        syscall(SYS_exit_group, fn());
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The errno of getpgid(11111) and getpgid(22222) and getpgid(33333), as
 * digits: 0 ok, 1 ESRCH (the kernel's answer), 2 EBADFD (77, the rules'). */
static int pgid_code(long arg)
{
    errno = 0;
    long r = syscall(SYS_getpgid, arg);
    return r >= 0 ? 0 : errno == ESRCH ? 1 : errno == EBADFD ? 2 : 9;
}

static int pgids(void)
{
    return pgid_code(11111) * 100 + pgid_code(22222) * 10 + pgid_code(33333);
}

static int ppid_errno(void)
{
    errno = 0;
    return syscall(SYS_getppid) < 0 ? errno : 0;
}

static const char *mkdir_path;

static int mkdir_errno(void)
{
    if (mkdir(mkdir_path, 0755) < 0)
        return errno;
    rmdir(mkdir_path);
    if (getpid() <= 0) /* and the rest works */
        return 99;
    return 0;
}

static void test_mkdir_refused(void **state)
{
    (void)state;
    const char *text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                       " \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\", \"no_such_call\"],\n"
                       "   \"action\": \"SCMP_ACT_ERRNO\"}]}";
    struct seccomp_prog p = {0};
    char msg[512];
    struct seccomp_env env = {.caps = 0}; /* this host's arch and kernel */
    assert_int_equal(compile(text, &env, &p, msg, sizeof msg), 0);
    char dir[] = "/tmp/berth-seccomp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/x", dir);
    mkdir_path = sub;
    assert_int_equal(under_filter(&p, mkdir_errno), EPERM);
    seccomp_prog_free(&p);
    /* defaultErrnoRet, and a default that refuses what the rules allow */
    text = "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 77,\n"
           " \"syscalls\": [{\"names\": [\"getpid\", \"exit_group\", \"exit\"],\n"
           "   \"action\": \"SCMP_ACT_ALLOW\"}]}";
    assert_int_equal(compile(text, &env, &p, msg, sizeof msg), 0);
    assert_int_equal(under_filter(&p, mkdir_errno), EBADFD);
    seccomp_prog_free(&p);
    rmdir(dir);
}

static void test_args(void **state)
{
    (void)state;
    struct seccomp_env env = {.caps = 0};
    struct seccomp_prog p = {0};
    char msg[512];
    /* two comparisons of one argument: either matches (runc's split) */
    const char *text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                       "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, "
                       "\"args\": [{\"index\": 0, \"value\": 11111, \"op\": \"SCMP_CMP_EQ\"}, "
                       "{\"index\": 0, \"value\": 22222, \"op\": \"SCMP_CMP_EQ\"}]}]}";
    assert_int_equal(compile(text, &env, &p, msg, sizeof msg), 0);
    assert_int_equal(under_filter(&p, pgids), 221);
    seccomp_prog_free(&p);
    /* comparisons of different arguments are ANDed; MASKED_EQ with valueTwo */
    text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
           "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, "
           "\"args\": [{\"index\": 0, \"value\": 65535, \"valueTwo\": 22222, "
           "\"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}";
    assert_int_equal(compile(text, &env, &p, msg, sizeof msg), 0);
    assert_int_equal(under_filter(&p, pgids), 121);
    seccomp_prog_free(&p);
    text = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
           "[\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, "
           "\"args\": [{\"index\": 0, \"value\": 22222, \"op\": \"SCMP_CMP_GE\"}]}]}";
    assert_int_equal(compile(text, &env, &p, msg, sizeof msg), 0);
    assert_int_equal(under_filter(&p, pgids), 122);
    seccomp_prog_free(&p);
}

/* One rule with includes/excludes: whether getppid is refused for env. */
static int ppid_refused(const char *filter, const struct seccomp_env *env)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
             "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, %s}]}",
             filter);
    struct seccomp_prog p = {0};
    char msg[512];
    if (compile(text, env, &p, msg, sizeof msg) < 0)
        fail_msg("%s", msg);
    int r = under_filter(&p, ppid_errno);
    seccomp_prog_free(&p);
    return r == EBADFD;
}

static void test_includes_excludes(void **state)
{
    (void)state;
    struct seccomp_env none = {.caps = 0};
    struct seccomp_env admin = {.caps = 1ULL << CAP_SYS_ADMIN};
    struct seccomp_env both = {.caps = (1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_NET_ADMIN)};
    const char *inc_admin = "\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}";
    assert_false(ppid_refused(inc_admin, &none));
    assert_true(ppid_refused(inc_admin, &admin));
    /* includes: every cap listed must be there */
    const char *inc_two = "\"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"NET_ADMIN\"]}";
    assert_false(ppid_refused(inc_two, &admin));
    assert_true(ppid_refused(inc_two, &both));
    /* excludes: any cap listed leaves it out */
    const char *exc_admin = "\"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}";
    assert_true(ppid_refused(exc_admin, &none));
    assert_false(ppid_refused(exc_admin, &admin));
    /* arches by Go's names (and libseccomp's), this host's from libseccomp */
    struct seccomp_env here = {.caps = 0};
    const char *arch = NULL;
    {
        char text[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}";
        struct seccomp_prog p = {0};
        char msg[256];
        assert_int_equal(compile(text, &here, &p, msg, sizeof msg), 0);
        seccomp_prog_free(&p);
    }
#if defined(__x86_64__)
    arch = "amd64";
#elif defined(__aarch64__)
    arch = "arm64";
#endif
    if (arch) {
        char f[128];
        snprintf(f, sizeof f, "\"includes\": {\"arches\": [\"%s\"]}", arch);
        assert_true(ppid_refused(f, &here));
        snprintf(f, sizeof f, "\"excludes\": {\"arches\": [\"%s\"]}", arch);
        assert_false(ppid_refused(f, &here));
        assert_false(ppid_refused("\"includes\": {\"arches\": [\"s390x\"]}", &here));
        assert_true(ppid_refused("\"excludes\": {\"arches\": [\"s390x\"]}", &here));
    }
    /* minKernel against the kernel's release */
    struct seccomp_env old = {.caps = 0, .kernel = "4.4.0-1-amd64"};
    struct seccomp_env new = {.caps = 0, .kernel = "6.1.0-13-amd64"};
    const char *inc_k = "\"includes\": {\"minKernel\": \"5.8\"}";
    assert_false(ppid_refused(inc_k, &old));
    assert_true(ppid_refused(inc_k, &new));
    const char *exc_k = "\"excludes\": {\"minKernel\": \"5.8\"}";
    assert_true(ppid_refused(exc_k, &old));
    assert_false(ppid_refused(exc_k, &new));
}

/* Docker's own default profile (and podman's, where installed) compile,
 * with architectures from archMap. */
static void test_real_profiles(void **state)
{
    (void)state;
    const char *files[] = {BERTH_FIXTURES_DIR "/seccomp/docker-default.json",
                           "/usr/share/containers/seccomp.json"};
    for (size_t i = 0; i < 2; i++) {
        struct berr e = BERR_INIT;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (fs_read_file(AT_FDCWD, files[i], 1 << 20, &text, &len, &e) < 0) {
            assert_true(i > 0); /* the fixture is always there */
            berr_clear(&e);
            continue;
        }
        struct seccomp_env env = {.caps = 0};
        struct seccomp_prog p = {0};
        int r = seccomp_profile_compile(text, len, files[i], &env, &p, &e);
        if (r < 0)
            fail_msg("%s", e.msg);
        assert_true(p.len > 100);
        seccomp_prog_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),  cmocka_unit_test(test_mkdir_refused),
        cmocka_unit_test(test_args),          cmocka_unit_test(test_includes_excludes),
        cmocka_unit_test(test_real_profiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
