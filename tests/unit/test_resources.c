/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the resource keys: which cgroup file gets which text on
 * the v1 and the v2 driver (cgroup_knobs), Docker's shares-to-weight
 * conversion, CPU lists, device cgroup rules, the keys read at load with
 * their errors (file:line, service, key), the plan's checks against this
 * host, and the plan's JSON (written only when set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>

#include "plan_testutil.h"
#include "engine/plan/plan.h"
#include "engine/runtime/cgroup.h"
#include "engine/runtime/devices.h"
#include "util/cpuset.h"

/* --- The knob mapping --------------------------------------------------------- */

/* "file=value" lines of the knobs, one per line ("file|alt=value" with an
 * alternative, "!" before an optional one, "-" for no file). */
static char *knobs_text(const struct cgroup_limits *l, bool v2)
{
    struct cgroup_knob *k = NULL;
    size_t n = cgroup_knobs(l, v2, &k);
    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *next =
            xasprintf("%s%s%s%s%s=%s\n", out, k[i].optional ? "!" : "", k[i].file ? k[i].file : "-",
                      k[i].alt ? "|" : "", k[i].alt ? k[i].alt : "", k[i].val);
        free(out);
        out = next;
    }
    free(k);
    return out;
}

static void assert_knobs(const struct cgroup_limits *l, bool v2, const char *want)
{
    _cleanup_free_ char *got = knobs_text(l, v2);
    if (strcmp(got, want) != 0)
        fail_msg("%s knobs:\n%s\nwant:\n%s", v2 ? "v2" : "v1", got, want);
}

static void test_knobs_cpu_memory(void **state)
{
    struct cgroup_limits l = {
        .memory = 64 << 20,
        .memswap = 96 << 20,
        .mem_reservation = 32 << 20,
        .mem_swappiness = 10,
        .mem_swappiness_set = true,
        .cpu_shares = 512,
        .cpu_quota = 30000,
        .cpu_period = 60000,
        .cpu_rt_period = 1000000,
        .cpu_rt_runtime = 95000,
        .cpuset = "0-1",
        .pids = 40,
    };
    assert_knobs(&l, false,
                 "memory.limit_in_bytes=67108864\n"
                 "memory.memsw.limit_in_bytes=100663296\n"
                 "memory.soft_limit_in_bytes=33554432\n"
                 "memory.swappiness=10\n"
                 "cpu.shares=512\n"
                 "cpu.cfs_period_us=60000\n"
                 "cpu.cfs_quota_us=30000\n"
                 "cpu.rt_period_us=1000000\n"
                 "cpu.rt_runtime_us=95000\n"
                 "cpuset.cpus=0-1\n"
                 "pids.max=40\n");
    /* v2: swap is what memswap adds to memory; no swappiness; shares as a
     * weight; quota and period in one file; no real-time knobs (an
     * error when the limits are applied). */
    assert_knobs(&l, true,
                 "memory.max=67108864\n"
                 "memory.swap.max=33554432\n"
                 "memory.low=33554432\n"
                 "cpu.weight=20\n"
                 "cpu.max=30000 60000\n"
                 "-=1000000\n"
                 "-=95000\n"
                 "cpuset.cpus=0-1\n"
                 "pids.max=40\n");

    /* memswap -1: swap without a limit; unset: up to the limit again. */
    struct cgroup_limits m = {.memory = 1000, .memswap = -1};
    assert_knobs(&m, false, "memory.limit_in_bytes=1000\n!memory.memsw.limit_in_bytes=-1\n");
    assert_knobs(&m, true, "memory.max=1000\n!memory.swap.max=max\n");
    m.memswap = 0;
    assert_knobs(&m, false, "memory.limit_in_bytes=1000\n!memory.memsw.limit_in_bytes=2000\n");
    assert_knobs(&m, true, "memory.max=1000\n!memory.swap.max=1000\n");

    /* cpus: a quota over 100 ms; a quota alone keeps the kernel's period;
     * -1 is no limit. */
    struct cgroup_limits c = {.cpus = 1.5};
    assert_knobs(&c, false, "cpu.cfs_period_us=100000\ncpu.cfs_quota_us=150000\n");
    assert_knobs(&c, true, "cpu.max=150000 100000\n");
    c = (struct cgroup_limits){.cpu_quota = 25000};
    assert_knobs(&c, false, "cpu.cfs_quota_us=25000\n");
    assert_knobs(&c, true, "cpu.max=25000 100000\n");
    c = (struct cgroup_limits){.cpu_quota = -1, .cpu_period = 50000};
    assert_knobs(&c, false, "cpu.cfs_period_us=50000\ncpu.cfs_quota_us=-1\n");
    assert_knobs(&c, true, "cpu.max=max 50000\n");
    c = (struct cgroup_limits){.pids = -1};
    assert_knobs(&c, true, "pids.max=max\n");

    /* Nothing set: nothing written. */
    struct cgroup_limits none = {0};
    assert_knobs(&none, false, "");
    assert_knobs(&none, true, "");
    (void)state;
}

