#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 10-step Dockerfile — COPY of a 50 MB context of mixed files (text,
# random, half-compressible; the same bytes every run), RUN steps that
# write files — built from the busybox image by berth image build, cold
# (an empty store but the base) and again with a full cache, and in the
# same rounds by `podman build` (Debian's podman; it runs with runc, as
# crun refuses this host's hybrid cgroups) from the same base and context,
# cold (fresh storage) and cached. Reports the medians, the ratios against
# the goals and berth's peak RSS. podman is not a dependency of berth:
# without podman (or runc) only berth is measured, and the output says so.
#
#   bench_build.sh [build/berth] [rounds]     (root; default 3 rounds)
#
# RUN steps send no traffic. Everything is removed at exit, podman's
# storage, images, and the CNI bridge and iptables tables its first RUN
# makes when they were not there before.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
berth=$(realpath "${1:-$src/build/berth}")
rounds=${2:-3}
for t in python3 /usr/bin/time bc; do
    command -v "$t" >/dev/null || { echo "bench_build: $t is not installed" >&2; exit 1; }
done
[ -x "$berth" ] || { echo "bench_build: no berth at $berth" >&2; exit 1; }

tmp=$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)
# What podman's network may add, to remove only what this run made.
had_bridge=$(ip link show cni-podman0 >/dev/null 2>&1 && echo 1 || true)
had_tables=$(nft list tables 2>/dev/null || true)
pm=()
pm_reset() {
    [ ${#pm[@]} -gt 0 ] || return 0
    "${pm[@]}" rmi -af >/dev/null 2>&1 || true
    "${pm[@]}" system reset -f >/dev/null 2>&1 || true
    umount -R "$tmp/podman" 2>/dev/null || true
    rm -rf "$tmp/podman" "$tmp/podman-run"
}
cleanup() {
    pm_reset
    if [ -z "$had_bridge" ] && ip link show cni-podman0 >/dev/null 2>&1; then
        ip link del cni-podman0 2>/dev/null || true
    fi
    local t
    for t in "ip nat" "ip filter"; do
        if ! grep -qx "table $t" <<<"$had_tables" && nft list table $t >/dev/null 2>&1; then
            nft delete table $t 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

bash "$src/scripts/mkimage-busybox.sh" --format docker --tag bench/busybox:1 "$tmp/base.tar" >/dev/null

# The context: ~50 MB, made from a fixed seed.
echo "bench_build: making the 50 MB context..." >&2
python3 - "$tmp/ctx" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(13)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
         for _ in range(500)]
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
for d in range(20):          # 2000 text files of ~8 KB: 16 MB
    for i in range(100):
        n, out = 0, []
        while n < 8192:
            w = rnd.choice(words)
            out.append(w)
            n += len(w) + 1
        put(f"{root}/text/d{d}/f{i}.txt", b" ".join(out) + b"\n")
for i in range(25):          # 25 random files of 1 MB: 25 MB
    put(f"{root}/bin/r{i}.bin", rnd.randbytes(1 << 20))
for i in range(90):          # 90 files of 100 KB, half zeros: 9 MB
    put(f"{root}/mid/m{i}.dat", rnd.randbytes(51200) + bytes(51200))
PY
size=$(du -sm --apparent-size "$tmp/ctx" | cut -f1)
files=$(find "$tmp/ctx" -type f | wc -l)
mkdir -p "$tmp/df"
cat >"$tmp/df/Dockerfile" <<'EOF'
FROM bench/busybox:1
ENV BENCH=1
WORKDIR /app
COPY . /app/ctx/
RUN mkdir -p /app/gen && for i in $(seq 1 200); do echo "file $i" > /app/gen/f$i; done
RUN dd if=/dev/zero of=/app/zero.bin bs=1M count=5 2>/dev/null
RUN find /app/ctx -type f | wc -l > /app/count
RUN cp -r /app/ctx/text/d0 /app/text-copy
RUN rm -rf /app/ctx/text/d1 /app/ctx/bin/r0.bin
LABEL bench=build
CMD ["cat", "/app/count"]
EOF
echo "bench_build: context $size MB in $files files; Dockerfile of 10 steps after FROM" >&2

have_podman=
if ! command -v podman >/dev/null; then
    echo "bench_build: podman is not installed: only berth is measured" >&2
elif ! command -v runc >/dev/null; then
    echo "bench_build: runc is not installed (podman's crun refuses hybrid cgroups): only berth is measured" >&2
else
    have_podman=1
    pm=(podman --root "$tmp/podman" --runroot "$tmp/podman-run" --storage-driver overlay --runtime runc)
fi

now() { date +%s.%N; }
berth_round() { # prints "cold_s cold_rss_kib cached_s cached_rss_kib"
    local store=$tmp/store out id1 id2 cold warm
    export BERTH_ROOT=$store BERTH_RUNROOT=$tmp/run
    "$berth" load -q -i "$tmp/base.tar" >/dev/null
    out=$(/usr/bin/time -o "$tmp/time" -f '%e %M' "$berth" image build -q -t bench/app:1 \
        -f "$tmp/df/Dockerfile" "$tmp/ctx" 2>"$tmp/berth.err") ||
        { echo "bench_build: berth image build failed: $(cat "$tmp/berth.err")" >&2; exit 1; }
    id1=$out
    cold=$(cat "$tmp/time")
    out=$(/usr/bin/time -o "$tmp/time" -f '%e %M' "$berth" image build -q -t bench/app:1 \
        -f "$tmp/df/Dockerfile" "$tmp/ctx" 2>"$tmp/berth.err") ||
        { echo "bench_build: berth image build (cached) failed: $(cat "$tmp/berth.err")" >&2; exit 1; }
    id2=$out
    warm=$(cat "$tmp/time")
    [ "$id1" = "$id2" ] || echo "bench_build: WARNING: the cached rebuild gave another image ($id1, $id2)" >&2
    echo "$cold $warm"
    rm -rf "$store" "$tmp/run"
    unset BERTH_ROOT BERTH_RUNROOT
}
podman_round() { # prints "cold_s cached_s"
    local t0 t1 t2
    "${pm[@]}" load -q -i "$tmp/base.tar" >/dev/null 2>&1
    t0=$(now)
    "${pm[@]}" build -q -t bench/app:1 -f "$tmp/df/Dockerfile" "$tmp/ctx" >/dev/null 2>"$tmp/podman.err" ||
        { echo "bench_build: podman build failed: $(cat "$tmp/podman.err")" >&2; exit 1; }
    t1=$(now)
    "${pm[@]}" build -q -t bench/app:1 -f "$tmp/df/Dockerfile" "$tmp/ctx" >/dev/null 2>"$tmp/podman.err" ||
        { echo "bench_build: podman build (cached) failed: $(cat "$tmp/podman.err")" >&2; exit 1; }
    t2=$(now)
    printf '%.2f %.3f\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
    pm_reset
}

declare -a B_COLD B_WARM RSS P_COLD P_WARM
for r in $(seq 1 "$rounds"); do
    berth_round >"$tmp/res" # (not in a subshell: a failure ends the bench)
    read -r bc_s bc_m bw_s bw_m <"$tmp/res"
    B_COLD+=("$bc_s") B_WARM+=("$bw_s") RSS+=("$bc_m" "$bw_m")
    line="round $r: berth cold $bc_s s (peak RSS $((bc_m / 1024)) MiB), cached $bw_s s"
    if [ -n "$have_podman" ]; then
        podman_round >"$tmp/res"
        read -r pc pw <"$tmp/res"
        P_COLD+=("$pc") P_WARM+=("$pw")
        line+="; podman cold $pc s, cached $pw s"
    fi
    echo "$line" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
max() { printf '%s\n' "$@" | sort -g | tail -n1; }
mbc=$(median "${B_COLD[@]}") mbw=$(median "${B_WARM[@]}")
printf 'median of %d rounds: berth cold %.2f s, cached %.3f s' "$rounds" "$mbc" "$mbw"
if [ -n "$have_podman" ]; then
    mpc=$(median "${P_COLD[@]}") mpw=$(median "${P_WARM[@]}")
    printf '; podman cold %.2f s, cached %.3f s\n' "$mpc" "$mpw"
    printf 'cold build berth / podman: %.2f (goal <= 1)\n' "$(echo "$mbc / $mpc" | bc -l)"
    printf 'cached rebuild podman / berth: %.1f (goal >= 10)\n' "$(echo "$mpw / $mbw" | bc -l)"
else
    printf '\npodman build: not measured (podman or runc is not installed)\n'
fi
printf 'berth peak RSS: %.1f MiB (the largest of the builds)\n' "$(echo "$(max "${RSS[@]}") / 1024" | bc -l)"
