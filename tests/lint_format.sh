#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_format.sh SRC_DIR: every git-tracked .c and .h file is formatted as
# the project's .clang-format says (clang-format --dry-run --Werror, one
# diagnostic per misformatted spot). Not checked: scripts, CMake, docs.
set -euo pipefail
src=${1:?usage: lint_format.sh SRC_DIR}
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
    echo "SKIPPED: no $cf (scripts/deps.sh installs it)"
    exit 77
fi
if ! files=$(git -C "$src" ls-files '*.c' '*.h' 2>/dev/null) || [ -z "$files" ]; then
    echo "SKIPPED: $src is not a git checkout: no list of tracked files"
    exit 77
fi
cd "$src"
if ! printf '%s\n' "$files" | xargs -d '\n' "$cf" --dry-run --Werror 2>&1; then
    echo "FAIL: files above are not formatted as .clang-format says (run $cf -i on them)"
    exit 1
fi
echo "ok: $(printf '%s\n' "$files" | wc -l) files formatted ($("$cf" --version))"
