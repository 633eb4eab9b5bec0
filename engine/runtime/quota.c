/* SPDX-License-Identifier: Apache-2.0 */
/* Project quotas for storage_opt size (quota.h): FS_IOC_FSSETXATTR gives
 * the directory a project ID that what is made in it inherits, and
 * quotactl_fd(Q_SETQUOTA, PRJQUOTA) limits the project's blocks. */
#include "engine/runtime/quota.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

/* QCMD in unsigned arithmetic: the kernel's macro shifts an int past its
 * range for Q_GETINFO and Q_SETQUOTA. */
#define PRJ_QCMD(cmd) (((unsigned)(cmd) << SUBCMDSHIFT) | (PRJQUOTA & SUBCMDMASK))

static long quotactl_fd(int fd, unsigned cmd, int id, void *addr)
{
    return syscall(SYS_quotactl_fd, fd, cmd, id, addr);
}

int quota_supported(const char *dir, const char *where, struct berr *e)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(e, errno, "storage_opt: opening %s", dir);
    struct if_dqinfo info;
    memset(&info, 0, sizeof info);
    if (quotactl_fd(fd, PRJ_QCMD(Q_GETINFO), 0, &info) < 0) {
        int err = errno;
        const char *why = err == ENOSYS ? "this kernel has no quota support"
                          : err == ESRCH
                              ? "quotas are not on: it needs xfs, or ext4 with the project "
                                "feature, mounted with prjquota"
                              : strerror(err);
        return berr_set(e, -ENOTSUP,
                        "storage_opt: the file system under %s does not support project quotas "
                        "(%s)",
                        where, why);
    }
    struct fsxattr fsx;
    if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
        return berr_set(e, -ENOTSUP,
                        "storage_opt: the file system under %s does not support project IDs "
                        "(FS_IOC_FSGETXATTR: %s)",
                        where, strerror(errno));
    return 0;
}

/* Gives the directory the project ID and makes what is made in it inherit
 * it. */
static int set_projid(const char *dir, uint32_t id, const char *who, struct berr *e)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct fsxattr fsx;
    if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
        return berr_errno(e, errno, "%s: storage_opt: reading %s", who, dir);
    fsx.fsx_projid = id;
    fsx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    if (ioctl(fd, FS_IOC_FSSETXATTR, &fsx) < 0)
        return berr_errno(e, errno, "%s: storage_opt: giving %s project ID %u", who, dir, id);
    return 0;
}

int quota_set(const char *upper, const char *work, int64_t bytes, const char *who, struct berr *e)
{
    int r = quota_supported(upper, upper, e);
    if (r < 0)
        return berr_wrap(e, "%s", who);
    _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return berr_errno(e, errno, "%s: storage_opt: reading %s", who, upper);
    /* The inode number is unique on the file system while the directory
     * exists; 0 is "no project". The work dir gets the same project:
     * overlayfs renames copied-up files from it into the upper dir, and
     * a rename into another project fails with EXDEV. */
    uint32_t id = (uint32_t)st.st_ino ? (uint32_t)st.st_ino : 1;
    r = set_projid(upper, id, who, e);
    if (r == 0 && work)
        r = set_projid(work, id, who, e);
    if (r < 0)
        return r;
    struct if_dqblk q;
    memset(&q, 0, sizeof q);
    q.dqb_bhardlimit = ((uint64_t)bytes + 1023) / 1024; /* 1 KiB quota blocks */
    q.dqb_bsoftlimit = q.dqb_bhardlimit;
    q.dqb_valid = QIF_BLIMITS;
    if (quotactl_fd(fd, PRJ_QCMD(Q_SETQUOTA), (int)id, &q) < 0)
        return berr_errno(e, errno, "%s: storage_opt: setting the quota of project %u", who, id);
    return 0;
}
