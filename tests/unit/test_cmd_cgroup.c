/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup path of a container per store (cmd/project.c): the default
 * store keeps berth/, any other store gets berth-<8 hex of the sha256 of
 * its canonical path>/, the same for every spelling of the same directory
 * and different for two stores. tests/integration/lib.sh computes the same
 * base with sha256sum; the fixed vector below pins both to one scheme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/project.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#include "scratch.h"

static void test_base_default_store(void **state)
{
    (void)state;
    _cleanup_free_ char *b = cli_cgroup_base("/var/lib/berth", "/var/lib/berth");
    assert_string_equal(b, "berth");
}

static void test_base_other_store(void **state)
{
    (void)state;
    /* printf '%s' /srv/berth-store | sha256sum | cut -c1-8 */
    _cleanup_free_ char *b = cli_cgroup_base("/srv/berth-store", "/var/lib/berth");
    assert_string_equal(b, "berth-ce6bb15d");
    _cleanup_free_ char *b2 = cli_cgroup_base("/srv/berth-store2", "/var/lib/berth");
    assert_string_not_equal(b, b2);
    assert_int_equal(strlen(b2), strlen("berth-") + 8);
    /* A default store found elsewhere (a symlinked /var/lib) is still the default. */
    _cleanup_free_ char *b3 = cli_cgroup_base("/data/berth", "/data/berth");
    assert_string_equal(b3, "berth");
}

static void test_rel_canonical(void **state)
{
    (void)state;
    _cleanup_free_ char *dir = scratch_dir("cgrel");
    _cleanup_free_ char *root = xasprintf("%s/root", dir);
    _cleanup_free_ char *link = xasprintf("%s/link", dir);
    _cleanup_free_ char *dotted = xasprintf("%s/./root/", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(symlink("root", link), 0);

    struct berr e = BERR_INIT;
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(cli_cgroup_rel(root, "proj", "web", "proj-web-1", &a, &e), 0);
    assert_int_equal(cli_cgroup_rel(link, "proj", "web", "proj-web-1", &b, &e), 0);
    assert_int_equal(cli_cgroup_rel(dotted, "proj", "web", "proj-web-1", &c, &e), 0);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    _cleanup_free_ char *canon = realpath(root, NULL);
    _cleanup_free_ char *base = cli_cgroup_base(canon, "/var/lib/berth");
    _cleanup_free_ char *want = xasprintf("%s/proj/web/proj-web-1", base);
    assert_string_equal(a, want);
    assert_true(strncmp(a, "berth-", 6) == 0);

    /* The nftables table of a project of this store: its base's hash
     * before the project, the same through a symlink. */
    _cleanup_free_ char *scope = cli_nft_scope(root, "proj");
    _cleanup_free_ char *scope2 = cli_nft_scope(link, "proj");
    _cleanup_free_ char *want_scope = xasprintf("%s-proj", base + strlen("berth-"));
    assert_string_equal(scope, want_scope);
    assert_string_equal(scope2, want_scope);

    /* A store that does not exist is an error naming it, not a path. */
    _cleanup_free_ char *missing = xasprintf("%s/nothing", dir);
    _cleanup_free_ char *d = NULL;
    assert_true(cli_cgroup_rel(missing, "proj", "web", "x", &d, &e) < 0);
    assert_null(d);
    assert_non_null(strstr(e.msg, missing));
    berr_clear(&e);
    scratch_remove(TAKE_PTR(dir));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_default_store),
        cmocka_unit_test(test_base_other_store),
        cmocka_unit_test(test_rel_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
