#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# devices_mknod_host_disk (catalogue L07): a container's root keeps
# CAP_MKNOD, so it can make a node for any device; the device cgroup
# (Docker's allow-list) must refuse to open any but the allowed ones. A
# loop device over a file holding a secret stands in for the host's disk:
# made inside the container with its major:minor, it opens with EPERM for
# reading and for writing, from the container's command, from `exec` and
# from a healthcheck probe, and the file stays unchanged. The allowed
# devices keep working. On this hybrid host both enforcers are applied
# (v1 devices controller, BPF program on the unified cgroup): each is shown
# to refuse on its own, with the other one widened or detached from the
# host. The BPF programs die with their cgroups; berth keeps no fd of them.
# A program the kernel refuses to load or attach stops the start.
. "$(dirname "$0")/lib.sh"

command -v losetup >/dev/null || skip "losetup (util-linux) is not installed"
[ -e /dev/loop-control ] || skip "this kernel has no loop devices"
[ -x "${BERTH_CGBPF:-}" ] || skip "BERTH_CGBPF (tests/fixtures/cgbpf.c) is not built"
V1=/sys/fs/cgroup/devices
# A pure v2 host has no v1 devices controller: the BPF program is the only
# enforcer there, and the v1 checks below are reported as skipped.
have_v1=0
[ -e "$V1/devices.list" ] && have_v1=1
V2=/sys/fs/cgroup/unified
[ -d "$V2" ] || V2=/sys/fs/cgroup
[ -e "$V2/cgroup.procs" ] || skip "no cgroup v2 mount"

load_image probe.tar

