/* SPDX-License-Identifier: Apache-2.0 */
/* Network namespaces bound on files (net/netns.h): create, open, remove,
 * and sockets made inside one. The calling thread switches namespaces only
 * for a few system calls and always comes back (or the process aborts).
 * Not here: links, addresses, routes (net/link.c). */
#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "net/loopback.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define SELF_NETNS "/proc/thread-self/ns/net"

/* Whether fd is a network namespace (an nsfs file of type CLONE_NEWNET). */
static bool fd_is_netns(int fd)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC)
        return false;
    return ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

/* Returns the calling thread to the namespace cur; a thread that cannot
 * get back would run the rest of the program in a container's network. */
static void netns_return(int cur)
{
    if (setns(cur, CLONE_NEWNET) < 0)
        abort();
}

/* Makes dir a mount point of its own with private propagation, so the
 * namespace mounts made in it stay in this mount namespace. */
static int dir_make_private(const char *dir, struct berr *e)
{
    struct statx stx;
    if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
        return berr_errno(e, errno, "netns directory %s", dir);
    if (!S_ISDIR(stx.stx_mode))
        return berr_set(e, -ENOTDIR, "netns directory %s: not a directory", dir);
    bool root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
    if (!root && mount(dir, dir, NULL, MS_BIND, NULL) < 0)
        return berr_errno(e, errno, "binding netns directory %s on itself", dir);
    if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0) {
        int err = errno;
        if (!root)
            umount2(dir, MNT_DETACH);
        return berr_errno(e, err, "making netns directory %s private", dir);
    }
    return 0;
}

/* In a new network namespace on this thread: "lo" up, the namespace bound
 * on path; then back to the thread's own namespace. */
static int bind_new_netns(const char *path, struct berr *e)
{
    _cleanup_close_ int cur = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
    if (cur < 0)
        return berr_errno(e, errno, "opening %s", SELF_NETNS);
    if (unshare(CLONE_NEWNET) < 0)
        return berr_errno(e, errno, "creating network namespace for %s", path);
    int r = net_loopback_up();
    if (r < 0) {
        netns_return(cur);
        return berr_errno(e, r, "network namespace %s: bringing up lo", path);
    }
    if (mount(SELF_NETNS, path, NULL, MS_BIND, NULL) < 0) {
        int err = errno;
        netns_return(cur);
        return berr_errno(e, err, "binding network namespace on %s", path);
    }
    netns_return(cur);
    return 0;
}

int netns_new(struct berr *e)
{
    _cleanup_close_ int cur = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
    if (cur < 0)
        return berr_errno(e, errno, "opening %s", SELF_NETNS);
    if (unshare(CLONE_NEWNET) < 0)
        return berr_errno(e, errno, "creating a network namespace");
    int r = net_loopback_up();
    int fd = r < 0 ? -1 : open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
    int err = errno;
    netns_return(cur);
    if (r < 0)
        return berr_errno(e, r, "a new network namespace: bringing up lo");
    if (fd < 0)
        return berr_errno(e, err, "opening a new network namespace");
    return fd;
}

int netns_create(const char *path, struct berr *e)
{
    _cleanup_close_ int old = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (old >= 0 && fd_is_netns(old))
        return 0;
    if (old >= 0) {
        struct stat st;
        if (fstat(old, &st) < 0 || !S_ISREG(st.st_mode))
            return berr_set(e, -EEXIST, "network namespace %s: exists and is not a file", path);
    } else if (errno != ENOENT) {
        return berr_errno(e, errno, "network namespace %s", path);
    }
    _cleanup_free_ char *copy = xstrdup(path);
    int r = dir_make_private(dirname(copy), e);
    if (r < 0)
        return berr_wrap(e, "network namespace %s", path);
    bool made = false;
    if (old < 0) {
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0)
            return berr_errno(e, errno, "creating network namespace file %s", path);
        close(fd);
        made = true;
    }
    r = bind_new_netns(path, e);
    if (r < 0 && made)
        unlink(path);
    return r;
}

int netns_open(const char *path, struct berr *e)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "opening network namespace %s", path);
    if (!fd_is_netns(fd))
        return berr_set(e, -EINVAL, "%s is not a network namespace", path);
    return TAKE_FD(fd);
}

int netns_remove(const char *path, struct berr *e)
{
    if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return berr_errno(e, errno, "unmounting network namespace %s", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "removing network namespace %s", path);
    return 0;
}

int netns_dir_release(const char *dir, struct berr *e)
{
    if (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return berr_errno(e, errno, "unmounting netns directory %s", dir);
    return 0;
}

int netns_socket(int nsfd, int domain, int type, int protocol, struct berr *e)
{
    _cleanup_close_ int cur = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
    if (cur < 0)
        return berr_errno(e, errno, "opening %s", SELF_NETNS);
    if (setns(nsfd, CLONE_NEWNET) < 0)
        return berr_errno(e, errno, "entering a network namespace");
    int s = socket(domain, type | SOCK_CLOEXEC, protocol);
    int err = errno;
    netns_return(cur);
    if (s < 0)
        return berr_errno(e, err, "socket in a network namespace");
    return s;
}
