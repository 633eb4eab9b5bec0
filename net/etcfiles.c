/* SPDX-License-Identifier: Apache-2.0 */
/* A container's /etc/resolv.conf, /etc/hosts and /etc/hostname as text,
 * and the embedded DNS server's upstream list (net/etcfiles.h). Not here:
 * writing the files into a container, the DNS server, choosing addresses. */
#include "net/etcfiles.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define RESOLV_MAX_BYTES (1024 * 1024)
#define HOSTNAME_MAX     64

const char *const net_dns_fallback_v4[] = {"8.8.8.8", "8.8.4.4", NULL};
const char *const net_dns_fallback_v6[] = {"2001:4860:4860::8888", "2001:4860:4860::8844", NULL};

void net_resolv_free(struct net_resolv *rc)
{
    strv_free(rc->nameservers);
    strv_free(rc->search);
    strv_free(rc->options);
    *rc = (struct net_resolv){0};
}

/* A word separator: space and tab as glibc, and the other whitespace bytes
 * (a CRLF file's '\r') so none reaches a container's file inside a word. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* An IPv4 or IPv6 address; a "%scope" after an IPv6 one is allowed when
 * scope is true. *v6 (may be NULL) says which. */
static bool parse_addr(const char *s, bool scope, bool *v6, unsigned char buf[16])
{
    unsigned char tmp[16];
    if (!buf)
        buf = tmp;
    if (inet_pton(AF_INET, s, buf) == 1) {
        if (v6)
            *v6 = false;
        return true;
    }
    char a[INET6_ADDRSTRLEN + 1];
    size_t n = strcspn(s, scope ? "%" : "");
    if (n >= sizeof a || (s[n] == '%' && s[n + 1] == '\0'))
        return false;
    memcpy(a, s, n);
    a[n] = '\0';
    if (inet_pton(AF_INET6, a, buf) != 1)
        return false;
    if (v6)
        *v6 = true;
    return true;
}

static bool is_addr(const char *s)
{
    return parse_addr(s, false, NULL, NULL);
}

static int check_addrs(char *const *v, const char *key, struct berr *e);

static bool is_loopback(const char *s)
{
    unsigned char b[16];
    bool v6;
    if (!parse_addr(s, true, &v6, b))
        return false;
    static const unsigned char lo6[16] = {[15] = 1};
    return v6 ? memcmp(b, lo6, 16) == 0 : b[0] == 127;
}

/* The words of one line after its keyword (space or tab separated). */
static char **words(const char *p, size_t n)
{
    char **v = xcalloc(1, sizeof *v);
    size_t i = 0;
    while (i < n) {
        while (i < n && is_blank(p[i]))
            i++;
        size_t s = i;
        while (i < n && !is_blank(p[i]))
            i++;
        if (i > s)
            strv_push(&v, xstrndup(p + s, i - s));
    }
    return v;
}

static bool keyword(const char *line, size_t n, const char *kw, size_t *rest)
{
    size_t k = strlen(kw);
    if (n <= k || strncmp(line, kw, k) != 0 || !is_blank(line[k]))
        return false;
    *rest = k;
    return true;
}

static void parse_line(struct net_resolv *rc, const char *line, size_t n)
{
    size_t k;
    if (keyword(line, n, "nameserver", &k)) {
        _cleanup_strv_ char **w = words(line + k, n - k);
        if (w[0] && parse_addr(w[0], true, NULL, NULL) &&
            strv_len(rc->nameservers) < NET_RESOLV_MAXNS)
            strv_push(&rc->nameservers, xstrdup(w[0]));
    } else if (keyword(line, n, "search", &k) || keyword(line, n, "domain", &k)) {
        char **w = words(line + k, n - k);
        if (line[0] == 'd' && w[0]) { /* domain: one name, the search list */
            for (size_t i = 1; w[i]; i++) {
                free(w[i]);
                w[i] = NULL;
            }
        }
        strv_free(rc->search);
        rc->search = w;
    } else if (keyword(line, n, "options", &k)) {
        _cleanup_strv_ char **w = words(line + k, n - k);
        for (size_t i = 0; w[i]; i++)
            strv_push(&rc->options, TAKE_PTR(w[i]));
    }
}

