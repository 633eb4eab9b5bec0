/* SPDX-License-Identifier: Apache-2.0 */
/* `berth logs`: the containers' output from their log files (which the
 * supervisor writes, across restarts; json-file or local, rotated ones
 * gzipped or not), merged in time order; -f follows them, also across
 * rotation, until the containers stop.
 * Not here: the log file format and its parsers (engine/supervise/logfile.c). */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/ps_state.h"
#include "engine/supervise/logfile.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static const char *const colors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

struct entry {
    int64_t time_ns;
    size_t ctr;
    char *data;
    size_t len;
};

struct follow {
    char *path;
    int fd;
    ino_t ino;
    char *pending; /* bytes after the last newline */
    size_t pending_len;
    char *partial; /* P pieces waiting for their F */
    size_t partial_len;
    int64_t last_ns; /* the time of the last line passed on */
    int hold;        /* log_follow_lock's fd, or -1 */
};

struct logs {
    struct cli *c;
    const char *project;
    struct ctr_record *recs;
    size_t n;
    /* what -f waits for (NULL: recs): also the containers not shown */
    const struct ctr_record *watch;
    size_t n_watch;
    struct follow *f;
    bool timestamps, prefix, color;
    int width;
    int64_t since, until;
    long tail; /* -1: all */
};

static void print_entry(struct logs *l, size_t ctr, int64_t t, const char *data, size_t len)
{
    if (l->prefix) {
        const char *name =
            l->recs[ctr].plan.log_name ? l->recs[ctr].plan.log_name : l->recs[ctr].name;
        if (l->color)
            printf("\033[%sm%-*s  |\033[0m ", colors[ctr % (sizeof colors / sizeof colors[0])],
                   l->width, name);
        else
            printf("%-*s  | ", l->width, name);
    }
    if (l->timestamps) {
        char ts[TIME_RFC3339_MAX];
        time_rfc3339(t, 9, ts);
        printf("%s ", ts);
    }
    fwrite(data, 1, len, stdout);
    putchar('\n');
}

/* Feeds complete lines of a log file to cb; joins P pieces into lines. */
static void feed(struct follow *f, const char *line, size_t len,
                 void (*cb)(void *, int64_t, const char *, size_t), void *ud)
{
    struct log_entry e;
    if (!log_parse_line(line, len, &e))
        return;
    if (e.partial || f->partial_len) {
        f->partial = xrealloc(f->partial, f->partial_len + e.len + 1);
        memcpy(f->partial + f->partial_len, e.data, e.len);
        f->partial_len += e.len;
        if (!e.partial) {
            cb(ud, e.time_ns, f->partial, f->partial_len);
            f->partial_len = 0;
        }
    } else {
        cb(ud, e.time_ns, e.data, e.len);
    }
    log_entry_clear(&e);
}

/* Feeds the complete lines of buf, after the bytes left from the chunk
 * before (a read may end inside a line); keeps the rest for the next. */
static void feed_buffer(struct follow *f, const char *buf, size_t len,
                        void (*cb)(void *, int64_t, const char *, size_t), void *ud)
{
    _cleanup_free_ char *joined = NULL;
    if (f->pending_len > 0) {
        joined = xmalloc(f->pending_len + len + 1);
        memcpy(joined, f->pending, f->pending_len);
        memcpy(joined + f->pending_len, buf, len);
        len += f->pending_len;
        buf = joined;
        f->pending_len = 0;
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n') {
            feed(f, buf + start, i - start, cb, ud);
            start = i + 1;
        }
    f->pending = xrealloc(f->pending, len - start + 1);
    memcpy(f->pending, buf + start, len - start);
    f->pending_len = len - start;
}

struct collect {
    struct logs *l;
    size_t ctr;
    struct entry *v;
    size_t n, cap;
};

static void collect_cb(void *ud, int64_t t, const char *data, size_t len)
{
    struct collect *k = ud;
    if (t < k->l->since || (k->l->until && t > k->l->until))
        return;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->v = xreallocarray(k->v, k->cap, sizeof *k->v);
    }
    k->v[k->n++] =
        (struct entry){.time_ns = t, .ctr = k->ctr, .data = xmemdup(data, len), .len = len};
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    return x->ctr < y->ctr ? -1 : x->ctr > y->ctr;
}

struct file_feed {
    struct follow *f;
    void (*cb)(void *, int64_t, const char *, size_t);
    void *ud;
};

