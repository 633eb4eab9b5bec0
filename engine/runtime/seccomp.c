/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's default seccomp profile compiled to classic BPF for a given
 * capability set, and cached on disk by that set. Not here: loading the filter
 * into a process (engine/runtime/proc.c). */
#include "engine/runtime/seccomp.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

#include "util/cleanup.h"
#include "util/xalloc.h"

/* Allowed for every container, grouped by what they do. Names this
 * libseccomp does not know (newer calls, other arches' variants) are
 * skipped, so one table serves every kernel. Deliberately absent:
 * io_uring_setup/enter/register, keyctl/add_key/request_key, userfaultfd,
 * swapon/swapoff, kexec, module and mount calls (gated below). */
const char *const seccomp_default_allow[] = {
    /* files and directories */
    "access",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "close",
    "close_range",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "flock",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futimesat",
    "getcwd",
    "getdents",
    "getdents64",
    "lchown",
    "lchown32",
    "link",
    "linkat",
    "_llseek",
    "lseek",
    "lstat",
    "lstat64",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pread64",
    "preadv",
    "preadv2",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "rename",
    "renameat",
    "renameat2",
    "rmdir",
    "sendfile",
    "sendfile64",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "tee",
    "truncate",
    "truncate64",
    "umask",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vmsplice",
    "write",
    "writev",
    /* extended attributes */
    "fgetxattr",
    "flistxattr",
    "fremovexattr",
    "fsetxattr",
    "getxattr",
    "lgetxattr",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lsetxattr",
    "removexattr",
    "setxattr",
    /* event notification and polling */
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "poll",
    "ppoll",
    "ppoll_time64",
    "pselect6",
    "pselect6_time64",
    "select",
    "_newselect",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    /* legacy asynchronous I/O (not io_uring) */
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    /* processes, threads, scheduling */
    "capget",
    "capset",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "fork",
    "vfork",
    "getcpu",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "get_thread_area",
    "gettid",
    "kill",
    "membarrier",
    "pidfd_open",
    "pidfd_send_signal",
    "prctl",
    "prlimit64",
    "process_mrelease",
    "restart_syscall",
    "rseq",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "setpgid",
    "setpriority",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "set_thread_area",
    "set_tid_address",
    "tgkill",
    "tkill",
    "ugetrlimit",
    "wait4",
    "waitid",
    "waitpid",
    /* credentials */
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getuid",
    "getuid32",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setuid",
    "setuid32",
    /* signals */
    "alarm",
    "pause",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "sigprocmask",
    "sigreturn",
    /* memory */
    "brk",
    "madvise",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mremap",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "remap_file_pages",
    /* time */
    "adjtimex",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "getitimer",
    "gettimeofday",
    "nanosleep",
    "setitimer",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "times",
    /* futexes and IPC */
    "futex",
    "futex_time64",
    "futex_waitv",
    "ipc",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "pipe",
    "pipe2",
    /* sockets (socket and socketcall themselves are filtered below) */
    "accept",
    "accept4",
    "bind",
    "connect",
    "getpeername",
    "getsockname",
    "getsockopt",
    "listen",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "send",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setsockopt",
    "shutdown",
    "socketpair",
    /* system information, sandboxing */
    "getrandom",
    "sysinfo",
    "uname",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    /* x86 specifics */
    "arch_prctl",
    "modify_ldt",
    /* tracing own children (Docker allows it on kernels >= 4.8) */
    "ptrace",
    NULL,
};

