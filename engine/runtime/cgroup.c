/* SPDX-License-Identifier: Apache-2.0 */
/* Container cgroups on v1, hybrid and v2 hosts behind one interface: layout
 * detection from mountinfo, creation with limits, joining, freezing, OOM
 * counts, removal. Not here: the device allow-list (engine/runtime/devices.c),
 * the cgroup path per store (cmd/project.c). */
#include "engine/runtime/cgroup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "engine/runtime/devices.h"
#include "engine/runtime/procns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

static const char *const ctrl_names[CG_CTRL_MAX] = {"memory",  "cpu",     "cpuacct", "pids",
                                                    "freezer", "devices", "cpuset",  "blkio"};

const char *cgroup_ctrl_name(enum cgroup_ctrl c)
{
    return c >= 0 && c < CG_CTRL_MAX ? ctrl_names[c] : "?";
}

/* /proc/self/mountinfo: "... mountpoint ... - fstype source superopts" */
void cgroup_sys_parse_mountinfo(struct cgroup_sys *s, FILE *f)
{
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char mnt[4096];
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
            continue;
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char fstype[64], opts[1024];
        if (sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
            continue;
        if (strcmp(fstype, "cgroup2") == 0) {
            if (!s->v2_root)
                s->v2_root = xstrdup(mnt);
        } else if (strcmp(fstype, "cgroup") == 0) {
            char *save = NULL;
            for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
                for (int c = 0; c < CG_CTRL_MAX; c++)
                    if (strcmp(o, ctrl_names[c]) == 0 && !s->v1_root[c])
                        s->v1_root[c] = xstrdup(mnt);
        }
    }
}

int cgroup_sys_finish(struct cgroup_sys *s, const char *v2_controllers, struct berr *e)
{
    /* Unified when the v2 mount actually offers the memory controller. */
    if (s->v2_root && v2_controllers)
        s->unified = strstr(v2_controllers, "memory") != NULL || s->v1_root[CG_MEMORY] == NULL;
    if (!s->v2_root && !s->v1_root[CG_MEMORY]) {
        cgroup_sys_free(s);
        return berr_set(e, -ENOENT, "no cgroup file system is mounted under /sys/fs/cgroup");
    }
    return 0;
}

int cgroup_sys_detect(struct cgroup_sys *s, struct berr *e)
{
    memset(s, 0, sizeof *s);
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return berr_errno(e, errno, "reading /proc/self/mountinfo");
    cgroup_sys_parse_mountinfo(s, f);
    _cleanup_free_ char *buf = NULL;
    if (s->v2_root) {
        _cleanup_free_ char *ctl = fs_path_join(s->v2_root, "cgroup.controllers");
        struct berr ign = BERR_INIT;
        if (fs_read_file(AT_FDCWD, ctl, 4096, &buf, NULL, &ign) < 0)
            buf = NULL;
        berr_clear(&ign);
    }
    return cgroup_sys_finish(s, buf, e);
}

const char *cgroup_sys_layout(const struct cgroup_sys *s)
{
    if (s->unified)
        return "v2";
    return s->v2_root ? "hybrid" : "v1";
}

void cgroup_sys_free(struct cgroup_sys *s)
{
    free(s->v2_root);
    for (int c = 0; c < CG_CTRL_MAX; c++)
        free(s->v1_root[c]);
    memset(s, 0, sizeof *s);
}

/* Hierarchy roots this cgroup lives in: the v2 mount (always, when present:
 * on hybrid hosts it still gives the container a private cgroup namespace
 * root) and, unless unified, each v1 controller mount. */
static int roots(const struct cgroup_sys *s, const char *out[CG_CTRL_MAX + 1])
{
    int n = 0;
    if (s->v2_root)
        out[n++] = s->v2_root;
    if (!s->unified)
        for (int c = 0; c < CG_CTRL_MAX; c++) {
            if (!s->v1_root[c])
                continue;
            bool dup = false; /* cpu,cpuacct may share one mount */
            for (int k = 0; k < n; k++)
                if (strcmp(out[k], s->v1_root[c]) == 0)
                    dup = true;
            if (!dup)
                out[n++] = s->v1_root[c];
        }
    return n;
}

