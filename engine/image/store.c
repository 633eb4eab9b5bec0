/* SPDX-License-Identifier: Apache-2.0 */
/* The content store: directories, the writer lock, blobs, unpacked layers,
 * the image index file and garbage collection.
 * Not here: lookup, listing and removal by reference (engine/image/images.c),
 * `load` (engine/image/archive.c), tar extraction (engine/image/unpack.c). */
#include "engine/image/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define INDEX_FILE     "images.json"
#define INDEX_MAX      (64u << 20)
#define LAYER_META_MAX 4096

static int open_dir(int dirfd, const char *name, bool create, struct berr *e)
{
    if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
        return berr_errno(e, errno, "creating %s", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", name);
    return fd;
}

/* Whether a staging directory's owner still lives: it holds a flock on it. */
static bool stage_alive(int dirfd, const char *name)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static char *partial_name(const char *digest)
{
    return xasprintf("sha256-%s", digest_hex(digest));
}

/* Partials nobody fetches that were not touched for PARTIAL_MAX_AGE_S, with
 * their lock files; lock files without a partial. */
static void remove_stale_partials(struct store *s)
{
    _cleanup_strv_ char **names = fs_list_names(s->partialfd, false);
    time_t now = time(NULL);
    for (size_t i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (n < 5 || strcmp(names[i] + n - 5, ".lock") != 0)
            continue;
        _cleanup_close_ int lk = openat(s->partialfd, names[i], O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (lk < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0)
            continue;
        _cleanup_free_ char *part = xstrndup(names[i], n - 5);
        struct stat st;
        bool gone = fstatat(s->partialfd, part, &st, AT_SYMLINK_NOFOLLOW) < 0;
        if (!gone && now - st.st_mtime < PARTIAL_MAX_AGE_S)
            continue;
        unlinkat(s->partialfd, part, 0);
        unlinkat(s->partialfd, names[i], 0);
    }
}

/* Removes leftovers of killed writers; the caller holds the lock. */
static void remove_stale(struct store *s)
{
    int fds[] = {s->tmptopfd, s->rootfd, s->layersfd, s->blobsfd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        int d = dup(fds[i]);
        if (d < 0)
            continue;
        DIR *dir = fdopendir(d);
        if (!dir) {
            close(d);
            continue;
        }
        /* The dup shares the offset with fds[i]: start from the top. */
        rewinddir(dir);
        struct dirent *de;
        _cleanup_strv_ char **victims = NULL;
        while ((de = readdir(dir))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            /* Everything in tmp/ but the staging of live pulls; elsewhere
             * only fs_write_atomic's temps. */
            if (i == 0 ? !stage_alive(fds[i], de->d_name)
                       : de->d_name[0] == '.' && strstr(de->d_name, ".tmp."))
                strv_push(&victims, xstrdup(de->d_name));
        }
        closedir(dir);
        for (size_t k = 0; victims && victims[k]; k++)
            fs_rm_rf_at(fds[i], victims[k], NULL);
    }
    if (s->partialfd >= 0)
        remove_stale_partials(s);
}

int store_open(const char *root, struct store **out, struct berr *e)
{
    int r = fs_mkdir_p(root, 0700, e);
    if (r < 0)
        return berr_wrap(e, "opening the image store");
    _cleanup_store_ struct store *s = xcalloc(1, sizeof *s);
    s->root = xstrdup(root);
    s->rootfd = s->blobsfd = s->layersfd = s->tmpfd = s->tmptopfd = s->partialfd = s->lockfd = -1;
    _cleanup_close_ int blobs = -1;
    s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->rootfd < 0)
        return berr_errno(e, errno, "opening the image store %s", root);
    if ((r = blobs = open_dir(s->rootfd, "blobs", true, e)) < 0 ||
        (r = s->blobsfd = open_dir(blobs, "sha256", true, e)) < 0 ||
        (r = s->layersfd = open_dir(s->rootfd, "layers", true, e)) < 0 ||
        (r = s->tmptopfd = s->tmpfd = open_dir(s->rootfd, "tmp", true, e)) < 0 ||
        (r = s->partialfd = open_dir(s->rootfd, "partial", true, e)) < 0) {
        berr_wrap(e, "opening the image store %s", root);
        return r;
    }
    s->lockfd = openat(s->rootfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (s->lockfd < 0)
        return berr_errno(e, errno, "opening %s/lock", root);
    /* Clean up only when no other writer is at work. */
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0) {
        remove_stale(s);
        flock(s->lockfd, LOCK_UN);
    }
    *out = TAKE_PTR(s);
    return 0;
}

int store_open_readonly(const char *root, struct store **out, struct berr *e)
{
    _cleanup_store_ struct store *s = xcalloc(1, sizeof *s);
    s->root = xstrdup(root);
    s->rootfd = s->blobsfd = s->layersfd = s->tmpfd = s->tmptopfd = s->partialfd = s->lockfd = -1;
    _cleanup_close_ int blobs = -1;
    int r;
    s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->rootfd < 0)
        return berr_errno(e, errno, "opening the image store %s", root);
    if ((r = blobs = open_dir(s->rootfd, "blobs", false, e)) < 0 ||
        (r = s->blobsfd = open_dir(blobs, "sha256", false, e)) < 0 ||
        (r = s->layersfd = open_dir(s->rootfd, "layers", false, e)) < 0) {
        berr_wrap(e, "opening the image store %s", root);
        return r;
    }
    *out = TAKE_PTR(s);
    return 0;
}

