#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth image pull` and `up` pulling a missing image, against Debian's
# docker-registry started here on 127.0.0.1 (plain HTTP, no auth, storage
# in this test's directory), with the test images pushed into it by skopeo:
# a Docker schema 2 image and an OCI zstd one, an index whose entry for this
# host's architecture is chosen, a second pull that fetches nothing, a pull
# by digest, a corrupt blob in the registry refused with nothing stored, an
# unknown tag and an invalid reference; pull_policy: always re-pulling a
# re-pushed tag, and `berth pull` with its flags.
# All traffic goes to the registry on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
gzip_tar=$BERTH_TEST_IMAGES/busybox-oci-gzip.tar
zstd_tar=$BERTH_TEST_IMAGES/busybox-oci-zstd.tar
for f in "$docker_tar" "$gzip_tar" "$zstd_tar"; do
    [ -f "$f" ] || { echo "FAIL: missing test image $f" >&2; exit 1; }
done

registry_start registry 24000

push() { registry_push "$@"; }
check "skopeo pushes the docker-archive image" push "docker-archive:$docker_tar" test/busybox:1
check "skopeo pushes the OCI zstd image" push "oci-archive:$zstd_tar" test/busybox:zstd
check "skopeo pushes the OCI gzip image" push "oci-archive:$gzip_tar" test/corrupt:1

