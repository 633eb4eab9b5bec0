/* SPDX-License-Identifier: Apache-2.0 */
/* How the user told berth to reach registries (module internals; the unit
 * tests use it too): the configuration file ($BERTH_CONFIG, default
 * /etc/berth/config.json) with docker's daemon.json keys
 * "insecure-registries" (names and CIDRs) and "registry-mirrors" (for
 * docker.io), the certs.d directory of extra CAs and client certificates
 * ($BERTH_CERTS_D, default /etc/docker/certs.d), and the proxy
 * environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as docker reads them).
 * The matching is pure logic; only registry_config_load, registry_tls_load
 * and registry_config_insecure (a name checked against CIDRs is resolved,
 * as docker does) touch the system. */
#ifndef BERTH_ENGINE_REGISTRY_CONFIG_H
#define BERTH_ENGINE_REGISTRY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define REGISTRY_CONFIG_DEFAULT  "/etc/berth/config.json"
#define REGISTRY_CONFIG_MAX      (256u * 1024u)
#define REGISTRY_CERTS_D_DEFAULT "/etc/docker/certs.d"
#define REGISTRY_CERT_MAX        (1024u * 1024u) /* one PEM file of certs.d */
#define REGISTRY_CERTS_MAX_FILES 64u

struct registry_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix;
};

struct registry_config {
    char **insecure; /* "host[:port]" as written, lowercased */
    struct registry_cidr *cidrs;
    size_t n_cidrs;
    char **mirrors; /* "https://mirror.example", no trailing slash */
};

/* Parses the configuration text of file path (named in errors); keys other
 * than berth's are ignored, so a daemon.json can be copied as it is. */
int registry_config_parse(const char *text, size_t len, const char *path,
                          struct registry_config *cfg, struct berr *e);
/* Reads $BERTH_CONFIG (which must exist), else /etc/berth/config.json if
 * it exists, else leaves cfg empty. */
int registry_config_load(struct registry_config *cfg, struct berr *e);
void registry_config_free(struct registry_config *cfg);

/* "10.0.0.0/8", "fd00::/8". False for anything else. */
bool registry_cidr_parse(const char *s, struct registry_cidr *out);
/* Whether the address literal ip lies in c. */
bool registry_cidr_contains(const struct registry_cidr *c, const char *ip);

/* The host of a registry domain, without port or brackets. Heap string. */
char *registry_domain_host(const char *domain);

/* Whether domain ("host", "host:port", "[::1]:5000") is insecure: listed
 * by name, or its host (an address, or each of addrs, the addresses the
 * name resolved to; NULL-terminated, may be NULL) lies in a listed CIDR.
 * Loopback hosts are always insecure, as docker's defaults make them. */
bool registry_insecure_match(const struct registry_config *cfg, const char *domain,
                             char *const *addrs);
/* The same, resolving a host name when CIDRs are configured. */
bool registry_config_insecure(const struct registry_config *cfg, const char *domain);

/* One place a pull may be served from: a docker.io mirror, or the
 * registry itself. */
struct registry_endpoint {
    char *base; /* "https://registry.example:5000", "http://127.0.0.1:5000" */
    char *host; /* "registry.example:5000": certs.d's name, proxy choice */
    bool plain_http;
    bool verify;        /* TLS peer and host name verification */
    bool http_fallback; /* a TLS handshake failure retries as http:// */
    bool mirror;
};
/* The endpoints a pull from domain tries, in order (at least one):
 * docker.io's mirrors then registry-1.docker.io; else https://domain,
 * verified unless the registry is insecure, then falling back to plain
 * HTTP. */
size_t registry_endpoints(const struct registry_config *cfg, const char *domain,
                          struct registry_endpoint **out);
void registry_endpoints_free(struct registry_endpoint *v, size_t n);

/* The certs.d directory: $BERTH_CERTS_D, else /etc/docker/certs.d. */
const char *registry_certs_d(void);

/* What a registry's TLS setup takes from certs.d/DOMAIN/: every *.crt,
 * appended to the system CA bundle (cafile, the libcurl default), as one
 * PEM blob; the first *.cert with its *.key as the client certificate. */
struct registry_tls {
    char *ca_pem; /* NULL: the system CAs alone */
    size_t ca_len;
    char *cert, *key; /* paths, or NULL */
    char *dir;        /* the directory the files came from, for messages */
};
/* Reads certs.d/DOMAIN (nothing there: an empty result). A *.cert without
 * its *.key, or a file too big, is an error naming the file. */
int registry_tls_load(const char *domain, const char *cafile, struct registry_tls *t,
                      struct berr *e);
void registry_tls_free(struct registry_tls *t);

/* The proxy environment as docker (Go's net/http) reads it: the uppercase
 * name first, then the lowercase. */
struct registry_proxy_env {
    const char *https, *http, *no;
};
void registry_proxy_env_get(struct registry_proxy_env *p);
/* Whether NO_PROXY's list (comma-separated: "*", names matching
 * themselves and their subdomains, ".name" matching subdomains only,
 * addresses, CIDRs, each optionally with ":port") covers host:port. */
bool registry_no_proxy_match(const char *no_proxy, const char *host, const char *port);
/* The proxy a request to domain over https (or http) goes through, or
 * NULL for a direct connection: loopback hosts and NO_PROXY's are never
 * proxied. */
const char *registry_proxy_for(const struct registry_proxy_env *p, bool https, const char *domain);

#endif
