/* SPDX-License-Identifier: Apache-2.0 */
/* ID ranges for user-namespaced containers (userns.h): the subordinate ID
 * files and the store's allocation record. */
#include "engine/runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/runtime/ctrplan.h"
#include "engine/runtime/idmap.h"
#include "engine/runtime/layercopy.h"
#include "engine/runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define SUBID_FILE_MAX  (4 << 20) /* /etc/subuid is read up to 4 MiB */
#define USERNS_JSON_MAX (4 << 20)

const char *userns_subuid_file(void)
{
    const char *f = getenv("BERTH_SUBUID_FILE");
    return f && *f ? f : "/etc/subuid";
}

const char *userns_subgid_file(void)
{
    const char *f = getenv("BERTH_SUBGID_FILE");
    return f && *f ? f : "/etc/subgid";
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

void subid_parse(const char *text, const char *owner, struct subid_entry **out, size_t *n,
                 uint64_t *end)
{
    *out = NULL;
    *n = 0;
    *end = 0;
    size_t olen = strlen(owner);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *c1 = memchr(p, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
        uint64_t start, count;
        if (p[0] != '#' && c1 && c2 && parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), &start) &&
            parse_u64(c2 + 1, len - (size_t)(c2 + 1 - p), &count) && count > 0) {
            if (start + count > *end)
                *end = start + count;
            if ((size_t)(c1 - p) == olen && memcmp(p, owner, olen) == 0) {
                *out = xreallocarray(*out, *n + 1, sizeof **out);
                (*out)[(*n)++] = (struct subid_entry){start, count};
            }
        }
        p = nl ? nl + 1 : NULL;
    }
}

uint64_t subid_block_start(uint64_t end)
{
    if (end < USERNS_FLOOR)
        end = USERNS_FLOOR;
    return (end + USERNS_IDS - 1) / USERNS_IDS * USERNS_IDS;
}

char *subid_append(const char *text, const char *owner, uint64_t start, uint64_t count)
{
    size_t len = strlen(text);
    const char *sep = len > 0 && text[len - 1] != '\n' ? "\n" : "";
    return xasprintf("%s%s%s:%" PRIu64 ":%" PRIu64 "\n", text, sep, owner, start, count);
}

bool subid_slot(const struct subid_entry *v, size_t n, size_t i, uint64_t *start)
{
    for (size_t k = 0; k < n; k++) {
        uint64_t slots = v[k].count / USERNS_IDS;
        if (i < slots) {
            *start = v[k].start + i * USERNS_IDS;
            return *start + USERNS_IDS - 1 <= UINT32_MAX;
        }
        i -= slots;
    }
    return false;
}

static size_t subid_slots(const struct subid_entry *v, size_t n)
{
    size_t s = 0;
    for (size_t k = 0; k < n; k++)
        s += (size_t)(v[k].count / USERNS_IDS);
    return s;
}

/* Reads a subordinate ID file; a missing one reads as empty. */
static int read_subid(const char *path, char **text, struct berr *e)
{
    int r = fs_read_file(AT_FDCWD, path, SUBID_FILE_MAX, text, NULL, e);
    if (r == -ENOENT) {
        berr_clear(e);
        *text = xstrdup("");
        return 0;
    }
    return r < 0 ? berr_wrap(e, "reading %s", path) : 0;
}

/* Writes text over path atomically, keeping the file's mode (0644 for a
 * new one). */
static int write_subid(const char *path, const char *text, struct berr *e)
{
    _cleanup_free_ char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "cannot add berth's subordinate IDs to %s", path);
    struct stat st;
    mode_t mode = fstatat(dfd, base, &st, 0) == 0 ? (st.st_mode & 07777) : 0644;
    int r = fs_write_atomic(dfd, base, text, strlen(text), mode, e);
    if (r < 0)
        return berr_wrap(e, "cannot add berth's subordinate IDs to %s", path);
    return 0;
}

struct subids {
    struct subid_entry *uid, *gid;
    size_t n_uid, n_gid;
};

static void subids_free(struct subids *s)
{
    free(s->uid);
    free(s->gid);
}

/* Appends berth's block at start to the file (text: its content), and to
 * the entries read from it. */
static int add_entry(const char *path, const char *text, uint64_t start, struct subid_entry **v,
                     size_t *n, struct berr *e)
{
    _cleanup_free_ char *t = subid_append(text, USERNS_OWNER, start, USERNS_BLOCK);
    int r = write_subid(path, t, e);
    if (r < 0)
        return r;
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    (*v)[(*n)++] = (struct subid_entry){start, USERNS_BLOCK};
    return 0;
}

/* Reads both files, adding the berth entries when either lacks one: a
 * block above every entry of both, so the same numbers serve for users
 * and groups. */
