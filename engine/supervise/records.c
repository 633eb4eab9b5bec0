/* SPDX-License-Identifier: Apache-2.0 */
/* What berth keeps on disk about containers: the durable record per container
 * (with its plan) and the volatile run state per project, written atomically,
 * listed and swept. Not here: deciding state changes
 * (engine/supervise/supervisor.c), showing them (cmd/ps_state.c). */
#include "engine/supervise/records.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/userns.h"
#include "engine/volume/mounts.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define RECORD_MAX (1 << 20)

void ctr_record_free(struct ctr_record *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->name);
    free(r->project);
    free(r->service);
    free(r->image);
    free(r->image_id);
    free(r->created);
    free(r->cgroup);
    free(r->config_files);
    free(r->working_dir);
    ctr_plan_free(&r->plan);
    memset(r, 0, sizeof *r);
}

char *ctr_path(const char *root, const char *id, const char *sub)
{
    if (sub)
        return xasprintf("%s/containers/%s/%s", root, id, sub);
    return xasprintf("%s/containers/%s", root, id);
}

char *ctr_new_id(void)
{
    unsigned char b[32];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    char *s = xmalloc(65);
    for (size_t i = 0; i < 32; i++)
        sprintf(s + 2 * i, "%02x", b[i]);
    return s;
}

static bool valid_id(const char *id)
{
    if (strlen(id) != 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static json_t *record_json(const struct ctr_record *r)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:s, s:s, s:s}", "id", r->id, "name",
                  r->name, "project", r->project, "service", r->service, "number", r->number,
                  "oneoff", r->oneoff, "image", r->image ? r->image : "", "image_id",
                  r->image_id ? r->image_id : "", "created", r->created ? r->created : "", "cgroup",
                  r->cgroup ? r->cgroup : "", "config", r->plan.config ? r->plan.config : "");
    if (r->config_files)
        json_object_set_new(j, "config_files", json_string(r->config_files));
    if (r->working_dir)
        json_object_set_new(j, "working_dir", json_string(r->working_dir));
    json_object_set_new(j, "plan", plan_to_json(&r->plan));
    return j;
}

static int record_parse(const char *buf, struct ctr_record *r)
{
    json_error_t je;
    memset(r, 0, sizeof *r);
    json_t *o = json_loads(buf, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -EINVAL;
    }
    struct berr e = BERR_INIT;
    if (plan_from_json(json_object_get(o, "plan"), &r->plan, &e) < 0) {
        berr_clear(&e);
        json_decref(o);
        return -EINVAL;
    }
    r->plan.config = plan_json_str(o, "config");
    r->id = plan_json_str(o, "id");
    r->name = plan_json_str(o, "name");
    r->project = plan_json_str(o, "project");
    r->service = plan_json_str(o, "service");
    r->number = (int)json_integer_value(json_object_get(o, "number"));
    r->oneoff = json_is_true(json_object_get(o, "oneoff"));
    r->image = plan_json_str(o, "image");
    r->image_id = plan_json_str(o, "image_id");
    r->created = plan_json_str(o, "created");
    r->cgroup = plan_json_str(o, "cgroup");
    r->config_files = plan_json_str(o, "config_files");
    r->working_dir = plan_json_str(o, "working_dir");
    json_decref(o);
    if (!r->id || !r->name || !r->project || !r->service || !valid_id(r->id)) {
        ctr_record_free(r);
        return -EINVAL;
    }
    return 0;
}

