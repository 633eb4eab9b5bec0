#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth up` under a service manager (berth@.service, Type=notify): READY=1
# on $NOTIFY_SOCKET only once every service runs and is healthy (what
# `up --wait` waits for), and once only; STATUS= lines; STOPPING=1 and a
# graceful stop on SIGTERM, exit 0; no READY and a non-zero exit when a
# service fails first; NOTIFY_SOCKET reaches no container; an abstract
# (@name) address; the stop's reverse dependency order; and the unit file
# itself, through systemd-analyze.
# A listener (sdnotify_listen.py) plays systemd's part.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar
LISTEN=$(dirname "$0")/sdnotify_listen.py
command -v python3 >/dev/null || skip "python3 is needed to listen on a notify socket"

# listen NAME ADDRESS: a listener on ADDRESS writing to $T_DIR/NAME.msgs;
# sets LPID.
listen() {
    python3 "$LISTEN" "$2" "$T_DIR/$1.msgs" &
    LPID=$!
    wait_until 10 test -e "$T_DIR/$1.msgs.ready" || fail "$1: the listener did not start"
    touch "$T_DIR/$1.msgs"
}

# up_notify PROJECT ADDRESS: `berth up` (attached) in the background with
# NOTIFY_SOCKET=ADDRESS, its output in $T_DIR/PROJECT.out; sets BPID (berth
# itself, the unit's main process).
up_notify() {
    (cd "$T_DIR/$1" && NOTIFY_SOCKET=$2 exec "$BERTH" up) >"$T_DIR/$1.out" 2>&1 &
    BPID=$!
}

msgs() { cat "$T_DIR/$1.msgs"; }
n_ready() { grep -c ' READY=1$' "$T_DIR/$1.msgs" || true; }
has_msg() { grep -qF -- "$2" "$T_DIR/$1.msgs"; }

# --- ready only when healthy; STATUS; no NOTIFY_SOCKET inside; SIGTERM ---
new_project sdnready >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "env > /flag/env; trap 'echo got-term > /flag/term; exit 0' TERM; echo web up; while :; do sleep 0.1; done"]
    stop_grace_period: 5s
    volumes: ["./flag:/flag"]
    environment:
      - NOTIFY_SOCKET
      - SEEN=${NOTIFY_SOCKET:-unset}
    healthcheck:
      test: ["CMD-SHELL", "env > /flag/probe-env.new; mv /flag/probe-env.new /flag/probe-env; test -f /flag/ok"]
      interval: 100ms
      retries: 10000
EOF2
d=$T_DIR/sdnready
mkdir -p "$d/flag"
listen sdnready "$T_DIR/notify"
up_notify sdnready "$T_DIR/notify"
note_namespaces_later() { wait_until 10 test -e "$d/flag/env" && note_namespaces; }
note_namespaces_later
if wait_until 20 has_msg sdnready "STATUS=1/1 containers running, 0/1 healthy"; then pass; else
    fail "sdn_status_starting: no STATUS line for a running, unhealthy container:"
    msgs sdnready | sed 's/^/    | /' >&2
fi
# ten probes fail meanwhile
sleep 1
check "sdn_no_ready_before_healthy: READY=1 before the healthcheck passed" \
    test "$(n_ready sdnready)" = 0
touch "$d/flag/ok"
check "sdn_ready_when_healthy: no READY=1 once the healthcheck passed" \
    wait_until 20 has_msg sdnready "READY=1"
if wait_until 10 has_msg sdnready "STATUS=1/1 containers running, 1/1 healthy"; then pass; else
    fail "sdn_status_healthy: no STATUS line saying it is healthy: $(msgs sdnready)"
