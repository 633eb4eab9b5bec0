/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the layer extractor (catalogue L17): the bytes are a
 * layer blob (plain tar or any in-process compression) applied with the
 * real code path, layer_apply -> unpack_tar, into a scratch root. Input
 * holding the line FUZZ_TAR_NEXT_LAYER is two layers applied one over the
 * other into the same root (L03: a symlink in one layer, a write through it
 * in the next).
 *
 * Beside the scratch root sits a sentinel directory; after every input the
 * harness compares it (and the directory holding both) with a snapshot
 * taken at start and aborts on any difference: a write, chmod, chown, link
 * or removal that left the root. Run as root, everything lives on a tmpfs
 * in a private mount namespace, and each apply runs chrooted into that
 * tmpfs, so even a broken extractor cannot reach the host's files; as
 * another user, in a temp directory.
 *
 * The harness state is set up once per process (libFuzzer and replay.c
 * both call LLVMFuzzerTestOneInput many times); it is the one place the
 * project keeps state in statics, as fuzz harnesses must. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/image/layer.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define FUZZ_TAR_NEXT_LAYER "\n--berth-fuzz-next-layer--\n"
#define FUZZ_TAR_BUDGET     (16u << 20)

static struct {
    bool ready;
    bool root;     /* tmpfs + chroot */
    char *dir;     /* the base directory's host path */
    int base_fd;   /* holds "root" and "sentinel" */
    int host_root; /* "/" before any chroot */
    int cwd_fd;
    char *snapshot;
} h;

/* Appends a line per entry under dirfd/path (recursively): type, mode,
 * owner, size, mtime, content or link target. */
static void snap_dir(int at, const char *path, char **acc)
{
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        char *n = xasprintf("%s%s: unopenable (%d)\n", *acc, path, errno);
        free(*acc);
        *acc = n;
        return;
    }
    DIR *d = fdopendir(fd);
    if (!d)
        abort();
    /* Sorted names: readdir order is not stable across changes. */
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names = xreallocarray(names, n + 1, sizeof *names);
        names[n++] = xstrdup(de->d_name);
    }
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        char extra[256] = "";
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            snprintf(extra, sizeof extra, "gone");
        } else if (S_ISLNK(st.st_mode)) {
            ssize_t l = readlinkat(dirfd(d), names[i], extra, sizeof extra - 1);
            extra[l > 0 ? l : 0] = '\0';
        } else if (S_ISREG(st.st_mode)) {
            int f = openat(dirfd(d), names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            ssize_t l = f >= 0 ? read(f, extra, sizeof extra - 1) : -1;
            extra[l > 0 ? l : 0] = '\0';
            if (f >= 0)
                close(f);
        }
        char *line;
        if (strcmp(path, ".") == 0 && strcmp(names[i], "root") == 0)
            /* The scratch root's own times and links change with its content. */
            line = xasprintf("%s./root type %o\n", *acc, st.st_mode & S_IFMT);
        else
            line = xasprintf("%s%s/%s %o %u:%u %lld m%lld.%09ld c%lld.%09ld nlink=%lu [%s]\n", *acc,
                             path, names[i], st.st_mode, st.st_uid, st.st_gid,
                             (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                             st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
                             (unsigned long)st.st_nlink, extra);
        free(*acc);
        *acc = line;
        if (S_ISDIR(st.st_mode) && strcmp(path, ".") != 0) {
            _cleanup_free_ char *sub = xasprintf("%s/%s", path, names[i]);
            snap_dir(at, sub, acc);
        }
        free(names[i]);
    }
    free(names);
    closedir(d);
}

/* The sentinel tree and the base directory's own entries (not what is
 * inside the scratch root, which the layer may fill as it likes). */
static char *snapshot(void)
{
    char *acc = xstrdup("");
    snap_dir(h.base_fd, ".", &acc);
    snap_dir(h.base_fd, "sentinel", &acc);
    return acc;
}

static void must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_tar: %s: %s\n", what, strerror(errno));
        abort();
    }
}

static void put(int dirfd, const char *name, const char *text, mode_t mode)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    must(fd >= 0, name);
    must(write(fd, text, strlen(text)) == (ssize_t)strlen(text), name);
    close(fd);
}