static void test_knobs_io(void **state)
{
    struct cgroup_io io[] = {
        {.path = "/dev/a", .kind = CG_IO_RBPS, .value = 1048576, .major = 8, .minor = 0},
        {.path = "/dev/a", .kind = CG_IO_WIOPS, .value = 100, .major = 8, .minor = 0},
        {.path = "/dev/b", .kind = CG_IO_WBPS, .value = 2048, .major = 7, .minor = 3},
        {.path = "/dev/a", .kind = CG_IO_WEIGHT, .value = 300, .major = 8, .minor = 0},
        {.path = "/dev/b", .kind = CG_IO_RIOPS, .value = 50, .major = 7, .minor = 3},
    };
    struct cgroup_limits l = {.blkio_weight = 500, .io = io, .n_io = ARRAY_SIZE(io)};
    assert_knobs(&l, false,
                 "blkio.weight|blkio.bfq.weight=500\n"
                 "blkio.throttle.read_bps_device=8:0 1048576\n"
                 "blkio.throttle.write_iops_device=8:0 100\n"
                 "blkio.throttle.write_bps_device=7:3 2048\n"
                 "blkio.weight_device|blkio.bfq.weight_device=8:0 300\n"
                 "blkio.throttle.read_iops_device=7:3 50\n");
    /* v2: one io.max line per device with all its limits. */
    assert_knobs(&l, true,
                 "io.weight|io.bfq.weight=default 500\n"
                 "io.weight|io.bfq.weight=8:0 300\n"
                 "io.max=8:0 rbps=1048576 wiops=100\n"
                 "io.max=7:3 wbps=2048 riops=50\n");
    (void)state;
}

static void test_shares_to_weight(void **state)
{
    /* runc's ConvertCPUSharesToCgroupV2Value */
    assert_int_equal(cgroup_shares_to_weight(0), 0);
    assert_int_equal(cgroup_shares_to_weight(2), 1);
    assert_int_equal(cgroup_shares_to_weight(1024), 39);
    assert_int_equal(cgroup_shares_to_weight(512), 20);
    assert_int_equal(cgroup_shares_to_weight(262144), 10000);
    assert_int_equal(cgroup_shares_to_weight(1), 1);
    assert_int_equal(cgroup_shares_to_weight(1000000), 10000);
    (void)state;
}

/* What the host can take, judged from the hierarchies' roots: a v1 root
 * without blkio.weight cannot take a weight; pids.max is never at a v1
 * root (not a reason to refuse); v2 has no real-time knobs. */
