/* SPDX-License-Identifier: Apache-2.0 */
/* The command side of cgroup_parent and of shared pid and ipc
 * namespaces: where a container's cgroup goes, and the running container
 * a one-off joins. Not here: the supervisor's lookup
 * (engine/supervise/sv_procns.c), joining (engine/runtime/procns.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "cmd/project.h"
#include "util/xalloc.h"

void cli_cgroup_parent(char **rel, const struct ctr_plan *pl)
{
    if (!pl->cgroup_parent || !*rel)
        return;
    const char *slash = strrchr(*rel, '/');
    char *moved = xasprintf("%s/%s", pl->cgroup_parent, slash ? slash + 1 : *rel);
    free(*rel);
    *rel = moved;
}

int cli_procns_find(void *ctx, const char *name, int *pidfd, struct berr *e)
{
    const struct cli_procns_ctx *c = ctx;
    struct run_state rs;
    if (run_state_read(c->runroot, c->project, name, &rs) < 0 || !run_state_alive(&rs))
        return berr_set(e, -ENOENT, "container %s is not running (start it first)", name);
    int fd = pidfd_open(rs.pid, 0);
    /* The pid is that container's only while it has the recorded start
     * time: checked after the pidfd holds it. */
    if (fd >= 0 && proc_start_time(rs.pid) != rs.start_time) {
        close(fd);
        fd = -1;
        errno = ESRCH;
    }
    if (fd < 0)
        return berr_set(e, -ENOENT, "container %s is not running (start it first)", name);
    *pidfd = fd;
    return 0;
}
