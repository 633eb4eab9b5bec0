#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A supervisor killed with SIGKILL takes its containers' namespaces and
# veths with it (their fds die with it); the next `down` removes what is
# left: the project's bridge, its nftables table, its records. Only
# 127.0.0.1 traffic.
. "$(dirname "$0")/lib.sh"

load_image probe.tar
P=$((18000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
new_project nk >/dev/null <<EOF
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo up > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1:$P:80"]
    stop_signal: SIGKILL
networks:
  default:
    ipam:
      config: [{subnet: 10.$((100 + $$ % 100)).201.0/24}]
EOF
out=$(bz nk up -d 2>&1) || fail "up -d failed: $out"
check "the port answers" wait_until 10 timeout 3 busybox wget -qO- "http://127.0.0.1:$P/"
bridge=$(sed -n 's/.*"bridge": "\(br-[0-9a-f]*\)".*/\1/p' "$BERTH_ROOT"/network/nets/nk_default.json) || true
check "the network has a bridge" test -n "$bridge"
check "the container's veth is on it" test -n "$(ls "/sys/class/net/$bridge/brif" 2>/dev/null)"
sup=$(pid_of_state "$BERTH_RUNROOT/nk/nk-web-1.json" supervisor) || fail "no supervisor in the run state"
ctr=$(pid_of_state "$BERTH_RUNROOT/nk/nk-web-1.json") || fail "no container in the run state"
kill -9 "$sup"
# (the container dies with it: PR_SET_PDEATHSIG; its zombie waits for a reaper)
gone() { [ ! -e "/proc/$ctr" ]; }
check "the container went with its supervisor" wait_until 10 gone
veths_gone() { [ -z "$(ls "/sys/class/net/$bridge/brif" 2>/dev/null)" ]; }
check "the veths went with the supervisor" wait_until 10 veths_gone
out=$(timeout 3 busybox wget -qO- "http://127.0.0.1:$P/" 2>&1) && fail "the port still answers: $out" || pass
bz nk down -t 1 >/dev/null 2>&1 || fail "down after SIGKILL failed"
check "down removed the bridge" bash -c "! ip link show $bridge >/dev/null 2>&1"
check "and the network's record" test ! -e "$BERTH_ROOT/network/nets/nk_default.json"
check "and every address" bash -c "! grep -q nk- '$BERTH_ROOT/network/ipam.json'"
finish
