/* SPDX-License-Identifier: Apache-2.0 */
/* The running kernel's version compared against a minimum, for the few
 * features no harmless system call can probe. Not here: the probes themselves
 * (engine/info/hostinfo.c) and cgroup layout detection
 * (engine/runtime/cgroup.c). */
#include "util/kernel.h"

#include <stdio.h>
#include <string.h>
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

bool kernel_lsm_enabled(const char *name)
{
    char buf[512];
    FILE *f = fopen("/sys/kernel/security/lsm", "re");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        size_t len = strlen(name);
        for (char *p = buf; p && *p;) {
            char *comma = strchr(p, ',');
            size_t k = comma ? (size_t)(comma - p) : strcspn(p, "\n");
            if (k == len && strncmp(p, name, len) == 0)
                return true;
            p = comma ? comma + 1 : NULL;
        }
        return false;
    }
    char path[128];
    snprintf(path, sizeof path, "/sys/module/%s/parameters/enabled", name);
    f = fopen(path, "re");
    if (!f)
        return false;
    int c = fgetc(f);
    fclose(f);
    return c == 'Y' || c == '1';
}
