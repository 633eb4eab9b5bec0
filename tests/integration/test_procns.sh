#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Process limits, kernel settings and namespaces (issue 14, items 2 and 4):
# ulimits reach the container's init, exec'd processes and `run`; a hard
# limit above berth's own is one clear line and nothing is made; namespaced
# sysctls are set inside and the host's stay as they were, others are
# refused; pid: host sees the host's processes, pid and ipc service:x share
# x's processes and /dev/shm; uts: host has the host's name; cgroup: host
# shows the full cgroup path; cgroup_parent places the cgroup under the
# parent and down removes what berth made there, never what it did not.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

host_port_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
host_msgmax=$(cat /proc/sys/kernel/msgmax)
# Values the host does not have, so that "set inside" can be told apart.
want_port=$(((host_port_start + 7) % 1000 + 1))
want_msgmax=$((host_msgmax + 1234))

new_project pnsa >/dev/null <<EOF
services:
  lim:
    image: busybox
    stop_signal: SIGKILL
    command: ["sleep", "3600"]
    ulimits:
      nofile: {soft: 1000, hard: 2000}
      nproc: 300
    sysctls:
      net.ipv4.ip_unprivileged_port_start: "$want_port"
      kernel.msgmax: "$want_msgmax"
  x:
    image: busybox
    stop_signal: SIGKILL
    ipc: shareable
    command: ["sh", "-c", "echo from-x >/dev/shm/x; exec sleep 3600"]
  y:
    image: busybox
    stop_signal: SIGKILL
    pid: service:x
    ipc: service:x
    command: ["sleep", "3601"]
  ih:
    image: busybox
    stop_signal: SIGKILL
    network_mode: none
    ipc: host
    command: ["sleep", "3603"]
  in:
    image: busybox
    stop_signal: SIGKILL
    network_mode: none
    ipc: none
    command: ["sleep", "3604"]
  h:
    image: busybox
    stop_signal: SIGKILL
    pid: host
    uts: host
    cgroup: host
    command: ["sleep", "3602"]
