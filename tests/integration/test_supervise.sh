#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The supervisor: up -d / --wait, dependency gates, healthchecks, restart
# policies with back-off, the lifecycle commands (ps, logs, stop, start,
# restart, kill, pause, unpause, wait, rm, run, ls) and recovery after the
# supervisor is killed.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# ok_out COMMAND...: the command's stdout; when it fails, a line saying so
# (which no check expects), so that a crash never reads as empty output.
ok_out() {
    local out rc=0
    out=$("$@") || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "<$* failed: exit $rc>"
    elif [ -n "$out" ]; then
        printf '%s\n' "$out"
    fi
}

state_of() { # state_of PROJECT CONTAINER FIELD (from ps --format json)
    local out line
    out=$(ok_out bz "$1" ps -a --format json 2>/dev/null)
    line=$(grep "\"Name\":\"$2\"" <<<"$out") || { echo "<no $2 in ps: $out>"; return 0; }
    sed -n "s/.*\"$3\":\"\\{0,1\\}\\([^\",]*\\).*/\\1/p" <<<"$line"
}

# supervisors_of PROJECT: how many processes run this berth binary in the
# project's directory (a detached supervisor keeps the CLI's).
supervisors_of() {
    local p n=0 exe
    exe=$(readlink -f "$BERTH")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
        [ "$(readlink "$p/cwd" 2>/dev/null)" = "$T_DIR/$1" ] && n=$((n + 1))
    done
    echo "$n"
}

is_count() { [[ $1 =~ ^[0-9]+$ ]]; }

# sid_of PID: the session a process belongs to.
sid_of() { ps -o sid= -p "$1" | tr -d ' '; }

