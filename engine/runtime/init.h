/* SPDX-License-Identifier: Apache-2.0 */
/* The container's init: the code that runs in the cloned child between
 * clone3 and execve. Everything it needs is prepared by the parent in
 * struct init_args (the child sees a copy-on-write snapshot), so the child
 * only makes system calls: no allocation, no locks, no stdio. */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/runtime/proc.h"
#include "engine/runtime/procns.h"
#include "engine/runtime/seccomp.h"

#define INIT_MAX_CGMOUNTS 8

/* A mount of the container's spec (volume, bind, tmpfs), prepared by the
 * parent (see mountspec.h). */
struct init_mount {
    const char *source;  /* bind: absolute host path; NULL: a tmpfs */
    const char *target;  /* inside the root, lexically clean, relative ("data/x") */
    const char *what;    /* "mounting /data/x", for messages */
    bool read_only;      /* bind: recursively */
    bool target_is_file; /* bind of a file: a missing target is made an empty file */
    char tmpfs_size[24]; /* "size" option in bytes, "" for the kernel's default */
    char tmpfs_mode[16]; /* "mode" option, octal */
};

/* A host device node made in the container's /dev, prepared by the
 * parent from the host's node: one compose `devices` gives, or one of the
 * host's /dev (privileged). */
struct init_device {
    char path[200];   /* below /dev, lexically clean: "loop7", "snd/pcm" */
    const char *what; /* "making /dev/loop7", for messages */
    mode_t mode;      /* the host node's type and permission bits */
    dev_t rdev;
    uid_t uid;
    gid_t gid;
};

struct init_args {
    struct proc_args p; /* command, user, security: shared with exec */
    int sync_fd;        /* read end: the parent writes one byte to let the child go */
    /* cgroup files the child writes "0" to, joining its cgroup itself */
    int cg_join[8];
    int n_cg_join;
    int cg_join_v2; /* -1: none, or already joined by CLONE_INTO_CGROUP */

    const char *rootfs_dir;
    char *const *lower_top_first; /* layer dirs, topmost first */
    const char *upper_dir;
    const char *work_dir;
    const char *overlay_opts; /* full option string, when lowerdir+ is unavailable */
    bool lowerdir_plus;

    bool cgroup_unified; /* mount cgroup2 at /sys/fs/cgroup; else v1 hierarchies */
    bool cgroup_has_v2;  /* hybrid: also a cgroup2 at /sys/fs/cgroup/unified */
    const char *cgmount_names[INIT_MAX_CGMOUNTS]; /* v1 dir names, e.g. "memory", "cpu,cpuacct" */
    /* userns (v1 cannot be mounted there): each hierarchy's directory of the
     * container's cgroup on the host, bound instead, as cgmount_names */
    const char *cg_host_dirs[INIT_MAX_CGMOUNTS];
    int n_cgmounts;

    const struct init_mount *mounts; /* in order, after /dev and /sys, before masking */
    size_t n_mounts;

    /* The network namespace: netns_fd >= 0 joins that one (its "lo" is
     * the creator's business); net_host stays in the caller's; neither:
     * the fresh one from clone, with "lo" brought up here. */
    int netns_fd;
    bool net_host;

    const struct init_device *devices; /* made after the standard nodes */
    size_t n_devices;

    const char *hostname;
    const char *domainname; /* NULL: left empty */
    bool read_only;
    char shm_size[32];     /* tmpfs size= of /dev/shm ("65536k" when empty) */
    int console_sock;      /* with p.tty: the terminal's master side goes to the parent here */
    struct procns_init ns; /* pid, ipc, uts and cgroup namespaces, sysctls (procns.h) */
    /* In a user namespace of its own (idmap.h): the root file system is
     * mounted at rootfs_dir by the parent before the go; the child opens
     * it and clones the mounts' sources into mount_fds (n_mounts slots)
     * while it is still host root, which may walk the store's private
     * directories, and then becomes the namespace's root. */
    bool userns;
    int *mount_fds;

    /* Security beyond capabilities (see struct container_sec). */
    bool privileged;     /* /sys and cgroups writable, the host's devices, nothing masked */
    bool no_masks;       /* privileged or systempaths=unconfined: no masked or read-only paths */
    bool unmask_all;     /* unmask=ALL: no default masked path */
    char *const *mask;   /* more masked paths (absolute), or NULL */
    char *const *unmask; /* default masked paths left alone (absolute), or NULL */
    const struct init_device *devnodes; /* privileged: the host's /dev nodes */
    size_t n_devnodes;
};

/* The overlay of the layers (topmost first, "lowerdir+", Linux >= 6.8),
 * upper and work as a detached mount: its fd, or -errno. System calls
 * only. */
int init_overlay_fsmount(char *const *lower_top_first, const char *upper, const char *work);

/* Never returns: execs the command or reports through error_fd and exits. */
__attribute__((noreturn)) void container_init(struct init_args *a);

#endif