int cgroup_roots(const struct cgroup_sys *s, const char *out[CG_CTRL_MAX + 1])
{
    return roots(s, out);
}

/* Delegates memory, cpu and pids from the v2 root down to the leaf's
 * parent (the leaf itself holds processes, so it must not delegate). */
static void enable_v2_controllers(const struct cgroup_sys *s, const char *rel)
{
    _cleanup_free_ char *prefix = xstrdup("");
    for (const char *p = rel;;) {
        _cleanup_free_ char *dir = fs_path_join(s->v2_root, prefix);
        _cleanup_free_ char *ctl = fs_path_join(dir, "cgroup.subtree_control");
        /* One at a time: a write naming a controller the parent lacks
         * fails whole. */
        static const char *const ctls[] = {"+memory", "+cpu", "+pids", "+io", "+cpuset"};
        for (size_t i = 0; i < ARRAY_SIZE(ctls); i++)
            fs_write_str(AT_FDCWD, ctl, ctls[i], NULL);
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        free(prefix);
        prefix = xstrndup(rel, (size_t)(slash - rel));
        p = slash + 1;
    }
}

static int write_knob(const char *dir, const char *knob, const char *val, const char *who,
                      struct berr *e)
{
    _cleanup_free_ char *p = fs_path_join(dir, knob);
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "%s: cgroup file %s", who, p);
    if (write(fd, val, strlen(val)) < 0)
        return berr_errno(e, errno, "%s: the kernel refused %s = %s", who, knob, val);
    return 0;
}

/* Writes the limits into the cgroup rel; with rel NULL only checks that
 * the host can take them (v1: each file in the hierarchy's root; v2 only
 * the controller and the driver). */
static int apply_limits(const struct cgroup_sys *s, const char *rel,
                        const struct cgroup_limits *lim, const char *who, struct berr *e)
{
    _cleanup_free_ struct cgroup_knob *k = NULL;
    size_t n = cgroup_knobs(lim, s->unified, &k);
    for (size_t i = 0; i < n; i++) {
        const char *root = s->unified ? s->v2_root : s->v1_root[k[i].ctrl];
        if (!k[i].file)
            return berr_set(e, -ENOTSUP,
                            "%s: %s: cgroup v2 has no real-time CPU controller (only cgroup v1 "
                            "has cpu.rt_*)",
                            who, k[i].key);
        if (!root)
            return berr_set(e, -ENOTSUP, "%s: %s needs the %s cgroup controller", who, k[i].key,
                            ctrl_names[k[i].ctrl]);
        /* The check reads the root's files: v2's root has no limit files,
         * v1's no pids.max. */
        if (!rel && (s->unified || k[i].ctrl == CG_PIDS))
            continue;
        _cleanup_free_ char *dir = fs_path_join(root, rel ? rel : "");
        _cleanup_free_ char *path = fs_path_join(dir, k[i].file);
        const char *file = k[i].file;
        if (!fs_exists(path) && k[i].alt) {
            free(path);
            path = fs_path_join(dir, k[i].alt);
            file = k[i].alt;
        }
        if (!fs_exists(path)) {
            if (k[i].optional)
                continue;
            return berr_set(e, -ENOTSUP, "%s: %s: this kernel has no cgroup file %s%s%s", who,
                            k[i].key, k[i].file, k[i].alt ? " nor " : "", k[i].alt ? k[i].alt : "");
        }
        if (!rel)
            continue;
        _cleanup_free_ char *what = xasprintf("%s: %s", who, k[i].key);
        int r = write_knob(dir, file, k[i].val, what, e);
        if (r < 0)
            return r;
    }
    return 0;
}

int cgroup_limits_supported(const struct cgroup_sys *s, const struct cgroup_limits *lim,
                            const char *who, struct berr *e)
{
    return apply_limits(s, NULL, lim, who, e);
}

/* The rules compose's devices (each host node, by its type and number,
 * with its permissions) and device_cgroup_rules add to Docker's list. */
