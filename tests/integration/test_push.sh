#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth image push` and `berth push` against Debian's docker-registry
# started here on 127.0.0.1 (plain HTTP, no auth): the pushed image read
# back by skopeo with the stored manifest's digest, pulled by digest into
# a fresh store and run; a pulled Docker schema 2 image pushed back with
# its media type; a second push finds every layer there; a push to
# another repository of the same registry mounts the layers; a blob above
# the chunk size goes up in PATCHes; an unknown image, a bad chunk size and
# a read-only registry fail with one clear line; `berth push` pushes an
# image two services share once, with compose's flags.
# All traffic goes to the registries on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
[ -f "$docker_tar" ] || { echo "FAIL: missing test image $docker_tar" >&2; exit 1; }

registry_start registry 6000
# A read-only registry (maintenance mode): uploads are refused.
export REGISTRY_STORAGE_MAINTENANCE_READONLY='{"enabled": true}'
rw=$reg
registry_start readonly 6000
ro=$reg
reg=$rw
unset REGISTRY_STORAGE_MAINTENANCE_READONLY
log=$T_DIR/registry.log

# The images pushed come from a store of their own ($SRC); the test's own
# store ($BERTH_ROOT) stays empty until it pulls them back.
SRC=$T_DIR/src
src() { BERTH_ROOT=$SRC "$BERTH" "$@"; }

# retag TAR OUT REF...: a copy of a docker-archive whose image has the
# given references.
retag() {
    python3 - "$@" <<'PY'
import io, json, sys, tarfile
src, out, refs = sys.argv[1], sys.argv[2], sys.argv[3:]
with tarfile.open(src) as t, tarfile.open(out, "w") as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.name.lstrip("./") == "manifest.json":
            man = json.loads(data)
            man[0]["RepoTags"] = refs
            data = json.dumps(man).encode()
            m.size = len(data)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
PY
}
check "the test image gets its references" retag "$docker_tar" "$T_DIR/bb.tar" \
    "$reg/test/bb:1" "$reg/test/mirror:1" "$ro/test/ro:1"
check "the test image loads" src load -q -i "$T_DIR/bb.tar"
# stored REF: the manifest digest the store records for REF's image.
stored() {
    python3 - "$SRC/images.json" "$1" <<'PY' 2>/dev/null || true
import json, sys
idx = json.load(open(sys.argv[1]))
img = idx["images"].get(idx["refs"].get(sys.argv[2], ""), {})
print(img.get("manifest", ""))
PY
}
# layers_of DIGEST [INDEX]: the layer digests of a stored manifest (one a
# line), or the one at INDEX.
layers_of() {
    python3 - "$SRC/blobs/sha256/${1#sha256:}" "${2:-}" <<'PY' 2>/dev/null || true
import json, sys
layers = [l["digest"] for l in json.load(open(sys.argv[1]))["layers"]]
print("\n".join(layers) if sys.argv[2] == "" else layers[int(sys.argv[2])])
PY
}
digest=$(stored "$reg/test/bb:1")
layers=$(layers_of "$digest" | grep -c . || true)
check "the store has the image's manifest and layers" test "$layers" -gt 0
# requests PATTERN: access-log lines of the registry since the last mark.
mark() { wc -l <"$T_DIR/registry.log" >"$T_DIR/mark"; }
requests() { tail -n +"$(($(cat "$T_DIR/mark") + 1))" "$T_DIR/registry.log" | grep -cE "$1" || true; }

