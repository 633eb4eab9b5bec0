#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): start-up cost of two berth binaries built two
# ways, e.g. libarchive and libcrypto linked statically (BERTH_STATIC_HEAVY
# on, the default) against dynamically (off). Each round runs every
# command once with each binary, alternating, so both see the same
# machine; the medians and the ratio B / A are printed per command.
#
#   `version`          exec, dynamic linking, main, exit;
#   `config -q`        plus reading and validating a small compose file;
#   `ps`               plus opening the store and the run state of a
#                      project that has no containers.
#
# Usage: bench_link.sh BERTH_A BERTH_B [ROUNDS]   (default 200)
#   cmake -S . -B build-dyn -G Ninja -DBERTH_STATIC_HEAVY=OFF && cmake --build build-dyn
#   bash tests/bench/bench_link.sh build/berth build-dyn/berth
set -euo pipefail
a=$(realpath "${1:?usage: bench_link.sh BERTH_A BERTH_B [ROUNDS]}")
b=$(realpath "${2:?usage: bench_link.sh BERTH_A BERTH_B [ROUNDS]}")
n=${3:-200}

work=$(mktemp -d /tmp/berth-bench-link.XXXXXX)
trap 'rm -rf "$work"' EXIT
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run NO_COLOR=1
printf 'services:\n  web:\n    image: busybox\n    command: ["sleep", "1"]\n    ports: ["8080:80"]\n  db:\n    image: busybox\n    depends_on: [web]\n' \
    >"$work/compose.yaml"
cd "$work"

cmds=("version" "config -q" "ps")
declare -A times
# time_us BINARY ARGS...: wall time of one run, in microseconds.
time_us() {
    local t0=${EPOCHREALTIME/./}
    "$@" >/dev/null 2>&1 || true
    echo $((${EPOCHREALTIME/./} - t0))
}
for bin in "$a" "$b"; do for c in "${cmds[@]}"; do
    read -ra args <<<"$c"
    "$bin" "${args[@]}" >/dev/null 2>&1 || { echo "$bin ${args[*]} failed" >&2; exit 1; }
done; done
for ((i = 0; i < n; i++)); do
    for c in "${cmds[@]}"; do
        read -ra args <<<"$c"
        times[A $c]+="$(time_us "$a" "${args[@]}") "
        times[B $c]+="$(time_us "$b" "${args[@]}") "
    done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
printf 'start-up, %d rounds interleaved, medians\n  A = %s\n  B = %s\n' "$n" "$a" "$b"
for c in "${cmds[@]}"; do
    ma=$(median <<<"${times[A $c]}")
    mb=$(median <<<"${times[B $c]}")
    printf '  %-10s A %7.2f ms   B %7.2f ms   B/A %5.2f\n' "$c" "$(echo "$ma / 1000" | bc -l)" \
        "$(echo "$mb / 1000" | bc -l)" "$(echo "$mb / $ma" | bc -l)"
done
