/* SPDX-License-Identifier: Apache-2.0 */
/* The user's registry settings: the configuration file (insecure
 * registries, docker.io mirrors), certs.d (extra CAs, client
 * certificates) and the proxy environment, with docker's names and rules.
 * Not here: turning them into endpoints and curl options (endpoint.c,
 * client.c). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/registry/config.h"
#include "engine/registry/registry.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define CONFIG_MAX_ENTRIES 1024u

void registry_config_free(struct registry_config *cfg)
{
    strv_free(cfg->insecure);
    strv_free(cfg->mirrors);
    free(cfg->cidrs);
    *cfg = (struct registry_config){0};
}

static char *lower(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

bool registry_cidr_parse(const char *s, struct registry_cidr *out)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strlen(slash + 1) > 3)
        return false;
    _cleanup_free_ char *addr = xstrndup(s, (size_t)(slash - s));
    struct registry_cidr c = {0};
    unsigned max;
    if (inet_pton(AF_INET, addr, c.addr) == 1) {
        c.family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
        c.family = AF_INET6;
        max = 128;
    } else {
        return false;
    }
    char *end;
    unsigned long p = strtoul(slash + 1, &end, 10);
    if (*end || !isdigit((unsigned char)slash[1]) || p > max)
        return false;
    c.prefix = (unsigned)p;
    *out = c;
    return true;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

bool registry_cidr_contains(const struct registry_cidr *c, const char *ip)
{
    unsigned char a[16];
    if (c->family == AF_INET && inet_pton(AF_INET, ip, a) == 1)
        return prefix_equal(a, c->addr, c->prefix);
    if (c->family == AF_INET6 && inet_pton(AF_INET6, ip, a) == 1)
        return prefix_equal(a, c->addr, c->prefix);
    return false;
}

/* A mirror as docker accepts it: http or https, a host, no user, path,
 * query or fragment. NULL when fine, else why not (static text). */
static const char *mirror_invalid(const char *url)
{
    const char *rest = strncmp(url, "https://", 8) == 0  ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7
                                                         : NULL;
    if (!rest)
        return "not an http:// or https:// URL";
    size_t hl = strcspn(rest, "/?#@");
    if (hl == 0)
        return "no host";
    if (rest[hl] == '@')
        return "credentials belong in the credential store, not the URL";
    if (rest[hl] && strcmp(rest + hl, "/") != 0)
        return "a path, query or fragment is not allowed";
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)rest[i]) && !strchr(".-:[]_", rest[i]))
            return "invalid host";
    return NULL;
}

/* The array of strings under key, or NULL when absent. */
static int string_array(json_t *root, const char *key, const char *path, json_t **out,
                        struct berr *e)
{
    json_t *a = json_object_get(root, key);
    *out = NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return berr_set(e, -EINVAL, "%s: \"%s\": expected an array of strings", path, key);
    if (json_array_size(a) > CONFIG_MAX_ENTRIES)
        return berr_set(e, -EINVAL, "%s: \"%s\": more than %u entries", path, key,
                        CONFIG_MAX_ENTRIES);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024)
            return berr_set(e, -EINVAL, "%s: \"%s\": entry %zu: expected a non-empty string", path,
                            key, i + 1);
    }
    *out = a;
    return 0;
}

static int parse_insecure(json_t *a, const char *path, struct registry_config *cfg, struct berr *e)
{
    static const char key[] = "insecure-registries";
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (strstr(s, "://"))
            return berr_set(e, -EINVAL,
                            "%s: \"%s\": \"%.200s\": give HOST[:PORT] or a CIDR, without a "
                            "scheme",
                            path, key, s);
        if (strchr(s, '/')) {
            struct registry_cidr c;
            if (!registry_cidr_parse(s, &c))
                return berr_set(e, -EINVAL, "%s: \"%s\": \"%.200s\" is not a valid CIDR", path, key,
                                s);
            cfg->cidrs = xreallocarray(cfg->cidrs, cfg->n_cidrs + 1, sizeof *cfg->cidrs);
            cfg->cidrs[cfg->n_cidrs++] = c;
            continue;
        }
        for (const char *p = s; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
                return berr_set(e, -EINVAL, "%s: \"%s\": \"%.200s\" is not a registry HOST[:PORT]",
                                path, key, s);
        strv_push(&cfg->insecure, lower(s));
    }
    return 0;
}

static int parse_mirrors(json_t *a, const char *path, struct registry_config *cfg, struct berr *e)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        const char *why = mirror_invalid(s);
        if (why)
            return berr_set(e, -EINVAL, "%s: \"registry-mirrors\": \"%.200s\": %s", path, s, why);
        size_t n = strlen(s);
        strv_push(&cfg->mirrors, xstrndup(s, s[n - 1] == '/' ? n - 1 : n));
    }
    return 0;
}

