/* SPDX-License-Identifier: Apache-2.0 */
/* berth's init for compose `init: true` (Docker's --init, as tini): PID 1
 * of the container. berth forks the command first and then execs this
 * program in PID 1 from a sealed memfd (engine/runtime/proc.c run_init),
 * with every signal blocked, the command's pid as argv[1] and as argv[2]
 * the fd the command waits on: closed once this program has named itself,
 * so the command never sees PID 1 under another name. It forwards
 * every signal it receives to the command, reaps every process that ends
 * (orphans re-parented to PID 1 among them), and exits with the command's
 * status: its exit code, or 128 + the signal that killed it.
 *
 * A static program of its own, built by the project and embedded in the
 * berth binary (blob.S): nothing of the supervisor (its heap, its
 * environment, its binary) is in PID 1. Past the gate it holds no file
 * descriptor, and it allocates nothing.
 * Not here: the fork that precedes it (engine/runtime/proc.c), embedding it in
 * the binary (blob.S, engine/runtime/container.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reaps every child that has ended; exits when the command has. */
static void reap(pid_t command)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p < 0 && errno == EINTR)
            continue;
        if (p < 0 && errno == ECHILD)
            _exit(1); /* the command is gone, unseen: cannot happen */
        if (p <= 0)
            return;
        if (p != command)
            continue; /* an orphan */
        if (WIFEXITED(status))
            _exit(WEXITSTATUS(status));
        _exit(128 + WTERMSIG(status));
    }
}

int main(int argc, char **argv)
{
    prctl(PR_SET_NAME, "init", 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (argc != 3)
        return 1;
    char *end;
    long gate = strtol(argv[2], &end, 10);
    if (*end || gate < 0)
        return 1;
    close((int)gate);
    long command = strtol(argv[1], &end, 10);
    if (*end || command <= 1)
        return 1;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (;;) {
        reap((pid_t)command); /* SIGCHLD may have come before this program */
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0 || sig == SIGCHLD)
            continue;
        kill((pid_t)command, sig);
    }
}
