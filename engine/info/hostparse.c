/* SPDX-License-Identifier: Apache-2.0 */
/* The pure half of the host probe: text from /proc and /sys in, facts out.
 * Not here: reading the files (hostinfo.c), the cgroup layout itself
 * (engine/runtime/cgroup.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/info/hostinfo.h"
#include "util/strv.h"
#include "util/xalloc.h"

char **hostinfo_split_words(const char *text)
{
    char **out = xcalloc(1, sizeof *out);
    const char *p = text ? text : "";
    for (;;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len == 0)
            break;
        strv_push(&out, xstrndup(p, len));
        p += len;
    }
    return out;
}

/* "#subsys_name hierarchy num_cgroups enabled", then one line each. */
char **hostinfo_parse_proc_cgroups(const char *text)
{
    char **out = xcalloc(1, sizeof *out);
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[256], name[64];
        int hier, n, enabled;
        if (len < sizeof line && *l != '#') {
            memcpy(line, l, len);
            line[len] = '\0';
            if (sscanf(line, "%63s %d %d %d", name, &hier, &n, &enabled) == 4 && hier != 0 &&
                enabled == 1 && !strv_contains(out, name))
                strv_push(&out, xstrdup(name));
        }
        l += len + (nl != NULL);
    }
    return out;
}

bool hostinfo_parse_cap_eff(const char *status, uint64_t *mask)
{
    for (const char *l = status ? status : ""; *l;) {
        if (strncmp(l, "CapEff:", 7) == 0) {
            char *end = NULL;
            unsigned long long v = strtoull(l + 7, &end, 16);
            if (end == l + 7)
                return false;
            *mask = v;
            return true;
        }
        const char *nl = strchr(l, '\n');
        if (!nl)
            break;
        l = nl + 1;
    }
    return false;
}

char *hostinfo_parse_os_release(const char *text)
{
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len > 12 && strncmp(l, "PRETTY_NAME=", 12) == 0) {
            const char *v = l + 12;
            size_t vlen = len - 12;
            if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
                v++;
                vlen -= 2;
            }
            return vlen ? xstrndup(v, vlen) : NULL;
        }
        l += len + (nl != NULL);
    }
    return NULL;
}

/* "nodev\toverlay" or "\text4" per line. */
bool hostinfo_filesystems_has(const char *text, const char *name)
{
    for (const char *l = text ? text : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        const char *tab = memchr(l, '\t', len);
        const char *fs = tab ? tab + 1 : l;
        size_t fslen = len - (size_t)(fs - l);
        if (fslen == strlen(name) && memcmp(fs, name, fslen) == 0)
            return true;
        l += len + (nl != NULL);
    }
    return false;
}

char **hostinfo_cgroups_used(const struct cgroup_sys *cg, const char *v2_controllers)
{
    char **out = xcalloc(1, sizeof *out);
    if (cg->unified) {
        _cleanup_strv_ char **have = hostinfo_split_words(v2_controllers);
        static const char *const limits[] = {"memory", "cpu", "pids"};
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
            if (strv_contains(have, limits[i]))
                strv_push(&out, xstrdup(limits[i]));
        /* Not controllers on v2: a BPF program and the core freezer. */
        strv_push(&out, xstrdup("devices"));
        strv_push(&out, xstrdup("freezer"));
        return out;
    }
    for (int c = 0; c < CG_CTRL_MAX; c++)
        if (cg->v1_root[c])
            strv_push(&out, xstrdup(cgroup_ctrl_name((enum cgroup_ctrl)c)));
    return out;
}
