/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the image config a build stage makes
 * (engine/build/imgcfg.c): each config-only instruction's effect as
 * docker's builder has it, parsed from a Dockerfile so that the shapes
 * are the parser's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/build/builder_int.h"
#include "util/xalloc.h"

/* Applies every instruction of the Dockerfile's only stage after FROM,
 * each expanded by the walk as the builder has them, and returns the
 * config's "config" object as compact JSON. */
static char *apply(const char *text)
{
    struct dockerfile *df = NULL;
    struct berr e = BERR_INIT;
    int r = dockerfile_parse("Dockerfile", text, strlen(text), &df, &e);
    if (r < 0)
        print_error("%s\n", e.msg);
    assert_int_equal(r, 0);
    struct platform p;
    platform_set(&p, "linux", "amd64", NULL);
    struct bstage st = {.config = imgcfg_scratch(&p)};
    struct df_walk *w = NULL;
    assert_int_equal(df_walk_new(df, 0, NULL, &w, &e), 0);
    struct df_instr *in = NULL;
    size_t applied = 0;
    while ((r = df_walk_next(w, &in, &e)) == 1) {
        if (in->kind != DF_FROM && in->kind != DF_ARG) {
            r = imgcfg_apply(&st, in, &e);
            if (r < 0)
                print_error("%s\n", e.msg);
            assert_int_equal(r, 0);
            imgcfg_history(&st, in, true);
            applied++;
        }
        df_instr_free(in);
    }
    assert_int_equal(r, 0);
    char *out = json_dumps(imgcfg_conf(st.config), JSON_COMPACT | JSON_SORT_KEYS);
    assert_int_equal(json_array_size(json_object_get(st.config, "history")), applied);
    json_decref(st.config);
    df_walk_free(w);
    dockerfile_free(df);
    berr_clear(&e);
    return out;
}

static const struct {
    const char *dockerfile, *want;
} cases[] = {
    {"FROM scratch\nCMD echo hi\n", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]}"},
    {"FROM scratch\nCMD [\"a\",\"b\"]\n", "{\"Cmd\":[\"a\",\"b\"]}"},
    /* SHELL changes what later shell forms run with */
    {"FROM scratch\nSHELL [\"/bin/bash\",\"-xc\"]\nCMD x\n",
     "{\"Cmd\":[\"/bin/bash\",\"-xc\",\"x\"],\"Shell\":[\"/bin/bash\",\"-xc\"]}"},
    /* ENTRYPOINT drops an inherited CMD, not one of this stage */
    {"FROM scratch\nCMD [\"c\"]\nENTRYPOINT [\"e\"]\n", "{\"Cmd\":[\"c\"],\"Entrypoint\":[\"e\"]}"},
    {"FROM scratch\nENV A=1 B=\"two words\"\nENV A=3\n", "{\"Env\":[\"A=3\",\"B=two words\"]}"},
    {"FROM scratch\nENV A 1\nENV B=${A:-x}-${C:-y}${A:+z}\n", "{\"Env\":[\"A=1\",\"B=1-yz\"]}"},
    {"FROM scratch\nEXPOSE 80 53/UDP 8000-8001\n",
     "{\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}}"},
    {"FROM scratch\nWORKDIR /a\nWORKDIR b/../c\nWORKDIR d\n", "{\"WorkingDir\":\"/a/c/d\"}"},
    {"FROM scratch\nARG D=/srv\nWORKDIR $D\n", "{\"WorkingDir\":\"/srv\"}"},
    {"FROM scratch\nUSER app:staff\n", "{\"User\":\"app:staff\"}"},
    {"FROM scratch\nVOLUME /data /logs\n", "{\"Volumes\":{\"/data\":{},\"/logs\":{}}}"},
    {"FROM scratch\nVOLUME [\"/a\", \"/b\"]\n", "{\"Volumes\":{\"/a\":{},\"/b\":{}}}"},
    {"FROM scratch\nLABEL a=1 \"b c\"=\"d e\"\n", "{\"Labels\":{\"a\":\"1\",\"b c\":\"d e\"}}"},
    {"FROM scratch\nSTOPSIGNAL SIGQUIT\n", "{\"StopSignal\":\"SIGQUIT\"}"},
    {"FROM scratch\nHEALTHCHECK --interval=5s --retries=2 CMD curl -f x\n",
     "{\"Healthcheck\":{\"Interval\":5000000000,\"Retries\":2,\"Test\":[\"CMD-SHELL\",\"curl -f "
     "x\"]}}"},
    {"FROM scratch\nHEALTHCHECK CMD [\"t\"]\nHEALTHCHECK NONE\n",
     "{\"Healthcheck\":{\"Test\":[\"NONE\"]}}"},
    {"FROM scratch\nONBUILD RUN echo later\n", "{\"OnBuild\":[\"RUN echo later\"]}"},
};

static void test_config(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = apply(cases[i].dockerfile);
        if (strcmp(got, cases[i].want) != 0)
            print_error("case %zu: %s\n got  %s\n want %s\n", i, cases[i].dockerfile, got,
                        cases[i].want);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

/* Keys: equal inputs give equal keys, any difference another key. */
static void test_keys(void **state)
{
    (void)state;
    char a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE], c[DIGEST_STR_SIZE];
    struct sha256 *h = bkey_begin("p", "run");
    bkey_str(h, "ab");
    bkey_str(h, "c");
    bkey_end(h, a);
    h = bkey_begin("p", "run");
    bkey_str(h, "a");
    bkey_str(h, "bc");
    bkey_end(h, b);
    h = bkey_begin("p", "run");
    bkey_str(h, "ab");
    bkey_str(h, "c");
    bkey_end(h, c);
    assert_string_not_equal(a, b);
    assert_string_equal(a, c);
    h = bkey_begin("q", "run");
    bkey_str(h, "ab");
    bkey_str(h, "c");
    bkey_end(h, b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
