#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth port` and the ports in `ps`, from the bindings the supervisor
# made: a random host port ("80") reported by `port` and reachable there
# on 127.0.0.1; a UDP port on 127.0.0.1 with --protocol udp; an exposed
# port that is not published (docker compose's error, exit 1); `ps`'s
# PORTS column and `ps --format json`'s Publishers, Ports and Networks.
# Not here: the proxy and NAT themselves (test_net_bridge.sh). Traffic
# goes only to 127.0.0.1.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
# jq-free JSON: jfield FIELD reads one ps --format json line on stdin and
# prints the field (a string as is, anything else as compact JSON).
jfield() {
    python3 -c 'import json, sys
v = json.loads(sys.stdin.readline())[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1"
}
load_image probe.tar

PU=$((22000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
new_project portp >/dev/null <<EOF2
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-port > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["80", "127.0.0.1:$PU:9000/udp"]
    expose: ["81"]
    stop_signal: SIGKILL
networks:
  default:
    ipam:
      config: [{subnet: 10.$((240 + $$ % 15)).1.0/24}]
EOF2
out=$(bz portp up -d 2>&1) || fail "up -d failed: $out"

# port: the random host port, and the page through it.
hp=$(bz portp port web 80 2>&1) || fail "port web 80 failed: $hp"
check "port web 80 is 0.0.0.0:PORT ($hp)" bash -c "[[ '$hp' =~ ^0\.0\.0\.0:[0-9]+\$ ]]"
n=${hp#0.0.0.0:}
check "the random port is not 0 or 80 ($n)" test "$n" -gt 0 -a "$n" -ne 80
check "web answers" wait_until 10 timeout 2 busybox wget -qO- "http://127.0.0.1:$n/"
expect_eq "the page through the reported port" \
    "$(timeout 5 busybox wget -qO- "http://127.0.0.1:$n/" 2>&1)" hello-port
expect_eq "port --protocol udp" "$(bz portp port --protocol udp web 9000 2>&1)" "127.0.0.1:$PU"

# A port that is not published: docker compose's error and exit 1.
rc=0
out=$(bz portp port web 81 2>&1) || rc=$?
expect_eq "port of an unpublished port exits 1" "$rc" 1
expect_contains "docker compose's message" "$out" \
    "no port 81/tcp for container portp-web-1: $n/tcp, $PU/udp, 0/tcp"
rc=0
out=$(bz portp port --protocol udp web 80 2>&1) || rc=$?
expect_eq "tcp 80 is not udp 80" "$rc" 1
rc=0
out=$(bz portp port web notaport 2>&1) || rc=$?
expect_eq "a port that is no number is a usage error" "$rc" 2

# ps: the PORTS column.
out=$(bz portp ps 2>&1)
expect_contains "ps PORTS" "$out" "0.0.0.0:$n->80/tcp, 127.0.0.1:$PU->9000/udp, 81/tcp"

# ps --format json: Publishers, Ports, Networks.
js=$(bz portp ps --format json 2>&1)
expect_eq "json Publishers" "$(jfield Publishers <<<"$js" 2>&1)" \
    "[{\"URL\":\"0.0.0.0\",\"TargetPort\":80,\"PublishedPort\":$n,\"Protocol\":\"tcp\"},{\"URL\":\"127.0.0.1\",\"TargetPort\":9000,\"PublishedPort\":$PU,\"Protocol\":\"udp\"},{\"URL\":\"\",\"TargetPort\":81,\"PublishedPort\":0,\"Protocol\":\"tcp\"}]"
expect_eq "json Ports" "$(jfield Ports <<<"$js" 2>&1)" \
    "0.0.0.0:$n->80/tcp, 127.0.0.1:$PU->9000/udp, 81/tcp"
expect_eq "json Networks" "$(jfield Networks <<<"$js" 2>&1)" "portp_default"

# Stopped: no bindings any more; the exposed port is still shown.
bz portp stop -t 1 >/dev/null 2>&1 || fail "stop failed"
expect_eq "ps -a after stop: only the exposed port" \
    "$(bz portp ps -a --format json 2>&1 | jfield Ports 2>&1)" "81/tcp"
rc=0
out=$(bz portp port web 80 2>&1) || rc=$?
expect_eq "port of a stopped container exits 1" "$rc" 1

bz portp down -t 1 >/dev/null 2>&1 || fail "down failed"
finish
