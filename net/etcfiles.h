/* SPDX-License-Identifier: Apache-2.0 */
/* The contents of a container's /etc/resolv.conf, /etc/hosts and
 * /etc/hostname, and the upstream resolvers berth's embedded DNS server
 * forwards to. Pure functions on text: the host's resolv.conf is parsed
 * the way glibc reads it, compose's dns, dns_search, dns_opt, extra_hosts,
 * hostname and domainname are applied as docker applies them, and every
 * value that reaches a file is checked first, so no entry can add a line.
 * Not here: writing or bind-mounting the files (the runtime), the DNS
 * server itself, and addresses (the caller gives the embedded DNS address,
 * the container's own address and the host-gateway address). Nothing here
 * sends a packet: the public fallback resolvers are data only. */
#ifndef BERTH_NET_ETCFILES_H
#define BERTH_NET_ETCFILES_H

#include <stdbool.h>

#include "util/err.h"

/* glibc's MAXNS: nameserver lines past the third are ignored. */
#define NET_RESOLV_MAXNS 3

/* systemd-resolved's stub listeners and the file naming its real upstreams. */
#define NET_RESOLVED_STUB_PATH "/run/systemd/resolve/resolv.conf"

/* What glibc takes from a resolv.conf: NULL-terminated lists (never NULL
 * after a successful parse; empty when the file has none). */
struct net_resolv {
    char **nameservers; /* addresses as written (a "%scope" kept), at most MAXNS */
    char **search;      /* the last search or domain line's domains */
    char **options;     /* every options line's words, in order */
};

void net_resolv_free(struct net_resolv *rc);
#define _cleanup_resolv_ _cleanup_(net_resolv_free)

/* Parses resolv.conf text. Comments ('#' or ';' first on a line), unknown
 * keywords, sortlist and nameservers that are not addresses are skipped,
 * as glibc does. No content is an error: always returns 0 (allocation
 * failure aborts, util/xalloc.h). Free *out with net_resolv_free. */
int net_resolv_parse(const char *text, struct net_resolv *out);

/* True when every nameserver is a systemd-resolved stub (127.0.0.53 or
 * 127.0.0.54) and there is at least one: the real upstreams are in
 * NET_RESOLVED_STUB_PATH instead. */
bool net_resolv_is_resolved_stub(const struct net_resolv *rc);

/* Reads and parses host_path; when that is resolved's stub and
 * resolved_path can be read, reads and parses resolved_path instead.
 * *text_out (may be NULL) gets the text of the file chosen, *path_out (may
 * be NULL) points at host_path or resolved_path. An unreadable host_path
 * is an error naming it. */
int net_resolv_load(const char *host_path, const char *resolved_path, struct net_resolv *out,
                    char **text_out, const char **path_out, struct berr *e);

/* Docker's public fallbacks, used when no reachable resolver is left. */
extern const char *const net_dns_fallback_v4[];
extern const char *const net_dns_fallback_v6[];

/* The servers the embedded DNS server forwards to: compose's dns when it is
 * given (each must be an IPv4 or IPv6 address; an error names the entry),
 * else the host's nameservers minus loopback ones (127.0.0.0/8, ::1: a
 * container cannot reach the host's loopback), else the fallbacks (the
 * IPv6 ones only when ipv6). *out is NULL-terminated, never empty. */
int net_dns_upstreams(const struct net_resolv *host, char *const *dns, bool ipv6, char ***out,
                      struct berr *e);

enum net_resolv_mode {
    NET_RESOLV_BRIDGE, /* a bridge or user-defined network: the embedded DNS */
    NET_RESOLV_HOST,   /* network_mode: host */
    NET_RESOLV_NONE,   /* network_mode: none */
};

struct net_resolv_spec {
    enum net_resolv_mode mode;
    const char *embedded_dns; /* BRIDGE: the embedded server's address */
    char *const *dns;         /* compose dns (NULL: none); HOST: the servers written */
    char *const *dns_search;  /* compose dns_search (NULL: the host's search) */
    char *const *dns_opt;     /* compose dns_opt (NULL: none) */
};

/* The container's /etc/resolv.conf. BRIDGE: "nameserver <embedded_dns>"
 * (compose's dns goes to net_dns_upstreams, not here, as docker does on
 * user networks); HOST: host_text as is when no dns, dns_search or dns_opt
 * is given, else the host's file with them applied; NONE: no nameserver.
 * Search is dns_search when given, else the host's; options are the host's
 * with each dns_opt replacing the option of the same name in place or
 * appended, exact duplicates dropped. An entry with whitespace or a
 * control character, or a dns server that is no address, is an error
 * naming it, and nothing is returned. */
int net_resolv_render(const struct net_resolv *host, const char *host_text,
                      const struct net_resolv_spec *spec, char **out, struct berr *e);

struct net_hosts_spec {
    const char *hostname;     /* required */
    const char *domainname;   /* NULL or "": none */
    const char *addr;         /* the container's own address; NULL: no line */
    char *const *extra_hosts; /* "name:ip" or "name=ip" (NULL: none) */
    const char *host_gateway; /* what "host-gateway" stands for; NULL: refused */
    const char *addr6;        /* the own IPv6 address, a line after addr's; NULL: none */
    /* What comes first instead of the localhost lines: the host's own
     * /etc/hosts for a host-network build step, as docker copies it
     * (written as given, a final newline added); NULL: the localhost lines */
    const char *base;
};

/* The container's /etc/hosts as docker writes it: the localhost lines,
 * then extra_hosts, then the own address with "host.domain host" (or
 * "host"), and the same for its IPv6 address. An extra_hosts entry without a name or an address, an
 * address that is not IPv4/IPv6 (brackets around IPv6 allowed), or a name with whitespace or a
 * control character is an error naming the entry. */
int net_hosts_render(const struct net_hosts_spec *spec, char **out, struct berr *e);

/* The container's /etc/hostname: "hostname\n". A hostname that is empty,
 * longer than 64 bytes, or has whitespace, '/' or a control character is
 * an error naming it. */
int net_hostname_render(const char *hostname, char **out, struct berr *e);

#endif
