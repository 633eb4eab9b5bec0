/* SPDX-License-Identifier: Apache-2.0 */
/* `berth config` output and config hashes, from the canonical tree a loaded
 * project keeps.
 * Not here: the YAML and JSON writers (compose/emit.c), the command's options
 * (cmd/cmd_config.c). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "compose/canon.h"
#include "compose/compose.h"
#include "compose/emit.h"
#include "compose/internal.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool key_is(const struct ynode *k, const char *s)
{
    return k->len == strlen(s) && memcmp(k->str, s, k->len) == 0;
}

/* The named services and everything they depend on. */
static void mark_deps(const struct ynode *svcs, const char *name, char ***keep)
{
    if (strv_contains(*keep, name))
        return;
    const struct ynode *body = ymap_get(svcs, name);
    if (!body)
        return;
    strv_push(keep, xstrdup(name));
    const struct ynode *deps = ymap_get(body, "depends_on");
    for (size_t i = 0; deps && deps->kind == YNODE_MAP && i < deps->n_pairs; i++)
        mark_deps(svcs, deps->pairs[i].key->str, keep);
}

static struct ynode *only_services(struct arena *a, const struct ynode *root, char *const *only)
{
    const struct ynode *svcs = ymap_get(root, "services");
    if (!svcs || svcs->kind != YNODE_MAP)
        return (struct ynode *)root;
    _cleanup_strv_ char **keep = NULL;
    for (size_t i = 0; only[i]; i++)
        mark_deps(svcs, only[i], &keep);
    struct ypair *sp = arena_allocarray(a, svcs->n_pairs, sizeof *sp);
    size_t n = 0;
    for (size_t i = 0; i < svcs->n_pairs; i++)
        if (strv_contains(keep, svcs->pairs[i].key->str))
            sp[n++] = svcs->pairs[i];
    struct ypair *rp = arena_allocarray(a, root->n_pairs, sizeof *rp);
    for (size_t i = 0; i < root->n_pairs; i++) {
        rp[i] = root->pairs[i];
        if (key_is(rp[i].key, "services"))
            rp[i].value = ynode_new_map(a, svcs, sp, n);
    }
    struct ynode *r = ynode_new_map(a, root, rp, root->n_pairs);
    r->ordered = root->ordered;
    return r;
}

/* The sources a list of mounts or file references uses (only "volume"
 * mounts, for volumes). */
static void used_sources(const struct ynode *l, bool volumes, char ***used)
{
    for (size_t i = 0; l && l->kind == YNODE_SEQ && i < l->n_items; i++) {
        const struct ynode *it = l->items[i];
        if (it->kind != YNODE_MAP)
            continue;
        const struct ynode *type = ymap_get(it, "type"), *src = ymap_get(it, "source");
        if (volumes && (!type || strcmp(type->str, "volume") != 0))
            continue;
        if (src && src->kind == YNODE_SCALAR)
            strv_push(used, xstrdup(src->str));
    }
}

/* The names a service uses in one section of the project. */
static void used_names(const struct ynode *body, const char *section, char ***used)
{
    if (strcmp(section, "networks") == 0) {
        const struct ynode *n = ymap_get(body, "networks");
        for (size_t i = 0; n && n->kind == YNODE_MAP && i < n->n_pairs; i++)
            strv_push(used, xstrdup(n->pairs[i].key->str));
        return;
    }
    used_sources(ymap_get(body, section), strcmp(section, "volumes") == 0, used);
    const struct ynode *build = ymap_get(body, "build");
    if (strcmp(section, "secrets") == 0 && build && build->kind == YNODE_MAP)
        used_sources(ymap_get(build, "secrets"), false, used);
}

/* What `docker compose config` prints of a loaded project: its networks,
 * volumes, secrets and configs only where a service uses them (unless
 * --all-resources: compose-go Project.WithoutUnnecessaryResources, called
 * by docker compose's loader), and each service's env_file left out once
 * merged into its environment (cmd/compose/config.go: cli.WithDiscardEnvFile,
 * WithServicesEnvironmentResolved(true)). */
static struct ynode *config_view(struct arena *a, const struct ynode *root)
{
    const struct ynode *svcs = ymap_get(root, "services");
    if (!svcs || svcs->kind != YNODE_MAP)
        return (struct ynode *)root;
    static const char *const sections[] = {"networks", "volumes", "secrets", "configs"};
    char **used[ARRAY_SIZE(sections)] = {NULL};
    struct ypair *sp = arena_allocarray(a, svcs->n_pairs, sizeof *sp);
    for (size_t i = 0; i < svcs->n_pairs; i++) {
        sp[i] = svcs->pairs[i];
        const struct ynode *body = sp[i].value;
        if (body->kind != YNODE_MAP)
            continue;
        for (size_t k = 0; k < ARRAY_SIZE(sections); k++)
            used_names(body, sections[k], &used[k]);
        if (!ymap_get(body, "env_file"))
            continue;
        struct ypair *bp = arena_allocarray(a, body->n_pairs, sizeof *bp);
        size_t n = 0;
        for (size_t j = 0; j < body->n_pairs; j++)
            if (!key_is(body->pairs[j].key, "env_file"))
                bp[n++] = body->pairs[j];
        struct ynode *nb = ynode_new_map(a, body, bp, n);
        nb->ordered = body->ordered;
        sp[i].value = nb;
    }
    struct ynode *nsvcs = ynode_new_map(a, svcs, sp, svcs->n_pairs);
    nsvcs->ordered = svcs->ordered;
    struct ypair *rp = arena_allocarray(a, root->n_pairs, sizeof *rp);
    size_t rn = 0;
    for (size_t i = 0; i < root->n_pairs; i++) {
        struct ypair pr = root->pairs[i];
        size_t k = 0;
        while (k < ARRAY_SIZE(sections) && !key_is(pr.key, sections[k]))
            k++;
        if (key_is(pr.key, "services")) {
            pr.value = nsvcs;
        } else if (k < ARRAY_SIZE(sections) && pr.value->kind == YNODE_MAP) {
            const struct ynode *m = pr.value;
            struct ypair *mp = arena_allocarray(a, m->n_pairs, sizeof *mp);
            size_t n = 0;
            for (size_t j = 0; j < m->n_pairs; j++)
                if (strv_contains(used[k], m->pairs[j].key->str))
                    mp[n++] = m->pairs[j];
            if (n == 0)
                continue; /* compose prints no empty section */
            struct ynode *nm = ynode_new_map(a, m, mp, n);
            nm->ordered = m->ordered;
            pr.value = nm;
        }
        rp[rn++] = pr;
    }
    for (size_t k = 0; k < ARRAY_SIZE(sections); k++)
        strv_free(used[k]);
    struct ynode *r = ynode_new_map(a, root, rp, rn);
    r->ordered = root->ordered;
    return r;
}

