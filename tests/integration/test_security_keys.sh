#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hardening keys (SECURITY.md E07; the finding "hardening keys fail open":
# cap_drop [ALL] plus no-new-privileges:true ran with CapEff a80425fb and
# NoNewPrivs 0). cap_add, cap_drop and security_opt no-new-privileges reach
# the container's init, `exec`'d processes, healthcheck probes and `run`;
# the seccomp filter follows the capabilities as Docker's does; a change
# recreates the container; a key berth does not honour yet whose absence
# would give the container more privilege (runtime) refuses the service
# with nothing made, while `config` still prints the file.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

status_of() { # status_of PROJECT SERVICE: the caps lines of PID 1 and of an exec'd process
    bz "$1" exec -T "$2" sh -c '
        grep -E "^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):" /proc/1/status |
            tr -d "\t" | sed "s/^/init./"
        grep -E "^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):" /proc/self/status |
            tr -d "\t" | sed "s/^/exec./"'
}

# --- caps_drop_all_fails_open ------------------------------------------------------
new_project seck >/dev/null <<'EOF'
services:
  locked:
    image: berth-test/probe
    command: ["sleep", "3600"]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD-SHELL", "grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status | tr -d '\\t' > /tmp/hc"]
      interval: 1s
      start_interval: 1s
  noraw:
    image: berth-test/probe
    command: ["sleep", "3600"]
    cap_drop: [net_raw]
    stop_signal: SIGKILL
  admin:
    image: berth-test/probe
    command: ["sleep", "3600"]
    cap_add: [CAP_SYS_ADMIN]
    stop_signal: SIGKILL
  admin_user:
    image: berth-test/probe
    command: ["sleep", "3600"]
    user: "1000:1000"
    cap_add: [SYS_ADMIN]
    stop_signal: SIGKILL
  plain:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
EOF
out=$(bz seck up -d --wait 2>&1) || fail "up -d --wait failed: $out"
expect_not_contains "cap_add/cap_drop/security_opt are not warned about" "$out" "not supported"

out=$(status_of seck locked)
for who in init exec; do
    expect_contains "cap_drop ALL: $who CapEff 0" "$out" "$who.CapEff:0000000000000000"
    expect_contains "cap_drop ALL: $who CapPrm 0" "$out" "$who.CapPrm:0000000000000000"
    expect_contains "cap_drop ALL: $who CapBnd 0" "$out" "$who.CapBnd:0000000000000000"
    expect_contains "cap_drop ALL: $who CapInh 0" "$out" "$who.CapInh:0000000000000000"
    expect_contains "cap_drop ALL: $who CapAmb 0" "$out" "$who.CapAmb:0000000000000000"
    expect_contains "no-new-privileges: $who NoNewPrivs 1" "$out" "$who.NoNewPrivs:1"
done
out=$(bz seck exec -T locked cat /tmp/hc 2>&1)
expect_contains "healthcheck probe: CapEff 0" "$out" "CapEff:0000000000000000"
expect_contains "healthcheck probe: CapBnd 0" "$out" "CapBnd:0000000000000000"
expect_contains "healthcheck probe: NoNewPrivs 1" "$out" "NoNewPrivs:1"
out=$(bz seck exec -T -u 1000 locked grep -E '^(CapBnd|NoNewPrivs):' /proc/self/status 2>&1 |
    tr -d '\t')
expect_contains "exec -u: CapBnd 0" "$out" "CapBnd:0000000000000000"
expect_contains "exec -u: NoNewPrivs 1" "$out" "NoNewPrivs:1"
out=$(bz seck exec -T locked probe syscalls 2>&1)
expect_contains "cap_drop ALL: mount still refused" "$out" "mount=EPERM"

# cap_drop [NET_RAW]: that bit only (a80425fb - 1<<13).
out=$(status_of seck noraw)
expect_contains "cap_drop NET_RAW: CapEff" "$out" "init.CapEff:00000000a80405fb"
expect_contains "cap_drop NET_RAW: CapBnd" "$out" "init.CapBnd:00000000a80405fb"
expect_contains "cap_drop NET_RAW: exec CapEff" "$out" "exec.CapEff:00000000a80405fb"
expect_contains "no no-new-privileges: NoNewPrivs 0" "$out" "init.NoNewPrivs:0"

