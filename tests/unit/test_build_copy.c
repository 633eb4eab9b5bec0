/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for COPY and ADD (engine/build/context.h) on real
 * directories: a context and a destination root in a scratch directory.
 * Docker's rules one by one (a directory's contents, the destination's
 * slash, wildcards, .dockerignore and --exclude, sources outside the
 * context, symlinks of the destination followed inside it and never out,
 * --chown from the destination's /etc/passwd, --chmod, mtimes, ADD's
 * archives and URLs, heredocs) and the cache key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine/build/context.h"
#include "engine/build/copy_int.h"
#include "image_testlib.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define SRCS(...) ((char *const[]){__VA_ARGS__, NULL})

struct fx {
    char *dir, *ctx, *root, *host;
    int ctxfd, rootfd;
    struct build_context *bc;
    pid_t server;        /* test_add_url's, killed at teardown */
    char ring[16][1024]; /* pf's paths */
    int next;
};

/* A formatted path that lives while 15 more are made (no free needed). */
static char *pf(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *pf(struct fx *f, const char *fmt, ...)
{
    char *buf = f->ring[f->next++ % 16];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof f->ring[0], fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof f->ring[0]);
    return buf;
}

static void put_mode(const char *base, const char *rel, const char *content, mode_t mode)
{
    char *path = xasprintf("%s/%s", base, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    struct berr e = BERR_INIT;
    assert_int_equal(fs_mkdir_p(path, 0755, &e), 0);
    *slash = '/';
    unlink(path);
    write_file(path, content, strlen(content));
    assert_int_equal(chmod(path, mode), 0);
    free(path);
}

static void put(const char *base, const char *rel, const char *content)
{
    put_mode(base, rel, content, 0644);
}

static void link_at(const char *base, const char *rel, const char *target)
{
    char *path = xasprintf("%s/%s", base, rel);
    unlink(path);
    assert_int_equal(symlink(target, path), 0);
    free(path);
}

/* The file's content under base, or NULL when it is not a regular file. */
static char *get(const char *base, const char *rel)
{
    char *path = xasprintf("%s/%s", base, rel);
    struct stat st;
    char *out = NULL;
    size_t len;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        assert_int_equal(fs_read_file(AT_FDCWD, path, 1 << 20, &out, &len, NULL), 0);
    free(path);
    return out;
}

static struct stat lstat_of(const char *base, const char *rel)
{
    char *path = xasprintf("%s/%s", base, rel);
    struct stat st;
    if (lstat(path, &st) < 0)
        memset(&st, 0, sizeof st);
    free(path);
    return st;
}

static bool exists(const char *base, const char *rel)
{
    return lstat_of(base, rel).st_mode != 0;
}

static void expect_content(const char *base, const char *rel, const char *want)
{
    char *got = get(base, rel);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s/%s: want \"%s\", got \"%s\"", base, rel, want, got ? got : "(none)");
    free(got);
}

static void open_context(struct fx *f)
{
    build_context_free(f->bc);
    f->bc = NULL;
    struct berr e = BERR_INIT;
    int r = build_context_open(f->ctx, NULL, &f->bc, &e);
    if (r < 0)
        fail_msg("build_context_open: %s", e.msg);
    f->ctxfd = build_context_fd(f->bc);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->dir = test_tmpdir("build-copy");
    f->ctx = xasprintf("%s/ctx", f->dir);
    f->root = xasprintf("%s/root", f->dir);
    f->host = xasprintf("%s/host-dir", f->dir);
    assert_int_equal(mkdir(f->ctx, 0755), 0);
    assert_int_equal(mkdir(f->root, 0755), 0);
    assert_int_equal(mkdir(f->host, 0755), 0);
    f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->rootfd >= 0);
    open_context(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->server > 0) {
        kill(f->server, SIGKILL);
        waitpid(f->server, NULL, 0);
    }
    build_context_free(f->bc);
    close(f->rootfd);
    rm_rf(f->dir);
    free(f->dir);
    free(f->ctx);
    free(f->root);
    free(f->host);
    free(f);
    return 0;
}

/* One op, with what a test leaves out defaulted. */
struct args {
    char *const *srcs;
    const char *dest;
    const char *workdir;
    const char *chown;
    const char *chmod;
    const char *checksum;
    char *const *excludes;
    bool add;
    bool from_stage; /* no .dockerignore, not the context */
    const struct df_heredoc *heredocs;
    size_t n_heredocs;
};

static struct copy_op op_of(const struct args *a, const char *scratch)
{
    return (struct copy_op){
        .file = "Dockerfile",
        .line = 7,
        .add = a->add,
        .srcs = a->srcs,
        .heredocs = a->heredocs,
        .n_heredocs = a->n_heredocs,
        .dest = a->dest,
        .workdir = a->workdir ? a->workdir : "/",
        .chown = a->chown,
        .chmod = a->chmod,
        .checksum = a->checksum,
        .excludes = a->excludes,
        .scratch_dir = scratch,
    };
}

