/* SPDX-License-Identifier: Apache-2.0 */
/* COPY and ADD: an op's sources gathered (copysrc.c finds them in the
 * source root; heredocs and ADD's URLs beside them), its destination
 * read as docker reads it, and the cache key over all it would copy.
 * The writing is copywrite.c's. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "engine/build/copy_int.h"
#include "engine/build/internal.h"
#include "engine/image/digest.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define XATTR_LIST_MAX_ (64 << 10)

static void dest_of(const struct copy_op *op, struct copy_dest *d)
{
    const char *raw = op->dest;
    size_t n = strlen(raw);
    d->dir = (n && raw[n - 1] == '/') || strcmp(raw, ".") == 0 ||
             (n >= 2 && strcmp(raw + n - 2, "/.") == 0);
    _cleanup_free_ char *full =
        raw[0] == '/' ? xstrdup(raw) : xasprintf("%s/%s", op->workdir ? op->workdir : "/", raw);
    d->path = path_normalize_dup(full);
}

void copy_op_clear(struct copy_op_state *s)
{
    for (size_t i = 0; i < s->n_items; i++)
        if (s->items[i].kind == COPY_ITEM_PATH)
            copy_res_clear(&s->items[i].res);
    free(s->items);
    free(s->dest.path);
    free(s->buf);
    dockerignore_free(s->c.excludes);
}

/* The heredoc a source word names: "<<EOF", "<<-'EOF'", "3<<EOF". */
static const struct df_heredoc *heredoc_of(const struct copy_op *op, const char *src)
{
    const char *p = src + strspn(src, "0123456789");
    if (strncmp(p, "<<", 2) != 0)
        return NULL;
    p += 2;
    if (*p == '-')
        p++;
    size_t n = strlen(p);
    if (n >= 2 && (p[0] == '\'' || p[0] == '"') && p[n - 1] == p[0]) {
        p++;
        n -= 2;
    }
    for (size_t i = 0; i < op->n_heredocs; i++)
        if (strlen(op->heredocs[i].name) == n && strncmp(op->heredocs[i].name, p, n) == 0)
            return &op->heredocs[i];
    return NULL;
}

static struct copy_item *add_item(struct copy_op_state *s, enum copy_item_kind kind)
{
    s->items = df_grow(s->items, s->n_items, sizeof *s->items);
    struct copy_item *it = &s->items[s->n_items++];
    *it = (struct copy_item){.kind = kind, .res = {.pfd = -1}};
    return it;
}

static int collect_src(struct copy_op_state *s, const char *src, struct berr *e)
{
    const struct copy_op *op = s->c.op;
    const struct df_heredoc *hd = op->n_heredocs ? heredoc_of(op, src) : NULL;
    if (!hd && op->n_heredocs)
        for (size_t i = 0; i < op->n_heredocs && !hd; i++)
            if (strcmp(op->heredocs[i].name, src) == 0)
                hd = &op->heredocs[i];
    if (hd) {
        add_item(s, COPY_ITEM_HEREDOC)->hd = hd;
        return 0;
    }
    if (op->add && s->c.src->is_context && copy_is_git_url(src))
        return berr_set(e, -ENOTSUP, "%s: adding a git repository is not supported", src);
    if (op->add && s->c.src->is_context && copy_is_url(src)) {
        add_item(s, COPY_ITEM_URL)->url = src;
        return 0;
    }
    if (op->checksum)
        return berr_set(e, -EINVAL, "%s: --checksum applies to http(s) sources only", src);
    struct copy_res *res;
    size_t n;
    int r = copy_expand(&s->c, src, &res, &n, e);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        add_item(s, COPY_ITEM_PATH)->res = res[i];
    free(res);
    return 0;
}

int copy_op_prepare(const struct copy_op *op, const struct copy_source *src,
                    struct copy_op_state *s, struct berr *e)
{
    *s = (struct copy_op_state){.c = {.op = op, .src = src, .verb = op->add ? "ADD" : "COPY"}};
    dest_of(op, &s->dest);
    s->buf = xmalloc(COPY_BUF);
    int r = 0;
    if (op->excludes && op->excludes[0]) {
        _cleanup_free_ char *text = strv_join(op->excludes, "\n");
        r = dockerignore_parse("--exclude", text, strlen(text), &s->c.excludes, e);
    }
    for (size_t i = 0; r == 0 && op->srcs && op->srcs[i]; i++)
        r = collect_src(s, op->srcs[i], e);
    if (r == 0 && s->n_items == 0)
        r = berr_set(e, -EINVAL, "no source files were specified");
    if (r == 0 && s->n_items > 1 && !s->dest.dir)
        r = berr_set(e, -EINVAL,
                     "When using %s with more than one source file, the destination must be a "
                     "directory and end with a /",
                     s->c.verb);
    return r;
}

