/* SPDX-License-Identifier: Apache-2.0 */
/* `berth info`'s pure parts: the cgroup layout the runtime decides from
 * mountinfo text of a v1, a hybrid and a v2 host (engine/runtime/cgroup.c),
 * the controllers it reports and uses, /proc/cgroups, /proc/filesystems,
 * CapEff, os-release, kernel version compare, and the requirement table
 * (engine/info/check.c): which missing feature stops berth and which only
 * costs a feature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/info/hostinfo.h"
#include "engine/runtime/cgroup.h"
#include "util/cleanup.h"
#include "util/kernel.h"
#include "util/strv.h"
#include "util/xalloc.h"

/* A Debian 10 era host: v1 only, cpu and cpuacct sharing one mount. */
static const char mountinfo_v1[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 22 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "27 25 0:25 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "31 25 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "32 25 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "33 25 0:31 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n"
    "34 25 0:32 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";

/* This machine (DESIGN.md): v1 controllers, a cgroup2 mount without them. */
static const char mountinfo_hybrid[] =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Current distributions: one cgroup2 mount. */
static const char mountinfo_v2[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

static const char proc_cgroups_hybrid[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                          "cpuset\t3\t1\t1\n"
                                          "cpu\t1\t1\t1\n"
                                          "cpuacct\t2\t1\t1\n"
                                          "blkio\t7\t1\t1\n"
                                          "memory\t4\t21\t1\n"
                                          "devices\t5\t1\t1\n"
                                          "freezer\t6\t1\t1\n"
                                          "net_cls\t0\t1\t1\n"
                                          "hugetlb\t0\t1\t1\n"
                                          "pids\t8\t1\t0\n";

static const char proc_cgroups_v2[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                      "cpu\t0\t80\t1\n"
                                      "memory\t0\t80\t1\n"
                                      "pids\t0\t80\t1\n";

static void parse(struct cgroup_sys *s, const char *mountinfo)
{
    memset(s, 0, sizeof *s);
    FILE *f = fmemopen((void *)mountinfo, strlen(mountinfo), "r");
    assert_non_null(f);
    cgroup_sys_parse_mountinfo(s, f);
    fclose(f);
}

static void test_layout_v1(void **state)
{
    struct cgroup_sys s;
    struct berr e = BERR_INIT;
    parse(&s, mountinfo_v1);
    assert_int_equal(cgroup_sys_finish(&s, NULL, &e), 0);
    assert_string_equal(cgroup_sys_layout(&s), "v1");
    assert_false(s.unified);
    assert_null(s.v2_root);
    assert_string_equal(s.v1_root[CG_CPU], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(s.v1_root[CG_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(s.v1_root[CG_MEMORY], "/sys/fs/cgroup/memory");
    _cleanup_strv_ char **used = hostinfo_cgroups_used(&s, NULL);
    assert_int_equal(strv_len(used), 6);
    assert_true(strv_contains(used, "memory") && strv_contains(used, "devices"));
    cgroup_sys_free(&s);
}

static void test_layout_hybrid(void **state)
{
    struct cgroup_sys s;
    struct berr e = BERR_INIT;
    parse(&s, mountinfo_hybrid);
    /* The unified mount offers no controller (or only hugetlb). */
    assert_int_equal(cgroup_sys_finish(&s, "hugetlb\n", &e), 0);
    assert_string_equal(cgroup_sys_layout(&s), "hybrid");
    assert_false(s.unified);
    assert_string_equal(s.v2_root, "/sys/fs/cgroup/unified");
    assert_string_equal(s.v1_root[CG_PIDS], "/sys/fs/cgroup/pids");
    _cleanup_strv_ char **used = hostinfo_cgroups_used(&s, "hugetlb\n");
    assert_true(strv_contains(used, "memory"));
    assert_true(strv_contains(used, "cpu"));
    assert_true(strv_contains(used, "pids"));
    assert_true(strv_contains(used, "freezer"));
    assert_false(strv_contains(used, "hugetlb"));
    cgroup_sys_free(&s);
}

static void test_layout_v2(void **state)
{
    struct cgroup_sys s;
    struct berr e = BERR_INIT;
    parse(&s, mountinfo_v2);
    assert_int_equal(cgroup_sys_finish(&s, "cpuset cpu io memory hugetlb pids rdma misc\n", &e), 0);
    assert_string_equal(cgroup_sys_layout(&s), "v2");
    assert_true(s.unified);
    assert_string_equal(s.v2_root, "/sys/fs/cgroup");
    _cleanup_strv_ char **used = hostinfo_cgroups_used(&s, "cpuset cpu io memory pids\n");
    _cleanup_strv_ char **want = hostinfo_split_words("memory cpu pids devices freezer");
    assert_int_equal(strv_len(used), strv_len(want));
    for (size_t i = 0; want[i]; i++)
        assert_string_equal(used[i], want[i]);
    cgroup_sys_free(&s);
}

/* A v2 host whose root delegates no memory controller: berth uses none. */
static void test_layout_v2_without_memory(void **state)
{
    struct cgroup_sys s;
    struct berr e = BERR_INIT;
    parse(&s, mountinfo_v2);
    assert_int_equal(cgroup_sys_finish(&s, "cpu pids\n", &e), 0);
    assert_string_equal(cgroup_sys_layout(&s), "v2"); /* no v1 memory either */
    _cleanup_strv_ char **used = hostinfo_cgroups_used(&s, "cpu pids\n");
    assert_false(strv_contains(used, "memory"));
    assert_true(strv_contains(used, "pids"));
    cgroup_sys_free(&s);
}

static void test_layout_none(void **state)
{
    struct cgroup_sys s;
    struct berr e = BERR_INIT;
    parse(&s, "22 1 8:1 / / rw - ext4 /dev/sda1 rw\ngarbage\n\n");
    assert_int_equal(cgroup_sys_finish(&s, NULL, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "no cgroup file system"));
    berr_clear(&e);
}

static void test_proc_cgroups(void **state)
{
    _cleanup_strv_ char **h = hostinfo_parse_proc_cgroups(proc_cgroups_hybrid);
    _cleanup_strv_ char **want =
        hostinfo_split_words("cpuset cpu cpuacct blkio memory devices freezer");
    assert_int_equal(strv_len(h), strv_len(want));
    for (size_t i = 0; want[i]; i++)
        assert_string_equal(h[i], want[i]);
    /* On v2 every hierarchy number is 0: nothing from here. */
    _cleanup_strv_ char **v2 = hostinfo_parse_proc_cgroups(proc_cgroups_v2);
    assert_int_equal(strv_len(v2), 0);
    _cleanup_strv_ char **none = hostinfo_parse_proc_cgroups(NULL);
    assert_int_equal(strv_len(none), 0);
}

static void test_split_words(void **state)
{
    _cleanup_strv_ char **w = hostinfo_split_words("  cpu\tmemory  pids\n");
    assert_int_equal(strv_len(w), 3);
    assert_string_equal(w[2], "pids");
    _cleanup_strv_ char **e = hostinfo_split_words("\n");
    assert_int_equal(strv_len(e), 0);
}

static void test_filesystems(void **state)
{
    const char *t = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\nfuseblk\n";
    assert_true(hostinfo_filesystems_has(t, "overlay"));
    assert_true(hostinfo_filesystems_has(t, "ext4"));
    assert_false(hostinfo_filesystems_has(t, "overla"));
    assert_false(hostinfo_filesystems_has(t, "btrfs"));
    assert_false(hostinfo_filesystems_has("nodev\toverlayfs\n", "overlay"));
    assert_false(hostinfo_filesystems_has(NULL, "overlay"));
}

static void test_cap_eff(void **state)
{
    uint64_t m = 0;
    assert_true(hostinfo_parse_cap_eff("Name:\tx\nCapInh:\t0\nCapEff:\t000001ffffffffff\n", &m));
    assert_int_equal(m, 0x1ffffffffffULL);
    assert_true((m >> 21) & 1);
    assert_true(hostinfo_parse_cap_eff("CapEff:\t0000000000000000", &m));
    assert_int_equal(m, 0);
    assert_false(hostinfo_parse_cap_eff("CapPrm:\t00000000\n", &m));
    assert_false(hostinfo_parse_cap_eff("CapEff:\t\n", &m));
}

static void test_os_release(void **state)
{
    _cleanup_free_ char *a =
        hostinfo_parse_os_release("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 "
                                  "(bookworm)\"\nID=debian\n");
    assert_string_equal(a, "Debian GNU/Linux 12 (bookworm)");
    _cleanup_free_ char *b = hostinfo_parse_os_release("PRETTY_NAME=Alpine\n");
    assert_string_equal(b, "Alpine");
    assert_null(hostinfo_parse_os_release("ID=x\n"));
    assert_null(hostinfo_parse_os_release("PRETTY_NAME=\"\"\n"));
}

static void test_kernel_compare(void **state)
{
    assert_true(kernel_release_at_least("6.8.0", 6, 8));
    assert_true(kernel_release_at_least("6.18.44-fc-v1252", 6, 8));
    assert_false(kernel_release_at_least("6.1.0-13-amd64", 6, 8));
    assert_true(kernel_release_at_least("7.0", 6, 8));
    assert_false(kernel_release_at_least("5.19.1", 6, 0));
    assert_false(kernel_release_at_least("garbage", 1, 0));
    assert_false(kernel_release_at_least(NULL, 1, 0));
}

/* A host where everything berth needs is there. */
static void good_host(struct hostinfo *hi, struct storeinfo *si)
{
    memset(hi, 0, sizeof *hi);
    memset(si, 0, sizeof *si);
    hi->cap_sys_admin = PROBE_YES;
    hi->ns_unshare = PROBE_YES;
    hi->overlay = PROBE_YES;
    hi->overlay_lowerdir_plus = true;
    hi->clone3 = hi->pidfd = hi->openat2 = hi->mount_api = hi->seccomp = PROBE_YES;
    hi->clone_into_cgroup = PROBE_YES;
    hi->cg_ok = true;
    hi->cg_device_ctl = true;
    hi->cg_used = hostinfo_split_words("memory cpu pids freezer devices");
    si->path = "/var/lib/berth";
    si->writable = true;
}

static bool has(const struct hostcheck *c, size_t n, const char *key, bool required)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].key, key) == 0)
            return c[i].required == required;
    return false;
}

static void test_check_good_host(void **state)
{
    struct hostinfo hi;
    struct storeinfo si;
    good_host(&hi, &si);
    size_t n = 99;
    struct hostcheck *c = hostinfo_check(&hi, &si, &n);
    assert_int_equal(n, 0);
    hostcheck_free(c, n);
    strv_free(hi.cg_used);
}

static void test_check_optional(void **state)
{
    struct hostinfo hi;
    struct storeinfo si;
    good_host(&hi, &si);
    strv_free(hi.cg_used);
    hi.cg_used = hostinfo_split_words("cpu devices");
    hi.overlay_lowerdir_plus = false;
    size_t n;
    struct hostcheck *c = hostinfo_check(&hi, &si, &n);
    assert_int_equal(n, 4);
    assert_true(has(c, n, "cgroup_memory", false));
    assert_true(has(c, n, "cgroup_pids", false));
    assert_true(has(c, n, "cgroup_freezer", false));
    assert_true(has(c, n, "overlay_lowerdir_plus", false));
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].key, "cgroup_memory") == 0)
            assert_non_null(strstr(c[i].message, "mem_limit cannot be enforced"));
    hostcheck_free(c, n);
    strv_free(hi.cg_used);
}

