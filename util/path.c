/* SPDX-License-Identifier: Apache-2.0 */
/* The lexical path normaliser (util/path.h). Not here: anything that
 * looks at the file system. */
#include "util/path.h"

#include <errno.h>
#include <string.h>

#include "util/xalloc.h"

int path_normalize(const char *path, unsigned flags, char *out, size_t cap)
{
    if (!path || ((flags & PATH_NORM_ABSOLUTE_ONLY) && path[0] != '/'))
        return -EINVAL;
    /* out[0, base) is the root's "/" when the result is absolute; ".."
     * never removes it. */
    size_t base = (flags & PATH_NORM_STRIP_ROOT) ? 0 : 1;
    if (cap < base + 1)
        return -ENAMETOOLONG;
    size_t n = 0;
    if (base)
        out[n++] = '/';
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        if (len == 1 && s[0] == '.')
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > base && out[n - 1] != '/')
                n--;
            if (n > base)
                n--; /* the separator */
            continue;
        }
        size_t sep = n > base ? 1 : 0;
        if (n + sep + len + 1 > cap)
            return -ENAMETOOLONG;
        if (sep)
            out[n++] = '/';
        memcpy(out + n, s, len);
        n += len;
    }
    out[n] = '\0';
    return 0;
}

char *path_normalize_dup(const char *path)
{
    /* The result is at most one byte longer than path (a leading "/"). */
    size_t cap = strlen(path) + 2;
    char *out = xmalloc(cap);
    path_normalize(path, 0, out, cap);
    return out;
}
