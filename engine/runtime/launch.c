/* SPDX-License-Identifier: Apache-2.0 */
/* The parent's half of starting a process in a container, shared by start and
 * exec: the environment, the status pipe the child reports failures on, the
 * console socket, waiting and reaping. Not here: the child's own steps
 * (engine/runtime/proc.c, init.c). */
#include "engine/runtime/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/strv.h"
#include "util/xalloc.h"

#define HOME_BUF_SIZE (5 + 256 + 1) /* "HOME=" + a home directory + NUL */

static void close_pair(int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

int launch_prepare(struct launch *l, char *const *env, bool tty, const char *name, struct berr *e)
{
    memset(l, 0, sizeof *l);
    l->err_pipe[0] = l->err_pipe[1] = l->console[0] = l->console[1] = -1;
    /* The streams not given read and write the host's /dev/null, opened
     * here: what the container has at its /dev/null (a FIFO, a file, a
     * link) is the container's, and exec'd processes would use it. */
    l->devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (l->devnull < 0 || fstat(l->devnull, &st) < 0 || !S_ISCHR(st.st_mode) ||
        st.st_rdev != makedev(1, 3)) {
        int r = l->devnull < 0 ? berr_errno(e, errno, "%s: opening /dev/null", name)
                               : berr_set(e, -ENODEV, "%s: /dev/null is not the null device", name);
        launch_free(l);
        return r;
    }
    /* HOME comes from the user's passwd entry, which only the child reads:
     * keep a slot and a buffer for it unless the environment sets it. */
    l->envc = strv_len(env);
    l->envp = xcalloc(l->envc + 2, sizeof(char *));
    l->need_home = true;
    for (size_t i = 0; i < l->envc; i++) {
        l->envp[i] = env[i];
        if (strncmp(env[i], "HOME=", 5) == 0)
            l->need_home = false;
    }
    l->home_buf = xcalloc(1, HOME_BUF_SIZE);
    memcpy(l->home_buf, "HOME=", 5);
    if (pipe2(l->err_pipe, O_CLOEXEC) < 0 ||
        (tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l->console) < 0)) {
        int r = berr_errno(e, errno, "%s: creating pipes", name);
        launch_free(l);
        return r;
    }
    return 0;
}

void launch_proc_args(struct launch *l, struct proc_args *p)
{
    p->error_fd = l->err_pipe[1];
    p->envp = l->envp;
    p->envc = l->envc;
    p->home_buf = l->home_buf;
    p->need_home = l->need_home;
    p->devnull = l->devnull;
}

void launch_child(struct launch *l)
{
    close(l->err_pipe[0]);
    if (l->console[0] >= 0)
        close(l->console[0]);
}

void launch_parent(struct launch *l)
{
    if (l->err_pipe[1] >= 0) {
        close(l->err_pipe[1]);
        l->err_pipe[1] = -1;
    }
    if (l->console[1] >= 0) {
        close(l->console[1]);
        l->console[1] = -1;
    }
}

/* Receives one fd sent with SCM_RIGHTS; -1 when the peer closed. */
static int recv_fd(int sock)
{
    char byte;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm), sizeof fd);
            return fd;
        }
    return -1;
}

/* The child's report, as the caller's error. */
static int child_error(struct init_error *ie, const char *name, struct berr *e)
{
    ie->msg[sizeof ie->msg - 1] = '\0';
    /* -ENOENT and -EACCES carry Docker's 127 and 126 only (a user
     * that is not found is not a command that is not found). */
    int code = ie->exit_code == 127   ? -ENOENT
               : ie->exit_code == 126 ? -EACCES
               : ie->err == ENOENT    ? -EINVAL
               : ie->err == EACCES    ? -EPERM
               : ie->err > 0          ? -ie->err
                                      : -EIO;
    return berr_set(e, code, "%s: %s", name, ie->msg);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or the deadline (ms, -1: none) passes:
 * 1 readable, 0 timed out. */
static int wait_readable(int fd, int64_t deadline)
{
    for (;;) {
        int left = -1;
        if (deadline >= 0) {
            int64_t d = deadline - now_ms();
            left = d > 0 ? (int)d : 0;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, left);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return 1; /* let the read say what is wrong */
    }
}

int launch_wait(struct launch *l, const char *name, bool tty, int *console_fd, int timeout_ms,
                struct berr *e)
{
    *console_fd = -1;
    int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    /* With a terminal, the child sends its master side first (or fails,
     * and the socket closes). */
    if (l->console[0] >= 0) {
        if (!wait_readable(l->console[0], deadline))
            goto timed_out;
        *console_fd = recv_fd(l->console[0]);
        close_pair(l->console);
    }

    /* EOF at execve; a struct init_error otherwise. */
    struct init_error ie;
    size_t got = 0;
    while (got < sizeof ie) {
        if (!wait_readable(l->err_pipe[0], deadline))
            goto timed_out;
        ssize_t n = read(l->err_pipe[0], (char *)&ie + got, sizeof ie - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close_pair(l->err_pipe);
    int r = 0;
    if (got > 0)
        r = child_error(&ie, name, e);
    else if (tty && *console_fd < 0)
        r = berr_set(e, -EIO, "%s: the container's terminal was not received", name);
    if (r < 0 && *console_fd >= 0) {
        close(*console_fd);
        *console_fd = -1;
    }
    return r;

timed_out:
    if (*console_fd >= 0) {
        close(*console_fd);
        *console_fd = -1;
    }
    return berr_set(e, -ETIMEDOUT,
                    "%s: the process did not start within %d s (stopped or held inside the "
                    "container)",
                    name, timeout_ms / 1000);
}

int launch_take_status(struct launch *l)
{
    int fd = l->err_pipe[0];
    l->err_pipe[0] = -1;
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int launch_read_status(int fd, const char *name, struct berr *e)
{
    /* The report is one write smaller than PIPE_BUF: it arrives whole. */
    struct init_error ie;
    ssize_t n;
    do
        n = read(fd, &ie, sizeof ie);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 1;
    if (n < 0)
        return berr_errno(e, errno, "%s: reading the process's report", name);
    if (n == 0)
        return 0;
    if ((size_t)n < sizeof ie)
        return berr_set(e, -EIO, "%s: a truncated report from the process", name);
    return child_error(&ie, name, e);
}

void launch_reap(int pidfd)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
        ;
}

void launch_free(struct launch *l)
{
    close_pair(l->err_pipe);
    close_pair(l->console);
    if (l->devnull >= 0) {
        close(l->devnull);
        l->devnull = -1;
    }
    free(l->envp);
    free(l->home_buf);
    l->envp = NULL;
    l->home_buf = NULL;
}
