/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for userns_mode auto's ID ranges (engine/runtime/userns.h):
 * the subordinate ID files (parsed, the berth entry added above every
 * other, the rest of the file kept), the store's record (disjoint ranges,
 * freed on release, a fresh one after a release, exhaustion), and the key
 * in the model and the plan (accepted, other values refused, a host
 * without room named with the file:line). Files come from
 * BERTH_SUBUID_FILE and BERTH_SUBGID_FILE in a scratch directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compose_testutil.h"
#include "engine/plan/plan.h"
#include "engine/runtime/userns.h"
#include "scratch.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static char *read_text(const char *path)
{
    char *buf = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(fs_read_file(AT_FDCWD, path, 1 << 20, &buf, NULL, &e), 0);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A scratch directory whose subuid and subgid files are the ones in use. */
struct fx {
    char *dir, *subuid, *subgid, *root;
};

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->dir = scratch_dir("userns");
    f->subuid = xasprintf("%s/subuid", f->dir);
    f->subgid = xasprintf("%s/subgid", f->dir);
    f->root = xasprintf("%s/root", f->dir);
    setenv("BERTH_SUBUID_FILE", f->subuid, 1);
    setenv("BERTH_SUBGID_FILE", f->subgid, 1);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    unsetenv("BERTH_SUBUID_FILE");
    unsetenv("BERTH_SUBGID_FILE");
    free(f->subuid);
    free(f->subgid);
    free(f->root);
    scratch_remove(f->dir);
    free(f);
    return 0;
}

static void test_parse(void **state)
{
    (void)state;
    struct subid_entry *v;
    size_t n;
    uint64_t end;
    subid_parse("# comment\nalice:100000:65536\nberth:200000:131072\nbroken\n"
                "bob:x:1\nberth:1000000:65536\ncarol:5000000:10",
                "berth", &v, &n, &end);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].start, 200000);
    assert_int_equal(v[0].count, 131072);
    assert_int_equal(v[1].start, 1000000);
    assert_int_equal(end, 5000010); /* carol's, an owner of another name */
    /* Slots: two in the first entry, one in the second, then none. */
    uint64_t s;
    assert_true(subid_slot(v, n, 0, &s));
    assert_int_equal(s, 200000);
    assert_true(subid_slot(v, n, 1, &s));
    assert_int_equal(s, 200000 + 65536);
    assert_true(subid_slot(v, n, 2, &s));
    assert_int_equal(s, 1000000);
    assert_false(subid_slot(v, n, 3, &s));
    free(v);
    subid_parse("", "berth", &v, &n, &end);
    assert_int_equal(n, 0);
    assert_int_equal(end, 0);
    free(v);
}

static void test_block_and_append(void **state)
{
    (void)state;
    assert_int_equal(subid_block_start(0), 131072); /* above USERNS_FLOOR, aligned */
    assert_int_equal(subid_block_start(165536), 196608);
    assert_int_equal(subid_block_start(196608), 196608);
    _cleanup_free_ char *a = subid_append("alice:100000:65536", "berth", 196608, 10);
    assert_string_equal(a, "alice:100000:65536\nberth:196608:10\n");
    _cleanup_free_ char *b = subid_append("", "berth", 1, 2);
    assert_string_equal(b, "berth:1:2\n");
}

