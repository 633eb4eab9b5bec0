/* SPDX-License-Identifier: Apache-2.0 */
/* Checks across a normalized project that no single key can make: every
 * service has an image or a build; depends_on, links and
 * network_mode: service:x name existing services (a required dependency
 * disabled by its profiles is an error, an optional one a warning);
 * depends_on has no cycle (the error prints it: a -> b -> a); networks,
 * named volumes, secrets and configs used by services are declared; no two
 * services share a container_name; network_mode and networks are not both
 * set; no two mounts of a service share a target. Also orders the
 * services for start: dependencies first, file order among the rest. */
#ifndef BERTH_COMPOSE_VALIDATE_H
#define BERTH_COMPOSE_VALIDATE_H

#include <errno.h>
#include <stddef.h>

#include "compose/diag.h"
#include "compose/yaml.h"

/* *start_order: service indexes (in the order of the services mapping,
 * x- keys skipped), heap array. Returns 0 or -EINVAL. */
int validate_project(struct diag *d, const struct ynode *root, char *const *disabled,
                     size_t **start_order);

#endif
