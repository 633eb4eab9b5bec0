/* SPDX-License-Identifier: Apache-2.0 */
/* Network namespaces held open by a bind mount on a file (as `ip netns
 * add` does), so a namespace outlives the processes in it: a restarted
 * container rejoins it and keeps its address. Also: making a socket inside
 * such a namespace from a thread that stays in the host's. Not here:
 * links, addresses and routes (net/link.h), choosing the file's path (the
 * caller's), joining a namespace for good (the container's init). */
#ifndef BERTH_NET_NETNS_H
#define BERTH_NET_NETNS_H

#include "util/err.h"

/* A new network namespace with "lo" up, bound on path (the file is made;
 * its directory must exist). An existing namespace bound there: 0, left
 * untouched. Before the first bind the directory is made a mount point of
 * its own (bound on itself, as iproute2 does with /run/netns) with private
 * propagation, so namespace mounts in it never propagate to other mount
 * namespaces; that self-bind stays (remove it with netns_dir_release). On
 * failure nothing is left (no file, no mount). The calling thread enters
 * the new namespace for the bind and returns to its own; failing to
 * return aborts the process (no thread may stay in a container's
 * namespace). */
int netns_create(const char *path, struct berr *e);

/* An O_RDONLY|O_CLOEXEC fd of the namespace bound on path (checked to be
 * a network namespace), or <0. */
int netns_open(const char *path, struct berr *e);

/* A new network namespace with "lo" up, held only by the returned fd
 * (O_CLOEXEC): no file, no mount, nothing to clean up but the fd; the
 * namespace lives as long as the fd or a process in it. Made on the
 * calling thread, which returns to its own namespace (or the process
 * aborts). */
int netns_new(struct berr *e);

/* Unmounts (MNT_DETACH) and unlinks path; neither there: 0. */
int netns_remove(const char *path, struct berr *e);

/* Undoes netns_create's self-bind of dir (MNT_DETACH); not a mount point
 * of its own: 0. For tests and a store's removal; namespaces still bound
 * in dir stay alive under their own mounts. */
int netns_dir_release(const char *dir, struct berr *e);

/* Creates a socket inside the netns nsfd (setns on the calling thread,
 * socket(), setns back; failing to get back aborts: the thread must never
 * stay in a container's netns). type may carry SOCK_NONBLOCK; SOCK_CLOEXEC
 * is always added. Returns the fd or <0. */
int netns_socket(int nsfd, int domain, int type, int protocol, struct berr *e);

#endif
