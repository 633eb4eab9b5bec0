/* `berth exec` (a command in a running container) and `berth top` (the
 * processes of the project's running containers). Both find containers
 * from the records on disk and the run state (pid and start time, so a
 * recycled pid is never taken for a container); neither needs the
 * supervisor. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cmd/cli.h"
#include "cmd/project.h"
#include "compose/compose.h"
#include "engine/runtime/runtime.h"
#include "engine/supervise/records.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Without the compose file (-p alone), services are known from the
 * records. */
static bool service_known(const struct project *p, const struct ctr_record *recs, size_t n,
                          const char *svc)
{
    if (p)
        return project_service(p, svc) != NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(recs[i].service, svc) == 0)
            return true;
    return false;
}

/* A pidfd of the container's running init, or -1 when it is not running. */
static int open_running(struct cli *c, const char *project, const struct ctr_record *rec,
                        bool *paused)
{
    struct run_state rs;
    if (run_state_read(c->runroot, project, rec->name, &rs) < 0 || !run_state_alive(&rs))
        return -1;
    if (paused)
        *paused = rs.paused;
    int fd = pidfd_open(rs.pid, 0);
    /* Checked again once the pidfd pins the process: not a recycled pid. */
    if (fd >= 0 && proc_start_time(rs.pid) != rs.start_time) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* --- exec ------------------------------------------------------------------ */

struct exec_session {
    uv_loop_t loop;
    uv_poll_t child; /* the process's pidfd */
    uv_signal_t sigs[5];
    int n_sigs;
    struct container_proc proc;
    int status;
    bool exited;
    /* With a terminal: the local side and the container's master side. */
    bool tty;
    int master;
    uv_tty_t in;        /* stdin, read in raw mode */
    uv_poll_t pty;      /* the master: readable, and writable while input is pending */
    char pending[4096]; /* stdin bytes not yet written to the master */
    size_t pending_len, pending_off;
    bool in_reading, in_done, pty_open;
    bool child_init, in_init, pty_init; /* which handles exist */
};

static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            poll(&pf, 1, -1);
            continue;
        }
        if (w <= 0)
            return; /* the reader is gone: drop the output */
        buf += w;
        n -= (size_t)w;
    }
}

static void close_handle(void *h, bool init)
{
    if (init && !uv_is_closing(h))
        uv_close(h, NULL);
}

static void session_close(struct exec_session *s)
{
    close_handle(&s->child, s->child_init);
    for (int i = 0; i < s->n_sigs; i++)
        close_handle(&s->sigs[i], true);
    close_handle(&s->in, s->in_init);
    close_handle(&s->pty, s->pty_init);
}

/* Copies what the master has to stdout; false once the terminal's other
 * side is gone (EIO) or nothing is left for now (EAGAIN). */
