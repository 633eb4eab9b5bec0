/* SPDX-License-Identifier: Apache-2.0 */
/* Reading files into one tree: per file parse, interpolate, follow `include`
 * (as projects of their own), canonicalize, resolve `extends`, then merge the
 * files in order, with cycle and depth checks. Not here: the order of the
 * load's stages (compose/load.c), the per-key merge rules (compose/merge.c). */
#include "compose/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/canon.h"
#include "compose/dotenv.h"
#include "compose/interp.h"
#include "compose/merge.h"
#include "compose/path.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

void loader_release(struct loader *L)
{
    strvec_clear(&L->paths);
    strvec_clear(&L->names);
    strv_free(L->warned);
    strv_free(L->chain);
    L->warned = L->chain = NULL;
    for (size_t i = 0; i < L->n_ext; i++) {
        free(L->ext[i].path);
        strv_free(L->ext[i].names);
        free(L->ext[i].canon);
    }
    free(L->ext);
    L->ext = NULL;
    L->n_ext = 0;
}

static int read_stdin(size_t max, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > max)
                return -EFBIG;
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max)
            return -EFBIG;
    }
    *out = TAKE_PTR(buf);
    *len = n;
    return 0;
}

/* Reads one file within the size cap; the cap is checked on the file's size
 * before a byte is read, so an oversized file costs nothing. */
static int read_one(struct loader *L, const char *path, const char *display, char **buf,
                    size_t *len)
{
    int r;
    struct berr e = BERR_INIT;
    if (L->mem_path && strcmp(path, L->mem_path) == 0) {
        r = L->mem_len > L->max_bytes ? -EFBIG : 0;
        if (r == 0) {
            *buf = xmalloc(L->mem_len + 1);
            if (L->mem_len)
                memcpy(*buf, L->mem, L->mem_len);
            (*buf)[L->mem_len] = '\0';
            *len = L->mem_len;
        }
    } else if (strcmp(path, "-") == 0)
        r = read_stdin(L->max_bytes, buf, len);
    else
        r = fs_read_file(AT_FDCWD, path, L->max_bytes, buf, len, &e);
    berr_clear(&e);
    if (r == -EFBIG)
        diag_error_at(L->d, display, 0, 0,
                      "file is larger than the limit of %zu bytes; refusing it (set "
                      "BERTH_MAX_COMPOSE_BYTES to raise the limit)",
                      L->max_bytes);
    else if (r == -EINVAL)
        diag_error_at(L->d, display, 0, 0, "not a regular file");
    else if (r < 0)
        diag_error_at(L->d, display, 0, 0, "cannot read: %s", strerror(-r));
    return r;
}

static const struct ysource *add_source(struct loader *L, const char *path, const char *display)
{
    struct ysource *src = arena_alloc(L->a, sizeof *src);
    src->name = arena_strdup(L->a, display);
    src->index = L->paths.n;
    strvec_push(&L->paths, xstrdup(path));
    strvec_push(&L->names, xstrdup(display));
    return src;
}

static bool key_is(const struct ynode *k, const char *s)
{
    return k->len == strlen(s) && memcmp(k->str, s, k->len) == 0;
}

static struct ynode *file_tree(struct loader *L, const char *path, const char *display,
                               const char *project_dir, const struct envtab *env);

/* --- include ------------------------------------------------------------- */

static char **str_or_list(struct loader *L, const struct ynode *v, const char *what)
{
    char **out = NULL;
    if (v->kind == YNODE_SCALAR && !ynode_is_null(v)) {
        strv_push(&out, xstrdup(v->str));
        return out;
    }
    if (v->kind == YNODE_SEQ) {
        for (size_t i = 0; i < v->n_items; i++) {
            if (v->items[i]->kind != YNODE_SCALAR || ynode_is_null(v->items[i])) {
                diag_error_at(L->d, YPOS(v->items[i]), "include: %s: expected a string, got %s",
                              what, ynode_describe(v->items[i]));
                strv_free(out);
                return NULL;
            }
            strv_push(&out, xstrdup(v->items[i]->str));
        }
        return out;
    }
    diag_error_at(L->d, YPOS(v), "include: %s: expected a string or a list, got %s", what,
                  ynode_describe(v));
    return NULL;
}

