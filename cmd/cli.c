#include "cmd/cli.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strv.h"
#include "util/xalloc.h"

extern char **environ;

/* docker compose version [--short] [--format json]: its JSON is
 * {"version":"v2.x"}; berth's adds the commit. */
static int cmd_version(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"short", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, short_ = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            json = strcmp(optarg, "json") == 0;
            if (!json && strcmp(optarg, "pretty") != 0 && strcmp(optarg, "text") != 0) {
                fprintf(stderr, "berth: version: unsupported --format \"%s\" (json or pretty)\n",
                        optarg);
                return 2;
            }
            break;
        case 's':
            short_ = true;
            break;
        case 'h':
            puts("Usage: berth version [--short] [--format json|pretty]\n\nShow the berth "
                 "version and the commit it was built from.");
            return 0;
        default:
            fprintf(stderr, "berth: version: unknown flag or missing value: %s\n",
                    argv[optind - 1]);
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

static int cmd_help(struct cli *c, int argc, char **argv);

/* Every command: add new ones here (name, entry point, one line of help;
 * NULL help hides an alias). */
static const struct command {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
    const char *help;
} commands[] = {
    {"up", cmd_up, "Create and start containers"},
    {"down", cmd_down, "Stop and remove containers"},
    {"ps", cmd_ps, "List containers"},
    {"ls", cmd_ls, "List running projects"},
    {"logs", cmd_logs, "View output from containers"},
    {"start", cmd_start, "Start services"},
    {"stop", cmd_stop, "Stop services"},
    {"restart", cmd_restart, "Restart services"},
    {"kill", cmd_kill, "Force stop services"},
    {"pause", cmd_pause, "Pause services"},
    {"unpause", cmd_unpause, "Unpause services"},
    {"wait", cmd_wait, "Block until containers of services stop"},
    {"rm", cmd_rm, "Remove stopped containers"},
    {"run", cmd_run, "Run a one-off command on a service"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"top", cmd_top, "Display the running processes"},
    {"config", cmd_config, "Parse, resolve and render compose files in canonical format"},
    {"load", cmd_load, "Load an image from a tar archive (docker save or OCI layout)"},
    {"image", cmd_image, "Manage images (image ls, image rm)"},
    {"images", cmd_images_ls, NULL},
    {"rmi", cmd_images_rm, NULL},
    {"info", cmd_info, "Show what berth finds on this host; fails when it cannot run containers"},
    {"version", cmd_version, "Show the berth version"},
    {"help", cmd_help, NULL},
};

static void usage(FILE *f)
{
    fputs("Usage: berth [OPTIONS] COMMAND\n"
          "\n"
          "Run docker-compose files on this host, with no daemon.\n"
          "\n"
          "Options:\n"
          "  -f, --file FILE             Compose configuration files (repeatable)\n"
          "  -p, --project-name NAME     Project name\n"
          "      --project-directory DIR Alternate working directory\n"
          "      --profile PROFILE       Enable a profile (repeatable)\n"
          "      --env-file FILE         An alternate environment file (repeatable)\n"
          "  -v, --version               Print version and exit\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].help)
            fprintf(f, "  %-10s  %s\n", commands[i].name, commands[i].help);
    fputs("\nEnvironment: BERTH_ROOT (default /var/lib/berth), BERTH_RUNROOT (default "
          "/run/berth)\n",
          f);
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
    usage(stdout);
    return 0;
}

static void cli_free(struct cli *c)
{
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
    const char *nc = getenv("NO_COLOR");
    c.color = c.stdout_tty && !(nc && *nc);

    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},
        {"project-name", required_argument, NULL, 'p'},
        {"project-directory", required_argument, NULL, 'D'},
        {"profile", required_argument, NULL, 'P'},
        {"env-file", required_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+f:p:hv", opts, NULL)) != -1) {
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
        case 'h':
            usage(stdout);
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
    int i = optind;
    /* Subcommands parse their own flags with getopt_long from index 1. */
    optind = 0;
    if (i >= argc) {
        usage(stderr);
        cli_free(&c);
        return 2;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    int rc = -1;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(cmd, commands[k].name) == 0) {
            rc = commands[k].fn(&c, sub_argc, sub_argv);
            break;
        }
    if (rc == -1) {
        fprintf(stderr, "berth: unknown command \"%s\" (see 'berth --help')\n", cmd);
        rc = 2;
    }
    cli_free(&c);
    return rc;
}
