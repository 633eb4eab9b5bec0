/* SPDX-License-Identifier: Apache-2.0 */
/* The volume store: creation, listing, inspection and removal of
 * $BERTH_ROOT/volumes/<name>. Seeding is in seed.c.
 * Not here: mounts for a start (engine/volume/mounts.c). */
#include "engine/volume/volume.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/volume/volume_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define META_NAME "volume.json"
#define META_MAX  (1 << 20)

bool volume_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n < 2 || n > VOLUME_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

static int check_name(const char *name, struct berr *e)
{
    if (volume_name_valid(name))
        return 0;
    return berr_set(e, -EINVAL,
                    "invalid volume name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at "
                    "least 2 characters, at most %d)",
                    name ? name : "", VOLUME_NAME_MAX);
}

char *volume_data_path(const char *root, const char *name)
{
    return xasprintf("%s/volumes/%s/_data", root, name);
}

/* Opens $ROOT/volumes, creating it when asked. -ENOENT (no message) when
 * it does not exist and create is false. */
static int open_volumes_dir(const char *root, bool create, struct berr *e)
{
    _cleanup_free_ char *dir = xasprintf("%s/volumes", root);
    if (create) {
        int r = fs_mkdir_p(dir, 0700, e);
        if (r < 0)
            return r;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && !create)
            return -ENOENT;
        return berr_errno(e, errno, "opening %s", dir);
    }
    return fd;
}

int volume_open_dir(const char *root, const char *name, struct berr *e)
{
    int r = check_name(name, e);
    if (r < 0)
        return r;
    _cleanup_close_ int vfd = open_volumes_dir(root, false, e);
    if (vfd == -ENOENT)
        return berr_set(e, -ENOENT, "no such volume: %s", name);
    if (vfd < 0)
        return vfd;
    int fd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return berr_set(e, -ENOENT, "no such volume: %s", name);
        return berr_errno(e, errno, "opening volume %s", name);
    }
    return fd;
}

int volume_exists(const char *root, const char *name, struct berr *e)
{
    int fd = volume_open_dir(root, name, e);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

/* Entries ".new.<pid>.<name>" and ".rm.<pid>.<name>" are left by a
 * creation or removal that was killed: remove those whose process is gone. */
static void remove_leftovers(int vfd)
{
    int dfd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    char **gone = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *p = NULL;
        if (strncmp(de->d_name, ".new.", 5) == 0)
            p = de->d_name + 5;
        else if (strncmp(de->d_name, ".rm.", 4) == 0)
            p = de->d_name + 4;
        if (!p)
            continue;
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p || *end != '.' || pid <= 0)
            continue;
        if (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        strv_push(&gone, xstrdup(de->d_name));
    }
    closedir(d);
    for (size_t i = 0; gone && gone[i]; i++) {
        struct berr ign = BERR_INIT;
        fs_rm_rf_at(vfd, gone[i], &ign);
        berr_clear(&ign);
    }
    strv_free(gone);
}

static char *meta_text(const char *name, char *const *labels)
{
    json_t *lab = json_object();
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *eq = strchr(labels[i], '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(labels[i], (size_t)(eq - labels[i])) : xstrdup(labels[i]);
        json_object_set_new(lab, k, json_string(eq ? eq + 1 : ""));
    }
    char created[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 9, created);
    json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "name", name, "driver", "local", "created",
                          created, "labels", lab);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    return text;
}

int volume_ensure(const char *root, const char *name, char *const *labels, bool *created,
                  struct berr *e)
{
    *created = false;
    int r = check_name(name, e);
    if (r < 0)
        return r;
    _cleanup_close_ int vfd = open_volumes_dir(root, true, e);
    if (vfd < 0)
        return vfd;
    struct stat st;
    if (fstatat(vfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISDIR(st.st_mode))
            return berr_set(e, -EEXIST, "volume %s: %s/volumes/%s is not a directory", name, root,
                            name);
        return 0;
    }
    if (errno != ENOENT)
        return berr_errno(e, errno, "volume %s", name);
    remove_leftovers(vfd);

