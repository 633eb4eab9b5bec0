#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Networking's bad input (issue 11): each gives one clear line naming the
# service, the network and the file's line, a non-zero exit, and nothing
# half-made (no bridge, veth, nftables table, network record, ipam
# address or container). Also a service's compose `dns:` servers: its
# queries that are not berth's go there, the others' to the host's
# resolvers. Not here: the working paths (test_net_bridge.sh). Traffic
# only to 127.0.0.0/8 and to bridges this test made; subnets under
# one 10.X.0.0/16 of its own.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
PROBE=$BERTH_TEST_IMAGES/../berth-probe
[ -x "$PROBE" ] || skip "the probe program is not built"
load_image probe.tar

NET=10.$((200 + $$ % 40)) # its own 10.X.0.0/16: build trees may run it at once
HBR=ne-br$$ # the test's own bridge holding a host route
busy_pid=
dns_pids=()
cleanup_ne() {
    ip link del "$HBR" 2>/dev/null || true
    if [ -n "$busy_pid" ]; then kill "$busy_pid" 2>/dev/null || true; fi
    for p in "${dns_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    true
}
trap cleanup_ne EXIT

# What a failed up may not leave: a link (bridge or veth) with an address
# in this test's range, a network record, an address in ipam.json (other
# engineers' tests make and remove bridges at the same time: only what is
# this test's is compared).
state() {
    ip -o -4 addr show | awk -v n="$NET." 'index($4, n) == 1 {print $2, $4}' | sort
    ls "$BERTH_ROOT/network/nets" 2>/dev/null
    [ -f "$BERTH_ROOT/network/ipam.json" ] && tr -d ' \n' <"$BERTH_ROOT/network/ipam.json" |
        grep -o '"[0-9.]*/*[0-9]*"' | sort
    true
}

# refused NAME PROJECT WHAT...: up fails with one line naming each WHAT,
# and nothing is made.
refused() {
    local name=$1 proj=$2
    shift 2
    local before after out
    before=$(state)
    out=$(bz "$proj" up -d 2>&1) && fail "$name: up succeeded: $out"
    local rc=$?
    check "$name: non-zero exit ($rc)" test "$rc" -ne 0
    for w in "$@"; do
        expect_contains "$name: names $w" "$out" "$w"
    done
    check "$name: one error line" test "$(printf '%s\n' "$out" | grep -c '^berth: ')" -eq 1
    after=$(state)
    [ -n "${KEEP_CTR:-}" ] || expect_eq "$name: nothing made" "$after" "$before"
    [ -n "${KEEP_CTR:-}" ] || expect_eq "$name: no container" "$(bz "$proj" ps -a -q 2>/dev/null)" ""
    if command -v nft >/dev/null; then
        check "$name: no table inet $T_CGBASE-$proj" bash -c "! nft list table inet $T_CGBASE-$proj >/dev/null 2>&1"
    fi
}

svc() { # svc NAME [EXTRA-LINES]: a service that sleeps
    printf '  %s:\n    image: berth-test/probe\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' "$1"
}

# F: two networks of one file with the same subnet.
new_project nedup >/dev/null <<EOF
services:
$(svc web)
    networks: [a, b]
networks:
  a:
    ipam:
      config: [{subnet: $NET.1.0/24}]
  b:
    ipam:
      config: [{subnet: $NET.1.0/24}]
EOF
refused same_subnet nedup 'service "web"' 'network nedup_b' "compose.yaml:13:"

# A live project's bridge, and a second project overlapping it.
new_project nelive >/dev/null <<EOF
services:
$(svc web)
networks:
  default:
    ipam:
      config: [{subnet: $NET.2.0/24}]
EOF
out=$(bz nelive up -d 2>&1) || fail "nelive up failed: $out"
new_project neover >/dev/null <<EOF
services:
$(svc web)
    networks: [over]
networks:
  over:
    ipam:
      config: [{subnet: $NET.2.128/25}]
EOF
refused overlaps_live_bridge neover 'service "web"' 'network neover_over' "compose.yaml:10:"

# A host route the test made itself.
ip link add "$HBR" type bridge
ip addr add "$NET.9.1/24" dev "$HBR"
ip link set "$HBR" up
new_project neroute >/dev/null <<EOF
services:
$(svc web)
    networks: [r]
networks:
  r:
    ipam:
      config: [{subnet: $NET.9.0/24}]
EOF
refused overlaps_host_route neroute 'service "web"' 'network neroute_r' "compose.yaml:10:"
ip link del "$HBR"

# An ipv4_address outside the subnet.
new_project neaddr >/dev/null <<EOF
services:
$(svc web)
    networks:
      n:
        ipv4_address: $NET.4.5
networks:
  n:
    ipam:
      config: [{subnet: $NET.3.0/24}]
EOF
refused address_outside neaddr 'service "web"' 'network neaddr_n' "$NET.4.5" "compose.yaml:7:"

# An ipv4_address another service has.
new_project netaken >/dev/null <<EOF
services:
$(svc one)
    networks:
      n:
        ipv4_address: $NET.5.5
$(svc two)
    networks:
      n:
        ipv4_address: $NET.5.5
networks:
  n:
    ipam:
      config: [{subnet: $NET.5.0/24}]
EOF
refused address_taken netaken 'service "two"' 'network netaken_n' "$NET.5.5" "compose.yaml:14:"

# An external network that does not exist.
new_project neext >/dev/null <<EOF
services:
$(svc web)
    networks: [ghost]
networks:
  ghost:
    external: true
    name: ne-ghost-$$
