/* SPDX-License-Identifier: Apache-2.0 */
/* compose_load: discovery, variables, reading (parse, interpolate, include,
 * canonical form, extends) and merging, naming, profiles and normalizing,
 * validation and the model, in that order. Every stage reports into one diag so the user sees all
 * the problems of a file together.
 * Not here: any stage's own rules (each has its file: files.c, merge.c,
 * normalize.c, validate.c, model.c). */
#include "compose/compose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compose/arena.h"
#include "compose/canon.h"
#include "compose/files.h"
#include "compose/internal.h"
#include "compose/normalize.h"
#include "compose/validate.h"
#include "compose/diag.h"
#include "compose/discover.h"
#include "compose/dotenv.h"
#include "compose/envtab.h"
#include "compose/interp.h"
#include "compose/merge.h"
#include "compose/model.h"
#include "compose/path.h"
#include "compose/project_name.h"
#include "compose/units.h"
#include "compose/yaml.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

extern char **environ;

static int max_bytes(char *const *env, struct diag *d, size_t *out)
{
    const char *s = strv_env_get(env, "BERTH_MAX_COMPOSE_BYTES");
    *out = COMPOSE_MAX_BYTES_DEFAULT;
    if (!s || !*s)
        return 0;
    int64_t v;
    if (parse_size(s, &v) < 0 || v <= 0) {
        diag_error(d,
                   "BERTH_MAX_COMPOSE_BYTES: invalid size %s (use a number of bytes, or "
                   "a size such as \"64m\")",
                   QS(s));
        return -EINVAL;
    }
    *out = (size_t)v;
    return 0;
}

/* The variables for interpolation: the shell's, then those of --env-file
 * files (in order) or of the project directory's .env. */
static int load_env(const struct compose_opts *o, char *const *env, const char *cwd,
                    const char *project_dir, struct diag *d, struct envtab *out)
{
    envtab_add(out, env);
    int ret = 0;
    if (o->env_files && o->env_files[0]) {
        for (size_t i = 0; o->env_files[i]; i++) {
            _cleanup_free_ char *path = path_absolute(cwd, o->env_files[i]);
            _cleanup_strv_ char **vars = NULL;
            int r = dotenv_read(path, o->env_files[i], out, false, d, &vars);
            if (r == -ENOENT)
                diag_error(d, "couldn't find env file: %s", path);
            if (r < 0)
                ret = -EINVAL;
            else
                envtab_add(out, vars);
        }
        return ret;
    }
    const char *off = strv_env_get(env, "COMPOSE_DISABLE_ENV_FILE");
    if (off && (strcmp(off, "1") == 0 || strcasecmp(off, "true") == 0))
        return 0;
    _cleanup_free_ char *path = path_absolute(project_dir, ".env");
    _cleanup_free_ char *shown = path_display(cwd, path);
    _cleanup_strv_ char **vars = NULL;
    int r = dotenv_read(path, shown, out, false, d, &vars);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    envtab_add(out, vars);
    return 0;
}

static char *current_dir(const char *given, struct diag *d)
{
    _cleanup_free_ char *real = getcwd(NULL, 0);
    if (!real && (!given || given[0] != '/')) {
        diag_error(d, "cannot determine the working directory: %s", strerror(errno));
        return NULL;
    }
    if (!given)
        return path_normalize_dup(real);
    return path_absolute(real ? real : "/", given);
}

/* The profiles to enable: --profile values and COMPOSE_PROFILES. */
static char **active_profiles(const struct compose_opts *o, const struct envtab *env)
{
    char **v = strv_dup(o->profiles);
    const char *cp = envtab_get(env, "COMPOSE_PROFILES", 16);
    if (cp && *cp) {
        _cleanup_free_ char *copy = xstrdup(cp);
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            if (*t)
                strv_push(&v, xstrdup(t));
        }
    }
    return v;
}

/* The project's name from -p, COMPOSE_PROJECT_NAME, the files' `name:` or
 * the directory (compose/project_name.c), for loader_main. */
struct name_ctx {
    const char *flag;
    char *const *env;
    const char *dir;
    struct diag *d;
};

static int resolve_name(void *ud, const struct ynode *name_node, char **name)
{
    struct name_ctx *c = ud;
    return project_name_resolve(c->flag, c->env, name_node, c->dir, c->d, name);
}

int compose_load(const struct compose_opts *o, struct project **out, struct berr *e)
{
    return compose_load_from_memory(o, NULL, 0, out, e);
}

