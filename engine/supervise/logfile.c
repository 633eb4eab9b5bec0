/* SPDX-License-Identifier: Apache-2.0 */
/* Container log files: the drivers' configuration, the writer (json-file
 * and local lines, partial-line markers, rotation, compression) and the
 * reader's files, line and --since parsers. Not here: copying a
 * container's output into the writer (engine/supervise/supervisor.c), `berth
 * logs` (cmd/cmd_logs.c). */
#include "engine/supervise/logfile.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/runtime/ctrplan.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/units.h"
#include "util/xalloc.h"

/* ---- configuration ------------------------------------------------------ */

static const char *const driver_names[] = {"json-file", "local", "none", "syslog", "journald"};

const char *log_driver_name(enum log_driver d)
{
    return driver_names[d];
}

enum log_driver log_driver_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof driver_names / sizeof driver_names[0]; i++)
        if (strcmp(name, driver_names[i]) == 0)
            return (enum log_driver)i;
    return LOG_JSON_FILE;
}

/* Docker's template subset: {{.Field}} with optional spaces; anything
 * else between braces is refused rather than written out as is. */
int log_tag_expand(const char *tmpl, const struct log_tag_vars *v, char **out, struct berr *e)
{
    char short_id[13];
    snprintf(short_id, sizeof short_id, "%s", v->id ? v->id : "");
    char short_img[13];
    const char *iid = v->image_id ? v->image_id : "";
    if (strncmp(iid, "sha256:", 7) == 0)
        iid += 7;
    snprintf(short_img, sizeof short_img, "%s", iid);
    const struct {
        const char *field, *value;
    } fields[] = {
        {"Name", v->name},       {"ID", short_id},
        {"FullID", v->id},       {"ImageName", v->image_name},
        {"ImageID", short_img},  {"ImageFullID", v->image_id},
        {"DaemonName", "berth"},
    };
    size_t cap = strlen(tmpl) + 1, len = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (const char *p = tmpl; *p;) {
        const char *val = NULL;
        size_t adv = 1;
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p, "}}");
            const char *f = p + 2;
            while (*f == ' ')
                f++;
            size_t fl = end ? (size_t)(end - f) : 0;
            while (fl > 0 && f[fl - 1] == ' ')
                fl--;
            for (size_t i = 0; end && *f == '.' && i < sizeof fields / sizeof fields[0]; i++)
                if (fl - 1 == strlen(fields[i].field) &&
                    memcmp(f + 1, fields[i].field, fl - 1) == 0)
                    val = fields[i].value ? fields[i].value : "";
            if (!val)
                return berr_set(e, -EINVAL,
                                "logging option tag %s: berth knows {{.Name}}, {{.ID}}, "
                                "{{.FullID}}, {{.ImageName}}, {{.ImageID}}, {{.ImageFullID}} and "
                                "{{.DaemonName}}",
                                tmpl);
            adv = (size_t)(end + 2 - p);
        }
        size_t vl = val ? strlen(val) : 1;
        if (len + vl + 1 > cap) {
            cap = (len + vl + 1) * 2;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf + len, val ? val : p, vl);
        len += vl;
        p += adv;
    }
    buf[len] = '\0';
    *out = TAKE_PTR(buf);
    return 0;
}

int log_config_from_plan(const struct plan_logging *pl, const struct log_tag_vars *v,
                         struct log_config *c, struct berr *e)
{
    memset(c, 0, sizeof *c);
    c->driver = log_driver_of(pl->driver);
    bool local = c->driver == LOG_LOCAL;
    c->max_size = pl->max_size > 0   ? pl->max_size
                  : pl->max_size < 0 ? 0
                  : local            ? LOG_LOCAL_MAX_SIZE
                                     : log_max_size_from_env();
    c->max_file = pl->max_file > 0 ? pl->max_file
                  : local          ? LOG_LOCAL_MAX_FILE
                                   : LOG_MAX_FILE_DEFAULT;
    c->compress = pl->compress ? pl->compress > 0 : local;
    c->name = v->name;
    c->id = v->id;
    if (c->driver == LOG_SYSLOG || c->driver == LOG_JOURNALD) {
        int r = log_tag_expand(pl->tag ? pl->tag : "{{.ID}}", v, &c->tag, e);
        if (r < 0)
            return r;
        const char *env =
            getenv(c->driver == LOG_SYSLOG ? "BERTH_SYSLOG_SOCKET" : "BERTH_JOURNALD_SOCKET");
        c->socket = env && *env               ? env
                    : c->driver == LOG_SYSLOG ? "/dev/log"
                                              : "/run/systemd/journal/socket";
    }
    return 0;
}

