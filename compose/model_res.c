/* SPDX-License-Identifier: Apache-2.0 */
/* The resource keys of a service, read into struct svc_res with Docker's
 * rules for each value: cpu_shares, cpu_quota, cpu_period, cpu_rt_*,
 * cpuset, mem_reservation, memswap_limit, mem_swappiness, blkio_config,
 * devices, device_cgroup_rules, storage_opt and deploy.resources. What
 * depends on the host (a device that exists, a CPU that is online) is
 * checked at up by engine/plan/plan_res.c; writing the limits is the
 * runtime's (engine/runtime/cgknobs.c). */
#include <stdlib.h>
#include <string.h>

#include "compose/model_internal.h"
#include "util/cpuset.h"
#include "util/units.h"
#include "util/xalloc.h"

static bool key_is(const struct ynode *k, const char *name)
{
    return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

/* A position as messages name the file ("compose.yaml:3:5"). */
static struct srcpos res_pos(const struct model *m, const struct ynode *at)
{
    struct srcpos pos = pos_of(m, at);
    if (m->p->file_names && m->p->file_names[at->src->index])
        pos.file = m->p->file_names[at->src->index];
    return pos;
}

void key_cpu_shares(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t n;
    if (want_int(m, s, "cpu_shares", kv->value, 0, &n) < 0)
        return;
    if (n == 1 || n > 262144) {
        svc_error(m, s, kv->value, "cpu_shares",
                  "%s is out of range (use 2 to 262144; 1024 is the default weight)",
                  QN(kv->value));
        return;
    }
    s->res.cpu_shares = n;
}

void key_cpu_quota(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t n;
    if (want_int(m, s, "cpu_quota", kv->value, -1, &n) < 0)
        return;
    if (n > 0 && n < 1000) {
        svc_error(m, s, kv->value, "cpu_quota",
                  "%s is less than the kernel's minimum of 1000 microseconds (1ms)", QN(kv->value));
        return;
    }
    s->res.cpu_quota = n;
}

/* A CFS or real-time period: 1 ms to 1 s, as the kernel takes it. */
static void want_period(struct model *m, const struct ypair *kv, struct service *s, const char *key,
                        int64_t *out)
{
    int64_t n;
    if (want_int(m, s, key, kv->value, 0, &n) < 0)
        return;
    if (n && (n < 1000 || n > 1000000)) {
        svc_error(m, s, kv->value, key, "%s is out of range (use 1000 to 1000000 microseconds)",
                  QN(kv->value));
        return;
    }
    *out = n;
}

void key_cpu_period(struct model *m, struct service *s, const struct ypair *kv)
{
    want_period(m, kv, s, "cpu_period", &s->res.cpu_period);
}

void key_cpu_rt_runtime(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t n;
    if (want_int(m, s, "cpu_rt_runtime", kv->value, 0, &n) == 0)
        s->res.cpu_rt_runtime = n;
}

void key_cpu_rt_period(struct model *m, struct service *s, const struct ypair *kv)
{
    want_period(m, kv, s, "cpu_rt_period", &s->res.cpu_rt_period);
}

void key_cpuset(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *v = want_string(m, s, "cpuset", kv->value);
    if (!v)
        return;
    struct cpuset set;
    int r = cpuset_parse(v, &set);
    if (r < 0) {
        svc_error(m, s, kv->value, "cpuset",
                  r == -ERANGE ? "%s names a CPU number past %d"
                               : "invalid CPU list %s (use numbers and ranges such as "
                                 "\"0-3,6\")",
                  QN(kv->value), CPUSET_MAX - 1);
        return;
    }
    free(s->res.cpuset);
    s->res.cpuset = xstrdup(v);
    s->res.cpuset_pos = res_pos(m, kv->value);
}

void key_mem_reservation(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t v;
    if (want_size(m, s, "mem_reservation", kv->value, &v) == 0)
        s->res.mem_reservation = v;
}

void key_memswap_limit(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (v->kind == YNODE_SCALAR && v->len == 2 && memcmp(v->str, "-1", 2) == 0) {
        s->res.memswap_limit = -1;
        return;
    }
    int64_t b;
    if (want_size(m, s, "memswap_limit", v, &b) == 0)
        s->res.memswap_limit = b;
}

void key_mem_swappiness(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t n;
    if (want_int(m, s, "mem_swappiness", kv->value, INT64_MIN, &n) < 0)
        return;
    if (n == -1)
        return; /* Docker's "not set" */
    if (n < 0 || n > 100) {
        svc_error(m, s, kv->value, "mem_swappiness", "%s is out of range (use 0 to 100)",
                  QN(kv->value));
        return;
    }
    s->res.mem_swappiness = (int)n;
    s->res.mem_swappiness_set = true;
}

/* --- blkio_config ----------------------------------------------------------- */

static int want_weight(struct model *m, const struct service *s, const char *key,
                       const struct ynode *v, int64_t *out)
{
    int64_t n;
    if (want_int(m, s, key, v, 0, &n) < 0)
        return -EINVAL;
    if (n < 10 || n > 1000) {
        svc_error(m, s, v, key, "weight %s is out of range (use 10 to 1000)", QN(v));
        return -ERANGE;
    }
    *out = n;
    return 0;
}

static void io_add(struct service *s, const char *path, int kind, uint64_t value, struct srcpos pos)
{
    struct svc_res *r = &s->res;
    r->io = xreallocarray(r->io, r->n_io + 1, sizeof *r->io);
    r->io[r->n_io++] = (struct svc_io){xstrdup(path), kind, value, pos};
}

/* One list of blkio_config: entries {path, weight} or {path, rate}. */
static void blkio_list(struct model *m, struct service *s, const struct ynode *k,
                       const struct ynode *list, int kind)
{
    char key[64];
    snprintf(key, sizeof key, "blkio_config.%.*s", (int)k->len, k->str);
    if (ynode_is_null(list))
        return;
    if (list->kind != YNODE_SEQ) {
        svc_error(m, s, list, key, "expected a list of {path, %s}, got %s",
                  kind == SVC_IO_WEIGHT ? "weight" : "rate", ynode_describe(list));
        return;
    }
    const char *field = kind == SVC_IO_WEIGHT ? "weight" : "rate";
    for (size_t i = 0; i < list->n_items; i++) {
        const struct ynode *it = list->items[i];
        const struct ynode *path = it->kind == YNODE_MAP ? ymap_get(it, "path") : NULL;
        const struct ynode *val = it->kind == YNODE_MAP ? ymap_get(it, field) : NULL;
        if (!path || !val) {
            svc_error(m, s, it, key, "item %zu: expected {path: /dev/..., %s: ...}", i + 1, field);
            continue;
        }
        for (size_t j = 0; j < it->n_pairs; j++)
            if (!key_is(it->pairs[j].key, "path") && !key_is(it->pairs[j].key, field))
                svc_error(m, s, it->pairs[j].key, key, "item %zu: unknown key %s", i + 1,
                          QN(it->pairs[j].key));
        const char *p = want_string(m, s, key, path);
        if (!p)
            continue;
        if (p[0] != '/') {
            svc_error(m, s, path, key, "device path %s is not absolute", QN(path));
            continue;
        }
        int64_t n;
        int r;
        if (kind == SVC_IO_WEIGHT)
            r = want_weight(m, s, key, val, &n);
        else if (kind == SVC_IO_RBPS || kind == SVC_IO_WBPS)
            r = want_size(m, s, key, val, &n);
        else
            r = want_int(m, s, key, val, 0, &n);
        if (r < 0)
            continue;
        if (n <= 0) {
            svc_error(m, s, val, key, "rate %s must be positive", QN(val));
            continue;
        }
        io_add(s, p, kind, (uint64_t)n, res_pos(m, path));
    }
}

void key_blkio_config(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "blkio_config", "expected a mapping, got %s", ynode_describe(v));
        return;
    }
    static const struct {
        const char *name;
        int kind;
    } lists[] = {
        {"weight_device", SVC_IO_WEIGHT},    {"device_read_bps", SVC_IO_RBPS},
        {"device_write_bps", SVC_IO_WBPS},   {"device_read_iops", SVC_IO_RIOPS},
        {"device_write_iops", SVC_IO_WIOPS},
    };
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (key_is(k, "weight")) {
            int64_t n;
            if (!ynode_is_null(val) && want_weight(m, s, "blkio_config.weight", val, &n) == 0)
                s->res.blkio_weight = (unsigned)n;
            continue;
        }
        size_t j = 0;
        while (j < ARRAY_SIZE(lists) && !key_is(k, lists[j].name))
            j++;
        if (j < ARRAY_SIZE(lists))
            blkio_list(m, s, k, val, lists[j].kind);
        else if (k->len < 2 || memcmp(k->str, "x-", 2) != 0)
            svc_error(m, s, k, "blkio_config",
                      "unknown key %s (use weight, weight_device, device_read_bps, "
                      "device_write_bps, device_read_iops or device_write_iops)",
                      QN(k));
    }
}

