#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The image commands beside pull: `image inspect` (checked key by key
# against the image's own config, for a loaded and a pulled image, and an
# unknown one), `image tag` (then run by the new tag), `image prune` with and
# without -a (an image a container uses is kept; blobs and layers go);
# `platform` (an index of amd64 and arm64: the arm64 manifest is pulled and
# not run, a platform the index lacks is an error listing those it has, an
# image of another platform than the service's is refused); pull_policy
# daily and every_N (a pull older than the schedule is pulled again).
# Registries: Debian's docker-registry on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
zstd_tar=$BERTH_TEST_IMAGES/busybox-oci-zstd.tar
for f in "$docker_tar" "$zstd_tar"; do
    [ -f "$f" ] || { echo "FAIL: missing test image $f" >&2; exit 1; }
done
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || skip "the platform checks build an index for an amd64 host (this is $arch)"

registry_start registry 10000
push() { registry_push "$@"; }
manifest() { # manifest REPO:TAG: the manifest the registry serves
    curl -sf -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
        -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$reg/v2/${1%%:*}/manifests/${1#*:}"
}
mdigest() { echo "sha256:$(manifest "$1" | sha256sum | cut -d' ' -f1)"; }
layer_of() { manifest "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])'; }
in_store() { [ -e "$BERTH_ROOT/blobs/sha256/${1#sha256:}" ]; }
index_has() { python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1]))["images"] else 1)' \
    "$BERTH_ROOT/images.json" "$1"; }
# mkimg NAME TAG TEXT: a busybox image with /version saying TEXT (a layer of
# its own), as a docker archive $T_DIR/NAME.tar tagged TAG
mkimg() {
    mkdir -p "$T_DIR/x-$1"
    echo "$3" >"$T_DIR/x-$1/version"
    bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format docker --tag "$2" \
        --extra "$T_DIR/x-$1" "$T_DIR/$1.tar"
}

# check_inspect OUT CONFIG_JSON_FILE ID TAGS DIGESTS: the inspect output (an
# array of one) against the config blob, the ID, the tags and repo digests
check_inspect() {
    python3 - "$1" "$2" "$3" "$4" "$5" "$BERTH_ROOT" <<'PY'
import json, os, sys
out, cfgf, iid, tags, digests, root = sys.argv[1:]
arr = json.loads(out)
cfg = json.load(open(cfgf))
c = cfg.get("config") or {}
bad = []
def eq(what, got, want):
    if got != want:
        bad.append(f"{what}: got {got!r}, want {want!r}")
eq("array length", len(arr), 1)
o = arr[0]
keys = ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
        "Author", "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata"]
eq("keys", [k for k in o if k != "Variant"], keys)
eq("Id", o["Id"], iid)
eq("RepoTags", o["RepoTags"], tags.split() if tags else [])
eq("RepoDigests", o["RepoDigests"], digests.split() if digests else [])
eq("Created", o["Created"], cfg.get("created", ""))
eq("Architecture", o["Architecture"], cfg["architecture"])
eq("Os", o["Os"], cfg["os"])
eq("Author", o["Author"], cfg.get("author", ""))
for k, zero in [("Env", None), ("Cmd", None), ("Entrypoint", None), ("WorkingDir", ""),
                ("User", ""), ("Labels", None), ("Volumes", None), ("Hostname", ""),
                ("AttachStdin", False), ("Tty", False), ("OnBuild", None)]:
    eq("Config." + k, o["Config"].get(k, "<absent>"), c.get(k, zero))
for k in ("ExposedPorts", "Healthcheck", "StopSignal"):
    eq("Config." + k, o["Config"].get(k, "<absent>"), c.get(k, "<absent>"))
eq("RootFS", o["RootFS"], {"Type": "layers", "Layers": cfg["rootfs"]["diff_ids"]})
eq("GraphDriver.Name", o["GraphDriver"]["Name"], "overlay")
d = o["GraphDriver"]["Data"]
dirs = [d["UpperDir"]] + (d["LowerDir"].split(":") if "LowerDir" in d else [])
eq("layer dirs", len(dirs), len(cfg["rootfs"]["diff_ids"]))
for x in dirs:
    if not (x.startswith(root + "/layers/") and os.path.isdir(x)):
        bad.append(f"layer dir {x} is not a layer of the store")
