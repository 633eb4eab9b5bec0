/* SPDX-License-Identifier: Apache-2.0 */
/* `berth build [SERVICE...]` (docker compose build), `berth image build
 * CONTEXT` (docker build), and the building up and run do (cmd/build.h):
 * what the builder is handed, from the compose file's build: section or
 * from docker build's flags. Not here: the builder (engine/build), the
 * compose keys (compose/model_build.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/build.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "cmd/up.h"
#include "engine/build/build.h"
#include "engine/image/reference.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/platform.h"
#include "util/strv.h"
#include "util/units.h"
#include "util/xalloc.h"

/* --- what every build is handed ------------------------------------------ */

void cli_builder_init(struct cli_builder *b, struct cli *c, struct store *st)
{
    *b = (struct cli_builder){.c = c, .st = st, .rt = RUNTIME_UNSET};
}

void cli_builder_fini(struct cli_builder *b)
{
    if (b->rt_ready)
        runtime_fini(&b->rt);
    strv_free(b->built);
    b->built = NULL;
    b->rt_ready = false;
}

/* The builder's pull callback: a FROM image brought into the store as
 * `berth image pull` does. ud: the store. */
static int pull_from(void *ud, const char *ref, const struct platform *platform, bool quiet,
                     struct berr *e)
{
    struct store *st = ud;
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(ref, &ir, e);
    if (r < 0)
        return r;
    const char *missing = NULL;
    if (!registry_pull_supported(ir.domain, &missing))
        return berr_set(e, -ENOENT,
                        "image \"%s\" is not in the store (load it with `berth load -i FILE`; "
                        "%s)",
                        ref, missing ? missing : "it cannot be pulled");
    if (!quiet)
        fprintf(stderr, "Pulling %s\n", ref);
    return registry_pull_for(st, ref, platform, NULL, NULL, e);
}

static int builder_runtime(struct cli_builder *b, struct berr *e)
{
    if (b->rt_ready)
        return 0;
    _cleanup_free_ char *cache = xasprintf("%s/cache/seccomp", b->c->root);
    int r = runtime_init(&b->rt, cache, e);
    if (r < 0)
        return r;
    b->rt_ready = true;
    return 0;
}

/* -q: of the build's progress only a failed step's last lines. */
static void quiet_event(void *ud, const struct ev *ev)
{
    const struct ev_sink *to = ud;
    if (ev->type != EV_BUILD || (ev->status && strcmp(ev->status, "Tail") == 0))
        ev_emit(to, (struct ev *)ev);
}