/* --- devices ---------------------------------------------------------------- */

/* A container path for a device node: absolute, under /dev, lexically
 * clean (no "." or ".." component, no empty one). */
static bool dev_target_ok(const char *t)
{
    if (strncmp(t, "/dev/", 5) != 0 || !t[5])
        return false;
    for (const char *c = t + 5; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += n;
        if (*c == '/' && !*++c)
            return false;
    }
    return true;
}

void key_devices(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, "devices", "expected a list, got %s", ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        const struct ynode *src = it->kind == YNODE_MAP ? ymap_get(it, "source") : NULL;
        const struct ynode *dst = it->kind == YNODE_MAP ? ymap_get(it, "target") : NULL;
        const struct ynode *perm = it->kind == YNODE_MAP ? ymap_get(it, "permissions") : NULL;
        const char *host = src ? want_string(m, s, "devices", src) : NULL;
        if (!host) {
            if (!src)
                svc_error(m, s, it, "devices", "item %zu: expected \"/dev/x[:/dev/y[:rwm]]\"",
                          i + 1);
            continue;
        }
        const char *ctr = dst ? want_string(m, s, "devices", dst) : host;
        const char *perms = perm ? want_string(m, s, "devices", perm) : "rwm";
        if (!ctr || !perms)
            continue;
        if (host[0] != '/') {
            svc_error(m, s, src, "devices", "host device %s is not an absolute path", QS(host));
            continue;
        }
        if (!dev_target_ok(ctr)) {
            svc_error(m, s, dst ? dst : src, "devices",
                      "container path %s must be a clean path under /dev (berth makes device "
                      "nodes only in the container's /dev)",
                      QS(ctr));
            continue;
        }
        bool ok = *perms && strlen(perms) <= 3;
        for (const char *c = perms; *c && ok; c++)
            ok = strchr("rwm", *c) && !strchr(c + 1, *c);
        if (!ok) {
            svc_error(m, s, perm ? perm : it, "devices",
                      "invalid permissions %s (use r, w and m, e.g. \"rwm\")", QS(perms));
            continue;
        }
        struct svc_res *r = &s->res;
        r->devices = xreallocarray(r->devices, r->n_devices + 1, sizeof *r->devices);
        struct svc_device *d = &r->devices[r->n_devices++];
        *d =
            (struct svc_device){.host = xstrdup(host), .ctr = xstrdup(ctr), .pos = res_pos(m, src)};
        snprintf(d->perms, sizeof d->perms, "%s", perms);
    }
}

