/* SPDX-License-Identifier: Apache-2.0 */
/* `berth login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]` and
 * `berth logout [SERVER]`, as docker's: the credentials are checked
 * against the registry, then kept in Docker's config.json (auths), which
 * pulls read. Not here: the registry side and the file
 * (engine/registry). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/cmdtab.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/xalloc.h"

#define SECRET_MAX 4096

struct login_opts {
    char *user;
    char *password;
    bool password_stdin;
};

static void login_opts_clear(struct login_opts *o)
{
    free(o->user);
    if (o->password)
        explicit_bzero(o->password, strlen(o->password));
    free(o->password);
}

/* A line from f without its end (at most SECRET_MAX bytes), or NULL. */
static char *read_line(FILE *f, bool all)
{
    char *buf = xmalloc(SECRET_MAX + 1);
    size_t n = all ? fread(buf, 1, SECRET_MAX, f) : 0;
    if (!all && fgets(buf, SECRET_MAX + 1, f))
        n = strlen(buf);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n == 0 && !all) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Asks on the terminal (stdin), without echo for a secret. */
static char *prompt(const char *what, bool secret)
{
    fprintf(stderr, "%s: ", what);
    fflush(stderr);
    struct termios old, quiet;
    bool noecho = secret && tcgetattr(STDIN_FILENO, &old) == 0;
    if (noecho) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = read_line(stdin, false);
    if (noecho) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return line;
}

static int login_args(struct cmd_parser *op, int argc, char **argv, struct login_opts *o)
{
    int opt;
    opterr = 0;
    while ((opt = cmd_parser_next(op, argc, argv)) != -1) {
        switch (opt) {
        case 'u':
            free(o->user);
            o->user = xstrdup(optarg);
            break;
        case 'p':
            free(o->password);
            o->password = xstrdup(optarg);
            break;
        case 'S':
            o->password_stdin = true;
            break;
        case 'h':
            cmd_print_help(op->def, stdout);
            return 0;
        default:
            return 2; /* cmd_parser_next said why */
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "berth: %s: expects at most one server\n", op->def->name);
        return 2;
    }
    return -1; /* go on */
}

/* The user and password: from the flags, stdin or the terminal. */
static int login_secrets(struct login_opts *o, struct berr *e)
{
    if (o->password && o->password_stdin)
        return berr_set(e, -EINVAL,
                        "login: --password and --password-stdin are mutually exclusive");
    if (o->password_stdin) {
        if (!o->user)
            return berr_set(e, -EINVAL, "login: --password-stdin needs --username");
        o->password = read_line(stdin, true);
    } else if (o->password) {
        log_warn("using --password on the command line is insecure (other users can see it); use "
                 "--password-stdin");
    }
    bool tty = isatty(STDIN_FILENO);
    if ((!o->user || !o->password) && !tty)
        return berr_set(e, -EINVAL,
                        "login: cannot ask for a %s: stdin is not a terminal (use -u, and "
                        "--password-stdin)",
                        o->user ? "password" : "username");
    if (!o->user && !(o->user = prompt("Username", false)))
        return berr_set(e, -EINVAL, "login: a username is needed");
    if (!o->password && !(o->password = prompt("Password", true)))
        return berr_set(e, -EINVAL, "login: a password is needed");
    if (!*o->user || !*o->password)
        return berr_set(e, -EINVAL, "login: the %s is empty", *o->user ? "password" : "username");
    return 0;
}

/* The flags, then the registry SERVER names and the config.json path:
 * *go says the command goes on with them. Otherwise returns the exit
 * status (help, a usage error) or a negative code with e filled. */
static int login_start(const char *name, int argc, char **argv, struct login_opts *o, char **domain,
                       char **path, bool *go, struct berr *e)
{
    struct cmd_parser op;
    cmd_parser_init(&op, name);
    *go = false;
    int r = login_args(&op, argc, argv, o);
    if (r >= 0)
        return r;
    if (!(*domain = registry_server_domain(argv[optind], e)))
        return -EINVAL;
    if (!(*path = registry_docker_config_path()))
        return berr_set(e, -ENOENT,
                        "no home directory for Docker's config.json (set DOCKER_CONFIG)");
    *go = true;
    return 0;
}

int cmd_login(struct cli *c, int argc, char **argv, struct berr *e)
{
    _cleanup_(login_opts_clear) struct login_opts o = {0};
    _cleanup_free_ char *domain = NULL, *path = NULL;
    bool go;
    int r = login_start("login", argc, argv, &o, &domain, &path, &go, e);
    if (!go)
        return r;
    if ((r = login_secrets(&o, e)) < 0)
        return r;
    if ((r = registry_login(domain, o.user, o.password, e)) < 0)
        return r;
    bool helpers = false;
    if ((r = registry_creds_save(path, domain, o.user, o.password, &helpers, e)) < 0)
        return r;
    if (helpers)
        log_warn("%s names credential helpers (credsStore/credHelpers), which berth does not use: "
                 "the credentials are stored in its auths",
                 path);
    log_warn("your password is stored unencrypted in %s", path);
    printf("Login Succeeded\n");
    return 0;
}

int cmd_logout(struct cli *c, int argc, char **argv, struct berr *e)
{
    _cleanup_(login_opts_clear) struct login_opts o = {0};
    _cleanup_free_ char *domain = NULL, *path = NULL;
    bool go;
    int r = login_start("logout", argc, argv, &o, &domain, &path, &go, e);
    if (!go)
        return r;
    const char *shown = strcmp(domain, "docker.io") == 0 ? "https://index.docker.io/v1/" : domain;
    if ((r = registry_creds_erase(path, domain, e)) < 0)
        return r;
    if (r == 0)
        printf("Not logged in to %s\n", shown);
    else
        printf("Removing login credentials for %s\n", shown);
    return 0;
}
