# SPDX-License-Identifier: Apache-2.0
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
T_DIR=$(mktemp -d "$BERTH_TEST_TMP/$T_NAME.XXXXXX")
export BERTH_ROOT=$T_DIR/root
export BERTH_RUNROOT=$T_DIR/run
# This store's cgroup tree, as berth names it (cmd/project.h
# cli_cgroup_base; tests/unit/test_cmd_cgroup.c pins the scheme): each
# store has its own, so two runs of a test (two build trees) never see
# each other's containers. (berth makes the store: -m, it need not exist.)
T_CGBASE=berth-$(realpath -m "$BERTH_ROOT" | tr -d '\n' | sha256sum | cut -c1-8)
# Loopback addresses of this test's own (its upstream resolvers...): build
# trees run the same test at once, and 127.0.0.77 would be both's.
T_LO=127.$((64 + $$ % 128)).$(((($$ >> 7) % 250) + 1))
# The namespaces of this shell: the host's, as far as the test goes.
T_HOST_NS=$(find /proc/$$/ns -type l -printf '%l\n')
export NO_COLOR=1
# Every registry is pullable: an image a test did not load would be pulled
# from docker.io. Such a pull goes to a proxy at 127.0.0.1:9 that is not
# there and fails at once, with no DNS query and no traffic elsewhere
# (loopback registries are reached directly). Registry credentials come
# from this test's own config.json, never from the real ~/.docker.
export https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9
export no_proxy=localhost,127.0.0.0/8,::1 NO_PROXY=localhost,127.0.0.0/8,::1
export DOCKER_CONFIG=$T_DIR/docker
# Under the sanitizer build, reports go to files that finish() checks, so a
# report fails the test even where the test tolerates a non-zero exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$T_DIR/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:log_path=$T_DIR/sanitizer"
T_FAILS=0
T_CHECKS=0
T_SKIPS=()
T_PROJECTS=()

say() { printf '%s\n' "$*" >&2; }

# A test that stops early (set -e on a command outside a check) still
# cleans up: what it started is downed and leak-checked, and it fails
# saying where. finish and skip end through here with T_DONE set. (A test
# with an EXIT trap of its own replaces this one.)
T_DONE=false
T_ERR_LINE=?
trap 'T_ERR_LINE=$LINENO' ERR
t_stopped_early() {
    local rc=$?
    $T_DONE && return 0
    T_DONE=true
    set +e
    if [ "$rc" -eq 77 ]; then # a skip said by the test itself
        leak_check
        [ "$T_FAILS" -eq 0 ] && rm -rf "$T_DIR" && exit 77
        exit 1
    fi
    say "FAIL: $T_NAME stopped early (exit $rc after line $T_ERR_LINE); cleaning up"
    T_FAILS=$((T_FAILS + 1))
    leak_check
    say "$T_NAME: stopped early (files kept in $T_DIR)"
    exit 1
}
trap t_stopped_early EXIT

fail() {
    say "FAIL: $*"
    T_FAILS=$((T_FAILS + 1))
}

pass() {
    T_CHECKS=$((T_CHECKS + 1))
}

# skip WHY: the whole test cannot run here (a missing prerequisite). What
# it started is cleaned up and leak-checked; ctest counts it as skipped
# (SKIP_RETURN_CODE 77), never as passed.
skip() {
    T_DONE=true
    say "SKIPPED: $*"
    leak_check
    if [ "$T_FAILS" -eq 0 ]; then
        rm -rf "$T_DIR"
        exit 77
    fi
    say "$T_NAME: $T_FAILS checks failed before the skip (files kept in $T_DIR)"
    exit 1
}

# skip_check WHY: one check cannot run here; the test goes on with the
# others. finish() counts and names them, and scripts/test.sh lists them.
skip_check() {
    say "SKIPPED: $*"
    T_SKIPS+=("$*")
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
    # also on file: `dir=$(new_project ...)` runs in a subshell, whose
    # T_PROJECTS the leak check never sees
    echo "$name" >>"$T_DIR/.projects"
    mkdir -p "$T_DIR/$name"
    cat >"$T_DIR/$name/compose.yaml"
    echo "$T_DIR/$name"
}

# bz PROJECT ARGS...: runs berth in a project directory. Around the
# commands that start or stop containers, the namespaces of the running
# containers are noted, so that the leak check can find what still holds
# one (not around the others: exec, logs, ps... run in loops, and noting
# costs a few processes per container).
bz() {
    local p=$1 rc=0 a cmd=""
    shift
    for a in "$@"; do
        case $a in -*) ;; *) cmd=$a && break ;; esac
    done
    case $cmd in up | run | start | restart | unpause | down | stop | rm | kill) ;; *) cmd="" ;; esac
    [ -z "$cmd" ] || note_namespaces
    (cd "$T_DIR/$p" && "$BERTH" "$@") || rc=$?
    [ -z "$cmd" ] || note_namespaces
    [ -z "$cmd" ] || note_bridges
    [ -z "$cmd" ] || note_ifbs
    return $rc
}