fi
# NOTIFY_SOCKET: not passed through, not interpolated, not in a probe
env_out=$(cat "$d/flag/env" 2>/dev/null || echo "<no env file>")
probe_env=$(cat "$d/flag/probe-env" 2>/dev/null || echo "<no probe env file>")
expect_not_contains "sdn_env_container: the container sees NOTIFY_SOCKET" "$env_out" "NOTIFY_SOCKET"
expect_contains "sdn_env_interpolation: \${NOTIFY_SOCKET} was interpolated" "$env_out" "SEEN=unset"
expect_contains "sdn_env_probe: the probe's environment was read" "$probe_env" "PATH="
expect_not_contains "sdn_env_probe: a healthcheck sees NOTIFY_SOCKET" "$probe_env" "NOTIFY_SOCKET"

kill -TERM "$BPID"
rc=0
wait "$BPID" || rc=$?
note_namespaces
expect_eq "sdn_sigterm_exit: berth up's status after SIGTERM" "$rc" 0
expect_contains "sdn_sigterm_stopping: STOPPING=1 on SIGTERM" "$(msgs sdnready)" "STOPPING=1"
ext=$(sed -n 's/^[0-9]* EXTEND_TIMEOUT_USEC=//p' "$T_DIR/sdnready.msgs")
check "sdn_sigterm_extend: EXTEND_TIMEOUT_USEC ($ext) covers the 5 s grace" \
    test "${ext:-0}" -ge 5000000
check "sdn_sigterm_graceful: the container got its stop signal (SIGTERM)" test -e "$d/flag/term"
expect_contains "sdn_sigterm_graceful: the container exited by itself" \
    "$(cat "$T_DIR/sdnready.out")" "web-1 exited with code 0"
expect_eq "sdn_ready_once: READY=1 messages" "$(n_ready sdnready)" 1
kill "$LPID" && wait "$LPID" || true

# --- a service that fails before it is ready: no READY, non-zero exit ---
new_project sdnfail >/dev/null <<'EOF2'
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 0.5; exit 3"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      retries: 10000
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
EOF2
listen sdnfail "$T_DIR/notify-fail"
up_notify sdnfail "$T_DIR/notify-fail"
rc=0
if wait_until 30 bash -c "! kill -0 $BPID 2>/dev/null"; then
    wait "$BPID" || rc=$?
else
    fail "sdn_fail_exit: berth up did not end when a service failed before it was ready"
    kill -KILL "$BPID" 2>/dev/null || true
    wait "$BPID" || rc=$?
fi
note_namespaces
check "sdn_fail_exit: berth up's status is non-zero when a service failed ($rc)" test "$rc" -ne 0
expect_eq "sdn_fail_no_ready: READY=1 messages" "$(n_ready sdnfail)" 0
expect_contains "sdn_fail_status: STATUS names the failed container" "$(msgs sdnfail)" \
    "STATUS=container sdnfail-db-1 exited (3)"
kill "$LPID" && wait "$LPID" || true

# --- an abstract socket address; no healthcheck: ready once started ---
new_project sdnabs >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
EOF2
abs="@berth-test-sdn-$$-$RANDOM"
listen sdnabs "$abs"
up_notify sdnabs "$abs"
check "sdn_abstract_ready: READY=1 on an abstract socket" wait_until 20 has_msg sdnabs "READY=1"
note_namespaces
kill -TERM "$BPID"
rc=0
wait "$BPID" || rc=$?
expect_eq "sdn_abstract_exit: status after SIGTERM" "$rc" 0
kill "$LPID" && wait "$LPID" || true

# --- SIGTERM stops in reverse dependency order, each with its grace ---
# Each service notes its stop signal and its end in one shared file; web
# takes its time, so a stop of all at once would show db's end first.
new_project sdnorder >/dev/null <<'EOF2'
services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'echo db-term >> /flag/order; exit 0' TERM; touch /flag/db-up; while :; do sleep 0.1; done"]
    volumes: ["./flag:/flag"]
    stop_grace_period: 5s
  web:
    image: busybox
    command: ["sh", "-c", "trap 'echo web-term >> /flag/order; sleep 0.7; echo web-end >> /flag/order; exit 0' TERM; touch /flag/web-up; while :; do sleep 0.1; done"]
    volumes: ["./flag:/flag"]
    stop_grace_period: 5s
    depends_on: [db]