static int subids_load(struct subids *s, struct berr *e)
{
    memset(s, 0, sizeof *s);
    const char *fu = userns_subuid_file(), *fg = userns_subgid_file();
    _cleanup_free_ char *tu = NULL, *tg = NULL;
    int r = read_subid(fu, &tu, e);
    if (r == 0)
        r = read_subid(fg, &tg, e);
    if (r < 0)
        return r;
    uint64_t end_u, end_g;
    subid_parse(tu, USERNS_OWNER, &s->uid, &s->n_uid, &end_u);
    subid_parse(tg, USERNS_OWNER, &s->gid, &s->n_gid, &end_g);
    if (s->n_uid > 0 && s->n_gid > 0)
        return 0;
    uint64_t start = subid_block_start(end_u > end_g ? end_u : end_g);
    if (start + USERNS_BLOCK - 1 > UINT32_MAX) {
        subids_free(s);
        return berr_set(e, -ERANGE, "no room for berth's subordinate IDs above the entries of %s",
                        s->n_uid ? fg : fu);
    }
    if (s->n_uid == 0)
        r = add_entry(fu, tu, start, &s->uid, &s->n_uid, e);
    if (r == 0 && s->n_gid == 0)
        r = add_entry(fg, tg, start, &s->gid, &s->n_gid, e);
    if (r < 0)
        subids_free(s);
    return r;
}

static int subids_room(const struct subids *s, struct berr *e)
{
    if (subid_slots(s->uid, s->n_uid) == 0)
        return berr_set(e, -ENOSPC, "the %s entries of %s hold fewer than %u IDs", USERNS_OWNER,
                        userns_subuid_file(), USERNS_IDS);
    if (subid_slots(s->gid, s->n_gid) == 0)
        return berr_set(e, -ENOSPC, "the %s entries of %s hold fewer than %u IDs", USERNS_OWNER,
                        userns_subgid_file(), USERNS_IDS);
    return 0;
}

int userns_ids_ensure(struct berr *e)
{
    struct subids s;
    int r = subids_load(&s, e);
    if (r < 0)
        return r;
    r = subids_room(&s, e);
    subids_free(&s);
    return r;
}

/* The store's record, locked: *lockfd holds the flock until closed. */
static int record_open(const char *root, int *lockfd, json_t **rec, struct berr *e)
{
    *lockfd = -1;
    *rec = NULL;
    int r = fs_mkdir_p(root, 0700, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *lock = xasprintf("%s/userns.lock", root);
    _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return berr_errno(e, errno, "opening %s", lock);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return berr_errno(e, errno, "locking %s", lock);
    _cleanup_free_ char *path = xasprintf("%s/userns.json", root);
    _cleanup_free_ char *text = NULL;
    r = fs_read_file(AT_FDCWD, path, USERNS_JSON_MAX, &text, NULL, e);
    json_t *j = NULL;
    if (r == -ENOENT) {
        berr_clear(e);
    } else if (r < 0) {
        return r;
    } else {
        json_error_t je;
        j = json_loads(text, 0, &je);
        if (!json_is_object(j) || !json_is_object(json_object_get(j, "ranges"))) {
            json_decref(j);
            return berr_set(e, -EINVAL, "%s: not berth's record of ID ranges (line %d: %s)", path,
                            je.line, je.text);
        }
    }
    if (!j)
        j = json_pack("{s:o, s:I}", "ranges", json_object(), "next", (json_int_t)0);
    *rec = j;
    *lockfd = TAKE_FD(fd);
    return 0;
}

static int record_save(const char *root, json_t *rec, struct berr *e)
{
    _cleanup_free_ char *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
    _cleanup_close_ int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return berr_errno(e, errno, "opening %s", root);
    return fs_write_atomic(dfd, "userns.json", text, strlen(text), 0600, e);
}

static bool range_of(json_t *o, struct userns_range *out)
{
    json_t *u = json_object_get(o, "uid"), *g = json_object_get(o, "gid");
    if (!json_is_integer(u) || !json_is_integer(g))
        return false;
    json_int_t uv = json_integer_value(u), gv = json_integer_value(g);
    if (uv < 0 || uv > UINT32_MAX || gv < 0 || gv > UINT32_MAX)
        return false;
    *out = (struct userns_range){(uint32_t)uv, (uint32_t)gv};
    return true;
}

static bool overlaps(uint64_t a, uint64_t b)
{
    return a < b + USERNS_IDS && b < a + USERNS_IDS;
}

/* Whether slot (uid, gid) overlaps a recorded range. */
static bool slot_taken(json_t *ranges, uint64_t uid, uint64_t gid)
{
    const char *k;
    json_t *v;
    json_object_foreach(ranges, k, v)
    {
        struct userns_range r;
        if (range_of(v, &r) && (overlaps(r.uid, uid) || overlaps(r.gid, gid)))
            return true;
    }
    return false;
}

int userns_acquire(const char *root, const char *id, struct userns_range *out, struct berr *e)
{
    _cleanup_close_ int lockfd = -1;
    json_t *rec;
    int r = record_open(root, &lockfd, &rec, e);
    if (r < 0)
        return r;
    json_t *ranges = json_object_get(rec, "ranges");
    if (range_of(json_object_get(ranges, id), out)) {
        json_decref(rec);
        return 0;
    }
    struct subids s;
    r = subids_load(&s, e);
    if (r == 0)
        r = subids_room(&s, e);
    if (r < 0) {
        json_decref(rec);
        return r;
    }
    size_t n = subid_slots(s.uid, s.n_uid), ng = subid_slots(s.gid, s.n_gid);
    if (ng < n)
        n = ng;
    json_int_t next = json_integer_value(json_object_get(rec, "next"));
    size_t first = next > 0 ? (size_t)next % n : 0;
    r = 1;
    for (size_t k = 0; k < n; k++) {
        size_t i = (first + k) % n;
        uint64_t uid, gid;
        if (!subid_slot(s.uid, s.n_uid, i, &uid) || !subid_slot(s.gid, s.n_gid, i, &gid) ||
            slot_taken(ranges, uid, gid))
            continue;
        json_object_set_new(
            ranges, id, json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid));
        json_object_set_new(rec, "next", json_integer((json_int_t)(i + 1)));
        r = record_save(root, rec, e);
        *out = (struct userns_range){(uint32_t)uid, (uint32_t)gid};
        break;
    }
    if (r > 0)
        r = berr_set(e, -ENOSPC,
                     "all %zu ranges of %u IDs that the %s entries of %s and %s give are in use", n,
                     USERNS_IDS, USERNS_OWNER, userns_subuid_file(), userns_subgid_file());
    subids_free(&s);
    json_decref(rec);
    return r;
}