void store_set_sink(struct store *s, const struct ev_sink *sink)
{
    s->sink = *sink;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_stage_end(s);
    int fds[] = {s->rootfd, s->blobsfd, s->layersfd, s->tmptopfd, s->partialfd, s->lockfd};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(s->root);
    free(s);
}

const char *store_root(const struct store *s)
{
    return s->root;
}

int store_lock(struct store *s, struct berr *e)
{
    if (s->locked)
        return 0;
    while (flock(s->lockfd, LOCK_EX) < 0) {
        if (errno != EINTR)
            return berr_errno(e, errno, "locking the image store %s", s->root);
    }
    s->locked = true;
    remove_stale(s);
    return 0;
}

void store_unlock(struct store *s)
{
    if (!s->locked)
        return;
    flock(s->lockfd, LOCK_UN);
    s->locked = false;
}

/* Makes tmp/<prefix>-XXXXXX and takes its flock: alive to every writer's
 * clean-up (stage_alive) while this process holds *fd. */
static int tmp_dir_locked(struct store *s, const char *prefix, char **name, int *fd, struct berr *e)
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned long rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = ((unsigned long)getpid() << 8) + (unsigned long)tries;
        _cleanup_free_ char *n = xasprintf("%s-%06lx", prefix, rnd & 0xffffff);
        if (mkdirat(s->tmptopfd, n, 0700) < 0) {
            if (errno == EEXIST)
                continue;
            return berr_errno(e, errno, "creating a staging directory in %s/tmp", s->root);
        }
        int d = openat(s->tmptopfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* Taken before anyone can see it as stale: nobody else locks it. */
        if (d < 0 || flock(d, LOCK_EX | LOCK_NB) < 0) {
            int r = berr_errno(e, errno, "opening %s/tmp/%s", s->root, n);
            if (d >= 0)
                close(d);
            unlinkat(s->tmptopfd, n, AT_REMOVEDIR);
            return r;
        }
        *fd = d;
        *name = TAKE_PTR(n);
        return 0;
    }
    return berr_set(e, -EEXIST, "creating a staging directory: too many collisions");
}

int store_stage_begin(struct store *s, struct berr *e)
{
    if (s->stagename)
        return 0;
    return tmp_dir_locked(s, "pull", &s->stagename, &s->tmpfd, e);
}

void store_stage_end(struct store *s)
{
    if (!s->stagename)
        return;
    fs_rm_rf_at(s->tmptopfd, s->stagename, NULL);
    close(s->tmpfd);
    s->tmpfd = s->tmptopfd;
    free(s->stagename);
    s->stagename = NULL;
}

/* ---- build scratch directories ---- */

#define SCRATCH_PREFIX "build"
#define PINS_FILE      "pins"

int image_scratch_begin(struct store *s, char **path, int *lockfd, struct berr *e)
{
    _cleanup_free_ char *root = realpath(s->root, NULL);
    if (!root)
        return berr_errno(e, errno, "resolving the image store %s", s->root);
    _cleanup_free_ char *name = NULL;
    int r = tmp_dir_locked(s, SCRATCH_PREFIX, &name, lockfd, e);
    if (r < 0)
        return berr_wrap(e, "creating a build directory");
    *path = xasprintf("%s/tmp/%s", root, name);
    return 0;
}

/* The name in tmp/ of the scratch directory path, when lockfd is (still)
 * that directory; NULL for anything else, which is then left alone. */
