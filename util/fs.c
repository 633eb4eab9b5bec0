/* SPDX-License-Identifier: Apache-2.0 */
/* Host file-system helpers every layer shares: openat2 lookups confined to a
 * root, directory creation, atomic writes (temp file, fsync, rename), bounded
 * reads, a recursive remove that never follows a symlink, directory listings.
 * Not here: path text cleaning (compose/path.c, engine/runtime/mountspec.c,
 * engine/image/unpack.c), layer extraction (engine/image/unpack.c). */
#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how = {
        .flags = (uint64_t)flags,
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = resolve,
    };
    for (;;) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    }
}

int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    return fs_openat2(rootfd, path, flags | O_CLOEXEC, mode,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int fs_mkdirs_in_root(int rootfd, const char *path, mode_t mode)
{
    int cur = fs_open_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0);
    if (cur < 0)
        return cur;
    _cleanup_free_ char *copy = xstrdup(path);
    char *save = NULL;
    for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        if (strcmp(comp, ".") == 0)
            continue;
        /* Resolve each prefix again from the root, so ".." and symlinks stay
         * inside it. copy is tokenized in place, so offsets match path. */
        size_t off = (size_t)(comp - copy) + strlen(comp);
        _cleanup_free_ char *prefix = xstrndup(path, off);
        int next = fs_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
        if (next == -ENOENT) {
            if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST) {
                int r = -errno;
                close(cur);
                return r;
            }
            next = fs_open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY, 0);
        }
        close(cur);
        if (next < 0)
            return next;
        cur = next;
    }
    int fd = fs_open_in_root(cur, ".", O_DIRECTORY | O_RDONLY, 0);
    close(cur);
    return fd;
}

int fs_mkdir_p(const char *path, mode_t mode, struct berr *e)
{
    /* Usually only the last components are missing: try the whole path
     * first and climb up only as far as needed. */
    if (mkdir(path, mode) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return berr_errno(e, errno, "creating directory %s", path);
    _cleanup_free_ char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    /* Find the deepest existing ancestor. */
    size_t i = n;
    for (;;) {
        while (i > 0 && p[i] != '/')
            i--;
        if (i == 0)
            break;
        p[i] = '\0';
        int r = mkdir(p, mode);
        int err = errno;
        p[i] = '/';
        if (r == 0 || err == EEXIST)
            break;
        if (err != ENOENT)
            return berr_errno(e, err, "creating directory %.*s", (int)i, p);
        i--;
    }
    /* Create the rest downwards. */
    for (size_t k = i + 1; k <= n; k++) {
        if (p[k] != '/' && p[k] != '\0')
            continue;
        char c = p[k];
        p[k] = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return berr_errno(e, errno, "creating directory %s", p);
        p[k] = c;
    }
    return 0;
}

static int write_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                         bool sync, struct berr *e)
{
    _cleanup_free_ char *tmp = xasprintf(".%s.tmp.%d", name, (int)getpid());
    _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return berr_errno(e, errno, "creating %s", tmp);
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int r = berr_errno(e, errno, "writing %s", name);
            unlinkat(dirfd, tmp, 0);
            return r;
        }
        p += w;
        left -= (size_t)w;
    }
    if (sync && fsync(fd) < 0) {
        int r = berr_errno(e, errno, "syncing %s", name);
        unlinkat(dirfd, tmp, 0);
        return r;
    }
    /* Without fsync, ext4 (auto_da_alloc) still flushes a file renamed
     * over another one, costing milliseconds: remove the old one first.
     * Readers may then briefly find no file, which volatile state allows. */
    if (!sync)
        unlinkat(dirfd, name, 0);
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        int r = berr_errno(e, errno, "renaming %s", name);
        unlinkat(dirfd, tmp, 0);
        return r;
    }
    if (sync)
        fsync(dirfd);
    return 0;
}

int fs_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                    struct berr *e)
{
    return write_replace(dirfd, name, buf, len, mode, true, e);
}

int fs_write_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                     struct berr *e)
{
    return write_replace(dirfd, name, buf, len, mode, false, e);
}

int fs_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len, struct berr *e)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", path);
    return fs_read_fd(fd, path, max, out, len, e);
}

int fs_copy_fd(int in, int out, char *buf, size_t size)
{
    bool plain = false;
    for (;;) {
        ssize_t n;
        if (!plain) {
            n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EBADF)) {
                plain = true;
                continue;
            }
        } else {
            n = read(in, buf, size);
            for (ssize_t off = 0; n > 0 && off < n;) {
                ssize_t k = write(out, buf + off, (size_t)(n - off));
                if (k < 0 && errno != EINTR)
                    return -errno;
                off += k > 0 ? k : 0;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
    }
}

