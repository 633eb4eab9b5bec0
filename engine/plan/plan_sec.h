/* SPDX-License-Identifier: Apache-2.0 */
/* The service's security keys beyond capabilities into the container's
 * plan: privileged, the seccomp profile (read and compiled here, so a
 * profile that does not parse stops `up` before anything is made), AppArmor,
 * masked paths, group_add, the OOM settings. Internal to engine/plan. */
#ifndef BERTH_PLAN_SEC_H
#define BERTH_PLAN_SEC_H

#include "compose/compose.h"
#include "engine/runtime/ctrplan.h"
#include "util/err.h"

/* out->caps is already planned. SELinux labels are refused where SELinux
 * runs (berth cannot apply them). */
int plan_sec(const struct service *s, struct ctr_plan *out, struct berr *e);

/* What `up` says once per service of what this host cannot apply, as
 * Docker says it: LSM options (no AppArmor, no SELinux), as "FILE:LINE:COL:
 * service ...: ..." lines, and on a cgroup v2 host oom_kill_disable and
 * mem_swappiness, which v2 has no file for; NULL when there is nothing to
 * say. */
char **plan_host_warnings(const struct service *s);

#endif
