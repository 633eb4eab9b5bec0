#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark (not a test): networking, each figure against a reference
# measured in the same run.
#
#   up -d of the 10-service stack of bench_supervise.sh on the project's
#   default network (a bridge, a veth and an address per container, the
#   nftables table, a DNS server per container), rounds alternating with
#   the same stack under `network_mode: none`; `down` between rounds.
#   TCP throughput of one stream of MIB MiB (net_stream.c) into a sink in
#   a container with a published port: from an "outside" host the script
#   makes (a network namespace and a veth, addresses in 10.232.0.0/16) to
#   the host's address on that veth (kernel NAT), against the same stream
#   from the host straight to the container's address (no NAT, no proxy:
#   the isolation rule drops new routed connections that are not DNAT'ed,
#   so the reference starts in the bridge's own namespace), and from the
#   host to 127.0.0.1:PORT (the published-port proxy).
#   DNS queries per second from inside a container to 127.0.0.11
#   (dns_flood.c): a service name, and a name forwarded to an upstream the
#   script runs on 127.0.0.232 (the probe's dnsserve).
# Everything made is removed at the end (projects, namespace, veth) and
# ip_forward is put back as it was. Needs root, iproute2 and a C compiler
# with a static libc (libc6-dev).
#
# Usage: bench_net.sh [BERTH_BINARY] [ROUNDS] [MIB] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
rounds=${2:-5}
mib=${3:-512}
secs=${4:-3}

