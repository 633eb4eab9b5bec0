#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): the start of one container with userns_mode:
# auto (a user namespace, a range of IDs taken and freed, idmapped layers)
# against the same container without, in the same run, interleaved:
# `berth run --rm SERVICE true`, which creates the container, starts it,
# reaps it and removes it (and with auto frees its range). Goal: the
# remapped start under 2x the plain one. Beside them, for information, the
# path of file systems without idmapped mounts (BERTH_USERNS_LAYERS=copy):
# each such run --rm gets a fresh range, so each pays the copy of the
# layers, the cost of a first start there. Where podman runs here, `podman
# run --rm --userns=auto` and `podman run --rm` of the same image go in the
# same loop; it is skipped, with its error, where it fails (this host's
# open-files and process limits, or no `containers` entry in /etc/subuid,
# which the benchmark never adds).
#
# The subordinate ID files are the benchmark's own (BERTH_SUBUID_FILE).
#
# Usage: bench_userns.sh [BERTH_BINARY] [ITERATIONS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
n=${2:-30}

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run NO_COLOR=1
export BERTH_SUBUID_FILE=$work/subuid BERTH_SUBGID_FILE=$work/subgid
pod=(podman --root "$work/pod/root" --runroot "$work/pod/run" --runtime runc
    --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    (cd "$work/p" 2>/dev/null && "$berth" down -t 0 >/dev/null 2>&1) || true
    command -v podman >/dev/null && "${pod[@]}" rm -af >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

bash "$src/scripts/mkimage-busybox.sh" --format docker --tag busybox:latest "$work/bb.tar" >/dev/null
"$berth" load -i "$work/bb.tar" >/dev/null
mkdir -p "$work/p"
cat >"$work/p/compose.yaml" <<'EOF'
services:
  plain:
    image: busybox
    command: ["true"]
    network_mode: none
  auto:
    image: busybox
    command: ["true"]
    network_mode: none
    userns_mode: auto
EOF

now_us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timed() { # timed OUTFILE CMD...: appends the command's wall time in µs
    local out=$1 t0 t1
    shift
    t0=$(now_us)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    t1=$(now_us)
    echo $((t1 - t0)) >>"$out"
}

b() { (cd "$work/p" && "$berth" "$@"); }
# Warm-up, and the check that each mode does what it says.
b run --rm plain true >/dev/null
map=$(b run --rm auto cat /proc/self/uid_map)
case $map in *" 65536"*) ;; *) echo "userns_mode auto did not map: $map" >&2; exit 1 ;; esac

podman_ok=""
if command -v podman >/dev/null; then
    "${pod[@]}" load -i "$work/bb.tar" >/dev/null 2>&1 || true
    if err=$("${pod[@]}" run --rm --network none busybox true 2>&1) &&
        err=$("${pod[@]}" run --rm --network none --userns=auto busybox true 2>&1); then
        podman_ok=1
    else
        echo "podman: skipped here: $(grep -m1 -i 'error' <<<"$err" || echo "$err" | head -1)" >&2
    fi
else
    echo "podman: skipped: not installed" >&2
fi

for _ in $(seq 1 "$n"); do
    timed "$work/t.plain" b run --rm plain true
    timed "$work/t.auto" b run --rm auto true
    BERTH_USERNS_LAYERS=copy timed "$work/t.copy" b run --rm auto true
    if [ -n "$podman_ok" ]; then
        timed "$work/t.pplain" "${pod[@]}" run --rm --network none busybox true
        timed "$work/t.pauto" "${pod[@]}" run --rm --network none --userns=auto busybox true
    fi
done

mp=$(median <"$work/t.plain")
ma=$(median <"$work/t.auto")
printf 'berth run --rm, %d runs each, median wall time:\n' "$n"
printf '  plain                 %8.1f ms\n' "$(echo "$mp / 1000" | bc -l)"
printf '  userns_mode: auto     %8.1f ms   (%.2fx plain; goal < 2x)\n' \
    "$(echo "$ma / 1000" | bc -l)" "$(echo "$ma / $mp" | bc -l)"
mc=$(median <"$work/t.copy")
printf '  auto, copied layers   %8.1f ms   (%.2fx plain; the copy made at each start)\n' \
    "$(echo "$mc / 1000" | bc -l)" "$(echo "$mc / $mp" | bc -l)"
if [ -n "$podman_ok" ]; then
    pp=$(median <"$work/t.pplain")
    pa=$(median <"$work/t.pauto")
    printf 'podman run --rm (runc):\n'
    printf '  plain                 %8.1f ms\n' "$(echo "$pp / 1000" | bc -l)"
    printf '  --userns=auto         %8.1f ms   (%.2fx plain; %.2fx berth auto)\n' \
        "$(echo "$pa / 1000" | bc -l)" "$(echo "$pa / $pp" | bc -l)" "$(echo "$pa / $ma" | bc -l)"
fi
[ "$(ls -A "$BERTH_ROOT/containers")" = "" ] || echo "warning: containers left in the store" >&2
