#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exec_no_host_terminal: a container without a TTY of its own never gets
# berth's terminal. Under a pseudo-terminal this test allocates, `exec -T`,
# `exec` with stdout redirected and `run -T` give the command pipes that
# berth relays (as Docker does); a process the command leaves behind cannot
# read what is typed afterwards; typed and piped input still arrive, EOF
# (Ctrl-D, end of a pipe) is passed on; output, exit codes and Ctrl-C
# forwarding are unchanged. Containers of `up` (detached or attached) get
# /dev/null and pipes, or with `tty: true` a terminal of their own.
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
    skip "python3 (its pty module) is needed to give berth a terminal"
fi
PTYRUN=(python3 "$(dirname "$0")/ptyrun.py")
load_image probe.tar

new_project nht >/dev/null <<'EOF'
services:
  web:
    image: berth-test/probe
    command: ["sh", "-c", "exec 3>/kinds; for i in 0 1 2; do echo \"fd$$i=$$(readlink /proc/$$$$/fd/$$i)\" >&3; [ -t $$i ] && echo \"fd$$i is a terminal\" >&3; done; exec 3>&-; exec sleep 3600"]
    stop_signal: SIGKILL
  term:
    image: berth-test/probe
    tty: true
    command: ["sh", "-c", "[ -t 0 ] && echo \"own-tty=$$(tty)\" > /kinds; exec sleep 3600"]
    stop_signal: SIGKILL
EOF
cd "$T_DIR/nht"

# pty [STEP...] -- ARGS...: berth (or a shell) on a terminal of its own.
pty() { "${PTYRUN[@]}" "$@"; }

# The command prints, for fds 0-2: whether it is a terminal, and what it is
# (the shell's own fds: in $(...) fd 1 is the substitution's pipe).
KINDS='for i in 0 1 2; do if [ -t $i ]; then echo "fd$i=TERMINAL"; else echo "fd$i=notty"; fi; echo "fd$i->$(readlink /proc/$$/fd/$i)"; done'

out=$(pty -- "$BERTH" up -d 2>&1) || fail "up -d on a terminal failed: $out"

# --- exec -T -------------------------------------------------------------------
rc=0
out=$(pty -- "$BERTH" exec -T web sh -c "$KINDS; echo out-line; echo err-line >&2; exit 7") || rc=$?
expect_eq "exec_no_host_terminal: exec -T keeps the exit status" "$rc" 7
expect_not_contains "exec_no_host_terminal: exec -T gives no terminal" "$out" "TERMINAL"
for i in 0 1 2; do
    expect_contains "exec_no_host_terminal: exec -T fd$i is a pipe" "$out" "fd$i->pipe:"
done
expect_contains "exec_no_host_terminal: exec -T stdout still shows" "$out" "out-line"
expect_contains "exec_no_host_terminal: exec -T stderr still shows" "$out" "err-line"

# --- exec with stdout redirected (no TTY is allocated) ------------------------
rc=0
out=$(pty -- sh -c "exec \"\$0\" exec web sh -c '$KINDS; exit 3' > '$T_DIR/exec.out'" "$BERTH") || rc=$?
file=$(cat "$T_DIR/exec.out")
expect_eq "exec_no_host_terminal: exec >file keeps the exit status" "$rc" 3
expect_not_contains "exec_no_host_terminal: exec >file gives no terminal" "$file" "TERMINAL"
expect_contains "exec_no_host_terminal: exec >file: stdin is a pipe" "$file" "fd0->pipe:"
expect_contains "exec_no_host_terminal: exec >file: stderr is a pipe" "$file" "fd2->pipe:"
expect_contains "exec_no_host_terminal: exec >file: stdout is the file" "$file" "fd1->/"
expect_contains "exec_no_host_terminal: ... the file given" "$file" "exec.out"

# --- run -T ----------------------------------------------------------------------
rc=0
out=$(pty -- "$BERTH" run --rm -T web sh -c "$KINDS; exit 4") || rc=$?
expect_eq "exec_no_host_terminal: run -T keeps the exit status" "$rc" 4
expect_not_contains "exec_no_host_terminal: run -T gives no terminal" "$out" "TERMINAL"
for i in 0 1 2; do
    expect_contains "exec_no_host_terminal: run -T fd$i is a pipe" "$out" "fd$i->pipe:"
done

# --- what is typed later stays with the terminal ---------------------------------
# The command leaves a reader of its stdin behind (fd 3: a background job's
# own stdin is /dev/null) and exits; then a line is typed on the terminal.
LEFT='exec 3<&0; cat <&3 > /typed 2>&1 & sleep 0.3; echo left-behind'
for how in "exec -T web" "run --rm -T web"; do
    rc=0
    bz nht exec -T web rm -f /typed
    out=$(pty wait:berth-returned send:'secret-typed\n' sleep:1.5 -- sh -c \
        "\"\$0\" $how sh -c '$LEFT; sleep 30 </dev/stdin >/dev/null 2>&1 &'; echo berth-returned; sleep 2; echo shell-done" \
        "$BERTH") || rc=$?
    expect_contains "exec_no_host_terminal: $how: the command ran" "$out" "left-behind"
    expect_contains "exec_no_host_terminal: $how: berth returned" "$out" "berth-returned"
    if [ "$how" = "exec -T web" ]; then
        typed=$(bz nht exec -T web sh -c 'cat /typed 2>/dev/null' </dev/null || true)
        expect_not_contains "exec_no_host_terminal: a process left by exec cannot read what is typed afterwards" "$typed" "secret-typed"
    else
        # A one-off container ends with its command: the test is that
        # berth returned and nothing of it waited on the terminal.
        check "exec_no_host_terminal: run -T returned on time" test "$rc" -eq 0
    fi
