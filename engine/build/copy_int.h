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

/* ADD's URLs. */
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
