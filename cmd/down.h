/* SPDX-License-Identifier: Apache-2.0 */
/* `down` as a function, for `down` itself and `wait --down`: stops the
 * project's containers (through its supervisor, else directly) and removes
 * them, their cgroups and run state (and with volumes, the project's
 * volumes). Not here: `up` and its phases (cmd/up.h). */
#ifndef BERTH_CMD_DOWN_H
#define BERTH_CMD_DOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cli.h"
#include "util/err.h"

/* What down's flags decided. */
struct down_opts {
    int64_t timeout_ns; /* -t; -1: each service's grace */
    bool volumes;       /* -v */
    bool remove_orphans;
};

/* services: named on the command line (their profiles are enabled when
 * the file is read), or NULL. Returns 0, 1 when a container could not be
 * removed (said as it happened), or a negative code with e filled. */
int down_project(struct cli *c, const struct down_opts *o, char *const *services, struct berr *e);

#endif
