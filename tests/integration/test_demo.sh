#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Quick start's demo stack (examples/demo) runs as the README shows it:
# every service's output, clean exits, and no warning about its file.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

new_project demo <"$BERTH_SRC/examples/demo/compose.yaml" >/dev/null
rc=0
out=$(bz demo up 2>&1) || rc=$?
expect_eq "the demo's up returns 0" "$rc" "0"
# (IP forwarding turned on is said once on a host where it was off: not
# about the file)
expect_not_contains "no warning about the demo's file" \
    "$(printf '%s\n' "$out" | grep -v 'forwarding was off')" "warning"
expect_contains "hello runs in its own PID namespace" "$out" "PID 1 here is: sh"
expect_contains "its own network namespace: loopback and a veth" "$out" "network interfaces: eth0 lo"
expect_contains "the counter counts" "$out" "counter-1  | tick 3"
expect_contains "limits runs as its user" "$out" "running as app in /home/app"
expect_contains "with its memory limit" "$out" "memory limit: 67108864"
expect_contains "and its pids limit" "$out" "pids limit: 100"
for s in hello counter limits; do
    expect_contains "$s exits cleanly" "$out" "$s-1 exited with code 0"
done
out=$(bz demo down 2>&1) || fail "the demo's down failed: $out"

finish