# note_bridges: appends the bridges of the store's networks to
# $T_DIR/.bridges, so that the leak check can tell that down removed them.
note_bridges() {
    local rec
    for rec in "$BERTH_ROOT"/network/nets/*.json; do
        [ -e "$rec" ] || continue
        sed -n 's/.*"bridge": "\([A-Za-z0-9_.-]*\)".*/\1/p' "$rec"
    done >>"$T_DIR/.bridges"
    return 0
}

# note_ifbs: appends the names of the ifb devices this store's containers
# may have (net/shape.h: "bw" + 12 characters of the ID + the link's
# index) to $T_DIR/.ifbs, without the index, so that the leak check can
# tell that down removed them (qdiscs go with their devices).
note_ifbs() {
    local d id
    for d in "$BERTH_ROOT"/containers/*/; do
        id=$(basename "$d")
        [ "${#id}" -ge 12 ] && echo "bw${id:0:12}"
    done >>"$T_DIR/.ifbs"
    return 0
}

# outside_host NS HOSTIF NET: the test's own "outside" host, network
# namespace NS joined to the host by a veth: HOSTIF on the host with
# NET.9.1/24, eth0 in NS with NET.9.2/24 and its default route through
# the host. outside_host_del NS HOSTIF removes it and what runs in it.
outside_host() {
    ip netns add "$1"
    ip link add "$2" type veth peer name eth0 netns "$1"
    ip addr add "$3.9.1/24" dev "$2"
    ip link set "$2" up
    ip -n "$1" addr add "$3.9.2/24" dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" link set lo up
    ip -n "$1" route add default via "$3.9.1"
}
outside_host_del() {
    ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$1" 2>/dev/null || true
    ip link del "$2" 2>/dev/null || true
}

# pid_of_state FILE [KEY]: the pid (or KEY) recorded in a run state file.
pid_of_state() {
    local line
    # (the file may go between a test and the read: no message then, it
    # would land in the output of the command the caller is capturing)
    { line=$(<"$1"); } 2>/dev/null || return 1
    [[ $line =~ \"${2:-pid}\":\ *([0-9]+) ]] || return 1
    [ "${BASH_REMATCH[1]}" -gt 1 ] || return 1
    echo "${BASH_REMATCH[1]}"
}

# note_namespaces: appends "PROJECT NS" to $T_DIR/.ns for each namespace
# (mnt:[inode], net:[...], ...) of each running container that the host
# does not share. Cheap enough to run around every berth command.
note_namespaces() {
    local f pid proj ns
    for f in "$BERTH_RUNROOT"/*/*.json; do
        [ -e "$f" ] || continue
        pid=$(pid_of_state "$f") || continue
        # the same process as the run state's (pids are reused)
        [ "$(proc_start "$pid")" = "$(pid_of_state "$f" start_time)" ] || continue
        proj=${f%/*}
        proj=${proj##*/}
        for ns in $(find "/proc/$pid/ns" -type l -printf '%l\n' 2>/dev/null); do
            case $'\n'"$T_HOST_NS"$'\n' in *$'\n'"$ns"$'\n'*) continue ;; esac
            echo "$proj $ns"
        done
    done >>"$T_DIR/.ns"
    return 0
}

# cmdline_of PID: its command line, for a report.
cmdline_of() {
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true
}

# The processes in this store's cgroups (under PROJECT only, if given), in
# any hierarchy, v1 or v2: "pid N in cgroup PATH: CMDLINE".
cgroup_procs() {
    local sub=$T_CGBASE${1:+/$1} f line pid
    grep -m1 -HE ":/$sub(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null | while IFS= read -r line; do
        f=${line%%:*}
        pid=${f#/proc/}
        pid=${pid%/cgroup}
        [ "$pid" = "$$" ] && continue
        # A zombie (an orphan killed by down, reparented when the
        # supervisor exited) is waiting for init to reap it.
        case $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) in
        Z) echo "zombie pid $pid in cgroup ${line#*:*:*:}" ;;
        *) echo "pid $pid in cgroup ${line#*:*:*:}: $(cmdline_of "$pid")" ;;
        esac
    done
    return 0
}

