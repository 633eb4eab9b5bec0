/* SPDX-License-Identifier: Apache-2.0 */
/* COPY, ADD and WORKDIR: file operations on the stage's root file system,
 * mounted (overlay of its layers and a fresh upper dir) in a child
 * process of its own mount namespace, so that the destination is
 * resolved as inside the container and nothing stays mounted. The
 * operations themselves are engine/build/context.c's. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/build/builder_int.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* "lowerdir=TOP:...:BOTTOM[,upperdir=U,workdir=W]"; paths below dir
 * (the layers' directory, the child's cwd) are made relative to keep the
 * options within a page. */
static char *overlay_opts(char **lowers, const char *upper, const char *work, const char *dir)
{
    struct strbuf sb = {0};
    strbuf_put(&sb, "lowerdir=", 9);
    size_t n = strv_len(lowers), dl = dir ? strlen(dir) : 0;
    for (size_t i = n; i-- > 0;) {
        const char *l = lowers[i];
        if (dl && strncmp(l, dir, dl) == 0 && l[dl] == '/')
            l += dl + 1;
        strbuf_put(&sb, l, strlen(l));
        if (i)
            strbuf_put(&sb, ":", 1);
    }
    if (upper) {
        strbuf_put(&sb, ",upperdir=", 10);
        strbuf_put(&sb, upper, strlen(upper));
        strbuf_put(&sb, ",workdir=", 9);
        strbuf_put(&sb, work, strlen(work));
    }
    return sb.s;
}

static char *common_dir(char **lowers)
{
    if (!lowers || !lowers[0])
        return NULL;
    const char *slash = strrchr(lowers[0], '/');
    return slash ? xstrndup(lowers[0], (size_t)(slash - lowers[0])) : NULL;
}

static int mount_overlay(char **lowers, const char *upper, const char *work, const char *target,
                         bool ro, struct berr *e)
{
    _cleanup_free_ char *dir = common_dir(lowers);
    if (dir && chdir(dir) < 0)
        return berr_errno(e, errno, "entering %s", dir);
    _cleanup_free_ char *opts = overlay_opts(lowers, upper, work, dir);
    if (strlen(opts) >= 4096)
        return berr_set(e, -E2BIG, "too many layers to mount (%zu)", strv_len(lowers));
    if (mount("overlay", target, "overlay", ro ? MS_RDONLY : 0, opts) < 0)
        return berr_errno(e, errno, "mounting the stage's root file system");
    return 0;
}

static int child_main(char **lowers, const char *upper, const char *work, const char *rootfs,
                      char **src_lowers, const char *src_root, root_fn fn, void *arg,
                      struct berr *e)
{
    if (unshare(CLONE_NEWNS) < 0)
        return berr_errno(e, errno, "making a mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return berr_errno(e, errno, "making the mounts private");
    int dst = -1, src = -1;
    if (lowers) {
        int r = mount_overlay(lowers, upper, work, rootfs, false, e);
        if (r < 0)
            return r;
        dst = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst < 0)
            return berr_errno(e, errno, "opening %s", rootfs);
    }
    if (src_lowers) {
        int r = mount_overlay(src_lowers, NULL, NULL, src_root, true, e);
        if (r < 0)
            return r;
        src = open(src_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0)
            return berr_errno(e, errno, "opening %s", src_root);
    }
    return fn(arg, dst, src, e);
}

int builder_in_root(struct builder *b, char **lowers, const char *upper, const char *work,
                    const char *rootfs, char **src_lowers, const char *src_root, root_fn fn,
                    void *arg, struct berr *e)
{
    (void)b;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return berr_errno(e, errno, "making a pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return berr_errno(e, errno, "forking");
    }
    if (pid == 0) {
        close(pfd[0]);
        struct berr ce = BERR_INIT;
        int r = child_main(lowers, upper, work, rootfs, src_lowers, src_root, fn, arg, &ce);
        if (r < 0) {
            const char *m = ce.msg ? ce.msg : "failed";
            ssize_t w = write(pfd[1], m, strlen(m));
            (void)w;
            _exit(1);
        }
        _exit(0);
    }
    close(pfd[1]);
    char msg[4096];
    size_t ml = 0;
    for (;;) {
        ssize_t r = read(pfd[0], msg + ml, sizeof msg - 1 - ml);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ml += (size_t)r;
        if (ml == sizeof msg - 1)
            break;
    }
    msg[ml] = '\0';
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    if (ml)
        return berr_set(e, -EIO, "%s", msg);
    return berr_set(e, -EIO, "the file operation died (status %d)", st);
}

struct copy_job {
    const struct copy_op *op;
    struct copy_source src;
    int dst_dirfd; /* a plain directory destination, or -1: the mounted root */
};

static int copy_fn(void *arg, int dst_rootfd, int src_rootfd, struct berr *e)
{
    struct copy_job *j = arg;
    if (src_rootfd >= 0)
        j->src.rootfd = src_rootfd;
    return build_copy(j->op, &j->src, j->dst_dirfd >= 0 ? j->dst_dirfd : dst_rootfd, e);
}

