/* SPDX-License-Identifier: Apache-2.0 */
/* The running kernel's version compared against a minimum, for the few
 * features no harmless system call can probe. Not here: the probes themselves
 * (engine/info/hostinfo.c) and cgroup layout detection
 * (engine/runtime/cgroup.c). */
#include "util/kernel.h"

#include <stdio.h>
#include <sys/utsname.h>

bool kernel_release_at_least(const char *release, int maj, int min)
{
    int a = 0, b = 0;
    if (!release || sscanf(release, "%d.%d", &a, &b) != 2)
        return false;
    return a > maj || (a == maj && b >= min);
}

bool kernel_at_least(int maj, int min)
{
    struct utsname u;
    if (uname(&u) < 0)
        return false;
    return kernel_release_at_least(u.release, maj, min);
}