static const char *scratch_name(struct store *s, const char *path, int lockfd)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    if (!base || strncmp(base + 1, SCRATCH_PREFIX "-", strlen(SCRATCH_PREFIX) + 1) != 0)
        return NULL;
    struct stat a, b;
    if (fstat(lockfd, &a) < 0 || fstatat(s->tmptopfd, base + 1, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
        a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return NULL;
    return base + 1;
}

void image_scratch_end(struct store *s, char *path, int lockfd)
{
    if (lockfd < 0)
        return;
    const char *name = scratch_name(s, path, lockfd);
    if (name) {
        /* fs_rm_rf_at neither follows links nor needs the modes of what a
         * build left (overlay work dirs are d---------): root reads and
         * unlinks whatever the mode. What it cannot remove (a mount left
         * below) the next writer's clean-up retries once the lock is
         * gone. */
        fs_rm_rf_at(s->tmptopfd, name, NULL);
    }
    close(lockfd);
}

/* The live build scratch directory holding path (absolute), opened; -1
 * when path is not in one. */
static int scratch_of(struct store *s, const char *path)
{
    _cleanup_free_ char *root = realpath(s->root, NULL);
    _cleanup_free_ char *top = root ? xasprintf("%s/tmp/" SCRATCH_PREFIX "-", root) : NULL;
    if (!top || strncmp(path, top, strlen(top)) != 0)
        return -1;
    const char *base = path + strlen(top) - strlen(SCRATCH_PREFIX "-");
    size_t n = strcspn(base, "/");
    _cleanup_free_ char *name = xstrndup(base, n);
    return openat(s->tmptopfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void store_pin(struct store *s, const char *path, const char *blob, const char *chainid)
{
    _cleanup_close_ int d = scratch_of(s, path);
    if (d < 0)
        return;
    _cleanup_close_ int fd =
        openat(d, PINS_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    _cleanup_free_ char *line = xasprintf("%s %s\n", blob, chainid);
    if (fd >= 0 && write(fd, line, strlen(line)) < 0)
        return; /* unpinned: a concurrent clean-up may take the layer */
}

/* What live builds pinned: blobs and layers made for images not yet
 * committed. */
static void pinned(struct store *s, json_t *blobs, json_t *layers)
{
    if (s->tmptopfd < 0)
        return;
    _cleanup_strv_ char **names = fs_list_names(s->tmptopfd, false);
    for (size_t i = 0; names[i]; i++) {
        if (strncmp(names[i], SCRATCH_PREFIX "-", strlen(SCRATCH_PREFIX) + 1) != 0 ||
            !stage_alive(s->tmptopfd, names[i]))
            continue;
        _cleanup_free_ char *p = xasprintf("%s/" PINS_FILE, names[i]);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (fs_read_file(s->tmptopfd, p, INDEX_MAX, &buf, &len, NULL) < 0)
            continue;
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char b[DIGEST_STR_SIZE], c[DIGEST_STR_SIZE];
            if (sscanf(l, "%71s %71s", b, c) != 2)
                continue;
            json_object_set_new(blobs, b, json_true());
            json_object_set_new(layers, c, json_true());
        }
    }
}

/* ---- partial blobs ---- */

int store_partial_lock(struct store *s, const char *digest, int *lockfd, struct berr *e)
{
    *lockfd = -1;
    int r = digest_validate(digest, "blob", e);
    if (r < 0)
        return r;
    _cleanup_free_ char *name = xasprintf("sha256-%s.lock", digest_hex(digest));
    _cleanup_close_ int fd =
        openat(s->partialfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return berr_errno(e, errno, "%s/partial/%s", s->root, name);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return 0;
        return berr_errno(e, errno, "locking %s/partial/%s", s->root, name);
    }
    /* The clean-up may have unlinked the file between open and lock: a lock
     * on an unlinked file guards nothing. */
    struct stat a, b;
    if (fstat(fd, &a) < 0 || fstatat(s->partialfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
        a.st_ino != b.st_ino)
        return 0;
    *lockfd = TAKE_FD(fd);
    return 1;
}

int store_partial_open(struct store *s, const char *digest, uint64_t *have, struct berr *e)
{
    _cleanup_free_ char *name = partial_name(digest);
    int fd = openat(s->partialfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = berr_errno(e, errno, "%s/partial/%s", s->root, name);
        if (fd >= 0)
            close(fd);
        return r;
    }
    *have = (uint64_t)st.st_size;
    return fd;
}

int store_partial_commit(struct store *s, const char *digest, int fd, struct berr *e)
{
    _cleanup_free_ char *name = partial_name(digest);
    if (fsync(fd) < 0)
        return berr_errno(e, errno, "syncing blob %s", digest);
    if (store_blob_exists(s, digest)) {
        unlinkat(s->partialfd, name, 0);
        return 0;
    }
    if (renameat(s->partialfd, name, s->blobsfd, digest_hex(digest)) < 0)
        return berr_errno(e, errno, "storing blob %s", digest);
    fsync(s->blobsfd);
    return 0;
}

void store_partial_remove(struct store *s, const char *digest)
{
    _cleanup_free_ char *name = partial_name(digest);
    unlinkat(s->partialfd, name, 0);
}

void store_partial_unlock(struct store *s, const char *digest, int lockfd)
{
    if (lockfd < 0)
        return;
    _cleanup_free_ char *name = partial_name(digest);
    struct stat st;
    /* Still locked: a process that opened the file meanwhile sees it
     * unlinked after its flock and tries again (store_partial_lock). */
    if (fstatat(s->partialfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
        _cleanup_free_ char *lock = xasprintf("%s.lock", name);
        unlinkat(s->partialfd, lock, 0);
    }
    close(lockfd);
}

/* ---- blobs ---- */

bool store_blob_exists(struct store *s, const char *digest)
{
    struct stat st;
    return digest_is_valid(digest) &&
           fstatat(s->blobsfd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode);
}

int store_blob_open(struct store *s, const char *digest, struct berr *e)
{
    int r = digest_validate(digest, "blob", e);
    if (r < 0)
        return r;
    int fd = openat(s->blobsfd, digest_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "blob %s", digest);
    return fd;
}

int store_blob_read(struct store *s, const char *digest, size_t max, char **out, size_t *len,
                    struct berr *e)
{
    int r = digest_validate(digest, "blob", e);
    if (r < 0)
        return r;
    r = fs_read_file(s->blobsfd, digest_hex(digest), max, out, len, e);
    if (r < 0)
        return berr_wrap(e, "blob %s", digest);
    return 0;
}

int store_blob_remove(struct store *s, const char *digest, struct berr *e)
{
    int r = digest_validate(digest, "blob", e);
    if (r < 0)
        return r;
    if (unlinkat(s->blobsfd, digest_hex(digest), 0) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "removing blob %s", digest);
    return 0;
}

int blob_writer_open_in(struct store *s, int dirfd, struct blob_writer **out, struct berr *e)
{
    char name[] = "blob-XXXXXX";
    /* mkostemp needs a path: build the name ourselves, O_EXCL in tmp/. */
    for (int tries = 0; tries < 100; tries++) {
        unsigned long rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = ((unsigned long)getpid() << 8) + (unsigned long)tries;
        snprintf(name, sizeof name, "blob-%06lx", rnd & 0xffffff);
        int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return berr_errno(e, errno, "creating a temp file in %s/tmp", s->root);
        struct blob_writer *w = xcalloc(1, sizeof *w);
        w->s = s;
        w->fd = fd;
        w->dirfd = dirfd;
        w->tmpname = xstrdup(name);
        w->h = sha256_new();
        *out = w;
        return 0;
    }
    return berr_set(e, -EEXIST, "creating a temp file in %s/tmp: too many collisions", s->root);
}

int blob_writer_open(struct store *s, struct blob_writer **out, struct berr *e)
{
    return blob_writer_open_in(s, s->tmpfd, out, e);
}

int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct berr *e)
{
    const char *p = buf;
    sha256_update(w->h, buf, len);
    w->size += len;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return berr_errno(e, errno, "writing to the image store");
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int blob_writer_reset(struct blob_writer *w, struct berr *e)
{
    if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
        return berr_errno(e, errno, "resetting a blob in the image store");
    char dummy[DIGEST_STR_SIZE];
    sha256_final(w->h, dummy); /* resets it */
    w->size = 0;
    return 0;
}

int blob_writer_finish(struct blob_writer *w, struct berr *e)
{
    if (w->finished)
        return 0;
    if (fsync(w->fd) < 0)
        return berr_errno(e, errno, "syncing a blob");
    sha256_final(w->h, w->digest);
    w->finished = true;
    return 0;
}

int blob_writer_commit(struct blob_writer *w, const char *expected, int64_t expected_size,
                       bool *created, struct berr *e)
{
    int r = blob_writer_finish(w, e);
    if (r < 0)
        return r;
    if (created)
        *created = false;
    if (expected && strcmp(expected, w->digest) != 0)
        return berr_set(e, -EBADMSG, "digest mismatch: expected %s, got %s", expected, w->digest);
    if (expected_size >= 0 && (uint64_t)expected_size != w->size)
        return berr_set(e, -EBADMSG, "size mismatch for %s: expected %" PRId64 ", got %" PRIu64,
                        w->digest, expected_size, w->size);
    struct store *s = w->s;
    if (store_blob_exists(s, w->digest)) {
        unlinkat(w->dirfd, w->tmpname, 0);
    } else {
        if (renameat(w->dirfd, w->tmpname, s->blobsfd, digest_hex(w->digest)) < 0)
            return berr_errno(e, errno, "storing blob %s", w->digest);
        fsync(s->blobsfd);
        if (created)
            *created = true;
    }
    free(w->tmpname);
    w->tmpname = NULL;
    return 0;
}

void blob_writer_free(struct blob_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmpname)
        unlinkat(w->dirfd, w->tmpname, 0);
    free(w->tmpname);
    sha256_free(w->h);
    free(w);
}

void blob_writer_detach(struct blob_writer *w, char **tmpname)
{
    *tmpname = TAKE_PTR(w->tmpname);
}

int store_blob_adopt(struct store *s, const char *tmpname, const char *digest, bool *created,
                     struct berr *e)
{
    int r = digest_validate(digest, "blob", e);
    if (r < 0)
        return r;
    if (created)
        *created = false;
    if (store_blob_exists(s, digest)) {
        unlinkat(s->tmpfd, tmpname, 0);
        return 0;
    }
    if (renameat(s->tmpfd, tmpname, s->blobsfd, digest_hex(digest)) < 0)
        return berr_errno(e, errno, "storing blob %s", digest);
    fsync(s->blobsfd);
    if (created)
        *created = true;
    return 0;
}

int store_blob_put(struct store *s, const void *buf, size_t len, const char *expected,
                   char out[DIGEST_STR_SIZE], bool *created, struct berr *e)
{
    if (expected) {
        int r = digest_validate(expected, "blob", e);
        if (r < 0)
            return r;
    }
    _cleanup_blob_writer_ struct blob_writer *w = NULL;
    int r = blob_writer_open(s, &w, e);
    if (r < 0)
        return r;
    if ((r = blob_writer_write(w, buf, len, e)) < 0 ||
        (r = blob_writer_commit(w, expected, -1, created, e)) < 0)
        return r;
    if (out)
        memcpy(out, w->digest, DIGEST_STR_SIZE);
    return 0;
}

/* ---- layers ---- */

void chain_id(const char *parent, const char *diffid, char out[DIGEST_STR_SIZE])
{
    if (!parent) {
        memcpy(out, diffid, DIGEST_STR_SIZE);
        return;
    }
    _cleanup_free_ char *s = xasprintf("%s %s", parent, diffid);
    sha256_digest(s, strlen(s), out);
}

bool store_layer_exists(struct store *s, const char *chainid)
{
    struct stat st;
    return digest_is_valid(chainid) &&
           fstatat(s->layersfd, digest_hex(chainid), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
}

char *store_layer_path(const struct store *s, const char *chainid)
{
    return xasprintf("%s/layers/%s", s->root, digest_hex(chainid));
}

int store_layer_tmpdir(struct store *s, char **name, int *fd, struct berr *e)
{
    for (int tries = 0; tries < 100; tries++) {
        unsigned long rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = ((unsigned long)getpid() << 8) + (unsigned long)tries;
        char *n = xasprintf("layer-%06lx", rnd & 0xffffff);
        if (mkdirat(s->tmpfd, n, 0755) < 0) {
            int err = errno;
            free(n);
            if (err == EEXIST)
                continue;
            return berr_errno(e, err, "creating a layer directory in %s/tmp", s->root);
        }
        int d = openat(s->tmpfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0) {
            int r = berr_errno(e, errno, "opening %s/tmp/%s", s->root, n);
            unlinkat(s->tmpfd, n, AT_REMOVEDIR);
            free(n);
            return r;
        }
        *name = n;
        *fd = d;
        return 0;
    }
    return berr_set(e, -EEXIST, "creating a layer directory: too many collisions");
}

int store_layer_commit(struct store *s, const char *tmpname, int tmpdirfd, const char *chainid,
                       const char *diffid, int64_t size, struct berr *e)
{
    return store_layer_commit_at(s, s->tmpfd, tmpname, tmpdirfd, chainid, diffid, size, e);
}

int store_layer_commit_at(struct store *s, int parentfd, const char *tmpname, int tmpdirfd,
                          const char *chainid, const char *diffid, int64_t size, struct berr *e)
{
    const char *hex = digest_hex(chainid);
    _cleanup_free_ char *meta_name = xasprintf("%s.json", hex);
    json_t *meta = json_pack("{s:s, s:s, s:I}", "chain_id", chainid, "diff_id", diffid, "size",
                             (json_int_t)size);
    char *txt = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    int r = fs_write_atomic(s->layersfd, meta_name, txt, strlen(txt), 0600, e);
    free(txt);
    if (r < 0)
        return berr_wrap(e, "layer %s", chainid);
    /* Everything written into the tree reaches the disk before the name. */
    if (syncfs(tmpdirfd) < 0)
        return berr_errno(e, errno, "syncing layer %s", chainid);
    if (renameat(parentfd, tmpname, s->layersfd, hex) < 0) {
        if ((errno == EEXIST || errno == ENOTEMPTY) && store_layer_exists(s, chainid)) {
            struct berr e2 = BERR_INIT;
            fs_rm_rf_at(parentfd, tmpname, &e2);
            berr_clear(&e2);
            return 0;
        }
        return berr_errno(e, errno, "committing layer %s", chainid);
    }
    fsync(s->layersfd);
    return 0;
}

int64_t store_layer_size(struct store *s, const char *chainid)
{
    _cleanup_free_ char *name = xasprintf("%s.json", digest_hex(chainid));
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct berr e = BERR_INIT;
    if (fs_read_file(s->layersfd, name, LAYER_META_MAX, &buf, &len, &e) < 0) {
        berr_clear(&e);
        return 0;
    }
    json_t *j = json_loadb(buf, len, 0, NULL);
    json_t *v = json_object_get(j, "size"); /* NULL for a non-object */
    int64_t size = json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : 0;
    json_decref(j);
    return size;
}

int store_layer_remove(struct store *s, const char *chainid, struct berr *e)
{
    const char *hex = digest_hex(chainid);
    int r = fs_rm_rf_at(s->layersfd, hex, e);
    if (r < 0)
        return berr_wrap(e, "removing layer %s", chainid);
    _cleanup_free_ char *meta = xasprintf("%s.json", hex);
    unlinkat(s->layersfd, meta, 0);
    return 0;
}

/* ---- index ---- */

/* What the index holds, as berth writes it (index_image_new):
 *   {"images": {ID: {"manifest": DIGEST, "layers": [{"digest": DIGEST,
 *                    "diff_id": DIGEST, "chain_id": DIGEST, "size": N,
 *                    "media_type": S, "unpacked_size": N}, ...],
 *                    "size": N, "config_size": N, "created": S|null,
 *                    "loaded": S, "tagged": S}, ...},
 *    "refs": {REFERENCE: ID, ...},
 *    "pulled": {REFERENCE: {"at": S, "digest": DIGEST}, ...}}
 * "tagged" is when `image tag` last named the image; "pulled" when each
 * reference was last pulled or checked against its registry, and the
 * digest of what the registry answered for it (both optional).
 * Every value is checked for its type (and every digest for its form)
 * once, here, so the code that reads the index can rely on it. where gets
 * the place of the first fault, for the error. */
static bool opt_digest(json_t *o, const char *k, bool required)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return !required;
    return json_is_string(v) && digest_is_valid(json_string_value(v));
}

static bool opt_size(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return !v || (json_is_integer(v) && json_integer_value(v) >= 0);
}

static bool opt_text(json_t *o, const char *k, bool nullable)
{
    json_t *v = json_object_get(o, k);
    return !v || json_is_string(v) || (nullable && json_is_null(v));
}

static bool layer_entry_ok(json_t *l)
{
    return json_is_object(l) && opt_digest(l, "chain_id", true) && opt_digest(l, "digest", false) &&
           opt_digest(l, "diff_id", false) && opt_size(l, "size") && opt_size(l, "unpacked_size") &&
           opt_text(l, "media_type", false);
}

static bool image_entry_ok(json_t *img, char *where, size_t wlen, const char *id)
{
    if (!json_is_object(img)) {
        snprintf(where, wlen, "images[\"%.80s\"] is not an object", id);
        return false;
    }
    if (!opt_digest(img, "manifest", false) || !opt_size(img, "size") ||
        !opt_size(img, "config_size") || !opt_text(img, "created", true) ||
        !opt_text(img, "loaded", false) || !opt_text(img, "tagged", false)) {
        snprintf(where, wlen, "images[\"%.80s\"] has a field of the wrong type", id);
        return false;
    }
    json_t *layers = json_object_get(img, "layers");
    if (!json_is_array(layers)) {
        snprintf(where, wlen, "images[\"%.80s\"].layers is not an array", id);
        return false;
    }
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        if (!layer_entry_ok(l)) {
            snprintf(where, wlen, "images[\"%.80s\"].layers[%zu] is malformed", id, i);
            return false;
        }
    }
    return true;
}

static bool index_ok(json_t *j, char *where, size_t wlen)
{
    json_t *images = json_object_get(j, "images");
    json_t *refs = json_object_get(j, "refs");
    if (!json_is_object(j) || !json_is_object(images) || !json_is_object(refs)) {
        snprintf(where, wlen, "not an object with \"images\" and \"refs\" objects");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(images, k, v)
    {
        if (!digest_is_valid(k)) {
            snprintf(where, wlen, "image ID \"%.80s\" is not a digest", k);
            return false;
        }
        if (!image_entry_ok(v, where, wlen, k))
            return false;
    }
    json_object_foreach(refs, k, v)
    {
        _cleanup_imgref_ struct imgref pr = {0};
        if (ref_parse(k, &pr, NULL) < 0) {
            snprintf(where, wlen, "refs[\"%.80s\"] is not an image reference", k);
            return false;
        }
        if (!json_is_string(v) || !digest_is_valid(json_string_value(v))) {
            snprintf(where, wlen, "refs[\"%.80s\"] is not an image ID", k);
            return false;
        }
    }
    json_t *pulled = json_object_get(j, "pulled");
    if (pulled && !json_is_object(pulled)) {
        snprintf(where, wlen, "\"pulled\" is not an object");
        return false;
    }
    json_object_foreach(pulled, k, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "at")) ||
            !opt_digest(v, "digest", false)) {
            snprintf(where, wlen, "pulled[\"%.80s\"] is malformed", k);
            return false;
        }
    }
    return true;
}

json_t *index_layer_new(const char *digest, int64_t size, const char *media_type,
                        const char *diff_id, const char *chain_id, int64_t unpacked)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "digest", digest, "size", (json_int_t)size,
                     "media_type", media_type, "diff_id", diff_id, "chain_id", chain_id,
                     "unpacked_size", (json_int_t)unpacked);
}

