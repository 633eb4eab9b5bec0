/* SPDX-License-Identifier: Apache-2.0 */
/* RUN: the command runs in a container of the runtime on the stage's
 * layers with a fresh upper dir, which becomes the step's layer. The
 * container gets the build's network (engine/build/buildnet.c), its
 * /etc/resolv.conf, /etc/hosts and /etc/hostname bound read-only, and the
 * step's --mount's. What the mounts needed created in the upper dir (an
 * empty /proc, an empty /etc/hosts the image lacked) is removed before
 * the layer is made, as BuildKit removes its mount stubs. Its output goes
 * to the progress with the step's number; a failure shows its exit code
 * and last lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/build/builder_int.h"
#include "engine/runtime/runtime.h"
#include "util/caps.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

/* The run's mounts: specs plus the strings they point at. */
struct run_mounts {
    struct mount_spec *v;
    size_t n;
    char **owned; /* freed at the end */
    int *lockfds; /* cache mounts with sharing=locked */
    size_t n_locks;
    char **secret_env; /* "K=V" for secrets exposed as env */
};

static void run_mounts_free(struct run_mounts *m)
{
    free(m->v);
    strv_free(m->owned);
    for (size_t i = 0; i < m->n_locks; i++)
        close(m->lockfds[i]);
    free(m->lockfds);
    strv_free(m->secret_env);
    memset(m, 0, sizeof *m);
}

static const char *own(struct run_mounts *m, char *s)
{
    strv_push(&m->owned, s);
    return s;
}

static struct mount_spec *add_mount(struct run_mounts *m)
{
    m->v = xreallocarray(m->v, m->n + 1, sizeof *m->v);
    memset(&m->v[m->n], 0, sizeof m->v[m->n]);
    return &m->v[m->n++];
}

/* A secret's file from the options: "id=ID,src=PATH" / "id=ID,env=VAR"
 * (docker's --secret), also "id=ID,source=..." and "type=file|env". */
static int find_secret(struct builder *b, const char *id, char **path, char **value, struct berr *e)
{
    *path = *value = NULL;
    for (char *const *s = b->o->secrets; s && *s; s++) {
        _cleanup_free_ char *copy = xstrdup(*s);
        char *sid = NULL, *src = NULL, *env = NULL, *save = NULL;
        for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(f, '=');
            if (!eq)
                continue;
            *eq = '\0';
            if (strcmp(f, "id") == 0)
                sid = eq + 1;
            else if (strcmp(f, "src") == 0 || strcmp(f, "source") == 0)
                src = eq + 1;
            else if (strcmp(f, "env") == 0)
                env = eq + 1;
        }
        if (!sid && src) { /* docker: the id defaults to the file's name */
            const char *base = strrchr(src, '/');
            sid = (char *)(base ? base + 1 : src);
        }
        if (!sid || strcmp(sid, id) != 0)
            continue;
        if (src) {
            *path = realpath(src, NULL);
            if (!*path)
                return berr_errno(e, errno, "secret %s: %s", id, src);
            return 1;
        }
        const char *v = strv_env_get(b->env->environ, env ? env : id);
        if (v) {
            *value = xstrdup(v);
            return 1;
        }
        return berr_set(e, -ENOENT, "secret %s: environment variable %s is not set", id,
                        env ? env : id);
    }
    return 0;
}

