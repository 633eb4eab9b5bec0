#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth load / image ls / image rm against the busybox test archives:
# docker-archive and OCI (gzip, zstd) loads, shared layers stored once,
# idempotent re-load, a load killed after its first layer (no image
# visible; a re-run completes it), removal of blobs and layers, and a
# corrupt archive refused with nothing left behind.
. "$(dirname "$0")/lib.sh"
unset BERTH_TEST_KILL_AT BERTH_MAX_LAYER_BYTES
work=$T_DIR

docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
gzip_tar=$BERTH_TEST_IMAGES/busybox-oci-gzip.tar
zstd_tar=$BERTH_TEST_IMAGES/busybox-oci-zstd.tar
for f in "$docker_tar" "$gzip_tar" "$zstd_tar"; do
    [ -f "$f" ] || { echo "FAIL: missing test image $f" >&2; exit 1; }
done

# expect_match DESC TEXT REGEX
expect_match() {
    if grep -Eq -- "$3" <<<"$2"; then pass "$1"; else fail "$1: [$2] does not match /$3/"; fi
}
count() { # entries in a store directory (layers: directories only)
    local d=$BERTH_ROOT/$1
    [ -d "$d" ] || { echo 0; return; }
    if [ "$1" = layers ]; then
        find "$d" -mindepth 1 -maxdepth 1 -type d | wc -l
    else
        find "$d" -mindepth 1 -maxdepth 1 | wc -l
    fi
}
# rows: image ls without its header; when image ls fails, a line saying so,
# so that a crash never reads as "no images".
rows() {
    local out rc=0
    out=$("$BERTH" image ls) || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "<image ls failed: exit $rc>"
    else
        tail -n +2 <<<"$out"
    fi
}

header='REPOSITORY               TAG       IMAGE ID       CREATED       SIZE'

# --- load all three ----------------------------------------------------
out=$("$BERTH" load -i "$docker_tar" 2>&1) || fail "berth failed: $out"
expect_eq "load docker-archive" "$out" "Loaded image: busybox:latest"
out=$("$BERTH" load -i "$gzip_tar" 2>&1) || fail "berth failed: $out"
expect_eq "load OCI gzip" "$out" "Loaded image: berth-test/busybox-oci:gzip"
out=$("$BERTH" load -i "$zstd_tar" 2>&1) || fail "berth failed: $out"
expect_eq "load OCI zstd" "$out" "Loaded image: berth-test/busybox-oci:zstd"

# --- image ls ----------------------------------------------------------
ls_out=$("$BERTH" image ls) || fail "berth failed: $ls_out"
expect_eq "image ls header" "$(head -1 <<<"$ls_out")" "$header"
expect_eq "image ls row count" "$(tail -n +2 <<<"$ls_out" | wc -l)" 3
expect_match "image ls busybox row" "$ls_out" \
    '^busybox +latest +[0-9a-f]{12} +[0-9]+ years ago +[0-9.]+MB$'
expect_match "image ls oci gzip row" "$ls_out" \
    '^berth-test/busybox-oci +gzip +[0-9a-f]{12} +.* ago +[0-9.]+MB$'
expect_match "image ls oci zstd row" "$ls_out" '^berth-test/busybox-oci +zstd '
expect_eq "berth images = berth image ls" "$("$BERTH" images)" "$ls_out"
ids=$("$BERTH" image ls -q) || fail "berth failed: $ids"
expect_eq "image ls -q deduplicates" "$(wc -l <<<"$ids")" 1
expect_match "image ls -q is a short ID" "$ids" '^[0-9a-f]{12}$'
json=$("$BERTH" image ls --format json) || fail "berth failed: $json"
expect_eq "image ls --format json lines" "$(wc -l <<<"$json")" 3
expect_match "image ls json fields" "$(head -1 <<<"$json")" \
    '^\{"Containers":"N/A","CreatedAt":".*","CreatedSince":".* ago","Digest":"\\u003cnone\\u003e","ID":"[0-9a-f]{12}","Repository":"[^"]+","SharedSize":"N/A","Size":"[0-9.]+MB","Tag":"[^"]+","UniqueSize":"N/A","VirtualSize":"[0-9.]+MB"\}$'

# --- one layer, stored once --------------------------------------------
expect_eq "shared layer stored once" "$(count layers)" 1
layer=$(find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -type d)
expect_match "layer dir is layers/<64 hex>" "$layer" "^$BERTH_ROOT/layers/[0-9a-f]{64}$"
[ -x "$layer/bin/busybox" ] && pass "layer holds bin/busybox" || fail "layer lacks bin/busybox"
expect_eq "layer tmp mode" "$(stat -c %a "$layer/tmp")" 1777
expect_eq "layer symlinks kept" "$(readlink "$layer/bin/sh")" /bin/busybox
expect_eq "staging empty" "$(count tmp)" 0

