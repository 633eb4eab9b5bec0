/* SPDX-License-Identifier: Apache-2.0 */
/* The builder: reads the Dockerfile and the context, builds the target
 * stage and, first, each stage it needs (FROM, COPY --from, RUN
 * --mount from=), one step after another, then stores the image. Every
 * step that can make a layer goes through builder_layer_step, which
 * answers from the cache or makes the layer; the instructions that only
 * change the config are applied in imgcfg.c. Scratch directories live in
 * the store's scratch directory of this build, removed at the end. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/build/builder_int.h"
#include "engine/build/internal.h"
#include "engine/image/reference.h"
#include "engine/runtime/cgroup.h"
#include "engine/runtime/runtime.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

int builder_err(struct builder *b, const struct df_instr *in, struct berr *e)
{
    /* An error naming a line of this Dockerfile already (a step of a
     * stage this one needs, a COPY source) keeps that line only. */
    size_t nl = strlen(b->df->name);
    if (e && e->msg && strncmp(e->msg, b->df->name, nl) == 0 && e->msg[nl] == ':' &&
        isdigit((unsigned char)e->msg[nl + 1]))
        return e->code;
    return berr_wrap(e, "%s:%d", b->df->name, in->line);
}

/* The cgroups of RUN steps whose build was killed (build-PID-N, PID gone):
 * their processes killed, the cgroups removed. */
static void prune_stale_cgroups(struct builder *b)
{
    const struct cgroup_sys *cs = &b->env->rt->cgsys;
    const char *root = cs->v2_root;
    for (int c = 0; !root && c < CG_CTRL_MAX; c++)
        root = cs->v1_root[c];
    if (!root)
        return;
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, b->cgroup_parent);
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    _cleanup_strv_ char **names = fs_list_names(fd, false);
    for (char **n = names; n && *n; n++) {
        int pid;
        unsigned step;
        if (sscanf(*n, "build-%d-%u", &pid, &step) != 2 || pid <= 0 || kill(pid, 0) == 0 ||
            errno != ESRCH)
            continue;
        _cleanup_free_ char *rel = xasprintf("%s/%s", b->cgroup_parent, *n);
        struct cgroup *cg = cgroup_open(cs, rel);
        struct berr ig = BERR_INIT;
        if (cg && cgroup_kill_wait(cg, 2000, &ig) == 0)
            cgroup_destroy(cg, true, &ig);
        berr_clear(&ig);
        cgroup_free(cg);
    }
}

int builder_dir(struct builder *b, const char *what, char **path, struct berr *e)
{
    char *p = xasprintf("%s/%s%u", b->scratch, what,
                        __atomic_add_fetch(&b->next_dir, 1, __ATOMIC_RELAXED));
    if (mkdir(p, 0755) < 0) {
        int r = berr_errno(e, errno, "making %s", p);
        free(p);
        *path = NULL;
        return r;
    }
    *path = p;
    return 0;
}

char **builder_lowers(struct builder *b, const struct bstage *st)
{
    char **v = NULL;
    for (size_t i = 0; i < st->n_layers; i++)
        strv_push(&v, image_layer_dir(b->env->store, st->layers[i].chain_id));
    if (!v)
        strv_push(&v, xstrdup(b->empty_dir));
    return v;
}

static bool dir_is_empty(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return true;
    _cleanup_strv_ char **names = fs_list_names(fd, true);
    return !names || !names[0];
}

