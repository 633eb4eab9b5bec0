/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the Dockerfile parser and the expansion walk
 * (engine/build/build.h): every instruction and form, directives,
 * continuations, heredocs, flags and --mount fields, the error lines, the
 * substitution rules and ARG/ENV scoping across stages, as docker's
 * BuildKit frontend behaves. Not here: .dockerignore (test_build_ignore.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/build/build.h"
#include "engine/build/internal.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "util/xalloc.h"

static struct dockerfile *parse_ok(const char *text)
{
    struct dockerfile *df = NULL;
    struct berr e = BERR_INIT;
    int r = dockerfile_parse("Dockerfile", text, strlen(text), &df, &e);
    if (r < 0)
        print_error("unexpected error: %s\n", e.msg);
    berr_clear(&e);
    assert_int_equal(r, 0);
    return df;
}

static const struct df_instr *instr(const struct dockerfile *df, size_t stage, size_t i)
{
    assert_true(stage < df->n_stages);
    assert_true(i < df->stages[stage].n_instrs);
    return &df->stages[stage].instrs[i];
}

static const char *flag(const struct df_instr *in, const char *name)
{
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, name) == 0)
            return in->flags[i].value;
    return NULL;
}

/* Dockerfiles that must fail, with the one line the user sees. */
static const struct {
    const char *text, *msg;
} bad[] = {
    {"FORM alpine\n", "Dockerfile:1: unknown instruction: FORM (did you mean FROM?)"},
    {"FROM a\nRUNN x\n", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
    {"FROM a\nfrobnicate x\n", "Dockerfile:2: unknown instruction: frobnicate"},
    {"RUN echo\nFROM a\n", "Dockerfile:1: RUN before the first FROM (only ARG may come first)"},
    {"", "Dockerfile: no FROM instruction: nothing to build"},
    {"ARG A\n", "Dockerfile: no FROM instruction: nothing to build"},
    {"FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument"},
    {"FROM\n", "Dockerfile:1: FROM requires at least one argument"},
    {"FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments (FROM IMAGE [AS "
                   "NAME])"},
    {"FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name \"x\""},
    {"FROM a AS 1x\n", "Dockerfile:1: invalid name for build stage: \"1x\", name can't start "
                       "with a number or contain symbols"},
    {"FROM a\nCOPY a <<EOF\nx\nEOF\n",
     "Dockerfile:2: COPY cannot accept a heredoc as a destination"},
    {"FROM a AS Bad!\n", "Dockerfile:1: invalid name for build stage: \"Bad!\", name can't start "
                         "with a number or contain symbols"},
    {"FROM a AS x$y\n", "Dockerfile:1: invalid name for build stage: \"x$y\", name can't start "
                        "with a number or contain symbols"},
    {"FROM a\nRUN <<EOF\nhello\n", "Dockerfile:2: unterminated heredoc: no line \"EOF\" ends it"},
    {"FROM a\nCOPY --form=x a b\n", "Dockerfile:2: unknown flag: --form"},
    {"FROM a\nRUN --chown=1 x\n", "Dockerfile:2: unknown flag: --chown"},
    {"FROM a\nCMD --help\n", "Dockerfile:2: unknown flag: --help"},
    {"FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: from"},
    {"FROM a\nCOPY --link=maybe a b\n",
     "Dockerfile:2: expecting boolean value for flag link, not: maybe"},
    {"FROM a\nCOPY --from=x --from=y a b\n", "Dockerfile:2: duplicate flag specified: --from"},
    {"FROM a\nCOPY --chmod=999 a b\n",
     "Dockerfile:2: invalid chmod parameter: 999 (an octal mode)"},
    {"FROM a\nADD --checksum=md5:x a b\n", "Dockerfile:2: invalid checksum md5:x (sha256:HEX)"},
    {"FROM a\nCOPY a\n",
     "Dockerfile:2: COPY requires at least two arguments (source and destination)"},
    {"FROM a\nHEALTHCHECK --interval=5 CMD x\n",
     "Dockerfile:2: invalid duration for --interval: 5"},
    {"FROM a\nHEALTHCHECK --timeout=10us CMD x\n",
     "Dockerfile:2: --timeout cannot be less than 1ms: 10us"},
    {"FROM a\nHEALTHCHECK --retries=-1 CMD x\n",
     "Dockerfile:2: invalid value for --retries: -1 (a count 0 or more)"},
    {"FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments or flags"},
    {"FROM a\nHEALTHCHECK CURL x\n",
     "Dockerfile:2: unknown type \"CURL\" in HEALTHCHECK (NONE or CMD)"},
    {"FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: missing command after HEALTHCHECK CMD"},
    {"FROM a\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"},
    {"FROM a\nONBUILD ONBUILD RUN x\n",
     "Dockerfile:2: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
    {"FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"},
    {"FROM a\nONBUILD maintainer me\n",
     "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"},
    {"FROM a\nONBUILD FORM b\n", "Dockerfile:2: unknown instruction: FORM (did you mean FROM?)"},
    {"FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"},
    {"FROM a\nENV A\n", "Dockerfile:2: ENV A needs a value (ENV NAME=VALUE)"},
    {"FROM a\nENV A=1 B\n", "Dockerfile:2: syntax error - can't find = in \"B\": must be of the "
                            "form name=value"},
    {"FROM a\nLABEL =x\n", "Dockerfile:2: LABEL names can not be blank"},
    {"FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank"},
    {"FROM a\nSTOPSIGNAL A B\n", "Dockerfile:2: STOPSIGNAL requires exactly one argument"},
    {"FROM a\nRUN --mount=type=nfs,target=/x y\n",
     "Dockerfile:2: --mount=type=nfs,target=/x: unsupported mount type \"nfs\""},
    {"FROM a\nRUN --mount=type=cache y\n",
     "Dockerfile:2: --mount=type=cache: mount type=cache needs a target="},
    {"FROM a\nRUN --mount=type=cache,target=/c,colour=red y\n",
     "Dockerfile:2: --mount=type=cache,target=/c,colour=red: unexpected key 'colour' in "
     "'colour=red'"},
    {"FROM a\nRUN --mount=type=cache,target=/c,sharing=all y\n",
     "Dockerfile:2: --mount=type=cache,target=/c,sharing=all: unsupported sharing value \"all\""},
    {"FROM a\nRUN --mount=type=cache,target=/c,uid=x y\n",
     "Dockerfile:2: --mount=type=cache,target=/c,uid=x: invalid value for uid: x"},
    {"FROM a\nRUN --mount=target=/x,mode=0700 y\n",
     "Dockerfile:2: --mount=target=/x,mode=0700: mode not allowed for \"bind\" type mounts"},
    {"FROM a\nRUN --mount=type=cache,target=/x,required y\n",
     "Dockerfile:2: --mount=type=cache,target=/x,required: unexpected key 'required' for mount "
     "type 'cache'"},
    {"FROM a\nRUN --mount=type=secret,id=a,from=b y\n",
     "Dockerfile:2: --mount=type=secret,id=a,from=b: secret mount should not have a from"},
    {"FROM a\nRUN --mount=type=secret,id=a,src=b y\n",
     "Dockerfile:2: --mount=type=secret,id=a,src=b: both source and id can't be set"},
    {"FROM a\nRUN --mount=type=secret y\n",
     "Dockerfile:2: --mount=type=secret: invalid secret mount: one of id, source, target "
     "required"},
    {"FROM a\nRUN --mount=type=tmpfs,target=/t,bogus y\n",
     "Dockerfile:2: --mount=type=tmpfs,target=/t,bogus: invalid field 'bogus' must be a "
     "key=value pair"},
    {"FROM a\nRUN --mount=type=bind,target=/t,sharing=locked y\n",
     "Dockerfile:2: --mount=type=bind,target=/t,sharing=locked: invalid cache sharing set for "
     "bind mount"},
    {"FROM a\nRUN --network=bridge y\n",
     "Dockerfile:2: unsupported network mode: bridge (default, none or host)"},
    {"FROM a\nRUN --security=root y\n",
     "Dockerfile:2: unsupported security mode: root (sandbox or insecure)"},
    {"# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"},
    {"# escape=`\n# escape=`\nFROM a\n",
     "Dockerfile:2: only one escape parser directive can be used"},
    {"FROM a\nRUN a\\\n\n# c\nb\nRUNX b\n", "Dockerfile:6: unknown instruction: RUNX (did you mean "
                                            "RUN?)"},
    {"FROM a\0\n", "Dockerfile: holds a NUL byte: not a text file"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        size_t len = strlen(bad[i].text);
        if (strcmp(bad[i].text, "FROM a") == 0)
            len = 8; /* the NUL case */
        struct dockerfile *df = NULL;
        struct berr e = BERR_INIT;
        int r = dockerfile_parse("Dockerfile", bad[i].text, len, &df, &e);
        if (r >= 0 || !e.msg || strcmp(e.msg, bad[i].msg) != 0)
            print_error("case %zu: got %d \"%s\"\nwant \"%s\"\n", i, r, e.msg ? e.msg : "",
                        bad[i].msg);
        assert_true(r < 0);
        assert_null(df);
        assert_string_equal(e.msg, bad[i].msg);
        berr_clear(&e);
    }
}

static void test_size_cap(void **state)
{
    (void)state;
    size_t n = DF_MAX_BYTES + 1;
    _cleanup_free_ char *big = xmalloc(n);
    memset(big, '#', n);
    struct dockerfile *df = NULL;
    struct berr e = BERR_INIT;
    assert_true(dockerfile_parse("Dockerfile", big, n, &df, &e) < 0);
    assert_non_null(strstr(e.msg, "larger than"));
    berr_clear(&e);
    /* the instruction cap */
    _cleanup_free_ char *many = xmalloc((DF_MAX_INSTRS + 1) * 7 + 1);
    strcpy(many, "FROM a\n");
    for (int i = 0; i < DF_MAX_INSTRS; i++)
        memcpy(many + 7 * (i + 1), "USER a\n", 8);
    assert_true(dockerfile_parse("Dockerfile", many, strlen(many), &df, &e) < 0);
    assert_non_null(strstr(e.msg, "more than 10000 instructions"));
    berr_clear(&e);
}

static void test_directives_comments_continuations(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df = parse_ok("# syntax=docker/dockerfile:1.7\n"
                                                                 "# check=skip=all\n"
                                                                 "# escape=`\n"
                                                                 "\n"
                                                                 "   # a comment\n"
                                                                 "  FROM debian:12 AS Base\n"
                                                                 "RUN echo a `\n"
                                                                 "    b `\n"
                                                                 "\n"
                                                                 "# comment inside\n"
                                                                 "    c\n"
                                                                 "COPY c:\\src c:\\dst\n");
    assert_string_equal(df->syntax, "docker/dockerfile:1.7");
    assert_int_equal(df->escape, '`');
    assert_int_equal(df->n_stages, 1);
    assert_string_equal(df->stages[0].name, "base");
    const struct df_instr *run = instr(df, 0, 1);
    assert_int_equal(run->kind, DF_RUN);
    assert_int_equal(run->line, 7);
    assert_false(run->json);
    assert_string_equal(run->args[0], "echo a     b     c");
    assert_string_equal(run->raw, "RUN echo a     b     c");
    const struct df_instr *cp = instr(df, 0, 2);
    assert_int_equal(cp->line, 12);
    assert_string_equal(cp->args[0], "c:\\src");

    /* a directive after a comment is a comment; \r\n lines; a BOM; an
     * escaped escape character at the end does not continue */
    _cleanup_(dockerfile_freep) struct dockerfile *df2 =
        parse_ok("\xef\xbb\xbf# hello\r\n# escape=`\r\nfrom a\r\nrun x \\\r\n  y\r\n"
                 "RUN a\\\\\nUSER b\n");
    assert_int_equal(df2->escape, '\\');
    assert_null(df2->syntax);
    assert_string_equal(instr(df2, 0, 1)->args[0], "x   y");
    assert_string_equal(instr(df2, 0, 2)->args[0], "a\\\\");
    assert_int_equal(instr(df2, 0, 3)->kind, DF_USER);
}

static void test_exec_and_shell_forms(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "RUN [\"/bin/sh\", \"-c\", \"echo hi\"]\n"
                 "RUN [ \"echo\", 'single' ]\n"
                 "CMD [\"nginx\", \"-g\", \"daemon off;\"]\n"
                 "ENTRYPOINT exec top -b\n"
                 "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\n"
                 "CMD []\n"
                 "RUN [\"a\", 1]\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_true(in->json);
    assert_int_equal(strv_len(in->args), 3);
    assert_string_equal(in->args[2], "echo hi");
    /* single quotes are not JSON: the shell form, as docker falls back */
    in = instr(df, 0, 2);
    assert_false(in->json);
    assert_string_equal(in->args[0], "[ \"echo\", 'single' ]");
    in = instr(df, 0, 3);
    assert_true(in->json);
    assert_string_equal(in->args[2], "daemon off;");
    in = instr(df, 0, 4);
    assert_int_equal(in->kind, DF_ENTRYPOINT);
    assert_false(in->json);
    assert_string_equal(in->args[0], "exec top -b");
    in = instr(df, 0, 5);
    assert_int_equal(in->kind, DF_SHELL);
    assert_int_equal(strv_len(in->args), 4);
    in = instr(df, 0, 6);
    assert_true(in->json);
    assert_null(in->args[0]);
    in = instr(df, 0, 7);
    assert_false(in->json);
}

static void test_from_stages_and_meta_args(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("ARG BASE=debian ARG2\n"
                 "ARG TAG=12\n"
                 "FROM --platform=linux/amd64 ${BASE}:${TAG} AS build-1.x\n"
                 "RUN make\n"
                 "FROM scratch\n"
                 "COPY --from=build-1.x /out /\n"
                 "from build-1.x as Final\n");
    assert_int_equal(df->n_meta_args, 2);
    assert_int_equal(df->meta_args[0].n_kvs, 2);
    assert_string_equal(df->meta_args[0].kvs[0].key, "BASE");
    assert_string_equal(df->meta_args[0].kvs[0].value, "debian");
    assert_false(df->meta_args[0].kvs[1].has_value);
    assert_int_equal(df->n_stages, 3);
    const struct df_instr *from = instr(df, 0, 0);
    assert_string_equal(from->args[0], "${BASE}:${TAG}");
    assert_null(from->args[1]);
    assert_string_equal(flag(from, "platform"), "linux/amd64");
    assert_string_equal(from->stage_name, "build-1.x");
    assert_null(df->stages[1].name);
    assert_string_equal(instr(df, 1, 0)->args[0], "scratch");
    assert_string_equal(df->stages[2].name, "final");
    assert_int_equal(dockerfile_find_stage(df, "FINAL"), 2);
    assert_int_equal(dockerfile_find_stage(df, "1"), 1);
    assert_int_equal(dockerfile_find_stage(df, "3"), -1);
    assert_int_equal(dockerfile_find_stage(df, "nope"), -1);
}

static void test_env_label_arg(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "ENV A=1 B=\"two words\" C='x y' D=a\\ b\n"
                 "ENV LEGACY some value here\n"
                 "LABEL org.opencontainers.image.title=\"berth\" \"quoted key\"=v\n"
                 "LABEL legacy spaced value\n"
                 "ARG X Y=2 Z=\"a b\"\n"
                 "MAINTAINER Jane <jane@example.org>\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(in->n_kvs, 4);
    assert_string_equal(in->kvs[1].key, "B");
    assert_string_equal(in->kvs[1].value, "\"two words\""); /* raw until expanded */
    assert_string_equal(in->kvs[3].value, "a\\ b");
    in = instr(df, 0, 2);
    assert_int_equal(in->n_kvs, 1);
    assert_string_equal(in->kvs[0].key, "LEGACY");
    assert_string_equal(in->kvs[0].value, "some value here");
    in = instr(df, 0, 3);
    assert_int_equal(in->n_kvs, 2);
    assert_string_equal(in->kvs[1].key, "\"quoted key\"");
    in = instr(df, 0, 4);
    assert_string_equal(in->kvs[0].value, "spaced value");
    in = instr(df, 0, 5);
    assert_int_equal(in->n_kvs, 3);
    assert_false(in->kvs[0].has_value);
    assert_null(in->kvs[0].value);
    assert_string_equal(in->kvs[2].value, "\"a b\"");
    in = instr(df, 0, 6);
    assert_int_equal(in->kind, DF_MAINTAINER);
    assert_string_equal(in->args[0], "Jane <jane@example.org>");
}

static void test_simple_instructions(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "EXPOSE 80 443/tcp 53/udp 8000-8010\n"
                 "USER app:app\n"
                 "WORKDIR /srv/my app\n"
                 "VOLUME /data /cache\n"
                 "VOLUME [\"/a b\"]\n"
                 "STOPSIGNAL SIGQUIT\n"
                 "ONBUILD RUN echo child\n"
                 "ONBUILD COPY --chown=1 . /app\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(strv_len(in->args), 4);
    assert_string_equal(in->args[3], "8000-8010");
    assert_string_equal(instr(df, 0, 2)->args[0], "app:app");
    assert_string_equal(instr(df, 0, 3)->args[0], "/srv/my app");
    in = instr(df, 0, 4);
    assert_false(in->json);
    assert_int_equal(strv_len(in->args), 2);
    in = instr(df, 0, 5);
    assert_true(in->json);
    assert_string_equal(in->args[0], "/a b");
    assert_string_equal(instr(df, 0, 6)->args[0], "SIGQUIT");
    in = instr(df, 0, 7);
    assert_int_equal(in->kind, DF_ONBUILD);
    assert_non_null(in->onbuild);
    assert_int_equal(in->onbuild->kind, DF_RUN);
    assert_string_equal(in->onbuild->args[0], "echo child");
    assert_string_equal(in->onbuild->raw, "RUN echo child");
    in = instr(df, 0, 8);
    assert_int_equal(in->onbuild->kind, DF_COPY);
    assert_string_equal(flag(in->onbuild, "chown"), "1");
}

static void test_copy_add_flags(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "COPY --from=build --chown=app:app --chmod=0755 --link --exclude=*.md "
                 "--exclude=tmp --parents a b* /dst/\n"
                 "ADD --checksum=sha256:abc --keep-git-dir=false --link=false "
                 "https://example.org/x.tgz /x\n"
                 "COPY [\"a b\", \"/c d/\"]\n"
                 "COPY --chmod=$MODE a b\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(in->n_flags, 7);
    assert_string_equal(flag(in, "from"), "build");
    assert_string_equal(flag(in, "chmod"), "0755");
    assert_string_equal(flag(in, "link"), "true");
    assert_string_equal(in->flags[4].value, "*.md");
    assert_string_equal(in->flags[5].value, "tmp");
    assert_string_equal(flag(in, "parents"), "true");
    assert_int_equal(strv_len(in->args), 3);
    in = instr(df, 0, 2);
    assert_string_equal(flag(in, "checksum"), "sha256:abc");
    assert_string_equal(flag(in, "keep-git-dir"), "false");
    assert_string_equal(flag(in, "link"), "false");
    in = instr(df, 0, 3);
    assert_true(in->json);
    assert_string_equal(in->args[1], "/c d/");
}

static void test_run_mounts_and_flags(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df = parse_ok(
        "FROM a\n"
        "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0700,uid=1,gid=2 "
        "--mount=type=bind,source=.,target=/src,from=build,rw "
        "--mount=type=secret,id=tok,required --mount=type=tmpfs,dst=/tmp,size=64m "
        "--mount=type=ssh --mount=target=/b,ro=false,src=a "
        "--network=none --security=insecure make\n"
        "RUN --mount=type=cache,target=/c make\n"
        "RUN --mount=target=/src --mount=type=secret,src=npmrc make\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(in->n_mounts, 6);
    const struct df_mount *m = &in->mounts[0];
    assert_int_equal(m->type, DF_MOUNT_CACHE);
    assert_string_equal(m->target, "/root/.cache");
    assert_string_equal(m->id, "pip");
    assert_string_equal(m->sharing, "locked");
    assert_int_equal(m->mode, 0700);
    assert_int_equal(m->uid, 1);
    assert_int_equal(m->gid, 2);
    m = &in->mounts[1];
    assert_int_equal(m->type, DF_MOUNT_BIND);
    assert_string_equal(m->source, ".");
    assert_string_equal(m->from, "build");
    assert_false(m->readonly);
    m = &in->mounts[2];
    assert_int_equal(m->type, DF_MOUNT_SECRET);
    assert_string_equal(m->target, "/run/secrets/tok");
    assert_true(m->required);
    m = &in->mounts[3];
    assert_int_equal(m->type, DF_MOUNT_TMPFS);
    assert_string_equal(m->target, "/tmp");
    assert_int_equal(m->size, 64 * 1024 * 1024);
    m = &in->mounts[4];
    assert_int_equal(m->type, DF_MOUNT_SSH);
    assert_string_equal(m->id, "default");
    m = &in->mounts[5];
    assert_int_equal(m->type, DF_MOUNT_BIND); /* the default type */
    assert_string_equal(m->source, "a");
    assert_false(m->readonly);            /* ro=false */
    assert_false(in->mounts[0].readonly); /* a cache is writable */
    assert_true(in->mounts[2].readonly);  /* a secret is not */
    assert_false(in->mounts[3].readonly); /* nor a tmpfs */
    assert_string_equal(flag(in, "network"), "none");
    assert_string_equal(flag(in, "security"), "insecure");
    assert_string_equal(in->args[0], "make");
    m = &instr(df, 0, 2)->mounts[0];
    assert_string_equal(m->id, "/c"); /* a cache's id defaults to its target */
    assert_string_equal(m->sharing, "shared");
    assert_int_equal(m->uid, -1);
    m = &instr(df, 0, 3)->mounts[0];
    assert_int_equal(m->type, DF_MOUNT_BIND);
    assert_true(m->readonly); /* a bind is read-only unless rw */
    m = &instr(df, 0, 3)->mounts[1];
    assert_string_equal(m->id, "npmrc"); /* a secret's id: its source */
    assert_string_equal(m->target, "/run/secrets/npmrc");
}

static void test_healthcheck(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "HEALTHCHECK --interval=5s --timeout=3s --start-period=1m --start-interval=1s "
                 "--retries=3 CMD curl -f http://localhost/ || exit 1\n"
                 "HEALTHCHECK cmd [\"/bin/check\", \"-q\"]\n"
                 "HEALTHCHECK NONE\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(in->n_flags, 5);
    assert_string_equal(flag(in, "start-period"), "1m");
    assert_string_equal(flag(in, "retries"), "3");
    assert_false(in->json);
    assert_string_equal(in->args[0], "curl -f http://localhost/ || exit 1");
    in = instr(df, 0, 2);
    assert_true(in->json);
    assert_string_equal(in->args[1], "-q");
    in = instr(df, 0, 3);
    assert_true(in->healthcheck_none);
    assert_null(in->args[0]);
}

static void test_heredocs(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\n"
                 "RUN <<EOF\n"
                 "apt-get update\n"
                 "echo $HOME\n"
                 "EOF\n"
                 "RUN <<-EOT bash\n"
                 "\t\techo tabs\n"
                 "\tEOT\n"
                 "COPY <<\"EOF\" /etc/x.conf\n"
                 "literal $X\n"
                 "EOF\n"
                 "RUN cat <<A 3<<'B' > /out\n"
                 "one\n"
                 "A\n"
                 "two\n"
                 "B\n"
                 "RUN echo \"<<NOTHEREDOC\" <<<herestring\n"
                 "ONBUILD RUN <<X\nlater\nX\n"
                 "COPY <<my-file.txt <<E\"O\"F /dst/\nf\nmy-file.txt\n$e\nEOF\n"
                 "USER me\n");
    const struct df_instr *in = instr(df, 0, 1);
    assert_int_equal(in->n_heredocs, 1);
    assert_string_equal(in->heredocs[0].name, "EOF");
    assert_string_equal(in->heredocs[0].content, "apt-get update\necho $HOME\n");
    assert_true(in->heredocs[0].expand);
    assert_string_equal(in->args[0], "<<EOF");
    in = instr(df, 0, 2);
    assert_true(in->heredocs[0].chomp);
    assert_string_equal(in->heredocs[0].content, "echo tabs\n");
    in = instr(df, 0, 3);
    assert_int_equal(in->kind, DF_COPY);
    assert_false(in->heredocs[0].expand);
    assert_string_equal(in->heredocs[0].content, "literal $X\n");
    assert_string_equal(in->args[1], "/etc/x.conf");
    in = instr(df, 0, 4);
    assert_int_equal(in->n_heredocs, 2);
    assert_string_equal(in->heredocs[0].content, "one\n");
    assert_string_equal(in->heredocs[1].name, "B");
    assert_string_equal(in->heredocs[1].content, "two\n");
    assert_false(in->heredocs[1].expand);
    in = instr(df, 0, 5);
    assert_int_equal(in->n_heredocs, 0);
    in = instr(df, 0, 6);
    assert_string_equal(in->onbuild->heredocs[0].content, "later\n");
    in = instr(df, 0, 7);
    assert_int_equal(in->n_heredocs, 2);
    assert_string_equal(in->heredocs[0].name, "my-file.txt");
    assert_true(in->heredocs[0].expand);
    assert_string_equal(in->heredocs[1].name, "EOF");
    assert_false(in->heredocs[1].expand); /* partly quoted */
    assert_string_equal(in->heredocs[1].content, "$e\n");
    in = instr(df, 0, 8);
    assert_int_equal(in->kind, DF_USER);
    assert_int_equal(in->line, 26);
}

/* --- substitution ------------------------------------------------------ */

static const struct {
    const char *word, *want; /* want NULL: an error */
} words[] = {
    {"$A", "a"},
    {"${A}", "a"},
    {"x${A}y", "xay"},
    {"$A$B", "a"},
    {"${UNSET:-def}", "def"},
    {"${EMPTY:-def}", "def"},
    {"${EMPTY-def}", ""},
    {"${UNSET-def}", "def"},
    {"${A:-def}", "a"},
    {"${A:+alt}", "alt"},
    {"${EMPTY:+alt}", ""},
    {"${EMPTY+alt}", "alt"},
    {"${UNSET+alt}", ""},
    {"${UNSET:-${A}x}", "ax"},
    {"${UNSET:-'q }'}", "q }"},
    {"${A:?must}", "a"},
    {"${UNSET:?must be set}", NULL},
    {"${EMPTY?must}", ""},
    {"\\$A", "$A"},
    {"\\${A}", "${A}"},
    {"'$A'", "$A"},
    {"\"$A\"", "a"},
    {"\"a\\\"b\\$c\\x\"", "a\"b$c\\x"},
    {"a\\ b", "a b"},
    {"$", "$"},
    {"a$-b", "ab"}, /* special parameters are never set */
    {"$$", ""},
    {"$12x", "x"},
    {"a$ b$/", "a$ b$/"},
    {"$1x", "x"},
    {"${A", NULL},
    {"${A:-x", NULL},
    {"${}", NULL},
    {"${V#*.}", "2.3-rc1"},
    {"${V##*.}", "3-rc1"},
    {"${V%.*}", "v1.2"},
    {"${V%%.*}", "v1"},
    {"${V#v}", "1.2.3-rc1"},
    {"${V%-rc1}", "v1.2.3"},
    {"${V#x}", "v1.2.3-rc1"},
    {"${V/./_}", "v1_2.3-rc1"},
    {"${V//./_}", "v1_2_3-rc1"},
    {"${V//[0-9]/N}", "vN.N.N-rcN"},
    {"${V/-rc*/}", "v1.2.3"},
    {"${V/v}", "1.2.3-rc1"},
    {"${UNSET#x}", ""},
    {"${V#${A}}", "v1.2.3-rc1"},
    {"${V%x", NULL},
    {"'open", NULL},
    {"\"open", NULL},
    {"$PATH_LIKE/bin", "/usr/bin"},
    {"${SPACE}", "a b"},
};

static void test_substitution(void **state)
{
    (void)state;
    char *env[] = {"A=a", "EMPTY=", "PATH_LIKE=/usr", "SPACE=a b", "A=a", "V=v1.2.3-rc1", NULL};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        char *out = NULL;
        struct berr e = BERR_INIT;
        int r = df_expand_word(words[i].word, '\\', env, &out, &e);
        if ((r == 0) != (words[i].want != NULL) || (r == 0 && strcmp(out, words[i].want) != 0))
            print_error("case %zu %s: got %d \"%s\" (%s)\n", i, words[i].word, r, out ? out : "",
                        e.msg ? e.msg : "");
        if (words[i].want) {
            assert_int_equal(r, 0);
            assert_string_equal(out, words[i].want);
        } else {
            assert_true(r < 0);
            assert_non_null(e.msg);
        }
        free(out);
        berr_clear(&e);
    }
    /* the messages */
    struct berr e = BERR_INIT;
    char *o = NULL;
    assert_true(df_expand_word("x${A", '\\', env, &o, &e) < 0);
    assert_string_equal(e.msg, "syntax error: missing '}' after ${A");
    berr_clear(&e);
    assert_true(df_expand_word("${UNSET?}", '\\', env, &o, &e) < 0);
    assert_string_equal(e.msg, "UNSET: is not set");
    berr_clear(&e);
    assert_true(df_expand_word("${A:/x/y}", '\\', env, &o, &e) < 0);
    assert_string_equal(e.msg, "unsupported modifier (/) in substitution of A");
    berr_clear(&e);
    assert_null(o);
    /* the backtick escape */
    char *out = NULL;
    assert_int_equal(df_expand_word("`$A\\x", '`', env, &out, NULL), 0);
    assert_string_equal(out, "$A\\x");
    free(out);
}

/* Walks stage s to its end; returns the instructions (a NULL-ended
 * array). */
static struct df_instr **walk_all(const struct dockerfile *df, size_t s, char *const *args,
                                  char *const *image_env)
{
    _cleanup_(df_walk_freep) struct df_walk *w = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(df_walk_new(df, s, args, &w, &e), 0);
    struct df_instr **v = xcalloc(df->stages[s].n_instrs + 1, sizeof(*v));
    for (size_t i = 0;; i++) {
        int r = df_walk_next(w, &v[i], &e);
        if (r < 0)
            print_error("walk: %s\n", e.msg);
        assert_true(r >= 0);
        if (r == 0)
            break;
        if (i == 0)
            df_walk_set_image_env(w, image_env);
    }
    return v;
}

static void free_walk(struct df_instr **v)
{
    for (size_t i = 0; v[i]; i++)
        df_instr_free(v[i]);
    free(v);
}

static void test_scoping(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("ARG BASE=debian\n"
                 "ARG TAG=${BASE}-12\n"
                 "ARG V=1\n"
                 "ARG NOVAL\n"
                 "FROM ${BASE}:${TAG} AS one\n"
                 "LABEL base=$BASE v=${V:-none}\n" /* global ARGs are not in scope */
                 "ARG V\n"                         /* ... until re-declared */
                 "ARG LOCAL=${V}x\n"
                 "LABEL v=$V local=$LOCAL\n"
                 "ENV V=env\n"
                 "ARG V=arg\n" /* ENV shadows ARG */
                 "LABEL v=$V home=$HOME\n"
                 "ENV A=1 B=$A\n" /* B sees A from before the instruction */
                 "ENV A=2 C=$A\n"
                 "WORKDIR /src/$A\n"
                 "COPY --chown=${USERID:-1000} --from=$V \"$A\" /dst/${A}/\n"
                 "EXPOSE ${PORT:-80}/udp\n"
                 "VOLUME $HOME/data\n"
                 "USER ${LOCAL}\n"
                 "STOPSIGNAL ${SIG:-SIGTERM}\n"
                 "RUN echo $A\n"
                 "RUN --mount=type=cache,target=/c/$A,id=$V make\n"
                 "COPY <<EOF /x\nv=$A '$A'\nEOF\n"
                 "ONBUILD RUN echo $A\n"
                 "FROM one\n"
                 "LABEL v=$V\n");
    char *args[] = {"V=override", "UNUSED=x", NULL};
    char *image_env[] = {"HOME=/root", "PATH=/bin", NULL};
    struct df_instr **v = walk_all(df, 0, args, image_env);
    assert_string_equal(v[0]->args[0], "debian:debian-12");
    assert_string_equal(v[1]->kvs[0].value, "");
    assert_string_equal(v[1]->kvs[1].value, "none");
    assert_string_equal(v[2]->kvs[0].value, "override"); /* build arg wins */
    assert_string_equal(v[3]->kvs[0].value, "overridex");
    assert_string_equal(v[4]->kvs[0].value, "override");
    assert_string_equal(v[4]->kvs[1].value, "overridex");
    assert_string_equal(v[7]->kvs[0].value, "env");
    assert_string_equal(v[7]->kvs[1].value, "/root");
    assert_string_equal(v[8]->kvs[1].value, "");
    assert_string_equal(v[9]->kvs[1].value, "1");
    assert_string_equal(v[10]->args[0], "/src/2");
    assert_string_equal(v[11]->args[0], "2");
    assert_string_equal(v[11]->args[1], "/dst/2/");
    assert_string_equal(flag(v[11], "chown"), "1000");
    assert_string_equal(flag(v[11], "from"), "env"); /* ENV V by now */
    assert_string_equal(v[12]->args[0], "80/udp");
    assert_string_equal(v[13]->args[0], "/root/data");
    assert_string_equal(v[14]->args[0], "overridex");
    assert_string_equal(v[15]->args[0], "SIGTERM");
    assert_string_equal(v[16]->args[0], "echo $A"); /* RUN is the shell's */
    assert_string_equal(v[17]->mounts[0].target, "/c/2");
    assert_string_equal(v[17]->mounts[0].id, "env");
    assert_string_equal(v[18]->heredocs[0].content, "v=2 '2'\n");
    assert_string_equal(v[19]->onbuild->args[0], "echo $A");
    assert_null(v[20]);
    free_walk(v);

    /* without build args, `ARG V` takes the global's default */
    v = walk_all(df, 0, NULL, NULL);
    assert_string_equal(v[2]->kvs[0].value, "1");
    assert_string_equal(v[3]->kvs[0].value, "1x");
    free_walk(v);

    /* the second stage starts afresh */
    v = walk_all(df, 1, NULL, NULL);
    assert_string_equal(v[0]->args[0], "one");
    assert_string_equal(v[1]->kvs[0].value, "");
    free_walk(v);
}

static void test_walk_env_and_errors(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("ARG IMG\n"
                 "FROM ${IMG:?needed}\n"
                 "FROM a\n"
                 "ARG X=1 P\n"
                 "ENV Y=2 X=3\n"
                 "EXPOSE $P\n"
                 "FROM a\n"
                 "STOPSIGNAL SIGNOPE\n"
                 "FROM a\n"
                 "ARG T\n"
                 "RUN --mount=type=$T,target=/x y\n");
    _cleanup_(df_walk_freep) struct df_walk *w = NULL;
    struct berr e = BERR_INIT;
    struct df_instr *in = NULL;
    assert_int_equal(df_walk_new(df, 0, NULL, &w, &e), 0);
    assert_true(df_walk_next(w, &in, &e) < 0);
    assert_string_equal(e.msg, "Dockerfile:2: IMG: needed");
    berr_clear(&e);
    df_walk_free(TAKE_PTR(w));

    char *args[] = {"P=70000", NULL};
    assert_int_equal(df_walk_new(df, 1, args, &w, &e), 0);
    for (int i = 0; i < 3; i++) { /* FROM ARG ENV */
        assert_int_equal(df_walk_next(w, &in, &e), 1);
        df_instr_free(in);
    }
    _cleanup_strv_ char **env = df_walk_env(w);
    assert_int_equal(strv_len(env), 3);
    assert_string_equal(strv_env_get(env, "P"), "70000");
    assert_string_equal(strv_env_get(env, "X"), "3");
    assert_string_equal(strv_env_get(env, "Y"), "2");
    assert_true(df_walk_next(w, &in, &e) < 0);
    assert_string_equal(e.msg, "Dockerfile:6: invalid port in EXPOSE: 70000");
    berr_clear(&e);
    df_walk_free(TAKE_PTR(w));

    assert_int_equal(df_walk_new(df, 2, NULL, &w, &e), 0);
    assert_int_equal(df_walk_next(w, &in, &e), 1);
    df_instr_free(in);
    assert_true(df_walk_next(w, &in, &e) < 0);
    assert_string_equal(e.msg, "Dockerfile:8: invalid STOPSIGNAL: SIGNOPE");
    berr_clear(&e);
    df_walk_free(TAKE_PTR(w));

    char *targs[] = {"T=nfs", NULL};
    assert_int_equal(df_walk_new(df, 3, targs, &w, &e), 0);
    for (int i = 0; i < 2; i++) { /* FROM ARG */
        assert_int_equal(df_walk_next(w, &in, &e), 1);
        df_instr_free(in);
    }
    assert_true(df_walk_next(w, &in, &e) < 0);
    assert_string_equal(
        e.msg, "Dockerfile:11: --mount=type=nfs,target=/x: unsupported mount type \"nfs\"");
    berr_clear(&e);
    df_walk_free(TAKE_PTR(w));

    assert_true(df_walk_new(df, 4, NULL, &w, &e) < 0);
    berr_clear(&e);
}

/* One ARG naming several: each default sees the ones before it, also
 * when a name is set again (found by the fuzz target: a use after free). */
static void test_arg_sequence(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM a\nARG A=1\nARG A=2 B=${A}x C=\"${B:+$B}\"\n");
    struct df_instr **v = walk_all(df, 0, NULL, NULL);
    assert_string_equal(v[2]->kvs[0].value, "2");
    assert_string_equal(v[2]->kvs[1].value, "2x");
    assert_string_equal(v[2]->kvs[2].value, "2x");
    free_walk(v);
}

