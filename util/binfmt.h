/* SPDX-License-Identifier: Apache-2.0 */
/* Whether the kernel can run another architecture's programs: an enabled
 * binfmt_misc entry (qemu-user's, say) whose magic matches that
 * architecture's ELF header. cmd/ lets an image of another platform start
 * only then. Pure logic but for binfmt_can_run, which reads the entries. */
#ifndef BERTH_UTIL_BINFMT_H
#define BERTH_UTIL_BINFMT_H

#include <stdbool.h>

#include "util/platform.h"

/* The binfmt_misc directory: /proc/sys/fs/binfmt_misc. */
#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"

/* Whether the text of one entry (as the kernel prints it: "enabled",
 * "offset N", "magic HEX", "mask HEX") is enabled and matches an ELF
 * executable of p's architecture. False for an unknown architecture. */
bool binfmt_entry_runs(const char *text, const struct platform *p);

/* Whether some entry under dir (NULL: BINFMT_DIR) runs p's programs; the
 * directory is read only if binfmt_misc is enabled there. */
bool binfmt_can_run(const char *dir, const struct platform *p);

#endif