/* Loads one include entry as a project of its own. */
static struct ynode *include_one(struct loader *L, const struct ynode *entry,
                                 const char *project_dir, const struct envtab *env)
{
    _cleanup_strv_ char **paths = NULL, **env_files = NULL;
    const char *pdir_given = NULL;
    if (entry->kind == YNODE_MAP) {
        for (size_t i = 0; i < entry->n_pairs; i++) {
            const struct ynode *k = entry->pairs[i].key, *v = entry->pairs[i].value;
            if (key_is(k, "path"))
                paths = str_or_list(L, v, "path");
            else if (key_is(k, "env_file"))
                env_files = str_or_list(L, v, "env_file");
            else if (key_is(k, "project_directory") && v->kind == YNODE_SCALAR)
                pdir_given = v->str;
            else if (k->len < 2 || memcmp(k->str, "x-", 2) != 0) {
                diag_error_at(L->d, YPOS(k),
                              "include: unknown key %s (use path, project_directory, env_file)",
                              QN(k));
                return NULL;
            }
        }
    } else {
        paths = str_or_list(L, entry, "path");
    }
    if (!paths)
        return NULL;
    _cleanup_strv_ char **abs = NULL, **shown = NULL;
    for (size_t i = 0; paths[i]; i++) {
        char *p = path_absolute(project_dir, paths[i]);
        strv_push(&shown, path_display(L->cwd, p));
        strv_push(&abs, p);
    }
    _cleanup_free_ char *dir =
        pdir_given ? path_absolute(project_dir, pdir_given) : path_dirname(abs[0]);
    /* The included project's variables: this project's win over its own
     * env files (default: its directory's .env). */
    struct envtab sub = {0};
    envtab_add(&sub, env->entries);
    /* env_file entries are relative to the including project's directory
     * (compose-go); the default .env is the included project's own. */
    const char *ef_base = env_files ? project_dir : dir;
    if (!env_files)
        strv_push(&env_files, xstrdup(".env"));
    bool ok = true;
    for (size_t i = 0; env_files[i]; i++) {
        _cleanup_free_ char *ef = path_absolute(ef_base, env_files[i]);
        _cleanup_free_ char *efs = path_display(L->cwd, ef);
        _cleanup_strv_ char **vars = NULL;
        int r = dotenv_read(ef, efs, &sub, false, L->d, &vars);
        if (r == -ENOENT && entry->kind == YNODE_MAP && ymap_get(entry, "env_file")) {
            diag_error_at(L->d, YPOS(entry), "include: env file %s not found", QS(efs));
            ok = false;
        } else if (r < 0 && r != -ENOENT) {
            ok = false;
        } else if (vars) {
            envtab_add(&sub, vars);
        }
    }
    struct ynode *t = ok ? loader_project(L, abs, shown, dir, &sub) : NULL;
    envtab_free(&sub);
    return t;
}

/* Adds the resources of an included project to a file's tree; a name the
 * file defines too is an error. */
static struct ynode *add_included(struct loader *L, struct ynode *root, const struct ynode *inc,
                                  const struct ynode *at)
{
    static const char *const sections[] = {"services", "networks", "volumes", "configs", "secrets"};
    struct ypair *pairs = arena_allocarray(L->a, root->n_pairs + 5, sizeof *pairs);
    if (root->n_pairs)
        memcpy(pairs, root->pairs, root->n_pairs * sizeof *pairs);
    size_t n = root->n_pairs;
    for (size_t s = 0; s < 5; s++) {
        struct ynode *theirs = ymap_get(inc, sections[s]);
        if (!theirs || theirs->kind != YNODE_MAP || theirs->n_pairs == 0)
            continue;
        size_t at_i = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (key_is(pairs[i].key, sections[s]))
                at_i = i;
        struct ynode *mine = at_i == SIZE_MAX ? NULL : pairs[at_i].value;
        size_t mn = mine && mine->kind == YNODE_MAP ? mine->n_pairs : 0;
        struct ypair *np = arena_allocarray(L->a, mn + theirs->n_pairs, sizeof *np);
        if (mn)
            memcpy(np, mine->pairs, mn * sizeof *np);
        size_t k = mn;
        for (size_t i = 0; i < theirs->n_pairs; i++) {
            const struct ynode *name = theirs->pairs[i].key;
            const struct ypair *clash = mine ? ymap_get_pair(mine, name->str) : NULL;
            if (clash && s == 0) {
                /* A service the including file defines too is merged over
                 * the included one, as compose-go does. */
                size_t ci = (size_t)(clash - mine->pairs);
                np[ci].value = merge_service(L->a, theirs->pairs[i].value, clash->value);
                continue;
            }
            if (clash) {
                diag_error_at(L->d, YPOS(clash->key),
                              "%s %s conflicts with the one imported by the include at line %d "
                              "(from %s)",
                              sections[s], QN(name), at->line, name->src->name);
                continue;
            }
            np[k++] = theirs->pairs[i];
        }
        struct ynode *merged = ynode_new_map(L->a, mine ? mine : theirs, np, k);
        if (at_i == SIZE_MAX)
            pairs[n++] = (struct ypair){canon_key(L->a, at, sections[s]), merged};
        else
            pairs[at_i].value = merged;
    }
    struct ynode *r = ynode_new_map(L->a, root, pairs, n);
    r->ordered = root->ordered;
    return r;
}