/* Allowed only when the container holds the capability, as Docker does. */
static const struct {
    int cap;
    const char *names[26];
} cap_gated[] = {
    {CAP_DAC_READ_SEARCH, {"open_by_handle_at"}},
    {CAP_SYS_ADMIN,
     {"bpf",
      "clone",
      "clone3",
      "fanotify_init",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "lookup_dcookie",
      "mount",
      "mount_setattr",
      "move_mount",
      "name_to_handle_at",
      "open_tree",
      "perf_event_open",
      "quotactl",
      "quotactl_fd",
      "setdomainname",
      "sethostname",
      "setns",
      "syslog",
      "umount",
      "umount2",
      "unshare"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "init_module", "finit_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE,
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev"}},
    {CAP_SYS_RAWIO, {"iopl", "ioperm"}},
    {CAP_SYS_TIME, {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_BPF, {"bpf"}},
    {CAP_PERFMON, {"perf_event_open"}},
};

/* Namespace-creating clone flags (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|
 * NEWUSER|NEWPID|NEWNET|NEWTIME share this mask in Docker's profile). */
#define CLONE_NS_MASK 0x7E020000ULL

/* Where the profile's rules go: into a libseccomp filter (ctx), or, with
 * ctx NULL, into the checksum that names the filter in the cache. Both go
 * through the same walk (add_profile), so whatever changes a rule changes
 * the cache key, and a filter compiled from an older profile is never
 * served for a newer one. */
struct sink {
    scmp_filter_ctx ctx;
    uint64_t hash;
};

/* 64-bit FNV-1a: the key only has to tell profiles apart, not resist an
 * adversary (the cache directory is berth's own, mode 0700). */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a_u64(uint64_t h, uint64_t v)
{
    return fnv1a(h, &v, sizeof v);
}

static int add_rule(struct sink *s, uint32_t action, const char *name, unsigned n,
                    const struct scmp_arg_cmp *args, struct berr *e)
{
    if (!s->ctx) {
        s->hash = fnv1a(s->hash, name, strlen(name) + 1);
        s->hash = fnv1a_u64(s->hash, action);
        s->hash = fnv1a_u64(s->hash, n);
        for (unsigned i = 0; i < n; i++) {
            s->hash = fnv1a_u64(s->hash, args[i].arg);
            s->hash = fnv1a_u64(s->hash, (uint64_t)args[i].op);
            s->hash = fnv1a_u64(s->hash, args[i].datum_a);
            s->hash = fnv1a_u64(s->hash, args[i].datum_b);
        }
        return 0;
    }
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown to this libseccomp: skip, as crun does */
    int r = seccomp_rule_add_array(s->ctx, action, nr, n, args);
    if (r == -EEXIST || r == -EDOM)
        return 0;
    if (r < 0)
        return berr_errno(e, r, "seccomp: adding rule for %s", name);
    return 0;
}

/* Allows syscall name when its first argument, read as the kernel reads an
 * int, lies in [lo, hi] (0 <= lo <= hi < 2^31). libseccomp compares all 64
 * bits of an argument, while the kernel truncates an int argument to its
 * low 32: a range rule such as "family > 40" would let 0x1_0000_0028 through
 * as AF_VSOCK. So the range is cut into aligned power-of-two blocks, each
 * one a masked equality whose mask covers the high 32 bits too: a value
 * with any high bit set matches no block and meets the default action. */
static int allow_int_range(struct sink *s, const char *name, uint32_t lo, uint32_t hi,
                           struct berr *e)
{
    uint64_t at = lo;
    while (at <= hi) {
        uint64_t size = 1;
        while ((at & (size * 2 - 1)) == 0 && at + size * 2 - 1 <= hi)
            size *= 2;
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, ~(size - 1), at);
        int r = add_rule(s, SCMP_ACT_ALLOW, name, 1, &a, e);
        if (r < 0)
            return r;
        at += size;
    }
    return 0;
}

/* socket's allowed families: every one but AF_ALG (38) and AF_VSOCK (40);
 * negative ints are refused too (the kernel would say EAFNOSUPPORT). */
static const struct {
    uint32_t lo, hi;
} socket_families[] = {
    {0, AF_ALG - 1},
    {AF_ALG + 1, AF_VSOCK - 1},
    {AF_VSOCK + 1, 0x7fffffff},
};

/* personality: only the harmless values Docker allows, compared over all
 * 64 bits, so a value with high bits set is refused even where its low
 * 32 bits (what the kernel reads) are one of these. */
static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* Adds the profile's rules to the sink. compat_x86 is the 32-bit x86 ABI:
 * there libseccomp cannot filter socket()'s family without also opening
 * socketcall(SYS_SOCKET), whose family hides behind a pointer, so 32-bit
 * programs get no socket() at all rather than an AF_ALG hole. Its
 * arguments are 32 bits wide, so no high bits can hide anything there.
 *
 * Every argument comparison is written for the width the kernel reads:
 * - clone's flags: the kernel reads the low 32 bits of the legacy call,
 *   and the mask tests only bits there, so high bits change nothing;
 * - personality and socket: full-width comparisons that no value with a
 *   high bit set can satisfy (see personas and allow_int_range);
 * - socketcall's call number: only filtered on 32-bit x86;
 * - ioctl: allowed whatever its request, as Docker does (no comparison). */
static int add_profile(struct sink *s, uint64_t caps, bool compat_x86, struct berr *e)
{
    int r = 0;
    for (size_t i = 0; seccomp_default_allow[i] && r == 0; i++)
        r = add_rule(s, SCMP_ACT_ALLOW, seccomp_default_allow[i], 0, NULL, e);

    for (size_t i = 0; i < ARRAY_SIZE(cap_gated) && r == 0; i++) {
        if (!(caps & (1ULL << cap_gated[i].cap)))
            continue;
        for (size_t j = 0; j < ARRAY_SIZE(cap_gated[i].names) && cap_gated[i].names[j]; j++) {
            r = add_rule(s, SCMP_ACT_ALLOW, cap_gated[i].names[j], 0, NULL, e);
            if (r < 0)
                break;
        }
    }
    bool sys_admin = caps & (1ULL << CAP_SYS_ADMIN);
    if (r == 0 && !sys_admin) {
        /* clone without namespace flags; clone3 hides its flags in memory,
         * so it answers ENOSYS and libc falls back to clone. */
        struct scmp_arg_cmp no_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NS_MASK, 0);
        r = add_rule(s, SCMP_ACT_ALLOW, "clone", 1, &no_ns, e);
        if (r == 0)
            r = add_rule(s, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, e);
    }
    for (size_t i = 0; i < ARRAY_SIZE(personas) && r == 0; i++) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, personas[i], 0);
        r = add_rule(s, SCMP_ACT_ALLOW, "personality", 1, &a, e);
    }
    for (size_t i = 0; i < ARRAY_SIZE(socket_families) && r == 0 && !compat_x86; i++)
        r = allow_int_range(s, "socket", socket_families[i].lo, socket_families[i].hi, e);
    if (r == 0 && compat_x86) {
        /* socketcall: everything but SYS_SOCKET (1). */
        struct scmp_arg_cmp below = SCMP_A0(SCMP_CMP_LT, 1, 0);
        struct scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, 1, 0);
        r = add_rule(s, SCMP_ACT_ALLOW, "socketcall", 1, &below, e);
        if (r == 0)
            r = add_rule(s, SCMP_ACT_ALLOW, "socketcall", 1, &above, e);
    }
    return r;
}

