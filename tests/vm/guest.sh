#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PID 1 of the cgroup v2 guest (tests/vm/run-v2.sh): mounts what a host has,
# with cgroup2 only, proves no v1 hierarchy exists, runs the integration tests
# with ctest in the build tree (at its host path), reports one line per test
# on the console and powers off. Every line the host reads starts `berth-vm: `.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
# The kernel gives init TERM=linux; tests run from a terminal see xterm
# (test_isolation's `echo TERM=$TERM` is interpolated by compose from it).
export TERM=xterm
report() { echo "berth-vm: $*"; }
off() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 60
}
error() {
    report "error $*"
    off
}
# PID 1 must not exit (the kernel panics): whatever ends this script early
# is reported.
trap 'error "guest.sh stopped early (line $LINENO)"' EXIT
. /mnt/p/guest.env

mount -t tmpfs -o mode=755 run /run
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || error "cannot mount cgroup2 on /sys/fs/cgroup"
hostname berth-v2
# Modules a host has loaded by then, whose device nodes no access loads.
modprobe loop
ip link set lo up
# The project tree: every top directory of the disk at its own path.
for d in /mnt/p/*/; do
    d=${d%/}
    [ "$d" = /mnt/p/lost+found ] && continue
    mkdir -p "/${d#/mnt/p/}"
    mount --bind "$d" "/${d#/mnt/p/}"
done

# A pure v2 host: cgroup2 on /sys/fs/cgroup, no v1 hierarchy mounted or
# mountable, and this process in the unified hierarchy only.
fstype=$(stat -f -c %T /sys/fs/cgroup)
[ "$fstype" = cgroup2fs ] || error "/sys/fs/cgroup is $fstype, not cgroup2fs"
v1=$(awk '$3 == "cgroup" {print $2}' /proc/mounts)
[ -z "$v1" ] || error "v1 hierarchies mounted: $v1"
mkdir -p /tmp/v1probe
if mount -t cgroup -o memory none /tmp/v1probe 2>/dev/null; then
    umount /tmp/v1probe
    error "a v1 memory hierarchy can still be mounted (cgroup_no_v1=all not in effect)"
fi
[ "$(cat /proc/self/cgroup)" = "0::/" ] || error "/proc/self/cgroup is not v2 only: $(cat /proc/self/cgroup | tr '\n' ' ')"
report "cgroup2 only: $(uname -r), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

if [ "$SHELL_ONLY" = 1 ]; then
    report "shell (exit it to power off)"
    setsid -c bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
    off
fi

# As on a systemd host, the tests run in a leaf cgroup of their own, not in
# the root (berth must not assume it lives there).
mkdir -p /sys/fs/cgroup/vm.slice/tests
echo $$ >/sys/fs/cgroup/vm.slice/tests/cgroup.procs || error "cannot move into a leaf cgroup"

cd "$BUILD" || error "no build tree at $BUILD"
# The guest's CPUs are emulated (tcg): tests that measure rates over time
# say their figures and skip the comparison.
export BERTH_TEST_EMULATED=1
args=(-L integration --output-on-failure --timeout 900)
[ -n "$REGEX" ] && args+=(-R "$REGEX|fixture.images")
report "ctest ${args[*]}"
# ctest's own lines go to the console as they come; its per-test lines,
#   1/3 Test #2: integration.test_limits ....***Failed  12.01 sec
# become `berth-vm: result NAME PASS|FAIL|SKIP`.
ctest "${args[@]}" 2>&1 | while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ $line =~ Test\ +#[0-9]+:\ ([^ ]+)\ \.*\ *(\**)([A-Za-z][A-Za-z ]*[a-z]) ]]; then
        case ${BASH_REMATCH[3]} in
        Passed) report "result ${BASH_REMATCH[1]} PASS" ;;
        Skipped) report "result ${BASH_REMATCH[1]} SKIP" ;;
        *) report "result ${BASH_REMATCH[1]} FAIL (${BASH_REMATCH[3]})" ;;
        esac
    fi
done
# A test that passes may still have skipped a part of itself: its
# SKIPPED lines, from ctest's log, with the test's name.
awk '/^[0-9]+\/[0-9]+ Testing: / {t = $3} /SKIPPED/ {sub(/\r$/, ""); print "berth-vm: note " t " " $0}' \
    Testing/Temporary/LastTest.log 2>/dev/null
report "done"
trap - EXIT
off
