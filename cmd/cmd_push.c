/* SPDX-License-Identifier: Apache-2.0 */
/* `berth image push REF` and `berth push [SERVICE...]`: options and
 * docker's words ("The push refers to repository [...]", a line per layer,
 * "TAG: digest: ... size: N"); compose's push of each service image once.
 * Not here: the registry protocol (engine/registry/push.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "engine/image/image.h"
#include "engine/image/reference.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Prints each layer's status as it changes: "ID: STATUS" (image push, on
 * stdout) or " ID STATUS" (compose push, on stderr). */
struct layer_lines {
    FILE *out;
    bool compose;
    char last[512];
};

static void on_layer(void *ud, const struct ev *ev)
{
    struct layer_lines *l = ud;
    if (!ev->action || strcmp(ev->action, "push") != 0 || !ev->id || !ev->status)
        return;
    char line[512];
    if (l->compose)
        snprintf(line, sizeof line, " %s %s\n", ev->id, ev->status);
    else
        snprintf(line, sizeof line, "%s: %s\n", ev->id, ev->status);
    if (strcmp(line, l->last) == 0)
        return; /* a chunk's progress: the line is said already */
    memcpy(l->last, line, sizeof line);
    fputs(line, l->out);
    fflush(l->out);
}

int cmd_images_push(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "image push");
    bool quiet = false;
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
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
    if (argc - optind != 1) {
        fprintf(stderr, "berth: image push: expects exactly one image reference\n");
        return 2;
    }
    _cleanup_imgref_ struct imgref ir = {0};
    int r = ref_parse(argv[optind], &ir, e);
    if (r < 0)
        return r;
    _cleanup_store_ struct store *s = NULL;
    if ((r = store_open_readonly(c->root, &s, e)) < 0)
        return r == -ENOENT ? berr_set(e, r, "image \"%s\" not found", argv[optind]) : r;
    _cleanup_free_ char *name = ref_name(&ir);
    if (!quiet)
        printf("The push refers to repository [%s]\n", name);
    struct layer_lines lines = {.out = stdout};
    struct ev_sink sink = {.event = on_layer, .ud = &lines};
    struct registry_push_result res;
    if ((r = registry_push(s, argv[optind], quiet ? NULL : &sink, &res, e)) < 0)
        return r;
    if (quiet) {
        _cleanup_free_ char *full = ref_string(&ir);
        puts(full);
    } else {
        printf("%s: digest: %s size: %zu\n", ir.digest ? ir.digest : ir.tag, res.digest, res.size);
    }
    return 0;
}

static int push_service(struct store *st, const struct service *s, const struct svc_images_cmd *o,
                        struct berr *e)
{
    _cleanup_image_ struct image *img = NULL;
    int r = store_image_get(st, s->image, &img, e);
    if (r == -ENOENT) {
        berr_clear(e);
        return berr_set(e, r, "service \"%s\": image \"%s\" is not in the store", s->name,
                        s->image);
    }
    if (r < 0)
        return berr_wrap(e, "service \"%s\"", s->name);
    if (!o->quiet)
        fprintf(stderr, " %s Pushing\n", s->name);
    struct layer_lines lines = {.out = stderr, .compose = true};
    struct ev_sink sink = {.event = on_layer, .ud = &lines};
    struct registry_push_result res;
    r = registry_push(st, s->image, o->quiet ? NULL : &sink, &res, e);
    if (r < 0)
        return berr_wrap(e, "service \"%s\"", s->name);
    if (!o->quiet)
        fprintf(stderr, " %s Pushed\n", s->name);
    return 0;
}

int cli_push_services(struct store *st, const struct project *p, const bool *want,
                      const struct svc_images_cmd *o, struct berr *e)
{
    _cleanup_strv_ char **done = NULL; /* images pushed (or failed) already */
    for (size_t i = 0; i < p->n_services; i++) {
        const struct service *s = &p->services[i];
        if (!want[i])
            continue;
        if (!s->has_build || !s->image || s->image_default) {
            /* As docker compose: only what the project builds is pushed
             * (an image from elsewhere is not sent to its registry). */
            if (!o->quiet)
                fprintf(stderr, " %s Skipped\n", s->name);
            continue;
        }
        if (strv_contains(done, s->image))
            continue;
        strv_push(&done, xstrdup(s->image));
        _cleanup_berr_ struct berr pe = BERR_INIT;
        int r = push_service(st, s, o, &pe);
        if (r < 0 && !o->ignore_failures) {
            berr_move(e, &pe);
            return r;
        }
        if (r < 0)
            fprintf(stderr, "berth: warning: %s\n", pe.msg);
    }
    return 0;
}

int cmd_push(struct cli *c, int argc, char **argv, struct berr *e)
{
    _cleanup_(svc_images_cmd_free) struct svc_images_cmd o = {0};
    int r = cli_svc_images_cmd(c, "push", argc, argv, &o, e);
    if (r != 0 || !o.p)
        return r;
    _cleanup_store_ struct store *st = NULL;
    if ((r = store_open_readonly(c->root, &st, e)) == -ENOENT) {
        berr_clear(e);
        r = store_open(c->root, &st, e); /* no store yet: every image is missing */
    }
    if (r < 0)
        return r;
    return cli_push_services(st, o.p, o.want, &o, e);
}
