#!/usr/bin/env bash
# What runs as a container's first process, and what it is left with: it
# dies with its supervisor whatever its user (F03 as designed here: no
# container outlives a supervisor killed with SIGKILL); resource limits are
# Docker's, not berth's own.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

wait_for() { # wait_for SECONDS COMMAND...: until the command succeeds
    local t=$1
    shift
    for _ in $(seq 1 $((t * 20))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

field_of() { # field_of PROJECT CONTAINER FIELD: a number from the run state
    sed -n "s/.*\"$3\": \\([0-9]*\\).*/\\1/p" "$BERTH_RUNROOT/$1/$2.json"
}

procs_of() { # procs_of PROJECT: every process in the project's cgroups
    local c
    for c in /sys/fs/cgroup/*/berth/"$1" /sys/fs/cgroup/berth/"$1"; do
        [ -d "$c" ] && find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
    return 0
}

no_procs() { [ -z "$(procs_of "$1")" ]; }

uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# --- pdeathsig_nonroot_survives (F03): non-root containers, with and
# without init, and a non-root exec'd process all end with the supervisor --
new_project pid1orphan >/dev/null <<'YAML'
services:
  plain:
    image: berth-test/probe
    user: "1000"
    command: ["sleep", "3600"]
  withinit:
    image: berth-test/probe
    user: "1000"
    init: true
    command: ["sleep", "3600"]
  root:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
YAML
out=$(bz pid1orphan up -d 2>&1) || fail "up -d failed: $out"
bz pid1orphan exec -d -u 1000 root sleep 3600 || fail "exec -d failed"
sup=$(field_of pid1orphan pid1orphan-plain-1 supervisor)
check "the supervisor is known" test -n "$sup" -a -d "/proc/$sup"
n=$(procs_of pid1orphan | wc -l)
check "the project's processes run (saw $n)" test "$n" -ge 5
for c in plain withinit; do
    expect_eq "$c runs as uid 1000" "$(uid_of "$(field_of pid1orphan "pid1orphan-$c-1" pid)")" "1000"
done
kill -9 "$sup"
if wait_for 5 no_procs pid1orphan; then
    pass
else
    fail "pdeathsig_nonroot_survives: processes outlived the supervisor:"
    for p in $(procs_of pid1orphan); do
        say "    | $p uid $(uid_of "$p") $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
fi
out=$(bz pid1orphan down -t 1 2>&1) || fail "down after a killed supervisor failed: $out"
expect_contains "down cleans up after it" "$out" "Container pid1orphan-plain-1  Removed"

# --- resource limits: Docker's, capped by the host's hard limits, not
# berth's own soft ones --------------------------------------------------------
new_project pid1limits >/dev/null <<'YAML'
services:
  lim:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
YAML
hn=$(ulimit -Hn)
if [ "$hn" = unlimited ] || [ "$hn" -gt 1048576 ]; then want_n=1048576; else want_n=$hn; fi
hu=$(ulimit -Hu)
hc=$(ulimit -Hc)
out=$(cd "$T_DIR/pid1limits" && prlimit --nofile=256:"$hn" --core=0:"$hc" --nproc=500:"$hu" \
    "$BERTH" up -d 2>&1) || fail "up -d under lowered soft limits failed: $out"
limits() { # limits FILE-IN-CONTAINER: "files soft hard, procs soft hard, core soft hard"
    bz pid1limits exec -T lim cat "$1" | awk '
        /^Max open files/ {f=$4" "$5} /^Max processes/ {p=$3" "$4} /^Max core/ {c=$5" "$6}
        END {print f", "p", "c}'
}
want="$want_n $want_n, $hu $hu, $hc $hc"
expect_eq "the container's limits are Docker's (nofile min(1048576, hard))" "$(limits /proc/1/limits)" "$want"
out=$(cd "$T_DIR/pid1limits" && prlimit --nofile=256:"$hn" "$BERTH" exec -T lim cat /proc/self/limits |
    awk '/^Max open files/ {print $4" "$5}')
expect_eq "an exec'd process's too" "$out" "$want_n $want_n"
bz pid1limits down -t 1 >/dev/null 2>&1 || fail "down failed"

finish
