/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime module's only door: start a container from a spec as a child
 * of this process (clone3 into fresh namespaces and its own cgroup), watch
 * it through a pidfd, reap it, clean up after it. Knows nothing of YAML or
 * of the image store. */
#ifndef BERTH_RUNTIME_H
#define BERTH_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/runtime/cgroup.h"
#include "engine/runtime/procns.h"
#include "engine/runtime/seccomp.h"
#include "util/caps.h"
#include "util/err.h"
#include "util/rlimits.h"

/* Built once per process, shared by every container start. */
struct runtime {
    struct cgroup_sys cgsys;
    struct seccomp_prog seccomp; /* default profile for the default caps */
    /* The default profile for each other capability set a container or an
     * exec asked for (Docker opens capability-gated syscalls with the
     * capability), compiled on first use through cache_dir. */
    struct runtime_seccomp_entry {
        uint64_t caps;
        struct seccomp_prog prog;
    } * seccomp_by_caps;
    size_t n_seccomp_by_caps;
    char *seccomp_cache_dir; /* NULL: no cache */
    /* Profiles of security_opt seccomp=PATH, compiled on first use for
     * each capability set (their text is the key). */
    struct runtime_seccomp_custom {
        char *text;
        uint64_t caps;
        struct seccomp_prog prog;
    } * seccomp_custom;
    size_t n_seccomp_custom;
    int cap_last_cap;
    bool lowerdir_plus; /* overlayfs takes "lowerdir+" (Linux >= 6.8) */
    int idmap_layers;   /* the layers take idmapped mounts: -1 not asked yet, 0, 1 */
    /* Scratch buffers the container init reads /etc/passwd and /etc/group
     * into (copy-on-write after clone, so shared safely). */
    char *passwd_buf, *group_buf;
    size_t user_buf_size;
    /* The init program of `init: true` containers in a sealed memfd
     * (close-on-exec), made on first use; -1 until then. */
    int init_program;
};

/* cache_dir: where compiled seccomp filters are kept (NULL: none). */
int runtime_init(struct runtime *rt, const char *cache_dir, struct berr *e);
void runtime_fini(struct runtime *rt);
/* A runtime runtime_fini accepts whether or not runtime_init ran (or
 * failed): declare it _cleanup_runtime_ struct runtime rt = RUNTIME_UNSET. */
#define RUNTIME_UNSET                                                                              \
    {                                                                                              \
        .init_program = -1, .idmap_layers = -1                                                     \
    }
#define _cleanup_runtime_ _cleanup_(runtime_fini)

/* The init program (engine/runtime/pid1) as an fd to execveat: a memfd
 * written once per process from the copy inside berth, then sealed against
 * every change (F_SEAL_WRITE, GROW, SHRINK, SEAL), so that no container
 * can alter what the next one runs. Returns the fd (owned by rt) or <0. */
int runtime_init_program(struct runtime *rt, struct berr *e);

/* A mount inside the container, made after the root file system and
 * before /proc masking; targets are resolved inside the root (through no
 * symlink that leads out) and created when missing. */
enum mount_kind {
    MOUNT_KIND_BIND,  /* source: a host path (a bind mount or a volume's data dir) */
    MOUNT_KIND_TMPFS, /* a fresh tmpfs */
};

struct mount_spec {
    enum mount_kind kind;
    const char *source; /* bind: absolute host path */
    const char *target; /* absolute path in the container */
    bool read_only;
    int64_t tmpfs_size;  /* bytes, 0 = the kernel's default */
    uint32_t tmpfs_mode; /* 0 = 01777 */
};

/* Security beyond capabilities, as the container's plan has it (made from
 * one by plan_sec_spec, engine/runtime/ctrplan_sec.h); a zeroed one is
 * Docker's default confinement. Execs into the container get the same:
 * its privilege, seccomp filter, groups and AppArmor profile. */
