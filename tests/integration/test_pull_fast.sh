#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pulls that are parallel, streamed, resumable and robust, against Debian's
# docker-registry on 127.0.0.1 behind this test's own proxy (regproxy.py,
# 127.0.0.1 too) that throttles, stalls, cuts connections, answers 503 or
# corrupts a blob: layers in flight at once, contents right (whiteouts,
# opaque directories; gzip and zstd) in a container, a cut transfer resumed
# with a Range request, a SIGKILLed pull resumed by the next, SIGINT leaving
# nothing half-stored, 503 retried, a stall timed out, a corrupt blob
# refused with nothing stored, two pulls at once fetching each blob once,
# and the peak RSS of a pull of a large layer.
# All traffic goes to 127.0.0.1.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

registry_start registry 28000
upstream=${reg#*:}

# --- the images: 4 layers over busybox, gzip and zstd; a large one
mk=$T_DIR/mk
mkdir -p "$mk/l1/data/opq" "$mk/l2/data" "$mk/l3/data/opq" "$mk/l4/data"
echo kept >"$mk/l1/data/kept"
echo gone >"$mk/l1/data/gone"
echo old >"$mk/l1/data/opq/old"
head -c 3000000 /dev/urandom >"$mk/l2/data/random"
touch "$mk/l3/data/.wh.gone" "$mk/l3/data/opq/.wh..wh..opq"
echo new >"$mk/l3/data/opq/new"
echo four >"$mk/l4/data/four"
layers=(--extra "$mk/l1" --extra "$mk/l2" --extra "$mk/l3" --extra "$mk/l4")
mkimg() { # mkimg COMPRESS TAG OUT [EXTRA...]
    local c=$1 t=$2 o=$3
    shift 3
    bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format oci --compress "$c" --tag "$t" "$@" "$o" \
        >/dev/null
}
check "a 5-layer gzip image is made" mkimg gzip fast:gz "$T_DIR/gz.tar" "${layers[@]}"
check "a 5-layer zstd image is made" mkimg zstd fast:zst "$T_DIR/zst.tar" "${layers[@]}"
check "the gzip image is pushed" registry_push "oci-archive:$T_DIR/gz.tar" test/fast:gz
check "the zstd image is pushed" registry_push "oci-archive:$T_DIR/zst.tar" test/fast:zst

manifest() {
    curl -sf -H "Accept: application/vnd.oci.image.manifest.v1+json" \
        "http://$reg/v2/${1%%:*}/manifests/${1#*:}"
}
# layer REPO:TAG N: the digest and size of layer N (from 1).
layer() {
    manifest "$1" | python3 -c 'import json,sys; l=json.load(sys.stdin)["layers"][int(sys.argv[1])-1]; print(l["digest"], l["size"])' "$2"
}
read -r big_digest big_size <<<"$(layer test/fast:gz 3)" # busybox is layer 1
big_hex=${big_digest#sha256:}

# --- the proxy
proxy_pid=
proxy_start() { # proxy_start [OPTIONS...]: sets $px (127.0.0.1:PORT) and $plog
    proxy_stop
    local port=$((28000 + 500 + $$ % 1490))
    while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
    px=127.0.0.1:$port
    plog=$T_DIR/proxy.$((++proxy_n)).log
    python3 "$BERTH_SRC/tests/integration/regproxy.py" "$port" "$upstream" "$plog" "$@" \
        >"$T_DIR/proxy.out" 2>&1 &
    proxy_pid=$!
    wait_until 10 curl -sf -o /dev/null "http://$px/v2/" || fail "the proxy did not start on $px"
}
proxy_stop() {
    [ -z "$proxy_pid" ] || { kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; }
    proxy_pid=
}
proxy_n=0
trap 'proxy_stop; registry_stop_all' EXIT

# plog_query WHAT: facts from the proxy's log (blob requests only).
plog_query() {
    python3 - "$plog" "$1" "${2:-}" <<'PY'
import json, sys
log, what, arg = sys.argv[1], sys.argv[2], sys.argv[3]
start, end = {}, {}
for line in open(log):
    r = json.loads(line)
    (start if r["ev"] == "start" else end)[r["id"]] = r
blobs = [i for i, r in start.items() if "/blobs/" in r["path"] and r["method"] == "GET"]
if what == "overlap":  # most blob requests in flight at one time
    best = 0
    for i in blobs:
        t = start[i]["t"]
        best = max(best, sum(1 for j in blobs if start[j]["t"] <= t < end.get(j, {"t": 1e30})["t"]))
    print(best)
elif what == "max-fetches":  # most GETs of one blob
    n = {}
    for i in blobs:
        n[start[i]["path"]] = n.get(start[i]["path"], 0) + 1
    print(max(n.values()) if n else 0)
else:  # "requests HEX": range status bytes of each GET of that blob
    for i in sorted(blobs):
        if arg in start[i]["path"]:
            print(start[i]["range"] or "-", end.get(i, {}).get("status"), end.get(i, {}).get("bytes"))
PY
}

fresh() { # fresh: an empty store
    rm -rf "$BERTH_ROOT"
}
staging_empty() { [ -z "$(ls -A "$BERTH_ROOT/tmp" 2>/dev/null)" ]; }
no_layers() { [ -z "$(ls -A "$BERTH_ROOT/layers" 2>/dev/null)" ]; }
not_listed() { ! "$BERTH" image ls 2>&1 | grep -q "test/fast"; }

# --- parallel, and the contents right
for tag in gz zst; do
    fresh
    proxy_start --throttle 2000000
    rc=0
    out=$("$BERTH" --progress plain image pull "$px/test/fast:$tag" 2>&1) || rc=$?
    expect_eq "the $tag image is pulled" "$rc" 0
    expect_contains "the pull shows a layer's progress" "$out" "Pull complete"
    expect_contains "the pull ends with docker's status line" "$out" \
        "Status: Downloaded newer image for $px/test/fast:$tag"
    n=$(plog_query overlap)
    check "layers of the $tag image are fetched at once ($n in flight)" test "$n" -ge 3
    new_project "fast$tag" >/dev/null <<EOC
services:
  app:
    image: $px/test/fast:$tag
    network_mode: none
EOC
    rc=0
    out=$(bz "fast$tag" run --rm app sh -c 'cat /data/kept /data/four; ls /data /data/opq' 2>&1) || rc=$?
    expect_eq "a container of the $tag image runs" "$rc" 0
    expect_contains "its files are there ($tag)" "$out" "kept
four"
    expect_not_contains "a whited-out file is gone ($tag)" "$out" "gone"
    expect_not_contains "an opaque directory hides the lower layer's files ($tag)" "$out" "old"
    expect_contains "an opaque directory keeps its own files ($tag)" "$out" "new"
    bz "fast$tag" down -t 1 >/dev/null 2>&1 || true
done

# --- a connection cut after 1 MB: resumed with a Range request
fresh
proxy_start --cut-after 1000000 --only "$big_hex"
rc=0
out=$("$BERTH" --progress plain image pull "$px/test/fast:gz" 2>&1) || rc=$?
expect_eq "a pull whose connection is cut completes" "$rc" 0
expect_contains "it says it retries" "$out" "Retrying in 1 second"
expect_eq "the cut blob is resumed from where it stopped" "$(plog_query requests "$big_hex")" \
    "- 200 1000000
bytes=1000000- 206 $((big_size - 1000000))"

# --- SIGKILL mid-pull: the next pull resumes the partial blob
fresh
proxy_start --throttle 1000000 --only "$big_hex"
"$BERTH" --progress quiet image pull "$px/test/fast:gz" >/dev/null 2>&1 &
bp=$!
part=$BERTH_ROOT/partial/sha256-$big_hex
partial_at_least() { [ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -ge "$1" ]; }
check "the partial blob grows while the pull runs" wait_until 20 partial_at_least 500000
kill -KILL "$bp"
wait "$bp" 2>/dev/null || true
kept=$(stat -c %s "$part" 2>/dev/null || echo 0)
check "a killed pull keeps its partial blob" test "$kept" -gt 0
proxy_start
rc=0
"$BERTH" --progress quiet image pull "$px/test/fast:gz" >/dev/null 2>&1 || rc=$?
expect_eq "the next pull completes" "$rc" 0
req=$(plog_query requests "$big_hex")
expect_eq "it asks only for the bytes the killed pull did not get" "$req" \
    "bytes=$kept- 206 $((big_size - kept))"
check "the partial is gone once the blob is stored" test ! -e "$part"
check "the blob is stored" test -e "$BERTH_ROOT/blobs/sha256/$big_hex"
check "no staging is left" staging_empty

# --- SIGINT during a throttled pull
fresh
proxy_start --throttle 500000 --only "$big_hex"
"$BERTH" --progress plain image pull "$px/test/fast:gz" >"$T_DIR/int.out" 2>&1 &
bp=$!
check "the interrupted pull gets under way" wait_until 20 partial_at_least 200000
kill -INT "$bp"
rc=0
wait "$bp" || rc=$?
expect_eq "SIGINT fails the pull" "$rc" 1
expect_contains "with one line saying so" "$(tail -n 1 "$T_DIR/int.out")" \
    "berth: $px/test/fast: interrupted (SIGINT); the bytes received are kept for the next pull"
check "nothing is left in staging" staging_empty
check "no layer is stored" no_layers
check "no image is listed" not_listed
check "the partial blob is kept" test -s "$part"
proxy_start
rc=0
"$BERTH" --progress quiet image pull "$px/test/fast:gz" >/dev/null 2>&1 || rc=$?
expect_eq "the pull after SIGINT completes" "$rc" 0
check "and resumes the partial blob" eval "plog_query requests $big_hex | grep -q '^bytes=.* 206 '"

# --- 503 twice, then the blob
fresh
proxy_start --fail503 2 --only "$big_hex"
rc=0
out=$("$BERTH" --progress plain image pull "$px/test/fast:gz" 2>&1) || rc=$?
expect_eq "a pull answered 503 twice completes" "$rc" 0
expect_contains "it says why it retries" "$out" "the registry answered HTTP 503"
expect_eq "the blob is asked for three times" "$(plog_query requests "$big_hex" | cut -d' ' -f2 | tr '\n' ' ')" \
    "503 503 200 "

# --- a stall beyond the low-speed limit
fresh
proxy_start --stall-after 0 --only "$big_hex"
rc=0
out=$(BERTH_REGISTRY_LOW_SPEED_TIME=1 "$BERTH" --progress quiet image pull "$px/test/fast:gz" 2>&1) || rc=$?
expect_eq "a stalled pull fails" "$rc" 1
expect_contains "its error names the layer and why" "$out" \
    "layer 3 $big_digest: http://$px: Operation too slow"
expect_contains "after the retries" "$out" "(gave up after 4 tries)"
expect_eq "the error is one line" "$(wc -l <<<"$out")" 1
check "nothing is left in staging after a stall" staging_empty
check "no layer is stored after a stall" no_layers

# --- a corrupt blob
fresh
proxy_start --corrupt --only "$big_hex"
rc=0
out=$("$BERTH" --progress quiet image pull "$px/test/fast:gz" 2>&1) || rc=$?
expect_eq "a corrupt blob fails the pull" "$rc" 1
expect_contains "the error names image, layer and both digests" "$out" \
    "berth: $px/test/fast:gz: layer 3 $big_digest: digest mismatch: the registry sent content hashing to sha256:"
check "the corrupt blob is not stored" test ! -e "$BERTH_ROOT/blobs/sha256/$big_hex"
check "its partial is removed" test ! -e "$part"
check "no layer is stored from a corrupt pull" no_layers
check "no image is listed after a corrupt pull" not_listed
check "nothing is left in staging after a corrupt pull" staging_empty

# --- two pulls of the same image into one store at once
fresh
proxy_start --throttle 2000000
"$BERTH" --progress quiet image pull "$px/test/fast:zst" >"$T_DIR/a.out" 2>&1 &
pa=$!
"$BERTH" --progress quiet image pull "$px/test/fast:zst" >"$T_DIR/b.out" 2>&1 &
pb=$!
ra=0 rb=0
wait "$pa" || ra=$?
wait "$pb" || rb=$?
expect_eq "the first of two pulls at once completes" "$ra" 0
expect_eq "the second of two pulls at once completes" "$rb" 0
expect_eq "each blob is fetched once" "$(plog_query max-fetches)" 1
check "both leave no staging" staging_empty

# --- stale partials: the next writer removes those untouched for a day
old_part=$BERTH_ROOT/partial/sha256-$(printf 'a%.0s' $(seq 64))
new_part=$BERTH_ROOT/partial/sha256-$(printf 'b%.0s' $(seq 64))
echo stale >"$old_part"
touch "$old_part.lock"
touch -d '2 days ago' "$old_part"
echo fresh >"$new_part"
rc=0
"$BERTH" --progress quiet image pull "$px/test/fast:zst" >/dev/null 2>&1 || rc=$?
expect_eq "a pull with stale partials around succeeds" "$rc" 0
check "a partial untouched for two days is removed" test ! -e "$old_part"
check "its lock file too" test ! -e "$old_part.lock"
check "a fresh partial is kept" test -e "$new_part"
rm -f "$new_part"

# --- peak memory of a pull of a large layer
if ldd "$BERTH" 2>/dev/null | grep -q libasan; then
    skip_check "peak RSS: the sanitizer build's memory is not berth's"
elif [ ! -x /usr/bin/time ]; then
    skip_check "peak RSS: /usr/bin/time is not installed"
else
    mkdir -p "$mk/huge"
    head -c 120000000 /dev/urandom >"$mk/huge/blob"
    check "an image with a 120 MB layer is made" mkimg zstd fast:huge "$T_DIR/huge.tar" --extra "$mk/huge"
    rm -rf "$mk/huge"
    check "the large image is pushed" registry_push "oci-archive:$T_DIR/huge.tar" test/fast:huge
    rm -f "$T_DIR/huge.tar"
    fresh
    proxy_stop
    rc=0
    /usr/bin/time -v -o "$T_DIR/time.txt" "$BERTH" --progress quiet image pull "$reg/test/fast:huge" \
        >/dev/null 2>&1 || rc=$?
    expect_eq "the large image is pulled" "$rc" 0
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$T_DIR/time.txt")
    say "peak RSS of a pull of a 120 MB layer: ${kb} kB"
    check "a pull of a 120 MB layer peaks under 30 MB ($kb kB)" test "${kb:-999999}" -lt 30720
fi

proxy_stop
registry_stop_all
trap - EXIT
finish
