/* SPDX-License-Identifier: Apache-2.0 */
/* The image builder's front end: the Dockerfile parser, variable
 * substitution with docker's ARG/ENV scoping, and the .dockerignore
 * matcher, as docker's BuildKit frontend and moby/patternmatcher behave.
 * Pure logic: nothing here touches the disk, the network or a container.
 *
 * dockerfile_parse turns Dockerfile text into stages of instructions, each
 * with its line, its raw text and its parsed arguments (flags, exec or
 * shell form, key/value pairs, heredocs, --mount fields). Nothing is
 * expanded at parse time. The builder then walks one stage with
 * df_walk_new / df_walk_next, which yield each instruction with its
 * arguments expanded the way docker expands them (ADD COPY ENV EXPOSE
 * FROM LABEL STOPSIGNAL USER VOLUME WORKDIR, ARG defaults, RUN --mount),
 * tracking ARG and ENV as the stage goes.
 *
 * Every error is one line, "NAME:LINE: what" (NAME as given to the
 * parser, usually "Dockerfile"). Ownership: every struct returned is the
 * caller's, freed by its _free function (NULL accepted). */
#ifndef BERTH_BUILD_BUILD_H
#define BERTH_BUILD_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/events/event.h"
#include "util/cleanup.h"
#include "util/err.h"

#define DF_MAX_BYTES  (1024 * 1024) /* Dockerfile text */
#define DF_MAX_INSTRS 10000         /* instructions in one Dockerfile */

enum df_kind {
    DF_FROM,
    DF_RUN,
    DF_CMD,
    DF_ENTRYPOINT,
    DF_ENV,
    DF_ARG,
    DF_LABEL,
    DF_EXPOSE,
    DF_USER,
    DF_WORKDIR,
    DF_COPY,
    DF_ADD,
    DF_VOLUME,
    DF_HEALTHCHECK,
    DF_STOPSIGNAL,
    DF_SHELL,
    DF_ONBUILD,
    DF_MAINTAINER,
};

/* "RUN", "COPY", ... */
const char *df_kind_name(enum df_kind k);

/* A --name[=value] flag as written (value "true" for a bare boolean). */
struct df_flag {
    char *name;
    char *value;
};

/* ENV, LABEL: key and value (raw: quotes kept until expanded); ARG: name
 * and default, has_value false for `ARG NAME`. */
struct df_kv {
    char *key;
    char *value;
    bool has_value;
};

enum df_mount_type {
    DF_MOUNT_BIND,
    DF_MOUNT_CACHE,
    DF_MOUNT_TMPFS,
    DF_MOUNT_SECRET,
    DF_MOUNT_SSH,
};

/* RUN --mount=type=...,... as docker reads it. NULL strings and -1
 * numbers are "not given". */
struct df_mount {
    enum df_mount_type type;
    char *id;
    char *target;
    char *source;
    char *from;
    char *sharing; /* shared, private, locked (cache) */
    char *env;     /* secret exposed as an environment variable */
    bool readonly;
    bool required;
    long mode; /* octal as written */
    long uid, gid;
    long long size; /* tmpfs bytes */
};

/* A heredoc's body, lines joined with '\n' (each ends with one). */
struct df_heredoc {
    char *name;
    char *content;
    bool expand; /* the delimiter was not quoted */
    bool chomp;  /* <<-: leading tabs were stripped */
};

struct df_instr {
    enum df_kind kind;
    int line;  /* 1-based line of the instruction's keyword */
    char *raw; /* the instruction as written, continuations joined */
    struct df_flag *flags;
    size_t n_flags;
    /* Arguments. json: exec form (RUN CMD ENTRYPOINT SHELL VOLUME COPY
     * ADD HEALTHCHECK CMD), each element one arg. Shell form: RUN CMD
     * ENTRYPOINT and HEALTHCHECK CMD have the command line as args[0];
     * USER WORKDIR STOPSIGNAL MAINTAINER the rest of the line; FROM
     * COPY ADD VOLUME EXPOSE the words. NULL-terminated. */
    char **args;
    bool json;
    struct df_kv *kvs; /* ENV LABEL ARG */
    size_t n_kvs;
    struct df_mount *mounts; /* RUN --mount */
    size_t n_mounts;
    struct df_heredoc *heredocs;
    size_t n_heredocs;
    char *stage_name;         /* FROM ... AS name (lower-cased) */
    bool healthcheck_none;    /* HEALTHCHECK NONE */
    struct df_instr *onbuild; /* ONBUILD's trigger */
};

struct df_stage {
    char *name;              /* NULL when unnamed */
    struct df_instr *instrs; /* [0] is the FROM */
    size_t n_instrs;
};

struct dockerfile {
    char *name;                 /* as errors call the file */
    char *syntax;               /* # syntax= directive, or NULL */
    char escape;                /* '\\' or '`' */
    struct df_instr *meta_args; /* ARG before the first FROM */
    size_t n_meta_args;
    struct df_stage *stages;
    size_t n_stages;
};

/* Parses text (len bytes, capped at DF_MAX_BYTES). name is what errors
 * call the file. On success *out is the caller's. */
int dockerfile_parse(const char *name, const char *text, size_t len, struct dockerfile **out,
                     struct berr *e);
void dockerfile_free(struct dockerfile *df);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dockerfile *, dockerfile_free)
void df_instr_free(struct df_instr *in);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct df_instr *, df_instr_free)

/* The value of in's first --name flag, NULL when absent. */
const char *df_flag(const struct df_instr *in, const char *name);

/* The stage called name (case-insensitively) or whose index name is;
 * -1 when none. */
int dockerfile_find_stage(const struct dockerfile *df, const char *name);

