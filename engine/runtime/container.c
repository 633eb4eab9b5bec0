/* SPDX-License-Identifier: Apache-2.0 */
/* Starting a container: the runtime's set-up (cgroup layout, seccomp cache,
 * the init program), the parent's half of container_start (overlay options,
 * cgroup, clone3 into namespaces, waiting for the child's status), and
 * reaping, signalling and releasing it. Not here: what the child does
 * (engine/runtime/init.c, proc.c), exec into a running one
 * (engine/runtime/exec.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/runtime/idmap.h"
#include "engine/runtime/layercopy.h"
#include "engine/runtime/devnodes.h"
#include "engine/runtime/init.h"
#include "engine/runtime/mountspec.h"
#include "engine/runtime/quota.h"
#include "engine/runtime/launch.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/seccomp_profile.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/kernel.h"
#include "util/xalloc.h"

#define USER_FILE_MAX (1 << 20) /* /etc/passwd and /etc/group are read up to 1 MiB */

/* The child joins each v1 hierarchy through one of init_args' slots. */
_Static_assert(CG_CTRL_MAX <= ARRAY_SIZE(((struct init_args *)0)->cg_join),
               "init_args.cg_join has a slot per v1 hierarchy");

int runtime_init(struct runtime *rt, const char *cache_dir, struct berr *e)
{
    memset(rt, 0, sizeof *rt);
    rt->init_program = -1;
    rt->idmap_layers = -1;
    int r = cgroup_sys_detect(&rt->cgsys, e);
    if (r < 0)
        return r;
    r = seccomp_load_default(cache_dir, CAPS_DOCKER_DEFAULT, &rt->seccomp, e);
    if (r < 0) {
        cgroup_sys_free(&rt->cgsys);
        return r;
    }
    rt->cap_last_cap = 40;
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &buf, NULL, &ign) == 0)
        rt->cap_last_cap = atoi(buf);
    berr_clear(&ign);
    rt->seccomp_cache_dir = cache_dir ? xstrdup(cache_dir) : NULL;
    rt->lowerdir_plus = kernel_at_least(6, 8);
    rt->user_buf_size = USER_FILE_MAX;
    rt->passwd_buf = xmalloc(USER_FILE_MAX);
    rt->group_buf = xmalloc(USER_FILE_MAX);
    return 0;
}

void runtime_fini(struct runtime *rt)
{
    cgroup_sys_free(&rt->cgsys);
    seccomp_prog_free(&rt->seccomp);
    for (size_t i = 0; i < rt->n_seccomp_by_caps; i++)
        seccomp_prog_free(&rt->seccomp_by_caps[i].prog);
    free(rt->seccomp_by_caps);
    for (size_t i = 0; i < rt->n_seccomp_custom; i++) {
        free(rt->seccomp_custom[i].text);
        seccomp_prog_free(&rt->seccomp_custom[i].prog);
    }
    free(rt->seccomp_custom);
    free(rt->seccomp_cache_dir);
    free(rt->passwd_buf);
    free(rt->group_buf);
    if (rt->init_program >= 0)
        close(rt->init_program);
    memset(rt, 0, sizeof *rt);
    rt->init_program = -1;
}

/* blob.S */
extern const char berth_pid1_start[], berth_pid1_end[];

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux >= 6.3: executable even where vm.memfd_noexec says otherwise */
#endif

