/* SPDX-License-Identifier: Apache-2.0 */
/* A container's state as `ps`, `ls`, `wait` and friends show it, derived
 * from its record and its run state on disk (a run state whose process is
 * gone, e.g. after the supervisor was killed, reads as exited). */
#ifndef BERTH_CMD_PS_STATE_H
#define BERTH_CMD_PS_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/cli.h"
#include "engine/supervise/records.h"

struct ps_state {
    char state[16];   /* created, running, paused, restarting, exited */
    char status[128]; /* "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago" */
    char health[16];  /* "", starting, healthy, unhealthy */
    int exit_code;
    char running_for[64]; /* "5 seconds ago" (since creation, as docker's RunningFor) */
    char created_at[64];  /* "2026-11-29 02:08:57 +0000 UTC" */
    bool alive;           /* its process runs */
    pid_t pid;
    struct run_state rs;
};

int64_t ps_now_ns(void);
void ps_state_of(struct cli *c, const char *project, const struct ctr_record *r, int64_t now_ns,
                 struct ps_state *out);
/* The same from a run state in hand (rs; NULL: none, the container never
 * ran): the supervisor's answer to "state". */
void ps_state_from(const struct ctr_record *r, const struct run_state *rs, int64_t now_ns,
                   struct ps_state *out);
/* qsort comparator for arrays of strings. */
int strcmp_p(const char **a, const char **b);

#endif
