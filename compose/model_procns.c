/* SPDX-License-Identifier: Apache-2.0 */
/* The process-limit, kernel-setting and namespace keys of the typed model:
 * ulimits, sysctls, pid, ipc, uts, cgroup and cgroup_parent, checked with
 * Docker's rules ("file:line:col: service "web": key: message"), and the
 * checks between them and other keys (uts: host with hostname, a net.*
 * sysctl with network_mode: host). Not here: the services that pid: and
 * ipc: service:NAME refer to (compose/validate.c, and the dependency they
 * imply: compose/normalize.c); anything done at run time (engine/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/internal.h"
#include "compose/model_internal.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/rlimits.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* A value left as written by `config --no-interpolate`: it can't be
 * checked, and nothing runs from such a project. */
static bool raw(const struct model *m, const struct ynode *v)
{
    return v && m->p->tree && !m->p->tree->interpolated && v->kind == YNODE_SCALAR &&
           memchr(v->str, '$', v->len);
}

/* One ulimit value: a whole number, -1 for unlimited. */
static int ulimit_value(struct model *m, struct service *s, const char *name, const struct ynode *v,
                        int64_t *out)
{
    if (raw(m, v))
        return -EAGAIN;
    int64_t n;
    if (want_int(m, s, "ulimits", v, INT64_MIN, &n) < 0)
        return -EINVAL;
    if (n < ULIMIT_UNLIMITED) {
        svc_error(m, s, v, "ulimits",
                  "%s: invalid value %lld (a limit is 0 or more, or -1 for "
                  "unlimited)",
                  name, (long long)n);
        return -EINVAL;
    }
    *out = n;
    return 0;
}

/* soft <= hard, with -1 (unlimited) above every number. */
static bool ulimit_le(int64_t a, int64_t b)
{
    if (b == ULIMIT_UNLIMITED)
        return true;
    return a != ULIMIT_UNLIMITED && a <= b;
}

void key_ulimits(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "ulimits", "expected a mapping of limit names, got %s",
                  ynode_describe(v));
        return;
    }
    s->ulimits = xcalloc(v->n_pairs + 1, sizeof *s->ulimits);
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (rlimit_by_name(k->str) < 0) {
            svc_error(m, s, k, "ulimits",
                      "unknown limit %s (Docker's are core, cpu, data, fsize, locks, memlock, "
                      "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack, as)",
                      QN(k));
            continue;
        }
        int64_t soft = 0, hard = 0;
        if (val->kind == YNODE_MAP) {
            const struct ynode *sn = ymap_get(val, "soft"), *hn = ymap_get(val, "hard");
            if (!sn || !hn) {
                svc_error(m, s, val, "ulimits", "%s: needs both soft and hard", k->str);
                continue;
            }
            int a = ulimit_value(m, s, k->str, sn, &soft),
                b = ulimit_value(m, s, k->str, hn, &hard);
            if (a < 0 || b < 0)
                continue;
        } else {
            if (ulimit_value(m, s, k->str, val, &soft) < 0)
                continue;
            hard = soft;
        }
        if (!ulimit_le(soft, hard)) {
            svc_error(m, s, val, "ulimits", "%s: the soft limit %lld is above the hard limit %lld",
                      k->str, (long long)soft, (long long)hard);
            continue;
        }
        struct svc_ulimit *u = &s->ulimits[s->n_ulimits++];
        u->name = xstrdup(k->str);
        u->soft = soft;
        u->hard = hard;
        u->pos = pos_of(m, k);
        if (m->p->file_names && m->p->file_names[k->src->index])
            u->pos.file = m->p->file_names[k->src->index];
    }
}

/* Docker's rule (opts.ValidateSysctl, runc's validator): only settings
 * that live in a namespace the container has of its own. Returns NULL
 * when key is allowed, else why not. *ipc / *net say which namespace it
 * is in. */
