/* SPDX-License-Identifier: Apache-2.0 */
/* pid and ipc container:NAME: the init of that container of the project,
 * running, whose namespaces a starting container joins (as network_mode
 * container:NAME does in sv_net.c). Not here: joining (engine/runtime). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/supervise/sv_internal.h"

int sv_procns_find(void *ctx, const char *name, int *pidfd, struct berr *e)
{
    struct supervisor *sv = ctx;
    struct sv_ctr *t = sv_find_ctr(sv, name);
    if (!t || !t->run || t->run->reaped || t->run->proc.pidfd < 0)
        return berr_set(e, -ENOENT, "container %s is not running (it must be started first)", name);
    *pidfd = fcntl(t->run->proc.pidfd, F_DUPFD_CLOEXEC, 3);
    if (*pidfd < 0)
        return berr_errno(e, errno, "container %s", name);
    return 0;
}
