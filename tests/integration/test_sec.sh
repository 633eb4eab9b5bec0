#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The security keys beyond capabilities (issue 14, item 1), as Docker has
# them: privileged (every capability of this kernel, no seccomp filter,
# the host's devices, /sys and /proc/sys writable, nothing masked),
# security_opt seccomp=PATH (a Docker-format profile) and unconfined,
# systempaths=unconfined, mask/unmask, apparmor/label on a host without
# the LSM (said once), group_add, oom_score_adj, oom_kill_disable, and
# `exec --privileged`. Execs get the container's filter and groups. Bad
# input (a profile that does not parse, an oom_score_adj out of range, a
# group that is not there) is one line naming file:line, and nothing is
# made.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

# Every capability this kernel has, as /proc/PID/status prints the mask:
# those of them this test's own bounding set holds (a sandbox may hold
# some back, and nothing can give them).
last=$(cat /proc/sys/kernel/cap_last_cap)
bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
ALL_CAPS=$(printf '%016x' $((((1 << (last + 1)) - 1) & 0x$bnd)))

status() { # status PROJECT SERVICE PID: CapEff, CapBnd, NoNewPrivs, Seccomp, Groups
    bz "$1" exec -T "$2" grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp|Groups):' "/proc/$3/status" |
        tr -d '\t'
}

# --- privileged, seccomp profiles, paths, groups, OOM ---------------------------------
p=$(new_project secp <<'EOF'
services:
  priv:
    image: berth-test/probe
    command: ["sleep", "3600"]
    privileged: true
    stop_signal: SIGKILL
  privnnp:
    image: berth-test/probe
    command: ["sleep", "3600"]
    privileged: true
    security_opt: ["no-new-privileges:true"]
    stop_signal: SIGKILL
  plain:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  nomkdir:
    image: berth-test/probe
    command: ["sh", "-c", "mkdir /tmp/byinit 2>/tmp/init.err; touch /tmp/touched; sleep 3600"]
    security_opt: ["seccomp=profiles/nomkdir.json"]
    stop_signal: SIGKILL
  unconfined:
    image: berth-test/probe
    command: ["sleep", "3600"]
    security_opt: ["seccomp:unconfined", "label=disable", "apparmor=unconfined"]
    stop_signal: SIGKILL
  paths:
    image: berth-test/probe
    command: ["sleep", "3600"]
    security_opt: ["unmask=/proc/keys:/proc/sys", "mask=/proc/version"]
    stop_signal: SIGKILL
  sysp:
    image: berth-test/probe
    command: ["sleep", "3600"]
    security_opt: ["systempaths=unconfined"]
    stop_signal: SIGKILL
  groups:
    image: berth-test/probe
    command: ["sleep", "3600"]
    user: "1000"
    group_add: [staff, "4242", daemon]
    stop_signal: SIGKILL
  oom:
    image: berth-test/probe
    command: ["sleep", "3600"]
    oom_score_adj: 500
    oom_kill_disable: true
    mem_limit: 64m
    stop_signal: SIGKILL
EOF
)
mkdir -p "$p/profiles"
cat >"$p/profiles/nomkdir.json" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
  ],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
     "includes": {"caps": ["CAP_SYS_ADMIN"]}}
  ]
}
EOF
out=$(bz secp up -d --wait 2>&1) || fail "up -d --wait failed: $out"
up_out=$out
expect_not_contains "the keys are not warned about as unsupported" "$out" "not supported"
expect_not_contains "unconfined and label=disable say nothing" "$out" "not applied"

