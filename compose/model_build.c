/* SPDX-License-Identifier: Apache-2.0 */
/* A service's build: section in the typed model (struct svc_build): the
 * canonical tree's long form (compose/canon.c made the context absolute,
 * compose/normalize.c added the default Dockerfile and resolved bare
 * args) read into what the builder is handed, with compose-go's checks.
 * What berth cannot honour is decided per key here: ignored with a
 * warning where ignoring gives the build no more than the file asks for,
 * else recorded as a refusal that fails the build (never the load: config
 * still prints the file). The default image name is set in model.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model_internal.h"
#include "compose/path.h"
#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* How berth treats a build key: read into struct svc_build, ignored with
 * a warning (why), or refused when building (why). */
enum bkey_support { BK_READ, BK_IGNORED, BK_REFUSED };

static const struct build_key {
    const char *key;
    enum bkey_support support;
    const char *why;
} build_keys[] = {
    /* clang-format off */
    {"additional_contexts", BK_REFUSED, "the builder reads one context; a stage named after one would be pulled instead"},
    {"args",                BK_READ,    NULL},
    {"cache_from",          BK_IGNORED, "berth's build cache is local to its store"},
    {"cache_to",            BK_IGNORED, "berth's build cache is local to its store"},
    {"context",             BK_READ,    NULL},
    {"dockerfile",          BK_READ,    NULL},
    {"dockerfile_inline",   BK_READ,    NULL},
    {"entitlements",        BK_REFUSED, "entitlements grant RUN steps more privilege"},
    {"extra_hosts",         BK_READ,    NULL},
    {"isolation",           BK_IGNORED, "an isolation technology of Windows"},
    {"labels",              BK_READ,    NULL},
    {"network",             BK_READ,    NULL},
    {"no_cache",            BK_READ,    NULL},
    {"no_cache_filter",     BK_IGNORED, "the named stages use the cache"},
    {"platforms",           BK_READ,    NULL},
    {"privileged",          BK_REFUSED, "RUN steps with every privilege"},
    {"provenance",          BK_IGNORED, "berth makes no attestations"},
    {"pull",                BK_READ,    NULL},
    {"sbom",                BK_IGNORED, "berth makes no attestations"},
    {"secrets",             BK_READ,    NULL},
    {"shm_size",            BK_READ,    NULL},
    {"ssh",                 BK_IGNORED, "no SSH agent is forwarded to RUN steps"},
    {"tags",                BK_READ,    NULL},
    {"target",              BK_READ,    NULL},
    {"ulimits",             BK_REFUSED, "RUN steps would run without those limits"},
    /* clang-format on */
};

static const struct build_key *find_build_key(const struct ynode *k)
{
    for (size_t i = 0; i < ARRAY_SIZE(build_keys); i++)
        if (strlen(build_keys[i].key) == k->len && memcmp(build_keys[i].key, k->str, k->len) == 0)
            return &build_keys[i];
    return NULL;
}

/* A context that is no local directory: an URL, a git reference. */
static bool remote_context(const char *s)
{
    return strstr(s, "://") || strncmp(s, "git@", 4) == 0 || strncmp(s, "github.com/", 11) == 0;
}

/* A place as messages name it ("compose.yaml:4:7"): the build's errors
 * come when building, after the load. */
static struct srcpos display_pos(const struct model *m, const struct ynode *n)
{
    struct srcpos pos = pos_of(m, n);
    if (m->p->file_names && m->p->file_names[n->src->index])
        pos.file = m->p->file_names[n->src->index];
    return pos;
}

static void set_str(struct model *m, struct service *s, const char *key, const struct ynode *v,
                    char **dst)
{
    const char *str = want_string(m, s, key, v);
    if (!str)
        return;
    free(*dst);
    *dst = xstrdup(str);
}

/* The value is one that asks for nothing (false, 0, an empty list or map):
 * a refused key set so is not refused. */
static bool asks_nothing_build(const struct ynode *v)
{
    bool b;
    if (ynode_is_null(v))
        return true;
    if (v->kind == YNODE_SCALAR)
        return yscalar_bool(v, &b) == 0 && !b;
    return v->kind == YNODE_SEQ ? v->n_items == 0 : v->n_pairs == 0;
}

