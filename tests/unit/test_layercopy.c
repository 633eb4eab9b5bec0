/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the layer copies of userns_mode auto where idmapped
 * mounts are refused (engine/runtime/layercopy.h): the ID shift, the
 * extended attributes that hold IDs (file capabilities of revisions 2
 * and 3, POSIX ACLs; malformed ones refused), and a real copy of a tree
 * holding every kind of entry a layer has (owners in and past the range,
 * setuid modes, hard and symbolic links, FIFOs, whiteouts, overlay's
 * opaque marker, times), kept across calls, removed with its range, and
 * nothing left by a copy that fails. Needs root (chown, mknod,
 * trusted.* attributes): skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/runtime/layercopy.h"
#include "scratch.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

#define BASE 524288u

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_shift(void **state)
{
    (void)state;
    assert_int_equal(layercopy_shift(0, BASE), BASE);
    assert_int_equal(layercopy_shift(1000, BASE), BASE + 1000);
    assert_int_equal(layercopy_shift(65535, BASE), BASE + 65535);
    /* past the range: its nobody */
    assert_int_equal(layercopy_shift(65536, BASE), BASE + 65534);
    assert_int_equal(layercopy_shift(4000000000u, BASE), BASE + 65534);
}

static void test_caps(void **state)
{
    (void)state;
    uint8_t v2[XATTR_CAPS_SZ_2] = {0}, out[64];
    put32(v2, VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE);
    put32(v2 + 4, 1u << CAP_NET_BIND_SERVICE);
    ssize_t n = layercopy_xattr_value("security.capability", v2, sizeof v2, BASE, BASE + 7, out,
                                      sizeof out);
    assert_int_equal(n, XATTR_CAPS_SZ_3);
    assert_int_equal(get32(out), VFS_CAP_REVISION_3 | VFS_CAP_FLAGS_EFFECTIVE);
    assert_int_equal(get32(out + 4), 1u << CAP_NET_BIND_SERVICE);
    assert_int_equal(get32(out + 20), BASE); /* the range's root, as an idmapped mount shows */

    uint8_t v3[XATTR_CAPS_SZ_3] = {0};
    put32(v3, VFS_CAP_REVISION_3);
    put32(v3 + 20, 1000);
    n = layercopy_xattr_value("security.capability", v3, sizeof v3, BASE, 0, out, sizeof out);
    assert_int_equal(n, XATTR_CAPS_SZ_3);
    assert_int_equal(get32(out + 20), BASE + 1000);

    /* revision 1, a wrong size, a short value, no room */
    uint8_t v1[12] = {0};
    put32(v1, VFS_CAP_REVISION_1);
    assert_int_equal(
        layercopy_xattr_value("security.capability", v1, sizeof v1, BASE, BASE, out, sizeof out),
        -EINVAL);
    assert_int_equal(layercopy_xattr_value("security.capability", v2, sizeof v2 - 1, BASE, BASE,
                                           out, sizeof out),
                     -EINVAL);
    assert_int_equal(
        layercopy_xattr_value("security.capability", v2, 2, BASE, BASE, out, sizeof out), -EINVAL);
    assert_int_equal(layercopy_xattr_value("security.capability", v2, sizeof v2, BASE, BASE, out,
                                           XATTR_CAPS_SZ_2),
                     -EINVAL);
}

