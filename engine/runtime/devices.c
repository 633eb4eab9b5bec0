/* SPDX-License-Identifier: Apache-2.0 */
/* The device allow-list: Docker's default rules, written as v1 devices.allow
 * lines or compiled into a BPF_CGROUP_DEVICE program for v2. Not here: the
 * rest of the cgroup (engine/runtime/cgroup.c), /dev inside the container
 * (engine/runtime/init.c). */
#include "engine/runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

/* clang-format off */
const struct dev_rule devices_docker[] = {
    /* runc appends these to every container's list */
    {'c', DEV_ANY, DEV_ANY, DEV_MKNOD, "mknod of any character device"},
    {'b', DEV_ANY, DEV_ANY, DEV_MKNOD, "mknod of any block device"},
    {'c', 1,       3,       DEV_RWM,   "/dev/null"},
    {'c', 1,       5,       DEV_RWM,   "/dev/zero"},
    {'c', 1,       7,       DEV_RWM,   "/dev/full"},
    {'c', 1,       8,       DEV_RWM,   "/dev/random"},
    {'c', 1,       9,       DEV_RWM,   "/dev/urandom"},
    {'c', 5,       0,       DEV_RWM,   "/dev/tty"},
    {'c', 5,       1,       DEV_RWM,   "/dev/console"},
    {'c', 5,       2,       DEV_RWM,   "/dev/ptmx"},
    {'c', 136,     DEV_ANY, DEV_RWM,   "/dev/pts/*"},
    {'c', 10,      200,     DEV_RWM,   "/dev/net/tun"},
};
/* clang-format on */
const size_t devices_docker_n = ARRAY_SIZE(devices_docker);

static bool rule_matches(const struct dev_rule *r, char type, uint32_t major, uint32_t minor,
                         unsigned access)
{
    return (r->type == type || r->type == 'a') &&
           (r->major == DEV_ANY || (uint32_t)r->major == major) &&
           (r->minor == DEV_ANY || (uint32_t)r->minor == minor) && (access & ~r->access) == 0;
}

bool devices_allowed(const struct dev_rule *rules, size_t n, char type, uint32_t major,
                     uint32_t minor, unsigned access)
{
    for (size_t i = 0; i < n; i++)
        if (rule_matches(&rules[i], type, major, minor, access))
            return true;
    return false;
}

void devices_rule_v1(const struct dev_rule *r, char *buf, size_t cap)
{
    char maj[16] = "*", min[16] = "*", acc[4] = "";
    if (r->major != DEV_ANY)
        snprintf(maj, sizeof maj, "%d", (int)r->major);
    if (r->minor != DEV_ANY)
        snprintf(min, sizeof min, "%d", (int)r->minor);
    size_t k = 0;
    if (r->access & DEV_READ)
        acc[k++] = 'r';
    if (r->access & DEV_WRITE)
        acc[k++] = 'w';
    if (r->access & DEV_MKNOD)
        acc[k++] = 'm';
    acc[k] = '\0';
    snprintf(buf, cap, "%c %s:%s %s", r->type, maj, min, acc);
}

/* ---- the BPF program ----------------------------------------------------
 * The context is struct bpf_cgroup_dev_ctx: access_type (type in the low
 * 16 bits, access bits above), major, minor. Registers after the prologue:
 * r2 type, r3 access, r4 major, r5 minor. Each rule is one block that
 * returns 1 (allow) when everything matches and otherwise jumps to the
 * next block; the last block returns 0 (refuse). */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