static int secret_mount(struct builder *b, const struct df_mount *dm, struct run_mounts *m,
                        struct berr *e)
{
    const char *id = dm->id ? dm->id : NULL;
    if (!id && dm->target) {
        const char *base = strrchr(dm->target, '/');
        id = base ? base + 1 : dm->target;
    }
    if (!id)
        return berr_set(e, -EINVAL, "secret mount needs an id or a target");
    _cleanup_free_ char *path = NULL, *value = NULL;
    int r = find_secret(b, id, &path, &value, e);
    if (r < 0)
        return r;
    if (r == 0) {
        if (dm->required)
            return berr_set(e, -ENOENT,
                            "secret %s not found (give it with --secret id=%s,src=FILE)", id, id);
        return 0; /* docker: an absent optional secret is skipped */
    }
    if (value) { /* write it to a file of the scratch directory, 0400 */
        _cleanup_free_ char *dir = NULL;
        if ((r = builder_dir(b, "secret", &dir, e)) < 0)
            return r;
        char *f = xasprintf("%s/s", dir);
        own(m, f);
        _cleanup_close_ int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
        if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
            return berr_errno(e, errno, "writing secret %s", id);
        path = xstrdup(f);
    } else if (access(path, R_OK) < 0) {
        return berr_errno(e, errno, "secret %s: %s", id, path);
    }
    if (dm->env) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = fs_read_file(AT_FDCWD, path, 500 * 1024, &text, &len, e)) < 0)
            return berr_wrap(e, "secret %s", id);
        strv_push(&m->secret_env, xasprintf("%s=%.*s", dm->env, (int)len, text));
        if (!dm->target)
            return 0;
    }
    struct mount_spec *ms = add_mount(m);
    ms->kind = MOUNT_KIND_BIND;
    ms->source = own(m, xstrdup(path));
    ms->target = own(m, dm->target ? xstrdup(dm->target) : xasprintf("/run/secrets/%s", id));
    ms->read_only = true;
    return 0;
}

static int cache_mount(struct builder *b, const struct df_mount *dm, struct run_mounts *m,
                       struct berr *e)
{
    if (!dm->target)
        return berr_set(e, -EINVAL, "cache mount needs a target");
    if (dm->from)
        return berr_set(e, -ENOTSUP,
                        "cache mount from=%s: seeding a cache from a stage is not "
                        "supported; drop from=",
                        dm->from);
    char hex[DIGEST_STR_SIZE];
    const char *id = dm->id ? dm->id : dm->target;
    sha256_digest(id, strlen(id), hex);
    char *dir = xasprintf("%s/mounts/%s", b->cache_dir, digest_hex(hex));
    own(m, dir);
    struct stat sb;
    if (stat(dir, &sb) < 0) {
        _cleanup_free_ char *tmp = xasprintf("%s.new%d", dir, getpid());
        int r = fs_mkdir_p(tmp, 0755, e);
        if (r < 0)
            return r;
        if (chown(tmp, dm->uid >= 0 ? (uid_t)dm->uid : 0, dm->gid >= 0 ? (gid_t)dm->gid : 0) < 0 ||
            chmod(tmp, dm->mode >= 0 ? (mode_t)dm->mode : 0755) < 0 ||
            (rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY))
            return berr_errno(e, errno, "making the cache directory %s", dir);
        rmdir(tmp);
    }
    if (dm->sharing && strcmp(dm->sharing, "locked") == 0) {
        _cleanup_free_ char *lock = xasprintf("%s.lock", dir);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
            if (fd >= 0)
                close(fd);
            return berr_errno(e, errno, "locking the cache %s", id);
        }
        m->lockfds = xreallocarray(m->lockfds, m->n_locks + 1, sizeof(int));
        m->lockfds[m->n_locks++] = fd;
    }
    struct mount_spec *ms = add_mount(m);
    ms->kind = MOUNT_KIND_BIND;
    ms->source = dir;
    ms->target = own(m, xstrdup(dm->target));
    ms->read_only = dm->readonly;
    return 0;
}

/* type=bind: from the context (a path beneath it), or from a stage or an
 * image, whose source is copied out first (the mount is read-only, or
 * its writes discarded: a copy gives the same). */