void log_config_clear(struct log_config *c)
{
    free(c->tag);
    memset(c, 0, sizeof *c);
}

/* ---- the writer ----------------------------------------------------------- */

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
}

int log_writer_open(struct log_writer *w, const char *ctr_dir, struct log_config *cfg,
                    struct berr *e)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    switch (w->cfg.driver) {
    case LOG_NONE:
        return 0;
    case LOG_SYSLOG:
    case LOG_JOURNALD: {
        int fd = log_sink_connect(&w->cfg, e);
        if (fd < 0) {
            log_config_clear(&w->cfg);
            return fd;
        }
        w->fd = fd;
        return 0;
    }
    default:
        break;
    }
    w->path = fs_path_join(ctr_dir, "container.log");
    w->fd = open_log(w->path);
    if (w->fd < 0) {
        int r = berr_errno(e, errno, "opening the log %s", w->path);
        free(w->path);
        w->path = NULL;
        log_config_clear(&w->cfg);
        return r;
    }
    struct stat st;
    w->size = fstat(w->fd, &st) == 0 ? st.st_size : 0;
    return 0;
}

/* gzip src into dst (through a temporary name), then removes src. */
static void compress_file(const char *src, const char *dst)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp", dst);
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return;
    struct archive *a = archive_write_new();
    bool ok = a && archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
              archive_write_set_format_raw(a) == ARCHIVE_OK &&
              archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
              archive_write_open_filename(a, tmp) == ARCHIVE_OK;
    struct archive_entry *ent = ok ? archive_entry_new() : NULL;
    if (ent) {
        archive_entry_set_filetype(ent, AE_IFREG);
        ok = archive_write_header(a, ent) == ARCHIVE_OK;
        char buf[65536];
        ssize_t n;
        while (ok && (n = read(in, buf, sizeof buf)) > 0)
            ok = archive_write_data(a, buf, (size_t)n) == n;
        archive_entry_free(ent);
    }
    if (a) {
        ok = archive_write_close(a) == ARCHIVE_OK && ok;
        archive_write_free(a);
    }
    if (ok && rename(tmp, dst) == 0)
        unlink(src);
    else
        unlink(tmp);
}

static char *rotated_name(const char *path, int i, bool gz)
{
    return xasprintf("%s.%d%s", path, i, gz ? ".gz" : "");
}

static bool rotated_exists(const char *path, int i)
{
    _cleanup_free_ char *p = rotated_name(path, i, false);
    _cleanup_free_ char *g = rotated_name(path, i, true);
    return access(p, F_OK) == 0 || access(g, F_OK) == 0;
}

static void unlink_rotated(const char *path, int i)
{
    for (int gz = 0; gz < 2; gz++) {
        _cleanup_free_ char *p = rotated_name(path, i, gz);
        unlink(p);
    }
}

/* A lock file of a container's log, created when missing, locked with
 * op: its fd, or -1. */
