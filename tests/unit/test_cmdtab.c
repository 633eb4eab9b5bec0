/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the command table (cmd/cmdtab.c): every row is complete,
 * and what is derived from it (getopt tables, --help, completions, man
 * source) carries every flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmdtab.h"

/* What print writes for d. */
static char *capture(void (*print)(const struct cmd_def *, FILE *), const struct cmd_def *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    print(d, f);
    fclose(f);
    return buf;
}

static void test_rows_complete(void **state)
{
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_def *row = &cmd_table[i];
        assert_non_null(row->name);
        assert_non_null(row->fn);
        const struct cmd_def *d = cmd_resolve(row);
        if (row->alias_of)
            assert_ptr_not_equal(d, row); /* alias_of names a row */
        assert_non_null(d->usage);
        if (!row->hidden) {
            assert_non_null(row->summary);
            assert_true(strlen(row->summary) > 0);
        }
        if (d->args == CA_LIST)
            assert_non_null(d->arg_choices);
        assert_ptr_equal(cmd_find(row->name), row); /* names are unique */
    }
}

static void check_flags(const char *cmd, const struct cmd_flag *fl)
{
    size_t n = 0;
    for (size_t i = 0; fl && fl[i].name; i++, n++) {
        print_message("%s --%s\n", cmd, fl[i].name);
        assert_true(strlen(fl[i].name) > 0);
        assert_non_null(fl[i].help);
        assert_true(strlen(fl[i].help) > 0);
        assert_int_not_equal(fl[i].key, 'h'); /* --help is every command's */
        assert_true(fl[i].key > 0 && fl[i].key < 128 && isalnum(fl[i].key));
        for (size_t k = 0; k < i; k++) {
            assert_int_not_equal(fl[i].key, fl[k].key); /* one key, one flag */
            assert_string_not_equal(fl[i].name, fl[k].name);
        }
        if (fl[i].complete == CC_LIST)
            assert_non_null(fl[i].choices);
        if (fl[i].complete != CC_NONE)
            assert_non_null(fl[i].value); /* only values complete */
    }
    assert_true(n <= CMD_MAX_FLAGS);
}

static void test_flags_well_formed(void **state)
{
    check_flags("berth", cmd_global_flags);
    for (size_t i = 0; i < cmd_table_len; i++)
        check_flags(cmd_table[i].name, cmd_resolve(&cmd_table[i])->flags);
}

/* The short-option string getopt gets is exactly the flags with a short
 * letter (a colon after those taking a value), and -h; each long option is
 * a flag of the row (or --help) with the same key and argument. */
static void check_parser(const struct cmd_parser *p, const struct cmd_flag *fl, bool permute)
{
    char want[128];
    size_t s = 0;
    if (!permute)
        want[s++] = '+';
    size_t nlong = 1; /* --help */
    for (size_t i = 0; fl && fl[i].name; i++) {
        nlong += fl[i].alias ? 2 : 1;
        if (fl[i].has_short) {
            want[s++] = (char)fl[i].key;
            if (fl[i].value)
                want[s++] = ':';
        }
    }
    want[s++] = 'h';
    want[s] = '\0';
    assert_string_equal(p->shortopts, want);
    size_t n = 0;
    for (; p->longopts[n].name; n++) {
        const struct option *o = &p->longopts[n];
        if (strcmp(o->name, "help") == 0) {
            assert_int_equal(o->val, 'h');
            continue;
        }
        const struct cmd_flag *f = NULL;
        for (size_t i = 0; fl && fl[i].name && !f; i++)
            if (strcmp(fl[i].name, o->name) == 0 || (fl[i].alias && !strcmp(fl[i].alias, o->name)))
                f = &fl[i];
        assert_non_null(f);
        assert_int_equal(o->val, f->key);
        assert_int_equal(o->has_arg, f->value ? required_argument : no_argument);
        assert_null(o->flag);
    }
    assert_int_equal(n, nlong);
}