static bool chain_enter(struct loader *L, const char *id, const struct ynode *at, const char *what)
{
    if (strv_contains(L->chain, id) || strv_len(L->chain) >= LOADER_MAX_DEPTH) {
        bool cycle = strv_contains(L->chain, id);
        size_t len = 0;
        for (size_t i = 0; L->chain && L->chain[i]; i++)
            len += strlen(L->chain[i]) + 4;
        _cleanup_free_ char *msg = xcalloc(1, len + strlen(id) + 1);
        for (size_t i = 0; L->chain && L->chain[i]; i++) {
            strcat(msg, L->chain[i]);
            strcat(msg, " -> ");
        }
        strcat(msg, id);
        if (!cycle)
            diag_error(L->d, "%s chain deeper than %d levels: %s", what, LOADER_MAX_DEPTH, msg);
        else if (at)
            diag_error_at(L->d, YPOS(at), "%s cycle: %s", what, msg);
        else
            diag_error(L->d, "%s cycle: %s", what, msg);
        return false;
    }
    strv_push(&L->chain, xstrdup(id));
    return true;
}

static void chain_leave(struct loader *L)
{
    size_t n = strv_len(L->chain);
    free(L->chain[n - 1]);
    L->chain[n - 1] = NULL;
}

/* --- extends --------------------------------------------------------------- */

/* Mapping keys must be strings, as compose-go requires (`services: {123:
 * ...}` or an environment key `1` is refused): a plain key that YAML reads
 * as a number, boolean or null is an error naming it. The parser bounds
 * the depth and what aliases expand to, and so this walk. */
static void check_keys(struct loader *L, const struct ynode *n)
{
    if (n->kind == YNODE_SEQ) {
        for (size_t i = 0; i < n->n_items; i++)
            check_keys(L, n->items[i]);
        return;
    }
    if (n->kind != YNODE_MAP)
        return;
    for (size_t i = 0; i < n->n_pairs; i++) {
        const struct ynode *k = n->pairs[i].key;
        enum yscalar_type t = k->kind == YNODE_SCALAR ? yscalar_type(k) : YTYPE_STR;
        if (t != YTYPE_STR)
            diag_error_at(L->d, YPOS(k),
                          "mapping key %s is not a string (YAML reads it as a %s; quote it: "
                          "\"%.*s\")",
                          QN(k),
                          t == YTYPE_NULL   ? "null"
                          : t == YTYPE_BOOL ? "boolean"
                                            : "number",
                          (int)k->len, k->str);
        check_keys(L, n->pairs[i].value);
    }
}

/* A file read and parsed: its documents (in the arena) and its source. */
struct parsed {
    struct ydocs docs;
    const struct ysource *src;
    bool ok;
};

static void parse_file(struct loader *L, const char *path, const char *display, struct parsed *out)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    struct yaml_limits lim;
    yaml_compose_limits(&lim);
    out->src = add_source(L, path, display);
    out->ok = read_one(L, path, display, &buf, &len) == 0 &&
              yaml_parse(L->a, out->src, buf, len, &lim, L->d, &out->docs) == 0;
}

struct ext_ctx {
    const char *path; /* the file the services are in */
    const char *dir;  /* its directory: where extends.file is relative to */
    struct ynode *services;
    const struct envtab *env;
    bool raw; /* services as read (another file's): each canonical only when extended */
};

/* The services of a file named by extends.file, parsed and interpolated
 * but not checked: only a service that is extended is (canon_service), so
 * a broken service there that nothing extends does not matter, as in
 * compose-go. Read once per load. NULL after an error (reported once). */
