/* SPDX-License-Identifier: Apache-2.0 */
/* Container log files: the writer (timestamped lines, partial-line markers,
 * rotation) and the reader's line and --since parsers. Not here: copying a
 * container's output into the writer (engine/supervise/supervisor.c), `berth
 * logs` (cmd/cmd_logs.c). */
#include "engine/supervise/logfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/timefmt.h"
#include "util/units.h"
#include "util/xalloc.h"

int log_writer_open(struct log_writer *w, const char *ctr_dir, int64_t max_size, struct berr *e)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->path = fs_path_join(ctr_dir, "container.log");
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (w->fd < 0) {
        int r = berr_errno(e, errno, "opening the log %s", w->path);
        free(w->path);
        w->path = NULL;
        return r;
    }
    struct stat st;
    w->size = fstat(w->fd, &st) == 0 ? st.st_size : 0;
    w->max_size = max_size > 0 ? max_size : LOG_MAX_SIZE_DEFAULT;
    return 0;
}

static void rotate(struct log_writer *w)
{
    _cleanup_free_ char *old = xasprintf("%s.1", w->path);
    close(w->fd);
    rename(w->path, old);
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    w->size = 0;
}

void log_writer_line(struct log_writer *w, const char *stream, bool partial, const char *data,
                     size_t len)
{
    if (w->fd < 0)
        return;
    char head[80];
    time_rfc3339(time_now_ns(), 9, head);
    size_t hl = strlen(head);
    hl += (size_t)snprintf(head + hl, sizeof head - hl, " %s %c ", stream, partial ? 'P' : 'F');
    struct iovec iov[3] = {
        {.iov_base = head, .iov_len = hl},
        {.iov_base = (void *)data, .iov_len = len},
        {.iov_base = "\n", .iov_len = 1},
    };
    ssize_t n = writev(w->fd, iov, 3);
    if (n > 0)
        w->size += n;
    if (w->size >= w->max_size)
        rotate(w);
}

void log_writer_close(struct log_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    memset(w, 0, sizeof *w);
    w->fd = -1;
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

bool log_parse_line(const char *line, size_t len, struct log_entry *out)
{
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
