/* SPDX-License-Identifier: Apache-2.0 */
/* The service's configs, secrets, volumes_from and annotations as the
 * container's plan carries them: each config or secret with its source (a
 * host file, or the content itself), target, owner and mode; volumes_from
 * with service:X made X's first container. Not here: making the files and
 * mounts at start (engine/supervise/ctr_files.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/image/digest.h"
#include "engine/plan/plan.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

static const struct file_def *find_def(const struct project *p, const struct svc_file_ref *r)
{
    const struct file_def *v = r->secret ? p->secrets : p->configs;
    size_t n = r->secret ? p->n_secrets : p->n_configs;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, r->source) == 0)
            return &v[i];
    return NULL;
}

static bool under(const char *clean, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(clean, dir, n) == 0 && (clean[n] == '\0' || clean[n] == '/');
}

static bool forbidden_target(const char *clean)
{
    return strcmp(clean, "/") == 0 || under(clean, "/proc") || under(clean, "/sys");
}

static int plan_file(const struct project *p, const struct service *s, const struct svc_file_ref *r,
                     struct ctr_plan *out, struct berr *e)
{
    const char *kind = r->secret ? "secret" : "config";
    const char *file = r->pos.file ? r->pos.file : "?";
    const struct file_def *d = find_def(p, r);
    if (!d)
        return berr_set(e, -EINVAL,
                        "%s:%d:%d: service \"%s\" refers to undefined %s \"%s\" (declare it under "
                        "the top-level %ss: key)",
                        file, r->pos.line, r->pos.col, s->name, kind, r->source, kind);
    if (d->external)
        return berr_set(e, -ENOTSUP,
                        "%s:%d:%d: service \"%s\": %s \"%s\" is external, and berth has no swarm "
                        "to hold it",
                        file, r->pos.line, r->pos.col, s->name, kind, r->source);
    if (!d->file && !d->content) {
        if (d->environment)
            return berr_set(e, -EINVAL,
                            "%s:%d:%d: service \"%s\": %s \"%s\": environment variable \"%s\" is "
                            "not set",
                            file, r->pos.line, r->pos.col, s->name, kind, r->source,
                            d->environment);
        return berr_set(e, -EINVAL,
                        "%s:%d:%d: service \"%s\": %s \"%s\" has no file, environment or content",
                        file, r->pos.line, r->pos.col, s->name, kind, r->source);
    }
    char *target = path_normalize_dup(r->target);
    if (forbidden_target(target)) {
        int rr = berr_set(e, -EPERM,
                          "%s:%d:%d: service \"%s\": %s target \"%s\" is not allowed: nothing can "
                          "be mounted on / or on or under /proc or /sys",
                          file, r->pos.line, r->pos.col, s->name, kind, r->target);
        free(target);
        return rr;
    }
    struct plan_file *f = &out->files[out->n_files++];
    f->name = xstrdup(r->source);
    f->secret = r->secret;
    f->target = target;
    f->source = d->file ? xstrdup(d->file) : NULL;
    f->content = d->file ? NULL : xstrdup(d->content);
    f->uid = r->uid;
    f->gid = r->gid;
    f->mode = r->mode;
    return 0;
}

int plan_files(const struct project *p, const struct service *s, struct ctr_plan *out,
               struct berr *e)
{
    if (s->n_files > 0)
        out->files = xcalloc(s->n_files, sizeof *out->files);
    for (size_t i = 0; i < s->n_files; i++) {
        int r = plan_file(p, s, &s->files[i], out, e);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; s->volumes_from && s->volumes_from[i]; i++) {
        /* "service:NAME[:MODE]" or "container:NAME[:MODE]"
         * (compose/model_files.c) */
        const char *v = s->volumes_from[i];
        bool svc = strncmp(v, "service:", 8) == 0;
        const char *name = strchr(v, ':') + 1, *mode = strchr(name, ':');
        char *n = mode ? xstrndup(name, (size_t)(mode - name)) : xstrdup(name);
        const struct service *t = svc ? project_service(p, n) : NULL;
        char *ctr = !svc                ? xstrdup(n)
                    : !t                ? NULL
                    : t->container_name ? xstrdup(t->container_name)
                                        : xasprintf("%s-%s-1", p->name, n);
        if (!ctr) {
            int r = berr_set(e, -EINVAL, "service \"%s\": volumes_from: undefined service \"%s\"",
                             s->name, n);
            free(n);
            return r;
        }
        strv_push(&out->volumes_from, xasprintf("%s%s", ctr, mode ? mode : ""));
        free(ctr);
        free(n);
    }
    out->annotations = strv_dup(s->annotations);
    return 0;
}

void plan_files_canonical(json_t *j)
{
    json_t *a = json_object_get(j, "files"), *it;
    size_t i;
    json_array_foreach(a, i, it)
    {
        const char *c = json_string_value(json_object_get(it, "content"));
        if (!c)
            continue;
        char d[DIGEST_STR_SIZE];
        sha256_digest(c, strlen(c), d);
        json_object_set_new(it, "content", json_string(d));
    }
}
