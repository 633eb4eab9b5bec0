/* SPDX-License-Identifier: Apache-2.0 */
/* The probing half of the host report: each feature is tried the way berth
 * uses it, with calls that change nothing (a bad argument that only an
 * existing system call rejects with EINVAL, an unshare in a child that
 * exits at once).
 * Not here: parsing the text it reads (hostparse.c), judging the results
 * (check.c). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "engine/info/hostinfo.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/kernel.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define CAP_SYS_ADMIN_BIT 21

/* A small /proc or /sys file, or NULL. */
static char *read_small(const char *path)
{
    char *buf = NULL;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, path, 1 << 16, &buf, NULL, &ign) < 0)
        buf = NULL;
    berr_clear(&ign);
    return buf;
}

/* A one-word /sys parameter ("Y\n" → "Y"), or NULL. */
static char *read_word(const char *path)
{
    char *buf = read_small(path);
    if (buf)
        buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* A system call that exists answers a bad argument with anything but
 * ENOSYS. */
static enum probe syscall_exists(long r)
{
    if (r >= 0)
        return PROBE_YES;
    return errno == ENOSYS ? PROBE_NO : PROBE_YES;
}

/* Runs unshare(flags) in a child that exits at once: 0 or the errno. */
static int try_unshare(int flags)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0)
        _exit(unshare(flags) == 0 ? 0 : (errno & 0xff) ? (errno & 0xff) : 1);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return errno;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return EIO;
}

static void probe_system(struct hostinfo *hi)
{
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(hi->kernel, sizeof hi->kernel, "%s", u.release);
        snprintf(hi->arch, sizeof hi->arch, "%s", u.machine);
    }
    _cleanup_free_ char *osr = read_small("/etc/os-release");
    if (!osr)
        osr = read_small("/usr/lib/os-release");
    hi->os = hostinfo_parse_os_release(osr);
    hi->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    hi->mem_total = pages > 0 && psz > 0 ? (int64_t)pages * psz : 0;
    hi->euid = geteuid();
    _cleanup_free_ char *status = read_small("/proc/self/status");
    uint64_t eff;
    hi->cap_sys_admin = !hostinfo_parse_cap_eff(status, &eff) ? PROBE_UNKNOWN
                        : (eff >> CAP_SYS_ADMIN_BIT) & 1      ? PROBE_YES
                                                              : PROBE_NO;
}

static void probe_cgroups(struct hostinfo *hi)
{
    struct berr e = BERR_INIT;
    hi->cg_ok = cgroup_sys_detect(&hi->cg, &e) == 0;
    if (!hi->cg_ok) {
        hi->cg_error = xstrdup(e.msg ? e.msg : "no cgroup file system");
        berr_clear(&e);
        hi->cg_available = xcalloc(1, sizeof(char *));
        hi->cg_used = xcalloc(1, sizeof(char *));
        return;
    }
    _cleanup_free_ char *pc = read_small("/proc/cgroups");
    hi->cg_available = hostinfo_parse_proc_cgroups(pc);
    _cleanup_free_ char *v2ctl = NULL;
    if (hi->cg.v2_root) {
        _cleanup_free_ char *p = fs_path_join(hi->cg.v2_root, "cgroup.controllers");
        v2ctl = read_small(p);
        _cleanup_strv_ char **v2 = hostinfo_split_words(v2ctl);
        for (char **c = v2; *c; c++)
            if (!strv_contains(hi->cg_available, *c))
                strv_push(&hi->cg_available, xstrdup(*c));
        /* cgroup.freeze is in every non-root v2 cgroup since 5.2. */
        hi->cg_v2_freeze = kernel_at_least(5, 2);
    }
    hi->cg_used = hostinfo_cgroups_used(&hi->cg, v2ctl);
    hi->cg_device_ctl = (!hi->cg.unified && hi->cg.v1_root[CG_DEVICES]) || hi->cg.v2_root;
}

static void probe_namespaces(struct hostinfo *hi)
{
    static const char *const ns[] = {"mnt", "pid", "uts", "ipc", "net", "cgroup"};
    hi->ns_missing = xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/ns/%s", ns[i]);
        if (access(p, F_OK) < 0 && errno == ENOENT)
            strv_push(&hi->ns_missing, xstrdup(ns[i]));
    }
    /* The namespaces of every container (engine/runtime/container.c), all
     * at once, as the runtime asks for them. */
    int r = try_unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                        CLONE_NEWCGROUP);
    hi->ns_unshare = r == 0 ? PROBE_YES : PROBE_NO;
    hi->ns_unshare_errno = r;

    _cleanup_free_ char *max = read_small("/proc/sys/user/max_user_namespaces");
    hi->max_user_namespaces = max ? atol(max) : -1;
    hi->userns = try_unshare(CLONE_NEWUSER) == 0 ? PROBE_YES : PROBE_NO;
}