static int extra_device_rules(const struct cgroup_limits *lim, struct dev_rule **out, size_t *n,
                              const char *who, struct berr *e)
{
    *n = 0;
    if (lim->n_devices + lim->n_dev_rules == 0)
        return 0;
    struct dev_rule *v = xcalloc(lim->n_devices + lim->n_dev_rules, sizeof *v);
    for (size_t i = 0; i < lim->n_devices; i++) {
        struct stat st;
        if (stat(lim->devices[i].host, &st) < 0) {
            int r = berr_errno(e, errno, "%s: devices: %s", who, lim->devices[i].host);
            free(v);
            return r;
        }
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
            free(v);
            return berr_set(e, -ENODEV, "%s: devices: %s is not a device node", who,
                            lim->devices[i].host);
        }
        v[i] = (struct dev_rule){S_ISBLK(st.st_mode) ? 'b' : 'c', (int32_t)major(st.st_rdev),
                                 (int32_t)minor(st.st_rdev), lim->devices[i].access, NULL};
    }
    for (size_t i = 0; i < lim->n_dev_rules; i++)
        v[lim->n_devices + i] = lim->dev_rules[i];
    *n = lim->n_devices + lim->n_dev_rules;
    *out = v;
    return 0;
}

/* The device allow-list, through every enforcer the host has: Docker's
 * defaults, then the devices and device_cgroup_rules of the limits. */
static int apply_devices(const struct cgroup *cg, const struct cgroup_limits *lim, const char *who,
                         struct berr *e)
{
    _cleanup_free_ struct dev_rule *extra = NULL;
    size_t n_extra = 0;
    int rr = extra_device_rules(lim, &extra, &n_extra, who, e);
    if (rr < 0)
        return rr;
    const struct cgroup_sys *s = cg->sys;
    bool v1 = !s->unified && s->v1_root[CG_DEVICES];
    if (!v1 && cg->v2_fd < 0)
        return berr_set(e, -ENOTSUP,
                        "%s: no device cgroup: neither a v1 devices hierarchy nor cgroup v2 is "
                        "mounted, so the container's device access cannot be restricted",
                        who);
    if (v1) {
        _cleanup_free_ char *dir = fs_path_join(s->v1_root[CG_DEVICES], cg->rel);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return berr_errno(e, errno, "%s: opening cgroup %s", who, dir);
        int r = lim->devices_all ? devices_allow_all_v1(fd, who, e)
                                 : devices_apply_v1(fd, extra, n_extra, who, e);
        if (r < 0)
            return r;
    }
    if (cg->v2_fd >= 0 && lim->devices_all)
        return devices_attach_bpf_rules(cg->v2_fd, devices_all, devices_all_n, who, e);
    if (cg->v2_fd >= 0)
        return devices_attach_bpf(cg->v2_fd, extra, n_extra, who, e);
    return 0;
}

static struct cgroup *cgroup_new(const struct cgroup_sys *s, const char *rel)
{
    struct cgroup *cg = xcalloc(1, sizeof *cg);
    cg->sys = s;
    cg->rel = xstrdup(rel);
    cg->v2_fd = -1;
    return cg;
}

/* The block devices of blkio_config to major:minor, into a copy of the
 * limits (io only: the rest is shared with lim, not owned). Before
 * anything is made: a path that is not a block device is an error. */
static int resolve_io(const struct cgroup_limits *lim, struct cgroup_limits *out, const char *who,
                      struct berr *e)
{
    *out = *lim;
    if (lim->n_io == 0)
        return 0;
    out->io = xcalloc(lim->n_io, sizeof *out->io);
    for (size_t i = 0; i < lim->n_io; i++) {
        out->io[i] = lim->io[i];
        struct stat st;
        if (stat(lim->io[i].path, &st) < 0) {
            int r = berr_errno(e, errno, "%s: blkio_config: device %s", who, lim->io[i].path);
            free(out->io);
            return r;
        }
        if (!S_ISBLK(st.st_mode)) {
            free(out->io);
            return berr_set(e, -ENOTBLK, "%s: blkio_config: %s is not a block device", who,
                            lim->io[i].path);
        }
        out->io[i].major = major(st.st_rdev);
        out->io[i].minor = minor(st.st_rdev);
    }
    return 0;
}

/* v1 cpuset: a new cgroup starts with no CPUs and no memory nodes, and
 * takes no task until it has both: each level gets its parent's. */
