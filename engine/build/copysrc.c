/* SPDX-License-Identifier: Apache-2.0 */
/* COPY and ADD sources: a source word resolved inside the source root
 * (symlinks followed by hand, one component at a time, so that ".." and
 * absolute targets stay inside and every path is checked against the
 * .dockerignore), its wildcards expanded as BuildKit does (Go's
 * filepath.Match on each segment below the first one with a wildcard),
 * and the walk of what it names. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <string.h>
#include <unistd.h>

#include "engine/build/copy_int.h"
#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

void copy_res_clear(struct copy_res *r)
{
    if (r->pfd >= 0)
        close(r->pfd);
    r->pfd = -1;
    free(r->name);
    free(r->rel);
    free(r->base);
    r->name = r->rel = r->base = NULL;
}

static char *join(const char *dir, const char *name)
{
    return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

static int open_dir(int dirfd, const char *name)
{
    return fs_openat2(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, BENEATH);
}

static const char *where(const struct copy_ctx *c)
{
    return c->src->is_context ? "the build context" : "the source";
}

static int not_found(const struct copy_ctx *c, const char *src, struct berr *e)
{
    return berr_set(e, -ENOENT, "\"%s\": no such file or directory in %s", src, where(c));
}

/* The .dockerignore's view of rel: 0 visible, 1 excluded (as if absent),
 * 2 excluded but a directory that "!" patterns may bring things back from. */
static int ignored(const struct copy_ctx *c, const char *rel, bool dir)
{
    const struct dockerignore *di = c->src->ignore;
    if (!di || !*rel || !dockerignore_excluded(di, rel))
        return 0;
    return dir && dockerignore_may_reinclude(di, rel) ? 2 : 1;
}

/* Lexically: does path climb above its root? */
static bool climbs(const char *path)
{
    int depth = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return true;
        } else if (n && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
    }
    return false;
}

struct resolver {
    struct copy_ctx *c;
    const char *src; /* as written, for messages */
    int cur;         /* the directory reached */
    char *cur_rel;
    int links;
};

/* Steps up to cur_rel's parent (never above the root). */
static int step_up(struct resolver *rs, struct berr *e)
{
    if (!*rs->cur_rel) {
        if (rs->c->src->is_context)
            return berr_set(e, -EXDEV, "\"%s\": forbidden path outside the build context", rs->src);
        return 0; /* as in the root: ".." of "/" is "/" */
    }
    char *slash = strrchr(rs->cur_rel, '/');
    if (slash)
        *slash = '\0';
    else
        rs->cur_rel[0] = '\0';
    int fd = open_dir(rs->c->src->rootfd, *rs->cur_rel ? rs->cur_rel : ".");
    if (fd < 0)
        return berr_errno(e, -fd, "\"%s\"", rs->src);
    close(rs->cur);
    rs->cur = fd;
    return 0;
}

/* A symlink met on the way: *rest becomes its target, then what was left. */
static int follow(struct resolver *rs, const char *name, const char *after, char **rest,
                  struct berr *e)
{
    if (++rs->links > COPY_MAX_LINKS)
        return berr_set(e, -ELOOP, "\"%s\": too many levels of symbolic links", rs->src);
    char target[4096];
    ssize_t n = readlinkat(rs->cur, name, target, sizeof target - 1);
    if (n < 0)
        return berr_errno(e, errno, "\"%s\": reading a symlink", rs->src);
    target[n] = '\0';
    if (target[0] == '/') {
        if (rs->c->src->is_context)
            return berr_set(e, -EXDEV,
                            "\"%s\": the symlink \"%s\" points outside the build context (to %s)",
                            rs->src, name, target);
        int fd = open_dir(rs->c->src->rootfd, ".");
        if (fd < 0)
            return berr_errno(e, -fd, "\"%s\"", rs->src);
        close(rs->cur);
        rs->cur = fd;
        rs->cur_rel[0] = '\0';
    }
    char *next = xasprintf("%s/%s", target, after);
    free(*rest);
    *rest = next;
    return 0;
}

/* Resolves path (relative to the source root) into *out; follow_last:
 * a final symlink is followed too. */
