/* SPDX-License-Identifier: Apache-2.0 */
/* Shifted copies of image layers for user-namespaced containers
 * (layercopy.h). */
#include "engine/runtime/layercopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/runtime/userns.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define COPY_DEPTH_MAX 256 /* two fds a level, so bounded */
#define XATTR_MAX      65536
#define ACL_VERSION    2u
#define ACL_TAG_USER   0x02u
#define ACL_TAG_GROUP  0x08u
#define NOBODY         65534u

uint32_t layercopy_shift(uint32_t id, uint32_t start)
{
    return start + (id < USERNS_IDS ? id : NOBODY);
}

static uint32_t le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static ssize_t cap_value(const uint8_t *val, size_t n, uint32_t uid, uint8_t *out, size_t cap)
{
    if (n < 4 || cap < XATTR_CAPS_SZ_3)
        return -EINVAL;
    uint32_t magic = le32_get(val);
    uint32_t rev = magic & VFS_CAP_REVISION_MASK;
    if (rev == VFS_CAP_REVISION_2 && n == XATTR_CAPS_SZ_2) {
        memcpy(out, val, n);
        le32_put(out, (magic & ~VFS_CAP_REVISION_MASK) | VFS_CAP_REVISION_3);
        le32_put(out + XATTR_CAPS_SZ_2, uid);
        return XATTR_CAPS_SZ_3;
    }
    if (rev == VFS_CAP_REVISION_3 && n == XATTR_CAPS_SZ_3) {
        memcpy(out, val, n);
        le32_put(out + XATTR_CAPS_SZ_2, layercopy_shift(le32_get(val + XATTR_CAPS_SZ_2), uid));
        return XATTR_CAPS_SZ_3;
    }
    return -EINVAL; /* revision 1 (32-bit sets) has no place in a layer */
}

static ssize_t acl_value(const uint8_t *val, size_t n, uint32_t uid, uint32_t gid, uint8_t *out,
                         size_t cap)
{
    /* a 4-byte version, then 8-byte entries: tag (16), perm (16), id (32) */
    if (n < 4 || (n - 4) % 8 || le32_get(val) != ACL_VERSION || cap < n)
        return -EINVAL;
    memcpy(out, val, n);
    for (size_t off = 4; off < n; off += 8) {
        unsigned tag = (unsigned)val[off] | (unsigned)val[off + 1] << 8;
        uint32_t id = le32_get(val + off + 4);
        if (tag == ACL_TAG_USER)
            le32_put(out + off + 4, layercopy_shift(id, uid));
        else if (tag == ACL_TAG_GROUP)
            le32_put(out + off + 4, layercopy_shift(id, gid));
    }
    return (ssize_t)n;
}

ssize_t layercopy_xattr_value(const char *name, const uint8_t *val, size_t n, uint32_t uid,
                              uint32_t gid, uint8_t *out, size_t cap)
{
    if (strcmp(name, "security.capability") == 0)
        return cap_value(val, n, uid, out, cap);
    if (strcmp(name, "system.posix_acl_access") == 0 ||
        strcmp(name, "system.posix_acl_default") == 0)
        return acl_value(val, n, uid, gid, out, cap);
    if (cap < n)
        return -EINVAL;
    memcpy(out, val, n);
    return (ssize_t)n;
}

/* ---- the copy ------------------------------------------------------------ */

struct hardlink {
    dev_t dev;
    ino_t ino;
    char *rel; /* the first copy's path below the copy's root */
};

struct copier {
    uint32_t uid, gid;
    const char *layer; /* the source, for messages */
    int dst_root;
    struct hardlink *links;
    size_t n_links;
    uint8_t *val, *shifted; /* XATTR_MAX (also the copy's buffer), XATTR_MAX + 4 bytes */
};

static int fail(struct copier *c, const char *rel, const char *what, struct berr *e)
{
    return berr_errno(e, errno, "layer %s: \"/%s\": %s", c->layer, rel, what);
}

static const char *link_seen(struct copier *c, const struct stat *st)
{
    for (size_t i = 0; i < c->n_links; i++)
        if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
            return c->links[i].rel;
    return NULL;
}

static void link_note(struct copier *c, const struct stat *st, const char *rel)
{
    c->links = xreallocarray(c->links, c->n_links + 1, sizeof *c->links);
    c->links[c->n_links++] = (struct hardlink){st->st_dev, st->st_ino, xstrdup(rel)};
}

static int copy_data(struct copier *c, int in, int out, const char *rel, struct berr *e)
{
    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    int r = fs_copy_fd(in, out, (char *)c->val, XATTR_MAX);
    if (r < 0) {
        errno = -r;
        return fail(c, rel, "copying its contents", e);
    }
    return 0;
}

/* Every extended attribute of name (in sfd) onto its copy (in dfd), the
 * ones holding IDs shifted. */
