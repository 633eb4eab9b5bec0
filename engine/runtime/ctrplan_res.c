/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's resource limits beyond memory, cpus and pids in its JSON form
 * (ctrplan.h plan_res_to_json), and back. Each member is written only when
 * set, and the whole "resources" object only when one is. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/ctrplan.h"
#include "util/xalloc.h"

static const char *const io_kinds[] = {
    [CG_IO_WEIGHT] = "weight", [CG_IO_RBPS] = "rbps",   [CG_IO_WBPS] = "wbps",
    [CG_IO_RIOPS] = "riops",   [CG_IO_WIOPS] = "wiops",
};

void plan_res_to_json(const struct cgroup_limits *l, json_t *plan)
{
    json_t *o = json_object();
    plan_json_put_int(o, "cpu_shares", l->cpu_shares);
    plan_json_put_int(o, "cpu_quota", l->cpu_quota);
    plan_json_put_int(o, "cpu_period", l->cpu_period);
    plan_json_put_int(o, "cpu_rt_runtime", l->cpu_rt_runtime);
    plan_json_put_int(o, "cpu_rt_period", l->cpu_rt_period);
    if (l->cpuset)
        json_object_set_new(o, "cpuset", json_string(l->cpuset));
    plan_json_put_int(o, "mem_reservation", l->mem_reservation);
    plan_json_put_int(o, "memswap", l->memswap);
    if (l->mem_swappiness_set)
        json_object_set_new(o, "mem_swappiness", json_integer(l->mem_swappiness));
    plan_json_put_int(o, "blkio_weight", l->blkio_weight);
    plan_json_put_int(o, "storage_size", l->storage_size);
    if (l->n_io) {
        json_t *a = json_array();
        for (size_t i = 0; i < l->n_io; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "path", l->io[i].path, "kind",
                                               io_kinds[l->io[i].kind], "value",
                                               (json_int_t)l->io[i].value));
        json_object_set_new(o, "io", a);
    }
    if (l->n_devices) {
        json_t *a = json_array();
        for (size_t i = 0; i < l->n_devices; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "host", l->devices[i].host, "ctr",
                                               l->devices[i].ctr, "access",
                                               (int)l->devices[i].access));
        json_object_set_new(o, "devices", a);
    }
    if (l->n_dev_rules) {
        json_t *a = json_array();
        for (size_t i = 0; i < l->n_dev_rules; i++) {
            char rule[64];
            devices_rule_v1(&l->dev_rules[i], rule, sizeof rule);
            json_array_append_new(a, json_string(rule));
        }
        json_object_set_new(o, "device_rules", a);
    }
    if (json_object_size(o))
        json_object_set_new(plan, "resources", o);
    else
        json_decref(o);
}

static int64_t get_int(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

void plan_res_from_json(json_t *plan, struct cgroup_limits *l)
{
    json_t *o = json_object_get(plan, "resources");
    if (!json_is_object(o))
        return;
    l->cpu_shares = get_int(o, "cpu_shares");
    l->cpu_quota = get_int(o, "cpu_quota");
    l->cpu_period = get_int(o, "cpu_period");
    l->cpu_rt_runtime = get_int(o, "cpu_rt_runtime");
    l->cpu_rt_period = get_int(o, "cpu_rt_period");
    const char *cs = json_string_value(json_object_get(o, "cpuset"));
    l->cpuset = cs ? xstrdup(cs) : NULL;
    l->mem_reservation = get_int(o, "mem_reservation");
    l->memswap = get_int(o, "memswap");
    json_t *sw = json_object_get(o, "mem_swappiness");
    l->mem_swappiness_set = json_is_integer(sw);
    l->mem_swappiness = (int)json_integer_value(sw);
    l->blkio_weight = (unsigned)get_int(o, "blkio_weight");
    l->storage_size = get_int(o, "storage_size");
    json_t *a = json_object_get(o, "io"), *it;
    size_t i;
    if (json_array_size(a))
        l->io = xcalloc(json_array_size(a), sizeof *l->io);
    json_array_foreach(a, i, it)
    {
        const char *path = json_string_value(json_object_get(it, "path"));
        const char *kind = json_string_value(json_object_get(it, "kind"));
        size_t k = 0;
        while (kind && k < ARRAY_SIZE(io_kinds) && strcmp(io_kinds[k], kind) != 0)
            k++;
        if (!path || !kind || k == ARRAY_SIZE(io_kinds))
            continue;
        l->io[l->n_io++] = (struct cgroup_io){.path = xstrdup(path),
                                              .kind = (enum cgroup_io_kind)k,
                                              .value = (uint64_t)get_int(it, "value")};
    }
    a = json_object_get(o, "devices");
    if (json_array_size(a))
        l->devices = xcalloc(json_array_size(a), sizeof *l->devices);
    json_array_foreach(a, i, it)
    {
        const char *host = json_string_value(json_object_get(it, "host"));
        const char *ctr = json_string_value(json_object_get(it, "ctr"));
        if (host && ctr)
            l->devices[l->n_devices++] = (struct cgroup_devmap){xstrdup(host), xstrdup(ctr),
                                                                (unsigned)get_int(it, "access")};
    }
    a = json_object_get(o, "device_rules");
    if (json_array_size(a))
        l->dev_rules = xcalloc(json_array_size(a), sizeof *l->dev_rules);
    json_array_foreach(a, i, it)
    {
        const char *rule = json_string_value(it);
        if (rule && devices_rule_parse(rule, &l->dev_rules[l->n_dev_rules]) == 0)
            l->n_dev_rules++;
    }
}