if not isinstance(o["Size"], int) or o["Size"] <= 0:
    bad.append(f"Size {o['Size']!r}")
eq("Metadata", o["Metadata"], {"LastTagTime": "0001-01-01T00:00:00Z"})
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# --- inspect: a loaded image, against the config in its archive
check "the busybox image is loaded" load_image busybox-docker.tar
python3 - "$docker_tar" "$T_DIR/loaded.json" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
def member(name):
    name = name.lstrip("./")
    return t.extractfile(next(x for x in t.getmembers() if x.name.lstrip("./") == name))
m = json.load(member("manifest.json"))
open(sys.argv[2], "wb").write(member(m[0]["Config"]).read())
PY
loaded_id=sha256:$(sha256sum <"$T_DIR/loaded.json" | cut -d' ' -f1)
rc=0
out=$("$BERTH" image inspect busybox 2>&1) || rc=$?
expect_eq "inspect of a loaded image succeeds" "$rc" 0
check "inspect of a loaded image shows its config" \
    check_inspect "$out" "$T_DIR/loaded.json" "$loaded_id" "busybox:latest" ""
out2=$("$BERTH" image inspect "${loaded_id:7:12}" 2>&1) || true
expect_eq "inspect by short ID shows the same" "$out2" "$out"
expect_eq "inspect -f renders a template" "$("$BERTH" image inspect -f '{{.Os}}/{{.Architecture}} {{json .RepoTags}}' busybox 2>&1)" \
    'linux/amd64 ["busybox:latest"]'
out=$("$BERTH" image inspect --format json busybox 2>&1) || true
check "inspect --format json prints one object a line" \
    python3 -c 'import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if o["Id"]==sys.argv[2] else 1)' "$out" "$loaded_id"
rc=0
out=$("$BERTH" image inspect -f '{{range .RepoTags}}x{{end}}' busybox 2>&1) || rc=$?
expect_eq "an unsupported template fails" "$rc" 1
expect_contains "that error says what is supported" "$out" "{{json .Field}}"

# --- inspect: an unknown image among known ones
rc=0
"$BERTH" image inspect nosuch:1 busybox >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
expect_eq "inspect of an unknown image exits 1" "$rc" 1
expect_eq "the error is docker's" "$(cat "$T_DIR/err")" "Error: No such image: nosuch:1"
check "the known image is still printed" \
    python3 -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1])))==1 else 1)' "$T_DIR/out"

# --- inspect: a pulled image, against the registry's config blob
check "the docker image is pushed" push "docker-archive:$docker_tar" test/insp:1
rc=0
"$BERTH" image pull -q "$reg/test/insp:1" >/dev/null 2>&1 || rc=$?
expect_eq "the pushed image is pulled" "$rc" 0
cfg_digest=$(manifest test/insp:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])') || true
curl -sf "http://$reg/v2/test/insp/blobs/$cfg_digest" >"$T_DIR/pulled.json" || true
rc=0
out=$("$BERTH" image inspect "$reg/test/insp:1" 2>&1) || rc=$?
expect_eq "inspect of a pulled image succeeds" "$rc" 0
check "inspect of a pulled image shows its config and repo digest" \
    check_inspect "$out" "$T_DIR/pulled.json" "$cfg_digest" "$reg/test/insp:1 busybox:latest" \
    "$reg/test/insp@$(mdigest test/insp:1)"

# --- tag, then run by the new tag
rc=0
out=$("$BERTH" image tag busybox localtag/app:v2 2>&1) || rc=$?
expect_eq "image tag succeeds" "$rc" 0
check "the new tag is listed" eval '"$BERTH" image ls 2>&1 | grep -qE "^localtag/app +v2 "'
expect_eq "the new tag names the same image" \
    "$("$BERTH" image inspect -f '{{.Id}}' localtag/app:v2 2>&1)" "$loaded_id"