static void test_acl(void **state)
{
    (void)state;
    /* version 2; USER_OBJ, USER 1000, GROUP 50, MASK, OTHER */
    uint8_t acl[4 + 5 * 8] = {0}, out[64];
    put32(acl, 2);
    const unsigned tags[5] = {0x01, 0x02, 0x08, 0x10, 0x20};
    const uint32_t ids[5] = {0xffffffffu, 1000, 50, 0xffffffffu, 0xffffffffu};
    for (int i = 0; i < 5; i++) {
        acl[4 + 8 * i] = (uint8_t)tags[i];
        acl[4 + 8 * i + 2] = 6;
        put32(acl + 4 + 8 * i + 4, ids[i]);
    }
    ssize_t n = layercopy_xattr_value("system.posix_acl_access", acl, sizeof acl, BASE, BASE + 1,
                                      out, sizeof out);
    assert_int_equal(n, sizeof acl);
    assert_int_equal(get32(out + 4 + 4), 0xffffffffu); /* the owner's entry: no ID */
    assert_int_equal(get32(out + 12 + 4), BASE + 1000);
    assert_int_equal(get32(out + 20 + 4), BASE + 1 + 50);
    assert_int_equal(get32(out + 28 + 4), 0xffffffffu);
    assert_int_equal(out[12 + 2], 6); /* perms kept */
    n = layercopy_xattr_value("system.posix_acl_default", acl, sizeof acl, BASE, BASE, out,
                              sizeof out);
    assert_int_equal(get32(out + 12 + 4), BASE + 1000);
    /* a wrong version, a cut entry */
    put32(acl, 1);
    assert_int_equal(layercopy_xattr_value("system.posix_acl_access", acl, sizeof acl, BASE, BASE,
                                           out, sizeof out),
                     -EINVAL);
    put32(acl, 2);
    assert_int_equal(layercopy_xattr_value("system.posix_acl_access", acl, sizeof acl - 3, BASE,
                                           BASE, out, sizeof out),
                     -EINVAL);
    /* any other attribute: as it is */
    n = layercopy_xattr_value("trusted.overlay.opaque", (const uint8_t *)"y", 1, BASE, BASE, out,
                              sizeof out);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'y');
}

/* ---- a real copy ----------------------------------------------------------- */

static void mkfile(const char *dir, const char *name, mode_t mode, uid_t u, gid_t g,
                   const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chown(p, u, g), 0);
    assert_int_equal(chmod(p, mode), 0);
}

static struct stat st_of(const char *dir, const char *name)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return st;
}

static char *text_of(const char *dir, const char *name)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    char *buf = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, p, 1 << 20, &buf, NULL, &e), 0);
    return buf;
}

/* A layer as the store keeps one: dir/layers/<hex>. */
static char *make_layer(const char *dir, const char *hex)
{
    char *l = xasprintf("%s/layers/%s", dir, hex);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(l, 0755, &e), 0);
    return l;
}