json_t *index_image_new(const char *manifest, int64_t config_size, const char *created,
                        json_t *layers)
{
    json_int_t total = 0;
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        total += json_integer_value(json_object_get(l, "unpacked_size"));
    }
    char now[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 0, now);
    json_t *e = json_pack("{s:s, s:I, s:o, s:I, s:s}", "manifest", manifest, "config_size",
                          (json_int_t)config_size, "layers", layers, "size", total, "loaded", now);
    json_object_set_new(e, "created", created ? json_string(created) : json_null());
    return e;
}

void index_mark_pulled(json_t *idx, char *const *refs, const char *digest)
{
    json_t *pulled = json_object_get(idx, "pulled");
    if (!pulled) {
        pulled = json_object();
        json_object_set_new(idx, "pulled", pulled);
    }
    char now[TIME_RFC3339_MAX];
    time_rfc3339(time_now_ns(), 0, now);
    for (size_t i = 0; refs && refs[i]; i++) {
        json_t *v = json_pack("{s:s}", "at", now);
        if (digest && digest_is_valid(digest))
            json_object_set_new(v, "digest", json_string(digest));
        json_object_set_new(pulled, refs[i], v);
    }
}

int store_index_parse(const char *buf, size_t len, json_t **out, char *where, size_t wlen)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(where, wlen, "invalid JSON at line %d: %.80s", je.line, je.text);
        return -EINVAL;
    }
    if (!index_ok(j, where, wlen)) {
        json_decref(j);
        return -EINVAL;
    }
    *out = j;
    return 0;
}