static bool pty_copy_out(struct exec_session *s)
{
    char buf[65536];
    ssize_t n = read(s->master, buf, sizeof buf);
    if (n > 0) {
        write_all(STDOUT_FILENO, buf, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    s->pty_open = false; /* EOF or EIO: every slave fd is closed */
    return false;
}

static void pty_update(struct exec_session *s);

static void on_stdin(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct exec_session *s = st->data;
    if (n > 0) {
        s->pending_len = (size_t)n;
        s->pending_off = 0;
        uv_read_stop(st); /* until the master took it all */
        s->in_reading = false;
        pty_update(s);
    } else if (n < 0) {
        uv_read_stop(st); /* EOF or a closed terminal: nothing more to send */
        s->in_reading = false;
        s->in_done = true;
    }
}

static void on_stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct exec_session *s = h->data;
    buf->base = s->pending;
    buf->len = sizeof s->pending;
}

static void on_pty(uv_poll_t *h, int status, int events)
{
    struct exec_session *s = h->data;
    if (status < 0) {
        s->pty_open = false;
    } else {
        if (events & UV_READABLE)
            pty_copy_out(s);
        if ((events & UV_WRITABLE) && s->pending_off < s->pending_len) {
            ssize_t w =
                write(s->master, s->pending + s->pending_off, s->pending_len - s->pending_off);
            if (w > 0)
                s->pending_off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                s->pending_off = s->pending_len; /* the slave is gone: drop it */
        }
    }
    pty_update(s);
}

/* Watches the master for output, and for room while input is pending;
 * reads stdin only when nothing is pending (backpressure). */
static void pty_update(struct exec_session *s)
{
    if (!s->pty_init || uv_is_closing((uv_handle_t *)&s->pty))
        return;
    if (!s->pty_open) {
        uv_poll_stop(&s->pty);
        return;
    }
    bool pending = s->pending_off < s->pending_len;
    uv_poll_start(&s->pty, UV_READABLE | (pending ? UV_WRITABLE : 0), on_pty);
    if (!pending && !s->in_reading && !s->in_done && s->in_init &&
        !uv_is_closing((uv_handle_t *)&s->in)) {
        s->pending_len = s->pending_off = 0;
        if (uv_read_start((uv_stream_t *)&s->in, on_stdin_alloc, on_stdin) == 0)
            s->in_reading = true;
    }
}

static void resize(struct exec_session *s)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(s->master, TIOCSWINSZ, &ws);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct exec_session *s = h->data;
    if (sig == SIGWINCH) {
        resize(s);
        return;
    }
    if (!s->exited)
        container_signal(&s->proc, sig);
}

static void on_child(uv_poll_t *h, int status, int events)
{
    struct exec_session *s = h->data;
    struct container_exit x;
    int r = container_reap(&s->proc, &x);
    if (r == 0)
        return;
    s->exited = true;
    s->status = r > 0 ? x.status : 1;
    if (s->tty && s->pty_open) {
        /* What the command wrote just before it exited is still in the
         * master; processes it left behind may keep the terminal open (and
         * writing), so take what is there now, up to a bound, and stop. */
        for (int i = 0; i < 64 && s->pty_open && pty_copy_out(s); i++)
            ;
    }
    session_close(s);
}

/* The command's stream fd: a stream berth was started without gets
 * /dev/null (checked before berth opens anything, which could reuse the
 * number). */
static int stdio_fd(int fd)
{
    return fcntl(fd, F_GETFD) < 0 ? -1 : fd;
}

static void exec_usage(FILE *f)
{
    fputs("Usage: berth exec [OPTIONS] SERVICE COMMAND [ARGS...]\n\n"
          "Execute a command in a running container.\n\n"
          "Options:\n"
          "  -d, --detach          Detached mode: run the command in the background\n"
          "  -e, --env KEY=VAL     Set environment variables (repeatable)\n"
          "      --index N         Index of the container if the service has several (default 1)\n"
          "      --privileged      Give extended privileges to the process (not supported yet)\n"
          "  -T, --no-TTY          Disable pseudo-TTY allocation (default: a TTY when stdin and\n"
          "                        stdout are terminals)\n"
          "  -u, --user USER       Run the command as this user\n"
          "  -w, --workdir DIR     Working directory for the command\n",
          f);
}