# privileged: every capability, no filter, NoNewPrivs only when asked.
out=$(status secp priv 1) || true
expect_contains "privileged: CapEff is every capability" "$out" "CapEff:$ALL_CAPS"
expect_contains "privileged: CapBnd is every capability" "$out" "CapBnd:$ALL_CAPS"
expect_contains "privileged: no seccomp filter" "$out" "Seccomp:0"
expect_contains "privileged: no NoNewPrivs unless asked" "$out" "NoNewPrivs:0"
out=$(status secp privnnp 1) || true
expect_contains "privileged + no-new-privileges: NoNewPrivs 1" "$out" "NoNewPrivs:1"
out=$(status secp priv self) || true
expect_contains "privileged: an exec has every capability" "$out" "CapEff:$ALL_CAPS"
expect_contains "privileged: an exec has no filter" "$out" "Seccomp:0"
MNT='mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && grep " /tmp/m " /proc/mounts'
out=$(bz secp exec -T priv sh -c "$MNT" 2>&1) || true
expect_contains "privileged: mount -t tmpfs works" "$out" "none /tmp/m tmpfs"
out=$(bz secp exec -T plain sh -c "$MNT && echo MOUNTED" 2>&1) || true
expect_not_contains "unprivileged: mount is refused" "$out" "MOUNTED"
out=$(bz secp exec -T priv cat /proc/mounts) || true
expect_contains "privileged: /sys is read-write" "$out" "none /sys sysfs rw"
expect_not_contains "privileged: /proc/sys is not read-only" "$out" " /proc/sys "
expect_not_contains "privileged: nothing masked" "$out" " /proc/keys "
out=$(bz secp exec -T plain cat /proc/mounts) || true
expect_contains "default: /sys read-only" "$out" "none /sys sysfs ro"
expect_contains "default: /proc/kcore masked" "$out" " /proc/keys "
# The host's device nodes, and the device cgroup lets them be opened.
dev=$(for d in kmsg loop-control mem; do [ -c /dev/$d ] && echo $d && break; done || true)
if [ -n "$dev" ]; then
    check "privileged: the host's /dev/$dev is there" bz secp exec -T priv test -c "/dev/$dev"
    rc=0
    bz secp exec -T plain test -e "/dev/$dev" || rc=$?
    check "default: no /dev/$dev" test "$rc" -ne 0
    check "privileged: /dev/$dev opens (device cgroup)" bz secp exec -T priv sh -c "head -c0 </dev/$dev"
else
    skip_check "privileged: host device nodes" "the host has no /dev/kmsg, loop-control or mem"
fi

# A custom profile: mkdir refused (EPERM) for the init and for execs, the
# rest works; includes by caps left out for the default set.
out=$(bz secp exec -T nomkdir sh -c 'mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touched' 2>&1) || true
expect_contains "profile: exec's mkdir gets EPERM" "$out" "Operation not permitted"
expect_contains "profile: exec's mkdir fails" "$out" "rc=1"
expect_contains "profile: the rest works" "$out" "touched"
out=$(bz secp exec -T nomkdir cat /tmp/init.err 2>&1) || true
expect_contains "profile: the init's mkdir gets EPERM" "$out" "Operation not permitted"
check "profile: the init's touch worked" bz secp exec -T nomkdir test -e /tmp/touched
out=$(status secp nomkdir 1) || true
expect_contains "profile: a filter is loaded" "$out" "Seccomp:2"
out=$(bz secp exec -T nomkdir sh -c 'cat /proc/self/status >/dev/null && echo ppid=$PPID' 2>&1) || true
expect_contains "profile: a rule for CAP_SYS_ADMIN only is left out" "$out" "ppid="

# unconfined: what the default profile refuses gets through.
out=$(bz secp exec -T plain probe syscalls 2>&1) || true
expect_contains "default: keyctl refused" "$out" "keyctl=EPERM"
expect_contains "default: personality refused" "$out" "personality_bad=EPERM"
out=$(bz secp exec -T unconfined probe syscalls 2>&1) || true
expect_not_contains "unconfined: keyctl not refused by seccomp" "$out" "keyctl=EPERM"
expect_not_contains "unconfined: personality allowed" "$out" "personality_bad=EPERM"
out=$(status secp unconfined 1) || true
expect_contains "unconfined: no filter" "$out" "Seccomp:0"
expect_contains "unconfined: default caps" "$out" "CapEff:00000000a80425fb"

