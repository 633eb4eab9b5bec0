#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Logging drivers and lifecycle hooks: json-file lines that Docker's tools
# read (parsed here with python3's json), rotation at max-size keeping
# max-file files, `logs -f` losing no line across rotations, compress
# writing .gz files that `logs` reads back, driver none (nothing written,
# `logs` says so), syslog to a socket the test listens on, a missing
# syslog socket refused at start, post_start before the main command and
# pre_stop before the stop signal, a failing post_start stopping the
# container, attach: false hiding a service's output from `up`.
. "$(dirname "$0")/lib.sh"

load_image probe.tar
command -v python3 >/dev/null || skip "python3 is needed to parse the json-file lines"

ctr_dir() { # ctr_dir PROJECT NAME: the container's directory in the store
    local f
    for f in "$BERTH_ROOT"/containers/*/record.json "$BERTH_ROOT"/containers/*/*.json; do
        [ -e "$f" ] || continue
        if grep -q "\"name\": *\"$2\"" "$f" 2>/dev/null; then
            dirname "$f"
            return 0
        fi
    done
    return 1
}

# --- json-file: Docker's format, rotation, follow ---------------------------
new_project lgjson >/dev/null <<'EOF'
services:
  fmt:
    image: berth-test/probe
    command: ["sh", "-c", "echo 'hello \"json\"'; echo oops >&2"]
  fast:
    image: berth-test/probe
    logging:
      driver: json-file
      options: {max-size: 128k, max-file: "3"}
    volumes: ["./sig:/sig"]
    # waits for the follower, then writes 20000 numbered lines at once
    command: ["sh", "-c", "n=0; while [ ! -e /sig/go ] && [ $$n -lt 600 ]; do sleep 0.05; n=$$((n + 1)); done; i=0; while [ $$i -lt 20000 ]; do echo \"seq $$i padding-padding-padding\"; i=$$((i + 1)); done"]
EOF
mkdir -p "$T_DIR/lgjson/sig"
bz lgjson up -d >/dev/null 2>&1 || true
fmt_dir=$(ctr_dir lgjson lgjson-fmt-1) || true
check "the fmt container's log appears" wait_until 20 grep -q oops "$fmt_dir/container.log"
parsed=$(python3 - "$fmt_dir/container.log" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert list(o) == ["log", "stream", "time"], o
    assert o["time"].endswith("Z") and "T" in o["time"], o
    print(o["stream"] + ":" + repr(o["log"]))
EOF
) || true
expect_contains "a json-file line has the text with its newline, on stdout" "$parsed" \
    "stdout:'hello \"json\"\\n'"
expect_contains "stderr lines say so" "$parsed" "stderr:'oops\\n'"
expect_contains "logs reads the json-file lines" "$(bz lgjson logs fmt 2>&1)" 'hello "json"'

fast_dir=$(ctr_dir lgjson lgjson-fast-1) || true
(cd "$T_DIR/lgjson" && timeout 60 "$BERTH" logs -f --no-log-prefix fast >"$T_DIR/follow.out" 2>&1) &
follower=$!
sleep 0.5
touch "$T_DIR/lgjson/sig/go"
wait $follower || true
seqs=$(grep -c '^seq ' "$T_DIR/follow.out" || true)
expect_eq "logs -f across rotations loses no line" "$seqs" 20000
inorder=$(awk '/^seq /{ if ($2 != n) { print "line " NR ": " $2 " for " n; exit } n++ } END { print "ok" }' \
    "$T_DIR/follow.out" | head -1)
expect_eq "logs -f keeps the lines in order" "$inorder" ok
check "rotated files are there (.1, .2)" test -e "$fast_dir/container.log.2"
big=$(stat -c %s "$fast_dir/container.log.1" 2>/dev/null || echo 0)
check "a rotated file is about max-size (128k: $big bytes)" test "$big" -ge 131072 -a "$big" -lt 140000
bz lgjson down >/dev/null 2>&1

# --- compress, local ------------------------------------------------------------
new_project lgzip >/dev/null <<'EOF'
services:
  gz:
    image: berth-test/probe
    logging:
      options: {max-size: 16k, max-file: "4", compress: "true"}
    command: ["sh", "-c", "i=0; while [ $$i -lt 2000 ]; do echo \"line $$i\"; i=$$((i + 1)); done"]
  loc:
    image: berth-test/probe
    logging:
      driver: local
      options: {max-size: 8k}
    command: ["sh", "-c", "i=0; while [ $$i -lt 1000 ]; do echo \"local $$i\"; i=$$((i + 1)); done"]
EOF
bz lgzip up >/dev/null 2>&1 || true
gz_dir=$(ctr_dir lgzip lgzip-gz-1) || true
check "compress: the rotated files are gzipped" test -e "$gz_dir/container.log.1.gz" -a \
    -e "$gz_dir/container.log.3.gz" -a ! -e "$gz_dir/container.log.1"
