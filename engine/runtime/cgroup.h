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

#include "engine/runtime/devices.h"
#include "util/err.h"

enum cgroup_ctrl {
    CG_MEMORY,
    CG_CPU,
    CG_CPUACCT,
    CG_PIDS,
    CG_FREEZER,
    CG_DEVICES, /* no limit of its own: the device allow-list (devices.h) */
    CG_CPUSET,
    CG_BLKIO,
    CG_CTRL_MAX,
};

struct cgroup_sys {
    bool unified;               /* pure v2: controllers live in the v2 tree */
    char *v2_root;              /* the cgroup2 mount (pure v2, or hybrid's unified), or NULL */
    char *v1_root[CG_CTRL_MAX]; /* each v1 controller's mount, or NULL */
};

/* One block I/O setting of blkio_config for one device. */
enum cgroup_io_kind {
    CG_IO_WEIGHT, /* weight_device: value 10..1000 */
    CG_IO_RBPS,   /* device_read_bps: bytes per second */
    CG_IO_WBPS,
    CG_IO_RIOPS, /* device_read_iops: operations per second */
    CG_IO_WIOPS,
};

struct cgroup_io {
    char *path; /* the host's block device, as the file names it */
    enum cgroup_io_kind kind;
    uint64_t value;
    uint32_t major, minor; /* filled from path when the cgroup is made */
};

/* A host device node the container gets (compose `devices`). */
struct cgroup_devmap {
    char *host;      /* the host's node, e.g. /dev/loop7 */
    char *ctr;       /* where it appears in the container: under /dev */
    unsigned access; /* DEV_* bits (devices.h) */
};

struct cgroup_limits {
    int64_t memory; /* bytes, 0 = none */
    double cpus;    /* 0 = none */
    int64_t pids;   /* 0 = none; -1 = unlimited */
    /* The rest of compose's resource keys (Docker's meaning); zero is
     * "not set" for each. Pointers are owned by whoever owns the struct
     * (a plan: cgroup_limits_free). */
    int64_t cpu_shares;                    /* v1 cpu.shares, 2..262144 */
    int64_t cpu_quota, cpu_period;         /* µs; cpu_quota -1: unlimited */
    int64_t cpu_rt_runtime, cpu_rt_period; /* µs; v1 only */
    char *cpuset;                          /* "0-1,3" */
    int64_t mem_reservation;               /* bytes */
    int64_t memswap;                       /* memory + swap bytes; -1: unlimited swap */
    int mem_swappiness;                    /* 0..100 when mem_swappiness_set */
    bool mem_swappiness_set;
    unsigned blkio_weight; /* 10..1000 */
    struct cgroup_io *io;  /* per device, in the file's order */
    size_t n_io;
    struct cgroup_devmap *devices;
    size_t n_devices;
    struct dev_rule *dev_rules; /* device_cgroup_rules (comment NULL) */
    size_t n_dev_rules;
    int64_t storage_size; /* storage_opt size: bytes of the upper dir */
    bool devices_all;     /* privileged: every device allowed (no Docker allow-list) */
};

void cgroup_limits_free(struct cgroup_limits *l);

/* One file write of the limits, as one driver spells it. */
struct cgroup_knob {
    enum cgroup_ctrl ctrl; /* its v1 hierarchy (unused on v2) */
    /* The file, and the one tried when it is absent (blkio.bfq.weight for
     * blkio.weight); NULL file: the driver has no such setting, an error. */
    const char *file, *alt;
    bool optional;   /* skipped when neither file exists (swap accounting) */
    const char *key; /* the compose key, for messages */
    char val[96];
};

/* The writes for the limits on a v2 (unified) or v1 host, in the order
 * they must be made; io entries must have their major:minor filled. A
 * pure function (no file is read): heap array in *out, returns the count. */
size_t cgroup_knobs(const struct cgroup_limits *lim, bool unified, struct cgroup_knob **out);

/* Docker's (and runc's) cpu.shares to cgroup v2 cpu.weight. */
uint64_t cgroup_shares_to_weight(uint64_t shares);

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

/* The distinct hierarchy roots (the v2 one first), as paths; their number. */
int cgroup_roots(const struct cgroup_sys *s, const char *out[CG_CTRL_MAX + 1]);

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
/* Whether this host can take the limits, before anything is made: 0, or
 * -ENOTSUP naming `who`, the compose key and what the host lacks (a
 * controller, a file such as blkio.weight, v1's real-time time on v2). */
int cgroup_limits_supported(const struct cgroup_sys *s, const struct cgroup_limits *lim,
                            const char *who, struct berr *e);

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