static void file_chunk(void *ud, const char *buf, size_t len)
{
    struct file_feed *ff = ud;
    feed_buffer(ff->f, buf, len, ff->cb, ff->ud);
}

/* Reads a whole rotated file (maybe gzipped) through cb. */
static void feed_file(const struct log_snap_file *sf,
                      void (*cb)(void *, int64_t, const char *, size_t), void *ud)
{
    struct follow tmp = {0};
    struct file_feed ff = {.f = &tmp, .cb = cb, .ud = ud};
    if (sf->fd >= 0)
        log_read_fd(sf->fd, sf->gz, file_chunk, &ff);
    free(tmp.pending);
    free(tmp.partial);
}

/* Reads what the files hold now (the rotated ones first, oldest first);
 * leaves each container's current file open at its end for -f. */
static void read_existing(struct logs *l, struct entry **out, size_t *n_out)
{
    struct entry *all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct collect k = {.l = l, .ctr = i};
        _cleanup_free_ char *dir = ctr_path(l->c->root, l->recs[i].id, NULL);
        l->f[i].path = fs_path_join(dir, "container.log");
        struct log_snapshot snap;
        log_snapshot_take(dir, &snap);
        for (size_t p = 0; p + 1 < snap.n; p++)
            feed_file(&snap.f[p], collect_cb, &k);
        struct log_snap_file *cur = &snap.f[snap.n - 1];
        struct file_feed ff = {.f = &l->f[i], .cb = collect_cb, .ud = &k};
        if (cur->fd >= 0)
            log_read_fd(cur->fd, false, file_chunk, &ff);
        l->f[i].fd = TAKE_FD(cur->fd);
        l->f[i].ino = cur->ino;
        log_snapshot_free(&snap);
        for (size_t e = 0; e < k.n; e++)
            if (k.v[e].time_ns > l->f[i].last_ns)
                l->f[i].last_ns = k.v[e].time_ns;
        if (l->tail >= 0 && k.n > (size_t)l->tail) {
            size_t drop = k.n - (size_t)l->tail;
            for (size_t d = 0; d < drop; d++)
                free(k.v[d].data);
            memmove(k.v, k.v + drop, (k.n - drop) * sizeof *k.v);
            k.n -= drop;
        }
        all = xreallocarray(all, n_all + k.n + 1, sizeof *all);
        if (k.n > 0)
            memcpy(all + n_all, k.v, k.n * sizeof *k.v);
        n_all += k.n;
        free(k.v);
    }
    xqsort(all, n_all, sizeof *all, cmp_entry);
    *out = all;
    *n_out = n_all;
}

struct live {
    struct logs *l;
    size_t ctr;
    int64_t after_ns; /* only lines after this time (0: all) */
};

static void live_cb(void *ud, int64_t t, const char *data, size_t len)
{
    struct live *v = ud;
    if (t < v->l->since || (v->l->until && t > v->l->until) || (v->after_ns && t <= v->after_ns))
        return;
    v->l->f[v->ctr].last_ns = t;
    print_entry(v->l, v->ctr, t, data, len);
}

/* Reads f's file from where it is to its end. */
static bool drain_fd(struct follow *f, struct live *v)
{
    bool any = false;
    char buf[65536];
    ssize_t r;
    while (f->fd >= 0 && (r = read(f->fd, buf, sizeof buf)) > 0) {
        feed_buffer(f, buf, (size_t)r, live_cb, v);
        any = true;
    }
    return any;
}

/* The writer rotated f's file away: finish it (what was written between
 * the last read and the rename), then the files rotated after it (more
 * than one rotation can happen between two looks), then the new current
 * file, all from one snapshot of the files. */
