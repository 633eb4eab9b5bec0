/* SPDX-License-Identifier: Apache-2.0 */
/* Where a registry answers and how it is spoken to: pure string logic, no
 * network. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "engine/image/manifest.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

const char registry_manifest_accept[] =
    "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

/* The host part of domain, without port or brackets. Heap string. */
static char *domain_host(const char *domain)
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
    _cleanup_free_ char *host = domain_host(domain);
    if (strcmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    struct in6_addr a6;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

char *registry_base_url(const char *domain, bool *plain_http)
{
    *plain_http = registry_is_loopback(domain);
    if (strcmp(domain, "docker.io") == 0)
        return xstrdup("https://" REGISTRY_DOCKER_HUB);
    return xasprintf("%s://%s", *plain_http ? "http" : "https", domain);
}

bool registry_pull_supported(const char *domain, const char **missing)
{
    if (registry_is_loopback(domain))
        return true;
    if (missing)
        *missing = "pulling over HTTPS with token authentication (as docker.io and most "
                   "registries need) is not supported yet";
    return false;
}