int copy_op_fail(const struct copy_op *op, int r, struct berr *e)
{
    return berr_wrap(e, "%s:%d: %s failed", op->file ? op->file : "Dockerfile", op->line,
                     op->add ? "ADD" : "COPY");
}

/* ---- The cache key ---------------------------------------------------- */

struct hasher {
    struct copy_op_state *s;
    struct sha256 *h;
    bool owners;
};

static void hash_str(struct sha256 *h, const char *s)
{
    sha256_update(h, s, strlen(s) + 1);
}

static int hash_fd(struct hasher *hs, int fd, const char *what, struct berr *e)
{
    for (;;) {
        ssize_t n = read(fd, hs->s->buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(e, errno, "reading \"%s\"", what);
        if (n == 0)
            return 0;
        sha256_update(hs->h, hs->s->buf, (size_t)n);
    }
}

/* The kept extended attributes of a file, names and values. */
static void hash_xattrs(struct hasher *hs, int fd)
{
    char names[XATTR_LIST_MAX_];
    ssize_t n = flistxattr(fd, names, sizeof names);
    for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
        ssize_t len = copy_kept_xattr(p) ? fgetxattr(fd, p, hs->s->buf, COPY_BUF) : -1;
        if (len < 0)
            continue;
        char head[32];
        snprintf(head, sizeof head, "xattr %zd", len);
        hash_str(hs->h, head);
        hash_str(hs->h, p);
        sha256_update(hs->h, hs->s->buf, (size_t)len);
    }
}

static char type_char(mode_t m)
{
    return S_ISDIR(m)    ? 'd'
           : S_ISREG(m)  ? 'f'
           : S_ISLNK(m)  ? 'l'
           : S_ISFIFO(m) ? 'p'
           : S_ISCHR(m)  ? 'c'
           : S_ISBLK(m)  ? 'b'
                         : 's';
}

static int hash_enter(void *ud, const struct copy_entry *en, struct berr *e)
{
    struct hasher *hs = ud;
    if (en->hidden)
        return 0;
    const struct stat *st = en->st;
    char head[128];
    snprintf(head, sizeof head, "%c %o %lld %u:%u %llu", type_char(st->st_mode),
             (unsigned)(st->st_mode & 07777), S_ISREG(st->st_mode) ? (long long)st->st_size : 0,
             hs->owners ? (unsigned)st->st_uid : 0, hs->owners ? (unsigned)st->st_gid : 0,
             S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? (unsigned long long)st->st_rdev : 0);
    hash_str(hs->h, en->rel);
    hash_str(hs->h, head);
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(en->pfd, en->name, target, sizeof target - 1);
        if (n < 0)
            return berr_errno(e, errno, "reading the symlink \"%s\"", en->name);
        target[n] = '\0';
        hash_str(hs->h, target);
    } else if (S_ISREG(st->st_mode)) {
        _cleanup_close_ int fd =
            openat(en->pfd, en->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return berr_errno(e, errno, "opening \"%s\"", en->name);
        hash_xattrs(hs, fd);
        return hash_fd(hs, fd, en->name, e);
    }
    return 0;
}

static int hash_item(struct hasher *hs, const struct copy_item *it, struct berr *e)
{
    if (it->kind == COPY_ITEM_HEREDOC) {
        hash_str(hs->h, "heredoc");
        hash_str(hs->h, it->hd->name);
        hash_str(hs->h, it->hd->content);
        return 0;
    }
    if (it->kind == COPY_ITEM_URL) {
        _cleanup_close_ int fd = -1;
        long long mtime;
        int r = copy_fetch(hs->s->c.op, it->url, &fd, &mtime, e);
        if (r < 0)
            return r;
        hash_str(hs->h, "url");
        hash_str(hs->h, it->url);
        return hash_fd(hs, fd, it->url, e);
    }
    hash_str(hs->h, "path");
    hash_str(hs->h, it->res.base);
    struct copy_visitor v = {.enter = hash_enter, .ud = hs};
    return copy_walk(&hs->s->c, &it->res, &v, e);
}

int build_copy_checksum(const struct copy_op *op, const struct copy_source *src, char out[65],
                        struct berr *e)
{
    struct copy_op_state s;
    int r = copy_op_prepare(op, src, &s, e);
    _cleanup_sha256_ struct sha256 *h = sha256_new();
    struct hasher hs = {.s = &s, .h = h, .owners = !op->chown};
    for (size_t i = 0; r == 0 && i < s.n_items; i++)
        r = hash_item(&hs, &s.items[i], e);
    copy_op_clear(&s);
    if (r < 0)
        return copy_op_fail(op, r, e);
    char d[DIGEST_STR_SIZE];
    sha256_final(h, d);
    memcpy(out, digest_hex(d), 64);
    out[64] = '\0';
    return 0;
}