# --- idempotent re-load -------------------------------------------------
blobs_before=$(ls "$BERTH_ROOT/blobs/sha256")
out=$("$BERTH" load -i "$docker_tar" 2>&1) || fail "berth failed: $out"
expect_eq "re-load output" "$out" "Loaded image: busybox:latest"
out=$("$BERTH" load -i "$zstd_tar" 2>&1) || fail "berth failed: $out"
expect_eq "re-load output (zstd)" "$out" "Loaded image: berth-test/busybox-oci:zstd"
expect_eq "re-load keeps the listing" "$("$BERTH" image ls)" "$ls_out"
expect_eq "re-load keeps one layer" "$(count layers)" 1
expect_eq "re-load keeps the blobs" "$(ls "$BERTH_ROOT/blobs/sha256")" "$blobs_before"

# --- stdin, compressed outer archive -------------------------------------
out=$("$BERTH" load <"$gzip_tar" 2>&1) || fail "berth failed: $out"
expect_eq "load from stdin" "$out" "Loaded image: berth-test/busybox-oci:gzip"
if command -v zstd >/dev/null; then
    out=$(zstd -q -c "$docker_tar" | "$BERTH" load 2>&1) || fail "berth failed: $out"
    expect_eq "load zstd-compressed archive from stdin" "$out" "Loaded image: busybox:latest"
fi
out=$(gzip -c "$docker_tar" | "$BERTH" load 2>&1) || fail "berth failed: $out"
expect_eq "load gzip-compressed archive from stdin" "$out" "Loaded image: busybox:latest"

# --- errors name the reference ------------------------------------------
rc=0
out=$("$BERTH" image rm foo:1 2>&1) || rc=$?
[ $rc -ne 0 ] && pass "rm of a missing image fails" || fail "rm of a missing image succeeded"
expect_eq "rm error names the reference" "$out" 'berth: image "foo:1" not found'

# --- image rm removes blobs and layers ------------------------------------
out=$("$BERTH" image rm busybox:latest 2>&1) || fail "berth failed: $out"
expect_eq "rm of one tag untags only" "$out" "Untagged: busybox:latest"
expect_eq "layer kept while tagged elsewhere" "$(count layers)" 1
out=$("$BERTH" rmi berth-test/busybox-oci:gzip berth-test/busybox-oci:zstd 2>&1) || fail "berth failed: $out"
expect_match "rm untags" "$out" '^Untagged: berth-test/busybox-oci:gzip$'
expect_match "rm deletes the image" "$out" '^Deleted: sha256:[0-9a-f]{64}$'
expect_eq "rm deleted lines" "$(grep -c '^Deleted: ' <<<"$out")" 2
expect_eq "no images left" "$(rows)" ""
expect_eq "no layers left" "$(count layers)" 0
expect_eq "no blobs left" "$(count blobs/sha256)" 0

# --- killed after the first layer: nothing visible; a re-run completes -----
# (in a child shell whose stderr is closed, so its "Killed" notice is not shown)
rc=0
BERTH_TEST_KILL_AT=after-layer bash -c '"$0" load -i "$1" >/dev/null 2>&1; exit $?' \
    "$BERTH" "$docker_tar" 2>/dev/null || rc=$?
expect_eq "load killed by the test hook" "$rc" 137
expect_eq "killed load shows no image" "$(rows)" ""
expect_eq "killed load committed its layer" "$(count layers)" 1
out=$("$BERTH" load -i "$docker_tar" 2>&1) || fail "berth failed: $out"
expect_eq "re-run after kill" "$out" "Loaded image: busybox:latest"
expect_match "image visible after re-run" "$(rows)" '^busybox +latest '
expect_eq "staging empty after re-run" "$(count tmp)" 0
"$BERTH" image rm busybox >/dev/null 2>&1 || fail "image rm busybox failed"
expect_eq "store empty again" "$(count layers) $(count blobs/sha256)" "0 0"

# --- a corrupt archive: clear error, no image -------------------------------
flip() { # flip FILE OFFSET: xor one byte with 0x01
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
for src in "$docker_tar" "$gzip_tar"; do
    bad=$work/corrupt-$(basename "$src")
    cp "$src" "$bad"
    # The layer is the bulk of each archive: its middle is layer data.
    flip "$bad" $(($(stat -c %s "$bad") / 2))
    rc=0
    out=$("$BERTH" load -i "$bad" 2>&1) || rc=$?
    [ $rc -ne 0 ] && pass "corrupt $(basename "$src") refused" ||
        fail "corrupt $(basename "$src") loaded: $out"
    expect_match "corrupt $(basename "$src"): one clear line" "$out" \
        "^berth: $bad: .*(digest|DiffID|mismatch)"
    expect_eq "corrupt $(basename "$src"): one line" "$(wc -l <<<"$out")" 1
    expect_eq "corrupt $(basename "$src"): no image" "$(rows)" ""
    expect_eq "corrupt $(basename "$src"): no layer" "$(count layers)" 0
    expect_eq "corrupt $(basename "$src"): no blobs" "$(count blobs/sha256)" 0
    expect_eq "corrupt $(basename "$src"): no staging" "$(count tmp)" 0
done

finish
