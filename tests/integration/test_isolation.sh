#!/usr/bin/env bash
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
        echo "pid1=$(cat /proc/1/cmdline | tr '\0' ' ')"
        echo "hostname=$(hostname)"
        echo "procs=$(ls /proc | grep -c '^[0-9]')"
        echo "links=$(ls /sys/class/net | tr '\n' ' ')"
        grep -E '^(CapEff|CapInh|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\t'
        echo "cgroup=$(cat /proc/self/cgroup | tr '\n' ' ')"
        probe syscalls
        probe highbits
        probe fds 1
        echo sys > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=writable || echo procsys=readonly
        echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq=writable || echo sysrq=readonly
        touch /sys/x 2>/dev/null && echo sys=writable || echo sys=readonly
        echo "kcore=$(stat -c %t,%T /proc/kcore 2>/dev/null || echo absent)"
        echo "keys=$(stat -c %F /proc/keys 2>/dev/null)"
        echo "timer_list=$(wc -c < /proc/timer_list 2>/dev/null)"
        echo "firmware=$(ls /sys/firmware 2>/dev/null | wc -l)"
        mkdir /sys/fs/cgroup/x 2>/dev/null && echo cgroupfs=writable || echo cgroupfs=readonly
        echo "devnull=$(stat -c %t,%T /dev/null)"
        echo "shm=$(stat -f -c %T /dev/shm)"
        echo done
    stop_signal: SIGKILL
EOF

out=$(bz iso up 2>&1) || fail "up failed: $out"
expect_contains "PID 1 is the service's command" "$out" "pid1=sh -c"
expect_contains "hostname" "$out" "hostname=isohost"
# sh, the subshell running ls, grep: nothing of the host's
procs=$(printf '%s\n' "$out" | sed -n 's/.*procs=\([0-9]*\).*/\1/p')
check "host processes are invisible (saw $procs)" test "${procs:-99}" -le 4
expect_contains "only loopback is visible" "$out" "links=lo "
expect_contains "CapEff is Docker's default" "$out" "CapEff:00000000a80425fb"
expect_contains "CapBnd is Docker's default" "$out" "CapBnd:00000000a80425fb"
expect_contains "no inheritable capabilities" "$out" "CapInh:0000000000000000"
expect_contains "seccomp filter on" "$out" "Seccomp:2"
expect_contains "private cgroup namespace (v2 view)" "$out" " 0::/ "
expect_contains "private cgroup namespace (memory)" "$out" "memory:/ "
expect_contains "io_uring refused" "$out" "io_uring_setup=EPERM"
expect_contains "AF_ALG refused" "$out" "socket_af_alg=EPERM"
expect_contains "AF_VSOCK refused" "$out" "socket_af_vsock=EPERM"
expect_contains "AF_INET allowed" "$out" "socket_af_inet=ok"
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
expect_contains "keyctl refused" "$out" "keyctl=EPERM"
expect_contains "add_key refused" "$out" "add_key=EPERM"
expect_contains "user namespaces refused" "$out" "unshare_user=EPERM"
expect_contains "mount namespaces refused" "$out" "unshare_mount=EPERM"
expect_contains "odd personality refused" "$out" "personality_bad=EPERM"
expect_contains "personality query allowed" "$out" "personality_query=ok"
expect_contains "clone3 answers ENOSYS" "$out" "clone3=ENOSYS"
expect_contains "mount refused" "$out" "mount=EPERM"
expect_contains "userfaultfd refused" "$out" "userfaultfd=EPERM"
fds=$(printf '%s\n' "$out" | grep -c '| fd ' || true)
expect_eq "PID 1 holds only fds 0-2" "$fds" "3"
expect_contains "/proc/sys is read-only" "$out" "procsys=readonly"
expect_contains "/proc/sysrq-trigger is read-only" "$out" "sysrq=readonly"
expect_contains "/sys is read-only" "$out" "sys=readonly"
expect_contains "/proc/keys masked by /dev/null" "$out" "keys=character special file"
expect_contains "/proc/timer_list masked" "$out" "timer_list=0"
expect_contains "/sys/firmware masked" "$out" "firmware=0"
expect_contains "cgroupfs is read-only" "$out" "cgroupfs=readonly"
expect_contains "/dev/null is the null device" "$out" "devnull=1,3"
expect_contains "/dev/shm is a tmpfs" "$out" "shm=tmpfs"
expect_contains "ran to the end" "$out" "check-1  | done"
expect_contains "exit reported" "$out" "check-1 exited with code 0"

# tty: true gives the container a terminal of its own devpts.
new_project tty >/dev/null <<'EOF'
services:
  term:
    image: berth-test/probe
    tty: true
    command: ["sh", "-c", "tty; echo TERM=$TERM; echo to-stderr >&2"]
EOF
out=$(bz tty up 2>&1) || fail "up with tty failed: $out"
expect_contains "tty: true gives a terminal inside the container" "$out" "term-1  | /dev/pts/0"
expect_contains "TERM is set for a terminal" "$out" "TERM=xterm"
expect_contains "stderr arrives on the terminal too" "$out" "term-1  | to-stderr"

finish
