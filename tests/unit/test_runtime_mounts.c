/* SPDX-License-Identifier: Apache-2.0 */
/* container_start with mounts, on a root made from the host's static
 * busybox: binds (read-only, of a file), tmpfs (size, mode, read-only),
 * targets through hostile symlinks in the image (absolute to a host path,
 * climbing with "..", into /proc), refused targets, a read-only root with a
 * writable tmpfs; the host's directories and mount table stay untouched.
 * Needs root and /bin/busybox (static); skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/runtime/runtime.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

struct fx {
    struct runtime rt;
    char *dir, *layer, *hostdir, *src;
    int n;
};

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
    assert_int_equal(chmod(to, mode), 0);
}

static int setup(void **state)
{
    if (geteuid() != 0 || access("/bin/busybox", X_OK) != 0) {
        *state = NULL;
        return 0;
    }
    struct berr e = BERR_INIT;
    struct fx *f = xcalloc(1, sizeof *f);
    f->dir = scratch_dir("test_runtime_mounts");
    f->layer = xasprintf("%s/layer", f->dir);
    f->hostdir = xasprintf("%s/hostdir", f->dir);
    f->src = xasprintf("%s/src", f->dir);
    static const char *const dirs[] = {"layer",     "layer/bin",  "layer/etc",
                                       "layer/tmp", "layer/proc", "layer/sys",
                                       "layer/dev", "hostdir",    "src"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", f->dir, dirs[i]);
        assert_int_equal(mkdir(p, 0755), 0);
    }
    _cleanup_free_ char *bb = xasprintf("%s/bin/busybox", f->layer);
    copy_file("/bin/busybox", bb, 0755);
    static const char *const applets[] = {"sh", "cat", "touch", "grep", "stat", "echo"};
    for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
        _cleanup_free_ char *p = xasprintf("%s/bin/%s", f->layer, applets[i]);
        assert_int_equal(symlink("busybox", p), 0);
    }
    _cleanup_free_ char *pw = xasprintf("%s/etc/passwd", f->layer);
    write_file(pw, "root:x:0:0:root:/root:/bin/sh\n");
    _cleanup_free_ char *hf = xasprintf("%s/hostfile", f->hostdir);
    write_file(hf, "host\n");
    _cleanup_free_ char *sf = xasprintf("%s/file", f->src);
    write_file(sf, "inside\n");
    /* hostile symlinks in the image */
    struct {
        const char *name;
        char *target;
    } links[] = {
        {"abs", xstrdup(f->hostdir)},
        {"climb", xasprintf("../../../../../../../../../..%s", f->hostdir)},
        {"procsys", xstrdup("/proc/sys")},
        {"etclink", xstrdup("/etc")},
        {"dangling", xstrdup("/nonexistent/deeper")},
        {"self", xstrdup("/proc/self/root")},
    };
    for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", f->layer, links[i].name);
        assert_int_equal(symlink(links[i].target, p), 0);
        free(links[i].target);
    }
    if (runtime_init(&f->rt, NULL, &e) < 0) {
        fprintf(stderr, "runtime_init: %s\n", e.msg);
        berr_clear(&e);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    runtime_fini(&f->rt);
    scratch_remove(f->dir);
    free(f->layer);
    free(f->hostdir);
    free(f->src);
    free(f);
    return 0;
}

/* The host's mounts that name the fixture's directory: what a container
 * started from it could leave behind (the whole table also changes with
 * what other tests mount at the same time). */
static char *mountinfo(const struct fx *f)
{
    _cleanup_free_ char *buf = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &buf, NULL, &e), 0);
    char *out = xstrdup("");
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, f->dir)) {
            char *more = xasprintf("%s%s\n", out, line);
            free(out);
            out = more;
        }
    return out;
}

/* Runs script in a container with the mounts; returns its output (heap)
 * or NULL with *e set when it could not start. */