int runtime_init_program(struct runtime *rt, struct berr *e)
{
    if (rt->init_program >= 0)
        return rt->init_program;
    unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    _cleanup_close_ int fd = memfd_create("berth-init", flags | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("berth-init", flags); /* before Linux 6.3 */
    if (fd < 0)
        return berr_errno(e, errno, "creating the container's init program");
    size_t len = (size_t)(berth_pid1_end - berth_pid1_start);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, berth_pid1_start + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return berr_errno(e, w < 0 ? errno : EIO, "writing the container's init program");
        off += (size_t)w;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        return berr_errno(e, errno, "sealing the container's init program");
    rt->init_program = TAKE_FD(fd);
    return rt->init_program;
}

/* The capabilities this kernel has: 0 to cap_last_cap. */
static uint64_t kernel_caps(const struct runtime *rt)
{
    int last = rt->cap_last_cap;
    if (last < 0)
        return 0;
    return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

/* A security_opt seccomp=PATH profile compiled for caps, once per runtime. */
static int custom_seccomp(struct runtime *rt, const struct container_sec *sec, uint64_t caps,
                          const char *name, const struct seccomp_prog **out, struct berr *e)
{
    for (size_t i = 0; i < rt->n_seccomp_custom; i++)
        if (rt->seccomp_custom[i].caps == caps &&
            strcmp(rt->seccomp_custom[i].text, sec->seccomp) == 0) {
            *out = &rt->seccomp_custom[i].prog;
            return 0;
        }
    struct seccomp_prog prog = {0};
    struct seccomp_env env = {.caps = caps};
    int r = seccomp_profile_compile(sec->seccomp, strlen(sec->seccomp),
                                    sec->seccomp_source ? sec->seccomp_source : "seccomp profile",
                                    &env, &prog, e);
    if (r < 0)
        return berr_wrap(e, "%s", name);
    rt->seccomp_custom =
        xreallocarray(rt->seccomp_custom, rt->n_seccomp_custom + 1, sizeof *rt->seccomp_custom);
    struct runtime_seccomp_custom *ent = &rt->seccomp_custom[rt->n_seccomp_custom++];
    *ent =
        (struct runtime_seccomp_custom){.text = xstrdup(sec->seccomp), .caps = caps, .prog = prog};
    *out = &ent->prog;
    return 0;
}

int launch_security(struct runtime *rt, uint64_t caps, uint64_t named, bool no_new_privs,
                    const struct container_sec *sec, const char *name, struct proc_args *p,
                    struct berr *e)
{
    static const struct container_sec none = {0};
    if (!sec)
        sec = &none;
    p->group_add = sec->group_add;
    p->apparmor = sec->apparmor;
    p->oom_score_adj[0] = '\0';
    if (sec->oom_score_adj_set)
        snprintf(p->oom_score_adj, sizeof p->oom_score_adj, "%d", sec->oom_score_adj);
    if (sec->privileged) {
        /* Docker: every capability the kernel has, no seccomp filter;
         * here, of those, every one berth itself can give (a sandbox may
         * hold some back: capset could not raise them). */
        caps = 0;
        for (int c = 0; c <= rt->cap_last_cap && c < 64; c++)
            if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                caps |= 1ULL << c;
        named = 0;
    }
    uint64_t missing = named & ~kernel_caps(rt);
    for (int c = 0; missing && c < 64; c++)
        if (missing & (1ULL << c)) {
            const char *n = caps_name(c);
            return berr_set(e, -EINVAL,
                            "%s: capability not supported by this kernel or not available in "
                            "the current environment: %s",
                            name, n ? n : "(unknown)");
        }
    caps &= kernel_caps(rt);
    p->caps = caps;
    p->no_new_privs = no_new_privs;
    p->cap_last_cap = rt->cap_last_cap;
    p->seccomp = NULL;
    if (sec->privileged || (sec->seccomp && strcmp(sec->seccomp, "unconfined") == 0))
        return 0;
    if (sec->seccomp)
        return custom_seccomp(rt, sec, caps, name, &p->seccomp, e);
    if (caps == CAPS_DOCKER_DEFAULT) {
        p->seccomp = &rt->seccomp;
        return 0;
    }
    for (size_t i = 0; i < rt->n_seccomp_by_caps; i++)
        if (rt->seccomp_by_caps[i].caps == caps) {
            p->seccomp = &rt->seccomp_by_caps[i].prog;
            return 0;
        }
    struct seccomp_prog prog = {0};
    int r = seccomp_load_default(rt->seccomp_cache_dir, caps, &prog, e);
    if (r < 0)
        return berr_wrap(e, "%s", name);
    rt->seccomp_by_caps =
        xreallocarray(rt->seccomp_by_caps, rt->n_seccomp_by_caps + 1, sizeof *rt->seccomp_by_caps);
    struct runtime_seccomp_entry *ent = &rt->seccomp_by_caps[rt->n_seccomp_by_caps++];
    ent->caps = caps;
    ent->prog = prog;
    p->seccomp = &ent->prog;
    return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    if (fs_read_file(AT_FDCWD, path, 4096, &buf, NULL, &ign) < 0) {
        berr_clear(&ign);
        return 0;
    }
    /* comm may hold spaces and parens: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static char *overlay_opts(const struct container_spec *s, char *const *layers)
{
    /* lowerdir lists the topmost layer first */
    size_t n = strv_len(layers);
    size_t cap = 64 + strlen(s->upper_dir) + strlen(s->work_dir);
    for (size_t i = 0; i < n; i++)
        cap += strlen(layers[i]) + 1;
    char *o = xmalloc(cap);
    strcpy(o, "lowerdir=");
    for (size_t i = n; i-- > 0;) {
        strcat(o, layers[i]);
        if (i)
            strcat(o, ":");
    }
    strcat(o, ",upperdir=");
    strcat(o, s->upper_dir);
    strcat(o, ",workdir=");
    strcat(o, s->work_dir);
    return o;
}

/* privileged: the host's device nodes under dir (relative to /dev), as
 * runc's HostDevices finds them: character and block devices, no
 * symlinks, not pts, shm, mqueue or fd, not the console. */
static void host_devnodes(int parent, const char *prefix, int depth, struct init_device **v,
                          size_t *n)
{
    static const char *const skip[] = {"pts",  "shm",         "fd",    "mqueue",
                                       ".lxc", ".lxd-mounts", ".udev", "console"};
    _cleanup_close_ int fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d)
        return;
    fd = -1; /* the DIR owns it */
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
            continue;
        bool skipped = false;
        for (size_t i = 0; i < ARRAY_SIZE(skip) && !*prefix; i++)
            skipped = skipped || strcmp(de->d_name, skip[i]) == 0;
        struct stat st;
        if (skipped || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        char path[sizeof((struct init_device *)0)->path];
        if ((size_t)snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) >=
            sizeof path)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 4) {
            _cleanup_close_ int sub =
                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                host_devnodes(sub, path, depth + 1, v, n);
            continue;
        }
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
            continue;
        *v = xreallocarray(*v, *n + 1, sizeof **v);
        struct init_device *dn = &(*v)[(*n)++];
        memset(dn, 0, sizeof *dn);
        memcpy(dn->path, path, strlen(path) + 1);
        dn->what = "populating /dev with the host's devices";
        dn->mode = st.st_mode;
        dn->rdev = st.st_rdev;
        dn->uid = st.st_uid;
        dn->gid = st.st_gid;
    }
    closedir(d);
}