# env_pids: the processes started from this store (BERTH_ROOT of this test
# in their environment: supervisors, CLIs, anything the test ran), but not
# this shell.
env_pids() {
    local f pid
    for f in $(grep -lzxF "BERTH_ROOT=$BERTH_ROOT" /proc/[0-9]*/environ 2>/dev/null); do
        pid=${f#/proc/}
        pid=${pid%/environ}
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] || [ ! -e "/proc/$pid" ] || echo "$pid"
    done
    return 0
}

# What still holds a namespace of PROJECT's containers (all projects' if
# PROJECT is empty; noted by
# note_namespaces): an nsfs bind mount on the host, or a process of this
# test outside the containers (env_pids) in one of them or in a mount
# namespace that is not the host's. Namespaces are told by inode number,
# which the kernel gives again once a namespace is freed: a process of
# another test may hold a number this test noted, so only this test's
# processes are looked at.
# (a namespace's inode number is reused once it is gone: another test's
# `ip netns add` under /run/netns may get one noted here, and is not
# berth's, which never mounts there)
ns_holders() {
    local p=$1 nss="" pid ns host_mnt
    [ -e "$T_DIR/.ns" ] && nss=$(awk -v p="$p" 'p == "" || $1 == p { print $2 }' "$T_DIR/.ns" | sort -u)
    if [ -n "$nss" ]; then
        awk -v nss="$nss" 'BEGIN { n = split(nss, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
            { for (i = 7; i < NF; i++) if ($i == "-") break
              if ($(i + 1) == "nsfs" && ($4 in want) && index($5, "/run/netns/") != 1)
                  print "nsfs mount of " $4 " at " $5 }' \
            /proc/self/mountinfo
    fi
    host_mnt=$(grep '^mnt:' <<<"$T_HOST_NS")
    for pid in $(env_pids); do
        for ns in $(find "/proc/$pid/ns" -type l -printf '%l\n' 2>/dev/null); do
            if grep -qxF "$ns" <<<"$nss" || { contains "$ns" "mnt:" && [ "$ns" != "$host_mnt" ]; }; then
                echo "pid $pid holds $ns: $(cmdline_of "$pid")"
            fi
        done
    done
    return 0
}

# mount_leaks [PROJECT]: mounts of this test that outlive their
# containers: mounts under the test directory in the host namespace (berth
# makes none there), and a container's namespaces still held after it ran
# (berth's own mounts live in the containers' mount namespaces, which the
# host's mountinfo never shows).
mount_leaks() {
    grep -F "$T_DIR" /proc/self/mountinfo || true
    ns_holders "${1:-}"
    return 0
}

# Everything a test may leave behind, for one project.
leaks_of() {
    local p=$1
    mount_leaks "$p"
    for c in /sys/fs/cgroup/*/"$T_CGBASE/$p" /sys/fs/cgroup/"$T_CGBASE/$p"; do
        [ -e "$c" ] && echo "cgroup $c"
    done
    cgroup_procs "$p"
    ls -A "$BERTH_RUNROOT/$p" 2>/dev/null | sed 's/^/runfile /'
    return 0
}

# The processes started from this store, for a report.
store_procs() {
    local pid
    for pid in $(env_pids); do
        echo "pid $pid with this store's BERTH_ROOT: $(cmdline_of "$pid")"
    done
    return 0
}

# The processes of the run state (containers and supervisors) as "PID
# START_TIME": read before down, checked after it.
state_procs() {
    local f pid st key
    for f in "$BERTH_RUNROOT"/*/*.json; do
        [ -e "$f" ] || continue
        for key in pid supervisor; do
            pid=$(pid_of_state "$f" "$key") || continue
            st=$(proc_start "$pid") || continue
            echo "$pid $st ${f##*/}"
        done
    done
    return 0
}

# proc_start PID: its start time (clock ticks after boot), the field 22 of
# /proc/PID/stat, which tells a process from a later one with its pid.
proc_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    set -- $stat
    # a zombie holds nothing but its pid, until its parent reaps it
    case $1 in Z | X) return 1 ;; esac
    echo "${20}"
}