int ctr_create(const char *root, const struct ctr_record *rec, struct berr *e)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", root);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    /* Build under a temp name, then rename into place. */
    _cleanup_free_ char *tmpname = xasprintf(".tmp-%s", rec->id);
    _cleanup_free_ char *text = NULL;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    if (mkdirat(dfd, tmpname, 0700) < 0)
        return berr_errno(e, errno, "creating container directory for %s", rec->name);
    _cleanup_close_ int cfd = openat(dfd, tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cfd < 0) {
        r = berr_errno(e, errno, "opening container directory for %s", rec->name);
        goto fail;
    }
    static const char *const subs[] = {"upper", "work", "rootfs"};
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        if (mkdirat(cfd, subs[i], subs[i][0] == 'u' ? 0755 : 0700) < 0) {
            r = berr_errno(e, errno, "creating %s for %s", subs[i], rec->name);
            goto fail;
        }
    json_t *j = record_json(rec);
    text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    /* No fsync per file: the whole container directory appears by one
     * rename, and the caller flushes once for all the containers it
     * creates (ctr_sync), instead of a journal commit per file. */
    r = fs_write_replace(cfd, "config.json", text, strlen(text), 0600, e);
    if (r == 0 && rec->image_id) {
        _cleanup_free_ char *line = xasprintf("%s\n", rec->image_id);
        r = fs_write_replace(cfd, "image-id", line, strlen(line), 0600, e);
    }
    if (r < 0)
        goto fail;
    if (renameat(dfd, tmpname, dfd, rec->id) < 0) {
        r = berr_errno(e, errno, "creating container %s", rec->name);
        goto fail;
    }
    return 0;
fail : {
    struct berr ign = BERR_INIT;
    fs_rm_rf_at(dfd, tmpname, &ign);
    berr_clear(&ign);
}
    return r;
}

void ctr_sync(const char *root)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", root);
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        syncfs(fd);
}

int ctr_list(const char *root, const char *project, const struct ev_sink *sink,
             struct ctr_record **out, size_t *n, struct berr *e)
{
    *out = NULL;
    *n = 0;
    _cleanup_free_ char *dir = xasprintf("%s/containers", root);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return berr_errno(e, errno, "reading %s", dir);
    }
    struct ctr_record *list = NULL;
    size_t cnt = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!valid_id(de->d_name))
            continue;
        _cleanup_free_ char *cfg = xasprintf("%s/%s/config.json", dir, de->d_name);
        _cleanup_free_ char *buf = NULL;
        struct berr ign = BERR_INIT;
        if (fs_read_file(AT_FDCWD, cfg, RECORD_MAX, &buf, NULL, &ign) < 0) {
            berr_clear(&ign);
            continue;
        }
        struct ctr_record rec;
        if (record_parse(buf, &rec) < 0) {
            /* Not silently: nothing else would ever clean it up. */
            ev_warn(sink, EV_CONTAINER, de->d_name,
                    "%s/%s: not a container record berth can read (from another version?); "
                    "ignored (remove the directory to clean it up)",
                    dir, de->d_name);
            continue;
        }
        if (strcmp(rec.id, de->d_name) != 0) {
            ev_warn(sink, EV_CONTAINER, de->d_name,
                    "%s: the record's id is not its directory's; ignored", cfg);
            ctr_record_free(&rec);
            continue;
        }
        if (project && strcmp(rec.project, project) != 0) {
            ctr_record_free(&rec);
            continue;
        }
        list = xreallocarray(list, cnt + 1, sizeof *list);
        list[cnt++] = rec;
    }
    *out = list;
    *n = cnt;
    return 0;
}

void ctr_list_free(struct ctr_record *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ctr_record_free(&list[i]);
    free(list);
}

int ctr_rewrite(const char *root, const struct ctr_record *rec, struct berr *e)
{
    _cleanup_free_ char *dir = ctr_path(root, rec->id, NULL);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    json_t *j = record_json(rec);
    _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    return fs_write_replace(dfd, "config.json", text, strlen(text), 0600, e);
}

int ctr_remove(const char *root, const char *id, struct berr *e)
{
    if (!valid_id(id))
        return berr_set(e, -EINVAL, "invalid container id %s", id);
    _cleanup_free_ char *dir = xasprintf("%s/containers", root);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT ? 0 : berr_errno(e, errno, "opening %s", dir);
    /* Rename first, so a half-removed container is never listed. */
    _cleanup_free_ char *gone = xasprintf(".rm-%s", id);
    if (renameat(dfd, id, dfd, gone) < 0) {
        if (errno == ENOENT)
            return userns_release(root, id, e);
        return berr_errno(e, errno, "removing container %s", id);
    }
    int r = fs_rm_rf_at(dfd, gone, e);
    return r < 0 ? r : userns_release(root, id, e);
}

