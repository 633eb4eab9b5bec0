#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_headers.sh SRC_DIR: every source file the project owns says its
# licence and every C file says what it is. Of git's tracked files, each
# .c, .h, .S, .sh, .py, CMakeLists.txt and .cmake file outside test data
# (the compose corpus's projects, the fuzz corpora) must carry the SPDX
# line first (second after a shebang), and each .c file must open with a
# comment right after it. Not here: what the comment says (review's job),
# licence texts of dependencies (scripts/deps.sh, lint_link_deps.sh).
set -euo pipefail
src=${1:?usage: lint_headers.sh SRC_DIR}
# Only reads the file list: a tree owned by another user (a build as root)
# is still listed rather than refused as "dubious ownership".
git() { command git -c safe.directory='*' "$@"; }
if ! command -v git >/dev/null || ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "lint_headers: $src is not a git work tree; skipped" >&2
    exit 77
fi
c_spdx='/* SPDX-License-Identifier: Apache-2.0 */'
sh_spdx='# SPDX-License-Identifier: Apache-2.0'
fail=0 n=0
while IFS= read -r -d '' f; do
    case "$f" in
    tests/compose/*/* | tests/fuzz/corpus*) continue ;;
    *.c | *.h | *.S | *.sh | *.py | *.cmake | CMakeLists.txt | */CMakeLists.txt) ;;
    *) continue ;;
    esac
    [ -f "$src/$f" ] || continue # deleted in the work tree, not yet committed
    n=$((n + 1))
    l1= l2=
    { IFS= read -r l1 || true; IFS= read -r l2 || true; } <"$src/$f"
    case "$f" in
    *.c | *.h | *.S)
        if [ "$l1" != "$c_spdx" ]; then
            echo "FAIL: $f: line 1 is not '$c_spdx'" >&2
            fail=$((fail + 1))
        elif [[ $f == *.c ]] && { [[ $l2 != '/*'* ]] || [[ $l2 == '/* clang-format'* ]]; }; then
            echo "FAIL: $f: no opening comment after the SPDX line (what the file holds and what not)" >&2
            fail=$((fail + 1))
        fi
        ;;
    *)
        if [[ $l1 == '#!'* ]]; then
            spdx=$l2 where='line 2 (after the shebang)'
        else
            spdx=$l1 where='line 1'
        fi
        if [ "$spdx" != "$sh_spdx" ]; then
            echo "FAIL: $f: $where is not '$sh_spdx'" >&2
            fail=$((fail + 1))
        fi
        ;;
    esac
done < <(git -C "$src" ls-files -z)
if [ "$fail" -gt 0 ]; then
    echo "FAIL: $fail of $n source files lack their header" >&2
    exit 1
fi
echo "$n source files carry the SPDX line; every .c file opens with a comment"