static int cpuset_fill(const struct cgroup_sys *s, const char *rel, const char *who, struct berr *e)
{
    const char *root = s->unified ? NULL : s->v1_root[CG_CPUSET];
    if (!root)
        return 0;
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    _cleanup_free_ char *parent = xstrdup(root);
    for (const char *p = rel; p;) {
        const char *slash = strchr(p, '/');
        _cleanup_free_ char *sub = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup(rel);
        _cleanup_free_ char *dir = fs_path_join(root, sub);
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            _cleanup_free_ char *mine = NULL, *theirs = NULL;
            _cleanup_free_ char *mp = fs_path_join(dir, files[i]);
            _cleanup_free_ char *tp = fs_path_join(parent, files[i]);
            if (fs_read_file(AT_FDCWD, mp, 65536, &mine, NULL, NULL) == 0 &&
                strspn(mine, " \n") != strlen(mine))
                continue;
            int r = fs_read_file(AT_FDCWD, tp, 65536, &theirs, NULL, e);
            if (r == 0)
                r = fs_write_str(AT_FDCWD, mp, theirs, e);
            if (r < 0)
                return berr_wrap(e, "%s: copying %s into cgroup %s", who, files[i], dir);
        }
        free(parent);
        parent = TAKE_PTR(dir);
        p = slash ? slash + 1 : NULL;
    }
    return 0;
}

/* v1 real-time time: a cgroup gets rt_runtime only within its parent's,
 * and a new one has none; each level above the container gets at least
 * what the container asks for (the kernel refuses when siblings already
 * took the rest). */
static int rt_fill(const struct cgroup_sys *s, const char *rel, const struct cgroup_limits *lim,
                   const char *who, struct berr *e)
{
    const char *root = s->unified ? NULL : s->v1_root[CG_CPU];
    if (!root || lim->cpu_rt_runtime <= 0)
        return 0;
    for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
        _cleanup_free_ char *sub = xstrndup(rel, (size_t)(p - rel));
        _cleanup_free_ char *dir = fs_path_join(root, sub);
        _cleanup_free_ char *f = fs_path_join(dir, "cpu.rt_runtime_us");
        _cleanup_free_ char *cur = NULL;
        if (fs_read_file(AT_FDCWD, f, 64, &cur, NULL, NULL) < 0)
            return berr_set(e, -ENOTSUP,
                            "%s: cpu_rt_runtime: this kernel has no real-time group scheduling "
                            "(no cpu.rt_runtime_us)",
                            who);
        if (strtoll(cur, NULL, 10) >= lim->cpu_rt_runtime)
            continue;
        char v[32];
        snprintf(v, sizeof v, "%" PRId64, lim->cpu_rt_runtime);
        int r = fs_write_str(AT_FDCWD, f, v, e);
        if (r < 0)
            return berr_wrap(e, "%s: cpu_rt_runtime: giving cgroup %s real-time time", who, sub);
    }
    return 0;
}

int cgroup_create(const struct cgroup_sys *s, const char *rel, const struct cgroup_limits *lim_in,
                  const char *who, struct cgroup **out, struct berr *e)
{
    struct cgroup_limits res;
    int r = resolve_io(lim_in, &res, who, e);
    if (r < 0)
        return r;
    const struct cgroup_limits *lim = &res;
    struct cgroup *cg = cgroup_new(s, rel);
    const char *rs[CG_CTRL_MAX + 1];
    int n = roots(s, rs);
    for (int i = 0; i < n && r == 0; i++) {
        _cleanup_free_ char *dir = fs_path_join(rs[i], rel);
        r = fs_mkdir_p(dir, 0755, e);
        if (r < 0)
            berr_wrap(e, "%s: creating cgroup", who);
    }
    if (r == 0 && s->unified)
        enable_v2_controllers(s, rel);
    if (r == 0)
        r = cpuset_fill(s, rel, who, e);
    if (r == 0)
        r = rt_fill(s, rel, lim, who, e);
    if (r == 0)
        r = apply_limits(s, rel, lim, who, e);
    if (r == 0 && s->v2_root) {
        _cleanup_free_ char *dir = fs_path_join(s->v2_root, rel);
        cg->v2_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_fd < 0)
            r = berr_errno(e, errno, "%s: opening cgroup %s", who, dir);
    }
    if (r == 0)
        r = apply_devices(cg, lim, who, e);
    if (res.io != lim_in->io)
        free(res.io);
    if (r < 0) {
        struct berr ign = BERR_INIT;
        cgroup_destroy(cg, true, &ign);
        berr_clear(&ign);
        cgroup_free(cg);
        return r;
    }
    *out = cg;
    return 0;
}