/* Distinct v1 hierarchy directory names to mount inside the container. */
static int cg_mount_names(const struct cgroup_sys *s, const char **names)
{
    int n = 0;
    if (s->unified)
        return 0;
    for (int c = 0; c < CG_CTRL_MAX; c++) {
        if (!s->v1_root[c])
            continue;
        const char *base = strrchr(s->v1_root[c], '/');
        base = base ? base + 1 : s->v1_root[c];
        bool dup = false;
        for (int k = 0; k < n; k++)
            if (strcmp(names[k], base) == 0)
                dup = true;
        if (!dup && n < INIT_MAX_CGMOUNTS)
            names[n++] = base;
    }
    return n;
}

/* For a user-namespaced container on a v1 or hybrid host: each of
 * a->cgmount_names' hierarchies' directory of the container's cgroup (a
 * v1_root of that name, then cgroup_rel); *dirs owns the strings. */
static void cg_host_dirs(const struct cgroup_sys *s, const char *rel, struct init_args *a,
                         char ***dirs)
{
    for (int i = 0; i < a->n_cgmounts; i++)
        for (int c = 0; c < CG_CTRL_MAX; c++) {
            const char *root = s->v1_root[c];
            const char *base = root ? strrchr(root, '/') : NULL;
            if (!base || strcmp(base + 1, a->cgmount_names[i]) != 0)
                continue;
            char *d = xasprintf("%s/%s", root, rel);
            strv_push(dirs, d);
            a->cg_host_dirs[i] = d;
            break;
        }
}

