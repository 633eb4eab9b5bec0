#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The resource keys at run time, read back from the container's own
# cgroups on this host's layout (v1/hybrid or v2): cpu_shares, cpu_quota,
# cpu_period, cpuset, cpu_rt_runtime, mem_reservation, memswap_limit,
# mem_swappiness and blkio_config; a dd with O_DIRECT to a loop device this
# test makes, throttled by device_write_bps and measured under the limit;
# that device given to the container with `devices:` and usable there,
# and device_cgroup_rules opening one more; storage_opt size with a
# project quota where the file system has them. Bad input (a CPU the host
# does not have, a block device or a device that does not exist, a device
# rule Docker would not take, a storage size the store cannot enforce):
# one line naming the file:line, service and key, a non-zero exit,
# nothing left.
. "$(dirname "$0")/lib.sh"

command -v losetup >/dev/null || skip "losetup is not installed"
load_image probe.tar

# The loop device the I/O checks write to (and detach at the end).
LOOP=""
QMNT=""
qloop=""
cleanup_res() {
    [ -z "$QMNT" ] || umount "$QMNT" 2>/dev/null || true
    [ -z "$qloop" ] || losetup -d "$qloop" 2>/dev/null || true
    [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
    LOOP="" QMNT="" qloop=""
}
trap cleanup_res EXIT
truncate -s 64M "$T_DIR/disk.img"
LOOP=$(losetup -f --show "$T_DIR/disk.img") || skip "no loop device can be made here"
read -r LMAJ LMIN < <(stat -Lc '%t %T' "$LOOP")
LMAJ=$((16#$LMAJ)) LMIN=$((16#$LMIN))

V2=false
[ -e /sys/fs/cgroup/cgroup.controllers ] && V2=true
# ctl CONTROLLER FILE: the file of the running container's cgroup.
ctl() {
    if $V2; then
        cat "/sys/fs/cgroup/$T_CGBASE/resk/lim/resk-lim-1/$2"
    else
        cat "/sys/fs/cgroup/$1/$T_CGBASE/resk/lim/resk-lim-1/$2"
    fi
}
rt=false
! $V2 && [ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] && rt=true
memsw=false
$V2 || [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] && memsw=true

# --- The knobs, read back --------------------------------------------------
{
    cat <<'EOF'
services:
  lim:
    image: berth-test/probe
    network_mode: none
    stop_signal: SIGKILL
    cpu_shares: 512
    cpu_quota: 25000
    cpu_period: 50000
    cpuset: "0"
    mem_limit: 64m
    mem_reservation: 32m
    mem_swappiness: 10
EOF
    ! $memsw || echo '    memswap_limit: 96m'
    ! $rt || echo '    cpu_rt_runtime: 10000'
    cat <<EOF
    blkio_config:
      device_read_bps: [{path: $LOOP, rate: 2mb}]
      device_write_bps: [{path: $LOOP, rate: "1m"}]
      device_read_iops: [{path: $LOOP, rate: 300}]
      device_write_iops: [{path: $LOOP, rate: 200}]
    volumes: ["./sig:/sig"]
    # Lives until the test has read its cgroup (or 30 s have passed).
    command: ["sh", "-c", "n=0; while [ ! -e /sig/go ] && [ \$\$n -lt 600 ]; do sleep 0.05; n=\$\$((n + 1)); done"]
EOF
} >"$T_DIR/resk.yaml"
new_project resk <"$T_DIR/resk.yaml" >/dev/null
mkdir -p "$T_DIR/resk/sig"
(cd "$T_DIR/resk" && "$BERTH" up >"$T_DIR/resk.out" 2>&1; echo "rc=$?" >>"$T_DIR/resk.out") &
uppid=$!
if ! wait_until 30 ctl cpuset cpuset.cpus; then
    fail "the lim service's cgroup appears"
    cat "$T_DIR/resk.out" >&2
fi
dev="$LMAJ:$LMIN"
if $V2; then
    expect_eq "cpu_shares 512 is cpu.weight 20" "$(ctl cpu cpu.weight)" 20
    expect_eq "cpu_quota/cpu_period are cpu.max" "$(ctl cpu cpu.max)" "25000 50000"
    expect_eq "mem_reservation is memory.low" "$(ctl memory memory.low)" $((32 << 20))
    expect_eq "memswap_limit 96m with 64m is swap.max 32m" "$(ctl memory memory.swap.max)" \
        $((32 << 20))
    io=$(ctl blkio io.max)
    expect_contains "blkio_config is io.max" "$io" "$dev rbps=2097152 wbps=1048576 riops=300 wiops=200"
    expect_contains "mem_swappiness on cgroup v2: Docker's warning" "$(cat "$T_DIR/resk.out")" \
        "Memory swappiness discarded."
else
    expect_eq "cpu_shares is cpu.shares" "$(ctl cpu cpu.shares)" 512
    expect_eq "cpu_quota is cfs_quota_us" "$(ctl cpu cpu.cfs_quota_us)" 25000
    expect_eq "cpu_period is cfs_period_us" "$(ctl cpu cpu.cfs_period_us)" 50000
    expect_eq "mem_reservation is the soft limit" "$(ctl memory memory.soft_limit_in_bytes)" \
        $((32 << 20))
    expect_eq "mem_swappiness is memory.swappiness" "$(ctl memory memory.swappiness)" 10
    expect_not_contains "mem_swappiness: nothing said on v1" "$(cat "$T_DIR/resk.out")" \
        "swappiness"
    if $memsw; then
        expect_eq "memswap_limit is memsw" "$(ctl memory memory.memsw.limit_in_bytes)" $((96 << 20))
    else
        skip_check "memswap_limit: this kernel has no swap accounting (memory.memsw.*)"
    fi
    if $rt; then
        expect_eq "cpu_rt_runtime is cpu.rt_runtime_us" "$(ctl cpu cpu.rt_runtime_us)" 10000
    else
        skip_check "cpu_rt_runtime: this kernel has no real-time group scheduling"
    fi
    expect_eq "device_read_bps" "$(ctl blkio blkio.throttle.read_bps_device)" "$dev 2097152"
    expect_eq "device_write_bps" "$(ctl blkio blkio.throttle.write_bps_device)" "$dev 1048576"
    expect_eq "device_read_iops" "$(ctl blkio blkio.throttle.read_iops_device)" "$dev 300"
    expect_eq "device_write_iops" "$(ctl blkio blkio.throttle.write_iops_device)" "$dev 200"
fi
expect_eq "cpuset is cpuset.cpus" "$(ctl cpuset cpuset.cpus)" 0
touch "$T_DIR/resk/sig/go"
wait $uppid || true
expect_contains "the service ran to its end" "$(cat "$T_DIR/resk.out")" "rc=0"
bz resk down >/dev/null 2>&1

# --- A throttled write to a device given with devices: ---------------------
# 4 MiB written with O_DIRECT at 1 MiB/s takes about 4 s; /proc/uptime
# (centiseconds) times it inside. Then a marker written there is read on
# the host; /dev/zero given as /dev/full replaces the standard node;
# a device_cgroup_rules entry lets /dev/fuse's number be opened
# (the driver answers, not the device cgroup), one not listed is refused.
cat >"$T_DIR/io.sh" <<'EOF'
t0=$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero of=/dev/xdisk bs=64k count=64 oflag=direct 2>/dev/null || echo "dd failed"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "elapsed ${t0} ${t1}"
printf berth-res-marker | dd of=/dev/xdisk bs=512 seek=100000 conv=notrunc 2>/dev/null && echo marker written
mknod /dev/fz c 10 229 && cat /dev/fz 2>&1 | sed 's/^/fuse: /'
mknod /dev/km c 1 11 && cat /dev/km 2>&1 | sed 's/^/kmsg: /'
ls -l /dev/xdisk
stat -c 'full: %t:%T' /dev/full
EOF
new_project resio >/dev/null <<EOF
services:
  io:
    image: berth-test/probe
    network_mode: none
    devices: ["$LOOP:/dev/xdisk:rwm", "/dev/zero:/dev/full"]
    device_cgroup_rules: ["c 10:229 rw"]
    blkio_config:
      device_write_bps: [{path: $LOOP, rate: 1mb}]
    volumes: ["$T_DIR/io.sh:/io.sh:ro"]
    command: ["sh", "/io.sh"]
EOF
out=$(bz resio up 2>&1) || true
bz resio down >/dev/null 2>&1
read -r t0 t1 < <(printf '%s\n' "$out" | sed -n 's/.*elapsed \([0-9.]*\) \([0-9.]*\).*/\1 \2/p')
if [ -n "${t0:-}" ]; then
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
    kbps=$(awk -v ms="$ms" 'BEGIN { printf "%d", (ms > 0 ? 4096 * 1000 / ms : 999999) }')
    say "res: 4 MiB O_DIRECT under device_write_bps 1mb: ${ms} ms, ${kbps} KiB/s"
    # The limit is 1024 KiB/s; 20% over is a failure.
    check "the throttled write stays under 1 MiB/s (+20%) (got ${kbps} KiB/s)" test "$kbps" -le 1228
else
    fail "the dd inside did not report its time:"
    printf '%s\n' "$out" | sed 's/^/    | /' >&2
fi
expect_not_contains "dd to the device given with devices: works" "$out" "dd failed"
expect_contains "the device node is made in the container's /dev, as the host's" "$out" \
    "$(stat -Lc %A "$LOOP")    1 root     root        $LMAJ,   $LMIN"
expect_contains "a marker is written through it" "$out" "marker written"
expect_contains "a device naming a standard node replaces it" "$out" "full: 1:5"
check "the marker is on the host's loop device" \
    grep -q berth-res-marker < <(dd if="$LOOP" bs=512 skip=100000 count=1 2>/dev/null)
expect_contains "the node device_cgroup_rules names was tried" "$out" "fuse: cat: "
expect_not_contains "device_cgroup_rules c 10:229 rw lets it be opened" "$out" \
    "fuse: cat: can't open '/dev/fz': Operation not permitted"
expect_contains "a device outside the rules is refused by the device cgroup" "$out" \
    "kmsg: cat: can't open '/dev/km': Operation not permitted"

# --- Bad input: one line, nothing made -------------------------------------
# bad NAME DESCRIPTION NEEDLE: a service with the key lines on stdin fails
# at up with one line holding NEEDLE, and leaves nothing behind.
bad() {
    local name=$1 what=$2 needle=$3 out rc=0
    {
        printf 'services:\n  x:\n    image: berth-test/probe\n    network_mode: none\n'
        printf '    command: ["true"]\n'
        cat
    } >"$T_DIR/$name.yaml"
    new_project "$name" <"$T_DIR/$name.yaml" >/dev/null
    out=$(bz "$name" up 2>&1) || rc=$?
    check "$what: up fails" test "$rc" -ne 0
    expect_eq "$what: one line" "$(printf '%s\n' "$out" | wc -l)" 1
    expect_contains "$what: the message" "$out" "$needle"
    check "$what: nothing left" test -z "$(leaks_of "$name")"
    check "$what: no container made" test -z "$(bz "$name" ps -a -q 2>/dev/null)"
    bz "$name" down >/dev/null 2>&1 || true
}
bad rescpu "a CPU the host does not have" \
    'compose.yaml:6:13: service "x": cpuset: CPU 4000 is not online on this host' <<'EOF'
    cpuset: "0,4000"
EOF
bad resblk "a blkio device that does not exist" \
    'compose.yaml:7:32: service "x": blkio_config.device_read_bps: device /dev/berth-no-disk: No such file or directory' <<'EOF'
    blkio_config:
      device_read_bps: [{path: /dev/berth-no-disk, rate: 1mb}]
EOF
bad resnotblk "a blkio path that is not a block device" \
    'service "x": blkio_config.device_write_iops: /dev/null is not a block device' <<'EOF'
    blkio_config:
      device_write_iops: [{path: /dev/null, rate: 10}]
EOF
bad resdev "a device that does not exist" \
    'compose.yaml:6:15: service "x": devices: device /dev/berth-no-dev: No such file or directory' <<'EOF'
    devices: ["/dev/berth-no-dev"]
EOF
bad resrule "a device rule Docker would not take" \
    'compose.yaml:6:27: service "x": device_cgroup_rules: invalid rule "c 1:3"' <<'EOF'
    device_cgroup_rules: ["c 1:3"]
EOF
if ! $V2 && [ ! -e /sys/fs/cgroup/blkio/blkio.weight ] && [ ! -e /sys/fs/cgroup/blkio/blkio.bfq.weight ]; then
    bad resweight "a blkio weight this kernel cannot set" \
        'service "x": blkio_config.weight: this kernel has no cgroup file blkio.weight nor blkio.bfq.weight' <<'EOF'
    blkio_config: {weight: 300}
EOF
else
    skip_check "blkio_config.weight: this kernel has a weight file (the error case needs one without)"
fi

# --- storage_opt size ------------------------------------------------------
# The test's store: a clear error unless its file system has project
# quotas (this host's ext4 has none).
if grep -q prjquota < <(findmnt -no OPTIONS --target "$BERTH_ROOT" 2>/dev/null || true); then
    skip_check "storage_opt error: the store's file system has project quotas"
else
    bad resquota "a storage size the store cannot enforce" \
        'compose.yaml:6:19: service "x": storage_opt: the file system under' <<'EOF'
    storage_opt: {size: 1G}
EOF
fi
# A store on an ext4 with project quotas (a second loop device): a write
# past the size fails inside. Kernels without quota support skip it.
truncate -s 96M "$T_DIR/q.img"
QMNT=$T_DIR/qmnt
mkdir -p "$QMNT"
# Its own loop device, attached and detached by name: never mount -o loop,
# whose clean-up after a failed mount could race other tests' losetup.
qloop=""
if mkfs.ext4 -q -F -O quota,project -E quotatype=prjquota "$T_DIR/q.img" >/dev/null 2>&1 &&
    qloop=$(losetup -f --show "$T_DIR/q.img") &&
    mount -o prjquota "$qloop" "$QMNT" 2>/dev/null; then
    qroot=$QMNT/root
    BERTH_ROOT=$qroot "$BERTH" load -i "$BERTH_TEST_IMAGES/probe.tar" >/dev/null
    new_project resquota2 >/dev/null <<'EOF'
services:
  q:
    image: berth-test/probe
    network_mode: none
    storage_opt: {size: 8m}
    command: ["sh", "-c", "dd if=/dev/zero of=/big bs=1M count=16 conv=fsync 2>&1; ls -l /big"]
EOF
    out=$(cd "$T_DIR/resquota2" && BERTH_ROOT=$qroot "$BERTH" up 2>&1) || true
    expect_contains "a write past storage_opt size fails" "$out" "Disk quota exceeded"
    (cd "$T_DIR/resquota2" && BERTH_ROOT=$qroot "$BERTH" down >/dev/null 2>&1) || true
    umount "$QMNT" && QMNT=""
else
    skip_check "storage_opt size: this kernel cannot mount ext4 with prjquota (no CONFIG_QUOTA)"
    QMNT=""
fi
[ -z "$qloop" ] || losetup -d "$qloop" 2>/dev/null || true
qloop=""
rm -f "$T_DIR/q.img"

cleanup_res
check "the loop device is detached" test -z "$(losetup -j "$T_DIR/disk.img")"
finish
