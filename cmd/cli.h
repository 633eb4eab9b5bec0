/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line front end: global flags, dispatch, and the per-command entry
 * points (one file per command family). */
#ifndef BERTH_CMD_CLI_H
#define BERTH_CMD_CLI_H

#include <stdbool.h>

#include "cmd/ui/render.h"
#include "util/err.h"

/* The store (and the run root) when the environment names none. */
#define BERTH_DEFAULT_ROOT    "/var/lib/berth"
#define BERTH_DEFAULT_RUNROOT "/run/berth"

/* The invocation's context: everything a command needs from the global flags
 * and the environment. No command keeps state elsewhere. */
struct cli {
    const char *root;    /* $BERTH_ROOT, default /var/lib/berth */
    const char *runroot; /* $BERTH_RUNROOT, default /run/berth */
    char **files;        /* -f values, NULL-terminated (owned) */
    char **profiles;     /* --profile values, NULL-terminated (owned) */
    char **env_files;    /* --env-file values, NULL-terminated (owned) */
    const char *project_name;
    const char *project_dir;
    char **environ;
    bool stdout_tty;
    bool color;           /* colours on stdout (--ansi, NO_COLOR) */
    struct ui_render *ui; /* renders the engine's events (--progress) */
    struct ev_sink sink;  /* ui's sink: what commands hand the engine */
};

int cli_main(int argc, char **argv);

/* The git commit berth was built from, "unknown" outside a checkout
 * (generated at build time by scripts/commit.cmake). */
extern const char berth_commit[];

/* The commands. argv[0] is the command name. Each returns the process exit
 * status (0 or more: a usage error's 2, a container's exit code, 130/143
 * after a signal), or a negative code with e filled: cli_main prints that
 * error, once, as "berth: MESSAGE" and exits 1. A command that ends with a
 * status and an error (a container that could not be started: 126/127)
 * returns the status with e filled, and cli_main prints it too. Warnings
 * that are not errors are printed where they arise (util/log.h). */
int cmd_load(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_config(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_image(struct cli *c, int argc, char **argv, struct berr *e); /* image ls|rm */
int cmd_images_ls(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_rm(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_repair(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_inspect(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_tag(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_save(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_prune(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_build(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_build(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_pull(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_pull(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_push(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_images_push(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_login(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_logout(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_up(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_down(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_ps(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_ls(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_logs(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_start(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_stop(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_restart(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_kill(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_pause(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_unpause(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_wait(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_rm(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_run(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_exec(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_top(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_port(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_events(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_info(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_version(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_help(struct cli *c, int argc, char **argv, struct berr *e);
int cmd_completion(struct cli *c, int argc, char **argv, struct berr *e);

#endif
