/* SPDX-License-Identifier: Apache-2.0 */
/* `up` and a kept container whose x-berth-network values changed: the
 * values are not part of the config that decides recreation, so the
 * running container's links are reshaped in place (through its network
 * namespace) and its record takes the new values, for the supervisor's
 * later starts. Not here: the tc work (net/shape.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd/up.h"
#include "engine/runtime/shapesetup.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* The container's network namespace while it runs (-1 when it does
 * not); its start time checked after opening, against PID reuse. */
static int running_netns(const char *runroot, const char *project, const char *name)
{
    struct run_state rs;
    if (run_state_read(runroot, project, name, &rs) < 0 || !run_state_alive(&rs))
        return -1;
    _cleanup_free_ char *path = xasprintf("/proc/%d/ns/net", (int)rs.pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !run_state_alive(&rs))
        return -1;
    return TAKE_FD(fd);
}

int up_shape_change(struct cli *c, const char *project, const struct ctr_record *old,
                    const struct net_shape *want, struct berr *e)
{
    if (net_shape_equal(&old->plan.shape, want))
        return 0;
    struct ctr_record rec = *old; /* shallow: old owns the strings */
    rec.plan.shape = *want;
    _cleanup_close_ int nsfd = running_netns(c->runroot, project, old->name);
    if (nsfd >= 0 && !old->plan.network_mode) {
        int r = shapesetup_apply(&rec.plan, old->id, nsfd, e);
        if (r < 0)
            return r;
    }
    int r = ctr_rewrite(c->root, &rec, e);
    if (r < 0)
        return berr_wrap(e, "container %s", old->name);
    return 0;
}