static void probe_overlay(struct hostinfo *hi)
{
    _cleanup_free_ char *fs = read_small("/proc/filesystems");
    hi->overlay = hostinfo_filesystems_has(fs, "overlay") ? PROBE_YES : PROBE_NO;
    if (hi->overlay == PROBE_NO) {
        /* A module not loaded yet: fsopen loads it, as the mount would. */
        int fd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            hi->overlay = PROBE_YES;
        } else if (errno == EPERM) {
            hi->overlay = PROBE_UNKNOWN;
        }
    }
    hi->overlay_metacopy = read_word("/sys/module/overlay/parameters/metacopy");
    hi->overlay_redirect_dir = read_word("/sys/module/overlay/parameters/redirect_dir");
    hi->overlay_index = read_word("/sys/module/overlay/parameters/index");
    hi->overlay_xino = read_word("/sys/module/overlay/parameters/xino_auto");
    hi->overlay_lowerdir_plus = kernel_at_least(6, 8);
}

static void probe_syscalls(struct hostinfo *hi)
{
    /* A size below CLONE_ARGS_SIZE_VER0 is EINVAL where clone3 exists. */
    hi->clone3 = syscall_exists(syscall(SYS_clone3, NULL, 0));
    long fd = syscall(SYS_pidfd_open, getpid(), 0);
    hi->pidfd = fd >= 0 ? PROBE_YES : PROBE_NO;
    if (fd >= 0)
        close((int)fd);
    int o = fs_openat2(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    hi->openat2 = o >= 0 ? PROBE_YES : o == -ENOSYS ? PROBE_NO : PROBE_UNKNOWN;
    if (o >= 0)
        close(o);
    /* mount_setattr (5.12) is the newest call of the mount API the runtime
     * uses (fsopen, open_tree, move_mount); unknown flags are EINVAL. */
    hi->mount_api = syscall_exists(syscall(SYS_mount_setattr, -1, "", ~0U, NULL, 0));
    hi->idmapped_mounts = hi->mount_api;
    hi->clone_into_cgroup = hi->cg.v2_root && kernel_at_least(5, 7) ? PROBE_YES : PROBE_NO;
}

static void probe_seccomp(struct hostinfo *hi)
{
    int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
    if (mode < 0) {
        /* EINVAL: a kernel without CONFIG_SECCOMP. */
        hi->seccomp = PROBE_NO;
        hi->seccomp_mode = -1;
        return;
    }
    hi->seccomp_mode = mode;
    uint32_t action = SECCOMP_RET_ERRNO;
    long r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
    hi->seccomp = r == 0                                 ? PROBE_YES
                  : (errno == EINVAL || errno == ENOSYS) ? PROBE_UNKNOWN
                                                         : PROBE_NO;
    hi->seccomp_api = seccomp_api_get();
}

static void cleanup_nl_sockp(struct nl_sock **s)
{
    if (*s)
        nl_socket_free(*s);
}

static void cleanup_nl_msgp(struct nl_msg **m)
{
    if (*m)
        nlmsg_free(*m);
}

/* Asks the nf_tables netlink family for its generation, as `nft` does
 * first: the family answers where the kernel has nftables. */
static void probe_nftables(struct hostinfo *hi)
{
    __attribute__((cleanup(cleanup_nl_sockp))) struct nl_sock *sk = nl_socket_alloc();
    if (!sk) {
        hi->nftables = PROBE_UNKNOWN;
        return;
    }
    int r = nl_connect(sk, NETLINK_NETFILTER);
    if (r < 0) {
        hi->nftables = PROBE_NO;
        hi->nftables_detail = xasprintf("no nfnetlink: %s", nl_geterror(r));
        return;
    }
    __attribute__((cleanup(cleanup_nl_msgp))) struct nl_msg *m =
        nlmsg_alloc_simple((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK);
    struct nfgenmsg g = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0};
    if (!m || nlmsg_append(m, &g, sizeof g, NLMSG_ALIGNTO) < 0) {
        hi->nftables = PROBE_UNKNOWN;
        return;
    }
    r = nl_send_auto(sk, m);
    if (r >= 0)
        r = nl_recvmsgs_default(sk);
    if (r >= 0) {
        hi->nftables = PROBE_YES;
    } else if (r == -NLE_PERM) {
        hi->nftables = PROBE_UNKNOWN;
        hi->nftables_detail = xstrdup("asking needs CAP_NET_ADMIN");
    } else {
        hi->nftables = PROBE_NO;
        hi->nftables_detail = xstrdup(nl_geterror(r));
    }
}

void hostinfo_probe(struct hostinfo *hi)
{
    memset(hi, 0, sizeof *hi);
    probe_system(hi);
    probe_cgroups(hi);
    probe_namespaces(hi);
    probe_overlay(hi);
    probe_syscalls(hi);
    probe_seccomp(hi);
    probe_nftables(hi);
}

void hostinfo_free(struct hostinfo *hi)
{
    free(hi->os);
    cgroup_sys_free(&hi->cg);
    free(hi->cg_error);
    strv_free(hi->cg_available);
    strv_free(hi->cg_used);
    strv_free(hi->ns_missing);
    free(hi->overlay_metacopy);
    free(hi->overlay_redirect_dir);
    free(hi->overlay_index);
    free(hi->overlay_xino);
    free(hi->nftables_detail);
    memset(hi, 0, sizeof *hi);
}