static int resolve(struct copy_ctx *c, const char *path, const char *src, bool follow_last,
                   struct copy_res *out, struct berr *e)
{
    struct resolver rs = {
        .c = c, .src = src, .cur = open_dir(c->src->rootfd, "."), .cur_rel = xstrdup("")};
    if (rs.cur < 0) {
        free(rs.cur_rel);
        return berr_errno(e, -rs.cur, "opening %s", where(c));
    }
    _cleanup_free_ char *rest = xstrdup(path);
    int r = 0;
    for (;;) {
        char *p = rest;
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, "/");
        _cleanup_free_ char *comp = xstrndup(p, n);
        const char *after = p + n;
        bool last = after[strspn(after, "/")] == '\0';
        if (strcmp(comp, ".") == 0) {
            memmove(rest, after, strlen(after) + 1);
            continue;
        }
        if (strcmp(comp, "..") == 0) {
            if ((r = step_up(&rs, e)) < 0)
                break;
            memmove(rest, after, strlen(after) + 1);
            continue;
        }
        struct stat st;
        if (fstatat(rs.cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = errno == ENOENT || errno == ENOTDIR ? not_found(c, src, e)
                                                    : berr_errno(e, errno, "\"%s\"", src);
            break;
        }
        _cleanup_free_ char *rel = join(rs.cur_rel, comp);
        int ign = ignored(c, rel, S_ISDIR(st.st_mode));
        if (ign == 1 || (ign == 2 && !S_ISDIR(st.st_mode))) {
            r = not_found(c, src, e);
            break;
        }
        if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
            if ((r = follow(&rs, comp, after, &rest, e)) < 0)
                break;
            continue;
        }
        if (last) {
            out->pfd = TAKE_FD(rs.cur);
            out->name = TAKE_PTR(comp);
            out->rel = TAKE_PTR(rel);
            out->st = st;
            free(rs.cur_rel);
            return 0;
        }
        if (!S_ISDIR(st.st_mode)) {
            r = not_found(c, src, e);
            break;
        }
        int fd = open_dir(rs.cur, comp);
        if (fd < 0) {
            r = berr_errno(e, -fd, "\"%s\"", src);
            break;
        }
        close(rs.cur);
        rs.cur = fd;
        free(rs.cur_rel);
        rs.cur_rel = TAKE_PTR(rel);
        memmove(rest, after, strlen(after) + 1);
    }
    if (r == 0 && fstat(rs.cur, &out->st) < 0)
        r = berr_errno(e, errno, "\"%s\"", src);
    if (r < 0) {
        close(rs.cur);
        free(rs.cur_rel);
        return r;
    }
    out->pfd = rs.cur;
    out->name = xstrdup(".");
    out->rel = rs.cur_rel;
    return 0;
}

/* Go's filepath.Match for one segment, through fnmatch: Go reads "[!" as
 * a '!' in the class (its negation is "[^"). */
static bool seg_match(const char *pat, const char *name)
{
    _cleanup_free_ char *p = xmalloc(2 * strlen(pat) + 1);
    char *o = p;
    for (const char *s = pat; *s; s++) {
        *o++ = *s;
        if (*s == '\\' && s[1])
            *o++ = *++s;
        else if (*s == '[' && s[1] == '!') {
            *o++ = '\\';
        }
    }
    *o = '\0';
    return fnmatch(p, name, 0) == 0;
}