static void test_getopt_tables(void **state)
{
    struct cmd_parser p;
    cmd_parser_init_flags(&p, cmd_global_flags);
    check_parser(&p, cmd_global_flags, false);
    for (size_t i = 0; i < cmd_table_len; i++) {
        cmd_parser_init(&p, cmd_table[i].name);
        const struct cmd_def *d = cmd_resolve(&cmd_table[i]);
        assert_ptr_equal(p.def, d);
        check_parser(&p, d->flags, d->permute);
    }
}

/* --help, each completion script and the man source name every flag. */
static void test_derived_texts_name_every_flag(void **state)
{
    char *scripts[3] = {NULL, NULL, NULL};
    const char *shells[3] = {"bash", "zsh", "fish"};
    for (int k = 0; k < 3; k++) {
        size_t len = 0;
        FILE *f = open_memstream(&scripts[k], &len);
        assert_int_equal(cmd_print_completion(shells[k], f), 0);
        fclose(f);
    }
    char *man = NULL;
    size_t mlen = 0;
    FILE *mf = open_memstream(&man, &mlen);
    cmd_print_man_source(mf);
    fclose(mf);
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_def *row = &cmd_table[i];
        const struct cmd_def *d = cmd_resolve(row);
        char *help = capture(cmd_print_help, row);
        const char *last = strrchr(row->name, ' ');
        last = last ? last + 1 : row->name;
        for (int k = 0; k < 3; k++)
            if (!row->hidden)
                assert_non_null(strstr(scripts[k], last));
        if (!row->hidden) {
            char head[64];
            snprintf(head, sizeof head, "\n## %s\n", row->name);
            assert_non_null(strstr(man, head));
        }
        for (size_t j = 0; d->flags && d->flags[j].name; j++) {
            char word[96];
            snprintf(word, sizeof word, "--%s", d->flags[j].name);
            print_message("%s %s\n", row->name, word);
            assert_non_null(strstr(help, word));
            if (d->flags[j].has_short) {
                snprintf(word, sizeof word, "-%c, --%s", d->flags[j].key, d->flags[j].name);
                assert_non_null(strstr(help, word));
            }
            /* bash and zsh spell it --name, fish -l name */
            snprintf(word, sizeof word, "--%s", d->flags[j].name);
            assert_non_null(strstr(scripts[0], word));
            assert_non_null(strstr(scripts[1], word));
            snprintf(word, sizeof word, "-l %s", d->flags[j].name);
            assert_non_null(strstr(scripts[2], word));
        }
        free(help);
    }
    assert_int_equal(cmd_print_completion("tcsh", stdout), -1);
    for (int k = 0; k < 3; k++)
        free(scripts[k]);
    free(man);
}

/* --format values are checked against the row's choices: the index of
 * the word, docker's {{json .}} as json, -1 for anything else (the row's
 * second choice is json for every --format of the table). */
static void test_format_choices(void **state)
{
    (void)state;
    static const char *const cmds[] = {"ps",     "ls",   "image ls", "images",
                                       "config", "info", "version"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        struct cmd_parser p;
        cmd_parser_init(&p, cmds[i]);
        int key = 0;
        for (size_t k = 0; p.def->flags[k].name; k++)
            if (strcmp(p.def->flags[k].name, "format") == 0)
                key = p.def->flags[k].key;
        assert_true(key != 0);
        assert_int_equal(cmd_parser_choice(&p, key, "json"), 1);
        assert_int_equal(cmd_parser_choice(&p, key, "{{json .}}"), 1);
        assert_int_equal(cmd_parser_choice(&p, key, "jso"), -1);
        assert_int_equal(cmd_parser_choice(&p, key, "json "), -1);
        assert_int_equal(cmd_parser_choice(&p, key, ""), -1);
    }
    struct cmd_parser p;
    cmd_parser_init(&p, "config");
    assert_int_equal(cmd_parser_choice(&p, 'F', "yaml"), 0);
    cmd_parser_init(&p, "ps");
    assert_int_equal(cmd_parser_choice(&p, 'F', "table"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_complete),  cmocka_unit_test(test_flags_well_formed),
        cmocka_unit_test(test_getopt_tables),  cmocka_unit_test(test_derived_texts_name_every_flag),
        cmocka_unit_test(test_format_choices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
