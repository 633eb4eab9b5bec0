/* SPDX-License-Identifier: Apache-2.0 */
/* The files a service gets and its metadata keys, in the typed model:
 * top-level configs and secrets (file, environment, content; external
 * ones refused: berth has no swarm), the service's configs: and secrets:
 * (targets and modes as docker compose defaults them), volumes_from,
 * annotations, label_file, runtime and use_api_socket. Not here: making
 * the files and mounts (engine/plan/files.c, engine/supervise/ctr_files.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compose/dotenv.h"
#include "compose/model_files.h"
#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* The name berth's own runtime answers to (runtime: in a service). */
#define BUILTIN_RUNTIME "berth"

/* --- Top-level configs and secrets --------------------------------------- */

static void build_file_defs(struct model *m, const struct ynode *map, bool secret,
                            struct file_def **out, size_t *n_out)
{
    const char *kind = secret ? "secret" : "config";
    if (map->kind != YNODE_MAP) {
        top_error(m, map, "%ss: expected a mapping of %s names, got %s", kind, kind,
                  ynode_describe(map));
        return;
    }
    *out = xcalloc(map->n_pairs + 1, sizeof **out);
    for (size_t i = 0; i < map->n_pairs; i++) {
        const struct ynode *k = map->pairs[i].key, *v = map->pairs[i].value;
        if (k->len >= 2 && memcmp(k->str, "x-", 2) == 0)
            continue;
        struct file_def *f = &(*out)[(*n_out)++];
        f->key = xstrdup(k->str);
        f->pos = pos_of(m, k);
        if (v->kind != YNODE_MAP)
            continue; /* {} or null: docker compose says nothing until it is used */
        const struct ynode *ext = ymap_get(v, "external"), *file = ymap_get(v, "file"),
                           *env = ymap_get(v, "environment"), *content = ymap_get(v, "content");
        bool b = false;
        if (ext && ext->kind == YNODE_SCALAR && yscalar_bool(ext, &b) == 0 && b) {
            f->external = true; /* an error where a service uses it (plan_files) */
            continue;
        }
        const char *s;
        if (file && (s = top_string(m, "file", file)))
            f->file = xstrdup(s);
        if (env && (s = top_string(m, "environment", env))) {
            f->environment = xstrdup(s);
            const char *val = envtab_get(m->env, s, strlen(s));
            f->content = val ? xstrdup(val) : NULL;
        }
        if (content && (s = top_string(m, "content", content)))
            f->content = xstrdup(s);
        if (!!f->file + !!f->environment + !!content > 1)
            top_error(m, k, "%s %s: file, environment and content are mutually exclusive", kind,
                      QN(k));
    }
}

void build_file_object_defs(struct model *m, const struct ynode *root)
{
    const struct ynode *c = ymap_get(root, "configs"), *s = ymap_get(root, "secrets");
    if (c && !ynode_is_null(c))
        build_file_defs(m, c, false, &m->p->configs, &m->p->n_configs);
    if (s && !ynode_is_null(s))
        build_file_defs(m, s, true, &m->p->secrets, &m->p->n_secrets);
}

static void file_defs_free(struct file_def *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].file);
        free(v[i].environment);
        free(v[i].content);
    }
    free(v);
}

void file_object_defs_clear(struct project *p)
{
    file_defs_free(p->configs, p->n_configs);
    file_defs_free(p->secrets, p->n_secrets);
    p->configs = p->secrets = NULL;
    p->n_configs = p->n_secrets = 0;
}

/* --- A service's configs: and secrets: ------------------------------------ */

static int want_id(struct model *m, struct service *s, const char *key, const struct ynode *v,
                   uint32_t *out)
{
    int64_t n;
    if (want_int(m, s, key, v, 0, &n) < 0)
        return -EINVAL;
    if (n > 0xfffffffe) {
        svc_error(m, s, v, key, "%s is not a valid ID", QN(v));
        return -EINVAL;
    }
    *out = (uint32_t)n;
    return 0;
}

