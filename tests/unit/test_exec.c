/* SPDX-License-Identifier: Apache-2.0 */
/* container_exec against a minimal "container": a process cloned into new
 * PID, mount, UTS, IPC and network namespaces that shares the host's files.
 * Checks that the exec'd process is born inside the PID namespace as a
 * direct child, that failures come back with Docker's codes, and above all
 * that the caller's pid_for_children is restored on every path (success,
 * a command not found, a user not found, a container that is gone) with no
 * file descriptor or child left behind. Needs root; skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "engine/runtime/runtime.h"
#include "util/err.h"

struct target {
    struct runtime rt;
    pid_t pid;
    int pidfd;
};

static int setup(void **state)
{
    if (geteuid() != 0)
        return 0; /* not reached: main skips the whole program */
    struct target *t = calloc(1, sizeof *t);
    struct berr e = BERR_INIT;
    if (runtime_init(&t->rt, NULL, &e) < 0) {
        fprintf(stderr, "runtime_init: %s\n", e.msg);
        berr_clear(&e);
        free(t);
        return -1;
    }
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    t->pidfd = -1;
    struct clone_args ca = {
        .flags =
            CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&t->pidfd,
        .exit_signal = SIGCHLD,
    };
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (sethostname("exectest", 8) < 0)
            _exit(1);
        close(ready[0]);
        close(ready[1]); /* EOF: ready */
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 0);
    close(ready[0]);
    t->pid = (pid_t)pid;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct target *t = *state;
    if (!t)
        return 0;
    if (t->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
        siginfo_t si;
        waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED);
        close(t->pidfd);
    }
    runtime_fini(&t->rt);
    free(t);
    return 0;
}

