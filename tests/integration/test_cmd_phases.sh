#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The commands that share up's phases (cmd/up.h) without going through
# `up`'s command line: `run` starts a one-off's dependencies as `up -d`
# does (and says once, with exit status 1, why it could not), `start`
# brings up a new detached supervisor when none runs, `restart` goes
# through it, and `wait --down-project` takes the project down after the wait.
# Errors reach the user once, as "berth: MESSAGE".
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

ps_state() { # ps_state PROJECT CONTAINER: its State from ps --format json
    local out
    out=$(bz "$1" ps -a --format json 2>/dev/null) || true
    grep "\"Name\":\"$2\"" <<<"$out" | sed -n 's/.*"State":"\([a-z]*\)".*/\1/p'
}

# --- run: dependencies first, through up's phases ---------------------------
new_project cphrun >/dev/null <<'EOF2'
services:
  db:
    image: busybox
    command: ["sh", "-c", "echo db up; exec sleep 3600"]
    stop_signal: SIGKILL
  app:
    image: busybox
    depends_on: [db]
    command: ["true"]
EOF2
rc=0
out=$(bz cphrun run --rm -T app sh -c 'echo one-off; exit 5' 2>&1) || rc=$?
expect_eq "cmd_phases: run keeps the one-off's exit status" "$rc" 5
expect_contains "cmd_phases: run says it creates the dependency" "$out" "Container cphrun-db-1  Created"
expect_contains "cmd_phases: the one-off ran" "$out" "one-off"
expect_eq "cmd_phases: the dependency runs after run" "$(ps_state cphrun cphrun-db-1)" "running"
check "cmd_phases: run --rm leaves no one-off record" \
    test -z "$(bz cphrun ps -a --format json 2>/dev/null | grep -- '-run-')"
rc=0
out=$(bz cphrun run --rm -T app true 2>&1) || rc=$?
expect_eq "cmd_phases: a second run reuses the running dependency" "$rc" 0
expect_contains "cmd_phases: the dependency is kept" "$out" "Container cphrun-db-1  Running"

# --- run: a dependency that cannot be made is said once ---------------------
new_project cphbad >/dev/null <<'EOF2'
services:
  db:
    image: berth-test/no-such-image:1
    pull_policy: never
  app:
    image: busybox
    depends_on: [db]
EOF2
rc=0
out=$(bz cphbad run --rm -T app true 2>&1) || rc=$?
expect_eq "cmd_phases: run with a missing dependency image exits 1" "$rc" 1
expect_contains "cmd_phases: run names the dependency's image" "$out" \
    "berth: starting the dependencies of app: service \"db\": image \"berth-test/no-such-image:1\" is not in the store"
expect_eq "cmd_phases: the error is said once" "$(grep -c '^berth: ' <<<"$out")" 1
check "cmd_phases: nothing created for the failed run" test -z "$(bz cphbad ps -a -q 2>/dev/null)"

# --- start with no supervisor, restart, wait --down --------------------------
new_project cphlife >/dev/null <<'EOF2'
services:
  box:
    image: busybox
    command: ["sh", "-c", "echo box up; exec sleep 3600"]
    stop_signal: SIGKILL
  keeper:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    stop_signal: SIGKILL
EOF2
out=$(bz cphlife up -d 2>&1) || fail "up -d failed: $out"
out=$(bz cphlife stop 2>&1) || fail "stop failed: $out"
expect_eq "cmd_phases: stopped" "$(ps_state cphlife cphlife-box-1)" "exited"
check "cmd_phases: the detached supervisor ends with nothing to watch" \
    wait_until 10 sh -c "! test -S '$BERTH_RUNROOT/cphlife/sock'"
out=$(bz cphlife start 2>&1) || fail "start failed: $out"
expect_eq "cmd_phases: start brings up a new supervisor" "$(ps_state cphlife cphlife-box-1)" "running"
check "cmd_phases: ... serving the project's socket" test -S "$BERTH_RUNROOT/cphlife/sock"
out=$(bz cphlife restart box 2>&1) || fail "restart failed: $out"
expect_contains "cmd_phases: restart stops it" "$out" "Container cphlife-box-1  Stopped"
expect_eq "cmd_phases: restart starts it again" "$(ps_state cphlife cphlife-box-1)" "running"
rc=0
out=$(bz cphlife start nosuch 2>&1) || rc=$?
expect_eq "cmd_phases: start of an unknown service exits 1" "$rc" 1
expect_eq "cmd_phases: ... and says so once" "$out" "berth: no such service: nosuch"
(sleep 0.5 && bz cphlife kill box >/dev/null 2>&1) &
rc=0
out=$(bz cphlife wait --down-project box 2>&1) || rc=$?
expect_eq "cmd_phases: wait returns the container's status" "$rc" 137
expect_contains "cmd_phases: wait --down removes the container" "$out" "Container cphlife-box-1  Removed"
check "cmd_phases: nothing left after wait --down" test -z "$(bz cphlife ps -a -q 2>/dev/null)"
wait

# --- restart of every container: the supervisor ends between the stop and
# the start (it has nothing left to watch); the start must not be sent to
# it but to a new one.
new_project cphall >/dev/null <<'EOF2'
services:
  only:
    image: busybox
    command: ["sh", "-c", "exec sleep 3600"]
    stop_signal: SIGKILL
EOF2
out=$(bz cphall up -d 2>&1) || fail "up -d failed: $out"
bad=0
for i in 1 2 3 4 5 6 7 8; do
    out=$(bz cphall restart 2>&1) || { bad=$((bad + 1)); last=$out; }
done
expect_eq "cmd_phases: restart of the whole project, 8 times in a row, never fails${last:+ ($last)}" \
    "$bad" 0
expect_eq "cmd_phases: ... and it runs after" "$(ps_state cphall cphall-only-1)" "running"

for p in cphrun cphbad cphall; do bz $p down >/dev/null 2>&1 || true; done
finish