# cap_add [SYS_ADMIN]: that bit added (| 1<<21), and the seccomp filter
# opens what Docker's opens with it.
out=$(status_of seck admin)
expect_contains "cap_add SYS_ADMIN: CapEff" "$out" "init.CapEff:00000000a82425fb"
expect_contains "cap_add SYS_ADMIN: exec CapEff" "$out" "exec.CapEff:00000000a82425fb"
out=$(bz seck exec -T admin probe syscalls 2>&1)
expect_contains "cap_add SYS_ADMIN: mount allowed by seccomp" "$out" "mount=ok"
expect_not_contains "cap_add SYS_ADMIN: clone3 no longer ENOSYS" "$out" "clone3=ENOSYS"
out=$(bz seck exec -T plain probe syscalls 2>&1)
expect_contains "default caps: mount refused" "$out" "mount=EPERM"
expect_contains "default caps: clone3 ENOSYS" "$out" "clone3=ENOSYS"

# A non-root user: the bounding set, nothing effective (as Docker).
out=$(status_of seck admin_user)
expect_contains "non-root: CapBnd has SYS_ADMIN" "$out" "init.CapBnd:00000000a82425fb"
expect_contains "non-root: CapEff 0" "$out" "init.CapEff:0000000000000000"
expect_contains "non-root: exec CapEff 0" "$out" "exec.CapEff:0000000000000000"

# `run` gets them too.
out=$(bz seck run --rm -T locked grep -E '^(CapEff|NoNewPrivs):' /proc/self/status 2>&1 |
    tr -d '\t')
expect_contains "run: CapEff 0" "$out" "CapEff:0000000000000000"
expect_contains "run: NoNewPrivs 1" "$out" "NoNewPrivs:1"

# A change of cap_drop recreates the container with the new set.
sed -i 's/cap_drop: \[net_raw\]/cap_drop: [net_raw, KILL]/' "$T_DIR/seck/compose.yaml"
out=$(bz seck up -d noraw 2>&1) || fail "second up failed: $out"
expect_contains "a cap_drop change recreates" "$out" "Container seck-noraw-1  Recreate"
out=$(status_of seck noraw)
expect_contains "recreated with the new set" "$out" "init.CapEff:00000000a80405db"
bz seck down -t 1 >/dev/null 2>&1 || fail "down failed"

# --- a key berth cannot honour yet is refused, nothing is made ------------------------
new_project secr >/dev/null <<'EOF'
services:
  fine:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  limited:
    image: berth-test/probe
    command: ["sleep", "3600"]
    runtime: runsc
    volumes:
      - data:/data
volumes:
  data:
EOF
rc=0
out=$(bz secr up -d 2>&1) || rc=$?
check "up refuses (exit $rc)" test "$rc" -ne 0
expect_contains "the refusal names file, line, service and key" "$out" \
    "compose.yaml:9:5: service \"limited\": key \"runtime\" is not supported yet; refusing to start the service"
expect_not_contains "no container was started" "$out" "Started"
rc=0
out=$(bz secr run --rm limited true 2>&1) || rc=$?
check "run refuses (exit $rc)" test "$rc" -ne 0
expect_contains "run names the key" "$out" "key \"runtime\" is not supported yet; refusing"
out=$(bz secr ps -a 2>&1)
expect_not_contains "nothing was created" "$out" "secr-"
check "no container directory" test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
check "no volume was made" test ! -e "$BERTH_ROOT/volumes/secr_data"
check "no cgroup was made" test -z "$(ls -d /sys/fs/cgroup/*/"$T_CGBASE"/secr /sys/fs/cgroup/"$T_CGBASE"/secr 2>/dev/null)"
out=$(bz secr config 2>&1) || fail "config failed: $out"
expect_contains "config still prints the file" "$out" "runtime: runsc"
# The other service alone still runs.
out=$(bz secr up -d fine 2>&1) || fail "up fine failed: $out"
bz secr down -t 1 >/dev/null 2>&1 || fail "down failed"

finish
