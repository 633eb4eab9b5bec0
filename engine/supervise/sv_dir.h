/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the store's containers for the embedded DNS server, from their
 * records on disk rather than a supervisor's memory: other projects'
 * containers on a network the asker shares (one project's network that
 * another names as external), and, for an attached one-off that no
 * supervisor serves, every container of the store. A container answers
 * to its service name, container name and aliases on a shared network,
 * and to the aliases the asker's links and external_links give it, only
 * while its run state says it runs. The records are read again when the
 * store's container directory changes. Not here: a supervisor's own
 * containers (sv_net.c), the server (sv_dns.h). Not thread-safe: one
 * loop uses one directory. */
#ifndef BERTH_SUPERVISE_SV_DIR_H
#define BERTH_SUPERVISE_SV_DIR_H

#include <stddef.h>
#include <stdint.h>

struct ctr_plan;
struct sv_dir;

/* The store at root (run states under runroot); the containers of
 * exclude_project (NULL: none) are left out. The strings are copied. */
struct sv_dir *sv_dir_new(const char *root, const char *runroot, const char *exclude_project);
void sv_dir_free(struct sv_dir *d);

/* The addresses of family (AF_INET: 4 bytes each, AF_INET6: 16) of the
 * running containers that answer to name on one of asker's networks,
 * appended at out[*n] (at most cap in all); 1 when one answers to name
 * (even with no address of family), 0 otherwise. */
int sv_dir_lookup(struct sv_dir *d, const struct ctr_plan *asker, const char *name, int family,
                  uint8_t *out, size_t cap, size_t *n);

#endif
