/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for compose file discovery, the project directory and the
 * project name (precedence, normalization, invalid names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose/compose.h"
#include "compose/discover.h"
#include "compose/project_name.h"
#include "compose_testutil.h"

static const char svc[] = "services:\n  web:\n    image: busybox\n";

struct disc {
    char *tmp; /* scratch root */
    struct discovery dv;
    struct diag d;
    struct ct_warnings w;
    struct berr e;
    int r;
};

static int discover(struct disc *x, const char *cwd, char **files, const char *pdir, char **env)
{
    static char *empty[] = {NULL};
    struct compose_opts o = {.files = files, .project_dir = pdir, .environ = env ? env : empty};
    memset(&x->dv, 0, sizeof x->dv);
    memset(&x->d, 0, sizeof x->d);
    x->d.warn = ct_warn_cb;
    x->d.warn_userdata = &x->w;
    x->r = compose_discover(&o, cwd, env ? env : empty, &x->d, &x->dv);
    diag_to_berr(&x->d, &x->e);
    return x->r;
}

static void disc_reset(struct disc *x)
{
    discovery_free(&x->dv);
    berr_clear(&x->e);
    ct_warnings_clear(&x->w);
}

static char *sub(const struct disc *x, const char *rel)
{
    return xasprintf("%s/%s", x->tmp, rel);
}

static void touch(struct disc *x, const char *rel)
{
    free(ct_write(x->tmp, rel, svc));
}

static void assert_files(struct disc *x, const char *const *expect)
{
    size_t n = 0;
    while (expect[n])
        n++;
    if (x->r != 0) {
        fprintf(stderr, "discovery failed: %s\n", x->e.msg);
        fail();
    }
    assert_int_equal(x->dv.n, n);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *want = expect[i][0] == '/' ? xstrdup(expect[i]) : sub(x, expect[i]);
        assert_string_equal(x->dv.files[i].path, want);
    }
}

