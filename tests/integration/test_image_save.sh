#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth image save: two stored images (OCI zstd and the probe image, which
# share busybox's layer) written into one docker-archive that skopeo and
# podman read back and a fresh store loads as the same images; an unknown
# REF fails with one line and leaves no file. No network at all.
. "$(dirname "$0")/lib.sh"
unset BERTH_TEST_KILL_AT BERTH_MAX_LAYER_BYTES
work=$T_DIR

zstd_tar=$BERTH_TEST_IMAGES/busybox-oci-zstd.tar
gzip_tar=$BERTH_TEST_IMAGES/busybox-oci-gzip.tar
docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
probe_tar=$BERTH_TEST_IMAGES/probe.tar
for f in "$docker_tar" "$gzip_tar" "$zstd_tar" "$probe_tar"; do
    [ -f "$f" ] || { echo "FAIL: missing test image $f" >&2; exit 1; }
done

for f in "$docker_tar" "$gzip_tar" "$zstd_tar" "$probe_tar"; do
    out=$("$BERTH" load -q -i "$f" 2>&1) || fail "load $f: $out"
done
bb_id=$("$BERTH" image inspect -f '{{.Id}}' berth-test/busybox-oci:zstd)
probe_id=$("$BERTH" image inspect -f '{{.Id}}' berth-test/probe)

# --- save two images into one file --------------------------------------
file=$work/two.tar
rc=0
out=$("$BERTH" image save -o "$file" berth-test/busybox-oci:zstd berth-test/probe 2>&1) || rc=$?
expect_eq "image save exits 0" "$rc" 0
expect_eq "image save prints nothing" "$out" ""
check "image save wrote the file" test -s "$file"
check "image save leaves no temp file" test ! -e "$file.tmp"
names=$(tar tf "$file" | sort)
expect_eq "the shared layer is in the archive once" \
    "$(grep -c "^blobs/sha256/07865701ad6bd331cd294a81b93eb47c23c4ca674206d36e115600b806af4866\$" <<<"$names")" 1
expect_contains "the archive has manifest.json" "$names" "manifest.json"
expect_contains "the archive is an OCI layout too" "$names" "oci-layout"
tags=$(tar xOf "$file" manifest.json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    print(m["Config"], *(m["RepoTags"] or []))')
expect_contains "manifest.json tags the zstd image" "$tags" \
    "blobs/sha256/${bb_id#sha256:} berth-test/busybox-oci:zstd"
expect_contains "manifest.json tags the probe image" "$tags" \
    "blobs/sha256/${probe_id#sha256:} berth-test/probe:latest"
# Every layer is the uncompressed tar its name (the DiffID) hashes to.
bad=""
for l in $(grep '^blobs/sha256/' <<<"$names"); do
    got=$(tar xOf "$file" "$l" | sha256sum | cut -d' ' -f1)
    [ "$got" = "${l#blobs/sha256/}" ] || bad+=" $l"
done
expect_eq "every blob hashes to its name" "$bad" ""

# --- standard output, and never a terminal -------------------------------
rc=0
"$BERTH" image save berth-test/probe >"$work/stdout.tar" 2>"$work/stdout.err" || rc=$?
expect_eq "image save to standard output exits 0" "$rc" 0
check "image save to standard output writes a tar" tar xOf "$work/stdout.tar" manifest.json >/dev/null
if command -v script >/dev/null; then
    rc=0
    out=$(script -qec "\"$BERTH\" image save berth-test/probe" /dev/null 2>&1) || rc=$?
    expect_contains "image save refuses a terminal" "$out" "refusing to write a tar archive to a terminal"
else
    skip_check "script(1) missing: the terminal refusal is not checked"
fi

# --- skopeo reads it back ------------------------------------------------
if command -v skopeo >/dev/null; then
    rc=0
    cfg=$(skopeo inspect --raw "docker-archive:$file:berth-test/probe:latest" 2>&1 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])') || rc=$?
    expect_eq "skopeo inspect finds the probe image's config" "$cfg" "$probe_id"
    cfg=$(skopeo inspect --raw "docker-archive:$file:berth-test/busybox-oci:zstd" 2>&1 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])') || rc=$?
    expect_eq "skopeo inspect finds the zstd image's config" "$cfg" "$bb_id"
    rc=0
    out=$(skopeo copy -q "docker-archive:$file:berth-test/probe:latest" "oci:$work/oci:probe" 2>&1) || rc=$?
    expect_eq "skopeo copy to an OCI layout exits 0 ($out)" "$rc" 0
    check "skopeo copy wrote an OCI index" test -s "$work/oci/index.json"