# --- detached up, gates, healthchecks -----------------------------------
new_project gates >/dev/null <<'EOF'
services:
  db:
    image: busybox
    command: ["sh", "-c", "sleep 0.5; touch /tmp/ready; echo db ready; exec sleep 3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 100ms
      retries: 50
  migrate:
    image: busybox
    command: ["sh", "-c", "echo migrated"]
    depends_on:
      db:
        condition: service_healthy
  web:
    image: busybox
    command: ["sh", "-c", "trap 'echo got usr1' USR1; echo web up; while :; do echo tick; sleep 0.2; done"]
    stop_signal: SIGKILL
    depends_on:
      migrate:
        condition: service_completed_successfully
      db:
        condition: service_started
EOF
start=$(date +%s%N)
out=$(bz gates up -d --wait 2>&1) || fail "up -d --wait failed: $out"
ms=$((($(date +%s%N) - start) / 1000000))
expect_contains "up -d reports the start" "$out" "Container gates-web-1  Started"
expect_contains "db became healthy before the gate opened" "$out" "Container gates-db-1  Healthy"
check "up -d --wait returned once ready (${ms} ms)" test "$ms" -lt 10000
expect_eq "web runs" "$(state_of gates gates-web-1 State)" "running"
expect_eq "db is healthy" "$(state_of gates gates-db-1 Health)" "healthy"
expect_eq "migrate completed" "$(state_of gates gates-migrate-1 State)" "exited"
check "the supervisor listens on its socket" test -S "$BERTH_RUNROOT/gates/sock"
sup=$(sed -n 's/.*"supervisor": \([0-9]*\).*/\1/p' "$BERTH_RUNROOT/gates/gates-web-1.json")
check "the supervisor runs (pid ${sup:-none})" test -n "$sup" -a -d "/proc/${sup:-none}"
expect_eq "detached_supervisor_leads_its_own_session: its sid is its pid" "$(sid_of "$sup")" "$sup"
check "... not the caller's session" test "$(sid_of "$sup")" != "$(sid_of $$)"
out=$(bz gates ps 2>&1) || fail "ps failed: $out"
expect_contains "ps table" "$out" "Up "
expect_contains "ps shows health" "$out" "(healthy)"
expect_not_contains "ps hides exited containers without -a" "$out" "gates-migrate-1"
expect_contains "ps -a shows them" "$(ok_out bz gates ps -a)" "Exited (0)"
expect_eq "ps --services: the services of running containers" "$(ok_out bz gates ps --services | sort | tr '\n' ' ')" "db web "
expect_contains "ps -a --services: all" "$(ok_out bz gates ps -a --services)" "migrate"
expect_eq "ps -a -q prints every ID" "$(ok_out bz gates ps -a -q | sort | tr "\n" " ")" "$(ls "$BERTH_ROOT/containers" | sort | tr "\n" " ")"
expect_contains "ls lists the project" "$(ok_out "$BERTH" ls)" "running(2)"

# logs, and logs -f following new output
out=$(bz gates logs 2>&1) || fail "logs failed: $out"
expect_contains "logs shows each service" "$out" "migrate-1  | migrated"
expect_contains "logs shows db" "$out" "db-1       | db ready"
expect_eq "logs --tail" "$(ok_out bz gates logs --tail 1 migrate)" "migrate-1  | migrated"
expect_eq "logs --no-log-prefix prints the bare line" "$(ok_out bz gates logs --no-log-prefix migrate)" "migrated"
expect_contains "logs -t" "$(ok_out bz gates logs -t migrate)" "Z migrated"
(cd "$T_DIR/gates" && timeout 5 "$BERTH" logs -f --since 0s web >"$T_DIR/follow.out" 2>&1) &
follower=$!
check "logs -f follows new output" wait_until 4 grep -q tick "$T_DIR/follow.out"
kill $follower 2>/dev/null || true
wait $follower 2>/dev/null || true

# stop, start, restart, kill, pause, unpause
out=$(bz gates stop web 2>&1) || fail "stop failed: $out"
expect_contains "stop" "$out" "Container gates-web-1  Stopped"
expect_eq "stopped" "$(state_of gates gates-web-1 State)" "exited"
out=$(bz gates start web 2>&1) || fail "start failed: $out"
expect_eq "started again" "$(state_of gates gates-web-1 State)" "running"
out=$(bz gates restart web 2>&1) || fail "restart failed: $out"
expect_eq "restarted" "$(state_of gates gates-web-1 State)" "running"
out=$(bz gates pause web 2>&1) || fail "pause failed: $out"
expect_eq "paused" "$(state_of gates gates-web-1 State)" "paused"
out=$(bz gates unpause web 2>&1) || fail "unpause failed: $out"
expect_eq "unpaused" "$(state_of gates gates-web-1 State)" "running"
out=$(bz gates kill -s SIGUSR1 web 2>&1) || fail "kill -s failed: $out"
check "kill -s delivers the signal" wait_until 5 sh -c "cd '$T_DIR/gates' && '$BERTH' logs web | grep -q 'got usr1'"
out=$(bz gates kill web 2>&1) || fail "kill failed: $out"
check "kill ends it" wait_until 5 sh -c "cd '$T_DIR/gates' && '$BERTH' ps -a --format json | grep -q '\"Name\":\"gates-web-1\".*\"State\":\"exited\"'"
expect_eq "kill's SIGKILL gives 137" "$(state_of gates gates-web-1 ExitCode)" "137"

# wait, rm
out=$(ok_out bz gates wait migrate)
expect_eq "wait prints the exit code" "$out" "0"
out=$(bz gates rm -f migrate 2>&1) || fail "rm failed: $out"
expect_contains "rm removes a stopped container" "$out" "Container gates-migrate-1  Removed"
out=$(ok_out bz gates ps -a)
expect_contains "ps -a still lists the others" "$out" "gates-db-1"
expect_not_contains "rm'd container is gone" "$out" "gates-migrate-1"

# run: one-off containers
rc=0
out=$(bz gates run --rm -T --no-deps db sh -c 'echo one-off $HOSTNAME; exit 4' 2>&1) || rc=$?
expect_contains "run executes the command" "$out" "one-off"
expect_eq "run returns the command's status" "$rc" "4"
out=$(ok_out bz gates ps -a)
expect_contains "ps -a lists the project" "$out" "gates-db-1"
expect_not_contains "run --rm leaves nothing" "$out" "-run-"
out=$(bz gates run --rm -T --no-deps -u nobody -w /tmp -e GREETING=hi --entrypoint sh db -c 'echo "$(id -un) $(pwd) $GREETING"' 2>&1) ||
    fail "run -u -w -e --entrypoint failed: $out"
expect_contains "run -u, -w, -e and --entrypoint apply" "$out" "nobody /tmp hi"
name=$(bz gates run -d --no-deps db sh -c 'sleep 3600' 2>/dev/null) || fail "run -d failed"
check "run -d prints the container name" test -n "$name"
expect_contains "a detached run shows in ps" "$(ok_out bz gates ps)" "gates-db-run-"

out=$(bz gates down 2>&1) || fail "down failed: $out"
check "down leaves no supervisor socket" test ! -e "$BERTH_RUNROOT/gates/sock"

# --- up SERVICE, --scale, recreate on change, --no-recreate, orphans -------
new_project rc >/dev/null <<'EOF'
services:
  db:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  web:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    depends_on: [db]
  extra:
    image: busybox
    command: ["sleep", "3600"]
EOF
id_of() { bz rc ps -a --format json 2>/dev/null | grep "\"Name\":\"$1\"" | sed 's/.*"ID":"\([0-9a-f]*\)".*/\1/'; }
bz rc up -d web >/dev/null 2>&1 || fail "up -d web failed"
expect_eq "up SERVICE starts it and its dependencies only" "$(bz rc ps --services 2>/dev/null | sort | tr '\n' ' ')" "db web "
expect_eq "... and not the others" "$(bz rc ps -a -q 2>/dev/null | wc -l)" "2"
bz rc up -d --no-deps --scale web=3 web >/dev/null 2>&1 || fail "up --scale failed"
expect_eq "--scale web=3 runs three" "$(bz rc ps -q web 2>/dev/null | wc -l)" "3"
expect_contains "ps --format json has Publishers" "$(ok_out bz rc ps --format json)" '"Publishers":[]'
db_id=$(id_of rc-db-1)
web_id=$(id_of rc-web-1)
out=$(bz rc up -d --scale web=1 2>&1) || fail "scale down failed: $out"
expect_eq "scaling down removes the extra replicas" "$(bz rc ps -a -q web 2>/dev/null | wc -l)" "1"
expect_eq "an unchanged container is kept" "$(id_of rc-web-1)" "$web_id"
expect_contains "and reported running" "$out" "Container rc-db-1  Running"
sed -i 's/    depends_on: \[db\]/    depends_on: [db]\n    environment: {CHANGED: "1"}/' "$T_DIR/rc/compose.yaml"
out=$(bz rc up -d --no-recreate 2>&1) || fail "up --no-recreate failed: $out"
expect_eq "--no-recreate keeps a changed container" "$(id_of rc-web-1)" "$web_id"
out=$(bz rc up -d 2>&1) || fail "up after a change failed: $out"
expect_contains "a changed service is recreated" "$out" "Container rc-web-1  Recreate"
check "with a new container" test "$(id_of rc-web-1)" != "$web_id"
expect_eq "its dependency is untouched" "$(id_of rc-db-1)" "$db_id"
out=$(bz rc up -d --force-recreate db 2>&1) || fail "up --force-recreate failed: $out"
check "--force-recreate recreates an unchanged one" test "$(id_of rc-db-1)" != "$db_id"
bz rc stop extra >/dev/null 2>&1 || fail "stop extra failed"
expect_eq "ps --status exited" "$(ok_out bz rc ps -a --status exited --services)" "extra"
sed -i '/^  extra:/,$d' "$T_DIR/rc/compose.yaml"
out=$(bz rc up -d 2>&1) || fail "up without extra failed: $out"
expect_contains "a service gone from the file is an orphan" "$out" "Found orphan containers ([rc-extra-1])"
out=$(bz rc up -d --remove-orphans 2>&1) || fail "up --remove-orphans failed: $out"
expect_eq "--remove-orphans removes it" "$(ok_out bz rc ps -a --services | sort | tr '\n' ' ')" "db web "
bz rc down >/dev/null 2>&1 || fail "down failed"

# --- a failed dependency stops the start ---------------------------------
new_project depfail >/dev/null <<'EOF'
services:
  setup:
    image: busybox
    command: ["sh", "-c", "exit 2"]
  app:
    image: busybox
    command: ["true"]
    depends_on:
      setup:
        condition: service_completed_successfully
EOF
out=$(bz depfail up -d 2>&1) && fail "up should fail when a dependency fails" || pass
expect_contains "the failed dependency is named" "$out" "didn't complete successfully: exit 2"

# --- restart policies ------------------------------------------------------
new_project restarts >/dev/null <<'EOF'
services:
  onfail:
    image: busybox
    command: ["sh", "-c", "echo attempt; exit 3"]
    restart: on-failure:3
  always:
    image: busybox
    command: ["sh", "-c", "exit 0"]
    restart: always
  never:
    image: busybox
    command: ["sh", "-c", "echo run >>/count/runs; exit 5"]
    restart: "no"
    volumes: ["./count:/count"]
  unless:
    image: busybox
    command: ["sh", "-c", "sleep 0.3"]
    restart: unless-stopped
EOF
bz restarts up -d >/dev/null 2>&1 || fail "up -d of the restart policies failed"
check "on-failure:3 gives up" wait_until 10 sh -c "cd '$T_DIR/restarts' && '$BERTH' ps -a --format json | grep -q '\"Name\":\"restarts-onfail-1\".*\"State\":\"exited\"'"
attempts=$(ok_out bz restarts logs onfail | grep -c attempt)
expect_eq "on-failure:3 restarts exactly 3 times (4 runs)" "$attempts" "4"
expect_eq "on-failure restart count" "$(state_of restarts restarts-onfail-1 RestartCount)" "3"
sleep 1.5
n=$(state_of restarts restarts-always-1 RestartCount)
check "always restarts (${n} times in ~2 s)" test "${n:-0}" -ge 2
check "with back-off, not a busy loop (${n} restarts)" test "${n:-99}" -le 8
# By now the supervisor restarted "always" twice: "no" had the same time.
expect_eq "restart_no_runs_once: its exit code" "$(state_of restarts restarts-never-1 ExitCode)" "5"
expect_eq "restart_no_runs_once: restart count 0" "$(state_of restarts restarts-never-1 RestartCount)" "0"
expect_eq "restart_no_runs_once: one run" "$(cat "$T_DIR/restarts/count/runs" 2>&1)" "run"
n=$(state_of restarts restarts-unless-1 RestartCount)
check "unless-stopped restarts a container that ended (${n} times)" test "${n:-0}" -ge 1
bz restarts stop unless >/dev/null 2>&1 || fail "stop unless failed"
n=$(state_of restarts restarts-unless-1 RestartCount)
check "unless-stopped's restart count is read (${n})" is_count "$n"
sleep 1
expect_eq "unless-stopped: a stopped one stays stopped" "$(state_of restarts restarts-unless-1 State)" "exited"
expect_eq "... and is not restarted" "$(state_of restarts restarts-unless-1 RestartCount)" "$n"
bz restarts down >/dev/null 2>&1

# --- stdin_open, deploy.replicas and deploy.restart_policy ---------------
new_project keys >/dev/null <<'EOF'
services:
  keep:
    image: busybox
    command: ["cat"]
    stdin_open: true
    stop_signal: SIGKILL
  gone:
    image: busybox
    command: ["cat"]
  many:
    image: busybox
    command: ["sh", "-c", "exit 1"]
    deploy:
      replicas: 2
      restart_policy: {condition: on-failure, max_attempts: 1}
EOF
bz keys up -d >/dev/null 2>&1 || fail "up -d failed"
check "deploy.restart_policy: max_attempts honoured" wait_until 10 sh -c "cd '$T_DIR/keys' && '$BERTH' ps -a --format json | grep -q '\"Name\":\"keys-many-2\".*\"State\":\"exited\"'"
expect_eq "stdin_open keeps stdin open (cat waits)" "$(state_of keys keys-keep-1 State)" "running"
expect_eq "without stdin_open, stdin is empty (cat ends)" "$(state_of keys keys-gone-1 State)" "exited"
expect_eq "deploy.replicas: the first replica" "$(state_of keys keys-many-1 RestartCount)" "1"
expect_eq "deploy.replicas: the second replica" "$(state_of keys keys-many-2 RestartCount)" "1"
bz keys down >/dev/null 2>&1 || fail "down failed"

# --- hostile healthchecks (E11): what a probe leaves behind is killed -----
new_project probes >/dev/null <<'EOF'
services:
  bg:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD-SHELL", "sleep 1000 & sleep 1000 & head -c 1000000 /dev/zero; true"]
      interval: 100ms
      timeout: 2s
  hang:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD-SHELL", "sleep 1000 & sleep 1000"]
      interval: 100ms
      timeout: 200ms
      retries: 2
EOF
bz probes up -d >/dev/null 2>&1 || fail "up -d failed"
health_is() { [ "$(state_of probes "$1" Health)" = "$2" ]; }
check "a probe leaving processes behind still completes (healthy)" wait_until 10 health_is probes-bg-1 healthy
check "a probe past its timeout fails (unhealthy)" wait_until 10 health_is probes-hang-1 unhealthy
expect_contains "the probe's message, as Docker's" "$(cat "$BERTH_RUNROOT/probes/probes-hang-1.json")" "Health check exceeded timeout (200ms)"
sleep 1
# At most the running probe's two; the killed ones become zombies of the
# container's PID 1 (which, as in Docker, only `init: true` reaps).
# top must succeed and show the container's command: a failed top is no
# evidence of zero leftovers.
few_left() {
    local out
    out=$(bz probes top "$1" 2>/dev/null) || return 1
    grep -q "sleep 3600" <<<"$out" || return 1
    [ "$(grep -c "sleep 1000" <<<"$out" || true)" -le 2 ]
}
for svc in bg hang; do
    check "$svc: no live probe leftovers accumulate" wait_until 5 few_left "$svc"
done
bz probes down >/dev/null 2>&1 || fail "down failed"

# --- attached up of a project a detached up runs; up -t --------------------
new_project attach >/dev/null <<'EOF'
services:
  tick:
    image: busybox
    command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; while :; do echo tick; sleep 0.2; done"]
  stubborn:
    image: busybox
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"]
    stop_grace_period: 60s
EOF
bz attach up -d >/dev/null 2>&1 || fail "up -d failed"
(cd "$T_DIR/attach" && exec "$BERTH" up -t 1 >"$T_DIR/attach.out" 2>"$T_DIR/attach.err") &
upid=$!
check "the attached up follows the running containers" wait_until 5 grep -qE "^tick-1 +\| tick" "$T_DIR/attach.out"
start=$(date +%s%N)
kill -INT $upid
rc=0
wait $upid || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "Ctrl-C ends it with 130" "$rc" "130"
check "up -t 1 bounds the stop, not the 60s grace (${ms} ms)" test "$ms" -lt 10000
expect_contains "it says it stops them" "$(cat "$T_DIR/attach.err")" "Gracefully stopping"
check "what they print while stopping is shown" grep -qE "^tick-1 +\| bye" "$T_DIR/attach.out"
expect_contains "the killed one's exit is shown" "$(cat "$T_DIR/attach.out")" "stubborn-1 exited with code 137"
expect_eq "both are stopped" "$(state_of attach attach-tick-1 State) $(state_of attach attach-stubborn-1 State)" "exited exited"
bz attach down >/dev/null 2>&1 || fail "down failed"

# --- two commands at once on the same project ----------------------------
new_project suprace >/dev/null <<'EOF'
services:
  a:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  b:
    image: busybox
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
EOF
for i in 1 2 3; do (bz suprace up -d >"$T_DIR/race$i.out" 2>&1; echo $? >"$T_DIR/race$i.rc") & done
wait
for i in 1 2 3; do expect_eq "concurrent up -d #$i succeeds" "$(cat "$T_DIR/race$i.rc")" "0"; done
expect_eq "one container per service" "$(bz suprace ps -a -q 2>/dev/null | wc -l)" "2"
expect_eq "one supervisor process" "$(supervisors_of suprace)" "1"
expect_eq "both run" "$(state_of suprace suprace-a-1 State) $(state_of suprace suprace-b-1 State)" "running running"
(bz suprace down >"$T_DIR/down1.out" 2>&1; echo $? >"$T_DIR/down1.rc") &
(bz suprace down >"$T_DIR/down2.out" 2>&1; echo $? >"$T_DIR/down2.rc") &
wait
expect_eq "concurrent downs succeed" "$(cat "$T_DIR/down1.rc") $(cat "$T_DIR/down2.rc")" "0 0"
expect_eq "nothing left of the project" "$(ok_out bz suprace ps -a -q | wc -l)" "0"
check "no supervisor left" test ! -e "$BERTH_RUNROOT/suprace/sock"

# --- the supervisor killed with SIGKILL ----------------------------------
new_project crash >/dev/null <<'EOF'
services:
  svc:
    image: busybox
    command: ["sleep", "3600"]
EOF
bz crash up -d >/dev/null 2>&1 || fail "up -d failed"
pid=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$BERTH_RUNROOT/crash/crash-svc-1.json")
check "the container runs" test -n "$pid" -a -d "/proc/$pid"
sup=$(sed -n 's/.*"supervisor": \([0-9]*\).*/\1/p' "$BERTH_RUNROOT/crash/crash-svc-1.json")
kill -9 "$sup"
check "the container dies with its supervisor" wait_until 5 test ! -d "/proc/$pid"
expect_eq "ps sees it exited" "$(state_of crash crash-svc-1 State)" "exited"
out=$(bz crash down 2>&1) || fail "down after a killed supervisor failed: $out"
expect_contains "down cleans up after it" "$out" "Container crash-svc-1  Removed"

finish