int store_index_load(struct store *s, json_t **out, struct berr *e)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int r = fs_read_file(s->rootfd, INDEX_FILE, INDEX_MAX, &buf, &len, e);
    if (r == -ENOENT) {
        berr_clear(e);
        *out = json_pack("{s:{}, s:{}}", "images", "refs");
        return 0;
    }
    if (r == -EFBIG) {
        berr_clear(e);
        return berr_set(e, -EINVAL,
                        "%s/%s: corrupt image index (larger than %u MiB); run 'berth image "
                        "repair' to rebuild it from the store's manifests",
                        s->root, INDEX_FILE, INDEX_MAX >> 20);
    }
    if (r < 0)
        return berr_wrap(e, "reading the image index");
    char where[256];
    if (store_index_parse(buf, len, out, where, sizeof where) < 0)
        return berr_set(e, -EINVAL,
                        "%s/%s: corrupt image index (%s); run 'berth image repair' to rebuild it "
                        "from the store's manifests",
                        s->root, INDEX_FILE, where);
    return 0;
}

int store_index_save(struct store *s, json_t *idx, struct berr *e)
{
    char *txt = json_dumps(idx, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!txt)
        return berr_set(e, -ENOMEM, "serializing the image index");
    int r = fs_write_atomic(s->rootfd, INDEX_FILE, txt, strlen(txt), 0600, e);
    free(txt);
    if (r < 0)
        return berr_wrap(e, "writing the image index");
    return 0;
}

