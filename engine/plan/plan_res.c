/* SPDX-License-Identifier: Apache-2.0 */
/* A service's resource keys as the container's limits (plan.h
 * plan_resources): copied from the model, with what depends on the host
 * checked at up, before anything is made. Not here: the syntax of each key
 * (compose/model_res.c), writing the limits (engine/runtime/cgknobs.c). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/plan/plan.h"
#include "engine/runtime/quota.h"
#include "util/cpuset.h"
#include "util/fs.h"
#include "util/xalloc.h"

static int res_error(struct berr *e, const struct service *s, const struct srcpos *pos,
                     const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int res_error(struct berr *e, const struct service *s, const struct srcpos *pos,
                     const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    return berr_set(e, -EINVAL, "%s:%d:%d: service \"%s\": %s: %s", pos->file ? pos->file : "?",
                    pos->line, pos->col, s->name, key, msg);
}

static int check_cpuset(const struct service *s, struct berr *e)
{
    const struct svc_res *r = &s->res;
    struct cpuset want, online;
    if (cpuset_parse(r->cpuset, &want) < 0)
        return res_error(e, s, &r->cpuset_pos, "cpuset", "invalid CPU list \"%s\"", r->cpuset);
    _cleanup_free_ char *text = NULL;
    struct berr ign = BERR_INIT;
    int rr = fs_read_file(AT_FDCWD, PLAN_CPU_ONLINE, 65536, &text, NULL, &ign);
    berr_clear(&ign);
    if (rr < 0 || cpuset_parse(text, &online) < 0)
        return 0; /* unknown: the kernel judges the write */
    int cpu = cpuset_first_outside(&want, &online);
    if (cpu >= 0) {
        text[strcspn(text, "\n")] = '\0';
        return res_error(e, s, &r->cpuset_pos, "cpuset",
                         "CPU %d is not online on this host (online CPUs: %s)", cpu, text);
    }
    return 0;
}

_Static_assert((int)CG_IO_WEIGHT == SVC_IO_WEIGHT && (int)CG_IO_RBPS == SVC_IO_RBPS &&
                   (int)CG_IO_WBPS == SVC_IO_WBPS && (int)CG_IO_RIOPS == SVC_IO_RIOPS &&
                   (int)CG_IO_WIOPS == SVC_IO_WIOPS,
               "blkio_config kinds: the model's and the runtime's agree");

static const char *const io_keys[] = {
    [SVC_IO_WEIGHT] = "blkio_config.weight_device",
    [SVC_IO_RBPS] = "blkio_config.device_read_bps",
    [SVC_IO_WBPS] = "blkio_config.device_write_bps",
    [SVC_IO_RIOPS] = "blkio_config.device_read_iops",
    [SVC_IO_WIOPS] = "blkio_config.device_write_iops",
};

/* One host path that must be a node: a block device (want_block), or any
 * device. */
static int check_node(const struct service *s, const struct srcpos *pos, const char *key,
                      const char *path, bool want_block, struct berr *e)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return res_error(e, s, pos, key, "device %s: %s", path, strerror(errno));
    if (want_block && !S_ISBLK(st.st_mode))
        return res_error(e, s, pos, key, "%s is not a block device", path);
    if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
        return res_error(e, s, pos, key, "%s is not a device node", path);
    return 0;
}

static unsigned perms_access(const char *p)
{
    unsigned a = 0;
    for (; *p; p++)
        a |= *p == 'r' ? DEV_READ : *p == 'w' ? DEV_WRITE : *p == 'm' ? DEV_MKNOD : 0;
    return a;
}