static struct copy_source src_of(struct fx *f, const struct args *a)
{
    return (struct copy_source){
        .rootfd = f->ctxfd,
        .ignore = a->from_stage ? NULL : build_context_ignore(f->bc),
        .is_context = !a->from_stage,
    };
}

/* Runs the op; 0 or the error's code, its message in *msg (the caller's). */
static int run(struct fx *f, const struct args *a, char **msg)
{
    struct copy_op op = op_of(a, f->dir);
    struct copy_source src = src_of(f, a);
    struct berr e = BERR_INIT;
    int r = build_copy(&op, &src, f->rootfd, &e);
    if (msg)
        *msg = e.msg ? xstrdup(e.msg) : NULL;
    else if (r < 0)
        fail_msg("build_copy: %s", e.msg);
    berr_clear(&e);
    return r;
}

static void must_fail(struct fx *f, const struct args *a, const char *want)
{
    char *msg = NULL;
    int r = run(f, a, &msg);
    if (r >= 0 || !msg || !strstr(msg, want))
        fail_msg("want an error with \"%s\", got %d \"%s\"", want, r, msg ? msg : "");
    free(msg);
}

static void checksum(struct fx *f, const struct args *a, char out[65])
{
    struct copy_op op = op_of(a, f->dir);
    struct copy_source src = src_of(f, a);
    struct berr e = BERR_INIT;
    if (build_copy_checksum(&op, &src, out, &e) < 0)
        fail_msg("build_copy_checksum: %s", e.msg);
}

static void test_dir_contents_and_files(void **state)
{
    struct fx *f = *state;
    put(f->ctx, "dir/a", "A");
    put(f->ctx, "dir/sub/b", "B");
    put(f->ctx, "f", "F");
    assert_int_equal(mkdir(pf(f, "%s/existing", f->root), 0755), 0);
    run(f, &(struct args){.srcs = SRCS("dir"), .dest = "/out"}, NULL);
    expect_content(f->root, "out/a", "A");
    expect_content(f->root, "out/sub/b", "B");
    assert_false(exists(f->root, "out/dir"));
    run(f, &(struct args){.srcs = SRCS("dir/"), .dest = "/out2/"}, NULL);
    expect_content(f->root, "out2/sub/b", "B");
    run(f, &(struct args){.srcs = SRCS("."), .dest = "/all/"}, NULL);
    expect_content(f->root, "all/dir/a", "A");
    expect_content(f->root, "all/f", "F");
    /* a file: the destination path itself, or inside a directory */
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/x"}, NULL);
    expect_content(f->root, "x", "F");
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/d/"}, NULL);
    expect_content(f->root, "d/f", "F");
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/existing"}, NULL);
    expect_content(f->root, "existing/f", "F");
    /* relative to WORKDIR; "." is a directory */
    run(f, &(struct args){.srcs = SRCS("f"), .dest = ".", .workdir = "/app"}, NULL);
    expect_content(f->root, "app/f", "F");
    run(f, &(struct args){.srcs = SRCS("dir/a"), .dest = "sub/n", .workdir = "/app"}, NULL);
    expect_content(f->root, "app/sub/n", "A");
    /* an existing file is replaced, not written through */
    put(f->root, "target", "outside");
    assert_int_equal(link(pf(f, "%s/target", f->root), pf(f, "%s/hl", f->root)), 0);
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/hl"}, NULL);
    expect_content(f->root, "hl", "F");
    expect_content(f->root, "target", "outside");
    /* missing parents are 0755 */
    assert_int_equal(lstat_of(f->root, "d").st_mode & 07777, 0755);
}

/* several sources need a directory destination written with a slash */
static void test_dest_slash_rules(void **state)
{
    struct fx *f = *state;
    put(f->ctx, "a.txt", "a");
    put(f->ctx, "b.txt", "b");
    put(f->ctx, "one.md", "1");
    static const char want[] = "Dockerfile:7: COPY failed: When using COPY with more than one "
                               "source file, the destination must be a directory and end with a /";
    must_fail(f, &(struct args){.srcs = SRCS("a.txt", "b.txt"), .dest = "/multi"}, want);
    must_fail(f, &(struct args){.srcs = SRCS("*.txt"), .dest = "/multi"}, want);
    assert_false(exists(f->root, "multi"));
    run(f, &(struct args){.srcs = SRCS("a.txt", "b.txt"), .dest = "/multi/"}, NULL);
    expect_content(f->root, "multi/b.txt", "b");
    /* a wildcard matching one file is one source */
    run(f, &(struct args){.srcs = SRCS("*.md"), .dest = "/single"}, NULL);
    expect_content(f->root, "single", "1");
}

