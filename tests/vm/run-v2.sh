#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs berth's integration tests on a pure cgroup v2 host: Debian 12's own
# kernel (linux-image-amd64) booted under qemu-system-x86_64 (software
# emulation, -accel tcg) with systemd.unified_cgroup_hierarchy=1
# cgroup_no_v1=all, over a Debian 12 root made with debootstrap. The guest
# mounts cgroup2 only, checks that no v1 hierarchy exists, runs ctest in a
# copy of the build tree (at the same path), reports one line per test on its
# serial console and powers off; this script prints `N passed, M failed,
# K skipped` and exits non-zero on a failure, a v1 hierarchy, or no report.
#
#   tests/vm/run-v2.sh                      all integration tests of build/
#   tests/vm/run-v2.sh -R test_limits       only the tests ctest -R matches
#   BUILD=build-x tests/vm/run-v2.sh        another build tree (not ASan: the
#                                           guest root has no sanitizer runtime)
#   tests/vm/run-v2.sh -t 5400              overall timeout in seconds
#   tests/vm/run-v2.sh -s                   a shell on the guest console instead
#
# Needs root, and on the host: apt-get install qemu-system-x86 debootstrap
# e2fsprogs (the script installs them when missing). The first run makes the
# root and the kernel (a few minutes, the Debian mirror is the only network it
# uses) and caches them under /var/tmp/berth-vm; later runs reuse them (the
# root is opened read-only, with -snapshot). The console log of each run is
# kept in /var/tmp/berth-vm/console.log.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$src" && realpath -m "${BUILD:-build}")
cache=/var/tmp/berth-vm
regex=
timeout=5400
shell=0
while getopts 'R:t:s' o; do
    case $o in
    R) regex=$OPTARG ;;
    t) timeout=$OPTARG ;;
    s) shell=1 ;;
    *) echo "usage: $0 [-R ctest-regex] [-t seconds] [-s]" >&2 && exit 2 ;;
    esac
done
die() {
    echo "run-v2: $*" >&2
    exit 2
}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, and the tests run containers)"
[ -x "$build/berth" ] || die "no berth binary in $build (bash scripts/build.sh first)"
[ -f "$build/tests/images/probe.tar" ] || die "no test images in $build/tests/images (run ctest -R fixture.images there once)"
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v debootstrap >/dev/null ||
    ! command -v mkfs.ext4 >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        qemu-system-x86 debootstrap e2fsprogs >/dev/null || die "cannot install qemu-system-x86 debootstrap e2fsprogs"
fi
mkdir -p "$cache"
exec 9>"$cache/lock"
flock -n 9 || die "another run-v2.sh is running (lock $cache/lock)"

# The packages of the shared libraries berth and its test helpers load, as
# the host resolves them: the guest gets the same ones from the mirror.
libpkgs() {
    local f
    for f in "$build/berth" "$build/tests/berth-cgbpf"; do
        ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
    done | sort -u | while read -r lib; do
        dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null
    done | cut -d: -f1 | sort -u | tr '\n' ' '
}
# What the tests run besides berth: ctest, the image maker, the tools the
# scripts call. The kernel is the one Debian 12 ships.
pkgs="linux-image-amd64 kmod cmake busybox-static bash coreutils util-linux mount procps iproute2
 strace python3 bc gzip tar zstd e2fsprogs findutils grep sed gawk $(libpkgs)"