EOF
refused external_missing neext 'service "web"' "network ne-ghost-$$" "compose.yaml:8:"

# An unknown network in a service's networks.
new_project neunk >/dev/null <<EOF
services:
$(svc web)
    networks: [nowhere]
networks:
  somewhere: {}
EOF
refused unknown_network neunk 'service "web"' 'nowhere' "compose.yaml:"

# A host port bound by another program: its PID is named, the ports
# entry's line too, and nothing is made (the check runs before any
# network or container).
PB=$((14000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
PU=$((PB + 1))
if command -v python3 >/dev/null; then
    python3 -m http.server --bind 127.0.0.1 "$PB" >/dev/null 2>&1 &
    busy_pid=$!
    check "the other program listens" wait_until 10 bash -c "ss -ltn | grep -q '127.0.0.1:$PB '"
    new_project neport >/dev/null <<EOF
services:
$(svc web)
    ports: ["127.0.0.1:$PB:80"]
networks:
  default:
    ipam:
      config: [{subnet: $NET.6.0/24}]
EOF
    refused port_busy neport 'service "web"' "127.0.0.1:$PB/tcp" "PID $busy_pid" "compose.yaml:6:"
    kill "$busy_pid"
    wait "$busy_pid" 2>/dev/null || true

    # A UDP port bound by another program: refused the same way (tcp on
    # the same number is another port, and free).
    python3 -c "import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $PU))
time.sleep(3600)" &
    busy_pid=$!
    check "the other program has the udp port" wait_until 10 bash -c "ss -lun | grep -q '127.0.0.1:$PU '"
    new_project neudp >/dev/null <<EOF
services:
$(svc web)
    ports: ["127.0.0.1:$PU:53/tcp", "127.0.0.1:$PU:53/udp"]
networks:
  default:
    ipam:
      config: [{subnet: $NET.10.0/24}]
EOF
    refused udp_busy neudp 'service "web"' "127.0.0.1:$PU/udp" "PID $busy_pid" "compose.yaml:6:"
    kill "$busy_pid"
    wait "$busy_pid" 2>/dev/null || true
    busy_pid=
else
    skip_check "python3 is not installed (the busy ports' program)"
fi

# Two services of one file on one host port (no host IP takes 127.0.0.1
# too): refused before anything is made, naming both entries.
new_project nedupport >/dev/null <<EOF
services:
$(svc one)
    ports: ["$PB:80"]
$(svc two)
    ports: ["127.0.0.1:$PB:81"]
networks:
  default:
    ipam:
      config: [{subnet: $NET.11.0/24}]
EOF
refused port_twice nedupport 'service "two"' "127.0.0.1:$PB/tcp" 'service "one"' \
    "compose.yaml:11:" "(line 6)"

# A running project's own ports are not "in use" to its next up: up -d
# again, and with one service recreated, succeeds and still publishes.
new_project neagain >/dev/null <<EOF
services:
$(svc web)
    ports: ["127.0.0.1:$PB:80", "127.0.0.1:$PU:53/udp"]
$(svc api)
    ports: ["127.0.0.1:$((PB + 2)):80"]
networks:
  default:
    ipam:
      config: [{subnet: $NET.12.0/24}]
EOF
out=$(bz neagain up -d 2>&1) || fail "neagain up failed: $out"
rc=0
out=$(bz neagain up -d 2>&1) || rc=$?
check "up -d again on a running project with ports: exit 0 ($out)" test "$rc" -eq 0
expect_contains "up -d again: web still publishes" "$(bz neagain port web 80 2>&1)" "127.0.0.1:$PB"
rc=0
out=$(bz neagain up -d --force-recreate api 2>&1) || rc=$?
check "a service recreated keeps its own port: exit 0 ($out)" test "$rc" -eq 0
expect_contains "the recreated api publishes" "$(bz neagain port api 80 2>&1)" \
    "127.0.0.1:$((PB + 2))"
bz neagain down -t 1 >/dev/null 2>&1 || fail "neagain down failed"

# dns: a service's own servers. The host's resolver answers every name
# with $NET.8.77, the service's own with $NET.8.78.
"$PROBE" dnsserve $T_LO.79 "$NET.8.77" >"$T_DIR/dns-host.log" 2>&1 &
dns_pids+=($!)
"$PROBE" dnsserve $T_LO.78 "$NET.8.78" >"$T_DIR/dns-own.log" 2>&1 &
dns_pids+=($!)
echo "nameserver $T_LO.79" >"$T_DIR/resolv.conf"
export BERTH_RESOLV_CONF=$T_DIR/resolv.conf
new_project nedns >/dev/null <<EOF
services:
$(svc own)
    dns: [$T_LO.78]
$(svc other)
networks:
  default:
    ipam:
      config: [{subnet: $NET.7.0/24}]
EOF
out=$(bz nedns up -d 2>&1) || fail "nedns up failed: $out"
out=$(bz nedns exec -T own nslookup anything.example 2>&1) || true
expect_contains "dns: the service's queries go to its own server" "$out" "$NET.8.78"
out=$(bz nedns exec -T other nslookup anything.example 2>&1) || true
expect_contains "dns: another service's go to the host's" "$out" "$NET.8.77"
out=$(bz nedns exec -T own nslookup other 2>&1) || true
expect_contains "dns: berth's names are still berth's" "$out" "$NET.7."

bz nedns down -t 1 >/dev/null 2>&1 || fail "nedns down failed"
bz nelive down -t 1 >/dev/null 2>&1 || fail "nelive down failed"
cleanup_ne
finish