done

# --- input: typed (relayed, Ctrl-D is EOF) and piped (passed on) ----------------
rc=0
out=$(pty sleep:1 send:'typed-in\n' sleep:0.3 send:'\x04' -- "$BERTH" exec -T web sh -c 'cat; echo "cat-rc=$?"') || rc=$?
expect_eq "exec_no_host_terminal: typed input then Ctrl-D ends the command" "$rc" 0
expect_contains "exec_no_host_terminal: typed input reaches the command" "$out" "typed-in"
expect_contains "exec_no_host_terminal: Ctrl-D is EOF for the command" "$out" "cat-rc=0"
rc=0
out=$(pty -- sh -c "printf 'p1\np2\n' | \"\$0\" exec -T web sh -c 'wc -l; [ -t 1 ] || echo out-not-tty'" "$BERTH") || rc=$?
expect_eq "exec_no_host_terminal: piped input: exit status" "$rc" 0
expect_contains "exec_no_host_terminal: piped input reaches the command, with EOF" "$out" "2"
expect_contains "exec_no_host_terminal: piped input: stdout is still no terminal" "$out" "out-not-tty"

# --- Ctrl-C is forwarded --------------------------------------------------------
rc=0
out=$(pty wait:ready send:'\x03' -- "$BERTH" exec -T web sh -c 'trap "echo got-int; exit 5" INT; echo ready; while :; do sleep 0.1; done') || rc=$?
expect_contains "exec_no_host_terminal: Ctrl-C reaches the command" "$out" "got-int"
expect_eq "exec_no_host_terminal: ... and its exit status is berth's" "$rc" 5

# --- a host directory as a stream never reaches the container ------------------
# An fd on a host directory would let the container walk the host with
# openat(fd, ".."): it gets /dev/null in its place.
out=$(bz nht exec -T web sh -c '[ -d /proc/self/fd/0 ] && echo stdin-is-dir; [ -d /proc/self/fd/1 ] || echo out-ok' </ 2>&1 || true)
expect_not_contains "exec_no_host_dir_fd: a host directory as stdin is not handed over" "$out" "stdin-is-dir"
expect_contains "exec_no_host_dir_fd: ... and the command still runs" "$out" "out-ok"
out=$(bz nht run --rm -T web sh -c '[ -d /proc/self/fd/0 ] && echo stdin-is-dir; echo ran' </ 2>&1 || true)
expect_not_contains "exec_no_host_dir_fd: run: a host directory as stdin is not handed over" "$out" "stdin-is-dir"
expect_contains "exec_no_host_dir_fd: run: ... and the command still runs" "$out" "ran"

# --- up: /dev/null and pipes, or a terminal of its own ---------------------------
kinds=$(bz nht exec -T web cat /kinds </dev/null)
expect_contains "exec_no_host_terminal: up -d: stdin is /dev/null" "$kinds" "fd0=/dev/null"
expect_contains "exec_no_host_terminal: up -d: stdout is a pipe" "$kinds" "fd1=pipe:"
expect_contains "exec_no_host_terminal: up -d: stderr is a pipe" "$kinds" "fd2=pipe:"
expect_not_contains "exec_no_host_terminal: up -d: no terminal" "$kinds" "terminal"
kinds=$(bz nht exec -T term cat /kinds </dev/null)
expect_contains "exec_no_host_terminal: tty: true gets a terminal of its own" "$kinds" "own-tty=/dev/pts/0"
bz nht down -t 0 >/dev/null 2>&1

new_project nhtatt >/dev/null <<'EOF'
services:
  once:
    image: berth-test/probe
    command: ["sh", "-c", "for i in 0 1 2; do echo \"fd$$i=$$(readlink /proc/$$$$/fd/$$i)\"; [ -t $$i ] && echo \"fd$$i is a terminal\"; done; exit 0"]
EOF
cd "$T_DIR/nhtatt"
rc=0
out=$(pty -- "$BERTH" up 2>&1) || rc=$?
expect_contains "exec_no_host_terminal: attached up: stdin is /dev/null" "$out" "fd0=/dev/null"
expect_contains "exec_no_host_terminal: attached up: stdout is a pipe" "$out" "fd1=pipe:"
expect_not_contains "exec_no_host_terminal: attached up: no terminal" "$out" "is a terminal"
cd "$T_DIR"

finish