/* The automatic platform ARGs: in FROM without a global ARG, in a stage
 * once declared; other build args only when declared. */
static void test_platform_args(void **state)
{
    (void)state;
    _cleanup_(dockerfile_freep) struct dockerfile *df =
        parse_ok("FROM --platform=$BUILDPLATFORM golang:$OTHER AS b\n"
                 "LABEL before=$TARGETARCH\n"
                 "ARG TARGETARCH\n"
                 "LABEL after=$TARGETARCH\n");
    char *args[] = {"BUILDPLATFORM=linux/amd64", "TARGETARCH=arm64", "OTHER=1", NULL};
    struct df_instr **v = walk_all(df, 0, args, NULL);
    assert_string_equal(flag(v[0], "platform"), "linux/amd64");
    assert_string_equal(v[0]->args[0], "golang:");
    assert_string_equal(v[1]->kvs[0].value, "");
    assert_string_equal(v[3]->kvs[0].value, "arm64");
    free_walk(v);
}

/* Values doubling at every ENV stop at the caps, not at the memory's
 * end: one word at 1 MiB, all values at 16 MiB. */
static void test_expansion_caps(void **state)
{
    (void)state;
    size_t n = 200;
    _cleanup_free_ char *text = xmalloc(n * 40 + 64);
    char *p = text + sprintf(text, "FROM a\nENV A=0123456789abcdef\n");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "ENV A=$A$A\n");
    _cleanup_(dockerfile_freep) struct dockerfile *df = parse_ok(text);
    _cleanup_(df_walk_freep) struct df_walk *w = NULL;
    struct berr e = BERR_INIT;
    assert_int_equal(df_walk_new(df, 0, NULL, &w, &e), 0);
    struct df_instr *in;
    int r;
    while ((r = df_walk_next(w, &in, &e)) > 0)
        df_instr_free(in);
    assert_true(r < 0);
    assert_string_equal(e.msg, "Dockerfile:19: expansion longer than 1048576 bytes");
    berr_clear(&e);

    /* many variables of 1 MiB each */
    df_walk_free(TAKE_PTR(w));
    p = text + sprintf(text, "FROM a\nENV A=0123456789abcdef\n");
    for (size_t i = 0; i < 16; i++)
        p += sprintf(p, "ENV A=$A$A\n");
    for (size_t i = 0; i < 40; i++)
        p += sprintf(p, "ENV B%zu=$A\n", i);
    _cleanup_(dockerfile_freep) struct dockerfile *df2 = parse_ok(text);
    assert_int_equal(df_walk_new(df2, 0, NULL, &w, &e), 0);
    while ((r = df_walk_next(w, &in, &e)) > 0)
        df_instr_free(in);
    assert_true(r < 0);
    assert_non_null(strstr(e.msg, "ARG and ENV values larger than 16777216 bytes in all"));
    berr_clear(&e);

    /* too many names */
    df_walk_free(TAKE_PTR(w));
    _cleanup_free_ char *names = xmalloc(2000 * 8 + 64);
    p = names + sprintf(names, "ARG");
    for (size_t i = 0; i < 2000; i++)
        p += sprintf(p, " a%zu", i);
    sprintf(p, "\nFROM a\n");
    _cleanup_(dockerfile_freep) struct dockerfile *df4 = parse_ok(names);
    assert_true(df_walk_new(df4, 0, NULL, &w, &e) < 0);
    assert_string_equal(e.msg, "Dockerfile:1: more than 1024 ARG and ENV names");
    berr_clear(&e);

    /* one LABEL repeating a 1 MiB value */
    df_walk_free(TAKE_PTR(w));
    p = text + sprintf(text, "FROM a\nENV A=0123456789abcdef\n");
    for (size_t i = 0; i < 16; i++)
        p += sprintf(p, "ENV A=$A$A\n");
    p += sprintf(p, "LABEL");
    for (size_t i = 0; i < 40; i++)
        p += sprintf(p, " l%zu=$A", i);
    sprintf(p, "\n");
    _cleanup_(dockerfile_freep) struct dockerfile *df3 = parse_ok(text);
    assert_int_equal(df_walk_new(df3, 0, NULL, &w, &e), 0);
    while ((r = df_walk_next(w, &in, &e)) > 0)
        df_instr_free(in);
    assert_true(r < 0);
    assert_string_equal(e.msg, "Dockerfile:19: expansions longer than 16777216 bytes in all");
    berr_clear(&e);
}