int compose_load_from_memory(const struct compose_opts *o, const char *buf, size_t len,
                             struct project **out, struct berr *e)
{
    struct diag d = {.warn = o->warn,
                     .warn_userdata = o->warn_userdata,
                     .quiet_unsupported = o->quiet_unsupported};
    struct compose_tree *tree = xcalloc(1, sizeof *tree);
    struct arena *a = &tree->arena;
    char *const *env = o->environ ? o->environ : environ;
    struct discovery dv = {0};
    struct project *p = NULL;
    struct envtab vars = {0};
    struct loader L = {.a = a, .d = &d, .interpolate = !o->no_interpolate};
    _cleanup_strv_ char **vars_strv = NULL, **disabled = NULL, **active = NULL;
    _cleanup_strv_ char **paths = NULL, **names = NULL;
    *out = NULL;

    size_t max;
    int code = -EINVAL; /* what the caller gets back on failure */
    _cleanup_free_ char *cwd = current_dir(o->cwd, &d);
    if (!cwd || max_bytes(env, &d, &max) < 0)
        goto fail;
    int r = compose_discover(o, cwd, env, &d, &dv);
    if (r < 0) {
        code = r; /* -ENOENT: no compose file found */
        goto fail;
    }
    if (load_env(o, env, cwd, dv.project_dir, &d, &vars) < 0)
        goto fail;
    vars_strv = envtab_strv(&vars);

    p = xcalloc(1, sizeof *p);
    p->tree = tree;
    tree = NULL;
    L.max_bytes = max;
    L.cwd = cwd;
    if (buf && dv.n) {
        L.mem_path = dv.files[0].path;
        L.mem = buf;
        L.mem_len = len;
    }
    for (size_t i = 0; i < dv.n; i++) {
        strv_push(&paths, xstrdup(dv.files[i].path));
        strv_push(&names, xstrdup(dv.files[i].display));
    }
    struct name_ctx nc = {
        .flag = o->project_name, .env = vars_strv, .dir = dv.project_dir, .d = &d};
    const struct loader_name ln = {.resolve = resolve_name, .ud = &nc};
    struct ynode *root = loader_main(&L, paths, names, dv.project_dir, &vars, &ln, &p->name);
    p->files = strvec_take(&L.paths);
    p->file_names = strvec_take(&L.names);
    if (!root)
        goto fail;
    if (root->n_pairs == 0) {
        diag_error_at(&d, dv.files[0].display, 0, 0, "empty compose file: no services defined");
        goto fail;
    }
    p->working_dir = xstrdup(dv.project_dir);
    p->tree->all_profiles = normalize_all_profiles(root);
    active = active_profiles(o, &vars);
    struct norm_opts no = {
        .a = a,
        .d = &d,
        .env = &vars,
        .project_name = p->name,
        .cwd = cwd,
        .profiles = active,
        .services = o->services,
        .resolve_env = !o->no_interpolate,
    };
    root = normalize_project(&no, root, &disabled);
    if (d.n_errors)
        goto fail;
    struct canon_opts co = {
        .a = a,
        .d = &d,
        .base_dir = dv.project_dir,
        .env = &vars,
        .final = true,
        .lenient = o->no_interpolate,
    };
    root = canon_file(&co, root);
    if (d.n_errors)
        goto fail;
    if (validate_project(&d, root, disabled, &p->start_order) < 0)
        goto fail;
    p->tree->root = root;
    p->tree->interpolated = !o->no_interpolate;
    if (model_build(a, root, &vars, p, &d) < 0)
        goto fail;
    if (d.n_errors)
        goto fail;
    loader_release(&L);
    envtab_free(&vars);
    discovery_free(&dv);
    *out = p;
    return 0;

fail:
    loader_release(&L);
    envtab_free(&vars);
    discovery_free(&dv);
    if (tree) {
        arena_free(&tree->arena);
        free(tree);
    }
    project_free(p);
    if (d.n_errors == 0)
        diag_error(&d, "loading the compose files failed");
    diag_to_berr(&d, e);
    if (e)
        e->code = code;
    return code;
}

void project_free(struct project *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_services; i++)
        service_clear(&p->services[i]);
    free(p->services);
    project_defs_clear(p);
    free(p->name);
    free(p->working_dir);
    strv_free(p->files);
    strv_free(p->file_names);
    free(p->start_order);
    if (p->tree) {
        arena_free(&p->tree->arena);
        strv_free(p->tree->all_profiles);
        free(p->tree);
    }
    free(p);
}

const struct service *project_service(const struct project *p, const char *name)
{
    for (size_t i = 0; p && i < p->n_services; i++)
        if (strcmp(p->services[i].name, name) == 0)
            return &p->services[i];
    return NULL;
}
