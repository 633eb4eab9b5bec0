#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): queries per second of the embedded DNS server
# (engine/supervise/sv_dns.h) on 127.0.0.1, a known name answered from its
# lookup, against the reference measured in the same run: the same client
# against a plain libuv UDP echo loop (the floor of any server on one
# loop). Rounds alternate between the two, so that load on the shared
# machine falls on both alike; prints the medians and their ratio. The
# issue's goal is >= 50,000 queries/s.
# Usage: bash tests/bench/bench_dns.sh [BUILD_DIR] [ROUNDS] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$src/build}")
rounds=${2:-5}
secs=${3:-3}
cmake --build "$build" --target bench-dns >/dev/null
serve=$build/tests/bench-dns-serve
flood=$build/tests/bench-dns-flood

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench-dns.XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# one MODE FIELD: starts the server, floods it, prints replies/s (FIELD 1)
# or NOERROR answers/s (FIELD 2)
one() {
    "$serve" "$1" >"$work/port" &
    pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    local out
    out=$("$flood" 127.0.0.1 "$(cat "$work/port")" web "$secs")
    kill "$pid" && wait "$pid" || true
    pid=
    : >"$work/port"
    echo "$out" >&2
    echo "$out" | awk -v f="$2" '{print $f}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/dns" >"$work/echo"
for ((i = 0; i < rounds; i++)); do
    one echo 1 >>"$work/echo"
    one dns 2 >>"$work/dns"
done
dns=$(median <"$work/dns")
echo=$(median <"$work/echo")
echo "embedded DNS, known name (A): $dns queries/s (median of $rounds x ${secs}s)"
echo "reference, UDP echo loop:     $echo datagrams/s"
awk -v a="$dns" -v b="$echo" 'BEGIN {printf "ratio DNS / echo: %.2f; goal >= 50000 queries/s: %s\n", a / b, (a >= 50000 ? "met" : "NOT met")}'
