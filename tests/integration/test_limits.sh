#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Resource limits are enforced through the container's own cgroup on this
# host's cgroup layout (detected at run time): mem_limit (with OOM kills
# detected and reported), pids_limit, cpus; a limit the kernel refuses is
# one clear error and nothing is left behind.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

new_project lim >/dev/null <<'EOF'
services:
  oom:
    image: berth-test/probe
    mem_limit: 32m
    command: ["probe", "alloc", "64"]
  pids:
    image: berth-test/probe
    pids_limit: 20
    command: ["probe", "fork", "50"]
  cpu:
    image: berth-test/probe
    cpus: 0.5
    mem_limit: 64m
    pids_limit: 30
    volumes: ["./sig:/sig"]
    # Lives until the test has read its cgroup (or 30 s have passed).
    command: ["sh", "-c", "n=0; while [ ! -e /sig/go ] && [ $$n -lt 600 ]; do sleep 0.05; n=$$((n + 1)); done; test -e /sig/go && echo ok"]
EOF
mkdir -p "$T_DIR/lim/sig"

(cd "$T_DIR/lim" && "$BERTH" up >"$T_DIR/lim.out" 2>&1; echo "rc=$?" >>"$T_DIR/lim.out") &
uppid=$!
# While the cpu service waits for the go file, its cgroup carries the
# limits (v1 cpu controller, or cpu.max on v2).
cpu_quota() {
    cat /sys/fs/cgroup/cpu/$T_CGBASE/lim/cpu/lim-cpu-1/cpu.cfs_quota_us 2>/dev/null ||
        cat /sys/fs/cgroup/$T_CGBASE/lim/cpu/lim-cpu-1/cpu.max 2>/dev/null
}
check "the cpu service's cgroup appears" wait_until 30 cpu_quota
cpu_ok=$(cpu_quota || true)
touch "$T_DIR/lim/sig/go"
wait $uppid || true
out=$(cat "$T_DIR/lim.out")
case "$cpu_ok" in
50000 | "50000 100000") pass ;;
*) fail "cpus: 0.5 gives a quota of 50000 per 100000 (got '$cpu_ok')" ;;
esac
expect_contains "a 64 MB allocation under mem_limit 32m is OOM-killed" "$out" \
    "oom-1 exited with code 137 (OOM killed"
expect_not_contains "the allocation did not succeed" "$out" "allocated 64 MB"
forked=$(printf '%s\n' "$out" | sed -n 's/.*forked \([0-9]*\) of 50.*/\1/p')
check "pids_limit 20 caps a fork loop (forked ${forked:-none})" test "${forked:-99}" -lt 20
expect_contains "a service with all three limits runs" "$out" "cpu-1   | ok"
expect_contains "up returns 0 when containers exit by themselves" "$out" "rc=0"

# A limit the kernel refuses: one clear line, non-zero exit, nothing left.
new_project bad >/dev/null <<'EOF'
services:
  tiny:
    image: berth-test/probe
    cpus: 0.0001
    command: ["true"]
EOF
if out=$(bz bad up 2>&1); then
    fail "up with cpus: 0.0001 should fail"
else
    pass
fi
expect_contains "the refused limit names the service and knob" "$out" "bad-tiny-1"
expect_contains "the refused limit is explained" "$out" "refused"
check "no cgroup, mount or run file left after a refused limit" test -z "$(leaks_of bad)"
bz bad down >/dev/null 2>&1

finish
