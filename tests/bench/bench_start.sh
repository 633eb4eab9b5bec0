#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): container start-up, berth against crun, in the
# same run on the same rootfs.
#
#   1. one container running `true`: `berth up` (compose file → image →
#      container → reaped → up exits) against `crun run` of the same rootfs
#      with a cgroup;
#   2. `berth up` of 10 services (`sleep 3600`) until all 10 run (the
#      "Attaching to" line, printed once every container has exec'd).
#
# crun 1.8 refuses this host's hybrid cgroup layout, so it runs in a mount
# namespace whose /sys/fs/cgroup is a plain cgroup2 mount (its container
# still gets a cgroup there), without device rules (its eBPF device filter
# needs a MEMLOCK limit this sandbox does not allow).
#
# Usage: bench_start.sh [BERTH_BINARY] [ITERATIONS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
n=${2:-30}
command -v crun >/dev/null || { echo "crun missing: apt-get install crun" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run NO_COLOR=1
cleanup() {
    for p in one ten; do (cd "$work/$p" 2>/dev/null && "$berth" down -t 0 >/dev/null 2>&1) || true; done
    rm -rf "$work"
}
trap cleanup EXIT

bash "$src/scripts/mkimage-busybox.sh" --format docker --tag busybox:latest "$work/bb.tar"
"$berth" load -i "$work/bb.tar" >/dev/null

# The same rootfs for crun: the image's unpacked layer, copied.
layer=$(find "$BERTH_ROOT" -maxdepth 3 -type d -path '*/layers/*' -name '[0-9a-f]*' | head -1)
mkdir -p "$work/crun"
cp -a "$layer" "$work/crun/rootfs"
[ -x "$work/crun/rootfs/bin/busybox" ] || cp -a "$layer"/diff "$work/crun/rootfs" 2>/dev/null || true
(cd "$work/crun" && crun spec)
python3 - "$work/crun/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["process"].pop("rlimits", None)
c["linux"].pop("resources", None)
c["linux"]["cgroupsPath"] = "/berth-bench/crun"
c["root"]["readonly"] = False
json.dump(c, open(p, "w"))
EOF

mkdir -p "$work/one" "$work/ten"
printf 'services:\n  t:\n    image: busybox\n    command: ["true"]\n' >"$work/one/compose.yaml"
{
    echo "services:"
    for i in $(seq 1 10); do
        printf '  s%d:\n    image: busybox\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' "$i"
    done
} >"$work/ten/compose.yaml"

now_us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Warm-up (page cache, first container creation). Both commands are timed
# the same way: a fork and exec from this shell, nothing else.
"$berth" -f "$work/one/compose.yaml" up >/dev/null 2>&1
unshare -m sh -c "mount -t cgroup2 none /sys/fs/cgroup && cd $work/crun && crun run warm >/dev/null"

# Interleaved: one berth run, then one crun run, so that both see the same
# machine (these machines are noisy). crun runs from a helper shell that
# stays in its mount namespace; each side times its own fork + exec.
coproc CRUN {
    unshare -m bash -c "
        mount -t cgroup2 none /sys/fs/cgroup
        cd '$work/crun'
        while read -r i; do
            t0=\${EPOCHREALTIME/./}
            crun run b\$i >/dev/null
            echo \$((\${EPOCHREALTIME/./} - t0))
        done"
}
berth_one=() crun_one=()
for i in $(seq 1 "$n"); do
    t0=${EPOCHREALTIME/./}
    "$berth" -f "$work/one/compose.yaml" up >/dev/null 2>&1
    berth_one+=($((${EPOCHREALTIME/./} - t0)))
    echo "$i" >&"${CRUN[1]}"
    read -r t <&"${CRUN[0]}"
    crun_one+=("$t")
done
exec {CRUN[1]}>&-
wait "$CRUN_PID" 2>/dev/null || true
rmdir /sys/fs/cgroup/unified/berth-bench 2>/dev/null || true

ten=()
for i in $(seq 1 $((n / 3 > 3 ? n / 3 : 3))); do
    fifo=$work/ten.fifo
    rm -f "$fifo"
    mkfifo "$fifo"
    t0=$(now_us)
    (cd "$work/ten" && exec "$berth" up >"$fifo" 2>/dev/null) &
    up=$!
    while read -r line; do
        case "$line" in "Attaching to"*) break ;; esac
    done <"$fifo"
    ten+=($(($(now_us) - t0)))
    kill -INT $up
    cat "$fifo" >/dev/null
    wait $up || true
done

b1=$(printf '%s\n' "${berth_one[@]}" | median)
c1=$(printf '%s\n' "${crun_one[@]}" | median)
t10=$(printf '%s\n' "${ten[@]}" | median)
printf '\nberth start benchmark (%d runs, medians)\n' "$n"
printf '  berth up, 1 container running true, to exit:   %6.1f ms\n' "$(echo "$b1/1000" | bc -l)"
printf '  crun run, same rootfs, with a cgroup:           %6.1f ms\n' "$(echo "$c1/1000" | bc -l)"
printf '  ratio berth / crun:                             %6.2f\n' "$(echo "$b1/$c1" | bc -l)"
printf '  berth up, 10 services, until all 10 running:    %6.1f ms\n' "$(echo "$t10/1000" | bc -l)"
