/* SPDX-License-Identifier: Apache-2.0 */
/* The compose file's top-level volumes: handed to the volume store as
 * plain declarations (engine/volume knows no compose model). Not here: the
 * services' mounts (mounts.c). */
#include <stdlib.h>

#include "engine/plan/plan.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

int volumes_create_declared(const char *root, const struct project *p, char ***created,
                            struct berr *e)
{
    _cleanup_free_ struct volume_decl *decls = xcalloc(p->n_volumes + 1, sizeof *decls);
    for (size_t i = 0; i < p->n_volumes; i++) {
        const struct volume_def *v = &p->volumes[i];
        decls[i] = (struct volume_decl){
            .key = v->key,
            .name = v->name ? v->name : v->key,
            .external = v->external,
            .labels = v->labels,
        };
    }
    return volumes_create(root, p->name, decls, p->n_volumes, created, e);
}
