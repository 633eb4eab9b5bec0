#!/usr/bin/env bash
# Runs a fuzzer for a bounded time, starting from the committed
# corpus (copied: new inputs stay out of the source tree). Any crash, leak,
# sanitizer report or input slower than 10 s fails the run.
# Usage: run_fuzz.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer=$1
seeds=$2
secs=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
cd "$work"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" corpus 2>&1 | tail -25
if ls "$work/artifacts/"* >/dev/null 2>&1; then
    echo "fuzzer artifacts:"
    ls -l "$work/artifacts/"
    # Kept for a replay (BERTH_FUZZ_KEEP, default the build's temp dir),
    # and small ones printed, so a CI log alone reproduces the failure.
    keep=${BERTH_FUZZ_KEEP:-${TMPDIR:-/tmp}}
    cp "$work/artifacts/"* "$keep/" && echo "copied to $keep"
    for f in "$work/artifacts/"*; do
        [ "$(stat -c %s "$f")" -le 4096 ] && { echo "base64 of $(basename "$f"):"; base64 "$f"; }
    done
    exit 1
fi
echo "$(basename "$fuzzer"): 1 passed, 0 failed"
