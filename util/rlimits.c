/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's ulimit names (go-units ulimit.go), in its order. */
#include "util/rlimits.h"

#include <stddef.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
    const char *name;
    int resource;
} table[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},       {"as", RLIMIT_AS},
};

int rlimit_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].resource;
    return -1;
}

const char *rlimit_name(int resource)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].resource == resource)
            return table[i].name;
    return NULL;
}