static void test_wildcards(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *pattern;
        const char *in, *out; /* "a,b": copied; "c": not */
    } cases[] = {
        {"*.txt", "a.txt,.hidden.txt", "c.md"},
        {"?.txt", "a.txt", "ab.txt"},
        {"[ab].txt", "a.txt,b.txt", "c.txt"},
        {"[^a].txt", "b.txt,c.txt", "a.txt"},
        {"sub/*/x", "x", ""},
        {"\\*[.]lit", "*.lit", "a.lit"},
    };
    put(f->ctx, "a.txt", "a");
    put(f->ctx, "b.txt", "b");
    put(f->ctx, "c.txt", "c");
    put(f->ctx, "ab.txt", "ab");
    put(f->ctx, ".hidden.txt", "h");
    put(f->ctx, "c.md", "m");
    put(f->ctx, "*.lit", "literal");
    put(f->ctx, "a.lit", "al");
    put(f->ctx, "sub/d1/x", "x");
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *dest = xasprintf("/w%zu/", i);
        run(f, &(struct args){.srcs = SRCS((char *)cases[i].pattern), .dest = dest}, NULL);
        for (int pass = 0; pass < 2; pass++) {
            char *list = xstrdup(pass ? cases[i].out : cases[i].in), *save = NULL;
            for (char *n = strtok_r(list, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
                char *rel = xasprintf("w%zu/%s", i, n);
                if (exists(f->root, rel) != !pass)
                    fail_msg("%s: %s should%s be copied", cases[i].pattern, n, pass ? " not" : "");
                free(rel);
            }
            free(list);
        }
        free(dest);
    }
    must_fail(f, &(struct args){.srcs = SRCS("\\*.lit"), .dest = "/n/"}, "no such file");
    must_fail(f, &(struct args){.srcs = SRCS("*.none"), .dest = "/n/"},
              "Dockerfile:7: COPY failed: \"*.none\": no such file or directory");
}

static void test_dockerignore_and_exclude(void **state)
{
    struct fx *f = *state;
    put(f->ctx, ".dockerignore", "secret\n*.log\n!keep.log\ncache\n");
    put(f->ctx, "secret", "s");
    put(f->ctx, "x.log", "x");
    put(f->ctx, "keep.log", "k");
    put(f->ctx, "cache/big", "b");
    put(f->ctx, "app.md", "md");
    put(f->ctx, "app.c", "c");
    put(f->ctx, "notsecret", "");
    link_at(f->ctx, "notsecret", "secret");
    open_context(f);
    run(f, &(struct args){.srcs = SRCS("."), .dest = "/o/"}, NULL);
    assert_false(exists(f->root, "o/secret"));
    assert_false(exists(f->root, "o/x.log"));
    assert_false(exists(f->root, "o/cache"));
    expect_content(f->root, "o/keep.log", "k");
    /* the link is part of the context; what it points to is not */
    assert_true(S_ISLNK(lstat_of(f->root, "o/notsecret").st_mode));
    must_fail(f, &(struct args){.srcs = SRCS("secret"), .dest = "/s"},
              "\"secret\": no such file or directory in the build context");
    must_fail(f, &(struct args){.srcs = SRCS("notsecret"), .dest = "/s"}, "no such file");
    must_fail(f, &(struct args){.srcs = SRCS("cache/big"), .dest = "/s"}, "no such file");
    run(f, &(struct args){.srcs = SRCS("*.log"), .dest = "/logs/"}, NULL);
    assert_false(exists(f->root, "logs/x.log"));
    expect_content(f->root, "logs/keep.log", "k");
    /* --exclude drops files too; the .dockerignore never applies to a stage */
    run(f, &(struct args){.srcs = SRCS("."), .dest = "/e/", .excludes = SRCS("*.md", "*.log")},
        NULL);
    assert_false(exists(f->root, "e/app.md"));
    assert_false(exists(f->root, "e/keep.log"));
    expect_content(f->root, "e/app.c", "c");
    run(f, &(struct args){.srcs = SRCS("app*"), .dest = "/e2/", .excludes = SRCS("*.md")}, NULL);
    assert_false(exists(f->root, "e2/app.md"));
    expect_content(f->root, "e2/app.c", "c");
    run(f, &(struct args){.srcs = SRCS("secret"), .dest = "/st", .from_stage = true}, NULL);
    expect_content(f->root, "st", "s");
}

