/* SPDX-License-Identifier: Apache-2.0 */
/* ID ranges for `userns_mode: auto`: each container gets its own range of
 * USERNS_IDS host IDs, mapped to 0..65535 inside its user namespace. The
 * ranges come from the `berth` entries of /etc/subuid and /etc/subgid
 * (added on first use, USERNS_BLOCK IDs above every other entry), and are
 * recorded per store in $BERTH_ROOT/userns.json, changed under a lock
 * ($BERTH_ROOT/userns.lock, flock) so that concurrent `up`s never hand
 * out overlapping ranges. BERTH_SUBUID_FILE and BERTH_SUBGID_FILE name
 * other files (for tests and private stores).
 * Not here: the namespace itself (container.c, init.c, idmap.c). */
#ifndef BERTH_RUNTIME_USERNS_H
#define BERTH_RUNTIME_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define USERNS_IDS   65536u              /* IDs per container */
#define USERNS_BLOCK (USERNS_IDS * 256u) /* IDs berth claims: 256 containers */
#define USERNS_FLOOR 100000u             /* never below this (host users) */
#define USERNS_OWNER "berth"             /* the entry's name in the files */

/* A container's range: host IDs uid..uid+65535 and gid..gid+65535. */
struct userns_range {
    uint32_t uid, gid;
};

/* One line "name:start:count" of a subordinate ID file. */
struct subid_entry {
    uint64_t start, count;
};

/* The files in use: the environment's override, else /etc/subuid and
 * /etc/subgid. */
const char *userns_subuid_file(void);
const char *userns_subgid_file(void);

/* Parses a subordinate ID file: the entries whose name is owner go to
 * *out (malloc'd, *n of them); *end receives the end (start + count) of
 * the highest entry of any owner. Malformed lines are skipped, as shadow
 * does. */
void subid_parse(const char *text, const char *owner, struct subid_entry **out, size_t *n,
                 uint64_t *end);

/* The start of a new block of count IDs above end (and USERNS_FLOOR),
 * aligned to USERNS_IDS. */
uint64_t subid_block_start(uint64_t end);

/* The text with "owner:start:count" appended (a newline added first when
 * the text lacks its last one). */
char *subid_append(const char *text, const char *owner, uint64_t start, uint64_t count);

/* Slot i of the ranges the entries give (USERNS_IDS each, in file
 * order); false when there are fewer slots. */
bool subid_slot(const struct subid_entry *v, size_t n, size_t i, uint64_t *start);

/* Makes sure both files have a `berth` entry (adding one when absent,
 * written atomically, every other line kept) with room for at least one
 * container. The message names the file. */
int userns_ids_ensure(struct berr *e);

/* The range recorded for container id, or a fresh one (the first free
 * one after the last handed out, so a recreated container gets a new
 * one); recorded before it returns. */
int userns_acquire(const char *root, const char *id, struct userns_range *out, struct berr *e);

struct ctr_plan;
struct container_spec;
/* For a plan with userns_auto: the container's range (userns_acquire)
 * into spec, with the store as the place of layer copies (always taken
 * when BERTH_USERNS_LAYERS is "copy"), and each named volume's data directory, when still the host
 * root's, handed to the range's root (its contents keep their owners).
 * Nothing for other plans. The message names the container and the key. */
int userns_spec_fill(const char *root, const char *id, const struct ctr_plan *plan,
                     struct container_spec *spec, struct berr *e);

/* Ahead of the start, for a container with userns_mode auto (`up` calls
 * it when it creates one, so that no supervisor's loop waits for a copy):
 * its range taken (as userns_acquire), and where the store's file system
 * refuses idmapped mounts, or BERTH_USERNS_LAYERS is "copy", the range's
 * layer copies made (layercopy.h). The start then finds them. */
int userns_layers_prepare(const char *root, const char *id, char *const *layer_dirs,
                          struct berr *e);
/* Frees the range of container id (nothing when it has none), its layer
 * copies first. */
int userns_release(const char *root, const char *id, struct berr *e);

#endif
