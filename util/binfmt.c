/* SPDX-License-Identifier: Apache-2.0 */
/* binfmt_misc entries against an architecture's ELF header (see
 * util/binfmt.h). The header is the one a static executable of the
 * architecture starts with; qemu-user's entries match it through their
 * masks, whatever the executable's type (EXEC or DYN). */
#include "util/binfmt.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELF_HDR 20 /* e_ident, e_type and e_machine */

static const struct {
    const char *arch;
    uint8_t class, data; /* 1: 32 bit, 2: 64 bit; 1: little endian, 2: big */
    uint16_t machine;
} elf_arches[] = {
    {"amd64", 2, 1, 62},    {"386", 1, 1, 3},    {"arm64", 2, 1, 183}, {"arm", 1, 1, 40},
    {"ppc64le", 2, 1, 21},  {"ppc64", 2, 2, 21}, {"s390x", 2, 2, 22},  {"riscv64", 2, 1, 243},
    {"mips64le", 2, 1, 8},  {"mips64", 2, 2, 8}, {"mipsle", 1, 1, 8},  {"mips", 1, 2, 8},
    {"loong64", 2, 1, 258},
};

static bool elf_header(const char *arch, uint8_t h[ELF_HDR])
{
    for (size_t i = 0; i < sizeof elf_arches / sizeof elf_arches[0]; i++) {
        if (strcmp(elf_arches[i].arch, arch) != 0)
            continue;
        memset(h, 0, ELF_HDR);
        memcpy(h,
               "\x7f"
               "ELF",
               4);
        h[4] = elf_arches[i].class;
        h[5] = elf_arches[i].data;
        h[6] = 1; /* EV_CURRENT */
        bool le = elf_arches[i].data == 1;
        uint16_t type = 2, m = elf_arches[i].machine; /* ET_EXEC */
        h[16] = le ? type & 0xff : type >> 8;
        h[17] = le ? type >> 8 : type & 0xff;
        h[18] = le ? m & 0xff : m >> 8;
        h[19] = le ? m >> 8 : m & 0xff;
        return true;
    }
    return false;
}

/* The hex digits after "key " on a line of text, as bytes; the count, or
 * -1 when there is no such line (or it is not hex). */
static int hex_field(const char *text, const char *key, uint8_t *out, size_t max)
{
    size_t k = strlen(key);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, k) != 0 || l[k] != ' ')
            continue;
        const char *p = l + k + 1;
        size_t n = 0;
        while (n < max && p[0] && p[0] != '\n' && p[1] && p[1] != '\n') {
            char b[3] = {p[0], p[1], 0}, *end;
            unsigned long v = strtoul(b, &end, 16);
            if (*end)
                return -1;
            out[n++] = (uint8_t)v;
            p += 2;
        }
        return (int)n;
    }
    return -1;
}

bool binfmt_entry_runs(const char *text, const struct platform *p)
{
    uint8_t h[ELF_HDR], magic[128], mask[128];
    if (!elf_header(p->arch, h) || strncmp(text, "enabled\n", 8) != 0)
        return false;
    const char *off = strstr(text, "\noffset ");
    long offset = off ? strtol(off + 8, NULL, 10) : 0;
    int n = hex_field(text, "magic", magic, sizeof magic);
    if (n <= 0 || offset < 0 || offset + n > ELF_HDR)
        return false;
    int nm = hex_field(text, "mask", mask, sizeof mask);
    for (int i = 0; i < n; i++) {
        uint8_t m = nm > i ? mask[i] : 0xff;
        if ((h[offset + i] & m) != (magic[i] & m))
            return false;
    }
    return true;
}

static bool read_small(int dfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

bool binfmt_can_run(const char *dir, const struct platform *p)
{
    char buf[4096];
    int dfd = open(dir ? dir : BINFMT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return false;
    bool ok = false;
    if (read_small(dfd, "status", buf, sizeof buf) && strncmp(buf, "enabled", 7) == 0) {
        DIR *d = fdopendir(dup(dfd));
        struct dirent *de;
        while (d && !ok && (de = readdir(d))) {
            if (de->d_name[0] == '.' || strcmp(de->d_name, "status") == 0 ||
                strcmp(de->d_name, "register") == 0)
                continue;
            ok = read_small(dfd, de->d_name, buf, sizeof buf) && binfmt_entry_runs(buf, p);
        }
        if (d)
            closedir(d);
    }
    close(dfd);
    return ok;
}
