/* SPDX-License-Identifier: Apache-2.0 */
/* What berth needs from a host, and what stops working without each: one
 * row per requirement. A required one missing means berth cannot run any
 * container here; an optional one costs the feature its row names.
 * Not here: gathering the facts (hostinfo.c, storeinfo.c), printing them
 * (cmd/cmd_info.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/info/hostinfo.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct req {
    const char *key;
    bool required;
    /* Missing on this host? Then *detail (heap, may stay NULL) adds what
     * the probe saw. */
    bool (*missing)(const struct hostinfo *hi, const struct storeinfo *si, char **detail);
    const char *message;
};

static bool no_root(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    if (hi->cap_sys_admin == PROBE_YES || (hi->cap_sys_admin == PROBE_UNKNOWN && hi->euid == 0))
        return false;
    *d = xasprintf("running as uid %u without CAP_SYS_ADMIN", (unsigned)hi->euid);
    return true;
}

static bool no_namespaces(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    if (hi->ns_missing && hi->ns_missing[0]) {
        _cleanup_free_ char *names = strv_join(hi->ns_missing, ", ");
        *d = xasprintf("this kernel has no %s namespace", names);
        return true;
    }
    /* Without the privilege to make them the test says nothing new. */
    if (hi->ns_unshare == PROBE_NO && hi->cap_sys_admin == PROBE_YES) {
        *d = xasprintf("unshare: %s", strerror(hi->ns_unshare_errno));
        return true;
    }
    return false;
}

static bool no_overlay(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->overlay == PROBE_NO;
}

static bool no_clone3(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->clone3 == PROBE_NO;
}

static bool no_pidfd(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->pidfd == PROBE_NO;
}

static bool no_openat2(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->openat2 == PROBE_NO;
}

static bool no_mount_api(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->mount_api == PROBE_NO;
}

static bool no_seccomp(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->seccomp == PROBE_NO;
}

static bool no_cgroups(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    if (hi->cg_ok)
        return false;
    *d = xstrdup(hi->cg_error ? hi->cg_error : "none detected");
    return true;
}

static bool no_device_ctl(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->cg_ok && !hi->cg_device_ctl;
}

static bool store_ro(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    if (si->writable)
        return false;
    *d = xstrdup(si->writable_error ? si->writable_error : si->path);
    return true;
}

static bool used_lacks(const struct hostinfo *hi, const char *ctrl)
{
    return hi->cg_ok && !strv_contains(hi->cg_used, ctrl);
}

static bool no_memory(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return used_lacks(hi, "memory");
}

static bool no_cpu(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return used_lacks(hi, "cpu");
}

static bool no_pids(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return used_lacks(hi, "pids");
}

static bool no_freezer(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->cg_ok && (hi->cg.unified ? !hi->cg_v2_freeze : used_lacks(hi, "freezer"));
}

static bool no_into_cgroup(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->cg_ok && hi->cg.v2_root && hi->clone_into_cgroup == PROBE_NO;
}

static bool no_lowerdir_plus(const struct hostinfo *hi, const struct storeinfo *si, char **d)
{
    return hi->overlay == PROBE_YES && !hi->overlay_lowerdir_plus;
}

/* clang-format off */
static const struct req reqs[] = {
    {"privileges",        true,  no_root,          "berth creates namespaces, mounts and cgroups and must run as root"},
    {"namespaces",        true,  no_namespaces,    "containers run in their own mount, PID, UTS, IPC, network and cgroup namespaces: none can be created"},
    {"overlay",           true,  no_overlay,       "no overlay file system: container root file systems cannot be mounted"},
    {"clone3",            true,  no_clone3,        "no clone3 (Linux 5.3): containers cannot be started"},
    {"pidfd",             true,  no_pidfd,         "no pidfd (Linux 5.3): containers cannot be watched"},
    {"openat2",           true,  no_openat2,       "no openat2 (Linux 5.6): paths inside images cannot be resolved safely, so berth mounts nothing into a container"},
    {"mount_api",         true,  no_mount_api,     "no mount_setattr (Linux 5.12): the new mount API the runtime uses is missing"},
    {"seccomp",           true,  no_seccomp,       "no seccomp filters: the default profile cannot be applied, so no container starts"},
    {"cgroups",           true,  no_cgroups,       "no cgroup file system: containers cannot be placed in cgroups"},
    {"cgroup_devices",    true,  no_device_ctl,    "no device cgroup (v1 devices or cgroup v2): device access cannot be restricted, so no container starts"},
    {"store",             true,  store_ro,         "the store cannot be written: images cannot be loaded nor containers created"},
    {"cgroup_memory",     false, no_memory,        "no memory controller: mem_limit cannot be enforced, services with it refuse to start"},
    {"cgroup_cpu",        false, no_cpu,           "no cpu controller: cpus cannot be enforced, services with it refuse to start"},
    {"cgroup_pids",       false, no_pids,          "no pids controller: pids_limit cannot be enforced, services with it refuse to start"},
    {"cgroup_freezer",    false, no_freezer,       "no freezer: pause and unpause do not work"},
    {"clone_into_cgroup", false, no_into_cgroup,   "no CLONE_INTO_CGROUP (Linux 5.7): containers join their cgroup after clone, a little slower"},
    {"overlay_lowerdir_plus", false, no_lowerdir_plus, "no overlay lowerdir+ (Linux 6.8): the layers go in one option string, so an image with very many layers may not mount"},
};
/* clang-format on */

struct hostcheck *hostinfo_check(const struct hostinfo *hi, const struct storeinfo *si, size_t *n)
{
    size_t nreq = sizeof reqs / sizeof reqs[0];
    struct hostcheck *out = xcalloc(nreq, sizeof *out);
    *n = 0;
    /* Required rows come first in the table, so the list keeps that order. */
    for (size_t i = 0; i < nreq; i++) {
        char *detail = NULL;
        if (!reqs[i].missing(hi, si, &detail))
            continue;
        out[*n] = (struct hostcheck){
            .key = reqs[i].key,
            .required = reqs[i].required,
            .message =
                detail ? xasprintf("%s (%s)", reqs[i].message, detail) : xstrdup(reqs[i].message),
        };
        free(detail);
        (*n)++;
    }
    return out;
}

void hostcheck_free(struct hostcheck *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].message);
    free(list);
}