/* The top-level secret name: its file (absolute) or its environment
 * variable, as "id=ID,src=PATH" / "id=ID,env=VAR" for the builder. The ID
 * is the target when one is given, else the source (docker compose's
 * addSecretsConfig). */
static char *secret_spec(struct model *m, struct service *s, const struct ynode *item)
{
    const struct ynode *src = ymap_get(item, "source"), *tgt = ymap_get(item, "target");
    if (!src || src->kind != YNODE_SCALAR)
        return NULL;
    const struct ynode *tops = m->root ? ymap_get(m->root, "secrets") : NULL;
    const struct ynode *def = tops && tops->kind == YNODE_MAP ? ymap_get(tops, src->str) : NULL;
    if (!def) {
        svc_error(m, s, item, "build.secrets",
                  "refers to undefined build secret %s (declare it under the top-level "
                  "secrets: key)",
                  QN(src));
        return NULL;
    }
    const char *id = src->str;
    if (tgt && tgt->kind == YNODE_SCALAR && tgt->len)
        id = tgt->str;
    const struct ynode *file = def->kind == YNODE_MAP ? ymap_get(def, "file") : NULL;
    const struct ynode *env = def->kind == YNODE_MAP ? ymap_get(def, "environment") : NULL;
    if (file && file->kind == YNODE_SCALAR && file->len)
        return xasprintf("id=%s,src=%s", id, file->str);
    if (env && env->kind == YNODE_SCALAR && env->len)
        return xasprintf("id=%s,env=%s", id, env->str);
    svc_error(m, s, item, "build.secrets",
              "build.secrets only supports environment or file-based secrets: %s", QN(src));
    return NULL;
}

static void read_secrets(struct model *m, struct service *s, const struct ynode *v,
                         struct svc_build *b)
{
    if (v->kind != YNODE_SEQ)
        return; /* canon.c said why */
    struct strvec sv = {0};
    for (size_t i = 0; i < v->n_items; i++) {
        char *spec = secret_spec(m, s, v->items[i]);
        if (!spec) {
            strvec_clear(&sv);
            return;
        }
        strvec_push(&sv, spec);
    }
    strv_free(b->secrets);
    b->secrets = strvec_take(&sv);
}

/* extra_hosts come canonical as "host=ip"; the builder takes "host:ip"
 * as the service key does. */
static void read_hosts(struct model *m, struct service *s, const struct ynode *v,
                       struct svc_build *b)
{
    _cleanup_strv_ char **h = NULL;
    if (want_str_list(m, s, "build.extra_hosts", v, true, &h) < 0)
        return;
    for (size_t i = 0; h[i]; i++) {
        char *eq = strchr(h[i], '=');
        if (eq)
            *eq = ':';
    }
    strv_free(b->extra_hosts);
    b->extra_hosts = TAKE_PTR(h);
}

