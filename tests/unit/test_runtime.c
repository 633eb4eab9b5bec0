/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the runtime's pure logic: user resolution from passwd and
 * group buffers, the seccomp profile (checked against Docker's own profile,
 * a fixture in tests/fixtures/seccomp), and the plan's Docker rules for
 * entrypoint, command, environment and defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/plan/plan.h"
#include "engine/runtime/runtime.h"
#include "engine/runtime/seccomp.h"
#include "engine/runtime/user.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "broken line without fields\n"
                             "app:x:1000:1000:app:/home/app:/bin/sh\n"
                             "nohome:x:1001:1001::::\n";
static const char group[] = "root:x:0:\n"
                            "wheel:x:10:app,daemon\n"
                            "staff:x:50:root,app\n"
                            "app:x:1000:\n"
                            "www:x:33:\n";

static void resolve(const char *spec, struct user_ids *ids, int expect)
{
    char err[256] = "";
    int r = user_resolve(spec, passwd, strlen(passwd), group, strlen(group), ids, err, sizeof err);
    if (r != expect)
        fail_msg("user_resolve(%s) = %d (%s)", spec ? spec : "NULL", r, err);
}

static void test_user_default_root(void **state)
{
    struct user_ids ids;
    resolve(NULL, &ids, 0);
    assert_int_equal(ids.uid, 0);
    assert_int_equal(ids.gid, 0);
    assert_string_equal(ids.home, "/root");
    /* root is listed in staff: supplementary group, as Docker does */
    assert_int_equal(ids.ngroups, 1);
    assert_int_equal(ids.groups[0], 50);
}

static void test_user_by_name(void **state)
{
    struct user_ids ids;
    resolve("app", &ids, 0);
    assert_int_equal(ids.uid, 1000);
    assert_int_equal(ids.gid, 1000);
    assert_string_equal(ids.home, "/home/app");
    assert_int_equal(ids.ngroups, 2);
    assert_int_equal(ids.groups[0], 10);
    assert_int_equal(ids.groups[1], 50);
}

static void test_user_numeric_and_groups(void **state)
{
    struct user_ids ids;
    resolve("1000", &ids, 0); /* known uid: its passwd entry applies */
    assert_int_equal(ids.gid, 1000);
    assert_string_equal(ids.home, "/home/app");
    resolve("4242", &ids, 0); /* unknown uid: gid 0, home / */
    assert_int_equal(ids.uid, 4242);
    assert_int_equal(ids.gid, 0);
    assert_string_equal(ids.home, "/");
    resolve("app:www", &ids, 0);
    assert_int_equal(ids.uid, 1000);
    assert_int_equal(ids.gid, 33);
    resolve("4242:77", &ids, 0);
    assert_int_equal(ids.gid, 77);
    resolve("nohome", &ids, 0);
    assert_string_equal(ids.home, "/");
}

static void test_user_errors(void **state)
{
    struct user_ids ids;
    char err[256];
    assert_int_equal(
        user_resolve("ghost", passwd, strlen(passwd), group, strlen(group), &ids, err, sizeof err),
        -1);
    assert_string_equal(err, "unable to find user ghost: no matching entries in passwd file");
    assert_int_equal(user_resolve("app:nogroup", passwd, strlen(passwd), group, strlen(group), &ids,
                                  err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "unable to find group nogroup"));
    /* No passwd file at all: root still works, names do not. */
    assert_int_equal(user_resolve(NULL, NULL, 0, NULL, 0, &ids, err, sizeof err), 0);
    assert_int_equal(user_resolve("app", NULL, 0, NULL, 0, &ids, err, sizeof err), -1);
    /* An uid beyond the 32-bit range is a name, and unknown. */
    assert_int_equal(user_resolve("99999999999", passwd, strlen(passwd), group, strlen(group), &ids,
                                  err, sizeof err),
                     -1);
}

/* seccomp_allow_list_is_dockers: every syscall berth allows
 * unconditionally must be one Docker allows unconditionally, except the
 * ones newer Docker adds; the ones newer Docker blocks (io_uring) must be
 * absent; and every one Docker allows must be allowed by berth. */
