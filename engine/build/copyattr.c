/* SPDX-License-Identifier: Apache-2.0 */
/* What COPY and ADD set on what they write: --chmod (octal, or symbolic
 * clauses as chmod(1): "u+x,go=rX"), the owners of --chown (names from
 * the destination's own /etc/passwd and /etc/group, read with a size cap,
 * never through NSS), and the extended attributes docker keeps. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/build/copy_int.h"
#include "engine/runtime/user.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

int copy_parse_chmod(const char *s, struct copy_mode *m, struct berr *e)
{
    *m = (struct copy_mode){0};
    if (!s)
        return 0;
    m->given = true;
    size_t n = strspn(s, "01234567");
    if (n > 0 && !s[n]) {
        if (n > 4)
            return berr_set(e, -EINVAL, "--chmod=%s: an octal mode has at most 4 digits", s);
        m->octal = true;
        m->mode = (mode_t)strtoul(s, NULL, 8);
        return 0;
    }
    for (const char *p = s;;) {
        p += strspn(p, "ugoa");
        if (!strchr("+-=", *p) || !*p)
            return berr_set(e, -EINVAL,
                            "--chmod=%s: not an octal mode nor symbolic clauses like u+x,go=rX", s);
        while (*p && strchr("+-=", *p))
            p += 1 + strspn(p + 1, "rwxXst");
        if (!*p)
            break;
        if (*p++ != ',')
            return berr_set(e, -EINVAL, "--chmod=%s: unexpected '%c'", s, p[-1]);
    }
    m->sym = s;
    return 0;
}

mode_t copy_apply_chmod(const struct copy_mode *m, mode_t cur, bool dir)
{
    if (!m->given)
        return cur & 07777;
    if (m->octal)
        return m->mode;
    cur &= 07777;
    for (const char *p = m->sym; *p;) {
        mode_t who = 0;
        for (; *p && strchr("ugoa", *p); p++)
            who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 00007 : 07777;
        if (!who)
            who = 07777;
        while (*p && strchr("+-=", *p)) {
            char op = *p++;
            mode_t perm = 0;
            for (; *p && strchr("rwxXst", *p); p++)
                perm |= *p == 'r'   ? 0444
                        : *p == 'w' ? 0222
                        : *p == 'x' ? 0111
                        : *p == 'X' ? (dir || (cur & 0111) ? 0111 : 0)
                        : *p == 's' ? 06000
                                    : 01000;
            perm &= who;
            if (op == '+')
                cur |= perm;
            else if (op == '-')
                cur &= ~perm;
            else
                cur = (cur & ~who) | perm;
        }
        if (*p == ',')
            p++;
    }
    return cur;
}

/* The destination's /etc file, capped; NULL text when it is absent. */
static int read_etc(int rootfd, const char *path, char **text, size_t *len, struct berr *e)
{
    *text = NULL;
    *len = 0;
    _cleanup_close_ int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return berr_errno(e, -fd, "opening /%s", path);
    _cleanup_free_ char *what = xasprintf("/%s", path);
    return fs_read_fd(fd, what, COPY_ETC_MAX, text, len, e);
}

static bool numeric(const char *s, size_t n)
{
    return n > 0 && strspn(s, "0123456789") >= n;
}

/* --chown: names from the destination's /etc/passwd and /etc/group;
 * "user" alone (or "uid") gives the group the same number, as docker. */
int copy_resolve_owner(const char *spec, int rootfd, uid_t *uid, gid_t *gid, struct berr *e)
{
    *uid = 0;
    *gid = 0;
    if (!spec || !*spec)
        return 0;
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    bool names =
        !numeric(spec, ulen) || (colon && colon[1] && !numeric(colon + 1, strlen(colon + 1)));
    _cleanup_free_ char *passwd = NULL, *group = NULL;
    size_t plen = 0, glen = 0;
    int r;
    if (names && ((r = read_etc(rootfd, "etc/passwd", &passwd, &plen, e)) < 0 ||
                  (r = read_etc(rootfd, "etc/group", &group, &glen, e)) < 0))
        return berr_wrap(e, "--chown=%s", spec);
    struct user_ids ids;
    char err[256];
    if (user_resolve(spec, passwd, plen, group, glen, &ids, err, sizeof err) < 0)
        return berr_set(e, -EINVAL, "--chown=%s: %s", spec, err);
    *uid = ids.uid;
    *gid = colon ? ids.gid : (gid_t)ids.uid;
    return 0;
}

/* The extended attributes docker keeps on what it copies. */
bool copy_kept_xattr(const char *name)
{
    return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}
