#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# IPv6 on berth's networks (enable_ipv6) with real containers: a v6 subnet
# from ipam.config and one from the host's ULA pool; each container's v6
# address (sequential, or ipv6_address), kept across a restart; AAAA
# answers of the embedded DNS server and the v6 line of /etc/hosts; a
# busybox httpd reached over v6 by another service, on a port published
# over [::1] (the proxy) and from an "outside" host the test makes (a
# namespace with a veth, over v6 through kernel NAT); egress masquerade to
# that outside host (which has no route back to the containers' subnet);
# no egress from an internal v6 network; IPv6 forwarding turned on; a v6
# subnet without enable_ipv6 ignored with a warning; bad input (a v6
# subnet overlapping another network's, an ipv6_address outside its
# subnet) refused with nothing made; nothing left after down. Traffic goes
# only to ::1, 127.0.0.0/8 and the bridges and namespaces this test made.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
[ -d /proc/sys/net/ipv6 ] || skip "IPv6 is disabled on this host"
load_image probe.tar

# The test's own prefixes, from its pid: IPv4 under 10.X.0.0/16 (60-99,
# which no other network test uses) and IPv6 under fd42:Y::/32.
NET=10.$((60 + $$ % 40))
V6=fd42:$(printf %x $(($$ % 65536)))
OUT=b6-out-$$ # the test's "outside" host
OUT_HOST=vb6o$$
fwd4_before=$(cat /proc/sys/net/ipv4/ip_forward)
fwd6_before=$(cat /proc/sys/net/ipv6/conf/all/forwarding)
cleanup_outside() {
    # a check that ends the script early (set -e) must not leave the
    # projects running: down is harmless when they are gone
    for p in n6 n6x n6y; do
        [ -d "$T_DIR/$p" ] && bz "$p" down -t 1 >/dev/null 2>&1 || true
    done
    ip netns pids "$OUT" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$OUT" 2>/dev/null || true
    ip link del "$OUT_HOST" 2>/dev/null || true
    echo "$fwd4_before" >/proc/sys/net/ipv4/ip_forward
    echo "$fwd6_before" >/proc/sys/net/ipv6/conf/all/forwarding
}
trap cleanup_outside EXIT
# The outside host: on-link with the host's side only, no default route,
# so it can answer the containers only if their traffic is masqueraded.
ip netns add "$OUT"
ip link add "$OUT_HOST" type veth peer name eth0 netns "$OUT"
ip addr add "$V6:9::1/64" dev "$OUT_HOST" nodad
ip link set "$OUT_HOST" up
ip -n "$OUT" addr add "$V6:9::2/64" dev eth0 nodad
ip -n "$OUT" link set eth0 up
ip -n "$OUT" link set lo up
mkdir -p "$T_DIR/outwww"
echo outside-page >"$T_DIR/outwww/index.html"
ip netns exec "$OUT" busybox httpd -p "[$V6:9::2]:8000" -h "$T_DIR/outwww"

# Off, so that berth must turn it on (restored at the end).
echo 0 >/proc/sys/net/ipv6/conf/all/forwarding

