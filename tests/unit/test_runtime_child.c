/* What a cloned child starts with: proc_close_fds_except leaves exactly
 * the fds it is given. Each case runs in a forked child, which is free to
 * close fds. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/proc.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_fds_keeps_exactly_the_given),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