/* Inputs near the size cap take time in proportion to their size: a
 * million lines, half a million words, a long continuation, a --mount
 * of many fields (each took from 30 s to minutes when every append
 * counted the entries before it). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void parse_timed(const char *text, double *total)
{
    double t0 = now_s();
    struct dockerfile *df = NULL;
    struct berr e = BERR_INIT;
    if (dockerfile_parse("Dockerfile", text, strlen(text), &df, &e) == 0) {
        for (size_t s = 0; s < df->n_stages; s++) {
            struct df_walk *w = NULL;
            if (df_walk_new(df, s, NULL, &w, &e) == 0) {
                struct df_instr *in;
                while (df_walk_next(w, &in, &e) > 0)
                    df_instr_free(in);
            }
            df_walk_free(w);
            berr_clear(&e);
        }
        dockerfile_free(df);
    }
    berr_clear(&e);
    *total += now_s() - t0;
}

static void test_linear_inputs(void **state)
{
    (void)state;
    size_t cap = DF_MAX_BYTES;
    _cleanup_free_ char *t = xmalloc(cap + 1);
    double total = 0;
    char *p;
    /* lines */
    p = t + sprintf(t, "FROM a\n");
    while ((size_t)(p - t) < cap - 1)
        *p++ = '\n';
    *p = '\0';
    parse_timed(t, &total);
    /* words */
    p = t + sprintf(t, "FROM a\nEXPOSE");
    while ((size_t)(p - t) < cap - 3)
        p += sprintf(p, " 1");
    parse_timed(t, &total);
    /* a continuation */
    p = t + sprintf(t, "FROM a\nRUN x");
    while ((size_t)(p - t) < cap - 8)
        p += sprintf(p, " \\\n y");
    parse_timed(t, &total);
    /* --mount fields, and flags */
    p = t + sprintf(t, "FROM a\nRUN --mount=type=tmpfs,target=/t");
    while ((size_t)(p - t) < cap - 16)
        p += sprintf(p, ",uid=1");
    sprintf(p, " x\n");
    parse_timed(t, &total);
    p = t + sprintf(t, "FROM a\nRUN");
    while ((size_t)(p - t) < cap - 40)
        p += sprintf(p, " --network=none --security=sandbox");
    sprintf(p, " x\n");
    parse_timed(t, &total);
    /* key=value pairs */
    p = t + sprintf(t, "FROM a\nLABEL");
    while ((size_t)(p - t) < cap - 8)
        p += sprintf(p, " a=b");
    parse_timed(t, &total);
    if (total > 10)
        print_error("took %.1f s\n", total);
    assert_true(total < 10);
}