/* Removes the base directory when the process ends normally (a crash
 * keeps it for a look). */
static void teardown(void)
{
    struct berr e = BERR_INIT;
    if (h.root)
        umount2(h.dir, MNT_DETACH);
    else
        fs_rm_rf_at(h.base_fd, "root", &e);
    berr_clear(&e);
    if (!h.root) {
        fs_rm_rf_at(h.base_fd, "sentinel", &e);
        berr_clear(&e);
    }
    close(h.base_fd);
    rmdir(h.dir);
    free(h.dir);
    free(h.snapshot);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = xasprintf("%s/berth-fuzz-tar.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    must(mkdtemp(dir) != NULL, dir);
    h.root = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
             mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
             mount("berth-fuzz", dir, "tmpfs", MS_NOSUID, "size=64m,mode=0755") == 0;
    /* Opened in the namespace the process now runs in: leaving the chroot
     * through these must land in it, not in the host's mount tree. */
    h.host_root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    h.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    must(h.host_root >= 0 && h.cwd_fd >= 0, "opening / and .");
    h.base_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    must(h.base_fd >= 0, dir);
    if (!h.root)
        fprintf(stderr, "fuzz_tar: not root: scratch root in %s (no tmpfs, no chroot)\n", dir);
    must(mkdirat(h.base_fd, "root", 0755) == 0, "root");
    must(mkdirat(h.base_fd, "sentinel", 0755) == 0, "sentinel");
    int s = openat(h.base_fd, "sentinel", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    must(s >= 0, "sentinel");
    put(s, "f", "sentinel file\n", 0400);
    put(s, "passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
    must(mkdirat(s, "d", 0700) == 0, "sentinel/d");
    put(s, "d/g", "inner\n", 0600);
    must(symlinkat("f", s, "link") == 0, "sentinel/link");
    close(s);
    h.snapshot = snapshot();
    h.dir = dir;
    h.ready = true;
    atexit(teardown);
}

static void apply(const uint8_t *data, size_t size, int rootfd)
{
    int mfd = memfd_create("layer", MFD_CLOEXEC);
    must(mfd >= 0, "memfd_create");
    must(size == 0 || write(mfd, data, size) == (ssize_t)size, "memfd write");
    must(lseek(mfd, 0, SEEK_SET) == 0, "lseek");
    struct berr e = BERR_INIT;
    struct unpack_stats st = {0};
    layer_apply(mfd, rootfd, FUZZ_TAR_BUDGET, NULL, "fuzz layer", NULL, NULL, &st, &e);
    berr_clear(&e);
    close(mfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!h.ready)
        setup();
    int rootfd = openat(h.base_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    must(rootfd >= 0, "opening the scratch root");
    if (h.root) {
        must(fchdir(h.base_fd) == 0 && chroot(".") == 0, "chroot into the scratch tmpfs");
    }
    const uint8_t *next = memmem(data, size, FUZZ_TAR_NEXT_LAYER, strlen(FUZZ_TAR_NEXT_LAYER));
    if (next) {
        apply(data, (size_t)(next - data), rootfd);
        size_t skip = (size_t)(next - data) + strlen(FUZZ_TAR_NEXT_LAYER);
        apply(data + skip, size - skip, rootfd);
    } else {
        apply(data, size, rootfd);
    }
    if (h.root) {
        /* Back out of the chroot through the fd kept from before it. */
        must(fchdir(h.host_root) == 0 && chroot(".") == 0, "leaving the chroot");
    }
    must(fchdir(h.cwd_fd) == 0, "back to the working directory");
    close(rootfd);
    _cleanup_free_ char *now = snapshot();
    if (strcmp(now, h.snapshot) != 0) {
        fprintf(stderr, "fuzz_tar: the sentinel changed.\nbefore:\n%safter:\n%s", h.snapshot, now);
        abort();
    }
    struct berr e = BERR_INIT;
    must(fs_rm_rf_at(h.base_fd, "root", &e) == 0, "emptying the scratch root");
    must(mkdirat(h.base_fd, "root", 0755) == 0, "root");
    return 0;
}