# --- a first push uploads every blob, then the manifest as stored
mark
rc=0
out=$(src image push "$reg/test/bb:1" 2>&1) || rc=$?
expect_eq "image push succeeds" "$rc" 0
expect_contains "it names the repository" "$out" "The push refers to repository [$reg/test/bb]"
expect_eq "each layer is pushed" "$(grep -c ': Pushed$' <<<"$out")" "$layers"
expect_contains "it ends with the tag, the stored manifest's digest and size" "$out" \
    "1: digest: $digest size: $(stat -c %s "$SRC/blobs/sha256/${digest#sha256:}")"
expect_eq "the mount from the image's other repository is tried" \
    "$(requests '"POST /v2/test/bb/blobs/uploads/\?mount=sha256:[0-9a-f]+&from=test/mirror HTTP/1.1" 202')" \
    "$((layers + 1))"
expect_eq "the layers and config go up whole (below the chunk size)" \
    "$(requests '"PUT /v2/test/bb/blobs/uploads/[^ ]*digest=sha256%3[aA][0-9a-f]+ HTTP/1.1" 201')" \
    "$((layers + 1))"
expect_eq "no chunks below the chunk size" "$(requests '"PATCH ')" 0
expect_eq "the manifest is put by tag" "$(requests '"PUT /v2/test/bb/manifests/1 HTTP/1.1" 201')" 1
out=$(skopeo inspect --tls-verify=false "docker://$reg/test/bb:1" 2>&1) || true
expect_contains "skopeo reads the stored manifest's digest back" "$out" "\"Digest\": \"$digest\""
check "skopeo copies the pushed image (every blob verified)" \
    skopeo copy -q --src-tls-verify=false "docker://$reg/test/bb:1" "oci:$T_DIR/copy:bb"

# --- pulled by digest into a fresh store, it runs
rc=0
out=$("$BERTH" image pull "$reg/test/bb@$digest" 2>&1) || rc=$?
expect_eq "a pull by the pushed digest succeeds" "$rc" 0
expect_contains "the pull checks that digest" "$out" "Digest: $digest"
new_project pushed >/dev/null <<EOC
services:
  app:
    image: $reg/test/bb@$digest
EOC
rc=0
out=$(bz pushed run --rm app echo ran-the-pushed-image 2>&1) || rc=$?
expect_eq "the pulled image runs" "$rc" 0
expect_contains "it runs what was pushed" "$out" "ran-the-pushed-image"

# --- a Docker schema 2 manifest goes back with its own media type
check "skopeo pushes a Docker schema 2 image" registry_push "docker-archive:$docker_tar" test/s2:1
s2=$(curl -sf -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
    "http://$reg/v2/test/s2/manifests/1" | sha256sum | cut -d' ' -f1) || true
rc=0
"$BERTH" image pull -q "$reg/test/s2:1" >/dev/null 2>&1 || rc=$?
expect_eq "berth pulls it" "$rc" 0
mark
rc=0
out=$("$BERTH" image push "$reg/test/s2:1" 2>&1) || rc=$?
expect_eq "pushing the pulled schema 2 image succeeds" "$rc" 0
expect_contains "its digest is the registry's" "$out" "1: digest: sha256:$s2 "
expect_eq "its manifest is put with its media type" \
    "$(requests '"PUT /v2/test/s2/manifests/1 HTTP/1.1" 201')" 1

# --- a second push finds every blob there
mark
rc=0
out=$(src image push "$reg/test/bb:1" 2>&1) || rc=$?
expect_eq "a second push succeeds" "$rc" 0
expect_eq "every layer already exists" "$(grep -c ': Layer already exists$' <<<"$out")" "$layers"
expect_eq "no blob is uploaded again" "$(requests '"(POST|PATCH|PUT) /v2/test/bb/blobs')" 0
expect_contains "the digest is the same" "$out" "1: digest: $digest "

# --- another repository of the same registry: the layers are mounted
mark
rc=0
out=$(src image push "$reg/test/mirror:1" 2>&1) || rc=$?
expect_eq "a push to another repository succeeds" "$rc" 0
expect_eq "each layer is mounted" "$(grep -c ': Mounted from test/bb$' <<<"$out")" "$layers"
expect_eq "the registry mounts them" \
    "$(requests '"POST /v2/test/mirror/blobs/uploads/\?mount=[^ ]*&from=test/bb HTTP/1.1" 201')" \
    "$((layers + 1))"
expect_eq "nothing is uploaded" "$(requests '"(PATCH|PUT) /v2/test/mirror/blobs')" 0

# --- -q: the reference, nothing else
rc=0
out=$(src image push -q "$reg/test/bb:1" 2>&1) || rc=$?
expect_eq "push -q succeeds" "$rc" 0
expect_eq "push -q prints only the reference" "$out" "$reg/test/bb:1"

# --- above the chunk size, a blob goes up in chunks
mkdir -p "$T_DIR/big"
head -c 300000 /dev/urandom >"$T_DIR/big/random"
check "an image with a 300 kB layer is made" bash "$BERTH_SRC/scripts/mkimage-busybox.sh" \
    --tag "$reg/test/big:1" --extra "$T_DIR/big" "$T_DIR/big.tar"
check "it loads" src load -q -i "$T_DIR/big.tar"
mark
rc=0
out=$(BERTH_PUSH_CHUNK_SIZE=65536 src image push "$reg/test/big:1" 2>&1) || rc=$?
expect_eq "a chunked push succeeds" "$rc" 0
expect_contains "it says the layers are pushing" "$out" ": Pushing"
n=$(requests '"PATCH /v2/test/big/blobs/uploads/[^ ]* HTTP/1.1" 202')
check "the big layer goes up in PATCHes of 64 KiB ($n)" test "$n" -ge 5
bigdigest=$(stored "$reg/test/big:1")
rc=0
"$BERTH" image pull -q "$reg/test/big@$bigdigest" >/dev/null 2>&1 || rc=$?
expect_eq "the chunked image pulls back by digest" "$rc" 0
new_project big >/dev/null <<EOC
services:
  app:
    image: $reg/test/big@$bigdigest
EOC
out=$(bz big run --rm app sha256sum /random 2>&1) || true
expect_contains "its chunked layer arrived whole" "$out" \
    "$(sha256sum <"$T_DIR/big/random" | cut -d' ' -f1)"
rc=0
out=$(BERTH_PUSH_CHUNK_SIZE=64k src image push "$reg/test/big:1" 2>&1) || rc=$?
expect_eq "a bad chunk size fails" "$rc" 1
expect_contains "that error names the variable" "$out" \
    'berth: BERTH_PUSH_CHUNK_SIZE="64k": expected a number of bytes'

# --- errors: one line each
mark
rc=0
out=$(src image push "$reg/test/nope:1" 2>&1) || rc=$?
expect_eq "an image not in the store fails" "$rc" 1
expect_eq "that error is one line naming it" "$(grep '^berth:' <<<"$out")" \
    "berth: image \"$reg/test/nope:1\" not found"
expect_eq "nothing is sent for it" "$(requests 'test/nope')" 0
rc=0
out=$(src image push "$ro/test/ro:1" 2>&1) || rc=$?
expect_eq "a push to a read-only registry fails" "$rc" 1
expect_eq "its error is one line" "$(grep -c '^berth:' <<<"$out")" 1
expect_contains "it names the image, the layer and the registry's answer" "$out" \
    "berth: pushing $ro/test/ro:1: layer sha256:"
expect_contains "it gives the registry's answer" "$out" "HTTP 405"

# A stored blob that no longer matches its digest: the registry refuses
# it, the error names the layer, and the upload is cancelled.
mkdir -p "$T_DIR/bad"
echo "a file of the layer that goes bad" >"$T_DIR/bad/file"
check "an image to damage is made" bash "$BERTH_SRC/scripts/mkimage-busybox.sh" \
    --tag "$reg/test/bad:1" --extra "$T_DIR/bad" "$T_DIR/bad.tar"
check "it loads" src load -q -i "$T_DIR/bad.tar"
badlayer=$(layers_of "$(stored "$reg/test/bad:1")" -1)
check "its last layer is damaged in the store" eval \
    'printf X | dd of="$SRC/blobs/sha256/${badlayer#sha256:}" bs=1 seek=100 conv=notrunc status=none'
mark
rc=0
out=$(src image push "$reg/test/bad:1" 2>&1) || rc=$?
expect_eq "a blob the registry refuses fails the push" "$rc" 1
expect_contains "the error names the image, the layer and the registry's words" "$out" \
    "berth: pushing $reg/test/bad:1: layer $badlayer: HTTP 400, DIGEST_INVALID"
# (this registry drops an upload whose digest is wrong itself: 404)
expect_eq "the refused upload is cancelled" \
    "$(requests '"DELETE /v2/test/bad/blobs/uploads/[^ ]* HTTP/1.1" (204|404)')" 1
expect_eq "no manifest is put" "$(requests '"PUT /v2/test/bad/manifests')" 0

# --- berth push: each image once, compose's flags
new_project comp >/dev/null <<EOC
services:
  missing:
    image: $reg/test/absent:1
    build: .
  web:
    image: $reg/test/bb:1
    build: .
    depends_on: [db]
  db:
    image: $reg/test/big:1
    build: .
  web2:
    image: $reg/test/bb:1
    build: .
  plain:
    build: .
  upstream:
    image: $reg/test/bb:1
EOC
rc=0
out=$(BERTH_ROOT=$SRC bz comp push web web2 2>&1) || rc=$?
expect_eq "push of two services succeeds" "$rc" 0
expect_eq "an image two services share is pushed once" "$(grep -c ' Pushing$' <<<"$out")" 1
expect_contains "its layers are said" "$out" " Layer already exists"
expect_not_contains "a dependency is not pushed" "$out" " db "
rc=0
out=$(BERTH_ROOT=$SRC bz comp push --include-deps web 2>&1) || rc=$?
expect_eq "push --include-deps succeeds" "$rc" 0
expect_contains "--include-deps pushes the dependency" "$out" " db Pushed"
rc=0
out=$(BERTH_ROOT=$SRC bz comp push 2>&1) || rc=$?
expect_eq "push of a service whose image is missing fails" "$rc" 1
expect_contains "that error names the service and image" "$out" \
    "berth: service \"missing\": image \"$reg/test/absent:1\" is not in the store"
rc=0
out=$(BERTH_ROOT=$SRC bz comp push --ignore-push-failures 2>&1) || rc=$?
expect_eq "push --ignore-push-failures exits 0" "$rc" 0
expect_contains "a service without build: is skipped, as docker compose does" "$out" " upstream Skipped"
expect_contains "a service without image: is skipped" "$out" " plain Skipped"
expect_contains "the failure is warned about" "$out" "berth: warning: service \"missing\""
expect_eq "the images that are there are pushed" "$(grep -c ' Pushed$' <<<"$out")" 2
rc=0
out=$(BERTH_ROOT=$SRC bz comp push -q web db 2>&1) || rc=$?
expect_eq "push -q succeeds" "$rc" 0
expect_eq "push -q prints nothing (but the file's warnings)" "$(grep -v '^berth: warning: ' <<<"$out")" ""

registry_stop_all
trap - EXIT
finish
