/* SPDX-License-Identifier: Apache-2.0 */
/* The project name: its precedence (-p, COMPOSE_PROJECT_NAME, `name:`, the
 * directory), its rule, and normalizing a directory name into one. Not here:
 * the directory itself (compose/discover.c). */
#include "compose/project_name.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "compose/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

#define INVALID_NAME_HINT                                                                          \
    "must consist only of lowercase alphanumeric characters, hyphens, and underscores as well "    \
    "as start with a letter or number"

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

const char *project_name_problem(const char *s)
{
    if (!project_name_is_valid(s))
        return INVALID_NAME_HINT;
    if (strlen(s) > COMPOSE_PROJECT_NAME_MAX)
        return "longer than " STR(COMPOSE_PROJECT_NAME_MAX) " characters";
    return NULL;
}

int compose_project_name_check(const char *name, const char *from, struct berr *e)
{
    const char *why = project_name_problem(name);
    if (!why)
        return 0;
    if (from)
        return berr_set(e, -EINVAL, "invalid project name %s (from %s): %s", QS(name), from, why);
    return berr_set(e, -EINVAL, "invalid project name %s: %s", QS(name), why);
}

bool project_name_is_valid(const char *s)
{
    if (!s[0] || s[0] == '_' || s[0] == '-')
        return false;
    for (; *s; s++)
        if (!name_char(*s))
            return false;
    return true;
}

char *project_name_normalize(const char *s)
{
    char *out = xmalloc(strlen(s) + 1);
    size_t o = 0;
    for (; *s; s++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        if (!name_char(c))
            continue;
        if (o == 0 && (c == '_' || c == '-'))
            continue;
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

int project_name_resolve(const char *flag, char *const *env, const struct ynode *name_node,
                         const char *project_dir, struct diag *d, char **out)
{
    const char *from_env = strv_env_get(env, "COMPOSE_PROJECT_NAME");
    const char *why;
    if (flag && *flag) {
        if ((why = project_name_problem(flag))) {
            diag_error(d, "invalid project name %s: %s", QS(flag), why);
            return -EINVAL;
        }
        *out = xstrdup(flag);
        return 0;
    }
    if (from_env && *from_env) {
        if ((why = project_name_problem(from_env))) {
            diag_error(d, "invalid project name %s (from COMPOSE_PROJECT_NAME): %s", QS(from_env),
                       why);
            return -EINVAL;
        }
        *out = xstrdup(from_env);
        return 0;
    }
    if (name_node && !ynode_is_null(name_node)) {
        if (name_node->kind != YNODE_SCALAR || yscalar_has_nul(name_node)) {
            diag_error_at(d, YPOS(name_node), "name: expected a string, got %s",
                          ynode_describe(name_node));
            return -EINVAL;
        }
        /* Normalized as compose-go does a file's name ("My App" is
         * "myapp"); nothing left means the directory's name. */
        char *norm = project_name_normalize(name_node->str);
        if (*norm) {
            if ((why = project_name_problem(norm))) {
                diag_error_at(d, YPOS(name_node), "invalid project name %s: %s", QN(name_node),
                              why);
                free(norm);
                return -EINVAL;
            }
            *out = norm;
            return 0;
        }
        free(norm);
    }
    const char *base = path_basename(project_dir);
    char *norm = project_name_normalize(base);
    if (!*norm) {
        diag_error(d,
                   "project name must not be empty: the project directory's name %s has no "
                   "usable characters (use -p NAME or a top-level name:)",
                   QS(base));
        free(norm);
        return -EINVAL;
    }
    if (strlen(norm) > COMPOSE_PROJECT_NAME_MAX) {
        diag_error(d,
                   "project name %s, from the project directory's name, is longer than " STR(
                       COMPOSE_PROJECT_NAME_MAX) " characters (use -p NAME or a top-level name:)",
                   QS(norm));
        free(norm);
        return -EINVAL;
    }
    *out = norm;
    return 0;
}