#define LD_W(dst, off)       insn(BPF_LDX | BPF_W | BPF_MEM, dst, BPF_REG_1, off, 0)
#define ALU32_K(op, dst, k)  insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, k)
#define MOV32_X(dst, src)    insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, k)      insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, k)
#define JNE_K(dst, k, off)   insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, k)
#define JNE_X(dst, src, off) insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0)
#define EXIT()               insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* One rule's block into out (at most 7 instructions); returns its length. */
static size_t rule_block(const struct dev_rule *r, struct bpf_insn *out)
{
    bool by_access = (r->access & DEV_RWM) != DEV_RWM;
    size_t len =
        (r->type != 'a') + (by_access ? 3 : 0) + (r->major != DEV_ANY) + (r->minor != DEV_ANY) + 2;
    size_t k = 0;
    /* a jump at k leaves the block when it lands at len: offset len-k-1 */
#define TO_NEXT ((int16_t)(len - k - 1))
    if (r->type != 'a') {
        int32_t type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        out[k] = JNE_K(BPF_REG_2, type, TO_NEXT);
        k++;
    }
    if (by_access) {
        /* (access & allowed) != access: something asked for is not allowed */
        out[k++] = MOV32_X(BPF_REG_1, BPF_REG_3);
        out[k++] = ALU32_K(BPF_AND, BPF_REG_1, (int32_t)r->access);
        out[k] = JNE_X(BPF_REG_1, BPF_REG_3, TO_NEXT);
        k++;
    }
    if (r->major != DEV_ANY) {
        out[k] = JNE_K(BPF_REG_4, r->major, TO_NEXT);
        k++;
    }
    if (r->minor != DEV_ANY) {
        out[k] = JNE_K(BPF_REG_5, r->minor, TO_NEXT);
        k++;
    }
#undef TO_NEXT
    out[k++] = MOV64_K(BPF_REG_0, 1);
    out[k++] = EXIT();
    return k;
}

size_t devices_bpf_program(const struct dev_rule *rules, size_t n, struct bpf_insn *out, size_t cap)
{
    if (cap < 6 + n * 7 + 2)
        return 0;
    size_t k = 0;
    out[k++] = LD_W(BPF_REG_2, 0);
    out[k++] = ALU32_K(BPF_AND, BPF_REG_2, 0xffff);
    out[k++] = LD_W(BPF_REG_3, 0);
    out[k++] = ALU32_K(BPF_RSH, BPF_REG_3, 16);
    out[k++] = LD_W(BPF_REG_4, 4);
    out[k++] = LD_W(BPF_REG_5, 8);
    for (size_t i = 0; i < n; i++)
        k += rule_block(&rules[i], out + k);
    out[k++] = MOV64_K(BPF_REG_0, 0);
    out[k++] = EXIT();
    return k;
}

/* ---- the enforcers ------------------------------------------------------ */

static int write_rule(int dirfd, const char *file, const char *line, const char *who,
                      struct berr *e)
{
    _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "%s: opening the device cgroup's %s", who, file);
    if (write(fd, line, strlen(line)) < 0)
        return berr_errno(e, errno, "%s: the kernel refused %s \"%s\"", who, file, line);
    return 0;
}

int devices_apply_v1(int cgroup_dirfd, const struct dev_rule *extra, size_t n_extra,
                     const char *who, struct berr *e)
{
    /* "a" denied first: the cgroup inherited its parent's allow-all. */
    int r = write_rule(cgroup_dirfd, "devices.deny", "a", who, e);
    for (size_t i = 0; r == 0 && i < devices_docker_n + n_extra; i++) {
        char line[64];
        const struct dev_rule *d =
            i < devices_docker_n ? &devices_docker[i] : &extra[i - devices_docker_n];
        devices_rule_v1(d, line, sizeof line);
        r = write_rule(cgroup_dirfd, "devices.allow", line, who, e);
    }
    return r;
}

static int rule_number(const char **p, int32_t *out)
{
    if (**p == '*') {
        (*p)++;
        *out = DEV_ANY;
        return 0;
    }
    if (**p < '0' || **p > '9')
        return -EINVAL;
    int64_t n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        n = n * 10 + (**p - '0');
        if (n > INT32_MAX)
            return -EINVAL;
    }
    *out = (int32_t)n;
    return 0;
}

int devices_rule_parse(const char *s, struct dev_rule *out)
{
    memset(out, 0, sizeof *out);
    if ((s[0] != 'a' && s[0] != 'b' && s[0] != 'c') || s[1] != ' ')
        return -EINVAL;
    out->type = s[0];
    const char *p = s + 2;
    if (rule_number(&p, &out->major) < 0 || *p++ != ':' || rule_number(&p, &out->minor) < 0 ||
        *p++ != ' ')
        return -EINVAL;
    size_t n = 0;
    for (; *p; p++, n++) {
        unsigned bit = *p == 'r' ? DEV_READ : *p == 'w' ? DEV_WRITE : *p == 'm' ? DEV_MKNOD : 0;
        if (!bit || n >= 3)
            return -EINVAL;
        out->access |= bit;
    }
    return n ? 0 : -EINVAL;
}

