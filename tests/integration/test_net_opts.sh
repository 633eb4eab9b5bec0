#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A bridge network's driver_opts end to end with real containers: the
# bridge's name, its MTU (on the bridge and inside the containers),
# masquerade off (an "outside" host the test makes sees the container's
# own address), host_binding_ipv4 127.0.0.1 (the port answers on the
# host's loopback and not from outside), enable_icc false (two containers
# of the network cannot reach each other, but reach the gateway, the DNS
# server and the outside, and the published port still works), ipam
# aux_addresses never handed out; then the options berth refuses or cannot
# parse, each refused in one line with nothing made. Traffic goes only to
# 127.0.0.0/8 and to the bridges and namespaces this test made.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v busybox >/dev/null || skip "busybox (the outside host's httpd) is not installed"
load_image probe.tar

OUT=bo-out-$$  # the test's "outside" host
OUT_HOST=vbp$$ # its veth's host side
BR=bo-$$       # the bridge the file names
# Every subnet under one 10.X.0.0/16 that no other test uses (10.20-10.39),
# X from the test's pid.
NET=10.$((20 + $$ % 20))
fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup_outside() {
    outside_host_del "$OUT" "$OUT_HOST"
    echo "$fwd_before" >/proc/sys/net/ipv4/ip_forward
}
trap cleanup_outside EXIT
outside_host "$OUT" "$OUT_HOST" "$NET"
# The outside host says who asked (the peer address it sees).
mkdir -p "$T_DIR/outwww/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
    >"$T_DIR/outwww/cgi-bin/who"
chmod +x "$T_DIR/outwww/cgi-bin/who"
ip netns exec "$OUT" busybox httpd -p "$NET.9.2:8000" -h "$T_DIR/outwww"