static void follow_rotation(struct logs *l, size_t i, struct live *v)
{
    struct follow *f = &l->f[i];
    if (f->fd >= 0) {
        drain_fd(f, v);
        close(f->fd);
        f->fd = -1;
    }
    f->pending_len = 0;
    _cleanup_free_ char *dir = ctr_path(l->c->root, l->recs[i].id, NULL);
    struct log_snapshot snap;
    log_snapshot_take(dir, &snap);
    struct log_snap_file *cur = &snap.f[snap.n - 1];
    if (cur->fd < 0) { /* between the rename and the new file: next time */
        log_snapshot_free(&snap);
        return;
    }
    if (f->ino != 0) {
        size_t at = snap.n;
        for (size_t p = 0; p + 1 < snap.n; p++)
            if (snap.f[p].fd >= 0 && snap.f[p].ino == f->ino)
                at = p;
        /* Not found: it was compressed or is gone: what is left after
         * the last line passed on. */
        struct live after = *v;
        after.after_ns = f->last_ns;
        for (size_t p = at < snap.n ? at + 1 : 0; p + 1 < snap.n; p++)
            feed_file(&snap.f[p], live_cb, at < snap.n ? v : &after);
    }
    f->fd = TAKE_FD(cur->fd);
    f->ino = cur->ino;
    log_snapshot_free(&snap);
}

static bool drain(struct logs *l, size_t i)
{
    struct follow *f = &l->f[i];
    struct live v = {.l = l, .ctr = i};
    bool any = drain_fd(f, &v);
    /* Rotated (or created): finish the old file, continue in the new one. */
    struct stat st;
    if (stat(f->path, &st) == 0 && (f->fd < 0 || st.st_ino != f->ino)) {
        follow_rotation(l, i, &v);
        drain_fd(f, &v);
        any = true;
    }
    return any;
}

static bool drain_all(struct logs *l)
{
    bool any = false;
    for (size_t i = 0; i < l->n; i++)
        any |= drain(l, i);
    if (any)
        fflush(stdout);
    return any;
}

/* Wakes the loop when a log directory changes (written, rotated): a
 * writer rotating faster than a timer looks would drop files unread. */
static int watch_dirs(struct logs *l)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (size_t i = 0; fd >= 0 && i < l->n; i++) {
        _cleanup_free_ char *dir = ctr_path(l->c->root, l->recs[i].id, NULL);
        inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO);
    }
    return fd;
}

/* Holds each log against rotation removing files not read yet. */
static void hold_logs(struct logs *l)
{
    for (size_t i = 0; i < l->n; i++) {
        _cleanup_free_ char *dir = ctr_path(l->c->root, l->recs[i].id, NULL);
        l->f[i].hold = log_follow_lock(dir);
    }
}

static bool anything_live(struct logs *l)
{
    int64_t now = ps_now_ns();
    const struct ctr_record *watch = l->watch ? l->watch : l->recs;
    size_t n_watch = l->watch ? l->n_watch : l->n;
    for (size_t i = 0; i < n_watch; i++) {
        struct ps_state ps;
        ps_state_of(l->c, l->project, &watch[i], now, &ps);
        if (ps.alive || strcmp(ps.state, "restarting") == 0)
            return true;
    }
    return false;
}

/* Until nothing runs or is about to restart; or until a signal arrives on
 * sigfd (a signalfd, or -1), whose number is returned (else 0). */
static int follow_loop(struct logs *l, int sigfd)
{
    _cleanup_close_ int ifd = watch_dirs(l);
    int idle_checks = 0;
    for (;;) {
        bool any = drain_all(l);
        if (ferror(stdout))
            return 0; /* the reader went away (`logs -f | head`) */
        /* Done once nothing runs or is about to restart any more, and
         * what they wrote is read. */
        idle_checks = any || anything_live(l) ? 0 : idle_checks + 1;
        if (idle_checks >= 3) {
            while (drain_all(l))
                ;
            return 0;
        }
        struct pollfd pf[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = ifd, .events = POLLIN}};
        if (poll(pf, 2, any ? 0 : 100) <= 0)
            continue;
        if (pf[1].revents & POLLIN) {
            char ev[4096];
            while (read(ifd, ev, sizeof ev) > 0)
                ;
        }
        if (pf[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                return (int)si.ssi_signo;
        }
    }
}

/* Prints what the logs hold (from l->since), then follows them when asked;
 * returns the signal that ended the following, or 0. */
