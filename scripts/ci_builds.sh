#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compile-only builds, warnings as errors (BERTH_WERROR), each in its own
# tree build-ci-COMPILER-TYPE: GCC in the four CMake build types (-O0, -O2,
# -O3, -Os: GCC's flow-based warnings differ by level) and clang in one.
# Every target is built (berth, the unit tests, the test helpers); nothing
# runs. One line per build; exits non-zero if any failed, after trying all.
#
#   scripts/ci_builds.sh [COMPILER:TYPE...]   default: the five below
set -uo pipefail
cd "$(dirname "$0")/.."
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(gcc:Debug gcc:RelWithDebInfo gcc:Release gcc:MinSizeRel clang:Release)
rc=0
lines=()
for spec in "${specs[@]}"; do
    cc=${spec%%:*} type=${spec#*:}
    dir=build-ci-$cc-${type,,}
    log=$dir/ci.log
    mkdir -p "$dir"
    t0=$SECONDS
    if cmake -S . -B "$dir" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE="$type" \
        -DBERTH_WERROR=ON >"$log" 2>&1 && cmake --build "$dir" >>"$log" 2>&1; then
        lines+=("compile $cc $type: ok ($((SECONDS - t0)) s, $dir)")
    else
        grep -E 'error|warning' "$log" | head -20 >&2
        lines+=("compile $cc $type: FAILED ($((SECONDS - t0)) s, log in $log)")
        rc=1
    fi
done
printf '%s\n' "${lines[@]}"
exit $rc
