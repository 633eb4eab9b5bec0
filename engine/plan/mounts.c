/* SPDX-License-Identifier: Apache-2.0 */
/* The service's mounts as the container's plan carries them.
 * Volume names, anonymous volumes, binds and tmpfs are decided here; refused
 * targets are reported by service. Not here: creating volumes or checking host
 * paths (engine/volume/mounts.c), the mounts in the container
 * (engine/runtime/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/digest.h"
#include "engine/plan/plan.h"
#include "engine/volume/volume.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool under(const char *clean, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(clean, dir, n) == 0 && (clean[n] == '\0' || clean[n] == '/');
}

/* Docker names anonymous volumes with 64 hex digits; this one is derived
 * from the container and the target, so the same container (and any
 * recreation of it) finds its volume again. */
static char *anonymous_name(const char *container, const char *target)
{
    size_t a = strlen(container), b = strlen(target);
    char *buf = xmalloc(a + b + 2);
    memcpy(buf, container, a);
    buf[a] = '\n';
    memcpy(buf + a + 1, target, b + 1);
    char d[DIGEST_STR_SIZE];
    sha256_digest(buf, a + b + 1, d);
    free(buf);
    return xstrdup(digest_hex(d));
}

static const struct volume_def *find_volume(const struct project *p, const char *key)
{
    for (size_t i = 0; i < p->n_volumes; i++)
        if (strcmp(p->volumes[i].key, key) == 0)
            return &p->volumes[i];
    return NULL;
}

static bool is_forbidden_target(const char *clean)
{
    return strcmp(clean, "/") == 0 || under(clean, "/proc") || under(clean, "/sys");
}

static bool has_target(const struct ctr_plan *out, const char *clean)
{
    for (size_t k = 0; k < out->n_mounts; k++)
        if (strcmp(out->mounts[k].target, clean) == 0)
            return true;
    return false;
}

/* The image's VOLUMEs that no mount of the service covers become
 * anonymous volumes, as Docker makes them (seeded from the image). A path
 * is taken inside the root ("/../../etc" is /etc, "data" is /data); one on
 * /, /proc or /sys is refused. */
static int image_volumes(const struct service *s, const struct image *img, struct ctr_plan *out,
                         struct berr *e)
{
    for (size_t i = 0; img && img->volumes && img->volumes[i]; i++) {
        char *target = path_normalize_dup(img->volumes[i]);
        if (is_forbidden_target(target)) {
            int r = berr_set(e, -EPERM,
                             "service \"%s\": the image %s declares VOLUME \"%s\", which is not "
                             "allowed: nothing can be mounted on / or on or under /proc or /sys",
                             s->name, img->familiar ? img->familiar : img->id, img->volumes[i]);
            free(target);
            return r;
        }
        if (has_target(out, target)) {
            free(target); /* the service's own mount wins */
            continue;
        }
        struct plan_mount *m = &out->mounts[out->n_mounts++];
        m->type = PLAN_MOUNT_VOLUME;
        m->target = target;
        m->source = anonymous_name(out->name, target);
        m->create_host_path = true;
    }
    return 0;
}

int plan_mounts(const struct project *p, const struct service *s, const struct image *img,
                struct ctr_plan *out, struct berr *e)
{
    size_t n_img = img ? strv_len(img->volumes) : 0;
    if (s->n_mounts + n_img == 0)
        return 0;
    out->mounts = xcalloc(s->n_mounts + n_img, sizeof *out->mounts);
    for (size_t i = 0; i < s->n_mounts; i++) {
        const struct svc_mount *sm = &s->mounts[i];
        if (!sm->target || sm->target[0] != '/')
            return berr_set(e, -EINVAL,
                            "service \"%s\": mount target \"%s\" must be an absolute path", s->name,
                            sm->target ? sm->target : "");
        char *target = path_normalize_dup(sm->target);
        if (is_forbidden_target(target)) {
            int r = berr_set(e, -EPERM,
                             "service \"%s\": mount target \"%s\" is not allowed: nothing can "
                             "be mounted on / or on or under /proc or /sys",
                             s->name, sm->target);
            free(target);
            return r;
        }
        if (has_target(out, target)) {
            int r = berr_set(e, -EINVAL, "service \"%s\": duplicate mount target \"%s\"", s->name,
                             target);
            free(target);
            return r;
        }
        struct plan_mount *m = &out->mounts[out->n_mounts++];
        m->target = target;
        m->read_only = sm->read_only;
        switch (sm->type) {
        case MOUNT_BIND:
            m->type = PLAN_MOUNT_BIND;
            if (!sm->source || !*sm->source)
                return berr_set(e, -EINVAL, "service \"%s\": mount %s: a bind needs a source",
                                s->name, target);
            /* compose resolves relative sources against the project
             * directory already; make sure, for models built otherwise */
            m->source = sm->source[0] == '/'
                            ? xstrdup(sm->source)
                            : xasprintf("%s/%s", p->working_dir ? p->working_dir : "", sm->source);
            m->create_host_path = sm->create_host_path;
            break;
        case MOUNT_VOLUME: {
            m->type = PLAN_MOUNT_VOLUME;
            m->nocopy = sm->nocopy;
            m->create_host_path = true;
            if (!sm->source || !*sm->source) {
                m->source = anonymous_name(out->name, target);
                break;
            }
            const struct volume_def *v = find_volume(p, sm->source);
            if (!v)
                return berr_set(e, -EINVAL,
                                "service \"%s\" refers to undefined volume \"%s\" (declare it "
                                "under the top-level volumes: key)",
                                s->name, sm->source);
            m->source = xstrdup(v->name ? v->name : v->key);
            m->create_host_path = !v->external;
            if (!volume_name_valid(m->source))
                return berr_set(e, -EINVAL,
                                "service \"%s\": invalid volume name \"%s\" (only "
                                "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters)",
                                s->name, m->source);
            break;
        }
        case MOUNT_TMPFS:
            m->type = PLAN_MOUNT_TMPFS;
            m->tmpfs_size = sm->tmpfs_size;
            m->tmpfs_mode = sm->tmpfs_mode;
            break;
        }
    }
    return image_volumes(s, img, out, e);
}
