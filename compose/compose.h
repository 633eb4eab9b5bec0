/* The compose module's only door: find, read and validate compose files into
 * a typed project model. Knows nothing of containers. */
#ifndef BERTH_COMPOSE_H
#define BERTH_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct compose_opts {
    char **files;             /* -f values in order, NULL-terminated; NULL: discover */
    const char *project_name; /* -p, or NULL */
    const char *project_dir;  /* --project-directory, or NULL */
    char **environ;           /* the process environment (COMPOSE_PROJECT_NAME, ...) */
    const char *cwd;          /* where discovery starts; NULL: getcwd() */
    /* Receives each warning (one line, no newline, already prefixed with
     * "file:line:col: " where it has a place); NULL: log_warn on stderr. */
    void (*warn)(void *userdata, const char *msg);
    void *warn_userdata;
};

/* Size cap of one compose file, unless BERTH_MAX_COMPOSE_BYTES (in
 * compose_opts.environ; "64m" style sizes accepted) says otherwise. */
#define COMPOSE_MAX_BYTES_DEFAULT (16 * 1024 * 1024)

/* Where a value came from, for messages: "compose.yaml:12:5". */
struct srcpos {
    const char *file; /* points into project->files */
    int line, col;    /* 1-based */
};

struct service {
    char *name;
    struct srcpos pos; /* the service's key */
    char *image;       /* NULL when absent */
    struct srcpos image_pos;
    char **command; /* NULL-terminated argv; NULL when not set */
    bool command_set;
    char **entrypoint;
    bool entrypoint_set;
    /* "KEY=VALUE" entries in file order; a bare "KEY" is resolved from the
     * environment at load time, or dropped when unset there. */
    char **environment;
    char *working_dir;
    char *user;
    char *hostname;
    int64_t mem_limit;     /* bytes; 0 = not set */
    double cpus;           /* 0 = not set */
    int64_t pids_limit;    /* 0 = not set; -1 = unlimited */
    int stop_signal;       /* 0 = not set */
    int64_t stop_grace_ns; /* -1 = not set */
    bool tty;
    bool read_only;
};

struct project {
    char *name;        /* normalized project name */
    char *working_dir; /* absolute project directory */
    char **files;      /* absolute paths of the files read, in order */
    struct service *services;
    size_t n_services; /* in file order */
};

int compose_load(const struct compose_opts *o, struct project **out, struct berr *e);
void project_free(struct project *p);
const struct service *project_service(const struct project *p, const char *name);

#endif