EOF2
d=$T_DIR/sdnorder
mkdir -p "$d/flag"
listen sdnorder "$T_DIR/notify-order"
up_notify sdnorder "$T_DIR/notify-order"
wait_until 20 has_msg sdnorder "READY=1" || fail "sdn_order: not ready: $(msgs sdnorder)"
wait_until 10 test -e "$d/flag/web-up" -a -e "$d/flag/db-up" || fail "sdn_order: the services did not start"
note_namespaces
kill -TERM "$BPID"
rc=0
wait "$BPID" || rc=$?
order=$(tr '\n' ' ' <"$d/flag/order" 2>/dev/null || echo "<no order file>")
expect_eq "sdn_order_sigterm: the stop signals' order (dependents first)" "$order" \
    "web-term web-end db-term "
expect_eq "sdn_order_exit: status after SIGTERM" "$rc" 0
n_ext=$(grep -c ' EXTEND_TIMEOUT_USEC=' "$T_DIR/sdnorder.msgs" || true)
expect_eq "sdn_order_extend: EXTEND_TIMEOUT_USEC once per wave" "$n_ext" 2
kill "$LPID" && wait "$LPID" || true

# --- the unit file ---
unit=$(dirname "$BERTH")/dist/systemd/berth@.service
if ! command -v systemd-analyze >/dev/null; then
    skip_check "sdn_unit_verify: systemd-analyze is not installed"
elif [ ! -e "$unit" ]; then
    fail "sdn_unit_verify: the configured unit $unit is missing"
else
    exec_line=$(grep '^ExecStart=' "$unit")
    check "sdn_unit_execstart: an absolute path to berth up ($exec_line)" \
        grep -qE '^ExecStart=/([^ ]*/)?berth up$' "$unit"
    # systemd-analyze wants ExecStart's program to exist: the installed
    # path is not there, so this copy names the built binary instead.
    mkdir -p "$T_DIR/unit"
    sed "s|^ExecStart=/[^ ]*/berth |ExecStart=$(realpath "$BERTH") |" "$unit" \
        >"$T_DIR/unit/berth@sdnverify.service"
    out=$(systemd-analyze verify --man=no "$T_DIR/unit/berth@sdnverify.service" 2>&1) && rc=0 || rc=$?
    # it reports some problems ("ignoring") with status 0: any output fails
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then pass; else
        fail "sdn_unit_verify: systemd-analyze verify (status $rc):"
        printf '%s\n' "$out" | sed 's/^/    | /' >&2
    fi
    for want in Type=notify NotifyAccess=main "WorkingDirectory=/etc/berth/%i" KillMode=mixed \
        Restart=on-failure After=network-online.target Wants=network-online.target; do
        check "sdn_unit_keys: $want" grep -qxF "$want" "$unit"
    done
fi