static int bind_mount(struct builder *b, struct bstage *st, const struct df_instr *in,
                      const struct df_mount *dm, struct run_mounts *m, struct berr *e)
{
    (void)st;
    if (!dm->target)
        return berr_set(e, -EINVAL, "bind mount needs a target");
    const char *src = dm->source ? dm->source : "/";
    _cleanup_free_ char *dir = NULL;
    int r = builder_dir(b, "bind", &dir, e);
    if (r < 0)
        return r;
    /* The source is copied into dir/b (a plain directory as the
     * destination root), from the context or the stage: the source's
     * own confinement rules apply (nothing outside the context). */
    struct bstage *from = NULL, image = {0};
    if (dm->from && (r = builder_from_source(b, in, dm->from, &from, &image, e)) < 0)
        return r;
    /* dest "/b": a file becomes b, a directory's contents go into b */
    char *srcs[] = {(char *)src, NULL};
    struct copy_op op = {
        .file = b->df->name,
        .line = in->line,
        .srcs = srcs,
        .dest = "/b",
        .workdir = "/",
    };
    _cleanup_close_ int dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        r = berr_errno(e, errno, "opening %s", dir);
    } else if (!dm->from) {
        struct copy_source cs = {.rootfd = build_context_fd(b->ctx),
                                 .ignore = build_context_ignore(b->ctx),
                                 .is_context = true};
        r = build_copy(&op, &cs, dfd, e);
    } else {
        r = builder_copy_from(b, from ? from : &image, &op, dfd, e);
    }
    json_decref(image.config);
    free(image.layers);
    if (r < 0)
        return r;
    struct mount_spec *ms = add_mount(m);
    ms->kind = MOUNT_KIND_BIND;
    ms->source = own(m, xasprintf("%s/b", dir));
    ms->target = own(m, xstrdup(dm->target));
    ms->read_only = true; /* rw: writes are discarded, as a copy discards them */
    return 0;
}

