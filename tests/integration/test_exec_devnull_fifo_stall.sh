#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A container must not stall its supervisor (defect 9). Healthcheck probes
# are processes exec'd into the container: the supervisor used to wait for
# each to reach execve inside its event loop, and the exec'd process opened
# the container's own /dev/null for the streams not given. Here one service
# replaces its /dev/null with a FIFO, and another stops (SIGSTOP) every
# process that appears in its PID namespace, which catches its probes
# before they exec. The other services of the project must keep being
# supervised: a healthcheck goes healthy, the control socket answers, a
# crashing service keeps being restarted; probes and `berth exec` use the
# host's /dev/null; `berth exec` into the stopping container does not hang.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

new_project xstall >/dev/null <<'EOF2'
services:
  fifo:
    image: berth-test/probe
    command: ["sh", "-c", "rm /dev/null && mkfifo /dev/null && echo fifo-ready && exec sleep 3600"]
    stop_signal: SIGKILL
    healthcheck:
      # reads its stdin, which is /dev/null: EOF at once unless it is a FIFO
      test: ["CMD", "cat"]
      interval: 300ms
      timeout: 2s
      retries: 3
  stopper:
    image: berth-test/probe
    command: ["probe", "stopper"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
      timeout: 1s
      retries: 100000
  good:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      # the first probe comes once the stopper has been at work for a while
      test: ["CMD", "true"]
      interval: 4s
      timeout: 2s
  crash:
    image: berth-test/probe
    command: ["sh", "-c", "echo crash-start; sleep 0.2; exit 1"]
    restart: always
EOF2

rc=0
out=$(timeout 60 bash -c 'cd "$1" && "$2" up -d' _ "$T_DIR/xstall" "$BERTH" 2>&1) || rc=$?
check "up -d returns (rc $rc): $out" test "$rc" -eq 0

state_of() { # state_of SERVICE: its line of `ps`, through a bounded call
    timeout 5 bash -c 'cd "$1" && "$2" ps' _ "$T_DIR/xstall" "$BERTH" 2>/dev/null | grep "xstall-$1-1" || true
}
wait_health() { # wait_health SERVICE WORD SECONDS
    local i
    for i in $(seq 1 $(($3 * 5))); do
        contains "$(state_of "$1")" "$2" && return 0
        sleep 0.2
    done
    return 1
}

# By then the stopper has had dozens of probes stopped before execve.
check "good goes healthy while the stopper stops every probe" wait_health good "(healthy)" 20
check "the probe of the FIFO container reads the host's /dev/null (healthy)" \
    wait_health fifo "(healthy)" 10

# The control socket answers. A supervisor stalled on a probe that never
# reaches execve never would: the bound is what fails then, not a timing
# (two sanitized CLI runs on a loaded host may take seconds).
rc=0
timeout 30 bash -c 'cd "$1" && "$2" pause good && "$2" unpause good' _ "$T_DIR/xstall" "$BERTH" \
    >/dev/null 2>&1 || rc=$?
check "pause and unpause answer through the control socket (rc $rc)" test "$rc" -eq 0

# The crashing service keeps being restarted.
starts() {
    timeout 5 bash -c 'cd "$1" && "$2" logs crash' _ "$T_DIR/xstall" "$BERTH" 2>/dev/null |
        grep -c crash-start || true
}
restarted() {
    local before=$1 i
    for i in $(seq 1 60); do
        [ "$(starts)" -gt "$before" ] && return 0
        sleep 0.25
    done
    return 1
}
n1=$(starts)
check "crash was restarted after the stall began (started $n1 times, then more)" restarted "$n1"

# Every command below is bounded too: one that hangs fails its check by
# name instead of stalling the whole test.
cli() { # cli SECONDS ARGS...: berth ARGS in the project, at most SECONDS
    local t=$1
    shift
    timeout "$t" bash -c 'cd "$1" && shift && "$@"' _ "$T_DIR/xstall" "$BERTH" "$@" </dev/null
}

# `berth exec` with its streams not given (detached) gets the host's
# /dev/null: cat ends at once instead of blocking on the FIFO.
rc=0
cli 30 exec -d fifo sh -c 'cat && echo done >/catdone' >/dev/null 2>&1 || rc=$?
check "exec -d into the FIFO container (rc $rc)" test "$rc" -eq 0
catdone() { cli 10 exec -T fifo cat /catdone 2>/dev/null | grep -q done; }
retry() {
    local i
    for i in $(seq 1 50); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
check "an exec'd cat reads EOF from the host's /dev/null" retry catdone
out=$(cli 30 exec -T fifo sh -c 'ls -l /dev/null' 2>&1)
expect_contains "the container's own /dev/null is its FIFO" "$out" "prw"

# `berth exec` into the stopping container: its process is stopped before
# it execs; the exec gives up instead of waiting forever.
rc=0
out=$(timeout 30 bash -c 'cd "$1" && "$2" exec -T stopper true' _ "$T_DIR/xstall" "$BERTH" \
    2>&1 </dev/null) || rc=$?
check "exec into the stopping container does not hang (rc $rc)" test "$rc" -ne 124
if [ "$rc" -ne 0 ]; then
    expect_contains "exec says why" "$out" "did not start within"
fi

note_namespaces
rc=0
out=$(cli 60 down -t 1 2>&1) || rc=$?
check "down (rc $rc): $out" test "$rc" -eq 0
finish