static bool unmask_all(char *const *unmask)
{
    for (size_t i = 0; unmask && unmask[i]; i++)
        if (strcmp(unmask[i], "ALL") == 0)
            return true;
    return false;
}

/* userns: the layers as the container's overlay takes them: the range's
 * copies (*copies) where they were made (by `up`, or an earlier start),
 * where the spec says so, or where the store's file system refuses
 * idmapped mounts (asked once per runtime); else idmapped. */
static int userns_layers(struct runtime *rt, const struct container_spec *spec, char ***copies,
                         bool *idmapped, struct berr *e)
{
    *idmapped = false;
    if (!spec->layer_dirs || !spec->layer_dirs[0])
        return 0;
    bool made =
        spec->userns_layers_root && layercopy_present(spec->userns_layers_root, spec->layer_dirs,
                                                      spec->userns_uid, spec->userns_gid);
    if (!spec->userns_layers_copy && !made) {
        if (rt->idmap_layers < 0) {
            bool ok;
            int r = idmap_layers_supported(spec->layer_dirs[0], spec->userns_uid, spec->userns_gid,
                                           &ok, e);
            if (r < 0)
                return berr_wrap(e, "%s: userns_mode auto", spec->name);
            rt->idmap_layers = ok;
        }
        if (rt->idmap_layers) {
            *idmapped = true;
            return 0;
        }
    }
    if (!spec->userns_layers_root)
        return berr_set(e, -EOPNOTSUPP,
                        "%s: userns_mode auto: the file system of the layers refuses idmapped "
                        "mounts and no place for copies of them was given",
                        spec->name);
    int r = layercopy_dirs(spec->userns_layers_root, spec->layer_dirs, spec->userns_uid,
                           spec->userns_gid, copies, e);
    if (r < 0)
        return berr_wrap(e, "%s: userns_mode auto: copying the layers into its ID range",
                         spec->name);
    return 0;
}

