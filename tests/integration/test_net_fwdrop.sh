#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What networks need of the host to forward: IP forwarding, which `up`
# turns on where it is off and says so once; and a firewall that does not
# drop forwarded packets by default (docker and ufw set FORWARD's policy
# to drop): `up` says so, naming the chain, since the containers would
# otherwise just have no way out. Not when a rule of that table accepts
# berth's bridges, nor for an internal network. The
# whole test runs in a network namespace of its own, so that its
# firewall is no other test's; its chain accepts everything anyway.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v nft >/dev/null || skip "nft is not installed"
load_image probe.tar

NS=bt-fw-$$
cleanup_ns() {
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
}
trap cleanup_ns EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
inns() { nsenter --net="/run/netns/$NS" "$@"; } # (ip netns exec would remount /sys)
# bn PROJECT ARGS...: berth in the test's namespace
bn() {
    local p=$1
    shift
    (cd "$T_DIR/$p" && inns "$BERTH" "$@")
}
inns nft -f - <<'NFT'
table inet fwtest {
    chain FORWARD {
        type filter hook forward priority 0; policy drop;
        counter accept
    }
}
NFT

new_project fwa >/dev/null <<EOF
services:
  app:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
networks:
  default:
    ipam:
      config: [{subnet: 10.$((90 + $$ % 10)).1.0/24}]
EOF
new_project fwi >/dev/null <<EOF
services:
  app:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
networks:
  default:
    internal: true
    ipam:
      config: [{subnet: 10.$((90 + $$ % 10)).2.0/24}]
EOF

inns sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward' # (a new namespace may inherit the host's)
expect_eq "forwarding is off in the test's namespace" "$(inns cat /proc/sys/net/ipv4/ip_forward)" 0
out=$(bn fwa up -d 2>&1) || fail "up -d failed: $out"
expect_contains "up turns IPv4 forwarding on and says so" "$out" \
    "IPv4 forwarding was off; turned it on (net.ipv4.ip_forward=1)"
expect_eq "forwarding is on" "$(inns cat /proc/sys/net/ipv4/ip_forward)" 1
expect_contains "up says the firewall drops forwarded traffic" "$out" "drops forwarded traffic"
expect_contains "... naming the chain" "$out" "inet fwtest FORWARD"
bn fwa down -t 1 >/dev/null 2>&1 || fail "down failed"

out=$(bn fwi up -d 2>&1) || fail "up -d of an internal network failed: $out"
expect_not_contains "not for an internal network" "$out" "drops forwarded"
expect_not_contains "forwarding, on already, is not said again" "$out" "forwarding was off"
bn fwi down -t 1 >/dev/null 2>&1 || fail "down failed"

inns nft insert rule inet fwtest FORWARD oifname '"br-*"' accept
out=$(bn fwa up -d 2>&1) || fail "up -d failed: $out"
expect_not_contains "not when a rule accepts berth's bridges" "$out" "drops forwarded"
bn fwa down -t 1 >/dev/null 2>&1 || fail "down failed"

cleanup_ns
finish