int fs_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, struct berr *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(e, errno, "reading %s", path);
    if (!S_ISREG(st.st_mode))
        return berr_set(e, -EINVAL, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return berr_set(e, -EFBIG, "%s: file too large (%lld bytes, limit %zu)", path,
                        (long long)st.st_size, max);
    /* procfs and sysfs report size 0 and some of their files answer only
     * a first read at offset 0: start with a page. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    if (cap < 4096)
        cap = max < 4096 ? max + 1 : 4096;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                return berr_set(e, -EFBIG, "%s: file too large (limit %zu bytes)", path, max);
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return berr_errno(e, errno, "reading %s", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max)
            return berr_set(e, -EFBIG, "%s: file too large (limit %zu bytes)", path, max);
    }
    buf[n] = '\0';
    *out = TAKE_PTR(buf);
    if (len)
        *len = n;
    return 0;
}

/* One directory of a removal walk: its identity, checked whenever the
 * walk comes back to it through "..", its entry's name in its parent, and
 * its reading: an open stream while it is among the innermost
 * RM_OPEN_MAX levels, else the position to resume at. */
struct rm_frame {
    dev_t dev;
    ino_t ino;
    char *name; /* NULL for the top */
    DIR *d;
    long pos;
};

/* Open directory streams per walk: the fds a walk holds stay bounded
 * whatever the depth, and a wide directory is read by one stream. */
#define RM_OPEN_MAX 32

/* What one pass of the walk ended with. */
enum rm_pass {
    RM_DONE,    /* everything below the top is gone */
    RM_CHANGED, /* the tree changed under the walk: start again from the top */
    RM_FAILED,  /* an error, in *e */
};

struct rm_walk {
    const char *name; /* the top, for messages */
    struct rm_frame *stack;
    size_t depth, cap;
    bool skipped; /* a mount point was left in place: the tree cannot go */
};

static enum rm_pass rm_fail(struct rm_walk *w, int err, const char *entry, struct berr *e)
{
    if (entry)
        berr_errno(e, err, "removing %s/.../%s", w->name, entry);
    else
        berr_errno(e, err, "removing %s", w->name);
    return RM_FAILED;
}

static void rm_walk_reset(struct rm_walk *w)
{
    for (size_t i = 0; i < w->cap; i++) {
        if (w->stack[i].d)
            closedir(w->stack[i].d);
        free(w->stack[i].name);
        w->stack[i] = (struct rm_frame){0};
    }
    w->depth = 0;
}

/* Leaves the (empty) directory at the top of the stack for its parent and
 * removes it there. The parent is the stream the walk kept, or, beyond the
 * open levels, the child's "..", which must then be the very directory the
 * walk came from: a rename may have moved the child anywhere, even out of
 * the tree, and nothing is touched in a directory the walk did not enter
 * from inside the tree. */
static enum rm_pass rm_climb(struct rm_walk *w, struct berr *e)
{
    struct rm_frame *child = &w->stack[w->depth], *up = &w->stack[w->depth - 1];
    if (!up->d) {
        int parent = openat(dirfd(child->d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
            return rm_fail(w, errno, NULL, e);
        struct stat ps;
        if (fstat(parent, &ps) < 0 || ps.st_dev != up->dev || ps.st_ino != up->ino) {
            close(parent);
            return RM_CHANGED;
        }
        up->d = fdopendir(parent);
        if (!up->d) {
            int err = errno;
            close(parent);
            return rm_fail(w, err, NULL, e);
        }
        seekdir(up->d, up->pos);
    }
    closedir(child->d);
    child->d = NULL;
    /* The name may have been renamed within the parent, or replaced. */
    struct stat cs;
    if (fstatat(dirfd(up->d), child->name, &cs, AT_SYMLINK_NOFOLLOW) < 0 ||
        cs.st_dev != child->dev || cs.st_ino != child->ino)
        return RM_CHANGED;
    if (unlinkat(dirfd(up->d), child->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        if ((errno == ENOTEMPTY || errno == EEXIST) && !w->skipped)
            return RM_CHANGED; /* something was added behind the walk */
        return rm_fail(w, errno, child->name, e);
    }
    free(child->name);
    child->name = NULL;
    w->depth--;
    return RM_DONE;
}

/* Enters the subdirectory name of the current directory (st: its lstat). */
static enum rm_pass rm_descend(struct rm_walk *w, const char *name, const struct stat *st,
                               struct berr *e)
{
    struct rm_frame *cur = &w->stack[w->depth];
    int fd = openat(dirfd(cur->d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return RM_CHANGED; /* replaced since it was looked at */
        return rm_fail(w, errno, name, e);
    }
    struct stat now;
    if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
        close(fd);
        return RM_CHANGED;
    }
    if (w->depth + 1 >= w->cap) {
        size_t old = w->cap;
        w->cap *= 2;
        w->stack = xreallocarray(w->stack, w->cap, sizeof *w->stack);
        memset(w->stack + old, 0, (w->cap - old) * sizeof *w->stack);
    }
    struct rm_frame *f = &w->stack[++w->depth];
    *f = (struct rm_frame){.dev = now.st_dev, .ino = now.st_ino, .name = xstrdup(name)};
    f->d = fdopendir(fd);
    if (!f->d) {
        int err = errno;
        close(fd);
        return rm_fail(w, err, name, e);
    }
    if (w->depth >= RM_OPEN_MAX) {
        struct rm_frame *far = &w->stack[w->depth - RM_OPEN_MAX];
        if (far->d) {
            far->pos = telldir(far->d);
            closedir(far->d);
            far->d = NULL;
        }
    }
    return RM_DONE;
}

/* One depth-first pass over the tree below top (an fd, taken over):
 * files are unlinked as they are read, directories entered by name. */
static enum rm_pass rm_pass(struct rm_walk *w, int top, const struct stat *tst, struct berr *e)
{
    w->stack[0] = (struct rm_frame){.dev = tst->st_dev, .ino = tst->st_ino};
    w->stack[0].d = fdopendir(top);
    if (!w->stack[0].d) {
        int err = errno;
        close(top);
        return rm_fail(w, err, NULL, e);
    }
    for (;;) {
        DIR *d = w->stack[w->depth].d;
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                return rm_fail(w, errno, NULL, e);
            if (w->depth == 0)
                return RM_DONE;
            enum rm_pass r = rm_climb(w, e);
            if (r != RM_DONE)
                return r;
            continue;
        }
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return rm_fail(w, errno, n, e);
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != tst->st_dev) { /* a mount point: never crossed */
                w->skipped = true;
                continue;
            }
            enum rm_pass r = rm_descend(w, n, &st, e);
            if (r != RM_DONE)
                return r;
            continue;
        }
        if (unlinkat(dirfd(d), n, 0) < 0 && errno != ENOENT) {
            if (errno == EISDIR)
                return RM_CHANGED;
            return rm_fail(w, errno, n, e);
        }
    }
}

#define RM_PASSES_MAX 16 /* a tree that keeps changing under the walk */

/* Without recursion, with at most RM_OPEN_MAX directory fds open whatever
 * the depth, linear in the size of the tree. A rename inside the tree while
 * it is removed (a container's process still at work in it) can move the
 * directory the walk is in anywhere, even out of the tree: the walk never
 * trusts a ".." it did not check (device and inode) to be the directory it
 * came from, and starts again from the top when the tree changed. */
int fs_rm_rf_at(int dirfd, const char *name, struct berr *e)
{
    struct rm_walk w = {.name = name, .cap = 16};
    w.stack = xcalloc(w.cap, sizeof *w.stack);
    int ret = 0;
    for (int pass = 0;; pass++) {
        if (pass == RM_PASSES_MAX) {
            ret = berr_set(e, -EAGAIN, "removing %s: the tree kept changing while it was removed",
                           name);
            break;
        }
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
                if (errno == EISDIR)
                    continue;
                ret = berr_errno(e, errno, "removing %s", name);
            }
            break;
        }
        int top = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat tst;
        if (top < 0 || fstat(top, &tst) < 0 || tst.st_dev != st.st_dev || tst.st_ino != st.st_ino) {
            if (top >= 0)
                close(top);
            else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
                ret = berr_errno(e, errno, "removing %s", name);
                break;
            }
            continue;
        }
        w.skipped = false;
        enum rm_pass r = rm_pass(&w, top, &tst, e);
        rm_walk_reset(&w);
        if (r == RM_FAILED) {
            ret = e && e->code < 0 ? e->code : -EIO;
            break;
        }
        if (r == RM_CHANGED)
            continue;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            break;
        if ((errno != ENOTEMPTY && errno != EEXIST) || w.skipped) {
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
    }
    rm_walk_reset(&w);
    free(w.stack);
    return ret;
}

int fs_write_str(int dirfd, const char *path, const char *s, struct berr *e)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", path);
    size_t len = strlen(s);
    ssize_t w = write(fd, s, len);
    if (w < 0)
        return berr_errno(e, errno, "writing \"%s\" to %s", s, path);
    if ((size_t)w != len)
        return berr_set(e, -EIO, "short write to %s", path);
    return 0;
}

char *fs_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    _cleanup_free_ char *head = xstrndup(a, la);
    return str_join(head, '/', b);
}

bool fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The names in the directory dirfd (read through a dup, so dirfd keeps
 * its offset and stays open): all but "." and ".." with hidden, else those
 * not starting with '.'. An unreadable directory gives an empty list. */
char **fs_list_names(int dirfd, bool hidden)
{
    char **names = xcalloc(1, sizeof(char *));
    int d = dup(dirfd);
    DIR *dir = d >= 0 ? fdopendir(d) : NULL;
    if (!dir) {
        if (d >= 0)
            close(d);
        return names;
    }
    rewinddir(dir);
    struct dirent *de;
    while ((de = readdir(dir)))
        if (hidden ? strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0
                   : de->d_name[0] != '.')
            strv_push(&names, xstrdup(de->d_name));
    closedir(dir);
    return names;
}
