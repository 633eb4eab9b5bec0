/* SPDX-License-Identifier: Apache-2.0 */
/* What a container's plan gives it beyond its own mounts, before every
 * start: the mounts of the containers its volumes_from names (read from
 * their records), and its configs and secrets, written to a fresh tmpfs
 * (never to disk, never to the container's writable layer) with the owner
 * and mode asked, then bound read-only onto their targets. The host's
 * mount of that tmpfs is detached as soon as the container has started:
 * the container's own bind mounts keep the files alive, and nothing is
 * left on the host. Not here: the container's own mounts
 * (engine/volume/mounts.c), performing mounts (engine/runtime/init.c). */
#include "engine/supervise/ctr_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/runtime/userns.h"
#include "engine/supervise/records.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Size cap of one config or secret file. */
#define CTR_FILE_MAX (16 * 1024 * 1024)

/* --- volumes_from ----------------------------------------------------------- */

static const struct ctr_record *find_record(const struct ctr_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].name && strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

static bool has_target(const struct plan_mount *v, size_t n, const char *target)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].target, target) == 0)
            return true;
    return false;
}

/* Moves every spec and string of src to the end of dst. */
static void mount_set_append(struct mount_set *dst, struct mount_set *src)
{
    dst->specs = xreallocarray(dst->specs, dst->n + src->n + 1, sizeof *dst->specs);
    memcpy(dst->specs + dst->n, src->specs, src->n * sizeof *src->specs);
    dst->n += src->n;
    for (size_t i = 0; src->strings && src->strings[i]; i++)
        strv_push(&dst->strings, src->strings[i]);
    free(src->strings);
    src->strings = NULL;
    mount_set_free(src);
}

/* The mounts (binds and volumes; not tmpfs, as Docker) of each container
 * volumes_from names, read-only with ":ro"; a target the plan mounts
 * itself keeps the plan's mount. */
static int volumes_from(const char *root, const char *project, const struct ctr_plan *pl,
                        struct mount_set *ms, struct berr *e)
{
    _cleanup_ctr_list_ struct ctr_list l = {0};
    int r = ctr_list(root, NULL, NULL, &l.v, &l.n, e);
    if (r < 0)
        return r;
    struct ctr_plan tmp = {.name = pl->name};
    _cleanup_strv_ char **owned = NULL;
    for (size_t i = 0; pl->volumes_from[i]; i++) {
        _cleanup_free_ char *name = xstrdup(pl->volumes_from[i]);
        char *colon = strchr(name, ':');
        bool ro = false, rw = false;
        if (colon) {
            *colon = '\0';
            ro = strcmp(colon + 1, "ro") == 0;
            rw = strcmp(colon + 1, "rw") == 0;
        }
        const struct ctr_record *src = find_record(&l, name);
        if (!src) {
            free(tmp.mounts);
            return berr_set(e, -ENOENT, "%s: volumes_from: no such container \"%s\"", pl->name,
                            name);
        }
        for (size_t j = 0; j < src->plan.n_mounts; j++) {
            const struct plan_mount *m = &src->plan.mounts[j];
            if (m->type == PLAN_MOUNT_TMPFS || !m->source ||
                has_target(pl->mounts, pl->n_mounts, m->target) ||
                has_target(tmp.mounts, tmp.n_mounts, m->target))
                continue;
            tmp.mounts = xreallocarray(tmp.mounts, tmp.n_mounts + 1, sizeof *tmp.mounts);
            struct plan_mount *c = &tmp.mounts[tmp.n_mounts++];
            *c = (struct plan_mount){.type = m->type, .nocopy = true};
            c->source = xstrdup(m->source);
            c->target = xstrdup(m->target);
            strv_push(&owned, c->source);
            strv_push(&owned, c->target);
            c->read_only = ro || (!rw && m->read_only);
        }
    }
    struct mount_set add = {0};
    if (tmp.n_mounts > 0) {
        r = mounts_prepare(root, project, &tmp, e);
        if (r == 0)
            r = mounts_build(root, &tmp, &add, e);
    }
    if (r == 0) {
        /* The specs point into tmp's strings: hand them to the set. */
        for (size_t i = 0; owned && owned[i]; i++)
            strv_push(&add.strings, owned[i]);
        free(owned);
        owned = NULL;
        mount_set_append(ms, &add);
    }
    mount_set_free(&add);
    free(tmp.mounts);
    return r;
}

/* --- Configs and secrets ------------------------------------------------------ */

static const char *kind_of(const struct plan_file *f)
{
    return f->secret ? "secret" : "config";
}

/* Each file's bytes: the host file's now (a restart gets the current
 * content), or the plan's. */
static int read_sources(const struct ctr_plan *pl, char **bufs, size_t *lens, struct berr *e)
{
    for (size_t i = 0; i < pl->n_files; i++) {
        const struct plan_file *f = &pl->files[i];
        if (!f->source) {
            lens[i] = strlen(f->content ? f->content : "");
            continue;
        }
        int r = fs_read_file(AT_FDCWD, f->source, CTR_FILE_MAX, &bufs[i], &lens[i], e);
        if (r < 0) {
            berr_wrap(e, "%s: %s \"%s\"", pl->name, kind_of(f), f->name);
            return r;
        }
    }
    return 0;
}