# mask/unmask and systempaths.
out=$(bz secp exec -T paths cat /proc/mounts) || true
expect_not_contains "unmask=/proc/keys" "$out" " /proc/keys "
expect_contains "mask=/proc/version" "$out" " /proc/version "
expect_contains "the other default masks stay" "$out" " /proc/timer_list "
expect_not_contains "unmask=/proc/sys: writable" "$out" " /proc/sys "
expect_contains "the other read-only paths stay" "$out" " /proc/irq "
expect_eq "a masked file reads empty" "$(bz secp exec -T paths cat /proc/version || echo failed)" ""
out=$(bz secp exec -T sysp cat /proc/mounts) || true
expect_not_contains "systempaths=unconfined: nothing masked" "$out" " /proc/keys "
expect_not_contains "systempaths=unconfined: /proc/sys writable" "$out" " /proc/sys "
expect_contains "systempaths=unconfined: /sys stays read-only" "$out" "none /sys sysfs ro"

# group_add: by name and number, for the init and for execs.
out=$(status secp groups 1) || true
expect_contains "group_add: the init's groups" "$out" "Groups:1 50 4242"
out=$(bz secp exec -T groups id 2>&1) || true
expect_contains "group_add: id shows them" "$out" "4242"
expect_contains "group_add: by name" "$out" "1(daemon)"
expect_contains "group_add: the user's own" "$out" "50(staff)"

# OOM: the init's score, and the v1 memory controller's switch.
expect_eq "oom_score_adj of the init" "$(bz secp exec -T oom cat /proc/1/oom_score_adj || true)" 500
expect_eq "oom_score_adj of an exec" "$(bz secp exec -T oom cat /proc/self/oom_score_adj || true)" 500
expect_eq "default: berth's own" "$(bz secp exec -T plain cat /proc/1/oom_score_adj || true)" \
    "$(cat /proc/self/oom_score_adj)"
oc=/sys/fs/cgroup/memory/$T_CGBASE/secp/oom/secp-oom-1/memory.oom_control
if [ -e "$oc" ]; then
    expect_contains "oom_kill_disable: memory.oom_control" "$(cat "$oc")" "oom_kill_disable 1"
    oc2=/sys/fs/cgroup/memory/$T_CGBASE/secp/plain/secp-plain-1/memory.oom_control
    expect_contains "default: the OOM killer stays on" "$(cat "$oc2")" "oom_kill_disable 0"
    expect_not_contains "oom_kill_disable: nothing said on v1" "$up_out" "OomKillDisable"
else
    skip_check "oom_kill_disable" "no v1 memory controller (cgroup v2 has no such switch)"
    expect_eq "oom_kill_disable on cgroup v2: Docker's warning, once" \
        "$(grep -c 'service "oom": Your kernel does not support OomKillDisable. OomKillDisable discarded.' <<<"$up_out")" 1
fi

# exec --privileged into an unprivileged container.
out=$(bz secp exec -T --privileged plain grep -E '^(CapEff|Seccomp):' /proc/self/status |
    tr -d '\t') || true || true
expect_contains "exec --privileged: every capability" "$out" "CapEff:$ALL_CAPS"
expect_contains "exec --privileged: no filter" "$out" "Seccomp:0"
out=$(bz secp exec -T --privileged plain sh -c "$MNT && echo MOUNTED" 2>&1) || true
expect_contains "exec --privileged: mount works" "$out" "MOUNTED"

# A change of the profile's text recreates the container.
sed -i 's/"mkdir", "mkdirat"/"mkdir", "mkdirat", "rmdir"/' "$p/profiles/nomkdir.json"
out=$(bz secp up -d nomkdir 2>&1) || fail "second up failed: $out"
expect_contains "a profile change recreates" "$out" "Container secp-nomkdir-1  Recreate"
bz secp down -t 1 >/dev/null 2>&1 || fail "down failed"

# --- AppArmor: applied where the host has it, else said once ------------------------------
new_project seca >/dev/null <<'EOF'
services:
  web:
    image: berth-test/probe
    command: ["sleep", "3600"]
    security_opt: ["apparmor=berth-test-profile"]
    stop_signal: SIGKILL
    scale: 2
EOF
rc=0
out=$(bz seca up -d 2>&1) || rc=$?
# The host has AppArmor as berth tells (util/kernel.c): securityfs's list,
# else, where securityfs is not mounted, the module's "enabled".
if [ -r /sys/kernel/security/lsm ]; then
    grep -qw apparmor /sys/kernel/security/lsm && aa=yes || aa=no
