#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one cmocka program for ctest. cmocka's skip() exits 0, which ctest
# would count as a pass: a program with no failure but a skipped test
# exits 77 here (SKIP_RETURN_CODE), so ctest shows it as skipped and
# scripts/test.sh names it. A failure always wins over a skip (ctest's
# SKIP_REGULAR_EXPRESSION would hide a failing run that also skipped).
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || exit "$rc"
if grep -q '^\[  SKIPPED \] ' "$out"; then
    echo "SKIPPED: $(grep '^\[  SKIPPED \] ' "$out" | grep -v ' test(s), listed below' |
        sed 's/^\[  SKIPPED \] //' | sort -u | paste -sd, -)"
    exit 77
fi
exit 0
