/* SPDX-License-Identifier: Apache-2.0 */
/* Linux capabilities as docker and compose name them in cap_add and
 * cap_drop ("NET_ADMIN", "cap_net_admin", "CAP_NET_ADMIN", "ALL"), and
 * Docker's way of combining the two lists with its default set
 * (moby oci/caps TweakCapabilities). Sets are bit masks of CAP_* numbers. */
#ifndef BERTH_UTIL_CAPS_H
#define BERTH_UTIL_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Docker's default capability set (CapEff 00000000a80425fb): CHOWN,
 * DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
 * NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP. */
#define CAPS_DOCKER_DEFAULT 0x00000000a80425fbULL

/* The highest capability number berth knows a name for. */
#define CAPS_LAST_KNOWN 40
/* Every capability berth knows a name for. */
#define CAPS_ALL_KNOWN ((1ULL << (CAPS_LAST_KNOWN + 1)) - 1)

/* cap_add / cap_drop entry: the capability's number, CAPS_NAME_ALL for
 * "ALL", or -EINVAL for a name no kernel has. Case-insensitive, with or
 * without the "CAP_" prefix (not both "CAP_" and "ALL": Docker reads
 * "CAP_ALL" as an unknown capability). */
#define CAPS_NAME_ALL 64
int caps_parse_name(const char *name);

/* "CAP_NET_ADMIN"; NULL for a number without a name. */
const char *caps_name(int cap);

/* One side of cap_add or cap_drop, parsed. */
struct caps_list {
    uint64_t set; /* the capabilities named */
    bool all;     /* "ALL" is among them */
};

/* Docker's rules, in its order: no entry on either side keeps basics;
 * ALL in cap_add gives every capability (all) but those cap_drop names;
 * else ALL in cap_drop gives only what cap_add names; else basics minus
 * cap_drop, plus cap_add. (An ALL in cap_drop does not take away what ALL
 * in cap_add gives, as in Docker.) */
uint64_t caps_tweak(uint64_t basics, uint64_t all, struct caps_list add, struct caps_list drop);

#endif
