/* SPDX-License-Identifier: Apache-2.0 */
/* What docker compose adds to a merged project before using it: active
 * profiles, each service's effective environment, the default network, real
 * resource names, implicit dependencies, scale. Not here: merging
 * (compose/merge.c), validation (compose/validate.c). */
#include "compose/normalize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/canon.h"
#include "compose/dotenv.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static bool key_is(const struct ynode *k, const char *s)
{
    return k->len == strlen(s) && memcmp(k->str, s, k->len) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **normalize_all_profiles(const struct ynode *root)
{
    const struct ynode *svcs = ymap_get(root, "services");
    char **all = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; svcs && svcs->kind == YNODE_MAP && i < svcs->n_pairs; i++) {
        const struct ynode *pr = ymap_get(svcs->pairs[i].value, "profiles");
        for (size_t j = 0; pr && pr->kind == YNODE_SEQ && j < pr->n_items; j++) {
            if (n + 2 > cap) {
                cap = cap ? cap * 2 : 8;
                all = xreallocarray(all, cap, sizeof *all);
            }
            all[n++] = xstrdup(pr->items[j]->str);
            all[n] = NULL;
        }
    }
    if (!all)
        return xcalloc(1, sizeof(char *));
    qsort(all, n, sizeof *all, cmp_str);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o && strcmp(all[o - 1], all[i]) == 0) {
            free(all[i]);
            continue;
        }
        all[o++] = all[i];
    }
    all[o] = NULL;
    return all;
}

/* --- Building modified mappings -------------------------------------------- */

struct pb {
    struct ypair *p;
    size_t n, cap;
    struct arena *a;
};

static void pb_add(struct pb *b, struct ynode *k, struct ynode *v)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct ypair *np = arena_allocarray(b->a, cap, sizeof *np);
        if (b->n)
            memcpy(np, b->p, b->n * sizeof *np);
        b->p = np;
        b->cap = cap;
    }
    b->p[b->n++] = (struct ypair){k, v};
}

/* A copy of m with key set to v (added at the end when new, removed when v
 * is NULL). */
static struct ynode *map_set(struct arena *a, const struct ynode *m, const char *key,
                             struct ynode *v)
{
    struct pb b = {.a = a};
    bool done = false;
    for (size_t i = 0; i < m->n_pairs; i++) {
        if (key_is(m->pairs[i].key, key)) {
            if (v)
                pb_add(&b, m->pairs[i].key, v);
            done = true;
        } else {
            pb_add(&b, m->pairs[i].key, m->pairs[i].value);
        }
    }
    if (!done && v)
        pb_add(&b, canon_key(a, NULL, key), v); /* added by compose: no place of its own */
    struct ynode *r = ynode_new_map(a, m, b.p, b.n);
    r->ordered = m->ordered;
    return r;
}

static struct ynode *str_node(struct arena *a, const struct ynode *at, const char *s)
{
    return ynode_new_scalar(a, at->src, at->line, at->col, s, strlen(s), YSTYLE_DOUBLE);
}

static struct ynode *plain_node(struct arena *a, const struct ynode *at, const char *s)
{
    return ynode_new_scalar(a, at->src, at->line, at->col, s, strlen(s), YSTYLE_PLAIN);
}

static struct ynode *empty_map(struct arena *a, const struct ynode *at)
{
    struct ynode *m = ynode_new_map(a, at, NULL, 0);
    m->ordered = 1;
    return m;
}

/* --- Profiles --------------------------------------------------------------- */

static bool service_enabled(const struct ynode *body, char *const *active)
{
    const struct ynode *pr = ymap_get(body, "profiles");
    if (!pr || pr->kind != YNODE_SEQ || pr->n_items == 0)
        return true;
    for (size_t i = 0; active && active[i]; i++) {
        if (strcmp(active[i], "*") == 0)
            return true;
        for (size_t j = 0; j < pr->n_items; j++)
            if (strcmp(pr->items[j]->str, active[i]) == 0)
                return true;
    }
    return false;
}

/* --- Per service ------------------------------------------------------------ */