/* The mode, printed by canon.c as Go's FileMode ("0440"): octal. */
static int want_mode(struct model *m, struct service *s, const char *key, const struct ynode *v,
                     uint32_t *out)
{
    char *end;
    unsigned long n = v->kind == YNODE_SCALAR ? strtoul(v->str, &end, 8) : 0;
    if (v->kind != YNODE_SCALAR || !v->len || *end || n > 07777) {
        svc_error(m, s, v, key, "invalid mode %s (use an octal mode such as 0440)",
                  ynode_describe(v));
        return -EINVAL;
    }
    *out = (uint32_t)n;
    return 0;
}

static void file_refs(struct model *m, struct service *s, const struct ynode *v, bool secret)
{
    const char *key = secret ? "secrets" : "configs";
    if (v->kind != YNODE_SEQ)
        return; /* canon.c said why */
    for (size_t i = 0; i < v->n_items; i++) {
        const struct ynode *it = v->items[i];
        if (it->kind != YNODE_MAP)
            continue;
        const struct ynode *src = ymap_get(it, "source"), *tgt = ymap_get(it, "target"),
                           *uid = ymap_get(it, "uid"), *gid = ymap_get(it, "gid"),
                           *mode = ymap_get(it, "mode");
        const char *source = src ? want_string(m, s, key, src) : NULL;
        if (!source)
            continue;
        struct svc_file_ref r = {.secret = secret, .mode = 0444, .pos = pos_of(m, it)};
        /* The file as messages name it ("compose.yaml"), as refusals do. */
        if (m->p->file_names && m->p->file_names[it->src->index])
            r.pos.file = m->p->file_names[it->src->index];
        if ((uid && !ynode_is_null(uid) && want_id(m, s, key, uid, &r.uid) < 0) ||
            (gid && !ynode_is_null(gid) && want_id(m, s, key, gid, &r.gid) < 0) ||
            (mode && !ynode_is_null(mode) && want_mode(m, s, key, mode, &r.mode) < 0))
            continue;
        const char *t = tgt ? want_string(m, s, key, tgt) : NULL;
        if (tgt && !t)
            continue;
        /* Docker compose's rules: a config goes to /<name> unless told
         * otherwise; a secret to /run/secrets/<name>, and a relative
         * secret target lies under /run/secrets. */
        if (!t || !*t)
            r.target = secret ? xasprintf("/run/secrets/%s", source) : xasprintf("/%s", source);
        else if (t[0] == '/')
            r.target = xstrdup(t);
        else
            r.target = secret ? xasprintf("/run/secrets/%s", t) : xasprintf("/%s", t);
        r.source = xstrdup(source);
        s->files = xreallocarray(s->files, s->n_files + 1, sizeof *s->files);
        s->files[s->n_files++] = r;
    }
}

void key_configs(struct model *m, struct service *s, const struct ypair *kv)
{
    file_refs(m, s, kv->value, false);
}

void key_secrets(struct model *m, struct service *s, const struct ypair *kv)
{
    file_refs(m, s, kv->value, true);
}

/* --- volumes_from ---------------------------------------------------------- */

/* "NAME", "NAME:ro", "container:NAME[:rw]", as compose-go reads them (a
 * "service:" prefix is not one: it names a service "service"): the
 * service must exist (a container is looked for when the service starts).
 * Kept as "service:NAME[:MODE]" or "container:NAME[:MODE]". */
