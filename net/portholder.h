/* SPDX-License-Identifier: Apache-2.0 */
/* Who holds a port: the process behind a bound TCP or UDP socket, read from
 * /proc (the socket's inode in /proc/net/{tcp,tcp6,udp,udp6}, then the
 * /proc/PID/fd link naming that inode), so that "port already in use" can
 * name the holder as "PID 1234 (nginx)". Not here: binding or reserving
 * ports (the supervisor's proxy does that), and anything in another network
 * namespace than the caller's. */
#ifndef BERTH_NET_PORTHOLDER_H
#define BERTH_NET_PORTHOLDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The process holding a bound socket on proto/port (host_ip NULL: any
 * address): scans /proc/net/{tcp,tcp6,udp,udp6} for the port's socket
 * inode(s) in LISTEN (tcp) or bound (udp) state, then /proc/[pid]/fd for
 * the inode. Returns 1 with *pid and comm (from /proc/PID/comm) when found,
 * 0 when no socket or no owner is visible, <0 on error. Bounded work. */
int port_holder(int proto, const char *host_ip, uint16_t port, pid_t *pid, char comm[16]);

/* Parses one /proc/net/tcp-style table (text) for port: the inode of a
 * matching socket (pure, for unit tests). v6 says the table is tcp6/udp6.
 * A socket matches host_ip when it is bound to that address or to the
 * wildcard of its family (a v6 table's :: and ::ffff:A.B.C.D match a v4
 * host_ip); NULL, "" or a wildcard host_ip matches every address. Returns
 * 1 with *inode, 0 when no socket matches, -EINVAL for a host_ip that is
 * no address. Malformed lines are skipped. */
int port_holder_parse(const char *table, bool v6, int proto, const char *host_ip, uint16_t port,
                      unsigned long *inode);

#endif
