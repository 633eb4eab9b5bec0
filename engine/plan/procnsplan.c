/* SPDX-License-Identifier: Apache-2.0 */
/* A container's ulimits, sysctls and namespaces from its service: Docker's
 * names made resources, a shared namespace's service made the name of its
 * first container, and the check that no hard limit asks for more than
 * berth itself may give. Not here: joining anything (the supervisor and
 * engine/runtime, when the container starts). */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/plan/plan.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* "service:X" as "container:" and X's first container's name; others as
 * written. NULL for an unknown service (validate.c reports it first). */
static char *shared_mode(const struct project *p, const char *mode)
{
    if (strncmp(mode, "service:", 8) != 0)
        return xstrdup(mode);
    const struct service *t = project_service(p, mode + 8);
    if (!t)
        return NULL;
    return t->container_name ? xasprintf("container:%s", t->container_name)
                             : xasprintf("container:%s-%s-1", p->name, t->name);
}

static bool has_sys_resource(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return false;
    return d[CAP_SYS_RESOURCE / 32].effective & (1U << (CAP_SYS_RESOURCE % 32));
}

uint64_t plan_ulimit_ceiling(int resource, bool *raisable)
{
    struct rlimit have;
    *raisable = has_sys_resource();
    if (getrlimit(resource, &have) < 0)
        return UINT64_MAX;
    if (!*raisable)
        return have.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)have.rlim_max;
    if (resource != RLIMIT_NOFILE)
        return UINT64_MAX;
    /* The kernel's own bound on open files, even for CAP_SYS_RESOURCE. */
    FILE *f = fopen("/proc/sys/fs/nr_open", "re");
    unsigned long long n = 0;
    if (!f)
        return UINT64_MAX;
    if (fscanf(f, "%llu", &n) != 1)
        n = 0;
    fclose(f);
    return n ? n : UINT64_MAX;
}

/* A hard limit above what berth can give is said now, at the place in the
 * file, before anything is made: without CAP_SYS_RESOURCE (as on hosts
 * that drop it) that is berth's own hard limit, which it cannot raise;
 * with it, the kernel's bound on open files (fs.nr_open). */
static int check_hard_limit(const struct service *s, const struct svc_ulimit *u, int resource,
                            struct berr *e)
{
    bool raisable;
    uint64_t max = plan_ulimit_ceiling(resource, &raisable);
    if (max == UINT64_MAX || (u->hard >= 0 && (uint64_t)u->hard <= max))
        return 0;
    char want[32];
    if (u->hard < 0)
        snprintf(want, sizeof want, "unlimited");
    else
        snprintf(want, sizeof want, "%lld", (long long)u->hard);
    const char *file = u->pos.file ? u->pos.file : "?";
    if (raisable)
        return berr_set(e, -EPERM,
                        "%s:%d:%d: service \"%s\": ulimits %s: the hard limit %s is above the "
                        "kernel's maximum %llu (fs.nr_open)",
                        file, u->pos.line, u->pos.col, s->name, u->name, want,
                        (unsigned long long)max);
    return berr_set(e, -EPERM,
                    "%s:%d:%d: service \"%s\": ulimits %s: the hard limit %s is above berth's own "
                    "hard limit %llu, which it cannot raise without CAP_SYS_RESOURCE (lower the "
                    "limit, or raise berth's%s)",
                    file, u->pos.line, u->pos.col, s->name, u->name, want, (unsigned long long)max,
                    resource == RLIMIT_NOFILE ? ": ulimit -Hn" : "");
}

int plan_procns(const struct project *p, const struct service *s, struct ctr_plan *out,
                struct berr *e)
{
    if (s->n_ulimits)
        out->ulimits = xcalloc(s->n_ulimits, sizeof *out->ulimits);
    for (size_t i = 0; i < s->n_ulimits; i++) {
        const struct svc_ulimit *u = &s->ulimits[i];
        int res = rlimit_by_name(u->name);
        if (res < 0)
            return berr_set(e, -EINVAL, "service \"%s\": ulimits: unknown limit \"%s\"", s->name,
                            u->name);
        int r = check_hard_limit(s, u, res, e);
        if (r < 0)
            return r;
        out->ulimits[out->n_ulimits++] = (struct ulimit){res, u->soft, u->hard};
    }
    out->sysctls = s->sysctls ? strv_dup(s->sysctls) : NULL;
    const char *const modes[] = {s->pid, s->ipc};
    char **outs[] = {&out->pid_mode, &out->ipc_mode};
    for (size_t i = 0; i < 2; i++) {
        if (!modes[i])
            continue;
        *outs[i] = shared_mode(p, modes[i]);
        if (!*outs[i])
            return berr_set(e, -EINVAL, "service \"%s\": %s: unknown service \"%s\"", s->name,
                            i == 0 ? "pid" : "ipc", modes[i] + 8);
    }
    out->uts_host = s->uts_host;
    if (s->uts_host) {
        /* The host's name, as Docker gives a uts: host container: in
         * /etc/hosts and HOSTNAME. */
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) == 0 && host[0]) {
            free(out->hostname);
            out->hostname = xstrdup(host);
        }
    }
    out->cgroupns_host = s->cgroup_host;
    out->cgroup_parent = s->cgroup_parent ? xstrdup(s->cgroup_parent) : NULL;
    return 0;
}
