#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The global --progress and --ansi flags over real containers: json gives
# one event object per line (create, start, ...), plain gives the text
# berth always printed, --ansi never leaves no escape byte, quiet no
# progress. The renderer's exact output per mode is pinned by the unit
# test tests/unit/test_ui_render.c; this test does not repeat it.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# --- --progress json: parseable lines, with the containers' events ---------
new_project evjson >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
EOF2
out=$(bz evjson --progress json up -d 2>"$T_DIR/evjson.err") || fail "json up -d failed: $(cat "$T_DIR/evjson.err")"
expect_eq "json: nothing on stderr" "$(cat "$T_DIR/evjson.err")" ""
printf '%s\n' "$out" >"$T_DIR/evjson.out"
# every line an object with type and action; the actions of evjson-web-1, in order
actions=$(python3 -c '
import json, sys
acts = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and "type" in o and "action" in o, line
    if o.get("name") == "evjson-web-1":
        acts.append(o["action"])
print(" ".join(acts))' "$T_DIR/evjson.out" 2>&1) || fail "json: a line is not an event object: $actions"
expect_contains "json: create, then start" " $actions " " create "
expect_contains "json: start follows create" "$actions" "create starting start"
check "json: create event has the container's id and image" \
    grep -q '"action":"create","id":"[0-9a-f]\{64\}","service":"web","attributes":{"name":"evjson-web-1","image":"busybox"}' "$T_DIR/evjson.out"
check "json: start event has the image attribute" \
    grep -q '"action":"start".*"attributes":{"name":"evjson-web-1","image":"busybox"' "$T_DIR/evjson.out"
out=$(bz evjson --progress json down 2>&1) || fail "json down failed: $out"
expect_contains "json: down's removal is an event" "$out" '"action":"destroy"'

# --- json, attached: die with exitCode, restart by the policy, output lines -
new_project evdie >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hi; exit 3"]
    restart: on-failure:1
EOF2
bz evdie --progress json up >"$T_DIR/evdie.out" 2>"$T_DIR/evdie.err" || true
actions=$(python3 -c '
import json, sys
acts = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("type") == "log":
        acts.append("log:" + o["line"])
    elif o.get("name") == "evdie-web-1" and o["action"] in ("start", "die", "restart"):
        acts.append(o["action"] + ("=" + o["attributes"]["exitCode"] if o["action"] == "die" else ""))
print(" ".join(acts))' "$T_DIR/evdie.out" 2>&1) || fail "json attached: a line is not JSON: $actions"
expect_eq "json attached: start, output, die with exitCode, restart, again" "$actions" \
    "start log:hi die=3 restart start log:hi die=3"
bz evdie down >/dev/null 2>&1

# --- json with --wait: the healthcheck's health_status event --------------
new_project evhealth >/dev/null <<'EOF2'
services:
  db:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "true"]
      interval: 100ms
EOF2
out=$(bz evhealth --progress json up -d --wait 2>&1) || fail "json up --wait failed: $out"
expect_contains "json --wait: health_status healthy" "$out" \
    '"action":"health_status","id":'
check "json --wait: the health_status attribute" \
    grep -q '"health_status":"healthy"},"name":"evhealth-db-1","status":"Healthy"' <<<"$out"
bz evhealth down >/dev/null 2>&1

# --- --progress plain: the text berth printed before events ----------------
new_project evplain >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hi; exit 3"]
EOF2
# (on a host where IP forwarding was off, up says it turned it on: that
# line is the host's, and another test may turn forwarding off again)
nofwd() { grep -v 'forwarding was off' "$1" || true; }
bz evplain --progress plain up >"$T_DIR/evplain.out" 2>"$T_DIR/evplain.err" || true
expect_eq "plain: attached up's stderr" "$(nofwd "$T_DIR/evplain.err")" \
    "$(printf ' Network evplain_default  Creating\n Network evplain_default  Created\n Container evplain-web-1  Creating\n Container evplain-web-1  Created')"
expect_eq "plain: attached up's stdout" "$(cat "$T_DIR/evplain.out")" \
    "$(printf 'Attaching to web-1\nweb-1  | hi\nweb-1 exited with code 3')"
bz evplain down >/dev/null 2>&1 || fail "down failed"
bz evplain up -d >"$T_DIR/evdefault.out" 2>"$T_DIR/evdefault.err" || fail "up -d failed"
bz evplain --progress plain down >/dev/null 2>&1 || fail "down failed"
bz evplain --progress plain up -d >"$T_DIR/evplain2.out" 2>"$T_DIR/evplain2.err" || fail "plain up -d failed"
check "plain: up -d prints what the default (not a terminal) prints" \
    cmp <(nofwd "$T_DIR/evdefault.err") <(nofwd "$T_DIR/evplain2.err")
expect_eq "plain: up -d's stderr" "$(nofwd "$T_DIR/evplain2.err")" \
    "$(printf ' Network evplain_default  Creating\n Network evplain_default  Created\n Container evplain-web-1  Creating\n Container evplain-web-1  Created\n Container evplain-web-1  Starting\n Container evplain-web-1  Started')"
bz evplain down >/dev/null 2>&1 || fail "down failed"

# --- --ansi: always colours (the control), never leaves no escape byte -----
new_project evansi >/dev/null <<'EOF2'
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo hi"]
EOF2
bz evansi --ansi always --progress tty up >"$T_DIR/evansi1.out" 2>&1 || true
check "ansi always: escape sequences" grep -q $'\033' "$T_DIR/evansi1.out"
bz evansi down >/dev/null 2>&1
bz evansi --ansi never --progress tty up >"$T_DIR/evansi2.out" 2>&1 || true
check "ansi never: the output is there" grep -q 'web-1  | hi' "$T_DIR/evansi2.out"
check "ansi never: no escape byte" bash -c "! grep -q $'\033' '$T_DIR/evansi2.out'"
bz evansi down >/dev/null 2>&1

# --- --progress quiet: no progress lines, the output stays ----------------
out=$(bz evansi --progress quiet up 2>&1) || true
expect_not_contains "quiet: no progress lines" "$out" "Container evansi-web-1"
expect_contains "quiet: the output stays" "$out" "web-1  | hi"
bz evansi down >/dev/null 2>&1

# --- a word that is not a mode ---------------------------------------------
rc=0
out=$("$BERTH" --progress fancy ps 2>&1) || rc=$?
expect_eq "bad --progress: usage error" "$rc" "2"
expect_contains "bad --progress: says the choices" "$out" \
    'unsupported --progress "fancy" (one of: auto tty plain json quiet)'

finish
