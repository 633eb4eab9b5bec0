/* SPDX-License-Identifier: Apache-2.0 */
/* Which cgroup file gets which text for each resource limit, on the v1 and
 * the v2 driver (cgroup.h cgroup_knobs): a pure function, so that both
 * drivers' mappings are tested on any host. Docker's (runc's) meaning for
 * each setting. Not here: writing them (cgroup.c). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/cgroup.h"
#include "util/xalloc.h"

struct knobs {
    struct cgroup_knob *v;
    size_t n, cap;
};

static struct cgroup_knob *add(struct knobs *k, enum cgroup_ctrl ctrl, const char *file,
                               const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static struct cgroup_knob *add(struct knobs *k, enum cgroup_ctrl ctrl, const char *file,
                               const char *key, const char *fmt, ...)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->v = xreallocarray(k->v, k->cap, sizeof *k->v);
    }
    struct cgroup_knob *o = &k->v[k->n++];
    *o = (struct cgroup_knob){.ctrl = ctrl, .file = file, .key = key};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->val, sizeof o->val, fmt, ap);
    va_end(ap);
    return o;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
    /* runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000] */
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

static void memory_knobs(struct knobs *k, const struct cgroup_limits *l, bool v2)
{
    if (l->memory > 0) {
        add(k, CG_MEMORY, v2 ? "memory.max" : "memory.limit_in_bytes", "mem_limit", "%" PRId64,
            l->memory);
        /* memswap_limit: memory and swap together; unset, swap up to the
         * limit again (Docker's default); -1, swap without a limit. */
        int64_t both = l->memswap > 0 ? l->memswap : l->memory * 2;
        struct cgroup_knob *o;
        if (!v2 && l->memswap < 0)
            o = add(k, CG_MEMORY, "memory.memsw.limit_in_bytes", "memswap_limit", "-1");
        else if (!v2)
            o = add(k, CG_MEMORY, "memory.memsw.limit_in_bytes", "memswap_limit", "%" PRId64, both);
        else if (l->memswap < 0)
            o = add(k, CG_MEMORY, "memory.swap.max", "memswap_limit", "max");
        else
            o = add(k, CG_MEMORY, "memory.swap.max", "memswap_limit", "%" PRId64, both - l->memory);
        /* Without swap accounting the default and -1 ask for nothing, and
         * are skipped; an explicit memswap_limit would go unenforced: an
         * error (fail closed). */
        o->optional = l->memswap <= 0;
    }
    if (l->mem_reservation > 0)
        add(k, CG_MEMORY, v2 ? "memory.low" : "memory.soft_limit_in_bytes", "mem_reservation",
            "%" PRId64, l->mem_reservation);
    /* v2 has no swappiness: ignored there, as Docker does. */
    if (l->mem_swappiness_set && !v2)
        add(k, CG_MEMORY, "memory.swappiness", "mem_swappiness", "%d", l->mem_swappiness);
}

static void cpu_knobs(struct knobs *k, const struct cgroup_limits *l, bool v2)
{
    if (l->cpu_shares > 0) {
        if (v2)
            add(k, CG_CPU, "cpu.weight", "cpu_shares", "%" PRIu64,
                cgroup_shares_to_weight((uint64_t)l->cpu_shares));
        else
            add(k, CG_CPU, "cpu.shares", "cpu_shares", "%" PRId64, l->cpu_shares);
    }
    /* cpus is a quota over a 100 ms period; cpu_quota/cpu_period set them
     * directly (compose refuses both together, as Docker does). */
    int64_t period = l->cpu_period, quota = l->cpu_quota;
    const char *key = quota || period ? (quota ? "cpu_quota" : "cpu_period") : "cpus";
    if (l->cpus > 0) {
        period = 100000;
        quota = (int64_t)(l->cpus * 100000 + 0.5);
    }
    if (period || quota) {
        if (v2) {
            char q[24] = "max";
            if (quota > 0)
                snprintf(q, sizeof q, "%" PRId64, quota);
            add(k, CG_CPU, "cpu.max", key, "%s %" PRId64, q, period ? period : 100000);
        } else {
            if (period)
                add(k, CG_CPU, "cpu.cfs_period_us", key, "%" PRId64, period);
            if (quota)
                add(k, CG_CPU, "cpu.cfs_quota_us", key, "%" PRId64, quota < 0 ? -1 : quota);
        }
    }
    /* Real-time time: v1 only (cgroup v2 has no such controller). */
    if (l->cpu_rt_period)
        add(k, CG_CPU, v2 ? NULL : "cpu.rt_period_us", "cpu_rt_period", "%" PRId64,
            l->cpu_rt_period);
    if (l->cpu_rt_runtime)
        add(k, CG_CPU, v2 ? NULL : "cpu.rt_runtime_us", "cpu_rt_runtime", "%" PRId64,
            l->cpu_rt_runtime);
    if (l->cpuset)
        add(k, CG_CPUSET, "cpuset.cpus", "cpuset", "%s", l->cpuset);
}

