#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth's x-berth-network extension with real containers on a test network:
# a 4 MB transfer (busybox httpd and wget) takes the time its rate says,
# for egress (what the shaped container sends) and ingress (what it
# receives), within 20%, for a one-off of `run` too; `up` after a change of
# the rate applies it to the running container without recreating it, and
# removing the key removes the shaping; netem's delay measured by ping
# (skipped where the kernel has no sch_netem, after checking the clear
# error instead); a malformed value and network_mode: host are one clear
# error with nothing made; nothing left after down (ifb devices, the veths
# with their qdiscs). Traffic goes only between the test's own containers,
# on its own subnet.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
# ifb devices: the kernel's, probed in a namespace of the test's own.
PROBE_NS=bw-probe-$$
ip netns add "$PROBE_NS"
ifb_ok=true
ip -n "$PROBE_NS" link add bwprobe type ifb 2>/dev/null || ifb_ok=false
ip netns del "$PROBE_NS"
$ifb_ok || skip "this kernel has no ifb devices"
load_image busybox-docker.tar

# The test's own /24 in 10.50-54.x.0 (build trees may run it at once).
NET=10.$((50 + $$ % 5)).$(((($$ / 5) % 250) + 1))
PORT=$((32000 + $$ % 1990))
KB=4000         # the file: 4 MB, 4.1 s at 8mbit
WANT_MS=4096    # KB * 1024 bytes at 1,000,000 bytes a second

new_project bw >/dev/null <<EOF2
x-web: &web
  image: busybox:latest
  command: ["sh", "-c", "mkdir -p /www && dd if=/dev/zero of=/www/f bs=1024 count=$KB 2>/dev/null && exec httpd -f -p $PORT -h /www"]
  stop_signal: SIGKILL
  networks: [n]
x-sleeper: &sleeper
  image: busybox:latest
  command: ["sleep", "3600"]
  stop_signal: SIGKILL
  networks: [n]
services:
  src:
    <<: *web
    x-berth-network: {egress: 8mbit}
  web: *web
  dst:
    <<: *sleeper
    x-berth-network: {ingress: 8mbit}
  cli: *sleeper
networks:
  n:
    ipam:
      config: [{subnet: $NET.0/24}]
EOF2

# xfer FROM TO: milliseconds FROM takes to fetch the file from TO.
xfer() {
    local s e
    s=$(date +%s%N)
    bz bw exec "$1" wget -q -O /dev/null "http://$2:$PORT/f" >/dev/null 2>&1 || {
        echo 999999
        return
    }
    e=$(date +%s%N)
    echo $(((e - s) / 1000000))
}
# within20 MS WANT: MS within 20% of WANT.
within20() { [ "$1" -ge $(($2 * 8 / 10)) ] && [ "$1" -le $(($2 * 12 / 10)) ]; }
# rate_check DESCRIPTION MS WANT: the 20% check, skipped (with the figure
# said) under an emulated CPU, where the copy itself, not the shaper, sets
# the time (the cgroup v2 VM: shaping does not depend on cgroups).
rate_check() {
    if [ -n "${BERTH_TEST_EMULATED:-}" ]; then
        skip_check "$1: timings under an emulated CPU are not the shaper's"
    else
        check "$1" within20 "$2" "$3"
    fi
}
# shaped MS: a transfer's time without what an unshaped one of the same size
# takes (the exec, wget's start, the copy at line rate: 20 ms here, 200 ms
# or more under emulation), which no rate limit causes.
shaped() { echo $(($1 - base)); }
served() { bz bw exec cli wget -q -O /dev/null "http://$1:$PORT/f"; }
id_of() { bz bw ps -q "$1" || true; }
ifb_of() { echo "bw$(id_of "$1" | cut -c1-12)0"; }
start_of() { # the container's pid and its start time: the same run
    local f=$BERTH_RUNROOT/bw/bw-$1-1.json
    echo "$(pid_of_state "$f" || true):$(pid_of_state "$f" start_time || true)"
}
# The host side of the container's eth0 (its ifindex), for the check that
# down removed it with its qdiscs ("none" when it does not run). The
# helpers never fail: the test goes on to its leak check.
host_ifindex() {
    local pid
    pid=$(pid_of_state "$BERTH_RUNROOT/bw/bw-$1-1.json") || {
        echo none
        return
    }
    nsenter --net=/proc/$pid/ns/net ip -o link show eth0 2>/dev/null |
        sed -n 's/.*eth0@if\([0-9]*\):.*/\1/p'
}