static void referenced(json_t *idx, json_t *blobs, json_t *layers)
{
    const char *id;
    json_t *img;
    json_object_foreach(json_object_get(idx, "images"), id, img)
    {
        json_object_set_new(blobs, id, json_true());
        const char *m = json_string_value(json_object_get(img, "manifest"));
        if (m)
            json_object_set_new(blobs, m, json_true());
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(img, "layers"), i, l)
        {
            const char *d = json_string_value(json_object_get(l, "digest"));
            const char *c = json_string_value(json_object_get(l, "chain_id"));
            if (d)
                json_object_set_new(blobs, d, json_true());
            if (c)
                json_object_set_new(layers, c, json_true());
        }
    }
}

int store_gc(struct store *s, json_t *idx, char ***deleted, struct berr *e)
{
    json_t *blobs = json_object(), *layers = json_object();
    referenced(idx, blobs, layers);
    pinned(s, blobs, layers);
    int r = 0;
    _cleanup_strv_ char **bl = fs_list_names(s->blobsfd, false);
    for (size_t i = 0; bl[i] && r == 0; i++) {
        _cleanup_free_ char *d = xasprintf("sha256:%s", bl[i]);
        if (digest_is_valid(d) && !json_object_get(blobs, d))
            r = store_blob_remove(s, d, e);
    }
    _cleanup_strv_ char **ll = fs_list_names(s->layersfd, false);
    for (size_t i = 0; ll[i] && r == 0; i++) {
        /* Directories and their ".json" metadata. */
        _cleanup_free_ char *c = xasprintf("sha256:%.64s", ll[i]);
        if (!digest_is_valid(c) || json_object_get(layers, c))
            continue;
        if (strlen(ll[i]) == DIGEST_HEX_LEN) {
            r = store_layer_remove(s, c, e);
            if (r == 0 && deleted)
                strv_push(deleted, xstrdup(c));
        } else if (strcmp(ll[i] + DIGEST_HEX_LEN, ".json") == 0) {
            struct stat st;
            if (fstatat(s->layersfd, digest_hex(c), &st, AT_SYMLINK_NOFOLLOW) < 0)
                unlinkat(s->layersfd, ll[i], 0);
        }
    }
    json_decref(blobs);
    json_decref(layers);
    return r;
}

