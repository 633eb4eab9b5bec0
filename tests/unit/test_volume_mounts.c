/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the mount path from compose to runtime: planning a
 * service's mounts (volume names, anonymous volumes, refused targets), the
 * host side before a start (bind sources, volume creation, labels, external
 * volumes), the runtime's mount specs and their checks, and volume removal
 * for `down` and `down -v`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/plan/plan.h"
#include "engine/runtime/mountspec.h"
#include "engine/supervise/records.h"
#include "engine/volume/mounts.h"
#include "engine/volume/volume.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

struct fx {
    char *dir;
    char *root;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->dir = scratch_dir("test_volume_mounts");
    f->root = xasprintf("%s/root", f->dir);
    assert_int_equal(mkdir(f->root, 0700), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    scratch_remove(f->dir);
    free(f->root);
    free(f);
    return 0;
}

/* --- planning ---------------------------------------------------------------- */

static struct volume_def test_vols[] = {
    {.key = "data", .name = "proj_data"},
    {.key = "ext", .name = "shared-ext", .external = true},
    {.key = "named", .name = "custom.name"},
};

static struct project test_project = {
    .name = "proj",
    .working_dir = "/srv/proj",
    .volumes = test_vols,
    .n_volumes = 3,
};

static int plan_one(const char *container, struct svc_mount *sm, size_t n, struct ctr_plan *out,
                    struct berr *e)
{
    struct service s = {.name = "web", .mounts = sm, .n_mounts = n};
    memset(out, 0, sizeof *out);
    out->name = xstrdup(container);
    int r = plan_mounts(&test_project, &s, NULL, out, e);
    return r;
}

static void test_plan_mounts(void **state)
{
    (void)state;
    struct svc_mount sm[] = {
        {.type = MOUNT_BIND,
         .source = "/host/conf",
         .target = "/etc/app/",
         .read_only = true,
         .create_host_path = true},
        {.type = MOUNT_VOLUME, .source = "data", .target = "/var/lib//db"},
        {.type = MOUNT_VOLUME, .source = "ext", .target = "/ext", .nocopy = true},
        {.type = MOUNT_VOLUME, .source = "named", .target = "/named"},
        {.type = MOUNT_VOLUME, .source = NULL, .target = "/anon"},
        {.type = MOUNT_TMPFS, .target = "/tmp", .tmpfs_size = 1 << 20, .tmpfs_mode = 0700},
        {.type = MOUNT_BIND, .source = "rel/dir", .target = "/x/../rel"},
    };
    struct berr e = BERR_INIT;
    struct ctr_plan p;
    if (plan_one("proj-web-1", sm, ARRAY_SIZE(sm), &p, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(p.n_mounts, ARRAY_SIZE(sm));
    assert_int_equal(p.mounts[0].type, PLAN_MOUNT_BIND);
    assert_string_equal(p.mounts[0].source, "/host/conf");
    assert_string_equal(p.mounts[0].target, "/etc/app");
    assert_true(p.mounts[0].read_only);
    assert_true(p.mounts[0].create_host_path);
    assert_int_equal(p.mounts[1].type, PLAN_MOUNT_VOLUME);
    assert_string_equal(p.mounts[1].source, "proj_data");
    assert_string_equal(p.mounts[1].target, "/var/lib/db");
    assert_true(p.mounts[1].create_host_path);
    assert_string_equal(p.mounts[2].source, "shared-ext");
    assert_false(p.mounts[2].create_host_path); /* external: must exist */
    assert_true(p.mounts[2].nocopy);
    assert_string_equal(p.mounts[3].source, "custom.name");
    /* anonymous: 64 hex, the same for the same container and target */
    assert_int_equal(strlen(p.mounts[4].source), 64);
    assert_true(volume_name_valid(p.mounts[4].source));
    assert_int_equal(p.mounts[5].type, PLAN_MOUNT_TMPFS);
    assert_null(p.mounts[5].source);
    assert_int_equal(p.mounts[5].tmpfs_size, 1 << 20);
    assert_int_equal(p.mounts[5].tmpfs_mode, 0700);
    assert_string_equal(p.mounts[6].source, "/srv/proj/rel/dir");
    assert_string_equal(p.mounts[6].target, "/rel");

    struct ctr_plan again, other;
    assert_int_equal(plan_one("proj-web-1", sm, ARRAY_SIZE(sm), &again, &e), 0);
    assert_string_equal(again.mounts[4].source, p.mounts[4].source);
    assert_int_equal(plan_one("proj-web-2", sm, ARRAY_SIZE(sm), &other, &e), 0);
    assert_string_not_equal(other.mounts[4].source, p.mounts[4].source);

    /* the plan keeps the mounts through its record */
    json_t *j = plan_to_json(&p);
    json_object_set_new(j, "argv", json_pack("[s]", "true"));
    struct ctr_plan back;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    json_decref(j);
    assert_int_equal(back.n_mounts, p.n_mounts);
    for (size_t i = 0; i < p.n_mounts; i++) {
        assert_int_equal(back.mounts[i].type, p.mounts[i].type);
        assert_string_equal(back.mounts[i].target, p.mounts[i].target);
        if (p.mounts[i].source)
            assert_string_equal(back.mounts[i].source, p.mounts[i].source);
        assert_int_equal(back.mounts[i].create_host_path, p.mounts[i].create_host_path);
        assert_int_equal(back.mounts[i].nocopy, p.mounts[i].nocopy);
    }
    ctr_plan_free(&back);
    ctr_plan_free(&p);
    ctr_plan_free(&again);
    ctr_plan_free(&other);
}

static void test_plan_refuses(void **state)
{
    (void)state;
    const char *bad[] = {"/",       "/proc",          "/proc/self",
                         "/sys",    "/sys/fs/cgroup", "/x/../proc/sys",
                         "//proc/", "/a/../../sys"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct svc_mount sm = {.type = MOUNT_TMPFS, .target = (char *)bad[i]};
        struct berr e = BERR_INIT;
        struct ctr_plan p;
        int r = plan_one("proj-web-1", &sm, 1, &p, &e);
        if (r >= 0)
            fail_msg("target %s accepted", bad[i]);
        assert_non_null(strstr(e.msg, "service \"web\""));
        assert_non_null(strstr(e.msg, bad[i]));
        berr_clear(&e);
        ctr_plan_free(&p);
    }
    /* allowed neighbours */
    const char *good[] = {"/procfs", "/system", "/srv/proc", "/dev/shm"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct svc_mount sm = {.type = MOUNT_TMPFS, .target = (char *)good[i]};
        struct berr e = BERR_INIT;
        struct ctr_plan p;
        if (plan_one("proj-web-1", &sm, 1, &p, &e) < 0)
            fail_msg("%s", e.msg);
        ctr_plan_free(&p);
    }
    /* duplicate target after cleaning; undefined volume */
    struct svc_mount dup[] = {{.type = MOUNT_TMPFS, .target = "/a"},
                              {.type = MOUNT_TMPFS, .target = "/a/"}};
    struct berr e = BERR_INIT;
    struct ctr_plan p;
    assert_true(plan_one("proj-web-1", dup, 2, &p, &e) < 0);
    assert_non_null(strstr(e.msg, "duplicate"));
    berr_clear(&e);
    ctr_plan_free(&p);
    struct svc_mount undef = {.type = MOUNT_VOLUME, .source = "nope", .target = "/n"};
    assert_true(plan_one("proj-web-1", &undef, 1, &p, &e) < 0);
    assert_non_null(strstr(e.msg, "undefined volume"));
    berr_clear(&e);
    ctr_plan_free(&p);
}

/* --- runtime mount specs ------------------------------------------------------ */

/* The image's VOLUMEs: anonymous volumes where the service mounts nothing,
 * paths kept inside the root, / /proc /sys refused naming the image. */
static void test_image_volumes(void **state)
{
    (void)state;
    char *vols[] = {"/../../etc", "/conf", "/var/lib/db/", "rel", NULL};
    struct image img = {.familiar = "example/db:1", .volumes = vols};
    struct svc_mount sm[] = {
        {.type = MOUNT_BIND, .source = "/host/conf", .target = "/conf"},
    };
    struct service s = {.name = "db", .mounts = sm, .n_mounts = 1};
    struct ctr_plan p = {.name = xstrdup("proj-db-1")};
    struct berr e = BERR_INIT;
    if (plan_mounts(&test_project, &s, &img, &p, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(p.n_mounts, 4);
    assert_int_equal(p.mounts[0].type, PLAN_MOUNT_BIND); /* the service's mount wins */
    assert_string_equal(p.mounts[0].target, "/conf");
    const char *want[] = {"/etc", "/var/lib/db", "/rel"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p.mounts[i + 1].type, PLAN_MOUNT_VOLUME);
        assert_string_equal(p.mounts[i + 1].target, want[i]);
        assert_int_equal(strlen(p.mounts[i + 1].source), 64);
        assert_true(p.mounts[i + 1].create_host_path);
    }
    ctr_plan_free(&p);

    /* No service mounts at all: the image's alone. */
    struct service bare = {.name = "db"};
    p = (struct ctr_plan){.name = xstrdup("proj-db-1")};
    assert_int_equal(plan_mounts(&test_project, &bare, &img, &p, &e), 0);
    assert_int_equal(p.n_mounts, 4);
    ctr_plan_free(&p);

    static const char *const bad[] = {"/", "/proc", "/sys/fs/cgroup", "/dev/..", "/x/../../proc/1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *one[] = {(char *)bad[i], NULL};
        struct image hostile = {.familiar = "evil:1", .volumes = one};
        p = (struct ctr_plan){.name = xstrdup("proj-db-1")};
        assert_int_equal(plan_mounts(&test_project, &bare, &hostile, &p, &e), -EPERM);
        assert_non_null(strstr(e.msg, "the image evil:1 declares VOLUME"));
        berr_clear(&e);
        ctr_plan_free(&p);
    }
}

/* As the runtime cleans a mount target (engine/runtime/mountspec.c). */
#define MOUNT_TARGET (PATH_NORM_ABSOLUTE_ONLY | PATH_NORM_STRIP_ROOT)

static void test_target_clean(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/", ""},           {"/a", "a"},
        {"//a//b/", "a/b"},  {"/a/./b", "a/b"},
        {"/a/../b", "b"},    {"/../../etc", "etc"},
        {"/a/b/..", "a"},    {"/a/..", ""},
        {"/.../x", ".../x"}, {"/a/b/../../c/d", "c/d"},
    };
    char buf[PATH_MAX];
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(path_normalize(cases[i].in, MOUNT_TARGET, buf, sizeof buf), 0);
        assert_string_equal(buf, cases[i].out);
    }
    assert_int_equal(path_normalize("rel", MOUNT_TARGET, buf, sizeof buf), -EINVAL);
    assert_int_equal(path_normalize(NULL, MOUNT_TARGET, buf, sizeof buf), -EINVAL);
    char small[4];
    assert_int_equal(path_normalize("/abcdef", MOUNT_TARGET, small, sizeof small), -ENAMETOOLONG);
    assert_true(mount_target_forbidden("proc"));
    assert_true(mount_target_forbidden("proc/1/root"));
    assert_true(mount_target_forbidden("sys"));
    assert_false(mount_target_forbidden("procx"));
    assert_false(mount_target_forbidden("srv/proc"));
    assert_false(mount_target_forbidden("system"));
}

static void test_init_mounts(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *file = xasprintf("%s/afile", f->dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    struct mount_spec ms[] = {
        {.kind = MOUNT_KIND_BIND, .source = f->dir, .target = "/data/", .read_only = true},
        {.kind = MOUNT_KIND_BIND, .source = file, .target = "/etc/x.conf"},
        {.kind = MOUNT_KIND_TMPFS, .target = "/tmp", .tmpfs_size = 65536},
        {.kind = MOUNT_KIND_TMPFS, .target = "/run", .tmpfs_mode = 0755},
    };
    struct container_spec spec = {.name = "proj-web-1", .mounts = ms, .n_mounts = 4};
    struct init_mounts im;
    struct berr e = BERR_INIT;
    if (init_mounts_prepare(&spec, &im, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(im.n, 4);
    assert_string_equal(im.v[0].target, "data");
    assert_string_equal(im.v[0].what, "mounting /data");
    assert_true(im.v[0].read_only);
    assert_false(im.v[0].target_is_file);
    assert_true(im.v[1].target_is_file);
    assert_null(im.v[2].source);
    assert_string_equal(im.v[2].tmpfs_size, "65536");
    assert_string_equal(im.v[2].tmpfs_mode, "1777");
    assert_string_equal(im.v[3].tmpfs_size, "");
    assert_string_equal(im.v[3].tmpfs_mode, "755");
    init_mounts_free(&im);

    static const struct {
        enum mount_kind kind;
        const char *source, *target, *msg;
    } bad[] = {
        {MOUNT_KIND_TMPFS, NULL, "/proc/sys", "/proc or /sys"},
        {MOUNT_KIND_TMPFS, NULL, "/a/../sys", "/proc or /sys"},
        {MOUNT_KIND_TMPFS, NULL, "/", "root"},
        {MOUNT_KIND_TMPFS, NULL, "/..", "root"},
        {MOUNT_KIND_TMPFS, NULL, "relative", "absolute"},
        {MOUNT_KIND_BIND, "/no/such/berth/dir", "/d", "does not exist"},
        {MOUNT_KIND_BIND, "relative", "/d", "absolute"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct mount_spec one = {
            .kind = bad[i].kind, .source = bad[i].source, .target = bad[i].target};
        struct container_spec s1 = {.name = "proj-web-1", .mounts = &one, .n_mounts = 1};
        if (init_mounts_prepare(&s1, &im, &e) >= 0)
            fail_msg("%s accepted", bad[i].target);
        assert_non_null(strstr(e.msg, "proj-web-1"));
        if (!strstr(e.msg, bad[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].target, e.msg, bad[i].msg);
        berr_clear(&e);
        assert_null(im.v);
    }
}

/* --- host side: prepare, build, remove ------------------------------------------ */

static void plan_with(struct ctr_plan *p, const char *name, struct plan_mount *m, size_t n)
{
    memset(p, 0, sizeof *p);
    p->name = xstrdup(name);
    p->mounts = xcalloc(n, sizeof *p->mounts);
    for (size_t i = 0; i < n; i++) {
        p->mounts[i] = m[i];
        p->mounts[i].source = m[i].source ? xstrdup(m[i].source) : NULL;
        p->mounts[i].target = xstrdup(m[i].target);
    }
    p->n_mounts = n;
}

static bool labelled(const char *root, const char *name, const char *label)
{
    struct volume_info vi;
    struct berr e = BERR_INIT;
    if (volume_inspect(root, name, &vi, &e) < 0) {
        berr_clear(&e);
        return false;
    }
    bool r = strv_contains(vi.labels, label);
    volume_info_free(&vi);
    return r;
}

static const char anon[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_prepare_and_build(void **state)
{
    struct fx *f = *state;
    _cleanup_free_ char *created_dir = xasprintf("%s/host/made/here", f->dir);
    _cleanup_free_ char *missing = xasprintf("%s/host/missing", f->dir);
    struct plan_mount pm[] = {
        {.type = PLAN_MOUNT_BIND, .source = created_dir, .target = "/a", .create_host_path = true},
        {.type = PLAN_MOUNT_VOLUME,
         .source = "proj_data",
         .target = "/data",
         .create_host_path = true},
        {.type = PLAN_MOUNT_VOLUME,
         .source = (char *)anon,
         .target = "/anon",
         .create_host_path = true,
         .nocopy = true},
        {.type = PLAN_MOUNT_TMPFS, .target = "/tmp", .tmpfs_size = 4096},
    };
    struct ctr_plan p;
    plan_with(&p, "proj-web-1", pm, ARRAY_SIZE(pm));
    struct berr e = BERR_INIT;
    if (mounts_prepare(f->root, "proj", &p, &e) < 0)
        fail_msg("%s", e.msg);
    struct stat st;
    assert_int_equal(stat(created_dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(volume_exists(f->root, "proj_data", &e), 0);
    assert_true(labelled(f->root, "proj_data", "com.docker.compose.project=proj"));
    assert_false(labelled(f->root, "proj_data", "com.docker.volume.anonymous="));
    assert_true(labelled(f->root, anon, "com.docker.volume.anonymous="));
    _cleanup_free_ char *pending = xasprintf("%s/volumes/%s/seed-pending", f->root, anon);
    assert_false(fs_exists(pending)); /* nocopy: used, never seeded */
    /* idempotent */
    assert_int_equal(mounts_prepare(f->root, "proj", &p, &e), 0);

    struct mount_set set;
    assert_int_equal(mounts_build(f->root, &p, &set, &e), 0);
    assert_int_equal(set.n, 4);
    assert_int_equal(set.specs[0].kind, MOUNT_KIND_BIND);
    assert_string_equal(set.specs[0].source, created_dir);
    assert_int_equal(set.specs[1].kind, MOUNT_KIND_BIND);
    _cleanup_free_ char *data = volume_data_path(f->root, "proj_data");
    assert_string_equal(set.specs[1].source, data);
    assert_string_equal(set.specs[1].target, "/data");
    assert_int_equal(set.specs[3].kind, MOUNT_KIND_TMPFS);
    assert_int_equal(set.specs[3].tmpfs_size, 4096);
    mount_set_free(&set);
    ctr_plan_free(&p);

    /* a missing source without create_host_path, an external volume that
     * does not exist */
    struct plan_mount nocreate = {.type = PLAN_MOUNT_BIND, .source = missing, .target = "/m"};
    plan_with(&p, "proj-web-1", &nocreate, 1);
    assert_int_equal(mounts_prepare(f->root, "proj", &p, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "bind source path does not exist"));
    assert_false(fs_exists(missing));
    berr_clear(&e);
    ctr_plan_free(&p);
    struct plan_mount ext = {.type = PLAN_MOUNT_VOLUME, .source = "outside", .target = "/e"};
    plan_with(&p, "proj-web-1", &ext, 1);
    assert_int_equal(mounts_prepare(f->root, "proj", &p, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "external volume \"outside\" not found"));
    berr_clear(&e);
    assert_int_equal(volume_exists(f->root, "outside", &e), -ENOENT);
    berr_clear(&e);
    ctr_plan_free(&p);
}

static void test_declared_and_removal(void **state)
{
    struct fx *f = *state;
    struct berr e = BERR_INIT;
    char *labels[] = {"tier=db", NULL};
    struct volume_def vols[] = {
        {.key = "data", .name = "proj_data", .labels = labels},
        {.key = "ext", .name = "shared", .external = true},
    };
    struct project p = {.name = "proj", .volumes = vols, .n_volumes = 2};
    char **created = NULL;
    assert_int_equal(volumes_create_declared(f->root, &p, &created, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "external volume \"shared\" not found"));
    berr_clear(&e);
    strv_free(created);
    bool made;
    assert_int_equal(volume_ensure(f->root, "shared", NULL, &made, &e), 0);
    assert_int_equal(volumes_create_declared(f->root, &p, &created, &e), 0);
    assert_int_equal(strv_len(created), 1);
    assert_string_equal(created[0], "proj_data");
    strv_free(created);
    assert_true(labelled(f->root, "proj_data", "com.docker.compose.volume=data"));
    assert_true(labelled(f->root, "proj_data", "tier=db"));
    assert_int_equal(volumes_create_declared(f->root, &p, &created, &e), 0);
    assert_int_equal(strv_len(created), 0); /* kept */
    strv_free(created);

    /* anonymous volumes: removed with their container, only when they are
     * labelled anonymous and of this project */
    char *anon_labels[] = {"com.docker.compose.project=proj", "com.docker.volume.anonymous=", NULL};
    char *other_labels[] = {"com.docker.compose.project=other",
                            "com.docker.volume.anonymous=", NULL};
    const char anon2[] = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char anon3[] = "2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_int_equal(volume_ensure(f->root, anon, anon_labels, &made, &e), 0);
    assert_int_equal(volume_ensure(f->root, anon2, other_labels, &made, &e), 0);
    assert_int_equal(volume_ensure(f->root, anon3, NULL, &made, &e), 0);
    struct plan_mount pm[] = {
        {.type = PLAN_MOUNT_VOLUME, .source = (char *)anon, .target = "/a"},
        {.type = PLAN_MOUNT_VOLUME, .source = (char *)anon2, .target = "/b"},
        {.type = PLAN_MOUNT_VOLUME, .source = (char *)anon3, .target = "/c"},
        {.type = PLAN_MOUNT_VOLUME, .source = "proj_data", .target = "/d"},
    };
    struct ctr_plan cp;
    plan_with(&cp, "proj-web-1", pm, ARRAY_SIZE(pm));
    assert_int_equal(mounts_remove_anonymous(f->root, "proj", &cp, &e), 0);
    ctr_plan_free(&cp);
    assert_int_equal(volume_exists(f->root, anon, &e), -ENOENT);
    berr_clear(&e);
    assert_int_equal(volume_exists(f->root, anon2, &e), 0);
    assert_int_equal(volume_exists(f->root, anon3, &e), 0);
    assert_int_equal(volume_exists(f->root, "proj_data", &e), 0);

    /* down -v: the project's own volumes go; external and foreign ones
     * stay; one another project's container mounts is kept */
    char *p_labels[] = {"com.docker.compose.project=proj", NULL};
    assert_int_equal(volume_ensure(f->root, "proj_busy", p_labels, &made, &e), 0);
    assert_int_equal(volume_ensure(f->root, "proj_cache", p_labels, &made, &e), 0);
    struct plan_mount busy = {.type = PLAN_MOUNT_VOLUME, .source = "proj_busy", .target = "/x"};
    struct ctr_record rec = {
        .id = ctr_new_id(),
        .name = "other-app-1",
        .project = "other",
        .service = "app",
        .number = 1,
    };
    plan_with(&rec.plan, "other-app-1", &busy, 1);
    strv_push(&rec.plan.argv, xstrdup("true"));
    assert_int_equal(ctr_create(f->root, &rec, &e), 0);
    char **removed = NULL;
    assert_int_equal(volumes_remove_project(f->root, "proj", &removed, &e), -EBUSY);
    assert_non_null(strstr(e.msg, "proj_busy"));
    assert_non_null(strstr(e.msg, "other-app-1"));
    berr_clear(&e);
    assert_int_equal(strv_len(removed), 2);
    assert_true(strv_contains(removed, "proj_data"));
    assert_true(strv_contains(removed, "proj_cache"));
    strv_free(removed);
    assert_int_equal(volume_exists(f->root, "shared", &e), 0);
    assert_int_equal(volume_exists(f->root, "proj_busy", &e), 0);
    assert_int_equal(volume_exists(f->root, anon2, &e), 0);
    assert_int_equal(ctr_remove(f->root, rec.id, &e), 0);
    free(rec.id);
    /* an orphan of the project itself, which down was told to keep */
    rec.id = ctr_new_id();
    rec.name = "proj-old-1";
    rec.project = "proj";
    assert_int_equal(ctr_create(f->root, &rec, &e), 0);
    assert_int_equal(volumes_remove_project(f->root, "proj", &removed, &e), -EBUSY);
    assert_non_null(strstr(e.msg, "proj-old-1"));
    berr_clear(&e);
    strv_free(removed);
    assert_int_equal(ctr_remove(f->root, rec.id, &e), 0);
    free(rec.id);
    ctr_plan_free(&rec.plan);
    assert_int_equal(volumes_remove_project(f->root, "proj", &removed, &e), 0);
    assert_int_equal(strv_len(removed), 1);
    strv_free(removed);
    assert_int_equal(volumes_remove_project(f->root, "nothing", &removed, &e), 0);
    assert_int_equal(strv_len(removed), 0);
    strv_free(removed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_mounts),
        cmocka_unit_test(test_plan_refuses),
        cmocka_unit_test(test_image_volumes),
        cmocka_unit_test(test_target_clean),
        cmocka_unit_test_setup_teardown(test_init_mounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_and_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_and_removal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