check "up starts the shaped stack" bz bw up -d
check "the servers answer" wait_until 30 served src
check "the servers answer" wait_until 30 served web
src_ifb=$(ifb_of src)
expect_contains "src's ifb device carries the 8mbit tbf" "$(tc qdisc show dev "$src_ifb" 2>&1)" \
    "rate 8Mbit"
dst_if=$(host_ifindex dst)
src_if=$(host_ifindex src)
expect_contains "dst's veth carries the 8mbit tbf" "$(tc qdisc show 2>&1 | grep "tbf 1: dev" || true)" \
    "rate 8Mbit"
check "no ifb device for the unshaped services" test ! -e "/sys/class/net/$(ifb_of web)"

base=$(xfer cli web)
say "unshaped: $KB KB in $base ms"
check "an unshaped transfer takes under half the shaped time (${base} ms)" test "$base" -lt $((WANT_MS / 2))
ms=$(shaped "$(xfer cli src)")
say "egress 8mbit: $KB KB in $ms ms beyond the unshaped time (want $WANT_MS)"
rate_check "egress 8mbit: 4 MB in ${ms} ms, within 20% of $WANT_MS" "$ms" $WANT_MS
ms=$(shaped "$(xfer dst web)")
say "ingress 8mbit: $KB KB in $ms ms beyond the unshaped time (want $WANT_MS)"
rate_check "ingress 8mbit: 4 MB in ${ms} ms, within 20% of $WANT_MS" "$ms" $WANT_MS

