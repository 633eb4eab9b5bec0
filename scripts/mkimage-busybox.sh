#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes a busybox image archive from Debian's busybox-static, with no
# network and no container engine: a docker-archive (what `docker save`
# writes) or an OCI image-layout tar, with a plain, gzip or zstd layer.
#
#   mkimage-busybox.sh [--format docker|oci] [--compress none|gzip|zstd]
#                      [--tag NAME:TAG] [--extra DIR] [--volume PATH]... OUT.tar
#
# --extra DIR adds a layer with the contents of DIR (repeatable: one layer
# each, in order; whiteouts and opaque markers are files named .wh.NAME and
# .wh..wh..opq in DIR); --volume PATH declares a VOLUME in the config
# (repeatable).
set -euo pipefail

format=docker compress=none tag=busybox:latest volumes=
extras=()
while [ $# -gt 1 ]; do
    case "$1" in
    --format) format=$2; shift 2 ;;
    --compress) compress=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --extra) extras+=("$2"); shift 2 ;;
    --volume) volumes+="${volumes:+,}\"$2\":{}"; shift 2 ;;
    *) echo "mkimage-busybox: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: mkimage-busybox.sh [options] OUT.tar" >&2; exit 2; }
out=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkimage-busybox: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
# ldd exits 1 on a static binary: its words, not its status (pipefail).
case $(ldd "$bb" 2>&1) in
*"not a dynamic"* | *"statically linked"*) ;;
*) echo "mkimage-busybox: $bb is not static (apt-get install busybox-static)" >&2 && exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,var,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
done
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
staff:x:50:app
app:x:1000:
nogroup:x:65534:
EOF
chown 1000:1000 "$root/home/app"
echo "berth-test" >"$root/etc/hostname"

blobs=$work/blobs
mkdir -p "$blobs"
# make_layer DIR -> prints "diffid blobdigest size" and leaves blob in $blobs
make_layer() {
    local dir=$1 tarf=$work/layer.tar
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -C "$dir" -cf "$tarf" .
    local diffid blob
    diffid=$(sha256sum "$tarf" | cut -d' ' -f1)
    case "$compress" in
    none) blob=$tarf ;;
    gzip) gzip -n -c "$tarf" >"$tarf.gz"; blob=$tarf.gz ;;
    zstd) zstd -q -c "$tarf" >"$tarf.zst"; blob=$tarf.zst ;;
    esac
    local dg
    dg=$(sha256sum "$blob" | cut -d' ' -f1)
    mv "$blob" "$blobs/$dg"
    rm -f "$tarf"
    echo "$diffid $dg $(stat -c %s "$blobs/$dg")"
}

layers=()
read -r d b s < <(make_layer "$root")
layers+=("$d $b $s")
for extra in "${extras[@]}"; do
    read -r d b s < <(make_layer "$extra")
    layers+=("$d $b $s")
done

diffids="" ldesc="" dlayers=""
case "$compress" in
none) mt=application/vnd.oci.image.layer.v1.tar ;;
gzip) mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
zstd) mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
esac
for l in "${layers[@]}"; do
    read -r d b s <<<"$l"
    diffids+="${diffids:+,}\"sha256:$d\""
    ldesc+="${ldesc:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$b\",\"size\":$s}"
    dlayers+="${dlayers:+,}\"blobs/sha256/$b\""
done

config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\",\
\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\
\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"${volumes:+,\"Volumes\":{$volumes\}}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffids]},\
\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"berth mkimage-busybox\"}]}"
printf '%s' "$config" >"$work/config.json"
cdg=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$blobs/$cdg"
csize=$(stat -c %s "$blobs/$cdg")

pkg=$work/pkg
mkdir -p "$pkg/blobs/sha256"
mv "$blobs"/* "$pkg/blobs/sha256/"
case "$format" in
docker)
    printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":[%s]}]' \
        "$cdg" "$tag" "$dlayers" >"$pkg/manifest.json"
    ;;
oci)
    manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cdg\",\"size\":$csize},\
\"layers\":[$ldesc]}"
    printf '%s' "$manifest" >"$work/manifest"
    mdg=$(sha256sum "$work/manifest" | cut -d' ' -f1)
    msize=$(stat -c %s "$work/manifest")
    mv "$work/manifest" "$pkg/blobs/sha256/$mdg"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$pkg/oci-layout"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
        "$mdg" "$msize" "$tag" "${tag##*:}" >"$pkg/index.json"
    ;;
*) echo "mkimage-busybox: unknown format $format" >&2; exit 2 ;;
esac
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$pkg" -cf "$out.tmp" .
mv "$out.tmp" "$out"
