#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: installs dependencies, compiles berth in every
# build type with GCC and in one with clang (warnings as errors), builds the
# normal and the ASan+UBSan configurations, and runs every test (unit and
# integration, as root) in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Compile-only builds (scripts/ci_builds.sh). GCC RelWithDebInfo is not
# among them: build/ below is that build (all targets, BERTH_WERROR on),
# and a failure there stops this script.
ci_rc=0
ci_summary=$(bash scripts/ci_builds.sh gcc:Debug gcc:Release gcc:MinSizeRel clang:Release) || ci_rc=$?
printf '%s\n' "$ci_summary"
bash scripts/build.sh --sanitize
ci_summary+=$'\ncompile gcc RelWithDebInfo: ok (build/, the test build)'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
summary=()
for b in build build-asan; do
    set +e
    (cd "$b" && ctest --output-on-failure -j2) 2>&1 | tee "$b/ctest.out"
    [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
    set -e
    summary+=("$(bash scripts/test_summary.sh "$b" "$b/ctest.out")")
done
# The compose loader, the layer extractor, the image index, the DNS wire
# format and the Dockerfile front end under libFuzzer (clang) for a bounded time
# (BERTH_FUZZ_SECONDS, default 60 for compose, half of it for each of the
# others), from the committed corpora.
if command -v clang >/dev/null; then
    cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DBERTH_FUZZ=ON -DBERTH_WERROR=ON -DBERTH_FUZZ_SECONDS="${BERTH_FUZZ_SECONDS:-60}" >/dev/null &&
        cmake --build build-fuzz --target fuzz_compose fuzz_tar fuzz_index fuzz_dns fuzz_dockerfile &&
        (cd build-fuzz && ctest -R '^fuzz\.(compose|tar|index|dns|dockerfile)\.run$' --output-on-failure) || rc=1
fi
printf '%s\n' "$ci_summary" "${summary[@]}"
[ "$ci_rc" -eq 0 ] || rc=1
exit $rc
