/* SPDX-License-Identifier: Apache-2.0 */
/* Resolution of a container's `user` against the container's own
 * /etc/passwd and /etc/group, parsed by berth from buffers (never NSS).
 * Async-signal-safe: no allocation, so the container's init can call it
 * between clone and exec. */
#ifndef BERTH_RUNTIME_USER_H
#define BERTH_RUNTIME_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define USER_MAX_GROUPS 64

struct user_ids {
    uid_t uid;
    gid_t gid;
    gid_t groups[USER_MAX_GROUPS]; /* supplementary groups */
    int ngroups;
    char home[256]; /* from passwd, "/" when unknown */
};

/* spec: NULL or "" (root), "name", "uid", "name:group", "uid:gid", ...
 * passwd/group: file contents (may be NULL when absent). On error writes a
 * message to err and returns -1. */
int user_resolve(const char *spec, const char *passwd, size_t passwd_len, const char *group,
                 size_t group_len, struct user_ids *out, char *err, size_t errlen);

/* A group_add entry: a number, or a name in the group file's contents.
 * Returns 0, or -1 when the name is not there. */
int user_group_id(const char *spec, const char *group, size_t group_len, gid_t *out);

#endif
