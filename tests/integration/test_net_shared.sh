#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A network shared by two projects: one makes it, the other names it as
# external. Their containers reach each other by address, and by service
# name, container name and alias through the embedded DNS server of
# either side, and by the aliases external_links give; a third project on
# a network of its own gets none of those names. A peer that stops is no
# longer answered. `down` of the owner keeps the network while the other
# project still uses it, and a second `down` removes it. Traffic goes only
# to the bridges this test made; subnets under one 10.X.0.0/16 of its own.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
PROBE=$BERTH_TEST_IMAGES/../berth-probe
[ -x "$PROBE" ] || skip "the probe program is not built"
load_image probe.tar

NET=10.$((40 + $$ % 10)) # 10.40-49: no other network test uses them
V6=fd43:$(printf %x $(($$ % 65536))) # IPv6 under fd43:Y::/32, of this test only
# The host's resolver, for names that are not berth's: the test's own,
# answering every name with a loopback address (in a container, its own).
FWD=127.0.0.75
"$PROBE" dnsserve $T_LO.76 "$FWD" >"$T_DIR/dnsserve.log" 2>&1 &
dns_pid=$!
trap 'kill "$dns_pid" 2>/dev/null || true' EXIT
echo "nameserver $T_LO.76" >"$T_DIR/resolv.conf"
export BERTH_RESOLV_CONF=$T_DIR/resolv.conf
SHARED=nshared-$$
svc() { # svc NAME: a service that sleeps
    printf '  %s:\n    image: berth-test/probe\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' "$1"
}

new_project nsa >/dev/null <<EOF
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-a > /www/index.html && exec httpd -f -p 80 -h /www"]
    networks:
      shared:
        aliases: [www]
    stop_signal: SIGKILL
  late:
    image: berth-test/probe
    command: ["sleep", "3600"]
    networks: [shared]
    stop_signal: SIGKILL
networks:
  shared:
    name: $SHARED
    enable_ipv6: true
    ipam:
      config: [{subnet: $NET.1.0/24}, {subnet: "$V6::/64"}]
EOF
new_project nsb >/dev/null <<EOF
services:
$(svc client)
    networks: [shared]
    external_links: ["nsa-web-1:legacy"]
networks:
  shared:
    name: $SHARED
    external: true
EOF
new_project nsc >/dev/null <<EOF
services:
$(svc client)
networks:
  default:
    ipam:
      config: [{subnet: $NET.2.0/24}]
EOF

out=$(bz nsa up -d web 2>&1) || fail "up -d of the owner failed: $out"
out=$(bz nsb up -d 2>&1) || fail "up -d of the project naming it external failed: $out"
out=$(bz nsc up -d 2>&1) || fail "up -d of the third project failed: $out"

get() { bz "$1" exec -T "$2" timeout 5 wget -qO- "$3" 2>&1; }
addr() { # addr PROJECT SERVICE NAME: the IPv4 address the embedded server answers
    bz "$1" exec -T "$2" nslookup -type=a "$3" 127.0.0.11 2>/dev/null |
        awk '/^Name:/ { n = 1 } n && /^Address/ { a = $NF } END { print a }' || true
}
web_ip=$(bz nsa exec -T web ip -4 -o addr show eth0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }') || true
check "web has an address on the shared network ($web_ip)" contains "$web_ip" "$NET.1."
check "the other project reaches it by address" wait_until 10 \
    bz nsb exec -T client timeout 2 wget -qO- "http://$web_ip/"
expect_eq "... by its service name" "$(get nsb client http://web/)" hello-from-a
expect_eq "... by its container name" "$(get nsb client http://nsa-web-1/)" hello-from-a
expect_eq "... by its alias" "$(get nsb client http://www/)" hello-from-a
expect_eq "... by the alias external_links gives it" "$(get nsb client http://legacy/)" hello-from-a
web_ip6=$(bz nsa exec -T web ip -6 -o addr show eth0 scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }') || true
check "web has an IPv6 address on the shared network ($web_ip6)" contains "$web_ip6" "$V6::"
expect_contains "the other project gets web's AAAA record" \
    "$(bz nsb exec -T client nslookup -type=aaaa web 127.0.0.11 2>&1)" "$web_ip6"
client_ip=$(bz nsb exec -T client ip -4 -o addr show eth0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }') || true
expect_eq "the owner's side resolves the other project's service" "$(addr nsa web client)" "$client_ip"
expect_eq "the owner's container does not get external_links' alias (forwarded)" \
    "$(addr nsa web legacy)" "$FWD"
expect_eq "a project on another network does not get web's name (forwarded)" \
    "$(addr nsc client web)" "$FWD"
out=$(get nsc client "http://$web_ip/") && fail "the third project reached web: $out" || pass

# An attached one-off (no supervisor serves it) has a DNS server of its
# own: it answers names of containers started after the one-off, and
# forwards the rest.
expect_eq "an attached run's resolv.conf names its own server" \
    "$(bz nsb run --rm -T client grep nameserver /etc/resolv.conf 2>&1)" "nameserver 127.0.0.11"
expect_eq "an attached run forwards other names" \
    "$(bz nsb run --rm -T client sh -c "nslookup -type=a elsewhere.example 127.0.0.11 | awk '/^Name:/ { n = 1 } n && /^Address/ { print \$NF }'" 2>&1)" "$FWD"
bz nsb run --rm -T client sh -c 'for i in $(seq 1 100); do
        a=$(nslookup -type=a late 127.0.0.11 2>/dev/null | awk "/^Name:/ { n = 1 } n && /^Address/ { print \$NF }")
        case $a in 10.*) echo "$a"; exit 0 ;; esac
        sleep 0.1
    done; echo none' >"$T_DIR/late.out" 2>&1 &
oneoff=$!
sleep 1
out=$(bz nsa up -d late 2>&1) || fail "up -d late failed: $out"
wait "$oneoff" || true
late_ip=$(bz nsa exec -T late ip -4 -o addr show eth0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }') || true
expect_eq "an attached run resolves a container started after it" "$(cat "$T_DIR/late.out")" "$late_ip"

bz nsa stop web >/dev/null 2>&1 || fail "stop web failed"
expect_eq "a stopped peer is no longer answered (forwarded)" "$(addr nsb client web)" "$FWD"

# The owner's down keeps the network while nsb is on it; then it goes.
out=$(bz nsa down -t 1 2>&1) || fail "down of the owner failed: $out"
expect_contains "down says the network is still in use" "$out" "still in use"
check "the shared network's record stays" test -e "$BERTH_ROOT/network/nets/$SHARED.json"
bz nsb down -t 1 >/dev/null 2>&1 || fail "down of nsb failed"
bz nsc down -t 1 >/dev/null 2>&1 || fail "down of nsc failed"
check "the record stays after the user's down (it is not nsb's)" \
    test -e "$BERTH_ROOT/network/nets/$SHARED.json"
out=$(bz nsa down -t 1 2>&1) || fail "second down of the owner failed: $out"
check "the owner's second down removes it" test ! -e "$BERTH_ROOT/network/nets/$SHARED.json"
kill "$dns_pid" 2>/dev/null || true
finish