static void test_check_required(void **state)
{
    struct hostinfo hi;
    struct storeinfo si;
    good_host(&hi, &si);
    strv_free(hi.cg_used);
    hi.cg_used = hostinfo_split_words("cpu pids freezer devices");
    hi.cap_sys_admin = PROBE_NO;
    hi.euid = 65534;
    hi.overlay = PROBE_NO;
    si.writable = false;
    si.writable_error = "/x is on a read-only file system";
    size_t n;
    struct hostcheck *c = hostinfo_check(&hi, &si, &n);
    assert_int_equal(n, 4);
    /* Required ones first: the command's exit status is read off c[0]. */
    assert_true(c[0].required && c[1].required && c[2].required);
    assert_false(c[3].required);
    assert_true(has(c, n, "privileges", true));
    assert_true(has(c, n, "overlay", true));
    assert_true(has(c, n, "store", true));
    assert_true(has(c, n, "cgroup_memory", false));
    assert_non_null(strstr(c[0].message, "uid 65534"));
    assert_non_null(strstr(c[2].message, "read-only"));
    hostcheck_free(c, n);
    strv_free(hi.cg_used);
}

/* No cgroups at all: one required row, not a warning per controller. */
static void test_check_no_cgroups(void **state)
{
    struct hostinfo hi;
    struct storeinfo si;
    good_host(&hi, &si);
    strv_free(hi.cg_used);
    hi.cg_used = NULL;
    hi.cg_ok = false;
    hi.cg_error = "no cgroup file system is mounted under /sys/fs/cgroup";
    size_t n;
    struct hostcheck *c = hostinfo_check(&hi, &si, &n);
    assert_int_equal(n, 1);
    assert_true(has(c, n, "cgroups", true));
    hostcheck_free(c, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_v1),        cmocka_unit_test(test_layout_hybrid),
        cmocka_unit_test(test_layout_v2),        cmocka_unit_test(test_layout_v2_without_memory),
        cmocka_unit_test(test_layout_none),      cmocka_unit_test(test_proc_cgroups),
        cmocka_unit_test(test_split_words),      cmocka_unit_test(test_filesystems),
        cmocka_unit_test(test_cap_eff),          cmocka_unit_test(test_os_release),
        cmocka_unit_test(test_kernel_compare),   cmocka_unit_test(test_check_good_host),
        cmocka_unit_test(test_check_optional),   cmocka_unit_test(test_check_required),
        cmocka_unit_test(test_check_no_cgroups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