/* Runs the session's loop until the process exits; returns its status. */
static int exec_wait(struct exec_session *s)
{
    struct termios saved;
    bool raw = false;
    int in_flags = -1;
    if (s->tty) {
        fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
        /* libuv may make stdin non-blocking: put it back afterwards */
        in_flags = fcntl(STDIN_FILENO, F_GETFL);
        s->in_init = uv_tty_init(&s->loop, &s->in, STDIN_FILENO, 1) == 0;
        s->in.data = s;
        s->pty_init = uv_poll_init(&s->loop, &s->pty, s->master) == 0;
        s->pty.data = s;
        s->pty_open = s->pty_init;
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            struct termios t = saved;
            cfmakeraw(&t);
            raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0;
        }
        resize(s);
        pty_update(s);
    }
    if (uv_poll_init(&s->loop, &s->child, s->proc.pidfd) == 0) {
        s->child_init = true;
        s->child.data = s;
        uv_poll_start(&s->child, UV_READABLE, on_child);
    } else {
        /* Cannot watch it: wait for it plainly. */
        s->child.data = s;
        struct pollfd pf = {.fd = s->proc.pidfd, .events = POLLIN};
        while (poll(&pf, 1, -1) < 0 && errno == EINTR)
            ;
        on_child(&s->child, 0, UV_READABLE);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
    if (in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, in_flags);
    return s->status;
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
    int stdio[3] = {stdio_fd(STDIN_FILENO), stdio_fd(STDOUT_FILENO), stdio_fd(STDERR_FILENO)};
    static const struct option opts[] = {
        {"detach", no_argument, NULL, 'd'},
        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"no-TTY", no_argument, NULL, 'T'},
        {"no-tty", no_argument, NULL, 'T'},
        {"index", required_argument, NULL, 'I'},
        {"privileged", no_argument, NULL, 'P'},
        {"interactive", no_argument, NULL, 'i'}, /* docker compose's defaults, accepted */
        {"tty", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool detach = false, no_tty = false;
    const char *workdir = NULL, *user = NULL;
    _cleanup_strv_ char **env_args = NULL;
    long index = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "+de:w:u:Tith", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            detach = true;
            break;
        case 'e':
            strv_push(&env_args, xstrdup(optarg));
            break;
        case 'w':
            workdir = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'T':
            no_tty = true;
            break;
        case 'I': {
            char *end;
            index = strtol(optarg, &end, 10);
            if (*end || end == optarg || index < 1 || index > 1000000) {
                fprintf(stderr, "berth: exec: invalid --index \"%s\" (a number from 1)\n", optarg);
                return 2;
            }
            break;
        }
        case 'P':
            fprintf(stderr, "berth: exec: --privileged is not supported yet (a process exec'd "
                            "into a container gets the container's capabilities)\n");
            return 2;
        case 'i':
        case 't':
            break;
        case 'h':
            exec_usage(stdout);
            return 0;
        default:
            exec_usage(stderr);
            return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "berth: \"exec\" requires at least 2 arguments: SERVICE COMMAND\n");
        exec_usage(stderr);
        return 2;
    }
    const char *svc = argv[optind];
    char **cmd = argv + optind + 1;

    struct berr e = BERR_INIT;
    struct project *p = NULL;
    _cleanup_free_ char *project = NULL;
    struct ctr_record *recs = NULL;
    size_t n = 0;
    struct runtime rt;
    bool rt_ok = false;
    _cleanup_strv_ char **env = NULL;
    _cleanup_free_ char *cache = NULL;
    struct exec_session s;
    memset(&s, 0, sizeof s);
    s.proc.pidfd = -1;
    s.master = -1;
    bool loop_ok = false;
    int target = -1;
    int rc = 1;

    if (cli_project_name(c, &project, &p, &e) < 0)
        goto out;
    if (ctr_list(c->root, project, &recs, &n, &e) < 0)
        goto out;
    if (!service_known(p, recs, n, svc)) {
        berr_set(&e, -ENOENT, "no such service: %s", svc);
        goto out;
    }
    const struct ctr_record *rec = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(recs[i].service, svc) == 0 && recs[i].number == index && !recs[i].oneoff)
            rec = &recs[i];
    bool paused = false;
    if (rec)
        target = open_running(c, project, rec, &paused);
    if (target >= 0 && paused) {
        berr_set(&e, -EBUSY, "container %s is paused, unpause the container before exec",
                 rec->name);
        goto out;
    }
    if (target < 0) {
        if (index == 1)
            berr_set(&e, -ESRCH, "service \"%s\" is not running", svc);
        else
            berr_set(&e, -ESRCH, "service \"%s\" is not running container #%ld", svc, index);
        goto out;
    }

    /* The container's environment, -e on top (KEY alone: this shell's value,
     * or nothing when it has none). */
    env = strv_dup(rec->plan.env);
    for (char **a = env_args; a && *a; a++) {
        if (strchr(*a, '=')) {
            strv_env_put(&env, *a);
        } else {
            const char *v = strv_env_get(c->environ, *a);
            if (v)
                strv_env_set(&env, *a, v);
        }
    }

    s.tty = !detach && !no_tty && stdio[0] >= 0 && stdio[1] >= 0 && isatty(STDIN_FILENO) &&
            isatty(STDOUT_FILENO);
    if (s.tty && !strv_env_get(env, "TERM"))
        strv_env_set(&env, "TERM", "xterm"); /* as Docker does for a terminal */

    cache = xasprintf("%s/cache/seccomp", c->root);
    if (runtime_init(&rt, cache, &e) < 0)
        goto out;
    rt_ok = true;

    /* Signals are taken before the process exists, so none is lost: they
     * are forwarded once it runs. */
    uv_loop_init(&s.loop);
    loop_ok = true;
    if (!detach) {
        int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
        int nsig = s.tty ? 5 : 4;
        for (int i = 0; i < nsig; i++) {
            uv_signal_init(&s.loop, &s.sigs[i]);
            s.sigs[i].data = &s;
            uv_signal_start(&s.sigs[i], on_signal, sigs[i]);
            s.n_sigs++;
        }
    }

    struct exec_spec x = {
        .name = rec->name,
        .target_pidfd = target,
        .cgroup_rel = rec->cgroup,
        .argv = cmd,
        .env = env,
        .cwd = workdir ? workdir : rec->plan.cwd,
        .user = user ? user : rec->plan.user,
        .caps = CAPS_DOCKER_DEFAULT,
        .tty = s.tty,
        .stdin_fd = detach ? -1 : stdio[0],
        .stdout_fd = detach ? -1 : stdio[1],
        .stderr_fd = detach ? -1 : stdio[2],
    };
    struct winsize ws;
    if (s.tty &&
        (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)) {
        x.tty_rows = ws.ws_row;
        x.tty_cols = ws.ws_col;
    }
    if (container_exec(&rt, &x, &s.proc, &e) < 0) {
        /* Docker's statuses: 127 command not found, 126 could not run it. */
        rc = e.code == -ENOENT ? 127 : 126;
        goto out;
    }
    if (detach) {
        rc = 0;
        goto out;
    }
    s.master = s.proc.console_fd;
    rc = exec_wait(&s);

