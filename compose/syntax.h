/* SPDX-License-Identifier: Apache-2.0 */
/* Short syntaxes of compose values, parsed as docker compose parses them:
 * volume specs ("./data:/srv:ro"), restart policies ("on-failure:3"), port
 * specs ("127.0.0.1:8000-8001:80-81/udp"). Pure string functions; the
 * callers turn them into long-syntax nodes or model fields. */
#ifndef BERTH_COMPOSE_SYNTAX_H
#define BERTH_COMPOSE_SYNTAX_H

#include <stdbool.h>
#include <stdint.h>

#include "compose/compose.h"

/* [SOURCE:]TARGET[:OPTIONS]; OPTIONS comma-separated from ro, rw, z, Z,
 * nocopy, the propagation modes and the consistency modes. */
struct volume_spec {
    char *type;   /* "bind" (source starts with ".", "/" or "~"), or "volume" */
    char *source; /* NULL: anonymous volume */
    char *target;
    bool read_only;
    bool nocopy;
    char *selinux;     /* "z", "Z" or NULL */
    char *propagation; /* or NULL */
    char *consistency; /* or NULL */
};

/* Returns 0, or -EINVAL with *err a static description. */
int volume_spec_parse(const char *s, struct volume_spec *out, const char **err);
void volume_spec_free(struct volume_spec *v);

bool is_propagation_mode(const char *s);

/* "no", "always", "unless-stopped", "on-failure" or "on-failure:N" (*retries
 * N, 0 when absent). Returns 0 or -EINVAL. */
int restart_spec_parse(const char *s, enum restart_policy *policy, int64_t *retries);

/* One short-syntax port spec expands to (host_ip, published, target,
 * protocol) entries; published is "" when not given, or "a-b" for a host
 * range mapped onto a single container port. */
struct port_entry {
    char host_ip[64];
    char published[16];
    uint32_t target;
    char protocol[8];
};

/* At most max entries; returns the number of entries, -E2BIG when there
 * would be more, -EINVAL with *err set for a malformed spec. */
long port_spec_parse(const char *s, struct port_entry *out, long max, const char **err);

/* "3000" or "3000-3005" (with an optional /proto): for `expose`. */
bool expose_spec_valid(const char *s);

#endif
