#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Networks end to end with real containers: a busybox httpd reached by
# service name, alias and container name over a user network; an internal
# network that has no way out and cannot reach the other; published TCP
# and UDP ports from the host's loopback (the proxy) and from an "outside"
# host the test makes itself (a network namespace with a veth, through
# kernel NAT); egress with masquerade to that outside host; DNS forwarding
# of other names to a resolver the test runs; network_mode service:X; a
# busy host port refused before anything starts; and nothing left after
# down (bridges, veths, namespaces, nftables tables). Traffic goes only to
# 127.0.0.0/8 and to the bridges and namespaces this test made.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
PROBE=$BERTH_TEST_IMAGES/../berth-probe
[ -x "$PROBE" ] || skip "the probe program is not built"
load_image probe.tar

OUT=bt-out-$$ # the test's "outside" host
OUT_HOST=vbo$$ # its veth's host side
# Every subnet here is under one 10.X.0.0/16, X from the test's pid: two
# build trees running this test at once must not ask for the same one.
NET=10.$((100 + $$ % 100))
fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup_outside() {
    outside_host_del "$OUT" "$OUT_HOST"
    echo "$fwd_before" >/proc/sys/net/ipv4/ip_forward
}
trap cleanup_outside EXIT
outside_host "$OUT" "$OUT_HOST" "$NET"
mkdir -p "$T_DIR/outwww"
echo outside-page >"$T_DIR/outwww/index.html"
ip netns exec "$OUT" busybox httpd -p "$NET.9.2:8000" -h "$T_DIR/outwww"

# The test's own upstream resolver on the host's loopback.
"$PROBE" dnsserve $T_LO.77 "$NET.9.77" >"$T_DIR/dnsserve.log" 2>&1 &
dns_pid=$!
echo "nameserver $T_LO.77" >"$T_DIR/resolv.conf"
export BERTH_RESOLV_CONF=$T_DIR/resolv.conf

P1=$((12000 + $$ % 1990)) # (below the ephemeral ports, 32768-: a connection may hold one)
P2=$((P1 + 1))
PU=$((P1 + 2))
new_project nb >/dev/null <<EOF
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks:
      front:
        aliases: [www]
    ports: ["127.0.0.1:$P1:80", "$P2:80"]
    stop_signal: SIGKILL
  side:
    image: berth-test/probe
    command: ["sleep", "3600"]
    network_mode: service:web
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
  alone:
    image: berth-test/probe
    command: ["sleep", "3600"]
    network_mode: none
    stop_signal: SIGKILL
  hostnet:
    image: berth-test/probe
    command: ["sleep", "3600"]
    network_mode: host
    stop_signal: SIGKILL
  udp:
    image: berth-test/probe
    command: ["probe", "udpecho", "9000"]
    networks: [front]
    ports: ["$PU:9000/udp"]
    stop_signal: SIGKILL
networks:
  front:
    ipam:
      config: [{subnet: $NET.1.0/24}]
  back:
    internal: true
    ipam:
      config: [{subnet: $NET.2.0/24}]
EOF
out=$(bz nb up -d 2>&1) || fail "up -d failed: $out"
expect_not_contains "no network key warns any more" "$out" "not supported yet"

retry() { wait_until 10 "$@"; }
# (busybox 1.35 wget crashes with -T: timeout(1) bounds it instead)
get() { bz nb exec -T "$1" timeout 5 wget -qO- "$2" 2>&1; }
check "web serves" retry bz nb exec -T client timeout 2 wget -qO- http://web/
expect_eq "by service name" "$(get client http://web/)" hello-from-web
expect_eq "by alias" "$(get client http://www/)" hello-from-web
expect_eq "by container name" "$(get client http://nb-web-1/)" hello-from-web
web_ip=$(bz nb exec -T client nslookup web 2>/dev/null | awk '/^Address/ { a = $2 } END { print a }') || true
check "web's address is in front's subnet ($web_ip)" contains "$web_ip" "$NET.1."
expect_eq "network_mode service:web shares its localhost" \
    "$(get side http://127.0.0.1/)" hello-from-web
