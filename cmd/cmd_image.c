/* SPDX-License-Identifier: Apache-2.0 */
/* berth load, berth image ls|rm|repair|inspect|tag|prune|pull|save (also
 * `images`, `rmi`): options,
 * docker's output and messages. Not here: the store, archives and the index
 * (engine/image/), the table layout (cmd/ui/format.c). */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/ui/format.h"
#include "cmd/ui/gotmpl.h"
#include "engine/image/image.h"
#include "engine/image/imgconfig.h"
#include "engine/image/reference.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/platform.h"
#include "util/strv.h"
#include "util/xalloc.h"

int cmd_load(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "load");
    const char *input = NULL;
    bool quiet = false;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'i':
            input = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth: load: unexpected argument \"%s\" (use -i FILE)\n", argv[optind]);
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open(c->root, &s, e);
    if (r < 0)
        return r;
    store_set_sink(s, &c->sink);
    _cleanup_strv_ char **loaded = NULL;
    r = image_load_archive(s, input, &loaded, e);
    if (r < 0)
        return r;
    for (size_t i = 0; !quiet && loaded && loaded[i]; i++) {
        if (strncmp(loaded[i], "sha256:", 7) == 0 && !strchr(loaded[i], '/')) {
            printf("Loaded image ID: %s\n", loaded[i]);
        } else {
            _cleanup_free_ char *fam = ref_familiarize(loaded[i]);
            printf("Loaded image: %s\n", fam);
        }
    }
    return 0;
}

int cmd_images_save(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image save");
    const char *output = NULL;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'o':
            output = optarg;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "berth: image save: name at least one image\n");
        return 2;
    }
    if (output && strcmp(output, "-") == 0)
        output = NULL;
    if (!output && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "berth: image save: cowardly refusing to write a tar archive to a "
                        "terminal (use -o FILE or redirect)\n");
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open_readonly(c->root, &s, e);
    if (r < 0)
        return r;
    char **refs = argv + optind;
    if (output)
        return image_save_file(s, refs, output, e);
    fflush(stdout);
    return image_save(s, refs, STDOUT_FILENO, e);
}

struct row {
    char *repo, *tag, *id, *created_since, *created_at, *size;
    long long created;
    struct image *img;
};

static void row_free(struct row *r)
{
    free(r->repo);
    free(r->tag);
    free(r->id);
    free(r->created_since);
    free(r->created_at);
    free(r->size);
}

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    int c = strcmp(x->repo, y->repo);
    return c ? c : strcmp(x->tag, y->tag);
}

static void make_row(struct row *r, struct image *img, bool no_trunc)
{
    memset(r, 0, sizeof *r);
    r->img = img;
    _cleanup_imgref_ struct imgref ref = {0};
    if (img->ref && ref_parse(img->ref, &ref, NULL) == 0) {
        r->repo = ref_familiar_name(&ref);
        r->tag = xstrdup(ref.tag ? ref.tag : "<none>");
    } else {
        r->repo = xstrdup("<none>");
        r->tag = xstrdup("<none>");
    }
    r->id = no_trunc ? xstrdup(img->id) : xstrndup(img->id + 7, 12);
    char buf[64];
    if (rfc3339_parse(img->created, &r->created) == 0) {
        long long d = (long long)time(NULL) - r->created;
        ui_human_duration(d, buf, sizeof buf);
        r->created_since = xasprintf("%s ago", buf);
        time_t t = (time_t)r->created;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
        r->created_at = xstrdup(buf);
    } else {
        r->created = 0;
        r->created_since = xstrdup("N/A");
        r->created_at = xstrdup("N/A");
    }
    ui_human_size(img->size, buf, sizeof buf);
    r->size = xstrdup(buf);
}

static void print_json_row(struct store *s, const struct row *r)
{
    (void)s;
    json_t *o = json_object();
    json_object_set_new(o, "Containers", json_string("N/A"));
    json_object_set_new(o, "CreatedAt", json_string(r->created_at));
    json_object_set_new(o, "CreatedSince", json_string(r->created_since));
    json_object_set_new(o, "Digest", json_string("<none>"));
    json_object_set_new(o, "ID", json_string(r->id));
    json_object_set_new(o, "Repository", json_string(r->repo));
    json_object_set_new(o, "SharedSize", json_string("N/A"));
    json_object_set_new(o, "Size", json_string(r->size));
    json_object_set_new(o, "Tag", json_string(r->tag));
    json_object_set_new(o, "UniqueSize", json_string("N/A"));
    json_object_set_new(o, "VirtualSize", json_string(r->size));
    ui_print_json_line(o);
    json_decref(o);
}

