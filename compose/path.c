/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path helpers with Go's filepath semantics: clean, absolute, dirname,
 * basename, and the short form shown to users; no file-system access. Not
 * here: paths resolved inside a root (util/fs.c), mount target cleaning
 * (engine/runtime/mountspec.c). */
#include "compose/path.h"

#include <string.h>

#include "compose/strvec.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

char *path_clean(const char *p)
{
    size_t n = strlen(p);
    char *out = xmalloc(n + 2);
    size_t o = 0;
    out[o++] = '/';
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 1 && s[0] == '.') {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            /* Drop the last component; ".." of the root is the root. */
            while (o > 1 && out[o - 1] != '/')
                o--;
            if (o > 1)
                o--;
        } else {
            if (o > 1)
                out[o++] = '/';
            memcpy(out + o, s, len);
            o += len;
        }
        s += len;
    }
    out[o] = '\0';
    return out;
}

char *path_absolute(const char *base, const char *p)
{
    if (p[0] == '/')
        return path_clean(p);
    _cleanup_free_ char *joined = str_join(base, '/', p);
    return path_clean(joined);
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