static void test_sources_outside(void **state)
{
    struct fx *f = *state;
    put(f->dir, "outside", "o");
    link_at(f->ctx, "leak", "/etc/passwd");
    link_at(f->ctx, "up", "../outside");
    assert_int_equal(mkdir(pf(f, "%s/sub", f->ctx), 0755), 0);
    put(f->ctx, "sub/in", "in");
    link_at(f->ctx, "rel", "sub/../sub/in");
    must_fail(
        f, &(struct args){.srcs = SRCS("../outside"), .dest = "/x"},
        "Dockerfile:7: COPY failed: \"../outside\": forbidden path outside the build context");
    must_fail(f, &(struct args){.srcs = SRCS("sub/../../outside"), .dest = "/x"},
              "outside the build context");
    must_fail(f, &(struct args){.srcs = SRCS("leak"), .dest = "/x"}, "outside the build context");
    must_fail(f, &(struct args){.srcs = SRCS("up"), .dest = "/x"}, "outside the build context");
    must_fail(f, &(struct args){.srcs = SRCS("missing.txt"), .dest = "/x"},
              "Dockerfile:7: COPY failed: \"missing.txt\": no such file or directory");
    assert_false(exists(f->root, "x"));
    /* a named symlink inside is followed; within a directory it stays a link */
    run(f, &(struct args){.srcs = SRCS("rel"), .dest = "/r"}, NULL);
    expect_content(f->root, "r", "in");
    run(f, &(struct args){.srcs = SRCS("."), .dest = "/all/"}, NULL);
    char target[256] = "";
    assert_true(readlink(pf(f, "%s/all/leak", f->root), target, sizeof target) > 0);
    assert_string_equal(target, "/etc/passwd");
    /* absolute sources are in the context */
    run(f, &(struct args){.srcs = SRCS("/sub/in"), .dest = "/abs"}, NULL);
    expect_content(f->root, "abs", "in");
}

static void test_dest_symlinks(void **state)
{
    struct fx *f = *state;
    put(f->ctx, "f", "F");
    put(f->ctx, "tree/bin/tool", "T");
    assert_int_equal(mkdir(pf(f, "%s/usr", f->root), 0755), 0);
    assert_int_equal(mkdir(pf(f, "%s/usr/bin", f->root), 0755), 0);
    link_at(f->root, "bin", "usr/bin");
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/bin/f"}, NULL);
    expect_content(f->root, "usr/bin/f", "F");
    run(f, &(struct args){.srcs = SRCS("tree"), .dest = "/"}, NULL);
    expect_content(f->root, "usr/bin/tool", "T");
    assert_true(S_ISLNK(lstat_of(f->root, "bin").st_mode));
    /* a hostile absolute symlink resolves inside the root, never on the host */
    link_at(f->root, "etc", f->host);
    link_at(f->root, "dotdot", "../../../../../../../..");
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/etc/f"}, NULL);
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/etc/new/f"}, NULL);
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/dotdot/g"}, NULL);
    assert_false(exists(f->host, "f"));
    assert_false(exists(f->host, "new"));
    assert_false(exists(f->dir, "g"));
    char *inside = xasprintf("%s%s", f->root, f->host);
    expect_content(inside, "f", "F");
    expect_content(inside, "new/f", "F");
    expect_content(f->root, "g", "F");
    free(inside);
}

static void test_chown(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    put(f->ctx, "f", "F");
    put(f->ctx, "d/g", "G");
    put(f->root, "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1234:4000::/home/app:/bin/sh\n");
    put(f->root, "etc/group", "root:x:0:\ngrp:x:555:\n");
    static const struct {
        const char *spec;
        uid_t uid;
        gid_t gid;
    } cases[] = {
        {"app:grp", 1234, 555}, {"app", 1234, 1234}, {"1:2", 1, 2},
        {"77", 77, 77},         {"app:9", 1234, 9},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *dest = xasprintf("/c%zu/new/", i);
        run(f, &(struct args){.srcs = SRCS("f", "d"), .dest = dest, .chown = cases[i].spec}, NULL);
        const char *rels[] = {"new/f", "new/g", "new"};
        for (size_t k = 0; k < ARRAY_SIZE(rels); k++) {
            char *rel = xasprintf("c%zu/%s", i, rels[k]);
            struct stat st = lstat_of(f->root, rel);
            if (st.st_uid != cases[i].uid || st.st_gid != cases[i].gid)
                fail_msg("--chown=%s: %s is %u:%u", cases[i].spec, rel, st.st_uid, st.st_gid);
            free(rel);
        }
        free(dest);
    }
    /* without --chown: root, whatever the source's owner */
    assert_int_equal(chown(pf(f, "%s/f", f->ctx), 4321, 4321), 0);
    run(f, &(struct args){.srcs = SRCS("f"), .dest = "/plain"}, NULL);
    assert_int_equal(lstat_of(f->root, "plain").st_uid, 0);
    must_fail(f, &(struct args){.srcs = SRCS("f"), .dest = "/u", .chown = "nobody"},
              "Dockerfile:7: COPY failed: --chown=nobody: unable to find user nobody");
    must_fail(f, &(struct args){.srcs = SRCS("f"), .dest = "/u", .chown = "app:nogroup"},
              "unable to find group nogroup");
    /* /etc/passwd as a FIFO is refused at once */
    unlink(pf(f, "%s/etc/passwd", f->root));
    assert_int_equal(mkfifo(pf(f, "%s/etc/passwd", f->root), 0644), 0);
    must_fail(f, &(struct args){.srcs = SRCS("f"), .dest = "/u", .chown = "app"},
              "not a regular file");
    assert_false(exists(f->root, "u"));
}

