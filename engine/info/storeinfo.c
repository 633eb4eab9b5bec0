/* SPDX-License-Identifier: Apache-2.0 */
/* The store half of the report: where it is, what it holds, how much room
 * is left; read through the same readers `image ls`, `ls` and `ps` use.
 * Not here: the host half (hostinfo.c), the readers themselves (engine/image/,
 * engine/supervise/records.c). */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/info/hostinfo.h"
#include "engine/supervise/records.h"
#include "engine/volume/volume.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

struct inode_key {
    dev_t dev;
    ino_t ino;
};

static int inode_cmp(const void *a, const void *b)
{
    const struct inode_key *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino ? 1 : 0;
}

/* Bytes on disk under root, as `du -sx` counts them: no symlink followed,
 * no mount crossed (a running container's root is one), a file with
 * several links counted once. -1 when any of it cannot be read. */
static int64_t disk_usage(const char *root)
{
    char *const paths[] = {(char *)root, NULL};
    FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
    if (!fts)
        return -1;
    void *seen = NULL;
    int64_t total = 0;
    bool any = false, partial = false;
    FTSENT *ent;
    while ((ent = fts_read(fts))) {
        if (ent->fts_info == FTS_DP)
            continue;
        if (ent->fts_info == FTS_NS || ent->fts_info == FTS_ERR || ent->fts_info == FTS_DNR) {
            partial = true; /* a part it cannot read: no number rather than a low one */
            continue;
        }
        const struct stat *st = ent->fts_statp;
        any = true;
        if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
            struct inode_key *k = xmalloc(sizeof *k);
            *k = (struct inode_key){st->st_dev, st->st_ino};
            struct inode_key **found = tsearch(k, &seen, inode_cmp);
            if (!found || *found != k) {
                free(k);
                continue; /* counted already */
            }
        }
        total += (int64_t)st->st_blocks * 512;
    }
    fts_close(fts);
    tdestroy(seen, free);
    return any && !partial ? total : -1;
}

/* Whether berth can write the store: the root, or where it will be made. */
static void check_writable(struct storeinfo *si)
{
    _cleanup_free_ char *dir = xstrdup(si->path);
    while (access(dir, F_OK) < 0) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir) {
            strcpy(dir, "/");
            break;
        }
        *slash = '\0';
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        si->fs_free = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
        si->fs_total = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        if (vfs.f_flag & ST_RDONLY) {
            si->writable_error = xasprintf("%s is on a read-only file system", dir);
            return;
        }
    }
    if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
        si->writable_error = xasprintf("%s is not writable: %s", dir, strerror(errno));
        return;
    }
    si->writable = true;
}

static char *msg_of(struct berr *e)
{
    char *m = xstrdup(e->msg ? e->msg : "unknown error");
    berr_clear(e);
    return m;
}

static void count_images(struct storeinfo *si)
{
    struct berr e = BERR_INIT;
    struct store *s = NULL;
    int r = store_open_readonly(si->path, &s, &e);
    if (r == -ENOENT) { /* not made yet (no image loaded) */
        berr_clear(&e);
        si->images = 0;
        return;
    }
    struct image **list = NULL;
    size_t n = 0;
    if (r < 0 || store_image_list_all(s, true, &list, &n, &e) < 0) {
        si->images_error = msg_of(&e);
        store_close(s);
        return;
    }
    /* Images, as docker counts them: by ID, whatever their tags. */
    _cleanup_strv_ char **ids = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strv_contains(ids, list[i]->id))
            strv_push(&ids, xstrdup(list[i]->id));
    si->images = (long)strv_len(ids);
    image_list_free(list, n);
    store_close(s);
}

static void count_volumes(struct storeinfo *si)
{
    struct berr e = BERR_INIT;
    _cleanup_strv_ char **names = NULL;
    if (volume_list(si->path, &names, &e) < 0) {
        si->volumes_error = msg_of(&e);
        return;
    }
    si->volumes = (long)strv_len(names);
}

static void count_containers(struct storeinfo *si)
{
    struct berr e = BERR_INIT;
    struct ctr_record *recs = NULL;
    size_t n = 0;
    if (ctr_list(si->path, NULL, NULL, &recs, &n, &e) < 0) {
        si->containers_error = msg_of(&e);
        return;
    }
    _cleanup_strv_ char **projects = NULL;
    si->containers = (long)n;
    si->running = si->paused = si->stopped = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strv_contains(projects, recs[i].project))
            strv_push(&projects, xstrdup(recs[i].project));
        struct run_state rs;
        bool alive = run_state_read(si->runroot, recs[i].project, recs[i].name, &rs) == 0 &&
                     run_state_alive(&rs);
        if (alive && rs.paused)
            si->paused++;
        else if (alive)
            si->running++;
        else
            si->stopped++;
    }
    si->projects = (long)strv_len(projects);
    ctr_list_free(recs, n);
}

void storeinfo_read(const char *root, const char *runroot, struct storeinfo *si)
{
    memset(si, 0, sizeof *si);
    si->path = xstrdup(root);
    si->runroot = xstrdup(runroot);
    si->size = si->fs_free = si->fs_total = -1;
    si->images = si->volumes = si->projects = si->containers = -1;
    si->running = si->paused = si->stopped = -1;
    struct stat st;
    si->exists = stat(root, &st) == 0 && S_ISDIR(st.st_mode);
    check_writable(si);
    if (!si->exists) {
        si->size = 0;
        si->images = si->volumes = si->projects = si->containers = 0;
        si->running = si->paused = si->stopped = 0;
        return;
    }
    si->size = disk_usage(root);
    count_images(si);
    count_volumes(si);
    count_containers(si);
}

void storeinfo_free(struct storeinfo *si)
{
    free(si->path);
    free(si->runroot);
    free(si->writable_error);
    free(si->images_error);
    free(si->volumes_error);
    free(si->containers_error);
    memset(si, 0, sizeof *si);
}