static bool has_wildcard(const char *seg)
{
    for (const char *s = seg; *s; s++) {
        if (*s == '\\' && s[1])
            s++;
        else if (*s == '*' || *s == '?' || *s == '[')
            return true;
    }
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd, sorted; n of them. */
static int list_dir(int dirfd, char ***out, size_t *n, struct berr *e)
{
    int d = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    DIR *dir = d >= 0 ? fdopendir(d) : NULL;
    if (!dir) {
        int err = errno;
        if (d >= 0)
            close(d);
        return berr_errno(e, err, "listing a directory");
    }
    rewinddir(dir);
    char **v = NULL;
    size_t k = 0;
    struct dirent *de;
    while ((de = readdir(dir)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            df_words_push(&v, &k, xstrdup(de->d_name));
    closedir(dir);
    xqsort(v, k, sizeof *v, cmp_str);
    *out = v;
    *n = k;
    return 0;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

struct globber {
    struct copy_ctx *c;
    const char *src;
    char **segs; /* the pattern's segments from the first wildcard on */
    size_t n_segs;
    struct copy_res *res;
    size_t n_res;
};

static int count_walked(struct copy_ctx *c, struct berr *e)
{
    if (++c->walked > COPY_MAX_FILES)
        return berr_set(e, -E2BIG, "more than %d files in %s", COPY_MAX_FILES, where(c));
    return 0;
}

static int glob_dir(struct globber *g, int dirfd, const char *dirrel, size_t i, struct berr *e)
{
    if (i > COPY_MAX_DEPTH)
        return berr_set(e, -E2BIG, "\"%s\": more than %d levels", g->src, COPY_MAX_DEPTH);
    char **names;
    size_t n;
    int r = list_dir(dirfd, &names, &n, e);
    for (size_t k = 0; r == 0 && k < n; k++) {
        if (!seg_match(g->segs[i], names[k]))
            continue;
        if ((r = count_walked(g->c, e)) < 0)
            break;
        _cleanup_free_ char *rel = join(dirrel, names[k]);
        if (i + 1 == g->n_segs) {
            struct copy_res m = {.pfd = -1};
            struct berr e2 = BERR_INIT;
            r = resolve(g->c, rel, g->src, true, &m, &e2);
            if (r == -ENOENT) { /* ignored, or a dangling symlink */
                berr_clear(&e2);
                r = 0;
                continue;
            }
            if (r < 0) {
                berr_move(e, &e2);
                break;
            }
            m.base = xstrdup(names[k]);
            g->res = df_grow(g->res, g->n_res, sizeof *g->res);
            g->res[g->n_res++] = m;
            continue;
        }
        /* Like Go's filepath.Walk: real directories only. */
        struct stat st;
        if (fstatat(dirfd, names[k], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            ignored(g->c, rel, true) == 1)
            continue;
        _cleanup_close_ int sub = open_dir(dirfd, names[k]);
        if (sub >= 0)
            r = glob_dir(g, sub, rel, i + 1, e);
    }
    free_names(names, n);
    return r;
}

static char **split_segs(const char *path, size_t *n)
{
    char **v = NULL;
    size_t k = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len)
            df_words_push(&v, &k, xstrndup(p, len));
        p += len;
    }
    *n = k;
    return v;
}

static int expand_glob(struct copy_ctx *c, const char *src, char **segs, size_t n, size_t first,
                       struct copy_res **out, size_t *n_out, struct berr *e)
{
    _cleanup_free_ char *prefix = xstrdup("");
    for (size_t i = 0; i < first; i++) {
        char *p = join(prefix, segs[i]);
        free(prefix);
        prefix = p;
    }
    struct copy_res dir = {.pfd = -1};
    int r = resolve(c, prefix, src, true, &dir, e);
    if (r == 0 && !S_ISDIR(dir.st.st_mode))
        r = not_found(c, src, e);
    _cleanup_close_ int dfd = r == 0 ? open_dir(dir.pfd, dir.name) : -1;
    if (r == 0 && dfd < 0)
        r = berr_errno(e, -dfd, "\"%s\"", src);
    struct globber g = {.c = c, .src = src, .segs = segs + first, .n_segs = n - first};
    if (r == 0)
        r = glob_dir(&g, dfd, dir.rel, 0, e);
    copy_res_clear(&dir);
    if (r == 0 && g.n_res == 0)
        r = not_found(c, src, e);
    if (r < 0) {
        for (size_t i = 0; i < g.n_res; i++)
            copy_res_clear(&g.res[i]);
        free(g.res);
        return r;
    }
    *out = g.res;
    *n_out = g.n_res;
    return 0;
}

int copy_expand(struct copy_ctx *c, const char *src, struct copy_res **out, size_t *n,
                struct berr *e)
{
    *out = NULL;
    *n = 0;
    if (climbs(src))
        return berr_set(e, -EXDEV, "\"%s\": forbidden path outside %s", src, where(c));
    size_t n_segs;
    char **segs = split_segs(src, &n_segs);
    size_t first = 0;
    while (first < n_segs && !has_wildcard(segs[first]))
        first++;
    int r;
    if (first < n_segs) {
        r = expand_glob(c, src, segs, n_segs, first, out, n, e);
    } else {
        struct copy_res *res = xcalloc(1, sizeof *res);
        res->pfd = -1;
        r = resolve(c, src, src, true, res, e);
        if (r < 0) {
            free(res);
        } else {
            /* the name as written: "a/b/.." copies as "a" into a directory */
            _cleanup_free_ char *clean = xstrdup("");
            for (size_t i = 0; i < n_segs; i++) {
                const char *s = segs[i];
                if (strcmp(s, ".") == 0)
                    continue;
                char *next;
                if (strcmp(s, "..") == 0) {
                    char *slash = strrchr(clean, '/');
                    next = slash ? xstrndup(clean, (size_t)(slash - clean)) : xstrdup("");
                } else {
                    next = join(clean, s);
                }
                free(clean);
                clean = next;
            }
            char *slash = strrchr(clean, '/');
            res->base = xstrdup(slash ? slash + 1 : clean);
            *out = res;
            *n = 1;
        }
    }
    free_names(segs, n_segs);
    return r;
}

struct walker {
    struct copy_ctx *c;
    const struct copy_visitor *v;
};

static int walk_dir(struct walker *w, int dirfd, const char *srcrel, const char *rel, int depth,
                    struct berr *e);

static int walk_one(struct walker *w, int dirfd, const char *name, const char *srcrel,
                    const char *rel, int depth, struct berr *e)
{
    struct copy_ctx *c = w->c;
    int r = count_walked(c, e);
    if (r < 0)
        return r;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : berr_errno(e, errno, "\"%s\"", srcrel);
    bool dir = S_ISDIR(st.st_mode);
    int ign = ignored(c, srcrel, dir);
    if (c->excludes && dockerignore_excluded(c->excludes, rel))
        ign = ign == 1 || !dir || !dockerignore_may_reinclude(c->excludes, rel) ? 1 : 2;
    if (ign == 1)
        return 0;
    struct copy_entry en = {dirfd, name, &st, rel, depth, ign == 2};
    if ((r = w->v->enter(w->v->ud, &en, e)) < 0 || !dir)
        return r;
    if (depth >= COPY_MAX_DEPTH)
        return berr_set(e, -E2BIG, "\"%s\": more than %d directory levels", srcrel, COPY_MAX_DEPTH);
    _cleanup_close_ int sub = open_dir(dirfd, name);
    if (sub < 0)
        return berr_errno(e, -sub, "opening \"%s\"", srcrel);
    if ((r = walk_dir(w, sub, srcrel, rel, depth + 1, e)) < 0)
        return r;
    return w->v->leave ? w->v->leave(w->v->ud, &en, e) : 0;
}

static int walk_dir(struct walker *w, int dirfd, const char *srcrel, const char *rel, int depth,
                    struct berr *e)
{
    char **names;
    size_t n;
    int r = list_dir(dirfd, &names, &n, e);
    for (size_t k = 0; r == 0 && k < n; k++) {
        _cleanup_free_ char *s = join(srcrel, names[k]);
        _cleanup_free_ char *d = join(rel, names[k]);
        r = walk_one(w, dirfd, names[k], s, d, depth, e);
    }
    free_names(names, n);
    return r;
}

int copy_walk(struct copy_ctx *c, const struct copy_res *res, const struct copy_visitor *v,
              struct berr *e)
{
    struct walker w = {.c = c, .v = v};
    struct copy_entry en = {res->pfd, res->name, &res->st, "", 0, false};
    if (!S_ISDIR(res->st.st_mode)) {
        if (c->excludes && *res->base && dockerignore_excluded(c->excludes, res->base))
            return 0;
        return v->enter(v->ud, &en, e);
    }
    int r = v->enter(v->ud, &en, e);
    if (r < 0)
        return r;
    _cleanup_close_ int sub = open_dir(res->pfd, res->name);
    if (sub < 0)
        return berr_errno(e, -sub, "opening \"%s\"", res->rel);
    if ((r = walk_dir(&w, sub, res->rel, "", 1, e)) < 0)
        return r;
    return v->leave ? v->leave(v->ud, &en, e) : 0;
}