static const char *const io_v1_files[] = {
    [CG_IO_WEIGHT] = "blkio.weight_device",
    [CG_IO_RBPS] = "blkio.throttle.read_bps_device",
    [CG_IO_WBPS] = "blkio.throttle.write_bps_device",
    [CG_IO_RIOPS] = "blkio.throttle.read_iops_device",
    [CG_IO_WIOPS] = "blkio.throttle.write_iops_device",
};
static const char *const io_keys[] = {
    [CG_IO_WEIGHT] = "blkio_config.weight_device",
    [CG_IO_RBPS] = "blkio_config.device_read_bps",
    [CG_IO_WBPS] = "blkio_config.device_write_bps",
    [CG_IO_RIOPS] = "blkio_config.device_read_iops",
    [CG_IO_WIOPS] = "blkio_config.device_write_iops",
};
static const char *const io_v2_names[] = {
    [CG_IO_RBPS] = "rbps", [CG_IO_WBPS] = "wbps", [CG_IO_RIOPS] = "riops", [CG_IO_WIOPS] = "wiops"};

static void io_knobs(struct knobs *k, const struct cgroup_limits *l, bool v2)
{
    if (l->blkio_weight) {
        struct cgroup_knob *o =
            add(k, CG_BLKIO, v2 ? "io.weight" : "blkio.weight", "blkio_config.weight",
                v2 ? "default %u" : "%u", l->blkio_weight);
        o->alt = v2 ? "io.bfq.weight" : "blkio.bfq.weight";
    }
    for (size_t i = 0; i < l->n_io; i++) {
        const struct cgroup_io *io = &l->io[i];
        if (io->kind == CG_IO_WEIGHT) {
            struct cgroup_knob *o =
                add(k, CG_BLKIO, v2 ? "io.weight" : io_v1_files[CG_IO_WEIGHT],
                    io_keys[CG_IO_WEIGHT], "%u:%u %" PRIu64, io->major, io->minor, io->value);
            o->alt = v2 ? "io.bfq.weight" : "blkio.bfq.weight_device";
        } else if (!v2) {
            add(k, CG_BLKIO, io_v1_files[io->kind], io_keys[io->kind], "%u:%u %" PRIu64, io->major,
                io->minor, io->value);
        }
    }
    if (!v2)
        return;
    /* v2: one io.max line per device with each of its limits; the last
     * value the file gives for a setting wins, as in v1. */
    for (size_t i = 0; i < l->n_io; i++) {
        const struct cgroup_io *io = &l->io[i];
        bool first = io->kind != CG_IO_WEIGHT;
        for (size_t j = 0; j < i && first; j++)
            if (l->io[j].kind != CG_IO_WEIGHT && l->io[j].major == io->major &&
                l->io[j].minor == io->minor)
                first = false;
        if (!first)
            continue;
        uint64_t v[CG_IO_WIOPS + 1] = {0};
        bool set[CG_IO_WIOPS + 1] = {false};
        for (size_t j = i; j < l->n_io; j++)
            if (l->io[j].kind != CG_IO_WEIGHT && l->io[j].major == io->major &&
                l->io[j].minor == io->minor) {
                v[l->io[j].kind] = l->io[j].value;
                set[l->io[j].kind] = true;
            }
        char line[96];
        int len = snprintf(line, sizeof line, "%u:%u", io->major, io->minor);
        for (int kind = CG_IO_RBPS; kind <= CG_IO_WIOPS; kind++)
            if (set[kind])
                len += snprintf(line + len, sizeof line - (size_t)len, " %s=%" PRIu64,
                                io_v2_names[kind], v[kind]);
        add(k, CG_BLKIO, "io.max", io_keys[io->kind], "%s", line);
    }
}

size_t cgroup_knobs(const struct cgroup_limits *lim, bool unified, struct cgroup_knob **out)
{
    struct knobs k = {0};
    memory_knobs(&k, lim, unified);
    cpu_knobs(&k, lim, unified);
    if (lim->pids != 0) {
        if (lim->pids > 0)
            add(&k, CG_PIDS, "pids.max", "pids_limit", "%" PRId64, lim->pids);
        else
            add(&k, CG_PIDS, "pids.max", "pids_limit", "max");
    }
    io_knobs(&k, lim, unified);
    *out = k.v;
    return k.n;
}

void cgroup_limits_free(struct cgroup_limits *l)
{
    free(l->cpuset);
    for (size_t i = 0; i < l->n_io; i++)
        free(l->io[i].path);
    free(l->io);
    for (size_t i = 0; i < l->n_devices; i++) {
        free(l->devices[i].host);
        free(l->devices[i].ctr);
    }
    free(l->devices);
    free(l->dev_rules);
    memset(l, 0, sizeof *l);
}
