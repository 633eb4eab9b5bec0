/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded DNS server of an attached one-off (`berth run` without
 * -d), which no supervisor serves: the same server (sv_dns.h), on a loop
 * of its own in a thread of the process that runs the container, at
 * 127.0.0.11:53 inside the one-off's namespace, answering the names of
 * every running container of the store on a network the one-off shares
 * (sv_dir.h) and forwarding the rest to the service's `dns:` or the host's
 * resolvers, as a supervised container's server does.
 *
 * sv_oneoff_dns_new binds the sockets and makes the server (no thread
 * yet: the container is cloned from a process with one thread);
 * sv_oneoff_dns_serve starts the thread; sv_oneoff_dns_free stops it (if
 * started) and frees everything. */
#ifndef BERTH_SUPERVISE_SV_ONEOFF_H
#define BERTH_SUPERVISE_SV_ONEOFF_H

#include "util/err.h"

struct ctr_plan;
struct sv_oneoff_dns;

/* pl and the strings must outlive the server. */
int sv_oneoff_dns_new(const char *root, const char *runroot, const char *resolv_conf,
                      const struct ctr_plan *pl, const char *name, int nsfd,
                      struct sv_oneoff_dns **out, struct berr *e);
int sv_oneoff_dns_serve(struct sv_oneoff_dns *o, struct berr *e);
void sv_oneoff_dns_free(struct sv_oneoff_dns *o);
static inline void sv_oneoff_dns_freep(struct sv_oneoff_dns **o)
{
    sv_oneoff_dns_free(*o);
}

#endif
