/* SPDX-License-Identifier: Apache-2.0 */
/* The command and flag table: every command of berth with its summary,
 * usage, help paragraph and flags. It is the one place a command or a flag
 * is declared; everything the user reads about them is derived from it:
 * each command's --help, its getopt_long tables (so a flag cannot be parsed
 * without being documented, nor documented without being parsed), the
 * shell completions (`berth completion`) and the man page's command
 * sections (`berth help --man-source`). Adding a command is one row in
 * cmd_table (cmdtab.c) and its entry point. */
#ifndef BERTH_CMD_CMDTAB_H
#define BERTH_CMD_CMDTAB_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

struct cli;
struct berr;

/* What a value (or a positional argument) completes to. */
enum cmd_complete {
    CC_NONE,    /* free text: nothing to offer */
    CC_SERVICE, /* a service of the compose file (`berth config --services`) */
    CC_PROFILE, /* a profile of the compose file (`berth config --profiles`) */
    CC_FILE,    /* a path */
    CC_DIR,     /* a directory */
    CC_LIST,    /* one of the words in .choices */
    CC_SIGNAL,  /* a signal name */
};

struct cmd_flag {
    const char *name;  /* long name, without "--" */
    int key;           /* what getopt_long returns for it */
    bool has_short;    /* key is also the short flag -KEY */
    const char *value; /* the value's name in help; NULL: the flag takes none */
    const char *help;  /* one line (wrapped when printed) */
    enum cmd_complete complete;
    const char *choices; /* CC_LIST: the values, space-separated */
    const char *alias;   /* a second long name for the same flag, or NULL */
};

/* The positional arguments, for completion. */
enum cmd_args {
    CA_NONE,          /* none */
    CA_SERVICES,      /* service names */
    CA_SERVICE_FIRST, /* a service, then a command line (run, exec) */
    CA_SERVICE_PORT,  /* a service, then a port number (port) */
    CA_SUBCOMMAND,    /* a subcommand: rows named "NAME SUB" */
    CA_LIST,          /* one of .arg_choices */
    CA_FILES,         /* paths */
};

/* Longest flag list of any command (the --help flag is added to it). */
#define CMD_MAX_FLAGS 24

struct cmd_def {
    const char *name; /* "up"; a subcommand is "image ls" */
    int (*fn)(struct cli *c, int argc, char **argv, struct berr *e); /* cli.h */
    const char *summary;          /* one line, for the command list */
    const char *usage;            /* what follows "berth NAME " in the usage line */
    const char *about;            /* the help paragraph; NULL: the summary and "." */
    const struct cmd_flag *flags; /* ends with a zeroed row; NULL: none */
    enum cmd_args args;
    const char *arg_choices; /* CA_LIST: the words, space-separated */
    const char *alias_of;    /* the row whose flags and help this name shares */
    bool hidden;             /* left out of lists (an alias, or internal) */
    bool permute;            /* flags may follow operands (no leading "+") */
};

/* The whole table, and berth's own (global) flags. */
extern const struct cmd_def cmd_table[];
extern const size_t cmd_table_len;
extern const struct cmd_flag cmd_global_flags[];
/* A global CC_LIST flag's choices (for its error message). */
const char *cmd_global_choices(int key);

/* The row named name ("up", "image ls"), or NULL. */
const struct cmd_def *cmd_find(const char *name);
/* The row whose help and flags def uses (itself unless an alias). */
const struct cmd_def *cmd_resolve(const struct cmd_def *def);

/* getopt_long's tables for one command, built from its row. */
struct cmd_parser {
    const struct cmd_def *def; /* resolved: the row the flags come from */
    const char *name;          /* the name it was called by */
    struct option longopts[2 * CMD_MAX_FLAGS + 2];
    char shortopts[2 * CMD_MAX_FLAGS + 4];
};

/* Builds the tables for the command called name (a row of cmd_table: a
 * missing row or an overlong flag list is a programming error and aborts). */
void cmd_parser_init(struct cmd_parser *p, const char *name);
/* Builds the tables for a flag list (global flags); leading "+" always. */
void cmd_parser_init_flags(struct cmd_parser *p, const struct cmd_flag *flags);
/* getopt_long over the tables: the flag's key, 'h' for -h/--help, '?' for
 * an unknown flag or a missing value, -1 at the end. */
int cmd_parser_next(struct cmd_parser *p, int argc, char **argv);

/* A value of the flag key checked against that flag's choices (a CC_LIST
 * row; docker's `{{json .}}` counts as "json"): its index among them, or -1
 * after one line naming the command, the flag and the choices. */
int cmd_parser_choice(const struct cmd_parser *p, int key, const char *value);

/* berth's own --help: global flags and the command list. */
void cmd_print_usage(FILE *f);
/* A command's --help text: usage line, paragraph, its flags. */
void cmd_print_help(const struct cmd_def *def, FILE *f);
/* The flag list as --help shows it (two-column, wrapped at 80). */
void cmd_print_flags(const struct cmd_flag *flags, FILE *f);

/* `berth completion SHELL`'s script, and the man page's command sections
 * (scdoc source). Both return 0, or -1 for an unknown shell. */
int cmd_print_completion(const char *shell, FILE *f);
void cmd_print_man_source(FILE *f);

#endif