int container_start(struct runtime *rt, const struct container_spec *spec,
                    struct container_proc *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    out->pidfd = -1;
    out->console_fd = -1;
    if (!spec->argv || !spec->argv[0])
        return berr_set(e, -EINVAL, "%s: no command given and the image has none", spec->name);
    /* Capabilities, no_new_privs, seccomp: checked before anything is made. */
    struct proc_args sec = {0};
    int sr = launch_security(rt, spec->caps, spec->caps_named, spec->no_new_privs, &spec->sec,
                             spec->name, &sec, e);
    if (sr < 0)
        return sr;

    /* Everything the child needs, prepared here (it must not allocate). */
    char *const *layers = spec->layer_dirs;
    _cleanup_strv_ char **copies = NULL;
    bool idmapped = false;
    if (spec->userns) {
        int ur = userns_layers(rt, spec, &copies, &idmapped, e);
        if (ur < 0)
            return ur;
        if (copies)
            layers = copies;
    }
    size_t n_layers = strv_len(layers);
    _cleanup_free_ char **lower = xcalloc(n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < n_layers; i++)
        lower[i] = layers[n_layers - 1 - i];
    _cleanup_free_ char *opts = overlay_opts(spec, layers);
    _cleanup_(init_mounts_free) struct init_mounts mnts = {0};
    int mr = init_mounts_prepare(spec, &mnts, e);
    if (mr < 0)
        return mr;
    _cleanup_free_ int *mount_fds = xcalloc(mnts.n + 1, sizeof(int));

    _cleanup_(init_devices_free) struct init_devices devs = {0};
    int dr = init_devices_prepare(&spec->limits, spec->name, &devs, e);
    if (dr < 0)
        return dr;

    /* The network namespace to join, opened before anything is made. */
    _cleanup_close_ int netns_fd = -1;
    if (spec->netns_path) {
        netns_fd = open(spec->netns_path, O_RDONLY | O_CLOEXEC);
        if (netns_fd < 0)
            return berr_errno(e, errno, "%s: opening the network namespace %s", spec->name,
                              spec->netns_path);
    }

    int init_fd = -1;
    if (spec->init) {
        init_fd = runtime_init_program(rt, e);
        if (init_fd < 0)
            return berr_wrap(e, "%s", spec->name);
    }

    if (spec->limits.storage_size > 0) {
        int qr =
            quota_set(spec->upper_dir, spec->work_dir, spec->limits.storage_size, spec->name, e);
        if (qr < 0)
            return qr;
    }

    /* Namespaces and sysctls; the levels of a cgroup_parent. */
    struct procns_init nsi;
    _cleanup_free_ struct init_sysctl *sysctls = NULL;
    uint64_t ns_flags = 0;
    int r = procns_prepare(spec, &nsi, &sysctls, &ns_flags, e);
    if (r == 0)
        r = cgroup_parent_prepare(&rt->cgsys, spec->cgroup_rel, spec->name, e);
    if (r < 0)
        return r;

    const struct container_sec *cs = &spec->sec;
    _cleanup_free_ struct init_device *devnodes = NULL;
    size_t n_devnodes = 0;
    if (cs->privileged) {
        _cleanup_close_ int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dev >= 0)
            host_devnodes(dev, "", 0, &devnodes, &n_devnodes);
    }

    _cleanup_strv_ char **cg_dirs = NULL; /* userns: cg_host_dirs */
    struct cgroup *cg = NULL;
    struct cgroup_limits lim = spec->limits;
    lim.devices_all = lim.devices_all || cs->privileged;
    r = cgroup_create(&rt->cgsys, spec->cgroup_rel, &lim, spec->name, &cg, e);
    if (r < 0) {
        cgroup_parent_release(&rt->cgsys, spec->cgroup_rel);
        return r;
    }
    int sync_pipe[2] = {-1, -1};
    struct launch l = LAUNCH_INIT;
    int join_v1[CG_CTRL_MAX], join_v2 = -1, n_join = 0;
    int pidfd = -1;
    long pid = -1;
    if (cs->oom_kill_disable) {
        /* -ENOTSUP on v2: `up` said so (Docker's "OomKillDisable discarded") */
        r = cgroup_disable_oom_kill(cg, spec->name, e);
        if (r == -ENOTSUP)
            r = 0;
        if (r < 0)
            goto fail_pipes;
    }
    n_join = cgroup_join_fds(cg, join_v1, &join_v2, e);
    if (n_join < 0) {
        r = berr_wrap(e, "%s", spec->name);
        n_join = 0;
        goto fail_pipes;
    }
    r = launch_prepare(&l, spec->env, spec->tty, spec->name, e);
    if (r == 0 && pipe2(sync_pipe, O_CLOEXEC) < 0)
        r = berr_errno(e, errno, "%s: creating pipes", spec->name);
    if (r < 0)
        goto fail_pipes;

    struct init_args a = {
        .p =
            {
                .stdio = {spec->stdin_fd, spec->stdout_fd, spec->stderr_fd},
                .tty = spec->tty,
                .init = spec->init,
                .init_fd = init_fd,
                .cwd = spec->cwd,
                .user = spec->user,
                .argv = spec->argv,
                .passwd_buf = rt->passwd_buf,
                .group_buf = rt->group_buf,
                .user_buf_size = rt->user_buf_size,
            },
        .sync_fd = sync_pipe[0],
        .rootfs_dir = spec->rootfs_dir,
        .lower_top_first = lower,
        .upper_dir = spec->upper_dir,
        .work_dir = spec->work_dir,
        .overlay_opts = opts,
        .lowerdir_plus = rt->lowerdir_plus,
        .cgroup_unified = rt->cgsys.unified,
        .cgroup_has_v2 = !rt->cgsys.unified && rt->cgsys.v2_root != NULL,
        .hostname = spec->hostname,
        .domainname = spec->domainname,
        .netns_fd = netns_fd,
        .net_host = spec->net_host,
        .read_only = spec->read_only,
        .mounts = mnts.v,
        .n_mounts = mnts.n,
        .devices = devs.v,
        .n_devices = devs.n,
        .console_sock = launch_console_sock(&l),
        .privileged = cs->privileged,
        .no_masks = cs->privileged || cs->systempaths_unconfined,
        .unmask_all = unmask_all(cs->unmask),
        .mask = cs->mask,
        .unmask = cs->unmask,
        .devnodes = devnodes,
        .n_devnodes = n_devnodes,
    };
    if (spec->shm_size > 0)
        snprintf(a.shm_size, sizeof a.shm_size, "%lldk",
                 (long long)((spec->shm_size + 1023) / 1024));
    launch_proc_args(&l, &a.p);
    a.p.caps = sec.caps;
    a.p.no_new_privs = sec.no_new_privs;
    a.p.cap_last_cap = sec.cap_last_cap;
    a.p.seccomp = sec.seccomp;
    a.p.group_add = sec.group_add;
    a.p.apparmor = sec.apparmor;
    memcpy(a.p.oom_score_adj, sec.oom_score_adj, sizeof a.p.oom_score_adj);
    a.n_cgmounts = cg_mount_names(&rt->cgsys, a.cgmount_names);
    for (int i = 0; i < n_join; i++)
        a.cg_join[i] = join_v1[i];
    a.n_cg_join = n_join;
    a.cg_join_v2 = -1;
    procns_init_args(&a, &nsi, spec);

    struct clone_args ca = {
        .flags = CLONE_NEWNS | ns_flags | CLONE_PIDFD |
                 (netns_fd < 0 && !spec->net_host ? CLONE_NEWNET : 0),
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = SIGCHLD,
    };
    /* userns_mode auto: every namespace owned by the container's user
     * namespace; a network namespace to join is entered for the clone
     * (idmap.h). */
    struct idmap_parent up = IDMAP_PARENT_INIT;
    if (spec->userns) {
        r = idmap_clone_prepare(&up, spec->name, spec->upper_dir, spec->userns_uid,
                                spec->userns_gid, netns_fd, e);
        if (r < 0)
            goto fail_pipes;
        ca.flags |= CLONE_NEWUSER;
        a.userns = true;
        cg_host_dirs(&rt->cgsys, spec->cgroup_rel, &a, &cg_dirs);
        a.mount_fds = mount_fds;
        a.netns_fd = -1;
        a.net_host = a.net_host || netns_fd >= 0;
    }
    bool into_cgroup = cg->v2_fd >= 0;
    if (into_cgroup) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)cg->v2_fd;
    } else {
        a.cg_join_v2 = join_v2;
    }
    fflush(NULL);
    int saved_pidns = -1;
    r = procns_pid_enter(spec, &saved_pidns, e);
    if (r < 0) {
        idmap_clone_done(&up);
        goto fail_pipes;
    }
    pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && into_cgroup && (errno == EINVAL || errno == EOPNOTSUPP || errno == EBUSY)) {
        into_cgroup = false;
        ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
        ca.cgroup = 0;
        a.cg_join_v2 = join_v2;
        pid = syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid != 0) {
        procns_pid_leave(saved_pidns);
        idmap_clone_done(&up);
    }
    if (pid == 0) {
        close(sync_pipe[1]);
        launch_child(&l);
        container_init(&a);
    }
    if (pid < 0) {
        r = berr_errno(e, errno, "%s: creating the container process", spec->name);
        goto fail_pipes;
    }
    close(sync_pipe[0]);
    sync_pipe[0] = -1;
    launch_parent(&l);

    if (spec->userns) {
        struct idmap_rootfs fs = {
            .lower_top_first = lower,
            .upper_dir = spec->upper_dir,
            .work_dir = spec->work_dir,
            .rootfs_dir = spec->rootfs_dir,
            .overlay_opts = opts,
            .lowerdir_plus = rt->lowerdir_plus,
            .idmapped = idmapped,
        };
        r = idmap_child_go((pid_t)pid, sync_pipe[1], &fs, spec->userns_uid, spec->userns_gid,
                           spec->name, e);
        if (r < 0) {
            kill((pid_t)pid, SIGKILL);
            goto fail_child;
        }
    } else if (write(sync_pipe[1], "1", 1) != 1) {
        r = berr_errno(e, errno, "%s: starting the container process", spec->name);
        kill((pid_t)pid, SIGKILL);
        goto fail_child;
    }
    close(sync_pipe[1]);
    sync_pipe[1] = -1;

    r = launch_wait(&l, spec->name, spec->tty, &out->console_fd, -1, e);
    if (r < 0)
        goto fail_child;
    launch_free(&l);

    for (int i = 0; i < n_join; i++)
        close(join_v1[i]);
    if (join_v2 >= 0)
        close(join_v2);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->start_time = proc_start_time((pid_t)pid);
    out->cg = cg;
    return 0;

