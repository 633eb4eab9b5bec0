/* SPDX-License-Identifier: Apache-2.0 */
/* Per-container logs, by the service's logging driver:
 *
 *   json-file (the default) $BERTH_ROOT/containers/<id>/container.log in
 *             Docker's json-file format, one JSON object per line:
 *             {"log":"the line\n","stream":"stdout","time":"2026-...Z"}
 *             (a piece of a longer line has no "\n" in "log", as Docker);
 *   local     the same file in berth's own compact line format:
 *             2026-11-29T02:08:57.123456789Z stdout F the line
 *             (F a full line, P a piece), which containers made before
 *             the drivers have, so `logs` reads both;
 *   none      nothing kept;
 *   syslog, journald  sent to the host's socket (logsink.c), not kept.
 *
 * When the file passes max-size it becomes container.log.1 (the older
 * ones shifting to .2, ... up to max-file files in all; with compress
 * they are gzipped, container.log.1.gz) and a new file starts. The
 * supervisor writes; `logs` reads and follows, across restarts and
 * rotations. While a `logs -f` follows (it holds container.log.readers
 * locked), the rotated files it may not have read yet are kept, up to
 * LOG_FOLLOW_EXTRA beyond max-file, so a follower slower than the
 * writer loses nothing. */
#ifndef BERTH_SUPERVISE_LOGFILE_H
#define BERTH_SUPERVISE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define LOG_MAX_SIZE_DEFAULT (10LL * 1024 * 1024) /* json-file, as berth always had */
#define LOG_MAX_FILE_DEFAULT 2
#define LOG_LOCAL_MAX_SIZE   (20LL * 1024 * 1024) /* local: Docker's defaults */
#define LOG_LOCAL_MAX_FILE   5
#define LOG_LINE_MAX         (16 * 1024) /* longer lines are written in pieces (P) */
#define LOG_FOLLOW_EXTRA     64          /* rotated files kept beyond max-file for a follower */

enum log_driver { LOG_JSON_FILE, LOG_LOCAL, LOG_NONE, LOG_SYSLOG, LOG_JOURNALD };

/* A container's logging as the writer applies it: the plan's with the
 * defaults filled in. */
struct log_config {
    enum log_driver driver;
    int64_t max_size; /* bytes; 0: unlimited */
    int max_file;     /* >= 1 */
    bool compress;
    char *tag;          /* syslog/journald: the resolved tag */
    const char *socket; /* syslog/journald: the socket's path */
    /* For messages and journald fields: borrowed. */
    const char *service, *name, *id;
};

/* What a tag template may name ({{.Name}}, {{.ID}}, {{.FullID}},
 * {{.ImageName}}, {{.ImageID}}, {{.DaemonName}}). */
struct log_tag_vars {
    const char *name, *id, *image_name, *image_id;
};

/* Fills c from the plan's logging: driver, the driver's default sizes (or
 * BERTH_LOG_MAX_SIZE), the tag (Docker's default: the short ID), the
 * socket (BERTH_SYSLOG_SOCKET / BERTH_JOURNALD_SOCKET, for tests, else
 * /dev/log and /run/systemd/journal/socket). -EINVAL naming the tag when
 * its template is bad. log_config_clear frees the tag. */
struct plan_logging;
int log_config_from_plan(const struct plan_logging *pl, const struct log_tag_vars *v,
                         struct log_config *c, struct berr *e);
void log_config_clear(struct log_config *c);
/* The driver's name, and the driver a plan names (NULL: json-file). */
const char *log_driver_name(enum log_driver d);
enum log_driver log_driver_of(const char *name);
/* Expands a tag template; -EINVAL for what it cannot (naming it). */
int log_tag_expand(const char *tmpl, const struct log_tag_vars *v, char **out, struct berr *e);

struct log_writer {
    struct log_config cfg;
    char *path; /* .../container.log (file drivers) */
    int fd;     /* the file, or the syslog/journald socket; -1: none */
    int64_t size;
    unsigned errors; /* lines that could not be written */
};

/* Opens (appending) the log of a container directory, or connects to the
 * driver's socket; takes over cfg (its tag). A missing socket is an
 * error naming the service, the driver and the socket. */
int log_writer_open(struct log_writer *w, const char *ctr_dir, struct log_config *cfg,
                    struct berr *e);
/* Writes one line (without its newline); partial marks a piece. Errors
 * (a full disk) are counted, not fatal: the container must not suffer. */
void log_writer_line(struct log_writer *w, const char *stream, bool partial, const char *data,
                     size_t len);
void log_writer_close(struct log_writer *w);

/* The syslog and journald senders (logsink.c). */
int log_sink_connect(const struct log_config *c, struct berr *e);
void log_sink_send(const struct log_writer *w, const char *stream, const char *data, size_t len);

struct log_entry {
    int64_t time_ns; /* since the epoch */
    const char *stream;
    bool partial;
    const char *data; /* into the line, or into own */
    size_t len;
    char *own; /* a json-file line's text, unescaped; log_entry_clear frees it */
};

/* Parses one line of a log file (without its newline), in either format. */
bool log_parse_line(const char *line, size_t len, struct log_entry *out);
void log_entry_clear(struct log_entry *e);
/* One json-file line for a piece of output (with its newline): heap. */
char *log_json_line(int64_t time_ns, const char *stream, bool partial, const char *data, size_t len,
                    size_t *out_len);
/* A follower's hold on a container's log (its fd, -1 when it cannot):
 * rotation keeps the files it may still need while it is open. */
int log_follow_lock(const char *ctr_dir);
/* A consistent view of a container's log files, their names looked at
 * while rotation cannot run: each opened, oldest first (the rotated ones,
 * then container.log; fd -1 where one is absent). */
struct log_snapshot {
    struct log_snap_file {
        int fd;
        ino_t ino;
        bool gz;
    } * f;
    size_t n;
};
int log_snapshot_take(const char *ctr_dir, struct log_snapshot *s);
void log_snapshot_free(struct log_snapshot *s);
/* Reads a log file from fd's position to its end (gunzipping with gz)
 * through cb, in chunks. */
int log_read_fd(int fd, bool gz, void (*cb)(void *ud, const char *buf, size_t len), void *ud);
/* Parses --since: an RFC 3339 time, a Unix time, or a duration ago
 * ("10m", "1h30m"). */
int log_parse_since(const char *s, int64_t now_ns, int64_t *out_ns);
/* The log size limit: BERTH_LOG_MAX_SIZE ("10m", bytes) or the default. */
int64_t log_max_size_from_env(void);

#endif