static void test_chmod_and_mtime(void **state)
{
    struct fx *f = *state;
    put_mode(f->ctx, "f", "F", 0640);
    put_mode(f->ctx, "d/x", "X", 0700);
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 123}};
    assert_int_equal(utimensat(AT_FDCWD, pf(f, "%s/f", f->ctx), ts, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, pf(f, "%s/d", f->ctx), ts, 0), 0);
    static const struct {
        const char *chmod;
        mode_t file, dir; /* of f (0640) and of d (0755) */
    } cases[] = {
        {NULL, 0640, 0755},          {"0755", 0755, 0755},  {"600", 0600, 0600},
        {"u+x", 0740, 0755},         {"go=rX", 0644, 0755}, {"a-w,o+r", 0444, 0555},
        {"u=rwx,g=,o=", 0700, 0700},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *dest = xasprintf("/m%zu/", i);
        run(f, &(struct args){.srcs = SRCS("f", "."), .dest = dest, .chmod = cases[i].chmod}, NULL);
        char *rf = xasprintf("m%zu/f", i), *rd = xasprintf("m%zu/d", i);
        mode_t mf = lstat_of(f->root, rf).st_mode & 07777,
               md = lstat_of(f->root, rd).st_mode & 07777;
        if (mf != cases[i].file || md != cases[i].dir)
            fail_msg("--chmod=%s: f %o d %o", cases[i].chmod ? cases[i].chmod : "(none)", mf, md);
        free(rf);
        free(rd);
        free(dest);
    }
    struct stat st = lstat_of(f->root, "m0/f");
    assert_int_equal(st.st_mtim.tv_sec, 1000000000);
    assert_int_equal(st.st_mtim.tv_nsec, 123);
    assert_int_equal(lstat_of(f->root, "m0/d").st_mtim.tv_sec, 1000000000);
    must_fail(f, &(struct args){.srcs = SRCS("f"), .dest = "/bad", .chmod = "abc"}, "--chmod=abc");
    must_fail(f, &(struct args){.srcs = SRCS("f"), .dest = "/bad", .chmod = "99999"},
              "--chmod=99999");
}

static void write_tar(const char *path, const char *filter)
{
    struct tb *t = tb_new(filter);
    tb_dir(t, "t", 0755);
    tb_file(t, "t/x", 0644, "tx");
    tb_file(t, "y", 0600, "why");
    tb_add(t, 'f', "owned", NULL, 0644, "o", 1, 1000, 1001);
    tb_symlink(t, "t/esc", "/");
    tb_file(t, "t/esc/pwn", 0644, "confined");
    size_t len;
    char *buf = tb_finish(t, &len);
    write_file(path, buf, len);
    free(buf);
}

static void test_add_archives(void **state)
{
    struct fx *f = *state;
    write_tar(pf(f, "%s/a.tar.gz", f->ctx), "gzip");
    write_tar(pf(f, "%s/plain.bin", f->ctx), "none");
    write_tar(pf(f, "%s/z.tzst", f->ctx), "zstd");
    put(f->ctx, "notes.tar.gz", "not an archive at all");
    run(f, &(struct args){.srcs = SRCS("a.tar.gz"), .dest = "/u/", .add = true}, NULL);
    expect_content(f->root, "u/t/x", "tx");
    expect_content(f->root, "u/y", "why");
    assert_int_equal(lstat_of(f->root, "u/owned").st_uid, 1000);
    /* through the archive's own symlink to "/": still in the destination */
    expect_content(f->root, "u/pwn", "confined");
    assert_false(exists("/", "pwn"));
    assert_false(exists(f->root, "pwn"));
    assert_false(exists(f->root, "u/a.tar.gz"));
    /* detected from the bytes, not the name */
    run(f, &(struct args){.srcs = SRCS("plain.bin", "z.tzst"), .dest = "/p/", .add = true}, NULL);
    expect_content(f->root, "p/t/x", "tx");
    run(f, &(struct args){.srcs = SRCS("notes.tar.gz"), .dest = "/n/", .add = true}, NULL);
    expect_content(f->root, "n/notes.tar.gz", "not an archive at all");
    must_fail(f,
              &(struct args){
                  .srcs = SRCS("a.tar.gz"), .dest = "/k/", .add = true, .checksum = "sha256:0000"},
              "Dockerfile:7: ADD failed: a.tar.gz: --checksum applies to http(s) sources only");
    /* COPY, and ADD from a stage, never unpack */
    run(f, &(struct args){.srcs = SRCS("a.tar.gz"), .dest = "/c/"}, NULL);
    assert_true(S_ISREG(lstat_of(f->root, "c/a.tar.gz").st_mode));
    run(f, &(struct args){.srcs = SRCS("a.tar.gz"), .dest = "/s/", .add = true, .from_stage = true},
        NULL);
    assert_true(S_ISREG(lstat_of(f->root, "s/a.tar.gz").st_mode));
    /* --chown owns what was unpacked; an entry through the archive's own
     * symlink stays in the destination */
    run(f, &(struct args){.srcs = SRCS("a.tar.gz"), .dest = "/o", .add = true, .chown = "7:8"},
        NULL);
    assert_int_equal(lstat_of(f->root, "o/owned").st_uid, 7);
    assert_int_equal(lstat_of(f->root, "o/t/x").st_gid, 8);
}