new_project tagrun >/dev/null <<EOC
services:
  app:
    image: localtag/app:v2
    pull_policy: never
EOC
rc=0
out=$(bz tagrun run --rm app echo ran-by-the-new-tag 2>&1) || rc=$?
expect_eq "run by the new tag succeeds" "$rc" 0
expect_contains "the tagged image runs" "$out" "ran-by-the-new-tag"
rc=0
out=$("$BERTH" image tag busybox 'Bad/Name:1' 2>&1) || rc=$?
expect_eq "an invalid target is refused" "$rc" 1
expect_contains "that error says why" "$out" 'invalid reference format "Bad/Name:1": repository name must be lowercase'
rc=0
out=$("$BERTH" image tag busybox "x@sha256:$(printf '%064d' 0)" 2>&1) || rc=$?
expect_eq "a digest target is refused" "$rc" 1
expect_contains "that error says why" "$out" "refusing to create a tag with a digest reference"
rc=0
out=$("$BERTH" image tag nosuch:9 other:1 2>&1) || rc=$?
expect_eq "tagging an unknown image fails" "$rc" 1
expect_contains "that error names it" "$out" 'image "nosuch:9" not found'

# --- prune: dangling images only, then every unused image with -a
check "the first prn image is made" mkimg prn1 prn:1 one
check "the second prn image is made" mkimg prn2 prn:1 two
check "the first prn image is loaded" eval '"$BERTH" load -i "$T_DIR/prn1.tar" >/dev/null'
old_id=$("$BERTH" image inspect -f '{{.Id}}' prn:1) || true
old_upper=$("$BERTH" image inspect -f '{{.GraphDriver.Data.UpperDir}}' prn:1) || true
check "the second prn image is loaded" eval '"$BERTH" load -i "$T_DIR/prn2.tar" >/dev/null'
new_id=$("$BERTH" image inspect -f '{{.Id}}' prn:1) || true
check "the reloaded tag leaves a dangling image" index_has "$old_id"
rc=0
out=$("$BERTH" image prune </dev/null 2>&1) || rc=$?
expect_eq "prune without -f and no terminal is refused" "$rc" 1
expect_contains "that error says to use -f" "$out" "use -f to remove without asking"
check "the refused prune removes nothing" index_has "$old_id"
rc=0
out=$("$BERTH" image prune -f 2>&1) || rc=$?
expect_eq "prune -f succeeds" "$rc" 0
expect_contains "prune lists what it deleted" "$out" "Deleted Images:
deleted: $old_id"
expect_contains "prune says what it reclaimed" "$out" "Total reclaimed space: "
expect_not_contains "prune keeps the tagged images" "$out" "untagged:"
check "the dangling image is gone from the index" eval '! index_has "$old_id"'
check "its config blob is gone" eval '! in_store "$old_id"'
check "its own layer is gone" eval '[ -n "$old_upper" ] && [ ! -e "$old_upper" ]'
check "the tagged image stays" index_has "$new_id"
out=$("$BERTH" image prune -f 2>&1) || true
expect_eq "a second prune has nothing to do" "$out" "Total reclaimed space: 0B"
new_project prnused >/dev/null <<EOC
services:
  app:
    image: prn:1
    command: ["sleep", "600"]
    stop_signal: SIGKILL
