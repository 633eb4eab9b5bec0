#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real containers are isolated the way Docker isolates them: own PID, UTS,
# network, mount and cgroup namespaces; Docker's capabilities, seccomp
# profile, masked and read-only paths; no inherited file descriptors.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

new_project iso >/dev/null <<'EOF'
services:
  check:
    image: berth-test/probe
    hostname: isohost
    command:
      - sh
      - -c
      - |
        echo "pid1=$(tr '\0\n' '  ' < /proc/1/cmdline | cut -c1-12)"
        echo "hostname=$(hostname)"
        echo "procs=$(ls /proc | grep -c '^[0-9]')"
        echo "links=$(ls /sys/class/net | tr '\n' ' ')"
        grep -E '^(CapEff|CapInh|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\t'
        sed 's/^/cg /' /proc/self/cgroup
        awk '{print "mnt", $5, $6}' /proc/self/mountinfo
        probe syscalls
        probe highbits
        probe fds 1
        echo sys > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=writable || echo procsys=readonly
        echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq=writable || echo sysrq=readonly
        touch /sys/x 2>/dev/null && echo sys=writable || echo sys=readonly
        echo "kcore=$(stat -c %t,%T /proc/kcore 2>/dev/null || echo absent)"
        echo "keys=$(stat -c %F /proc/keys 2>/dev/null)"
        echo "timer_list=$(wc -c < /proc/timer_list 2>/dev/null)"
        echo "firmware=$(ls -A /sys/firmware 2>&1 | wc -l)"
        for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do mkdir "$${d%/}/x" 2>/dev/null && echo "cgroupfs=writable $$d"; done
        echo "cgroupfs=checked $(ls /sys/fs/cgroup | wc -l) hierarchies"
        echo "devnull=$(stat -c %t,%T /dev/null)"
        echo "shm=$(stat -f -c %T /dev/shm)"
        echo done
    stop_signal: SIGKILL
  admin:
    image: berth-test/probe
    cap_add: [SYS_ADMIN, SYS_PTRACE]
    command: ["sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -d '\\t'; probe syscalls; echo done"]
EOF

cache=$BERTH_ROOT/cache/seccomp
check "no seccomp cache before the first start" test -z "$(ls -A "$cache" 2>/dev/null)"
out=$(bz iso up 2>&1) || fail "up failed: $out"
expect_contains "PID 1 is the service's command" "$out" "pid1=sh -c"
expect_contains "hostname" "$out" "hostname=isohost"
# sh, the subshell running ls, grep: nothing of the host's
procs=$(printf '%s\n' "$out" | sed -n 's/.*procs=\([0-9]*\).*/\1/p')
check "host processes are invisible (saw $procs)" test "${procs:-0}" -ge 1 -a "${procs:-99}" -le 4
expect_contains "only its own links are visible" "$out" "links=eth0 lo "
expect_contains "CapEff is Docker's default" "$out" "CapEff:00000000a80425fb"
expect_contains "CapBnd is Docker's default" "$out" "CapBnd:00000000a80425fb"
expect_contains "no inheritable capabilities" "$out" "CapInh:0000000000000000"
expect_contains "seccomp filter on" "$out" "Seccomp:2"
# The container sees its own cgroup as the root of every hierarchy the
# host has: 0::/ alone on v2, each v1 controller too on a hybrid host.
cg=$(printf '%s\n' "$out" | sed -n 's/^check-1  | cg //p')
check "private cgroup namespace: /proc/self/cgroup read" test -n "$cg"
check "private cgroup namespace: the v2 entry is 0::/" grep -qx '0::/' <<<"$cg"
expect_eq "private cgroup namespace: every hierarchy is / ($(printf '%s' "$cg" | tr '\n' ' '))" \
    "$(printf '%s\n' "$cg" | grep -cv ':/$' || true)" "0"