void key_device_cgroup_rules(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_SEQ) {
        svc_error(m, s, v, "device_cgroup_rules", "expected a list of strings, got %s",
                  ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        const char *rule = want_string(m, s, "device_cgroup_rules", v->items[i]);
        if (!rule)
            continue;
        struct svc_res *r = &s->res;
        r->dev_rules = xreallocarray(r->dev_rules, r->n_dev_rules + 1, sizeof *r->dev_rules);
        r->dev_rules[r->n_dev_rules++] =
            (struct svc_dev_rule){xstrdup(rule), res_pos(m, v->items[i])};
    }
}

void key_storage_opt(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "storage_opt", "expected a mapping such as {size: 1G}, got %s",
                  ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (!key_is(k, "size")) {
            svc_error(m, s, k, "storage_opt",
                      "unknown option %s (berth's overlay storage takes only size)", QN(k));
            continue;
        }
        int64_t b;
        if (want_size(m, s, "storage_opt.size", val, &b) < 0)
            continue;
        if (b <= 0) {
            svc_error(m, s, val, "storage_opt.size", "size %s must be positive", QN(val));
            continue;
        }
        s->res.storage_size = b;
        s->res.storage_pos = res_pos(m, k);
    }
}

/* --- deploy.resources ------------------------------------------------------- */

static void deploy_limits(struct model *m, struct service *s, const struct ynode *lim)
{
    if (ynode_is_null(lim))
        return;
    if (lim->kind != YNODE_MAP) {
        svc_error(m, s, lim, "deploy.resources.limits", "expected a mapping, got %s",
                  ynode_describe(lim));
        return;
    }
    for (size_t i = 0; i < lim->n_pairs; i++) {
        const struct ynode *k = lim->pairs[i].key, *v = lim->pairs[i].value;
        if (ynode_is_null(v))
            continue;
        if (key_is(k, "memory")) {
            int64_t b;
            if (want_size(m, s, "deploy.resources.limits.memory", v, &b) == 0 && b)
                s->mem_limit = b;
        } else if (key_is(k, "cpus")) {
            double c;
            if (want_cpus(m, s, "deploy.resources.limits.cpus", v, &c) == 0 && c > 0)
                s->cpus = c;
        } else if (key_is(k, "pids")) {
            int64_t n;
            if (want_int(m, s, "deploy.resources.limits.pids", v, -1, &n) == 0 && n)
                s->pids_limit = n;
        } else if (k->len < 2 || memcmp(k->str, "x-", 2) != 0) {
            /* devices and generic_resources are reservations only */
            svc_error(m, s, k, "deploy.resources.limits",
                      "%s is not a limit (use cpus, memory or pids)", QN(k));
        }
    }
}

