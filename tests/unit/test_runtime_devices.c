/* SPDX-License-Identifier: Apache-2.0 */
/* The device allow-list: Docker's rules, their v1 spelling, and the BPF
 * program built from them, run here through a small evaluator of the few
 * instructions it uses and compared with the rules for every device and
 * access that matters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/runtime/devices.h"
#include "util/cleanup.h"

static bool docker(char type, uint32_t major, uint32_t minor, unsigned access)
{
    return devices_allowed(devices_docker, devices_docker_n, type, major, minor, access);
}

static void test_docker_list(void **state)
{
    (void)state;
    /* mknod of anything; nothing else of a disk */
    assert_true(docker('b', 7, 0, DEV_MKNOD));
    assert_true(docker('b', 8, 0, DEV_MKNOD));
    assert_true(docker('c', 1, 1, DEV_MKNOD));
    assert_false(docker('b', 7, 0, DEV_READ));
    assert_false(docker('b', 7, 0, DEV_WRITE));
    assert_false(docker('b', 8, 0, DEV_READ | DEV_WRITE));
    assert_false(docker('b', 7, 0, DEV_MKNOD | DEV_READ));
    assert_false(docker('c', 1, 1, DEV_READ));    /* /dev/mem */
    assert_false(docker('c', 1, 11, DEV_WRITE));  /* /dev/kmsg */
    assert_false(docker('c', 10, 229, DEV_READ)); /* /dev/fuse: not granted */
    assert_false(docker('c', 4, 0, DEV_READ));    /* a virtual console */
    assert_false(docker('c', 137, 0, DEV_READ));  /* pts beyond major 136 */
    /* the allowed nodes, every access */
    static const uint32_t ok[][2] = {{1, 3}, {1, 5}, {1, 7},   {1, 8},   {1, 9},   {5, 0},
                                     {5, 1}, {5, 2}, {136, 0}, {136, 7}, {10, 200}};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        assert_true(docker('c', ok[i][0], ok[i][1], DEV_RWM));
        assert_true(docker('c', ok[i][0], ok[i][1], DEV_READ));
        /* the same numbers as a block device are not allowed */
        assert_false(docker('b', ok[i][0], ok[i][1], DEV_READ));
    }
}

static void test_v1_spelling(void **state)
{
    (void)state;
    static const char *const want[] = {
        "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
        "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
    };
    assert_int_equal(devices_docker_n, ARRAY_SIZE(want));
    for (size_t i = 0; i < devices_docker_n; i++) {
        char buf[64];
        devices_rule_v1(&devices_docker[i], buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    struct dev_rule r = {'c', 4, DEV_ANY, DEV_READ | DEV_WRITE, NULL};
    char buf[64];
    devices_rule_v1(&r, buf, sizeof buf);
    assert_string_equal(buf, "c 4:* rw");
}

/* Runs a device program on one request; fails the test on any instruction
 * the builder is not meant to emit, a jump out of the program, or a run
 * that does not end in an exit. */
static int run(const struct bpf_insn *p, size_t n, uint32_t access_type, uint32_t major,
               uint32_t minor)
{
    uint32_t ctx[3] = {access_type, major, minor};
    uint64_t reg[11] = {0};
    bool have_ctx = true; /* r1 points at ctx until it is overwritten */
    for (size_t pc = 0, steps = 0; steps < 4096; steps++) {
        assert_true(pc < n);
        const struct bpf_insn *i = &p[pc++];
        uint64_t src = (BPF_SRC(i->code) == BPF_X) ? reg[i->src_reg] : (uint64_t)(int64_t)i->imm;
        switch (i->code) {
        case BPF_LDX | BPF_W | BPF_MEM:
            assert_true(have_ctx && i->src_reg == BPF_REG_1 && i->off % 4 == 0 && i->off < 12);
            assert_int_not_equal(i->dst_reg, BPF_REG_1);
            reg[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & (uint32_t)i->imm);
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
            break;
        case BPF_ALU | BPF_MOV | BPF_X:
            if (i->dst_reg == BPF_REG_1)
                have_ctx = false;
            reg[i->dst_reg] = (uint32_t)src;
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            reg[i->dst_reg] = src;
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
        case BPF_JMP | BPF_JNE | BPF_X:
            if (reg[i->dst_reg] != src)
                pc += i->off;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)reg[BPF_REG_0];
        default:
            fail_msg("unexpected instruction 0x%02x at %zu", i->code, pc - 1);
        }
    }
    fail_msg("the program does not end");
    return -1;
}

static void test_bpf_matches_rules(void **state)
{
    (void)state;
    struct bpf_insn prog[DEVICES_BPF_MAX];
    size_t n = devices_bpf_program(devices_docker, devices_docker_n, prog, ARRAY_SIZE(prog));
    assert_true(n > 0);
    static const uint32_t majors[] = {0, 1, 4, 5, 7, 8, 10, 136, 137, 259, 4095};
    static const uint32_t minors[] = {0, 1, 2, 3, 5, 7, 8, 9, 11, 200, 229, 1048575};
    size_t checked = 0;
    for (int t = 0; t < 2; t++) {
        char type = t ? 'b' : 'c';
        uint32_t bt = t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        for (size_t a = 1; a <= DEV_RWM; a++)
            for (size_t i = 0; i < ARRAY_SIZE(majors); i++)
                for (size_t j = 0; j < ARRAY_SIZE(minors); j++) {
                    bool want = docker(type, majors[i], minors[j], (unsigned)a);
                    int got = run(prog, n, (uint32_t)(a << 16) | bt, majors[i], minors[j]);
                    if (got != (want ? 1 : 0))
                        fail_msg("%c %u:%u access %zu: program says %d, rules say %d", type,
                                 majors[i], minors[j], a, got, want);
                    checked++;
                }
    }
    assert_true(checked > 1000);
    /* an unknown device type (neither char nor block) is refused */
    assert_int_equal(run(prog, n, (DEV_READ << 16) | 3, 1, 3), 0);
}

static void test_bpf_too_small(void **state)
{
    (void)state;
    struct bpf_insn prog[8];
    assert_int_equal(devices_bpf_program(devices_docker, devices_docker_n, prog, 8), 0);
    /* no rules: refuse everything */
    size_t n = devices_bpf_program(devices_docker, 0, prog, 8);
    assert_int_equal(n, 8);
    assert_int_equal(run(prog, n, (DEV_READ << 16) | BPF_DEVCG_DEV_CHAR, 1, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_list),
        cmocka_unit_test(test_v1_spelling),
        cmocka_unit_test(test_bpf_matches_rules),
        cmocka_unit_test(test_bpf_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