/* Runs the builder with the store, the runtime and the pull callback. */
static int run_build(struct cli_builder *b, struct build_opts *o, char **id, struct berr *e)
{
    int r = builder_runtime(b, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *cg = NULL;
    if ((r = cli_build_cgroup(b->c->root, &cg, e)) < 0)
        return r;
    struct build_env env = {
        .store = b->st,
        .rt = &b->rt,
        .root = b->c->root,
        .runroot = b->c->runroot,
        .environ = b->c->environ,
        .cgroup_parent = cg,
        .sink = b->c->sink,
        .pull = pull_from,
        .pull_ud = b->st,
    };
    if (o->quiet)
        env.sink = (struct ev_sink){.event = quiet_event, .log = NULL, .ud = &b->c->sink};
    return build_image(&env, o, id, e);
}

/* The build args: the file's, then --build-arg's overriding them; a bare
 * "K" takes the environment's value, or is left out when it has none (as
 * docker compose resolves them). */
char **cli_build_args(char *const *file, char *const *flags, char *const *env)
{
    char **out = strv_dup(file);
    for (size_t i = 0; flags && flags[i]; i++) {
        if (strchr(flags[i], '=')) {
            strv_env_put(&out, flags[i]);
            continue;
        }
        const char *v = strv_env_get(env, flags[i]);
        if (v)
            strv_env_set(&out, flags[i], v);
    }
    return out;
}

/* Every platform of build.platforms must be this host's: berth builds
 * (and runs) this host's platform only. */
static int check_platforms(const struct service *s, struct berr *e)
{
    struct platform host;
    platform_host(&host);
    for (size_t i = 0; s->build->platforms && s->build->platforms[i]; i++) {
        const char *name = s->build->platforms[i];
        const struct srcpos *at = &s->build->platforms_pos;
        struct platform want;
        _cleanup_berr_ struct berr pe = BERR_INIT;
        if (platform_parse(name, &want, &pe) < 0)
            return berr_set(e, -EINVAL, "%s:%d:%d: service \"%s\": build.platforms: %s", at->file,
                            at->line, at->col, s->name, pe.msg);
        if (!platform_matches(&want, &host)) {
            char have[PLATFORM_STR_MAX];
            platform_format(&host, have, sizeof have);
            return berr_set(e, -ENOEXEC,
                            "%s:%d:%d: service \"%s\": build.platforms: cannot build for %s on "
                            "this %s host (berth does not emulate other architectures)",
                            at->file, at->line, at->col, s->name, name, have);
        }
    }
    return 0;
}

/* What berth will not build, said before anything runs. */
static int check_buildable(const struct service *s, struct berr *e)
{
    const struct svc_build *sb = s->build;
    if (!sb)
        return berr_set(e, -EINVAL, "%s:%d:%d: service \"%s\": build: expected a mapping",
                        s->pos.file, s->pos.line, s->pos.col, s->name);
    if (sb->refused)
        return berr_set(e, -EPERM, "%s:%d:%d: service \"%s\": %s; refusing to build it",
                        sb->refused_pos.file, sb->refused_pos.line, sb->refused_pos.col, s->name,
                        sb->refused);
    if (sb->remote)
        return berr_set(e, -ENOTSUP,
                        "%s:%d:%d: service \"%s\": build context \"%s\" is a URL; berth builds "
                        "from a local directory only (clone it and name the directory)",
                        sb->pos.file, sb->pos.line, sb->pos.col, s->name, sb->context);
    struct stat st;
    int sr = stat(sb->context, &st) < 0 ? -errno : 0;
    if (sr < 0 || !S_ISDIR(st.st_mode))
        return berr_set(e, sr < 0 ? sr : -ENOTDIR,
                        "%s:%d:%d: service \"%s\": build context \"%s\" is not a directory%s",
                        sb->pos.file, sb->pos.line, sb->pos.col, s->name, sb->context,
                        sr == -ENOENT ? " (it does not exist)" : "");
    return check_platforms(s, e);
}

int cli_build_service(struct cli_builder *b, const struct service *s, struct berr *e)
{
    if (strv_contains(b->built, s->image))
        return 0; /* another service of the same image built it */
    int r = check_buildable(s, e);
    if (r < 0)
        return r;
    const struct svc_build *sb = s->build;
    _cleanup_strv_ char **args = cli_build_args(sb->args, b->build_args, b->c->environ);
    _cleanup_strv_ char **tags = NULL;
    strv_push(&tags, xstrdup(s->image));
    for (size_t i = 0; sb->tags && sb->tags[i]; i++)
        if (!strv_contains(tags, sb->tags[i]))
            strv_push(&tags, xstrdup(sb->tags[i]));
    struct build_opts o = {
        .context = sb->context,
        .dockerfile = sb->dockerfile,
        .dockerfile_inline = sb->dockerfile_inline,
        .build_args = args,
        .target = sb->target,
        .tags = tags,
        .labels = sb->labels,
        .no_cache = b->no_cache || sb->no_cache,
        .pull = b->pull || sb->pull,
        .network = sb->network,
        .shm_size = sb->shm_size,
        .extra_hosts = sb->extra_hosts,
        .secrets = sb->secrets,
        .platform = s->platform,
        .name = s->name,
        .quiet = b->quiet,
    };
    _cleanup_free_ char *id = NULL;
    r = run_build(b, &o, &id, e);
    if (r < 0)
        return berr_wrap(e, "service \"%s\": building image \"%s\"", s->name, s->image);
    strv_push(&b->built, xstrdup(s->image));
    if (!b->quiet)
        ui_progress(b->c->ui, EV_SERVICE, "build", s->name, "Built");
    return 0;
}

enum cli_build_decision cli_build_decide(const struct service *s, bool present,
                                         enum cli_build_when when)
{
    if (!s->has_build)
        return BUILD_SKIP;
    if (when == BUILD_NEVER) /* over pull_policy: build too, as compose */
        return present ? BUILD_SKIP : BUILD_MISSING_REFUSED;
    if (present && when == BUILD_MISSING && !s->pull_build)
        return BUILD_SKIP;
    return BUILD_RUN;
}

int cli_service_build_if(struct cli_builder *b, const struct service *s, enum cli_build_when when,
                         struct berr *e)
{
    if (!s->has_build)
        return 0;
    _cleanup_image_ struct image *img = NULL;
    bool present = store_image_get(b->st, s->image, &img, NULL) == 0;
    switch (cli_build_decide(s, present, when)) {
    case BUILD_SKIP:
        return 0;
    case BUILD_MISSING_REFUSED:
        return berr_set(e, -ENOENT,
                        "service \"%s\": image \"%s\" is not in the store, and --no-build "
                        "forbids building it (run `berth build %s` first)",
                        s->name, s->image, s->name);
    case BUILD_RUN:
        break;
    }
    return cli_build_service(b, s, e);
}

/* --- berth build ---------------------------------------------------------- */

int cmd_build(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "build");
    bool no_cache = false, pull = false, quiet = false, push = false, with_deps = false;
    _cleanup_strv_ char **build_args = NULL;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'N':
            no_cache = true;
            break;
        case 'P':
            pull = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'B':
            if (!*optarg || *optarg == '=') {
                fprintf(stderr, "berth: build: invalid --build-arg \"%s\" (KEY=VALUE or KEY)\n",
                        optarg);
                return 2;
            }
            strv_push(&build_args, xstrdup(optarg));
            break;
        case 'U':
            push = true;
            break;
        case 'D':
            with_deps = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    char *const *names = argv + optind;
    _cleanup_project_ struct project *p = NULL;
    int r = cli_load_project(c, names, &p, e);
    if (r < 0)
        return r;
    for (size_t i = 0; names[i]; i++)
        if (!project_service(p, names[i]))
            return berr_set(e, -ENOENT, "no such service: %s", names[i]);
    _cleanup_free_ bool *want = up_wanted(p, names, !with_deps);
    _cleanup_store_ struct store *st = NULL;
    if ((r = store_open(c->root, &st, e)) < 0)
        return r;
    store_set_sink(st, &c->sink); /* a FROM image's pull progress */
    struct cli_builder b;
    cli_builder_init(&b, c, st);
    b.no_cache = no_cache;
    b.pull = pull;
    b.quiet = quiet;
    b.build_args = build_args;
    /* in dependency order; services without build: are skipped silently,
     * as docker compose does */
    for (size_t k = 0; r >= 0 && k < p->n_services; k++) {
        size_t i = p->start_order ? p->start_order[k] : k;
        if (want[i] && p->services[i].has_build)
            r = cli_build_service(&b, &p->services[i], e);
    }
    cli_builder_fini(&b);
    if (r < 0 || !push)
        return r;
    struct svc_images_cmd po = {.quiet = quiet, .p = p, .want = want};
    return cli_push_services(st, p, want, &po, e);
}

