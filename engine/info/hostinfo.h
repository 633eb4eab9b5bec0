/* SPDX-License-Identifier: Apache-2.0 */
/* The info module's only door: what `berth info` reports about this host
 * and the store, and whether berth can run containers here at all.
 *
 * Every feature is probed the way berth uses it (the system call itself,
 * the runtime's own cgroup detection), so the report says what berth will
 * do, not what a version number suggests. Probing has no lasting effect:
 * a forked child tries the namespaces, the store is only read.
 *
 * Requirements are a table (hostinfo_check): each row names a feature, whether
 * berth cannot run containers without it (required) or only loses
 * something (optional), and what stops working. */
#ifndef BERTH_ENGINE_INFO_HOSTINFO_H
#define BERTH_ENGINE_INFO_HOSTINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/runtime/cgroup.h"
#include "util/err.h"

enum probe {
    PROBE_UNKNOWN = -1, /* could not tell (e.g. not allowed to ask) */
    PROBE_NO = 0,
    PROBE_YES = 1,
};

struct hostinfo {
    char kernel[65]; /* uname release */
    char arch[65];
    char *os; /* PRETTY_NAME of /etc/os-release, or NULL */
    long ncpu;
    int64_t mem_total; /* bytes, 0 when unknown */

    uid_t euid;
    enum probe cap_sys_admin; /* in the effective set */

    /* Cgroups: the runtime's own detection. */
    struct cgroup_sys cg;
    bool cg_ok;          /* detection succeeded */
    char *cg_error;      /* its message when not */
    char **cg_available; /* v1 hierarchies mounted and v2 root controllers */
    char **cg_used;      /* what berth will put limits in */
    bool cg_v2_freeze;   /* v2: cgroup.freeze (pause on a unified host) */
    bool cg_device_ctl;  /* a v1 devices hierarchy or cgroup v2 (BPF) */

    /* Namespaces berth puts every container in: this kernel has them and a
     * child could unshare them all. */
    char **ns_missing; /* names under /proc/self/ns that do not exist */
    enum probe ns_unshare;
    int ns_unshare_errno;

    enum probe overlay;
    char *overlay_metacopy, *overlay_redirect_dir, *overlay_index, *overlay_xino;
    bool overlay_lowerdir_plus; /* "lowerdir+" (6.8), as the runtime decides */

    enum probe userns; /* a child could unshare a user namespace */
    long max_user_namespaces;
    enum probe idmapped_mounts; /* mount_setattr(MOUNT_ATTR_IDMAP) exists */
    enum probe clone3, pidfd, openat2, mount_api, clone_into_cgroup;
    enum probe seccomp;   /* filter mode with SECCOMP_RET_ERRNO */
    int seccomp_mode;     /* this process's own (0: none; 2: already filtered) */
    unsigned seccomp_api; /* libseccomp's API level for this kernel */
    enum probe nftables;  /* the nf_tables netlink family answers */
    char *nftables_detail;
};

/* Fills hi from this host; never fails (what cannot be told is UNKNOWN). */
void hostinfo_probe(struct hostinfo *hi);
void hostinfo_free(struct hostinfo *hi);

struct storeinfo {
    char *path;
    bool exists;
    bool writable;             /* the store (or the directory it will be made in) */
    char *writable_error;      /* why not */
    int64_t size;              /* bytes on disk, -1 when unknown */
    int64_t fs_free, fs_total; /* of its file system, -1 when unknown */
    /* -1 when they could not be read; *_error says why. */
    long images, volumes, projects, containers;
    long running, paused, stopped;
    char *images_error, *volumes_error, *containers_error;
    char *runroot;
};

/* Reads the store at root (never creating or changing it) and the run
 * states under runroot; never fails (what cannot be read is -1 and said). */
void storeinfo_read(const char *root, const char *runroot, struct storeinfo *si);
void storeinfo_free(struct storeinfo *si);

/* One requirement, as evaluated on this host. */
struct hostcheck {
    const char *key; /* "overlay", "cgroup_memory", ... (snake_case) */
    bool required;   /* without it berth cannot run containers */
    char *message;   /* what is missing and what stops working */
};

/* The requirements this host misses, required first; *n their number.
 * Returns a heap array (hostcheck_free). */
struct hostcheck *hostinfo_check(const struct hostinfo *hi, const struct storeinfo *si, size_t *n);
void hostcheck_free(struct hostcheck *list, size_t n);

/* Pure parsing, for tests. */
/* /proc/cgroups: the names of enabled controllers with a v1 hierarchy. */
char **hostinfo_parse_proc_cgroups(const char *text);
/* "CapEff:\t000001ffffffffff" in /proc/self/status; false when absent. */
bool hostinfo_parse_cap_eff(const char *status, uint64_t *mask);
/* "memory cpu pids" → a list (cgroup.controllers). */
char **hostinfo_split_words(const char *text);
/* PRETTY_NAME="Debian GNU/Linux 12 (bookworm)" → heap string, or NULL. */
char *hostinfo_parse_os_release(const char *text);
/* True when /proc/filesystems lists name. */
bool hostinfo_filesystems_has(const char *text, const char *name);
/* The controllers berth will use on this layout: the v1 hierarchies it
 * found, or on a unified host memory, cpu and pids where the v2 root
 * offers them (v2_controllers), with devices (BPF) and freezer (core). */
char **hostinfo_cgroups_used(const struct cgroup_sys *cg, const char *v2_controllers);

#endif