void key_volumes_from(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (want_str_list(m, s, "volumes_from", kv->value, false, &v) < 0)
        return;
    struct strvec out = {0};
    const struct ynode *svcs = m->root ? ymap_get(m->root, "services") : NULL;
    for (size_t i = 0; v[i]; i++) {
        const struct ynode *at = kv->value->kind == YNODE_SEQ ? kv->value->items[i] : kv->value;
        const char *ref = v[i];
        bool container = strncmp(ref, "container:", 10) == 0;
        if (container)
            ref += 10;
        _cleanup_free_ char *name = xstrdup(ref);
        char *colon = strchr(name, ':');
        const char *mode = NULL; /* the other's own read-only flags */
        if (colon) {
            *colon = '\0';
            mode = colon + 1;
        }
        if (!*name || (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)) {
            svc_error(m, s, at, "volumes_from",
                      "invalid entry %s (use SERVICE[:ro|:rw] or container:NAME[:ro|:rw])",
                      QS(v[i]));
            strvec_clear(&out);
            return;
        }
        if (!container && (!svcs || svcs->kind != YNODE_MAP || !ymap_get(svcs, name))) {
            svc_error(m, s, at, "volumes_from", "refers to undefined service %s", QS(name));
            strvec_clear(&out);
            return;
        }
        if (!container && strcmp(name, s->name) == 0) {
            svc_error(m, s, at, "volumes_from", "a service cannot take volumes from itself");
            strvec_clear(&out);
            return;
        }
        strvec_push(&out, xasprintf("%s:%s%s%s", container ? "container" : "service", name,
                                    mode ? ":" : "", mode ? mode : ""));
    }
    strv_free(s->volumes_from);
    s->volumes_from = strvec_take(&out);
}

/* --- Metadata keys --------------------------------------------------------- */

void key_annotations(struct model *m, struct service *s, const struct ypair *kv)
{
    want_kv_list(m, s, "annotations", kv->value, &s->annotations);
}

/* label_file: "KEY=VALUE" lines (compose-go reads them as .env files); the
 * labels: key wins over them (finish_files). */
void key_label_file(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **paths = NULL;
    if (want_str_list(m, s, "label_file", kv->value, true, &paths) < 0)
        return;
    for (size_t i = 0; paths[i]; i++) {
        const struct ynode *at = kv->value->kind == YNODE_SEQ ? kv->value->items[i] : kv->value;
        _cleanup_strv_ char **kvs = NULL;
        int r = dotenv_read(paths[i], paths[i], m->env, false, m->d, &kvs);
        if (r == -ENOENT) {
            svc_error(m, s, at, "label_file", "%s: no such file", paths[i]);
            return;
        }
        if (r < 0)
            return; /* reported with its file:line */
        for (size_t j = 0; kvs && kvs[j]; j++)
            strv_env_put(&s->label_file_labels, kvs[j]);
    }
}

void key_runtime(struct model *m, struct service *s, const struct ypair *kv)
{
    const char *v = want_string(m, s, "runtime", kv->value);
    if (v && strcmp(v, BUILTIN_RUNTIME) != 0)
        refuse_own(m, s, kv->value,
                   "runtime %s is not available: berth runs containers with its own built-in "
                   "runtime only, %s",
                   QS(v), QS(BUILTIN_RUNTIME));
}

void key_use_api_socket(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (want_bool(m, s, "use_api_socket", kv->value, &b) == 0 && b)
        refuse_own(m, s, kv->value,
                   "use_api_socket: berth has no daemon, so there is no API socket to give the "
                   "container");
}

/* After every key: labels from label_file under those of labels:. */
void finish_files(struct model *m, struct service *s)
{
    (void)m;
    if (!s->label_file_labels)
        return;
    _cleanup_strv_ char **own = s->labels;
    s->labels = strv_dup(s->label_file_labels);
    for (size_t i = 0; own && own[i]; i++)
        strv_env_put(&s->labels, own[i]);
}

void service_files_clear(struct service *s)
{
    for (size_t i = 0; i < s->n_files; i++) {
        free(s->files[i].source);
        free(s->files[i].target);
    }
    free(s->files);
    strv_free(s->volumes_from);
    strv_free(s->annotations);
    strv_free(s->label_file_labels);
}