# --- the unit under a real systemd: a user manager of this test's own ---
# PID 1 here need not be systemd: `systemd --user` runs the unit as it is
# installed (a drop-in points it at this build, this store and a project
# directory), in cgroups of its own below the ones this test makes, and in
# a mount namespace whose /run says the system was booted with systemd.
real_unit() {
    local sysd=/lib/systemd/systemd R=$T_DIR/sysd h rc
    # the hierarchies systemd uses: its named v1 one and cgroup2, wherever
    # they are mounted (hybrid: systemd/ and unified/; pure v2: the top)
    SYSD_CGS=""
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        [ -e "$h/cgroup.procs" ] && SYSD_CGS="$SYSD_CGS $h/sdn-$$"
    done
    mkdir -p "$R/xdg" "$R/config/systemd/user/berth@.service.d"
    chmod 700 "$R/xdg"
    cp "$unit" "$R/config/systemd/user/"
    cat >"$R/config/systemd/user/berth@.service.d/test.conf" <<EOF2
[Service]
WorkingDirectory=
WorkingDirectory=$T_DIR/%i
ExecStart=
ExecStart=$(realpath "$BERTH") up
Environment=BERTH_ROOT=$BERTH_ROOT BERTH_RUNROOT=$BERTH_RUNROOT NO_COLOR=1
Environment="ASAN_OPTIONS=$ASAN_OPTIONS" "UBSAN_OPTIONS=$UBSAN_OPTIONS"
EOF2
    cat >"$R/start.sh" <<EOF2
mount --make-rprivate /
[ -d /run/systemd/system ] || { mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system; }
for cg in $SYSD_CGS; do mkdir -p "\$cg" && echo \$\$ >"\$cg/cgroup.procs"; done
export XDG_RUNTIME_DIR=$R/xdg XDG_CONFIG_HOME=$R/config
exec $sysd --user --log-target=console --log-level=notice
EOF2
    unshare -m bash "$R/start.sh" >"$R/manager.log" 2>&1 &
    SYSD_PID=$!
    export XDG_RUNTIME_DIR=$R/xdg XDG_CONFIG_HOME=$R/config
    if ! wait_until 20 systemctl --user show -p Version; then
        skip_check "sdn_unit_real: systemd --user did not come up here: $(head -c 300 "$R/manager.log")"
        real_unit_end
        return 0
    fi
    d=$T_DIR/sdnunit
    mkdir -p "$d/flag"
    # starts in the background: it returns once the project is ready
    (timeout 60 systemctl --user start berth@sdnunit; echo $? >"$R/start.rc") &
    wait_until 20 test -e "$d/flag/up" || fail "sdn_unit_real: the container did not start: $(systemctl --user status berth@sdnunit 2>&1)"
    sleep 1
    expect_eq "sdn_unit_real_waits: the unit's state while the healthcheck fails" \
        "$(systemctl --user is-active berth@sdnunit)" activating
    touch "$d/flag/ok"
    wait_until 20 test -e "$R/start.rc" || fail "sdn_unit_real: systemctl start did not return"
    expect_eq "sdn_unit_real_start: systemctl start's status" "$(cat "$R/start.rc" 2>/dev/null)" 0
    expect_eq "sdn_unit_real_active: the unit's state once healthy" \
        "$(systemctl --user is-active berth@sdnunit)" active
    expect_contains "sdn_unit_real_status: its status line" \
        "$(systemctl --user show -p StatusText berth@sdnunit)" "1/1 containers running, 1/1 healthy"
    note_namespaces
    rc=0
    timeout 60 systemctl --user stop berth@sdnunit || rc=$?
    expect_eq "sdn_unit_real_stop: systemctl stop's status" "$rc" 0
    expect_eq "sdn_unit_real_stop: the unit's result" \
        "$(systemctl --user show -p Result --value berth@sdnunit)" success
    check "sdn_unit_real_graceful: the container got SIGTERM" test -e "$d/flag/term"
    real_unit_end
}

real_unit_end() {
    local cg i
    kill -TERM "$SYSD_PID" 2>/dev/null || true
    wait "$SYSD_PID" 2>/dev/null || true
    unset XDG_RUNTIME_DIR XDG_CONFIG_HOME
    # its cgroups, deepest first (empty once it is gone)
    for cg in $SYSD_CGS; do
        for i in $(seq 1 20); do
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
            [ -e "$cg" ] || break
            sleep 0.1
        done
        [ -e "$cg" ] && fail "sdn_unit_real: cgroup $cg is left: $(find "$cg" -name cgroup.procs -exec cat {} +)"
    done
    return 0
}

new_project sdnunit >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "trap 'touch /flag/term; exit 0' TERM; touch /flag/up; while :; do sleep 0.1; done"]
    volumes: ["./flag:/flag"]
    healthcheck:
      test: ["CMD", "test", "-f", "/flag/ok"]
      interval: 100ms
      retries: 10000
EOF2
if [ ! -x /lib/systemd/systemd ] || ! command -v systemctl >/dev/null || ! command -v unshare >/dev/null; then
    skip_check "sdn_unit_real: no systemd (/lib/systemd/systemd, systemctl) or unshare here"
elif [ ! -e "$unit" ]; then
    fail "sdn_unit_real: the configured unit $unit is missing"
else
    real_unit
fi

finish