int registry_config_parse(const char *text, size_t len, const char *path,
                          struct registry_config *cfg, struct berr *e)
{
    *cfg = (struct registry_config){0};
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return berr_set(e, -EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    json_t *insecure = NULL, *mirrors = NULL;
    int r = json_is_object(root) ? 0 : berr_set(e, -EINVAL, "%s: expected a JSON object", path);
    if (r == 0)
        r = string_array(root, "insecure-registries", path, &insecure, e);
    if (r == 0)
        r = string_array(root, "registry-mirrors", path, &mirrors, e);
    if (r == 0 && insecure)
        r = parse_insecure(insecure, path, cfg, e);
    if (r == 0 && mirrors)
        r = parse_mirrors(mirrors, path, cfg, e);
    json_decref(root);
    if (r < 0)
        registry_config_free(cfg);
    return r;
}

int registry_config_load(struct registry_config *cfg, struct berr *e)
{
    *cfg = (struct registry_config){0};
    const char *env = getenv("BERTH_CONFIG");
    bool given = env && *env;
    const char *path = given ? env : REGISTRY_CONFIG_DEFAULT;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct berr re = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, path, REGISTRY_CONFIG_MAX, &text, &len, &re);
    if (r == -ENOENT && !given) {
        berr_clear(&re);
        return 0;
    }
    if (r < 0) {
        berr_move(e, &re);
        return berr_wrap(e, "registry configuration");
    }
    return registry_config_parse(text, len, path, cfg, e);
}

/* ---- insecure registries ---------------------------------------------- */

static bool in_cidrs(const struct registry_config *cfg, const char *ip)
{
    for (size_t i = 0; i < cfg->n_cidrs; i++)
        if (registry_cidr_contains(&cfg->cidrs[i], ip))
            return true;
    return false;
}

static bool is_address(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

bool registry_insecure_match(const struct registry_config *cfg, const char *domain,
                             char *const *addrs)
{
    if (registry_is_loopback(domain))
        return true;
    if (strcmp(domain, "docker.io") == 0) /* docker.io is always secure */
        return false;
    for (size_t i = 0; cfg->insecure && cfg->insecure[i]; i++)
        if (strcasecmp(cfg->insecure[i], domain) == 0)
            return true;
    _cleanup_free_ char *host = registry_domain_host(domain);
    if (is_address(host))
        return in_cidrs(cfg, host);
    for (size_t i = 0; addrs && addrs[i]; i++)
        if (in_cidrs(cfg, addrs[i]))
            return true;
    return false;
}

/* The addresses host resolves to, as strings. */
static char **resolve(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char **out = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return NULL;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *p = a->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        if (inet_ntop(a->ai_family, p, buf, sizeof buf))
            strv_push(&out, xstrdup(buf));
    }
    freeaddrinfo(res);
    return out;
}

bool registry_config_insecure(const struct registry_config *cfg, const char *domain)
{
    if (registry_insecure_match(cfg, domain, NULL))
        return true;
    _cleanup_free_ char *host = registry_domain_host(domain);
    if (cfg->n_cidrs == 0 || is_address(host) || strcmp(domain, "docker.io") == 0)
        return false;
    _cleanup_strv_ char **addrs = resolve(host);
    return addrs && registry_insecure_match(cfg, domain, addrs);
}

/* ---- certs.d ------------------------------------------------------------ */

const char *registry_certs_d(void)
{
    const char *d = getenv("BERTH_CERTS_D");
    return d && *d ? d : REGISTRY_CERTS_D_DEFAULT;
}