pkgs=$(echo $pkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
# PID 1 on the root: mounts the project disk and runs its guest.sh (kept on
# that disk, so a change to it needs no new root).
stub='#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mkdir -p /mnt/p
if ! mount -t ext4 /dev/vdb /mnt/p; then
    echo "berth-vm: error cannot mount the project disk"
    echo o >/proc/sysrq-trigger
fi
exec /bin/bash /mnt/p/guest.sh'
key=$(printf '%s\n%s\n' "$pkgs" "$stub" | sha256sum | cut -c1-12)
root=$cache/root-$key.img

t0=$(date +%s)
if [ ! -f "$root" ]; then
    echo "run-v2: making the guest root $root (once; a few minutes)"
    mirror=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    dir=$cache/root-$key.d
    log=$cache/root-$key.log
    # A debootstrap that finished is kept for a retry of what follows it.
    if [ ! -f "$dir/.debootstrap-done" ]; then
        rm -rf "$dir"
        debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$log" 2>&1 ||
            die "debootstrap failed (log $log)"
        touch "$dir/.debootstrap-done"
    fi
    echo "deb $mirror bookworm main" >"$dir/etc/apt/sources.list"
    mount -t proc proc "$dir/proc"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive chroot "$dir" sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs" >>"$log" 2>&1
    rc=$?
    umount "$dir/proc"
    [ $rc = 0 ] || die "installing the guest packages failed (log $log)"
    printf '%s\n' "$stub" >"$dir/sbin/berth-vm-init"
    chmod 755 "$dir/sbin/berth-vm-init"
    echo berth-v2 >"$dir/etc/hostname"
    cp "$(ls "$dir"/boot/vmlinuz-* | tail -1)" "$cache/vmlinuz-$key"
    cp "$(ls "$dir"/boot/initrd.img-* | tail -1)" "$cache/initrd-$key"
    chroot "$dir" apt-get clean
    mkfs.ext4 -q -F -L berth-root -d "$dir" "$root.tmp" 3G >>"$log" 2>&1 || die "mkfs.ext4 of the root failed (log $log)"
    mv "$root.tmp" "$root"
    rm -rf "$dir"
    echo "run-v2: root made in $(($(date +%s) - t0)) s"
fi

# The project disk: the source tree and the build tree at their own paths
# (ctest's files name them), hard-linked into a staging directory.
stage=$cache/stage
rm -rf "$stage" "$cache/project.img"
mkdir -p "$stage"
copy_tree() { # copy_tree DIR: DIR under $stage, without .git and other builds
    local d=$1 e
    mkdir -p "$stage$d"
    for e in "$d"/* "$d"/.[!.]*; do
        [ -e "$e" ] || continue
        case $(basename "$e") in .git | build*) continue ;; esac
        cp -al "$e" "$stage$d/" || cp -a "$e" "$stage$d/"
    done
}
copy_tree "$src"
mkdir -p "$stage$build"
cp -al "$build/." "$stage$build/" 2>/dev/null || cp -a "$build/." "$stage$build/"
rm -rf "$stage$build/tests/tmp" "$stage$build/Testing/Temporary"
cp "$src/tests/vm/guest.sh" "$stage/guest.sh"
printf 'BUILD=%q\nREGEX=%q\nSHELL_ONLY=%q\n' "$build" "$regex" "$shell" >"$stage/guest.env"
size=$(($(du -sm "$stage" | cut -f1) + 3072))
mkfs.ext4 -q -F -L berth-project -d "$stage" "$cache/project.img" "${size}M" >/dev/null 2>&1 || die "mkfs.ext4 of the project disk failed"
rm -rf "$stage"

console=$cache/console.log
: >"$console"
echo "run-v2: booting (tcg, 2 cpus); console log $console"
t1=$(date +%s)
qargs=(-accel tcg -smp 2 -m 4096 -nodefaults -display none -no-reboot
    -kernel "$cache/vmlinuz-$key" -initrd "$cache/initrd-$key"
    -append "root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1 init=/sbin/berth-vm-init systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
    -drive "file=$root,if=virtio,format=raw,snapshot=on"
    -drive "file=$cache/project.img,if=virtio,format=raw"
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0)
if [ "$shell" = 1 ]; then
    exec nice qemu-system-x86_64 "${qargs[@]}" -serial mon:stdio
fi
nice qemu-system-x86_64 "${qargs[@]}" -serial "file:$console" </dev/null &
qpid=$!
# Progress: the guest's own report lines, as they come.
tail -n +1 -f --pid=$qpid "$console" 2>/dev/null | sed -un 's/\r$//; /^berth-vm:/p' &
tpid=$!
timed_out=0
for _ in $(seq 1 "$timeout"); do
    kill -0 $qpid 2>/dev/null || break
    sleep 1
done
if kill -0 $qpid 2>/dev/null; then
    timed_out=1
    kill $qpid
fi
wait $qpid 2>/dev/null
wait $tpid 2>/dev/null
echo "run-v2: guest ran $(($(date +%s) - t1)) s (total $(($(date +%s) - t0)) s)"

report=$(tr -d '\r' <"$console" | grep '^berth-vm: ')
passed=$(grep -cE '^berth-vm: result [^ ]+ PASS' <<<"$report")
failed=$(grep -cE '^berth-vm: result [^ ]+ FAIL' <<<"$report")
skipped=$(grep -cE '^berth-vm: result [^ ]+ SKIP' <<<"$report")
echo "$passed passed, $failed failed, $skipped skipped"
if [ $timed_out = 1 ]; then
    echo "run-v2: FAIL: the guest did not finish in $timeout s (console log $console)"
    exit 1
fi
if grep -q '^berth-vm: error' <<<"$report"; then
    grep '^berth-vm: error' <<<"$report" | sed 's/^/run-v2: FAIL: /'
    exit 1
fi
if ! grep -q '^berth-vm: done$' <<<"$report"; then
    echo "run-v2: FAIL: the guest never reported its end (console log $console)"
    exit 1
fi
[ $((passed + failed + skipped)) -gt 0 ] || { echo "run-v2: FAIL: no test ran" && exit 1; }
[ "$failed" = 0 ]
