/* SPDX-License-Identifier: Apache-2.0 */
/* Per-container cgroups behind one interface with two drivers: the unified
 * hierarchy (cgroup v2) and the legacy one (cgroup v1, including hybrid
 * hosts with a controller-less v2 mount beside v1 controllers). The mode is
 * detected at run time from /proc/self/mountinfo.
 *
 * The tree is BASE/PROJECT/SERVICE/CONTAINER (BASE is per store: "berth"
 * or "berth-<hash>", cmd/project.h cli_cgroup_base): the service level is
 * for stats and kills per service, the container level carries the
 * limits. The caller names the path; this module never makes one up. */
#ifndef BERTH_RUNTIME_CGROUP_H
#define BERTH_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

enum cgroup_ctrl {
    CG_MEMORY,
    CG_CPU,
    CG_CPUACCT,
    CG_PIDS,
    CG_FREEZER,
    CG_DEVICES, /* no limit of its own: the device allow-list (devices.h) */
    CG_CTRL_MAX,
};

struct cgroup_sys {
    bool unified;               /* pure v2: controllers live in the v2 tree */
    char *v2_root;              /* the cgroup2 mount (pure v2, or hybrid's unified), or NULL */
    char *v1_root[CG_CTRL_MAX]; /* each v1 controller's mount, or NULL */
};

struct cgroup_limits {
    int64_t memory;   /* bytes, 0 = none */
    double cpus;      /* 0 = none */
    int64_t pids;     /* 0 = none; -1 = unlimited */
    bool devices_all; /* privileged: every device allowed (no Docker allow-list) */
};

struct cgroup {
    const struct cgroup_sys *sys;
    char *rel; /* "berth/proj/svc/name" */
    int v2_fd; /* O_DIRECTORY fd of the v2 cgroup (for CLONE_INTO_CGROUP), or -1 */
};

/* Finds the hierarchies this process sees (/proc/self/mountinfo) and
 * decides the driver: -ENOENT when no cgroup file system is mounted. */
int cgroup_sys_detect(struct cgroup_sys *s, struct berr *e);
void cgroup_sys_free(struct cgroup_sys *s);

/* The two halves of cgroup_sys_detect, apart for tests: the mounts from
 * mountinfo's text (s zeroed first by the caller), then the decision, given
 * the v2 root's cgroup.controllers (NULL when unreadable). */
void cgroup_sys_parse_mountinfo(struct cgroup_sys *s, FILE *mountinfo);
int cgroup_sys_finish(struct cgroup_sys *s, const char *v2_controllers, struct berr *e);

/* "v2" (unified), "hybrid" (v1 controllers beside a cgroup2 mount) or "v1". */
const char *cgroup_sys_layout(const struct cgroup_sys *s);
/* "memory", "cpu", ... */
const char *cgroup_ctrl_name(enum cgroup_ctrl c);

/* Creates the cgroup (all levels) and applies the limits and the device
 * allow-list (devices.h: the v1 controller where there is one, a BPF
 * program on the v2 cgroup where there is one; neither is an error). On
 * error nothing is left behind. `who` names the service in messages. */
int cgroup_create(const struct cgroup_sys *s, const char *rel, const struct cgroup_limits *lim,
                  const char *who, struct cgroup **out, struct berr *e);
/* Opens an existing cgroup (for down/recovery); never fails for a missing one. */
struct cgroup *cgroup_open(const struct cgroup_sys *s, const char *rel);

/* Opens, for writing, the files through which a new process joins the
 * cgroup itself: each v1 hierarchy's `tasks` (writing "0" there moves the
 * calling thread without the global threadgroup lock, so it costs no RCU
 * grace period) into v1[], and the v2 `cgroup.procs` into *v2 (-1 when
 * there is no v2 level). Returns the number of v1 fds or a negative code. */
int cgroup_join_fds(const struct cgroup *cg, int v1[CG_CTRL_MAX], int *v2, struct berr *e);

/* Number of OOM kills recorded for this cgroup (0 when unknown). */
uint64_t cgroup_oom_kills(const struct cgroup *cg);

/* True when the cgroup has no processes left. */
bool cgroup_is_empty(const struct cgroup *cg);

/* Freezes (pause) or thaws (unpause) every process in the cgroup: v1's
 * freezer.state, v2's cgroup.freeze, and returns once the freezer says it
 * is done (up to 2 s; a freeze not done by then is undone: -EBUSY).
 * Returns 0 or a negative code. */
int cgroup_freeze(const struct cgroup *cg, bool freeze);

/* SIGKILLs every process in the cgroup. */
void cgroup_kill_all(const struct cgroup *cg);

/* Empties the cgroup: SIGKILLs every process in it (thawing it, so that a
 * paused one can die) until none is left, for up to wait_ms. Processes
 * that stay (frozen from outside, in an uninterruptible sleep) fail it with
 * -EBUSY and a message naming each (pid and command). */
int cgroup_kill_wait(const struct cgroup *cg, int wait_ms, struct berr *e);

/* Removes the container cgroup; with prune, also the service, project and
 * berth levels when they are empty. Missing directories are fine. */
int cgroup_destroy(struct cgroup *cg, bool prune, struct berr *e);
/* oom_kill_disable: the v1 memory controller's memory.oom_control set to
 * 1. Returns 0 when done, -ENOTSUP where there is no v1 memory controller
 * (cgroup v2 has no such knob), <0 on other errors. */
int cgroup_disable_oom_kill(const struct cgroup *cg, const char *who, struct berr *e);
void cgroup_free(struct cgroup *cg);

#endif
