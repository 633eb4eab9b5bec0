/* SPDX-License-Identifier: Apache-2.0 */
/* Which compose files and which project directory, as docker compose picks
 * them (-f, COMPOSE_FILE, the default names searched upward, override files).
 * Not here: reading the files (compose/files.c), the project name
 * (compose/project_name.c). */
#include "compose/discover.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/path.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static const char *const default_names[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                            "docker-compose.yaml", NULL};
static const char *const override_names[] = {"compose.override.yml", "compose.override.yaml",
                                             "docker-compose.override.yml",
                                             "docker-compose.override.yaml", NULL};

static void add_file(struct discovery *dv, char *path, char *display)
{
    dv->files = xreallocarray(dv->files, dv->n + 1, sizeof *dv->files);
    dv->files[dv->n++] = (struct compose_file){path, display};
}

/* A file named by the user (-f or COMPOSE_FILE): shown as typed. */
static int add_given(struct discovery *dv, const char *cwd, const char *f, struct diag *d)
{
    if (strcmp(f, "-") == 0) {
        for (size_t i = 0; i < dv->n; i++)
            if (strcmp(dv->files[i].path, "-") == 0) {
                diag_error(d, "-f -: standard input can be read only once");
                return -EINVAL;
            }
        add_file(dv, xstrdup("-"), xstrdup("<stdin>"));
        return 0;
    }
    add_file(dv, path_absolute(cwd, f), xstrdup(f));
    return 0;
}

/* The existing names of list in dir, in list order. */
static char **find_files(const char *dir, const char *const *list)
{
    char **found = NULL;
    for (size_t i = 0; list[i]; i++) {
        _cleanup_free_ char *p = path_absolute(dir, list[i]);
        struct stat st;
        if (stat(p, &st) == 0)
            strv_push(&found, TAKE_PTR(p));
    }
    return found;
}

static char *join_display(const char *cwd, char **paths)
{
    _cleanup_strv_ char **disp = xcalloc(strv_len(paths) + 1, sizeof(char *));
    for (size_t i = 0; paths[i]; i++)
        disp[i] = path_display(cwd, paths[i]);
    return strv_join(disp, ", ");
}

/* First match of list in dir; warns as compose does when there are several. */
static char *pick(const char *cwd, const char *dir, const char *const *list, const char *what,
                  struct diag *d)
{
    _cleanup_strv_ char **found = find_files(dir, list);
    if (!found)
        return NULL;
    if (found[1]) {
        _cleanup_free_ char *all = join_display(cwd, found);
        _cleanup_free_ char *winner = path_display(cwd, found[0]);
        diag_warn(d, "Found multiple %s files with supported names: %s", what, all);
        diag_warn(d, "Using %s", winner);
    }
    return xstrdup(found[0]);
}

static int search(struct discovery *dv, const char *cwd, const char *start, struct diag *d)
{
    _cleanup_free_ char *dir = xstrdup(start);
    for (;;) {
        char *winner = pick(cwd, dir, default_names, "config", d);
        if (winner) {
            add_file(dv, winner, path_display(cwd, winner));
            char *over = pick(cwd, dir, override_names, "override", d);
            if (over)
                add_file(dv, over, path_display(cwd, over));
            return 0;
        }
        if (strcmp(dir, "/") == 0)
            break;
        char *parent = path_dirname(dir);
        free(dir);
        dir = parent;
    }
    diag_error(d,
               "no configuration file provided: not found (looked for compose.yaml, "
               "compose.yml, docker-compose.yml or docker-compose.yaml in %s and its parents; "
               "use -f to name one)",
               start);
    return -ENOENT;
}

int compose_discover(const struct compose_opts *o, const char *cwd, char *const *env,
                     struct diag *d, struct discovery *out)
{
    struct discovery dv = {0};
    int r = 0;
    _cleanup_free_ char *pdir =
        o->project_dir && *o->project_dir ? path_absolute(cwd, o->project_dir) : NULL;
    const char *compose_file = strv_env_get(env, "COMPOSE_FILE");
    if (o->files && o->files[0]) {
        for (size_t i = 0; o->files[i] && r == 0; i++)
            r = add_given(&dv, cwd, o->files[i], d);
    } else if (compose_file && *compose_file) {
        const char *sep = strv_env_get(env, "COMPOSE_PATH_SEPARATOR");
        if (!sep || !*sep)
            sep = ":";
        size_t seplen = strlen(sep);
        const char *s = compose_file;
        while (r == 0) {
            const char *e = strstr(s, sep);
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (len > 0) {
                _cleanup_free_ char *one = xstrndup(s, len);
                r = add_given(&dv, cwd, one, d);
            }
            if (!e)
                break;
            s = e + seplen;
        }
        if (r == 0 && dv.n == 0) {
            diag_error(d, "COMPOSE_FILE names no file");
            r = -EINVAL;
        }
    } else {
        r = search(&dv, cwd, pdir ? pdir : cwd, d);
    }
    if (r < 0) {
        discovery_free(&dv);
        return r;
    }
    if (pdir) {
        dv.project_dir = TAKE_PTR(pdir);
    } else {
        for (size_t i = 0; i < dv.n && !dv.project_dir; i++)
            if (strcmp(dv.files[i].path, "-") != 0)
                dv.project_dir = path_dirname(dv.files[i].path);
        if (!dv.project_dir)
            dv.project_dir = xstrdup(cwd);
    }
    *out = dv;
    return 0;
}

void discovery_free(struct discovery *dv)
{
    for (size_t i = 0; i < dv->n; i++) {
        free(dv->files[i].path);
        free(dv->files[i].display);
    }
    free(dv->files);
    free(dv->project_dir);
    *dv = (struct discovery){0};
}
