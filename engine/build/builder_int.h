/* SPDX-License-Identifier: Apache-2.0 */
/* The builder's own files share this (not a door: other modules use
 * engine/build/build.h). builder.c walks the stages, step_run.c runs a RUN
 * step in a container, step_copy.c does COPY and ADD on a mounted root,
 * imgcfg.c keeps the image config, bcache.c the step cache, progress.c
 * prints docker's plain progress. */
#ifndef BERTH_BUILD_BUILDER_INT_H
#define BERTH_BUILD_BUILDER_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/build/build.h"
#include "engine/build/buildnet.h"
#include "engine/build/context.h"
#include "engine/image/digest.h"
#include "engine/image/image.h"
#include "util/platform.h"

/* Where RUN finds its programs when the image sets no PATH (BuildKit's). */
#define BUILD_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct bstage {
    size_t idx;
    char *label;     /* "builder" / "stage-1" in "[builder 2/5]"; NULL: a lone stage */
    int state;       /* 0 not built, 1 being built, 2 built (under the builder's lock) */
    pthread_t owner; /* the thread building it (state 1) */
    json_t *config;  /* the image config being made (architecture, config, history, rootfs) */
    struct image_layer_ref *layers;
    size_t n_layers;
    char key[DIGEST_STR_SIZE]; /* the cache chain after the last step */
    int64_t created_ns;        /* the newest step's time (the cache's, when cached); 0: none */
    char *base_created;        /* the base image's "created", while no step is newer */
    bool cmd_set;              /* CMD given in this stage: a later ENTRYPOINT keeps it */
    int n_steps, step;         /* "[step/n_steps]" */
    struct df_walk *walk;      /* while being built */
};

struct builder {
    const struct build_env *env;
    const struct build_opts *o;
    struct dockerfile *df;
    struct build_context *ctx;
    char **build_args; /* "K=V": the options', then the platform ARGs */
    struct bstage *stages;
    char *scratch; /* the store's scratch directory of this build */
    int scratch_lock;
    struct build_net *net;
    char *cache_dir; /* ROOT/buildcache */
    struct platform plat;
    unsigned next_id;  /* progress "#N" */
    unsigned next_dir; /* scratch subdirectories */
    int64_t t0_ns;
    char *empty_dir;     /* an empty lower layer for stages with none */
    char *cgroup_parent; /* RUN containers' cgroups go below it */
    int sigfd;           /* SIGINT, SIGTERM, SIGHUP while building */
    int interrupted;     /* the signal that stopped the build, 0 */
    /* Independent stages build in threads of their own: the lock guards
     * the stages' states, the store, the network and the sink; cancel
     * tells the others to stop when one failed. */
    pthread_mutex_t lock;
    pthread_cond_t stage_done;
    bool parallel;
    int cancel;
};

/* One step as the progress output shows it. */
struct bstep {
    struct builder *b;
    unsigned id;
    int64_t t0_ns;
    char *title;
    /* The last lines of a RUN's output, for the error. */
    char *tail[10];
    unsigned n_tail, tail_next;
};

