/* SPDX-License-Identifier: Apache-2.0 */
/* Parsers for compose's short syntaxes: volume specs, restart policies, port
 * ranges, expose entries. Pure string functions that hand back an error
 * text, not a diagnostic. Not here: turning them into long-syntax nodes
 * (compose/canon.c) or model fields (compose/model_run.c). */
#include "compose/syntax.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/units.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

bool is_propagation_mode(const char *s)
{
    static const char *const modes[] = {"shared",  "rshared",  "slave", "rslave",
                                        "private", "rprivate", NULL};
    return one_of(s, modes);
}

static bool is_consistency(const char *s)
{
    static const char *const modes[] = {"consistent", "cached", "delegated", NULL};
    return one_of(s, modes);
}

void volume_spec_free(struct volume_spec *v)
{
    free(v->type);
    free(v->source);
    free(v->target);
    free(v->selinux);
    free(v->propagation);
    free(v->consistency);
    *v = (struct volume_spec){0};
}

static int volume_options(const char *opts, struct volume_spec *v, const char **err)
{
    _cleanup_free_ char *copy = xstrdup(opts);
    char *save = NULL;
    for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        if (strcmp(o, "ro") == 0)
            v->read_only = true;
        else if (strcmp(o, "rw") == 0)
            v->read_only = false;
        else if (strcmp(o, "nocopy") == 0)
            v->nocopy = true;
        else if (strcmp(o, "z") == 0 || strcmp(o, "Z") == 0) {
            free(v->selinux);
            v->selinux = xstrdup(o);
        } else if (is_propagation_mode(o)) {
            free(v->propagation);
            v->propagation = xstrdup(o);
        } else if (is_consistency(o)) {
            free(v->consistency);
            v->consistency = xstrdup(o);
        } else {
            *err = "unknown option (use ro, rw, z, Z, nocopy, a propagation mode such as "
                   "rshared, or cached, delegated, consistent)";
            return -EINVAL;
        }
    }
    return 0;
}

int volume_spec_parse(const char *s, struct volume_spec *out, const char **err)
{
    *out = (struct volume_spec){0};
    if (!*s) {
        *err = "empty volume specification";
        return -EINVAL;
    }
    const char *c1 = strchr(s, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && strchr(c2 + 1, ':')) {
        *err = "too many colons (use SOURCE:TARGET[:OPTIONS])";
        return -EINVAL;
    }
    if (!c1) {
        out->target = xstrdup(s);
    } else {
        out->source = xstrndup(s, (size_t)(c1 - s));
        out->target = c2 ? xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : xstrdup(c1 + 1);
        if (c2 && volume_options(c2 + 1, out, err) < 0) {
            volume_spec_free(out);
            return -EINVAL;
        }
        if (!*out->source) {
            *err = "empty source before \":\"";
            volume_spec_free(out);
            return -EINVAL;
        }
    }
    if (!*out->target) {
        *err = "empty target path";
        volume_spec_free(out);
        return -EINVAL;
    }
    const char *src = out->source;
    bool bind = src && (src[0] == '.' || src[0] == '/' || src[0] == '~');
    out->type = xstrdup(bind ? "bind" : "volume");
    return 0;
}

int restart_spec_parse(const char *s, enum restart_policy *policy, int64_t *retries)
{
    *retries = 0;
    if (strcmp(s, "no") == 0 || strcmp(s, "") == 0)
        *policy = RESTART_NO;
    else if (strcmp(s, "always") == 0)
        *policy = RESTART_ALWAYS;
    else if (strcmp(s, "unless-stopped") == 0)
        *policy = RESTART_UNLESS_STOPPED;
    else if (strcmp(s, "on-failure") == 0)
        *policy = RESTART_ON_FAILURE;
    else if (strncmp(s, "on-failure:", 11) == 0) {
        const char *n = s + 11;
        if (!*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 9)
            return -EINVAL;
        *policy = RESTART_ON_FAILURE;
        *retries = strtoll(n, NULL, 10);
    } else
        return -EINVAL;
    return 0;
}

/* "80" or "80-90": 0 or -EINVAL. */
static int port_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    const char *parts[2] = {buf, dash ? dash + 1 : buf};
    unsigned v[2];
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i];
        if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5)
            return -EINVAL;
        v[i] = (unsigned)strtoul(p, NULL, 10);
        if (v[i] > 65535)
            return -EINVAL;
    }
    if (v[1] < v[0])
        return -EINVAL;
    *lo = v[0];
    *hi = v[1];
    return 0;
}

