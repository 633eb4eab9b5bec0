#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_cmd_funclen.sh DIR [MAX]: no function in DIR/*.c and DIR/ui/*.c (the
# command layer) has a body longer than MAX lines (default 120). With the
# Linux brace style a function's body runs from a `{` at column 0 to the
# next `}` at column 0.
# It measures lines between the braces, not statements; it does not look at
# the engine, nor at tables (a `{` after `=` is not at column 0). The
# function is named by the last line starting at column 0 before the `{`.
set -euo pipefail
dir=${1:?usage: lint_cmd_funclen.sh DIR [MAX]}
max=${2:-120}
shopt -s nullglob
files=("$dir"/*.c "$dir"/ui/*.c)
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C files under $dir" >&2; exit 1; }
out=$(awk -v max="$max" '
    FNR == 1 { open = 0 }
    /^[A-Za-z_]/ { head = $0 }
    /^\{/ { open = FNR; name = head; next }
    /^\}/ && open {
        len = FNR - open - 1
        sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); fn = w[n]
        if (len > longest) { longest = len; longest_name = FILENAME ": " fn }
        if (len > max) printf "FAIL: %s: %s() has a %d-line body (at most %d)\n", FILENAME, fn, len, max
        count++
        open = 0
    }
    END { printf "%d functions, the longest %s() at %d lines\n", count, longest_name, longest }
' "${files[@]}")
echo "$out"
if grep -q '^FAIL:' <<<"$out"; then exit 1; fi