static void test_default_names_order(void **state)
{
    static const struct {
        const char *present[5];
        const char *picked;
        bool warns;
    } cases[] = {
        {{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"},
         "compose.yaml",
         true},
        {{"compose.yml", "docker-compose.yml"}, "compose.yml", true},
        {{"docker-compose.yaml", "docker-compose.yml"}, "docker-compose.yml", true},
        {{"docker-compose.yaml"}, "docker-compose.yaml", false},
        {{"compose.yml"}, "compose.yml", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct disc x = {.tmp = ct_mkdtemp()};
        for (size_t j = 0; cases[i].present[j]; j++)
            touch(&x, cases[i].present[j]);
        discover(&x, x.tmp, NULL, NULL, NULL);
        const char *expect[] = {cases[i].picked, NULL};
        assert_files(&x, expect);
        assert_string_equal(x.dv.files[0].display, cases[i].picked);
        _cleanup_free_ char *using = xasprintf("Using %s", cases[i].picked);
        assert_int_equal(ct_warned(&x.w, "Found multiple config files with supported names: "),
                         cases[i].warns);
        assert_int_equal(ct_warned(&x.w, using), cases[i].warns);
        assert_string_equal(x.dv.project_dir, x.tmp);
        disc_reset(&x);
        ct_rmtree(x.tmp);
    }
    /* The exact compose wording. */
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "compose.yaml");
    touch(&x, "docker-compose.yml");
    discover(&x, x.tmp, NULL, NULL, NULL);
    assert_true(ct_warned(&x.w, "Found multiple config files with supported names: "
                                "compose.yaml, docker-compose.yml"));
    assert_true(ct_warned(&x.w, "Using compose.yaml"));
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

static void test_override_files(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "compose.yaml");
    touch(&x, "docker-compose.override.yaml");
    discover(&x, x.tmp, NULL, NULL, NULL);
    const char *e1[] = {"compose.yaml", "docker-compose.override.yaml", NULL};
    assert_files(&x, e1);
    assert_null(x.w.msgs);
    disc_reset(&x);
    /* Several overrides: compose.override.yml wins, with a warning. */
    touch(&x, "compose.override.yaml");
    touch(&x, "compose.override.yml");
    discover(&x, x.tmp, NULL, NULL, NULL);
    const char *e2[] = {"compose.yaml", "compose.override.yml", NULL};
    assert_files(&x, e2);
    assert_true(ct_warned(&x.w, "Found multiple override files with supported names: "
                                "compose.override.yml, compose.override.yaml, "
                                "docker-compose.override.yaml"));
    assert_true(ct_warned(&x.w, "Using compose.override.yml"));
    disc_reset(&x);
    /* An override alone is not a compose file: the search goes on
     * upwards (here to x.tmp). */
    _cleanup_free_ char *only = sub(&x, "only");
    free(ct_write(only, "compose.override.yml", svc));
    discover(&x, only, NULL, NULL, NULL);
    assert_files(&x, e2);
    disc_reset(&x);
    /* -f: no override is added. */
    char *files[] = {"compose.yaml", NULL};
    discover(&x, x.tmp, files, NULL, NULL);
    const char *e3[] = {"compose.yaml", NULL};
    assert_files(&x, e3);
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

static void test_parent_search(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "top/docker-compose.yml");
    touch(&x, "top/docker-compose.override.yml");
    _cleanup_free_ char *deep = sub(&x, "top/a/b/c");
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(deep, 0755, &e), 0);
    discover(&x, deep, NULL, NULL, NULL);
    const char *expect[] = {"top/docker-compose.yml", "top/docker-compose.override.yml", NULL};
    assert_files(&x, expect);
    _cleanup_free_ char *top = sub(&x, "top");
    assert_string_equal(x.dv.project_dir, top);
    assert_string_equal(x.dv.files[0].display, x.dv.files[0].path); /* not below cwd */
    disc_reset(&x);
    /* The nearest directory wins over a farther one. */
    touch(&x, "top/a/compose.yml");
    discover(&x, deep, NULL, NULL, NULL);
    const char *expect2[] = {"top/a/compose.yml", NULL};
    assert_files(&x, expect2);
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

static void test_not_found(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    /* Skip when some ancestor of the scratch dir holds a compose file. */
    bool ancestor = false;
    _cleanup_free_ char *dir = xstrdup(x.tmp);
    while (!ancestor && strcmp(dir, "/") != 0) {
        *strrchr(dir, '/') = '\0';
        if (!*dir)
            strcpy(dir, "/");
        for (const char *const *n =
                 (const char *const[]){"compose.yaml", "compose.yml", "docker-compose.yml",
                                       "docker-compose.yaml", NULL};
             *n; n++) {
            _cleanup_free_ char *p = xasprintf("%s/%s", dir, *n);
            ancestor |= fs_exists(p);
        }
    }
    if (!ancestor) {
        discover(&x, x.tmp, NULL, NULL, NULL);
        assert_int_equal(x.r, -ENOENT);
        assert_non_null(strstr(x.e.msg, "no configuration file provided: not found"));
        disc_reset(&x);
        static char *empty[] = {NULL};
        struct compose_opts o = {.environ = empty, .cwd = x.tmp};
        struct project *p = NULL;
        assert_int_equal(compose_load(&o, &p, &x.e), -ENOENT);
        assert_int_equal(x.e.code, -ENOENT);
        assert_null(p);
        berr_clear(&x.e);
    }
    ct_rmtree(x.tmp);
}

static void test_explicit_files(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "compose.yaml");
    touch(&x, "sub/b.yml");
    /* -f relative to cwd, in order; the project dir is the first one's. */
    char *files[] = {"sub/b.yml", "./compose.yaml", NULL};
    discover(&x, x.tmp, files, NULL, NULL);
    const char *e1[] = {"sub/b.yml", "compose.yaml", NULL};
    assert_files(&x, e1);
    assert_string_equal(x.dv.files[1].display, "./compose.yaml");
    _cleanup_free_ char *subdir = sub(&x, "sub");
    assert_string_equal(x.dv.project_dir, subdir);
    disc_reset(&x);
    /* --project-directory wins over the first file's directory. */
    discover(&x, x.tmp, files, "elsewhere/../sub/..", NULL);
    assert_string_equal(x.dv.project_dir, x.tmp);
    disc_reset(&x);
    /* Stdin: "-" at most once; the project dir comes from a real file. */
    char *stdin_files[] = {"-", "sub/b.yml", NULL};
    discover(&x, x.tmp, stdin_files, NULL, NULL);
    assert_string_equal(x.dv.files[0].path, "-");
    assert_string_equal(x.dv.project_dir, subdir);
    disc_reset(&x);
    char *twice[] = {"-", "-", NULL};
    discover(&x, x.tmp, twice, NULL, NULL);
    assert_int_equal(x.r, -EINVAL);
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

static void test_compose_file_env(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "compose.yaml");
    touch(&x, "a.yml");
    touch(&x, "b.yml");
    char *env1[] = {"COMPOSE_FILE=a.yml:b.yml", NULL};
    discover(&x, x.tmp, NULL, NULL, env1);
    const char *e1[] = {"a.yml", "b.yml", NULL};
    assert_files(&x, e1);
    disc_reset(&x);
    char *env2[] = {"COMPOSE_FILE=b.yml;;a.yml", "COMPOSE_PATH_SEPARATOR=;", NULL};
    discover(&x, x.tmp, NULL, NULL, env2);
    const char *e2[] = {"b.yml", "a.yml", NULL};
    assert_files(&x, e2);
    disc_reset(&x);
    /* -f beats COMPOSE_FILE. */
    char *files[] = {"compose.yaml", NULL};
    discover(&x, x.tmp, files, NULL, env1);
    const char *e3[] = {"compose.yaml", NULL};
    assert_files(&x, e3);
    disc_reset(&x);
    /* An empty COMPOSE_FILE is as good as unset. */
    char *env3[] = {"COMPOSE_FILE=", NULL};
    discover(&x, x.tmp, NULL, NULL, env3);
    assert_files(&x, e3);
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

static void test_project_directory_search(void **state)
{
    struct disc x = {.tmp = ct_mkdtemp()};
    touch(&x, "proj/compose.yaml");
    _cleanup_free_ char *elsewhere = sub(&x, "elsewhere");
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(elsewhere, 0755, &e), 0);
    /* Without -f, --project-directory is where the search starts. */
    discover(&x, elsewhere, NULL, "../proj", NULL);
    const char *expect[] = {"proj/compose.yaml", NULL};
    assert_files(&x, expect);
    _cleanup_free_ char *proj = sub(&x, "proj");
    assert_string_equal(x.dv.project_dir, proj);
    disc_reset(&x);
    ct_rmtree(x.tmp);
}