static ino_t ns_ino(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

static void assert_pidns_restored(void)
{
    assert_int_equal(ns_ino("/proc/thread-self/ns/pid_for_children"),
                     ns_ino("/proc/thread-self/ns/pid"));
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static char *const test_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

/* Runs argv in the target; returns container_exec's result, and with
 * success the command's output and exit status. */
static int run(struct target *t, char *const *argv, const char *user, char *outbuf, size_t cap,
               int *status, struct berr *e)
{
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    struct exec_spec x = {
        .name = "exectest",
        .target_pidfd = t->pidfd,
        .argv = argv,
        .env = test_env,
        .user = user,
        .caps = CAPS_DOCKER_DEFAULT,
        .stdin_fd = -1,
        .stdout_fd = pfd[1],
        .stderr_fd = -1,
    };
    struct container_proc p;
    int r = container_exec(&t->rt, &x, &p, e);
    close(pfd[1]);
    if (r == 0) {
        size_t n = 0;
        ssize_t k;
        while (n + 1 < cap && (k = read(pfd[0], outbuf + n, cap - 1 - n)) > 0)
            n += (size_t)k;
        outbuf[n] = '\0';
        struct pollfd pf = {.fd = p.pidfd, .events = POLLIN};
        assert_int_equal(poll(&pf, 1, 10000), 1);
        struct container_exit xs;
        assert_int_equal(container_reap(&p, &xs), 1);
        *status = xs.status;
        assert_null(p.cg);
        container_release(&p, e);
    }
    close(pfd[0]);
    return r;
}

static void test_exec_in_pid_namespace(void **state)
{
    struct target *t = *state;
    if (!t)
        skip();
    int fds = count_fds();
    char *const argv[] = {"/bin/sh", "-c",
                          "read h < /proc/sys/kernel/hostname; echo \"$$ $PPID $h\"; exit 7", NULL};
    char out[256];
    int status = -1;
    struct berr e = BERR_INIT;
    int r = run(t, argv, NULL, out, sizeof out, &status, &e);
    if (r < 0)
        fail_msg("container_exec: %s", e.msg);
    /* PID 2 after the target's PID 1; its parent (this process) is outside
     * the namespace, so it shows as 0. */
    assert_string_equal(out, "2 0 exectest\n");
    assert_int_equal(status, 7);
    assert_pidns_restored();
    assert_int_equal(count_fds(), fds);
}

static void test_exec_failures_restore(void **state)
{
    struct target *t = *state;
    if (!t)
        skip();
    int fds = count_fds();
    char out[64];
    int status;
    struct berr e = BERR_INIT;

    char *const missing[] = {"no-such-command-here", NULL};
    assert_int_equal(run(t, missing, NULL, out, sizeof out, &status, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "executable file not found in $PATH"));
    berr_clear(&e);
    assert_pidns_restored();

    char *const noexec[] = {"/etc/passwd", NULL};
    assert_int_equal(run(t, noexec, NULL, out, sizeof out, &status, &e), -EACCES);
    berr_clear(&e);
    assert_pidns_restored();

    /* A user that does not exist is not a command that does not exist. */
    char *const ok[] = {"/bin/true", NULL};
    int r = run(t, ok, "nobody-here-at-all", out, sizeof out, &status, &e);
    assert_true(r < 0 && r != -ENOENT && r != -EACCES);
    assert_non_null(strstr(e.msg, "unable to find user nobody-here-at-all"));
    berr_clear(&e);
    assert_pidns_restored();

    /* Every failed child was reaped: only the target is left. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), 0);
    assert_int_equal(si.si_pid, 0);
    assert_int_equal(count_fds(), fds);

    /* And exec works again afterwards, in the same process. */
    char *const echo[] = {"/bin/sh", "-c", "echo $$", NULL};
    r = run(t, echo, NULL, out, sizeof out, &status, &e);
    if (r < 0)
        fail_msg("container_exec: %s", e.msg);
    assert_int_equal(status, 0);
    assert_true(atoi(out) > 1 && atoi(out) < 100);
    assert_pidns_restored();
}

/* Waits up to ms for fd to be readable: 1, else 0. */
static int readable(int fd, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    return poll(&pf, 1, ms) == 1;
}

/* container_exec_start returns before the process has exec'd, and its
 * status fd tells, without blocking, whether it did: what a supervisor's
 * loop needs (defect 9). A process stopped before it execs (as a
 * container's root can do to any new process) only leaves the status fd
 * silent, and SIGKILL through the pidfd ends it. */
static void test_exec_start_async(void **state)
{
    struct target *t = *state;
    if (!t)
        skip();
    int fds = count_fds();
    struct berr e = BERR_INIT;
    struct exec_spec x = {
        .name = "exectest",
        .target_pidfd = t->pidfd,
        .env = test_env,
        .caps = CAPS_DOCKER_DEFAULT,
        .stdin_fd = -1,
        .stdout_fd = -1,
        .stderr_fd = -1,
    };
    struct container_proc p;
    struct container_exit xs;
    int sfd;

    char *const three[] = {"/bin/sh", "-c", "exit 3", NULL};
    x.argv = three;
    assert_int_equal(container_exec_start(&t->rt, &x, &p, &sfd, &e), 0);
    assert_pidns_restored();
    assert_true(readable(sfd, 10000));
    assert_int_equal(container_exec_status(sfd, "exectest", &e), 0);
    assert_true(readable(p.pidfd, 10000));
    assert_int_equal(container_reap(&p, &xs), 1);
    assert_int_equal(xs.status, 3);
    close(sfd);
    container_release(&p, &e);

    char *const missing[] = {"no-such-command-here", NULL};
    x.argv = missing;
    assert_int_equal(container_exec_start(&t->rt, &x, &p, &sfd, &e), 0);
    assert_true(readable(sfd, 10000));
    assert_int_equal(container_exec_status(sfd, "exectest", &e), -ENOENT);
    assert_non_null(strstr(e.msg, "executable file not found in $PATH"));
    berr_clear(&e);
    assert_true(readable(p.pidfd, 10000));
    assert_int_equal(container_reap(&p, &xs), 1);
    close(sfd);
    container_release(&p, &e);

    /* Stopped before it could exec: nothing to read, nothing blocks. */
    char *const sleeper[] = {"/bin/sleep", "100", NULL};
    x.argv = sleeper;
    assert_int_equal(container_exec_start(&t->rt, &x, &p, &sfd, &e), 0);
    kill(p.pid, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    assert_int_equal(waitid(P_PIDFD, (id_t)p.pidfd, &si, WSTOPPED | WNOWAIT), 0);
    int r = container_exec_status(sfd, "exectest", &e);
    assert_true(r == 1 || r == 0); /* 0: it had exec'd before the stop */
    assert_int_equal(container_signal(&p, SIGKILL), 0);
    assert_true(readable(p.pidfd, 10000));
    assert_int_equal(container_reap(&p, &xs), 1);
    assert_int_equal(xs.signal, SIGKILL);
    close(sfd);
    container_release(&p, &e);
    assert_int_equal(count_fds(), fds);
}

static void test_exec_target_gone(void **state)
{
    struct target *t = *state;
    if (!t)
        skip();
    syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0);
    siginfo_t si;
    assert_int_equal(waitid(P_PIDFD, (id_t)t->pidfd, &si, WEXITED), 0);
    int fds = count_fds();
    char *const ok[] = {"/bin/true", NULL};
    char out[16];
    int status;
    struct berr e = BERR_INIT;
    assert_true(run(t, ok, NULL, out, sizeof out, &status, &e) < 0);
    assert_non_null(strstr(e.msg, "not running"));
    berr_clear(&e);
    assert_pidns_restored();
    assert_int_equal(count_fds(), fds);
}

/* clone3 failing after the caller joined the container's PID namespace
 * (injected with a seccomp filter in a forked copy of this process): the
 * namespace is restored and the error says what failed. */
static void test_exec_clone_fails_restore(void **state)
{
    struct target *t = *state;
    if (!t)
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAGAIN), SCMP_SYS(clone3), 0) < 0 ||
            seccomp_load(ctx) < 0)
            _exit(10);
        seccomp_release(ctx);
        char *const ok[] = {"/bin/true", NULL};
        char out[16];
        int status;
        struct berr e = BERR_INIT;
        int r = run(t, ok, NULL, out, sizeof out, &status, &e);
        if (r != -EAGAIN || !strstr(e.msg, "creating the process"))
            _exit(11);
        berr_clear(&e);
        if (ns_ino("/proc/thread-self/ns/pid_for_children") != ns_ino("/proc/thread-self/ns/pid"))
            _exit(12);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    /* Joining namespaces needs root: without it nothing here can run, and
     * ctest counts the run as skipped (SKIP_RETURN_CODE), not passed. */
    if (geteuid() != 0) {
        printf("SKIPPED: test_exec needs root\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec_in_pid_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_failures_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_clone_fails_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_start_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_target_gone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
