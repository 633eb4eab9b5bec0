/* SPDX-License-Identifier: Apache-2.0 */
/* Networking, first part: every container has its own network namespace
 * with the loopback interface up (bridges, veth pairs, IPAM, published
 * ports and DNS come with the networking work). */
#ifndef BERTH_NET_LOOPBACK_H
#define BERTH_NET_LOOPBACK_H

/* Brings up "lo" in the calling process's network namespace. Async-signal-
 * safe (one socket and two ioctls), so a container's init can call it
 * between clone and exec. Returns 0 or -errno. */
int net_loopback_up(void);

#endif