static void config_emit(const struct project *p, enum compose_format f, char *const *only,
                        struct emit_buf *b)
{
    struct compose_tree *t = p->tree;
    const struct ynode *root = t->root;
    if (only && only[0])
        root = only_services(&t->arena, root, only);
    root = config_view(&t->arena, root);
    struct emit_opts o = {.escape_dollar = t->interpolated,
                          .sort_root = true,
                          .drop_object_ext = f == COMPOSE_FORMAT_JSON};
    if (f == COMPOSE_FORMAT_JSON) {
        emit_json(b, root, 2, &o);
        emit_put(b, "\n", 1);
    } else {
        emit_yaml(b, root, &o);
    }
}

char *compose_config_text(const struct project *p, enum compose_format f, char *const *only)
{
    struct emit_buf b = {0};
    config_emit(p, f, only, &b);
    return b.s ? b.s : xstrdup("");
}

void compose_config_write(const struct project *p, enum compose_format f, char *const *only,
                          FILE *out)
{
    struct emit_buf b = {.out = out};
    config_emit(p, f, only, &b);
    emit_flush(&b);
    free(b.s);
}

int compose_service_hash(const struct project *p, const char *service, char out[65])
{
    struct compose_tree *t = p->tree;
    const struct ynode *svcs = ymap_get(t->root, "services");
    const struct ynode *body = svcs ? ymap_get(svcs, service) : NULL;
    if (!body || body->kind != YNODE_MAP)
        return -ENOENT;
    /* What compose leaves out of the hash (and its x- keys, which its
     * structs never marshal); deploy.replicas counts as 1. */
    struct ypair *pairs = arena_allocarray(&t->arena, body->n_pairs, sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i < body->n_pairs; i++) {
        const struct ypair *pr = &body->pairs[i];
        if (key_is(pr->key, "build") || key_is(pr->key, "pull_policy") ||
            key_is(pr->key, "scale") || key_is(pr->key, "depends_on") ||
            key_is(pr->key, "profiles") || (pr->key->len >= 2 && !memcmp(pr->key->str, "x-", 2)))
            continue;
        pairs[n] = *pr;
        if (key_is(pr->key, "deploy") && pr->value->kind == YNODE_MAP) {
            const struct ynode *d = pr->value;
            struct ypair *dp = arena_allocarray(&t->arena, d->n_pairs + 1, sizeof *dp);
            size_t k = 0;
            bool had = false;
            for (size_t j = 0; j < d->n_pairs; j++) {
                dp[k] = d->pairs[j];
                if (key_is(d->pairs[j].key, "replicas")) {
                    dp[k].value = ynode_new_scalar(&t->arena, d->src, 0, 0, "1", 1, YSTYLE_PLAIN);
                    had = true;
                }
                k++;
            }
            if (!had) {
                /* replicas comes second, after mode */
                size_t at = k && key_is(dp[0].key, "mode") ? 1 : 0;
                memmove(dp + at + 1, dp + at, (k - at) * sizeof *dp);
                dp[at] =
                    (struct ypair){canon_key(&t->arena, NULL, "replicas"),
                                   ynode_new_scalar(&t->arena, d->src, 0, 0, "1", 1, YSTYLE_PLAIN)};
                k++;
            }
            struct ynode *nd = ynode_new_map(&t->arena, d, dp, k);
            nd->ordered = 1;
            pairs[n].value = nd;
        }
        n++;
    }
    struct ynode *h = ynode_new_map(&t->arena, body, pairs, n);
    h->ordered = 1;
    struct emit_buf b = {0};
    struct emit_opts o = {.drop_object_ext = true};
    emit_json(&b, h, -1, &o);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(b.s, b.len, md, &mdlen, EVP_sha256(), NULL);
    free(b.s);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
    return 0;
}

char *const *compose_all_profiles(const struct project *p)
{
    return p->tree->all_profiles;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **compose_top_level_names(const struct project *p, const char *section)
{
    const struct ynode *m = ymap_get(p->tree->root, section);
    char **v = xcalloc(m && m->kind == YNODE_MAP ? m->n_pairs + 1 : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; m && m->kind == YNODE_MAP && i < m->n_pairs; i++)
        if (m->pairs[i].key->len < 2 || memcmp(m->pairs[i].key->str, "x-", 2) != 0)
            v[n++] = xstrdup(m->pairs[i].key->str);
    qsort(v, n, sizeof *v, cmp_str);
    return v;
}