static void print_table(struct row *rows, size_t n)
{
    _cleanup_free_ const char **cells = xcalloc((n + 1) * 5, sizeof *cells);
    const char *hdr[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
    memcpy(cells, hdr, sizeof hdr);
    for (size_t i = 0; i < n; i++) {
        const char *v[] = {rows[i].repo, rows[i].tag, rows[i].id, rows[i].created_since,
                           rows[i].size};
        memcpy(cells + (i + 1) * 5, v, sizeof v);
    }
    ui_table(cells, n + 1, 5);
}

int cmd_images_ls(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image ls");
    bool quiet = false, no_trunc = false, json = false;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'q':
            quiet = true;
            break;
        case 'T':
            no_trunc = true;
            break;
        case 'a':
            break;
        case 'F': {
            int k = cmd_parser_choice(&op, 'F', optarg); /* table json */
            if (k < 0)
                return 2;
            json = k == 1;
            break;
        }
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth: image ls: filtering by reference is not supported (\"%s\")\n",
                argv[optind]);
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open(c->root, &s, e);
    if (r < 0)
        return r;
    struct image **list = NULL;
    size_t n = 0;
    r = store_image_list_all(s, true, &list, &n, e);
    if (r < 0)
        return r;
    struct row *rows = xcalloc(n + 1, sizeof *rows);
    for (size_t i = 0; i < n; i++)
        make_row(&rows[i], list[i], no_trunc);
    xqsort(rows, n, sizeof *rows, cmp_row);
    if (quiet) {
        _cleanup_strv_ char **seen = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strv_contains(seen, rows[i].id))
                continue;
            strv_push(&seen, xstrdup(rows[i].id));
            puts(rows[i].id);
        }
    } else if (json) {
        for (size_t i = 0; i < n; i++)
            print_json_row(s, &rows[i]);
    } else {
        print_table(rows, n);
    }
    for (size_t i = 0; i < n; i++)
        row_free(&rows[i]);
    free(rows);
    image_list_free(list, n);
    return 0;
}

int cmd_images_rm(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image rm");
    bool force = false;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'f':
            force = true;
            break;
        case 'P':
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "berth: image rm: requires at least 1 argument (an image)\n");
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open(c->root, &s, e);
    if (r < 0)
        return r;
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        _cleanup_strv_ char **untagged = NULL;
        _cleanup_strv_ char **deleted = NULL;
        r = store_image_remove_ex(s, argv[i], force, &untagged, &deleted, e);
        for (size_t k = 0; untagged && untagged[k]; k++)
            printf("Untagged: %s\n", untagged[k]);
        for (size_t k = 0; deleted && deleted[k]; k++)
            printf("Deleted: %s\n", deleted[k]);
        if (r < 0 && i == argc - 1)
            return r; /* the last image's error is the command's */
        if (r < 0) {
            /* docker goes on with the next image: this one's error now */
            fflush(stdout);
            log_berr(e);
            berr_clear(e);
            rc = 1;
        }
    }
    return rc;
}

int cmd_images_repair(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image repair");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        cmd_print_help(op.def, opt == 'h' ? stdout : stderr);
        return opt == 'h' ? 0 : 2;
    }
    if (optind < argc) {
        fprintf(stderr, "berth: image repair: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open(c->root, &s, e);
    if (r < 0)
        return r;
    size_t n_images = 0, n_refs = 0;
    r = store_index_repair(s, &n_images, &n_refs, e);
    if (r < 0)
        return r;
    printf("Rebuilt %s/images.json: %zu image%s, %zu reference%s (the damaged file is kept as "
           "images.json.corrupt)\n",
           store_root(s), n_images, n_images == 1 ? "" : "s", n_refs, n_refs == 1 ? "" : "s");
    return 0;
}

int cmd_images_pull(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image pull");
    bool quiet = false;
    const char *platform = NULL;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'q':
            quiet = true;
            break;
        case 'P':
            platform = optarg;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "berth: image pull: expects exactly one image reference\n");
        return 2;
    }
    /* A bad reference is refused before the store is made. */
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(argv[optind], &ir, e);
    if (r < 0)
        return r;
    struct platform want;
    if (platform && (r = platform_parse(platform, &want, e)) < 0)
        return r;
    _cleanup_store_ struct store *s = NULL;
    if ((r = store_open(c->root, &s, e)) < 0)
        return r;
    if (!quiet) /* -q: errors only, no layer progress */
        store_set_sink(s, &c->sink);
    struct image_pull_stats st = {0};
    _cleanup_strv_ char **pulled = NULL;
    if ((r = registry_pull_for(s, argv[optind], platform ? &want : NULL, &st, &pulled, e)) < 0)
        return r;
    if (quiet)
        return 0;
    printf("%zu blob%s fetched (%" PRIu64 " bytes), %zu already present\n", st.blobs_fetched,
           st.blobs_fetched == 1 ? "" : "s", st.bytes_fetched, st.blobs_present);
    printf("Digest: %s\n", st.manifest_digest);
    for (size_t i = 0; pulled && pulled[i]; i++) {
        _cleanup_free_ char *fam = ref_familiarize(pulled[i]);
        printf("Status: %s for %s\n",
               st.blobs_fetched ? "Downloaded newer image" : "Image is up to date", fam);
        printf("Pulled image: %s\n", fam);
    }
    return 0;
}

/* Each image as `docker image inspect`: an indented JSON array, or one
 * line per image from --format (json, or a template). Unknown images are
 * said on stderr after the others are printed, and the exit status is 1. */