int builder_layer_step(struct builder *b, struct bstage *st, const struct df_instr *in,
                       struct bstep *s, const char *key, step_make_fn make, void *arg,
                       struct berr *e)
{
    struct bcache_rec rec;
    pthread_mutex_lock(&b->lock);
    bool hit = !b->o->no_cache && bcache_get(b, key, &rec);
    pthread_mutex_unlock(&b->lock);
    if (hit) {
        if (rec.created_ns > st->created_ns)
            st->created_ns = rec.created_ns;
        if (rec.has_layer)
            imgcfg_add_layer(st, &rec.layer);
        imgcfg_history(st, in, !rec.has_layer);
        snprintf(st->key, sizeof st->key, "%s", key);
        prog_cached(s);
        prog_end(s);
        return 0;
    }
    _cleanup_free_ char *dir = NULL;
    int r = builder_dir(b, "step", &dir, e);
    _cleanup_free_ char *upper = xasprintf("%s/u", dir ? dir : "");
    _cleanup_free_ char *work = xasprintf("%s/w", dir ? dir : "");
    _cleanup_free_ char *rootfs = xasprintf("%s/r", dir ? dir : "");
    if (r == 0 && (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0))
        r = berr_errno(e, errno, "making the step's directories");
    _cleanup_strv_ char **lowers = builder_lowers(b, st);
    if (r == 0)
        r = make(b, st, in, s, upper, work, rootfs, lowers, arg, e);
    memset(&rec, 0, sizeof rec);
    rec.created_ns = time_now_ns();
    pthread_mutex_lock(&b->lock);
    if (r == 0 && !dir_is_empty(upper)) {
        r = image_layer_from_dir(b->env->store, upper,
                                 st->n_layers ? st->layers[st->n_layers - 1].chain_id : NULL,
                                 &rec.layer, e);
        rec.has_layer = r == 0;
    }
    if (r == 0)
        r = bcache_put(b, key, &rec, e);
    pthread_mutex_unlock(&b->lock);
    if (dir) { /* what is left (the work dir, an empty upper) goes now */
        struct berr ig = BERR_INIT;
        fs_rm_rf_at(AT_FDCWD, dir, &ig);
        berr_clear(&ig);
    }
    if (r < 0) {
        prog_error(s, e->msg ? e->msg : "failed");
        prog_end(s);
        return builder_err(b, in, e);
    }
    st->created_ns = rec.created_ns;
    if (rec.has_layer)
        imgcfg_add_layer(st, &rec.layer);
    imgcfg_history(st, in, !rec.has_layer);
    snprintf(st->key, sizeof st->key, "%s", key);
    prog_done(s);
    prog_end(s);
    return 0;
}

/* --- FROM ------------------------------------------------------------- */

static int check_platform(struct builder *b, const char *want, struct berr *e)
{
    if (!want || !*want)
        return 0;
    struct platform p;
    if (platform_parse(want, &p, e) < 0)
        return -EINVAL;
    if (!platform_matches(&p, &b->plat)) {
        char have[PLATFORM_STR_MAX], w[PLATFORM_STR_MAX];
        platform_format(&b->plat, have, sizeof have);
        platform_format(&p, w, sizeof w);
        return berr_set(e, -ENOEXEC,
                        "cannot build for %s on this %s host (berth does not emulate other "
                        "architectures)",
                        w, have);
    }
    return 0;
}

/* The image ref names, pulled when absent (or always with --pull): its
 * config, layers and, as key, its ID. */
static int base_image_locked(struct builder *b, const char *ref, struct bstage *out, struct berr *e)
{
    struct store *s = b->env->store;
    bool pulled = false;
    if (b->o->pull) {
        if (!b->env->pull)
            return berr_set(e, -ENOTSUP, "image %s: --pull needs a registry", ref);
        int r = b->env->pull(b->env->pull_ud, ref, &b->plat, b->o->quiet, e);
        if (r < 0)
            return r;
        pulled = true;
    }
    _cleanup_image_ struct image *img = NULL;
    int r = store_image_get(s, ref, &img, e);
    if (r == -ENOENT && !pulled && b->env->pull) {
        berr_clear(e);
        if ((r = b->env->pull(b->env->pull_ud, ref, &b->plat, b->o->quiet, e)) < 0)
            return r;
        r = store_image_get(s, ref, &img, e);
    }
    if (r < 0)
        return r;
    if (img->platform.arch[0] && !platform_matches(&b->plat, &img->platform)) {
        char have[PLATFORM_STR_MAX], want[PLATFORM_STR_MAX];
        platform_format(&img->platform, have, sizeof have);
        platform_format(&b->plat, want, sizeof want);
        return berr_set(e, -ENOEXEC, "image %s is for %s, not %s", ref, have, want);
    }
    if ((r = image_parts_get(s, img->id, &out->config, &out->layers, &out->n_layers, e)) < 0)
        return r;
    struct sha256 *h = bkey_begin(NULL, "image");
    bkey_str(h, img->id);
    bkey_end(h, out->key);
    const char *created = json_string_value(json_object_get(out->config, "created"));
    out->base_created = created ? xstrdup(created) : NULL;
    return 0;
}

