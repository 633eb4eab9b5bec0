#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A corrupt image index (images.json, F12): every image command refuses it
# with one line naming the file and the way out, never a crash; the way out,
# `berth image repair`, rebuilds the index from the store's manifests and
# keeps the references the damaged file still names; a container runs from
# the repaired index.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar
index=$BERTH_ROOT/images.json
good=$(cat "$index")
id=$("$BERTH" image ls -q --no-trunc)

new_project idxrun >/dev/null <<'YAML'
services:
  one:
    image: busybox
    command: ["echo", "ran-from-repaired-index"]
YAML

# corrupt_ls DESCRIPTION: image ls on the index as it is now.
corrupt_ls() {
    local out rc=0
    out=$("$BERTH" image ls 2>&1) || rc=$?
    check "$1: image ls exits non-zero (got $rc)" test "$rc" -ne 0 -a "$rc" -lt 128
    expect_eq "$1: one line" "$(printf '%s\n' "$out" | wc -l)" 1
    expect_contains "$1: names the file" "$out" "$index: corrupt image index"
    expect_contains "$1: says how to recover" "$out" "run 'berth image repair'"
}

printf '%s' "${good:0:40}" >"$index"
corrupt_ls "truncated"
printf '[]' >"$index"
corrupt_ls "not an object"
# jq is not assumed: sed edits of the index berth wrote.
printf '%s' "$good" | sed 's/"docker.io\/library\/busybox:latest": "sha256:[0-9a-f]*"/"docker.io\/library\/busybox:latest": 5/' >"$index"
grep -q '"docker.io/library/busybox:latest": 5' "$index" || fail "test setup: the ref edit did not apply"
corrupt_ls "a reference of the wrong type"
for cmd in "image rm busybox" "up"; do
    rc=0
    out=$(bz idxrun $cmd 2>&1) || rc=$?
    check "$cmd on a corrupt index fails cleanly (got $rc)" test "$rc" -ne 0 -a "$rc" -lt 128
    expect_contains "$cmd names the file" "$out" "$index: corrupt image index"
done
printf '%s' "$good" | sed 's/"chain_id": "sha256:[0-9a-f]*"/"chain_id": "sha256:..\/..\/..\/..\/tmp"/' >"$index"
corrupt_ls "a layer's chain_id that is not a digest"

# The way out: the references survive (they still parse), the image works.
out=$("$BERTH" image repair 2>&1) || fail "image repair failed: $out"
expect_contains "repair reports what it rebuilt" "$out" "1 image, 1 reference"
check "the damaged file is kept" test -f "$BERTH_ROOT/images.json.corrupt"
out=$("$BERTH" image ls 2>&1) || fail "image ls after repair failed: $out"
expect_contains "busybox is listed again" "$out" "busybox"
expect_eq "the same image ID" "$("$BERTH" image ls -q --no-trunc)" "$id"

out=$(bz idxrun up 2>&1) || fail "up after repair failed: $out"
expect_contains "a container runs from the repaired index" "$out" "ran-from-repaired-index"
bz idxrun down >/dev/null 2>&1 || fail "down failed"

# Garbage: the image comes back untagged; load gives it its name again.
printf '\001garbage' >"$index"
corrupt_ls "garbage"
out=$("$BERTH" image repair 2>&1) || fail "image repair of garbage failed: $out"
expect_contains "garbage: the image is rebuilt without references" "$out" "1 image, 0 references"
"$BERTH" load -i "$BERTH_TEST_IMAGES/busybox-docker.tar" >/dev/null 2>&1 || fail "re-load failed"
expect_contains "re-load names it again" "$("$BERTH" image ls 2>&1)" "busybox"
out=$("$BERTH" image repair 2>&1) && fail "repair of a healthy index succeeded: $out"
expect_contains "a healthy index is left alone" "$out" "not damaged"

finish
