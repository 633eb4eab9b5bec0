/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's user namespaces (userns_mode: auto): the namespace made by
 * the parent before the container's clone, and the child's steps into it
 * (idmapped layers, becoming root inside, the host's device nodes and /sys
 * bound where the kernel refuses the real thing inside a user namespace).
 * The child's functions make system calls only (no allocation), like
 * init.c. Not here: which IDs a container gets (userns.h). */
#ifndef BERTH_RUNTIME_IDMAP_H
#define BERTH_RUNTIME_IDMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/runtime/proc.h"
#include "util/err.h"

/* The parent's side of a user-namespaced container's start. The child is
 * cloned with CLONE_NEWUSER and its other namespaces (so they are owned
 * by its user namespace), into the network namespace it joins (the
 * calling thread enters it for the clone: joining it from inside would
 * need the host's privileges), and waits for its maps and its root file
 * system (an overlay on idmapped layers, mounted as host root so that it
 * reads the layers' trusted.overlay xattrs) before it goes on. */
struct idmap_parent {
    int saved_netns; /* the calling thread's network namespace, while it is in the child's */
};
#define IDMAP_PARENT_INIT                                                                          \
    {                                                                                              \
        .saved_netns = -1                                                                          \
    }

/* Before clone3: the upper directory handed to the range's root (it is
 * the owner of the container's "/"), and the calling thread in netns_fd
 * (when >= 0). */
int idmap_clone_prepare(struct idmap_parent *u, const char *name, const char *upper_dir,
                        uint32_t uid, uint32_t gid, int netns_fd, struct berr *e);
/* After clone3, in the parent (whether it failed or not): the thread back
 * in its own network namespace (failing that, berth aborts). */
void idmap_clone_done(struct idmap_parent *u);

/* The container's overlay, as the parent would mount it. */
struct idmap_rootfs {
    char *const *lower_top_first;
    const char *upper_dir, *work_dir, *rootfs_dir;
    const char *overlay_opts; /* without lowerdir+ */
    bool lowerdir_plus;
    bool idmapped; /* false: the layers are copies owned in the range (layercopy.h) */
};

/* The child's maps (0..USERNS_IDS-1 to uid.. and gid..), then its overlay
 * on idmapped layers (or the range's copies of them), made by a helper process in a mount namespace
 * of its own and attached at rootfs_dir in the child's; then the go (a byte on sync_fd). */
int idmap_child_go(pid_t pid, int sync_fd, const struct idmap_rootfs *fs, uint32_t uid,
                   uint32_t gid, const char *name, struct berr *e);

/* Whether the file system of dir takes an idmapped mount (with a user
 * namespace of the range's maps): *ok false where it refuses or the
 * kernel has none; an error only when the test itself cannot be made. */
int idmap_layers_supported(const char *dir, uint32_t uid, uint32_t gid, bool *ok, struct berr *e);

/* Whether the process behind pidfd is in another user namespace than the
 * caller (an exec must then join it). */
int idmap_pidfd_other_userns(int pidfd, bool *other, struct berr *e);

/* Joins the user namespace (setns on userns_fd, a namespace fd or a
 * pidfd; -1: the one it is in) and becomes its root (uid and gid 0, no supplementary groups),
 * keeping the parent-death signal and non-dumpable state across the
 * change of credentials. */
void idmap_become_root(struct proc_args *p, int userns_fd);

/* /dev/{null,zero,full,random,urandom,tty}: the host's nodes bound onto
 * empty files in the container's /dev (devfd, writable), since mknod is
 * denied inside a user namespace. */
void idmap_dev_nodes(struct proc_args *p, int devfd);

/* A detached read-only (nosuid, nodev, noexec) recursive copy of a host
 * path: the host's /sys where sysfs cannot be mounted in a user namespace
 * that does not own the network namespace, a v1 cgroup directory where v1
 * cannot be mounted. */
int idmap_bind_ro(struct proc_args *p, const char *host_path, const char *what);

#endif
