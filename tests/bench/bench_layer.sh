#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): a build step's directory made into a layer
# (image_layer_from_dir: tar, DiffID, gzip into a blob, the tree renamed
# into the store) on a 50 MB mixed tree: about 20 MB of shared libraries,
# 20 MB of text (headers, docs, perl modules) in many small files and
# 5 MB of random bytes, taken from this machine's /usr in name order.
# Prints each round's seconds and peak RSS, then the medians.
# Usage: bash tests/bench/bench_layer.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$src/build}")
rounds=${2:-5}
cmake --build "$build" --target bench-layer-dir >/dev/null
bin=$build/tests/bench-layer-dir

work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-layer.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"

# take DIR PATTERN BYTES: copies files under DIR matching PATTERN, in name
# order, until BYTES are copied.
take() {
    local left=$3
    while IFS= read -r f; do
        [ "$left" -gt 0 ] || break
        local n
        n=$(stat -c %s "$f")
        mkdir -p "$tree$(dirname "$f")"
        cp -a "$f" "$tree$f"
        left=$((left - n))
    done < <(find "$1" -type f -name "$2" 2>/dev/null | LC_ALL=C sort)
}
take /usr/lib/x86_64-linux-gnu '*.so*' $((20 << 20))
take /usr/include '*.h' $((10 << 20))
take /usr/share/perl '*.pm' $((10 << 20))
mkdir -p "$tree/random"
for i in $(seq 1 5); do head -c $((1 << 20)) /dev/urandom >"$tree/random/r$i"; done
echo "tree: $(du -sb "$tree" | cut -f1) bytes, $(find "$tree" | wc -l) entries"

secs=() rss=()
for _ in $(seq 1 "$rounds"); do
    out=$("$bin" "$work/store" "$tree")
    echo "$out"
    secs+=("$(echo "$out" | awk '{print $2}')")
    rss+=("$(echo "$out" | awk '{print $4}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median: $(median "${secs[@]}") s, peak RSS $(median "${rss[@]}") KiB"

# The reference in the same run: GNU tar piped into gzip -1 and sha256sum
# of the same tree (what a shell script doing the same would cost).
ref=()
for _ in $(seq 1 "$rounds"); do
    t0=$(date +%s.%N)
    tar -C "$tree" -cf - . | tee >(sha256sum >/dev/null) | gzip -1 >"$work/ref.tar.gz"
    ref+=("$(echo "$(date +%s.%N) - $t0" | bc)")
done
echo "reference tar | gzip -1: median $(median "${ref[@]}") s, $(stat -c %s "$work/ref.tar.gz") bytes"
