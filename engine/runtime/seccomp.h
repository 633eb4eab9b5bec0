/* SPDX-License-Identifier: Apache-2.0 */
/* The default seccomp profile: Docker's default semantics (an allow-list
 * with EPERM for everything else, namespace flags of clone refused, clone3
 * answering ENOSYS, capability-gated groups), with io_uring, AF_ALG and
 * AF_VSOCK blocked as current Docker does. Compiled once into classic BPF in
 * the parent; the container's init only hands it to the kernel. */
#ifndef BERTH_RUNTIME_SECCOMP_H
#define BERTH_RUNTIME_SECCOMP_H

#include <linux/filter.h>
#include <stdint.h>

#include "util/err.h"

struct seccomp_prog {
    struct sock_filter *insns;
    unsigned short len;
};

/* Builds the default profile for a container whose capability set is caps
 * (bit mask of CAP_*): capability-gated syscalls are allowed when the
 * capability is present, as Docker does. */
int seccomp_build_default(uint64_t caps, struct seccomp_prog *out, struct berr *e);

/* Like seccomp_build_default, through a cache of compiled filters in
 * cache_dir (NULL: no cache). The cache key covers the profile's rules, the
 * capability set, the architecture and libseccomp's version, so a stale
 * entry is never used: the key is a checksum of every rule, taken by the
 * walk that builds the filter. An entry carries a checksum of its key and
 * program; one that fails it is rebuilt. Compiling costs milliseconds;
 * reading, microseconds. */
int seccomp_load_default(const char *cache_dir, uint64_t caps, struct seccomp_prog *out,
                         struct berr *e);
void seccomp_prog_free(struct seccomp_prog *p);

/* Exports a libseccomp filter (a scmp_filter_ctx) as classic BPF into
 * out, and releases it (on every path). */
int seccomp_export_prog(void *ctx, struct seccomp_prog *out, struct berr *e);

/* Exposed for tests: the names in the unconditional allow-list. */
extern const char *const seccomp_default_allow[];

#endif
