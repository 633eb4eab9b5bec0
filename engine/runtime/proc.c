/* SPDX-License-Identifier: Apache-2.0 */
/* The last steps of every process berth starts in a container, system calls
 * only: user and groups, working directory, standard streams and console,
 * capabilities, seccomp, signals, closing fds, the `init: true` fork, execve,
 * and reporting a failure to the parent. Not here: mounts
 * (engine/runtime/init.c), the parent side (engine/runtime/launch.c). */
#include "engine/runtime/proc.h"
#include "engine/runtime/procns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"

/* Everything here runs between clone and execve: only system calls and
 * allocation-free helpers. */

void proc_scat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    while (s && *s && n + 1 < cap)
        dst[n++] = *s++;
    dst[n] = '\0';
}

int proc_close_fds_except(int *keep, size_t n)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort: a handful of fds */
        int v = keep[i];
        size_t j = i;
        for (; j > 0 && keep[j - 1] > v; j--)
            keep[j] = keep[j - 1];
        keep[j] = v;
    }
    unsigned next = 0; /* the lowest fd not yet closed or kept */
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < next)
            continue;
        if ((unsigned)keep[i] > next && close_range(next, (unsigned)keep[i] - 1, 0) < 0)
            return -errno;
        next = (unsigned)keep[i] + 1;
    }
    if (close_range(next, ~0U, 0) < 0)
        return -errno;
    return 0;
}

void proc_fail(struct proc_args *a, int err, int code, const char *what, const char *detail)
{
    struct init_error ie;
    memset(&ie, 0, sizeof ie);
    ie.err = err;
    ie.exit_code = code;
    proc_scat(ie.msg, sizeof ie.msg, what);
    if (detail) {
        proc_scat(ie.msg, sizeof ie.msg, ": ");
        proc_scat(ie.msg, sizeof ie.msg, detail);
    }
    ssize_t w = write(a->error_fd, &ie, sizeof ie);
    (void)w;
    _exit(code ? code : 1);
}

void proc_fail_errno(struct proc_args *a, const char *what)
{
    int err = errno;
    proc_fail(a, err, 1, what, strerrordesc_np(err));
}

void proc_check(struct proc_args *a, int r, const char *what)
{
    if (r < 0)
        proc_fail_errno(a, what);
}

/* Reads a small file of the container root (passwd/group): a regular file,
 * bounded, never blocking (a FIFO or device is refused). */
static size_t read_root_file(struct proc_args *a, int rootfd, const char *path, char *buf,
                             size_t cap)
{
    int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        char msg[128] = "/";
        proc_scat(msg, sizeof msg, path);
        proc_scat(msg, sizeof msg, " is not a regular file");
        proc_fail(a, EINVAL, 1, "resolving the user", msg);
    }
    if ((size_t)st.st_size >= cap) {
        close(fd);
        char msg[128] = "/";
        proc_scat(msg, sizeof msg, path);
        proc_scat(msg, sizeof msg, " is too large");
        proc_fail(a, EFBIG, 1, "resolving the user", msg);
    }
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return n;
}

/* Opens the working directory inside the root, creating it when missing
 * (as Docker does). Magic links (/proc/self/fd/N) are refused. */
static int open_cwd(struct proc_args *a, int rootfd, uid_t uid, gid_t gid)
{
    const char *what = "setting the working directory";
    const char *cwd = a->cwd && *a->cwd ? a->cwd : "/";
    int fd = fs_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0)
        return fd;
    if (fd != -ENOENT) {
        char msg[PATH_MAX + 96] = "";
        proc_scat(msg, sizeof msg, cwd);
        proc_scat(msg, sizeof msg, ": ");
        proc_scat(msg, sizeof msg,
                  fd == -ELOOP
                      ? "refused: the path leads through a /proc magic link or a symlink loop"
                      : strerrordesc_np(-fd));
        proc_fail(a, -fd, 1, what, msg);
    }
    char path[PATH_MAX];
    size_t len = strlen(cwd);
    if (len >= sizeof path)
        proc_fail(a, ENAMETOOLONG, 1, what, cwd);
    memcpy(path, cwd, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        int d = fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
        if (d == -ENOENT) {
            /* create the last component in the resolved parent */
            char *slash = strrchr(path, '/');
            *slash = '\0';
            int p = fs_open_in_root(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY, 0);
            *slash = '/';
            if (p < 0) {
                errno = -p;
                proc_fail_errno(a, what);
            }
            if (mkdirat(p, slash + 1, 0755) < 0 && errno != EEXIST)
                proc_fail_errno(a, what);
            if (uid || gid)
                fchownat(p, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW);
            close(p);
            d = fs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
        }
        if (d < 0) {
            errno = -d;
            char msg[PATH_MAX + 64] = "";
            proc_scat(msg, sizeof msg, cwd);
            proc_scat(msg, sizeof msg, ": ");
            proc_scat(msg, sizeof msg, strerrordesc_np(-d));
            proc_fail(a, -d, 1, what, msg);
        }
        path[i] = c;
        if (c == '\0')
            return d;
        close(d);
    }
    return fs_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, 0);
}