int userns_release(const char *root, const char *id, struct berr *e)
{
    _cleanup_free_ char *path = xasprintf("%s/userns.json", root);
    if (!fs_exists(path))
        return 0; /* no container of this store ever had a range */
    _cleanup_close_ int lockfd = -1;
    json_t *rec;
    int r = record_open(root, &lockfd, &rec, e);
    if (r < 0)
        return r;
    json_t *ranges = json_object_get(rec, "ranges");
    json_t *range = json_object_get(ranges, id);
    if (range) {
        /* its layer copies first: the range is not handed out again
         * before the record says it is free */
        json_int_t uid = json_integer_value(json_object_get(range, "uid"));
        json_int_t gid = json_integer_value(json_object_get(range, "gid"));
        r = layercopy_remove(root, (uint32_t)uid, (uint32_t)gid, e);
        if (r == 0) {
            json_object_del(ranges, id);
            r = record_save(root, rec, e);
        }
    }
    json_decref(rec);
    return r;
}

/* BERTH_USERNS_LAYERS=copy: the layer copies even where idmapped mounts
 * work. */
static bool layers_copy_forced(void)
{
    const char *how = getenv("BERTH_USERNS_LAYERS");
    return how && strcmp(how, "copy") == 0;
}

int userns_layers_prepare(const char *root, const char *id, char *const *layer_dirs, struct berr *e)
{
    if (!layer_dirs || !layer_dirs[0])
        return 0;
    struct userns_range rg;
    int r = userns_acquire(root, id, &rg, e);
    if (r < 0)
        return r;
    if (!layers_copy_forced()) {
        bool ok;
        r = idmap_layers_supported(layer_dirs[0], rg.uid, rg.gid, &ok, e);
        if (r < 0 || ok)
            return r;
    }
    _cleanup_strv_ char **copies = NULL;
    return layercopy_dirs(root, layer_dirs, rg.uid, rg.gid, &copies, e);
}

int userns_spec_fill(const char *root, const char *id, const struct ctr_plan *plan,
                     struct container_spec *spec, struct berr *e)
{
    if (!plan->userns_auto)
        return 0;
    struct userns_range r;
    int rc = userns_acquire(root, id, &r, e);
    if (rc < 0)
        return berr_wrap(e, "%s: userns_mode auto", spec->name);
    spec->userns = true;
    spec->userns_uid = r.uid;
    spec->userns_gid = r.gid;
    spec->userns_layers_root = root;
    spec->userns_layers_copy = layers_copy_forced();
    for (size_t i = 0; i < spec->n_mounts && i < plan->n_mounts; i++) {
        if (plan->mounts[i].type != PLAN_MOUNT_VOLUME || !spec->mounts[i].source)
            continue;
        const char *dir = spec->mounts[i].source;
        struct stat st;
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && st.st_gid == 0 &&
            lchown(dir, r.uid, r.gid) < 0)
            return berr_errno(e, errno, "%s: userns_mode auto: handing volume %s to the container",
                              spec->name, plan->mounts[i].source);
    }
    return 0;
}