static void read_key(struct model *m, struct service *s, const struct ypair *kv,
                     struct svc_build *b)
{
    const struct ynode *k = kv->key, *v = kv->value;
    const struct build_key *bk = find_build_key(k);
    if (!bk)
        return; /* canon.c refused it */
    if (bk->support == BK_IGNORED) {
        if (k->line > 0 && !asks_nothing_build(v))
            diag_unsupported_at(m->d, YPOS(k),
                                "service %s: build.%s is not supported; ignored (%s)", QS(s->name),
                                k->str, bk->why);
        return;
    }
    if (bk->support == BK_REFUSED) {
        /* the canonical order is compose's: the file's first one is named */
        if (asks_nothing_build(v) || (b->refused && b->refused_pos.line <= k->line))
            return;
        free(b->refused);
        b->refused = xasprintf("build.%s is not supported (%s)", k->str, bk->why);
        b->refused_pos = display_pos(m, k);
        return;
    }
    _cleanup_free_ char *key = xasprintf("build.%s", k->str);
    const char *name = k->str;
    int64_t n;
    bool t;
    if (strcmp(name, "context") == 0) {
        set_str(m, s, key, v, &b->context);
        b->remote = b->context && remote_context(b->context);
    } else if (strcmp(name, "dockerfile") == 0) {
        set_str(m, s, key, v, &b->dockerfile);
    } else if (strcmp(name, "dockerfile_inline") == 0) {
        set_str(m, s, key, v, &b->dockerfile_inline);
    } else if (strcmp(name, "args") == 0) {
        want_kv_list(m, s, key, v, &b->args);
    } else if (strcmp(name, "labels") == 0) {
        want_kv_list(m, s, key, v, &b->labels);
    } else if (strcmp(name, "tags") == 0) {
        want_str_list(m, s, key, v, true, &b->tags);
    } else if (strcmp(name, "platforms") == 0) {
        want_str_list(m, s, key, v, true, &b->platforms);
        b->platforms_pos = display_pos(m, v);
    } else if (strcmp(name, "target") == 0) {
        set_str(m, s, key, v, &b->target);
    } else if (strcmp(name, "network") == 0) {
        set_str(m, s, key, v, &b->network);
    } else if (strcmp(name, "shm_size") == 0) {
        if (want_size(m, s, key, v, &n) == 0)
            b->shm_size = n;
    } else if (strcmp(name, "extra_hosts") == 0) {
        read_hosts(m, s, v, b);
    } else if (strcmp(name, "pull") == 0) {
        if (want_bool(m, s, key, v, &t) == 0)
            b->pull = t;
    } else if (strcmp(name, "no_cache") == 0) {
        if (want_bool(m, s, key, v, &t) == 0)
            b->no_cache = t;
    } else if (strcmp(name, "secrets") == 0) {
        read_secrets(m, s, v, b);
    }
}

/* compose-go's checks (loader/validate.go): dockerfile and
 * dockerfile_inline exclude each other; a service's platform must be one
 * of build.platforms. The Dockerfile is made absolute (it is relative to
 * the context). */
static void finish(struct model *m, struct service *s, const struct ynode *v, struct svc_build *b)
{
    const struct ynode *df = ymap_get(v, "dockerfile"), *inl = ymap_get(v, "dockerfile_inline");
    if (df && inl && !ynode_is_null(df) && !ynode_is_null(inl))
        diag_error_at(m->d, YPOS(inl),
                      "service %s declares mutualy exclusive dockerfile and dockerfile_inline",
                      QS(s->name));
    if (!b->context)
        b->context = xstrdup(m->p->working_dir ? m->p->working_dir : ".");
    if (b->dockerfile_inline) {
        free(b->dockerfile);
        b->dockerfile = NULL;
    } else if (!b->remote) {
        char *abs = path_absolute(b->context, b->dockerfile ? b->dockerfile : "Dockerfile");
        free(b->dockerfile);
        b->dockerfile = abs;
    }
    if (s->platform && b->platforms && !strv_contains(b->platforms, s->platform)) {
        const struct ynode *at = ymap_get(v, "platforms");
        diag_error_at(m->d, YPOS(at ? at : v),
                      "service %s: service.build.platforms MUST include service.platform %s",
                      QS(s->name), QS(s->platform));
    }
}

void key_build(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    s->has_build = true;
    if (v->kind != YNODE_MAP)
        return; /* canon.c made the string form a mapping, or said why */
    struct svc_build *b = xcalloc(1, sizeof *b);
    b->pos = display_pos(m, kv->key);
    for (size_t i = 0; i < v->n_pairs; i++)
        read_key(m, s, &v->pairs[i], b);
    svc_build_free(s->build);
    s->build = b;
}

/* After every key is read: service.platform is known then. */
void finish_build(struct model *m, struct service *s)
{
    const struct ynode *v = m->body ? ymap_get(m->body, "build") : NULL;
    if (s->build && v)
        finish(m, s, v, s->build);
}

void svc_build_free(struct svc_build *b)
{
    if (!b)
        return;
    free(b->context);
    free(b->dockerfile);
    free(b->dockerfile_inline);
    strv_free(b->args);
    free(b->target);
    strv_free(b->labels);
    strv_free(b->tags);
    free(b->network);
    strv_free(b->extra_hosts);
    strv_free(b->platforms);
    strv_free(b->secrets);
    free(b->refused);
    free(b);
}