work=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUNROOT=$work/run NO_COLOR=1
OUT=bn-out-$$ # the "outside" host
OUT_HOST=vbn$$
NET=10.232
UPSTREAM=127.0.0.232
fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
dns_pid=
cleanup() {
    for p in bnnet bnnone bnsink; do "$berth" -p "$p" down -t 1 >/dev/null 2>&1 || true; done
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null || true
    ip netns pids "$OUT" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$OUT" 2>/dev/null || true
    ip link del "$OUT_HOST" 2>/dev/null || true
    echo "$fwd_before" >/proc/sys/net/ipv4/ip_forward
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bin"
cc -O2 -static -D_GNU_SOURCE -o "$work/bin/net_stream" "$src/tests/bench/net_stream.c"
cc -O2 -static -D_GNU_SOURCE -o "$work/bin/dns_flood" "$src/tests/bench/dns_flood.c"
cc -O2 -static -o "$work/bin/probe" "$src/tests/fixtures/probe.c"
bash "$src/scripts/mkimage-busybox.sh" --format docker --tag busybox:latest "$work/bb.tar" >/dev/null
"$berth" load -i "$work/bb.tar" >/dev/null

# The upstream resolver for forwarded names: answers every name.
"$work/bin/probe" dnsserve "$UPSTREAM" "$NET.9.77" >/dev/null 2>&1 &
dns_pid=$!
echo "nameserver $UPSTREAM" >"$work/resolv.conf"
export BERTH_RESOLV_CONF=$work/resolv.conf

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_us() { echo "${EPOCHREALTIME/./}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# --- up -d of 10 services, default network against network_mode none ---
stack() { # stack FILE EXTRA: bench_supervise.sh's 10 services (+ EXTRA line)
    {
        echo "services:"
        for i in $(seq 1 10); do
            printf '  s%d:\n    image: busybox\n' "$i"
            printf '    command: ["sh", "-c", "trap \\"exit 0\\" TERM; while :; do sleep 1 & wait; done"]\n'
            [ -z "$2" ] || printf '    %s\n' "$2"
        done
        [ -n "$2" ] || printf 'networks:\n  default:\n    ipam:\n      config: [{subnet: %s.2.0/24}]\n' "$NET"
    } >"$1"
}
mkdir -p "$work/net" "$work/none"
stack "$work/net/compose.yaml" ""
stack "$work/none/compose.yaml" "network_mode: none"
up_net=() up_none=()
for _ in $(seq 1 "$rounds"); do
    for k in net none; do
        t0=$(now_us)
        "$berth" -f "$work/$k/compose.yaml" -p "bn$k" up -d >"$work/up.log" 2>&1 ||
            { cat "$work/up.log" >&2; echo "bench_net: up -d of bn$k failed" >&2; exit 1; }
        ms=$((($(now_us) - t0) / 1000))
        [ "$(ls "$BERTH_RUNROOT/bn$k"/*.json 2>/dev/null | wc -l)" -ge 10 ] ||
            { echo "bench_net: up -d of bn$k did not start 10 containers" >&2; exit 1; }
        "$berth" -f "$work/$k/compose.yaml" -p "bn$k" down >/dev/null 2>&1
        if [ "$k" = net ]; then up_net+=("$ms"); else up_none+=("$ms"); fi
    done
done
un=$(printf '%s\n' "${up_net[@]}" | median)
uo=$(printf '%s\n' "${up_none[@]}" | median)

# --- throughput ---
ip netns add "$OUT"
ip link add "$OUT_HOST" type veth peer name eth0 netns "$OUT"
ip addr add "$NET.9.1/24" dev "$OUT_HOST"
ip link set "$OUT_HOST" up
ip -n "$OUT" addr add "$NET.9.2/24" dev eth0
ip -n "$OUT" link set eth0 up
ip -n "$OUT" link set lo up
ip -n "$OUT" route add default via "$NET.9.1"

PORT=$((26000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
mkdir -p "$work/sink"
cat >"$work/sink/compose.yaml" <<YAML
services:
  sink:
    image: busybox
    command: ["/bench/net_stream", "sink", "5000"]
    ports: ["$PORT:5000"]
    volumes: ["$work/bin:/bench:ro"]
    stop_signal: SIGKILL
  dns:
    image: busybox
    command: ["sleep", "3600"]
    volumes: ["$work/bin:/bench:ro"]
    stop_signal: SIGKILL
networks:
  default:
    ipam:
      config: [{subnet: $NET.1.0/24}]
YAML
"$berth" -f "$work/sink/compose.yaml" -p bnsink up -d >"$work/up.log" 2>&1 ||
    { cat "$work/up.log" >&2; echo "bench_net: up -d of bnsink failed" >&2; exit 1; }
sink_ip=$("$berth" -p bnsink exec -T sink ip -4 -o addr show eth0 | awk '{sub("/.*", "", $4); print $4}')
send() { "$work/bin/net_stream" send "$@" "$mib"; }
for _ in $(seq 1 50); do send 127.0.0.1 "$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
: >"$work/nat" >"$work/direct" >"$work/proxy"
for _ in $(seq 1 "$rounds"); do
    ip netns exec "$OUT" "$work/bin/net_stream" send "$NET.9.1" "$PORT" "$mib" >>"$work/nat"
    send "$sink_ip" 5000 >>"$work/direct"
    send 127.0.0.1 "$PORT" >>"$work/proxy"
done
tn=$(median <"$work/nat")
td=$(median <"$work/direct")
tp=$(median <"$work/proxy")

# --- DNS from inside a container ---
: >"$work/qname" >"$work/qfwd"
for _ in $(seq 1 "$rounds"); do
    "$berth" -p bnsink exec -T dns /bench/dns_flood 127.0.0.11 53 sink "$secs" |
        awk '{print $2}' >>"$work/qname"
    "$berth" -p bnsink exec -T dns /bench/dns_flood 127.0.0.11 53 elsewhere.example "$secs" |
        awk '{print $2}' >>"$work/qfwd"
done
qn=$(median <"$work/qname")
qf=$(median <"$work/qfwd")

printf '\nberth network benchmark (medians of %d rounds)\n' "$rounds"
printf '  up -d, 10 services: default network %5s ms   network_mode none %5s ms   ratio %s (goal < 150 ms: %s)\n' \
    "$un" "$uo" "$(ratio "$un" "$uo")" "$([ "$un" -lt 150 ] && echo met || echo 'NOT met')"
printf '  TCP, %d MiB, one stream into a container:\n' "$mib"
printf '    outside host -> published port (kernel NAT) %6s MB/s\n' "$tn"
printf '    host -> container address (reference)       %6s MB/s\n' "$td"
printf '    host -> 127.0.0.1 published port (proxy)    %6s MB/s\n' "$tp"
printf '    ratio NAT / direct %s, proxy / direct %s (goal >= 0.90)\n' \
    "$(ratio "$tn" "$td")" "$(ratio "$tp" "$td")"
printf '  DNS from a container to 127.0.0.11 (%ss floods): service name %s answers/s, forwarded name %s answers/s (goal >= 50000)\n' \
    "$secs" "$qn" "$qf"