static char *run_path(const char *runroot, const char *project, const char *name)
{
    if (name)
        return xasprintf("%s/%s/%s.json", runroot, project, name);
    return xasprintf("%s/%s", runroot, project);
}

json_t *run_state_to_json(const struct run_state *st)
{
    json_t *ports = json_array();
    for (size_t i = 0; i < st->n_ports && i < RUN_STATE_MAX_PORTS; i++) {
        const struct run_port *p = &st->ports[i];
        const char *proto = plan_proto_name(p->proto);
        json_array_append_new(ports,
                              json_pack("{s:s, s:i, s:i, s:s}", "host_ip", p->host_ip, "host_port",
                                        (int)p->host_port, "container_port", (int)p->ctr_port,
                                        "protocol", proto ? proto : "tcp"));
    }
    return json_pack("{s:i, s:I, s:i, s:b, s:b, s:b, s:i, s:b, s:I, s:I, s:i, s:s, s:s, s:o}",
                     "pid", (int)st->pid, "start_time", (json_int_t)st->start_time, "supervisor",
                     (int)st->supervisor, "running", st->running, "paused", st->paused,
                     "restarting", st->restarting, "exit_code", st->exit_code, "oom_killed",
                     st->oom_killed, "started_at", (json_int_t)st->started_at_ns, "finished_at",
                     (json_int_t)st->finished_at_ns, "restarts", st->restarts, "health", st->health,
                     "health_output", st->health_output, "ports", ports);
}

static void run_ports_from_json(json_t *arr, struct run_state *st)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (st->n_ports == RUN_STATE_MAX_PORTS)
            break;
        json_int_t hp = json_integer_value(json_object_get(o, "host_port"));
        json_int_t cp = json_integer_value(json_object_get(o, "container_port"));
        const char *proto = json_string_value(json_object_get(o, "protocol"));
        int pr = proto ? plan_proto_parse(proto) : -1;
        if (hp < 0 || hp > 65535 || cp <= 0 || cp > 65535 || pr < 0)
            continue; /* not a port this supervisor wrote */
        struct run_port *p = &st->ports[st->n_ports++];
        const char *ip = json_string_value(json_object_get(o, "host_ip"));
        snprintf(p->host_ip, sizeof p->host_ip, "%s", ip ? ip : "");
        p->host_port = (uint16_t)hp;
        p->ctr_port = (uint16_t)cp;
        p->proto = pr;
    }
}

void run_state_from_json(json_t *o, struct run_state *st)
{
    memset(st, 0, sizeof *st);
    st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
    st->start_time = (unsigned long long)json_integer_value(json_object_get(o, "start_time"));
    st->supervisor = (pid_t)json_integer_value(json_object_get(o, "supervisor"));
    st->running = json_is_true(json_object_get(o, "running"));
    st->paused = json_is_true(json_object_get(o, "paused"));
    st->restarting = json_is_true(json_object_get(o, "restarting"));
    st->exit_code = (int)json_integer_value(json_object_get(o, "exit_code"));
    st->oom_killed = json_is_true(json_object_get(o, "oom_killed"));
    st->started_at_ns = json_integer_value(json_object_get(o, "started_at"));
    st->finished_at_ns = json_integer_value(json_object_get(o, "finished_at"));
    st->restarts = (int)json_integer_value(json_object_get(o, "restarts"));
    const char *h = json_string_value(json_object_get(o, "health"));
    snprintf(st->health, sizeof st->health, "%s", h ? h : "");
    const char *ho = json_string_value(json_object_get(o, "health_output"));
    snprintf(st->health_output, sizeof st->health_output, "%s", ho ? ho : "");
    run_ports_from_json(json_object_get(o, "ports"), st);
}

