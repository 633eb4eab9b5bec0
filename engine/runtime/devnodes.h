/* SPDX-License-Identifier: Apache-2.0 */
/* The host device nodes compose's `devices` gives a container, prepared
 * for its init (init.h struct init_device) from the host's nodes: type,
 * number, mode and owner. Not here: the device cgroup rules that let the
 * container use them (cgroup.c, devices.c). */
#ifndef BERTH_RUNTIME_DEVNODES_H
#define BERTH_RUNTIME_DEVNODES_H

#include "engine/runtime/cgroup.h"
#include "engine/runtime/init.h"
#include "util/err.h"

struct init_devices {
    struct init_device *v;
    size_t n;
};

/* One entry per lim->devices; a host path that is missing or not a
 * device node is an error naming it (`who` names the container). */
int init_devices_prepare(const struct cgroup_limits *lim, const char *who, struct init_devices *out,
                         struct berr *e);
void init_devices_free(struct init_devices *d);

#endif