/* As docker compose outside a swarm: a memory reservation is the memory
 * soft limit; CPU and PID reservations are swarm scheduling hints. */
static void deploy_reservations(struct model *m, struct service *s, const struct ynode *res)
{
    if (ynode_is_null(res))
        return;
    if (res->kind != YNODE_MAP) {
        svc_error(m, s, res, "deploy.resources.reservations", "expected a mapping, got %s",
                  ynode_describe(res));
        return;
    }
    for (size_t i = 0; i < res->n_pairs; i++) {
        const struct ynode *k = res->pairs[i].key, *v = res->pairs[i].value;
        if (ynode_is_null(v))
            continue;
        if (key_is(k, "memory")) {
            int64_t b;
            if (want_size(m, s, "deploy.resources.reservations.memory", v, &b) == 0 && b)
                s->res.mem_reservation = b;
        } else if (key_is(k, "cpus") || key_is(k, "pids")) {
            diag_warn_at(m->d, YPOS(k),
                         "service %s: deploy.resources.reservations.%s is ignored (a swarm "
                         "scheduling hint, as docker compose ignores it outside a swarm)",
                         QS(s->name), k->str);
        } else if (key_is(k, "devices") || key_is(k, "generic_resources")) {
            if (v->kind == YNODE_SEQ && v->n_items == 0)
                continue;
            /* config still prints the file; up refuses the service */
            refuse(m, s, k,
                   "deploy.resources.reservations.%s (GPUs and other devices through a device "
                   "driver: berth has none; give a host device node with devices: instead)",
                   k->str);
        } else if (k->len < 2 || memcmp(k->str, "x-", 2) != 0) {
            svc_error(m, s, k, "deploy.resources.reservations",
                      "unknown key %s (use cpus, memory, pids or devices)", QN(k));
        }
    }
}

void deploy_resources(struct model *m, struct service *s, const struct ynode *v)
{
    for (size_t j = 0; j < v->n_pairs; j++) {
        const struct ynode *rk = v->pairs[j].key;
        if (key_is(rk, "limits"))
            deploy_limits(m, s, v->pairs[j].value);
        else if (key_is(rk, "reservations"))
            deploy_reservations(m, s, v->pairs[j].value);
        else if (rk->len < 2 || memcmp(rk->str, "x-", 2) != 0)
            svc_error(m, s, rk, "deploy.resources", "unknown key %s (use limits or reservations)",
                      QN(rk));
    }
}

/* --- Rules across keys (Docker's daemon checks) ------------------------------ */

void finish_resources(struct model *m, struct service *s)
{
    const struct ynode *at = m->body;
    const struct svc_res *r = &s->res;
    if (s->cpus > 0 && (r->cpu_quota || r->cpu_period)) {
        const struct ynode *k = ymap_get(at, r->cpu_quota ? "cpu_quota" : "cpu_period");
        svc_error(m, s, k ? k : at, r->cpu_quota ? "cpu_quota" : "cpu_period",
                  "cannot be set together with cpus (Docker's rule: cpus is a quota over "
                  "a 100ms period)");
    }
    if (r->memswap_limit && !s->mem_limit) {
        const struct ynode *k = ymap_get(at, "memswap_limit");
        svc_error(m, s, k ? k : at, "memswap_limit",
                  "needs mem_limit too (memswap_limit is memory and swap together)");
    } else if (r->memswap_limit > 0 && r->memswap_limit < s->mem_limit) {
        const struct ynode *k = ymap_get(at, "memswap_limit");
        svc_error(m, s, k ? k : at, "memswap_limit",
                  "is less than mem_limit (it counts memory and swap together)");
    }
    if (r->mem_reservation && s->mem_limit && r->mem_reservation > s->mem_limit) {
        const struct ynode *k = ymap_get(at, "mem_reservation");
        svc_error(m, s, k ? k : at, "mem_reservation", "is more than mem_limit");
    }
    if (r->cpu_rt_runtime && r->cpu_rt_runtime > (r->cpu_rt_period ? r->cpu_rt_period : 1000000)) {
        const struct ynode *k = ymap_get(at, "cpu_rt_runtime");
        svc_error(m, s, k ? k : at, "cpu_rt_runtime",
                  "is more than cpu_rt_period (1000000 microseconds when not set)");
    }
}

void svc_res_clear(struct svc_res *r)
{
    free(r->cpuset);
    for (size_t i = 0; i < r->n_io; i++)
        free(r->io[i].path);
    free(r->io);
    for (size_t i = 0; i < r->n_devices; i++) {
        free(r->devices[i].host);
        free(r->devices[i].ctr);
    }
    free(r->devices);
    for (size_t i = 0; i < r->n_dev_rules; i++)
        free(r->dev_rules[i].rule);
    free(r->dev_rules);
    memset(r, 0, sizeof *r);
}