fail_child:
    if (out->console_fd >= 0) {
        close(out->console_fd);
        out->console_fd = -1;
    }
    launch_reap(pidfd);
    close(pidfd);
fail_pipes:
    for (int i = 0; i < 2; i++)
        if (sync_pipe[i] >= 0)
            close(sync_pipe[i]);
    launch_free(&l);
    for (int i = 0; i < n_join; i++)
        close(join_v1[i]);
    if (join_v2 >= 0)
        close(join_v2);
    {
        struct berr ign = BERR_INIT;
        cgroup_kill_all(cg);
        cgroup_destroy(cg, true, &ign);
        berr_clear(&ign);
        cgroup_free(cg);
    }
    return r;
}

int container_reap(struct container_proc *p, struct container_exit *x)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0)
        return -errno;
    if (si.si_pid == 0)
        return 0;
    memset(x, 0, sizeof *x);
    if (si.si_code == CLD_EXITED) {
        x->status = si.si_status;
    } else {
        x->signal = si.si_status;
        x->status = 128 + si.si_status;
    }
    if (p->cg)
        x->oom_killed = x->signal == SIGKILL && cgroup_oom_kills(p->cg) > 0;
    return 1;
}

int container_signal(const struct container_proc *p, int sig)
{
    if (p->pidfd < 0)
        return -ESRCH;
    if (pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0)
        return -errno;
    return 0;
}

static int release(struct container_proc *p, bool prune, struct berr *e)
{
    int r = 0;
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }
    if (p->cg) {
        cgroup_kill_all(p->cg);
        r = cgroup_destroy(p->cg, prune, e);
        cgroup_free(p->cg);
        p->cg = NULL;
    }
    return r;
}

int container_release(struct container_proc *p, struct berr *e)
{
    return release(p, false, e);
}

int container_release_prune(struct container_proc *p, struct berr *e)
{
    return release(p, true, e);
}