/* --- berth image build ---------------------------------------------------- */

struct image_build_flags {
    char **tags, **args, **labels, **secrets, **hosts;
    const char *file, *target, *network, *platform;
    int64_t shm_size;
    bool no_cache, pull, quiet;
};

static void image_build_flags_free(struct image_build_flags *f)
{
    strv_free(f->tags);
    strv_free(f->args);
    strv_free(f->labels);
    strv_free(f->secrets);
    strv_free(f->hosts);
}

/* A flag's value that must hold a "=" with something before it
 * (--label, --secret) or a ":"/"=" (--add-host). */
static bool has_sep(const char *v, const char *seps)
{
    size_t n = strcspn(v, seps);
    return n > 0 && v[n];
}

/* Parses docker build's flags; 0 when the build is to run, else the exit
 * status (after --help or a usage error). */
static int image_build_parse(int argc, char **argv, struct image_build_flags *f, int *status)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image build");
    int opt;
    opterr = 0;
    *status = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        const char *bad = NULL;
        switch (opt) {
        case 't':
            strv_push(&f->tags, xstrdup(optarg));
            break;
        case 'f':
            f->file = optarg;
            break;
        case 'B':
            if (!*optarg || *optarg == '=')
                bad = "--build-arg (KEY=VALUE or KEY)";
            strv_push(&f->args, xstrdup(optarg));
            break;
        case 'T':
            f->target = optarg;
            break;
        case 'N':
            f->no_cache = true;
            break;
        case 'P':
            f->pull = true;
            break;
        case 'q':
            f->quiet = true;
            break;
        case 'L':
            if (!has_sep(optarg, "="))
                bad = "--label (KEY=VALUE)";
            strv_push(&f->labels, xstrdup(optarg));
            break;
        case 'n':
            f->network = optarg;
            break;
        case 'p':
            f->platform = optarg;
            break;
        case 'S':
            if (!has_sep(optarg, "="))
                bad = "--secret (id=ID,src=PATH or id=ID,env=VAR)";
            strv_push(&f->secrets, xstrdup(optarg));
            break;
        case 'H':
            if (!has_sep(optarg, ":="))
                bad = "--add-host (HOST:IP)";
            strv_push(&f->hosts, xstrdup(optarg));
            break;
        case 'M':
            if (parse_size(optarg, &f->shm_size) < 0 || f->shm_size <= 0)
                bad = "--shm-size (bytes, or a size such as 64m)";
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            *status = 0;
            return 1;
        default:
            *status = 2; /* cmd_parser_next said why */
            return 1;
        }
        if (bad) {
            fprintf(stderr, "berth: image build: invalid %s: \"%s\"\n", bad, optarg);
            *status = 2;
            return 1;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "berth: image build: requires exactly 1 argument (the build context: "
                        "a directory, or - for a Dockerfile on standard input)\n");
        *status = 2;
        return 1;
    }
    return 0;
}

