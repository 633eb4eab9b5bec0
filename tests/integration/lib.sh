# Shared helpers for integration tests (sourced). Each test gets its own
# store and run root under $BERTH_TEST_TMP, its own project names, and a
# leak check when it ends: no mounts, cgroups, processes or files of its
# own left behind.
#
# Environment from ctest: BERTH (binary), BERTH_TEST_IMAGES (fixture
# archives), BERTH_TEST_TMP (scratch), BERTH_SRC (source tree).

set -euo pipefail

: "${BERTH:?BERTH must name the berth binary}"
: "${BERTH_TEST_IMAGES:?}"
BERTH_TEST_TMP=${BERTH_TEST_TMP:-/tmp}
mkdir -p "$BERTH_TEST_TMP"

T_NAME=$(basename "$0" .sh)
# Cgroup paths are per project name, whatever the store: two runs of the
# same test (two build trees on one host) would see each other's
# containers. One run of a test at a time per host.
exec 8>"/tmp/berth-itest-$T_NAME.lock"
flock 8
T_DIR=$(mktemp -d "$BERTH_TEST_TMP/$T_NAME.XXXXXX")
export BERTH_ROOT=$T_DIR/root
export BERTH_RUNROOT=$T_DIR/run
export NO_COLOR=1
# Under the sanitizer build, reports go to files that finish() checks, so a
# report fails the test even where the test tolerates a non-zero exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$T_DIR/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:log_path=$T_DIR/sanitizer"
T_FAILS=0
T_CHECKS=0
T_PROJECTS=()

say() { printf '%s\n' "$*" >&2; }

fail() {
    say "FAIL: $*"
    T_FAILS=$((T_FAILS + 1))
}

pass() {
    T_CHECKS=$((T_CHECKS + 1))
}

check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        pass
    else
        fail "$what"
    fi
}

contains() { # contains HAYSTACK NEEDLE
    case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac
}

expect_contains() { # expect_contains DESCRIPTION HAYSTACK NEEDLE
    if contains "$2" "$3"; then
        pass
    else
        fail "$1: expected to find '$3' in:"
        printf '%s\n' "$2" | sed 's/^/    | /' >&2
    fi
}

expect_not_contains() {
    if contains "$2" "$3"; then
        fail "$1: did not expect '$3' in:"
        printf '%s\n' "$2" | sed 's/^/    | /' >&2
    else
        pass
    fi
}

expect_eq() { # expect_eq DESCRIPTION ACTUAL EXPECTED
    if [ "$2" = "$3" ]; then
        pass
    else
        fail "$1: expected '$3', got '$2'"
    fi
}

# wait_until SECONDS COMMAND...: polls the command (every 50 ms) until it
# succeeds; fails after SECONDS.
wait_until() {
    local t=$1
    shift
    for _ in $(seq 1 $((t * 20))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# Loads a fixture image archive into this test's store.
load_image() {
    "$BERTH" load -i "$BERTH_TEST_IMAGES/$1" >/dev/null
}

# new_project NAME: a project directory with the given compose file on stdin.
new_project() {
    local name=$1
    T_PROJECTS+=("$name")
    mkdir -p "$T_DIR/$name"
    cat >"$T_DIR/$name/compose.yaml"
    echo "$T_DIR/$name"
}

# bz PROJECT ARGS...: runs berth in a project directory.
bz() {
    local p=$1
    shift
    (cd "$T_DIR/$p" && "$BERTH" "$@")
}

# Everything a test may leave behind, for one project.
leaks_of() {
    local p=$1
    grep -F "$T_DIR" /proc/self/mountinfo || true
    for c in /sys/fs/cgroup/*/berth/"$p" /sys/fs/cgroup/berth/"$p"; do
        [ -e "$c" ] && echo "cgroup $c"
    done
    ls -A "$BERTH_RUNROOT/$p" 2>/dev/null | sed 's/^/runfile /'
    return 0
}

leak_check() {
    local p out
    for p in "${T_PROJECTS[@]}"; do
        bz "$p" down -t 1 >/dev/null 2>&1 || true
    done
    for p in "${T_PROJECTS[@]}"; do
        out=$(leaks_of "$p")
        if [ -n "$out" ]; then
            fail "leaked after down ($p):"
            printf '%s\n' "$out" | sed 's/^/    | /' >&2
        fi
    done
    if [ -d "$BERTH_ROOT/containers" ] && [ -n "$(ls -A "$BERTH_ROOT/containers")" ]; then
        fail "container directories left: $(ls -A "$BERTH_ROOT/containers")"
    fi
    if [ -d "$BERTH_RUNROOT" ] && [ -n "$(ls -A "$BERTH_RUNROOT")" ]; then
        fail "run root not empty: $(ls -A "$BERTH_RUNROOT")"
    fi
    # Processes started from this test's store (containers run from overlay
    # mounts under it; the supervisor is $BERTH).
    if pgrep -f "$T_DIR" >/dev/null 2>&1; then
        fail "processes left: $(pgrep -af "$T_DIR" | head -5)"
    fi
}

finish() {
    leak_check
    local f
    for f in "$T_DIR"/sanitizer*; do
        [ -e "$f" ] || continue
        fail "sanitizer report $(basename "$f"):"
        sed 's/^/    | /' "$f" | head -40 >&2
    done
    if [ "$T_FAILS" -eq 0 ]; then
        rm -rf "$T_DIR"
        say "$T_NAME: $T_CHECKS checks passed"
        exit 0
    fi
    say "$T_NAME: $T_FAILS of $((T_CHECKS + T_FAILS)) checks failed (files kept in $T_DIR)"
    exit 1
}