EOF
# A file in the host's /dev/shm, for ipc: host to read, and cgroups this
# test makes itself (below): gone when it ends, however it ends.
shm_file=/dev/shm/pns-$$
mine_dirs=()
drop_mine() { for d in "${mine_dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done; }
trap 'rm -f "$shm_file"; drop_mine' EXIT
echo from-host >"$shm_file"
out=$(bz pnsa up -d --wait 2>&1) || fail "up -d --wait failed: $out"
expect_not_contains "the keys are not warned about" "$out" "not supported"

# --- ulimits ------------------------------------------------------------------
expect_eq "ulimit -n in an exec'd process" "$(bz pnsa exec -T lim sh -c 'ulimit -n')" 1000
expect_eq "ulimit -Hn in an exec'd process" "$(bz pnsa exec -T lim sh -c 'ulimit -Hn')" 2000
limits=$(bz pnsa exec -T lim cat /proc/1/limits)
expect_contains "the init's open files are soft 1000, hard 2000" "$(echo "$limits" | tr -s ' ')" \
    "Max open files 1000 2000 files"
expect_contains "the init's processes are 300" "$(echo "$limits" | tr -s ' ')" \
    "Max processes 300 300 processes"
expect_eq "run gets the ulimits" "$(bz pnsa run --rm -T lim sh -c 'ulimit -n; ulimit -Hn' | tr '\n' ' ')" \
    "1000 2000 "

# --- sysctls ------------------------------------------------------------------
expect_eq "net.* sysctl set in the container's network namespace" \
    "$(bz pnsa exec -T lim cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" "$want_port"
expect_eq "kernel.msgmax set in the container's IPC namespace" \
    "$(bz pnsa exec -T lim cat /proc/sys/kernel/msgmax)" "$want_msgmax"
expect_eq "the host's ip_unprivileged_port_start is unchanged" \
    "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" "$host_port_start"
expect_eq "the host's kernel.msgmax is unchanged" "$(cat /proc/sys/kernel/msgmax)" "$host_msgmax"
expect_eq "a container without sysctls has the default" \
    "$(bz pnsa exec -T x cat /proc/sys/kernel/msgmax)" 8192

# --- pid and ipc: service:x -----------------------------------------------------
expect_eq "pid: service:x sees x's init as its PID 1" \
    "$(bz pnsa exec -T y cat /proc/1/cmdline | tr '\0' ' ')" "sleep 3600 "
expect_contains "and its own process beside it" "$(bz pnsa exec -T y ps -o args)" "sleep 3601"
expect_not_contains "a private PID namespace does not see y" "$(bz pnsa exec -T lim ps -o args)" \
    "sleep 3601"
expect_eq "ipc: service:x reads x's /dev/shm" "$(bz pnsa exec -T y cat /dev/shm/x)" from-x
bz pnsa exec -T y sh -c 'echo from-y >/dev/shm/y'
expect_eq "and x reads what y writes there" "$(bz pnsa exec -T x cat /dev/shm/y)" from-y
expect_eq "they share one IPC namespace" "$(bz pnsa exec -T y readlink /proc/self/ns/ipc)" \
    "$(bz pnsa exec -T x readlink /proc/self/ns/ipc)"
check "a private one does not see x's /dev/shm" bz pnsa exec -T lim test ! -e /dev/shm/x
expect_eq "ipc: host is the host's IPC namespace" "$(bz pnsa exec -T ih readlink /proc/self/ns/ipc)" \
    "$(readlink /proc/$$/ns/ipc)"
expect_eq "ipc: host reads the host's /dev/shm" "$(bz pnsa exec -T ih cat "$shm_file")" from-host
rm -f "$shm_file"
expect_not_contains "ipc: none has no /dev/shm mount" "$(bz pnsa exec -T in cat /proc/mounts)" \
    " /dev/shm "
check "ipc: none has an IPC namespace of its own" test \
    "$(bz pnsa exec -T in readlink /proc/self/ns/ipc)" != "$(readlink /proc/$$/ns/ipc)"
expect_eq "run with pid: service:x joins it too" \
    "$(bz pnsa run --rm -T y cat /proc/1/cmdline | tr '\0' ' ')" "sleep 3600 "

# --- pid, uts and cgroup: host ---------------------------------------------------
check "pid: host sees this test's shell ($$)" bz pnsa exec -T h test -d /proc/$$
check "a private PID namespace does not" bz pnsa exec -T lim test ! -d /proc/$$/fd
expect_eq "uts: host has the host's name" "$(bz pnsa exec -T h hostname)" "$(hostname)"
expect_eq "uts: host is the host's UTS namespace" "$(bz pnsa exec -T h readlink /proc/self/ns/uts)" \
    "$(readlink /proc/$$/ns/uts)"
expect_eq "cgroup: host is the host's cgroup namespace" \
    "$(bz pnsa exec -T h readlink /proc/self/ns/cgroup)" "$(readlink /proc/$$/ns/cgroup)"
expect_contains "cgroup: host shows the full cgroup path" "$(bz pnsa exec -T h cat /proc/self/cgroup)" \
    "/$T_CGBASE/pnsa/h/pnsa-h-1"
expect_not_contains "a private cgroup namespace does not" \
    "$(bz pnsa exec -T lim cat /proc/self/cgroup)" "$T_CGBASE"
bz pnsa down -t 1 >/dev/null 2>&1
check "nothing left of pnsa" test -z "$(leaks_of pnsa)"

# --- cgroup_parent ---------------------------------------------------------------
# The hierarchy to look in: pids (v1, hybrid) or the unified one.
cg_root=/sys/fs/cgroup/pids
[ -d $cg_root ] || cg_root=/sys/fs/cgroup
made=pnsmade-$$
mine=pnsmine-$$
# A parent berth did not make: in every hierarchy berth uses.
for d in /sys/fs/cgroup /sys/fs/cgroup/*; do
    [ -e "$d/cgroup.procs" ] && mkdir "$d/$mine" && mine_dirs+=("$d/$mine")
done
new_project pnsb >/dev/null <<EOF
services:
  c:
    image: busybox
    stop_signal: SIGKILL
    cgroup_parent: /$made/jobs
    command: ["sleep", "3600"]
  d:
    image: busybox
    stop_signal: SIGKILL
    cgroup_parent: $mine
    command: ["sleep", "3600"]
EOF
out=$(bz pnsb up -d --wait 2>&1) || fail "up -d --wait failed: $out"
check "the container's cgroup is under the parent" test -d "$cg_root/$made/jobs/pnsb-c-1"
pid=$(pid_of_state "$BERTH_RUNROOT/pnsb/pnsb-c-1.json" || echo none)
expect_contains "its process is in it" "$(cat /proc/"$pid"/cgroup)" "/$made/jobs/pnsb-c-1"
check "the other one is under the parent it did not make" test -d "$cg_root/$mine/pnsb-d-1"
bz pnsb down -t 1 >/dev/null 2>&1
check "down removes the parent berth made" test ! -e "$cg_root/$made"
check "down removes the container's cgroup under a parent it did not make" \
    test ! -e "$cg_root/$mine/pnsb-d-1"
check "down keeps the parent berth did not make" test -d "$cg_root/$mine"
check "nothing left of pnsb" test -z "$(leaks_of pnsb)"
drop_mine

# A start that fails once cgroup_parent's levels are made (here the block
# device of blkio_config went away after up) leaves none of them.
failp=pnsfail-$$
blk=""
for d in /sys/dev/block/*; do
    [ -e "$d/partition" ] || { blk=${d##*/} && break; }
