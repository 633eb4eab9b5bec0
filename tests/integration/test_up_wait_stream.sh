#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `up --wait` decides from the supervisor's event stream (cmd/up_wait.h):
# it returns once the health_status event says healthy, not before; a
# container that exits non-zero, turns unhealthy or cannot be started ends
# it with the supervisor's words, through a new detached supervisor and
# through one already running; everything already up and healthy returns
# at once; and a start failure is on the stream `berth events` reads.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# ms_since START_NS: milliseconds since then.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# up_wait PROJECT ARGS...: `up -d --wait ARGS` in the project, ended after
# 60 s (a wait that never ends is a failure, not a hung test).
up_wait() {
    local p=$1 rc=0
    shift
    note_namespaces
    (cd "$T_DIR/$p" && timeout 60 "$BERTH" up -d --wait "$@") || rc=$?
    note_namespaces
    return $rc
}

# --- healthy after ~1 s: up returns after the health_status event -------------
new_project uws1 >/dev/null <<'YAML'
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 100ms
      retries: 100
YAML
t0=$(date +%s.%N)
start=$(date +%s%N)
rc=0
out=$(up_wait uws1 2>&1) || rc=$?
ms=$(ms_since "$start")
end_ns=$(date +%s%N)
check "healthy_after_1s: up --wait exits 0 (exit $rc): $out" test "$rc" -eq 0
check "healthy_after_1s: it waited for the health (${ms} ms >= 1000)" test "$ms" -ge 1000
expect_contains "healthy_after_1s: the Healthy line, once" "$out" "Container uws1-db-1  Healthy"
check "healthy_after_1s: ... exactly once" test "$(grep -c 'Healthy' <<<"$out")" -eq 1
check "healthy_after_1s: the start's lines are not shown again from the stream" \
    test "$(grep -c 'Container uws1-db-1  Started' <<<"$out")" -eq 1
ev=$(bz uws1 events --json --since "$t0" --until "$(date -d '+1 second' +%s.%N)" 2>&1)
hs_ns=$(python3 -c '
import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("action") == "health_status" and e["attributes"].get("health_status") == "healthy":
        print(e["time_ns"]); break' <<<"$ev")
check "healthy_after_1s: the stream has the healthy event (${hs_ns:-none})" test -n "$hs_ns"
check "healthy_after_1s: up returned after it" test "${hs_ns:-0}" -gt 0 -a "$end_ns" -gt "${hs_ns:-0}"

# --- already up and healthy: at once, from the supervisor's state ------------------
start=$(date +%s%N)
rc=0
out=$(up_wait uws1 2>&1) || rc=$?
ms=$(ms_since "$start")
check "already_healthy: up --wait exits 0 (exit $rc): $out" test "$rc" -eq 0
check "already_healthy: it returned at once (${ms} ms < 3000)" test "$ms" -lt 3000
expect_not_contains "already_healthy: no Healthy line (nothing changed)" "$out" "Healthy"
bz uws1 down >/dev/null 2>&1 || fail "down uws1 failed"

# --- exit 3 before healthy, through a new detached supervisor -----------------------
# (a container without a healthcheck is ready once started, as before)
for p in uws2 uws4; do
    case $p in uws2) cmd='sleep 0.5; exit 3' ;; uws4) cmd='exit 3' ;; esac
    new_project $p >/dev/null <<YAML
services:
  job:
    image: busybox
    command: ["sh", "-c", "$cmd"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      retries: 100
YAML
done
rc=0
out=$(up_wait uws2 2>&1) || rc=$?
check "exit_3_detached: up --wait fails (exit $rc)" test "$rc" -eq 1
expect_contains "exit_3_detached: the exit, in the supervisor's words" "$out" \
    "berth: container uws2-job-1 exited (3)"
# one that exits at once: the detached supervisor cannot end before the
# client has subscribed
rc=0
out=$(up_wait uws4 2>&1) || rc=$?
check "exit_3_at_once: up --wait fails (exit $rc)" test "$rc" -eq 1
expect_contains "exit_3_at_once: the exit, not a lost supervisor" "$out" \
    "berth: container uws4-job-1 exited (3)"
bz uws2 down >/dev/null 2>&1 || fail "down uws2 failed"
bz uws4 down >/dev/null 2>&1 || fail "down uws4 failed"

# --- unhealthy and exit 3 through a supervisor already running ----------------------
new_project uws3 >/dev/null <<'YAML'
services:
  keep:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  sick:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      retries: 2
  bad:
    image: busybox
    command: ["sh", "-c", "sleep 0.3; exit 3"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      retries: 100
  broken:
    image: busybox
    command: ["/no/such/program"]
YAML
bz uws3 up -d keep >/dev/null 2>&1 || fail "up -d keep failed"
sup=$(pid_of_state "$BERTH_RUNROOT/uws3/uws3-keep-1.json" supervisor || echo none)
rc=0
out=$(up_wait uws3 sick 2>&1) || rc=$?
check "unhealthy_running_supervisor: up --wait fails (exit $rc)" test "$rc" -eq 1
expect_contains "unhealthy_running_supervisor: the supervisor's words" "$out" \
    "berth: container uws3-sick-1 is unhealthy"
expect_contains "unhealthy_running_supervisor: the Unhealthy line" "$out" \
    "Container uws3-sick-1  Unhealthy"
rc=0
out=$(up_wait uws3 bad 2>&1) || rc=$?
check "exit_3_running_supervisor: up --wait fails (exit $rc)" test "$rc" -eq 1
expect_contains "exit_3_running_supervisor: the exit" "$out" "berth: container uws3-bad-1 exited (3)"
expect_eq "the same supervisor served them" \
    "$(pid_of_state "$BERTH_RUNROOT/uws3/uws3-keep-1.json" supervisor || echo gone)" "$sup"

# --- a start failure is on the stream ------------------------------------------------
t1=$(date +%s.%N)
rc=0
out=$(up_wait uws3 broken 2>&1) || rc=$?
check "start_failure: up --wait fails (exit $rc)" test "$rc" -eq 1
expect_contains "start_failure: the start error, in the supervisor's words" "$out" \
    "berth: container uws3-broken-1: "
ev=$(bz uws3 events --json --since "$t1" --until "$(date -d '+1 second' +%s.%N)" broken 2>&1)
check "start_failure: the stream has an error event with the message" \
    grep -q '"action":"error".*"detail":".*no/such/program' <<<"$ev"
plain=$(bz uws3 events --since "$t1" --until "$(date -d '+1 second' +%s.%N)" broken 2>&1)
check "start_failure: a plain events line for it" \
    grep -qE ' container error [0-9a-f]{64} \(image=busybox, name=uws3-broken-1\)$' <<<"$plain"
bz uws3 down >/dev/null 2>&1 || fail "down uws3 failed"

finish