static int step_mounts(struct builder *b, struct bstage *st, const struct df_instr *in,
                       const struct build_net_step *ns, struct run_mounts *m, struct berr *e)
{
    static const char *const etc[] = {"/etc/resolv.conf", "/etc/hosts", "/etc/hostname"};
    const char *files[] = {ns->resolv_conf, ns->hosts, ns->hostname};
    for (size_t i = 0; i < 3; i++) {
        if (!files[i])
            continue;
        struct mount_spec *ms = add_mount(m);
        ms->kind = MOUNT_KIND_BIND;
        ms->source = files[i];
        ms->target = etc[i];
        ms->read_only = true;
    }
    for (size_t i = 0; i < in->n_mounts; i++) {
        const struct df_mount *dm = &in->mounts[i];
        int r = 0;
        switch (dm->type) {
        case DF_MOUNT_CACHE:
            r = cache_mount(b, dm, m, e);
            break;
        case DF_MOUNT_TMPFS: {
            if (!dm->target)
                return berr_set(e, -EINVAL, "tmpfs mount needs a target");
            struct mount_spec *ms = add_mount(m);
            ms->kind = MOUNT_KIND_TMPFS;
            ms->target = own(m, xstrdup(dm->target));
            ms->tmpfs_size = dm->size > 0 ? dm->size : 0;
            break;
        }
        case DF_MOUNT_SECRET:
            r = secret_mount(b, dm, m, e);
            break;
        case DF_MOUNT_BIND:
            r = bind_mount(b, st, in, dm, m, e);
            break;
        case DF_MOUNT_SSH:
            r = berr_set(e, -ENOTSUP, "--mount=type=ssh: berth has no SSH agent forwarding");
            break;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

/* --- mount stubs ------------------------------------------------------ */

/* The entry rel of the topmost lower that has it (a whiteout: none). */
static bool lower_stat(char *const *lowers, const char *rel, struct stat *out)
{
    for (size_t n = strv_len(lowers); n-- > 0;) {
        _cleanup_free_ char *p = xasprintf("%s/%s", lowers[n], rel);
        if (lstat(p, out) == 0)
            return !(S_ISCHR(out->st_mode) && out->st_rdev == makedev(0, 0));
    }
    return false;
}

static bool empty_stub(int dirfd, const char *rel)
{
    struct stat sb;
    if (fstatat(dirfd, rel, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return false;
    if (S_ISREG(sb.st_mode))
        return sb.st_size == 0;
    if (!S_ISDIR(sb.st_mode))
        return false;
    int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool empty = true;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

/* Removes target (absolute in the container) from upper when it is an
 * empty file or directory the lowers do not have, then its parents
 * likewise; a parent the lowers have goes when overlayfs only copied it
 * up for the stub (empty, same type, mode and owner, not opaque). */
static void remove_stub(int upperfd, char *const *lowers, const char *target)
{
    char rel[4096];
    if (path_normalize(target, PATH_NORM_STRIP_ROOT, rel, sizeof rel) < 0 || !rel[0])
        return;
    for (;;) {
        struct stat us, ls;
        if (fstatat(upperfd, rel, &us, AT_SYMLINK_NOFOLLOW) < 0 || !empty_stub(upperfd, rel))
            return;
        if (lower_stat(lowers, rel, &ls)) {
            char x;
            _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", upperfd, rel);
            if (!S_ISDIR(us.st_mode) || us.st_mode != ls.st_mode || us.st_uid != ls.st_uid ||
                us.st_gid != ls.st_gid || lgetxattr(p, "trusted.overlay.opaque", &x, 1) >= 0)
                return;
        }
        if (unlinkat(upperfd, rel, S_ISDIR(us.st_mode) ? AT_REMOVEDIR : 0) < 0)
            return;
        char *slash = strrchr(rel, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
}

/* --- running ---------------------------------------------------------- */

/* Reads the pipe into lines for the progress until EOF and the process
 * has exited; a signal from sigfd (SIGINT/SIGTERM) kills it. */
static int watch(struct builder *b, struct bstep *s, struct container_proc *p, int outfd,
                 struct container_exit *x, struct berr *e)
{
    char buf[8192], line[4096];
    size_t ll = 0;
    bool reaped = false, eof = false, interrupted = false;
    while (!reaped || !eof) {
        struct pollfd pf[3] = {{.fd = eof ? -1 : outfd, .events = POLLIN},
                               {.fd = reaped ? -1 : p->pidfd, .events = POLLIN},
                               {.fd = b->sigfd, .events = POLLIN}};
        int n = poll(pf, 3, b->parallel ? 250 : -1);
        if (n < 0 && errno != EINTR)
            return berr_errno(e, errno, "waiting for the RUN step");
        if (!interrupted && __atomic_load_n(&b->cancel, __ATOMIC_RELAXED)) {
            interrupted = true; /* another stage failed */
            container_signal(p, SIGKILL);
        }
        if (pf[2].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(b->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                interrupted = true;
                __atomic_store_n(&b->interrupted, (int)si.ssi_signo, __ATOMIC_RELAXED);
                container_signal(p, SIGKILL);
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(outfd, buf, sizeof buf);
            if (r <= 0) {
                eof = true;
            } else {
                for (ssize_t i = 0; i < r; i++) {
                    if (buf[i] == '\n' || ll == sizeof line) {
                        prog_line(s, line, ll);
                        ll = 0;
                        if (buf[i] == '\n')
                            continue;
                    }
                    line[ll++] = buf[i];
                }
            }
        }
        if (!reaped && (pf[1].revents & POLLIN)) {
            int r = container_reap(p, x);
            if (r < 0)
                return berr_errno(e, r, "reaping the RUN step");
            reaped = r == 1;
        }
    }
    if (ll)
        prog_line(s, line, ll);
    if (interrupted && !__atomic_load_n(&b->interrupted, __ATOMIC_RELAXED))
        return berr_set(e, -ECANCELED, "cancelled: another stage failed");
    if (interrupted)
        return berr_set(e, -EINTR, "interrupted");
    return 0;
}

/* The command line of a RUN with heredocs as BuildKit runs it: a lone
 * "<<EOF" runs the heredoc as the script; otherwise the shell gets the
 * whole text, heredocs included, and reads them itself. */
static char **heredoc_argv(json_t *config, const struct df_instr *in, char **script)
{
    *script = NULL;
    const char *cmd = in->args[0];
    const struct df_heredoc *h = &in->heredocs[0];
    if (in->n_heredocs == 1 && cmd[0] == '<' && cmd[1] == '<' && !strpbrk(cmd, " \t")) {
        if (strncmp(h->content, "#!", 2) == 0) {
            *script = xstrdup(h->content);
            return NULL; /* the caller runs it as a file */
        }
        char **v = imgcfg_shell(config);
        strv_push(&v, xstrdup(h->content));
        return v;
    }
    struct strbuf sb = {0};
    strbuf_put(&sb, cmd, strlen(cmd));
    strbuf_put(&sb, "\n", 1);
    for (size_t i = 0; i < in->n_heredocs; i++) {
        strbuf_put(&sb, in->heredocs[i].content, strlen(in->heredocs[i].content));
        strbuf_put(&sb, in->heredocs[i].name, strlen(in->heredocs[i].name));
        strbuf_put(&sb, "\n", 1);
    }
    char **v = imgcfg_shell(config);
    strv_push(&v, sb.s ? sb.s : xstrdup(""));
    return v;
}

static int run_container(struct builder *b, struct bstage *st, const struct df_instr *in,
                         struct bstep *s, const char *upper, const char *work, const char *rootfs,
                         char **lowers, struct berr *e)
{
    /* The network: the build's, or what RUN --network asks. */
    const char *netflag = df_flag(in, "network");
    if (netflag && strcmp(netflag, "host") == 0 && build_net_mode(b->net) != BUILD_NET_HOST)
        return berr_set(e, -EPERM,
                        "RUN --network=host needs the build's network to be host "
                        "(--network host)");
    const char *sec = df_flag(in, "security");
    if (sec && strcmp(sec, "insecure") == 0)
        return berr_set(e, -EPERM,
                        "RUN --security=insecure is not allowed: berth builds "
                        "never run privileged steps");
    bool none = netflag && strcmp(netflag, "none") == 0;
    struct build_net_step ns = {0};
    int r = 0;
    if (!none) {
        pthread_mutex_lock(&b->lock);
        r = build_net_step_begin(b->net, "buildkitsandbox", &ns, e);
        pthread_mutex_unlock(&b->lock);
        if (r < 0)
            return r;
    }
    struct run_mounts m = {0};
    _cleanup_strv_ char **env = df_walk_env(st->walk);
    _cleanup_strv_ char **argv = NULL;
    _cleanup_free_ char *script = NULL, *name = NULL, *cg = NULL;
    if ((r = step_mounts(b, st, in, &ns, &m, e)) < 0)
        goto out;
    if (!strv_env_get(env, "PATH"))
        strv_env_put(&env, BUILD_DEFAULT_PATH);
    for (char **x = m.secret_env; x && *x; x++)
        strv_env_put(&env, *x);
    argv = in->n_heredocs && !in->json ? heredoc_argv(st->config, in, &script)
                                       : imgcfg_command(st->config, in);
    if (script) {
        _cleanup_free_ char *dir = NULL;
        if ((r = builder_dir(b, "script", &dir, e)) < 0)
            goto out;
        char *f = xasprintf("%s/%s", dir, in->heredocs[0].name);
        own(&m, f);
        _cleanup_close_ int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, script, strlen(script)) != (ssize_t)strlen(script)) {
            r = berr_errno(e, errno, "writing the heredoc script");
            goto out;
        }
        struct mount_spec *ms = add_mount(&m);
        ms->kind = MOUNT_KIND_BIND;
        ms->source = f;
        ms->target = own(&m, xasprintf("/dev/pipes/%s", in->heredocs[0].name));
        ms->read_only = true;
        strv_push(&argv, xstrdup(ms->target));
    }
    if (!argv || !argv[0] || !argv[0][0]) {
        r = berr_set(e, -EINVAL, "RUN has no command");
        goto out;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        r = berr_errno(e, errno, "making a pipe");
        goto out;
    }
    name = xasprintf("build-%d-%u", getpid(), s->id);
    cg = xasprintf("%s/%s", b->cgroup_parent, name);
    struct container_spec spec = {
        .name = name,
        .layer_dirs = lowers,
        .upper_dir = upper,
        .work_dir = work,
        .rootfs_dir = rootfs,
        .argv = argv,
        .env = env,
        .cwd = imgcfg_workdir(st->config),
        .user = imgcfg_user(st->config),
        .hostname = "buildkitsandbox",
        .netns_path = ns.netns_path,
        .net_host = !none && build_net_mode(b->net) == BUILD_NET_HOST,
        .cgroup_rel = cg,
        .shm_size = b->o->shm_size,
        .mounts = m.v,
        .n_mounts = m.n,
        .stdin_fd = -1,
        .stdout_fd = pfd[1],
        .stderr_fd = pfd[1],
        .caps = CAPS_DOCKER_DEFAULT,
    };
    struct container_proc p = {.pidfd = -1, .console_fd = -1};
    r = container_start(b->env->rt, &spec, &p, e);
    close(pfd[1]);
    if (r < 0) {
        close(pfd[0]);
        goto out;
    }
    struct container_exit x = {0};
    r = watch(b, s, &p, pfd[0], &x, e);
    close(pfd[0]);
    struct berr re = BERR_INIT;
    if (container_release_prune(&p, &re) < 0 && r == 0) {
        r = berr_wrap(&re, "RUN");
        berr_move(e, &re);
    }
    berr_clear(&re);
    if (r == 0 && x.status != 0) {
        _cleanup_free_ char *cmd = strv_join(argv, " ");
        if (x.signal)
            r = berr_set(e, -ECHILD,
                         "process \"%s\" did not complete successfully: killed by signal %d%s", cmd,
                         x.signal, x.oom_killed ? " (out of memory)" : "");
        else
            r = berr_set(e, -ECHILD, "process \"%s\" did not complete successfully: exit code: %d",
                         cmd, x.status);
    }
    if (r == 0) {
        /* The stubs the mounts made, gone before the layer is made. */
        _cleanup_close_ int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        static const char *const fixed[] = {
            "/proc", "/sys", "/dev", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname"};
        for (size_t i = ufd >= 0 ? 0 : sizeof fixed / sizeof fixed[0];
             i < sizeof fixed / sizeof fixed[0]; i++)
            remove_stub(ufd, lowers, fixed[i]);
        for (size_t i = 0; ufd >= 0 && i < m.n; i++)
            remove_stub(ufd, lowers, m.v[i].target);
    }
out:
    run_mounts_free(&m);
    if (!none) {
        pthread_mutex_lock(&b->lock);
        build_net_step_end(b->net, &ns);
        pthread_mutex_unlock(&b->lock);
    }
    return r;
}

static int make_run(struct builder *b, struct bstage *st, const struct df_instr *in,
                    struct bstep *s, const char *upper, const char *work, const char *rootfs,
                    char **lowers, void *arg, struct berr *e)
{
    (void)arg;
    return run_container(b, st, in, s, upper, work, rootfs, lowers, e);
}

int step_run(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e)
{
    struct bstep s;
    st->step++;
    _cleanup_free_ char *title = prog_stage_title(st);
    prog_begin(b, &s, "%s %s", title, in->raw ? in->raw : "RUN");
    struct sha256 *h = bkey_begin(st->key, "run");
    bkey_instr(h, in);
    bkey_str(h, b->o->network ? b->o->network : "default");
    char key[DIGEST_STR_SIZE];
    bkey_end(h, key);
    return builder_layer_step(b, st, in, &s, key, make_run, NULL, e);
}