static void test_ports(void **state)
{
    (void)state;
    const char *good[] = {"80", "80/tcp", "53/UDP", "1-65535", "9/sctp", "0"};
    const char *badp[] = {"", "x", "80/icmp", "9-1", "65536", "80-", "-80", "1/"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        assert_int_equal(df_check_port(good[i], NULL), 0);
    for (size_t i = 0; i < ARRAY_SIZE(badp); i++)
        assert_true(df_check_port(badp[i], NULL) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_directives_comments_continuations),
        cmocka_unit_test(test_exec_and_shell_forms),
        cmocka_unit_test(test_from_stages_and_meta_args),
        cmocka_unit_test(test_env_label_arg),
        cmocka_unit_test(test_simple_instructions),
        cmocka_unit_test(test_copy_add_flags),
        cmocka_unit_test(test_run_mounts_and_flags),
        cmocka_unit_test(test_healthcheck),
        cmocka_unit_test(test_heredocs),
        cmocka_unit_test(test_substitution),
        cmocka_unit_test(test_scoping),
        cmocka_unit_test(test_walk_env_and_errors),
        cmocka_unit_test(test_arg_sequence),
        cmocka_unit_test(test_platform_args),
        cmocka_unit_test(test_expansion_caps),
        cmocka_unit_test(test_linear_inputs),
        cmocka_unit_test(test_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
