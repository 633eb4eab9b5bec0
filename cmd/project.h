/* What most commands start with: the project (from the compose files, or
 * from -p alone where a command allows it), its container records, and the
 * supervisor, if one runs. */
#ifndef BERTH_CMD_PROJECT_H
#define BERTH_CMD_PROJECT_H

#include <stdbool.h>

#include "cmd/cli.h"
#include "compose/compose.h"
#include "engine/supervise/records.h"
#include "util/err.h"

int cli_load_project(struct cli *c, struct project **out, struct berr *e);

/* The project name: from the compose files, or from -p alone when no file
 * is found (commands such as down, ps, logs work without the file, as
 * docker compose's do). *p is the loaded project or NULL. */
int cli_project_name(struct cli *c, char **name, struct project **p, struct berr *e);

/* The project's containers (one-off `run` containers only with oneoff),
 * optionally only those of the named services (NULL-terminated, may be
 * NULL); sorted by service then number. Unknown service names are an error
 * when the project file is known. */
int cli_project_containers(struct cli *c, const char *name, const struct project *p,
                           char *const *services, bool oneoff, struct ctr_record **out, size_t *n,
                           struct berr *e);

#endif