static const char *sysctl_refusal(const char *key, bool *ipc, bool *net)
{
    static const char *const ipc_exact[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem", "kernel.shmall",
        "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
    *ipc = *net = false;
    if (strcmp(key, "kernel.hostname") == 0)
        return "it is the container's host name: use the hostname key";
    if (strcmp(key, "kernel.domainname") == 0)
        return "it is the container's domain name: use the domainname key";
    for (const char *const *p = ipc_exact; *p; p++)
        if (strcmp(key, *p) == 0) {
            *ipc = true;
            return NULL;
        }
    if (strncmp(key, "fs.mqueue.", 10) == 0 && key[10]) {
        *ipc = true;
        return NULL;
    }
    if (strncmp(key, "net.", 4) == 0 && key[4]) {
        *net = true;
        return NULL;
    }
    return "it is not namespaced: it would change the host's setting (only net.*, "
           "kernel.msg*, kernel.sem, kernel.shm* and fs.mqueue.* are allowed, as in Docker)";
}

/* A sysctl name: dot-separated words of [A-Za-z0-9_-] (an interface
 * name may hold more, but never "/" or ".." that would leave /proc/sys). */
static bool sysctl_name_ok(const char *k)
{
    if (!*k || *k == '.' || k[strlen(k) - 1] == '.' || strstr(k, ".."))
        return false;
    for (const char *c = k; *c; c++)
        if (*c == '/' || *c == ' ' || *c == '=' || (unsigned char)*c < 0x21)
            return false;
    return true;
}

void key_sysctls(struct model *m, struct service *s, const struct ypair *kv)
{
    const struct ynode *v = kv->value;
    if (ynode_is_null(v))
        return;
    if (v->kind != YNODE_MAP) {
        svc_error(m, s, v, "sysctls",
                  "expected a mapping or a list of \"KEY=VALUE\" strings, got %s",
                  ynode_describe(v));
        return;
    }
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
        bool ipc, net;
        if (!sysctl_name_ok(k->str)) {
            svc_error(m, s, k, "sysctls", "invalid name %s", QN(k));
            continue;
        }
        const char *why = sysctl_refusal(k->str, &ipc, &net);
        if (why) {
            svc_error(m, s, k, "sysctls", "%s is not allowed: %s", QN(k), why);
            continue;
        }
        const char *text = ynode_is_null(val) ? NULL : want_string(m, s, "sysctls", val);
        if (!text || !*text) {
            if (!ynode_is_null(val) && !text)
                continue; /* reported */
            svc_error(m, s, val, "sysctls", "%s: no value", k->str);
            continue;
        }
        strv_push(&s->sysctls, str_join(k->str, '=', text));
    }
}

/* "service:NAME" or "container:NAME" with a NAME. */
static bool shares(const char *v)
{
    return (strncmp(v, "service:", 8) == 0 && v[8]) || (strncmp(v, "container:", 10) == 0 && v[10]);
}

void key_pid(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "pid", kv->value);
    if (!v || !*v || raw(m, kv->value))
        return;
    if (strcmp(v, "host") != 0 && !shares(v)) {
        svc_error(m, s, kv->value, "pid",
                  "invalid PID mode %s (use host, service:NAME or container:NAME)", QS(v));
        return;
    }
    free(s->pid);
    s->pid = xstrdup(v);
}

/* Docker's IPC modes; "private" is the default and kept as NULL. */
void key_ipc(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "ipc", kv->value);
    if (!v || !*v || raw(m, kv->value) || strcmp(v, "private") == 0)
        return;
    if (strcmp(v, "host") != 0 && strcmp(v, "none") != 0 && strcmp(v, "shareable") != 0 &&
        !shares(v)) {
        svc_error(m, s, kv->value, "ipc",
                  "invalid IPC mode %s (use private, shareable, none, host, service:NAME or "
                  "container:NAME)",
                  QS(v));
        return;
    }
    free(s->ipc);
    s->ipc = xstrdup(v);
}

void key_uts(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "uts", kv->value);
    if (!v || !*v || raw(m, kv->value))
        return;
    if (strcmp(v, "host") != 0) {
        svc_error(m, s, kv->value, "uts", "invalid UTS mode %s (only host is allowed)", QS(v));
        return;
    }
    s->uts_host = true;
}

void key_cgroup(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "cgroup", kv->value);
    if (!v || !*v || raw(m, kv->value))
        return;
    if (strcmp(v, "host") != 0 && strcmp(v, "private") != 0) {
        svc_error(m, s, kv->value, "cgroup",
                  "invalid cgroup namespace mode %s (use host or private)", QS(v));
        return;
    }
    s->cgroup_host = strcmp(v, "host") == 0;
}

/* A path under the cgroup root ("/ci/jobs" or "ci/jobs"); "." and ".."
 * segments are refused rather than cleaned (the file must say where). */
