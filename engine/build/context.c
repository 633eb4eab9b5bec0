/* SPDX-License-Identifier: Apache-2.0 */
/* The build context: its directory, held open, and its ignore file, read
 * as BuildKit picks it (DOCKERFILE.dockerignore beside the Dockerfile
 * first, else the context's .dockerignore). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/build/copy_int.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct build_context {
    int fd;
    struct dockerignore *ignore;
};

/* Reads and parses an ignore file; 1 when it is absent, 0 when read. */
static int load_ignore(int dirfd, const char *path, uint64_t resolve, const char *name,
                       struct dockerignore **out, struct berr *e)
{
    _cleanup_close_ int fd =
        fs_openat2(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, resolve);
    if (fd == -ENOENT)
        return 1;
    if (fd == -EXDEV || fd == -ELOOP)
        return berr_set(e, -EXDEV, "%s: a symlink leading outside the build context", name);
    if (fd < 0)
        return berr_errno(e, -fd, "opening %s", name);
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = fs_read_fd(fd, name, DI_MAX_BYTES, &text, &len, e);
    if (r < 0)
        return r;
    return dockerignore_parse(name, text, len, out, e);
}

int build_context_open(const char *dir, const char *dockerfile, struct build_context **out,
                       struct berr *e)
{
    *out = NULL;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return berr_set(e, -ENOENT, "build context \"%s\": no such directory", dir);
        return berr_errno(e, errno, "build context \"%s\"", dir);
    }
    _cleanup_free_ struct build_context *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    int r = 1;
    if (dockerfile) {
        /* The Dockerfile's own ignore file is the user's choice of path. */
        _cleanup_free_ char *path = xasprintf("%s.dockerignore", dockerfile);
        r = load_ignore(AT_FDCWD, path, 0, path, &c->ignore, e);
    }
    if (r == 1)
        r = load_ignore(fd, ".dockerignore", RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
                        ".dockerignore", &c->ignore, e);
    if (r < 0) {
        close(fd);
        return r;
    }
    *out = TAKE_PTR(c);
    return 0;
}

void build_context_free(struct build_context *c)
{
    if (!c)
        return;
    close(c->fd);
    dockerignore_free(c->ignore);
    free(c);
}

int build_context_fd(const struct build_context *c)
{
    return c->fd;
}

const struct dockerignore *build_context_ignore(const struct build_context *c)
{
    return c->ignore;
}