# A one-off of a shaped service (`run`, its own namespace) is shaped too.
# Timed inside (busybox time: "real	0m 4.32s"), without the start.
out=$(bz bw run --rm dst time wget -q -O /dev/null "http://web:$PORT/f" 2>&1) || fail "run dst: $out"
ms=$(printf '%s\n' "$out" | sed -n 's/^real[[:space:]]*\([0-9]*\)m \([0-9]*\)\.\([0-9][0-9]\)s.*/\1 \2 \3/p' |
    { read -r m sec cs && echo $(((m * 60 + sec) * 1000 + 10#$cs * 10)) || echo 999999; })
say "run, ingress 8mbit: $KB KB in $ms ms (want $WANT_MS)"
rate_check "run: ingress 8mbit, 4 MB in ${ms} ms, within 20% of $WANT_MS" "$ms" $WANT_MS

# A new rate: applied in place, the container is not recreated.
id1=$(id_of src)
run1=$(start_of src)
sed -i 's/egress: 8mbit/egress: 16mbit/' "$T_DIR/bw/compose.yaml"
out=$(bz bw up -d 2>&1) || fail "up with a new rate: $out"
expect_not_contains "a new rate does not recreate the container" "$out" "Recreate"
expect_eq "the same container" "$(id_of src)" "$id1"
expect_eq "the same run (pid and start time)" "$(start_of src)" "$run1"
expect_contains "the ifb's tbf has the new rate" "$(tc qdisc show dev "$src_ifb" 2>&1)" \
    "rate 16Mbit"
ms=$(shaped "$(xfer cli src)")
say "egress 16mbit: $KB KB in $ms ms beyond the unshaped time (want $((WANT_MS / 2)))"
rate_check "egress 16mbit: 4 MB in ${ms} ms, within 20% of $((WANT_MS / 2))" \
    "$ms" $((WANT_MS / 2))
# The record keeps it: a restart by the supervisor shapes the same.
check "restart src" bz bw restart -t 1 src
check "src serves again" wait_until 30 served src
expect_contains "after a restart, still 16mbit" "$(tc qdisc show dev "$src_ifb" 2>&1)" \
    "rate 16Mbit"

# The key removed: no shaping left, still the same container.
sed -i '/egress: 16mbit/d' "$T_DIR/bw/compose.yaml"
out=$(bz bw up -d 2>&1) || fail "up without the key: $out"
expect_eq "the same container without the key" "$(id_of src)" "$id1"
check "the ifb device is gone with the key" test ! -e "/sys/class/net/$src_ifb"
ms=$(xfer cli src)
check "unshaped again (${ms} ms)" test "$ms" -lt $((WANT_MS / 2))

check "down" bz bw down -t 1
gone() { [ -n "$1" ] && [ "$1" != none ] && ! ip -o link show | grep -q "^$1:"; }
check "down removed dst's veth ($dst_if) and its qdiscs" gone "$dst_if"
check "down removed src's veth ($src_if) and its qdiscs" gone "$src_if"

# netem: delay measured by ping, where the kernel has it.
new_project bwlag >/dev/null <<EOF2
services:
  lag:
    image: busybox:latest
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    networks: [n]
    x-berth-network: {delay: 50ms, jitter: 1ms, loss: 0.001%, egress: 8mbit}
  peer:
    image: busybox:latest
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    networks: [n]
networks:
  n:
    ipam:
      config: [{subnet: $NET.128/25}]
EOF2
if out=$(bz bwlag up -d 2>&1); then
    rtt=$(bz bwlag exec peer ping -c 5 -q lag 2>&1 | sed -n 's|.*= [0-9.]*/\([0-9]*\)[0-9.]*/.*|\1|p' || true)
    say "netem delay 50ms: ping's average ${rtt:-?} ms"
    check "netem delay 50ms: ping's average ${rtt:-?} ms is 50 to 80" \
        test "${rtt:-0}" -ge 50 -a "${rtt:-999}" -le 80
    lag_q=$(tc qdisc show dev "bw$(bz bwlag ps -q lag | cut -c1-12)0" 2>&1 || true)
    expect_contains "lag's ifb: netem at the root" "$lag_q" "qdisc netem 1: root"
    expect_contains "... with the delay" "$lag_q" "delay 50"
    expect_contains "... and the loss" "$lag_q" "loss 0.001"
    expect_contains "... and the rate's tbf below it" "$lag_q" "qdisc tbf a: parent 1:1" # (tc prints handles in hex)
else
    expect_contains "a kernel without netem: the start error names the service and the key" \
        "$out" "service \"lag\": x-berth-network"
    expect_contains "... and says what is missing" "$out" "no netem qdisc (sch_netem)"
    lag_id=$(bz bwlag ps -aq lag | cut -c1-12 || true)
    check "lag's container is known" test -n "$lag_id"
    check "no ifb device of lag is left after its failed start" test ! -e "/sys/class/net/bw${lag_id}0"
    skip_check "netem delay measured by ping: this kernel has no sch_netem"
fi
check "down bwlag" bz bwlag down -t 1

# Bad input: one line naming file:line, service and key; nothing made.
new_project bwbad >/dev/null <<EOF2
services:
  a:
    image: busybox:latest
    networks: [n]
    x-berth-network: {egress: 10mbps, ingress: fast}
networks:
  n:
    ipam:
      config: [{subnet: $NET.0/26}]
EOF2
out=$(bz bwbad up -d 2>&1) && fail "a malformed rate is refused"
expect_contains "a malformed rate: file:line, service and key" "$out" \
    'compose.yaml:5:48: service "a": x-berth-network.ingress: invalid rate "fast"'
expect_eq "... in one line" "$(printf '%s\n' "$out" | grep -c .)" 1
check "... and nothing created" test -z "$(bz bwbad ps -aq)"
check "... no network record" test -z "$(ls "$BERTH_ROOT"/network/nets 2>/dev/null)"
new_project bwhost >/dev/null <<'EOF2'
services:
  a:
    image: busybox:latest
    network_mode: host
    x-berth-network: {egress: 10mbit}
EOF2
out=$(bz bwhost up -d 2>&1) && fail "network_mode: host with x-berth-network is refused"
expect_contains "network_mode: host is an error naming the key" "$out" \
    'compose.yaml:5:22: service "a": x-berth-network: network_mode: host'
check "... and nothing created" test -z "$(bz bwhost ps -aq)"

finish