P1=$((20000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
new_project nopt >/dev/null <<EOF
services:
  a:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-a > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks: [quiet]
    ports: ["$P1:80"]
    stop_signal: SIGKILL
  b:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [quiet]
    stop_signal: SIGKILL
networks:
  quiet:
    driver_opts:
      com.docker.network.bridge.name: $BR
      com.docker.network.driver.mtu: "1280"
      com.docker.network.bridge.enable_ip_masquerade: "false"
      com.docker.network.bridge.enable_icc: "false"
      com.docker.network.bridge.host_binding_ipv4: "127.0.0.1"
      com.docker.network.bridge.default_bridge: "false"
    ipam:
      config:
        - subnet: $NET.1.0/24
          aux_addresses: {router: $NET.1.2, printer: $NET.1.3}
EOF
out=$(bz nopt up -d 2>&1) || fail "up -d failed: $out"
expect_contains "an option berth ignores is said, with its place" "$out" \
    "compose.yaml:21:7: network \"quiet\": driver_opts: com.docker.network.bridge.default_bridge is ignored"

# The bridge's name and MTU.
check "the bridge is named $BR" bash -c "ip link show $BR >/dev/null"
expect_eq "the network's record names it" \
    "$(sed -n 's/.*"bridge": "\([^"]*\)".*/\1/p' "$BERTH_ROOT/network/nets/nopt_quiet.json")" "$BR"
expect_eq "the bridge's MTU" "$(cat "/sys/class/net/$BR/mtu" 2>&1)" 1280
expect_eq "the container's MTU" "$(bz nopt exec -T a cat /sys/class/net/eth0/mtu 2>/dev/null)" 1280

# aux_addresses: never handed out (.1 the gateway, .2 and .3 reserved).
addr_of() { bz nopt exec -T "$1" ip -4 -o addr show eth0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }'; }
a_ip=$(addr_of a)
b_ip=$(addr_of b)
check "a has an address ($a_ip)" contains "$a_ip" "$NET.1."
for ip in "$a_ip" "$b_ip"; do
    check "$ip is not an aux address" bash -c "[ '$ip' != '$NET.1.2' ] && [ '$ip' != '$NET.1.3' ]"
done

# Masquerade off: the outside host sees the container's own address.
expect_eq "egress keeps the container's source address" \
    "$(bz nopt exec -T b timeout 5 wget -qO- "http://$NET.9.2:8000/cgi-bin/who" 2>/dev/null)" "$b_ip"

# host_binding_ipv4: the port published without a host IP binds to 127.0.0.1.
check "the port answers on 127.0.0.1" wait_until 10 \
    bash -c "timeout 5 busybox wget -qO- http://127.0.0.1:$P1/ | grep -q hello-from-a"
out=$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://$NET.9.1:$P1/" 2>&1) &&
    fail "a port bound to 127.0.0.1 by host_binding_ipv4 answered from outside: $out" || pass
expect_eq "berth port says where it is bound" "$(bz nopt port a 80 2>/dev/null)" "127.0.0.1:$P1"
expect_contains "ps says so" "$(bz nopt ps 2>&1)" "127.0.0.1:$P1->80/tcp"

# enable_icc false: no container reaches the other, each reaches the
# gateway, the DNS server and the outside.
out=$(bz nopt exec -T b timeout 5 wget -qO- "http://$a_ip/" 2>&1) &&
    fail "b reached a on a network with enable_icc false: $out" || pass
out=$(bz nopt exec -T a ping -c 1 -W 2 "$b_ip" 2>&1) &&
    fail "a pinged b on a network with enable_icc false: $out" || pass
gw_ping() { bz nopt exec -T "$1" ping -c 1 -W 2 "$NET.1.1" >/dev/null 2>&1; }
check "b reaches the gateway" gw_ping b
check "a reaches the gateway" gw_ping a
expect_contains "the DNS server still answers b" "$(bz nopt exec -T b nslookup a 2>&1)" "$a_ip"
expect_eq "a still reaches the outside" \
    "$(bz nopt exec -T a timeout 5 wget -qO- "http://$NET.9.2:8000/cgi-bin/who" 2>/dev/null)" "$a_ip"

# Another project joining the network as external publishes where its
# maker said.
P2=$((P1 + 1))
new_project noptx >/dev/null <<EOF
services:
  c:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-c > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks: [quiet]
    ports: ["$P2:80"]
    stop_signal: SIGKILL
networks:
  quiet:
    name: nopt_quiet
    external: true
EOF
out=$(bz noptx up -d 2>&1) || fail "up -d of the external network's project failed: $out"
expect_eq "an external network's host_binding_ipv4 holds too" "$(bz noptx port c 80 2>/dev/null)" "127.0.0.1:$P2"
check "and the port answers on 127.0.0.1" wait_until 10 \
    bash -c "timeout 5 busybox wget -qO- http://127.0.0.1:$P2/ | grep -q hello-from-c"
out=$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://$NET.9.1:$P2/" 2>&1) &&
    fail "the external project's port answered from outside: $out" || pass
bz noptx down -t 1 >/dev/null 2>&1 || fail "down of the external network's project failed"

bz nopt down -t 1 >/dev/null 2>&1 || fail "down failed"
check "down removes the named bridge" bash -c "! ip link show $BR >/dev/null 2>&1"

# Refused and bad options: one line naming the place, the network and the
# key; no network record, bridge (nothing holds the subnet) or container
# made.
refuse() { # refuse NAME WHAT EXPECTED-TEXT (the networks: body on stdin)
    local name=$1 what=$2 want=$3 body
    body=$(cat)
    new_project "$name" >/dev/null <<EOF
services:
  s:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [n]
    stop_signal: SIGKILL
networks:
$body
EOF
    out=$(bz "$name" up -d 2>&1) && fail "$what was accepted: $out" || pass
    expect_contains "$what: the reason" "$out" "$want"
    expect_eq "$what: one line" "$(printf '%s\n' "$out" | grep -c .)" 1
    check "$what: no network record" bash -c "! ls '$BERTH_ROOT'/network/nets/${name}_n.json >/dev/null 2>&1"
    check "$what: no subnet kept" bash -c "! grep -qs '\"${name}_n\"' '$BERTH_ROOT'/network/ipam.json"
    check "$what: no container" bash -c "[ -z \"\$(cd '$T_DIR/$name' && '$BERTH' ps -aq 2>/dev/null)\" ]"
    expect_eq "$what: no bridge" "$(ip -o addr show | grep -c " $NET\.2\.")" 0
}
refuse noref1 "gateway_mode_ipv4 isolated" \
    'compose.yaml:10:7: service "s": network "n": driver_opts: com.docker.network.bridge.gateway_mode_ipv4: "isolated" is not supported' <<EOF
  n:
    driver_opts:
      com.docker.network.bridge.gateway_mode_ipv4: isolated
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref2 "inhibit_ipv4" \
    'compose.yaml:9:19: service "s": network "n": driver_opts: com.docker.network.bridge.inhibit_ipv4: "true" is not supported' <<EOF
  n:
    driver_opts: {com.docker.network.bridge.inhibit_ipv4: "true"}
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref3 "an unknown docker option" \
    'network "n": driver_opts: com.docker.network.bridge.frobnicate is not supported' <<EOF
  n:
    driver_opts: {com.docker.network.bridge.frobnicate: "1"}
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref4 "enable_ipv4 false" \
    'compose.yaml:9:18: service "s": network "n": enable_ipv4: false is not supported' <<EOF
  n:
    enable_ipv4: false
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref5 "mtu abc" \
    'compose.yaml:9:50: network "n": driver_opts: com.docker.network.driver.mtu: invalid MTU "abc"' <<EOF
  n:
    driver_opts: {com.docker.network.driver.mtu: abc}
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref6 "a boolean maybe" \
    'invalid boolean "maybe"' <<EOF
  n:
    driver_opts: {com.docker.network.bridge.enable_icc: maybe}
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
refuse noref7 "an aux address outside the subnet" \
    'compose.yaml:12:27: network "n": ipam: aux_addresses: r: 10.250.0.1 is outside subnet' <<EOF
  n:
    ipam:
      config:
        - subnet: $NET.2.0/24
          aux_addresses: {r: 10.250.0.1}
EOF
refuse noref8 "a bridge name that is taken" \
    "network noref8_n: com.docker.network.bridge.name: a link named $OUT_HOST already exists" <<EOF
  n:
    driver_opts: {com.docker.network.bridge.name: $OUT_HOST}
    ipam: {config: [{subnet: $NET.2.0/24}]}
EOF
check "the taken name's link is untouched" bash -c "ip link show $OUT_HOST >/dev/null"

# An ipv4_address that is an aux address.
new_project noaux >/dev/null <<EOF
services:
  s:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks:
      n: {ipv4_address: $NET.3.5}
    stop_signal: SIGKILL
networks:
  n:
    ipam:
      config:
        - subnet: $NET.3.0/24
          aux_addresses: {router: $NET.3.5}
EOF
out=$(bz noaux up -d 2>&1) && fail "an aux address was handed to a container: $out" || pass
expect_contains "the aux address asked for is named" "$out" \
    "compose.yaml:6:7: service \"s\": network \"n\": ipv4_address $NET.3.5 is reserved by ipam aux_addresses (router=$NET.3.5)"
check "no network made for it" bash -c "! ls '$BERTH_ROOT'/network/nets/noaux_n.json >/dev/null 2>&1"

cleanup_outside
finish
