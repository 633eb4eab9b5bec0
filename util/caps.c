/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names and numbers both ways, and Docker's way of combining
 * cap_add and cap_drop with its default set: pure bit arithmetic, so the plan
 * can decide a container's set before anything runs. Not here: applying a set
 * to a process (engine/runtime/proc.c), the seccomp groups a set opens
 * (engine/runtime/seccomp.c). */
#include "util/caps.h"

#include <errno.h>
#include <stddef.h>
#include <strings.h>

/* Indexed by capability number (linux/capability.h). */
static const char *const cap_names[CAPS_LAST_KNOWN + 1] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

/* The same names with the prefix, for messages. */
static const char *const cap_full_names[CAPS_LAST_KNOWN + 1] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int caps_parse_name(const char *name)
{
    if (!name)
        return -EINVAL;
    /* Docker upper-cases, then compares "ALL" before adding the prefix. */
    if (strcasecmp(name, "ALL") == 0)
        return CAPS_NAME_ALL;
    if (strncasecmp(name, "CAP_", 4) == 0)
        name += 4;
    for (int c = 0; c <= CAPS_LAST_KNOWN; c++)
        if (strcasecmp(name, cap_names[c]) == 0)
            return c;
    return -EINVAL;
}

const char *caps_name(int cap)
{
    return cap >= 0 && cap <= CAPS_LAST_KNOWN ? cap_full_names[cap] : NULL;
}

uint64_t caps_tweak(uint64_t basics, uint64_t all, struct caps_list add, struct caps_list drop)
{
    if (!add.set && !add.all && !drop.set && !drop.all)
        return basics;
    if (add.all)
        return all & ~drop.set;
    if (drop.all)
        return add.set;
    return (basics & ~drop.set) | add.set;
}
