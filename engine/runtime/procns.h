/* SPDX-License-Identifier: Apache-2.0 */
/* A container's namespaces beyond the network one (pid, ipc, uts, cgroup:
 * private, the host's, or another container's), its sysctls and the
 * cgroup_parent levels berth makes. The parent's half prepares what the
 * allocation-free child needs (struct procns_init); the child's half runs
 * in the container's init between clone3 and execve. Internal to
 * engine/runtime; the spec's fields are in runtime.h. */
#ifndef BERTH_RUNTIME_PROCNS_H
#define BERTH_RUNTIME_PROCNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/cgroup.h"
#include "util/err.h"

/* How a container gets one namespace. */
enum ns_mode {
    NS_PRIVATE, /* a new one of its own (the default) */
    NS_HOST,    /* the caller's (the host's) */
    NS_JOIN,    /* another container's, through its init's pidfd */
    NS_NONE,    /* ipc: a private one without /dev/shm */
};

/* One sysctl, ready for the child: its path under proc/sys and the value. */
struct init_sysctl {
    char path[256]; /* "sys/net/ipv4/ip_forward", relative to the root's proc */
    const char *key;
    const char *value;
};

/* What the container's init needs (in struct init_args). */
struct procns_init {
    const struct init_sysctl *sysctls;
    size_t n_sysctls;
    enum ns_mode ipc;
    int ipc_fd; /* NS_JOIN: the other container's init pidfd (the caller's), else -1 */
    bool joins; /* joins a namespace of another container: not dumpable from the start */
    bool cgroupns_host;
};

struct container_spec;
struct init_args;
struct proc_args;

/* Parent, before clone: checks the spec's namespace settings and sysctls
 * and fills *out; *sysctls is allocated (free it after the start). The
 * clone flags for the pid, uts and ipc namespaces go to *flags. */
int procns_prepare(const struct container_spec *spec, struct procns_init *out,
                   struct init_sysctl **sysctls, uint64_t *flags, struct berr *e);

/* Parent: the prepared settings into the init's arguments, with the
 * spec's ulimits; no sethostname in the host's UTS namespace. */
void procns_init_args(struct init_args *a, const struct procns_init *ns,
                      const struct container_spec *spec);

/* Parent, around clone3: with pid NS_JOIN, points this thread's
 * pid_for_children at the other container's PID namespace (*saved gets
 * this thread's own, to give back to procns_pid_leave); else does
 * nothing (*saved = -1). procns_pid_leave aborts when it cannot restore
 * (every later child would be born in the container). */
int procns_pid_enter(const struct container_spec *spec, int *saved, struct berr *e);
void procns_pid_leave(int saved);

/* Child, right after the parent lets it go: no longer dumpable when it
 * joins another container's namespaces, then into its IPC namespace. */
void procns_child_join(struct procns_init *ns, struct proc_args *p);
/* Child: /dev/shm as the ipc mode says (rootfd: the new root, before
 * pivot_root). Returns false when it is the default private tmpfs, for
 * the caller to mount. */
bool procns_child_shm(struct procns_init *ns, struct proc_args *p, int rootfd);
/* Child: writes the sysctls through the container's fresh /proc (before
 * /proc/sys is made read-only). */
void procns_child_sysctls(struct procns_init *ns, struct proc_args *p, int rootfd);

/* Child: one compose ulimit (proc.c's set_rlimits, for inits and execs). */
struct ulimit;
void proc_set_ulimit(struct proc_args *a, const struct ulimit *u);

/* cgroup_parent: rel is the container's cgroup; when it is not in berth's
 * own tree (BASE/...), the levels above it that do not exist yet are made
 * here in every hierarchy and marked as berth's, so that a prune removes
 * those (once empty) and never one berth did not make. */
int cgroup_parent_prepare(const struct cgroup_sys *s, const char *rel, const char *who,
                          struct berr *e);
/* Undoes cgroup_parent_prepare when the container's cgroup itself could
 * not be made: the levels berth made, while empty. */
void cgroup_parent_release(const struct cgroup_sys *s, const char *rel);
/* Whether a prune may remove the level dir of the cgroup rel: every level
 * of berth's own tree; above a cgroup_parent container, only those berth
 * made. */
bool cgroup_level_prunable(const char *rel, const char *dir);

#endif
