/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the compose unit tests (header-only; each test program
 * includes it once). Scratch directories live under $BERTH_TEST_TMP. */
#ifndef BERTH_TESTS_COMPOSE_TESTUTIL_H
#define BERTH_TESTS_COMPOSE_TESTUTIL_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compose/compose.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/xalloc.h"

#include "scratch.h"

/* Discovery walks up to the root: the scratch dir must not sit below a
 * stray compose.yaml, so tests use their own subdirectory names. */
static inline char *ct_mkdtemp(void)
{
    return scratch_dir("compose");
}

static inline void ct_rmtree(char *dir)
{
    scratch_remove(dir);
}

/* Writes dir/name (creating parent directories). */
static inline char *ct_write_n(const char *dir, const char *name, const char *data, size_t len)
{
    char *path = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *parent = xstrdup(path);
    *strrchr(parent, '/') = '\0';
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(parent, 0755, &e), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static inline char *ct_write(const char *dir, const char *name, const char *data)
{
    return ct_write_n(dir, name, data, strlen(data));
}

/* A growing string for generated inputs (linear, unlike repeated
 * asprintf). */
struct ct_buf {
    char *s;
    size_t len, cap;
};

static inline void ct_printf(struct ct_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void ct_printf(struct ct_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *add = xvasprintf(fmt, ap);
    va_end(ap);
    size_t n = strlen(add);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, add, n + 1);
    b->len += n;
    free(add);
}

/* Collected warnings. */
struct ct_warnings {
    char **msgs;
};

static inline void ct_warn_cb(void *ud, const char *msg)
{
    struct ct_warnings *w = ud;
    strv_push(&w->msgs, xstrdup(msg));
}

static inline bool ct_warned(const struct ct_warnings *w, const char *needle)
{
    for (size_t i = 0; w->msgs && w->msgs[i]; i++)
        if (strstr(w->msgs[i], needle))
            return true;
    return false;
}

static inline void ct_warnings_clear(struct ct_warnings *w)
{
    strv_free(w->msgs);
    w->msgs = NULL;
}

static inline double ct_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads compose files with the given contents from a fresh directory
 * (named "proj" so the default project name is "proj"). env: NULL-terminated
 * or NULL for an empty environment. Returns compose_load's result. */
struct ct_load {
    char *dir;
    struct project *p;
    struct berr e;
    struct ct_warnings w;
};

/* The loaded project's service name; fails the test when the load failed
 * or there is no such service. */
static inline const struct service *ct_service(const struct ct_load *l, const char *name)
{
    if (!l->p)
        fail_msg("load failed: %s", l->e.msg);
    const struct service *s = project_service(l->p, name);
    if (!s)
        fail_msg("no service %s", name);
    return s;
}

static inline int ct_load_files(struct ct_load *l, const char *const *names,
                                const char *const *contents, char **env)
{
    static char *empty_env[] = {NULL};
    memset(l, 0, sizeof *l);
    char *tmp = ct_mkdtemp();
    l->dir = xasprintf("%s/proj", tmp);
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(l->dir, 0755, &e), 0);
    free(tmp);
    char **files = NULL;
    for (size_t i = 0; names[i]; i++) {
        /* "+name": written beside the others but not named with -f (.env). */
        bool extra = names[i][0] == '+';
        free(ct_write(l->dir, names[i] + extra, contents[i]));
        if (!extra)
            strv_push(&files, xstrdup(names[i])); /* relative to cwd, as typed */
    }
    struct compose_opts o = {
        .files = files,
        .environ = env ? env : empty_env,
        .cwd = l->dir,
        .warn = ct_warn_cb,
        .warn_userdata = &l->w,
    };
    int r = compose_load(&o, &l->p, &l->e);
    strv_free(files);
    return r;
}

static inline int ct_load(struct ct_load *l, const char *yaml, char **env)
{
    const char *names[] = {"compose.yaml", NULL};
    const char *contents[] = {yaml, NULL};
    return ct_load_files(l, names, contents, env);
}

static inline void ct_load_done(struct ct_load *l)
{
    project_free(l->p);
    berr_clear(&l->e);
    ct_warnings_clear(&l->w);
    /* l->dir is <tmp>/proj: remove <tmp>. */
    *strrchr(l->dir, '/') = '\0';
    ct_rmtree(l->dir);
    memset(l, 0, sizeof *l);
}

/* Asserts the load failed and its message contains needle. */
#define ct_assert_error(l, needle)                                                                 \
    do {                                                                                           \
        if (!(l)->e.msg || !strstr((l)->e.msg, (needle))) {                                        \
            fprintf(stderr, "expected error containing [%s], got [%s]\n", (needle),                \
                    (l)->e.msg ? (l)->e.msg : "(none)");                                           \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* Asserts that the file yaml is refused with a message containing needle
 * (l is scratch: loaded, checked and cleared). */
#define ct_assert_refused(l, yaml, needle)                                                         \
    do {                                                                                           \
        if (ct_load((l), (yaml), NULL) == 0) {                                                     \
            fprintf(stderr, "loaded, but should be refused:\n%s", (yaml));                         \
            fail();                                                                                \
        }                                                                                          \
        ct_assert_error((l), (needle));                                                            \
        ct_load_done(l);                                                                           \
    } while (0)

#define ct_assert_warned(l, needle)                                                                \
    do {                                                                                           \
        if (!ct_warned(&(l)->w, (needle))) {                                                       \
            fprintf(stderr, "expected a warning containing [%s]; got:\n", (needle));               \
            for (size_t i_ = 0; (l)->w.msgs && (l)->w.msgs[i_]; i_++)                              \
                fprintf(stderr, "  %s\n", (l)->w.msgs[i_]);                                        \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

#endif