P1=$((16000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
new_project n6 >/dev/null <<EOF
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-v6 > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks:
      front:
        ipv6_address: $V6:1::80
        aliases: [www]
    ports: ["$P1:80"]
    stop_signal: SIGKILL
  client:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [front, back]
    stop_signal: SIGKILL
  lonely:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [back]
    stop_signal: SIGKILL
  auto:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [autonet]
    stop_signal: SIGKILL
  plain:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [v4only]
    stop_signal: SIGKILL
networks:
  front:
    enable_ipv6: true
    ipam:
      config:
        - subnet: $NET.1.0/24
        - subnet: $V6:1::/64
  back:
    internal: true
    enable_ipv6: true
    ipam:
      config:
        - subnet: $NET.2.0/24
        - subnet: $V6:2::/64
  autonet:
    enable_ipv6: true
    ipam:
      config: [{subnet: $NET.3.0/24}]
  v4only:
    ipam:
      config:
        - subnet: $NET.4.0/24
        - subnet: $V6:4::/64
EOF
out=$(bz n6 up -d 2>&1) || fail "up -d failed: $out"
expect_contains "a v6 subnet without enable_ipv6 is ignored, and said" "$out" \
    "network v4only: IPv6 subnet $V6:4::/64 is ignored: enable_ipv6 is not set"
expect_eq "IPv6 forwarding turned on" "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" 1

# The records and the bridges.
rec() { cat "$BERTH_ROOT/network/nets/n6_$1.json" 2>/dev/null; }
expect_contains "front's record has its v6 subnet" "$(rec front)" "\"subnet6\": \"$V6:1::/64\""
expect_contains "and gateway" "$(rec front)" "\"gateway6\": \"$V6:1::1\""
br=$(rec front | sed -n 's/.*"bridge": "\(br-[0-9a-f]*\)".*/\1/p')
expect_eq "front's bridge has IPv6 on" "$(cat "/proc/sys/net/ipv6/conf/$br/disable_ipv6" 2>&1)" 0
expect_contains "the gateway is on the bridge" "$(ip -6 addr show dev "$br" 2>&1)" "$V6:1::1/64"
expect_not_contains "v4only has no v6 subnet" "$(rec v4only)" "subnet6"

# The ULA pool: a /64 of fd00::/8 + 40 bits of SHA-256(/etc/machine-id).
auto6=$(rec autonet | sed -n 's/.*"subnet6": "\([^"]*\)".*/\1/p')
if [ -s /etc/machine-id ]; then
    h=$(sha256sum /etc/machine-id | cut -c1-10)
    pool=$(printf 'fd%s:%s:%s' "${h:0:2}" "${h:2:4}" "${h:6:4}" | sed 's/:0\{1,3\}/:/g')
    check "autonet's subnet ($auto6) is a /64 of the host's ULA pool ($pool::/48)" \
        bash -c "[[ '$auto6' == $pool:*/64 ]] && ! [[ '$auto6' == fd00::/64 ]]"
else
    skip_check "no /etc/machine-id (the ULA pool then comes from the store's path)"
fi
if [ -n "$auto6" ]; then
    check "the pool's subnet is routed to autonet's bridge" bash -c "ip -6 route show '$auto6' | grep -q br-"
fi

retry() { wait_until 10 "$@"; }
get() { bz n6 exec -T "$1" timeout 5 wget -qO- "$2" 2>&1; }
v6of() { bz n6 exec -T "$1" ip -6 -o addr show scope global 2>/dev/null | awk '{print $4}' | sort | tr '\n' ' '; }
expect_eq "web has its ipv6_address" "$(v6of web)" "$V6:1::80/64 "
client6=$(v6of client)
expect_eq "client: the first free v6 address of front, and one of back" "$client6" \
    "$V6:1::2/64 $V6:2::2/64 "
check "auto has an address in autonet's subnet ($(v6of auto))" \
    bash -c "[[ '$(v6of auto)' == ${auto6%::/64}::2/64* ]]"
expect_eq "a network without enable_ipv6: no global v6 address" "$(v6of plain)" ""
expect_contains "client's v6 default route via front's gateway" \
    "$(bz n6 exec -T client ip -6 route 2>&1)" "default via $V6:1::1"
expect_not_contains "lonely (internal only): no v6 default route" \
    "$(bz n6 exec -T lonely ip -6 route 2>&1)" "default"
expect_contains "web's /etc/hosts has its v6 line" "$(bz n6 exec -T web cat /etc/hosts 2>&1)" \
    "$V6:1::80	"
expect_contains "and docker's ip6 localhost line" "$(bz n6 exec -T web cat /etc/hosts 2>&1)" \
    "::1	localhost ip6-localhost ip6-loopback"
expect_eq "loopback ::1 works in a container on no v6 network" \
    "$(bz n6 exec -T plain ip -6 -o addr show dev lo 2>&1 | awk '{print $4}')" "::1/128"

# DNS: AAAA for the service name, the container name and the alias.
check "web serves" retry bz n6 exec -T client timeout 2 wget -qO- "http://[$V6:1::80]/"
aaaa() { bz n6 exec -T "$1" nslookup -type=aaaa "$2" 2>&1; }
expect_contains "AAAA of web" "$(aaaa client web)" "$V6:1::80"
expect_contains "AAAA of the container name" "$(aaaa client n6-web-1)" "$V6:1::80"
expect_contains "AAAA of the alias" "$(aaaa client www)" "$V6:1::80"
expect_contains "AAAA of client from web" "$(aaaa web client)" "$V6:1::2"
out=$(aaaa lonely web) || true
expect_not_contains "lonely (back only) gets no AAAA of web" "$out" "$V6:1::80"
named=$(aaaa client web | awk '/^Address/ { a = $2 } END { print a }')
expect_eq "web by the address its name gives (AAAA)" "$(get client "http://[$named]/")" hello-v6
out=$(get lonely "http://[$V6:1::80]/") && fail "lonely reached web across networks over v6: $out" || pass

# An attached run (no DNS server of its own): the names in /etc/hosts.
out=$(bz n6 run --rm -T client cat /etc/hosts 2>&1) || true
expect_contains "an attached run's /etc/hosts has web's v6 address" "$out" "$V6:1::80	web"

# Published ports over v6: [::1] (the proxy) and the outside host (NAT).
expect_eq "TCP on [::1] (the proxy)" "$(timeout 5 busybox wget -qO- "http://[::1]:$P1/" 2>&1)" hello-v6
expect_eq "TCP on 127.0.0.1 still" "$(timeout 5 busybox wget -qO- "http://127.0.0.1:$P1/" 2>&1)" hello-v6
expect_eq "TCP from the outside host over v6 (kernel NAT)" \
    "$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://[$V6:9::1]:$P1/" 2>&1)" hello-v6
out=$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://[$V6:1::80]/" 2>&1) &&
    fail "the outside host reached an unpublished v6 container address: $out" || pass
js=$(bz n6 ps --format json web 2>&1)
expect_contains "ps: the :: binding, as docker shows it" "$(bz n6 ps web 2>&1)" \
    "0.0.0.0:$P1->80/tcp, [::]:$P1->80/tcp"
expect_contains "ps --format json Publishers: URL ::" "$js" \
    "{\"URL\":\"::\",\"TargetPort\":80,\"PublishedPort\":$P1,\"Protocol\":\"tcp\"}"

# Egress (masqueraded: the outside host has no route back), none from an
# internal network.
expect_eq "egress to the outside host over v6" "$(get client "http://[$V6:9::2]:8000/")" outside-page
out=$(get lonely "http://[$V6:9::2]:8000/") && fail "an internal v6 network reached outside: $out" || pass

# Restart and recreate keep the addresses.
bz n6 restart -t 1 client >/dev/null 2>&1 || fail "restart failed"
expect_eq "client keeps its v6 addresses across a restart" "$(v6of client)" "$client6"
bz n6 up -d --force-recreate client web >/dev/null 2>&1 || fail "up --force-recreate failed"
expect_eq "and across a recreate" "$(v6of client)" "$client6"
expect_eq "web keeps its ipv6_address" "$(v6of web)" "$V6:1::80/64 "

# Bad input: one line naming the prefixes or address, the service, the
# network and the file's line; nothing made.
state() {
    ip -o -6 addr show | awk -v n="$V6:" 'index($4, n) == 1 && $4 !~ /^'"$V6"':9::/ {print $2, $4}' | sort
    ls "$BERTH_ROOT/network/nets" 2>/dev/null
    tr -d ' \n' <"$BERTH_ROOT/network/ipam.json" 2>/dev/null | grep -o '"[0-9a-f.:]*/*[0-9]*"' | sort
    true
}
refused() { # refused NAME PROJECT WHAT...
    local name=$1 proj=$2 before out rc=0
    shift 2
    before=$(state)
    out=$(bz "$proj" up -d 2>&1) || rc=$?
    check "$name: non-zero exit" test "$rc" -ne 0
    for w in "$@"; do expect_contains "$name: names $w" "$out" "$w"; done
    check "$name: one error line" test "$(printf '%s\n' "$out" | grep -c '^berth: ')" -eq 1
    expect_eq "$name: nothing made" "$(state)" "$before"
    expect_eq "$name: no container" "$(bz "$proj" ps -a -q 2>/dev/null)" ""
}
new_project n6x >/dev/null <<EOF
services:
  x:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [over]
networks:
  over:
    enable_ipv6: true
    ipam:
      config:
        - subnet: $NET.5.0/24
        - subnet: $V6:1::/56
EOF
refused "an overlapping v6 subnet" n6x "compose.yaml:12:" 'service "x"' "network n6x_over" \
    "subnet $V6:1::/56 overlaps $V6:1::/64, already in use"
new_project n6y >/dev/null <<EOF
services:
  y:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks:
      far:
        ipv6_address: $V6:7::5
networks:
  far:
    enable_ipv6: true
    ipam:
      config:
        - subnet: $NET.6.0/24
        - subnet: $V6:6::/64
EOF
out=$(bz n6y up -d 2>&1) && fail "an ipv6_address outside its subnet was accepted: $out" || pass
expect_contains "ipv6_address outside: names it and the subnet" "$out" \
    "ipv6_address $V6:7::5 is outside subnet $V6:6::/64"
expect_contains "and the file:line" "$out" "compose.yaml:6:7: service \"y\": network n6y_far"
expect_contains "and the service" "$out" 'service "y"'
expect_eq "ipv6_address outside: no container" "$(bz n6y ps -a -q 2>/dev/null)" ""
expect_not_contains "ipv6_address outside: no address recorded" \
    "$(cat "$BERTH_ROOT/network/ipam.json" 2>/dev/null)" "n6y-y-1"
bz n6y down >/dev/null 2>&1 || true

# down: nothing of the project left (the lib's leak check does the rest).
bridges=$(cat "$BERTH_ROOT"/network/nets/n6_*.json 2>/dev/null | sed -n 's/.*"bridge": "\(br-[0-9a-f]*\)".*/\1/p') || true
bz n6 down -t 1 >/dev/null 2>&1 || fail "down failed"
for b in $bridges; do
    check "bridge $b removed" bash -c "! ip link show $b >/dev/null 2>&1"
done
expect_eq "no v6 address of the test's left on the host" "$(state)" ""
expect_not_contains "ipam.json: v6 subnets released" "$(cat "$BERTH_ROOT/network/ipam.json" 2>/dev/null)" \
    "subnet6"
cleanup_outside
finish