else
    grep -qs '^[Y1]' /sys/module/apparmor/parameters/enabled && aa=yes || aa=no
fi
if [ "$aa" = yes ]; then
    # No such profile is loaded: applying it fails, naming it.
    check "apparmor: a profile that is not loaded stops the start (exit $rc)" test "$rc" -ne 0
    expect_contains "apparmor: the profile is applied, and named" "$out" \
        "applying the AppArmor profile: berth-test-profile"
    skip_check "apparmor: said on a host without it" "this host has AppArmor"
else
    check "apparmor: up runs without it (exit $rc)" test "$rc" -eq 0
    expect_contains "apparmor on a host without it is said, with file:line" "$out" \
        "compose.yaml:5:20: service \"web\": security_opt \"apparmor=berth-test-profile\" not applied: this host has no AppArmor"
    expect_eq "said once for the service's two containers" "$(grep -c 'not applied' <<<"$out")" 1
    skip_check "apparmor: a profile applied" "this host has no AppArmor"
fi
bz seca down -t 1 >/dev/null 2>&1 || fail "down failed"

# --- bad input: one line with file:line, nothing made ---------------------------------------
nothing_made() { # nothing_made PROJECT
    local out
    out=$(bz "$1" ps -a 2>&1) || true
    expect_not_contains "$1: no container" "$out" "$1-"
    check "$1: no container directory" test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
    check "$1: no cgroup" test -z "$(ls -d /sys/fs/cgroup/*/"$T_CGBASE"/"$1" \
        /sys/fs/cgroup/"$T_CGBASE"/"$1" 2>/dev/null)"
}
p=$(new_project secb <<'EOF'
services:
  fine:
    image: berth-test/probe
    command: ["sleep", "3600"]
  bad:
    image: berth-test/probe
    command: ["sleep", "3600"]
    security_opt:
      - seccomp=bad.json
EOF
)
printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [,]\n}\n' >"$p/bad.json"
rc=0
out=$(bz secb up -d 2>&1) || rc=$?
check "a profile that does not parse: up fails (exit $rc)" test "$rc" -ne 0
expect_contains "it names the compose file:line and the profile's line:column" "$out" \
    "compose.yaml:9:9: service \"bad\": security_opt seccomp: $p/bad.json:3:"
expect_eq "one line" "$(grep -c . <<<"$out")" 1
nothing_made secb
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' >"$p/bad.json"
rc=0
out=$(bz secb run --rm bad true 2>&1) || rc=$?
check "SCMP_ACT_NOTIFY: run fails (exit $rc)" test "$rc" -ne 0
expect_contains "SCMP_ACT_NOTIFY is named" "$out" "syscalls[0]: SCMP_ACT_NOTIFY is not supported"
rm "$p/bad.json"
rc=0
out=$(bz secb up -d 2>&1) || rc=$?
check "a missing profile: up fails (exit $rc)" test "$rc" -ne 0
expect_contains "the missing profile is named" "$out" "$p/bad.json"
nothing_made secb
bz secb down -t 1 >/dev/null 2>&1 || true # (only when a check above failed)

new_project seco >/dev/null <<'EOF'
services:
  bad:
    image: berth-test/probe
    command: ["sleep", "3600"]
    oom_score_adj: 2000
EOF
rc=0
out=$(bz seco up -d 2>&1) || rc=$?
check "oom_score_adj out of range: up fails (exit $rc)" test "$rc" -ne 0
expect_contains "it names file:line and the range" "$out" \
    "compose.yaml:5:20: service \"bad\": oom_score_adj: 2000 is out of range (-1000 to 1000)"
nothing_made seco

new_project secg >/dev/null <<'EOF'
services:
  bad:
    image: berth-test/probe
    command: ["sleep", "3600"]
    group_add: [nosuchgroup]
EOF
rc=0
out=$(bz secg up -d 2>&1) || rc=$?
check "group_add of a missing group: up fails (exit $rc)" test "$rc" -ne 0
expect_contains "it names the group as Docker does" "$out" \
    "Unable to find group nosuchgroup: no matching entries in group file"
bz secg down -t 1 >/dev/null 2>&1 || fail "down failed"

finish