static void test_seccomp_subset_of_docker(void **state)
{
    /* The oracle is a fixture in the tree (tests/fixtures/seccomp/README):
     * missing or unreadable, the comparison fails rather than skips. */
    const char *path = BERTH_FIXTURES_DIR "/seccomp/docker-default.json";
    json_error_t je;
    json_t *prof = json_load_file(path, 0, &je);
    if (!prof)
        fail_msg("Docker's profile %s: %s (line %d)", path, je.text, je.line);
    json_t *first = json_array_get(json_object_get(prof, "syscalls"), 0);
    json_t *names = json_object_get(first, "names");
    if (!json_is_array(names) || json_array_size(names) < 300)
        fail_msg("%s: no unconditional allow-list in its first rule", path);
    static const char *const newer_docker[] = {"ptrace", "arch_prctl", "modify_ldt",
                                               "set_mempolicy_home_node", NULL};
    for (size_t i = 0; seccomp_default_allow[i]; i++) {
        const char *n = seccomp_default_allow[i];
        bool found = false;
        size_t k;
        json_t *v;
        json_array_foreach(names, k, v) if (strcmp(json_string_value(v), n) == 0) found = true;
        for (size_t j = 0; newer_docker[j]; j++)
            if (strcmp(newer_docker[j], n) == 0)
                found = true;
        if (!found)
            fail_msg("%s is allowed by berth but not in Docker's unconditional list", n);
        assert_true(strncmp(n, "io_uring", 8) != 0);
    }
    /* And the other way: each of Docker's must be berth's too, but for the
     * ones newer Docker blocks and the ones berth allows only for some
     * arguments (socket's families, socketcall on 32-bit x86). */
    static const char *const not_unconditional[] = {
        "io_uring_setup", "io_uring_enter", "io_uring_register", "socket", "socketcall", NULL};
    size_t k;
    json_t *v;
    json_array_foreach(names, k, v)
    {
        const char *n = json_string_value(v);
        bool found = false;
        for (size_t i = 0; seccomp_default_allow[i] && !found; i++)
            found = strcmp(seccomp_default_allow[i], n) == 0;
        for (size_t j = 0; not_unconditional[j] && !found; j++)
            found = strcmp(not_unconditional[j], n) == 0;
        if (!found)
            fail_msg("%s is in Docker's unconditional list but not allowed by berth", n);
    }
    json_decref(prof);
}

static void test_seccomp_builds(void **state)
{
    struct seccomp_prog p = {0};
    struct berr e = BERR_INIT;
    assert_int_equal(seccomp_build_default(CAPS_DOCKER_DEFAULT, &p, &e), 0);
    assert_true(p.len > 100);
    struct seccomp_prog q = {0};
    /* With CAP_SYS_ADMIN the filter differs (mount, unshare, clone allowed). */
    assert_int_equal(seccomp_build_default(CAPS_DOCKER_DEFAULT | (1ULL << 21), &q, &e), 0);
    assert_true(q.len != p.len || memcmp(q.insns, p.insns, p.len * sizeof *p.insns) != 0);
    seccomp_prog_free(&p);
    seccomp_prog_free(&q);
}

/* The one entry of a cache directory: its name, inode and size. */
static char *cache_entry(const char *cache, struct stat *st)
{
    DIR *d = opendir(cache);
    if (!d)
        fail_msg("the cache directory %s was not created", cache);
    struct dirent *de;
    char *name = NULL;
    int n = 0;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            free(name);
            name = xstrdup(de->d_name);
            n++;
        }
    closedir(d);
    if (n != 1)
        fail_msg("%d entries in the cache, expected 1", n);
    _cleanup_free_ char *path = xasprintf("%s/%s", cache, name);
    assert_int_equal(stat(path, st), 0);
    return name;
}

/* seccomp_cache_written_and_read: the first load writes the compiled
 * filter to the cache; the second serves it from there (the entry is not
 * rewritten: same inode); a damaged entry is rebuilt and rewritten (a new
 * inode, the right program). */
