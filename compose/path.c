/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path helpers with Go's filepath semantics: clean, absolute, dirname,
 * basename, and the short form shown to users; no file-system access. Not
 * here: paths resolved inside a root (util/fs.c), mount target cleaning
 * (engine/runtime/mountspec.c). */
#include "compose/path.h"

#include <string.h>

#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/xalloc.h"

char *path_absolute(const char *base, const char *p)
{
    if (p[0] == '/')
        return path_normalize_dup(p);
    _cleanup_free_ char *joined = str_join(base, '/', p);
    return path_normalize_dup(joined);
}

char *path_dirname(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return xstrdup("/");
    return xstrndup(p, (size_t)(slash - p));
}

const char *path_basename(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash || slash[1] == '\0')
        return p;
    return slash + 1;
}

char *path_display(const char *cwd, const char *abs)
{
    size_t n = strlen(cwd);
    if (strcmp(cwd, "/") == 0)
        return xstrdup(abs[1] ? abs + 1 : abs);
    if (strncmp(abs, cwd, n) == 0 && abs[n] == '/' && abs[n + 1])
        return xstrdup(abs + n + 1);
    return xstrdup(abs);
}