static void set_caps(struct proc_args *a, bool root)
{
    const char *what = "setting capabilities";
    for (int c = 0; c <= a->cap_last_cap; c++)
        if (!(a->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            proc_fail_errno(a, what);
    proc_check(a, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), what);
    (void)root;
}

static void apply_caps(struct proc_args *a, bool root)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    uint64_t eff = root ? a->caps : 0;
    data[0].effective = data[0].permitted = (uint32_t)eff;
    data[1].effective = data[1].permitted = (uint32_t)(eff >> 32);
    /* inheritable stays empty (CVE-2022-29162) */
    proc_check(a, (int)syscall(SYS_capset, &hdr, data), "setting capabilities");
}

static __attribute__((noreturn)) void exec_command(struct proc_args *a)
{
    const char *file = a->argv[0];
    if (!file || !*file)
        proc_fail(a, ENOENT, 127, "exec", "empty command");
    if (strchr(file, '/')) {
        execve(file, a->argv, a->envp);
        int err = errno;
        char msg[PATH_MAX + 64] = "exec: \"";
        proc_scat(msg, sizeof msg, file);
        proc_scat(msg, sizeof msg, "\": ");
        proc_scat(msg, sizeof msg, strerrordesc_np(err));
        proc_fail(a, err, err == ENOENT ? 127 : 126, "starting the command", msg);
    }
    const char *path = NULL;
    for (size_t i = 0; a->envp[i]; i++)
        if (strncmp(a->envp[i], "PATH=", 5) == 0)
            path = a->envp[i] + 5;
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int last = ENOENT;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char cand[PATH_MAX];
        if (n + strlen(file) + 2 < sizeof cand) {
            memcpy(cand, n ? p : ".", n ? n : 1);
            size_t k = n ? n : 1;
            cand[k++] = '/';
            memcpy(cand + k, file, strlen(file) + 1);
            execve(cand, a->argv, a->envp);
            if (errno == EACCES || errno == ENOEXEC || errno == EPERM)
                last = errno;
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    char msg[PATH_MAX + 64] = "exec: \"";
    proc_scat(msg, sizeof msg, file);
    if (last == ENOENT) {
        proc_scat(msg, sizeof msg, "\": executable file not found in $PATH");
        proc_fail(a, ENOENT, 127, "starting the command", msg);
    }
    proc_scat(msg, sizeof msg, "\": ");
    proc_scat(msg, sizeof msg, strerrordesc_np(last));
    proc_fail(a, last, 126, "starting the command", msg);
}

/* v in decimal into buf (16 bytes): no stdio between clone and execve. */
static void fmt_uint(char *buf, unsigned v)
{
    char rev[16];
    size_t n = 0, k = 0;
    do
        rev[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        buf[k++] = rev[--n];
    buf[k] = '\0';
}

/* compose `init: true`, Docker's --init: PID 1 of the container becomes
 * berth's init program (engine/runtime/pid1), exec'd from the sealed memfd
 * a->init_fd, and the command its child. PID 1 is therefore no copy of
 * berth: neither its memory (the supervisor's heap, other services'
 * environments) nor /proc/1/exe (the host's berth binary) is there to be
 * reached. Both halves are made non-dumpable before the fork, so neither
 * can be read while it is still berth. All signals stay blocked in PID 1
 * across execve (the program waits for them with sigwaitinfo); pending
 * ones, a SIGCHLD among them, survive it. */
static void run_init(struct proc_args *a)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    proc_check(a, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "starting the container's init");
    /* The command waits until PID 1 is the init program and has named
     * itself: the init closes the write end (its number is argv[2]) after
     * PR_SET_NAME, and the command's read ends then (or when PID 1 has
     * died). Without it, the command could see PID 1 as this process, or
     * as the init named after its memfd. */
    int gate[2];
    proc_check(a, pipe2(gate, O_CLOEXEC), "starting the container's init");
    proc_check(a, fcntl(gate[1], F_SETFD, 0), "starting the container's init");
    pid_t child = fork();
    if (child < 0)
        proc_fail_errno(a, "starting the container's init");
    if (child == 0) {
        close(a->init_fd);
        close(gate[1]);
        char byte;
        while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
            ;
        close(gate[0]);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        return; /* the command: on to execve */
    }
    close(gate[0]);
    /* Every fd from 3 up but the gate is close-on-exec by now (the error
     * pipe too, so a failure below still reaches the parent); the streams
     * are the command's. The init program starts with the gate alone. */
    close_range(0, 2, 0);
    char pid[16], fd[16];
    fmt_uint(pid, (unsigned)child);
    fmt_uint(fd, (unsigned)gate[1]);
    char *const argv[] = {"init", pid, fd, NULL};
    char *const envp[] = {NULL};
    syscall(SYS_execveat, a->init_fd, "", argv, envp, AT_EMPTY_PATH);
    int err = errno;
    kill(child, SIGKILL);
    errno = err;
    proc_fail_errno(a, "starting the container's init");
}

/* Docker's resource limits. Containers inherit dockerd's, whose unit says
 * LimitNOFILE, LimitNPROC and LimitCORE=infinity: open files 1048576
 * (the kernel's nr_open default), processes and core size unlimited. Here
 * each is capped by the hard limit berth runs under (never raised), and
 * the soft limit is the hard one, as in Docker; berth's own soft limits
 * do not leak into the container. */
static void set_rlimits(struct proc_args *a)
{
    static const struct {
        int resource;
        rlim_t docker;
    } lims[] = {
        {RLIMIT_NOFILE, 1048576},
        {RLIMIT_NPROC, RLIM_INFINITY},
        {RLIMIT_CORE, RLIM_INFINITY},
    };
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        struct rlimit rl;
        proc_check(a, getrlimit(lims[i].resource, &rl), "setting resource limits");
        if (rl.rlim_max > lims[i].docker)
            rl.rlim_max = lims[i].docker;
        rl.rlim_cur = rl.rlim_max;
        proc_check(a, setrlimit(lims[i].resource, &rl), "setting resource limits");
    }
    for (size_t i = 0; i < a->n_ulimits; i++)
        proc_set_ulimit(a, &a->ulimits[i]);
}