static void test_seccomp_cache(void **state)
{
    struct berr e = BERR_INIT;
    char *dir = scratch_dir("seccomp");
    _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
    struct seccomp_prog a = {0}, b = {0}, c = {0}, d = {0};
    assert_int_equal(seccomp_build_default(CAPS_DOCKER_DEFAULT, &c, &e), 0);
    size_t bytes = c.len * sizeof *c.insns;

    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &a, &e), 0);
    struct stat st1, st2, st3;
    _cleanup_free_ char *name = cache_entry(cache, &st1);
    /* The program and an 8-byte checksum. */
    assert_int_equal(st1.st_size, bytes + 8);
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.insns, c.insns, bytes);

    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &b, &e), 0);
    _cleanup_free_ char *name2 = cache_entry(cache, &st2);
    assert_string_equal(name2, name);
    if (st2.st_ino != st1.st_ino)
        fail_msg("the second load rewrote the cache entry instead of reading it");
    assert_int_equal(b.len, c.len);
    assert_memory_equal(b.insns, c.insns, bytes);

    /* Damage one instruction in place (same inode): not loaded, rewritten. */
    _cleanup_free_ char *path = xasprintf("%s/%s", cache, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\xff\xff\xff\xff", 4, 8), 4);
    close(fd);
    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &d, &e), 0);
    assert_int_equal(d.len, c.len);
    assert_memory_equal(d.insns, c.insns, bytes);
    _cleanup_free_ char *name3 = cache_entry(cache, &st3);
    assert_string_equal(name3, name);
    if (st3.st_ino == st1.st_ino)
        fail_msg("a damaged cache entry was not rewritten");
    seccomp_prog_free(&a);
    seccomp_prog_free(&b);
    seccomp_prog_free(&c);
    seccomp_prog_free(&d);
    scratch_remove(dir);
}

/* Runs the compiled default filter in a child and makes each of the calls
 * below there: bit i of the result is set when call i was refused with
 * EPERM. The child makes system calls only, between the filter and _exit. */
struct probe_call {
    long nr;
    unsigned long a0, a1;
    bool refused; /* expected */
};

static unsigned long run_under_filter(const struct seccomp_prog *p, const struct probe_call *c,
                                      size_t n)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_fprog prog = {.len = p->len, .filter = p->insns};
        unsigned long refused = 0;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
            _exit(2);
        for (size_t i = 0; i < n; i++) {
            long r = syscall(c[i].nr, c[i].a0, c[i].a1, 0);
            if (r < 0 && errno == EPERM)
                refused |= 1UL << i;
            else if (r >= 0 && c[i].nr == SYS_socket)
                close((int)r);
        }
        if (write(fds[1], &refused, sizeof refused) != sizeof refused)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    unsigned long refused = ~0UL;
    assert_int_equal(read(fds[0], &refused, sizeof refused), sizeof refused);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return refused;
}

/* E07/E14: the kernel reads socket()'s family and personality()'s persona
 * as 32-bit values, the filter sees 64 bits. A value with high bits set must
 * meet the same refusal as the plain one (the review's bypass: socket
 * (0x100000028) gave a working AF_VSOCK socket). Families that are allowed
 * stay allowed (EAFNOSUPPORT from the kernel is not a refusal here). */
static void test_seccomp_socket_family_highbits(void **state)
{
#if !defined(__x86_64__)
    skip();
#else
    static const struct probe_call calls[] = {
        {SYS_socket, 38, SOCK_SEQPACKET, true},                     /* AF_ALG */
        {SYS_socket, 40, SOCK_STREAM, true},                        /* AF_VSOCK */
        {SYS_socket, 0x100000000UL + 38, SOCK_SEQPACKET, true},     /* AF_ALG, high bit */
        {SYS_socket, 0x100000000UL + 40, SOCK_STREAM, true},        /* AF_VSOCK, high bit */
        {SYS_socket, 0xffffffff00000000UL + 40, SOCK_STREAM, true}, /* all high bits */
        {SYS_socket, 0x8000000000000000UL + 38, SOCK_SEQPACKET, true},
        {SYS_socket, 0x100000000UL + 2, SOCK_STREAM, true}, /* AF_INET, high bit */
        {SYS_socket, 0xffffffffUL, SOCK_STREAM, true},      /* (int)-1 */
        {SYS_socket, 1, SOCK_STREAM, false},                /* AF_UNIX */
        {SYS_socket, 2, SOCK_DGRAM, false},                 /* AF_INET */
        {SYS_socket, 37, SOCK_STREAM, false},
        {SYS_socket, 39, SOCK_STREAM, false},
        {SYS_socket, 41, SOCK_DGRAM, false},
        {SYS_socket, 0x7fffffffUL, SOCK_STREAM, false},
        {SYS_personality, 0xffffffffUL, 0, false}, /* query */
        {SYS_personality, 0x0040008UL, 0, true},   /* ADDR_NO_RANDOMIZE */
        {SYS_personality, 0x100000000UL + 0x0040008UL, 0, true},
        {SYS_personality, 0x100000000UL + 0x8UL, 0, true},
        {SYS_personality, 0x100000000UL + 0xffffffffUL, 0, true},
    };
    struct seccomp_prog p = {0};
    struct berr e = BERR_INIT;
    assert_int_equal(seccomp_build_default(CAPS_DOCKER_DEFAULT, &p, &e), 0);
    unsigned long refused = run_under_filter(&p, calls, ARRAY_SIZE(calls));
    for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
        if (!!(refused & (1UL << i)) != calls[i].refused)
            fail_msg("call %zu (nr %ld, arg 0x%lx): expected %s", i, calls[i].nr, calls[i].a0,
                     calls[i].refused ? "EPERM" : "no EPERM");
    seccomp_prog_free(&p);
#endif
}