int devices_allow_all_v1(int cgroup_dirfd, const char *who, struct berr *e)
{
    return write_rule(cgroup_dirfd, "devices.allow", "a", who, e);
}

const struct dev_rule devices_all[] = {
    {'c', DEV_ANY, DEV_ANY, DEV_RWM, "every character device"},
    {'b', DEV_ANY, DEV_ANY, DEV_RWM, "every block device"},
};
const size_t devices_all_n = ARRAY_SIZE(devices_all);

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* IDs of the device programs attached to the cgroup itself. */
static int attached_ids(int cgroup_dirfd, uint32_t *ids, uint32_t cap, uint32_t *n)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.query.target_fd = (uint32_t)cgroup_dirfd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uint64_t)(uintptr_t)ids;
    a.query.prog_cnt = cap;
    if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
        return -errno;
    *n = a.query.prog_cnt < cap ? a.query.prog_cnt : cap;
    return 0;
}

static int detach_id(int cgroup_dirfd, uint32_t id)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_id = id;
    _cleanup_close_ int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    memset(&a, 0, sizeof a);
    a.target_fd = (uint32_t)cgroup_dirfd;
    a.attach_bpf_fd = (uint32_t)fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int devices_attach_bpf(int cgroup_dirfd, const struct dev_rule *extra, size_t n_extra,
                       const char *who, struct berr *e)
{
    size_t n_rules = devices_docker_n + n_extra;
    _cleanup_free_ struct dev_rule *rules = xcalloc(n_rules, sizeof *rules);
    memcpy(rules, devices_docker, devices_docker_n * sizeof *rules);
    if (n_extra)
        memcpy(rules + devices_docker_n, extra, n_extra * sizeof *rules);
    return devices_attach_bpf_rules(cgroup_dirfd, rules, n_rules, who, e);
}

int devices_attach_bpf_rules(int cgroup_dirfd, const struct dev_rule *rules, size_t n_rules,
                             const char *who, struct berr *e)
{
    size_t cap = 6 + n_rules * 7 + 2;
    _cleanup_free_ struct bpf_insn *prog = xcalloc(cap, sizeof *prog);
    size_t n = devices_bpf_program(rules, n_rules, prog, cap);
    if (n == 0 || n > 4096)
        return berr_set(e, -E2BIG, "%s: the device rules do not fit the program", who);

    /* A cgroup of the same path may survive an earlier container (a
     * removal that failed): its programs are replaced, not stacked. */
    uint32_t old[64];
    uint32_t n_old = 0;
    int r = attached_ids(cgroup_dirfd, old, ARRAY_SIZE(old), &n_old);
    if (r < 0)
        return berr_errno(e, r, "%s: querying the cgroup's device programs", who);

    static const char license[] = "GPL";
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)prog;
    a.insn_cnt = (uint32_t)n;
    a.license = (uint64_t)(uintptr_t)license;
    memcpy(a.prog_name, "berth_devices", sizeof "berth_devices");
    _cleanup_close_ int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0)
        return berr_errno(e, errno, "%s: loading the device cgroup program (BPF)", who);

    /* ALLOW_MULTI: programs of the parents still run, and every one of
     * them must allow; none can widen another. */
    memset(&a, 0, sizeof a);
    a.target_fd = (uint32_t)cgroup_dirfd;
    a.attach_bpf_fd = (uint32_t)fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
        return berr_errno(e, errno, "%s: attaching the device cgroup program (BPF)", who);

    for (uint32_t i = 0; i < n_old; i++) {
        r = detach_id(cgroup_dirfd, old[i]);
        if (r < 0)
            return berr_errno(e, r, "%s: detaching an earlier device cgroup program", who);
    }
    return 0;
}