static struct ynode *ext_file_services(struct loader *L, const char *path, const char *shown,
                                       const struct envtab *env)
{
    for (size_t i = 0; i < L->n_ext; i++)
        if (strcmp(L->ext[i].path, path) == 0)
            return L->ext[i].services;
    struct parsed pf = {0};
    parse_file(L, path, shown, &pf);
    struct ynode *services = NULL;
    struct interp_tree_ctx ic = {.a = L->a, .d = L->d, .env = env, .warned = &L->warned};
    for (size_t j = 0; pf.ok && j < pf.docs.n; j++) {
        struct ynode *doc = pf.docs.docs[j];
        if (!doc || doc->kind != YNODE_MAP)
            continue;
        check_keys(L, doc);
        struct ynode *sv = (struct ynode *)ymap_get(doc, "services");
        if (sv && L->interpolate)
            sv = interp_tree(&ic, sv);
        if (sv && sv->kind == YNODE_MAP)
            services = sv; /* a later document's services (rare) win */
    }
    L->ext = xreallocarray(L->ext, L->n_ext + 1, sizeof *L->ext);
    L->ext[L->n_ext++] = (struct loader_ext){xstrdup(path), services, NULL, NULL};
    return services;
}

/* One service of another file made canonical on its own (paths relative
 * to that file's directory); once per load, so two services extending a
 * broken one report it once. */
static struct ynode *canon_service_once(struct loader *L, struct ynode *key, struct ynode *body,
                                        const char *dir, const struct envtab *env);

static struct ynode *canon_service(struct loader *L, const char *path, struct ynode *key,
                                   struct ynode *body, const char *dir, const struct envtab *env)
{
    struct loader_ext *x = NULL;
    for (size_t i = 0; i < L->n_ext && !x; i++)
        if (strcmp(L->ext[i].path, path) == 0)
            x = &L->ext[i];
    size_t n = x ? strv_len(x->names) : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(x->names[i], key->str) == 0)
            return x->canon[i];
    struct ynode *c = canon_service_once(L, key, body, dir, env);
    if (x) {
        strv_push(&x->names, xstrdup(key->str));
        x->canon = xreallocarray(x->canon, n + 1, sizeof *x->canon);
        x->canon[n] = c;
    }
    return c;
}

static struct ynode *canon_service_once(struct loader *L, struct ynode *key, struct ynode *body,
                                        const char *dir, const struct envtab *env)
{
    struct ypair *svc = arena_allocarray(L->a, 1, sizeof *svc);
    svc[0] = (struct ypair){key, body};
    struct ypair *top = arena_allocarray(L->a, 1, sizeof *top);
    top[0] = (struct ypair){canon_key(L->a, key, "services"), ynode_new_map(L->a, body, svc, 1)};
    struct ynode *root = ynode_new_map(L->a, body, top, 1);
    struct canon_opts co = {
        .a = L->a, .d = L->d, .base_dir = dir, .env = env, .lenient = !L->interpolate};
    size_t errs = L->d->n_errors;
    struct ynode *c = canon_file(&co, root);
    if (L->d->n_errors > errs)
        return NULL;
    return (struct ynode *)ymap_get(ymap_get(c, "services"), key->str);
}

static struct ynode *resolve_service(struct loader *L, struct ext_ctx *x, const struct ynode *name,
                                     struct ynode *body);

static struct ynode *without_extends(struct loader *L, struct ynode *body)
{
    struct ypair *pairs = arena_allocarray(L->a, body->n_pairs, sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i < body->n_pairs; i++)
        if (!key_is(body->pairs[i].key, "extends"))
            pairs[n++] = body->pairs[i];
    struct ynode *r = ynode_new_map(L->a, body, pairs, n);
    r->ordered = body->ordered;
    return r;
}

