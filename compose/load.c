/* compose_load: discovery, reading, parsing, merging, naming and the model,
 * in that order. Every stage reports into one diag so the user sees all the
 * problems of a file together. */
#include "compose/compose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compose/arena.h"
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
static int read_one(const struct compose_file *f, size_t max, struct diag *d, char **buf,
                    size_t *len)
{
    int r;
    struct berr e = BERR_INIT;
    if (strcmp(f->path, "-") == 0)
        r = read_stdin(max, buf, len);
    else
        r = fs_read_file(AT_FDCWD, f->path, max, buf, len, &e);
    berr_clear(&e);
    if (r == -EFBIG)
        diag_error_at(d, f->display, 0, 0,
                      "file is larger than the limit of %zu bytes; refusing it (set "
                      "BERTH_MAX_COMPOSE_BYTES to raise the limit)",
                      max);
    else if (r == -EINVAL)
        diag_error_at(d, f->display, 0, 0, "not a regular file");
    else if (r < 0)
        diag_error_at(d, f->display, 0, 0, "cannot read: %s", strerror(-r));
    return r;
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

/* Parses every file and merges all their documents, in order. */
static int read_and_merge(struct arena *a, const struct discovery *dv, size_t max,
                          const struct envtab *env, bool interpolate, struct diag *d,
                          struct ynode **merged)
{
    _cleanup_strv_ char **warned = NULL;
    struct interp_tree_ctx ic = {.a = a, .d = d, .env = env, .warned = &warned};
    struct yaml_limits lim;
    yaml_compose_limits(&lim);
    struct ynode *acc = NULL;
    int ret = 0;
    for (size_t i = 0; i < dv->n; i++) {
        struct ysource *src = arena_alloc(a, sizeof *src);
        src->name = arena_strdup(a, dv->files[i].display);
        src->index = i;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (read_one(&dv->files[i], max, d, &buf, &len) < 0) {
            ret = -EINVAL;
            continue;
        }
        struct ydocs docs;
        if (yaml_parse(a, src, buf, len, &lim, d, &docs) < 0) {
            ret = -EINVAL;
            continue;
        }
        /* Per-file stages (interpolation of scalar values, then include and
         * extends) belong here: on this file's trees, before the merge. */
        for (size_t j = 0; j < docs.n; j++) {
            struct ynode *doc = docs.docs[j];
            if (ynode_is_null(doc))
                continue;
            if (doc->kind != YNODE_MAP) {
                diag_error_at(d, YPOS(doc),
                              "a compose file must be a mapping at the top level, "
                              "not %s",
                              ynode_describe(doc));
                ret = -EINVAL;
                continue;
            }
            if (interpolate) {
                size_t errs = d->n_errors;
                doc = interp_tree(&ic, doc);
                if (d->n_errors > errs)
                    ret = -EINVAL;
            }
            acc = merge_trees(a, acc, doc);
        }
    }
    if (ret == 0 && !acc) {
        diag_error_at(d, dv->files[0].display, 0, 0, "empty compose file: no services defined");
        ret = -EINVAL;
    }
    *merged = acc;
    return ret;
}

static char *current_dir(const char *given, struct diag *d)
{
    _cleanup_free_ char *real = getcwd(NULL, 0);
    if (!real && (!given || given[0] != '/')) {
        diag_error(d, "cannot determine the working directory: %s", strerror(errno));
        return NULL;
    }
    if (!given)
        return path_clean(real);
    return path_absolute(real ? real : "/", given);
}

int compose_load(const struct compose_opts *o, struct project **out, struct berr *e)
{
    struct diag d = {.warn = o->warn, .warn_userdata = o->warn_userdata};
    _cleanup_arena_ struct arena a = ARENA_INIT;
    char *const *env = o->environ ? o->environ : environ;
    struct discovery dv = {0};
    struct project *p = NULL;
    struct envtab vars = {0};
    _cleanup_strv_ char **vars_strv = NULL;
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
    p->files = xcalloc(dv.n + 1, sizeof *p->files);
    p->file_names = xcalloc(dv.n + 1, sizeof *p->file_names);
    for (size_t i = 0; i < dv.n; i++) {
        p->files[i] = xstrdup(dv.files[i].path);
        p->file_names[i] = xstrdup(dv.files[i].display);
    }

    struct ynode *root = NULL;
    if (read_and_merge(&a, &dv, max, &vars, !o->no_interpolate, &d, &root) < 0)
        goto fail;
    if (project_name_resolve(o->project_name, vars_strv, ymap_get(root, "name"), dv.project_dir, &d,
                             &p->name) < 0)
        goto fail;
    p->working_dir = TAKE_PTR(dv.project_dir);
    if (model_build(&a, root, &vars, p, &d) < 0)
        goto fail;
    if (d.n_errors)
        goto fail;
    envtab_free(&vars);
    discovery_free(&dv);
    *out = p;
    return 0;

fail:
    envtab_free(&vars);
    discovery_free(&dv);
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
    free(p);
}

const struct service *project_service(const struct project *p, const char *name)
{
    for (size_t i = 0; p && i < p->n_services; i++)
        if (strcmp(p->services[i].name, name) == 0)
            return &p->services[i];
    return NULL;
}