    /* Build the whole volume under a temporary name, then rename it into
     * place: it is never seen half-made. */
    _cleanup_free_ char *tmp = xasprintf(".new.%d.%s", (int)getpid(), name);
    _cleanup_free_ char *text = meta_text(name, labels);
    if (mkdirat(vfd, tmp, 0700) < 0)
        return berr_errno(e, errno, "creating volume %s", name);
    _cleanup_close_ int tfd = openat(vfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int pfd = -1;
    if (tfd < 0) {
        r = berr_errno(e, errno, "creating volume %s", name);
        goto fail;
    }
    r = fs_write_atomic(tfd, META_NAME, text, strlen(text), 0600, e);
    if (r < 0)
        goto fail;
    if (mkdirat(tfd, VOLUME_DATA, 0755) < 0 || fchmodat(tfd, VOLUME_DATA, 0755, 0) < 0) {
        r = berr_errno(e, errno, "creating volume %s", name);
        goto fail;
    }
    pfd = openat(tfd, VOLUME_SEED_PENDING, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600);
    if (pfd < 0) {
        r = berr_errno(e, errno, "creating volume %s", name);
        goto fail;
    }
    close(pfd);
    fsync(tfd);
    if (renameat(vfd, tmp, vfd, name) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) {
            /* Another berth created it first: use theirs. */
            struct berr ign = BERR_INIT;
            fs_rm_rf_at(vfd, tmp, &ign);
            berr_clear(&ign);
            return 0;
        }
        r = berr_errno(e, errno, "creating volume %s", name);
        goto fail;
    }
    fsync(vfd);
    *created = true;
    return 0;
fail : {
    struct berr ign = BERR_INIT;
    fs_rm_rf_at(vfd, tmp, &ign);
    berr_clear(&ign);
}
    return r;
}

int volume_mark_used(const char *root, const char *name, struct berr *e)
{
    _cleanup_close_ int fd = volume_open_dir(root, name, e);
    if (fd < 0)
        return fd;
    if (flock(fd, LOCK_EX) < 0)
        return berr_errno(e, errno, "locking volume %s", name);
    if (unlinkat(fd, VOLUME_SEED_PENDING, 0) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "volume %s", name);
    return 0;
}

int volume_remove(const char *root, const char *name, struct berr *e)
{
    int r = check_name(name, e);
    if (r < 0)
        return r;
    _cleanup_close_ int vfd = open_volumes_dir(root, false, e);
    if (vfd == -ENOENT)
        return berr_set(e, -ENOENT, "no such volume: %s", name);
    if (vfd < 0)
        return vfd;
    /* Rename away first: a half-removed volume is never listed or used. */
    _cleanup_free_ char *gone = xasprintf(".rm.%d.%s", (int)getpid(), name);
    if (renameat(vfd, name, vfd, gone) < 0) {
        if (errno == ENOENT)
            return berr_set(e, -ENOENT, "no such volume: %s", name);
        return berr_errno(e, errno, "removing volume %s", name);
    }
    r = fs_rm_rf_at(vfd, gone, e);
    if (r < 0)
        return berr_wrap(e, "removing volume %s", name);
    fsync(vfd);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int volume_list(const char *root, char ***names, struct berr *e)
{
    *names = xcalloc(1, sizeof(char *));
    _cleanup_close_ int vfd = open_volumes_dir(root, false, e);
    if (vfd == -ENOENT)
        return 0;
    if (vfd < 0)
        return vfd;
    remove_leftovers(vfd);
    int dfd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return berr_errno(e, errno, "reading %s/volumes", root);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!volume_name_valid(de->d_name))
            continue;
        struct stat st;
        if (fstatat(vfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        strv_push(names, xstrdup(de->d_name));
    }
    closedir(d);
    qsort(*names, strv_len(*names), sizeof(char *), cmp_str);
    return 0;
}

void volume_info_free(struct volume_info *v)
{
    free(v->name);
    free(v->driver);
    free(v->created);
    strv_free(v->labels);
    memset(v, 0, sizeof *v);
}

int volume_inspect(const char *root, const char *name, struct volume_info *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    _cleanup_close_ int fd = volume_open_dir(root, name, e);
    if (fd < 0)
        return fd;
    out->name = xstrdup(name);
    out->driver = xstrdup("local");
    out->labels = xcalloc(1, sizeof(char *));
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    int r = fs_read_file(fd, META_NAME, META_MAX, &buf, NULL, &ign);
    berr_clear(&ign);
    if (r < 0)
        return 0; /* a volume without metadata is still a volume */
    json_t *j = json_loads(buf, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    const char *created = json_string_value(json_object_get(j, "created"));
    if (created)
        out->created = xstrdup(created);
    const char *driver = json_string_value(json_object_get(j, "driver"));
    if (driver) {
        free(out->driver);
        out->driver = xstrdup(driver);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "labels"), k, v)
    {
        if (json_is_string(v))
            strv_push(&out->labels, xasprintf("%s=%s", k, json_string_value(v)));
    }
    json_decref(j);
    return 0;
}
