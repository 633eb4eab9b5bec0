#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The attached `up` lifecycle: down from another shell, Ctrl-C (graceful,
# then forced), exit-status rules, container reuse, and the overlay rootfs
# (writes land in the container's upper dir; shared layers stay untouched).
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

wait_for() { # wait_for FILE TEXT: up to 10 s
    for _ in $(seq 1 200); do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# --- down from another shell stops and removes everything -----------------
new_project life >/dev/null <<'EOF'
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo started; exec sleep 3600"]
    stop_signal: SIGKILL
  worker:
    image: busybox
    command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo started; while :; do sleep 0.05; done"]
EOF
(cd "$T_DIR/life" && exec "$BERTH" up >"$T_DIR/life.out" 2>&1) &
uppid=$!
check "containers start" wait_for "$T_DIR/life.out" "worker-1  | started"
check "run state recorded" test -f "$BERTH_RUNROOT/life/life-web-1.json"
out=$(bz life down 2>&1) || fail "down failed: $out"
expect_contains "down stops" "$out" "Container life-web-1  Stopped"
expect_eq "down says each container stopped once" \
    "$(grep -c 'Container life-web-1  Stopped' <<<"$out")" 1
expect_contains "down removes" "$out" "Container life-worker-1  Removed"
rc=0
wait $uppid || rc=$?
expect_eq "attached up exits 0 when its containers are stopped by down" "$rc" "0"
out=$(cat "$T_DIR/life.out")
expect_contains "SIGKILL stop signal honoured" "$out" "web-1 exited with code 137"
expect_contains "SIGTERM reaches the trap" "$out" "worker-1  | bye"
check "nothing left after down" test -z "$(leaks_of life)"
check "no container directories after down" test -z "$(ls -A "$BERTH_ROOT/containers")"

# --- Ctrl-C: graceful stop with stop_signal, then SIGKILL after the grace --
new_project intr >/dev/null <<'EOF'
services:
  stubborn:
    image: busybox
    command: ["sh", "-c", "trap 'echo ignoring' TERM; echo ready; while :; do sleep 0.05; done"]
    stop_grace_period: 500ms
EOF
(cd "$T_DIR/intr" && exec "$BERTH" up >"$T_DIR/intr.out" 2>&1) &
uppid=$!
check "stubborn starts" wait_for "$T_DIR/intr.out" "ready"
start=$(date +%s%N)
kill -INT $uppid
rc=0
wait $uppid || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
out=$(cat "$T_DIR/intr.out")
expect_contains "graceful stop announced" "$out" "Gracefully stopping... (press Ctrl+C again to force)"
expect_contains "SIGTERM delivered first" "$out" "stubborn-1  | ignoring"
expect_contains "killed after the grace period" "$out" "stubborn-1 exited with code 137"
expect_eq "Ctrl-C gives exit status 130" "$rc" "130"
check "stop waited for the 500 ms grace period (took ${ms} ms)" test "$ms" -ge 400

# Up again: the stopped container is reused (same config) and keeps its
# writable layer; a second Ctrl-C kills at once.
sed -i 's/stop_grace_period: 500ms/stop_grace_period: 1m/' "$T_DIR/intr/compose.yaml"
(cd "$T_DIR/intr" && exec "$BERTH" up >"$T_DIR/intr2.out" 2>&1) &
uppid=$!
check "restarts" wait_for "$T_DIR/intr2.out" "ready"
expect_contains "config change recreates" "$(cat "$T_DIR/intr2.out")" "Recreate"
start=$(date +%s%N)
kill -INT $uppid
# The second Ctrl-C once the first is being handled (its notice printed).
check "the first Ctrl-C starts the graceful stop" wait_for "$T_DIR/intr2.out" "Gracefully stopping"
kill -INT $uppid
rc=0
wait $uppid || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "a second Ctrl-C kills at once (took ${ms} ms)" test "$ms" -lt 5000
bz intr down >/dev/null 2>&1

# --- exit status rules and reuse -------------------------------------------
new_project codes >/dev/null <<'EOF'
services:
  quick:
    image: busybox
    command: ["sh", "-c", "echo quick; exit 3"]
  slow:
    image: busybox
    command: ["sh", "-c", "sleep 30"]
    stop_signal: SIGKILL
  writer:
    image: busybox
    command: ["sh", "-c", "cat /data.txt 2>/dev/null || echo first > /data.txt; echo wrote"]
EOF
rc=0
out=$(bz codes up --abort-on-container-exit 2>&1) || rc=$?
expect_eq "--abort-on-container-exit returns the first exit code" "$rc" "3"
expect_contains "aborts on container exit" "$out" "Aborting on container exit..."
rc=0
out=$(bz codes up --exit-code-from slow 2>&1) || rc=$?
expect_eq "--exit-code-from returns that service's code" "$rc" "137"
expect_contains "unchanged containers are reused, keeping their files" "$out" "writer-1  | first"

# --- init: true — a minimal init is PID 1, forwards signals, reaps orphans
new_project withinit >/dev/null <<'EOF'
services:
  app:
    image: busybox
    init: true
    shm_size: 8m
    command:
      - sh
      - -c
      - |
        echo "pid1=$(cat /proc/1/comm)"
        echo "shm=$(df -k /dev/shm | tail -1 | awk '{print $2}')"
        (sleep 0.1 & echo $$! >/tmp/orphan)
        o=$$(cat /tmp/orphan); n=0
        while [ -e /proc/$$o ] && [ $$n -lt 200 ]; do sleep 0.05; n=$$((n + 1)); done
        if [ -e /proc/$$o ]; then echo "orphan=$$(grep State: /proc/$$o/status)"; else echo orphan=reaped; fi
        echo "zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
        echo ready
        exec sleep 3600
EOF
(cd "$T_DIR/withinit" && exec "$BERTH" up >"$T_DIR/withinit.out" 2>&1) &
uppid=$!
check "the init container starts" wait_for "$T_DIR/withinit.out" "ready"
start=$(date +%s%N)
bz withinit down >/dev/null 2>&1 || fail "down of the init container failed"
ms=$((($(date +%s%N) - start) / 1000000))
wait $uppid || true
out=$(cat "$T_DIR/withinit.out")
expect_contains "PID 1 is the init" "$out" "pid1=init"
expect_contains "shm_size sizes /dev/shm" "$out" "shm=8192"
# The orphan is waited for (up to 10 s): reaped, it is gone from /proc.
expect_contains "init_reaps_orphans: the orphan's exit is reaped" "$out" "orphan=reaped"
expect_contains "... and no zombie is left" "$out" "zombies=0"
expect_contains "the init forwards SIGTERM to the command" "$out" "app-1 exited with code 143"
check "so down is quick (${ms} ms)" test "$ms" -lt 3000

# --- colours only on a terminal --------------------------------------------
out=$(cd "$T_DIR/codes" && env -u NO_COLOR script -qec "$BERTH up quick" /dev/null 2>&1 | cat -v) ||
    fail "up quick on a terminal failed: $out"
expect_contains "prefixes are coloured on a terminal" "$out" "^[[36mquick-1  |^[[0m quick"
out=$(cd "$T_DIR/codes" && env -u NO_COLOR "$BERTH" up quick 2>&1 | cat -v) || fail "up quick piped failed: $out"
expect_contains "the piped up shows the log" "$out" "quick-1  | quick"
expect_not_contains "no colour codes when piped" "$out" "^["

# --- the overlay: writes go to the upper dir, layers stay untouched --------
cfg=$(grep -l '"name": "codes-writer-1"' "$BERTH_ROOT"/containers/*/config.json || true)
id=$(basename "$(dirname "$cfg")")
check "the write landed in the container's upper dir" test -f "$BERTH_ROOT/containers/$id/upper/data.txt"
layered=$(find "$BERTH_ROOT" -path "*/containers" -prune -o -name data.txt -print) || fail "find in the store failed"
expect_eq "the shared image layers are untouched" "$layered" ""
check "no overlay mount outlives its container" test -z "$(mount_leaks)"

# --- a detached supervisor keeps nothing its caller had open ----------------
# (the caller's locks, pipes or terminal would live as long as the project)
new_project fdkeep >/dev/null <<'EOF2'
services:
  s:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
EOF2
marker=$T_DIR/caller-fd-marker
: >"$marker"
(exec 7<"$marker" && cd "$T_DIR/fdkeep" && exec "$BERTH" up -d >/dev/null 2>&1) || fail "up -d failed"
# The supervisor must be alive for "nobody holds it" to mean anything.
sup=$(sed -n 's/.*"supervisor": \([0-9]*\).*/\1/p' "$BERTH_RUNROOT/fdkeep/fdkeep-s-1.json" 2>/dev/null || true)
check "the detached supervisor runs (pid ${sup:-none})" test -n "$sup" -a -d "/proc/${sup:-none}/fd"
holders=""
for p in /proc/[0-9]*; do
    ls -l "$p/fd" 2>/dev/null | grep -qF "$marker" && holders+=" ${p#/proc/}"
done
expect_eq "detached_supervisor_closes_inherited_fds: no process holds the caller's fd" "$holders" ""
bz fdkeep down -t 0 >/dev/null 2>&1

finish
