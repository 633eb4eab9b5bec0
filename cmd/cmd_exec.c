/* SPDX-License-Identifier: Apache-2.0 */
/* `berth exec` (a command in a running container) and `berth top` (the
 * processes of the project's running containers). Both find containers
 * from the records on disk and the run state (pid and start time, so a
 * recycled pid is never taken for a container); neither needs the
 * supervisor.
 * Not here: entering the container (engine/runtime/exec.c), the terminal
 * session (cmd/ui/session.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ui/session.h"
#include "compose/compose.h"
#include "engine/runtime/ctrplan_sec.h"
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

/* What exec's flags decided. */
struct exec_opts {
    bool detach, no_tty, privileged;
    const char *workdir, *user;
    char **env_args; /* -e values (borrowed) */
    long index;
};

/* A pidfd of the running container #index of svc (*rec: its record), or
 * a negative code naming why there is none. */
static int exec_target(struct cli *c, const char *project, const struct project *p,
                       const struct ctr_list *l, const char *svc, long index,
                       const struct ctr_record **rec, struct berr *e)
{
    if (!service_known(p, l->v, l->n, svc))
        return berr_set(e, -ENOENT, "no such service: %s", svc);
    *rec = NULL;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].service, svc) == 0 && l->v[i].number == index && !l->v[i].oneoff)
            *rec = &l->v[i];
    bool paused = false;
    int target = *rec ? open_running(c, project, *rec, &paused) : -1;
    if (target >= 0 && paused) {
        close(target);
        return berr_set(e, -EBUSY, "container %s is paused, unpause the container before exec",
                        (*rec)->name);
    }
    if (target < 0 && index == 1)
        return berr_set(e, -ESRCH, "service \"%s\" is not running", svc);
    if (target < 0)
        return berr_set(e, -ESRCH, "service \"%s\" is not running container #%ld", svc, index);
    return target;
}

/* The container's environment, -e on top (KEY alone: this shell's value,
 * or nothing when it has none); TERM for a terminal, as Docker does. */
static char **exec_env(struct cli *c, const struct ctr_record *rec, char **env_args, bool tty)
{
    char **env = strv_dup(rec->plan.env);
    for (char **a = env_args; a && *a; a++) {
        if (strchr(*a, '=')) {
            strv_env_put(&env, *a);
        } else {
            const char *v = strv_env_get(c->environ, *a);
            if (v)
                strv_env_set(&env, *a, v);
        }
    }
    if (tty && !strv_env_get(env, "TERM"))
        strv_env_set(&env, "TERM", "xterm");
    return env;
}

/* Runs cmd in the container whose init is target: its exit status, or
 * Docker's 127 (command not found) / 126 (could not run it) with e set. */
static int exec_in(struct cli *c, const struct exec_opts *o, const struct ctr_record *rec,
                   int target, char **cmd, const int stdio[3], struct berr *e)
{
    bool tty = !o->detach && !o->no_tty && stdio[0] >= 0 && stdio[1] >= 0 && isatty(STDIN_FILENO) &&
               isatty(STDOUT_FILENO);
    _cleanup_strv_ char **env = exec_env(c, rec, o->env_args, tty);
    _cleanup_free_ char *cache = xasprintf("%s/cache/seccomp", c->root);
    _cleanup_runtime_ struct runtime rt = RUNTIME_UNSET;
    int r = runtime_init(&rt, cache, e);
    if (r < 0)
        return r;
    /* Signals are taken before the process exists, so none is lost. */
    int child[3] = {-1, -1, -1};
    _cleanup_cli_session_ struct cli_session *sess = NULL;
    if (!o->detach) {
        sess = cli_session_new(tty);
        /* Without a TTY of its own, never this process's terminal. */
        if (!tty && (r = cli_session_stdio(sess, stdio, child, e)) < 0)
            return r;
    }
    struct exec_spec x = {
        .name = rec->name,
        .target_pidfd = target,
        .cgroup_rel = rec->cgroup,
        .argv = cmd,
        .env = env,
        .cwd = o->workdir ? o->workdir : rec->plan.cwd,
        .user = o->user ? o->user : rec->plan.user,
        .caps = rec->plan.caps,
        .no_new_privs = rec->plan.no_new_privs,
        .ulimits = rec->plan.ulimits,
        .n_ulimits = rec->plan.n_ulimits,
        .tty = tty,
        .stdin_fd = child[0],
        .stdout_fd = child[1],
        .stderr_fd = child[2],
    };
    plan_sec_spec(&rec->plan, &x.sec);
    x.sec.privileged = x.sec.privileged || o->privileged;
    struct winsize ws;
    if (tty &&
        (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)) {
        x.tty_rows = ws.ws_row;
        x.tty_cols = ws.ws_col;
    }
    struct container_proc proc = {.pidfd = -1, .console_fd = -1};
    int rc = 0;
    if (container_exec(&rt, &x, &proc, e) < 0)
        rc = e->code == -ENOENT ? 127 : 126;
    else if (!o->detach)
        rc = cli_session_wait(sess, &proc, NULL);
    if (proc.console_fd >= 0)
        close(proc.console_fd);
    if (proc.pidfd >= 0)
        close(proc.pidfd);
    return rc;
}

