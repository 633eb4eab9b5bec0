#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Published-port proxy throughput: one TCP stream over loopback, straight
# to a sink and through engine/supervise/sv_proxy, in alternating rounds
# (proxy_stream.c). Usage: bench_proxy.sh [MIB [ROUNDS]] (default 1024 5).
# Builds its own binary from the sources (no root, no containers).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -D_GNU_SOURCE -I"$src" -o "$tmp/proxy_stream" "$src/tests/bench/proxy_stream.c" \
    "$src/engine/supervise/sv_proxy.c" "$src/net/portholder.c" "$src/util/err.c" \
    "$src/util/xalloc.c" $(pkg-config --cflags --libs libuv) -lpthread
"$tmp/proxy_stream" "${1:-1024}" "${2:-5}"