static struct ynode *effective_environment(const struct norm_opts *o, struct ynode *body)
{
    const struct ynode *files = ymap_get(body, "env_file"), *env = ymap_get(body, "environment");
    if (!files && !env)
        return body;
    struct pb b = {.a = o->a};
    /* env_file entries in order (a later one wins), then environment. */
    for (size_t i = 0; files && files->kind == YNODE_SEQ && i < files->n_items; i++) {
        const struct ynode *f = files->items[i];
        const struct ynode *path = ymap_get(f, "path"), *req = ymap_get(f, "required"),
                           *fmt = ymap_get(f, "format");
        if (!path)
            continue;
        bool required = !req || strcmp(req->str, "false") != 0;
        _cleanup_strv_ char **vars = NULL;
        size_t errs = o->d->n_errors;
        int r = dotenv_read(path->str, path->str, o->env, fmt && strcmp(fmt->str, "raw") == 0, o->d,
                            &vars);
        if (r == -ENOENT) {
            if (required)
                diag_error_at(o->d, YPOS(path), "env file %s not found", path->str);
            continue;
        }
        if (r < 0 || o->d->n_errors > errs)
            continue;
        for (size_t j = 0; vars[j]; j++) {
            const char *eq = strchr(vars[j], '=');
            struct ynode *k = ynode_new_scalar(o->a, path->src, path->line, path->col, vars[j],
                                               (size_t)(eq - vars[j]), YSTYLE_PLAIN);
            pb_add(&b, k, str_node(o->a, path, eq + 1));
        }
    }
    for (size_t i = 0; env && env->kind == YNODE_MAP && i < env->n_pairs; i++)
        pb_add(&b, env->pairs[i].key, env->pairs[i].value);
    /* One entry per name, the last value winning, the first place kept. */
    struct pb u = {.a = o->a};
    for (size_t i = 0; i < b.n; i++) {
        size_t j = 0;
        while (j < u.n && yscalar_cmp(u.p[j].key, b.p[i].key) != 0)
            j++;
        if (b.n > 4096)
            j = u.n; /* huge lists: duplicates were resolved per source already */
        if (j < u.n)
            u.p[j].value = b.p[i].value;
        else
            pb_add(&u, b.p[i].key, b.p[i].value);
    }
    for (size_t i = 0; i < u.n; i++) {
        struct ynode *v = u.p[i].value;
        if (!ynode_is_null(v))
            continue;
        const char *val = envtab_get(o->env, u.p[i].key->str, u.p[i].key->len);
        if (val)
            u.p[i].value = str_node(o->a, v, val);
    }
    struct ynode *m = ynode_new_map(o->a, env ? env : files, u.p, u.n);
    return map_set(o->a, body, "environment", m);
}

/* A dependency a link, a shared namespace or volumes_from implies, unless the
 * service names it already. `restart` is compose's: true for links and
 * namespaces (the container must follow its peer), false for volumes_from
 * (compose-go loader/normalize.go). */
/* A build arg without a value takes the variable's, or is left out when it
 * is unset (compose-go loader/normalize.go: resolve(args, keepEmpty=false));
 * environment keeps such a name, with no value. */
static struct ynode *resolve_build_args(const struct norm_opts *o, struct ynode *body)
{
    struct ynode *build = ymap_get(body, "build");
    const struct ynode *args = build && build->kind == YNODE_MAP ? ymap_get(build, "args") : NULL;
    if (!args || args->kind != YNODE_MAP)
        return body;
    struct pb b = {.a = o->a};
    for (size_t i = 0; i < args->n_pairs; i++) {
        struct ynode *k = args->pairs[i].key, *v = args->pairs[i].value;
        if (ynode_is_null(v)) {
            const char *val = envtab_get(o->env, k->str, k->len);
            if (!val)
                continue;
            v = str_node(o->a, v, val);
        }
        pb_add(&b, k, v);
    }
    struct ynode *na = ynode_new_map(o->a, args, b.p, b.n);
    na->ordered = args->ordered;
    return map_set(o->a, body, "build", map_set(o->a, build, "args", na));
}

static struct ynode *add_dependency(struct arena *a, struct ynode *body, const struct ynode *at,
                                    const char *svc, bool restart)
{
    struct ynode *deps = ymap_get(body, "depends_on");
    if (deps && deps->kind == YNODE_MAP && ymap_get(deps, svc))
        return body;
    struct ypair p[3] = {
        {canon_key(a, at, "condition"), str_node(a, at, "service_started")},
        {canon_key(a, at, "restart"), plain_node(a, at, restart ? "true" : "false")},
        {canon_key(a, at, "required"), plain_node(a, at, "true")},
    };
    struct ypair *pp = arena_allocarray(a, 3, sizeof *pp);
    memcpy(pp, p, sizeof p);
    struct ynode *d = ynode_new_map(a, at, pp, 3);
    d->ordered = 1;
    /* The key has no place of its own: the link or network_mode that
     * implies it is what validation reports. */
    struct ynode *nd = deps ? map_set(a, deps, svc, d) : NULL;
    if (!nd) {
        struct ypair *one = arena_allocarray(a, 1, sizeof *one);
        one[0] = (struct ypair){canon_key(a, NULL, svc), d};
        nd = ynode_new_map(a, at, one, 1);
    }
    return map_set(a, body, "depends_on", nd);
}