int seccomp_build_default(uint64_t caps, struct seccomp_prog *out, struct berr *e)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return berr_set(e, -ENOMEM, "seccomp: cannot initialise a filter");
    /* A binary tree of syscall numbers rather than a linear list: every
     * system call of the container is checked in O(log n), and the kernel
     * also takes this program faster at load time. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    struct sink native = {.ctx = ctx};
    int r = add_profile(&native, caps, false, e);
    if (r == 0 && seccomp_arch_native() == SCMP_ARCH_X86_64) {
        /* The 32-bit ABI in a filter of its own, merged in. */
        scmp_filter_ctx c32 = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (c32)
            seccomp_attr_set(c32, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (!c32 || seccomp_arch_remove(c32, SCMP_ARCH_NATIVE) < 0 ||
            seccomp_arch_add(c32, SCMP_ARCH_X86) < 0) {
            if (c32)
                seccomp_release(c32);
            r = berr_set(e, -ENOMEM, "seccomp: cannot initialise the x86 filter");
        } else {
            struct sink compat = {.ctx = c32};
            r = add_profile(&compat, caps, true, e);
            if (r == 0) {
                r = seccomp_merge(ctx, c32);
                if (r < 0)
                    r = berr_errno(e, r, "seccomp: merging the x86 filter");
            } else {
                seccomp_release(c32);
            }
        }
    }
    if (r < 0) {
        seccomp_release(ctx);
        return r;
    }
    return seccomp_export_prog(ctx, out, e);
}

