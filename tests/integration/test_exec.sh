#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth exec` and `berth top` against running containers: the exec'd
# process lives in the container's namespaces (PID, UTS, mount, cgroup) with
# the container's security settings and nothing of the host's; user,
# working directory, environment, exit status, Docker's error statuses,
# terminals, detached mode, signal forwarding; `top` lists the container's
# processes.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

wait_for() { # wait_for FILE TEXT: up to 10 s
    for _ in $(seq 1 200); do
        grep -qF "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

new_project ex >/dev/null <<'EOF'
services:
  web:
    image: berth-test/probe
    hostname: exechost
    command: ["sh", "-c", "echo made > /marker; echo web-up; exec sleep 3600"]
    environment:
      FROMFILE: compose
      SHARED: file
    working_dir: /srv
    stop_signal: SIGKILL
  once:
    image: berth-test/probe
    command: ["sh", "-c", "echo once-done"]
  hostile:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  admin:
    image: berth-test/probe
    command: ["sleep", "3600"]
    cap_add: [SYS_ADMIN, SYS_PTRACE]
    stop_signal: SIGKILL
EOF
out=$(bz ex up -d 2>&1) || fail "up -d failed: $out"

retry() { # retry COMMAND...: up to 10 s until it succeeds
    for _ in $(seq 1 200); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}
check "web's command has run" retry bz ex exec -T web test -f /marker
once_stopped() { ! bz ex exec -T once true; }
check "once has exited" retry once_stopped

# --- namespaces ----------------------------------------------------------------
out=$(bz ex exec -T web sh -c '
    echo "self=$$"
    echo "pid1=$(tr "\0" " " < /proc/1/cmdline)"
    echo "procs=$(ls /proc | grep -c "^[0-9]")"
    echo "hostname=$(hostname)"
    echo "marker=$(cat /marker)"
    echo "rootfs=$(grep -m1 " / " /proc/mounts | cut -d" " -f3)"
    sed "s/^/cg /" /proc/self/cgroup
    echo "links=$(ls /sys/class/net | tr "\n" " ")"
    echo "cwd=$(pwd)"' 2>&1) || fail "exec failed: $out"
self=$(printf '%s\n' "$out" | sed -n 's/^self=//p')
check "the exec'd process has a small PID in the container (got $self)" test "${self:-99}" -le 5
expect_contains "PID 1 is the container's command" "$out" "pid1=sleep 3600"
procs=$(printf '%s\n' "$out" | sed -n 's/^procs=//p')
check "host processes are invisible (saw $procs)" test "${procs:-0}" -ge 2 -a "${procs:-99}" -le 5
expect_contains "the container's hostname" "$out" "hostname=exechost"
expect_contains "the container's root file system" "$out" "marker=made"
expect_contains "the root is the container's overlay" "$out" "rootfs=overlay"
# Its own cgroup is / in every hierarchy there is (0::/ alone on v2).
cg=$(printf '%s\n' "$out" | sed -n 's/^cg //p')
check "the container's cgroup namespace: 0::/" grep -qx '0::/' <<<"$cg"
expect_eq "the container's cgroup namespace: every hierarchy is / ($(printf '%s' "$cg" | tr '\n' ' '))" \
    "$(printf '%s\n' "$cg" | grep -cv ':/$' || true)" "0"
expect_contains "the container's network namespace" "$out" "links=eth0 lo "
expect_contains "the container's working_dir by default" "$out" "cwd=/srv"

# --- security settings ------------------------------------------------------------
out=$(bz ex exec -T web sh -c 'grep -E "^(CapEff|CapInh|CapBnd|Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\t"; probe syscalls; probe highbits' 2>&1) ||
    fail "exec of the probe failed: $out"
expect_contains "CapEff is Docker's default" "$out" "CapEff:00000000a80425fb"
expect_contains "CapBnd is Docker's default" "$out" "CapBnd:00000000a80425fb"
expect_contains "no inheritable capabilities" "$out" "CapInh:0000000000000000"
expect_contains "seccomp filter on" "$out" "Seccomp:2"
# Refused by the filter alone (the kernel would allow each, or answer with
# another errno, for Docker's default capabilities).
expect_contains "seccomp: io_uring_setup refused" "$out" "io_uring_setup=EPERM"
expect_contains "seccomp: socket(AF_ALG) refused" "$out" "socket_af_alg=EPERM"
expect_contains "seccomp: socket(AF_ALG + 2^32) refused" "$out" "socket_af_alg_highbits=EPERM"
expect_contains "seccomp: socket(AF_VSOCK + 2^32) refused" "$out" "socket_af_vsock_highbits=EPERM"
expect_contains "seccomp: keyctl refused" "$out" "keyctl=EPERM"
expect_contains "seccomp: add_key refused" "$out" "add_key=EPERM"
expect_contains "seccomp: unshare(CLONE_NEWUSER) refused" "$out" "unshare_user=EPERM"
expect_contains "seccomp: clone(CLONE_NEWUSER) refused" "$out" "clone_newuser=EPERM"
expect_contains "seccomp: clone3 answers ENOSYS" "$out" "clone3=ENOSYS"
expect_contains "seccomp: personality(READ_IMPLIES_EXEC) refused" "$out" "personality_read_implies_exec=EPERM"
# Refused by the missing CAP_SYS_ADMIN: no more than the capabilities.
expect_contains "caps: mount refused" "$out" "mount=EPERM"
# An exec into a service with cap_add SYS_ADMIN and SYS_PTRACE: the
# capabilities allow everything below, Docker's profile does not.
out=$(bz ex exec -T admin sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -d "\t"; probe syscalls' 2>&1) ||
    fail "exec of the probe with cap_add failed: $out"
expect_contains "cap_add: CAP_SYS_ADMIN and CAP_SYS_PTRACE are effective" "$out" "CapEff:00000000a82c25fb"
expect_contains "cap_add: mount allowed, as Docker allows it" "$out" "mount=ok"
expect_contains "seccomp with SYS_ADMIN: swapon refused" "$out" "swapon=EPERM"
expect_contains "seccomp with SYS_PTRACE: userfaultfd refused" "$out" "userfaultfd=EPERM"
expect_contains "seccomp with SYS_ADMIN: keyctl refused" "$out" "keyctl=EPERM"
expect_contains "seccomp with SYS_ADMIN: io_uring_setup refused" "$out" "io_uring_setup=EPERM"
expect_contains "seccomp with SYS_ADMIN: socket(AF_ALG) refused" "$out" "socket_af_alg=EPERM"
out=$(bz ex exec -T web probe fds self 2>&1)
expect_eq "the exec'd process holds only fds 0-2" "$(printf '%s\n' "$out" | tr '\n' ' ')" "fd 0 fd 1 fd 2 "
out=$(bz ex exec -T web probe fds 1 2>&1)
expect_eq "PID 1 still holds only fds 0-2" "$(printf '%s\n' "$out" | tr '\n' ' ')" "fd 0 fd 1 fd 2 "
# While an exec runs, nothing in the container shows berth's binary.
bz ex exec -T web sleep 4.5 >"$T_DIR/bg.out" 2>&1 &
sleeper=$!
sleeper_runs() {
    bz ex exec -T web sh -c 'for p in /proc/[0-9]*; do
        [ "$(tr "\0" " " < $p/cmdline 2>/dev/null)" = "sleep 4.5 " ] && exit 0; done; exit 1'
}
check "the concurrent exec runs" wait_until 10 sleeper_runs
out=$(bz ex exec -T web sh -c 'for p in /proc/[0-9]*; do
    echo "$(readlink $p/exe) $(tr "\0" " " < $p/cmdline)"; done' 2>&1) || fail "the /proc/*/exe scan failed: $out"
expect_contains "the scan read the concurrent exec's link" "$out" "/bin/busybox sleep 4.5"
expect_not_contains "berth's binary is not reachable from the container" "$out" "berth"
wait $sleeper || fail "the concurrent exec failed: $(cat "$T_DIR/bg.out")"

# --- user, working directory, environment -----------------------------------------
out=$(bz ex exec -T -u app web sh -c 'id -u; grep CapEff /proc/self/status | tr -d "\t"; echo "home=$HOME"' 2>&1)
expect_contains "-u app runs as uid 1000" "$out" "1000"
expect_contains "a non-root user has no effective capabilities" "$out" "CapEff:0000000000000000"
expect_contains "HOME from the container's /etc/passwd" "$out" "home=/home/app"
out=$(bz ex exec -T --user 1000 web id -u 2>&1)
expect_eq "-u 1000" "$out" "1000"
out=$(bz ex exec -T -w /tmp web pwd 2>&1)
expect_eq "-w sets the working directory" "$out" "/tmp"
rc=0
out=$(bz ex exec -T -w /no/such/dir web pwd 2>&1) || rc=$?
expect_eq "a missing -w directory gives 126" "$rc" "126"
expect_contains "naming it" "$out" "/no/such/dir: No such file or directory"
out=$(bz ex exec -T web sh -c 'test -e /no && echo created || echo absent' 2>&1)
expect_eq "and is not created" "$out" "absent"
out=$(FROMSHELL=shellvalue bz ex exec -T -e SHARED=flag -e EXTRA=1 -e FROMSHELL -e UNSETHERE web \
    sh -c 'echo "$FROMFILE $SHARED $EXTRA $FROMSHELL ${UNSETHERE-unset}"' 2>&1)
expect_eq "the container's env with -e on top" "$out" "compose flag 1 shellvalue unset"

# --- exit statuses and errors -------------------------------------------------
rc=0
bz ex exec -T web sh -c 'exit 7' || rc=$?
expect_eq "the command's exit status comes back" "$rc" "7"
rc=0
bz ex exec -T web sh -c 'kill -TERM $$' || rc=$?
expect_eq "a signal gives 128 + its number" "$rc" "143"
rc=0
out=$(bz ex exec -T web no-such-command 2>&1) || rc=$?
expect_eq "a missing command gives 127" "$rc" "127"
expect_contains "with Docker's message" "$out" 'exec: "no-such-command": executable file not found in $PATH'
rc=0
out=$(bz ex exec -T web /etc/passwd 2>&1) || rc=$?
expect_eq "a file that cannot be executed gives 126" "$rc" "126"
rc=0
out=$(bz ex exec -T -u nobodyhere web true 2>&1) || rc=$?
expect_eq "an unknown user gives 126" "$rc" "126"
expect_contains "naming the user" "$out" "unable to find user nobodyhere"
rc=0
out=$(bz ex exec -T once true 2>&1) || rc=$?
expect_eq "a stopped service gives 1" "$rc" "1"
expect_contains "docker compose's message" "$out" 'service "once" is not running'
rc=0
out=$(bz ex exec -T nosuch true 2>&1) || rc=$?
expect_eq "an unknown service gives 1" "$rc" "1"
expect_contains "naming it" "$out" "no such service: nosuch"
rc=0
out=$(bz ex exec -T --index 2 web true 2>&1) || rc=$?
expect_contains "--index of a container that does not exist" "$out" 'service "web" is not running container #2'
rc=0
out=$(bz ex exec -T --privileged web grep Seccomp: /proc/self/status 2>&1) || rc=$?
expect_eq "--privileged runs (exit $rc)" "$rc" "0"
expect_contains "--privileged: no seccomp filter" "$(tr -d '\t' <<<"$out")" "Seccomp:0"
rc=0
out=$(bz ex exec web 2>&1) || rc=$?
expect_contains "a command is required" "$out" "requires at least 2 arguments"

# -p alone, from a directory without a compose file.
out=$(cd "$T_DIR" && "$BERTH" -p ex exec -T web cat /marker 2>&1) || fail "exec with -p alone: $out"
expect_eq "-p alone finds the project" "$out" "made"

# CVE-2019-5736: while the container loops over /proc/*/exe (reading the
# links, writing to the files), many execs join it; berth's binary is never
# reachable from inside and is unchanged.
sum_before=$(sha256sum "$BERTH" | cut -d' ' -f1)
bz ex exec -d hostile sh -c 'while :; do for p in /proc/[0-9]*; do
    case "$(readlink $p/exe 2>/dev/null)" in *berth*) echo "$p" >> /seen ;; esac
    echo x 2>/dev/null >> $p/exe
done; echo pass >> /passes; done' || fail "could not start the /proc/*/exe loop"
passes() { bz ex exec -T hostile sh -c 'wc -l < /passes' 2>/dev/null || echo 0; }
loop_runs() { [ "$(passes)" -gt 0 ]; }
check "the /proc/*/exe loop runs" wait_until 10 loop_runs
loop_before=$(passes)
execs_ok=0
for _ in $(seq 1 200); do
    bz ex exec -T hostile true && execs_ok=$((execs_ok + 1))
done
expect_eq "200 execs beside the loop (E08)" "$execs_ok" "200"
loop_after=$(passes)
check "the loop kept running through the execs ($loop_before, then $loop_after passes)" \
    test "$loop_after" -gt "$loop_before"
out=$(bz ex exec -T hostile sh -c 'cat /seen 2>/dev/null || echo none' 2>&1)
expect_eq "no exec'd process ever showed berth's binary" "$out" "none"
expect_eq "berth's binary is unchanged" "$(sha256sum "$BERTH" | cut -d' ' -f1)" "$sum_before"

# The exec'd process is not dumpable while it is still berth (E08): a static
# watcher reads every /proc/PID/exe link thousands of times a second while
# execs join; a dumpable one shows berth's host path from the moment it has
# dropped to the container's capabilities until its execve. A PATH of 1400
# entries that each end in a symlink loop (ELOOP after 40 links) widens that
# moment to some milliseconds per exec.
bz ex exec -T hostile ln -s / /l || fail "could not make the symlink loop"
loop=$(printf '/l%.0s' $(seq 1 40))
long_path=$(for i in $(seq 1 1400); do printf '%s/x%d:' "$loop" "$i"; done)/bin
bz ex exec -T hostile probe exewatch 6000 "$BERTH" >"$T_DIR/exewatch.out" 2>&1 &
watcher=$!
check "the exe watcher started" wait_for "$T_DIR/exewatch.out" "watching"
for _ in $(seq 1 20); do
    bz ex exec -T -e "PATH=$long_path" hostile true || fail "an exec with the long PATH failed"
done
wait $watcher || fail "the exe watcher failed: $(cat "$T_DIR/exewatch.out")"
out=$(cat "$T_DIR/exewatch.out")
expect_contains "the watcher ran" "$out" "scans "
expect_contains "no exec'd process was readable as berth (E08, PR_SET_DUMPABLE)" "$out" " seen 0"

# /etc/passwd made a FIFO by the container: the next exec fails fast.
bz ex exec -T hostile sh -c 'rm /etc/passwd && mkfifo /etc/passwd' || fail "could not make the FIFO"
start=$(date +%s%N)
rc=0
out=$(bz ex exec -T -u app hostile true 2>&1) || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "a FIFO /etc/passwd fails the exec" test "$rc" -ne 0
expect_contains "and says why" "$out" "/etc/passwd is not a regular file"
check "without hanging (${ms} ms)" test "$ms" -lt 5000

# --- detached, signals, terminal -----------------------------------------------
rc=0
bz ex exec -d web sh -c 'sleep 0.2; echo detached > /tmp/detached; exec sleep 3600' || rc=$?
expect_eq "-d returns at once with 0" "$rc" "0"
for _ in $(seq 1 100); do
    out=$(bz ex exec -T web cat /tmp/detached 2>/dev/null) && break
    sleep 0.05
done
expect_eq "the detached command ran" "$out" "detached"

(cd "$T_DIR/ex" && exec "$BERTH" exec -T web sh -c \
    'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.05; done' >"$T_DIR/sig.out" 2>&1) &
execpid=$!
check "the trapping command starts" wait_for "$T_DIR/sig.out" "ready"
kill -TERM $execpid
rc=0
wait $execpid || rc=$?
expect_contains "SIGTERM is forwarded" "$(cat "$T_DIR/sig.out")" "got-term"
expect_eq "and its status returned" "$rc" "5"

rc=0
out=$(cd "$T_DIR/ex" && script -qec "$BERTH exec web sh -c 'tty; echo \"term=\$TERM\"; exit 3'" /dev/null </dev/null 2>&1) || rc=$?
expect_contains "a terminal by default when stdin is one" "$out" "/dev/pts/"
expect_contains "TERM is set for it" "$out" "term=xterm"
expect_eq "the status comes back through the terminal" "$rc" "3"
out=$(cd "$T_DIR/ex" && script -qec "stty rows 33 cols 101; $BERTH exec web stty size" /dev/null </dev/null 2>&1)
expect_contains "the window size is passed on" "$out" "33 101"
out=$(cd "$T_DIR/ex" && script -qec "$BERTH exec -T web sh -c 'read -r l < /proc/self/stat; set -- \$l; echo tty_nr=\$7'" /dev/null </dev/null 2>&1)
expect_contains "-T: no terminal of its own" "$out" "tty_nr=0"
# Keyboard input through a FIFO, each line once the shell is ready for it.
mkfifo "$T_DIR/kbd"
(cd "$T_DIR/ex" && exec timeout 60 script -qec "$BERTH exec web sh; stty -a" /dev/null \
    <"$T_DIR/kbd" >"$T_DIR/kbd.out" 2>&1) &
kbd=$!
exec 9>"$T_DIR/kbd"
check "the shell in the terminal prompts" wait_for "$T_DIR/kbd.out" "# "
printf 'echo in""put-seen\n' >&9
check "keyboard input reaches the command" wait_for "$T_DIR/kbd.out" "input-seen"
printf 'exit 4\n' >&9
rc=0
wait $kbd || rc=$?
exec 9>&-
expect_eq "the terminal session ends by itself" "$rc" "0"
expect_contains "the local terminal is restored afterwards" "$(cat "$T_DIR/kbd.out")" " icanon"

# --- top ------------------------------------------------------------------------
out=$(bz ex top 2>&1) || fail "top failed: $out"
expect_contains "top names each running container" "$out" "ex-web-1"
expect_contains "docker's columns" "$out" "UID"
# (|| true: grep -m1 and awk's exit may end the pipe before printf has
# written everything, and pipefail would then end the test silently)
header=$(printf '%s\n' "$out" | grep -m1 '^UID' | tr -s ' ') || true
expect_eq "docker's header" "$header" "UID PID PPID C STIME TTY TIME CMD"
expect_contains "the container's command" "$out" "sleep 3600"
expect_not_contains "stopped containers are left out" "$out" "ex-once-1"
# docker shows host PIDs: web's processes, as the host sees them: not
# 1 (every container's PID 1 is 1 in its own namespace), running the
# container's command, in the container's cgroup.
initpid=$(printf '%s\n' "$out" | awk '/^ex-/ {c = $1} c == "ex-web-1" && $NF == "3600" && $(NF-1) == "sleep" {print $2; exit}') || true
check "top shows a host PID for web's sleep (${initpid:-none})" test -n "$initpid" -a "${initpid:-1}" != 1
expect_eq "that host PID runs the container's command" \
    "$(tr '\0' ' ' <"/proc/${initpid:-0}/cmdline" 2>/dev/null || echo none)" "sleep 3600 "
expect_contains "that host PID is in web's cgroup" "$(cat "/proc/${initpid:-0}/cgroup" 2>/dev/null || echo none)" "/$T_CGBASE/ex/web/"
out=$(bz ex top hostile 2>&1) || fail "top hostile failed: $out"
expect_contains "top SERVICE" "$out" "ex-hostile-1"
expect_not_contains "only that service" "$out" "ex-web-1"
rc=0
out=$(bz ex top nosuch 2>&1) || rc=$?
expect_contains "top of an unknown service" "$out" "no such service: nosuch"

out=$(bz ex down 2>&1) || fail "down failed: $out"
rc=0
out=$(bz ex exec -T web true 2>&1) || rc=$?
expect_contains "exec after down" "$out" 'service "web" is not running'

finish
