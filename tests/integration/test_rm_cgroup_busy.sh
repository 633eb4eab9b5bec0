#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A container whose cgroup cannot be emptied is not removed (defect 8):
# `down` and `rm` used to remove its record and directory while its
# processes lived on, so nothing would ever stop them again. Here the
# container's service-level cgroup is frozen from outside in the v1
# freezer: its process, SIGKILLed, stays (in D state) until thawed. `down`
# must refuse, name the pid and the command, and keep the record; once the
# cgroup is thawed, a later `down` finishes.
. "$(dirname "$0")/lib.sh"

freezer=/sys/fs/cgroup/freezer
if [ ! -e "$freezer/freezer.state" ] && [ ! -d "$freezer" ]; then
    skip "no cgroup v1 freezer hierarchy at $freezer"
fi

load_image probe.tar
new_project rmbusy >/dev/null <<'EOF2'
services:
  held:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    stop_grace_period: 1s
EOF2
out=$(bz rmbusy up -d 2>&1) || fail "up -d failed: $out"
svc_cg=$freezer/$T_CGBASE/rmbusy/held
if [ ! -d "$svc_cg" ]; then
    skip "the container has no v1 freezer cgroup ($svc_cg)"
fi
pid=$(cat "$svc_cg"/*/cgroup.procs | head -1)
check "the container's process is in its cgroup" test -n "$pid"

thaw() { [ -e "$svc_cg/freezer.state" ] && echo THAWED >"$svc_cg/freezer.state" || true; }
trap thaw EXIT
echo FROZEN >"$svc_cg/freezer.state"

# The supervisor cannot stop it either; without one, `down` signals and
# removes by itself. Both paths end in the same removal.
rc=0
out=$(timeout 60 bash -c 'cd "$1" && "$2" down -t 1' _ "$T_DIR/rmbusy" "$BERTH" 2>&1) || rc=$?
check "down fails while the cgroup cannot be emptied (rc $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
expect_contains "down names the container" "$out" "container rmbusy-held-1 is not removed"
expect_contains "down names the process left" "$out" "$pid (sleep 3600"
expect_contains "down says what holds it" "$out" "uninterruptible or frozen"
expect_not_contains "down does not say it removed it" "$out" "Container rmbusy-held-1  Removed"
check "the container record is kept" test -n "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
out=$(bz rmbusy ps -a 2>&1)
expect_contains "ps still lists the container" "$out" "rmbusy-held-1"
check "the process is still there" test -e "/proc/$pid"

thaw
out=$(bz rmbusy down -t 1 2>&1) || fail "down after the thaw failed: $out"
expect_contains "down finishes once the cgroup is thawed" "$out" "Container rmbusy-held-1  Removed"
check "the process is gone" bash -c "! test -e /proc/$pid"
finish
