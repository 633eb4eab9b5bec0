#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# On a pure cgroup v2 host (tests/vm/run-v2.sh boots one; this machine is a
# hybrid, where the test says SKIPPED): the container's own cgroup is a leaf
# of berth-STORE/PROJECT/SERVICE/CONTAINER holding its processes and its limits as
# v2 spells them, the levels above delegate memory, cpu and pids and hold no
# process, `pause` returns once the cgroup is frozen (v2's cgroup.freeze is
# asynchronous) and `unpause` once it is thawed, and `down` removes the tree.
. "$(dirname "$0")/lib.sh"

cg=/sys/fs/cgroup
if [ "$(stat -f -c %T $cg 2>/dev/null)" != cgroup2fs ] ||
    ! grep -qw memory $cg/cgroup.controllers 2>/dev/null; then
    skip "$cg is not a cgroup v2 hierarchy with the memory controller (not a pure v2 host)"
fi

load_image probe.tar
new_project cgv2 >/dev/null <<'YAML'
services:
  app:
    image: berth-test/probe
    mem_limit: 48m
    cpus: 0.25
    pids_limit: 17
    command: ["sleep", "3600"]
YAML
out=$(bz cgv2 up -d 2>&1) || fail "up -d: $out"
svc=$cg/$T_CGBASE/cgv2/app
ctr=$svc/cgv2-app-1
check "the container's cgroup $ctr exists" test -d "$ctr"
expect_eq "memory.max" "$(cat "$ctr/memory.max" 2>&1)" 50331648
expect_eq "cpu.max" "$(cat "$ctr/cpu.max" 2>&1)" "25000 100000"
expect_eq "pids.max" "$(cat "$ctr/pids.max" 2>&1)" 17
for level in "$cg/$T_CGBASE" "$cg/$T_CGBASE/cgv2" "$svc"; do
    ctl=$(cat "$level/cgroup.subtree_control" 2>&1 || true)
    for c in memory cpu pids; do
        expect_contains "$level delegates $c" " $ctl " " $c "
    done
    expect_eq "no process in $level (not a leaf)" "$(cat "$level/cgroup.procs" 2>&1)" ""
done
pid=$(head -1 "$ctr/cgroup.procs" 2>/dev/null || true)
check "the container's process is in its cgroup" test -n "$pid"
if [ -n "$pid" ]; then
    expect_eq "its /proc/PID/cgroup" "$(cat "/proc/$pid/cgroup")" "0::/$T_CGBASE/cgv2/app/cgv2-app-1"
fi

out=$(bz cgv2 pause app 2>&1) || fail "pause: $out"
expect_eq "frozen when pause returns" "$(grep '^frozen ' "$ctr/cgroup.events" 2>&1)" "frozen 1"
out=$(bz cgv2 unpause app 2>&1) || fail "unpause: $out"
expect_eq "thawed when unpause returns" "$(grep '^frozen ' "$ctr/cgroup.events" 2>&1)" "frozen 0"

out=$(bz cgv2 down -t 1 2>&1) || fail "down: $out"
check "down removes the project's cgroups" test ! -e "$cg/$T_CGBASE/cgv2"
finish
