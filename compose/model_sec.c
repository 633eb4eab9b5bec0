/* SPDX-License-Identifier: Apache-2.0 */
/* The security keys beyond capabilities: privileged, security_opt (as
 * Docker's daemon reads it, plus podman's mask and unmask), group_add,
 * oom_score_adj, oom_kill_disable. Checked here; applied by engine/plan and
 * engine/runtime. Not here: cap_add and cap_drop (model.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

void key_privileged(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (!ynode_is_null(kv->value) && want_bool(m, s, "privileged", kv->value, &b) == 0)
        s->privileged = b;
}

/* oom_kill_disable: v1's memory.oom_control (`up` warns where there is
 * none: engine/plan/plan_sec.h). */
void key_oom_kill_disable(struct model *m, struct service *s, const struct ypair *kv)
{
    bool b;
    if (ynode_is_null(kv->value) || want_bool(m, s, "oom_kill_disable", kv->value, &b) < 0)
        return;
    s->oom_kill_disable = b;
}

void key_oom_score_adj(struct model *m, struct service *s, const struct ypair *kv)
{
    int64_t v;
    if (ynode_is_null(kv->value))
        return;
    if (want_int(m, s, "oom_score_adj", kv->value, INT64_MIN, &v) < 0)
        return;
    if (v < -1000 || v > 1000) {
        svc_error(m, s, kv->value, "oom_score_adj", "%lld is out of range (-1000 to 1000)",
                  (long long)v);
        return;
    }
    s->oom_score_adj = (int)v;
    s->oom_score_adj_set = true;
}

void key_group_add(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value))
        return;
    if (want_str_list(m, s, "group_add", kv->value, false, &v) < 0)
        return;
    for (size_t i = 0; v[i]; i++)
        if (!*v[i] || strchr(v[i], ':') || strchr(v[i], '\n')) {
            svc_error(m, s, kv->value->items[i], "group_add", "invalid group \"%s\"", v[i]);
            return;
        }
    strv_free(s->group_add);
    s->group_add = TAKE_PTR(v);
}