int net_resolv_parse(const char *text, struct net_resolv *out)
{
    *out = (struct net_resolv){xcalloc(1, sizeof(char *)), xcalloc(1, sizeof(char *)),
                               xcalloc(1, sizeof(char *))};
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        parse_line(out, p, n); /* a comment line starts with no keyword */
        p += n + (p[n] == '\n');
    }
    return 0;
}

bool net_resolv_is_resolved_stub(const struct net_resolv *rc)
{
    if (!rc->nameservers || !rc->nameservers[0])
        return false;
    for (size_t i = 0; rc->nameservers[i]; i++)
        if (strcmp(rc->nameservers[i], "127.0.0.53") != 0 &&
            strcmp(rc->nameservers[i], "127.0.0.54") != 0)
            return false;
    return true;
}

int net_resolv_load(const char *host_path, const char *resolved_path, struct net_resolv *out,
                    char **text_out, const char **path_out, struct berr *e)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = fs_read_file(AT_FDCWD, host_path, RESOLV_MAX_BYTES, &text, &len, e);
    if (r < 0)
        return berr_wrap(e, "reading the host's DNS configuration %s", host_path);
    _cleanup_resolv_ struct net_resolv rc = {0};
    net_resolv_parse(text, &rc);
    const char *path = host_path;
    _cleanup_free_ char *real = NULL;
    if (resolved_path && net_resolv_is_resolved_stub(&rc) &&
        fs_read_file(AT_FDCWD, resolved_path, RESOLV_MAX_BYTES, &real, &len, NULL) == 0) {
        net_resolv_free(&rc);
        net_resolv_parse(real, &rc);
        free(text);
        text = TAKE_PTR(real);
        path = resolved_path;
    }
    *out = rc;
    rc = (struct net_resolv){0};
    if (text_out)
        *text_out = TAKE_PTR(text);
    if (path_out)
        *path_out = path;
    return 0;
}

int net_dns_upstreams(const struct net_resolv *host, char *const *dns, bool ipv6, char ***out,
                      struct berr *e)
{
    _cleanup_strv_ char **v = xcalloc(1, sizeof *v);
    if (dns && dns[0]) {
        int r = check_addrs(dns, "dns", e);
        if (r < 0)
            return r;
        for (size_t i = 0; dns[i]; i++)
            strv_push(&v, xstrdup(dns[i]));
    } else {
        for (size_t i = 0; host && host->nameservers && host->nameservers[i]; i++)
            if (!is_loopback(host->nameservers[i]))
                strv_push(&v, xstrdup(host->nameservers[i]));
        if (!v[0]) {
            for (size_t i = 0; net_dns_fallback_v4[i]; i++)
                strv_push(&v, xstrdup(net_dns_fallback_v4[i]));
            for (size_t i = 0; ipv6 && net_dns_fallback_v6[i]; i++)
                strv_push(&v, xstrdup(net_dns_fallback_v6[i]));
        }
    }
    *out = TAKE_PTR(v);
    return 0;
}

