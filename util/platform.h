/* SPDX-License-Identifier: Apache-2.0 */
/* Image platforms ("linux/arm64/v8") as docker and containerd read them:
 * parsing, the normalization of architecture names (x86_64 → amd64,
 * aarch64 → arm64, armhf → arm/v7, ...), this host's platform and matching
 * an index entry against a wanted one. Pure logic: compose validates the
 * `platform` key with it, the image module picks index entries with it,
 * cmd/ tells what cannot run here. */
#ifndef BERTH_UTIL_PLATFORM_H
#define BERTH_UTIL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define PLATFORM_PART_MAX 32
/* "os/arch/variant" always fits. */
#define PLATFORM_STR_MAX (3 * PLATFORM_PART_MAX)

struct platform {
    char os[PLATFORM_PART_MAX];      /* "linux" */
    char arch[PLATFORM_PART_MAX];    /* "amd64", "arm64", "arm" */
    char variant[PLATFORM_PART_MAX]; /* "" or "v7", "v6", ... */
};

/* Parses "os/arch[/variant]", "arch" alone (os linux) or "linux" alone (this
 * host's architecture), lowercased and normalized. -EINVAL with a message
 * naming s when it is not a platform. */
int platform_parse(const char *s, struct platform *out, struct berr *e);

/* Sets out from parts (any may be NULL or ""), normalized. */
void platform_set(struct platform *out, const char *os, const char *arch, const char *variant);

/* Normalizes in place as containerd's platforms.Normalize: OS lowercased,
 * architecture aliases (i386 → 386, x86_64 → amd64, aarch64 → arm64,
 * armhf → arm/v7, armel → arm/v6), default variants (arm → v7, arm64 v8
 * and amd64 v1 are dropped: they are the defaults). */
void platform_normalize(struct platform *p);

/* This host: linux, its architecture and default variant. */
void platform_host(struct platform *out);

/* Whether have (an index entry's or an image config's platform, normalized)
 * serves want: same OS and architecture, and the same variant unless want
 * has none. */
bool platform_matches(const struct platform *want, const struct platform *have);

/* "os/arch" or "os/arch/variant" into buf (PLATFORM_STR_MAX bytes). */
void platform_format(const struct platform *p, char *buf, size_t size);

#endif