static struct ynode *resolve_service(struct loader *L, struct ext_ctx *x, const struct ynode *name,
                                     struct ynode *body)
{
    const struct ynode *ext = body && body->kind == YNODE_MAP ? ymap_get(body, "extends") : NULL;
    if (!ext || ext->kind != YNODE_MAP)
        return body;
    const struct ynode *svc = ymap_get(ext, "service"), *file = ymap_get(ext, "file");
    if (!svc)
        return body;
    _cleanup_free_ char *id = xasprintf("%s#%s", x->path, name->str);
    if (!chain_enter(L, id, ext, "extends"))
        return NULL;
    struct ynode *result = NULL;
    struct ext_ctx other = *x;
    _cleanup_free_ char *other_path = NULL, *other_dir = NULL;
    if (file) {
        other_path = path_absolute(x->dir, file->str);
        other_dir = path_dirname(other_path);
        _cleanup_free_ char *shown = path_display(L->cwd, other_path);
        if (!chain_enter(L, other_path, ext, "extends")) /* the file itself, as include does */
            goto out;
        chain_leave(L);
        other.path = other_path;
        other.dir = other_dir;
        other.services = ext_file_services(L, other_path, shown, x->env);
        other.raw = true;
        if (!other.services)
            goto out;
    }
    const struct ypair *basep = other.services && other.services->kind == YNODE_MAP
                                    ? ymap_get_pair(other.services, svc->str)
                                    : NULL;
    if (!basep) {
        diag_error_at(L->d, YPOS(svc), "service %s: cannot extend service %s%s%s: no such service",
                      QN(name), QN(svc), file ? " in " : "", file ? QN(file) : "");
        goto out;
    }
    struct ynode *bbody = basep->value;
    if (other.raw &&
        !(bbody = canon_service(L, other.path, basep->key, bbody, other.dir, other.env)))
        goto out;
    struct ynode *base = resolve_service(L, &other, basep->key, bbody);
    if (!base)
        goto out;
    if (base->kind != YNODE_MAP) {
        result = without_extends(L, body);
        goto out;
    }
    result = merge_service(L->a, without_extends(L, base), without_extends(L, body));
    result->ordered = 1;
out:
    chain_leave(L);
    return result;
}

static struct ynode *apply_extends(struct loader *L, struct ynode *root, const char *path,
                                   const char *dir, const struct envtab *env)
{
    struct ynode *services = ymap_get(root, "services");
    if (!services || services->kind != YNODE_MAP)
        return root;
    bool any = false;
    for (size_t i = 0; i < services->n_pairs && !any; i++)
        any = services->pairs[i].value->kind == YNODE_MAP &&
              ymap_get(services->pairs[i].value, "extends");
    if (!any)
        return root;
    struct ext_ctx x = {path, dir, services, env, false};
    struct ypair *sp = arena_allocarray(L->a, services->n_pairs, sizeof *sp);
    for (size_t i = 0; i < services->n_pairs; i++) {
        sp[i] = services->pairs[i];
        struct ynode *r = resolve_service(L, &x, sp[i].key, sp[i].value);
        if (r)
            sp[i].value = r;
    }
    struct ynode *ns = ynode_new_map(L->a, services, sp, services->n_pairs);
    struct ypair *rp = arena_allocarray(L->a, root->n_pairs, sizeof *rp);
    for (size_t i = 0; i < root->n_pairs; i++) {
        rp[i] = root->pairs[i];
        if (rp[i].value == services)
            rp[i].value = ns;
    }
    struct ynode *r = ynode_new_map(L->a, root, rp, root->n_pairs);
    r->ordered = root->ordered;
    return r;
}

/* --- One file -------------------------------------------------------------- */

/* A file's documents, each interpolated, included, canonical and with its
 * extends resolved, merged in order. */
static struct ynode *parsed_tree(struct loader *L, const char *path, const struct parsed *pf,
                                 const char *project_dir, const struct envtab *env);

static struct ynode *file_tree(struct loader *L, const char *path, const char *display,
                               const char *project_dir, const struct envtab *env)
{
    struct parsed pf = {0};
    if (!chain_enter(L, path, NULL, "include"))
        return NULL;
    chain_leave(L);
    parse_file(L, path, display, &pf);
    return parsed_tree(L, path, &pf, project_dir, env);
}