EOC
rc=0
bz prnused up -d >/dev/null 2>&1 || rc=$?
expect_eq "a container of prn:1 is up" "$rc" 0
insp_layer=$(layer_of test/insp:1) || true
rc=0
out=$("$BERTH" image prune -a -f 2>&1) || rc=$?
expect_eq "prune -a -f succeeds" "$rc" 0
expect_contains "prune -a untags the unused images" "$out" "untagged: localtag/app:v2"
expect_not_contains "prune -a keeps the image a container uses" "$out" "untagged: prn:1"
check "the used image stays in the index" index_has "$new_id"
# (not `| grep -q`: grep may exit first, and exec's broken pipe then fails
# the pipeline)
check "the used image still runs" eval '[ "$(bz prnused exec app cat /version)" = two ]'
check "the unused images are gone from the index" eval '! index_has "$loaded_id"'
check "the pulled image's layer blob is gone" eval '! in_store "$insp_layer"'
expect_eq "only the used image is listed" "$("$BERTH" image ls -q 2>&1)" "${new_id:7:12}"
bz prnused down -t 1 >/dev/null 2>&1 || true
out=$("$BERTH" image prune -a -f 2>&1) || true
expect_contains "after down, prune -a removes it too" "$out" "deleted: $new_id"
check "no blob is left" eval '[ -z "$(ls -A "$BERTH_ROOT/blobs/sha256")" ]'
check "no layer is left" eval '[ -z "$(ls -A "$BERTH_ROOT/layers")" ]'

