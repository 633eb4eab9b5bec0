/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the build module's own files (not a door: other modules
 * use engine/build/build.h). */
#ifndef BERTH_BUILD_INTERNAL_H
#define BERTH_BUILD_INTERNAL_H

#include "engine/build/build.h"

/* A deep copy of in (the walk hands out expanded copies). */
struct df_instr *df_instr_dup(const struct df_instr *in);
/* Releases what in holds, not in itself. */
void df_instr_clear(struct df_instr *in);
/* Parses one --mount value into m (cleared first on failure too). */
int df_mount_parse(const char *spec, struct df_mount *m, struct berr *e);
void df_mount_clear(struct df_mount *m);
/* Checks an EXPOSE word ("80", "80/udp", "8000-8010/tcp"). */
int df_check_port(const char *s, struct berr *e);

#endif