# leftovers STATE_PROCS: what of this test is left once every project is
# down (STATE_PROCS: the run state's processes read before down).
leftovers() {
    local pid st what c
    store_procs
    cgroup_procs
    while read -r pid st what; do
        [ -n "$pid" ] && [ "$(proc_start "$pid")" = "$st" ] &&
            echo "pid $pid of the run state $what: $(cmdline_of "$pid")"
    done <<<"$1"
    for c in /sys/fs/cgroup/*/"$T_CGBASE" /sys/fs/cgroup/"$T_CGBASE"; do
        [ -e "$c" ] && echo "cgroup $c"
    done
    mount_leaks
    return 0
}

leak_check() {
    local p out before
    # the projects made in subshells too (new_project's file)
    if [ -f "$T_DIR/.projects" ]; then
        while read -r p; do
            [[ " ${T_PROJECTS[*]} " == *" $p "* ]] || T_PROJECTS+=("$p")
        done <"$T_DIR/.projects"
    fi
    before=$(state_procs)
    note_namespaces
    for p in "${T_PROJECTS[@]}"; do
        bz "$p" down -t 1 >/dev/null 2>&1 || true
    done
    for p in "${T_PROJECTS[@]}"; do
        out=$(leaks_of "$p")
        # Zombies alone: give init (their reaper now) a moment.
        local i=0
        while [ -n "$out" ] && ! grep -qv '^zombie pid ' <<<"$out" && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
            out=$(leaks_of "$p")
        done
        if [ -n "$out" ]; then
            fail "leaked after down ($p):"
            printf '%s\n' "$out" | sed 's/^/    | /' >&2
        fi
    done
    if [ -d "$BERTH_ROOT/containers" ] && [ -n "$(ls -A "$BERTH_ROOT/containers")" ]; then
        fail "container directories left: $(ls -A "$BERTH_ROOT/containers")"
    fi
    # Networks: down removes every network it made, and its bridge.
    local rec br
    note_bridges
    for rec in "$BERTH_ROOT"/network/nets/*.json; do
        [ -e "$rec" ] && fail "network record ${rec##*/} left after down"
    done
    for br in $(sort -u "$T_DIR/.bridges" 2>/dev/null); do
        if [ -e "/sys/class/net/$br" ]; then
            fail "bridge $br left after down"
            ip link del "$br" 2>/dev/null || true
        fi
    done
    # Network shaping: no ifb device of this store's containers.
    local ifb dev
    note_ifbs
    for ifb in $(sort -u "$T_DIR/.ifbs" 2>/dev/null); do
        for dev in /sys/class/net/"$ifb"?; do
            [ -e "$dev" ] || continue
            fail "ifb device ${dev##*/} left after down"
            ip link del "${dev##*/}" 2>/dev/null || true
        done
    done
    # nftables: no table of this store's projects (berth-HASH-PROJECT),
    # through the nft binary or, where it is not installed, libnftables.
    local t nft=(nft)
    command -v nft >/dev/null || nft=(python3 "$BERTH_SRC/tests/integration/nftcmd.py")
    local tables
    if tables=$("${nft[@]}" list tables 2>/dev/null); then
        for t in $(awk -v p="$T_CGBASE-" '$2 == "inet" && index($3, p) == 1 { print $3 }' <<<"$tables"); do
            fail "nftables table inet $t left after down"
            "${nft[@]}" delete table inet "$t" >/dev/null 2>&1 || true
        done
    else
        skip_check "nftables cannot be listed here (the check that no nftables table is left)"
    fi
    if [ -d "$BERTH_RUNROOT" ] && [ -n "$(ls -A "$BERTH_RUNROOT")" ]; then
        fail "run root not empty: $(ls -A "$BERTH_RUNROOT")"
    fi
    # Processes of this test, by what identifies them: this store's
    # BERTH_ROOT in the environment, this store's cgroups, the run state's
    # pids (same start time: the same process).
    # A supervisor may still be on its way out when down returns: up to 2 s.
    for _ in $(seq 1 20); do
        out=$(leftovers "$before")
        [ -z "$out" ] && break
        sleep 0.1
    done
    if [ -n "$out" ]; then
        fail "left after down (processes, cgroups, namespaces):"
        printf '%s\n' "$out" | sort -u | sed 's/^/    | /' >&2
    fi
}

finish() {
    T_DONE=true
    leak_check
    local f
    for f in "$T_DIR"/sanitizer*; do
        [ -e "$f" ] || continue
        fail "sanitizer report $(basename "$f"):"
        sed 's/^/    | /' "$f" | head -40 >&2
    done
    if [ "$T_FAILS" -eq 0 ]; then
        rm -rf "$T_DIR"
        if [ "${#T_SKIPS[@]}" -gt 0 ]; then
            say "$T_NAME: $T_CHECKS checks passed, ${#T_SKIPS[@]} checks skipped:"
            printf '    SKIPPED: %s\n' "${T_SKIPS[@]}" >&2
        else
            say "$T_NAME: $T_CHECKS checks passed"
        fi
        exit 0
    fi
    say "$T_NAME: $T_FAILS of $((T_CHECKS + T_FAILS)) checks failed (files kept in $T_DIR)"
    exit 1
}