/* A cache entry that is damaged, or that holds another profile's filter
 * under this one's name, is rebuilt instead of loaded. */
static void test_seccomp_cache_rejects_foreign_entry(void **state)
{
    struct berr e = BERR_INIT;
    char *dir = scratch_dir("seccomp");
    _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
    struct seccomp_prog a = {0}, b = {0}, c = {0}, admin = {0};
    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &a, &e), 0);
    assert_int_equal(seccomp_build_default(CAPS_DOCKER_DEFAULT | (1ULL << 21), &admin, &e), 0);
    int dfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    DIR *d = fdopendir(dup(dfd));
    assert_non_null(d);
    struct dirent *de;
    _cleanup_free_ char *name = NULL;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            name = xstrdup(de->d_name);
    closedir(d);
    assert_non_null(name);
    /* The CAP_SYS_ADMIN filter, bare, under the default's name. */
    assert_int_equal(
        fs_write_atomic(dfd, name, admin.insns, admin.len * sizeof *admin.insns, 0600, &e), 0);
    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &b, &e), 0);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.insns, a.insns, a.len * sizeof *a.insns);
    /* A truncated entry. */
    _cleanup_free_ char *path = xasprintf("%s/%s", cache, name);
    assert_int_equal(truncate(path, 16), 0);
    assert_int_equal(seccomp_load_default(cache, CAPS_DOCKER_DEFAULT, &c, &e), 0);
    assert_int_equal(c.len, a.len);
    assert_memory_equal(c.insns, a.insns, a.len * sizeof *a.insns);
    close(dfd);
    seccomp_prog_free(&a);
    seccomp_prog_free(&b);
    seccomp_prog_free(&c);
    seccomp_prog_free(&admin);
    scratch_remove(dir);
}

static char **sv(const char *a, const char *b, const char *c)
{
    char **v = NULL;
    if (a)
        strv_push(&v, xstrdup(a));
    if (b)
        strv_push(&v, xstrdup(b));
    if (c)
        strv_push(&v, xstrdup(c));
    return v;
}

struct fixture {
    struct project p;
    struct service s;
    struct image img;
};

static int setup_plan(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    f->p.name = xstrdup("proj");
    f->s.name = xstrdup("web");
    f->s.stop_grace_ns = -1;
    f->img.id = xstrdup("sha256:aaaa");
    f->img.familiar = xstrdup("img:latest");
    f->img.entrypoint = sv("/entry", "--flag", NULL);
    f->img.cmd = sv("serve", NULL, NULL);
    f->img.env = sv("PATH=/img/bin", "A=image", NULL);
    f->img.working_dir = xstrdup("/srv");
    f->img.user = xstrdup("daemon");
    f->img.stop_signal = xstrdup("SIGQUIT");
    *state = f;
    return 0;
}

static int teardown_plan(void **state)
{
    struct fixture *f = *state;
    free(f->p.name);
    free(f->s.name);
    strv_free(f->s.command);
    strv_free(f->s.entrypoint);
    strv_free(f->s.environment);
    free(f->s.hostname);
    free(f->img.id);
    free(f->img.familiar);
    strv_free(f->img.entrypoint);
    strv_free(f->img.cmd);
    strv_free(f->img.env);
    free(f->img.working_dir);
    free(f->img.user);
    free(f->img.stop_signal);
    free(f);
    return 0;
}

