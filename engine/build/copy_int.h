/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the COPY/ADD files (context.c, copysrc.c, copy.c, fetch.c);
 * not a door. copysrc.c finds and walks the sources inside the source
 * root, never leaving it: every name is opened relative to a directory
 * fd already inside, with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, and the
 * symlinks a source path goes through are followed by hand, so that the
 * .dockerignore sees every path they lead to. */
#ifndef BERTH_BUILD_COPY_INT_H
#define BERTH_BUILD_COPY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "engine/build/context.h"

#define COPY_MAX_FILES (1000 * 1000) /* entries one op may walk */
#define COPY_MAX_DEPTH 256           /* directory levels below a source */
#define COPY_MAX_LINKS 40            /* symlinks followed in one source path */
#define COPY_ETC_MAX   (8u << 20)    /* the destination's /etc/passwd, /etc/group */
#define COPY_BUF       (1 << 20)     /* an op's read buffer */

/* One op's view of its source root. */
struct copy_ctx {
    const struct copy_op *op;
    const struct copy_source *src;
    const char *verb;              /* "COPY" or "ADD" */
    struct dockerignore *excludes; /* --exclude, or NULL */
    size_t walked;                 /* entries seen, against COPY_MAX_FILES */
};

/* A source found in the source root: name in the directory pfd ("." for
 * pfd itself), never a symlink unless asked for one. */
struct copy_res {
    int pfd;
    char *name;
    char *rel;  /* its path below the source root, symlinks resolved ("" the root) */
    char *base; /* the name it is copied under into a directory (as written) */
    struct stat st;
};
void copy_res_clear(struct copy_res *r);

/* Expands one source word (wildcards as Go's filepath.Match, one path
 * segment each) into what it names, symlinks followed; *out has *n >= 1
 * entries (the caller's: clear each, free the array). Nothing found is
 * an error naming the source. */
int copy_expand(struct copy_ctx *c, const char *src, struct copy_res **out, size_t *n,
                struct berr *e);

/* One entry of a walk. depth 0 is the source itself (rel ""). */
struct copy_entry {
    int pfd;
    const char *name;
    const struct stat *st;
    const char *rel; /* below the source */
    int depth;
    bool hidden; /* an excluded directory walked for what "!" brings back */
};

struct copy_visitor {
    /* Every entry, a directory before its contents. */
    int (*enter)(void *ud, const struct copy_entry *en, struct berr *e);
    /* A directory after its contents. */
    int (*leave)(void *ud, const struct copy_entry *en, struct berr *e);
    void *ud;
};

/* Walks r (a directory in sorted name order, depth first), skipping what
 * the .dockerignore and --exclude drop; capped by COPY_MAX_FILES and
 * COPY_MAX_DEPTH. */
int copy_walk(struct copy_ctx *c, const struct copy_res *r, const struct copy_visitor *v,
              struct berr *e);

/* One op, ready to run (copy.c): its sources gathered, its destination
 * read. */
struct copy_dest {
    char *path; /* absolute, normalised */
    bool dir;   /* written as a directory: "x/", ".", "x/." */
};

enum copy_item_kind { COPY_ITEM_PATH, COPY_ITEM_HEREDOC, COPY_ITEM_URL };

struct copy_item {
    enum copy_item_kind kind;
    struct copy_res res; /* COPY_ITEM_PATH */
    const struct df_heredoc *hd;
    const char *url;
};

struct copy_op_state {
    struct copy_ctx c;
    struct copy_item *items;
    size_t n_items;
    struct copy_dest dest;
    char *buf; /* COPY_BUF bytes */
};

/* Fills s (cleared with copy_op_clear even on failure): every source
 * found, docker's rule on several sources checked. */
int copy_op_prepare(const struct copy_op *op, const struct copy_source *src,
                    struct copy_op_state *s, struct berr *e);
void copy_op_clear(struct copy_op_state *s);
/* Wraps e as "FILE:LINE: COPY failed: ..." and returns its code. */
int copy_op_fail(const struct copy_op *op, int r, struct berr *e);

/* What is set on what is written (copyattr.c). --chmod: */
struct copy_mode {
    bool given;
    bool octal;
    mode_t mode;
    const char *sym;
};
int copy_parse_chmod(const char *s, struct copy_mode *m, struct berr *e);
/* The mode for something of mode cur (a directory: dir). */
mode_t copy_apply_chmod(const struct copy_mode *m, mode_t cur, bool dir);
/* --chown (NULL: 0:0), names from rootfd's /etc/passwd and /etc/group. */
int copy_resolve_owner(const char *spec, int rootfd, uid_t *uid, gid_t *gid, struct berr *e);
/* user.* and security.capability: the extended attributes docker keeps. */
bool copy_kept_xattr(const char *name);

/* ADD's URLs (fetch.c). */
bool copy_is_url(const char *s);
bool copy_is_git_url(const char *s);
/* The file name an URL is saved under (its path's last segment), or NULL. */
char *copy_url_name(const char *url);
/* The URL downloaded into op->scratch_dir (or a temporary file): an fd
 * open for reading at offset 0, its Last-Modified time in *mtime (0 when
 * not given). Verified against op->checksum when given. Fetched once:
 * a second call for the same URL reuses the file. */
int copy_fetch(const struct copy_op *op, const char *url, int *fd, long long *mtime,
               struct berr *e);

#endif