/* s shown on one line for an error: control bytes as \n, \t or \xNN. */
static char *shown(const char *s)
{
    char *out = xmalloc(4 * strlen(s) + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n')
            o += sprintf(o, "\\n");
        else if (*p == '\t')
            o += sprintf(o, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            o += sprintf(o, "\\x%02x", *p);
        else
            *o++ = (char)*p;
    }
    *o = '\0';
    return out;
}

/* One word of a generated line: not empty, no whitespace, no control byte. */
static bool is_word(const char *s)
{
    if (!*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int check_words(char *const *v, const char *key, struct berr *e)
{
    for (size_t i = 0; v && v[i]; i++) {
        if (!is_word(v[i])) {
            _cleanup_free_ char *s = shown(v[i]);
            return berr_set(e, -EINVAL, "%s entry \"%s\" is empty or has whitespace", key, s);
        }
    }
    return 0;
}

static int check_addrs(char *const *v, const char *key, struct berr *e)
{
    for (size_t i = 0; v && v[i]; i++) {
        if (!is_addr(v[i])) {
            _cleanup_free_ char *s = shown(v[i]);
            return berr_set(e, -EINVAL, "%s entry \"%s\" is not an IPv4 or IPv6 address", key, s);
        }
    }
    return 0;
}

static size_t opt_name_len(const char *o)
{
    return strcspn(o, ":");
}

/* The host's options, each dns_opt replacing the one of its name in place
 * or appended. */
static char **merge_options(char *const *host, char *const *add)
{
    char **v = strv_dup(host ? host : (char *const[]){NULL});
    for (size_t i = 0; add && add[i]; i++) {
        size_t n = opt_name_len(add[i]), j;
        for (j = 0; v[j]; j++)
            if (opt_name_len(v[j]) == n && strncmp(v[j], add[i], n) == 0)
                break;
        if (v[j]) {
            free(v[j]);
            v[j] = xstrdup(add[i]);
        } else {
            strv_push(&v, xstrdup(add[i]));
        }
    }
    return v;
}

static void put_list(FILE *f, const char *kw, char *const *v)
{
    if (!v || !v[0])
        return;
    fputs(kw, f);
    for (size_t i = 0; v[i]; i++)
        fprintf(f, " %s", v[i]);
    fputc('\n', f);
}

static char *close_stream(FILE *f, char **buf)
{
    fclose(f);
    return TAKE_PTR(*buf);
}

int net_resolv_render(const struct net_resolv *host, const char *host_text,
                      const struct net_resolv_spec *spec, char **out, struct berr *e)
{
    if (spec->mode == NET_RESOLV_HOST && !spec->dns && !spec->dns_search && !spec->dns_opt &&
        host_text) {
        *out = xstrdup(host_text);
        return 0;
    }
    if (spec->mode == NET_RESOLV_BRIDGE && (!spec->embedded_dns || !is_addr(spec->embedded_dns)))
        return berr_set(e, -EINVAL, "the embedded DNS address \"%s\" is not an IP address",
                        spec->embedded_dns ? spec->embedded_dns : "");
    int r;
    if ((r = check_addrs(spec->dns, "dns", e)) < 0 ||
        (r = check_words(spec->dns_search, "dns_search", e)) < 0 ||
        (r = check_words(spec->dns_opt, "dns_opt", e)) < 0)
        return r;
    _cleanup_strv_ char **opts = merge_options(host ? host->options : NULL, spec->dns_opt);
    char *const *search = spec->dns_search ? spec->dns_search : host ? host->search : NULL;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return berr_errno(e, errno, "generating resolv.conf");
    if (spec->mode == NET_RESOLV_BRIDGE) {
        fprintf(f, "nameserver %s\n", spec->embedded_dns);
    } else if (spec->mode == NET_RESOLV_HOST) {
        char *const *ns = spec->dns ? spec->dns : host ? host->nameservers : NULL;
        for (size_t i = 0; ns && ns[i]; i++)
            fprintf(f, "nameserver %s\n", ns[i]);
    }
    put_list(f, "search", search);
    put_list(f, "options", opts);
    *out = close_stream(f, &buf);
    return 0;
}

/* Splits an extra_hosts entry ("name=ip", else "name:ip" at the first
 * colon, an IPv6 address maybe in brackets) into *name and *addr. */
static int extra_host(const char *entry, const char *gateway, char **name, char **addr,
                      struct berr *e)
{
    _cleanup_free_ char *s = shown(entry);
    size_t n = strcspn(entry, "=");
    if (!entry[n])
        n = strcspn(entry, ":");
    if (!entry[n] || !entry[n + 1])
        return berr_set(e, -EINVAL, "extra_hosts entry \"%s\" has no address", s);
    _cleanup_free_ char *nm = xstrndup(entry, n);
    const char *a = entry + n + 1;
    size_t alen = strlen(a);
    if (alen > 2 && a[0] == '[' && a[alen - 1] == ']')
        a++, alen -= 2;
    _cleanup_free_ char *ad = xstrndup(a, alen);
    if (!is_word(nm))
        return berr_set(e, -EINVAL, "extra_hosts entry \"%s\": the name is empty or has whitespace",
                        s);
    if (strcmp(ad, "host-gateway") == 0) {
        if (!gateway)
            return berr_set(e, -EINVAL,
                            "extra_hosts entry \"%s\": no host-gateway address on this network", s);
        free(ad);
        ad = xstrdup(gateway);
    }
    if (!is_addr(ad))
        return berr_set(e, -EINVAL, "extra_hosts entry \"%s\": the address is not IPv4 or IPv6", s);
    *name = TAKE_PTR(nm);
    *addr = TAKE_PTR(ad);
    return 0;
}

static int check_hostname(const char *h, struct berr *e)
{
    if (!h || !is_word(h) || strlen(h) > HOSTNAME_MAX || strchr(h, '/')) {
        _cleanup_free_ char *s = shown(h ? h : "");
        return berr_set(e, -EINVAL,
                        "hostname \"%s\" is not valid (1-%d bytes, no whitespace or '/')", s,
                        HOSTNAME_MAX);
    }
    return 0;
}

static const char hosts_localhost[] = "127.0.0.1\tlocalhost\n"
                                      "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                      "fe00::0\tip6-localnet\n"
                                      "ff00::0\tip6-mcastprefix\n"
                                      "ff02::1\tip6-allnodes\n"
                                      "ff02::2\tip6-allrouters\n";

int net_hosts_render(const struct net_hosts_spec *spec, char **out, struct berr *e)
{
    int r = check_hostname(spec->hostname, e);
    if (r < 0)
        return r;
    const char *dom = spec->domainname && *spec->domainname ? spec->domainname : NULL;
    if (dom && (!is_word(dom) || strchr(dom, '/'))) {
        _cleanup_free_ char *s = shown(dom);
        return berr_set(e, -EINVAL, "domainname \"%s\" is not valid (no whitespace or '/')", s);
    }
    if (spec->addr && !is_addr(spec->addr))
        return berr_set(e, -EINVAL, "the container's address \"%s\" is not an IP address",
                        spec->addr);
    _cleanup_strv_ char **lines = xcalloc(1, sizeof *lines);
    for (size_t i = 0; spec->extra_hosts && spec->extra_hosts[i]; i++) {
        _cleanup_free_ char *name = NULL, *addr = NULL;
        if ((r = extra_host(spec->extra_hosts[i], spec->host_gateway, &name, &addr, e)) < 0)
            return r;
        strv_push(&lines, xasprintf("%s\t%s\n", addr, name));
    }
    if (spec->addr6 && !is_addr(spec->addr6))
        return berr_set(e, -EINVAL, "the container's address \"%s\" is not an IP address",
                        spec->addr6);
    const char *own[] = {spec->addr, spec->addr6};
    for (size_t i = 0; i < 2; i++) {
        if (!own[i])
            continue;
        if (dom)
            strv_push(&lines,
                      xasprintf("%s\t%s.%s %s\n", own[i], spec->hostname, dom, spec->hostname));
        else
            strv_push(&lines, xasprintf("%s\t%s\n", own[i], spec->hostname));
    }
    _cleanup_free_ char *rest = strv_join(lines, "");
    const char *base = spec->base ? spec->base : hosts_localhost;
    size_t blen = strlen(base);
    *out = xasprintf("%s%s%s", base, blen && base[blen - 1] != '\n' ? "\n" : "", rest);
    return 0;
}

int net_hostname_render(const char *hostname, char **out, struct berr *e)
{
    int r = check_hostname(hostname, e);
    if (r < 0)
        return r;
    *out = xasprintf("%s\n", hostname);
    return 0;
}
