/* SPDX-License-Identifier: Apache-2.0 */
/* Platform strings: parse, normalize, match (util/platform.h). The alias
 * table follows containerd's platforms.normalizeArch. */
#include "util/platform.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static void copy_lower(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < PLATFORM_PART_MAX && i < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__arm__)
    return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

/* clang-format off */
static const struct {
    const char *alias, *arch, *variant; /* variant NULL: keep the given one */
} arch_aliases[] = {
    {"i386",    "386",     NULL},
    {"x86_64",  "amd64",   NULL},
    {"x86-64",  "amd64",   NULL},
    {"aarch64", "arm64",   NULL},
    {"armhf",   "arm",     "v7"},
    {"armel",   "arm",     "v6"},
};
/* clang-format on */

void platform_normalize(struct platform *p)
{
    for (size_t i = 0; i < sizeof arch_aliases / sizeof arch_aliases[0]; i++) {
        if (strcmp(p->arch, arch_aliases[i].alias) != 0)
            continue;
        snprintf(p->arch, sizeof p->arch, "%s", arch_aliases[i].arch);
        if (arch_aliases[i].variant)
            snprintf(p->variant, sizeof p->variant, "%s", arch_aliases[i].variant);
        break;
    }
    /* Bare variant numbers are written with a "v". */
    if (isdigit((unsigned char)p->variant[0]) && strlen(p->variant) + 1 < sizeof p->variant) {
        memmove(p->variant + 1, p->variant, strlen(p->variant) + 1);
        p->variant[0] = 'v';
    }
    if (strcmp(p->arch, "arm64") == 0 &&
        (strcmp(p->variant, "v8") == 0 || strcmp(p->variant, "v8.0") == 0))
        p->variant[0] = '\0';
    else if (strcmp(p->arch, "amd64") == 0 && strcmp(p->variant, "v1") == 0)
        p->variant[0] = '\0';
    else if (strcmp(p->arch, "arm") == 0 && !p->variant[0])
        snprintf(p->variant, sizeof p->variant, "v7");
}

void platform_set(struct platform *out, const char *os, const char *arch, const char *variant)
{
    copy_lower(out->os, os, PLATFORM_PART_MAX);
    copy_lower(out->arch, arch, PLATFORM_PART_MAX);
    copy_lower(out->variant, variant, PLATFORM_PART_MAX);
    platform_normalize(out);
}

void platform_host(struct platform *out)
{
    platform_set(out, "linux", host_arch(), NULL);
}

static bool part_ok(const char *s, size_t n)
{
    if (n == 0 || n >= PLATFORM_PART_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

int platform_parse(const char *s, struct platform *out, struct berr *e)
{
    const char *part[3] = {0};
    size_t len[3] = {0}, n = 0;
    for (const char *p = s;; n++) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 3 || !part_ok(p, l))
            return berr_set(e, -EINVAL,
                            "invalid platform \"%.100s\" (expected os/arch[/variant], as "
                            "linux/amd64 or linux/arm/v7)",
                            s);
        part[n] = p;
        len[n] = l;
        if (!slash) {
            n++;
            break;
        }
        p = slash + 1;
    }
    struct platform p = {0};
    if (n == 1) {
        /* "linux" names the OS (this host's architecture); else an arch. */
        bool is_os = len[0] == 5 && strncasecmp(part[0], "linux", 5) == 0;
        copy_lower(p.os, "linux", 5);
        if (is_os)
            copy_lower(p.arch, host_arch(), PLATFORM_PART_MAX);
        else
            copy_lower(p.arch, part[0], len[0]);
    } else {
        copy_lower(p.os, part[0], len[0]);
        copy_lower(p.arch, part[1], len[1]);
        if (n == 3)
            copy_lower(p.variant, part[2], len[2]);
    }
    platform_normalize(&p);
    *out = p;
    return 0;
}

bool platform_matches(const struct platform *want, const struct platform *have)
{
    return strcmp(want->os, have->os) == 0 && strcmp(want->arch, have->arch) == 0 &&
           (!want->variant[0] || strcmp(want->variant, have->variant) == 0);
}

void platform_format(const struct platform *p, char *buf, size_t size)
{
    if (p->variant[0])
        snprintf(buf, size, "%s/%s/%s", p->os, p->arch, p->variant);
    else
        snprintf(buf, size, "%s/%s", p->os, p->arch);
}
