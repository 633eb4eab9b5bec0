/* SPDX-License-Identifier: Apache-2.0 */
/* Finding the process that holds a port, from /proc: the socket tables
 * (/proc/net/tcp and friends: one line per socket, its local address as
 * the kernel's hex words, its state and inode) and each process's fd links
 * ("socket:[INODE]"). Every scan has a bound (lines, processes, links), so
 * a host with a million sockets costs a bounded time, and a socket that is
 * not found is "no holder known", never an error. Not here: binding. */
#include "net/portholder.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/portbind.h"
#include "util/cleanup.h"

#define TCP_LISTEN_STATE 0x0A
#define MAX_TABLE_LINES  (1 << 20) /* sockets read per table */
#define MAX_INODES       16        /* matching sockets looked for */
#define MAX_PROCS        (1 << 16) /* processes whose fds are read */
#define MAX_LINKS        (1 << 20) /* fd links read in all */

/* The address a caller asks about: any, or one of a family. */
struct want {
    bool any;
    int family;
    uint8_t a[16];
};

static int want_parse(const char *host_ip, struct want *w)
{
    memset(w, 0, sizeof(*w));
    if (!host_ip || !*host_ip) {
        w->any = true;
        return 0;
    }
    struct sockaddr_storage ss;
    if (port_addr_parse(host_ip, 0, &ss) < 0) /* "1.2.3.4", "::1", "[::1]" */
        return -EINVAL;
    w->family = ss.ss_family;
    if (w->family == AF_INET)
        memcpy(w->a, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    else
        memcpy(w->a, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    static const uint8_t zero[16];
    w->any = !memcmp(w->a, zero, w->family == AF_INET ? 4 : 16);
    return 0;
}

/* The kernel prints each 32-bit word of the address as the host-order
 * value of its network-order bytes ("0100007F" is 127.0.0.1 here). */
static bool hex_addr(const char *hex, bool v6, uint8_t out[16])
{
    size_t words = v6 ? 4 : 1;
    if (strlen(hex) != words * 8)
        return false;
    for (size_t i = 0; i < words; i++) {
        char w[9];
        memcpy(w, hex + 8 * i, 8);
        w[8] = '\0';
        uint32_t v = (uint32_t)strtoul(w, NULL, 16);
        memcpy(out + 4 * i, &v, 4);
    }
    return true;
}

static bool addr_matches(const struct want *w, bool v6, const uint8_t a[16])
{
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (w->any)
        return true;
    if (!v6) /* a v4 socket: 0.0.0.0 or the address itself */
        return w->family == AF_INET && (!memcmp(a, zero, 4) || !memcmp(a, w->a, 4));
    if (!memcmp(a, zero, 16))
        return true; /* ::, which may also take v4 (no V6ONLY seen here) */
    if (w->family == AF_INET6)
        return !memcmp(a, w->a, 16);
    return !memcmp(a, mapped, 12) && !memcmp(a + 12, w->a, 4);
}

/* One table line: its inode when it is a matching socket, else 0. */
static unsigned long match_line(const char *line, bool v6, int proto, const struct want *w,
                                uint16_t port)
{
    char hex[33];
    unsigned lport, st;
    unsigned long inode;
    if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", hex, &lport, &st,
               &inode) != 4)
        return 0; /* the header, or a line that is not a socket */
    if (lport != port || inode == 0)
        return 0;
    if (proto == IPPROTO_TCP && st != TCP_LISTEN_STATE)
        return 0; /* a connection, not the listener that holds the port */
    uint8_t a[16];
    if (!hex_addr(hex, v6, a) || !addr_matches(w, v6, a))
        return 0;
    return inode;
}

int port_holder_parse(const char *table, bool v6, int proto, const char *host_ip, uint16_t port,
                      unsigned long *inode)
{
    struct want w;
    if (want_parse(host_ip, &w) < 0)
        return -EINVAL;
    for (const char *line = table; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char buf[256];
        if (len < sizeof(buf)) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            unsigned long ino = match_line(buf, v6, proto, &w, port);
            if (ino) {
                *inode = ino;
                return 1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Adds the matching inodes of one /proc/net table to inodes (at most
 * MAX_INODES in all). A table that is not there (no IPv6) adds none. */
static void table_inodes(const char *path, bool v6, int proto, const struct want *w, uint16_t port,
                         unsigned long *inodes, size_t *n)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return;
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < MAX_TABLE_LINES && *n < MAX_INODES; i++) {
        if (getline(&line, &cap, f) < 0)
            break;
        unsigned long ino = match_line(line, v6, proto, w, port);
        if (ino)
            inodes[(*n)++] = ino;
    }
}

/* Whether process pid has one of the inodes open; *links counts the fd
 * links read so far, against MAX_LINKS. */
static bool pid_holds(int procfd, long pid, const unsigned long *inodes, size_t n, size_t *links)
{
    char path[64];
    snprintf(path, sizeof(path), "%ld/fd", pid);
    int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false; /* gone, or not ours to read */
    _cleanup_closedir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)) && *links < MAX_LINKS) {
        if (de->d_name[0] == '.')
            continue;
        (*links)++;
        char target[64];
        ssize_t len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) != 1)
            continue;
        for (size_t i = 0; i < n; i++)
            if (inodes[i] == ino)
                return true;
    }
    return false;
}

static void read_comm(int procfd, long pid, char comm[16])
{
    char path[64];
    snprintf(path, sizeof(path), "%ld/comm", pid);
    comm[0] = '\0';
    _cleanup_close_ int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t len = read(fd, comm, 15);
    if (len <= 0)
        len = 0;
    comm[len] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
}

int port_holder(int proto, const char *host_ip, uint16_t port, pid_t *pid, char comm[16])
{
    struct want w;
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return -EINVAL;
    if (want_parse(host_ip, &w) < 0)
        return -EINVAL;
    const char *name = proto == IPPROTO_TCP ? "tcp" : "udp";
    unsigned long inodes[MAX_INODES];
    size_t n = 0;
    char path[32];
    snprintf(path, sizeof(path), "/proc/net/%s", name);
    table_inodes(path, false, proto, &w, port, inodes, &n);
    snprintf(path, sizeof(path), "/proc/net/%s6", name);
    table_inodes(path, true, proto, &w, port, inodes, &n);
    if (n == 0)
        return 0;

    _cleanup_close_ int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0)
        return -errno;
    int dfd = dup(procfd);
    if (dfd < 0)
        return -errno;
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (!d) {
        int err = -errno;
        close(dfd);
        return err;
    }
    struct dirent *de;
    size_t procs = 0, links = 0;
    while ((de = readdir(d)) && procs < MAX_PROCS && links < MAX_LINKS) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end || v <= 0)
            continue;
        procs++;
        if (pid_holds(procfd, v, inodes, n, &links)) {
            *pid = (pid_t)v;
            read_comm(procfd, v, comm);
            return 1;
        }
    }
    return 0;
}
