#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds the normal and the
# ASan+UBSan configurations, and runs every test (unit and integration, as
# root) in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh --sanitize
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
(cd build && ctest --output-on-failure -j2) || rc=1
(cd build-asan && ctest --output-on-failure -j2) || rc=1
exit $rc
