/* SPDX-License-Identifier: Apache-2.0 */
/* `berth pull [SERVICE...]`: the images of the named services (all when
 * none), as `docker compose pull`: in file order, each image once however
 * many services name it; services with build: and no image, those whose
 * pull_policy is never, those whose pull_policy is missing when their
 * image is present, and those whose daily, weekly or every_N schedule is
 * not due, are skipped. Not here: the registry protocol
 * (engine/registry), what a pull of one service says (cli_service_pull). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "cmd/project.h"
#include "engine/image/image.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* Marks service i and, with deps, what it depends on (transitively). */
static void mark(const struct project *p, size_t i, bool deps, bool *want)
{
    if (want[i])
        return;
    want[i] = true;
    for (size_t d = 0; deps && d < p->services[i].n_depends; d++)
        for (size_t j = 0; j < p->n_services; j++)
            if (strcmp(p->services[j].name, p->services[i].depends_on[d].service) == 0)
                mark(p, j, deps, want);
}

static int select_services(const struct project *p, char *const *names, bool deps, bool **want,
                           struct berr *e)
{
    *want = xcalloc(p->n_services ? p->n_services : 1, sizeof(**want));
    for (size_t n = 0; names[n]; n++) {
        size_t i = 0;
        while (i < p->n_services && strcmp(p->services[i].name, names[n]) != 0)
            i++;
        if (i == p->n_services)
            return berr_set(e, -ENOENT, "no such service: %s", names[n]);
        mark(p, i, deps, *want);
    }
    for (size_t i = 0; !names[0] && i < p->n_services; i++)
        (*want)[i] = true;
    return 0;
}

void svc_images_cmd_free(struct svc_images_cmd *o)
{
    project_free(o->p);
    free(o->want);
    memset(o, 0, sizeof *o);
}

int cli_svc_images_cmd(struct cli *c, const char *name, int argc, char **argv,
                       struct svc_images_cmd *o, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, name);
    memset(o, 0, sizeof *o);
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'q':
            o->quiet = true;
            break;
        case 'I':
            o->ignore_failures = true;
            break;
        case 'D':
            o->include_deps = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0; /* o->p NULL: nothing to do */
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    char *const *names = argv + optind;
    int r = cli_load_project(c, names, &o->p, e);
    if (r == 0)
        r = select_services(o->p, names, o->include_deps, &o->want, e);
    return r;
}

static int pull_services(struct store *st, const struct project *p, const bool *want,
                         const struct svc_images_cmd *o, struct berr *e)
{
    _cleanup_strv_ char **done = NULL; /* images pulled (or failed) already */
    for (size_t i = 0; i < p->n_services; i++) {
        const struct service *s = &p->services[i];
        if (!want[i] || !s->image || s->image_default)
            continue; /* build: without image: nothing to pull */
        if (s->pull_build) {
            if (!o->quiet)
                fprintf(stderr, " %s Skipped (pull_policy: build)\n", s->name);
            continue;
        }
        if (s->pull_never) {
            if (!o->quiet)
                fprintf(stderr, " %s Skipped (pull_policy: never)\n", s->name);
            continue;
        }
        if (strv_contains(done, s->image)) {
            if (!o->quiet)
                fprintf(stderr, " %s Pulled\n", s->name);
            continue;
        }
        _cleanup_image_ struct image *had = NULL;
        bool present = store_image_get(st, s->image, &had, NULL) == 0;
        if (present && s->pull_missing) {
            if (!o->quiet)
                fprintf(stderr, " %s Skipped - Image is already present locally\n", s->name);
            continue;
        }
        if (present && s->pull_refresh_ns && !cli_service_pull_due(st, s)) {
            if (!o->quiet)
                fprintf(stderr,
                        " %s Skipped - Image was pulled within its pull_policy's interval\n",
                        s->name);
            continue;
        }
        strv_push(&done, xstrdup(s->image));
        if (!o->quiet)
            fprintf(stderr, " %s Pulling\n", s->name);
        _cleanup_berr_ struct berr pe = BERR_INIT;
        int r = cli_service_pull(st, s, present, true, &pe);
        if (r < 0 && !o->ignore_failures) {
            berr_move(e, &pe);
            return r;
        }
        if (r < 0)
            fprintf(stderr, "berth: warning: %s\n", pe.msg);
        else if (!o->quiet)
            fprintf(stderr, " %s Pulled\n", s->name);
    }
    return 0;
}

int cmd_pull(struct cli *c, int argc, char **argv, struct berr *e)
{
    _cleanup_(svc_images_cmd_free) struct svc_images_cmd o = {0};
    int r = cli_svc_images_cmd(c, "pull", argc, argv, &o, e);
    if (r != 0 || !o.p)
        return r;
    _cleanup_store_ struct store *st = NULL;
    if ((r = store_open(c->root, &st, e)) < 0)
        return r;
    if (!o.quiet) /* -q: errors only, no layer progress */
        store_set_sink(st, &c->sink);
    return pull_services(st, o.p, o.want, &o, e);
}
