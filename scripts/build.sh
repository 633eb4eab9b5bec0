#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds berth into build/ (and, with --sanitize, an ASan+UBSan build into
# build-asan/), with warnings as errors (BERTH_WERROR): these are the
# project's own builds.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_WERROR=ON >/dev/null
cmake --build build
if [ "${1:-}" = --sanitize ]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON -DBERTH_WERROR=ON >/dev/null
    cmake --build build-asan
fi