void registry_tls_free(struct registry_tls *t)
{
    free(t->ca_pem);
    free(t->cert);
    free(t->key);
    free(t->dir);
    *t = (struct registry_tls){0};
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void append(struct registry_tls *t, const char *buf, size_t len)
{
    t->ca_pem = xrealloc(t->ca_pem, t->ca_len + len + 2);
    memcpy(t->ca_pem + t->ca_len, buf, len);
    t->ca_len += len;
    t->ca_pem[t->ca_len++] = '\n';
    t->ca_pem[t->ca_len] = '\0';
}

/* The client certificate: each *.cert needs its *.key and the other way
 * round (docker's rule); the first pair is used. */
static int client_cert(struct registry_tls *t, char **names, struct berr *e)
{
    for (size_t i = 0; names[i]; i++) {
        bool cert = ends_with(names[i], ".cert"), key = ends_with(names[i], ".key");
        if (!cert && !key)
            continue;
        size_t stem = strlen(names[i]) - (cert ? 5 : 4);
        _cleanup_free_ char *other =
            xasprintf("%.*s%s", (int)stem, names[i], cert ? ".key" : ".cert");
        if (!strv_contains(names, other))
            return berr_set(e, -ENOENT, "%s/%s: missing %s %s/%s", t->dir, names[i],
                            cert ? "key" : "client certificate", t->dir, other);
        if (cert && !t->cert) {
            t->cert = fs_path_join(t->dir, names[i]);
            t->key = fs_path_join(t->dir, other);
        }
    }
    return 0;
}

int registry_tls_load(const char *domain, const char *cafile, struct registry_tls *t,
                      struct berr *e)
{
    *t = (struct registry_tls){0};
    if (!*domain || strchr(domain, '/') || strcmp(domain, ".") == 0 || strcmp(domain, "..") == 0)
        return 0;
    t->dir = fs_path_join(registry_certs_d(), domain);
    _cleanup_close_ int dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0; /* no directory: the system CAs alone */
    _cleanup_strv_ char **names = fs_list_names(dfd, false);
    size_t n = strv_len(names);
    if (n > REGISTRY_CERTS_MAX_FILES)
        return berr_set(e, -E2BIG, "%s: more than %u files", t->dir, REGISTRY_CERTS_MAX_FILES);
    if (n > 1)
        xqsort(names, n, sizeof *names, cmp_str);
    int r;
    for (size_t i = 0; i < n; i++) {
        if (!ends_with(names[i], ".crt"))
            continue;
        if (!t->ca_pem && cafile) { /* the system's CAs come first */
            _cleanup_free_ char *sys = NULL;
            size_t sl = 0;
            if (fs_read_file(AT_FDCWD, cafile, 16u * REGISTRY_CERT_MAX, &sys, &sl, NULL) == 0)
                append(t, sys, sl);
        }
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        if ((r = fs_read_file(dfd, names[i], REGISTRY_CERT_MAX, &pem, &len, e)) < 0)
            return berr_wrap(e, "%s", t->dir);
        append(t, pem, len);
    }
    return client_cert(t, names, e);
}

/* ---- proxies ------------------------------------------------------------ */

static const char *env_any(const char *upper, const char *lower_name)
{
    const char *v = getenv(upper);
    if (v && *v)
        return v;
    v = getenv(lower_name);
    return v && *v ? v : NULL;
}

void registry_proxy_env_get(struct registry_proxy_env *p)
{
    p->https = env_any("HTTPS_PROXY", "https_proxy");
    p->http = env_any("HTTP_PROXY", "http_proxy");
    p->no = env_any("NO_PROXY", "no_proxy");
}

/* One NO_PROXY entry against host:port (host lowercase, no brackets). */
static bool no_proxy_entry(const char *entry, const char *host, const char *port)
{
    if (strcmp(entry, "*") == 0)
        return true;
    struct registry_cidr c;
    if (strchr(entry, '/'))
        return registry_cidr_parse(entry, &c) && registry_cidr_contains(&c, host);
    _cleanup_free_ char *ehost = registry_domain_host(entry);
    const char *eport = NULL;
    if (entry[0] == '[') {
        const char *end = strchr(entry, ']');
        eport = end && end[1] == ':' ? end + 2 : NULL;
    } else if (strchr(entry, ':') == strrchr(entry, ':')) { /* not a bare IPv6 address */
        const char *colon = strchr(entry, ':');
        eport = colon ? colon + 1 : NULL;
    } else {
        free(ehost);
        ehost = xstrdup(entry);
    }
    if (eport && strcmp(eport, port) != 0)
        return false;
    unsigned char a[16], b[16];
    int fam = strchr(ehost, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, ehost, a) == 1)
        return inet_pton(fam, host, b) == 1 && memcmp(a, b, fam == AF_INET ? 4 : 16) == 0;
    const char *d = ehost;
    if (strncmp(d, "*.", 2) == 0)
        d++;
    size_t hl = strlen(host), dl = strlen(d);
    if (d[0] == '.') /* subdomains only */
        return hl > dl && strcasecmp(host + hl - dl, d) == 0;
    return strcasecmp(host, d) == 0 ||
           (hl > dl && host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, d) == 0);
}

bool registry_no_proxy_match(const char *no_proxy, const char *host, const char *port)
{
    if (!no_proxy)
        return false;
    _cleanup_free_ char *list = xstrdup(no_proxy);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        if (n && no_proxy_entry(tok, host, port))
            return true;
    }
    return false;
}

const char *registry_proxy_for(const struct registry_proxy_env *p, bool https, const char *domain)
{
    const char *proxy = https ? p->https : p->http;
    if (!proxy || registry_is_loopback(domain))
        return NULL;
    _cleanup_free_ char *host = registry_domain_host(domain);
    const char *port = https ? "443" : "80";
    const char *end = domain[0] == '[' ? strchr(domain, ']') : domain;
    const char *colon = end ? strchr(end, ':') : NULL;
    if (colon)
        port = colon + 1;
    _cleanup_free_ char *lhost = lower(host);
    return registry_no_proxy_match(p->no, lhost, port) ? NULL : proxy;
}