/* --- Project names ------------------------------------------------------- */

static void test_name_normalize(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"myproj", "myproj"},
        {"My_Project", "my_project"},
        {"__abc", "abc"},
        {"-_-x-", "x-"},
        {"Foo Bar.Baz", "foobarbaz"},
        {"caf\xc3\xa9-1", "caf-1"},
        {"...", ""},
        {"0day", "0day"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *n = project_name_normalize(cases[i].in);
        assert_string_equal(n, cases[i].out);
    }
    assert_true(project_name_is_valid("a"));
    assert_true(project_name_is_valid("0-a_b"));
    assert_false(project_name_is_valid(""));
    assert_false(project_name_is_valid("_a"));
    assert_false(project_name_is_valid("-a"));
    assert_false(project_name_is_valid("Abc"));
    assert_false(project_name_is_valid("a.b"));
    assert_false(project_name_is_valid("a b"));
    assert_false(project_name_is_valid("../.."));
    /* -p and COMPOSE_PROJECT_NAME: the rule and a length cap. */
    char name[COMPOSE_PROJECT_NAME_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_non_null(project_name_problem(name));
    name[COMPOSE_PROJECT_NAME_MAX] = '\0';
    assert_null(project_name_problem(name));
    assert_non_null(project_name_problem(".."));
    assert_non_null(project_name_problem("a/b"));
    assert_non_null(project_name_problem(""));
    struct berr e = BERR_INIT;
    assert_int_equal(compose_project_name_check("../x", NULL, &e), -EINVAL);
    assert_string_equal(e.msg, "invalid project name \"../x\": must consist only of lowercase "
                               "alphanumeric characters, hyphens, and underscores as well as "
                               "start with a letter or number");
    berr_clear(&e);
    assert_int_equal(compose_project_name_check("ok", NULL, &e), 0);
    assert_false(compose_container_name_valid("../x"));
    assert_false(compose_container_name_valid("a/b"));
    assert_false(compose_container_name_valid(".."));
    assert_true(compose_container_name_valid("web.1_a-b"));
}