nfiles=$(ls "$gz_dir" | grep -cE '^container\.log(\.[0-9]+(\.gz)?)?$') || true
expect_eq "max-file 4 keeps four files" "$nfiles" 4
gzok=$(python3 -c 'import gzip, json, sys
n = sum(1 for l in gzip.open(sys.argv[1]) if json.loads(l)["log"].startswith("line "))
print("ok" if n > 0 else "empty")' "$gz_dir/container.log.1.gz" 2>&1) || true
expect_eq "a .gz file holds json-file lines" "$gzok" ok
last=$(bz lgzip logs --no-log-prefix gz 2>&1 | tail -1) || true
expect_eq "logs reads through the gzipped files to the last line" "$last" "line 1999"
kept=$(bz lgzip logs --no-log-prefix gz 2>&1 | grep -c '^line ') || true
first=$(bz lgzip logs --no-log-prefix gz 2>&1 | head -1) || true
fnum=${first#line }
case $fnum in '' | *[!0-9]*) fnum=99999 ;; esac
expect_eq "logs gives every kept line once, in order ($first..)" "$kept" $((2000 - fnum))
loc_dir=$(ctr_dir lgzip lgzip-loc-1) || true
check "local: berth's line format" grep -q '^20[0-9-]*T[0-9:.]*Z stdout F local 999$' \
    "$loc_dir/container.log"
check "local compresses rotated files by default" test -e "$loc_dir/container.log.1.gz"
expect_eq "logs reads local logs" "$(bz lgzip logs --no-log-prefix loc 2>&1 | tail -1)" "local 999"
bz lgzip down >/dev/null 2>&1

# --- none, attach: false, syslog ------------------------------------------------
# listen SOCKET OUT MARK: a datagram socket's messages to OUT, until one
# holds MARK (or 30 s pass).
listen() {
    python3 - "$@" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "wb", buffering=0) as out:
    try:
        while True:
            d = s.recv(65536)
            out.write(d + b"\n")
            if sys.argv[3].encode() in d:
                break
    except socket.timeout:
        pass
EOF
}
SOCK=$T_DIR/syslog.sock JSOCK=$T_DIR/journal.sock
listen "$SOCK" "$T_DIR/syslog.got" syslog-last
listener=$!
listen "$JSOCK" "$T_DIR/journal.got" journal-last
jlistener=$!
wait_until 10 test -S "$SOCK" -a -S "$JSOCK" || true
new_project lgdrv >/dev/null <<'EOF'
services:
  quiet:
    image: berth-test/probe
    logging: {driver: none}
    command: ["sh", "-c", "echo not-kept"]
  hidden:
    image: berth-test/probe
    attach: false
    command: ["sh", "-c", "echo hidden-output"]
  shown:
    image: berth-test/probe
    command: ["sh", "-c", "echo shown-output"]
  sl:
    image: berth-test/probe
    logging:
      driver: syslog
      options: {tag: "berth-{{.Name}}"}
    command: ["sh", "-c", "echo syslog-first; echo syslog-last"]
  jd:
    image: berth-test/probe
    logging: {driver: journald}
    command: ["sh", "-c", "echo journal-first; echo journal-last >&2"]
EOF
out=$(cd "$T_DIR/lgdrv" && BERTH_SYSLOG_SOCKET=$SOCK BERTH_JOURNALD_SOCKET=$JSOCK \
    timeout 60 "$BERTH" up 2>&1) || true
expect_contains "an attached up shows a service's output" "$out" "shown-output"
expect_not_contains "attach: false hides it" "$out" "hidden-output"
attaching=$(printf '%s\n' "$out" | grep '^Attaching to' || true)
expect_not_contains "... and up does not say it attaches to it" "$attaching" "hidden-1"
expect_contains "... but to the others" "$attaching" "shown-1"
expect_contains "attach: false keeps it in the log" "$(bz lgdrv logs hidden 2>&1)" "hidden-output"
quiet_dir=$(ctr_dir lgdrv lgdrv-quiet-1) || true
check "driver none writes no log file" test ! -e "$quiet_dir/container.log"
rc=0
lo=$(bz lgdrv logs quiet 2>&1) || rc=$?
expect_contains "logs says driver none cannot be read" "$lo" \
    "configured logging driver does not support reading"
check "... and fails (rc $rc)" test "$rc" -ne 0
wait $listener || true
got=$(cat "$T_DIR/syslog.got" 2>/dev/null || true)
expect_contains "syslog gets the lines with the tag" "$got" "berth-lgdrv-sl-1["
expect_contains "syslog gets every line" "$got" "]: syslog-first"
check "syslog lines are daemon.info" grep -q '^<30>' "$T_DIR/syslog.got"
wait $jlistener || true
jgot=$(python3 - "$T_DIR/journal.got" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
i = data.find(b"\nMESSAGE\n")
while i >= 0:
    n = struct.unpack("<Q", data[i + 9:i + 17])[0]
    print("MESSAGE=" + data[i + 17:i + 17 + n].decode())
    i = data.find(b"\nMESSAGE\n", i + 17 + n)
for f in data.split(b"\n"):
    if f.startswith((b"CONTAINER_NAME=", b"PRIORITY=")):
        print(f.decode())
EOF
) || true
expect_contains "journald gets the lines (native protocol)" "$jgot" "MESSAGE=journal-first"
expect_contains "journald gets the container's name" "$jgot" "CONTAINER_NAME=lgdrv-jd-1"
expect_contains "journald: stderr at priority err" "$jgot" "PRIORITY=3"
bz lgdrv down >/dev/null 2>&1