int seccomp_export_prog(void *ctx, struct seccomp_prog *out, struct berr *e)
{
    /* libseccomp 2.5 exports BPF only to an fd: go through a memfd. */
    _cleanup_close_ int mfd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (mfd < 0) {
        seccomp_release(ctx);
        return berr_errno(e, errno, "seccomp: memfd_create");
    }
    int r = seccomp_export_bpf(ctx, mfd);
    seccomp_release(ctx);
    if (r < 0)
        return berr_errno(e, r, "seccomp: exporting the filter");
    off_t size = lseek(mfd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
        size / sizeof(struct sock_filter) > BPF_MAXINSNS)
        return berr_set(e, -EINVAL, "seccomp: unexpected filter size %lld", (long long)size);
    struct sock_filter *insns = xmalloc((size_t)size);
    if (pread(mfd, insns, (size_t)size, 0) != size) {
        free(insns);
        return berr_errno(e, errno, "seccomp: reading the filter");
    }
    out->insns = insns;
    out->len = (unsigned short)(size / sizeof(struct sock_filter));
    return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
    free(p->insns);
    p->insns = NULL;
    p->len = 0;
}

/* The cache key: libseccomp's version, the architecture, the capability
 * set, and a checksum of every rule the profile adds for both ABIs,
 * computed by the same walk that builds the filter. */
static void profile_key(uint64_t caps, char key[96])
{
    struct berr ign = BERR_INIT;
    struct sink s = {.ctx = NULL, .hash = 0xcbf29ce484222325ULL};
    s.hash = fnv1a_u64(s.hash, SCMP_ACT_ERRNO(EPERM)); /* the default action */
    add_profile(&s, caps, false, &ign);
    s.hash = fnv1a_u64(s.hash, SCMP_ARCH_X86);
    add_profile(&s, caps, true, &ign);
    const struct scmp_version *v = seccomp_version();
    snprintf(key, 96, "v3-%u.%u.%u-%x-%016llx-%016llx", v ? v->major : 0, v ? v->minor : 0,
             v ? v->micro : 0, seccomp_arch_native(), (unsigned long long)caps,
             (unsigned long long)s.hash);
}

/* A cache entry is the program followed by a checksum of the key and the
 * program: a truncated or damaged file, or one copied under another key,
 * is rebuilt rather than loaded into a container. */
static uint64_t entry_sum(const char *key, const void *insns, size_t len)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, key, strlen(key) + 1);
    return fnv1a(h, insns, len);
}

int seccomp_load_default(const char *cache_dir, uint64_t caps, struct seccomp_prog *out,
                         struct berr *e)
{
    if (!cache_dir)
        return seccomp_build_default(caps, out, e);
    char key[96];
    profile_key(caps, key);
    _cleanup_free_ char *name = xasprintf("%s.bpf", key);
    _cleanup_close_ int dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct berr ign = BERR_INIT;
        size_t max = BPF_MAXINSNS * sizeof(struct sock_filter) + sizeof(uint64_t);
        if (fs_read_file(dfd, name, max, &buf, &len, &ign) == 0 && len > sizeof(uint64_t)) {
            size_t plen = len - sizeof(uint64_t);
            uint64_t sum;
            memcpy(&sum, buf + plen, sizeof sum);
            if (plen % sizeof(struct sock_filter) == 0 && sum == entry_sum(key, buf, plen)) {
                out->insns = xmemdup(buf, plen);
                out->len = (unsigned short)(plen / sizeof(struct sock_filter));
                return 0;
            }
        }
        berr_clear(&ign);
    }
    int r = seccomp_build_default(caps, out, e);
    if (r < 0)
        return r;
    /* Best effort: a cache that cannot be written only costs time. */
    struct berr ign = BERR_INIT;
    if (dfd < 0 && fs_mkdir_p(cache_dir, 0700, &ign) == 0)
        dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        size_t plen = out->len * sizeof(struct sock_filter);
        _cleanup_free_ char *entry = xmalloc(plen + sizeof(uint64_t));
        memcpy(entry, out->insns, plen);
        uint64_t sum = entry_sum(key, out->insns, plen);
        memcpy(entry + plen, &sum, sizeof sum);
        fs_write_atomic(dfd, name, entry, plen + sizeof sum, 0600, &ign);
    }
    berr_clear(&ign);
    return 0;
}