struct container_sec {
    /* Every capability of this kernel, no seccomp filter, every device
     * (the host's nodes in /dev), /sys and /proc/sys writable, nothing
     * masked. no_new_privs only when asked. */
    bool privileged;
    /* NULL: the default profile; "unconfined": none; else a Docker-format
     * profile's JSON text, named in messages by seccomp_source */
    const char *seccomp;
    const char *seccomp_source;
    const char *apparmor;        /* profile to exec into (the host has AppArmor), or NULL */
    bool systempaths_unconfined; /* no masked or read-only /proc and /sys paths */
    char *const *mask;           /* more paths masked; NULL-terminated or NULL */
    char *const *unmask;         /* default masked paths left alone, or "ALL" */
    char *const *group_add;      /* supplementary groups: names (the container's
                                    /etc/group) or numbers */
    int oom_score_adj;
    bool oom_score_adj_set;
    bool oom_kill_disable; /* v1 memory.oom_control; nothing on v2 */
};

struct container_spec {
    const char *name;        /* for messages: "proj-web-1" */
    char *const *layer_dirs; /* bottom first, NULL-terminated */
    const char *upper_dir;
    const char *work_dir;
    const char *rootfs_dir; /* empty directory the overlay is mounted on */
    char *const *argv;      /* non-empty */
    char *const *env;       /* "KEY=VALUE" */
    const char *cwd;        /* NULL: "/" */
    const char *user;       /* NULL: root */
    const char *hostname;
    /* Network: netns_path joins the namespace bound there (a held one,
     * made with its links by net/netns.h), net_host keeps the host's
     * (network_mode: host); neither: a fresh namespace with only "lo"
     * (network_mode: none). */
    const char *netns_path;
    bool net_host;
    bool read_only;
    bool tty;               /* a pseudo-terminal from the container's devpts replaces the
                               three fds below; its master side is returned in console_fd */
    const char *cgroup_rel; /* "berth/proj/svc/name" */
    int64_t shm_size;       /* bytes of /dev/shm; 0: Docker's 64 MiB */
    bool init;              /* a minimal init as PID 1 (compose `init: true`) */
    struct cgroup_limits limits;
    const struct mount_spec *mounts; /* in order; a later target may lie in an earlier one */
    size_t n_mounts;
    int stdin_fd; /* -1: /dev/null */
    int stdout_fd;
    int stderr_fd;
    /* Security settings (cap_add/cap_drop, security_opt). caps is the
     * bounding set, and the effective and permitted sets of a root user
     * (a non-root user gets none effective, as in Docker); 0 is a valid
     * set: set it explicitly, CAPS_DOCKER_DEFAULT for Docker's. caps_named
     * are those the file named: one this kernel lacks is an error, as in
     * Docker; others it lacks (from ALL) are left out. */
    uint64_t caps;
    uint64_t caps_named;
    bool no_new_privs; /* PR_SET_NO_NEW_PRIVS before execve */

    /* Security beyond capabilities: privileged, seccomp profiles, LSM labels,
     * masked paths, supplementary groups, OOM settings. */
    struct container_sec sec;

    /* Resources: CPU, memory, block I/O, devices and storage limits
     * (cgroup v1 and v2). */

    /* Process limits, kernel settings and namespaces: ulimits, sysctls,
     * pid, ipc, uts, cgroup, cgroup_parent. */
    const struct ulimit *ulimits; /* set before execve, after Docker's defaults */
    size_t n_ulimits;
    char *const *sysctls; /* "key=value", namespaced ones (the compose model checked) */
    /* NS_PRIVATE by default; NS_JOIN joins the namespace of the process
     * *_join_pidfd (another container's init, the caller's fd). uts and
     * cgroup: NS_PRIVATE or NS_HOST; ipc may be NS_NONE. */
    enum ns_mode pid_ns, ipc_ns, uts_ns, cgroup_ns;
    int pid_join_pidfd, ipc_join_pidfd;

    /* Network shaping: berth's x-berth-network extension (bandwidth,
     * delay, jitter, loss). */

    /* User namespaces: userns_mode and the ID range the container gets. */
    /* userns: the container's own user namespace, 0..65535 inside mapped
     * to uid..uid+65535 and gid..gid+65535 on the host; the layers are seen
     * through idmapped mounts. */
    bool userns;
    uint32_t userns_uid, userns_gid;
    /* Where the file system of the layers refuses idmapped mounts, or
     * always with userns_layers_copy, the layers are the range's copies
     * (layercopy.h) under userns_layers_root ($BERTH_ROOT). */
    const char *userns_layers_root;
    bool userns_layers_copy;

    /* Files given to the container: configs, secrets, volumes_from; and
     * metadata keys (annotations, platform, runtime). */
    const char *domainname; /* the UTS namespace's NIS domain name; NULL: none */