static struct ynode *parsed_tree(struct loader *L, const char *path, const struct parsed *pf,
                                 const char *project_dir, const struct envtab *env)
{
    if (!chain_enter(L, path, NULL, "include"))
        return NULL;
    struct ynode *acc = NULL;
    const struct ysource *src = pf->src;
    size_t errs = L->d->n_errors;
    const struct ydocs docs = pf->docs;
    _cleanup_free_ char *dir = strcmp(path, "-") ? path_dirname(path) : xstrdup(project_dir);
    if (!pf->ok)
        goto out;
    struct interp_tree_ctx ic = {.a = L->a, .d = L->d, .env = env, .warned = &L->warned};
    for (size_t j = 0; j < docs.n; j++) {
        struct ynode *doc = docs.docs[j];
        if (ynode_is_null(doc))
            continue;
        if (doc->kind != YNODE_MAP) {
            diag_error_at(L->d, YPOS(doc),
                          "a compose file must be a mapping at the top level, not %s",
                          ynode_describe(doc));
            continue;
        }
        check_keys(L, doc);
        if (L->interpolate)
            doc = interp_tree(&ic, doc);
        struct canon_opts co = {
            .a = L->a, .d = L->d, .base_dir = project_dir, .env = env, .lenient = !L->interpolate};
        struct ynode *c = canon_file(&co, doc);
        const struct ynode *inc = ymap_get(doc, "include");
        if (inc && !ynode_is_null(inc)) {
            size_t n = inc->kind == YNODE_SEQ ? inc->n_items : 1;
            for (size_t i = 0; i < n; i++) {
                const struct ynode *entry = inc->kind == YNODE_SEQ ? inc->items[i] : inc;
                struct ynode *t = include_one(L, entry, project_dir, env);
                if (t)
                    c = add_included(L, c, t, entry);
            }
            /* The include key itself is done with. */
            struct ypair *pp = arena_allocarray(L->a, c->n_pairs, sizeof *pp);
            size_t k = 0;
            for (size_t i = 0; i < c->n_pairs; i++)
                if (!key_is(c->pairs[i].key, "include"))
                    pp[k++] = c->pairs[i];
            struct ynode *r = ynode_new_map(L->a, c, pp, k);
            r->ordered = 1;
            c = r;
        }
        c = apply_extends(L, c, path, dir, env);
        acc = merge_trees(L->a, acc, c);
    }
out:
    chain_leave(L);
    if (L->d->n_errors > errs || !pf->ok)
        return NULL;
    if (!acc) {
        static const struct ynode empty = {.kind = YNODE_MAP, .ordered = 1};
        struct ynode *e = arena_alloc(L->a, sizeof *e);
        *e = empty;
        e->src = src;
        e->line = 1;
        e->col = 1;
        e->weight = 1;
        acc = e;
    }
    return acc;
}

struct ynode *loader_project(struct loader *L, char *const *paths, char *const *names,
                             const char *project_dir, const struct envtab *env)
{
    struct ynode *acc = NULL;
    bool failed = false;
    for (size_t i = 0; paths[i]; i++) {
        struct ynode *t = file_tree(L, paths[i], names[i], project_dir, env);
        if (!t) {
            failed = true;
            continue;
        }
        acc = merge_trees(L->a, acc, t);
    }
    return failed ? NULL : acc;
}

/* The last non-empty top-level `name:` of the files' documents, as
 * compose-go reads it: before interpolation. */
static struct ynode *last_name(const struct parsed *pf, size_t n)
{
    struct ynode *name = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < pf[i].docs.n; j++) {
            struct ynode *doc = pf[i].docs.docs[j];
            struct ynode *v =
                doc && doc->kind == YNODE_MAP ? (struct ynode *)ymap_get(doc, "name") : NULL;
            if (v && !ynode_is_null(v) && !(v->kind == YNODE_SCALAR && v->len == 0))
                name = v; /* not a string: the resolver says so */
        }
    return name;
}

struct ynode *loader_main(struct loader *L, char *const *paths, char *const *names,
                          const char *project_dir, const struct envtab *env,
                          const struct loader_name *ln, char **name)
{
    size_t n = strv_len(paths);
    struct parsed *pf = xcalloc(n ? n : 1, sizeof *pf);
    for (size_t i = 0; i < n; i++)
        parse_file(L, paths[i], names[i], &pf[i]);
    struct ynode *acc = NULL;
    struct envtab vars = {0};
    _cleanup_free_ char *def = NULL;
    struct ynode *nn = last_name(pf, n);
    if (nn && nn->kind == YNODE_SCALAR && L->interpolate) {
        struct interp_tree_ctx ic = {.a = L->a, .d = L->d, .env = env, .warned = &L->warned};
        nn = interp_tree(&ic, nn);
    }
    if (ln->resolve(ln->ud, nn, name) < 0)
        goto out;
    /* COMPOSE_PROJECT_NAME is the project's name while the files are
     * interpolated, as compose-go defines it. */
    def = str_join("COMPOSE_PROJECT_NAME", '=', *name);
    char *const first[] = {def, NULL};
    envtab_add(&vars, first);
    envtab_add(&vars, env->entries);
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        struct ynode *t = parsed_tree(L, paths[i], &pf[i], project_dir, &vars);
        if (!t) {
            failed = true;
            continue;
        }
        acc = merge_trees(L->a, acc, t);
    }
    if (failed)
        acc = NULL;
out:
    envtab_free(&vars);
    free(pf);
    return acc;
}