# (web is not berth's name on back: the name goes to the upstream, which
# answers every name with $NET.9.77, as docker's server would forward it)
out=$(bz nb exec -T lonely nslookup web 2>&1) || true
expect_not_contains "lonely (back only) does not get web's address" "$out" "$web_ip"
out=$(get lonely "http://$web_ip/") && fail "lonely reached web across networks: $out" || pass

expect_eq "network_mode none: loopback only" \
    "$(bz nb exec -T alone ls /sys/class/net 2>&1 | tr '\n' ' ')" "lo "
expect_contains "network_mode host: the host's links" \
    "$(bz nb exec -T hostnet ls /sys/class/net 2>&1 | tr '\n' ' ')" "$OUT_HOST"
expect_contains "every container has its own /etc/hosts line" \
    "$(bz nb exec -T client cat /etc/hosts 2>&1)" "$NET.1."
expect_eq "and the embedded DNS server in resolv.conf" \
    "$(bz nb exec -T client grep nameserver /etc/resolv.conf 2>&1)" "nameserver 127.0.0.11"

# Published ports.
expect_eq "TCP on 127.0.0.1 (the proxy)" "$(timeout 5 busybox wget -qO- "http://127.0.0.1:$P1/" 2>&1)" hello-from-web
expect_eq "TCP from the outside host (kernel NAT)" \
    "$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://$NET.9.1:$P2/" 2>&1)" hello-from-web
out=$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://$NET.9.1:$P1/" 2>&1) &&
    fail "a port published on 127.0.0.1 answered from outside: $out" || pass
expect_eq "UDP on 127.0.0.1" "$("$PROBE" udpsend 127.0.0.1 "$PU" hi 2>&1)" echo:hi
expect_eq "UDP from the outside host" \
    "$(ip netns exec "$OUT" "$PROBE" udpsend "$NET.9.1" "$PU" hi 2>&1)" echo:hi
out=$(ip netns exec "$OUT" timeout 5 busybox wget -qO- "http://$web_ip/" 2>&1) &&
    fail "the outside host reached an unpublished container address: $out" || pass

# Egress, and none from an internal network.
expect_eq "egress to the outside host" "$(get client "http://$NET.9.2:8000/")" outside-page
out=$(get lonely "http://$NET.9.2:8000/") && fail "an internal network reached outside: $out" || pass
expect_eq "forwarding turned on" "$(cat /proc/sys/net/ipv4/ip_forward)" 1

# DNS: other names go to the host's resolver.
out=$(bz nb exec -T client nslookup anything.example 2>&1) || true
expect_contains "forwarded to the test's upstream" "$out" "$NET.9.77"

# A busy host port: refused, naming the port and the service, nothing made.
new_project nb2 >/dev/null <<EOF
services:
  clash:
    image: berth-test/probe
    command: ["sleep", "3600"]
    ports: ["$P2:80"]
    stop_signal: SIGKILL
networks:
  default:
    ipam:
      config: [{subnet: $NET.3.0/24}]
EOF
out=$(bz nb2 up -d 2>&1) && fail "a busy port was accepted: $out" || pass
expect_contains "the port is named" "$out" "$P2"
expect_contains "the service is named" "$out" "clash"

# down removes the bridges, veths, namespaces and tables.
bridges=$(cat "$BERTH_ROOT"/network/nets/*.json 2>/dev/null | sed -n 's/.*"bridge": "\(br-[0-9a-f]*\)".*/\1/p') || true
check "the networks have bridges" test -n "$bridges"
bz nb down -t 1 >/dev/null 2>&1 || fail "down failed"
bz nb2 down -t 1 >/dev/null 2>&1 || true
for b in $bridges; do
    check "bridge $b removed" bash -c "! ip link show $b >/dev/null 2>&1"
done
check "no nftables table of nb" bash -c "! nft list table inet $T_CGBASE-nb >/dev/null 2>&1 || ! command -v nft >/dev/null"
check "no namespace left" bash -c "! grep -q ' nsfs ' <(grep -F '$BERTH_RUNROOT' /proc/self/mountinfo)"
kill "$dns_pid" 2>/dev/null || true
cleanup_outside
finish
