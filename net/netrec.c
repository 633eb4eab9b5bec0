/* SPDX-License-Identifier: Apache-2.0 */
/* Network records (net/netrec.h): one JSON file per network under
 * ROOT/network/nets, written atomically, read back with every field
 * checked. Not here: IPAM state, links. */
#include "net/netrec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define NETREC_MAX (1u << 20)

void net_record_free(struct net_record *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->id);
    free(r->bridge);
    free(r->project);
    free(r->key);
    free(r->subnet4);
    free(r->gateway4);
    free(r->subnet6);
    free(r->gateway6);
    strv_free(r->labels);
    free(r->created);
    free(r->host_binding_ipv4);
    memset(r, 0, sizeof *r);
}

char *net_bridge_name(const char *id)
{
    return xasprintf("br-%.12s", id);
}

/* A network name becomes a file name: docker's rule for names,
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, keeps it one path component. */
static bool name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 255 || name[0] == '.' || name[0] == '-' || name[0] == '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return true;
}

static int nets_dir(const char *root, bool create, int *out, struct berr *e)
{
    _cleanup_free_ char *dir = xasprintf("%s/network/nets", root);
    if (create) {
        int r = fs_mkdir_p(dir, 0700, e);
        if (r < 0)
            return r;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT && !create ? -ENOENT : berr_errno(e, errno, "opening %s", dir);
    *out = fd;
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

int net_record_read(const char *root, const char *name, struct net_record *out, struct berr *e)
{
    memset(out, 0, sizeof *out);
    if (!name_ok(name))
        return berr_set(e, -EINVAL, "invalid network name %s", name ? name : "(null)");
    _cleanup_close_ int dfd = -1;
    int r = nets_dir(root, false, &dfd, e);
    if (r == -ENOENT)
        return berr_set(e, -ENOENT, "network %s not found", name);
    if (r < 0)
        return r;
    _cleanup_free_ char *file = xasprintf("%s.json", name);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct berr re = BERR_INIT;
    r = fs_read_file(dfd, file, NETREC_MAX, &text, &len, &re);
    if (r == -ENOENT) {
        berr_clear(&re);
        return berr_set(e, -ENOENT, "network %s not found", name);
    }
    if (r < 0) {
        berr_move(e, &re);
        return berr_wrap(e, "reading the record of network %s", name);
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j || !json_is_object(j) || !jstr(j, "name") || !jstr(j, "id") || !jstr(j, "bridge") ||
        strcmp(jstr(j, "name"), name) != 0) {
        json_decref(j);
        return berr_set(e, -EINVAL, "%s/network/nets/%s: not a network record", root, file);
    }
    out->name = xstrdup(jstr(j, "name"));
    out->id = xstrdup(jstr(j, "id"));
    out->bridge = xstrdup(jstr(j, "bridge"));
    out->project = dup_or_null(jstr(j, "project"));
    out->key = dup_or_null(jstr(j, "key"));
    out->subnet4 = dup_or_null(jstr(j, "subnet4"));
    out->gateway4 = dup_or_null(jstr(j, "gateway4"));
    out->subnet6 = dup_or_null(jstr(j, "subnet6"));
    out->gateway6 = dup_or_null(jstr(j, "gateway6"));
    out->host_binding_ipv4 = dup_or_null(jstr(j, "host_binding_ipv4"));
    out->created = dup_or_null(jstr(j, "created"));
    out->internal = json_is_true(json_object_get(j, "internal"));
    out->enable_ipv6 = json_is_true(json_object_get(j, "enable_ipv6"));
    json_int_t mtu = json_integer_value(json_object_get(j, "mtu"));
    out->mtu = mtu >= 68 && mtu <= 65535 ? (unsigned)mtu : 0;
    out->no_masquerade = json_is_true(json_object_get(j, "no_masquerade"));
    out->no_icc = json_is_true(json_object_get(j, "no_icc"));
    json_int_t pid = json_integer_value(json_object_get(j, "owner_pid"));
    json_int_t start = json_integer_value(json_object_get(j, "owner_start"));
    if (pid > 0 && pid <= INT32_MAX && start >= 0) {
        out->owner_pid = (int)pid;
        out->owner_start = (unsigned long long)start;
    }
    json_t *labels = json_object_get(j, "labels");
    size_t i;
    json_t *v;
    json_array_foreach(labels, i, v)
    {
        if (json_is_string(v))
            strv_push(&out->labels, xstrdup(json_string_value(v)));
    }
    json_decref(j);
    return 0;
}

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int net_record_write(const char *root, const struct net_record *r, struct berr *e)
{
    if (!name_ok(r->name))
        return berr_set(e, -EINVAL, "invalid network name %s", r->name ? r->name : "(null)");
    _cleanup_close_ int dfd = -1;
    int rr = nets_dir(root, true, &dfd, e);
    if (rr < 0)
        return rr;
    json_t *j = json_object();
    set_opt(j, "name", r->name);
    set_opt(j, "id", r->id);
    set_opt(j, "bridge", r->bridge);
    set_opt(j, "project", r->project);
    set_opt(j, "key", r->key);
    set_opt(j, "subnet4", r->subnet4);
    set_opt(j, "gateway4", r->gateway4);
    set_opt(j, "subnet6", r->subnet6);
    set_opt(j, "gateway6", r->gateway6);
    set_opt(j, "host_binding_ipv4", r->host_binding_ipv4);
    set_opt(j, "created", r->created);
    json_object_set_new(j, "internal", json_boolean(r->internal));
    json_object_set_new(j, "enable_ipv6", json_boolean(r->enable_ipv6));
    if (r->mtu)
        json_object_set_new(j, "mtu", json_integer(r->mtu));
    if (r->no_masquerade)
        json_object_set_new(j, "no_masquerade", json_true());
    if (r->no_icc)
        json_object_set_new(j, "no_icc", json_true());
    if (r->owner_pid > 0) {
        json_object_set_new(j, "owner_pid", json_integer(r->owner_pid));
        json_object_set_new(j, "owner_start", json_integer((json_int_t)r->owner_start));
    }
    json_t *labels = json_array();
    for (size_t i = 0; r->labels && r->labels[i]; i++)
        json_array_append_new(labels, json_string(r->labels[i]));
    json_object_set_new(j, "labels", labels);
    _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    _cleanup_free_ char *file = xasprintf("%s.json", r->name);
    rr = fs_write_atomic(dfd, file, text, strlen(text), 0600, e);
    return rr < 0 ? berr_wrap(e, "writing the record of network %s", r->name) : 0;
}

int net_record_remove(const char *root, const char *name, struct berr *e)
{
    if (!name_ok(name))
        return berr_set(e, -EINVAL, "invalid network name %s", name ? name : "(null)");
    _cleanup_close_ int dfd = -1;
    int r = nets_dir(root, false, &dfd, e);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    _cleanup_free_ char *file = xasprintf("%s.json", name);
    if (unlinkat(dfd, file, 0) < 0 && errno != ENOENT)
        return berr_errno(e, errno, "removing the record of network %s", name);
    return 0;
}

void net_record_list_free(struct net_record *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        net_record_free(&v[i]);
    free(v);
}

int net_record_list(const char *root, const char *project, struct net_record **out, size_t *n,
                    struct berr *e)
{
    *out = NULL;
    *n = 0;
    _cleanup_close_ int dfd = -1;
    int r = nets_dir(root, false, &dfd, e);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = fs_list_names(dfd, false);
    for (size_t i = 0; names && names[i]; i++) {
        size_t len = strlen(names[i]);
        if (len < 6 || strcmp(names[i] + len - 5, ".json") != 0)
            continue;
        names[i][len - 5] = '\0';
        struct net_record rec;
        struct berr ign = BERR_INIT;
        if (net_record_read(root, names[i], &rec, &ign) < 0) {
            berr_clear(&ign);
            continue;
        }
        if (project && (!rec.project || strcmp(rec.project, project) != 0)) {
            net_record_free(&rec);
            continue;
        }
        *out = xreallocarray(*out, *n + 1, sizeof **out);
        (*out)[(*n)++] = rec;
    }
    return 0;
}