static int base_image(struct builder *b, const char *ref, struct bstage *out, struct berr *e)
{
    pthread_mutex_lock(&b->lock);
    int r = base_image_locked(b, ref, out, e);
    pthread_mutex_unlock(&b->lock);
    return r;
}

static void stage_take_base(struct bstage *st, const struct bstage *base)
{
    st->config = json_deep_copy(base->config);
    if (base->n_layers) {
        st->layers = xmemdup(base->layers, base->n_layers * sizeof *base->layers);
        st->n_layers = base->n_layers;
    }
    snprintf(st->key, sizeof st->key, "%s", base->key);
    st->created_ns = base->created_ns;
    st->base_created = base->base_created ? xstrdup(base->base_created) : NULL;
}

static int dispatch(struct builder *b, struct bstage *st, struct df_instr *in, struct berr *e);

/* The base image's ONBUILD triggers run first, then are dropped. */
static int onbuild(struct builder *b, struct bstage *st, const struct df_instr *from,
                   struct berr *e)
{
    json_t *conf = imgcfg_conf(st->config);
    json_t *ob = json_incref(json_object_get(conf, "OnBuild"));
    json_object_del(conf, "OnBuild");
    int r = 0;
    size_t i;
    json_t *t;
    json_array_foreach(ob, i, t)
    {
        const char *text = json_string_value(t);
        if (!text)
            continue;
        _cleanup_free_ char *doc = xasprintf("FROM scratch\n%s\n", text);
        _cleanup_(dockerfile_freep) struct dockerfile *df = NULL;
        if ((r = dockerfile_parse("ONBUILD", doc, strlen(doc), &df, e)) < 0)
            break;
        for (size_t k = 1; k < df->stages[0].n_instrs; k++) {
            enum df_kind kd = df->stages[0].instrs[k].kind;
            st->n_steps += kd == DF_RUN || kd == DF_COPY || kd == DF_ADD || kd == DF_WORKDIR;
        }
        for (size_t k = 1; r == 0 && k < df->stages[0].n_instrs; k++) {
            _cleanup_(df_instr_freep) struct df_instr *in = df_instr_dup(&df->stages[0].instrs[k]);
            in->line = from->line;
            if (in->kind == DF_FROM || in->kind == DF_ONBUILD || in->kind == DF_MAINTAINER)
                r = berr_set(e, -EINVAL, "%s isn't allowed as an ONBUILD trigger",
                             df_kind_name(in->kind));
            else if ((r = df_walk_expand(st->walk, in, e)) == 0)
                r = dispatch(b, st, in, e);
        }
    }
    json_decref(ob);
    if (r < 0)
        return berr_wrap(e, "running the base image's ONBUILD triggers");
    return r;
}