static char *load_name(const char *yaml, char **env, const char *flag, const char *dirname,
                       struct berr *err)
{
    static char *empty[] = {NULL};
    char *tmp = ct_mkdtemp();
    _cleanup_free_ char *dir = xasprintf("%s/%s", tmp, dirname);
    free(ct_write(dir, "compose.yaml", yaml));
    struct ct_warnings w = {0};
    struct compose_opts o = {
        .project_name = flag,
        .environ = env ? env : empty,
        .cwd = dir,
        .warn = ct_warn_cb,
        .warn_userdata = &w,
    };
    struct project *p = NULL;
    char *name = NULL;
    if (compose_load(&o, &p, err) == 0) {
        name = xstrdup(p->name);
        assert_string_equal(p->working_dir, dir);
    }
    project_free(p);
    ct_warnings_clear(&w);
    ct_rmtree(tmp);
    return name;
}

static void test_name_precedence(void **state)
{
    static const char named[] = "name: fromfile\nservices:\n  web:\n    image: busybox\n";
    char *env[] = {"COMPOSE_PROJECT_NAME=fromenv", NULL};
    char *env_empty[] = {"COMPOSE_PROJECT_NAME=", NULL};
    static const struct {
        const char *yaml;
        bool with_env;
        const char *flag;
        const char *dir;
        const char *expect;
    } cases[] = {
        {named, true, "fromflag", "Some Dir", "fromflag"},
        {named, true, NULL, "Some Dir", "fromenv"},
        {named, false, NULL, "Some Dir", "fromfile"},
        {svc, false, NULL, "Some.Dir_X", "somedir_x"},
        {svc, false, "", "__Dir", "dir"},
        {"name: ''\nservices: {web: {image: x}}\n", false, NULL, "d1", "d1"},
        {"name: 123\nservices: {web: {image: x}}\n", false, NULL, "d1", "123"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berr e = BERR_INIT;
        _cleanup_free_ char *name = load_name(cases[i].yaml, cases[i].with_env ? env : NULL,
                                              cases[i].flag, cases[i].dir, &e);
        if (!name || strcmp(name, cases[i].expect) != 0) {
            fprintf(stderr, "case %zu: got %s (%s)\n", i, name ? name : "(null)",
                    e.msg ? e.msg : "");
            fail();
        }
        berr_clear(&e);
    }
    /* An empty COMPOSE_PROJECT_NAME is ignored. */
    struct berr e = BERR_INIT;
    _cleanup_free_ char *n = load_name(named, env_empty, NULL, "d", &e);
    assert_string_equal(n, "fromfile");
}

/* A file's name is normalized as compose-go does (it is not refused, as
 * -p and COMPOSE_PROJECT_NAME are); nothing left means the directory. */
static void test_name_normalized(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"services: {web: {image: x}}\nname: Foo\n", "foo"},
        {"services: {web: {image: x}}\nname: \"-My App_2.0\"\n", "myapp_20"},
        {"services: {web: {image: x}}\nname: ../x\n", "x"},
        {"services: {web: {image: x}}\nname: \"__\"\n", "d"},
        {"services: {web: {image: \"${COMPOSE_PROJECT_NAME}\"}}\nname: Foo\n", "foo"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berr e = BERR_INIT;
        _cleanup_free_ char *name = load_name(cases[i].yaml, NULL, NULL, "d", &e);
        if (!name || strcmp(name, cases[i].want) != 0) {
            fprintf(stderr, "case %zu: name %s error [%s]\n", i, name ? name : "(null)",
                    e.msg ? e.msg : "");
            fail();
        }
        berr_clear(&e);
    }
}

