/* SPDX-License-Identifier: Apache-2.0 */
/* Where a registry answers and how it is spoken to: the endpoints a pull
 * tries in order (docker.io's mirrors, then docker.io; HTTPS, verified
 * unless the registry is insecure). No network but the resolution of a
 * name checked against insecure CIDRs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "engine/image/manifest.h"
#include "engine/registry/config.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

const char registry_manifest_accept[] =
    "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

char *registry_domain_host(const char *domain)
{
    if (domain[0] == '[') {
        const char *end = strchr(domain, ']');
        return end ? xstrndup(domain + 1, (size_t)(end - domain - 1)) : xstrdup(domain);
    }
    const char *colon = strchr(domain, ':');
    return colon ? xstrndup(domain, (size_t)(colon - domain)) : xstrdup(domain);
}

bool registry_is_loopback(const char *domain)
{
    _cleanup_free_ char *host = registry_domain_host(domain);
    if (strcmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

void registry_endpoints_free(struct registry_endpoint *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].base);
        free(v[i].host);
    }
    free(v);
}

static void add(struct registry_endpoint **v, size_t *n, char *base, bool verify, bool fallback,
                bool mirror)
{
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    const char *host = strstr(base, "://") + 3;
    (*v)[(*n)++] = (struct registry_endpoint){.base = base,
                                              .host = xstrdup(host),
                                              .plain_http = strncmp(base, "http:", 5) == 0,
                                              .verify = verify,
                                              .http_fallback = fallback,
                                              .mirror = mirror};
}

size_t registry_endpoints(const struct registry_config *cfg, const char *domain,
                          struct registry_endpoint **out)
{
    struct registry_endpoint *v = NULL;
    size_t n = 0;
    if (strcmp(domain, "docker.io") == 0) {
        for (size_t i = 0; cfg->mirrors && cfg->mirrors[i]; i++) {
            const char *m = cfg->mirrors[i];
            bool insecure = strncmp(m, "https:", 6) == 0 && registry_config_insecure(cfg, m + 8);
            add(&v, &n, xstrdup(m), !insecure, false, true);
        }
        add(&v, &n, xstrdup("https://" REGISTRY_DOCKER_HUB), true, false, false);
    } else {
        /* Insecure (loopback included, as docker): HTTPS without
         * verification first, then plain HTTP. */
        bool insecure = registry_config_insecure(cfg, domain);
        add(&v, &n, xasprintf("https://%s", domain), !insecure, insecure, false);
    }
    *out = v;
    return n;
}

bool registry_pull_supported(const char *domain, const char **missing)
{
    (void)domain;
    (void)missing;
    return true;
}