static int stage_from(struct builder *b, struct bstage *st, const struct df_instr *in,
                      struct berr *e)
{
    const char *base = in->args[0];
    int r = check_platform(b, df_flag(in, "platform"), e);
    if (r < 0)
        return builder_err(b, in, e);
    st->step++;
    if (strcasecmp(base, "scratch") == 0) {
        st->config = imgcfg_scratch(&b->plat);
        struct sha256 *h = bkey_begin(NULL, "scratch");
        bkey_str(h, b->plat.arch);
        bkey_end(h, st->key);
        return 0;
    }
    int j = dockerfile_find_stage(b->df, base);
    if (j >= 0 && (size_t)j < st->idx) {
        if ((r = builder_stage(b, (size_t)j, in, e)) < 0)
            return r;
        stage_take_base(st, &b->stages[j]);
    } else {
        struct bstep s;
        prog_begin(b, &s, "[internal] load metadata for %s", base);
        struct bstage img = {0};
        r = base_image(b, base, &img, e);
        if (r < 0) {
            prog_error(&s, e->msg ? e->msg : "failed");
            prog_end(&s);
            json_decref(img.config);
            free(img.layers);
            free(img.base_created);
            return builder_err(b, in, e);
        }
        prog_done(&s);
        prog_end(&s);
        stage_take_base(st, &img);
        json_decref(img.config);
        free(img.layers);
        free(img.base_created);
        _cleanup_free_ char *title = prog_stage_title(st);
        prog_begin(b, &s, "%s FROM %s", title, base);
        prog_done(&s);
        prog_end(&s);
    }
    _cleanup_strv_ char **env = imgcfg_env(st->config);
    df_walk_set_image_env(st->walk, env);
    return onbuild(b, st, in, e);
}

/* The stage or image a --from names: a stage by name or index (built
 * first), else an image (pulled when absent) into *image. */
int builder_from_source(struct builder *b, const struct df_instr *in, const char *from,
                        struct bstage **out_stage, struct bstage *image, struct berr *e)
{
    *out_stage = NULL;
    int j = dockerfile_find_stage(b->df, from);
    if (j >= 0) {
        int r = builder_stage(b, (size_t)j, in, e);
        if (r < 0)
            return r;
        *out_stage = &b->stages[j];
        return 0;
    }
    struct bstep s;
    prog_begin(b, &s, "[internal] load metadata for %s", from);
    int r = base_image(b, from, image, e);
    if (r < 0) {
        prog_error(&s, e->msg ? e->msg : "failed");
        prog_end(&s);
        return builder_err(b, in, e);
    }
    prog_done(&s);
    prog_end(&s);
    return 0;
}

/* --- stages ----------------------------------------------------------- */

static int config_step(struct builder *b, struct bstage *st, const struct df_instr *in,
                       struct berr *e)
{
    int r = imgcfg_apply(st, in, e);
    if (r < 0)
        return builder_err(b, in, e);
    struct sha256 *h = bkey_begin(st->key, "config");
    bkey_instr(h, in);
    bkey_end(h, st->key);
    imgcfg_history(st, in, true);
    return 0;
}

