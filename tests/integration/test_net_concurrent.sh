#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Projects brought up at the same moment, each with its default network
# from docker's pools and three containers on it: every up succeeds, no
# two networks get overlapping subnets and no two containers the same
# address (subnets are chosen under one host-wide lock, addresses under
# the store's). Also a second store's project of the same name at the
# same time: its own network and nftables table. No traffic is sent.
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
load_image probe.tar

N=4
stack() {
    printf 'services:\n'
    for s in a b c; do
        printf '  %s:\n    image: berth-test/probe\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n' "$s"
    done
}
for i in $(seq 1 $N); do
    new_project "nc$i" >/dev/null < <(stack)
done

pids=()
for i in $(seq 1 $N); do
    (bz "nc$i" up -d >"$T_DIR/up$i.log" 2>&1) &
    pids+=($!)
done
for i in $(seq 1 $N); do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    check "up -d of nc$i at the same moment succeeded ($(tail -1 "$T_DIR/up$i.log"))" test "$rc" -eq 0
done

subnets=$(cat "$BERTH_ROOT"/network/nets/*.json | sed -n 's/.*"subnet4": "\([^"]*\)".*/\1/p' | sort)
expect_eq "one network per project" "$(printf '%s\n' "$subnets" | grep -c .)" "$N"
expect_eq "no two networks share a subnet" "$(printf '%s\n' "$subnets" | sort -u | grep -c .)" "$N"
# (docker's pools are /16s and /20s, all of one size here: distinct is disjoint)
addrs=$(for i in $(seq 1 $N); do
    for s in a b c; do
        bz "nc$i" exec -T "$s" ip -4 -o addr show eth0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }'
    done
done)
expect_eq "every container has an address" "$(printf '%s\n' "$addrs" | grep -c .)" "$((N * 3))"
expect_eq "no two containers share one" "$(printf '%s\n' "$addrs" | sort -u | grep -c .)" "$((N * 3))"

# A project of the same name in another store, at the same time: its own
# network, and its own nftables table beside this store's.
other=$T_DIR/other-store
mkdir -p "$other/root" "$other/run"
(export BERTH_ROOT=$other/root BERTH_RUNROOT=$other/run && "$BERTH" load -i "$BERTH_TEST_IMAGES/probe.tar" >/dev/null &&
    cd "$T_DIR/nc1" && "$BERTH" up -d >"$T_DIR/other-up.log" 2>&1) ||
    fail "up -d of nc1 in another store failed: $(cat "$T_DIR/other-up.log")"
if command -v nft >/dev/null; then
    ocg=berth-$(realpath -m "$other/root" | tr -d '\n' | sha256sum | cut -c1-8)
    check "this store's table of nc1 is there" nft list table inet "$T_CGBASE-nc1"
    check "and the other store's" nft list table inet "$ocg-nc1"
else
    skip_check "nft is not installed (the two stores' tables)"
fi
(export BERTH_ROOT=$other/root BERTH_RUNROOT=$other/run && cd "$T_DIR/nc1" && "$BERTH" down -t 1 >/dev/null 2>&1) ||
    fail "down of nc1 in the other store failed"
if command -v nft >/dev/null; then
    check "the other store's down left this store's table" nft list table inet "$T_CGBASE-nc1"
    check "and removed its own" bash -c "! nft list table inet $ocg-nc1 >/dev/null 2>&1"
fi
finish