# manifest REPO:TAG: the manifest the registry serves (for digests).
manifest() {
    curl -sf -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
        -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$reg/v2/${1%%:*}/manifests/${1#*:}"
}
layer_of() { manifest "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])'; }
in_store() { [ -e "$BERTH_ROOT/blobs/sha256/${1#sha256:}" ]; }
docker_layer=$(layer_of test/busybox:1)
gzip_layer=$(layer_of test/corrupt:1)

# --- an index: the entry for linux and this host's architecture is chosen
arch=$(dpkg --print-architecture)
desc() { # desc REPO:TAG ARCH
    manifest "$1" >"$T_DIR/m.json"
    python3 - "$T_DIR/m.json" "$2" <<'PY'
import hashlib, json, sys
b = open(sys.argv[1], "rb").read()
print(json.dumps({"mediaType": json.loads(b)["mediaType"], "size": len(b),
                  "digest": "sha256:" + hashlib.sha256(b).hexdigest(),
                  "platform": {"os": "linux", "architecture": sys.argv[2]}}))
PY
}
push_index() {
    push "oci-archive:$gzip_tar" test/multi:gzip || return 1
    push "docker-archive:$docker_tar" test/multi:docker || return 1
    local other=s390x
    [ "$arch" != s390x ] || other=arm64
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
        "$(desc test/multi:gzip "$other")" "$(desc test/multi:docker "$arch")" >"$T_DIR/index.json"
    curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
        --data-binary "@$T_DIR/index.json" "http://$reg/v2/test/multi/manifests/all" >/dev/null
}
check "the registry takes an index of two platforms" push_index
rc=0
out=$("$BERTH" image pull "$reg/test/multi:all" 2>&1) || rc=$?
expect_eq "pulling an index succeeds" "$rc" 0
expect_contains "the index pull names the image" "$out" "Pulled image: $reg/test/multi:all"
check "the layer of linux/$arch is stored" in_store "$docker_layer"
if [ "$(layer_of test/multi:docker)" = "$gzip_layer" ]; then
    # skopeo's blob-info cache may push the docker image with the gzip
    # image's blob: then both platforms share it.
    skip_check "the other platform's layer: skopeo pushed both platforms with one blob"
else
    check "the layer of the other platform is not fetched" eval '! in_store "$gzip_layer"'
fi

# --- image pull; a second pull fetches nothing
rc=0
out=$("$BERTH" image pull "$reg/test/busybox:1" 2>&1) || rc=$?
expect_eq "image pull succeeds" "$rc" 0
expect_contains "image pull names the image" "$out" "Pulled image: $reg/test/busybox:1"
expect_contains "layers the index pull stored are skipped" "$out" "0 blobs fetched (0 bytes), 2 already present"
out=$("$BERTH" image ls 2>&1)
expect_contains "image ls lists the pulled image" "$out" "$reg/test/busybox"
digest=$(manifest test/busybox:1 | sha256sum | cut -d' ' -f1)
rc=0
out=$("$BERTH" image pull "$reg/test/busybox@sha256:$digest" 2>&1) || rc=$?
expect_eq "a pull by digest succeeds" "$rc" 0
expect_contains "a pull by digest checks the manifest digest" "$out" "Digest: sha256:$digest"

# --- up pulls a missing image, and it runs
p=$(new_project pulled <<EOC
services:
  app:
    image: $reg/test/busybox:zstd
    command: ["sh", "-c", "echo ran-the-pulled-image"]
EOC
)
rc=0
out=$(bz pulled up --abort-on-container-exit 2>&1) || rc=$?
expect_eq "up with a missing image pulls it and runs" "$rc" 0
expect_contains "up says it pulls" "$out" "Pulling $reg/test/busybox:zstd"
expect_contains "the pulled image runs" "$out" "ran-the-pulled-image"
bz pulled down -t 1 >/dev/null 2>&1 || true
new_project runp >/dev/null <<EOC
services:
  app:
    image: $reg/test/multi:docker
EOC
rc=0
out=$(bz runp run --rm app echo ran-by-run 2>&1) || rc=$?
expect_eq "run with a missing image pulls it and runs" "$rc" 0
expect_contains "run says it pulls" "$out" "Pulling $reg/test/multi:docker"
expect_contains "run runs the pulled image" "$out" "ran-by-run"

# --- pull_policy: never keeps a missing image missing; others warn
new_project never >/dev/null <<EOC
services:
  app:
    image: $reg/test/multi:gzip
    pull_policy: never
EOC
rc=0
out=$(bz never up 2>&1) || rc=$?
expect_eq "pull_policy: never with a missing image fails" "$rc" 1
expect_contains "that error names the policy" "$out" "its pull_policy is never"
expect_not_contains "nothing is pulled" "$("$BERTH" image ls 2>&1)" "test/multi   gzip"
new_project daily >/dev/null <<EOC
services:
  app:
    image: $reg/test/multi:gzip
    pull_policy: daily
    command: ["true"]
EOC
out=$(bz daily config -q 2>&1) || true
expect_not_contains "pull_policy: daily is not warned about" "$out" "not supported yet"

# --- pull_policy: always pulls at up even when the image is there: a tag
# re-pushed with another image is pulled again, and the container runs it
mkver() { # mkver VERSION: an image whose /version says VERSION, pushed as test/al:1
    mkdir -p "$T_DIR/ver-$1"
    echo "$1" >"$T_DIR/ver-$1/version"
    bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format docker --tag "al:$1" \
        --extra "$T_DIR/ver-$1" "$T_DIR/ver-$1.tar" &&
        push "docker-archive:$T_DIR/ver-$1.tar" test/al:1
}
check "the first image of test/al:1 is pushed" mkver one
new_project always >/dev/null <<EOC
services:
  app:
    image: $reg/test/al:1
    pull_policy: always
    command: ["sed", "s/^/version=/", "/version"]
EOC
out=$(bz always config -q 2>&1) || true
expect_not_contains "pull_policy: always is not warned about" "$out" "not supported yet"
rc=0
out=$(bz always up --abort-on-container-exit 2>&1) || rc=$?
expect_eq "up with pull_policy: always runs" "$rc" 0
expect_contains "the first image runs" "$out" "version=one"
bz always down -t 1 >/dev/null 2>&1 || true
check "test/al:1 is re-pushed with another image" mkver two
rc=0
out=$(bz always up --abort-on-container-exit 2>&1) || rc=$?
expect_eq "up with pull_policy: always runs again" "$rc" 0
expect_contains "up pulls the image that is present" "$out" "Pulling $reg/test/al:1"
expect_contains "the container runs the re-pushed image" "$out" "version=two"
bz always down -t 1 >/dev/null 2>&1 || true
rc=0
out=$(bz always run --rm app 2>&1) || rc=$?
expect_eq "run with pull_policy: always runs" "$rc" 0
expect_contains "run pulls the image that is present" "$out" "Pulling $reg/test/al:1"
new_project missing >/dev/null <<EOC
services:
  app:
    image: $reg/test/al:1
    command: ["cat", "/version"]
EOC
rc=0
out=$(bz missing run --rm app 2>&1) || rc=$?
expect_eq "run with the default pull_policy runs" "$rc" 0
expect_not_contains "it does not pull an image that is present" "$out" "Pulling"

# --- berth pull: the named services (and with --include-deps what they
# depend on), each image once, build-only and pull_policy: never skipped
check "test/pc:a is pushed" push "docker-archive:$docker_tar" test/pc:a
check "test/pc:b is pushed" push "oci-archive:$zstd_tar" test/pc:b
mkdir -p "$T_DIR/ctx"
new_project pullcmd >/dev/null <<EOC
services:
  web:
    image: $reg/test/pc:a
    depends_on: [db]
  db:
    image: $reg/test/pc:b
  web2:
    image: $reg/test/pc:a
  built:
    build: $T_DIR/ctx
  off:
    image: $reg/test/pc:never
    pull_policy: never
EOC
listed() { "$BERTH" image ls 2>&1 | grep -q "^$reg/test/pc *$1 "; }
rc=0
out=$(bz pullcmd pull web 2>&1) || rc=$?
expect_eq "pull of a named service succeeds" "$rc" 0
expect_contains "it says it pulls the service" "$out" " web Pulling"
expect_contains "it says the service is pulled" "$out" " web Pulled"
expect_not_contains "it does not pull a service not named" "$out" "db"
check "the named service's image is pulled" listed a
check "its dependency's image is not" eval '! listed b'
rc=0
out=$(bz pullcmd pull --include-deps web 2>&1) || rc=$?
expect_eq "pull --include-deps succeeds" "$rc" 0
expect_contains "--include-deps pulls the dependency" "$out" " db Pulled"
check "the dependency's image is pulled" listed b
rc=0
out=$(bz pullcmd pull 2>&1) || rc=$?
expect_eq "pull of every service succeeds" "$rc" 0
expect_eq "an image two services share is pulled once" "$(grep -c 'Pulling' <<<"$out")" 2
expect_contains "the second service of a shared image is pulled" "$out" " web2 Pulled"
expect_contains "pull_policy: never is skipped" "$out" " off Skipped"
expect_not_contains "a service with build: and no image is skipped" "$out" " built "
rc=0
out=$(bz pullcmd pull -q 2>&1) || rc=$?
expect_eq "pull -q succeeds" "$rc" 0
expect_eq "pull -q prints nothing (but the file's warnings)" "$(grep -v '^berth: warning: ' <<<"$out")" ""
new_project pullmiss >/dev/null <<EOC
services:
  cached:
    image: $reg/test/pc:a
    pull_policy: missing
  fresh:
    image: $reg/test/pc:c
    pull_policy: missing
EOC
check "test/pc:c is pushed" push "docker-archive:$docker_tar" test/pc:c
rc=0
out=$(bz pullmiss pull 2>&1) || rc=$?
expect_eq "pull with pull_policy: missing succeeds" "$rc" 0
expect_contains "pull_policy: missing skips an image that is present" "$out" \
    " cached Skipped - Image is already present locally"
expect_contains "pull_policy: missing pulls an image that is not" "$out" " fresh Pulled"
new_project pullbad >/dev/null <<EOC
services:
  bad:
    image: $reg/test/busybox:nope
  good:
    image: $reg/test/pc:a
EOC
rc=0
out=$(bz pullbad pull 2>&1) || rc=$?
expect_eq "a failed pull fails the command" "$rc" 1
expect_contains "the error names the service and why" "$out" \
    "berth: service \"bad\": pulling image \"$reg/test/busybox:nope\": $reg/test/busybox:nope: not found in the registry"
rc=0
out=$(bz pullbad pull --ignore-pull-failures 2>&1) || rc=$?
expect_eq "pull --ignore-pull-failures exits 0" "$rc" 0
expect_contains "the failure is warned about" "$out" "berth: warning: service \"bad\": pulling image"
expect_contains "the other services are pulled" "$out" " good Pulled"
rc=0
out=$(bz pullcmd pull nosuch 2>&1) || rc=$?
expect_eq "pull of an unknown service fails" "$rc" 1
expect_contains "that error names the service" "$out" "no such service: nosuch"

# --- a corrupt blob in the registry: refused, nothing stored (in a store
# of its own: a layer the store has unpacked is not fetched again)
main_root=$BERTH_ROOT
export BERTH_ROOT=$T_DIR/corrupt-store
blob=$T_DIR/registry/docker/registry/v2/blobs/sha256/${gzip_layer:7:2}/${gzip_layer#sha256:}/data
cp "$blob" "$T_DIR/good-blob"
printf 'corrupt' | dd of="$blob" bs=1 seek=512 conv=notrunc status=none
{ ls -A "$BERTH_ROOT/blobs/sha256" 2>/dev/null || true; } | sort >"$T_DIR/blobs.before"
rc=0
out=$("$BERTH" image pull "$reg/test/corrupt:1" 2>&1) || rc=$?
expect_eq "a corrupt blob fails the pull" "$rc" 1
expect_contains "the error names the image and layer" "$out" "$reg/test/corrupt:1: layer 1 $gzip_layer: digest mismatch"
expect_contains "the error names the digest received" "$out" "the registry sent content hashing to sha256:"
ls -A "$BERTH_ROOT/blobs/sha256" | sort >"$T_DIR/blobs.after"
check "no blob is stored" cmp -s "$T_DIR/blobs.before" "$T_DIR/blobs.after"
expect_eq "nothing is left in the store's staging" "$(ls -A "$BERTH_ROOT/tmp")" ""
out=$("$BERTH" image ls 2>&1)
expect_not_contains "the image is not listed" "$out" "$reg/test/corrupt"
cp "$T_DIR/good-blob" "$blob"
rc=0
"$BERTH" image pull -q "$reg/test/corrupt:1" >/dev/null 2>&1 || rc=$?
expect_eq "the same pull succeeds once the blob is whole" "$rc" 0
export BERTH_ROOT=$main_root

# --- errors
rc=0
out=$("$BERTH" image pull "$reg/test/busybox:nope" 2>&1) || rc=$?
expect_eq "an unknown tag fails" "$rc" 1
expect_eq "an unknown tag is one clear line" "$out" \
    "berth: $reg/test/busybox:nope: not found in the registry (manifest unknown)"
rc=0
out=$(BERTH_ROOT=$T_DIR/nostore "$BERTH" image pull "$reg/Test/x:1" 2>&1) || rc=$?
expect_eq "an invalid reference fails" "$rc" 1
expect_contains "that error names the reference" "$out" "invalid reference format \"$reg/Test/x:1\""
check "an invalid reference makes no store" test ! -e "$T_DIR/nostore"

registry_stop_all
trap - EXIT
finish