int cmd_images_inspect(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image inspect");
    const char *format = NULL;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'f':
            format = optarg;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "berth: image inspect: requires at least 1 argument (an image)\n");
        return 2;
    }
    if (format && strcmp(format, "json") == 0)
        format = "{{json .}}";
    int r;
    if (format && (r = gotmpl_check(format, e)) < 0)
        return r;
    _cleanup_store_ struct store *s = NULL;
    if ((r = store_open_readonly(c->root, &s, e)) < 0 && r != -ENOENT)
        return r;
    berr_clear(e);
    json_t *all = json_array();
    _cleanup_strv_ char **missing = NULL;
    for (int i = optind; i < argc; i++) {
        json_t *one = NULL;
        struct berr ie = BERR_INIT;
        r = s ? store_image_inspect(s, argv[i], &one, &ie) : -ENOENT;
        if (r == -ENOENT) {
            strv_push(&missing, xasprintf("Error: No such image: %s", argv[i]));
        } else if (r < 0) {
            strv_push(&missing, xasprintf("Error: %s", ie.msg));
        } else {
            json_array_append_new(all, one);
        }
        berr_clear(&ie);
    }
    size_t i;
    json_t *one;
    if (!format) {
        char *txt = json_dumps(all, JSON_INDENT(4));
        puts(txt ? txt : "[]");
        free(txt);
    }
    json_array_foreach(all, i, one)
    {
        if (!format)
            break;
        _cleanup_free_ char *line = gotmpl_render(format, one, e);
        if (!line) {
            json_decref(all);
            return -EINVAL;
        }
        puts(line);
    }
    json_decref(all);
    fflush(stdout);
    for (i = 0; missing && missing[i]; i++)
        fprintf(stderr, "%s\n", missing[i]);
    return missing ? 1 : 0;
}

int cmd_images_tag(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image tag");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        cmd_print_help(op.def, opt == 'h' ? stdout : stderr);
        return opt == 'h' ? 0 : 2;
    }
    if (argc - optind != 2) {
        fprintf(stderr,
                "berth: image tag: requires exactly 2 arguments (SOURCE_IMAGE TARGET_IMAGE)\n");
        return 2;
    }
    _cleanup_store_ struct store *s = NULL;
    int r = store_open(c->root, &s, e);
    if (r < 0)
        return r;
    return store_image_tag(s, argv[optind], argv[optind + 1], NULL, e);
}

/* docker's question; a non-terminal cannot answer it. */
static int confirm_prune(bool all, struct berr *e)
{
    if (!isatty(STDIN_FILENO))
        return berr_set(e, -EINVAL,
                        "image prune: standard input is not a terminal to confirm the removal; "
                        "use -f to remove without asking");
    fprintf(stderr, "WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
            all ? "images without at least one container associated to them" : "dangling images");
    fflush(stderr);
    char line[16] = "";
    if (!fgets(line, sizeof line, stdin))
        line[0] = '\0';
    return line[0] == 'y' || line[0] == 'Y' ? 1 : 0;
}

int cmd_images_prune(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image prune");
    bool all = false, force = false;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'a':
            all = true;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berth: image prune: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    int r;
    if (!force && (r = confirm_prune(all, e)) <= 0)
        return r;
    _cleanup_store_ struct store *s = NULL;
    if ((r = store_open(c->root, &s, e)) < 0)
        return r;
    _cleanup_strv_ char **untagged = NULL;
    _cleanup_strv_ char **deleted = NULL;
    uint64_t reclaimed = 0;
    r = store_image_prune(s, all, &untagged, &deleted, &reclaimed, e);
    if (untagged || deleted)
        printf("Deleted Images:\n");
    for (size_t i = 0; untagged && untagged[i]; i++)
        printf("untagged: %s\n", untagged[i]);
    for (size_t i = 0; deleted && deleted[i]; i++)
        printf("deleted: %s\n", deleted[i]);
    if (untagged || deleted)
        printf("\n");
    char buf[32];
    ui_human_size((int64_t)reclaimed, buf, sizeof buf);
    printf("Total reclaimed space: %s\n", buf);
    return r;
}

int cmd_image(struct cli *c, int argc, char **argv, struct berr *e)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_print_help(cmd_find("image"), argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    optind = 0;
    if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
        return cmd_images_ls(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
        return cmd_images_rm(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "load") == 0)
        return cmd_load(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "save") == 0)
        return cmd_images_save(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "pull") == 0)
        return cmd_images_pull(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "push") == 0)
        return cmd_images_push(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "repair") == 0)
        return cmd_images_repair(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "inspect") == 0)
        return cmd_images_inspect(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "tag") == 0)
        return cmd_images_tag(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "build") == 0)
        return cmd_images_build(c, argc - 1, argv + 1, e);
    if (strcmp(sub, "prune") == 0)
        return cmd_images_prune(c, argc - 1, argv + 1, e);
    fprintf(stderr, "berth: image: unknown command \"%s\" (see 'berth image --help')\n", sub);
    return 2;
}