/* The entry is added above every other of both files; their lines stay. */
static void test_entry_added(void **state)
{
    struct fx *f = *state;
    write_text(f->subuid, "alice:100000:65536\nbob:165536:65536\n");
    write_text(f->subgid, "alice:100000:65536\ncarol:300000:65536"); /* no last newline */
    chmod(f->subgid, 0640);
    struct berr e = BERR_INIT;
    assert_int_equal(userns_ids_ensure(&e), 0);
    _cleanup_free_ char *u = read_text(f->subuid);
    _cleanup_free_ char *g = read_text(f->subgid);
    /* 365536 (carol's end) aligned up to 65536: 393216 */
    assert_string_equal(u, "alice:100000:65536\nbob:165536:65536\nberth:393216:16777216\n");
    assert_string_equal(g, "alice:100000:65536\ncarol:300000:65536\nberth:393216:16777216\n");
    struct stat st;
    assert_int_equal(stat(f->subgid, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* the file's mode is kept */
    /* Again: nothing changes. */
    assert_int_equal(userns_ids_ensure(&e), 0);
    _cleanup_free_ char *u2 = read_text(f->subuid);
    assert_string_equal(u, u2);
}

static void test_acquire_release(void **state)
{
    struct fx *f = *state;
    /* Room for three containers. */
    write_text(f->subuid, "berth:200000:196608\n");
    write_text(f->subgid, "berth:300000:196608\n");
    struct berr e = BERR_INIT;
    struct userns_range a, b, a2, c, d;
    assert_int_equal(userns_acquire(f->root, "aaa", &a, &e), 0);
    assert_int_equal(userns_acquire(f->root, "bbb", &b, &e), 0);
    assert_int_equal(a.uid, 200000);
    assert_int_equal(a.gid, 300000);
    assert_int_equal(b.uid, 200000 + 65536);
    assert_int_equal(b.gid, 300000 + 65536);
    /* The same container: the same range. */
    assert_int_equal(userns_acquire(f->root, "aaa", &a2, &e), 0);
    assert_int_equal(a2.uid, a.uid);
    /* A freed range is not the next one handed out. */
    assert_int_equal(userns_release(f->root, "aaa", &e), 0);
    assert_int_equal(userns_acquire(f->root, "ccc", &c, &e), 0);
    assert_int_equal(c.uid, 200000 + 2 * 65536);
    /* ... but comes back when it is the only one left. */
    assert_int_equal(userns_acquire(f->root, "ddd", &d, &e), 0);
    assert_int_equal(d.uid, 200000);
    /* All in use: a clear error naming the files. */
    struct userns_range x;
    assert_true(userns_acquire(f->root, "eee", &x, &e) < 0);
    assert_non_null(strstr(e.msg, "all 3 ranges of 65536 IDs"));
    assert_non_null(strstr(e.msg, f->subuid));
    berr_clear(&e);
    /* Releasing one that has none is fine; the record stays consistent. */
    assert_int_equal(userns_release(f->root, "nope", &e), 0);
    _cleanup_free_ char *path = xasprintf("%s/userns.json", f->root);
    _cleanup_free_ char *rec = read_text(path);
    assert_non_null(strstr(rec, "\"bbb\""));
    assert_non_null(strstr(rec, "\"ccc\""));
    assert_non_null(strstr(rec, "\"ddd\""));
    assert_null(strstr(rec, "\"aaa\""));
}

/* Concurrent acquirers (separate processes, as concurrent `up`s are) never
 * get the same range, and none of their records is lost. */
static void test_concurrent(void **state)
{
    struct fx *f = *state;
    write_text(f->subuid, "berth:200000:13107200\n"); /* 200 ranges */
    write_text(f->subgid, "berth:200000:13107200\n");
    enum { N = 8, K = 12 };
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] > 0)
            continue;
        close(out[0]);
        for (int k = 0; k < K; k++) {
            char id[16], line[64];
            snprintf(id, sizeof id, "c%d-%d", i, k);
            struct berr e = BERR_INIT;
            struct userns_range r;
            if (userns_acquire(f->root, id, &r, &e) < 0)
                _exit(1);
            int n = snprintf(line, sizeof line, "%u\n", r.uid);
            if (write(out[1], line, (size_t)n) != n)
                _exit(1);
        }
        _exit(0);
    }
    close(out[1]);
    FILE *in = fdopen(out[0], "r");
    assert_non_null(in);
    uint32_t seen[N * K];
    size_t n = 0;
    unsigned uid;
    while (n < N * K && fscanf(in, "%u", &uid) == 1) {
        for (size_t k = 0; k < n; k++)
            if (seen[k] == uid)
                fail_msg("range %u handed out twice", uid);
        seen[n++] = uid;
    }
    fclose(in);
    for (int i = 0; i < N; i++) {
        int st;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(n, N * K);
    /* Every one is recorded. */
    _cleanup_free_ char *path = xasprintf("%s/userns.json", f->root);
    _cleanup_free_ char *rec = read_text(path);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            char id[24];
            snprintf(id, sizeof id, "\"c%d-%d\"", i, k);
            if (!strstr(rec, id))
                fail_msg("%s was not recorded", id);
        }
}