/* Go's strconv.ParseBool, which Docker uses for security_opt values. */
static int parse_go_bool(const char *v, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False", NULL};
    for (size_t i = 0; t[i]; i++) {
        if (strcmp(v, t[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, f[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* podman's mask=/a:/b and unmask=/a:/b (unmask also ALL): absolute paths. */
static int path_list(struct model *m, struct service *s, const struct ynode *at, const char *opt,
                     const char *v, bool allow_all, char ***out)
{
    if (allow_all && strcmp(v, "ALL") == 0) {
        strv_push(out, xstrdup("ALL"));
        return 0;
    }
    _cleanup_free_ char *copy = xstrdup(v);
    char *save = NULL;
    int n = 0;
    for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save), n++) {
        size_t len = strlen(p);
        if (p[0] != '/' || strstr(p, "/../") || (len >= 3 && strcmp(p + len - 3, "/..") == 0)) {
            svc_error(m, s, at, "security_opt",
                      "invalid option \"%s\": \"%s\" is not an absolute path", opt, p);
            return -EINVAL;
        }
        strv_push(out, xstrdup(p));
    }
    if (n == 0) {
        svc_error(m, s, at, "security_opt", "invalid option \"%s\": no path given", opt);
        return -EINVAL;
    }
    return 0;
}

/* The entry's place as messages name the file ("compose.yaml"). */
static struct srcpos entry_pos(struct model *m, const struct ynode *at)
{
    struct srcpos pos = pos_of(m, at);
    if (m->p->file_names && m->p->file_names[at->src->index])
        pos.file = m->p->file_names[at->src->index];
    return pos;
}

/* One security_opt entry, as Docker's daemon reads it: "no-new-privileges"
 * or "disable" alone, else KEY=VALUE (or the older KEY:VALUE). */
static void security_opt_one(struct model *m, struct service *s, const struct ynode *at,
                             const char *opt, bool *nnp)
{
    if (strcmp(opt, "no-new-privileges") == 0) {
        *nnp = true;
        return;
    }
    const char *sep = strchr(opt, '=');
    if (!sep)
        sep = strchr(opt, ':');
    if (strcmp(opt, "disable") != 0 && !sep) {
        svc_error(m, s, at, "security_opt", "invalid option \"%s\"", opt);
        return;
    }
    size_t klen = sep ? (size_t)(sep - opt) : strlen(opt);
    const char *v = sep ? sep + 1 : "disable";
#define KEY_IS(name) (klen == strlen(name) && memcmp(opt, name, klen) == 0)
    bool b;
    if (KEY_IS("no-new-privileges")) {
        if (parse_go_bool(v, &b) < 0)
            svc_error(m, s, at, "security_opt", "invalid option \"%s\": expected true or false",
                      opt);
        else
            *nnp = b;
    } else if (KEY_IS("disable") || KEY_IS("label")) {
        if (strcmp(v, "disable") == 0 || strcmp(v, "nested") == 0)
            return;
        /* SELinux labels: engine/plan refuses them where SELinux runs
         * (berth cannot apply them), and `up` says so where it does not. */
        free(s->label);
        s->label = xstrdup(opt);
        s->label_pos = entry_pos(m, at);
    } else if (KEY_IS("apparmor")) {
        free(s->apparmor);
        s->apparmor = NULL;
        if (strcmp(v, "unconfined") == 0)
            return;
        if (!*v) {
            svc_error(m, s, at, "security_opt", "invalid option \"%s\": no profile", opt);
            return;
        }
        /* applied where the host has AppArmor; `up` says so where not */
        s->apparmor = xstrdup(v);
        s->apparmor_pos = entry_pos(m, at);
    } else if (KEY_IS("seccomp")) {
        free(s->seccomp);
        s->seccomp = NULL;
        if (strcmp(v, "builtin") == 0 || strcmp(v, "default") == 0)
            return;
        if (!*v) {
            svc_error(m, s, at, "security_opt", "invalid option \"%s\": no profile", opt);
            return;
        }
        s->seccomp = strcmp(v, "unconfined") == 0 ? xstrdup(v)
                     : v[0] == '/'                ? xstrdup(v)
                                                  : fs_path_join(m->p->working_dir, v);
        s->seccomp_pos = entry_pos(m, at);
    } else if (KEY_IS("writable-cgroups")) {
        if (parse_go_bool(v, &b) < 0)
            svc_error(m, s, at, "security_opt", "invalid option \"%s\": expected true or false",
                      opt);
        else if (b && at->line > 0)
            diag_unsupported_at(m->d, YPOS(at),
                                "service \"%s\": security_opt \"%s\" is not supported yet; ignored",
                                s->name, opt);
    } else if (KEY_IS("systempaths")) {
        if (strcmp(v, "unconfined") != 0)
            svc_error(m, s, at, "security_opt",
                      "invalid option \"%s\": systempaths takes only \"unconfined\"", opt);
        else
            s->systempaths_unconfined = true;
    } else if (KEY_IS("mask")) {
        path_list(m, s, at, opt, v, false, &s->mask);
    } else if (KEY_IS("unmask")) {
        path_list(m, s, at, opt, v, true, &s->unmask);
    } else {
        svc_error(m, s, at, "security_opt", "invalid option \"%s\"", opt);
    }
#undef KEY_IS
}

void key_security_opt(struct model *m, struct service *s, const struct ypair *kv)
{
    _cleanup_strv_ char **v = NULL;
    if (ynode_is_null(kv->value))
        return;
    if (want_str_list(m, s, "security_opt", kv->value, false, &v) < 0)
        return;
    bool nnp = false; /* the last entry that says wins, as in Docker */
    for (size_t i = 0; v[i]; i++)
        security_opt_one(m, s, kv->value->items[i], v[i], &nnp);
    s->no_new_privs = nnp;
}

void service_sec_clear(struct service *s)
{
    free(s->seccomp);
    free(s->apparmor);
    free(s->label);
    strv_free(s->mask);
    strv_free(s->unmask);
    strv_free(s->group_add);
}