int run_state_write(const char *runroot, const char *project, const char *name,
                    const struct run_state *st, struct berr *e)
{
    _cleanup_free_ char *dir = run_path(runroot, project, NULL);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    json_t *j = run_state_to_json(st);
    _cleanup_free_ char *text = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", dir);
    _cleanup_free_ char *file = xasprintf("%s.json", name);
    return fs_write_replace(dfd, file, text, strlen(text), 0600, e);
}

int run_state_read(const char *runroot, const char *project, const char *name, struct run_state *st)
{
    memset(st, 0, sizeof *st);
    _cleanup_free_ char *p = run_path(runroot, project, name);
    _cleanup_free_ char *buf = NULL;
    struct berr ign = BERR_INIT;
    int r = fs_read_file(AT_FDCWD, p, RECORD_MAX, &buf, NULL, &ign);
    berr_clear(&ign);
    if (r < 0)
        return r;
    json_error_t je;
    json_t *o = json_loads(buf, 0, &je);
    if (!o)
        return -EINVAL;
    run_state_from_json(o, st);
    json_decref(o);
    return 0;
}

void run_state_remove(const char *runroot, const char *project, const char *name)
{
    _cleanup_free_ char *p = run_path(runroot, project, name);
    unlink(p);
}

void run_state_sweep(const char *root, const char *runroot, const char *project)
{
    _cleanup_ctr_list_ struct ctr_list l = {0};
    if (ctr_list(root, project, NULL, &l.v, &l.n, NULL) < 0)
        return; /* without the records, nothing is known to be stale */
    _cleanup_free_ char *dir = run_path(runroot, project, NULL);
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        _cleanup_free_ char *name = xstrndup(de->d_name, len - 5);
        bool known = false;
        for (size_t i = 0; i < l.n && !known; i++)
            known = strcmp(l.v[i].name, name) == 0;
        struct run_state st;
        if (known || (run_state_read(runroot, project, name, &st) == 0 && run_state_alive(&st)))
            continue;
        run_state_remove(runroot, project, name);
    }
}

void run_dir_prune(const char *runroot, const char *project)
{
    _cleanup_free_ char *dir = run_path(runroot, project, NULL);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "lock"))
            return;
    /* Only the lock is left. Removing it while another command holds it is
     * harmless: that command's fd stays valid and it recreates the dir. */
    _cleanup_free_ char *lock = xasprintf("%s/lock", dir);
    unlink(lock);
    rmdir(dir);
}

bool run_state_alive(const struct run_state *st)
{
    if (!st->running || st->pid <= 0)
        return false;
    unsigned long long t = proc_start_time(st->pid);
    return t != 0 && t == st->start_time;
}

int project_lock(const char *runroot, const char *project, struct berr *e)
{
    _cleanup_free_ char *dir = run_path(runroot, project, NULL);
    int r = fs_mkdir_p(dir, 0700, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *p = xasprintf("%s/lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", p);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            r = berr_errno(e, errno, "locking %s", p);
            close(fd);
            return r;
        }
    }
    return fd;
}

void project_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

int volumes_remove_project(const char *root, const char *project, char ***removed, struct berr *e)
{
    if (removed)
        *removed = xcalloc(1, sizeof(char *));
    struct ctr_record *recs = NULL;
    size_t n_recs = 0;
    int r = ctr_list(root, NULL, NULL, &recs, &n_recs, e);
    if (r < 0)
        return r;
    size_t n_users = 0;
    for (size_t k = 0; k < n_recs; k++)
        n_users += recs[k].plan.n_mounts;
    _cleanup_free_ struct volume_user *users = xcalloc(n_users + 1, sizeof *users);
    n_users = 0;
    for (size_t k = 0; k < n_recs; k++)
        for (size_t j = 0; j < recs[k].plan.n_mounts; j++) {
            const struct plan_mount *m = &recs[k].plan.mounts[j];
            if (m->type == PLAN_MOUNT_VOLUME && m->source)
                users[n_users++] = (struct volume_user){m->source, recs[k].name};
        }
    if (removed) {
        free(*removed);
        *removed = NULL;
    }
    r = volumes_remove_labelled(root, project, users, n_users, removed, e);
    ctr_list_free(recs, n_recs);
    return r;
}