static int write_one(int dfd, size_t i, const struct plan_file *f, const char *buf, size_t len,
                     const char *ctr, const struct userns_range *ids, struct berr *e)
{
    char name[32];
    snprintf(name, sizeof name, "%zu", i);
    _cleanup_close_ int fd =
        openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return berr_errno(e, errno, "%s: %s \"%s\": creating its file", ctr, kind_of(f), f->name);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return berr_errno(e, errno, "%s: %s \"%s\": writing its file", ctr, kind_of(f),
                              f->name);
        off += (size_t)w;
    }
    /* In a user namespace of its own, the IDs the file asks for are
     * those of the container's range on the host. */
    uid_t uid = f->uid + (ids ? ids->uid : 0);
    gid_t gid = f->gid + (ids ? ids->gid : 0);
    if (fchown(fd, uid, gid) < 0 || fchmod(fd, f->mode & 07777) < 0)
        return berr_errno(e, errno, "%s: %s \"%s\": setting owner %u:%u and mode %04o", ctr,
                          kind_of(f), f->name, f->uid, f->gid, f->mode & 07777);
    return 0;
}

static void drop_tmpfs(const char *dir)
{
    umount2(dir, MNT_DETACH);
    rmdir(dir);
}

static int make_files(const char *dir, const struct ctr_plan *pl, char **bufs, const size_t *lens,
                      const struct userns_range *ids, struct mount_set *ms, struct berr *e)
{
    size_t total = 64 * 1024;
    for (size_t i = 0; i < pl->n_files; i++)
        total += lens[i] + 4096;
    drop_tmpfs(dir); /* a leftover of a start that crashed */
    if (mkdir(dir, 0700) < 0)
        return berr_errno(e, errno, "%s: making %s", pl->name, dir);
    char opts[64];
    snprintf(opts, sizeof opts, "mode=0700,size=%zu", total);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0) {
        int r = berr_errno(e, errno, "%s: mounting a tmpfs for its configs and secrets on %s",
                           pl->name, dir);
        rmdir(dir);
        return r;
    }
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = dfd < 0 ? berr_errno(e, errno, "%s: opening %s", pl->name, dir) : 0;
    for (size_t i = 0; r == 0 && i < pl->n_files; i++) {
        const struct plan_file *f = &pl->files[i];
        r = write_one(dfd, i, f, f->source ? bufs[i] : (f->content ? f->content : ""), lens[i],
                      pl->name, ids, e);
    }
    if (r == 0 &&
        mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        r = berr_errno(e, errno, "%s: making %s read-only", pl->name, dir);
    if (r < 0) {
        drop_tmpfs(dir);
        return r;
    }
    ms->specs = xreallocarray(ms->specs, ms->n + pl->n_files + 1, sizeof *ms->specs);
    for (size_t i = 0; i < pl->n_files; i++) {
        char *src = xasprintf("%s/%zu", dir, i);
        strv_push(&ms->strings, src);
        ms->specs[ms->n++] = (struct mount_spec){.kind = MOUNT_KIND_BIND,
                                                 .source = src,
                                                 .target = pl->files[i].target,
                                                 .read_only = true};
    }
    return 0;
}

static int files(const char *runroot, const char *project, const struct ctr_plan *pl,
                 const struct userns_range *ids, struct mount_set *ms, char **dir, struct berr *e)
{
    char **bufs = xcalloc(pl->n_files, sizeof *bufs);
    size_t *lens = xcalloc(pl->n_files, sizeof *lens);
    int r = read_sources(pl, bufs, lens, e);
    if (r == 0) {
        _cleanup_free_ char *base = xasprintf("%s/%s", runroot, project);
        r = fs_mkdir_p(base, 0700, e);
        *dir = xasprintf("%s/%s.files", base, pl->name);
        if (r == 0)
            r = make_files(*dir, pl, bufs, lens, ids, ms, e);
        if (r < 0) {
            free(*dir);
            *dir = NULL;
        }
    }
    for (size_t i = 0; i < pl->n_files; i++) {
        if (bufs[i])
            explicit_bzero(bufs[i], lens[i]);
        free(bufs[i]);
    }
    free(bufs);
    free(lens);
    return r;
}

int ctr_files_prepare(const char *root, const char *runroot, const char *project, const char *id,
                      const struct ctr_plan *pl, struct mount_set *ms, char **dir, struct berr *e)
{
    *dir = NULL;
    if (pl->volumes_from) {
        int r = volumes_from(root, project, pl, ms, e);
        if (r < 0)
            return r;
    }
    if (pl->n_files == 0)
        return 0;
    struct userns_range ids;
    if (pl->userns_auto) {
        int r = userns_acquire(root, id, &ids, e);
        if (r < 0)
            return berr_wrap(e, "%s: userns_mode auto", pl->name);
    }
    return files(runroot, project, pl, pl->userns_auto ? &ids : NULL, ms, dir, e);
}

void ctr_files_release(char **dir)
{
    if (!*dir)
        return;
    drop_tmpfs(*dir);
    free(*dir);
    *dir = NULL;
}
