#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): `berth config` of a generated 500-service project
# (x- anchors with << merge keys, an override file, interpolation) against
# the floor: parsing the same YAML with libyaml and doing nothing else.
# Prints the median of RUNS runs of each and their ratio.
# Usage: bash tests/bench/bench_config.sh [BERTH] [RUNS] [SERVICES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
berth=$(realpath "${1:-build/berth}")
runs=${2:-15}
n=${3:-500}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_config.py" "$tmp/proj" "$n"
cc -O2 -o "$tmp/yaml_floor" "$here/yaml_floor.c" $(pkg-config --cflags --libs yaml-0.1)
files=("$tmp/proj/compose.yaml" "$tmp/proj/compose.override.yaml")

# one_us COMMAND...: wall time of one run, in microseconds
one_us() {
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s%N)
    echo $(((e - s) / 1000))
}
median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'; }

(cd "$tmp/proj" && "$berth" config --format json >"$tmp/out.json" 2>/dev/null)
echo "input: $(wc -c <"${files[0]}") + $(wc -c <"${files[1]}") bytes, $n services;" \
    "output: $(wc -c <"$tmp/out.json") bytes of JSON"
# The four are interleaved run by run, so that load on the (shared) machine
# falls on all of them alike.
: >"$tmp/t.floor" >"$tmp/t.yaml" >"$tmp/t.json" >"$tmp/t.quiet"
cd "$tmp/proj"
for ((i = 0; i < runs; i++)); do
    one_us "$tmp/yaml_floor" "${files[@]}" >>"$tmp/t.floor"
    one_us "$berth" config >>"$tmp/t.yaml"
    one_us "$berth" config --format json >>"$tmp/t.json"
    one_us "$berth" config -q >>"$tmp/t.quiet"
done
cd - >/dev/null
floor=$(median_ms <"$tmp/t.floor")
yaml=$(median_ms <"$tmp/t.yaml")
json=$(median_ms <"$tmp/t.json")
quiet=$(median_ms <"$tmp/t.quiet")
echo "libyaml parse only (floor):     $floor ms"
echo "berth config -q (load only):    $quiet ms"
echo "berth config (load + YAML):     $yaml ms"
echo "berth config --format json:     $json ms"
awk -v f="$floor" -v y="$yaml" -v q="$quiet" \
    -v j="$json" 'BEGIN {printf "ratio to the floor: %.2fx (config), %.2fx (json), %.2fx (load only)\n", y / f, j / f, q / f}'