/* Expands one word as docker's shell lexer does: $VAR ${VAR} ${VAR:-w}
 * ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?w} ${VAR?w}, quotes removed ('...'
 * literal, "..." expanding), the escape character quoting the next one.
 * env: "KEY=VALUE" entries, the last one of a key wins. */
int df_expand_word(const char *word, char escape, char *const *env, char **out, struct berr *e);

/* Walking one stage for the builder, instruction by instruction. */
struct df_walk;
/* build_args: "NAME=VALUE" (--build-arg), NULL for none. The global ARGs
 * are evaluated first (build args override their defaults). The builder
 * passes docker's automatic platform ARGs (BUILDPLATFORM, TARGETOS,
 * TARGETARCH, ...) here too: FROM sees them without an ARG line, a stage
 * once it says `ARG TARGETARCH`. */
int df_walk_new(const struct dockerfile *df, size_t stage, char *const *build_args,
                struct df_walk **out, struct berr *e);
void df_walk_free(struct df_walk *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct df_walk *, df_walk_free)
/* The base image's Env ("K=V"), which later instructions see as ENV does
 * (call after the FROM is resolved). */
void df_walk_set_image_env(struct df_walk *w, char *const *env);
/* The next instruction of the stage, expanded (a copy, the caller's):
 * returns 1 and sets *out, 0 at the end of the stage, <0 on error. */
int df_walk_next(struct df_walk *w, struct df_instr **out, struct berr *e);
/* Expands in (an ONBUILD trigger of the base image, run as if written
 * after the FROM) in the walk's scope, as df_walk_next expands. */
int df_walk_expand(struct df_walk *w, struct df_instr *in, struct berr *e);
/* The variables in scope now ("K=V": ARGs, then ENVs overriding them). */
char **df_walk_env(const struct df_walk *w);

/* .dockerignore. */
#define DI_MAX_BYTES    (1024 * 1024)
#define DI_MAX_PATTERNS 10000

struct dockerignore;
/* Parses .dockerignore text; a bad pattern is an error naming its line
 * (name as given). An empty text is a matcher that excludes nothing. */
int dockerignore_parse(const char *name, const char *text, size_t len, struct dockerignore **out,
                       struct berr *e);
void dockerignore_free(struct dockerignore *di);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dockerignore *, dockerignore_free)
/* path: relative to the context root, '/'-separated ("a/b/c"). True when
 * the last pattern matching it or one of its parents is not a "!". */
bool dockerignore_excluded(const struct dockerignore *di, const char *path);
/* For an excluded directory: could a "!" pattern re-include something
 * below it (so the walker must descend)? False means skip it whole. */
bool dockerignore_may_reinclude(const struct dockerignore *di, const char *dir);

/* The builder: runs a Dockerfile's stages into an image in the store.
 * RUN steps execute in containers of the runtime on the previous layers
 * (their upper dir becomes the new layer), COPY and ADD write a layer
 * directly; each step is cached by its parent, its instruction, the
 * variables it sees and (COPY, ADD) its sources' contents. */
struct store;
struct runtime;
struct platform;

struct build_opts {
    const char *context;           /* directory; absolute or relative to the cwd */
    const char *dockerfile;        /* path (absolute, or relative to the cwd); NULL:
                                      CONTEXT/Dockerfile */
    const char *dockerfile_inline; /* the Dockerfile's text (overrides dockerfile) */
    char *const *build_args;       /* "K=V"; "K" alone takes the environment's value */
    const char *target;            /* stage name or index; NULL: the last stage */
    char *const *tags;             /* references the result is tagged with */
    char *const *labels;           /* "K=V", added to the image's labels */
    bool no_cache;                 /* run every step (the cache is still written) */
    bool pull;                     /* pull every FROM image, even when present */
    const char *network;           /* NULL or "default": the build bridge; "host"; "none" */
    int64_t shm_size;              /* bytes of RUN's /dev/shm; 0: 64 MiB */
    char *const *extra_hosts;      /* "name:ip" or "name=ip", added to RUN's /etc/hosts */
    char *const *secrets;          /* "id=ID,src=PATH" or "id=ID,env=VAR" */
    const char *platform;          /* NULL: this host's */
    const char *name;              /* what messages call the build (a service), or NULL */
    bool quiet;                    /* pull FROM images quietly */
};

struct build_env {
    struct store *store;
    struct runtime *rt;
    const char *root;    /* $BERTH_ROOT: the build cache, RUN's network records */
    const char *runroot; /* $BERTH_RUNROOT: RUN's network namespaces */
    char *const *environ;
    const char *cgroup_parent; /* RUN containers' cgroups go below it; NULL: "berth/build" */
    /* The build's progress: EV_BUILD "step" events, id the step's number
     * ("3"), status "Started" (detail: the step's title), "Output" (detail:
     * a line of RUN's output; current: ms since the step started), "Note"
     * (detail), "CACHED", "DONE" (current: the step's ms), "ERROR"
     * (detail: why) and "Tail" (detail: the failed step's last output
     * lines, a block of text to show even when quiet). */
    struct ev_sink sink;
    /* Brings ref into the store for platform (NULL: this host's): called
     * for a FROM image that is not in the store, and for every one with
     * opts->pull. */
    int (*pull)(void *ud, const char *ref, const struct platform *platform, bool quiet,
                struct berr *e);
    void *pull_ud;
};

/* Builds; on success *image_id (the caller's) is the image's ID
 * ("sha256:..."), and every tag names it. A failure names the Dockerfile
 * line (NAME:LINE) and leaves nothing half-stored: the steps before it
 * stay cached. */
int build_image(const struct build_env *env, const struct build_opts *o, char **image_id,
                struct berr *e);

#endif