static int lock_file(const char *ctr_dir, const char *name, int op)
{
    _cleanup_free_ char *lock = fs_path_join(ctr_dir, name);
    int fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd >= 0 && flock(fd, op) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether a `logs -f` follows this log now: it holds LOG_READERS_FILE
 * locked shared (log_follow_lock). */
static bool followed(const char *path)
{
    _cleanup_free_ char *lock = xasprintf("%s.readers", path);
    _cleanup_close_ int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* container.log becomes .1, .1 becomes .2, ...; those beyond max_file go,
 * unless a follower may not have read them yet: then up to
 * LOG_FOLLOW_EXTRA more stay until the next rotation without one. A
 * follower keeps reading its file through its fd. */
static void rotate(struct log_writer *w)
{
    /* A reader is looking at the names: rotate at the next line. */
    _cleanup_free_ char *dir = xstrdup(w->path);
    *strrchr(dir, '/') = '\0';
    _cleanup_close_ int lk = lock_file(dir, "container.log.lock", LOCK_EX | LOCK_NB);
    if (lk < 0)
        return;
    int keep = w->cfg.max_file, top = 0;
    while (top < keep + LOG_FOLLOW_EXTRA && rotated_exists(w->path, top + 1))
        top++;
    close(w->fd);
    w->fd = -1;
    int limit = followed(w->path) ? keep + LOG_FOLLOW_EXTRA : keep;
    for (; top >= limit - 1 && top >= 1; top--)
        unlink_rotated(w->path, top);
    if (limit <= 1) {
        unlink(w->path);
    } else {
        for (int i = top; i >= 1; i--)
            for (int gz = 0; gz < 2; gz++) {
                _cleanup_free_ char *from = rotated_name(w->path, i, gz);
                _cleanup_free_ char *to = rotated_name(w->path, i + 1, gz);
                rename(from, to);
            }
        _cleanup_free_ char *first = rotated_name(w->path, 1, false);
        rename(w->path, first);
        if (w->cfg.compress) {
            _cleanup_free_ char *gz = rotated_name(w->path, 1, true);
            compress_file(first, gz);
        }
    }
    w->fd = open_log(w->path);
    w->size = 0;
}

int log_follow_lock(const char *ctr_dir)
{
    return lock_file(ctr_dir, "container.log.readers", LOCK_SH);
}

/* Go's encoder writes invalid UTF-8 as U+FFFD; jansson refuses it. */
static char *utf8_clean(const char *s, size_t len, size_t *out_len)
{
    char *o = xmalloc(len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = k > 0 && i + k <= len;
        for (size_t j = 1; ok && j < k; j++)
            ok = ((unsigned char)s[i + j] >> 6) == 2;
        if (ok && k > 1 && json_stringn(s + i, k) == NULL)
            ok = false;
        if (ok) {
            memcpy(o + n, s + i, k);
            n += k;
            i += k;
        } else {
            memcpy(o + n, "\xef\xbf\xbd", 3);
            n += 3;
            i++;
        }
    }
    *out_len = n;
    return o;
}

char *log_json_line(int64_t time_ns, const char *stream, bool partial, const char *data, size_t len,
                    size_t *out_len)
{
    _cleanup_free_ char *text = xmalloc(len + 2);
    memcpy(text, data, len);
    size_t tl = len;
    if (!partial)
        text[tl++] = '\n';
    json_t *log = json_stringn(text, tl);
    if (!log) {
        _cleanup_free_ char *clean = utf8_clean(text, tl, &tl);
        log = json_stringn(clean, tl);
    }
    char ts[TIME_RFC3339_MAX];
    time_rfc3339(time_ns, 9, ts);
    json_t *o = json_object();
    json_object_set_new(o, "log", log ? log : json_string(""));
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "time", json_string(ts));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    size_t ll = strlen(line);
    line = xrealloc(line, ll + 2);
    line[ll++] = '\n';
    line[ll] = '\0';
    *out_len = ll;
    return line;
}

static ssize_t write_local(struct log_writer *w, const char *stream, bool partial, const char *data,
                           size_t len)
{
    char head[80];
    time_rfc3339(time_now_ns(), 9, head);
    size_t hl = strlen(head);
    hl += (size_t)snprintf(head + hl, sizeof head - hl, " %s %c ", stream, partial ? 'P' : 'F');
    struct iovec iov[3] = {
        {.iov_base = head, .iov_len = hl},
        {.iov_base = (void *)data, .iov_len = len},
        {.iov_base = "\n", .iov_len = 1},
    };
    return writev(w->fd, iov, 3);
}

void log_writer_line(struct log_writer *w, const char *stream, bool partial, const char *data,
                     size_t len)
{
    if (w->fd < 0)
        return;
    if (w->cfg.driver == LOG_SYSLOG || w->cfg.driver == LOG_JOURNALD) {
        log_sink_send(w, stream, data, len);
        return;
    }
    ssize_t n;
    if (w->cfg.driver == LOG_LOCAL) {
        n = write_local(w, stream, partial, data, len);
    } else {
        size_t ll;
        _cleanup_free_ char *line = log_json_line(time_now_ns(), stream, partial, data, len, &ll);
        n = write(w->fd, line, ll);
    }
    if (n > 0)
        w->size += n;
    else
        w->errors++;
    if (w->cfg.max_size > 0 && w->size >= w->cfg.max_size)
        rotate(w);
}

void log_writer_close(struct log_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    log_config_clear(&w->cfg);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

/* ---- reading -------------------------------------------------------------- */

/* The names of a container's log files, oldest first: the rotated ones
 * that exist (.N or .N.gz), then container.log (whether it exists or
 * not), NULL-terminated. */
static char **log_files(const char *ctr_dir)
{
    _cleanup_free_ char *path = fs_path_join(ctr_dir, "container.log");
    /* The highest index present: rotations never leave gaps. */
    int top = 0;
    for (int i = 1; i < 100000; i++) {
        _cleanup_free_ char *p = rotated_name(path, i, false);
        _cleanup_free_ char *g = rotated_name(path, i, true);
        if (access(p, F_OK) != 0 && access(g, F_OK) != 0)
            break;
        top = i;
    }
    char **v = xcalloc((size_t)top + 2, sizeof *v);
    size_t n = 0;
    for (int i = top; i >= 1; i--) {
        char *p = rotated_name(path, i, false);
        if (access(p, F_OK) != 0) {
            free(p);
            p = rotated_name(path, i, true);
        }
        v[n++] = p;
    }
    v[n++] = TAKE_PTR(path);
    return v;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int log_read_fd(int fd, bool gz, void (*cb)(void *ud, const char *buf, size_t len), void *ud)
{
    char buf[65536];
    if (!gz) {
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            cb(ud, buf, (size_t)r);
        return r < 0 ? -errno : 0;
    }
    struct archive *a = archive_read_new();
    if (!a)
        return -ENOMEM;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    int r = -EIO;
    struct archive_entry *ent;
    if (archive_read_open_fd(a, fd, sizeof buf) == ARCHIVE_OK &&
        archive_read_next_header(a, &ent) == ARCHIVE_OK) {
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
            cb(ud, buf, (size_t)n);
        r = n == 0 ? 0 : -EIO;
    }
    archive_read_free(a);
    return r;
}

int log_snapshot_take(const char *ctr_dir, struct log_snapshot *s)
{
    memset(s, 0, sizeof *s);
    /* Rotation renames the files one by one: the names are looked at
     * while it cannot run (it is skipped, never waits, while we hold). */
    int lk = lock_file(ctr_dir, "container.log.lock", LOCK_SH);
    _cleanup_strv_ char **names = log_files(ctr_dir);
    s->n = strv_len(names);
    s->f = xcalloc(s->n + 1, sizeof *s->f);
    for (size_t i = 0; i < s->n; i++) {
        struct log_snap_file *f = &s->f[i];
        f->gz = ends_with(names[i], ".gz");
        f->fd = open(names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (f->fd >= 0 && fstat(f->fd, &st) == 0)
            f->ino = st.st_ino;
    }
    if (lk >= 0)
        close(lk);
    return 0;
}

void log_snapshot_free(struct log_snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->f[i].fd >= 0)
            close(s->f[i].fd);
    free(s->f);
    memset(s, 0, sizeof *s);
}

/* "2026-11-29T02:08:57.123456789Z" → ns since the epoch. */
static bool parse_time(const char *s, size_t len, int64_t *out)
{
    if (len < 20)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char buf[32];
    memcpy(buf, s, 19);
    buf[19] = '\0';
    if (!strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm))
        return false;
    int64_t secs = (int64_t)timegm(&tm);
    int64_t frac = 0;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        int digits = 0;
        for (i++; i < len && isdigit((unsigned char)s[i]); i++, digits++)
            if (digits < 9)
                frac = frac * 10 + (s[i] - '0');
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (i < len && (s[i] == '+' || s[i] == '-') && i + 6 <= len) {
        int hh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        int mm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
        offset = (hh * 3600 + mm * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else if (i < len && s[i] == 'Z') {
        i++;
    } else {
        return false;
    }
    if (i != len)
        return false;
    *out = (secs - offset) * 1000000000LL + frac;
    return true;
}

/* A json-file line: {"log": ..., "stream": ..., "time": ...}. */
static bool parse_json_line(const char *line, size_t len, struct log_entry *out)
{
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    const char *stream = json_string_value(json_object_get(j, "stream"));
    const char *ts = json_string_value(json_object_get(j, "time"));
    json_t *log = json_object_get(j, "log");
    bool ok = json_is_string(log) && stream && ts && parse_time(ts, strlen(ts), &out->time_ns);
    if (ok) {
        out->stream = strcmp(stream, "stderr") == 0 ? "stderr" : "stdout";
        size_t n = json_string_length(log);
        out->own = xmemdup(json_string_value(log), n);
        out->partial = !(n > 0 && out->own[n - 1] == '\n');
        out->data = out->own;
        out->len = out->partial ? n : n - 1;
    }
    json_decref(j);
    return ok;
}

bool log_parse_line(const char *line, size_t len, struct log_entry *out)
{
    out->own = NULL;
    if (len > 0 && line[0] == '{')
        return parse_json_line(line, len, out);
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1)
        return false;
    if (!parse_time(line, (size_t)(sp1 - line), &out->time_ns))
        return false;
    const char *rest = sp1 + 1;
    size_t rlen = len - (size_t)(rest - line);
    const char *sp2 = memchr(rest, ' ', rlen);
    if (!sp2 || (size_t)(sp2 - line) + 2 >= len + 1)
        return false;
    if ((size_t)(sp2 - rest) == 6 && memcmp(rest, "stdout", 6) == 0)
        out->stream = "stdout";
    else if ((size_t)(sp2 - rest) == 6 && memcmp(rest, "stderr", 6) == 0)
        out->stream = "stderr";
    else
        return false;
    const char *flag = sp2 + 1;
    if ((size_t)(flag - line) + 2 > len || (flag[0] != 'F' && flag[0] != 'P') || flag[1] != ' ')
        return false;
    out->partial = flag[0] == 'P';
    out->data = flag + 2;
    out->len = len - (size_t)(out->data - line);
    return true;
}

void log_entry_clear(struct log_entry *e)
{
    free(e->own);
    e->own = NULL;
}

int log_parse_since(const char *s, int64_t now_ns, int64_t *out_ns)
{
    if (parse_time(s, strlen(s), out_ns))
        return 0;
    /* A date alone, or a time without zone: as docker, UTC. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%d", &tm);
    }
    if (end && !*end) {
        *out_ns = (int64_t)timegm(&tm) * 1000000000LL;
        return 0;
    }
    char *e2;
    double unix_secs = strtod(s, &e2);
    if (e2 != s && *e2 == '\0') {
        *out_ns = (int64_t)(unix_secs * 1e9);
        return 0;
    }
    /* A duration ago, as Go's time.ParseDuration reads it. */
    int64_t d;
    if (s[0] != '-' && duration_parse(s, 0, &d) == 0) {
        *out_ns = now_ns - d;
        return 0;
    }
    return -EINVAL;
}

int64_t log_max_size_from_env(void)
{
    const char *v = getenv("BERTH_LOG_MAX_SIZE");
    if (!v || !*v)
        return LOG_MAX_SIZE_DEFAULT;
    /* Sizes as compose's ("10m", "512k"); a bad one is the default. */
    int64_t r;
    if (parse_size(v, &r) < 0 || r <= 0)
        return LOG_MAX_SIZE_DEFAULT;
    return r < 4096 ? 4096 : r;
}
