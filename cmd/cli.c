/* SPDX-License-Identifier: Apache-2.0 */
/* The program's entry after main(): global flags, environment defaults
 * ($BERTH_ROOT, $BERTH_RUNROOT, NO_COLOR), dispatch to a command, and the
 * small `version` and `help` commands. Not here: the flag and command
 * declarations (cmd/cmdtab.c), each command's work (cmd/cmd_*.c). */
#include "cmd/cli.h"

#include "cmd/cmdtab.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/ui/render.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/xalloc.h"

extern char **environ;

/* docker compose version [--short] [--format json]: its JSON is
 * {"version":"v2.x"}; berth's adds the commit. */
int cmd_version(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "version");
    bool json = false, short_ = false;
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'f': {
            int k = cmd_parser_choice(&op, 'f', optarg); /* pretty json */
            if (k < 0)
                return 2;
            json = k == 1;
            break;
        }
        case 's':
            short_ = true;
            break;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (short_) {
        printf("%s\n", BERTH_VERSION);
    } else if (json) {
        json_t *j = json_pack("{s:s, s:s}", "version", BERTH_VERSION, "commit", berth_commit);
        char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", txt ? txt : "{}");
        free(txt);
        json_decref(j);
    } else {
        printf("berth version %s (commit %s)\n", BERTH_VERSION, berth_commit);
    }
    return 0;
}

int cmd_help(struct cli *c, int argc, char **argv, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, "help");
    int opt;
    while ((opt = cmd_parser_next(&op, argc, argv)) != -1) {
        switch (opt) {
        case 'M':
            cmd_print_man_source(stdout);
            return 0;
        case 'L':
            for (size_t i = 0; i < cmd_table_len; i++)
                if (!cmd_table[i].hidden)
                    puts(cmd_table[i].name);
            return 0;
        case 'h':
            cmd_print_help(op.def, stdout);
            return 0;
        default:
            return 2;
        }
    }
    /* `berth help COMMAND` is `berth COMMAND --help` */
    if (optind < argc) {
        const struct cmd_def *d = cmd_find(argv[optind]);
        if (!d) {
            fprintf(stderr, "berth: help: unknown command \"%s\" (see 'berth --help')\n",
                    argv[optind]);
            return 2;
        }
        cmd_print_help(d, stdout);
        return 0;
    }
    cmd_print_usage(stdout);
    return 0;
}

/* The one place a command's error is printed: "berth: MESSAGE" on stderr.
 * A negative result exits 1; a status that comes with an error (a
 * container that could not start) keeps its status, and 0 becomes 1. */
static int cli_exit_status(int rc, const struct berr *e)
{
    if (rc >= 0 && !e->msg)
        return rc;
    log_berr(e);
    return rc > 0 ? rc : 1;
}

static void cli_free(struct cli *c)
{
    ui_render_free(c->ui);
    strv_free(c->files);
    strv_free(c->profiles);
    strv_free(c->env_files);
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

int cli_main(int argc, char **argv)
{
    /* A closed stdout (`berth up | head`) must not kill the supervisor. */
    signal(SIGPIPE, SIG_IGN);
    struct cli c = {
        .root = env_or("BERTH_ROOT", BERTH_DEFAULT_ROOT),
        .runroot = env_or("BERTH_RUNROOT", BERTH_DEFAULT_RUNROOT),
        .environ = environ,
        .stdout_tty = isatty(STDOUT_FILENO),
    };
    enum ui_progress progress = UI_PROGRESS_AUTO;
    enum ui_ansi ansi = UI_ANSI_AUTO;

    struct cmd_parser gp;
    cmd_parser_init_flags(&gp, cmd_global_flags);
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(&gp, argc, argv)) != -1) {
        switch (opt) {
        case 'f':
            strv_push(&c.files, xstrdup(optarg));
            break;
        case 'p':
            c.project_name = optarg;
            break;
        case 'D':
            c.project_dir = optarg;
            break;
        case 'P':
            strv_push(&c.profiles, xstrdup(optarg));
            break;
        case 'E':
            strv_push(&c.env_files, xstrdup(optarg));
            break;
        case 'G':
            if (ui_progress_parse(optarg, &progress) < 0) {
                fprintf(stderr, "berth: unsupported --progress \"%s\" (one of: %s)\n", optarg,
                        cmd_global_choices('G'));
                cli_free(&c);
                return 2;
            }
            break;
        case 'A':
            if (ui_ansi_parse(optarg, &ansi) < 0) {
                fprintf(stderr, "berth: unsupported --ansi \"%s\" (one of: %s)\n", optarg,
                        cmd_global_choices('A'));
                cli_free(&c);
                return 2;
            }
            break;
        case 'h':
            cmd_print_usage(stdout);
            cli_free(&c);
            return 0;
        case 'v':
            printf("berth version %s\n", BERTH_VERSION);
            cli_free(&c);
            return 0;
        default:
            fprintf(stderr, "berth: unknown flag or missing value: %s (see 'berth --help')\n",
                    argv[optind - 1]);
            cli_free(&c);
            return 2;
        }
    }
    c.color = ui_color_resolve(ansi, c.stdout_tty, getenv("NO_COLOR"));
    struct ui_render_opts uo = {
        .mode = ui_progress_resolve(progress, ansi, isatty(STDERR_FILENO)),
        .color = c.color,
        .out = stdout,
        .err = stderr,
    };
    c.ui = ui_render_new(&uo);
    c.sink = ui_render_sink(c.ui);
    int i = optind;
    /* Subcommands parse their own flags with getopt_long from index 1. */
    optind = 0;
    if (i >= argc) {
        cmd_print_usage(stderr);
        cli_free(&c);
        return 2;
    }
    const char *cmd = argv[i];
    /* a subcommand's row ("image ls") is reached through its parent */
    const struct cmd_def *d = strchr(cmd, ' ') ? NULL : cmd_find(cmd);
    if (!d) {
        fprintf(stderr, "berth: unknown command \"%s\" (see 'berth --help')\n", cmd);
        cli_free(&c);
        return 2;
    }
    _cleanup_berr_ struct berr e = BERR_INIT;
    int rc = d->fn(&c, argc - i, argv + i, &e);
    cli_free(&c);
    return cli_exit_status(rc, &e);
}