static void test_limits_supported(void **state)
{
    char *dir = scratch_dir("res");
    struct cgroup_sys s = {0};
    s.v1_root[CG_BLKIO] = xasprintf("%s/blkio", dir);
    s.v1_root[CG_PIDS] = xasprintf("%s/pids", dir);
    s.v1_root[CG_CPU] = xasprintf("%s/cpu", dir);
    for (int c = 0; c < CG_CTRL_MAX; c++)
        if (s.v1_root[c])
            assert_int_equal(mkdir(s.v1_root[c], 0755), 0);
    free(ct_write(dir, "blkio/blkio.throttle.read_bps_device", ""));
    free(ct_write(dir, "cpu/cpu.shares", ""));
    struct berr e = BERR_INIT;
    struct cgroup_limits ok = {.pids = 10, .cpu_shares = 100};
    assert_int_equal(cgroup_limits_supported(&s, &ok, "service \"x\"", &e), 0);
    struct cgroup_limits weight = {.blkio_weight = 300};
    assert_int_equal(cgroup_limits_supported(&s, &weight, "service \"x\"", &e), -ENOTSUP);
    assert_string_equal(e.msg, "service \"x\": blkio_config.weight: this kernel has no cgroup "
                               "file blkio.weight nor blkio.bfq.weight");
    berr_clear(&e);
    free(ct_write(dir, "blkio/blkio.bfq.weight", ""));
    assert_int_equal(cgroup_limits_supported(&s, &weight, "service \"x\"", &e), 0);
    struct cgroup_limits rt = {.cpu_rt_runtime = 1000};
    assert_int_equal(cgroup_limits_supported(&s, &rt, "service \"x\"", &e), -ENOTSUP);
    assert_non_null(strstr(e.msg, "cpu_rt_runtime: this kernel has no cgroup file"));
    berr_clear(&e);
    struct cgroup_limits set = {.cpuset = "0"};
    assert_int_equal(cgroup_limits_supported(&s, &set, "service \"x\"", &e), -ENOTSUP);
    assert_non_null(strstr(e.msg, "cpuset needs the cpuset cgroup controller"));
    berr_clear(&e);
    /* No swap accounting: Docker's default swap is skipped, an explicit
     * memswap_limit is refused rather than left unenforced. */
    s.v1_root[CG_MEMORY] = xasprintf("%s/memory", dir);
    assert_int_equal(mkdir(s.v1_root[CG_MEMORY], 0755), 0);
    free(ct_write(dir, "memory/memory.limit_in_bytes", ""));
    struct cgroup_limits mem = {.memory = 1 << 20};
    assert_int_equal(cgroup_limits_supported(&s, &mem, "service \"x\"", &e), 0);
    mem.memswap = -1;
    assert_int_equal(cgroup_limits_supported(&s, &mem, "service \"x\"", &e), 0);
    mem.memswap = 2 << 20;
    assert_int_equal(cgroup_limits_supported(&s, &mem, "service \"x\"", &e), -ENOTSUP);
    assert_non_null(strstr(e.msg, "memswap_limit: this kernel has no cgroup file "
                                  "memory.memsw.limit_in_bytes"));
    berr_clear(&e);
    struct cgroup_sys v2 = {.unified = true, .v2_root = dir};
    assert_int_equal(cgroup_limits_supported(&v2, &rt, "service \"x\"", &e), -ENOTSUP);
    assert_non_null(strstr(e.msg, "cgroup v2 has no real-time CPU controller"));
    berr_clear(&e);
    assert_int_equal(cgroup_limits_supported(&v2, &weight, "service \"x\"", &e), 0);
    for (int c = 0; c < CG_CTRL_MAX; c++)
        free(s.v1_root[c]);
    scratch_remove(dir);
    (void)state;
}

/* --- CPU lists and device rules ------------------------------------------------ */