out:
    if (e.msg)
        log_berr(&e);
    berr_clear(&e);
    if (loop_ok) {
        session_close(&s);
        uv_run(&s.loop, UV_RUN_DEFAULT);
        uv_loop_close(&s.loop);
    }
    if (s.master >= 0)
        close(s.master);
    if (s.proc.pidfd >= 0)
        close(s.proc.pidfd);
    if (target >= 0)
        close(target);
    if (rt_ok)
        runtime_fini(&rt);
    ctr_list_free(recs, n);
    project_free(p);
    return rc;
}

/* --- top ------------------------------------------------------------------- */

/* One row of docker's `ps -ef` table. */
struct top_row {
    pid_t pid;
    char *cell[8]; /* UID PID PPID C STIME TTY TIME CMD */
};

static const char *const top_titles[8] = {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"};

/* The file listing the container's processes: its v2 cgroup on unified
 * hosts, else the pids (or memory) v1 hierarchy, which every process of
 * the container joins. */
static char *procs_file(const struct cgroup_sys *cs, const char *rel)
{
    const char *root = cs->unified              ? cs->v2_root
                       : cs->v1_root[CG_PIDS]   ? cs->v1_root[CG_PIDS]
                       : cs->v1_root[CG_MEMORY] ? cs->v1_root[CG_MEMORY]
                                                : cs->v2_root;
    if (!root)
        return NULL;
    _cleanup_free_ char *dir = fs_path_join(root, rel);
    return fs_path_join(dir, "cgroup.procs");
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* A user name as ps shows it: the host's name when it fits the column,
 * else the number. */
static char *user_cell(uid_t uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && strlen(res->pw_name) <= 8)
        return xstrdup(res->pw_name);
    return xasprintf("%u", (unsigned)uid);
}

static char *tty_cell(unsigned long long tty_nr)
{
    unsigned major = (unsigned)((tty_nr >> 8) & 0xfff);
    unsigned minor = (unsigned)((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
    if (tty_nr == 0)
        return xstrdup("?");
    if (major >= 136 && major <= 143)
        return xasprintf("pts/%u", (major - 136) * 256 + minor);
    if (major == 4)
        return minor < 64 ? xasprintf("tty%u", minor) : xasprintf("ttyS%u", minor - 64);
    return xstrdup("?");
}

static char *time_cell(unsigned long long secs)
{
    unsigned long long d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
    if (d)
        return xasprintf("%llu-%02llu:%02llu:%02llu", d, h, m, s);
    return xasprintf("%02llu:%02llu:%02llu", h, m, s);
}

static char *stime_cell(time_t start, time_t now)
{
    struct tm tm;
    localtime_r(&start, &tm);
    char buf[32];
    const char *fmt = now - start < 24 * 3600 ? "%H:%M" : now - start < 365 * 86400 ? "%b%d" : "%Y";
    strftime(buf, sizeof buf, fmt, &tm);
    return xstrdup(buf);
}

/* Fills a row from /proc/PID/{stat,status,cmdline}; false when the
 * process is gone. */
static bool top_read(pid_t pid, time_t boot, time_t now, long hz, struct top_row *row)
{
    char path[64];
    _cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
    size_t cmdlen = 0;
    struct berr ign = BERR_INIT;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 4096, &stat, NULL, &ign) < 0) {
        berr_clear(&ign);
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 65536, &status, NULL, &ign) < 0) {
        berr_clear(&ign);
        return false;
    }
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 65536, &cmdline, &cmdlen, &ign) < 0) {
        berr_clear(&ign);
        cmdlen = 0;
    }
    /* comm may hold spaces and parens: fields start after the last ')' */
    char *open = strchr(stat, '('), *close_ = strrchr(stat, ')');
    if (!open || !close_ || close_ < open)
        return false;
    char state = 0;
    int ppid = 0;
    unsigned long long tty_nr = 0, utime = 0, stime = 0, start = 0;
    if (sscanf(close_ + 1,
               " %c %d %*d %*d %llu %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
               &state, &ppid, &tty_nr, &utime, &stime, &start) != 6)
        return false;
    uid_t euid = 0;
    const char *u = strstr(status, "\nUid:");
    if (u)
        sscanf(u + 5, "%*u %u", &euid);

    unsigned long long cpu = (utime + stime) / (unsigned long long)hz;
    time_t started = boot + (time_t)(start / (unsigned long long)hz);
    long elapsed = (long)(now - started);
    unsigned long long c =
        elapsed > 0 ? (utime + stime) * 100 / (unsigned long long)hz / (unsigned long long)elapsed
                    : 0;
    if (c > 99)
        c = 99;

    char *cmd;
    if (cmdlen > 0) {
        while (cmdlen > 0 && cmdline[cmdlen - 1] == '\0')
            cmdlen--;
        for (size_t i = 0; i < cmdlen; i++)
            if (cmdline[i] == '\0' || cmdline[i] == '\n')
                cmdline[i] = ' ';
        cmd = xstrndup(cmdline, cmdlen);
    } else {
        _cleanup_free_ char *comm = xstrndup(open + 1, (size_t)(close_ - open - 1));
        cmd = xasprintf("[%s]%s", comm, state == 'Z' ? " <defunct>" : "");
    }
    row->pid = pid;
    row->cell[0] = user_cell(euid);
    row->cell[1] = xasprintf("%d", (int)pid);
    row->cell[2] = xasprintf("%d", ppid);
    row->cell[3] = xasprintf("%llu", c);
    row->cell[4] = stime_cell(started, now);
    row->cell[5] = tty_cell(tty_nr);
    row->cell[6] = time_cell(cpu);
    row->cell[7] = cmd;
    return true;
}