static char *run(struct fx *f, const struct mount_spec *m, size_t n, bool read_only,
                 const char *script, struct berr *e)
{
    int id = f->n++;
    _cleanup_free_ char *upper = xasprintf("%s/upper%d", f->dir, id);
    _cleanup_free_ char *work = xasprintf("%s/work%d", f->dir, id);
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs%d", f->dir, id);
    assert_int_equal(mkdir(upper, 0755), 0);
    assert_int_equal(mkdir(work, 0700), 0);
    assert_int_equal(mkdir(rootfs, 0700), 0);
    _cleanup_free_ char *cg = xasprintf("berth/unit-mounts-%d/app/c%d", (int)getpid(), id);
    char *layers[] = {f->layer, NULL};
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    char *env[] = {"PATH=/bin", NULL};
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    struct container_spec spec = {
        .name = "unit-app-1",
        .layer_dirs = layers,
        .upper_dir = upper,
        .work_dir = work,
        .rootfs_dir = rootfs,
        .argv = argv,
        .env = env,
        .hostname = "unit",
        .read_only = read_only,
        .cgroup_rel = cg,
        .mounts = m,
        .n_mounts = n,
        .stdin_fd = -1,
        .stdout_fd = out[1],
        .stderr_fd = out[1],
    };
    struct container_proc p;
    int r = container_start(&f->rt, &spec, &p, e);
    close(out[1]);
    if (r < 0) {
        close(out[0]);
        return NULL;
    }
    char *text = xstrdup("");
    size_t len = 0;
    char buf[4096];
    ssize_t k;
    while ((k = read(out[0], buf, sizeof buf)) > 0) {
        text = xrealloc(text, len + (size_t)k + 1);
        memcpy(text + len, buf, (size_t)k);
        len += (size_t)k;
        text[len] = '\0';
    }
    close(out[0]);
    struct pollfd pfd = {.fd = p.pidfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    struct container_exit x;
    assert_int_equal(container_reap(&p, &x), 1);
    struct berr ign = BERR_INIT;
    cgroup_destroy(p.cg, true, &ign);
    berr_clear(&ign);
    cgroup_free(p.cg);
    p.cg = NULL;
    container_release(&p, &ign);
    berr_clear(&ign);
    return text;
}

static void expect_in(const char *out, const char *what)
{
    if (!strstr(out, what))
        fail_msg("expected \"%s\" in:\n%s", what, out);
}

static void test_binds_and_tmpfs(void **state)
{
    struct fx *f = *state;
    if (!f) {
        print_message("skipped: needs root and a static /bin/busybox\n");
        return;
    }
    _cleanup_free_ char *file = xasprintf("%s/file", f->src);
    struct mount_spec m[] = {
        {.kind = MOUNT_KIND_BIND, .source = f->src, .target = "/ro", .read_only = true},
        {.kind = MOUNT_KIND_BIND, .source = f->src, .target = "/rw"},
        {.kind = MOUNT_KIND_BIND, .source = file, .target = "/etc/app/one.conf", .read_only = true},
        {.kind = MOUNT_KIND_TMPFS, .target = "/t", .tmpfs_size = 1 << 20, .tmpfs_mode = 0700},
        {.kind = MOUNT_KIND_TMPFS, .target = "/t/nested/deeper"}, /* inside an earlier one */
        {.kind = MOUNT_KIND_TMPFS, .target = "/rot", .read_only = true},
    };
    _cleanup_free_ char *before = mountinfo(f);
    struct berr e = BERR_INIT;
    char *out = run(f, m, ARRAY_SIZE(m), false,
                    "cat /ro/file; touch /ro/x 2>&1; echo w >/rw/written && echo rw-ok; "
                    "cat /etc/app/one.conf; grep ' /t ' /proc/mounts; "
                    "grep ' /t/nested/deeper ' /proc/mounts; stat -c 'mode %a' /t; "
                    "touch /rot/x 2>&1; echo done",
                    &e);
    if (!out)
        fail_msg("%s", e.msg);
    expect_in(out, "inside\n");
    expect_in(out, "Read-only file system");
    expect_in(out, "rw-ok");
    expect_in(out, "size=1024k");
    expect_in(out, "mode=700");
    expect_in(out, "mode 700");
    expect_in(out, "nosuid,nodev");
    expect_in(out, "/t/nested/deeper tmpfs");
    expect_in(out, "done");
    free(out);
    _cleanup_free_ char *w = xasprintf("%s/written", f->src);
    assert_true(fs_exists(w));
    _cleanup_free_ char *x = xasprintf("%s/x", f->src);
    assert_false(fs_exists(x));
    _cleanup_free_ char *after = mountinfo(f);
    assert_string_equal(before, after);
}

/* E05: targets through symlinks in the image land inside the root. */
static void test_symlinked_targets_stay_inside(void **state)
{
    struct fx *f = *state;
    if (!f) {
        print_message("skipped\n");
        return;
    }
    struct mount_spec m[] = {
        {.kind = MOUNT_KIND_BIND, .source = f->src, .target = "/abs/x", .read_only = true},
        {.kind = MOUNT_KIND_BIND, .source = f->src, .target = "/climb/y", .read_only = true},
        {.kind = MOUNT_KIND_TMPFS, .target = "/etclink/z"},
        {.kind = MOUNT_KIND_TMPFS, .target = "/abs/../../../../../t2"},
        {.kind = MOUNT_KIND_TMPFS, .target = "/dangling/sub"}, /* made where it points */
    };
    _cleanup_free_ char *before = mountinfo(f);
    struct berr e = BERR_INIT;
    char *out = run(f, m, ARRAY_SIZE(m), false,
                    "cat /abs/x/file; cat /climb/y/file; grep -c ' /etc/z ' /proc/mounts; "
                    "grep -c ' /t2 ' /proc/mounts; grep ' /nonexistent/deeper/sub ' /proc/mounts",
                    &e);
    if (!out)
        fail_msg("%s", e.msg);
    const char *p = out;
    int inside = 0;
    while ((p = strstr(p, "inside\n"))) {
        inside++;
        p++;
    }
    if (inside != 2)
        fail_msg("both binds should be visible through the image's symlinks:\n%s", out);
    expect_in(out, "/nonexistent/deeper/sub tmpfs");
    free(out);
    /* the host directory the symlinks name is untouched */
    _cleanup_free_ char *hx = xasprintf("%s/x", f->hostdir);
    _cleanup_free_ char *hy = xasprintf("%s/y", f->hostdir);
    assert_false(fs_exists(hx));
    assert_false(fs_exists(hy));
    assert_false(fs_exists("/nonexistent"));
    _cleanup_free_ char *after = mountinfo(f);
    assert_string_equal(before, after);
}

static void test_refused_targets(void **state)
{
    struct fx *f = *state;
    if (!f) {
        print_message("skipped\n");
        return;
    }
    static const struct {
        const char *target, *msg;
    } bad[] = {
        {"/procsys/kernel", "/proc or /sys"}, /* through an image symlink */
        {"/procsys", "/proc or /sys"},        /* the symlink itself */
        {"/proc/sys", "/proc or /sys"},       /* lexically */
        {"/sys/kernel", "/proc or /sys"},     /* lexically */
        {"/", "root"},                        /* the root */
        {"/self/etc", "Too many levels"},     /* a magic link */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct mount_spec m = {.kind = MOUNT_KIND_TMPFS, .target = bad[i].target};
        struct berr e = BERR_INIT;
        char *out = run(f, &m, 1, false, "echo started", &e);
        if (out)
            fail_msg("%s accepted:\n%s", bad[i].target, out);
        assert_non_null(strstr(e.msg, "unit-app-1"));
        if (!strstr(e.msg, bad[i].msg))
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].target, e.msg, bad[i].msg);
        berr_clear(&e);
    }
}

static void test_read_only_root(void **state)
{
    struct fx *f = *state;
    if (!f) {
        print_message("skipped\n");
        return;
    }
    struct mount_spec m[] = {{.kind = MOUNT_KIND_TMPFS, .target = "/tmp"}};
    struct berr e = BERR_INIT;
    char *out = run(f, m, 1, true,
                    "touch /tmp/ok && echo tmp-ok; touch /nope 2>&1; stat -c 'tmp %a' /tmp", &e);
    if (!out)
        fail_msg("%s", e.msg);
    expect_in(out, "tmp-ok");
    expect_in(out, "Read-only file system");
    expect_in(out, "tmp 1777");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binds_and_tmpfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_targets_stay_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_root, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