static void test_too_small_and_corrupt(void **state)
{
    struct fx *f = *state;
    write_text(f->subuid, "berth:200000:1000\n");
    write_text(f->subgid, "berth:300000:65536\n");
    struct berr e = BERR_INIT;
    assert_true(userns_ids_ensure(&e) < 0);
    assert_non_null(strstr(e.msg, "fewer than 65536 IDs"));
    assert_non_null(strstr(e.msg, f->subuid));
    berr_clear(&e);
    write_text(f->subuid, "berth:200000:65536\n");
    assert_int_equal(fs_mkdir_p(f->root, 0700, &e), 0);
    _cleanup_free_ char *path = xasprintf("%s/userns.json", f->root);
    write_text(path, "{not json");
    struct userns_range r;
    assert_true(userns_acquire(f->root, "aaa", &r, &e) < 0);
    assert_non_null(strstr(e.msg, "userns.json"));
    berr_clear(&e);
}

/* The key: "auto" is honoured, other values still refused; a host whose
 * files cannot take berth's entry is named with the key's file:line. */
static void test_key_and_plan(void **state)
{
    struct fx *f = *state;
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n    userns_mode: auto\n"
                             "  odd:\n    image: x\n    userns_mode: nomap\n",
                             NULL),
                     0);
    const struct service *web = ct_service(&l, "web");
    struct berr e = BERR_INIT;
    assert_int_equal(compose_service_refused(web, &e), 0);
    assert_true(web->userns_auto);
    assert_int_equal(web->userns_pos.line, 4);
    assert_int_equal(compose_service_refused(ct_service(&l, "odd"), &e), -EPERM);
    assert_non_null(strstr(e.msg, "userns_mode \"nomap\""));
    berr_clear(&e);

    struct ctr_plan plan = {0};
    assert_int_equal(plan_userns(web, &plan, &e), 0);
    assert_true(plan.userns_auto);
    /* A directory that does not exist: the file cannot be written. */
    _cleanup_free_ char *bad = xasprintf("%s/missing/subuid", f->dir);
    setenv("BERTH_SUBUID_FILE", bad, 1);
    write_text(f->subgid, "");
    assert_true(plan_userns(web, &plan, &e) < 0);
    assert_non_null(strstr(e.msg, "compose.yaml:4:5: service \"web\": userns_mode auto"));
    assert_non_null(strstr(e.msg, bad));
    assert_null(strchr(e.msg, '\n'));
    berr_clear(&e);
    setenv("BERTH_SUBUID_FILE", f->subuid, 1);
    ct_load_done(&l);
}

/* What Docker refuses beside a user namespace, refused at load with the
 * key's place. */
static void test_key_conflicts(void **state)
{
    (void)state;
    static const struct {
        const char *key, *with;
    } cases[] = {
        {"privileged: true", "with privileged"},
        {"pid: host", "with pid"},
        {"ipc: host", "with ipc"},
        {"uts: host", "with uts: host"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        _cleanup_free_ char *yaml = xasprintf(
            "services:\n  web:\n    image: x\n    userns_mode: auto\n    %s\n", cases[i].key);
        struct ct_load l;
        assert_true(ct_load(&l, yaml, NULL) < 0);
        ct_assert_error(&l, "compose.yaml:4:18: service \"web\": userns_mode: auto cannot be "
                            "combined");
        ct_assert_error(&l, cases[i].with);
        ct_load_done(&l);
    }
    struct ct_load l;
    assert_int_equal(ct_load(&l,
                             "services:\n  web:\n    image: x\n    userns_mode: auto\n"
                             "    ipc: shareable\n    network_mode: none\n",
                             NULL),
                     0);
    ct_load_done(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_block_and_append),
        cmocka_unit_test_setup_teardown(test_entry_added, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_acquire_release, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_too_small_and_corrupt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_key_and_plan, fx_setup, fx_teardown),
        cmocka_unit_test(test_key_conflicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