static int copy_xattrs(struct copier *c, int sfd, int dfd, const char *name, const char *rel,
                       struct berr *e)
{
    char sp[64 + NAME_MAX], dp[64 + NAME_MAX];
    snprintf(sp, sizeof sp, "/proc/self/fd/%d/%s", sfd, name);
    snprintf(dp, sizeof dp, "/proc/self/fd/%d/%s", dfd, name);
    ssize_t n = llistxattr(sp, NULL, 0);
    if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
        return 0;
    if (n < 0)
        return fail(c, rel, "listing its extended attributes", e);
    if (n == 0)
        return 0;
    _cleanup_free_ char *list = xmalloc((size_t)n + 1);
    if ((n = llistxattr(sp, list, (size_t)n)) < 0)
        return fail(c, rel, "listing its extended attributes", e);
    list[n] = '\0';
    for (char *k = list; k < list + n; k += strlen(k) + 1) {
        ssize_t vn = lgetxattr(sp, k, c->val, XATTR_MAX);
        if (vn < 0 && errno == ENODATA)
            continue;
        if (vn < 0)
            return fail(c, rel, "reading an extended attribute", e);
        ssize_t sn =
            layercopy_xattr_value(k, c->val, (size_t)vn, c->uid, c->gid, c->shifted, XATTR_MAX + 4);
        if (sn < 0)
            return berr_set(e, -EINVAL, "layer %s: \"/%s\": extended attribute %s is malformed",
                            c->layer, rel, k);
        if (lsetxattr(dp, k, c->shifted, (size_t)sn, 0) < 0) {
            int err = errno;
            _cleanup_free_ char *what = xasprintf("setting extended attribute %s", k);
            errno = err;
            return fail(c, rel, what, e);
        }
    }
    return 0;
}

/* Owner, mode (after the owner: chown clears setuid bits), extended
 * attributes (after the owner too: chown drops security.capability),
 * times (last). */
static int finish(struct copier *c, int sfd, int dfd, const char *name, const struct stat *st,
                  const char *rel, struct berr *e)
{
    if (fchownat(dfd, name, layercopy_shift(st->st_uid, c->uid),
                 layercopy_shift(st->st_gid, c->gid), AT_SYMLINK_NOFOLLOW) < 0)
        return fail(c, rel, "giving it its owner", e);
    if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
        return fail(c, rel, "giving it its mode", e);
    int r = copy_xattrs(c, sfd, dfd, name, rel, e);
    if (r < 0)
        return r;
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return fail(c, rel, "giving it its times", e);
    return 0;
}

static int copy_dir(struct copier *c, int sfd, int dfd, const char *rel, int depth, struct berr *e);

