/* SPDX-License-Identifier: Apache-2.0 */
/* The running kernel's version, for features that no probe can tell apart
 * cheaply (overlayfs options, CLONE_INTO_CGROUP). Probe a system call where
 * one can be probed; compare versions only where nothing else says. */
#ifndef BERTH_UTIL_KERNEL_H
#define BERTH_UTIL_KERNEL_H

#include <stdbool.h>

/* True when release ("6.1.0-13-amd64", uname's) is maj.min or later; false
 * for a release that does not start with two numbers. */
bool kernel_release_at_least(const char *release, int maj, int min);

/* The same for the running kernel. */
bool kernel_at_least(int maj, int min);

/* Whether the host runs the Linux security module name ("apparmor",
 * "selinux"): /sys/kernel/security/lsm lists it, or, where securityfs is
 * not mounted, /sys/module/NAME/parameters/enabled says Y or 1. */
bool kernel_lsm_enabled(const char *name);

#endif