    /* Logging and lifecycle hooks: the logging driver and its options,
     * post_start/pre_stop, attach. */
};

struct container_proc {
    pid_t pid;
    int pidfd;
    unsigned long long start_time; /* /proc/PID/stat field 22, guards pid reuse */
    struct cgroup *cg;
    int console_fd; /* with spec->tty: the terminal's master side (caller owns it) */
};

/* Starts the container and returns once its command has been exec'd (or
 * with the reason it could not be). On failure nothing is left behind:
 * the child is reaped, the cgroup removed. Exec failures are reported as
 * Docker does (exit status 127 not found / 126 not executable) in *e. */
int container_start(struct runtime *rt, const struct container_spec *spec,
                    struct container_proc *out, struct berr *e);

struct container_exit {
    int status; /* exit code, or 128 + signal */
    int signal; /* terminating signal, 0 when it exited */
    bool oom_killed;
};

/* Reaps the container if it has exited (non-blocking). Returns 1 when
 * reaped (and fills *x), 0 when still running, <0 on error. */
int container_reap(struct container_proc *p, struct container_exit *x);

/* A process to run inside a running container (`berth exec`, healthcheck
 * probes): it joins the container's namespaces (through a pidfd of the
 * container's init), its cgroup, and gets the container's user, security
 * settings (capabilities, seccomp) and root. It is born directly in the
 * container's PID namespace as a child of the caller (no intermediate
 * process), so container_reap/container_signal work on it; it has no
 * cgroup of its own (out->cg stays NULL). */
struct exec_spec {
    const char *name;       /* for messages, e.g. "proj-web-1" */
    int target_pidfd;       /* the container init's pidfd */
    const char *cgroup_rel; /* the container's cgroup */
    char *const *argv;      /* non-empty */
    char *const *env;       /* "KEY=VALUE" */
    const char *cwd;        /* NULL: "/" */
    const char *user;       /* NULL: root */
    uint64_t caps;          /* the container's (its plan's caps) */
    bool no_new_privs;      /* the container's */
    /* the container's (privileged, seccomp, groups, AppArmor), with
     * privileged also set by `exec --privileged` */
    struct container_sec sec;
    bool tty;     /* a terminal from the container's devpts; master in console_fd */
    int stdin_fd; /* -1: /dev/null (ignored with tty) */
    int stdout_fd;
    int stderr_fd;
    unsigned short tty_rows, tty_cols; /* with tty: its size before the command starts (0: none) */
    const struct ulimit *ulimits;      /* the container's (Docker applies them to exec too) */
    size_t n_ulimits;
};

/* Returns once the process has reached execve, or with why it could not
 * (as container_start), or when it has not got there within 10 s (a
 * process of the container stopped it): then it is killed and reaped. */
int container_exec(struct runtime *rt, const struct exec_spec *x, struct container_proc *out,
                   struct berr *e);

/* container_exec for an event loop: returns as soon as the process exists
 * (out filled, the caller owns out->pidfd), without waiting for it to get
 * to execve. *status_fd (non-blocking, the caller's to close) becomes
 * readable when it does or fails: container_exec_status then tells which.
 * Until then the process runs berth's code inside the container, where a
 * process of the container can stop it: the caller bounds the wait (a
 * timer), kills it through its pidfd and reaps it. No terminal (x->tty is
 * refused). */
int container_exec_start(struct runtime *rt, const struct exec_spec *x, struct container_proc *out,
                         int *status_fd, struct berr *e);

/* Once status_fd is readable: 1 nothing yet (read again later), 0 the
 * command was exec'd (or the process died before saying anything: its
 * exit tells), <0 why it could not start, in *e. */
int container_exec_status(int status_fd, const char *name, struct berr *e);

/* Sends a signal to the container's init. */
int container_signal(const struct container_proc *p, int sig);

/* Releases the pidfd and removes the container's cgroup (after reaping); the
 * empty service and project levels stay for the next start (down prunes). */
int container_release(struct container_proc *p, struct berr *e);
/* container_release, and the levels above the container's cgroup removed
 * while they are empty (a build step's: nothing else will use them). */
int container_release_prune(struct container_proc *p, struct berr *e);

/* The start time of pid as in /proc/PID/stat (0 when it does not exist). */
unsigned long long proc_start_time(pid_t pid);

#endif