static void test_copy(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char *dir = scratch_dir("layercopy");
    _cleanup_free_ char *l1 = make_layer(dir, "aaaa");
    _cleanup_free_ char *l2 = make_layer(dir, "bbbb");
    _cleanup_free_ char *sub = xasprintf("%s/etc", l1);
    assert_int_equal(mkdir(sub, 0751), 0);
    mkfile(l1, "etc/passwd", 0644, 0, 0, "root:x:0:0::/:/bin/sh\n");
    mkfile(l1, "suid", 04755, 0, 0, "#!/bin/sh\n");
    mkfile(l1, "user", 0640, 1000, 1001, "u");
    mkfile(l1, "far", 0600, 70000, 80000, "f");
    _cleanup_free_ char *a = xasprintf("%s/suid", l1), *b = xasprintf("%s/etc/hard", l1);
    assert_int_equal(link(a, b), 0);
    _cleanup_free_ char *sl = xasprintf("%s/sym", l1);
    assert_int_equal(symlink("etc/passwd", sl), 0);
    assert_int_equal(lchown(sl, 5, 6), 0);
    _cleanup_free_ char *fifo = xasprintf("%s/fifo", l1);
    assert_int_equal(mkfifo(fifo, 0620), 0);
    assert_int_equal(chmod(fifo, 0620), 0);
    assert_int_equal(setxattr(a, "user.note", "kept", 4, 0), 0);
    uint8_t cap[XATTR_CAPS_SZ_2] = {0};
    put32(cap, VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE);
    put32(cap + 4, 1u << CAP_NET_RAW);
    _cleanup_free_ char *capf = xasprintf("%s/ping", l1);
    mkfile(l1, "ping", 0755, 0, 0, "p");
    assert_int_equal(setxattr(capf, "security.capability", cap, sizeof cap, 0), 0);
    struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, a, old, AT_SYMLINK_NOFOLLOW), 0);
    /* the upper layer: a whiteout and an opaque directory */
    _cleanup_free_ char *wh = xasprintf("%s/user", l2);
    assert_int_equal(mknod(wh, S_IFCHR | 0, makedev(0, 0)), 0);
    _cleanup_free_ char *op = xasprintf("%s/etc", l2);
    assert_int_equal(mkdir(op, 0755), 0);
    assert_int_equal(setxattr(op, "trusted.overlay.opaque", "y", 1, 0), 0);

    char *layers[] = {l1, l2, NULL};
    _cleanup_free_ char *root = xasprintf("%s/root", dir);
    struct berr e = BERR_INIT;
    _cleanup_strv_ char **out = NULL;
    assert_int_equal(layercopy_dirs(root, layers, BASE, BASE + 100, &out, &e), 0);
    assert_int_equal(strv_len(out), 2);
    _cleanup_free_ char *want1 = xasprintf("%s/userns-layers/%u-%u/aaaa", root, BASE, BASE + 100);
    assert_string_equal(out[0], want1);
    const char *c1 = out[0], *c2 = out[1];

    struct stat st = st_of(c1, ".");
    assert_int_equal(st.st_uid, BASE);
    assert_int_equal(st.st_gid, BASE + 100);
    assert_int_equal(st.st_mode & 07777, 0755);
    st = st_of(c1, "etc");
    assert_int_equal(st.st_mode & 07777, 0751);
    st = st_of(c1, "suid");
    assert_int_equal(st.st_mode & 07777, 04755); /* chown did not take the bit */
    assert_int_equal(st.st_uid, BASE);
    assert_int_equal(st.st_mtim.tv_sec, 1000000000);
    struct stat hard = st_of(c1, "etc/hard");
    assert_int_equal(hard.st_ino, st.st_ino); /* still one inode */
    assert_int_equal(hard.st_nlink, 2);
    st = st_of(c1, "user");
    assert_int_equal(st.st_uid, BASE + 1000);
    assert_int_equal(st.st_gid, BASE + 100 + 1001);
    assert_int_equal(st.st_mode & 07777, 0640);
    st = st_of(c1, "far");
    assert_int_equal(st.st_uid, BASE + 65534);
    assert_int_equal(st.st_gid, BASE + 100 + 65534);
    st = st_of(c1, "sym");
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(st.st_uid, BASE + 5);
    _cleanup_free_ char *slp = xasprintf("%s/sym", c1);
    char target[64] = {0};
    assert_int_equal(readlink(slp, target, sizeof target - 1), (ssize_t)strlen("etc/passwd"));
    assert_string_equal(target, "etc/passwd");
    assert_true(S_ISFIFO(st_of(c1, "fifo").st_mode));
    assert_int_equal(st_of(c1, "fifo").st_mode & 07777, 0620);
    _cleanup_free_ char *pw = text_of(c1, "etc/passwd");
    assert_string_equal(pw, "root:x:0:0::/:/bin/sh\n");
    _cleanup_free_ char *cs = xasprintf("%s/suid", c1);
    char val[32];
    assert_int_equal(getxattr(cs, "user.note", val, sizeof val), 4);
    assert_memory_equal(val, "kept", 4);
    _cleanup_free_ char *cp = xasprintf("%s/ping", c1);
    uint8_t got[XATTR_CAPS_SZ_3];
    assert_int_equal(getxattr(cp, "security.capability", got, sizeof got), XATTR_CAPS_SZ_3);
    assert_int_equal(get32(got + 4), 1u << CAP_NET_RAW);
    assert_int_equal(get32(got + 20), BASE);
    st = st_of(c2, "user");
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    _cleanup_free_ char *co = xasprintf("%s/etc", c2);
    assert_int_equal(getxattr(co, "trusted.overlay.opaque", val, sizeof val), 1);
    assert_int_equal(val[0], 'y');

    /* Kept: a second call copies nothing (the same inode). */
    ino_t ino = st_of(c1, "suid").st_ino;
    _cleanup_strv_ char **again = NULL;
    assert_int_equal(layercopy_dirs(root, layers, BASE, BASE + 100, &again, &e), 0);
    assert_string_equal(again[0], c1);
    assert_int_equal(st_of(c1, "suid").st_ino, ino);

    /* A copy cut short (its .tmp- directory) is made again. */
    _cleanup_free_ char *rdir = xasprintf("%s/userns-layers/%u-%u", root, BASE + 65536, BASE);
    _cleanup_free_ char *stale = xasprintf("%s/.tmp-aaaa", rdir);
    assert_int_equal(fs_mkdir_p(stale, 0700, &e), 0);
    mkfile(stale, "junk", 0600, 0, 0, "j");
    _cleanup_strv_ char **other = NULL;
    assert_int_equal(layercopy_dirs(root, layers, BASE + 65536, BASE, &other, &e), 0);
    assert_int_equal(access(stale, F_OK), -1);
    _cleanup_free_ char *junk = xasprintf("%s/junk", other[0]);
    assert_int_equal(access(junk, F_OK), -1);
    assert_int_equal(st_of(other[0], "user").st_uid, BASE + 65536 + 1000);

    /* Removed per range. */
    assert_int_equal(layercopy_remove(root, BASE, BASE + 100, &e), 0);
    assert_int_equal(access(c1, F_OK), -1);
    assert_int_equal(access(other[0], F_OK), 0);
    assert_int_equal(layercopy_remove(root, BASE, BASE + 100, &e), 0); /* none: fine */
    assert_int_equal(layercopy_remove(root, BASE + 65536, BASE, &e), 0);
    scratch_remove(dir);
}

