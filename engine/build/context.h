/* SPDX-License-Identifier: Apache-2.0 */
/* The build context and the COPY and ADD steps (not a door: other modules
 * use engine/build/build.h).
 *
 * A COPY or ADD reads its sources from a source root — the context
 * directory (filtered by its .dockerignore), or the root file system of
 * another stage or image (unfiltered) — and writes into the step's root
 * file system, mounted: the destination is resolved inside it
 * (RESOLVE_IN_ROOT), so a symlink of the base image (/bin -> usr/bin) is
 * followed as docker follows it and nothing is ever written outside. */
#ifndef BERTH_BUILD_CONTEXT_H
#define BERTH_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/build/build.h"

struct build_context;

/* Opens dir as the context. Its ignore file is DOCKERFILE.dockerignore
 * beside the Dockerfile when that exists (dockerfile may be NULL), else
 * DIR/.dockerignore, else none. A missing context is an error naming it. */
int build_context_open(const char *dir, const char *dockerfile, struct build_context **out,
                       struct berr *e);
void build_context_free(struct build_context *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct build_context *, build_context_free)
/* The context root (an O_DIRECTORY fd owned by c). */
int build_context_fd(const struct build_context *c);
const struct dockerignore *build_context_ignore(const struct build_context *c);

/* Where a COPY or ADD reads from. */
struct copy_source {
    int rootfd;                        /* the context, or a stage's or image's root fs */
    const struct dockerignore *ignore; /* the context's; NULL for a stage or an image */
    bool is_context;                   /* ADD's URLs and tar auto-extraction apply */
};

struct copy_op {
    const char *file; /* for messages: "Dockerfile" */
    int line;
    bool add;                          /* ADD */
    char *const *srcs;                 /* expanded, NULL-terminated; with heredocs, their names */
    const struct df_heredoc *heredocs; /* COPY <<EOF: each becomes a file */
    size_t n_heredocs;
    const char *dest;        /* expanded */
    const char *workdir;     /* the stage's WORKDIR, for a relative dest ("/" when none) */
    const char *chown;       /* --chown value, NULL: root (0:0) */
    const char *chmod;       /* --chmod value, NULL: as the source */
    const char *checksum;    /* ADD --checksum=sha256:... */
    char *const *excludes;   /* --exclude patterns, NULL-terminated or NULL */
    bool keep_git_dir;       /* ADD --keep-git-dir */
    const char *scratch_dir; /* where ADD keeps downloaded URLs between checksum and copy */
};

/* The cache key of the op's sources, as 64 hex digits: a sha256 over
 * every file the op would copy (its path below the source, type, mode,
 * size, contents, link target, kept extended attributes; owners when no
 * --chown), the heredocs' text, and each URL's downloaded contents (ADD
 * fetches them here, into scratch_dir, and build_copy uses those bytes).
 * A source that matches nothing or lies outside the source root is an
 * error naming the file, line and source. */
int build_copy_checksum(const struct copy_op *op, const struct copy_source *src, char out[65],
                        struct berr *e);

/* Performs the op into dst_rootfd (the step's root file system, mounted
 * and writable) with docker's rules: a dest ending in "/" or several
 * sources make a directory; a source directory's contents are copied, not
 * the directory; wildcards as Go's filepath.Match; missing parents made
 * 0755; --chown names looked up in the destination's /etc/passwd and
 * /etc/group; ADD unpacks a local tar archive (plain or compressed) and
 * fetches URLs (verified against --checksum). */
int build_copy(const struct copy_op *op, const struct copy_source *src, int dst_rootfd,
               struct berr *e);

#endif