struct cgroup *cgroup_open(const struct cgroup_sys *s, const char *rel)
{
    return cgroup_new(s, rel);
}

int cgroup_join_fds(const struct cgroup *cg, int v1[CG_CTRL_MAX], int *v2, struct berr *e)
{
    const char *rs[CG_CTRL_MAX + 1];
    int n = roots(cg->sys, rs), k = 0;
    *v2 = -1;
    for (int i = 0; i < n; i++) {
        bool is_v2 = cg->sys->v2_root && rs[i] == cg->sys->v2_root;
        _cleanup_free_ char *dir = fs_path_join(rs[i], cg->rel);
        _cleanup_free_ char *file = fs_path_join(dir, is_v2 ? "cgroup.procs" : "tasks");
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        /* A container started by an earlier berth has no cpuset or blkio
         * cgroup: it carries no limit, so there is nothing to join. */
        if (fd < 0 && errno == ENOENT && !is_v2 &&
            (rs[i] == cg->sys->v1_root[CG_CPUSET] || rs[i] == cg->sys->v1_root[CG_BLKIO]))
            continue;
        if (fd < 0) {
            int r = berr_errno(e, errno, "opening %s", file);
            for (int j = 0; j < k; j++)
                close(v1[j]);
            if (*v2 >= 0)
                close(*v2);
            *v2 = -1;
            return r;
        }
        if (is_v2)
            *v2 = fd;
        else
            v1[k++] = fd;
    }
    return k;
}

static uint64_t read_key(const char *path, const char *key)
{
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, path, 65536, &buf, NULL, &ign) < 0) {
        berr_clear(&ign);
        return 0;
    }
    size_t klen = strlen(key);
    for (char *l = buf; l && *l;) {
        if (strncmp(l, key, klen) == 0 && l[klen] == ' ')
            return strtoull(l + klen + 1, NULL, 10);
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return 0;
}

uint64_t cgroup_oom_kills(const struct cgroup *cg)
{
    const struct cgroup_sys *s = cg->sys;
    if (s->unified) {
        _cleanup_free_ char *dir = fs_path_join(s->v2_root, cg->rel);
        _cleanup_free_ char *p = fs_path_join(dir, "memory.events");
        return read_key(p, "oom_kill");
    }
    if (!s->v1_root[CG_MEMORY])
        return 0;
    _cleanup_free_ char *dir = fs_path_join(s->v1_root[CG_MEMORY], cg->rel);
    _cleanup_free_ char *p = fs_path_join(dir, "memory.oom_control");
    return read_key(p, "oom_kill");
}

/* The hierarchy whose cgroup.procs is authoritative for membership. */
static char *procs_path(const struct cgroup *cg)
{
    const struct cgroup_sys *s = cg->sys;
    const char *root = s->unified
                           ? s->v2_root
                           : (s->v1_root[CG_PIDS] ? s->v1_root[CG_PIDS] : s->v1_root[CG_MEMORY]);
    if (!root)
        root = s->v2_root;
    _cleanup_free_ char *dir = fs_path_join(root, cg->rel);
    return fs_path_join(dir, "cgroup.procs");
}

bool cgroup_is_empty(const struct cgroup *cg)
{
    _cleanup_free_ char *p = procs_path(cg);
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, p, 1 << 20, &buf, NULL, &ign);
    berr_clear(&ign);
    return r < 0 || buf[0] == '\0';
}

/* Whether the freezer has reached the state asked for: v2's cgroup.events
 * says "frozen 1" once every process has stopped, v1's freezer.state says
 * FREEZING until then. */
