/* SPDX-License-Identifier: Apache-2.0 */
/* The bridge between a container's planned mounts, the volume store and the
 * runtime's mount specs (see mounts.h for who calls what, and when).
 * Not here: the volume store itself (engine/volume/volume.c), performing the
 * mounts inside the container (engine/runtime/init.c). */
#include "engine/volume/mounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/volume/volume.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool has_label(char *const *labels, const char *key, const char *value)
{
    size_t kl = strlen(key);
    for (size_t i = 0; labels && labels[i]; i++)
        if (strncmp(labels[i], key, kl) == 0 && labels[i][kl] == '=' &&
            (!value || strcmp(labels[i] + kl + 1, value) == 0))
            return true;
    return false;
}

int volumes_create(const char *root, const char *project, const struct volume_decl *decls, size_t n,
                   char ***created, struct berr *e)
{
    if (created)
        *created = xcalloc(1, sizeof(char *));
    /* Check every name and every external volume first: a missing one
     * leaves nothing half-made. */
    for (size_t i = 0; i < n; i++) {
        const struct volume_decl *v = &decls[i];
        const char *name = v->name;
        if (!volume_name_valid(name))
            return berr_set(e, -EINVAL,
                            "volume \"%s\": invalid name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                            "are allowed (at least 2 characters)",
                            v->key, name);
        if (!v->external)
            continue;
        int r = volume_exists(root, name, e);
        if (r == -ENOENT)
            return berr_set(e, -ENOENT, "external volume \"%s\" not found", name);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < n; i++) {
        const struct volume_decl *v = &decls[i];
        const char *name = v->name;
        if (v->external)
            continue;
        _cleanup_strv_ char **labels = NULL;
        strv_push(&labels, xasprintf("%s=%s", VOLUME_LABEL_PROJECT, project));
        strv_push(&labels, xasprintf("%s=%s", VOLUME_LABEL_VOLUME, v->key));
        for (size_t k = 0; v->labels && v->labels[k]; k++)
            strv_push(&labels, xstrdup(v->labels[k]));
        bool made = false;
        int r = volume_ensure(root, name, labels, &made, e);
        if (r < 0)
            return r;
        if (made && created)
            strv_push(created, xstrdup(name));
    }
    return 0;
}

/* Anonymous volumes are named by the plan with 64 hex digits. */
static bool looks_anonymous(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (!((name[n] >= '0' && name[n] <= '9') || (name[n] >= 'a' && name[n] <= 'f')))
            return false;
    return n == 64;
}

int mounts_prepare(const char *root, const char *project, const struct ctr_plan *plan,
                   struct berr *e)
{
    for (size_t i = 0; i < plan->n_mounts; i++) {
        const struct plan_mount *m = &plan->mounts[i];
        int r = 0;
        switch (m->type) {
        case PLAN_MOUNT_BIND: {
            struct stat st;
            if (!m->source || m->source[0] != '/')
                return berr_set(e, -EINVAL, "%s: mount %s: the bind source must be absolute",
                                plan->name, m->target);
            if (stat(m->source, &st) == 0)
                break;
            if (errno == ENOENT && !m->create_host_path)
                return berr_set(e, -ENOENT, "%s: mount %s: bind source path does not exist: %s",
                                plan->name, m->target, m->source);
            if (errno != ENOENT)
                return berr_errno(e, errno, "%s: mount %s: bind source path %s", plan->name,
                                  m->target, m->source);
            r = fs_mkdir_p(m->source, 0755, e);
            if (r < 0)
                return berr_wrap(e, "%s: mount %s: creating the bind source", plan->name,
                                 m->target);
            break;
        }
        case PLAN_MOUNT_VOLUME: {
            const char *name = m->source;
            if (!volume_name_valid(name))
                return berr_set(e, -EINVAL, "%s: mount %s: invalid volume name \"%s\"", plan->name,
                                m->target, name ? name : "");
            r = volume_exists(root, name, e);
            if (r == -ENOENT) {
                berr_clear(e);
                if (!m->create_host_path)
                    return berr_set(e, -ENOENT, "%s: mount %s: external volume \"%s\" not found",
                                    plan->name, m->target, name);
                _cleanup_strv_ char **labels = NULL;
                strv_push(&labels, xasprintf("%s=%s", VOLUME_LABEL_PROJECT, project));
                if (looks_anonymous(name))
                    strv_push(&labels, xasprintf("%s=", VOLUME_LABEL_ANONYMOUS));
                bool made;
                r = volume_ensure(root, name, labels, &made, e);
            }
            if (r < 0)
                return berr_wrap(e, "%s: mount %s", plan->name, m->target);
            if (m->nocopy)
                r = volume_mark_used(root, name, e);
            else
                r = volume_seed(root, name, plan->layer_dirs, m->target, e);
            if (r < 0)
                return berr_wrap(e, "%s: mount %s", plan->name, m->target);
            break;
        }
        case PLAN_MOUNT_TMPFS:
            break;
        }
    }
    return 0;
}