static time_t boot_time(void)
{
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, "/proc/stat", 1 << 20, &buf, NULL, &ign) < 0) {
        berr_clear(&ign);
        return 0;
    }
    const char *b = strstr(buf, "\nbtime ");
    return b ? (time_t)strtoll(b + 7, NULL, 10) : 0;
}

/* Prints one container's table as docker compose does (its tabwriter:
 * columns padded by 3, at least 5 wide), then a blank line. */
static void top_print(const char *name, struct top_row *rows, size_t n)
{
    size_t w[8];
    for (int k = 0; k < 8; k++) {
        w[k] = strlen(top_titles[k]);
        for (size_t i = 0; i < n; i++)
            if (strlen(rows[i].cell[k]) > w[k])
                w[k] = strlen(rows[i].cell[k]);
        w[k] = w[k] + 3 < 5 ? 5 : w[k] + 3;
    }
    printf("%s\n", name);
    for (size_t i = 0; i <= n; i++) {
        for (int k = 0; k < 8; k++) {
            const char *cell = i == 0 ? top_titles[k] : rows[i - 1].cell[k];
            if (k < 7)
                printf("%-*s", (int)w[k], cell);
            else
                printf("%s\n", cell);
        }
    }
    printf("\n");
}

static int cmp_name(const void *a, const void *b)
{
    const struct ctr_record *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int cmd_top(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs("Usage: berth top [SERVICE...]\n\n"
                  "Display the running processes of the project's containers.\n",
                  stdout);
            return 0;
        }
        fputs("Usage: berth top [SERVICE...]\n", stderr);
        return 2;
    }
    struct berr e = BERR_INIT;
    struct project *p = NULL;
    _cleanup_free_ char *project = NULL;
    struct ctr_record *recs = NULL;
    size_t n = 0;
    struct cgroup_sys cs;
    bool cs_ok = false;
    int rc = 1;

    if (cli_project_name(c, &project, &p, &e) < 0)
        goto out;
    if (ctr_list(c->root, project, &recs, &n, &e) < 0)
        goto out;
    for (int i = optind; i < argc; i++)
        if (!service_known(p, recs, n, argv[i])) {
            berr_set(&e, -ENOENT, "no such service: %s", argv[i]);
            goto out;
        }
    if (cgroup_sys_detect(&cs, &e) < 0)
        goto out;
    cs_ok = true;
    if (n > 1)
        qsort(recs, n, sizeof *recs, cmp_name);
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    time_t boot = boot_time(), now = time(NULL);

    for (size_t r = 0; r < n; r++) {
        const struct ctr_record *rec = &recs[r];
        if (optind < argc && !strv_contains(argv + optind, rec->service))
            continue;
        if (rec->oneoff || !rec->cgroup || !*rec->cgroup)
            continue;
        int fd = open_running(c, project, rec, NULL);
        if (fd < 0)
            continue;
        close(fd);
        _cleanup_free_ char *file = procs_file(&cs, rec->cgroup);
        _cleanup_free_ char *buf = NULL;
        if (!file || fs_read_file(AT_FDCWD, file, 1 << 22, &buf, NULL, &e) < 0) {
            berr_clear(&e);
            continue;
        }
        size_t np = 0, cap = 16;
        pid_t *pids = xcalloc(cap, sizeof *pids);
        for (char *l = buf; *l;) {
            char *end;
            long v = strtol(l, &end, 10);
            if (end == l)
                break;
            if (v > 0) {
                if (np == cap)
                    pids = xreallocarray(pids, cap *= 2, sizeof *pids);
                pids[np++] = (pid_t)v;
            }
            l = end;
            while (*l == '\n')
                l++;
        }
        qsort(pids, np, sizeof *pids, cmp_pid);
        struct top_row *rows = xcalloc(np ? np : 1, sizeof *rows);
        size_t nr = 0;
        for (size_t i = 0; i < np; i++)
            if (top_read(pids[i], boot, now, hz, &rows[nr]))
                nr++;
        top_print(rec->name, rows, nr);
        for (size_t i = 0; i < nr; i++)
            for (int k = 0; k < 8; k++)
                free(rows[i].cell[k]);
        free(rows);
        free(pids);
    }
    rc = 0;

out:
    if (e.msg)
        log_berr(&e);
    berr_clear(&e);
    if (cs_ok)
        cgroup_sys_free(&cs);
    ctr_list_free(recs, n);
    project_free(p);
    return rc;
}
