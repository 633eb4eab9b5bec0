/* SPDX-License-Identifier: Apache-2.0 */
/* RUN --mount=... values as BuildKit reads them: comma-separated fields
 * (a field may be "quoted"), the keys and aliases of each mount type,
 * the defaults BuildKit fills in and the combinations it refuses. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/strv.h"
#include "util/units.h"
#include "util/xalloc.h"

void df_mount_clear(struct df_mount *m)
{
    free(m->id);
    free(m->target);
    free(m->source);
    free(m->from);
    free(m->sharing);
    free(m->env);
    memset(m, 0, sizeof(*m));
}

/* The comma-separated fields of a mount (a field may be "quoted"). */
static char **split_csv(const char *s)
{
    char **v = NULL;
    size_t nv = 0;
    _cleanup_free_ char *f = xmalloc(strlen(s) + 1); /* one buffer: no strlen per field */
    for (;;) {
        size_t n = 0;
        bool quoted = false;
        for (; *s && (quoted || *s != ','); s++) {
            if (*s == '"' && quoted && s[1] == '"')
                f[n++] = *++s;
            else if (*s == '"')
                quoted = !quoted;
            else
                f[n++] = *s;
        }
        df_words_push(&v, &nv, xstrndup(f, n));
        if (*s != ',')
            return v;
        s++;
    }
}

static int mount_bool(const char *key, const char *value, bool *out, struct berr *e)
{
    if (!value || strcasecmp(value, "true") == 0)
        *out = true;
    else if (strcasecmp(value, "false") == 0)
        *out = false;
    else
        return berr_set(e, -EINVAL, "invalid value for %s: %s", key, value);
    return 0;
}

static int mount_number(const char *key, const char *value, int base, long *out, struct berr *e)
{
    char *end;
    errno = 0;
    long n = value ? strtol(value, &end, base) : -1;
    if (!value || !*value || *end || errno || n < 0 || n > 0x7fffffffL)
        return berr_set(e, -EINVAL, "invalid value for %s: %s", key, value ? value : "");
    *out = n;
    return 0;
}

static const char *const mount_type_names[] = {"bind", "cache", "tmpfs", "secret", "ssh"};

static int mount_type(const char *v, enum df_mount_type *t, struct berr *e)
{
    for (size_t i = 0; i < ARRAY_SIZE(mount_type_names); i++)
        if (v && strcasecmp(v, mount_type_names[i]) == 0) {
            *t = (enum df_mount_type)i;
            return 0;
        }
    return berr_set(e, -EINVAL, "unsupported mount type \"%s\"", v ? v : "");
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v ? v : "");
}

static int mount_field(struct df_mount *m, const char *key, const char *value, struct berr *e)
{
    if (strcmp(key, "type") == 0)
        return mount_type(value, &m->type, e);
    if (strcmp(key, "id") == 0)
        set_str(&m->id, value);
    else if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination"))
        set_str(&m->target, value);
    else if (!strcmp(key, "source") || !strcmp(key, "src"))
        set_str(&m->source, value);
    else if (strcmp(key, "from") == 0)
        set_str(&m->from, value);
    else if (strcmp(key, "env") == 0)
        set_str(&m->env, value);
    else if (!strcmp(key, "ro") || !strcmp(key, "readonly"))
        return mount_bool(key, value, &m->readonly, e);
    else if (!strcmp(key, "rw") || !strcmp(key, "readwrite")) {
        bool rw = true;
        int r = mount_bool(key, value, &rw, e);
        m->readonly = !rw;
        return r;
    } else if (strcmp(key, "required") == 0)
        return mount_bool(key, value, &m->required, e);
    else if (strcmp(key, "sharing") == 0) {
        if (!value ||
            (strcmp(value, "shared") && strcmp(value, "private") && strcmp(value, "locked")))
            return berr_set(e, -EINVAL, "unsupported sharing value \"%s\"", value ? value : "");
        set_str(&m->sharing, value);
    } else if (strcmp(key, "mode") == 0)
        return mount_number(key, value, 8, &m->mode, e);
    else if (strcmp(key, "uid") == 0)
        return mount_number(key, value, 10, &m->uid, e);
    else if (strcmp(key, "gid") == 0)
        return mount_number(key, value, 10, &m->gid, e);
    else if (strcmp(key, "size") == 0) {
        int64_t n;
        if (!value || parse_size(value, &n) < 0)
            return berr_set(e, -EINVAL, "invalid value for size: %s", value ? value : "");
        m->size = n;
    } else if (!value)
        return berr_set(e, -EINVAL, "invalid field '%s' must be a key=value pair", key);
    else
        return berr_set(e, -EINVAL, "unexpected key '%s' in '%s=%s'", key, key, value);
    return 0;
}

