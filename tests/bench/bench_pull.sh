#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pull of a ~200 MB, 5-layer image (busybox + 4 layers of ~50 MB gzip'd,
# half random, half base64 text) from Debian's docker-registry on
# 127.0.0.1 into an empty store: berth image pull against the floor — the
# manifest, then `curl BLOB | tar -xzf -` for every layer, all at once —
# and, in the same rounds, `skopeo copy` to an OCI directory (no unpacking)
# and `podman pull` when podman is installed. Reports the median of each,
# the ratios, and berth's peak RSS.
#
#   bench_pull.sh [build/berth] [rounds]     (root; default 3 rounds)
#
# Traffic goes only to the registry on 127.0.0.1. The image is made once
# per run in a temp directory; everything is removed at exit.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
rounds=${2:-3}
for t in docker-registry skopeo curl tar python3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "bench_pull: $t is not installed" >&2; exit 1; }
done
[ -x "$berth" ] || { echo "bench_pull: no berth at $berth" >&2; exit 1; }

tmp=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
reg_pid=
cleanup() {
    [ -z "$reg_pid" ] || { kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; }
    if command -v podman >/dev/null && [ -d "$tmp/podman" ]; then
        podman --root "$tmp/podman" --runroot "$tmp/podman-run" rmi -af >/dev/null 2>&1 || true
        umount -R "$tmp/podman" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "bench_pull: making the image (4 x ~50 MB gzip layers)..." >&2
extras=()
for i in 1 2 3 4; do
    d=$tmp/layer$i
    mkdir -p "$d/data$i"
    for j in $(seq 1 28); do
        head -c 1M /dev/urandom >"$d/data$i/random-$j.bin"
    done
    for j in $(seq 1 28); do
        head -c 786432 /dev/urandom | base64 -w 76 >"$d/data$i/text-$j.txt"
    done
    extras+=(--extra "$d")
done
bash "$src/scripts/mkimage-busybox.sh" --format oci --compress gzip --tag bench/big:1 \
    "${extras[@]}" "$tmp/big.tar"
rm -rf "$tmp"/layer?

port=$((26000 + $$ % 1990))
while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
reg=127.0.0.1:$port
mkdir -p "$tmp/registry"
cat >"$tmp/registry.yml" <<EOC
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: $reg
  secret: berth-bench-pull
EOC
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 1 100); do curl -sf "http://$reg/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci-archive:$tmp/big.tar" "docker://$reg/bench/big:1"
rm -f "$tmp/big.tar"

accept="Accept: application/vnd.oci.image.manifest.v1+json"
layers=$(curl -sf -H "$accept" "http://$reg/v2/bench/big/manifests/1" |
    python3 -c 'import json,sys; [print(l["digest"], l["size"]) for l in json.load(sys.stdin)["layers"]]')
total=$(awk '{s += $2} END {print s}' <<<"$layers")
echo "bench_pull: image bench/big:1, $(wc -l <<<"$layers") layers, $((total / 1048576)) MiB compressed" >&2

now() { date +%s.%N; }
floor() { # manifest, then every layer fetched and unpacked at once
    local t0 d s i=0 pids=()
    t0=$(now)
    curl -sf -H "$accept" "http://$reg/v2/bench/big/manifests/1" >/dev/null
    while read -r d s; do
        i=$((i + 1))
        mkdir -p "$tmp/floor/$i"
        (curl -sf "http://$reg/v2/bench/big/blobs/$d" | tar -xzf - -C "$tmp/floor/$i") &
        pids+=($!)
    done <<<"$layers"
    for p in "${pids[@]}"; do wait "$p"; done
    echo "$(now) - $t0" | bc
    rm -rf "$tmp/floor"
}
berth_pull() { # prints seconds and peak RSS (KiB)
    local out
    out=$(BERTH_ROOT=$tmp/store /usr/bin/time -f '%e %M' "$berth" image pull -q "$reg/bench/big:1" 2>&1 >/dev/null) ||
        { echo "bench_pull: berth image pull failed: $out" >&2; exit 1; }
    tail -n1 <<<"$out"
    rm -rf "$tmp/store"
}
skopeo_copy() {
    local t0
    t0=$(now)
    skopeo copy -q --src-tls-verify=false "docker://$reg/bench/big:1" "oci:$tmp/oci:big" >/dev/null
    echo "$(now) - $t0" | bc
    rm -rf "$tmp/oci"
}
podman_pull() {
    local t0
    t0=$(now)
    podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay \
        pull -q --tls-verify=false "$reg/bench/big:1" >/dev/null
    echo "$(now) - $t0" | bc
    podman --root "$tmp/podman" --runroot "$tmp/podman-run" rmi -af >/dev/null 2>&1 || true
    umount -R "$tmp/podman" 2>/dev/null || true
    rm -rf "$tmp/podman" "$tmp/podman-run"
}
have_podman=
command -v podman >/dev/null && have_podman=1

declare -a T_FLOOR T_BERTH RSS T_SKOPEO T_PODMAN
for r in $(seq 1 "$rounds"); do
    T_FLOOR+=("$(floor)")
    read -r t m < <(berth_pull)
    T_BERTH+=("$t")
    RSS+=("$m")
    T_SKOPEO+=("$(skopeo_copy)")
    [ -z "$have_podman" ] || T_PODMAN+=("$(podman_pull)")
    echo "round $r: floor ${T_FLOOR[-1]} s, berth ${T_BERTH[-1]} s (peak RSS $((m / 1024)) MiB)," \
        "skopeo ${T_SKOPEO[-1]} s${have_podman:+, podman ${T_PODMAN[-1]} s}" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
mf=$(median "${T_FLOOR[@]}") mb=$(median "${T_BERTH[@]}") ms=$(median "${T_SKOPEO[@]}")
mr=$(median "${RSS[@]}")
printf 'median of %d rounds: floor %.2f s, berth %.2f s, skopeo copy %.2f s' "$rounds" "$mf" "$mb" "$ms"
[ -z "$have_podman" ] || printf ', podman pull %.2f s' "$(median "${T_PODMAN[@]}")"
printf '\n'
printf 'berth / floor: %.2f (goal <= 1.10)\n' "$(echo "$mb / $mf" | bc -l)"
printf 'skopeo copy / berth: %.2f\n' "$(echo "$ms / $mb" | bc -l)"
if [ -n "$have_podman" ]; then
    printf 'podman pull / berth: %.2f (goal >= 2)\n' "$(echo "$(median "${T_PODMAN[@]}") / $mb" | bc -l)"
else
    echo "podman pull: not measured (podman is not installed)"
fi
printf 'berth peak RSS: %.1f MiB (goal < 30)\n' "$(echo "$mr / 1024" | bc -l)"