char **store_containers_using(struct store *s, const char *id)
{
    char **out = xcalloc(1, sizeof(char *));
    _cleanup_close_ int cfd = openat(s->rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cfd < 0)
        return out;
    /* Containers being created (the supervisor stages them as ".tmp-<id>")
     * count too. */
    _cleanup_strv_ char **names = fs_list_names(cfd, true);
    for (size_t i = 0; names[i]; i++) {
        _cleanup_free_ char *p = xasprintf("%s/image-id", names[i]);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        struct berr e = BERR_INIT;
        if (fs_read_file(cfd, p, 256, &buf, &len, &e) < 0) {
            berr_clear(&e);
            continue;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        const char *cid = names[i];
        if (strncmp(cid, ".tmp-", 5) == 0)
            cid += 5;
        if (strcmp(buf, id) == 0)
            strv_push(&out, xstrdup(cid));
    }
    return out;
}

int layer_byte_budget(uint64_t compressed, uint64_t *out, struct berr *e)
{
    const char *v = getenv("BERTH_MAX_LAYER_BYTES");
    if (v && *v) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || !end || *end || v[0] == '-')
            return berr_set(e, -EINVAL, "BERTH_MAX_LAYER_BYTES=\"%.40s\": not a byte count", v);
        *out = n;
        return 0;
    }
    uint64_t gib = 1ull << 30;
    *out = compressed > (UINT64_MAX - gib) / 8 ? UINT64_MAX : compressed * 8 + gib;
    return 0;
}