else
    skip_check "skopeo missing: its read-back is not checked"
fi

# --- podman reads it back (its storage under T_DIR) ----------------------
if command -v podman >/dev/null; then
    # (podman wants a runroot of at most 50 characters)
    pm_run=$(mktemp -d /tmp/berth-save.XXXXXX)
    pm=(podman --root "$work/podman" --runroot "$pm_run" --storage-driver vfs)
    rc=0
    out=$("${pm[@]}" load -i "$file" 2>&1) || rc=$?
    expect_eq "podman load exits 0" "$rc" 0
    expect_contains "podman loads the probe image" "$out" "Loaded image: localhost/berth-test/probe:latest"
    ids=$("${pm[@]}" images --no-trunc --format '{{.ID}}' 2>&1 | sort -u | paste -sd' ')
    expect_eq "podman has the same image IDs" "$ids" \
        "$(printf '%s\n' "$bb_id" "$probe_id" | sort | paste -sd' ')"
    "${pm[@]}" rmi -a -f >/dev/null 2>&1 || true
    "${pm[@]}" system reset -f >/dev/null 2>&1 || true
    rm -rf "$work/podman" "$pm_run"
else
    skip_check "podman missing: podman load is not checked"
fi

# --- a fresh store loads it as the same images, and they run --------------
saved_root=$BERTH_ROOT
export BERTH_ROOT=$work/root2
rc=0
out=$("$BERTH" load -i "$file" 2>&1) || rc=$?
expect_eq "berth load of the saved file exits 0 ($out)" "$rc" 0
expect_eq "the fresh store has the probe image's ID" \
    "$("$BERTH" image inspect -f '{{.Id}}' berth-test/probe 2>&1)" "$probe_id"
expect_eq "the fresh store has the zstd image's ID" \
    "$("$BERTH" image inspect -f '{{.Id}}' berth-test/busybox-oci:zstd 2>&1)" "$bb_id"
export BERTH_ROOT=$saved_root
rm -rf "$work/root2"
# Run in the test's own store, which now holds only what the archive gave.
"$BERTH" image rm -f berth-test/busybox-oci:zstd berth-test/busybox-oci:gzip busybox berth-test/probe >/dev/null 2>&1
out=$("$BERTH" load -q -i "$file" 2>&1) || fail "reload: $out"
new_project imgsave >/dev/null <<EOC
services:
  app:
    image: berth-test/busybox-oci:zstd
EOC
rc=0
out=$(bz imgsave run --rm -T app echo saved-and-loaded 2>&1) || rc=$?
expect_eq "a loaded saved image runs (exit)" "$rc" 0
expect_contains "a loaded saved image runs (output)" "$out" "saved-and-loaded"

# --- an unknown REF: one line, no file -------------------------------------
bad_file=$work/bad.tar
rc=0
out=$("$BERTH" image save -o "$bad_file" berth-test/probe no-such/image:x 2>&1) || rc=$?
expect_eq "image save of an unknown REF fails" "$rc" 1
expect_eq "the error is one line naming the REF" "$out" 'berth: image "no-such/image:x" not found'
check "no file is left for an unknown REF" test ! -e "$bad_file"
check "no temp file is left for an unknown REF" test ! -e "$bad_file.tmp"
rc=0
out=$("$BERTH" image save berth-test/probe no-such/image:x 2>/dev/null | wc -c) || rc=$?
expect_eq "nothing reaches standard output for an unknown REF" "$out" 0

finish