static void test_heredocs(void **state)
{
    struct fx *f = *state;
    const struct df_heredoc hd[] = {{.name = "EOF", .content = "hello\n"},
                                    {.name = "two.txt", .content = "2\n"}};
    run(f,
        &(struct args){.srcs = SRCS("<<EOF"), .dest = "/h/file", .heredocs = hd, .n_heredocs = 1},
        NULL);
    expect_content(f->root, "h/file", "hello\n");
    assert_int_equal(lstat_of(f->root, "h/file").st_mode & 07777, 0644);
    run(f,
        &(struct args){.srcs = SRCS("<<EOF", "<<two.txt"),
                       .dest = "/hd/",
                       .heredocs = hd,
                       .n_heredocs = 2,
                       .chmod = "0755"},
        NULL);
    expect_content(f->root, "hd/EOF", "hello\n");
    expect_content(f->root, "hd/two.txt", "2\n");
    assert_int_equal(lstat_of(f->root, "hd/two.txt").st_mode & 07777, 0755);
}

static void test_checksum(void **state)
{
    struct fx *f = *state;
    put(f->ctx, ".dockerignore", "ignored\n");
    put(f->ctx, "src/a", "aaaa");
    put(f->ctx, "src/b/c", "cccc");
    put(f->ctx, "ignored", "i");
    link_at(f->ctx, "src/l", "a");
    open_context(f);
    struct args a = {.srcs = SRCS("src", "ignored*"), .dest = "/d/"};
    /* "ignored*" matches nothing visible: an error; then without it */
    char sum[65], again[65], other[65];
    struct copy_op op = op_of(&a, f->dir);
    struct copy_source src = src_of(f, &a);
    struct berr e = BERR_INIT;
    assert_true(build_copy_checksum(&op, &src, sum, &e) < 0);
    assert_non_null(strstr(e.msg, "Dockerfile:7: COPY failed: \"ignored*\": no such file"));
    berr_clear(&e);
    a.srcs = SRCS("src", ".");
    checksum(f, &a, sum);
    checksum(f, &a, again);
    assert_string_equal(sum, again);
    assert_int_equal(strlen(sum), 64);
    put(f->ctx, "ignored", "changed");
    checksum(f, &a, again);
    assert_string_equal(sum, again);
    put(f->ctx, "src/b/c", "cccd"); /* one byte */
    checksum(f, &a, other);
    assert_string_not_equal(sum, other);
    put(f->ctx, "src/b/c", "cccc");
    checksum(f, &a, again);
    assert_string_equal(sum, again);
    assert_int_equal(chmod(pf(f, "%s/src/a", f->ctx), 0600), 0);
    checksum(f, &a, other);
    assert_string_not_equal(sum, other);
    assert_int_equal(chmod(pf(f, "%s/src/a", f->ctx), 0644), 0);
    if (setxattr(pf(f, "%s/src/a", f->ctx), "user.v", "1", 1, 0) == 0) {
        checksum(f, &a, other);
        assert_string_not_equal(sum, other);
        assert_int_equal(removexattr(pf(f, "%s/src/a", f->ctx), "user.v"), 0);
    }
    link_at(f->ctx, "src/l", "b");
    checksum(f, &a, other);
    assert_string_not_equal(sum, other);
    link_at(f->ctx, "src/l", "a");
    checksum(f, &a, again);
    assert_string_equal(sum, again);
}

