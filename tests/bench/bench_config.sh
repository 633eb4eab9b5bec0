#!/usr/bin/env bash
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

median_ms() { # command...: median wall time of $runs runs, in ms
    local t=()
    for ((i = 0; i < runs; i++)); do
        local s e
        s=$(date +%s%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s%N)
        t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

(cd "$tmp/proj" && "$berth" config --format json >"$tmp/out.json" 2>/dev/null)
echo "input: $(wc -c <"${files[0]}") + $(wc -c <"${files[1]}") bytes, $n services;" \
    "output: $(wc -c <"$tmp/out.json") bytes of JSON"
floor=$(median_ms "$tmp/yaml_floor" "${files[@]}")
yaml=$(cd "$tmp/proj" && median_ms "$berth" config)
json=$(cd "$tmp/proj" && median_ms "$berth" config --format json)
quiet=$(cd "$tmp/proj" && median_ms "$berth" config -q)
echo "libyaml parse only (floor):     $floor ms"
echo "berth config -q (load only):    $quiet ms"
echo "berth config (load + YAML):     $yaml ms"
echo "berth config --format json:     $json ms"
awk -v f="$floor" -v y="$yaml" -v q="$quiet" \
    'BEGIN {printf "ratio to the floor: %.2fx (config), %.2fx (load only)\n", y / f, q / f}'