static int logs_show(struct logs *l, bool follow, int sigfd)
{
    for (size_t i = 0; i < l->n; i++) {
        int w = (int)strlen(l->recs[i].plan.log_name ? l->recs[i].plan.log_name : l->recs[i].name);
        if (w > l->width)
            l->width = w;
    }
    l->f = xcalloc(l->n + 1, sizeof *l->f);
    for (size_t i = 0; i < l->n; i++)
        l->f[i].hold = -1;
    if (follow)
        hold_logs(l);
    struct entry *entries;
    size_t n_entries;
    read_existing(l, &entries, &n_entries);
    for (size_t i = 0; i < n_entries; i++) {
        print_entry(l, entries[i].ctr, entries[i].time_ns, entries[i].data, entries[i].len);
        free(entries[i].data);
    }
    free(entries);
    fflush(stdout);
    int sig = follow ? follow_loop(l, sigfd) : 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->f[i].fd >= 0)
            close(l->f[i].fd);
        if (l->f[i].hold >= 0)
            close(l->f[i].hold);
        free(l->f[i].path);
        free(l->f[i].pending);
        free(l->f[i].partial);
    }
    free(l->f);
    return sig;
}

int cli_logs_attach(struct cli *c, const char *project, const struct ctr_record *recs, size_t n,
                    bool color, int64_t since_ns, int sigfd)
{
    /* attach: false, and drivers that keep nothing: not shown (the
     * copies borrow the records' strings) */
    _cleanup_free_ struct ctr_record *shown = xcalloc(n + 1, sizeof *shown);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        enum log_driver d = log_driver_of(recs[i].plan.logging.driver);
        if (!recs[i].plan.no_attach && (d == LOG_JSON_FILE || d == LOG_LOCAL))
            shown[k++] = recs[i];
    }
    struct logs l = {.c = c,
                     .project = project,
                     .recs = shown,
                     .n = k,
                     .watch = recs,
                     .n_watch = n,
                     .prefix = true,
                     .color = color,
                     .tail = -1,
                     .since = since_ns};
    return logs_show(&l, true, sigfd);
}

/* Containers whose logging driver keeps nothing berth can read (none,
 * syslog, journald) are said and left out, as docker says it: 1 then. */
static int drop_unreadable(struct logs *l)
{
    int rc = 0;
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        enum log_driver d = log_driver_of(l->recs[i].plan.logging.driver);
        if (d == LOG_JSON_FILE || d == LOG_LOCAL) {
            l->recs[k++] = l->recs[i];
            continue;
        }
        fprintf(stderr,
                "berth: logs: container %s: configured logging driver does not support reading "
                "(logging driver %s)\n",
                l->recs[i].name, log_driver_name(d));
        ctr_record_free(&l->recs[i]);
        rc = 1;
    }
    l->n = k;
    return rc;
}

int cmd_logs(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "logs");
    struct logs l = {.c = c, .prefix = true, .color = c->color, .tail = -1};
    bool follow = false;
    int index = 0;
    int64_t now = ps_now_ns();
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'f':
            follow = true;
            break;
        case 'n':
            if (strcmp(optarg, "all") == 0)
                l.tail = -1;
            else {
                char *end;
                l.tail = strtol(optarg, &end, 10);
                if (*end || l.tail < 0) {
                    fprintf(stderr, "berth: logs: invalid --tail \"%s\"\n", optarg);
                    return 2;
                }
            }
            break;
        case 't':
            l.timestamps = true;
            break;
        case 'S':
        case 'U':
            if (log_parse_since(optarg, now, opt == 'S' ? &l.since : &l.until) < 0) {
                fprintf(stderr,
                        "berth: logs: invalid time \"%s\" (RFC 3339, Unix time, or a duration "
                        "such as 10m)\n",
                        optarg);
                return 2;
            }
            break;
        case 'C':
            l.color = false;
            break;
        case 'P':
            l.prefix = false;
            break;
        case 'I':
            index = atoi(optarg);
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    _cleanup_project_ struct project *p = NULL;
    _cleanup_free_ char *name = NULL;
    int r = cli_project_name(c, argv + optind, &name, &p, e);
    if (r < 0)
        return r;
    _cleanup_strv_ char **sel = NULL;
    for (int i = optind; i < argc; i++)
        strv_push(&sel, xstrdup(argv[i]));
    r = cli_project_containers(c, name, p, sel, false, &l.recs, &l.n, e);
    if (r < 0)
        return r;
    if (index > 0) {
        size_t k = 0;
        for (size_t i = 0; i < l.n; i++)
            if (l.recs[i].number == index)
                l.recs[k++] = l.recs[i];
            else
                ctr_record_free(&l.recs[i]);
        l.n = k;
    }
    l.project = name;
    int rc = drop_unreadable(&l);
    logs_show(&l, follow, -1);
    ctr_list_free(l.recs, l.n);
    return rc;
}