/* A change of user (commit_creds) clears the parent-death signal and
 * resets dumpable to the host's suid_dumpable: a `user: "1000"` container
 * outlived a supervisor killed with SIGKILL. Both are set again after the
 * last change, as they were before it. A parent that died before that
 * sent no signal: it is checked afterwards. It lives outside the
 * container's PID namespace (getppid() says 0 here), but it holds the
 * error pipe's read end until execve: a pipe left without reader (POLLERR)
 * means it is gone. */
static void keep_after_setuid(struct proc_args *a, int pdeath, int dumpable)
{
    if (!dumpable)
        proc_check(a, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "making the process non-dumpable");
    if (!pdeath)
        return;
    proc_check(a, prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0), "setting the parent-death signal");
    struct pollfd p = {.fd = a->error_fd, .events = 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)))
        _exit(1); /* nobody left to report to */
}

/* group_add: more supplementary groups, from the container's /etc/group
 * (already in a->group_buf), after those the user's entry gives. A name
 * not there is an error, as in Docker. */
static void add_groups(struct proc_args *a, size_t glen, struct user_ids *ids)
{
    for (size_t i = 0; a->group_add && a->group_add[i]; i++) {
        gid_t gid;
        if (user_group_id(a->group_add[i], a->group_buf, glen, &gid) < 0) {
            char msg[512] = "Unable to find group ";
            proc_scat(msg, sizeof msg, a->group_add[i]);
            proc_scat(msg, sizeof msg, ": no matching entries in group file");
            proc_fail(a, ENOENT, 1, "group_add", msg);
        }
        bool dup = false;
        for (int k = 0; k < ids->ngroups; k++)
            dup = dup || ids->groups[k] == gid;
        if (dup)
            continue;
        if (ids->ngroups >= USER_MAX_GROUPS)
            proc_fail(a, E2BIG, 1, "group_add", "too many supplementary groups");
        ids->groups[ids->ngroups++] = gid;
    }
}

/* oom_score_adj: the container's, for its init (inherited by what it
 * starts) and for each exec'd process; written through procfs only, while
 * still privileged (lowering it needs CAP_SYS_RESOURCE). */
static void set_oom_score_adj(struct proc_args *a)
{
    if (!a->oom_score_adj[0])
        return;
    const char *what = "setting oom_score_adj";
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    proc_check(a, fd, what);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
        proc_fail(a, EINVAL, 1, what, "/proc is not procfs");
    proc_check(a, (int)write(fd, a->oom_score_adj, strlen(a->oom_score_adj)), what);
    close(fd);
}

