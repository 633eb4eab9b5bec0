#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input gives one clear line naming what is wrong and where, a non-zero
# exit, and nothing half-created; hostile images and settings are refused.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar
load_image procsymlink.tar
load_image fifopasswd.tar

# expect_fail NAME PROJECT NEEDLE [ARGS...]: up fails and says NEEDLE
expect_fail() {
    local what=$1 p=$2 needle=$3 out rc=0
    shift 3
    out=$(bz "$p" up "$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        fail "$what: up should have failed; output:"
        printf '%s\n' "$out" | sed 's/^/    | /' >&2
        return
    fi
    expect_contains "$what" "$out" "$needle"
}

new_project noimage >/dev/null <<'EOF'
services:
  ok:
    image: busybox
    command: ["true"]
  web:
    image: nosuchimage:1.0
    pull_policy: never
EOF
expect_fail "a missing image is named" noimage \
    'image "nosuchimage:1.0" is not in the store, and its pull_policy is never (load it with'
check "a missing image creates nothing" test ! -d "$BERTH_ROOT/containers" -o -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"

new_project badyaml >/dev/null <<'EOF'
services:
  web:
    image: busybox
    command: [unclosed
EOF
expect_fail "malformed YAML names file:line:col" badyaml "berth: compose.yaml:5:1: did not find expected"

new_project badsize >/dev/null <<'EOF'
services:
  web:
    image: busybox
    mem_limit: 12x
EOF
expect_fail "an invalid size names file:line:col" badsize "berth: compose.yaml:4:16: "

new_project nocmd >/dev/null <<'EOF'
services:
  web:
    image: busybox
    command: ["no-such-command"]
EOF
expect_fail "a missing executable is reported like docker" nocmd 'executable file not found in $PATH'

new_project unknown >/dev/null <<'EOF'
services:
  web:
    image: busybox
    command: ["true"]
    isolation: process
EOF
out=$(bz unknown up 2>&1) || fail "up with an unsupported key should still run: $out"
expect_contains "an unsupported key is a warning naming it and its line" "$out" 'compose.yaml:5:5'
expect_contains "the warning names the key" "$out" 'isolation'

new_project rofs >/dev/null <<'EOF'
services:
  web:
    image: busybox
    read_only: true
    command: ["sh", "-c", "touch /x && echo wrote || echo refused"]
EOF
out=$(bz rofs up 2>&1) || fail "up of a read-only root failed: $out"
expect_contains "read_only refuses writes to the root" "$out" "web-1  | refused"

# CVE-2024-21626: a working directory through /proc/self/fd is refused.
new_project fdcwd >/dev/null <<'EOF'
services:
  web:
    image: busybox
    working_dir: /proc/self/fd/3
    command: ["pwd"]
EOF
expect_fail "E02_working_dir_magic_link_refused" fdcwd \
    "setting the working directory: /proc/self/fd/3: refused: the path leads through a /proc magic link"

# An image whose /proc is a symlink is refused (CVE-2019-19921 class).
new_project procsym >/dev/null <<'EOF'
services:
  web:
    image: berth-test/procsymlink
    command: ["true"]
EOF
expect_fail "an image with /proc as a symlink is refused" procsym "/proc in the image must be an ordinary directory"

# /etc/passwd as a FIFO: user lookup fails fast instead of hanging.
new_project fifo >/dev/null <<'EOF'
services:
  web:
    image: berth-test/fifopasswd
    user: app
    command: ["true"]
EOF
start=$(date +%s%N)
expect_fail "a FIFO /etc/passwd is refused" fifo "/etc/passwd is not a regular file"
ms=$((($(date +%s%N) - start) / 1000000))
check "without hanging (${ms} ms)" test "$ms" -lt 5000

new_project nouser >/dev/null <<'EOF'
services:
  web:
    image: busybox
    user: nobodyhere
    command: ["true"]
EOF
expect_fail "an unknown user is named" nouser "unable to find user nobodyhere"

out=$("$BERTH" -f "$T_DIR/none.yaml" up 2>&1) && fail "up with a missing -f file should fail" || pass
expect_contains "a missing compose file is named" "$out" "none.yaml"

# A container record berth cannot read, and run state with no record: said,
# not fatal; down sweeps the stale run state.
new_project stale >/dev/null <<'EOF'
services:
  web:
    image: busybox
    command: ["true"]
EOF
junk=$BERTH_ROOT/containers/$(printf 'f%.0s' $(seq 1 64))
mkdir -p "$junk" "$BERTH_RUNROOT/stale"
echo '{"not": "a record"}' >"$junk/config.json"
echo '{"pid": 1, "start_time": 1, "running": true}' >"$BERTH_RUNROOT/stale/stale-gone-1.json"
out=$(bz stale ps -a 2>&1) || fail "ps with an unreadable record failed: $out"
expect_contains "an unreadable record is named, as a warning" "$out" "berth: warning: $junk: not a container record berth can read"
out=$(bz stale down 2>&1) || fail "down with stale run state failed: $out"
check "down sweeps run state that belongs to no record" test ! -e "$BERTH_RUNROOT/stale/stale-gone-1.json"
rm -rf "$junk"

finish