int mounts_build(const char *root, const struct ctr_plan *plan, struct mount_set *out,
                 struct berr *e)
{
    memset(out, 0, sizeof *out);
    out->strings = xcalloc(1, sizeof(char *));
    out->specs = xcalloc(plan->n_mounts + 1, sizeof *out->specs);
    for (size_t i = 0; i < plan->n_mounts; i++) {
        const struct plan_mount *m = &plan->mounts[i];
        struct mount_spec *s = &out->specs[out->n++];
        s->target = m->target;
        s->read_only = m->read_only;
        switch (m->type) {
        case PLAN_MOUNT_BIND:
            s->kind = MOUNT_KIND_BIND;
            s->source = m->source;
            break;
        case PLAN_MOUNT_VOLUME: {
            if (!volume_name_valid(m->source)) {
                int r = berr_set(e, -EINVAL, "%s: mount %s: invalid volume name \"%s\"", plan->name,
                                 m->target, m->source ? m->source : "");
                mount_set_free(out);
                return r;
            }
            char *path = volume_data_path(root, m->source);
            strv_push(&out->strings, path);
            s->kind = MOUNT_KIND_BIND;
            s->source = path;
            break;
        }
        case PLAN_MOUNT_TMPFS:
            s->kind = MOUNT_KIND_TMPFS;
            s->tmpfs_size = m->tmpfs_size;
            s->tmpfs_mode = m->tmpfs_mode;
            break;
        }
    }
    return 0;
}

void mount_set_free(struct mount_set *m)
{
    free(m->specs);
    strv_free(m->strings);
    memset(m, 0, sizeof *m);
}

/* True when the volume carries the project's label (and, with anonymous,
 * the anonymous one). A volume without readable labels is never ours. */
static bool volume_of(const char *root, const char *name, const char *project, bool anonymous)
{
    struct volume_info vi;
    struct berr ign = BERR_INIT;
    if (volume_inspect(root, name, &vi, &ign) < 0) {
        berr_clear(&ign);
        return false;
    }
    bool ok = has_label(vi.labels, VOLUME_LABEL_PROJECT, project) &&
              (!anonymous || has_label(vi.labels, VOLUME_LABEL_ANONYMOUS, NULL));
    volume_info_free(&vi);
    return ok;
}

int mounts_remove_anonymous(const char *root, const char *project, const struct ctr_plan *plan,
                            struct berr *e)
{
    int ret = 0;
    for (size_t i = 0; i < plan->n_mounts; i++) {
        const struct plan_mount *m = &plan->mounts[i];
        if (m->type != PLAN_MOUNT_VOLUME || !m->source || !looks_anonymous(m->source))
            continue;
        if (!volume_of(root, m->source, project, true))
            continue;
        struct berr err = BERR_INIT;
        int r = volume_remove(root, m->source, &err);
        if (r < 0 && r != -ENOENT && ret == 0) {
            berr_move(e, &err);
            ret = r;
        }
        berr_clear(&err);
    }
    return ret;
}

int volumes_remove_labelled(const char *root, const char *project, const struct volume_user *users,
                            size_t n_users, char ***removed, struct berr *e)
{
    if (removed)
        *removed = xcalloc(1, sizeof(char *));
    _cleanup_strv_ char **names = NULL;
    int r = volume_list(root, &names, e);
    if (r < 0)
        return r;
    int ret = 0;
    for (size_t i = 0; names[i]; i++) {
        if (!volume_of(root, names[i], project, false))
            continue;
        const char *user = NULL;
        for (size_t k = 0; k < n_users && !user; k++)
            if (strcmp(users[k].volume, names[i]) == 0)
                user = users[k].container;
        if (user) {
            if (ret == 0)
                ret = berr_set(e, -EBUSY, "volume %s is in use by container %s: kept", names[i],
                               user);
            continue;
        }
        struct berr err = BERR_INIT;
        int rr = volume_remove(root, names[i], &err);
        if (rr < 0 && rr != -ENOENT) {
            if (ret == 0) {
                berr_move(e, &err);
                ret = rr;
            }
        } else if (rr == 0 && removed) {
            strv_push(removed, xstrdup(names[i]));
        }
        berr_clear(&err);
    }
    return ret;
}