static struct ynode *implicit_dependencies(struct arena *a, struct ynode *body)
{
    static const char *const modes[] = {"network_mode", "ipc", "pid"};
    for (size_t i = 0; i < 3; i++) {
        const struct ynode *m = ymap_get(body, modes[i]);
        if (m && m->kind == YNODE_SCALAR && strncmp(m->str, "service:", 8) == 0 && m->str[8])
            body = add_dependency(a, body, m, m->str + 8, true);
    }
    const struct ynode *links = ymap_get(body, "links");
    for (size_t i = 0; links && links->kind == YNODE_SEQ && i < links->n_items; i++) {
        _cleanup_free_ char *name = xstrdup(links->items[i]->str);
        char *colon = strchr(name, ':');
        if (colon)
            *colon = '\0';
        body = add_dependency(a, body, links->items[i], name, true);
    }
    const struct ynode *vf = ymap_get(body, "volumes_from");
    for (size_t i = 0; vf && vf->kind == YNODE_SEQ && i < vf->n_items; i++) {
        if (strncmp(vf->items[i]->str, "container:", 10) == 0)
            continue;
        _cleanup_free_ char *name = xstrdup(vf->items[i]->str);
        char *colon = strchr(name, ':');
        if (colon)
            *colon = '\0';
        body = add_dependency(a, body, vf->items[i], name, false);
    }
    return body;
}

static struct ynode *normalize_service(const struct norm_opts *o, const struct ynode *name,
                                       struct ynode *body, bool *uses_default)
{
    if (body->kind != YNODE_MAP)
        return body;
    if (o->resolve_env) {
        body = effective_environment(o, body);
        body = resolve_build_args(o, body);
    }
    const struct ynode *nets = ymap_get(body, "networks");
    if (!nets && !ymap_get(body, "network_mode")) {
        struct ypair *one = arena_allocarray(o->a, 1, sizeof *one);
        one[0] = (struct ypair){canon_key(o->a, name, "default"), plain_node(o->a, name, "null")};
        body = map_set(o->a, body, "networks", ynode_new_map(o->a, name, one, 1));
        *uses_default = true;
    } else if (nets && nets->kind == YNODE_MAP && ymap_get_pair(nets, "default")) {
        *uses_default = true;
    }
    struct ynode *build = ymap_get(body, "build");
    bool no_ctx = build && build->kind == YNODE_MAP && !ymap_get(build, "context");
    bool no_df = build && build->kind == YNODE_MAP && !ymap_get(build, "dockerfile") &&
                 !ymap_get(build, "dockerfile_inline");
    if (no_ctx || no_df) {
        /* compose-go's defaults: context "." (transform/defaults.go), and
         * the Dockerfile after it, where compose prints it */
        struct pb b = {.a = o->a};
        if (no_ctx)
            pb_add(&b, canon_key(o->a, build, "context"), str_node(o->a, build, "."));
        if (no_ctx && no_df)
            pb_add(&b, canon_key(o->a, build, "dockerfile"), str_node(o->a, build, "Dockerfile"));
        for (size_t i = 0; i < build->n_pairs; i++) {
            pb_add(&b, build->pairs[i].key, build->pairs[i].value);
            if (no_df && key_is(build->pairs[i].key, "context"))
                pb_add(&b, canon_key(o->a, build, "dockerfile"),
                       str_node(o->a, build, "Dockerfile"));
        }
        struct ynode *nb = ynode_new_map(o->a, build, b.p, b.n);
        nb->ordered = 1;
        body = map_set(o->a, body, "build", nb);
    }
    body = implicit_dependencies(o->a, body);
    const struct ynode *deploy = ymap_get(body, "deploy");
    const struct ynode *rep = deploy ? ymap_get(deploy, "replicas") : NULL;
    const struct ynode *scale = ymap_get(body, "scale");
    if (rep && scale && yscalar_cmp(rep, scale) != 0)
        diag_error_at(o->d, YPOS(scale),
                      "service %s: can't set distinct values on 'scale' (%s) and "
                      "'deploy.replicas' (%s)",
                      QN(name), scale->str, rep->str);
    else if (scale && !rep && deploy && deploy->kind == YNODE_MAP)
        /* compose copies scale into deploy.replicas, never the other way
         * (compose-go loader/validate.go). */
        body =
            map_set(o->a, body, "deploy", map_set(o->a, deploy, "replicas", (struct ynode *)scale));
    return body;
}

