/* SPDX-License-Identifier: Apache-2.0 */
/* The device cgroup: which device nodes a container's processes may create
 * (mknod), open for reading and open for writing. Containers keep
 * CAP_MKNOD (Docker's default set) and their root and /dev allow device
 * nodes, so without this a container's root could mknod the host's disks
 * and read or write them.
 *
 * The list is Docker's default one (moby's default spec plus the rules runc
 * always appends): mknod of any character or block device, and read, write
 * and mknod of null, zero, full, random, urandom, tty, console, ptmx, the
 * pts slaves (136:*) and /dev/net/tun (10:200). Everything else is refused
 * with EPERM, /dev/fuse (10:229) included.
 *
 * Two enforcers, each applied where the host has it, both before the
 * container's first process runs (cgroup_create calls them before the
 * clone):
 *   - the v1 `devices` controller (v1 and hybrid hosts): the container's
 *     cgroup gets "a" denied, then each rule allowed;
 *   - a BPF_CGROUP_DEVICE program attached to the container's v2 cgroup
 *     (pure v2 hosts, and hybrid hosts' controller-less unified tree: the
 *     kernel asks both enforcers, so there the two guard each other).
 * A failure of either is an error: the container does not start. The BPF
 * program lives as long as the cgroup it is attached to (its fd is closed
 * once attached), so removing the cgroup frees it. */
#ifndef BERTH_RUNTIME_DEVICES_H
#define BERTH_RUNTIME_DEVICES_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Access bits, as the kernel's device BPF context spells them. */
#define DEV_MKNOD BPF_DEVCG_ACC_MKNOD
#define DEV_READ  BPF_DEVCG_ACC_READ
#define DEV_WRITE BPF_DEVCG_ACC_WRITE
#define DEV_RWM   (DEV_MKNOD | DEV_READ | DEV_WRITE)
#define DEV_ANY   (-1) /* a wildcard major or minor */

/* One allow rule. */
struct dev_rule {
    char type;           /* 'c', 'b', or 'a' for both */
    int32_t major;       /* DEV_ANY: every major */
    int32_t minor;       /* DEV_ANY: every minor */
    unsigned access;     /* DEV_* bits */
    const char *comment; /* the node it is for, or NULL */
};

/* Docker's default allow-list (everything not in it is refused). */
extern const struct dev_rule devices_docker[];
extern const size_t devices_docker_n;

/* Whether the rules allow the access (DEV_* bits) to the device. */
bool devices_allowed(const struct dev_rule *rules, size_t n, char type, uint32_t major,
                     uint32_t minor, unsigned access);

/* The rule as the v1 controller's devices.allow spells it ("c 136:* rwm"). */
void devices_rule_v1(const struct dev_rule *r, char *buf, size_t cap);

/* The BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly what the
 * rules allow: written into out (cap instructions); returns the count, or 0
 * when cap is too small. DEVICES_BPF_MAX is enough for any n <= 32. */
#define DEVICES_BPF_MAX (6 + 32 * 7 + 2)
size_t devices_bpf_program(const struct dev_rule *rules, size_t n, struct bpf_insn *out,
                           size_t cap);

/* Applies Docker's list and then the extra rules (compose's devices and
 * device_cgroup_rules) to a v1 devices cgroup directory (an O_DIRECTORY
 * fd). `who` names the service in messages. */
int devices_apply_v1(int cgroup_dirfd, const struct dev_rule *extra, size_t n_extra,
                     const char *who, struct berr *e);

/* Loads the program for Docker's list and the extra rules and attaches it
 * to the v2 cgroup (an O_DIRECTORY fd), replacing device programs a
 * previous container of the same cgroup path left there. */
int devices_attach_bpf(int cgroup_dirfd, const struct dev_rule *extra, size_t n_extra,
                       const char *who, struct berr *e);

/* "c 1:3 mr", "b *:* rwm", "a 7:* r" as Docker reads device_cgroup_rules
 * (^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$); -EINVAL otherwise. */
int devices_rule_parse(const char *s, struct dev_rule *out);

/* privileged: every device. The v1 controller's "a" allowed (what the
 * cgroup inherited from an earlier container is widened again), and a
 * program that allows everything (rules devices_all) in place of earlier
 * ones on v2. */
extern const struct dev_rule devices_all[];
extern const size_t devices_all_n;
int devices_allow_all_v1(int cgroup_dirfd, const char *who, struct berr *e);
int devices_attach_bpf_rules(int cgroup_dirfd, const struct dev_rule *rules, size_t n_rules,
                             const char *who, struct berr *e);

#endif