# --- the stand-in for a host disk ------------------------------------------
img=$T_DIR/disk.img
{
    printf 'HOST-ONLY-SECRET'
    head -c 65520 /dev/zero
} >"$img"
cp "$img" "$T_DIR/disk.orig"
loopdev=$(losetup -f --show "$img") || skip "cannot set up a loop device"
trap 'losetup -d "$loopdev" 2>/dev/null || true' EXIT
maj=$((16#$(stat -c %t "$loopdev")))
min=$((16#$(stat -c %T "$loopdev")))
say "loop device $loopdev is b $maj:$min"

mkdir -p "$T_DIR/devs/out"
new_project devs >/dev/null <<EOF
services:
  box:
    image: berth-test/probe
    command:
      - sh
      - -c
      - |
        probe mknod /tmp/disk b $maj $min > /out/main.txt
        probe devopen /tmp/disk >> /out/main.txt
        probe devices > /out/devices.txt
        echo done >> /out/main.txt
        exec sleep 3600
    volumes:
      - ./out:/out
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD-SHELL", "probe mknod /tmp/hc b $maj $min > /out/hc.tmp; probe devopen /tmp/hc >> /out/hc.tmp; mv /out/hc.tmp /out/health.txt"]
      interval: 200ms
  alone:
    image: berth-test/probe
    command: ["sh", "-c", "probe mknod /tmp/disk b $maj $min; exec sleep 3600"]
    stop_signal: SIGKILL
EOF

wait_file() { # wait_file FILE TEXT: up to 15 s
    for _ in $(seq 1 300); do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
cg_of() { # cg_of ROOT SERVICE: the container's cgroup directory
    local d
    for d in "$1/$T_CGBASE"/devs/"$2"/*/; do
        [ -d "$d" ] && echo "${d%/}" && return 0
    done
    return 1
}
host_file_intact() { cmp -s "$img" "$T_DIR/disk.orig"; }
prog_freed() {
    local rc=0
    "$BERTH_CGBPF" alive "$1" || rc=$?
    [ "$rc" -eq 1 ]
}
# gone ID: the BPF program no longer exists. The kernel releases a removed
# cgroup's programs from a workqueue after an RCU grace period, so the
# program may outlive the rmdir by a moment: wait for it, up to 5 s.
gone() { wait_until 5 prog_freed "$1"; }
# exec_open SERVICE: mknod the loop device in the container and open it
exec_open() {
    bz devs exec -T "$1" sh -c "rm -f /tmp/x; probe mknod /tmp/x b $maj $min; probe devopen /tmp/x" 2>&1
}

out=$(bz devs up -d 2>&1) || fail "up -d failed: $out"
check "the container's command ran" wait_file "$T_DIR/devs/out/main.txt" done

# --- the container's own command ---------------------------------------------
main=$(cat "$T_DIR/devs/out/main.txt" 2>/dev/null || true)
expect_contains "mknod of the host disk's major:minor is allowed (Docker's b *:* m)" "$main" "mknod=ok"
expect_contains "opening it for reading is refused" "$main" "open_r=EPERM"
expect_contains "opening it for writing is refused" "$main" "open_w=EPERM"
expect_not_contains "nothing of the secret is read" "$main" "HOST-ONLY-SECRET"

# --- the allowed devices still work ------------------------------------------
devs=$(cat "$T_DIR/devs/out/devices.txt" 2>/dev/null || true)
for k in null_open null_write null_read zero_open zero_read zero_write full_open urandom_open \
    urandom_read urandom_write random_open random_read random_write ptmx_open ptmx_unlock \
    pts_open pts_write; do
    expect_contains "allowed device: $k" "$devs" "$k=ok"
done
expect_contains "/dev/full answers for itself" "$devs" "full_write=ENOSPC"
# No terminal here: the tty driver's own ENXIO, past the device cgroup.
expect_contains "/dev/tty passes the device cgroup" "$devs" "tty_open=ENXIO"

# --- exec and healthcheck probes are confined too ------------------------------
ex=$(exec_open box)
expect_contains "exec: mknod allowed" "$ex" "mknod=ok"
expect_contains "exec: read refused" "$ex" "open_r=EPERM"
expect_contains "exec: write refused" "$ex" "open_w=EPERM"
check "a healthcheck probe ran" wait_file "$T_DIR/devs/out/health.txt" open_w=
hc=$(cat "$T_DIR/devs/out/health.txt" 2>/dev/null || true)
expect_contains "healthcheck: read refused" "$hc" "open_r=EPERM"
expect_contains "healthcheck: write refused" "$hc" "open_w=EPERM"
check "the host file is unchanged" host_file_intact

# --- what is in place -----------------------------------------------------------
box_v2=$(cg_of "$V2" box) || fail "no v2 cgroup for box"
alone_v2=$(cg_of "$V2" alone) || fail "no v2 cgroup for alone"
if [ "$have_v1" = 1 ]; then
    box_v1=$(cg_of "$V1" box) || fail "no v1 devices cgroup for box"
    alone_v1=$(cg_of "$V1" alone) || fail "no v1 devices cgroup for alone"
    list=$(cat "$box_v1/devices.list" 2>/dev/null | tr '\n' ',')
    expect_eq "the v1 list is Docker's" "$list" \
        "c *:* m,b *:* m,c 1:3 rwm,c 1:5 rwm,c 1:7 rwm,c 1:8 rwm,c 1:9 rwm,c 5:0 rwm,c 5:1 rwm,c 5:2 rwm,c 136:* rwm,c 10:200 rwm,"
else
    skip_check "the v1 devices list (no v1 devices controller on this host)"
fi
box_ids=$("$BERTH_CGBPF" ids "$box_v2")
alone_ids=$("$BERTH_CGBPF" ids "$alone_v2")
expect_eq "one device program on box's cgroup" "$(printf '%s\n' "$box_ids" | grep -c .)" 1
expect_eq "one device program on alone's cgroup" "$(printf '%s\n' "$alone_ids" | grep -c .)" 1
berth_bpf_fds() { # bpf fds held by any berth process
    local p n=0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$BERTH")" ] || continue
        n=$((n + $(find "$p/fd" -lname 'anon_inode:bpf-prog' 2>/dev/null | wc -l)))
    done
    echo "$n"
}
expect_eq "the supervisor keeps no BPF program fd" "$(berth_bpf_fds)" 0

# --- each enforcer on its own -----------------------------------------------------
if [ "$have_v1" = 1 ]; then
    # The BPF program alone: the host widens box's v1 list to everything.
    echo 'a *:* rwm' >"$box_v1/devices.allow"
    expect_eq "box's v1 list widened by the host" "$(cat "$box_v1/devices.list")" "a *:* rwm"
fi
ex=$(exec_open box)
expect_contains "BPF alone: read refused" "$ex" "open_r=EPERM"
expect_contains "BPF alone: write refused" "$ex" "open_w=EPERM"
# The v1 controller alone: the host detaches alone's BPF program.
"$BERTH_CGBPF" detach "$alone_v2" || fail "detaching alone's program"
expect_eq "alone has no device program left" "$("$BERTH_CGBPF" ids "$alone_v2")" ""
if [ "$have_v1" = 1 ]; then
    ex=$(exec_open alone)
    expect_contains "v1 alone: read refused" "$ex" "open_r=EPERM"
    expect_contains "v1 alone: write refused" "$ex" "open_w=EPERM"
    check "the host file is still unchanged" host_file_intact
    echo 'a *:* rwm' >"$alone_v1/devices.allow"
else
    skip_check "the v1 devices controller alone (no v1 devices controller on this host)"
fi
# Control: with both out of the way the same steps reach the host's file,
# so the refusals above are the device cgroup's.
ex=$(exec_open alone)
expect_contains "control: with neither enforcer the secret is read" "$ex" "data=HOST-ONLY-SECRET"
cp "$T_DIR/disk.orig" "$img"

# --- restart and recreate bring fresh rules; programs die with their cgroups ------
out=$(bz devs restart box 2>&1) || fail "restart failed: $out"
box_v2=$(cg_of "$V2" box) || fail "no v2 cgroup for box after restart"
if [ "$have_v1" = 1 ]; then
    box_v1=$(cg_of "$V1" box) || fail "no v1 devices cgroup for box after restart"
    expect_not_contains "restart: the v1 list is Docker's again" "$(cat "$box_v1/devices.list")" "a *:* rwm"
fi
new_ids=$("$BERTH_CGBPF" ids "$box_v2")
expect_eq "restart: one device program" "$(printf '%s\n' "$new_ids" | grep -c .)" 1
for id in $box_ids; do
    check "restart: the old program $id is gone" gone "$id"
done
ex=$(exec_open box)
expect_contains "restart: read refused" "$ex" "open_r=EPERM"
out=$(bz devs up -d --force-recreate alone 2>&1) || fail "recreate failed: $out"
alone_v2=$(cg_of "$V2" alone) || fail "no v2 cgroup for alone after recreate"
if [ "$have_v1" = 1 ]; then
    alone_v1=$(cg_of "$V1" alone) || fail "no v1 devices cgroup for alone after recreate"
    expect_not_contains "recreate: the v1 list is Docker's again" "$(cat "$alone_v1/devices.list")" "a *:* rwm"
fi
alone_ids=$("$BERTH_CGBPF" ids "$alone_v2")
expect_eq "recreate: one device program" "$(printf '%s\n' "$alone_ids" | grep -c .)" 1
ex=$(exec_open alone)
expect_contains "recreate: read refused" "$ex" "open_r=EPERM"
expect_contains "recreate: write refused" "$ex" "open_w=EPERM"
check "the host file is unchanged at the end" host_file_intact
out=$(bz devs down -t 1 2>&1) || fail "down failed: $out"
for id in $new_ids $alone_ids; do
    check "down: program $id is gone with its cgroup" gone "$id"
done

# --- fail closed: no program, no container -------------------------------------------
# strace makes the kernel refuse the program's load (the 2nd bpf call, after
# the query), then its attach (the 3rd): the container must not run.
if command -v strace >/dev/null; then
    new_project devfail >/dev/null <<'EOF2'
services:
  c:
    image: berth-test/probe
    command: ["sh", "-c", "echo COMMAND-RAN"]
EOF2
    for step in 2:loading 3:attaching; do
        rc=0
        # (LeakSanitizer cannot run under ptrace: off for this one run)
        out=$(cd "$T_DIR/devfail" && ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" strace -f -qq -o /dev/null \
            -e inject=bpf:error=EPERM:when="${step%%:*}" "$BERTH" up 2>&1) || rc=$?
        check "${step#*:} refused: up fails" test "$rc" -ne 0
        expect_contains "${step#*:} refused: one clear line" "$out" \
            "devfail-c-1: ${step#*:} the device cgroup program (BPF): Operation not permitted"
        expect_not_contains "${step#*:} refused: the container never ran" "$out" "COMMAND-RAN"
        check "${step#*:} refused: no cgroup is left" test -z "$(leaks_of devfail | grep cgroup)"
    done
else
    skip_check "the fail-closed checks (strace is not installed)"
fi

# --- /dev/tty with a terminal -------------------------------------------------------
new_project devtty >/dev/null <<'EOF'
services:
  term:
    image: berth-test/probe
    tty: true
    command: ["probe", "devices"]
EOF
out=$(bz devtty up 2>&1) || fail "up with tty failed: $out"
expect_contains "/dev/tty opens on a terminal" "$out" "tty_open=ok"
expect_contains "ptmx on a terminal" "$out" "ptmx_open=ok"

losetup -d "$loopdev" || fail "detaching $loopdev"
trap - EXIT
expect_eq "no loop device is left over the test's file" "$(losetup -j "$img")" ""
finish
