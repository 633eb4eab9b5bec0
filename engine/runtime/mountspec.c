/* SPDX-License-Identifier: Apache-2.0 */
/* The parent's checks on a container's mounts before clone: targets made clean
 * and relative, /proc, /sys and the root refused, the allocation-free
 * init_mount array built. Not here: performing the mounts
 * (engine/runtime/init.c), volumes and binds on the host (engine/volume/). */
#include "engine/runtime/mountspec.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

bool mount_target_forbidden(const char *clean)
{
    static const char *const roots[] = {"proc", "sys"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        size_t n = strlen(roots[i]);
        if (strncmp(clean, roots[i], n) == 0 && (clean[n] == '\0' || clean[n] == '/'))
            return true;
    }
    return false;
}

void init_mounts_free(struct init_mounts *m)
{
    free(m->v);
    strv_free(m->strings);
    memset(m, 0, sizeof *m);
}

int init_mounts_prepare(const struct container_spec *spec, struct init_mounts *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (spec->n_mounts == 0)
        return 0;
    out->v = xcalloc(spec->n_mounts, sizeof *out->v);
    out->strings = xcalloc(1, sizeof(char *));
    int r = 0;
    for (size_t i = 0; i < spec->n_mounts; i++) {
        const struct mount_spec *s = &spec->mounts[i];
        struct init_mount *m = &out->v[out->n++];
        char clean[PATH_MAX];
        int c = path_normalize(s->target, PATH_NORM_ABSOLUTE_ONLY | PATH_NORM_STRIP_ROOT, clean,
                               sizeof clean);
        if (c == -EINVAL) {
            r = berr_set(e, -EINVAL, "%s: mount target \"%s\" must be an absolute path", spec->name,
                         s->target ? s->target : "");
            goto fail;
        }
        if (c < 0) {
            r = berr_set(e, c, "%s: mount target \"%s\" is too long", spec->name, s->target);
            goto fail;
        }
        if (!clean[0]) {
            r = berr_set(e, -EINVAL,
                         "%s: mount target \"%s\": nothing can be mounted on the "
                         "container's root",
                         spec->name, s->target);
            goto fail;
        }
        if (mount_target_forbidden(clean)) {
            r = berr_set(e, -EPERM,
                         "%s: mount target \"%s\" is not allowed: nothing can be mounted on or "
                         "under /proc or /sys",
                         spec->name, s->target);
            goto fail;
        }
        char *target = xstrdup(clean);
        strv_push(&out->strings, target);
        m->target = target;
        char *what = xasprintf("mounting /%s", clean);
        strv_push(&out->strings, what);
        m->what = what;
        m->read_only = s->read_only;
        if (s->kind == MOUNT_KIND_BIND) {
            if (!s->source || s->source[0] != '/') {
                r = berr_set(e, -EINVAL, "%s: mount /%s: the bind source \"%s\" must be absolute",
                             spec->name, clean, s->source ? s->source : "");
                goto fail;
            }
            struct stat st;
            if (stat(s->source, &st) < 0) {
                if (errno == ENOENT)
                    r = berr_set(e, -ENOENT, "%s: mount /%s: bind source path does not exist: %s",
                                 spec->name, clean, s->source);
                else
                    r = berr_errno(e, errno, "%s: mount /%s: bind source %s", spec->name, clean,
                                   s->source);
                goto fail;
            }
            m->source = s->source;
            m->target_is_file = !S_ISDIR(st.st_mode);
        } else {
            if (s->tmpfs_size < 0) {
                r = berr_set(e, -EINVAL, "%s: mount /%s: negative tmpfs size", spec->name, clean);
                goto fail;
            }
            if (s->tmpfs_size > 0)
                snprintf(m->tmpfs_size, sizeof m->tmpfs_size, "%lld", (long long)s->tmpfs_size);
            snprintf(m->tmpfs_mode, sizeof m->tmpfs_mode, "%o",
                     (unsigned)(s->tmpfs_mode ? s->tmpfs_mode & 07777 : 01777));
        }
    }
    return 0;
fail:
    init_mounts_free(out);
    return r;
}