# Refused by the filter alone: without it each of these succeeds or fails
# with another errno for a process with Docker's default capabilities.
expect_contains "seccomp: io_uring_setup refused (E07)" "$out" "check-1  | io_uring_setup=EPERM"
expect_contains "seccomp: socket(AF_ALG) refused (E14)" "$out" "check-1  | socket_af_alg=EPERM"
expect_contains "seccomp: socket(AF_VSOCK) refused" "$out" "check-1  | socket_af_vsock=EPERM"
expect_contains "seccomp: socket(AF_INET) allowed" "$out" "check-1  | socket_af_inet=ok"
# seccomp_socket_family_highbits (E07/E14): the kernel reads an int family,
# the filter 64 bits; a high bit above AF_VSOCK/AF_ALG must not slip past.
expect_contains "seccomp_socket_family_highbits: AF_VSOCK + 2^32 refused" "$out" "socket_af_vsock_highbits=EPERM"
expect_contains "seccomp_socket_family_highbits: AF_ALG + 2^32 refused" "$out" "socket_af_alg_highbits=EPERM"
expect_contains "seccomp_socket_family_highbits: AF_VSOCK, all high bits, refused" "$out" "socket_af_vsock_allhighbits=EPERM"
expect_contains "seccomp_personality_highbits: odd persona + 2^32 refused" "$out" "personality_bad_highbits=EPERM"
expect_contains "seccomp_personality_highbits: allowed persona + 2^32 refused" "$out" "personality_linux32_highbits=EPERM"
if contains "$out" "socketcall_af_alg_highbits=SKIPPED"; then
    skip_check "seccomp_socket_family_highbits through socketcall (no socketcall on this arch)"
else
    expect_contains "seccomp_socket_family_highbits: socketcall AF_ALG + 2^32 refused" "$out" "socketcall_af_alg_highbits=EPERM"
fi
expect_contains "seccomp: keyctl refused" "$out" "check-1  | keyctl=EPERM"
expect_contains "seccomp: add_key refused" "$out" "check-1  | add_key=EPERM"
expect_contains "seccomp: request_key refused" "$out" "check-1  | request_key=EPERM"
expect_contains "seccomp: unshare(CLONE_NEWUSER) refused" "$out" "check-1  | unshare_user=EPERM"
expect_contains "seccomp: clone(CLONE_NEWUSER) refused" "$out" "check-1  | clone_newuser=EPERM"
expect_contains "seccomp: personality(ADDR_NO_RANDOMIZE|...) refused" "$out" "check-1  | personality_bad=EPERM"
expect_contains "seccomp: personality(READ_IMPLIES_EXEC) refused" "$out" "check-1  | personality_read_implies_exec=EPERM"
expect_contains "seccomp: personality query allowed" "$out" "check-1  | personality_query=ok"
expect_contains "seccomp: clone3 answers ENOSYS" "$out" "check-1  | clone3=ENOSYS"
# Refused by the missing CAP_SYS_ADMIN (and the filter), or by the
# vm.unprivileged_userfaultfd sysctl: these prove no more than that.
expect_contains "caps: unshare(CLONE_NEWNS) refused" "$out" "check-1  | unshare_mount=EPERM"
expect_contains "caps: mount refused" "$out" "check-1  | mount=EPERM"
expect_contains "caps or sysctl: userfaultfd refused" "$out" "check-1  | userfaultfd=EPERM"
# With cap_add SYS_ADMIN and SYS_PTRACE the capabilities no longer refuse
# anything: what Docker's profile still refuses, only the filter can.
expect_contains "cap_add: CAP_SYS_ADMIN and CAP_SYS_PTRACE are effective" "$out" "admin-1  | CapEff:00000000a82c25fb"
expect_contains "cap_add: the filter is on" "$out" "admin-1  | Seccomp:2"
expect_contains "cap_add SYS_ADMIN: mount allowed, as Docker allows it" "$out" "admin-1  | mount=ok"
expect_contains "seccomp with SYS_ADMIN: swapon refused" "$out" "admin-1  | swapon=EPERM"
expect_contains "seccomp with SYS_PTRACE: userfaultfd refused" "$out" "admin-1  | userfaultfd=EPERM"
expect_contains "seccomp with SYS_ADMIN: keyctl refused" "$out" "admin-1  | keyctl=EPERM"
expect_contains "seccomp with SYS_ADMIN: io_uring_setup refused" "$out" "admin-1  | io_uring_setup=EPERM"
expect_contains "seccomp with SYS_ADMIN: socket(AF_ALG) refused" "$out" "admin-1  | socket_af_alg=EPERM"
expect_contains "seccomp with SYS_ADMIN: personality(READ_IMPLIES_EXEC) refused" "$out" "admin-1  | personality_read_implies_exec=EPERM"
expect_contains "the cap_add service ran to the end" "$out" "admin-1  | done"
fds=$(printf '%s\n' "$out" | grep -c '| fd ' || true)
expect_eq "PID 1 holds only fds 0-2" "$fds" "3"
# Read-only paths: the ro flag of the mount that covers each (the last
# one on that mount point), not a write that fails for another reason;
# every mount under /sys (the cgroup hierarchies, masks) too.
mount_opts() {
    printf '%s\n' "$out" | awk -v p="$1" '$1 == "check-1" && $3 == "mnt" && $4 == p {o = $5} END {print o}'
}
ro_paths=(/sys /proc/sys /proc/bus /proc/fs /proc/irq /sys/fs/cgroup)
if [ -e /proc/sysrq-trigger ]; then
    ro_paths+=(/proc/sysrq-trigger)
    expect_contains "/proc/sysrq-trigger refuses a write" "$out" "sysrq=readonly"