static bool freezer_settled(const struct cgroup_sys *s, const char *dir, bool freeze)
{
    _cleanup_free_ char *p = fs_path_join(dir, s->unified ? "cgroup.events" : "freezer.state");
    if (s->unified)
        return read_key(p, "frozen") == (freeze ? 1 : 0);
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, p, 4096, &buf, NULL, &ign);
    berr_clear(&ign);
    return r == 0 && strncmp(buf, freeze ? "FROZEN" : "THAWED", 6) == 0;
}

/* Writes the freezer's state, then waits up to wait_ms for it to settle:
 * both freezers work asynchronously, the write returning while processes
 * may still run. A freeze that does not settle is undone (never left half
 * frozen). */
static int freezer_set(const struct cgroup *cg, bool freeze, int wait_ms)
{
    const struct cgroup_sys *s = cg->sys;
    const char *root = s->unified ? s->v2_root : s->v1_root[CG_FREEZER];
    if (!root)
        return -ENOTSUP;
    _cleanup_free_ char *dir = fs_path_join(root, cg->rel);
    const char *knob = s->unified ? "cgroup.freeze" : "freezer.state";
    const char *val = s->unified ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
    struct berr ign = BERR_INIT;
    int r = write_knob(dir, knob, val, "freezer", &ign);
    berr_clear(&ign);
    if (r < 0 || wait_ms <= 0)
        return r;
    for (int waited = 0; !freezer_settled(s, dir, freeze); waited++) {
        if (waited >= wait_ms) {
            if (freeze)
                freezer_set(cg, false, 0);
            return -EBUSY;
        }
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

#define CG_FREEZE_WAIT_MS 2000

int cgroup_freeze(const struct cgroup *cg, bool freeze)
{
    return freezer_set(cg, freeze, CG_FREEZE_WAIT_MS);
}

/* The processes of the cgroup in every hierarchy it lives in (on a hybrid
 * host a process may be in some and not yet in others), without
 * duplicates: at most max of them; returns how many. */
static size_t cgroup_pids(const struct cgroup *cg, pid_t *out, size_t max)
{
    const char *rs[CG_CTRL_MAX + 1];
    int n = roots(cg->sys, rs);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *dir = fs_path_join(rs[i], cg->rel);
        _cleanup_free_ char *p = fs_path_join(dir, "cgroup.procs");
        _cleanup_free_ char *buf = NULL;
        struct berr ign = BERR_INIT;
        if (fs_read_file(AT_FDCWD, p, 1 << 20, &buf, NULL, &ign) < 0) {
            berr_clear(&ign);
            continue;
        }
        for (char *l = buf; *l && k < max;) {
            long pid = strtol(l, &l, 10);
            bool seen = pid <= 0;
            for (size_t j = 0; j < k && !seen; j++)
                seen = out[j] == (pid_t)pid;
            if (!seen)
                out[k++] = (pid_t)pid;
            while (*l == '\n')
                l++;
        }
    }
    return k;
}

#define CG_PIDS_MAX 4096

void cgroup_kill_all(const struct cgroup *cg)
{
    const struct cgroup_sys *s = cg->sys;
    if (s->unified) {
        _cleanup_free_ char *dir = fs_path_join(s->v2_root, cg->rel);
        _cleanup_free_ char *k = fs_path_join(dir, "cgroup.kill");
        struct berr ign = BERR_INIT;
        int r = fs_write_str(AT_FDCWD, k, "1", &ign);
        berr_clear(&ign);
        if (r == 0)
            return;
    }
    /* v1: signal every listed pid; repeat while new ones appear. */
    _cleanup_free_ pid_t *pids = xcalloc(CG_PIDS_MAX, sizeof *pids);
    for (int round = 0; round < 10; round++) {
        size_t n = cgroup_pids(cg, pids, CG_PIDS_MAX);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            kill(pids[i], SIGKILL);
    }
}

/* "4242 (sleep 3600)" for messages, with the state when it explains why
 * the process is still there: frozen, or in an uninterruptible sleep. */
static void describe_pid(pid_t pid, char *out, size_t cap)
{
    char path[64], cmd[96] = "", stat[512] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
    if (fd >= 0)
        close(fd);
    for (ssize_t i = 0; i < n; i++)
        if (cmd[i] == '\0' || cmd[i] == '\n')
            cmd[i] = ' ';
    while (n > 0 && cmd[n - 1] == ' ')
        n--;
    cmd[n > 0 ? n : 0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t m = fd >= 0 ? read(fd, stat, sizeof stat - 1) : -1;
    if (fd >= 0)
        close(fd);
    stat[m > 0 ? m : 0] = '\0';
    char *paren = strrchr(stat, ')');
    char state = paren && paren[1] == ' ' ? paren[2] : '?';
    if (!cmd[0] && paren) { /* a kernel thread, or a zombie: its comm */
        char *open_paren = strchr(stat, '(');
        if (open_paren && open_paren < paren)
            snprintf(cmd, sizeof cmd, "[%.*s]", (int)(paren - open_paren - 1), open_paren + 1);
    }
    snprintf(out, cap, "%d (%s%s)", (int)pid, cmd[0] ? cmd : "?",
             state == 'D'   ? ", uninterruptible or frozen"
             : state == 'T' ? ", stopped"
                            : "");
}

int cgroup_kill_wait(const struct cgroup *cg, int wait_ms, struct berr *e)
{
    _cleanup_free_ pid_t *pids = xcalloc(CG_PIDS_MAX, sizeof *pids);
    size_t n = 0;
    for (int waited = 0;; waited += 10) {
        cgroup_kill_all(cg);
        /* A paused container's processes die only once thawed (without
         * waiting: a freezer held from above never settles). */
        freezer_set(cg, false, 0);
        n = cgroup_pids(cg, pids, CG_PIDS_MAX);
        if (n == 0)
            return 0;
        if (waited >= wait_ms)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    char list[1024] = "";
    size_t shown = 0;
    for (; shown < n; shown++) {
        char one[160];
        describe_pid(pids[shown], one, sizeof one);
        if (strlen(list) + strlen(one) + 16 >= sizeof list)
            break;
        if (shown)
            strcat(list, ", ");
        strcat(list, one);
    }
    if (shown < n) {
        char more[32];
        snprintf(more, sizeof more, " and %zu more", n - shown);
        strcat(list, more);
    }
    return berr_set(e, -EBUSY, "%zu process%s still in cgroup %s after SIGKILL: %s", n,
                    n == 1 ? "" : "es", cg->rel, list);
}

static int rmdir_retry(const char *dir, int tries)
{
    /* A cgroup that just lost its last task can stay busy for a moment. */
    for (int i = 0; i < tries; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            return -errno;
        if (i + 1 == tries)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -EBUSY;
}

int cgroup_destroy(struct cgroup *cg, bool prune, struct berr *e)
{
    if (cg->v2_fd >= 0) {
        close(cg->v2_fd);
        cg->v2_fd = -1;
    }
    const char *rs[CG_CTRL_MAX + 1];
    int n = roots(cg->sys, rs);
    int ret = 0;
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *rel = xstrdup(cg->rel);
        /* leaf first, then parents while they are empty (rmdir refuses a
         * non-empty cgroup, which is exactly the check we need) */
        for (;;) {
            _cleanup_free_ char *dir = fs_path_join(rs[i], rel);
            bool leaf = strcmp(rel, cg->rel) == 0;
            if (!leaf && !cgroup_level_prunable(rel, dir))
                break; /* a cgroup_parent level berth did not make */
            int r = rmdir_retry(dir, leaf ? 200 : 1);
            if (r < 0) {
                if (leaf && ret == 0)
                    ret = berr_errno(e, r, "removing cgroup %s", dir);
                break;
            }
            char *slash = prune ? strrchr(rel, '/') : NULL;
            if (!slash)
                break;
            *slash = '\0';
        }
    }
    return ret;
}

void cgroup_free(struct cgroup *cg)
{
    if (!cg)
        return;
    if (cg->v2_fd >= 0)
        close(cg->v2_fd);
    free(cg->rel);
    free(cg);
}

int cgroup_disable_oom_kill(const struct cgroup *cg, const char *who, struct berr *e)
{
    const struct cgroup_sys *s = cg->sys;
    if (s->unified || !s->v1_root[CG_MEMORY])
        return -ENOTSUP;
    _cleanup_free_ char *dir = fs_path_join(s->v1_root[CG_MEMORY], cg->rel);
    return write_knob(dir, "memory.oom_control", "1", who, e);
}