void key_cgroup_parent(struct model *m, struct service *s, const struct ypair *kv)
{
    if (ynode_is_null(kv->value))
        return;
    const char *v = want_string(m, s, "cgroup_parent", kv->value);
    if (!v || !*v || raw(m, kv->value))
        return;
    char clean[4096];
    if (path_normalize(v, PATH_NORM_STRIP_ROOT, clean, sizeof clean) < 0 || !*clean) {
        svc_error(m, s, kv->value, "cgroup_parent", "invalid cgroup path %s", QS(v));
        return;
    }
    for (const char *seg = v; *seg;) {
        size_t n = strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            svc_error(m, s, kv->value, "cgroup_parent",
                      "invalid cgroup path %s (no \".\" or \"..\" segments)", QS(v));
            return;
        }
        seg += n + (seg[n] == '/');
    }
    if (strncmp(clean, "berth", 5) == 0 && strchr("/-", clean[5])) {
        svc_error(m, s, kv->value, "cgroup_parent",
                  "%s is inside berth's own cgroup tree; choose a path outside it", QS(v));
        return;
    }
    free(s->cgroup_parent);
    s->cgroup_parent = xstrdup(clean);
}

/* The key's value node in the service being built, for messages. */
static const struct ynode *at_key(const struct model *m, const char *key)
{
    const struct ypair *p = ymap_get_pair(m->body, key);
    return p ? p->key : NULL;
}

/* Checks between keys, once every key of the service is read: Docker's
 * conflicts. */
void finish_procns(struct model *m, struct service *s)
{
    const struct ynode *uts = at_key(m, "uts"), *sys = at_key(m, "sysctls");
    if (s->uts_host && s->hostname && uts)
        svc_error(m, s, uts, "uts", "conflicting options: hostname and the UTS mode host");
    bool net_host = s->network_mode && strcmp(s->network_mode, "host") == 0;
    bool net_shared = s->network_mode && shares(s->network_mode);
    bool ipc_host = s->ipc && strcmp(s->ipc, "host") == 0;
    for (size_t i = 0; sys && s->sysctls && s->sysctls[i]; i++) {
        _cleanup_free_ char *k = xstrndup(s->sysctls[i], strcspn(s->sysctls[i], "="));
        bool ipc, net;
        sysctl_refusal(k, &ipc, &net);
        if (net && (net_host || net_shared))
            svc_error(m, s, sys, "sysctls",
                      "%s is not allowed with network_mode %s: the container has no network "
                      "namespace of its own",
                      QS(k), QS(s->network_mode));
        else if (ipc && ipc_host)
            svc_error(m, s, sys, "sysctls",
                      "%s is not allowed with ipc: host: it would change the host's setting",
                      QS(k));
    }
}

/* The project's service whose container is name (its container_name, or
 * PROJECT-SERVICE-N), or NULL. */
static const struct service *service_of_container(const struct project *p, const char *name)
{
    for (size_t i = 0; i < p->n_services; i++) {
        const struct service *t = &p->services[i];
        if (t->container_name) {
            if (strcmp(t->container_name, name) == 0)
                return t;
            continue;
        }
        size_t lp = p->name ? strlen(p->name) : 0, ls = strlen(t->name);
        if (lp && strncmp(name, p->name, lp) == 0 && name[lp] == '-' &&
            strncmp(name + lp + 1, t->name, ls) == 0 && name[lp + 1 + ls] == '-' &&
            name[lp + 2 + ls] >= '1' && name[lp + 2 + ls] <= '9' &&
            strspn(name + lp + 2 + ls, "0123456789") == strlen(name + lp + 2 + ls))
            return t;
    }
    return NULL;
}

void model_procns_shared(struct model *m, const struct ynode *services)
{
    struct project *p = m->p;
    for (size_t i = 0; i < p->n_services; i++) {
        struct service *s = &p->services[i];
        if (!s->ipc || !shares(s->ipc))
            continue;
        bool by_service = strncmp(s->ipc, "service:", 8) == 0;
        const char *name = s->ipc + (by_service ? 8 : 10);
        const struct service *t =
            by_service ? project_service(p, name) : service_of_container(p, name);
        if (!t || (t->ipc && strcmp(t->ipc, "shareable") == 0))
            continue; /* an unknown one is said elsewhere */
        const struct ynode *body = ymap_get(services, s->name);
        const struct ynode *at = body ? ymap_get(body, "ipc") : NULL;
        if (!at)
            continue;
        svc_error(m, s, at, "ipc",
                  "%s %s does not share its IPC namespace (give it ipc: shareable, as docker "
                  "requires of the container joined)",
                  by_service ? "service" : "the container of service", QS(t->name));
    }
}

void service_procns_clear(struct service *s)
{
    for (size_t i = 0; i < s->n_ulimits; i++)
        free(s->ulimits[i].name);
    free(s->ulimits);
    strv_free(s->sysctls);
    free(s->pid);
    free(s->ipc);
    free(s->cgroup_parent);
}
