/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers. Paths inside a container root or a layer are always
 * resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from a root
 * dirfd (fs_open_in_root), so a symlink the image controls can never lead
 * outside. Host paths that berth itself controls use the plain helpers. */
#ifndef BERTH_UTIL_FS_H
#define BERTH_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* Raw openat2. Returns an fd or -errno. */
int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* Opens path inside the tree rooted at rootfd: "..", absolute paths and
 * symlinks are resolved against rootfd, magic links refused. Returns an fd
 * or -errno. O_CLOEXEC is always added. */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode);

/* Creates every missing directory of path inside rootfd (resolved in root),
 * then returns an O_DIRECTORY fd of the last one, or -errno. */
int fs_mkdirs_in_root(int rootfd, const char *path, mode_t mode);

/* mkdir -p for host paths berth controls. Returns 0 or a negative code. */
int fs_mkdir_p(const char *path, mode_t mode, struct berr *e);

/* Writes buf to dirfd/name atomically: a temp file in the same directory,
 * fsync, rename over name, fsync of the directory. */
int fs_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                    struct berr *e);

/* Like fs_write_atomic (readers never see a partial content) but without
 * fsync, and with a moment between the old and the new file where there is
 * none: for volatile state that a crash may lose, such as run state under
 * $BERTH_RUNROOT, which lives on a tmpfs on most hosts. */
int fs_write_replace(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                     struct berr *e);

/* Reads a regular file of at most max bytes (a FIFO, device or oversized file
 * is refused without blocking). *out is NUL-terminated; *len excludes it. */
int fs_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len, struct berr *e);
/* The same for a file already open (O_NONBLOCK, so that a FIFO never
 * blocks: it is refused); path names it in errors. */
int fs_read_fd(int fd, const char *path, size_t max, char **out, size_t *len, struct berr *e);

/* Removes dirfd/name and everything below it without following symlinks and
 * without recursion (safe for very deep trees; linear in time). Missing name
 * is not an error. Never crosses into another mount (the walk stays on one
 * st_dev), and never removes anything outside the tree, even while the tree
 * is renamed within or out of itself during the walk: a tree that keeps
 * changing is refused (-EAGAIN) after some fresh starts. */
int fs_rm_rf_at(int dirfd, const char *name, struct berr *e);

/* Copies what is left of in (to its end) onto out: copy_file_range, or
 * read and write through buf (size bytes) where the kernel cannot. 0, or
 * a negative errno. */
int fs_copy_fd(int in, int out, char *buf, size_t size);

/* The names in directory dirfd, NULL-terminated (free with strv_free): all
 * but "." and ".." with hidden, else those not starting with '.'; an
 * unreadable directory gives an empty list. dirfd is left as it was. */
char **fs_list_names(int dirfd, bool hidden);

/* Writes a short string to an existing file (cgroup and proc knobs). */
int fs_write_str(int dirfd, const char *path, const char *s, struct berr *e);

/* Joins two path components with exactly one '/' (heap string). */
char *fs_path_join(const char *a, const char *b);

bool fs_exists(const char *path);

#endif
