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

/* Iterative removal: a stack of open directory fds would bound depth by the
 * fd limit, so instead we descend by name and climb back with "..", finding
 * the child again by inode before removing it. */
int fs_rm_rf_at(int dirfd, const char *name, struct berr *e)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(e, errno, "removing %s", name);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return berr_errno(e, errno, "removing %s", name);
        return 0;
    }
    dev_t dev = st.st_dev;
    int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cur < 0)
        return berr_errno(e, errno, "removing %s", name);
    size_t depth = 0;
    int ret = 0;
    for (;;) {
        /* Find one entry in cur; descend into a subdirectory or unlink. */
        int dup_fd = dup(cur);
        if (dup_fd < 0) {
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        DIR *d = fdopendir(dup_fd);
        if (!d) {
            close(dup_fd);
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        rewinddir(d);
        char *descend = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            struct stat cst;
            if (fstatat(cur, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISDIR(cst.st_mode)) {
                if (cst.st_dev != dev) {
                    /* A mount point: never cross it. */
                    continue;
                }
                descend = xstrdup(de->d_name);
                break;
            }
            if (unlinkat(cur, de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                ret = berr_errno(e, errno, "removing %s/.../%s", name, de->d_name);
        }
        closedir(d);
        if (ret < 0)
            break;
        if (descend) {
            int next = openat(cur, descend, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0) {
                ret = berr_errno(e, errno, "removing %s/.../%s", name, descend);
                free(descend);
                break;
            }
            /* An empty dir would be removed on the way up; remove now if we
             * can, else go down. */
            free(descend);
            close(cur);
            cur = next;
            depth++;
            continue;
        }
        /* cur is empty: climb up and remove it. */
        if (depth == 0)
            break;
        struct stat self;
        if (fstat(cur, &self) < 0) {
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0) {
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        close(cur);
        cur = parent;
        depth--;
        /* Find the child by inode and remove it. */
        int dfd = dup(cur);
        DIR *pd = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!pd) {
            if (dfd >= 0)
                close(dfd);
            ret = berr_errno(e, errno, "removing %s", name);
            break;
        }
        while ((de = readdir(pd))) {
            if (de->d_ino != self.st_ino)
                continue;
            struct stat cst;
            if (fstatat(cur, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0 &&
                cst.st_ino == self.st_ino && cst.st_dev == self.st_dev) {
                if (unlinkat(cur, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                    ret = berr_errno(e, errno, "removing %s/.../%s", name, de->d_name);
                break;
            }
        }
        closedir(pd);
        if (ret < 0)
            break;
    }
    close(cur);
    if (ret == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        ret = berr_errno(e, errno, "removing %s", name);
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
    return xasprintf("%.*s/%s", (int)la, a, b);
}

bool fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