int cmd_exec(struct cli *c, int argc, char **argv, struct berr *e)
{
    /* A stream berth was started without: the command gets /dev/null. */
    int stdio[3] = {cli_stdio_fd(STDIN_FILENO), cli_stdio_fd(STDOUT_FILENO),
                    cli_stdio_fd(STDERR_FILENO)};
    struct cmd_parser op;
    cmd_parser_init(&op, "exec");
    struct exec_opts o = {.index = 1};
    _cleanup_strv_ char **env_args = NULL;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'd':
            o.detach = true;
            break;
        case 'e':
            strv_push(&env_args, xstrdup(optarg));
            break;
        case 'w':
            o.workdir = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'T':
            o.no_tty = true;
            break;
        case 'I': {
            char *end;
            o.index = strtol(optarg, &end, 10);
            if (*end || end == optarg || o.index < 1 || o.index > 1000000) {
                fprintf(stderr, "berth: exec: invalid --index \"%s\" (a number from 1)\n", optarg);
                return 2;
            }
            break;
        }
        case 'P':
            o.privileged = true;
            break;
        case 'i':
        case 't':
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind < 2) {
        fprintf(stderr, "berth: \"exec\" requires at least 2 arguments: SERVICE COMMAND\n");
        cmd_print_help(op.def, stderr);
        return 2;
    }
    o.env_args = env_args;
    const char *svc = argv[optind];
    char *named[] = {(char *)svc, NULL};
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *project = NULL;
    int r = cli_project_name(c, named, &project, &p, e);
    if (r < 0)
        return r;
    _cleanup_ctr_list_ struct ctr_list l = {0};
    r = ctr_list(c->root, project, &c->sink, &l.v, &l.n, e);
    if (r < 0)
        return r;
    const struct ctr_record *rec = NULL;
    _cleanup_close_ int target = exec_target(c, project, p, &l, svc, o.index, &rec, e);
    if (target < 0)
        return target;
    return exec_in(c, &o, rec, target, argv + optind + 1, stdio, e);
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
    /* Literal formats, so the compiler checks them (-Wformat=2). */
    if (now - start < 24 * 3600)
        strftime(buf, sizeof buf, "%H:%M", &tm);
    else if (now - start < 365 * 86400)
        strftime(buf, sizeof buf, "%b%d", &tm);
    else
        strftime(buf, sizeof buf, "%Y", &tm);
    return xstrdup(buf);
}

/* Fills a row from /proc/PID/{stat,status,cmdline}; false when the
 * process is gone. */
static bool top_read(pid_t pid, time_t boot, time_t now, long hz, struct top_row *row)
{
    char path[64];
    _cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
    size_t cmdlen = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 4096, &stat, NULL, NULL) < 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 65536, &status, NULL, NULL) < 0)
        return false;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    if (fs_read_file(AT_FDCWD, path, 65536, &cmdline, &cmdlen, NULL) < 0)
        cmdlen = 0;
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
    if (fs_read_file(AT_FDCWD, "/proc/stat", 1 << 20, &buf, NULL, NULL) < 0)
        return 0;
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

/* One container's processes (those of its cgroup), as a table. */
static void top_container(const struct cgroup_sys *cs, const struct ctr_record *rec, time_t boot,
                          time_t now, long hz)
{
    _cleanup_free_ char *file = procs_file(cs, rec->cgroup);
    _cleanup_free_ char *buf = NULL;
    if (!file || fs_read_file(AT_FDCWD, file, 1 << 22, &buf, NULL, NULL) < 0)
        return;
    size_t np = 0, cap = 16;
    _cleanup_free_ pid_t *pids = xcalloc(cap, sizeof *pids);
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
    xqsort(pids, np, sizeof *pids, cmp_pid);
    _cleanup_free_ struct top_row *rows = xcalloc(np ? np : 1, sizeof *rows);
    size_t nr = 0;
    for (size_t i = 0; i < np; i++)
        if (top_read(pids[i], boot, now, hz, &rows[nr]))
            nr++;
    top_print(rec->name, rows, nr);
    for (size_t i = 0; i < nr; i++)
        for (int k = 0; k < 8; k++)
            free(rows[i].cell[k]);
}

int cmd_top(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "top");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        cmd_print_help(op.def, opt == 'h' ? stdout : stderr);
        return opt == 'h' ? 0 : 2;
    }
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *project = NULL;
    int r = cli_project_name(c, argv + optind, &project, &p, e);
    if (r < 0)
        return r;
    _cleanup_ctr_list_ struct ctr_list l = {0};
    r = ctr_list(c->root, project, &c->sink, &l.v, &l.n, e);
    if (r < 0)
        return r;
    for (int i = optind; i < argc; i++)
        if (!service_known(p, l.v, l.n, argv[i]))
            return berr_set(e, -ENOENT, "no such service: %s", argv[i]);
    _cleanup_(cgroup_sys_free) struct cgroup_sys cs = {0};
    r = cgroup_sys_detect(&cs, e);
    if (r < 0)
        return r;
    if (l.n > 1)
        xqsort(l.v, l.n, sizeof *l.v, cmp_name);
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        hz = 100;
    time_t boot = boot_time(), now = time(NULL);
    for (size_t i = 0; i < l.n; i++) {
        const struct ctr_record *rec = &l.v[i];
        if (optind < argc && !strv_contains(argv + optind, rec->service))
            continue;
        if (rec->oneoff || !rec->cgroup || !*rec->cgroup)
            continue;
        int fd = open_running(c, project, rec, NULL);
        if (fd < 0)
            continue;
        close(fd);
        top_container(&cs, rec, boot, now, hz);
    }
    return 0;
}