/* security_opt apparmor=PROFILE: the profile the next execve enters, set
 * through the process's own attr file, on procfs only. */
static void set_apparmor(struct proc_args *a)
{
    if (!a->apparmor)
        return;
    const char *what = "applying the AppArmor profile";
    int fd = open("/proc/thread-self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        proc_fail_errno(a, what);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
        proc_fail(a, EINVAL, 1, what, "/proc is not procfs");
    char buf[512] = "exec ";
    proc_scat(buf, sizeof buf, a->apparmor);
    ssize_t w = write(fd, buf, strlen(buf));
    if (w < 0) {
        int err = errno;
        char msg[600] = "";
        proc_scat(msg, sizeof msg, a->apparmor);
        proc_scat(msg, sizeof msg, ": ");
        proc_scat(msg, sizeof msg, strerrordesc_np(err));
        proc_fail(a, err, 1, what, msg);
    }
    close(fd);
}

void proc_prepare(struct proc_args *a, int rootfd, struct user_ids *ids, int *cwdfd)
{
    /* The user, from the container's own files. */
    size_t plen = read_root_file(a, rootfd, "etc/passwd", a->passwd_buf, a->user_buf_size);
    size_t glen = read_root_file(a, rootfd, "etc/group", a->group_buf, a->user_buf_size);
    char uerr[512];
    if (user_resolve(a->user, a->passwd_buf, plen, a->group_buf, glen, ids, uerr, sizeof uerr) < 0)
        proc_fail(a, ENOENT, 1, "resolving the user", uerr);
    add_groups(a, glen, ids);
    if (a->need_home) {
        proc_scat(a->home_buf, 5 + 256 + 1, ids->home);
        a->envp[a->envc] = a->home_buf;
        a->envp[a->envc + 1] = NULL;
    }
    *cwdfd = open_cwd(a, rootfd, ids->uid, ids->gid);
}

void proc_exec(struct proc_args *a, const struct user_ids *ids, int cwdfd)
{
    proc_check(a, fchdir(cwdfd), "setting the working directory");

    /* Standard streams; those not given are the host's /dev/null. */
    for (int i = 0; i < 3; i++) {
        int src = a->stdio[i] >= 0 ? a->stdio[i] : a->devnull;
        proc_check(a, dup2(src, i), "setting up standard streams");
    }
    if (a->tty)
        proc_check(a, ioctl(0, TIOCSCTTY, 0), "setting the controlling terminal");

    set_rlimits(a);

    /* Security: bounding set, then seccomp (still privileged, so no
     * no_new_privs is needed), then the user, then the final caps. */
    int pdeath = 0;
    prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    set_oom_score_adj(a);
    set_apparmor(a);
    set_caps(a, ids->uid == 0);
    if (a->seccomp) {
        struct sock_fprog prog = {.len = a->seccomp->len, .filter = a->seccomp->insns};
        proc_check(a, prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0),
                   "loading the seccomp filter");
    }
    proc_check(a, setgroups((size_t)ids->ngroups, ids->groups), "setting supplementary groups");
    proc_check(a, setresgid(ids->gid, ids->gid, ids->gid), "setting the group");
    proc_check(a, setresuid(ids->uid, ids->uid, ids->uid), "setting the user");
    apply_caps(a, ids->uid == 0);
    keep_after_setuid(a, pdeath, dumpable);
    /* security_opt no-new-privileges: no execve from here on (the
     * command's, or one of its own) gains privilege (setuid bits, file
     * capabilities). */
    if (a->no_new_privs)
        proc_check(a, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs");

    /* The command starts with default signal handling and nothing
     * blocked, whatever the supervisor ignores or blocks (SIGPIPE, ...). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    umask(022);
    /* Every fd but 0-2 and the error pipe goes; the error pipe closes at
     * execve. */
    proc_check(a, close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "closing file descriptors");
    if (a->init)
        run_init(a);
    exec_command(a);
}

void proc_console(struct proc_args *a, int rootfd, int sock)
{
    const char *what = "allocating the container's terminal";
    int ptmx = fs_openat2(rootfd, "dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0,
                          RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (ptmx < 0) {
        errno = -ptmx;
        proc_fail_errno(a, what);
    }
    int unlock = 0;
    proc_check(a, ioctl(ptmx, TIOCSPTLCK, &unlock), what);
    int slave = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    proc_check(a, slave, what);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    char byte = 'c';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &ptmx, sizeof(int));
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        proc_fail_errno(a, what);
    close(ptmx);
    close(sock);
    a->stdio[0] = a->stdio[1] = a->stdio[2] = slave;
    a->tty = true;
}
