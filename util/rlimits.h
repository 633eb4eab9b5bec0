/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's ulimit names ("nofile", "nproc", ...) and the resource limits
 * they stand for, and one limit as a container asks for it. */
#ifndef BERTH_UTIL_RLIMITS_H
#define BERTH_UTIL_RLIMITS_H

#include <stdint.h>

/* A ulimit: the resource (RLIMIT_*) with its soft and hard values;
 * ULIMIT_UNLIMITED (-1, as Docker writes it) for no limit. */
struct ulimit {
    int resource;
    int64_t soft, hard;
};

#define ULIMIT_UNLIMITED (-1)

/* The RLIMIT_* resource Docker's name stands for, or -1 for a name Docker
 * does not know. */
int rlimit_by_name(const char *name);
/* Docker's name of an RLIMIT_* resource, or NULL. */
const char *rlimit_name(int resource);

#endif
