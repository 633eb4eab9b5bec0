#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth events`: a second process follows a running project's container
# events from its supervisor (create, start, health_status, die with its
# exit code, restart), in order per container; --since replays the
# supervisor's ring, a service filter filters, no supervisor is a clear
# error naming the project, and a client that never reads neither stalls
# the supervisor nor outlives it.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# ev_lines FILE: "SERVICE ACTION [k=v]" per event of a --json stream (the
# exit code or the health status as the attribute).
ev_lines() {
    python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    try:
        e = json.loads(line)
    except ValueError:
        print("<not JSON: %s>" % line)
        continue
    a = e.get("attributes", {})
    extra = ""
    if "exitCode" in a:
        extra = " exitCode=" + a["exitCode"]
    elif "health_status" in a:
        extra = " health_status=" + a["health_status"]
    print("%s %s%s" % (e.get("service", "?"), e.get("action", "?"), extra))
PY
}

# in_order LINES WORD...: each WORD (a whole "SERVICE ACTION..." line)
# appears in LINES after the one before it.
in_order() {
    local lines=$1 w rest
    shift
    rest=$lines
    for w in "$@"; do
        case $'\n'"$rest"$'\n' in
        *$'\n'"$w"$'\n'*) rest=${rest#*"$w"} ;;
        *) return 1 ;;
        esac
    done
}

new_project evs1 >/dev/null <<'YAML'
services:
  crash:
    image: busybox
    command: ["sh", "-c", "sleep 0.3; exit 1"]
    restart: on-failure
    stop_signal: SIGKILL
  checked:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
YAML

# --- no supervisor ----------------------------------------------------------
rc=0
out=$(bz evs1 events 2>&1) || rc=$?
check "events with no supervisor fails (exit $rc)" test "$rc" -eq 1
expect_contains "events with no supervisor names the project" "$out" \
    "berth: project evs1 is not running: no supervisor to follow"

# --- a second process follows the project -----------------------------------
t0=$(date +%s.%N)
bz evs1 up -d crash >/dev/null 2>&1 || fail "up -d crash failed"
# live from here on (no --since): checked's creation is still to come
(cd "$T_DIR/evs1" && exec "$BERTH" events --json) >"$T_DIR/live.json" 2>"$T_DIR/live.err" &
live_pid=$!
# let it subscribe before checked is created (its start is asynchronous)
sleep 0.5
bz evs1 up -d --wait checked >/dev/null 2>&1 || fail "up -d --wait checked failed"
# crash: on-failure, exits 1 after 0.3 s, back-off from 100 ms: a few rounds
check "crash restarted twice" wait_until 20 \
    bash -c "grep -c '\"action\":\"restart\".*\"service\":\"crash\"\|\"service\":\"crash\".*\"action\":\"restart\"' '$T_DIR/live.json' | grep -qv '^[01]$'"
live=$(ev_lines "$T_DIR/live.json")
check "the follower saw checked created, started, healthy in order" \
    in_order "$live" "checked create" "checked start" "checked health_status health_status=healthy"
check "the follower saw crash die with exit code 1, restart, start, in order" \
    in_order "$live" "crash die exitCode=1" "crash restart" "crash start" "crash die exitCode=1" "crash restart"
expect_not_contains "checked never died" "$live" "checked die"
if ! check "every live line is an event object" bash -c "! grep -q '<not JSON' <<<\"\$1\"" _ "$live"; then
    sed 's/^/    | /' "$T_DIR/live.json" >&2
fi

# --- --since replays the ring -------------------------------------------------
until=$(date -d '+1 second' +%s.%N)
since_out=$(bz evs1 events --json --since "$t0" --until "$until" 2>&1) || fail "events --since failed: $since_out"
printf '%s\n' "$since_out" >"$T_DIR/since.json"
since=$(ev_lines "$T_DIR/since.json")
check "--since replays crash's creation and first start from the ring" \
    in_order "$since" "crash create" "crash start" "crash die exitCode=1" "crash restart"
check "--since replays checked's events too" in_order "$since" "checked create" "checked start"

# the plain format: docker compose's line
plain=$(bz evs1 events --since "$t0" --until "$(date -d '+1 second' +%s.%N)" 2>&1) || fail "events (plain) failed"
first=$(head -n1 <<<"$plain")
check "plain lines read as docker compose's: '$first'" \
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} container create [0-9a-f]{64} \(image=busybox, name=evs1-crash-1\)$' <<<"$first"

# --- a service filter filters -------------------------------------------------
filt_out=$(bz evs1 events --json --since "$t0" --until "$(date -d '+1 second' +%s.%N)" checked 2>&1) ||
    fail "events checked failed: $filt_out"
printf '%s\n' "$filt_out" >"$T_DIR/filt.json"
filt=$(ev_lines "$T_DIR/filt.json")
expect_contains "the filter keeps checked's events" "$filt" "checked create"
expect_not_contains "the filter drops crash's events" "$filt" "crash "
rc=0
out=$(bz evs1 events --until "$(date -d '+2 second' +%s.%N)" nosuch 2>&1) || rc=$?
expect_contains "an unknown service is an error" "$out" "no such service: nosuch"
check "an unknown service fails (exit $rc)" test "$rc" -eq 1

# --- ps asks the supervisor ------------------------------------------------------
# its run state file gone, checked still runs as far as the supervisor knows
rm -f "$BERTH_RUNROOT/evs1/evs1-checked-1.json"
st=$(bz evs1 ps --format json checked 2>&1) || fail "ps failed: $st"
expect_contains "ps takes checked's state from the supervisor" "$st" '"State":"running"'
expect_contains "... its health too" "$st" '"Health":"healthy"'

# --- a client that never reads ----------------------------------------------------
sock="$BERTH_RUNROOT/evs1/sock"
python3 - "$sock" "$T_DIR/stall" <<'PY' &
import json, os, socket, sys, time
sock, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
s.sendall(b'{"op":"events","since_ns":0}\n')
open(out + ".subscribed", "w").close()
while not os.path.exists(out + ".go"):  # never reads until told to
    time.sleep(0.05)
s.settimeout(20)
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    end = "eof"
except socket.timeout:
    end = "timeout"
with open(out, "w") as f:
    f.write(end + " done=%s\n" % (b'"event":"done"' in got))
PY
stall_pid=$!
wait_until 10 test -e "$T_DIR/stall.subscribed" || fail "the non-reading client did not subscribe"
start=$(date +%s%N)
bz evs1 down -t 1 >/dev/null 2>&1 || fail "down failed with a non-reading client"
ms=$((($(date +%s%N) - start) / 1000000))
check "down with a non-reading subscriber took ${ms} ms" test "$ms" -lt 15000
touch "$T_DIR/stall.go"
wait "$stall_pid" || fail "the non-reading client failed"
stall=$(cat "$T_DIR/stall" 2>/dev/null || echo missing)
expect_contains "the non-reading client's stream ended with the supervisor" "$stall" "eof"

# the follower ends when the supervisor does, cleanly
if ! wait_until 20 bash -c "! kill -0 $live_pid"; then
    fail "the live follower still runs 20 s after down"
    kill "$live_pid" 2>/dev/null || true
fi
rc=0
wait "$live_pid" || rc=$?
check "the live follower ended with the supervisor (exit $rc)" test "$rc" -eq 0
if [ -s "$T_DIR/live.err" ]; then
    fail "the live follower wrote to stderr:"
    sed 's/^/    | /' "$T_DIR/live.err" >&2
fi

finish