/* progress.c */
void prog_begin(struct builder *b, struct bstep *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void prog_line(struct bstep *s, const char *line, size_t len);
void prog_note(struct bstep *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void prog_cached(struct bstep *s);
void prog_done(struct bstep *s);
void prog_error(struct bstep *s, const char *msg);
void prog_end(struct bstep *s);
/* "[builder 2/5] " or "[2/5] " for the stage's current step. */
char *prog_stage_title(const struct bstage *st);

/* bcache.c: keys are sha256 digests of the parent key and what the step
 * is; records are ROOT/buildcache/steps/<hex>. */
struct sha256 *bkey_begin(const char *parent, const char *what);
void bkey_str(struct sha256 *h, const char *s);
void bkey_instr(struct sha256 *h, const struct df_instr *in);
void bkey_end(struct sha256 *h, char out[DIGEST_STR_SIZE]);
struct bcache_rec {
    bool has_layer;
    struct image_layer_ref layer;
    int64_t created_ns;
};
/* 1 and *out when a usable record exists (its layer still in the store). */
int bcache_get(struct builder *b, const char *key, struct bcache_rec *out);
int bcache_put(struct builder *b, const char *key, const struct bcache_rec *rec, struct berr *e);

/* imgcfg.c: config-only instructions and history. */
json_t *imgcfg_scratch(const struct platform *p);
/* The config object ("config"), made when absent. */
json_t *imgcfg_conf(json_t *config);
/* Applies a config-only instruction (CMD ENTRYPOINT ENV LABEL EXPOSE USER
 * WORKDIR VOLUME HEALTHCHECK STOPSIGNAL SHELL ONBUILD MAINTAINER). */
int imgcfg_apply(struct bstage *st, const struct df_instr *in, struct berr *e);
/* Appends a history entry; created_by as BuildKit writes it. */
void imgcfg_history(struct bstage *st, const struct df_instr *in, bool empty_layer);
/* The shell of shell-form commands (SHELL, default /bin/sh -c): a new
 * NULL-terminated vector the caller frees. */
char **imgcfg_shell(json_t *config);
/* The config's WorkingDir ("/" when unset) and User (NULL: root). */
const char *imgcfg_workdir(json_t *config);
const char *imgcfg_user(json_t *config);
/* The config's Env as a vector (the caller's). */
char **imgcfg_env(json_t *config);
/* Appends the layer to the stage (layers and rootfs.diff_ids). */
void imgcfg_add_layer(struct bstage *st, const struct image_layer_ref *l);
/* "Shell form" command vector: shell + [cmd]. */
char **imgcfg_command(json_t *config, const struct df_instr *in);

/* step_run.c */
int step_run(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e);
/* step_copy.c */
int step_copy(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e);
/* WORKDIR: the directory made in a layer when the stage lacks it. */
int step_workdir(struct builder *b, struct bstage *st, const struct df_instr *in, struct berr *e);

/* builder.c */
/* Builds stage i (and what it needs) once; a cycle is an error. */
int builder_stage(struct builder *b, size_t i, const struct df_instr *from_instr, struct berr *e);
/* A fresh directory in the scratch directory (heap path). */
int builder_dir(struct builder *b, const char *what, char **path, struct berr *e);
/* The stage's layer directories bottom first (NULL-terminated; never
 * empty: a stage with no layer gets the empty one). */
char **builder_lowers(struct builder *b, const struct bstage *st);
/* The stage (or image) a --from names, built or pulled: *out_stage set,
 * or for an image, *image_tmp gets its config, layers and key. */
int builder_from_source(struct builder *b, const struct df_instr *in, const char *from,
                        struct bstage **out_stage, struct bstage *image_tmp, struct berr *e);
/* A step that may make a layer: a cache hit (unless --no-cache) adds the
 * recorded layer; a miss makes the step's directories, calls make, turns
 * a non-empty upper dir into a layer and records it. Either way the
 * history gets its entry and the stage's key becomes key. s is ended. */
typedef int (*step_make_fn)(struct builder *b, struct bstage *st, const struct df_instr *in,
                            struct bstep *s, const char *upper, const char *work,
                            const char *rootfs, char **lowers, void *arg, struct berr *e);
int builder_layer_step(struct builder *b, struct bstage *st, const struct df_instr *in,
                       struct bstep *s, const char *key, step_make_fn make, void *arg,
                       struct berr *e);
/* Runs fn in a child process with its own mount namespace in which the
 * overlay of lowers + upper (work as its work dir) is mounted on rootfs
 * (lowers NULL: no destination root, dst_rootfd -1), and src_lowers (may
 * be NULL) read-only on src_root. fn's error comes back in e. */
typedef int (*root_fn)(void *arg, int dst_rootfd, int src_rootfd, struct berr *e);
int builder_in_root(struct builder *b, char **lowers, const char *upper, const char *work,
                    const char *rootfs, char **src_lowers, const char *src_root, root_fn fn,
                    void *arg, struct berr *e);
/* op from a stage's or image's root into dst_dirfd (a plain directory). */
int builder_copy_from(struct builder *b, struct bstage *from, const struct copy_op *op,
                      int dst_dirfd, struct berr *e);
/* "Dockerfile:LINE" prefix wrap. */
int builder_err(struct builder *b, const struct df_instr *in, struct berr *e);

#endif