/* Standard input whole, at most the Dockerfile cap. */
static int read_stdin(char **out, struct berr *e)
{
    struct strbuf sb = {0};
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(sb.s);
            return berr_errno(e, errno, "reading the Dockerfile from standard input");
        }
        if (sb.len + (size_t)n > DF_MAX_BYTES) {
            free(sb.s);
            return berr_set(e, -EFBIG, "the Dockerfile on standard input is larger than %d bytes",
                            DF_MAX_BYTES);
        }
        strbuf_put(&sb, buf, (size_t)n);
    }
    *out = sb.s ? sb.s : xstrdup("");
    return 0;
}

int cmd_images_build(struct cli *c, int argc, char **argv, struct berr *e)
{
    _cleanup_(image_build_flags_free) struct image_build_flags f = {0};
    int status;
    if (image_build_parse(argc, argv, &f, &status))
        return status;
    const char *context = argv[optind];
    for (size_t i = 0; f.tags && f.tags[i]; i++) {
        _cleanup_imgref_ struct imgref ir = {0};
        int r = ref_parse(f.tags[i], &ir, e);
        if (r < 0)
            return berr_wrap(e, "invalid tag \"%s\"", f.tags[i]);
    }
    if (f.platform) {
        struct platform want, host;
        int r = platform_parse(f.platform, &want, e);
        if (r < 0)
            return r;
        platform_host(&host);
        if (!platform_matches(&want, &host))
            return berr_set(e, -ENOEXEC,
                            "cannot build for %s on this host (berth does not emulate other "
                            "architectures)",
                            f.platform);
    }
    /* "-": the Dockerfile on standard input and no context (an empty
     * directory of this build's own); -f -: the Dockerfile on standard
     * input with CONTEXT. */
    bool df_stdin = strcmp(context, "-") == 0 || (f.file && strcmp(f.file, "-") == 0);
    if (strcmp(context, "-") == 0 && f.file && strcmp(f.file, "-") != 0)
        return berr_set(e, -EINVAL,
                        "image build: -f %s cannot be used with a Dockerfile on standard input "
                        "(context -)",
                        f.file);
    _cleanup_free_ char *inline_df = NULL;
    if (df_stdin) {
        int r = read_stdin(&inline_df, e);
        if (r < 0)
            return r;
    }
    _cleanup_free_ char *empty = NULL;
    if (strcmp(context, "-") == 0) {
        empty = xasprintf("%s/berth-build-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(empty)) {
            free(TAKE_PTR(empty));
            return berr_errno(e, errno, "making an empty build context");
        }
        context = empty;
    }
    _cleanup_store_ struct store *st = NULL;
    int r = store_open(c->root, &st, e);
    if (r == 0)
        store_set_sink(st, &c->sink);
    _cleanup_strv_ char **args = r == 0 ? cli_build_args(NULL, f.args, c->environ) : NULL;
    _cleanup_strv_ char **hosts = NULL;
    for (size_t i = 0; f.hosts && f.hosts[i]; i++) {
        char *h = xstrdup(f.hosts[i]);
        h[strcspn(h, "=:")] = ':';
        strv_push(&hosts, h);
    }
    _cleanup_free_ char *id = NULL;
    struct cli_builder b;
    cli_builder_init(&b, c, st);
    if (r == 0) {
        struct build_opts o = {
            .context = context,
            .dockerfile = df_stdin ? NULL : f.file,
            .dockerfile_inline = inline_df,
            .build_args = args,
            .target = f.target,
            .tags = f.tags,
            .labels = f.labels,
            .no_cache = f.no_cache,
            .pull = f.pull,
            .network = f.network,
            .shm_size = f.shm_size,
            .extra_hosts = hosts,
            .secrets = f.secrets,
            .platform = f.platform,
            .quiet = f.quiet,
        };
        r = run_build(&b, &o, &id, e);
    }
    cli_builder_fini(&b);
    if (empty)
        rmdir(empty);
    if (r < 0)
        return r;
    if (f.quiet)
        printf("%s\n", id);
    return 0;
}
