/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the build front end (engine/build/build.h): the
 * bytes go through dockerfile_parse and, when they parse, every stage is
 * walked to its end with a build arg set (expansion, ARG/ENV scoping,
 * --mount re-parsing); the same bytes are then read as a .dockerignore
 * and a few paths matched. A parse or walk error must leave a message;
 * anything else aborts. Built with clang (tests/fuzz/CMakeLists.txt,
 * BERTH_FUZZ=ON); the normal test suite replays corpus_dockerfile/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/build/build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_stages(const struct dockerfile *df)
{
    char *args[] = {"A=fuzz", "B=", NULL};
    for (size_t s = 0; s < df->n_stages; s++) {
        struct df_walk *w = NULL;
        struct berr e = BERR_INIT;
        if (df_walk_new(df, s, args, &w, &e) < 0) {
            if (!e.msg || w) /* a global ARG's default may not expand */
                abort();
            berr_clear(&e);
            continue;
        }
        struct df_instr *in;
        int r;
        while ((r = df_walk_next(w, &in, &e)) > 0) {
            if (in->kind == DF_FROM) {
                char *env[] = {"HOME=/root", NULL};
                df_walk_set_image_env(w, env);
            }
            df_instr_free(in);
        }
        if (r < 0 && !e.msg)
            abort();
        berr_clear(&e);
        char **env = df_walk_env(w);
        for (size_t i = 0; env[i]; i++)
            free(env[i]);
        free(env);
        df_walk_free(w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: a read past the end is a sanitizer report. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    for (size_t i = 0; i < size; i++)
        text[i] = (char)data[i];
    struct dockerfile *df = NULL;
    struct berr e = BERR_INIT;
    if (dockerfile_parse("Dockerfile", text, size, &df, &e) == 0) {
        if (df->n_stages == 0 || df->stages[0].instrs[0].kind != DF_FROM)
            abort();
        walk_stages(df);
        dockerfile_free(df);
    } else if (!e.msg || df) {
        abort();
    }
    berr_clear(&e);
    struct dockerignore *di = NULL;
    if (dockerignore_parse(".dockerignore", text, size, &di, &e) == 0) {
        static const char *const paths[] = {"a", "a/b", "node_modules/x/y.js", ".git", "src"};
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            (void)dockerignore_excluded(di, paths[i]);
            (void)dockerignore_may_reinclude(di, paths[i]);
        }
        dockerignore_free(di);
    } else if (!e.msg) {
        abort();
    }
    berr_clear(&e);
    free(text);
    return 0;
}
