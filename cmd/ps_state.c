/* SPDX-License-Identifier: Apache-2.0 */
/* A container's state as `ps`, `ls` and `wait` show it, from its record and
 * its run state on disk, with a dead pid read as exited. Not here: reading the
 * files (engine/supervise/records.c), printing tables (cmd/ui/format.c). */
#include "cmd/ps_state.h"

#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <time.h>

#include "cmd/ui/format.h"

int64_t ps_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int strcmp_p(const char **a, const char **b)
{
    return strcmp(*a, *b);
}

/* "2026-11-29T02:08:57.123Z" → seconds since the epoch (0 if unparsable). */
static long long parse_created(const char *s)
{
    if (!s)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (long long)timegm(&tm);
}

static void ago(long long secs, char *buf, size_t n)
{
    char d[48];
    ui_human_duration(secs, d, sizeof d);
    snprintf(buf, n, "%.48s ago", d);
}

void ps_state_of(struct cli *c, const char *project, const struct ctr_record *r, int64_t now_ns,
                 struct ps_state *out)
{
    struct run_state rs;
    bool have = run_state_read(c->runroot, project, r->name, &rs) == 0;
    /* Said running, and gone: it ended after the read, and its supervisor
     * (alive) says so within a moment: read again, for up to 20 ms. Gone
     * with its supervisor: as read. */
    for (int i = 0; i < 10 && have && rs.running && !run_state_alive(&rs) && rs.supervisor > 0 &&
                    kill(rs.supervisor, 0) == 0;
         i++) {
        if (i > 0)
            nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
        have = run_state_read(c->runroot, project, r->name, &rs) == 0;
    }
    ps_state_from(r, have ? &rs : NULL, now_ns, out);
}

void ps_state_from(const struct ctr_record *r, const struct run_state *from, int64_t now_ns,
                   struct ps_state *out)
{
    memset(out, 0, sizeof *out);
    long long now = now_ns / 1000000000LL;
    long long created = parse_created(r->created);
    ago(created ? now - created : 0, out->running_for, sizeof out->running_for);
    time_t t = (time_t)created;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out->created_at, sizeof out->created_at, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);

    struct run_state *rs = &out->rs;
    if (from)
        *rs = *from;
    if (!from || rs->started_at_ns == 0) {
        snprintf(out->state, sizeof out->state, "created");
        snprintf(out->status, sizeof out->status, "Created");
        return;
    }
    out->exit_code = rs->exit_code;
    snprintf(out->health, sizeof out->health, "%s", rs->health);
    out->alive = run_state_alive(rs);
    if (out->alive) {
        out->pid = rs->pid;
        char up[48];
        ui_human_duration((now_ns - rs->started_at_ns) / 1000000000LL, up, sizeof up);
        const char *suffix = "";
        char h[48] = "";
        if (rs->paused)
            suffix = " (Paused)";
        else if (strcmp(rs->health, "starting") == 0)
            suffix = " (health: starting)";
        else if (rs->health[0]) {
            snprintf(h, sizeof h, " (%s)", rs->health);
            suffix = h;
        }
        snprintf(out->state, sizeof out->state, "%s", rs->paused ? "paused" : "running");
        snprintf(out->status, sizeof out->status, "Up %s%s", up, suffix);
        return;
    }
    /* Not running. A run state that says running belongs to a process that
     * is gone without its supervisor noting the exit: it was killed with
     * it (SIGKILL through PR_SET_PDEATHSIG). */
    if (rs->running && !rs->finished_at_ns) {
        out->exit_code = 137;
        rs->finished_at_ns = rs->started_at_ns;
    }
    char when[64];
    ago(rs->finished_at_ns ? (now_ns - rs->finished_at_ns) / 1000000000LL : 0, when, sizeof when);
    if (rs->restarting && rs->supervisor > 0 && kill(rs->supervisor, 0) == 0) {
        snprintf(out->state, sizeof out->state, "restarting");
        snprintf(out->status, sizeof out->status, "Restarting (%d) %s", out->exit_code, when);
        return;
    }
    snprintf(out->state, sizeof out->state, "exited");
    snprintf(out->status, sizeof out->status, "Exited (%d) %s", out->exit_code, when);
}
