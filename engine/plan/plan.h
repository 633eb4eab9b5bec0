/* From the compose model and the image config to what a container runs:
 * command, environment, user, working directory, hostname, limits, stop
 * signal, and a canonical config that says whether an existing container
 * still matches. Pure logic, no I/O: unit-tested. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stdint.h>

#include "compose/compose.h"
#include "engine/image/image.h"
#include "engine/runtime/cgroup.h"

#define STOP_GRACE_DEFAULT_NS (10LL * 1000 * 1000 * 1000)

struct ctr_plan {
    char *name;     /* PROJECT-SERVICE-N */
    char *log_name; /* SERVICE-N, the log prefix */
    char **argv;
    char **env;
    char *cwd;
    char *user; /* NULL: root */
    char *hostname;
    bool read_only;
    bool tty;
    struct cgroup_limits limits;
    int stop_signal;
    int64_t stop_grace_ns;
    /* Canonical JSON of everything above and the image ID: an existing
     * container with the same text needs no recreate. Compared as text, so
     * `up` needs no digest (and no crypto library start-up) on this path. */
    char *config;
};

/* Fails (with a message naming the service) when there is nothing to run
 * or the image's StopSignal is invalid. */
int plan_container(const struct project *p, const struct service *s, const struct image *img,
                   int number, const char *container_id, struct ctr_plan *out, struct berr *e);
void ctr_plan_free(struct ctr_plan *c);

#endif
