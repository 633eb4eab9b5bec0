/* SPDX-License-Identifier: Apache-2.0 */
/* What berth keeps on disk about containers, so that `down`, `ps` and the
 * next `up` see the true state even after the supervisor died:
 *
 *   $BERTH_ROOT/containers/<id>/config.json   the container record (durable)
 *   $BERTH_ROOT/containers/<id>/image-id      protects the image from removal
 *   $BERTH_ROOT/containers/<id>/{upper,work,rootfs}
 *   $BERTH_RUNROOT/<project>/<name>.json      run state (pid, start time)
 *   $BERTH_RUNROOT/<project>/lock             serialises commands
 *
 * Every file is written atomically (temp + fsync + rename); a container
 * directory becomes visible by rename only once complete. */
#ifndef BERTH_SUPERVISE_RECORDS_H
#define BERTH_SUPERVISE_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/events/event.h"
#include "engine/runtime/ctrplan.h"
#include "util/err.h"

struct ctr_record {
    char *id; /* 64 hex */
    char *name;
    char *project;
    char *service;
    int number;
    bool oneoff;          /* a `run` container */
    char *image;          /* reference as written in the compose file */
    char *image_id;       /* config digest */
    char *created;        /* RFC 3339 */
    char *cgroup;         /* relative cgroup path */
    char *config_files;   /* the project's compose files, comma-separated (for `ls`) */
    char *working_dir;    /* the project directory */
    struct ctr_plan plan; /* everything needed to start it again */
};

void ctr_record_free(struct ctr_record *r);

/* Creates the container directory (upper, work, rootfs) and its record. */
int ctr_create(const char *root, const struct ctr_record *rec, struct berr *e);
/* Writes an existing container's record again (a value changed in place,
 * such as its network shaping), atomically; ctr_sync makes it durable. */
int ctr_rewrite(const char *root, const struct ctr_record *rec, struct berr *e);
/* Makes the containers created so far durable (one flush for all). */
void ctr_sync(const char *root);
/* Lists the records of a project (all projects when project is NULL). A
 * record it cannot read is skipped with a container "warning" event to
 * sink (NULL: dropped, for a listing that another one has already said). */
int ctr_list(const char *root, const char *project, const struct ev_sink *sink,
             struct ctr_record **out, size_t *n, struct berr *e);
void ctr_list_free(struct ctr_record *list, size_t n);
/* A record list and its length, for a scope that owns one:
 *   _cleanup_ctr_list_ struct ctr_list l = {0};
 *   ctr_list(root, project, sink, &l.v, &l.n, e); */
struct ctr_list {
    struct ctr_record *v;
    size_t n;
};
static inline void ctr_list_clear(struct ctr_list *l)
{
    ctr_list_free(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}
#define _cleanup_ctr_list_ _cleanup_(ctr_list_clear)
/* Removes the container directory and everything in it. */
int ctr_remove(const char *root, const char *id, struct berr *e);
/* $ROOT/containers/<id>/<sub> (heap). */
char *ctr_path(const char *root, const char *id, const char *sub);
/* A new random container ID (64 hex). */
char *ctr_new_id(void);

/* A published port as the supervisor bound it (the random host port
 * resolved). */
struct run_port {
    char host_ip[46]; /* "" when the file gave none (every address) */
    uint16_t host_port;
    uint16_t ctr_port;
    int proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
};

/* The bound ports a run state keeps; a container publishing more keeps its
 * first RUN_STATE_MAX_PORTS here (the others are bound all the same, but
 * `port` and `ps` do not show them). */
#define RUN_STATE_MAX_PORTS 64

struct run_state {
    pid_t pid;
    unsigned long long start_time;
    pid_t supervisor;
    bool running;    /* the process is up (running or paused) */
    bool paused;     /* frozen (cgroup freezer) */
    bool restarting; /* exited, a restart is scheduled */
    int exit_code;
    bool oom_killed;
    int64_t started_at_ns; /* wall clock, 0 = never */
    int64_t finished_at_ns;
    int restarts;
    char health[12];                            /* "", "starting", "healthy", "unhealthy" */
    char health_output[256];                    /* the last probe's output, for messages */
    struct run_port ports[RUN_STATE_MAX_PORTS]; /* published and bound */
    size_t n_ports;
};

/* The run state as the file (and the supervisor's "state" answer) has it. */
json_t *run_state_to_json(const struct run_state *st);
/* The reverse; missing fields are zero. */
void run_state_from_json(json_t *o, struct run_state *st);

int run_state_write(const char *runroot, const char *project, const char *name,
                    const struct run_state *st, struct berr *e);
/* -ENOENT when there is none. */
int run_state_read(const char *runroot, const char *project, const char *name,
                   struct run_state *st);
void run_state_remove(const char *runroot, const char *project, const char *name);
/* Removes the project's run-state files that belong to no container record
 * any more (left by a killed command, or by records gone from the store),
 * unless their process still runs. */
void run_state_sweep(const char *root, const char *runroot, const char *project);
/* Removes $RUNROOT/<project> when nothing but the lock is left in it. */
void run_dir_prune(const char *runroot, const char *project);

/* True when the recorded process is alive and is the same process (pid and
 * start time match: a recycled pid is never taken for it). */
bool run_state_alive(const struct run_state *st);

/* down -v: removes every volume labelled with the project, keeping (with
 * an error naming it) one that a remaining container's record still
 * mounts (another project's, or an orphan down keeps): call it after
 * removing the containers. *removed (may be NULL) receives the names
 * removed. See volumes_remove_labelled (engine/volume/mounts.h). */
int volumes_remove_project(const char *root, const char *project, char ***removed, struct berr *e);

/* Takes the project lock (flock on $RUNROOT/<project>/lock); returns the fd. */
int project_lock(const char *runroot, const char *project, struct berr *e);
void project_unlock(int fd);
/* A project lock (fd, or -1) released when it leaves scope. */
static inline void project_unlockp(int *fd)
{
    project_unlock(*fd);
}
#define _cleanup_project_lock_ _cleanup_(project_unlockp)

#endif
