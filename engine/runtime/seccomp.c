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

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                    const struct scmp_arg_cmp *args, bool exact, struct berr *e)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown to this libseccomp: skip, as crun does */
    int r = exact ? seccomp_rule_add_exact_array(ctx, action, nr, n, args)
                  : seccomp_rule_add_array(ctx, action, nr, n, args);
    if (r == -EEXIST || r == -EDOM)
        return 0;
    if (r < 0)
        return berr_errno(e, r, "seccomp: adding rule for %s", name);
    return 0;
}

/* Adds the profile's rules to ctx. compat_x86 is the 32-bit x86 ABI: there
 * libseccomp cannot filter socket()'s family without also opening
 * socketcall(SYS_SOCKET), whose family hides behind a pointer, so 32-bit
 * programs get no socket() at all rather than an AF_ALG hole. */
static int add_profile(scmp_filter_ctx ctx, uint64_t caps, bool compat_x86, struct berr *e)
{
    int r = 0;
    for (size_t i = 0; seccomp_default_allow[i] && r == 0; i++)
        r = add_rule(ctx, SCMP_ACT_ALLOW, seccomp_default_allow[i], 0, NULL, false, e);

    for (size_t i = 0; i < ARRAY_SIZE(cap_gated) && r == 0; i++) {
        if (!(caps & (1ULL << cap_gated[i].cap)))
            continue;
        for (size_t j = 0; j < ARRAY_SIZE(cap_gated[i].names) && cap_gated[i].names[j]; j++) {
            r = add_rule(ctx, SCMP_ACT_ALLOW, cap_gated[i].names[j], 0, NULL, false, e);
            if (r < 0)
                break;
        }
    }
    bool sys_admin = caps & (1ULL << CAP_SYS_ADMIN);
    if (r == 0 && !sys_admin) {
        /* clone without namespace flags; clone3 hides its flags in memory,
         * so it answers ENOSYS and libc falls back to clone. */
        struct scmp_arg_cmp no_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NS_MASK, 0);
        r = add_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &no_ns, false, e);
        if (r == 0)
            r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, false, e);
    }
    /* personality: only the harmless values Docker allows. */
    static const uint64_t personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
    for (size_t i = 0; i < ARRAY_SIZE(personas) && r == 0; i++) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, personas[i]);
        r = add_rule(ctx, SCMP_ACT_ALLOW, "personality", 1, &a, false, e);
    }
    if (r == 0 && !compat_x86) {
        /* socket: every family but AF_ALG (38) and AF_VSOCK (40). */
        struct scmp_arg_cmp lt = SCMP_A0(SCMP_CMP_LT, AF_ALG);
        struct scmp_arg_cmp eq = SCMP_A0(SCMP_CMP_EQ, AF_ALG + 1);
        struct scmp_arg_cmp gt = SCMP_A0(SCMP_CMP_GT, AF_VSOCK);
        r = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &lt, false, e);
        if (r == 0)
            r = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &eq, false, e);
        if (r == 0)
            r = add_rule(ctx, SCMP_ACT_ALLOW, "socket", 1, &gt, false, e);
    }
    if (r == 0 && compat_x86) {
        /* socketcall: everything but SYS_SOCKET (1). */
        struct scmp_arg_cmp below = SCMP_A0(SCMP_CMP_LT, 1);
        struct scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, 1);
        r = add_rule(ctx, SCMP_ACT_ALLOW, "socketcall", 1, &below, false, e);
        if (r == 0)
            r = add_rule(ctx, SCMP_ACT_ALLOW, "socketcall", 1, &above, false, e);
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
    int r = add_profile(ctx, caps, false, e);
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
            r = add_profile(c32, caps, true, e);
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

    /* libseccomp 2.5 exports BPF only to an fd: go through a memfd. */
    _cleanup_close_ int mfd = memfd_create("berth-seccomp", MFD_CLOEXEC);
    if (mfd < 0) {
        seccomp_release(ctx);
        return berr_errno(e, errno, "seccomp: memfd_create");
    }
    r = seccomp_export_bpf(ctx, mfd);
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

/* The cache key: a checksum (64-bit FNV-1a) over everything that shapes
 * the compiled filter. It only has to notice a changed table, caps set or
 * libseccomp; no digest (and no crypto library start-up) is needed. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void profile_key(uint64_t caps, char key[96])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; seccomp_default_allow[i]; i++)
        h = fnv1a(h, seccomp_default_allow[i], strlen(seccomp_default_allow[i]) + 1);
    for (size_t i = 0; i < ARRAY_SIZE(cap_gated); i++) {
        h = fnv1a(h, &cap_gated[i].cap, sizeof cap_gated[i].cap);
        for (size_t j = 0; j < ARRAY_SIZE(cap_gated[i].names) && cap_gated[i].names[j]; j++)
            h = fnv1a(h, cap_gated[i].names[j], strlen(cap_gated[i].names[j]) + 1);
    }
    const struct scmp_version *v = seccomp_version();
    snprintf(key, 96, "v2-%u.%u.%u-%x-%016llx-%016llx", v ? v->major : 0, v ? v->minor : 0,
             v ? v->micro : 0, seccomp_arch_native(), (unsigned long long)caps,
             (unsigned long long)h);
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
        size_t max = BPF_MAXINSNS * sizeof(struct sock_filter);
        if (fs_read_file(dfd, name, max, &buf, &len, &ign) == 0 && len > 0 &&
            len % sizeof(struct sock_filter) == 0) {
            out->insns = xmemdup(buf, len);
            out->len = (unsigned short)(len / sizeof(struct sock_filter));
            return 0;
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
    if (dfd >= 0)
        fs_write_atomic(dfd, name, out->insns, out->len * sizeof(struct sock_filter), 0600, &ign);
    berr_clear(&ign);
    return 0;
}
