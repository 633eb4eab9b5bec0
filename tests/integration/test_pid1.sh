#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What runs as a container's first process, and what it is left with: it
# dies with its supervisor whatever its user (F03 as designed here: no
# container outlives a supervisor killed with SIGKILL); with `init: true`
# PID 1 is berth's small init program from a sealed memfd, holding nothing
# of the supervisor, yet forwarding signals, reaping orphans and passing on
# the exit status; resource limits are Docker's, not berth's own.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

field_of() { # field_of PROJECT CONTAINER FIELD: a number from the run state
    sed -n "s/.*\"$3\": \\([0-9]*\\).*/\\1/p" "$BERTH_RUNROOT/$1/$2.json"
}

procs_of() { # procs_of PROJECT: every process in the project's cgroups
    local c
    for c in /sys/fs/cgroup/*/"$T_CGBASE/$1" /sys/fs/cgroup/"$T_CGBASE/$1"; do
        [ -d "$c" ] && find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
    return 0
}

no_procs() { [ -z "$(procs_of "$1")" ]; }

uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# mem_has PID TEXT: TEXT is in one of the readable mappings of PID, read
# from the host through /proc/PID/mem (grep reads all: with -q, dd's
# SIGPIPE would fail the pipeline). Mappings over 256 MiB are skipped: the
# sanitizers' shadow reservations span terabytes of zero pages.
mem_has() {
    local pid=$1 text=$2 range perms rest start end
    while read -r range perms rest; do
        case "$perms" in r*) ;; *) continue ;; esac
        case "$rest" in *"[vvar"* | *"[vsyscall]"*) continue ;; esac
        start=$((16#${range%-*}))
        end=$((16#${range#*-}))
        [ $((end - start)) -le $((256 << 20)) ] || continue
        if dd if="/proc/$pid/mem" bs=65536 iflag=skip_bytes,count_bytes skip="$start" \
            count=$((end - start)) 2>/dev/null | grep -caF "$text" >/dev/null; then
            return 0
        fi
    done <"/proc/$pid/maps"
    return 1
}

# --- pdeathsig_nonroot_survives (F03): non-root containers, with and
# without init, and a non-root exec'd process all end with the supervisor --
new_project pid1orphan >/dev/null <<'YAML'
services:
  plain:
    image: berth-test/probe
    user: "1000"
    command: ["sleep", "3600"]
  withinit:
    image: berth-test/probe
    user: "1000"
    init: true
    command: ["sleep", "3600"]
  root:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
YAML
out=$(bz pid1orphan up -d 2>&1) || fail "up -d failed: $out"
bz pid1orphan exec -d -u 1000 root sleep 3600 || fail "exec -d failed"
sup=$(field_of pid1orphan pid1orphan-plain-1 supervisor)
check "the supervisor is known" test -n "$sup" -a -d "/proc/$sup"
n=$(procs_of pid1orphan | wc -l)
check "the project's processes run (saw $n)" test "$n" -ge 5
for c in plain withinit; do
    expect_eq "$c runs as uid 1000" "$(uid_of "$(field_of pid1orphan "pid1orphan-$c-1" pid)")" "1000"
done
kill -9 "$sup"
if wait_until 5 no_procs pid1orphan; then
    pass
else
    fail "pdeathsig_nonroot_survives: processes outlived the supervisor:"
    for p in $(procs_of pid1orphan); do
        say "    | $p uid $(uid_of "$p") $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
fi
out=$(bz pid1orphan down -t 1 2>&1) || fail "down after a killed supervisor failed: $out"
expect_contains "down cleans up after it" "$out" "Container pid1orphan-plain-1  Removed"

# --- init_is_not_berth: PID 1 of an `init: true` container is the init
# program from a sealed memfd, with nothing of the supervisor in it ---------
secret="pid1-secret-$RANDOM$RANDOM$RANDOM"
new_project pid1init >/dev/null <<YAML
services:
  keeper:
    image: berth-test/probe
    environment:
      KEEPER_SECRET: "$secret"
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  app:
    image: berth-test/probe
    init: true
    depends_on: [keeper]
    command:
      - sh
      - -c
      - |
        trap 'echo got-usr1 > /tmp/usr1' USR1
        trap 'exit 7' TERM
        (sleep 0.2 &)
        echo ready > /tmp/ready
        while :; do sleep 0.1; done
YAML
out=$(bz pid1init up -d 2>&1) || fail "up -d failed: $out"
check "the init container starts" wait_until 5 bz pid1init exec -T app test -f /tmp/ready
pid1=$(field_of pid1init pid1init-app-1 pid)
sup=$(field_of pid1init pid1init-app-1 supervisor)
expect_contains "PID 1 runs from a memfd" "$(readlink "/proc/$pid1/exe" 2>&1)" "/memfd:berth-init"
sum=$(sha256sum "/proc/$pid1/exe" 2>/dev/null | cut -d' ' -f1)
check "PID 1's program is readable from the host" test -n "$sum"
check "PID 1's program is not berth" test "$sum" != "$(sha256sum "$BERTH" | cut -d' ' -f1)"
expect_eq "PID 1's environment is empty" "$(tr -d '\0' <"/proc/$pid1/environ" | wc -c)" "0"
expect_eq "PID 1 holds no file descriptor" "$(ls "/proc/$pid1/fd" | wc -l)" "0"
expect_eq "PID 1's name" "$(cat "/proc/$pid1/comm")" "init"
if mem_has "$sup" "$secret"; then
    pass
    if mem_has "$pid1" "$secret"; then
        fail "init_is_not_berth: another service's secret is in PID 1's memory"
    else
        pass
    fi
else
    fail "the supervisor's memory does not hold the marker: the check would prove nothing"
fi
memfds=0
for f in /proc/"$sup"/fd/*; do
    [ "$(readlink "$f" 2>/dev/null)" = "/memfd:berth-init (deleted)" ] || continue
    memfds=$((memfds + 1))
    if printf x 2>/dev/null >>"$f"; then
        fail "the init program's memfd can be written"
    else
        pass
    fi
done
expect_eq "the supervisor holds one copy of the init program" "$memfds" "1"
other=$(field_of pid1init pid1init-keeper-1 pid)
expect_eq "a container without init holds no copy of it" \
    "$(ls -l "/proc/$other/fd" 2>/dev/null | grep -c memfd || true)" "0"
# The orphan (sleep 0.2, re-parented to PID 1) has ended by now: a zombie
# whose parent is PID 1 would be one the init did not reap.
zombies=$(bz pid1init exec -T app sh -c 'sleep 0.5; cat /proc/[0-9]*/status 2>/dev/null |
    awk "/^State:/ {z = \$2 == \"Z\"} /^PPid:/ {if (z && \$2 == 1) n++} END {print n + 0}"')
expect_eq "orphans are reaped" "$zombies" "0"
bz pid1init kill -s SIGUSR1 app >/dev/null 2>&1 || fail "kill -s SIGUSR1 failed"
check "SIGUSR1 is forwarded to the command" wait_until 5 bz pid1init exec -T app test -f /tmp/usr1
bz pid1init stop -t 5 app >/dev/null 2>&1 || fail "stop failed"
out=$(bz pid1init ps -a --format json 2>&1 | grep pid1init-app-1 || true)
expect_contains "SIGTERM is forwarded and the command's status is the container's" "$out" '"ExitCode":7'
bz pid1init down -t 1 >/dev/null 2>&1 || fail "down failed"

# --- resource limits: Docker's, capped by the host's hard limits, not
# berth's own soft ones --------------------------------------------------------
new_project pid1limits >/dev/null <<'YAML'
services:
  lim:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
YAML
hn=$(ulimit -Hn)
if [ "$hn" = unlimited ] || [ "$hn" -gt 1048576 ]; then want_n=1048576; else want_n=$hn; fi
hu=$(ulimit -Hu)
hc=$(ulimit -Hc)
out=$(cd "$T_DIR/pid1limits" && prlimit --nofile=256:"$hn" --core=0:"$hc" --nproc=500:"$hu" \
    "$BERTH" up -d 2>&1) || fail "up -d under lowered soft limits failed: $out"
limits() { # limits FILE-IN-CONTAINER: "files soft hard, procs soft hard, core soft hard"
    bz pid1limits exec -T lim cat "$1" | awk '
        /^Max open files/ {f=$4" "$5} /^Max processes/ {p=$3" "$4} /^Max core/ {c=$5" "$6}
        END {print f", "p", "c}'
}
want="$want_n $want_n, $hu $hu, $hc $hc"
expect_eq "the container's limits are Docker's (nofile min(1048576, hard))" "$(limits /proc/1/limits)" "$want"
out=$(cd "$T_DIR/pid1limits" && prlimit --nofile=256:"$hn" "$BERTH" exec -T lim cat /proc/self/limits |
    awk '/^Max open files/ {print $4" "$5}')
expect_eq "an exec'd process's too" "$out" "$want_n $want_n"
bz pid1limits down -t 1 >/dev/null 2>&1 || fail "down failed"

finish