/* A 50 MB context hashed well under a second (printed: MB/s). */
static void test_checksum_speed(void **state)
{
    struct fx *f = *state;
    char *buf = xmalloc(1 << 20);
    for (size_t i = 0; i < (1 << 20); i++)
        buf[i] = (char)(i * 7 + i / 255);
    for (int i = 0; i < 50; i++) {
        char *p = xasprintf("%s/big/f%02d", f->ctx, i);
        if (i == 0)
            mkdir(pf(f, "%s/big", f->ctx), 0755);
        write_file(p, buf, 1 << 20);
        free(p);
    }
    free(buf);
    struct args a = {.srcs = SRCS("big"), .dest = "/b/"};
    char sum[65];
    struct timespec t0, t1;
    checksum(f, &a, sum); /* warm the page cache */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    checksum(f, &a, sum);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("checksum of 50 MB: %.3f s, %.0f MB/s\n", s, 50 / s);
    assert_true(s < 1.0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run(f, &a, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("copy of 50 MB: %.3f s, %.0f MB/s\n", s, 50 / s);
    assert_int_equal(lstat_of(f->root, "b/f49").st_size, 1 << 20);
}

/* A python3 http.server on 127.0.0.1, an ephemeral port. */
static pid_t serve(const char *dir, int *port)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* it dies with the test, and holds none of the test's output */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        dup2(pfd[1], 1);
        close_range(3, ~0U, 0);
        execlp("python3", "python3", "-c",
               "import http.server,functools,os,sys\n"
               "h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[1])\n"
               "h.func.log_message=lambda *a:None\n"
               "s=http.server.HTTPServer(('127.0.0.1',0),h)\n"
               "os.write(1,b'%d\\n'%s.server_address[1])\n"
               "os.close(1)\n"
               "s.serve_forever()\n",
               dir, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char line[32] = "";
    ssize_t n = read(pfd[0], line, sizeof line - 1);
    close(pfd[0]);
    *port = n > 0 ? atoi(line) : 0;
    return pid;
}

static void test_add_url(void **state)
{
    struct fx *f = *state;
    if (access("/usr/bin/python3", X_OK) != 0 && system("command -v python3 >/dev/null") != 0)
        skip();
    char *www = xasprintf("%s/www", f->dir);
    assert_int_equal(mkdir(www, 0755), 0);
    put(www, "dl/file.txt", "downloaded\n");
    struct timespec ts[2] = {{1500000000, 0}, {1500000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, pf(f, "%s/dl/file.txt", www), ts, 0), 0);
    int port;
    f->server = serve(www, &port);
    if (port <= 0)
        skip();
    char *url = xasprintf("http://127.0.0.1:%d/dl/file.txt?x=1", port);
    char *missing = xasprintf("http://127.0.0.1:%d/nope.txt", port);
    char digest[DIGEST_STR_SIZE];
    sha256_digest("downloaded\n", 11, digest);
    struct args a = {.srcs = SRCS(url), .dest = "/web/", .add = true, .checksum = digest};
    char sum[65];
    checksum(f, &a, sum);
    run(f, &a, NULL);
    expect_content(f->root, "web/file.txt", "downloaded\n");
    struct stat st = lstat_of(f->root, "web/file.txt");
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_mtim.tv_sec, 1500000000);
    /* sha512 (and sha384) as BuildKit takes them; a malformed one is named */
    unsigned char bin[64];
    unsigned int blen = 0;
    assert_true(EVP_Digest("downloaded\n", 11, bin, &blen, EVP_sha512(), NULL));
    char sha512[8 + 128 + 1] = "sha512:";
    for (unsigned int i = 0; i < blen; i++)
        snprintf(sha512 + 7 + 2 * i, 3, "%02x", bin[i]);
    run(f, &(struct args){.srcs = SRCS(url), .dest = "/w512/", .add = true, .checksum = sha512},
        NULL);
    expect_content(f->root, "w512/file.txt", "downloaded\n");
    must_fail(f,
              &(struct args){.srcs = SRCS(url),
                             .dest = "/wbad/",
                             .add = true,
                             .checksum = "md5:d41d8cd98f00b204e9800998ecf8427e"},
              "--checksum=md5:d41d8cd98f00b204e9800998ecf8427e: expected sha256:, sha384: or "
              "sha512:");
    /* dest without a slash: the file itself */
    run(f, &(struct args){.srcs = SRCS(url), .dest = "/named", .add = true}, NULL);
    expect_content(f->root, "named", "downloaded\n");
    /* a wrong checksum names both digests */
    char *bad = xasprintf("sha256:%064d", 0);
    char *want = xasprintf("expected %s, got %s", bad, digest);
    char *url2 = xasprintf("http://127.0.0.1:%d/dl/file.txt?other", port);
    must_fail(f, &(struct args){.srcs = SRCS(url2), .dest = "/w2/", .add = true, .checksum = bad},
              want);
    assert_false(exists(f->root, "w2"));
    must_fail(f, &(struct args){.srcs = SRCS(missing), .dest = "/w3/", .add = true},
              "the server answered 404");
    must_fail(f,
              &(struct args){
                  .srcs = SRCS("https://example.invalid/repo.git"), .dest = "/g/", .add = true},
              "Dockerfile:7: ADD failed: https://example.invalid/repo.git: adding a git "
              "repository is not supported");
    free(www);
    free(url);
    free(url2);
    free(missing);
    free(bad);
    free(want);
}

static void test_context_open(void **state)
{
    struct fx *f = *state;
    struct build_context *bc = NULL;
    struct berr e = BERR_INIT;
    char *nope = xasprintf("%s/nope", f->dir);
    assert_true(build_context_open(nope, NULL, &bc, &e) < 0);
    assert_non_null(strstr(e.msg, "build context"));
    assert_non_null(strstr(e.msg, "no such directory"));
    berr_clear(&e);
    /* DOCKERFILE.dockerignore wins over .dockerignore */
    put(f->ctx, ".dockerignore", "a\n");
    put(f->dir, "df/Dockerfile", "FROM scratch\n");
    put(f->dir, "df/Dockerfile.dockerignore", "b\n");
    char *df = xasprintf("%s/df/Dockerfile", f->dir);
    assert_int_equal(build_context_open(f->ctx, df, &bc, &e), 0);
    assert_true(dockerignore_excluded(build_context_ignore(bc), "b"));
    assert_false(dockerignore_excluded(build_context_ignore(bc), "a"));
    build_context_free(bc);
    char *other = xasprintf("%s/df/Other", f->dir);
    assert_int_equal(build_context_open(f->ctx, other, &bc, &e), 0);
    assert_true(dockerignore_excluded(build_context_ignore(bc), "a"));
    build_context_free(bc);
    /* errors name the file and line; a link out of the context is refused */
    put(f->ctx, ".dockerignore", "ok\n[\n");
    assert_true(build_context_open(f->ctx, NULL, &bc, &e) < 0);
    assert_non_null(strstr(e.msg, ".dockerignore:2:"));
    berr_clear(&e);
    put(f->dir, "outside-ignore", "x\n");
    unlink(pf(f, "%s/.dockerignore", f->ctx));
    link_at(f->ctx, ".dockerignore", pf(f, "%s/outside-ignore", f->dir));
    assert_true(build_context_open(f->ctx, NULL, &bc, &e) < 0);
    assert_non_null(strstr(e.msg, "outside the build context"));
    berr_clear(&e);
    free(nope);
    free(df);
    free(other);
}

static void test_symlinks_and_hardlinks(void **state)
{
    struct fx *f = *state;
    put(f->ctx, "d/a", "A");
    link_at(f->ctx, "d/rel", "a");
    assert_int_equal(link(pf(f, "%s/d/a", f->ctx), pf(f, "%s/d/hard", f->ctx)), 0);
    /* user.* extended attributes are kept; others (trusted.*) are not */
    bool xattrs = setxattr(pf(f, "%s/d/a", f->ctx), "user.note", "hi", 2, 0) == 0;
    if (xattrs)
        assert_int_equal(setxattr(pf(f, "%s/d/a", f->ctx), "trusted.x", "t", 1, 0), 0);
    run(f, &(struct args){.srcs = SRCS("d"), .dest = "/o"}, NULL);
    if (xattrs) {
        char val[8] = "";
        assert_int_equal(getxattr(pf(f, "%s/o/a", f->root), "user.note", val, sizeof val), 2);
        assert_memory_equal(val, "hi", 2);
        assert_true(getxattr(pf(f, "%s/o/a", f->root), "trusted.x", val, sizeof val) < 0);
    } else {
        print_message("no user.* extended attributes here: not checked\n");
    }
    char target[64] = "";
    assert_true(readlink(pf(f, "%s/o/rel", f->root), target, sizeof target) > 0);
    assert_string_equal(target, "a");
    assert_int_equal(lstat_of(f->root, "o/a").st_ino, lstat_of(f->root, "o/hard").st_ino);
    /* a directory where a file was, and the reverse */
    put(f->ctx, "t/x/y", "Y");
    put(f->root, "o2/x", "file");
    run(f, &(struct args){.srcs = SRCS("t"), .dest = "/o2"}, NULL);
    expect_content(f->root, "o2/x/y", "Y");
}

/* A context deeper than COPY_MAX_DEPTH is refused, and nothing is left
 * half-copied beyond what was written before the cap. */
static void test_caps(void **state)
{
    struct fx *f = *state;
    char *path = xstrdup(f->ctx);
    for (int i = 0; i <= COPY_MAX_DEPTH + 1; i++) {
        char *next = xasprintf("%s/%s", path, i == 0 ? "deep" : "d");
        free(path);
        path = next;
        if (mkdir(path, 0755) < 0)
            fail_msg("mkdir: %m");
    }
    free(path);
    char sum[65];
    struct args a = {.srcs = SRCS("deep"), .dest = "/deep/"};
    struct copy_op op = op_of(&a, f->dir);
    struct copy_source src = src_of(f, &a);
    struct berr e = BERR_INIT;
    assert_true(build_copy_checksum(&op, &src, sum, &e) < 0);
    assert_non_null(strstr(e.msg, "Dockerfile:7: COPY failed: \"deep/d/"));
    assert_non_null(strstr(e.msg, "more than 256 directory levels"));
    berr_clear(&e);
    must_fail(f, &a, "more than 256 directory levels");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dir_contents_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dest_slash_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wildcards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dockerignore_and_exclude, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sources_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dest_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chmod_and_mtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_archives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heredocs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_speed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_context_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_and_hardlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