static int copy_entry(struct copier *c, int sfd, int dfd, const char *name, const char *rel,
                      int depth, struct berr *e)
{
    struct stat st;
    if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return fail(c, rel, "reading it", e);
    int r = 0;
    switch (st.st_mode & S_IFMT) {
    case S_IFDIR: {
        if (mkdirat(dfd, name, 0700) < 0)
            return fail(c, rel, "making its copy", e);
        _cleanup_close_ int s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
            return fail(c, rel, "opening it", e);
        if ((r = copy_dir(c, s, d, rel, depth + 1, e)) < 0)
            return r;
        break;
    }
    case S_IFREG: {
        const char *first = st.st_nlink > 1 ? link_seen(c, &st) : NULL;
        if (first) {
            if (linkat(c->dst_root, first, dfd, name, 0) < 0)
                return fail(c, rel, "linking it", e);
            return 0; /* one inode: made once */
        }
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
            return fail(c, rel, "opening it", e);
        _cleanup_close_ int out =
            openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
            return fail(c, rel, "making its copy", e);
        if ((r = copy_data(c, in, out, rel, e)) < 0)
            return r;
        if (st.st_nlink > 1)
            link_note(c, &st, rel);
        break;
    }
    case S_IFLNK: {
        _cleanup_free_ char *target = xmalloc((size_t)st.st_size + 1);
        ssize_t n = readlinkat(sfd, name, target, (size_t)st.st_size + 1);
        if (n < 0 || n > st.st_size)
            return fail(c, rel, "reading the link", e);
        target[n] = '\0';
        if (symlinkat(target, dfd, name) < 0)
            return fail(c, rel, "making its copy", e);
        break;
    }
    default: /* devices, FIFOs, sockets; overlay's whiteouts (0:0) */
        if (mknodat(dfd, name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
            return fail(c, rel, "making its copy", e);
        break;
    }
    return finish(c, sfd, dfd, name, &st, rel, e);
}

static int copy_dir(struct copier *c, int sfd, int dfd, const char *rel, int depth, struct berr *e)
{
    if (depth > COPY_DEPTH_MAX)
        return berr_set(e, -ELOOP, "layer %s: \"/%s\": nested deeper than %d directories", c->layer,
                        rel, COPY_DEPTH_MAX);
    int dup_fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
    if (dup_fd < 0)
        return fail(c, rel, "opening it", e);
    _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return fail(c, rel, "opening it", e);
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                return fail(c, rel, "listing it", e);
            return 0;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *sub = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
        int r = copy_entry(c, sfd, dfd, de->d_name, sub, depth, e);
        if (r < 0)
            return r;
    }
}

/* The copy of one layer into dir/name, through dir/.tmp-name. */
static int copy_layer(int dirfd, const char *src, const char *name, uint32_t uid, uint32_t gid,
                      struct berr *e)
{
    _cleanup_free_ char *tmp = xasprintf(".tmp-%s", name);
    struct berr ign = BERR_INIT;
    fs_rm_rf_at(dirfd, tmp, &ign); /* an earlier copy cut short */
    berr_clear(&ign);
    _cleanup_close_ int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0)
        return berr_errno(e, errno, "layer %s: opening it", src);
    struct stat st;
    if (fstat(sfd, &st) < 0)
        return berr_errno(e, errno, "layer %s: reading it", src);
    if (mkdirat(dirfd, tmp, 0700) < 0)
        return berr_errno(e, errno, "layer %s: making its copy", src);
    struct copier c = {.uid = uid, .gid = gid, .layer = src, .dst_root = -1};
    c.dst_root = openat(dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = c.dst_root < 0 ? berr_errno(e, errno, "layer %s: opening its copy", src) : 0;
    if (r == 0) {
        c.val = xmalloc(XATTR_MAX);
        c.shifted = xmalloc(XATTR_MAX + 4);
        r = copy_dir(&c, sfd, c.dst_root, "", 0, e);
    }
    /* the root's own metadata; "." names it through both fds */
    if (r == 0)
        r = finish(&c, sfd, c.dst_root, ".", &st, "", e);
    if (r == 0 && fsync(c.dst_root) < 0)
        r = berr_errno(e, errno, "layer %s: writing its copy", src);
    if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
        r = berr_errno(e, errno, "layer %s: putting its copy in place", src);
    if (c.dst_root >= 0)
        close(c.dst_root);
    for (size_t i = 0; i < c.n_links; i++)
        free(c.links[i].rel);
    free(c.links);
    free(c.val);
    free(c.shifted);
    if (r < 0) {
        fs_rm_rf_at(dirfd, tmp, &ign);
        berr_clear(&ign);
    }
    return r;
}

static char *range_dir(const char *root, uint32_t uid, uint32_t gid)
{
    return xasprintf("%s/userns-layers/%u-%u", root, uid, gid);
}

/* The name of a layer's copy: its directory's own name; NULL for a path
 * that has none. */
static const char *copy_name(const char *layer)
{
    const char *base = strrchr(layer, '/');
    base = base ? base + 1 : layer;
    return *base && *base != '.' ? base : NULL;
}

bool layercopy_present(const char *root, char *const *layer_dirs, uint32_t uid, uint32_t gid)
{
    _cleanup_free_ char *dir = range_dir(root, uid, gid);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || !layer_dirs || !layer_dirs[0])
        return false;
    for (size_t i = 0; layer_dirs[i]; i++) {
        const char *base = copy_name(layer_dirs[i]);
        struct stat st;
        if (!base || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            return false;
    }
    return true;
}

int layercopy_dirs(const char *root, char *const *layer_dirs, uint32_t uid, uint32_t gid,
                   char ***out, struct berr *e)
{
    *out = NULL;
    _cleanup_free_ char *dir = range_dir(root, uid, gid);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    _cleanup_strv_ char **v = xcalloc(strv_len(layer_dirs) + 1, sizeof *v);
    for (size_t i = 0; layer_dirs && layer_dirs[i]; i++) {
        const char *base = copy_name(layer_dirs[i]);
        if (!base)
            return berr_set(e, -EINVAL, "layer %s: not a layer directory", layer_dirs[i]);
        struct stat st;
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return berr_errno(e, errno, "reading %s/%s", dir, base);
            if ((r = copy_layer(dfd, layer_dirs[i], base, uid, gid, e)) < 0)
                return r;
        }
        v[i] = xasprintf("%s/%s", dir, base);
    }
    *out = TAKE_PTR(v);
    return 0;
}

int layercopy_remove(const char *root, uint32_t uid, uint32_t gid, struct berr *e)
{
    _cleanup_free_ char *top = xasprintf("%s/userns-layers", root);
    _cleanup_close_ int dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT ? 0 : berr_errno(e, errno, "opening %s", top);
    char name[32];
    snprintf(name, sizeof name, "%u-%u", uid, gid);
    return fs_rm_rf_at(dfd, name, e);
}
