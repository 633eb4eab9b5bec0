/* SPDX-License-Identifier: Apache-2.0 */
/* Per-container log files: $BERTH_ROOT/containers/<id>/container.log, one
 * line per output line:
 *
 *   2026-11-29T02:08:57.123456789Z stdout F the line
 *
 * (time, stream, F for a full line or P for a piece of a longer one, then
 * the bytes as written). When the file passes its size limit it becomes
 * container.log.1 (replacing the previous one) and a new file starts, so a
 * container never uses more than twice the limit. The supervisor writes;
 * `logs` reads and follows, across restarts (one file per container). */
#ifndef BERTH_SUPERVISE_LOGFILE_H
#define BERTH_SUPERVISE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define LOG_MAX_SIZE_DEFAULT (10LL * 1024 * 1024)
#define LOG_LINE_MAX         (16 * 1024) /* longer lines are written in pieces (P) */

struct log_writer {
    char *path; /* .../container.log */
    int fd;
    int64_t size;
    int64_t max_size;
};

/* Opens (appending) the log of a container directory. */
int log_writer_open(struct log_writer *w, const char *ctr_dir, int64_t max_size, struct berr *e);
/* Writes one line (without its newline); partial marks a piece. Errors
 * (a full disk) are counted, not fatal: the container must not suffer. */
void log_writer_line(struct log_writer *w, const char *stream, bool partial, const char *data,
                     size_t len);
void log_writer_close(struct log_writer *w);

struct log_entry {
    int64_t time_ns; /* since the epoch */
    const char *stream;
    bool partial;
    const char *data;
    size_t len;
};

/* Parses one line of a log file (without its newline). */
bool log_parse_line(const char *line, size_t len, struct log_entry *out);
/* Parses --since: an RFC 3339 time, a Unix time, or a duration ago
 * ("10m", "1h30m"). */
int log_parse_since(const char *s, int64_t now_ns, int64_t *out_ns);
/* The log size limit: BERTH_LOG_MAX_SIZE ("10m", bytes) or the default. */
int64_t log_max_size_from_env(void);

#endif