rc=0
out=$(cd "$T_DIR/lgdrv" && BERTH_SYSLOG_SOCKET=$T_DIR/none.sock "$BERTH" up -d sl 2>&1) || rc=$?
check "a missing syslog socket fails the start" test "$rc" -ne 0
expect_contains "... naming the service and the driver" "$out" \
    "service \"sl\": logging driver syslog: this host has no syslog socket"
bz lgdrv down >/dev/null 2>&1

# Bad input: an unknown driver is an error at its place; nothing created.
new_project lgbad >/dev/null <<'EOF'
services:
  x:
    image: berth-test/probe
    logging: {driver: fluentd}
EOF
rc=0
out=$(bz lgbad up -d 2>&1) || rc=$?
check "an unknown logging driver fails up" test "$rc" -ne 0
expect_contains "... naming it with file:line" "$out" \
    'compose.yaml:4:23: service "x": logging.driver: unknown logging driver "fluentd"'
check "... and creates nothing" test -z "$(ls "$BERTH_ROOT/containers" 2>/dev/null | head -1)"

# --- hooks ------------------------------------------------------------------------
new_project lghook >/dev/null <<'EOF'
services:
  h:
    image: berth-test/probe
    stop_grace_period: 5s
    volumes: ["./d:/d"]
    environment: [WHO=main]
    # the main command waits for what post_start wrote; TERM is written down
    command: ["sh", "-c", "trap 'echo got-term >> /d/order; exit 0' TERM; n=0; while [ ! -e /d/ready ] && [ $$n -lt 400 ]; do sleep 0.05; n=$$((n + 1)); done; echo main-read-$$(cat /d/ready) >> /d/order; while true; do sleep 0.1; done"]
    post_start:
      - command: ["sh", "-c", "echo post-start-output; echo $$HOOKVAR-$$WHO-$$(pwd) > /d/ready"]
        environment: {HOOKVAR: hv}
        working_dir: /d
      - command: ["sh", "-c", "grep CapEff /proc/self/status > /d/caps-plain"]
      - command: ["sh", "-c", "grep CapEff /proc/self/status > /d/caps-priv"]
        privileged: true
    pre_stop:
      - command: sh -c 'echo pre-stop-output; echo pre-stop >> /d/order'
  f:
    image: berth-test/probe
    stop_signal: SIGKILL
    command: ["sleep", "100"]
    post_start:
      - command: ["sh", "-c", "echo failing; exit 3"]
EOF
mkdir -p "$T_DIR/lghook/d"
rc=0
out=$(bz lghook up -d h 2>&1) || rc=$?
expect_eq "up with a post_start hook succeeds" "$rc" 0
check "the main command read what post_start wrote" \
    wait_until 20 grep -q main-read-hv-main-/d "$T_DIR/lghook/d/order"
cap_bit() { # FILE BIT: the CapEff line of FILE has capability BIT
    local v
    v=$(awk '{print $2}' "$1" 2>/dev/null) && [ -n "$v" ] && (((0x$v >> $2) & 1))
}
check "a hook has the container's capabilities (no CAP_SYS_ADMIN)" \
    eval '! cap_bit "$T_DIR/lghook/d/caps-plain" 21 && cap_bit "$T_DIR/lghook/d/caps-plain" 0'
check "a privileged hook has every capability (CAP_SYS_ADMIN)" cap_bit "$T_DIR/lghook/d/caps-priv" 21
bz lghook restart h >/dev/null 2>&1 || true
two_reads() { [ "$(grep -c main-read "$T_DIR/lghook/d/order")" -ge 2 ]; }
check "restart runs post_start again" wait_until 20 two_reads
bz lghook down >/dev/null 2>&1
expect_eq "pre_stop runs before the stop signal, at each stop" \
    "$(tr '\n' ' ' <"$T_DIR/lghook/d/order")" \
    "main-read-hv-main-/d pre-stop got-term main-read-hv-main-/d pre-stop got-term "

rc=0
out=$(bz lghook up -d f 2>&1) || rc=$?
check "a failing post_start fails up" test "$rc" -ne 0
expect_contains "... saying which hook and why" "$out" \
    'service "f": post_start hook 1 exited with code 3'
f_exited() { bz lghook ps -a --format json f 2>&1 | grep -q '"State":"exited"'; }
check "... and the container is stopped" wait_until 20 f_exited
expect_contains "the hook's output is in the container's log" "$(bz lghook logs f 2>&1)" "failing"
bz lghook down >/dev/null 2>&1

finish
