/* SPDX-License-Identifier: Apache-2.0 */
/* A Docker-format seccomp profile (security_opt seccomp=PATH): its JSON
 * read with jansson and compiled with libseccomp into classic BPF in the
 * parent, as moby's profiles/seccomp and runc do:
 *   defaultAction (+ defaultErrnoRet), architectures or archMap (the entry
 *   of this host's architecture), syscalls[] with name or names, action
 *   (+ errnoRet), args (index, value, valueTwo, op), includes/excludes by
 *   arches, caps and minKernel.
 * SCMP_ACT_NOTIFY (a listener berth does not run) is refused. Names this
 * libseccomp does not know are skipped, as runc does, so one profile works
 * across versions. Not here: the default profile (seccomp.h). */
#ifndef BERTH_RUNTIME_SECCOMP_PROFILE_H
#define BERTH_RUNTIME_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/runtime/seccomp.h"
#include "util/err.h"

/* What the includes/excludes of a profile are decided against. */
struct seccomp_env {
    uint64_t caps;      /* the container's capability set */
    const char *arch;   /* Go's name of this architecture ("amd64"); NULL: this host's */
    const char *kernel; /* uname's release ("6.1.0-13-amd64"); NULL: this host's */
};

/* Compiles the profile text (len bytes) for env into out. source names the
 * profile in messages ("seccomp.json"): a profile that does not parse is
 * "SOURCE:LINE:COL: what jansson says"; a wrong field is "SOURCE:
 * syscalls[3].action: ...". */
int seccomp_profile_compile(const char *text, size_t len, const char *source,
                            const struct seccomp_env *env, struct seccomp_prog *out,
                            struct berr *e);

#endif