# --- platform: an index of amd64 and arm64 manifests
check "the amd64 image is pushed" push "docker-archive:$docker_tar" test/plat:amd64
check "the zstd image is pushed" push "oci-archive:$zstd_tar" test/plat:zstd
# The arm64 image: the zstd image's layers under a config that says arm64.
mkarm() {
    python3 - "http://$reg" test/plat <<'PY'
import hashlib, json, sys, urllib.request
base, repo = sys.argv[1:]
def get(path, accept=None):
    req = urllib.request.Request(base + path, headers={"Accept": accept} if accept else {})
    return urllib.request.urlopen(req).read()
m = json.loads(get(f"/v2/{repo}/manifests/zstd", "application/vnd.oci.image.manifest.v1+json"))
cfg = json.loads(get(f"/v2/{repo}/blobs/{m['config']['digest']}"))
cfg["architecture"] = "arm64"
cfg["variant"] = "v8"
body = json.dumps(cfg).encode()
digest = "sha256:" + hashlib.sha256(body).hexdigest()
r = urllib.request.urlopen(urllib.request.Request(base + f"/v2/{repo}/blobs/uploads/", method="POST"))
loc = r.headers["Location"]
loc = (loc if loc.startswith("http") else base + loc) + ("&" if "?" in loc else "?") + "digest=" + digest
urllib.request.urlopen(urllib.request.Request(loc, data=body, method="PUT",
                       headers={"Content-Type": "application/octet-stream"}))
m["config"] = {"mediaType": m["config"]["mediaType"], "digest": digest, "size": len(body)}
urllib.request.urlopen(urllib.request.Request(base + f"/v2/{repo}/manifests/arm64",
                       data=json.dumps(m).encode(), method="PUT",
                       headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
PY
}
check "the arm64 image is pushed" mkarm
desc() { # desc REPO:TAG ARCH [VARIANT]
    manifest "$1" >"$T_DIR/m.json"
    python3 - "$T_DIR/m.json" "$2" "${3:-}" <<'PY'
import hashlib, json, sys
b = open(sys.argv[1], "rb").read()
p = {"os": "linux", "architecture": sys.argv[2]}
if sys.argv[3]:
    p["variant"] = sys.argv[3]
print(json.dumps({"mediaType": json.loads(b)["mediaType"], "size": len(b),
                  "digest": "sha256:" + hashlib.sha256(b).hexdigest(), "platform": p}))
PY
}
push_index() {
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' \
        "$(desc test/plat:amd64 amd64)" "$(desc test/plat:arm64 arm64 v8)" >"$T_DIR/index.json"
    curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
        --data-binary "@$T_DIR/index.json" "http://$reg/v2/test/plat/manifests/multi" >/dev/null
}
check "the registry takes the index" push_index
amd_layer=$(layer_of test/plat:amd64) || true
arm_layer=$(layer_of test/plat:arm64) || true
new_project platarm >/dev/null <<EOC
services:
  app:
    image: $reg/test/plat:multi
    platform: linux/arm64
    command: ["true"]
EOC
out=$(bz platarm config -q 2>&1) || true
expect_not_contains "platform is not warned about" "$out" "platform"
rc=0
out=$(bz platarm up 2>&1) || rc=$?
expect_eq "up of an arm64 service on this amd64 host fails" "$rc" 1
expect_contains "up pulled it first" "$out" "Pulling $reg/test/plat:multi"
expect_contains "the error says it cannot run here" "$out" \
    "service \"app\": cannot run linux/arm64 on this linux/amd64 host"
expect_eq "the arm64 image is stored" \
    "$("$BERTH" image inspect -f '{{.Os}}/{{.Architecture}}/{{.Variant}}' "$reg/test/plat:multi" 2>&1)" "linux/arm64/v8"
check "the arm64 manifest's layer is stored" in_store "$arm_layer"
check "the amd64 manifest's layer is not fetched" eval '! in_store "$amd_layer"'
check "no container is left of the refused up" eval '[ -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)" ]'
new_project platwant >/dev/null <<EOC
services:
  app:
    image: $reg/test/plat:multi
    platform: linux/amd64
    pull_policy: never
EOC
rc=0
out=$(bz platwant up 2>&1) || rc=$?
expect_eq "an image of another platform than the service's is refused" "$rc" 1
expect_contains "that error is docker's" "$out" \
    "image with reference $reg/test/plat:multi was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64"
new_project platnone >/dev/null <<EOC
services:
  app:
    image: $reg/test/plat:multi
    platform: linux/s390x
EOC
rc=0
out=$(bz platnone pull 2>&1) || rc=$?
expect_eq "pulling a platform the index lacks fails" "$rc" 1
expect_contains "that error lists the index's platforms" "$out" \
    "no manifest for linux/s390x in the index (it has linux/amd64, linux/arm64)"
rc=0
out=$("$BERTH" image pull --platform linux/ppc64le "$reg/test/plat:multi" 2>&1) || rc=$?
expect_eq "image pull --platform of a platform the index lacks fails" "$rc" 1
expect_contains "image pull's error lists them too" "$out" "it has linux/amd64, linux/arm64"
rc=0
out=$("$BERTH" image pull --platform linux/arm64 "$reg/test/plat:amd64" 2>&1) || rc=$?
expect_eq "a single manifest of another platform is refused" "$rc" 1
expect_contains "that error says which platforms" "$out" \
    "does not match the specified platform: wanted linux/arm64, actual: linux/amd64"
rc=0
out=$("$BERTH" image pull --platform linux/x86_64 "$reg/test/plat:multi" 2>&1) || rc=$?
expect_eq "image pull --platform linux/x86_64 (docker's alias) succeeds" "$rc" 0
# (its layer may be the arm64 image's, unpacked already: not fetched again)
expect_eq "it pulled the amd64 image" \
    "$("$BERTH" image inspect -f '{{.Os}}/{{.Architecture}}' "$reg/test/plat:multi" 2>&1)" "linux/amd64"
rc=0
out=$("$BERTH" image pull --platform linux/amd64/x/y "$reg/test/plat:multi" 2>&1) || rc=$?
expect_eq "an invalid --platform is refused" "$rc" 1
expect_contains "that error says the form" "$out" "invalid platform \"linux/amd64/x/y\""
new_project platrun >/dev/null <<EOC
services:
  app:
    image: $reg/test/plat:multi
EOC
rc=0
out=$(bz platrun run --rm app echo ran-amd64 2>&1) || rc=$?
expect_eq "without platform, this host's image runs" "$rc" 0
expect_contains "the amd64 image runs" "$out" "ran-amd64"
new_project platbad >/dev/null <<EOC
services:
  app:
    image: busybox
    platform: "linux/"
EOC
rc=0
out=$(bz platbad config -q 2>&1) || rc=$?
expect_eq "an invalid platform key is an error" "$rc" 1
expect_contains "that error names the key" "$out" 'service "app": platform: invalid platform "linux/"'

# --- pull_policy: daily and every_N pull again when the last pull is old
check "the first sched image is made" mkimg sch1 sched:1 one
check "the second sched image is made" mkimg sch2 sched:1 two
check "the first sched image is pushed" push "docker-archive:$T_DIR/sch1.tar" test/sched:1
new_project imgdaily >/dev/null <<EOC
services:
  app:
    image: $reg/test/sched:1
    pull_policy: daily
    command: ["cat", "/version"]
EOC
out=$(bz imgdaily config -q 2>&1) || true
expect_not_contains "pull_policy: daily is not warned about" "$out" "pull_policy"
rc=0
out=$(bz imgdaily run --rm app 2>&1) || rc=$?
expect_eq "run with pull_policy: daily runs" "$rc" 0
expect_contains "a missing image is pulled" "$out" "Pulling $reg/test/sched:1"
expect_contains "the first image runs" "$out" "one"
check "the second sched image is pushed under the same tag" push "docker-archive:$T_DIR/sch2.tar" test/sched:1
rc=0
out=$(bz imgdaily run --rm app 2>&1) || rc=$?
expect_eq "a second run succeeds" "$rc" 0
expect_not_contains "an image pulled today is not pulled again" "$out" "Pulling"
expect_contains "so the first image runs again" "$out" "one"
out=$(bz imgdaily pull 2>&1) || true
expect_contains "berth pull skips it too" "$out" " app Skipped - Image was pulled within its pull_policy's interval"
# age PREF SECONDS: the store's record of when PREF was pulled moves back
age() {
    python3 - "$BERTH_ROOT/images.json" "$1" "$2" <<'PY'
import datetime, json, sys
f, ref, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
idx = json.load(open(f))
at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=secs)
idx["pulled"][ref]["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
json.dump(idx, open(f, "w"))
PY
}
check "the pull is made two days old" age "$reg/test/sched:1" $((2 * 86400))
rc=0
out=$(bz imgdaily run --rm app 2>&1) || rc=$?
expect_eq "a run after a day succeeds" "$rc" 0
expect_contains "an image pulled two days ago is pulled again" "$out" "Pulling $reg/test/sched:1"
expect_contains "the re-pushed image runs" "$out" "two"
at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pulled"][sys.argv[2]]["at"])' \
    "$BERTH_ROOT/images.json" "$reg/test/sched:1") || true
expect_eq "the pull is recorded as today's" "${at:0:10}" "$(date -u +%Y-%m-%d)"
check "the pull is made two days old again" age "$reg/test/sched:1" $((2 * 86400))
out=$(bz imgdaily pull 2>&1) || true
expect_contains "berth pull pulls a due image" "$out" " app Pulled"
new_project imgevery >/dev/null <<EOC
services:
  app:
    image: $reg/test/sched:1
    pull_policy: every_1s
    command: ["cat", "/version"]
EOC
check "the pull is made two seconds old" age "$reg/test/sched:1" 2
rc=0
out=$(bz imgevery run --rm app 2>&1) || rc=$?
expect_eq "run with pull_policy: every_1s runs" "$rc" 0
expect_contains "an image pulled 2s ago is pulled again" "$out" "Pulling $reg/test/sched:1"
new_project badsched >/dev/null <<EOC
services:
  app:
    image: busybox
    pull_policy: every_often
  zero:
    image: busybox
    pull_policy: every_0s
EOC
rc=0
out=$(bz badsched config -q 2>&1) || rc=$?
expect_eq "an invalid schedule is an error" "$rc" 1
expect_contains "a schedule of no time is an error" "$out" 'invalid pull policy "every_0s"'
expect_contains "that error names the key and the forms" "$out" \
    'service "app": pull_policy: invalid pull policy "every_often" (use always, never, missing, build, daily, weekly or every_<duration>)'
new_project buildpol >/dev/null <<EOC
services:
  app:
    image: busybox
    pull_policy: build
EOC
out=$(bz buildpol ps 2>&1) || true # (config keeps quiet about what is not supported)
expect_not_contains "pull_policy: build is not warned about" "$out" 'pull_policy'

registry_stop_all
trap - EXIT
finish
