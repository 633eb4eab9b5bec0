/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's part of `userns_mode: auto`: the subordinate IDs checked (and
 * added on first use) when the container is planned, so that a host
 * without room says so before anything is made. The range itself is taken
 * when the container starts (engine/runtime/userns.h). */
#include "engine/plan/plan.h"
#include "engine/runtime/userns.h"

int plan_userns(const struct service *s, struct ctr_plan *out, struct berr *e)
{
    if (!s->userns_auto)
        return 0;
    out->userns_auto = true;
    int r = userns_ids_ensure(e);
    if (r < 0)
        return berr_wrap(e, "%s:%d:%d: service \"%s\": userns_mode auto",
                         s->userns_pos.file ? s->userns_pos.file : "?", s->userns_pos.line,
                         s->userns_pos.col, s->name);
    return 0;
}
