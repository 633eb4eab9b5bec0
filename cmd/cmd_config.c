/* SPDX-License-Identifier: Apache-2.0 */
/* `berth config`: the resolved project in canonical form, as `docker compose
 * config` prints it, or parts of it (--services, --volumes, --networks,
 * --profiles, --images, --hash). Validates first: any problem in the files
 * is reported (all of them, with file:line:col) and nothing is printed.
 * Not here: the canonical form, output and hashes (compose/config.c,
 * compose/emit.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "compose/compose.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_strv(char **v)
{
    qsort(v, strv_len(v), sizeof *v, cmp_str);
}

/* One name per line, sorted. */
static void print_names(FILE *out, char **v)
{
    sort_strv(v);
    for (size_t i = 0; v && v[i]; i++)
        fprintf(out, "%s\n", v[i]);
}

enum listing { L_NONE, L_SERVICES, L_VOLUMES, L_NETWORKS, L_PROFILES, L_IMAGES, L_HASH };

static int run_listing(FILE *out, const struct project *p, enum listing what, const char *hash)
{
    _cleanup_strv_ char **v = NULL;
    switch (what) {
    case L_SERVICES:
        for (size_t i = 0; i < p->n_services; i++)
            strv_push(&v, xstrdup(p->services[i].name));
        break;
    case L_VOLUMES:
        for (size_t i = 0; i < p->n_volumes; i++)
            strv_push(&v, xstrdup(p->volumes[i].key));
        break;
    case L_NETWORKS:
        v = compose_top_level_names(p, "networks");
        break;
    case L_PROFILES: {
        char *const *all = compose_all_profiles(p);
        for (size_t i = 0; all && all[i]; i++)
            strv_push(&v, xstrdup(all[i]));
        break;
    }
    case L_IMAGES:
        for (size_t i = 0; i < p->n_services; i++) {
            const struct service *s = &p->services[i];
            /* A built image is named PROJECT-SERVICE, as compose names it. */
            strv_push(&v, s->image ? xstrdup(s->image) : xasprintf("%s-%s", p->name, s->name));
        }
        break;
    case L_HASH: {
        _cleanup_strv_ char **names = NULL;
        if (strcmp(hash, "*") == 0) {
            for (size_t i = 0; i < p->n_services; i++)
                strv_push(&names, xstrdup(p->services[i].name));
            sort_strv(names);
        } else {
            _cleanup_free_ char *copy = xstrdup(hash);
            char *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                strv_push(&names, xstrdup(t));
        }
        for (size_t i = 0; names && names[i]; i++) {
            char h[65];
            if (compose_service_hash(p, names[i], h) < 0) {
                fprintf(stderr, "berth: config: no such service: %s\n", names[i]);
                return 1;
            }
            fprintf(out, "%s %s\n", names[i], h);
        }
        return 0;
    }
    default:
        break;
    }
    print_names(out, v);
    return 0;
}

/* Warnings are gathered while loading and written to stderr in one go: a
 * big project can warn a thousand times, and stderr is unbuffered. */
static void collect_warning(void *userdata, const char *msg)
{
    fputs("berth: warning: ", userdata);
    fputs(msg, userdata);
    fputc('\n', userdata);
}

static void flush_warnings(FILE *ms, char **buf, size_t *len)
{
    if (fclose(ms) == 0 && *len)
        fwrite(*buf, 1, *len, stderr);
    free(*buf);
    *buf = NULL;
}

int cmd_config(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "config");
    enum compose_format format = COMPOSE_FORMAT_YAML;
    enum listing what = L_NONE;
    const char *hash = NULL, *output = NULL;
    bool quiet = false, no_interp = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'F': {
            int k = cmd_parser_choice(&op, 'F', optarg); /* yaml json */
            if (k < 0)
                return 2;
            format = k == 1 ? COMPOSE_FORMAT_JSON : COMPOSE_FORMAT_YAML;
            break;
        }
        case 'q':
            quiet = true;
            break;
        case 'S':
            what = L_SERVICES;
            break;
        case 'V':
            what = L_VOLUMES;
            break;
        case 'N':
            what = L_NETWORKS;
            break;
        case 'P':
            what = L_PROFILES;
            break;
        case 'I':
            what = L_IMAGES;
            break;
        case 'H':
            what = L_HASH;
            hash = optarg;
            break;
        case 'n':
            no_interp = true;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    char **only = argc > optind ? argv + optind : NULL;
    struct compose_opts o = {
        .files = c->files,
        .project_name = c->project_name,
        .project_dir = c->project_dir,
        .environ = c->environ,
        .env_files = c->env_files,
        .profiles = c->profiles,
        .services = only,
        .no_interpolate = no_interp,
        .quiet_unsupported = true, /* docker compose's config says nothing of them */
    };
    /* --profiles lists every profile: load with all of them enabled. */
    static char *all[] = {"*", NULL};
    if (what == L_PROFILES)
        o.profiles = all;
    char *warn_buf = NULL;
    size_t warn_len = 0;
    FILE *warn_ms = open_memstream(&warn_buf, &warn_len);
    if (warn_ms) {
        o.warn = collect_warning;
        o.warn_userdata = warn_ms;
    }
    _cleanup_project_ struct project *p = NULL;
    int loaded = compose_load(&o, &p, e);
    if (warn_ms)
        flush_warnings(warn_ms, &warn_buf, &warn_len);
    if (loaded < 0)
        return loaded;
    int rc = 0;
    for (size_t i = 0; only && only[i]; i++)
        if (!project_service(p, only[i])) {
            fprintf(stderr, "berth: config: no such service: %s\n", only[i]);
            rc = 1;
        }
    if (rc || quiet)
        return rc;
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w")))
        return berr_errno(e, errno, "config: cannot write %s", output);
    if (what != L_NONE) {
        rc = run_listing(out, p, what, hash);
    } else {
        compose_config_write(p, format, only, out);
    }
    if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
        fprintf(stderr, "berth: config: writing the output failed: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