static void test_plan_image_defaults(void **state)
{
    struct fixture *f = *state;
    struct ctr_plan c;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_container(&f->p, &f->s, &f->img, 1, "0123456789abcdef", &c, &e), 0);
    assert_string_equal(c.name, "proj-web-1");
    assert_string_equal(c.log_name, "web-1");
    assert_int_equal(strv_len(c.argv), 3);
    assert_string_equal(c.argv[0], "/entry");
    assert_string_equal(c.argv[2], "serve");
    assert_string_equal(strv_env_get(c.env, "PATH"), "/img/bin");
    assert_string_equal(strv_env_get(c.env, "A"), "image");
    assert_string_equal(strv_env_get(c.env, "HOSTNAME"), "0123456789ab");
    assert_string_equal(c.hostname, "0123456789ab");
    assert_string_equal(c.cwd, "/srv");
    assert_string_equal(c.user, "daemon");
    assert_int_equal(c.stop_signal, SIGQUIT);
    assert_int_equal(c.stop_grace_ns, STOP_GRACE_DEFAULT_NS);
    char *h1 = xstrdup(c.config);
    ctr_plan_free(&c);
    /* The canonical config does not depend on the (random) container ID. */
    assert_int_equal(plan_container(&f->p, &f->s, &f->img, 1, "fedcba9876543210", &c, &e), 0);
    assert_string_equal(c.config, h1);
    free(h1);
    ctr_plan_free(&c);
}

static void test_plan_compose_overrides(void **state)
{
    struct fixture *f = *state;
    struct ctr_plan c;
    struct berr e = BERR_INIT;
    /* A compose entrypoint drops the image's Cmd. */
    f->s.entrypoint = sv("/bin/sh", "-c", NULL);
    f->s.entrypoint_set = true;
    assert_int_equal(plan_container(&f->p, &f->s, &f->img, 1, "id", &c, &e), 0);
    assert_int_equal(strv_len(c.argv), 2);
    char *h1 = xstrdup(c.config);
    ctr_plan_free(&c);
    /* ... unless a command is given too. */
    f->s.command = sv("echo hi", NULL, NULL);
    f->s.command_set = true;
    f->s.environment = sv("A=compose", "B=x", NULL);
    f->s.hostname = xstrdup("named");
    f->s.stop_signal = SIGKILL;
    f->s.stop_grace_ns = 500000000;
    assert_int_equal(plan_container(&f->p, &f->s, &f->img, 2, "id", &c, &e), 0);
    assert_string_equal(c.name, "proj-web-2");
    assert_int_equal(strv_len(c.argv), 3);
    assert_string_equal(c.argv[2], "echo hi");
    assert_string_equal(strv_env_get(c.env, "A"), "compose");
    assert_string_equal(strv_env_get(c.env, "HOSTNAME"), "named");
    assert_int_equal(c.stop_signal, SIGKILL);
    assert_int_equal(c.stop_grace_ns, 500000000);
    assert_string_not_equal(c.config, h1);
    free(h1);
    ctr_plan_free(&c);
}

static void test_plan_nothing_to_run(void **state)
{
    struct fixture *f = *state;
    strv_free(f->img.entrypoint);
    strv_free(f->img.cmd);
    f->img.entrypoint = f->img.cmd = NULL;
    struct ctr_plan c;
    struct berr e = BERR_INIT;
    assert_true(plan_container(&f->p, &f->s, &f->img, 1, "id", &c, &e) < 0);
    assert_non_null(strstr(e.msg, "service \"web\": no command specified"));
    berr_clear(&e);
    /* An invalid StopSignal in the image is named. */
    f->img.cmd = sv("x", NULL, NULL);
    free(f->img.stop_signal);
    f->img.stop_signal = xstrdup("SIGNOPE");
    assert_true(plan_container(&f->p, &f->s, &f->img, 1, "id", &c, &e) < 0);
    assert_non_null(strstr(e.msg, "SIGNOPE"));
    berr_clear(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_default_root),
        cmocka_unit_test(test_user_by_name),
        cmocka_unit_test(test_user_numeric_and_groups),
        cmocka_unit_test(test_user_errors),
        cmocka_unit_test(test_seccomp_subset_of_docker),
        cmocka_unit_test(test_seccomp_builds),
        cmocka_unit_test(test_seccomp_cache),
        cmocka_unit_test(test_seccomp_cache_rejects_foreign_entry),
        cmocka_unit_test(test_seccomp_socket_family_highbits),
        cmocka_unit_test_setup_teardown(test_plan_image_defaults, setup_plan, teardown_plan),
        cmocka_unit_test_setup_teardown(test_plan_compose_overrides, setup_plan, teardown_plan),
        cmocka_unit_test_setup_teardown(test_plan_nothing_to_run, setup_plan, teardown_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