static void test_cpuset_parse(void **state)
{
    struct cpuset c, online;
    assert_int_equal(cpuset_parse("0-3,8,10-11\n", &c), 0);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(cpuset_has(&c, i), i <= 3 || i == 8 || i == 10 || i == 11);
    assert_int_equal(cpuset_parse("0-1", &online), 0);
    assert_int_equal(cpuset_first_outside(&c, &online), 2);
    assert_int_equal(cpuset_parse("1", &c), 0);
    assert_int_equal(cpuset_first_outside(&c, &online), -1);
    static const char *const bad[] = {"", "a", "1-", "-1", "3-1", "1,,2", "1,", "1 2", "0x1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (cpuset_parse(bad[i], &c) != -EINVAL)
            fail_msg("cpuset_parse(\"%s\") took it", bad[i]);
    assert_int_equal(cpuset_parse("4096", &c), -ERANGE);
    assert_int_equal(cpuset_parse("99999999999999999999", &c), -ERANGE);
    (void)state;
}

static void test_device_rules(void **state)
{
    static const struct {
        const char *in;
        char type;
        int32_t major, minor;
        unsigned access;
    } ok[] = {
        {"c 1:3 mr", 'c', 1, 3, DEV_MKNOD | DEV_READ},
        {"a *:* rwm", 'a', DEV_ANY, DEV_ANY, DEV_RWM},
        {"b 8:* w", 'b', 8, DEV_ANY, DEV_WRITE},
        {"c *:200 rw", 'c', DEV_ANY, 200, DEV_READ | DEV_WRITE},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct dev_rule r;
        if (devices_rule_parse(ok[i].in, &r) != 0)
            fail_msg("devices_rule_parse(\"%s\") refused it", ok[i].in);
        assert_int_equal(r.type, ok[i].type);
        assert_int_equal(r.major, ok[i].major);
        assert_int_equal(r.minor, ok[i].minor);
        assert_int_equal(r.access, ok[i].access);
    }
    static const char *const bad[] = {
        "",      "a",       "x 1:3 r",  "c 1:3",    "c 1:3 ",   "c 1:3 rwx",        "c 1:3 rwmr",
        "c 1 r", "c a:1 r", "c  1:3 r", "c 1:3 r ", "c -1:3 r", "c 99999999999:1 r"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct dev_rule r;
        if (devices_rule_parse(bad[i], &r) != -EINVAL)
            fail_msg("devices_rule_parse(\"%s\") took it", bad[i]);
    }
    /* "a" rules match both types, in v1 text and in the BPF program's
     * logic (devices_allowed is its model). */
    struct dev_rule a;
    assert_int_equal(devices_rule_parse("a 7:* r", &a), 0);
    char line[64];
    devices_rule_v1(&a, line, sizeof line);
    assert_string_equal(line, "a 7:* r");
    assert_true(devices_allowed(&a, 1, 'b', 7, 3, DEV_READ));
    assert_true(devices_allowed(&a, 1, 'c', 7, 3, DEV_READ));
    assert_false(devices_allowed(&a, 1, 'c', 7, 3, DEV_WRITE));
    assert_false(devices_allowed(&a, 1, 'c', 8, 3, DEV_READ));
    struct bpf_insn prog[64];
    assert_true(devices_bpf_program(&a, 1, prog, ARRAY_SIZE(prog)) > 0);
    (void)state;
}

/* --- The keys at load ------------------------------------------------------------- */

static void test_keys_at_load(void **state)
{
    struct ct_load l;
    int r = ct_load(&l,
                    "services:\n"
                    "  web:\n"
                    "    image: x\n"
                    "    cpu_shares: 512\n"
                    "    cpu_quota: 50000\n"
                    "    cpu_period: 100000\n"
                    "    cpu_rt_runtime: 95000\n"
                    "    cpu_rt_period: 1000000\n"
                    "    cpuset: \"0-1\"\n"
                    "    mem_limit: 64m\n"
                    "    memswap_limit: 128m\n"
                    "    mem_swappiness: 10\n"
                    "    blkio_config:\n"
                    "      weight: 300\n"
                    "      weight_device: [{path: /dev/sda, weight: 400}]\n"
                    "      device_read_bps: [{path: /dev/sda, rate: 1mb}]\n"
                    "      device_write_bps: [{path: /dev/sda, rate: 2048}]\n"
                    "      device_read_iops: [{path: /dev/sdb, rate: 100}]\n"
                    "      device_write_iops: [{path: /dev/sdb, rate: \"200\"}]\n"
                    "    devices: [\"/dev/fuse\", \"/dev/loop7:/dev/disk/x:r\"]\n"
                    "    device_cgroup_rules: [\"c 10:229 rwm\"]\n"
                    "    storage_opt: {size: 1G}\n"
                    "    deploy:\n"
                    "      resources:\n"
                    "        limits: {pids: 30}\n"
                    "        reservations: {memory: 32m, cpus: \"0.5\"}\n",
                    NULL);
    assert_int_equal(r, 0);
    const struct service *s = ct_service(&l, "web");
    const struct svc_res *res = &s->res;
    assert_int_equal(res->cpu_shares, 512);
    assert_int_equal(res->cpu_quota, 50000);
    assert_int_equal(res->cpu_period, 100000);
    assert_int_equal(res->cpu_rt_runtime, 95000);
    assert_int_equal(res->cpu_rt_period, 1000000);
    assert_string_equal(res->cpuset, "0-1");
    assert_int_equal(res->cpuset_pos.line, 9);
    assert_int_equal(res->memswap_limit, 128 << 20);
    assert_true(res->mem_swappiness_set);
    assert_int_equal(res->mem_swappiness, 10);
    assert_int_equal(res->blkio_weight, 300);
    assert_int_equal(res->n_io, 5);
    assert_int_equal(res->io[0].kind, SVC_IO_WEIGHT);
    assert_int_equal(res->io[0].value, 400);
    assert_int_equal(res->io[1].kind, SVC_IO_RBPS);
    assert_int_equal(res->io[1].value, 1 << 20);
    assert_int_equal(res->io[2].value, 2048);
    assert_int_equal(res->io[3].kind, SVC_IO_RIOPS);
    assert_string_equal(res->io[3].path, "/dev/sdb");
    assert_int_equal(res->io[4].value, 200);
    assert_int_equal(res->n_devices, 2);
    assert_string_equal(res->devices[0].ctr, "/dev/fuse");
    assert_string_equal(res->devices[0].perms, "rwm");
    assert_string_equal(res->devices[1].host, "/dev/loop7");
    assert_string_equal(res->devices[1].ctr, "/dev/disk/x");
    assert_string_equal(res->devices[1].perms, "r");
    assert_int_equal(res->n_dev_rules, 1);
    assert_int_equal(res->storage_size, 1LL << 30);
    assert_int_equal(res->mem_reservation, 32 << 20);
    assert_int_equal(s->pids_limit, 30);
    /* honoured keys do not warn; a CPU reservation is a swarm hint */
    assert_false(ct_warned(&l.w, "not supported"));
    ct_assert_warned(&l, "reservations.cpus is ignored");
    assert_int_equal(compose_service_refused(s, NULL), 0);
    ct_load_done(&l);
    (void)state;
}

/* The body under a service at line 4: an error naming the file, line,
 * service and key. */
static void assert_load_error(const char *body, const char *where, const char *needle)
{
    _cleanup_free_ char *y = xasprintf("services:\n  web:\n    image: x\n%s", body);
    struct ct_load l;
    if (ct_load(&l, y, NULL) == 0)
        fail_msg("loaded: %s", body);
    _cleanup_free_ char *want = xasprintf("compose.yaml:%s: service \"web\": ", where);
    if (!strstr(l.e.msg, want) || !strstr(l.e.msg, needle))
        fail_msg("%s: message [%s], want [%s] and [%s]", body, l.e.msg, want, needle);
    ct_load_done(&l);
}

static void test_keys_bad_input(void **state)
{
    assert_load_error("    cpu_shares: 1\n", "4:17", "cpu_shares: \"1\" is out of range");
    assert_load_error("    cpu_quota: 999\n", "4:16", "cpu_quota: \"999\" is less than");
    assert_load_error("    cpu_period: 2000000\n", "4:17", "cpu_period: \"2000000\" is out");
    assert_load_error("    cpuset: \"3-1\"\n", "4:13", "cpuset: invalid CPU list \"3-1\"");
    assert_load_error("    cpuset: \"5000\"\n", "4:13", "names a CPU number past 4095");
    assert_load_error("    mem_swappiness: 101\n", "4:21", "mem_swappiness: \"101\" is out");
    assert_load_error("    blkio_config: {weight: 5}\n", "4:28", "out of range (use 10 to 1000)");
    assert_load_error("    blkio_config: {speed: 5}\n", "4:20", "blkio_config: unknown key");
    assert_load_error("    blkio_config:\n      device_read_bps: [{path: dev/sda, rate: 1}]\n",
                      "5:32", "device path \"dev/sda\" is not absolute");
    assert_load_error("    blkio_config:\n      device_read_bps: [{path: /dev/sda, rate: x}]\n",
                      "5:48", "invalid size \"x\"");
    assert_load_error("    blkio_config:\n      device_read_iops: [{path: /dev/sda}]\n", "5:26",
                      "expected {path: /dev/..., rate: ...}");
    assert_load_error("    devices: [\"/dev/fuse:/tmp/fuse\"]\n", "4:15",
                      "container path \"/tmp/fuse\" must be a clean path under /dev");
    assert_load_error("    devices: [\"/dev/fuse:/dev/../etc/x\"]\n", "4:15", "under /dev");
    assert_load_error("    devices: [\"/dev/fuse:/dev/fuse:rwx\"]\n", "4:15",
                      "invalid permissions \"rwx\"");
    assert_load_error("    devices: [\"dev/fuse\"]\n", "4:15", "is not an absolute path");
    assert_load_error("    storage_opt: {size: 1G, dm.basesize: 2G}\n", "4:29",
                      "unknown option \"dm.basesize\"");
    assert_load_error("    cpus: 0.5\n    cpu_quota: 20000\n", "5:16",
                      "cpu_quota: cannot be set together with cpus");
    assert_load_error("    memswap_limit: 64m\n", "4:20", "memswap_limit: needs mem_limit");
    assert_load_error("    mem_limit: 64m\n    memswap_limit: 32m\n", "5:20",
                      "memswap_limit: is less than mem_limit");
    assert_load_error("    mem_limit: 32m\n    mem_reservation: 64m\n", "5:22",
                      "mem_reservation: is more than mem_limit");
    assert_load_error("    cpu_rt_runtime: 2000000\n", "4:21", "is more than cpu_rt_period");
    assert_load_error("    deploy: {resources: {limits: {devices: [{capabilities: [gpu]}]}}}\n",
                      "4:35", "\"devices\" is not a limit");
    (void)state;
}

/* --- The plan -------------------------------------------------------------------- */

static void assert_plan_error(const char *body, const char *where, const char *needle)
{
    struct planned p;
    plan_of(&p, body);
    if (p.r >= 0)
        fail_msg("planned: %s", body);
    _cleanup_free_ char *want = xasprintf("compose.yaml:%s: service \"web\": ", where);
    if (!strstr(p.e.msg, want) || !strstr(p.e.msg, needle))
        fail_msg("%s: message [%s], want [%s] and [%s]", body, p.e.msg, want, needle);
    planned_done(&p);
}

static void test_plan_refuses_gpus(void **state)
{
    /* config prints the file (it loads), up refuses the service. */
    struct planned p;
    plan_of(&p, "    deploy:\n      resources:\n        reservations:\n"
                "          devices: [{capabilities: [gpu]}]\n");
    assert_int_equal(p.r, -EPERM);
    if (!strstr(p.e.msg, "compose.yaml:7:11: service \"web\": deploy.resources.reservations."
                         "devices (GPUs and other devices through a device driver: berth has "
                         "none"))
        fail_msg("message [%s]", p.e.msg);
    ct_assert_warned(&p.l, "compose.yaml:7:11:");
    planned_done(&p);
    (void)state;
}

static void test_plan_host_checks(void **state)
{
    /* No host has CPU 4095 online here (the kernel's list is read). */
    assert_plan_error("    cpuset: \"0,4095\"\n", "4:13",
                      "cpuset: CPU 4095 is not online on this host (online CPUs: ");
    assert_plan_error(
        "    blkio_config:\n      device_write_bps: [{path: /dev/berth-nope, rate: 1}]"
        "\n",
        "5:33", "blkio_config.device_write_bps: device /dev/berth-nope: No such file");
    assert_plan_error("    blkio_config:\n      device_read_iops: [{path: /dev/null, rate: 1}]\n",
                      "5:33", "blkio_config.device_read_iops: /dev/null is not a block device");
    assert_plan_error("    devices: [\"/dev/berth-nope\"]\n", "4:15",
                      "devices: device /dev/berth-nope: No such file");
    assert_plan_error("    devices: [\"/tmp:/dev/tmp\"]\n", "4:15",
                      "devices: /tmp is not a device node");
    assert_plan_error("    device_cgroup_rules: [\"c 1:3 mr\", \"c 1:3\"]\n", "4:39",
                      "device_cgroup_rules: invalid rule \"c 1:3\"");
    (void)state;
}

static void test_plan_json(void **state)
{
    struct planned d, p;
    plan_of(&d, "");
    assert_int_equal(d.r, 0);
    json_t *j = plan_to_json(&d.c);
    /* Nothing set: no "resources", so earlier containers keep their config. */
    assert_null(json_object_get(j, "resources"));
    assert_null(strstr(d.c.config, "resources"));
    json_decref(j);

    plan_of(&p, "    cpu_shares: 512\n"
                "    cpuset: \"0\"\n"
                "    mem_limit: 64m\n"
                "    memswap_limit: -1\n"
                "    mem_reservation: 16m\n"
                "    mem_swappiness: 5\n"
                "    devices: [\"/dev/null:/dev/x/null:rw\"]\n"
                "    device_cgroup_rules: [\"a 7:* r\"]\n");
    if (p.r != 0)
        fail_msg("%s", p.e.msg);
    assert_string_not_equal(p.c.config, d.c.config);
    const struct cgroup_limits *l = &p.c.limits;
    assert_int_equal(l->cpu_shares, 512);
    assert_int_equal(l->memswap, -1);
    assert_true(l->mem_swappiness_set);
    assert_int_equal(l->n_devices, 1);
    assert_int_equal(l->devices[0].access, DEV_READ | DEV_WRITE);
    assert_int_equal(l->n_dev_rules, 1);
    j = plan_to_json(&p.c);
    struct ctr_plan back;
    struct berr e = BERR_INIT;
    assert_int_equal(plan_from_json(j, &back, &e), 0);
    assert_int_equal(back.limits.cpu_shares, 512);
    assert_string_equal(back.limits.cpuset, "0");
    assert_int_equal(back.limits.memswap, -1);
    assert_int_equal(back.limits.mem_reservation, 16 << 20);
    assert_true(back.limits.mem_swappiness_set);
    assert_int_equal(back.limits.mem_swappiness, 5);
    assert_int_equal(back.limits.n_devices, 1);
    assert_string_equal(back.limits.devices[0].ctr, "/dev/x/null");
    assert_int_equal(back.limits.devices[0].access, DEV_READ | DEV_WRITE);
    assert_int_equal(back.limits.n_dev_rules, 1);
    assert_int_equal(back.limits.dev_rules[0].type, 'a');
    json_t *again = plan_to_json(&back);
    _cleanup_free_ char *t1 = json_dumps(j, JSON_SORT_KEYS);
    _cleanup_free_ char *t2 = json_dumps(again, JSON_SORT_KEYS);
    assert_string_equal(t1, t2);
    json_decref(again);
    ctr_plan_free(&back);
    json_decref(j);
    planned_done(&p);
    planned_done(&d);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knobs_cpu_memory), cmocka_unit_test(test_knobs_io),
        cmocka_unit_test(test_shares_to_weight), cmocka_unit_test(test_limits_supported),
        cmocka_unit_test(test_cpuset_parse),     cmocka_unit_test(test_device_rules),
        cmocka_unit_test(test_keys_at_load),     cmocka_unit_test(test_keys_bad_input),
        cmocka_unit_test(test_plan_host_checks), cmocka_unit_test(test_plan_refuses_gpus),
        cmocka_unit_test(test_plan_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
