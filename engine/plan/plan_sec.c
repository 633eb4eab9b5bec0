/* SPDX-License-Identifier: Apache-2.0 */
/* The security keys beyond capabilities, planned: see plan_sec.h. Not here:
 * their JSON (engine/runtime/ctrplan_sec.c), applying them
 * (engine/runtime). */
#include "engine/plan/plan_sec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/runtime/seccomp_profile.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/kernel.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define SECCOMP_PROFILE_MAX (4 << 20) /* Docker's default profile is 20 KiB */

/* The profile read and compiled once, for its errors: the runtime compiles
 * it again for each start (the capability set decides includes). */
static int plan_seccomp(const struct service *s, struct ctr_plan *out, struct berr *e)
{
    const struct srcpos *at = &s->seccomp_pos;
    if (strcmp(s->seccomp, "unconfined") == 0) {
        out->seccomp = xstrdup("unconfined");
        return 0;
    }
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = fs_read_file(AT_FDCWD, s->seccomp, SECCOMP_PROFILE_MAX, &text, &len, e);
    if (r == 0 && memchr(text, '\0', len))
        r = berr_set(e, -EINVAL, "%s: not a JSON text (it holds a NUL byte)", s->seccomp);
    struct seccomp_prog prog = {0};
    struct seccomp_env env = {.caps = out->caps};
    if (r == 0)
        r = seccomp_profile_compile(text, len, s->seccomp, &env, &prog, e);
    seccomp_prog_free(&prog);
    if (r < 0)
        return berr_wrap(e, "%s:%d:%d: service \"%s\": security_opt seccomp",
                         at->file ? at->file : "?", at->line, at->col, s->name);
    out->seccomp = TAKE_PTR(text);
    out->seccomp_source = xstrdup(s->seccomp);
    return 0;
}

static char *lsm_absent(const struct service *s, const struct srcpos *at, const char *opt,
                        const char *lsm)
{
    return xasprintf("%s:%d:%d: service \"%s\": security_opt \"%s\" not applied: this host has "
                     "no %s (/sys/kernel/security/lsm does not list it)",
                     at->file ? at->file : "?", at->line, at->col, s->name, opt, lsm);
}

char **plan_host_warnings(const struct service *s)
{
    char **w = NULL;
    if (s->apparmor && !kernel_lsm_enabled("apparmor")) {
        _cleanup_free_ char *opt = xasprintf("apparmor=%s", s->apparmor);
        strv_push(&w, lsm_absent(s, &s->apparmor_pos, opt, "AppArmor"));
    }
    if (s->label && !kernel_lsm_enabled("selinux"))
        strv_push(&w, lsm_absent(s, &s->label_pos, s->label, "SELinux"));
    /* cgroup v2 only: no memory.oom_control, no memory.swappiness.
     * Docker's words. */
    bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    if (s->oom_kill_disable && v2)
        strv_push(&w, xasprintf("service \"%s\": Your kernel does not support OomKillDisable. "
                                "OomKillDisable discarded.",
                                s->name));
    if (s->res.mem_swappiness_set && v2)
        strv_push(&w, xasprintf("service \"%s\": Your kernel does not support memory swappiness "
                                "capabilities or the cgroup is not mounted. Memory swappiness "
                                "discarded.",
                                s->name));
    return w;
}

int plan_sec(const struct service *s, struct ctr_plan *out, struct berr *e)
{
    if (s->label && kernel_lsm_enabled("selinux"))
        return berr_set(e, -ENOTSUP,
                        "%s:%d:%d: service \"%s\": security_opt \"%s\": SELinux labels are not "
                        "supported; refusing to start the service, since ignoring them could give "
                        "the container more privilege than the file asks for",
                        s->label_pos.file ? s->label_pos.file : "?", s->label_pos.line,
                        s->label_pos.col, s->name, s->label);
    out->privileged = s->privileged;
    if (s->seccomp) {
        int r = plan_seccomp(s, out, e);
        if (r < 0)
            return r;
    }
    out->apparmor = s->apparmor && kernel_lsm_enabled("apparmor") ? xstrdup(s->apparmor) : NULL;
    out->systempaths_unconfined = s->systempaths_unconfined;
    out->mask = s->mask ? strv_dup(s->mask) : NULL;
    out->unmask = s->unmask ? strv_dup(s->unmask) : NULL;
    out->group_add = s->group_add ? strv_dup(s->group_add) : NULL;
    out->oom_score_adj = s->oom_score_adj;
    out->oom_score_adj_set = s->oom_score_adj_set;
    out->oom_kill_disable = s->oom_kill_disable;
    return 0;
}