static void test_copy_fails_clean(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char *dir = scratch_dir("layercopy");
    _cleanup_free_ char *root = xasprintf("%s/root", dir);
    _cleanup_free_ char *rdir = xasprintf("%s/userns-layers/%u-%u", root, BASE, BASE);
    struct berr e = BERR_INIT;
    _cleanup_strv_ char **out = NULL;
    /* a layer that is not there: named */
    _cleanup_free_ char *missing = xasprintf("%s/layers/nope", dir);
    char *gone[] = {missing, NULL};
    assert_true(layercopy_dirs(root, gone, BASE, BASE, &out, &e) < 0);
    assert_non_null(strstr(e.msg, missing));
    assert_null(out);
    berr_clear(&e);
    /* a layer name that is no layer's */
    char *slash[] = {(char *)"/", NULL};
    assert_int_equal(layercopy_dirs(root, slash, BASE, BASE, &out, &e), -EINVAL);
    berr_clear(&e);
    /* a copy that fails half-way (too deep a tree): nothing of it left */
    _cleanup_free_ char *deep = make_layer(dir, "dddd");
    mkfile(deep, "first", 0644, 0, 0, "x");
    int fd = open(deep, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        close(fd);
        fd = next;
    }
    close(fd);
    char *layers[] = {deep, NULL};
    assert_int_equal(layercopy_dirs(root, layers, BASE, BASE, &out, &e), -ELOOP);
    assert_non_null(strstr(e.msg, deep));
    assert_null(out);
    berr_clear(&e);
    _cleanup_free_ char *tmp = xasprintf("%s/.tmp-dddd", rdir);
    _cleanup_free_ char *made = xasprintf("%s/dddd", rdir);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(made, F_OK), -1);
    scratch_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_fails_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