static int plan_devices(const struct service *s, struct cgroup_limits *l, struct berr *e)
{
    const struct svc_res *r = &s->res;
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct svc_device *d = &r->devices[i];
        int rr = check_node(s, &d->pos, "devices", d->host, false, e);
        if (rr < 0)
            return rr;
    }
    if (r->n_devices) {
        l->devices = xcalloc(r->n_devices, sizeof *l->devices);
        for (size_t i = 0; i < r->n_devices; i++)
            l->devices[l->n_devices++] =
                (struct cgroup_devmap){xstrdup(r->devices[i].host), xstrdup(r->devices[i].ctr),
                                       perms_access(r->devices[i].perms)};
    }
    if (r->n_dev_rules)
        l->dev_rules = xcalloc(r->n_dev_rules, sizeof *l->dev_rules);
    for (size_t i = 0; i < r->n_dev_rules; i++) {
        if (devices_rule_parse(r->dev_rules[i].rule, &l->dev_rules[i]) < 0)
            return res_error(e, s, &r->dev_rules[i].pos, "device_cgroup_rules",
                             "invalid rule \"%s\" (use TYPE MAJOR:MINOR ACCESS, e.g. "
                             "\"c 1:3 mr\" or \"a *:* rwm\")",
                             r->dev_rules[i].rule);
        l->n_dev_rules++;
    }
    return 0;
}

/* What this host cannot do, said at up rather than at the container's
 * start: a cgroup setting the kernel lacks; a storage size where the
 * store's file system (the one holding the image's layers) has no
 * project quotas. */
static int check_host(const struct service *s, const struct image *img,
                      const struct cgroup_limits *l, struct berr *e)
{
    _cleanup_free_ char *who = xasprintf("service \"%s\"", s->name);
    struct cgroup_sys sys;
    if (cgroup_sys_detect(&sys, NULL) == 0) {
        int r = cgroup_limits_supported(&sys, l, who, e);
        cgroup_sys_free(&sys);
        if (r < 0)
            return r;
    }
    if (l->storage_size > 0 && img && img->layer_dirs && img->layer_dirs[0]) {
        /* BERTH_ROOT/layers/ID: the store is what comes before "/layers/" */
        const char *dir = img->layer_dirs[0];
        const char *cut = strstr(dir, "/layers/");
        _cleanup_free_ char *store = cut ? xstrndup(dir, (size_t)(cut - dir)) : xstrdup(dir);
        int r = quota_supported(store, store, e);
        if (r < 0) {
            const struct srcpos *pos = &s->res.storage_pos;
            return berr_wrap(e, "%s:%d:%d: service \"%s\"", pos->file ? pos->file : "?", pos->line,
                             pos->col, s->name);
        }
    }
    return 0;
}

int plan_resources(const struct service *s, const struct image *img, struct ctr_plan *out,
                   struct berr *e)
{
    const struct svc_res *r = &s->res;
    struct cgroup_limits *l = &out->limits;
    if (r->cpuset) {
        int rr = check_cpuset(s, e);
        if (rr < 0)
            return rr;
        l->cpuset = xstrdup(r->cpuset);
    }
    l->cpu_shares = r->cpu_shares;
    l->cpu_quota = r->cpu_quota;
    l->cpu_period = r->cpu_period;
    l->cpu_rt_runtime = r->cpu_rt_runtime;
    l->cpu_rt_period = r->cpu_rt_period;
    l->mem_reservation = r->mem_reservation;
    l->memswap = r->memswap_limit;
    l->mem_swappiness = r->mem_swappiness;
    l->mem_swappiness_set = r->mem_swappiness_set;
    l->blkio_weight = r->blkio_weight;
    l->storage_size = r->storage_size;
    for (size_t i = 0; i < r->n_io; i++) {
        int rr = check_node(s, &r->io[i].pos, io_keys[r->io[i].kind], r->io[i].path, true, e);
        if (rr < 0)
            return rr;
    }
    if (r->n_io) {
        l->io = xcalloc(r->n_io, sizeof *l->io);
        for (size_t i = 0; i < r->n_io; i++)
            l->io[l->n_io++] = (struct cgroup_io){.path = xstrdup(r->io[i].path),
                                                  .kind = (enum cgroup_io_kind)r->io[i].kind,
                                                  .value = r->io[i].value};
    }
    int rr = plan_devices(s, l, e);
    return rr < 0 ? rr : check_host(s, img, l, e);
}