static void test_name_invalid(void **state)
{
    static const char want[] =
        "must consist only of lowercase alphanumeric characters, hyphens, and underscores as "
        "well as start with a letter or number";
    char *env_bad[] = {"COMPOSE_PROJECT_NAME=Bad", NULL};
    static const struct {
        const char *yaml;
        bool env;
        const char *flag;
        const char *dir;
        const char *expect;
    } cases[] = {
        {svc, false, "My App", "d", "invalid project name \"My App\": "},
        {svc, false, "_x", "d", "invalid project name \"_x\": "},
        {svc, false, "../..", "d", "invalid project name \"../..\": "},
        {svc, true, NULL, "d", "invalid project name \"Bad\" (from COMPOSE_PROJECT_NAME): "},
        {"name: [a]\nservices: {web: {image: x}}\n", false, NULL, "d",
         "compose.yaml:1:7: name: expected a string, got a list"},
        {svc, false, NULL, "___", "project name must not be empty"},
        {svc, false, NULL, "...", "project name must not be empty"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct berr e = BERR_INIT;
        char *name = load_name(cases[i].yaml, cases[i].env ? env_bad : NULL, cases[i].flag,
                               cases[i].dir, &e);
        if (name || !e.msg || !strstr(e.msg, cases[i].expect) ||
            (strstr(cases[i].expect, "invalid project name") && !strstr(e.msg, want))) {
            fprintf(stderr, "case %zu: name %s error [%s]\n", i, name ? name : "(null)",
                    e.msg ? e.msg : "");
            fail();
        }
        berr_clear(&e);
    }
}

/* The loader end to end: files, directory and name from discovery. */
static void test_load_discovered(void **state)
{
    static char *empty[] = {NULL};
    char *tmp = ct_mkdtemp();
    _cleanup_free_ char *dir = xasprintf("%s/My-Stack", tmp);
    _cleanup_free_ char *deep = xasprintf("%s/src/x", dir);
    free(ct_write(dir, "compose.yaml", svc));
    free(ct_write(dir, "compose.override.yaml",
                  "services:\n  web:\n    command: [echo, over]\n  db:\n    image: db\n"));
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(deep, 0755, &e), 0);
    struct compose_opts o = {.environ = empty, .cwd = deep};
    struct project *p = NULL;
    assert_int_equal(compose_load(&o, &p, &e), 0);
    assert_string_equal(p->name, "my-stack");
    assert_string_equal(p->working_dir, dir);
    _cleanup_free_ char *f0 = xasprintf("%s/compose.yaml", dir);
    _cleanup_free_ char *f1 = xasprintf("%s/compose.override.yaml", dir);
    assert_int_equal(strv_len(p->files), 2);
    assert_string_equal(p->files[0], f0);
    assert_string_equal(p->files[1], f1);
    assert_int_equal(p->n_services, 2);
    const struct service *web = project_service(p, "web");
    assert_string_equal(web->image, "busybox");
    assert_string_equal(web->command[1], "over");
    assert_ptr_equal(web->pos.file, p->files[0]);
    assert_ptr_equal(project_service(p, "db")->pos.file, p->files[1]);
    assert_null(project_service(p, "nope"));
    project_free(p);
    ct_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_names_order),
        cmocka_unit_test(test_override_files),
        cmocka_unit_test(test_parent_search),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_explicit_files),
        cmocka_unit_test(test_compose_file_env),
        cmocka_unit_test(test_project_directory_search),
        cmocka_unit_test(test_name_normalize),
        cmocka_unit_test(test_name_precedence),
        cmocka_unit_test(test_name_invalid),
        cmocka_unit_test(test_name_normalized),
        cmocka_unit_test(test_load_discovered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
