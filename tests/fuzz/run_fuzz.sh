#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
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
# The fuzzer's own status is kept (under pipefail a failing run would end
# this script before its artifacts are shown); its log is cut to the first
# report (where the stack is) and the closing lines.
rc=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" corpus >"$work/log" 2>&1 || rc=$?
grep -a -m1 -A40 -E '^==[0-9]+==|runtime error|deadly signal|^ALARM|out-of-memory' "$work/log" || true
tail -25 "$work/log"
if [ "$rc" -ne 0 ] || ls "$work/artifacts/"* >/dev/null 2>&1; then
    echo "fuzzer exited $rc; artifacts:"
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
