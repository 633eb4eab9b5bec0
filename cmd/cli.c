#include "cmd/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strv.h"
#include "util/xalloc.h"

extern char **environ;

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
          "Commands:\n"
          "  up          Create and start containers\n"
          "  down        Stop and remove containers\n"
          "  exec        Execute a command in a running container\n"
          "  top         Display the running processes\n"
          "  config      Parse, resolve and render compose files in canonical format\n"
          "  load        Load an image from a tar archive (docker save or OCI layout)\n"
          "  image ls    List images\n"
          "  image rm    Remove images\n"
          "  version     Show the berth version\n"
          "\n"
          "Environment: BERTH_ROOT (default /var/lib/berth), BERTH_RUNROOT (default /run/berth)\n",
          f);
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
        .root = env_or("BERTH_ROOT", "/var/lib/berth"),
        .runroot = env_or("BERTH_RUNROOT", "/run/berth"),
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
    int rc;
    if (strcmp(cmd, "up") == 0)
        rc = cmd_up(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "down") == 0)
        rc = cmd_down(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "exec") == 0)
        rc = cmd_exec(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "top") == 0)
        rc = cmd_top(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "config") == 0)
        rc = cmd_config(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "load") == 0)
        rc = cmd_load(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "image") == 0)
        rc = cmd_image(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "images") == 0)
        rc = cmd_images_ls(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "rmi") == 0)
        rc = cmd_images_rm(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "version") == 0) {
        printf("berth version %s\n", BERTH_VERSION);
        rc = 0;
    } else if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        rc = 0;
    } else {
        fprintf(stderr, "berth: unknown command \"%s\" (see 'berth --help')\n", cmd);
        rc = 2;
    }
    cli_free(&c);
    return rc;
}
