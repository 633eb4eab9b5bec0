/* SPDX-License-Identifier: Apache-2.0 */
/* What a cloned child starts with, and the init program of `init: true`:
 * proc_close_fds_except leaves exactly the fds it is given; the init
 * program comes from a sealed memfd made once, and run as the parent of a
 * command it passes on the command's exit status, forwards signals to it
 * and answers a killed command with 128 + the signal, as Docker's
 * --init. Each case runs in a forked child, which is free to close fds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/proc.h"
#include "engine/runtime/runtime.h"
#include "util/err.h"

/* The open fds of this process, "0 1 2 ..." (without the one listing). */
static void open_fds(char *buf, size_t cap)
{
    buf[0] = '\0';
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        _exit(90);
    int own = dirfd(d);
    int fds[64], n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64)
        if (de->d_name[0] != '.' && atoi(de->d_name) != own)
            fds[n++] = atoi(de->d_name);
    closedir(d);
    for (int i = 0; i < n; i++) /* readdir's order is the kernel's: sort */
        for (int j = i + 1; j < n; j++)
            if (fds[j] < fds[i]) {
                int t = fds[i];
                fds[i] = fds[j];
                fds[j] = t;
            }
    for (int i = 0; i < n; i++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%d", i ? " " : "", fds[i]);
}

/* Opens fds 0-12, 40 and 1000 in a child, keeps `keep` (plus the report
 * pipe at 77), and returns what the child still has open. */
static char *after_close(const int *keep, size_t n)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(p[1], 77) < 0)
            _exit(91);
        int null = open("/dev/null", O_RDONLY);
        for (int fd = 0; fd <= 12; fd++)
            if (fd != null)
                dup2(null, fd);
        dup2(null, 40);
        dup2(null, 1000);
        int k[32];
        if (n)
            memcpy(k, keep, n * sizeof *k);
        k[n] = 77;
        if (proc_close_fds_except(k, n + 1) < 0)
            _exit(92);
        char buf[512];
        open_fds(buf, sizeof buf);
        ssize_t w = write(77, buf, strlen(buf));
        _exit(w < 0 ? 93 : 0);
    }
    close(p[1]);
    static char out[512];
    ssize_t got = read(p[0], out, sizeof out - 1);
    close(p[0]);
    out[got > 0 ? got : 0] = '\0';
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return out;
}

static void test_close_fds_keeps_exactly_the_given(void **state)
{
    /* unsorted, with duplicates and "none" (-1), gaps on both sides */
    const int keep[] = {9, -1, 5, 9, 1000, 2, 0, 1, -1};
    assert_string_equal(after_close(keep, sizeof keep / sizeof keep[0]), "0 1 2 5 9 77 1000");
    const int first[] = {3};
    assert_string_equal(after_close(first, 1), "3 77");
    assert_string_equal(after_close(NULL, 0), "77");
}

static struct runtime rt;

static int setup_rt(void **state)
{
    struct berr e = BERR_INIT;
    if (runtime_init(&rt, NULL, &e) < 0) {
        fprintf(stderr, "runtime_init: %s\n", e.msg);
        berr_clear(&e);
        return -1;
    }
    return 0;
}

static int teardown_rt(void **state)
{
    runtime_fini(&rt);
    return 0;
}

static void test_init_program_is_sealed(void **state)
{
    struct berr e = BERR_INIT;
    int fd = runtime_init_program(&rt, &e);
    assert_true(fd >= 0);
    assert_int_equal(runtime_init_program(&rt, &e), fd); /* made once */
    assert_int_equal(fcntl(fd, F_GET_SEALS),
                     F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(pwrite(fd, "x", 1, 0), -1);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int w = open(path, O_WRONLY);
    if (w >= 0) {
        assert_int_equal(write(w, "x", 1), -1); /* sealed: EPERM */
        close(w);
    }
    char elf[4];
    assert_int_equal(pread(fd, elf, 4, 0), 4);
    assert_memory_equal(elf, "\177ELF", 4);
}

static volatile sig_atomic_t got;
static void on_usr1(int sig)
{
    got = sig;
}

/* Runs the init program as the parent of a command: the command is
 * `command(arg)` in a grandchild; `sig`, when not 0, is sent to the init
 * once the command runs. Returns the init's wait status. */
static int run_init(int (*command)(int), int arg, int sig)
{
    struct berr e = BERR_INIT;
    int fd = runtime_init_program(&rt, &e);
    assert_true(fd >= 0);
    int ready[2];
    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    pid_t init = fork();
    assert_true(init >= 0);
    if (init == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL); /* as run_init in proc.c */
        int gate[2];                        /* the init closes gate[1] once it has named itself */
        if (pipe2(gate, O_CLOEXEC) < 0 || fcntl(gate[1], F_SETFD, 0) < 0)
            _exit(98);
        pid_t cmd = fork();
        if (cmd == 0) {
            close(gate[1]);
            char b;
            if (read(gate[0], &b, 1) != 0) /* EOF: the init closed it */
                _exit(97);
            struct sigaction sa = {.sa_handler = on_usr1};
            sigaction(SIGUSR1, &sa, NULL);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            close(ready[0]);
            close(ready[1]);
            _exit(command(arg));
        }
        close(gate[0]);
        char pid[16], gfd[16];
        snprintf(pid, sizeof pid, "%d", (int)cmd);
        snprintf(gfd, sizeof gfd, "%d", gate[1]);
        char *const argv[] = {"init", pid, gfd, NULL};
        char *const envp[] = {NULL};
        syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        _exit(99);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 0); /* the command runs */
    close(ready[0]);
    if (sig)
        kill(init, sig); /* blocked in the init: kept across its execve if early */
    int status;
    assert_int_equal(waitpid(init, &status, 0), init);
    return status;
}

static int exit_with(int code)
{
    return code;
}

static int wait_for_term(int unused)
{
    pause(); /* killed by the forwarded SIGTERM */
    return 0;
}

static int exit_on_usr1(int code)
{
    /* SIGUSR1 blocked between the test of got and the wait: with pause()
     * a signal landing in between was lost and the test hung. */
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    while (!got)
        sigsuspend(&old);
    return code;
}

static void test_init_program_passes_status_and_signals(void **state)
{
    int st = run_init(exit_with, 42, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 42);
    st = run_init(wait_for_term, 0, SIGTERM);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
    st = run_init(exit_on_usr1, 7, SIGUSR1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_fds_keeps_exactly_the_given),
        cmocka_unit_test_setup_teardown(test_init_program_is_sealed, setup_rt, teardown_rt),
        cmocka_unit_test_setup_teardown(test_init_program_passes_status_and_signals, setup_rt,
                                        teardown_rt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
