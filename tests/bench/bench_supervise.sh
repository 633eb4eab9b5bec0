#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): the supervisor.
#
#   up -d of 1, 10 and 50 services (`sleep` on the busybox image) until all
#   run (up -d returns once every container has started), `down` of them
#   (stop_signal SIGTERM honoured: `init`-less sleep ignores it as PID 1, so
#   the services trap it), and the supervisor's resident memory with 50
#   containers. When podman-compose is installed (Debian packages podman,
#   podman-compose), the same stacks through it in the same run, for the
#   ratio.
#
# Usage: bench_supervise.sh [BERTH_BINARY] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
rounds=${2:-5}

work=$(mktemp -d /tmp/berth-bench-sv.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run NO_COLOR=1
cleanup() {
    for n in 1 10 50; do "$berth" -p "bench$n" down -t 1 >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

bash "$src/scripts/mkimage-busybox.sh" --format docker --tag busybox:latest "$work/bb.tar"
"$berth" load -i "$work/bb.tar" >/dev/null

stack() { # stack N FILE: N services that honour SIGTERM
    {
        echo "services:"
        for i in $(seq 1 "$1"); do
            printf '  s%d:\n    image: busybox\n' "$i"
            printf '    command: ["sh", "-c", "trap \\"exit 0\\" TERM; while :; do sleep 1 & wait; done"]\n'
        done
    } >"$2"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_us() { echo "${EPOCHREALTIME/./}"; }

declare -A up_ms down_ms
rss_kb=0
for n in 1 10 50; do
    mkdir -p "$work/s$n"
    stack "$n" "$work/s$n/compose.yaml"
    ups=() downs=()
    for r in $(seq 1 "$rounds"); do
        t0=$(now_us)
        "$berth" -f "$work/s$n/compose.yaml" -p "bench$n" up -d >/dev/null 2>&1
        ups+=($((($(now_us) - t0) / 1000)))
        if [ "$n" = 50 ] && [ "$r" = 1 ]; then
            sup=$(sed -n 's/.*"supervisor": \([0-9]*\).*/\1/p' "$BERTH_RUNROOT/bench50/bench50-s1-1.json")
            rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$sup/status")
        fi
        t0=$(now_us)
        "$berth" -f "$work/s$n/compose.yaml" -p "bench$n" down >/dev/null 2>&1
        downs+=($((($(now_us) - t0) / 1000)))
    done
    up_ms[$n]=$(printf '%s\n' "${ups[@]}" | median)
    down_ms[$n]=$(printf '%s\n' "${downs[@]}" | median)
done

printf '\nberth supervisor benchmark (%d rounds, medians)\n' "$rounds"
for n in 1 10 50; do
    printf '  %2d services: up -d %6s ms   down %6s ms\n' "$n" "${up_ms[$n]}" "${down_ms[$n]}"
done
printf '  supervisor RSS with 50 containers: %s kB\n' "$rss_kb"

if command -v podman-compose >/dev/null 2>&1 && command -v podman >/dev/null 2>&1; then
    # Stock podman fails on these machines: it raises RLIMIT_NOFILE/NPROC
    # above the hard limits. Run it with runc and cgroupfs (crun refuses the
    # hybrid cgroup layout) and with ulimits within the limits.
    printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n' \
        >"$work/containers.conf"
    export CONTAINERS_CONF=$work/containers.conf
    podman load -i "$work/bb.tar" >/dev/null 2>&1 || true
    for n in 1 10; do
        mkdir -p "$work/p$n"
        {
            echo "services:"
            for i in $(seq 1 "$n"); do
                printf '  s%d:\n    image: busybox\n' "$i"
                printf '    command: ["sh", "-c", "trap \\"exit 0\\" TERM; while :; do sleep 1 & wait; done"]\n'
                printf '    ulimits:\n      nofile: 1024\n      nproc: 1024\n'
            done
        } >"$work/p$n/compose.yaml"
        t0=$(now_us)
        (cd "$work/p$n" && podman-compose -p "pbench$n" up -d >/dev/null 2>&1) || true
        pup=$((($(now_us) - t0) / 1000))
        running=$(podman ps -q --filter "label=io.podman.compose.project=pbench$n" | wc -l)
        t0=$(now_us)
        (cd "$work/p$n" && podman-compose -p "pbench$n" down >/dev/null 2>&1) || true
        pdown=$((($(now_us) - t0) / 1000))
        if [ "$running" = "$n" ]; then
            printf '  podman-compose %2d services: up -d %6s ms (%.0fx berth)   down %6s ms (%.0fx)\n' \
                "$n" "$pup" "$(echo "$pup/${up_ms[$n]}" | bc -l)" "$pdown" \
                "$(echo "$pdown/(${down_ms[$n]}+0.001)" | bc -l)"
        else
            echo "  podman-compose could not run the $n-service stack on this machine ($running running)"
        fi
    done
    podman rmi -f localhost/busybox:latest >/dev/null 2>&1 || true
else
    echo "  (podman-compose not installed: apt-get install podman podman-compose runc for the ratio)"
fi
