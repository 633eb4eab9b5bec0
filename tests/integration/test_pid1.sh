#!/usr/bin/env bash
# What a container's first process is left with: resource limits are
# Docker's, not berth's own.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

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
