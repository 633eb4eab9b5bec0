/* SPDX-License-Identifier: Apache-2.0 */
/* The merged node tree turned into the typed project model: services in
 * file order with the keys berth supports converted and checked. A key that
 * is not supported yet is warned about by name and place, never dropped
 * silently; `x-` keys are the only ones ignored without a word. */
#ifndef BERTH_COMPOSE_MODEL_H
#define BERTH_COMPOSE_MODEL_H

#include "compose/arena.h"
#include "compose/compose.h"
#include "compose/diag.h"
#include "compose/envtab.h"
#include "compose/yaml.h"

/* Fills p->services from root (a mapping). p->files must already hold one
 * path per source index (srcpos.file points into it). env (the shell
 * environment over .env) resolves bare environment entries. Problems go to d; returns 0 or -EINVAL.
 */
int model_build(struct arena *a, const struct ynode *root, const struct envtab *env,
                struct project *p, struct diag *d);

/* Frees what model_build put into one service. */
void service_clear(struct service *s);
/* Frees the project-level definitions (volumes...). */
void project_defs_clear(struct project *p);

#endif