else
    say "SKIPPED: /proc/sysrq-trigger is read-only (this kernel has none)"
fi
while read -r p; do ro_paths+=("$p"); done < <(printf '%s\n' "$out" | awk '$1 == "check-1" && $3 == "mnt" && $4 ~ "^/sys/" {print $4}')
check "mounts under /sys were seen" test "${#ro_paths[@]}" -gt 7
for p in "${ro_paths[@]}"; do
    o=$(mount_opts "$p")
    check "$p is a read-only mount (${o:-not mounted})" contains ",$o," ",ro,"
done
expect_contains "/proc/sys refuses a write" "$out" "procsys=readonly"
expect_contains "/sys refuses a write" "$out" "sys=readonly"
if [ -e /proc/kcore ]; then
    expect_contains "/proc/kcore masked by /dev/null" "$out" "kcore=1,3"
else
    expect_contains "/proc/kcore absent, as on the host" "$out" "kcore=absent"
fi
expect_contains "/proc/keys masked by /dev/null" "$out" "keys=character special file"
expect_contains "/proc/timer_list masked" "$out" "timer_list=0"
expect_contains "/sys/firmware masked" "$out" "firmware=0"
expect_not_contains "no cgroup hierarchy takes a new cgroup" "$out" "cgroupfs=writable"
expect_contains "the hierarchies were tried" "$out" "cgroupfs=checked "
expect_contains "/dev/null is the null device" "$out" "devnull=1,3"
expect_contains "/dev/shm is a tmpfs" "$out" "shm=tmpfs"
expect_contains "ran to the end" "$out" "check-1  | done"
expect_contains "exit reported" "$out" "check-1 exited with code 0"

# seccomp_cache_written_and_read: the first start compiled the default
# filter into the cache; later starts read it (the entry keeps its inode)
# and a damaged entry is rebuilt (a new inode) rather than loaded.
entry=$(ls "$cache" 2>/dev/null | grep -e '-00000000a80425fb-' || true)
check "seccomp cache: the first start wrote the default filter (${entry:-none})" \
    test -n "$entry" -a -s "$cache/${entry:-none}"
ino=$(stat -c %i "$cache/${entry:-none}" 2>/dev/null || echo none)

# tty: true gives the container a terminal of its own devpts.
new_project tty >/dev/null <<'EOF'
services:
  term:
    image: berth-test/probe
    tty: true
    command: ["sh", "-c", "tty; echo TERM=$TERM; echo to-stderr >&2; grep Seccomp: /proc/self/status"]
EOF
out=$(bz tty up 2>&1) || fail "up with tty failed: $out"
expect_contains "tty: true gives a terminal inside the container" "$out" "term-1  | /dev/pts/0"
expect_contains "TERM is set for a terminal" "$out" "TERM=xterm"
expect_contains "stderr arrives on the terminal too" "$out" "term-1  | to-stderr"
expect_eq "seccomp cache: a second start read the entry (same inode)" \
    "$(stat -c %i "$cache/${entry:-none}" 2>/dev/null || echo gone)" "$ino"
# One instruction damaged in place: the next start must not load it.
printf '\377\377\377\377' | dd of="$cache/${entry:-none}" bs=1 seek=8 conv=notrunc status=none ||
    fail "could not damage the cache entry"
out=$(bz tty up 2>&1) || fail "up after the cache was damaged failed: $out"
expect_contains "seccomp cache: a damaged entry is not loaded (the filter is on)" "$out" "Seccomp:	2"
new_ino=$(stat -c %i "$cache/${entry:-none}" 2>/dev/null || echo gone)
check "seccomp cache: a damaged entry is rewritten (inode $ino -> $new_ino)" \
    test "$new_ino" != "$ino" -a "$new_ino" != gone

finish