/* --- Top-level objects ------------------------------------------------------ */

static struct ynode *name_objects(const struct norm_opts *o, struct ynode *objs)
{
    if (!objs || objs->kind != YNODE_MAP)
        return objs;
    struct pb b = {.a = o->a};
    for (size_t i = 0; i < objs->n_pairs; i++) {
        const struct ynode *k = objs->pairs[i].key;
        struct ynode *v = objs->pairs[i].value;
        if (k->len >= 2 && memcmp(k->str, "x-", 2) == 0) {
            pb_add(&b, objs->pairs[i].key, v);
            continue;
        }
        if (ynode_is_null(v))
            v = empty_map(o->a, v);
        if (v->kind == YNODE_MAP && !ymap_get(v, "name")) {
            const struct ynode *ext = ymap_get(v, "external");
            bool external = ext && strcmp(ext->str, "true") == 0;
            _cleanup_free_ char *name =
                external ? xstrdup(k->str) : xasprintf("%s_%s", o->project_name, k->str);
            struct pb nb = {.a = o->a};
            pb_add(&nb, canon_key(o->a, k, "name"), str_node(o->a, k, name));
            for (size_t j = 0; j < v->n_pairs; j++)
                pb_add(&nb, v->pairs[j].key, v->pairs[j].value);
            v = ynode_new_map(o->a, v, nb.p, nb.n);
            v->ordered = 1;
        }
        pb_add(&b, objs->pairs[i].key, v);
    }
    return ynode_new_map(o->a, objs, b.p, b.n);
}

struct ynode *normalize_project(const struct norm_opts *o, struct ynode *root, char ***disabled)
{
    struct ynode *svcs = ymap_get(root, "services");
    bool uses_default = false;
    if (!svcs || ynode_is_null(svcs)) /* a project of networks or volumes only */
        root = map_set(o->a, root, "services", svcs = empty_map(o->a, svcs ? svcs : root));
    if (svcs && svcs->kind == YNODE_MAP) {
        /* Services named on the command line enable their profiles. */
        char **active = strv_dup(o->profiles);
        for (size_t i = 0; o->services && o->services[i]; i++) {
            const struct ynode *body = ymap_get(svcs, o->services[i]);
            const struct ynode *pr = body ? ymap_get(body, "profiles") : NULL;
            for (size_t j = 0; pr && pr->kind == YNODE_SEQ && j < pr->n_items; j++)
                strv_push(&active, xstrdup(pr->items[j]->str));
        }
        struct pb b = {.a = o->a};
        for (size_t i = 0; i < svcs->n_pairs; i++) {
            const struct ynode *k = svcs->pairs[i].key;
            struct ynode *body = svcs->pairs[i].value;
            if (body->kind == YNODE_MAP && !service_enabled(body, active)) {
                strv_push(disabled, xstrdup(k->str));
                continue;
            }
            pb_add(&b, svcs->pairs[i].key, normalize_service(o, k, body, &uses_default));
        }
        strv_free(active);
        root = map_set(o->a, root, "services", ynode_new_map(o->a, svcs, b.p, b.n));
    }
    struct ynode *nets = ymap_get(root, "networks");
    if (uses_default && (!nets || nets->kind != YNODE_MAP || !ymap_get_pair(nets, "default"))) {
        struct ynode *def = empty_map(o->a, root);
        if (nets && nets->kind == YNODE_MAP)
            nets = map_set(o->a, nets, "default", def);
        else {
            struct ypair *one = arena_allocarray(o->a, 1, sizeof *one);
            one[0] = (struct ypair){canon_key(o->a, root, "default"), def};
            nets = ynode_new_map(o->a, root, one, 1);
        }
        root = map_set(o->a, root, "networks", nets);
    }
    static const char *const tops[] = {"networks", "volumes", "configs", "secrets"};
    for (size_t i = 0; i < 4; i++) {
        struct ynode *objs = ymap_get(root, tops[i]);
        if (objs)
            root = map_set(o->a, root, tops[i], name_objects(o, objs));
    }
    /* The project's name, as compose prints it first. */
    struct ynode *named = map_set(o->a, root, "name", NULL);
    struct pb b = {.a = o->a};
    pb_add(&b, canon_key(o->a, root, "name"), str_node(o->a, root, o->project_name));
    for (size_t i = 0; i < named->n_pairs; i++)
        pb_add(&b, named->pairs[i].key, named->pairs[i].value);
    struct ynode *r = ynode_new_map(o->a, root, b.p, b.n);
    r->ordered = 1;
    return r;
}
