#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# project_name_traversal (SECURITY.md C10): a project name, a container name
# or a volume name taken from the command line or the file is a name, never
# a path. With no compose file, `-p` alone names the project for down, ps,
# logs, rm, exec, ...: "../x", "..", "a/b", "A", "" and a 300-character name
# are refused with docker compose's message before any file is touched (no
# run root, no store, the canary directory outside both unchanged).
. "$(dirname "$0")/lib.sh"

canary=$T_DIR/canary
mkdir -p "$canary/deep" "$T_DIR/nofile/a/b"
echo keep >"$canary/state.json"
echo keep >"$canary/lock"
echo keep >"$canary/deep/x.json"
snapshot() { (cd "$canary" && find . -printf '%p %s %T@\n' | sort && cat state.json lock deep/x.json); }
before=$(snapshot)

long=$(printf 'a%.0s' $(seq 1 300))
# From $T_DIR/nofile/a/b, "../../../canary" is the canary, and the run root
# ($T_DIR/run) is reached by "../canary" from its own level.
names=("../canary" "../../../canary" ".." "a/b" "A" "" "$long" "ok/../../canary")
cmds=("down" "down -v" "ps" "ps -a" "logs" "rm -f" "stop" "kill" "top" "start" "exec web true")

for name in "${names[@]}"; do
    for cmd in "${cmds[@]}"; do
        rc=0
        # shellcheck disable=SC2086 # cmd is words
        out=$(cd "$T_DIR/nofile/a/b" && "$BERTH" -p "$name" $cmd 2>&1) || rc=$?
        label="project_name_traversal: -p \"${name:0:20}\" $cmd"
        check "$label is refused (rc $rc)" test "$rc" -ne 0
        if [ -z "$name" ]; then
            expect_contains "$label says the name is empty" "$out" "project name given with -p is empty"
        elif [ "$name" = "$long" ]; then
            expect_contains "$label says the name is too long" "$out" "longer than 64 characters"
        else
            expect_contains "$label gives docker compose's message" "$out" \
                "invalid project name \"$name\": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
        fi
        case "$out" in *$'\n'*) fail "$label: more than one line: $out" ;; esac
    done
done
check "project_name_traversal: nothing outside the run root was touched" test "$(snapshot)" = "$before"
check "project_name_traversal: no run root was made" test ! -e "$BERTH_RUNROOT"
check "project_name_traversal: no store was made" test ! -e "$BERTH_ROOT"

# strace: the refused command opens, creates or removes no path under the
# canary, the run root or the store.
if command -v strace >/dev/null 2>&1; then
    trace=$T_DIR/strace.out
    # (LeakSanitizer cannot run under ptrace.)
    (cd "$T_DIR/nofile/a/b" && ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
        strace -f -qq -o "$trace" -e trace=%file "$BERTH" -p ../../../canary down -v >/dev/null 2>&1) || true
    if [ -s "$trace" ]; then
        touched=$(grep -v "execve(" "$trace" | grep -E "canary|$BERTH_RUNROOT|$BERTH_ROOT" || true)
        check "project_name_traversal: strace shows no path under canary, run root or store: $touched" \
            test -z "$touched"
    else
        skip_check "strace produced no trace here"
    fi
else
    skip_check "strace is not installed (the canary and run-root checks above still ran)"
fi

# COMPOSE_PROJECT_NAME and -p with a compose file: compose's own refusal.
new_project pnt >/dev/null <<'EOF'
services:
  web:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
EOF
rc=0
out=$(bz pnt -p ../canary up -d 2>&1) || rc=$?
check "project_name_traversal: -p ../canary up is refused" test "$rc" -ne 0
expect_contains "project_name_traversal: -p ../canary up names the name" "$out" 'invalid project name "../canary"'
rc=0
out=$(cd "$T_DIR/pnt" && COMPOSE_PROJECT_NAME=../canary "$BERTH" down 2>&1) || rc=$?
check "project_name_traversal: COMPOSE_PROJECT_NAME=../canary is refused" test "$rc" -ne 0
expect_contains "project_name_traversal: COMPOSE_PROJECT_NAME says where it came from" "$out" \
    'invalid project name "../canary" (from COMPOSE_PROJECT_NAME)'
rc=0
out=$(bz pnt -p "$long" ps 2>&1) || rc=$?
check "project_name_traversal: a 300-character -p with a file is refused" test "$rc" -ne 0
expect_contains "project_name_traversal: ... as too long" "$out" "longer than 64 characters"
check "project_name_traversal: still nothing outside touched" test "$(snapshot)" = "$before"
check "project_name_traversal: still no run root" test ! -e "$BERTH_RUNROOT"

# Container and volume names.
load_image probe.tar
for bad in "../../canary/x" "a/b" ".." "x"; do
    rc=0
    out=$(bz pnt run --rm --name "$bad" web true 2>&1) || rc=$?
    check "project_name_traversal: run --name \"$bad\" is refused" test "$rc" -ne 0
    expect_contains "project_name_traversal: run --name \"$bad\" says why" "$out" "invalid container name \"$bad\""
done
new_project pntc >/dev/null <<'EOF'
services:
  web:
    image: berth-test/probe
    container_name: ../../canary/x
    command: ["true"]
EOF
rc=0
out=$(bz pntc up -d 2>&1) || rc=$?
check "project_name_traversal: container_name ../../canary/x is refused" test "$rc" -ne 0
expect_contains "project_name_traversal: container_name says why" "$out" "invalid name"
for vol in "a/../../b" "../canary"; do
    new_project pntv >/dev/null <<EOF
services:
  web:
    image: berth-test/probe
    command: ["true"]
    volumes: ["data:/data"]
volumes:
  data:
    name: "$vol"
EOF
    rc=0
    out=$(bz pntv up -d 2>&1) || rc=$?
    check "project_name_traversal: volume name \"$vol\" is refused" test "$rc" -ne 0
    expect_contains "project_name_traversal: volume name \"$vol\" is named" "$out" "$vol"
done
check "project_name_traversal: no volume was made" test -z "$(ls -A "$BERTH_ROOT/volumes" 2>/dev/null)"
check "project_name_traversal: nothing outside touched at the end" test "$(snapshot)" = "$before"

finish