/* What each type allows, as BuildKit checks it. */
static int mount_check(const struct df_mount *m, struct berr *e)
{
    const char *t = mount_type_names[m->type];
    bool file_info =
        m->type == DF_MOUNT_SECRET || m->type == DF_MOUNT_SSH || m->type == DF_MOUNT_CACHE;
    if (m->mode >= 0 && !file_info)
        return berr_set(e, -EINVAL, "mode not allowed for \"%s\" type mounts", t);
    if ((m->uid >= 0 || m->gid >= 0) && !file_info)
        return berr_set(e, -EINVAL, "%s not allowed for \"%s\" type mounts",
                        m->uid >= 0 ? "uid" : "gid", t);
    if (m->required && m->type != DF_MOUNT_SECRET && m->type != DF_MOUNT_SSH)
        return berr_set(e, -EINVAL, "unexpected key 'required' for mount type '%s'", t);
    if (m->sharing && m->type != DF_MOUNT_CACHE)
        return berr_set(e, -EINVAL, "invalid cache sharing set for %s mount", t);
    if (m->size >= 0 && m->type != DF_MOUNT_TMPFS)
        return berr_set(e, -EINVAL, "size not allowed for \"%s\" type mounts", t);
    if (m->env && m->type != DF_MOUNT_SECRET)
        return berr_set(e, -EINVAL, "env not allowed for \"%s\" type mounts", t);
    if (m->type == DF_MOUNT_SECRET && m->from)
        return berr_set(e, -EINVAL, "secret mount should not have a from");
    if (m->type == DF_MOUNT_SECRET && m->source && m->id)
        return berr_set(e, -EINVAL, "both source and id can't be set");
    return 0;
}

/* The defaults BuildKit fills in: read-only unless cache or tmpfs (or
 * rw), a cache's id is its target, a secret's id its source or its
 * target's name and its target /run/secrets/ID. */
static int mount_finish(struct df_mount *m, bool ro_auto, struct berr *e)
{
    int r = mount_check(m, e);
    if (r < 0)
        return r;
    if (ro_auto)
        m->readonly = m->type != DF_MOUNT_CACHE && m->type != DF_MOUNT_TMPFS;
    if (m->type == DF_MOUNT_SECRET || m->type == DF_MOUNT_SSH) {
        if (!m->id && m->source)
            m->id = xstrdup(m->source);
        if (!m->id && m->type == DF_MOUNT_SSH)
            m->id = xstrdup("default");
        if (!m->id && m->target) {
            const char *slash = strrchr(m->target, '/');
            m->id = xstrdup(slash ? slash + 1 : m->target);
        }
        if (!m->id)
            return berr_set(e, -EINVAL, "invalid secret mount: one of id, source, target required");
        if (!m->target && m->type == DF_MOUNT_SECRET && !m->env) {
            const char *slash = strrchr(m->id, '/');
            m->target = xasprintf("/run/secrets/%s", slash ? slash + 1 : m->id);
        }
        if (!m->target && m->type == DF_MOUNT_SSH)
            m->target = xasprintf("/run/buildkit/ssh_agent.%s", m->id);
        return 0;
    }
    if (!m->target || !*m->target)
        return berr_set(e, -EINVAL, "mount type=%s needs a target=", mount_type_names[m->type]);
    if (m->type == DF_MOUNT_CACHE) {
        if (!m->id)
            m->id = xstrdup(m->target);
        if (!m->sharing)
            m->sharing = xstrdup("shared");
    }
    return 0;
}

int df_mount_parse(const char *spec, struct df_mount *m, struct berr *e)
{
    memset(m, 0, sizeof(*m));
    m->mode = m->uid = m->gid = -1;
    m->size = -1;
    _cleanup_strv_ char **fields = split_csv(spec);
    bool ro_auto = true;
    int r = 0;
    for (size_t i = 0; fields[i] && r == 0; i++) {
        char *eq = strchr(fields[i], '=');
        if (eq)
            *eq = '\0';
        for (char *c = fields[i]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        const char *k = fields[i];
        if (!strcmp(k, "ro") || !strcmp(k, "readonly") || !strcmp(k, "rw") ||
            !strcmp(k, "readwrite"))
            ro_auto = false;
        r = mount_field(m, k, eq ? eq + 1 : NULL, e);
    }
    if (r == 0)
        r = mount_finish(m, ro_auto, e);
    if (r < 0)
        df_mount_clear(m);
    return r;
}
