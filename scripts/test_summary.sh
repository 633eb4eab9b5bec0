#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_summary.sh BUILD_DIR CTEST_OUTPUT: one line for a build's test run:
# passed / failed / skipped, naming the failed and the skipped tests, and a
# line per test that passed with checks skipped inside it (lib.sh's
# skip_check; finish() prints them as "    SKIPPED: why").
set -euo pipefail
dir=$1
log=$2
names() { sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | paste -sd' ' -; }
passed=$(grep -E 'Test +#[0-9]+: .* Passed ' "$log" | names || true)
failed=$(grep -E 'Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception|Not Run)' "$log" | names || true)
skipped=$(grep -E 'Test +#[0-9]+: .*\*\*\*Skipped' "$log" | names || true)
count() { if [ -z "$1" ]; then echo 0; else wc -w <<<"$1"; fi; }
line="$dir: $(count "$passed") passed, $(count "$failed") failed"
[ -z "$failed" ] || line+=" ($failed)"
line+=", $(count "$skipped") skipped"
[ -z "$skipped" ] || line+=" ($skipped)"
echo "$line"
# Checks skipped inside tests that ran (and passed): from ctest's full log.
last=$dir/Testing/Temporary/LastTest.log
[ -f "$last" ] || exit 0
awk '/^[0-9]+\/[0-9]+ Test: / { t = $3 }
     /^    SKIPPED: / { sub(/^    SKIPPED: /, ""); print "  " t ": check skipped: " $0 }' "$last"