int builder_copy_from(struct builder *b, struct bstage *from, const struct copy_op *op,
                      int dst_dirfd, struct berr *e)
{
    _cleanup_free_ char *dir = NULL;
    int r = builder_dir(b, "from", &dir, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *root = xasprintf("%s/r", dir);
    if (mkdir(root, 0755) < 0)
        return berr_errno(e, errno, "making %s", root);
    _cleanup_strv_ char **src = builder_lowers(b, from);
    if (strv_len(src) == 1)
        strv_push(&src, xstrdup(b->empty_dir)); /* a read-only overlay needs two */
    struct copy_job j = {.op = op, .src = {.rootfd = -1}, .dst_dirfd = dst_dirfd};
    return builder_in_root(b, NULL, NULL, NULL, NULL, src, root, copy_fn, &j, e);
}

struct copy_make {
    struct copy_op *op;
    struct bstage *from; /* NULL: the context */
};

static int make_copy(struct builder *b, struct bstage *st, const struct df_instr *in,
                     struct bstep *s, const char *upper, const char *work, const char *rootfs,
                     char **lowers, void *arg, struct berr *e)
{
    (void)st;
    (void)in;
    (void)s;
    struct copy_make *cm = arg;
    struct copy_job j = {.op = cm->op, .dst_dirfd = -1};
    if (!cm->from) {
        j.src.rootfd = build_context_fd(b->ctx);
        j.src.ignore = build_context_ignore(b->ctx);
        j.src.is_context = true;
        return builder_in_root(b, lowers, upper, work, rootfs, NULL, NULL, copy_fn, &j, e);
    }
    _cleanup_free_ char *src_root = xasprintf("%s.src", rootfs);
    if (mkdir(src_root, 0755) < 0)
        return berr_errno(e, errno, "making %s", src_root);
    _cleanup_strv_ char **src = builder_lowers(b, cm->from);
    if (strv_len(src) == 1)
        strv_push(&src, xstrdup(b->empty_dir));
    j.src.rootfd = -1;
    return builder_in_root(b, lowers, upper, work, rootfs, src, src_root, copy_fn, &j, e);
}

int step_copy(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e)
{
    struct bstep s;
    st->step++;
    _cleanup_free_ char *title = prog_stage_title(st);
    prog_begin(b, &s, "%s %s", title, in->raw ? in->raw : df_kind_name(in->kind));
    size_t n = strv_len(in->args);
    _cleanup_strv_ char **srcs = NULL;
    _cleanup_strv_ char **excludes = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        strv_push(&srcs, xstrdup(in->args[i]));
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, "exclude") == 0)
            strv_push(&excludes, xstrdup(in->flags[i].value));
    _cleanup_free_ char *scratch = NULL; /* where ADD keeps what it downloads */
    int r = in->kind == DF_ADD ? builder_dir(b, "add", &scratch, e) : 0;
    struct copy_op op = {
        .file = b->df->name,
        .line = in->line,
        .add = in->kind == DF_ADD,
        .srcs = srcs,
        .heredocs = in->heredocs,
        .n_heredocs = in->n_heredocs,
        .dest = n ? in->args[n - 1] : "",
        .workdir = imgcfg_workdir(st->config),
        .chown = df_flag(in, "chown"),
        .chmod = df_flag(in, "chmod"),
        .checksum = df_flag(in, "checksum"),
        .excludes = excludes,
        .keep_git_dir = df_flag(in, "keep-git-dir") != NULL,
        .scratch_dir = scratch,
    };
    struct sha256 *h = bkey_begin(st->key, in->kind == DF_ADD ? "add" : "copy");
    bkey_instr(h, in);
    bkey_str(h, op.workdir);
    const char *from = in->kind == DF_COPY ? df_flag(in, "from") : NULL;
    struct bstage *fst = NULL, image = {0};
    if (r == 0 && from) {
        r = builder_from_source(b, in, from, &fst, &image, e);
        if (r == 0)
            bkey_str(h, (fst ? fst : &image)->key);
    } else if (r == 0) {
        char sum[65];
        struct copy_source cs = {.rootfd = build_context_fd(b->ctx),
                                 .ignore = build_context_ignore(b->ctx),
                                 .is_context = true};
        r = build_copy_checksum(&op, &cs, sum, e);
        if (r == 0)
            bkey_str(h, sum);
    }
    char key[DIGEST_STR_SIZE];
    bkey_end(h, key);
    if (r < 0) {
        prog_error(&s, e->msg ? e->msg : "failed");
        prog_end(&s);
        json_decref(image.config);
        free(image.layers);
        return builder_err(b, in, e);
    }
    struct copy_make cm = {.op = &op, .from = fst ? fst : (from ? &image : NULL)};
    r = builder_layer_step(b, st, in, &s, key, make_copy, &cm, e);
    json_decref(image.config);
    free(image.layers);
    return r;
}

static int mkdir_fn(void *arg, int dst_rootfd, int src_rootfd, struct berr *e)
{
    (void)src_rootfd;
    const char *path = arg;
    int r = fs_mkdirs_in_root(dst_rootfd, path, 0755);
    if (r < 0)
        return berr_errno(e, r, "making the working directory %s", path);
    close(r);
    return 0;
}

static int make_workdir(struct builder *b, struct bstage *st, const struct df_instr *in,
                        struct bstep *s, const char *upper, const char *work, const char *rootfs,
                        char **lowers, void *arg, struct berr *e)
{
    (void)st;
    (void)in;
    (void)s;
    return builder_in_root(b, lowers, upper, work, rootfs, NULL, NULL, mkdir_fn, arg, e);
}

int step_workdir(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e)
{
    int r = imgcfg_apply(st, in, e);
    if (r < 0)
        return builder_err(b, in, e);
    struct bstep s;
    st->step++;
    _cleanup_free_ char *title = prog_stage_title(st);
    prog_begin(b, &s, "%s %s", title, in->raw ? in->raw : "WORKDIR");
    struct sha256 *h = bkey_begin(st->key, "workdir");
    bkey_instr(h, in);
    const char *wd = imgcfg_workdir(st->config);
    bkey_str(h, wd);
    char key[DIGEST_STR_SIZE];
    bkey_end(h, key);
    return builder_layer_step(b, st, in, &s, key, make_workdir, (void *)wd, e);
}