done
if [ -z "$blk" ]; then
    skip_check "a failed start under cgroup_parent: no whole block device here"
else
    mknod "$T_DIR/blk" b "${blk%:*}" "${blk#*:}"
    new_project pnsf >/dev/null <<EOF
services:
  c:
    image: busybox
    stop_signal: SIGKILL
    network_mode: none
    cgroup_parent: /$failp/jobs
    blkio_config:
      device_read_bps: [{path: $T_DIR/blk, rate: 1mb}]
    command: ["sleep", "3600"]
EOF
    out=$(bz pnsf up -d 2>&1) || fail "up -d with blkio_config failed: $out"
    bz pnsf stop -t 0 >/dev/null 2>&1
    rm -f "$T_DIR/blk"
    rc=0
    out=$(bz pnsf start 2>&1) || rc=$?
    check "start fails without the device (exit $rc)" test "$rc" -ne 0
    expect_contains "naming it" "$out" "blkio_config: device $T_DIR/blk"
    check "no level of cgroup_parent is left by the failed start" test ! -e "$cg_root/$failp"
    bz pnsf down -t 0 >/dev/null 2>&1
    check "nothing left of pnsf" test -z "$(leaks_of pnsf)"
fi

# --- bad input: one clear line, non-zero exit, nothing made ----------------------
# The most berth can give: its own hard limit without CAP_SYS_RESOURCE
# (as here), the kernel's fs.nr_open with it (as in the v2 VM).
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if (((0x$capeff >> 24) & 1)); then
    hard=$(cat /proc/sys/fs/nr_open) above="the kernel's maximum"
else
    hard=$(ulimit -Hn) above="berth's own hard limit"
fi
if [ "$hard" = unlimited ]; then
    skip_check "no finite open-files hard limit here to exceed"
else
    new_project pnsc >/dev/null <<EOF
services:
  big:
    image: busybox
    ulimits:
      nofile: $((hard + 1))
    volumes: ["data:/data"]
volumes:
  data:
EOF
    rc=0
    out=$(bz pnsc up -d 2>&1) || rc=$?
    check "a hard limit above berth's fails up (exit $rc)" test "$rc" -ne 0
    expect_contains "it names the file, line, service and key" "$out" \
        "compose.yaml:5:7: service \"big\": ulimits nofile: the hard limit $((hard + 1)) is above $above $hard"
    expect_eq "in one line" "$(printf '%s\n' "$out" | grep -c .)" 1
    check "no container was made" test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
    check "no volume was made" test ! -e "$BERTH_ROOT/volumes/pnsc_data"
    check "nothing left of pnsc" test -z "$(leaks_of pnsc)"
fi

new_project pnsd >/dev/null <<'EOF'
services:
  s:
    image: busybox
    sysctls:
      vm.swappiness: "10"
EOF
rc=0
out=$(bz pnsd up -d 2>&1) || rc=$?
check "a sysctl that is not namespaced fails up (exit $rc)" test "$rc" -ne 0
expect_contains "it names the file, line, service and sysctl" "$out" \
    "compose.yaml:5:7: service \"s\": sysctls: \"vm.swappiness\" is not allowed: it is not namespaced"
check "nothing left of pnsd" test -z "$(leaks_of pnsd)"

new_project pnse >/dev/null <<'EOF'
services:
  s:
    image: busybox
    command: ["true"]
    sysctls:
      net.ipv4.berth_no_such_setting: "1"
EOF
rc=0
out=$(bz pnse up -d 2>&1) || rc=$?
check "a sysctl this kernel lacks fails the start (exit $rc)" test "$rc" -ne 0
expect_contains "it names the sysctl and the container" "$out" \
    "pnse-s-1: setting sysctl net.ipv4.berth_no_such_setting: this kernel has no such setting"
bz pnse down >/dev/null 2>&1
check "nothing left of pnse" test -z "$(leaks_of pnse)"

new_project pnsf >/dev/null <<'EOF'
services:
  s:
    image: busybox
    command: ["true"]
    pid: container:pnsf-nothere
EOF
rc=0
out=$(bz pnsf up -d 2>&1) || rc=$?
check "joining a container that does not run fails (exit $rc)" test "$rc" -ne 0
expect_contains "it names that container" "$out" \
    "pid container:pnsf-nothere: container pnsf-nothere is not running"
bz pnsf down >/dev/null 2>&1
check "nothing left of pnsf" test -z "$(leaks_of pnsf)"

finish