static int check_interrupt(struct builder *b, struct berr *e)
{
    struct signalfd_siginfo si;
    if (b->sigfd >= 0 && read(b->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
        __atomic_store_n(&b->interrupted, (int)si.ssi_signo, __ATOMIC_RELAXED);
    if (__atomic_load_n(&b->interrupted, __ATOMIC_RELAXED))
        return berr_set(e, -EINTR, "interrupted");
    if (__atomic_load_n(&b->cancel, __ATOMIC_RELAXED))
        return berr_set(e, -ECANCELED, "cancelled: another stage failed");
    return 0;
}

static int dispatch(struct builder *b, struct bstage *st, struct df_instr *in, struct berr *e)
{
    int r = check_interrupt(b, e);
    if (r < 0)
        return r;
    switch (in->kind) {
    case DF_FROM:
        return stage_from(b, st, in, e);
    case DF_RUN:
        return step_run(b, st, in, e);
    case DF_COPY:
    case DF_ADD:
        return step_copy(b, st, in, e);
    case DF_WORKDIR:
        return step_workdir(b, st, in, e);
    case DF_ARG: { /* in the key: a changed value changes what follows */
        struct sha256 *h = bkey_begin(st->key, "arg");
        bkey_instr(h, in);
        bkey_end(h, st->key);
        return 0;
    }
    default:
        return config_step(b, st, in, e);
    }
}

int builder_stage(struct builder *b, size_t i, const struct df_instr *from_instr, struct berr *e)
{
    struct bstage *st = &b->stages[i];
    pthread_mutex_lock(&b->lock);
    /* Another thread building it: wait for it. This one: a cycle. */
    while (st->state == 1 && !pthread_equal(st->owner, pthread_self()))
        pthread_cond_wait(&b->stage_done, &b->lock);
    int state = st->state;
    if (state == 0) {
        st->state = 1;
        st->owner = pthread_self();
    }
    pthread_mutex_unlock(&b->lock);
    if (state == 2)
        return 0;
    if (state == 3)
        return berr_set(e, -ECANCELED, "stage %s failed", st->label ? st->label : "0");
    if (state == 1) {
        berr_set(e, -ELOOP, "circular dependency detected on stage: %s",
                 b->df->stages[i].name ? b->df->stages[i].name
                 : st->label           ? st->label
                                       : "0");
        return from_instr ? builder_err(b, from_instr, e) : -ELOOP;
    }
    const struct df_stage *ds = &b->df->stages[i];
    st->n_steps = 0;
    for (size_t k = 0; k < ds->n_instrs; k++) {
        enum df_kind kd = ds->instrs[k].kind;
        if (kd == DF_FROM || kd == DF_RUN || kd == DF_COPY || kd == DF_ADD || kd == DF_WORKDIR)
            st->n_steps++;
    }
    int r = df_walk_new(b->df, i, b->build_args, &st->walk, e);
    while (r >= 0) {
        struct df_instr *in = NULL;
        r = df_walk_next(st->walk, &in, e);
        if (r <= 0)
            break;
        r = dispatch(b, st, in, e);
        df_instr_free(in);
    }
    df_walk_free(st->walk);
    st->walk = NULL;
    pthread_mutex_lock(&b->lock);
    st->state = r < 0 ? 3 : 2;
    pthread_cond_broadcast(&b->stage_done);
    pthread_mutex_unlock(&b->lock);
    return r < 0 ? r : 0;
}

/* --- independent stages in parallel ----------------------------------- */

/* The stages stage i names (FROM an earlier stage, COPY --from, RUN
 * --mount from=), as far as a walk without the base image's variables
 * tells; what it misses is still built, when reached, in order. */
static void stage_deps(struct builder *b, size_t i, bool *deps)
{
    struct df_walk *w = NULL;
    struct berr ig = BERR_INIT;
    if (df_walk_new(b->df, i, b->build_args, &w, &ig) < 0) {
        berr_clear(&ig);
        return;
    }
    struct df_instr *in = NULL;
    while (df_walk_next(w, &in, &ig) == 1) {
        const char *names[16];
        size_t n = 0;
        if (in->kind == DF_FROM)
            names[n++] = in->args[0];
        if (in->kind == DF_COPY && df_flag(in, "from"))
            names[n++] = df_flag(in, "from");
        for (size_t k = 0; in->kind == DF_RUN && k < in->n_mounts && n < 16; k++)
            if (in->mounts[k].from)
                names[n++] = in->mounts[k].from;
        for (size_t k = 0; k < n; k++) {
            int j = dockerfile_find_stage(b->df, names[k]);
            if (j >= 0 && (size_t)j != i && (in->kind != DF_FROM || (size_t)j < i))
                deps[j] = true;
        }
        df_instr_free(in);
    }
    berr_clear(&ig);
    df_walk_free(w);
}

struct stage_job {
    struct builder *b;
    size_t idx;
    pthread_t thread;
    int r;
    struct berr e;
};

static void *stage_thread(void *arg)
{
    struct stage_job *j = arg;
    j->r = builder_stage(j->b, j->idx, NULL, &j->e);
    if (j->r < 0)
        __atomic_store_n(&j->b->cancel, 1, __ATOMIC_RELAXED);
    return NULL;
}

#define BUILD_MAX_PARALLEL 4

/* Builds what the target needs, a wave of independent stages at a time
 * (each wave: the stages whose own needs are built), in threads when a
 * wave has several. The target itself is left to the caller. */
static int build_needs(struct builder *b, size_t target, struct berr *e)
{
    size_t n = b->df->n_stages;
    if (n < 3)
        return 0;
    _cleanup_free_ bool *deps = xcalloc(n * n, sizeof(bool));
    for (size_t i = 0; i < n; i++)
        stage_deps(b, i, deps + i * n);
    _cleanup_free_ bool *need = xcalloc(n, sizeof(bool));
    need[target] = true;
    for (bool grew = true; grew;) { /* the closure of the target's needs */
        grew = false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; need[i] && j < n; j++)
                if (deps[i * n + j] && !need[j])
                    need[j] = grew = true;
    }
    need[target] = false;
    for (;;) {
        size_t ready[BUILD_MAX_PARALLEL], nr = 0;
        for (size_t i = 0; i < n && nr < BUILD_MAX_PARALLEL; i++) {
            if (!need[i] || b->stages[i].state != 0)
                continue;
            bool ok = true;
            for (size_t j = 0; j < n && ok; j++)
                ok = !deps[i * n + j] || b->stages[j].state == 2;
            if (ok)
                ready[nr++] = i;
        }
        if (nr < 2) /* one at a time: in order, when the target reaches it */
            return 0;
        b->parallel = true;
        struct stage_job jobs[BUILD_MAX_PARALLEL];
        memset(jobs, 0, sizeof jobs);
        size_t started = 0;
        for (size_t k = 0; k < nr; k++) {
            jobs[k] = (struct stage_job){.b = b, .idx = ready[k], .e = BERR_INIT};
            if (pthread_create(&jobs[k].thread, NULL, stage_thread, &jobs[k]) != 0)
                break;
            started++;
        }
        int r = 0;
        for (size_t k = 0; k < started; k++) {
            pthread_join(jobs[k].thread, NULL);
            /* the first failure that is not another's cancellation */
            if (jobs[k].r < 0 && (r == 0 || r == -ECANCELED)) {
                berr_move(e, &jobs[k].e);
                r = jobs[k].r;
            }
            berr_clear(&jobs[k].e);
        }
        if (r < 0)
            return r;
        if (started < nr)
            return 0; /* no more threads: the rest in order */
    }
}

/* --- the build -------------------------------------------------------- */

static void stages_free(struct builder *b)
{
    for (size_t i = 0; b->stages && i < b->df->n_stages; i++) {
        struct bstage *st = &b->stages[i];
        free(st->label);
        json_decref(st->config);
        free(st->layers);
        free(st->base_created);
        df_walk_free(st->walk);
    }
    free(b->stages);
}

/* Build args: "K" alone takes the environment's value (absent: left out),
 * then the automatic platform ARGs the options did not set. */
static char **effective_args(struct builder *b)
{
    char **v = xcalloc(1, sizeof(char *));
    for (char *const *a = b->o->build_args; a && *a; a++) {
        if (strchr(*a, '=')) {
            strv_env_put(&v, *a);
            continue;
        }
        const char *val = strv_env_get(b->env->environ, *a);
        if (val)
            strv_env_set(&v, *a, val);
    }
    char plat[PLATFORM_STR_MAX];
    platform_format(&b->plat, plat, sizeof plat);
    const struct {
        const char *k, *v;
    } auto_args[] = {
        {"BUILDPLATFORM", plat},      {"BUILDOS", b->plat.os},
        {"BUILDARCH", b->plat.arch},  {"BUILDVARIANT", b->plat.variant},
        {"TARGETPLATFORM", plat},     {"TARGETOS", b->plat.os},
        {"TARGETARCH", b->plat.arch}, {"TARGETVARIANT", b->plat.variant},
    };
    for (size_t i = 0; i < sizeof auto_args / sizeof auto_args[0]; i++)
        if (!strv_env_get(v, auto_args[i].k))
            strv_env_set(&v, auto_args[i].k, auto_args[i].v);
    return v;
}

static int read_dockerfile(struct builder *b, char **text, size_t *len, char **name, char **path,
                           struct berr *e)
{
    const struct build_opts *o = b->o;
    *path = NULL;
    if (o->dockerfile_inline) {
        *text = xstrdup(o->dockerfile_inline);
        *len = strlen(*text);
        *name = xstrdup("Dockerfile");
        return 0;
    }
    *path = o->dockerfile ? xstrdup(o->dockerfile) : xasprintf("%s/Dockerfile", o->context);
    const char *base = strrchr(*path, '/');
    *name = xstrdup(base ? base + 1 : *path);
    int r = fs_read_file(AT_FDCWD, *path, DF_MAX_BYTES, text, len, e);
    if (r == -ENOENT) {
        berr_clear(e);
        return berr_set(e, -ENOENT, "failed to read dockerfile: %s: no such file", *path);
    }
    if (r < 0)
        return berr_wrap(e, "failed to read dockerfile %s", *path);
    return 0;
}

static int finish(struct builder *b, struct bstage *st, char **image_id, struct berr *e)
{
    json_t *conf = imgcfg_conf(st->config);
    if (b->o->labels && b->o->labels[0]) {
        json_t *l = json_object_get(conf, "Labels");
        if (!json_is_object(l)) {
            l = json_object();
            json_object_set_new(conf, "Labels", l);
        }
        for (char *const *kv = b->o->labels; *kv; kv++) {
            const char *eq = strchr(*kv, '=');
            _cleanup_free_ char *k = eq ? xstrndup(*kv, (size_t)(eq - *kv)) : xstrdup(*kv);
            json_object_set_new(l, k, json_string(eq ? eq + 1 : ""));
        }
    }
    char ts[TIME_RFC3339_MAX];
    if (st->created_ns > 0)
        json_object_set_new(st->config, "created",
                            json_string(time_rfc3339(st->created_ns, 9, ts)));
    else if (!st->base_created)
        json_object_del(st->config, "created");
    struct bstep s;
    prog_begin(b, &s, "exporting to image");
    _cleanup_free_ char *text = json_dumps(st->config, JSON_COMPACT);
    if (!text)
        return berr_set(e, -ENOMEM, "writing the image config");
    int r = image_commit(b->env->store, text, strlen(text), st->layers, st->n_layers, b->o->tags,
                         image_id, e);
    if (r < 0) {
        prog_error(&s, e->msg ? e->msg : "failed");
        prog_end(&s);
        return berr_wrap(e, "storing the image");
    }
    prog_note(&s, "writing image %s done", *image_id);
    for (char *const *t = b->o->tags; t && *t; t++) { /* as docker names it */
        _cleanup_imgref_ struct imgref ir = {0};
        _cleanup_free_ char *full = ref_parse(*t, &ir, NULL) == 0 ? ref_string(&ir) : NULL;
        prog_note(&s, "naming to %s done", full ? full : *t);
    }
    prog_done(&s);
    prog_end(&s);
    return 0;
}

static int run_build(struct builder *b, char **image_id, struct berr *e)
{
    const struct build_opts *o = b->o;
    struct stat sb;
    if (!o->context || stat(o->context, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return berr_set(e, -ENOENT, "unable to prepare context: path \"%s\" not found",
                        o->context ? o->context : "");
    if (o->platform) {
        struct platform want;
        if (platform_parse(o->platform, &want, e) < 0)
            return -EINVAL;
        if (!platform_matches(&want, &b->plat))
            return check_platform(b, o->platform, e);
    }
    struct bstep s;
    const char *shown = o->dockerfile ? strrchr(o->dockerfile, '/') : NULL;
    shown = shown ? shown + 1 : o->dockerfile;
    prog_begin(b, &s, "[internal] load build definition from %s",
               o->dockerfile_inline ? "Dockerfile (inline)"
               : shown              ? shown
                                    : "Dockerfile");
    _cleanup_free_ char *text = NULL, *name = NULL, *path = NULL;
    size_t len = 0;
    int r = read_dockerfile(b, &text, &len, &name, &path, e);
    if (r == 0)
        r = dockerfile_parse(name, text, len, &b->df, e);
    if (r < 0) {
        prog_error(&s, e->msg ? e->msg : "failed");
        prog_end(&s);
        return r;
    }
    prog_note(&s, "transferring dockerfile: %zuB done", len);
    prog_done(&s);
    prog_end(&s);
    prog_begin(b, &s, "[internal] load .dockerignore");
    r = build_context_open(o->context, path, &b->ctx, e);
    if (r < 0) {
        prog_error(&s, e->msg ? e->msg : "failed");
        prog_end(&s);
        return r;
    }
    prog_done(&s);
    prog_end(&s);
    size_t target = b->df->n_stages - 1;
    if (o->target && *o->target) {
        int t = dockerfile_find_stage(b->df, o->target);
        if (t < 0)
            return berr_set(e, -ENOENT, "target stage \"%s\" could not be found", o->target);
        target = (size_t)t;
    }
    b->build_args = effective_args(b);
    b->stages = xcalloc(b->df->n_stages, sizeof *b->stages);
    for (size_t i = 0; i < b->df->n_stages; i++) {
        b->stages[i].idx = i;
        if (b->df->n_stages > 1)
            b->stages[i].label =
                b->df->stages[i].name ? xstrdup(b->df->stages[i].name) : xasprintf("stage-%zu", i);
    }
    if ((r = image_scratch_begin(b->env->store, &b->scratch, &b->scratch_lock, e)) < 0)
        return r;
    b->empty_dir = xasprintf("%s/empty", b->scratch);
    if (mkdir(b->empty_dir, 0755) < 0)
        return berr_errno(e, errno, "making %s", b->empty_dir);
    b->cache_dir = xasprintf("%s/buildcache", b->env->root);
    if ((r = fs_mkdir_p(b->cache_dir, 0700, e)) < 0)
        return r;
    prune_stale_cgroups(b);
    if ((r = build_net_open(b->env->root, b->env->runroot, o->network, o->extra_hosts, &b->net,
                            e)) < 0)
        return r;
    if ((r = build_needs(b, target, e)) < 0 || (r = builder_stage(b, target, NULL, e)) < 0)
        return r;
    return finish(b, &b->stages[target], image_id, e);
}

int build_image(const struct build_env *env, const struct build_opts *o, char **image_id,
                struct berr *e)
{
    *image_id = NULL;
    struct builder b = {
        .env = env,
        .o = o,
        .scratch_lock = -1,
        .sigfd = -1,
        .t0_ns = time_now_ns(),
    };
    platform_host(&b.plat);
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.stage_done, NULL);
    b.cgroup_parent = xstrdup(env->cgroup_parent ? env->cgroup_parent : "berth/build");
    /* SIGINT, SIGTERM and SIGHUP stop the build cleanly: the running step
     * is killed and everything removed; they are delivered again when
     * the build returns. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    b.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    int r = run_build(&b, image_id, e);
    if (r < 0 && b.interrupted) {
        berr_clear(e);
        r = berr_set(e, -EINTR, "build interrupted");
    }
    build_net_close(b.net);
    if (b.scratch)
        image_scratch_end(env->store, b.scratch, b.scratch_lock);
    free(b.scratch);
    stages_free(&b);
    build_context_free(b.ctx);
    dockerfile_free(b.df);
    strv_free(b.build_args);
    free(b.empty_dir);
    free(b.cache_dir);
    free(b.cgroup_parent);
    if (b.sigfd >= 0)
        close(b.sigfd);
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.stage_done);
    if (b.interrupted) /* the signal is delivered when unblocked */
        kill(getpid(), b.interrupted);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (r < 0) {
        free(*image_id);
        *image_id = NULL;
    }
    return r;
}
