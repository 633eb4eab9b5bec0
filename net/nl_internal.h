/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the net module's libnl users (net/link.c, net/shape.c), not
 * a door of the module: netlink sockets in the host's or a container's
 * namespace, and libnl errors as berr codes. */
#ifndef BERTH_NET_NL_INTERNAL_H
#define BERTH_NET_NL_INTERNAL_H

#include <stdbool.h>

#include "util/err.h"

struct nl_sock;

/* A connected NETLINK_ROUTE socket in the calling thread's netns. */
int nl_host_sock(struct nl_sock **out, struct berr *e);
/* A NETLINK_ROUTE socket inside the netns nsfd. */
int nl_ns_sock(int nsfd, struct nl_sock **out, struct berr *e);
/* Sets e from a libnl error (either sign): "<what>: <nl_geterror>". */
int nl_fail(struct berr *e, int nlerr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether a libnl error says there is no such object or device. */
bool nl_not_found(int nlerr);

#endif