static int cmp_port_key(const void *a, const void *b)
{
    const struct port_entry *x = a, *y = b;
    char kx[32], ky[32];
    snprintf(kx, sizeof kx, "%u/%s", x->target, x->protocol);
    snprintf(ky, sizeof ky, "%u/%s", y->target, y->protocol);
    return strcmp(kx, ky);
}

long port_spec_parse(const char *s, struct port_entry *out, long max, const char **err)
{
    char proto[8] = "tcp";
    const char *slash = strrchr(s, '/');
    size_t body_len = slash ? (size_t)(slash - s) : strlen(s);
    if (slash) {
        const char *p = slash + 1;
        if (strcmp(p, "tcp") && strcmp(p, "udp") && strcmp(p, "sctp")) {
            *err = "invalid protocol (use tcp, udp or sctp)";
            return -EINVAL;
        }
        snprintf(proto, sizeof proto, "%s", p);
    }
    /* Split on ':' from the right: container, host port, and the rest is
     * the IP (which may itself hold colons: IPv6). */
    const char *end = s + body_len;
    const char *c_last = NULL, *c_prev = NULL;
    for (const char *q = s; q < end; q++)
        if (*q == ':') {
            c_prev = c_last;
            c_last = q;
        }
    const char *cport = c_last ? c_last + 1 : s;
    size_t cport_len = (size_t)(end - cport);
    const char *hport = NULL;
    size_t hport_len = 0;
    char ip[64] = "";
    if (c_last) {
        hport = c_prev ? c_prev + 1 : s;
        hport_len = (size_t)(c_last - hport);
        if (c_prev) {
            size_t iplen = (size_t)(c_prev - s);
            const char *ips = s;
            if (iplen >= 2 && ips[0] == '[' && ips[iplen - 1] == ']') {
                ips++;
                iplen -= 2;
            }
            if (iplen >= sizeof ip) {
                *err = "invalid host IP";
                return -EINVAL;
            }
            memcpy(ip, ips, iplen);
            ip[iplen] = '\0';
            unsigned char buf[16];
            if (*ip && inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1) {
                *err = "invalid host IP";
                return -EINVAL;
            }
        }
    }
    unsigned clo, chi, hlo = 0, hhi = 0;
    if (port_range(cport, cport_len, &clo, &chi) < 0 || clo == 0) {
        *err = "invalid container port (use a number from 1 to 65535, or a range such as "
               "8000-8010)";
        return -EINVAL;
    }
    if (hport_len && port_range(hport, hport_len, &hlo, &hhi) < 0) {
        *err = "invalid host port (use a number from 0 to 65535, or a range such as 8000-8010)";
        return -EINVAL;
    }
    bool host_range_one = false;
    if (hport_len && hhi - hlo != chi - clo) {
        if (chi != clo) {
            *err = "the host and container port ranges have different lengths";
            return -EINVAL;
        }
        host_range_one = true;
    }
    long n = (long)(chi - clo) + 1;
    if (n > max)
        return -E2BIG;
    for (long i = 0; i < n; i++) {
        struct port_entry *e = &out[i];
        memset(e, 0, sizeof *e);
        memcpy(e->host_ip, ip, sizeof ip); /* both NUL-terminated within their size */
        memcpy(e->protocol, proto, sizeof proto);
        e->target = clo + (unsigned)i;
        if (!hport_len)
            e->published[0] = '\0';
        else if (host_range_one)
            snprintf(e->published, sizeof e->published, "%u-%u", hlo, hhi);
        else
            format_int(e->published, hlo + (unsigned)i); /* at most 5 digits */
    }
    /* docker orders the entries of one spec by their "port/proto" text. */
    if (n > 1)
        qsort(out, (size_t)n, sizeof *out, cmp_port_key);
    return n;
}

bool expose_spec_valid(const char *s)
{
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if (slash && strcmp(slash + 1, "tcp") && strcmp(slash + 1, "udp") && strcmp(slash + 1, "sctp"))
        return false;
    unsigned lo, hi;
    return port_range(s, len, &lo, &hi) == 0;
}
