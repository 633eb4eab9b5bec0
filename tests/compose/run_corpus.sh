#!/usr/bin/env bash
# The compose corpus: every directory under good/ is a project whose
# `berth config --format json` output must equal its expected.json byte for
# byte (the project's own path is written @DIR@ there), and whose YAML
# output must load back to the same project; every file under bad/ must be
# refused with each "# error: " line of its header in the message.
#
# Usage: run_corpus.sh BERTH [--update]   (--update rewrites expected.json)
set -u
berth=$1
update=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A fixed environment: the corpus must not depend on the caller's.
run() {
    env -i HOME=/home/corpus PATH=/usr/bin:/bin LC_ALL=C "$@"
}
pass=0
failed=0
fail() {
    echo "FAIL $1: $2"
    failed=$((failed + 1))
}

for d in "$here"/good/*/; do
    d=${d%/}
    name=$(basename "$d")
    if ! out=$(cd "$d" && run "$berth" config --format json 2>"$tmp/err"); then
        fail "$name" "berth config failed: $(cat "$tmp/err")"
        continue
    fi
    out=${out//"$d"/@DIR@}
    if [ "$update" = --update ]; then
        printf '%s\n' "$out" >"$d/expected.json"
    fi
    if [ "$out" != "$(cat "$d/expected.json")" ]; then
        fail "$name" "output differs from expected.json:"
        diff <(printf '%s\n' "$out") "$d/expected.json" | head -20
        continue
    fi
    # Round trip: the YAML output, read back, gives the same project.
    (cd "$d" && run "$berth" config >"$tmp/rt.yaml" 2>/dev/null)
    if ! again=$(cd "$d" && run "$berth" -f "$tmp/rt.yaml" --project-directory "$d" \
        config --format json 2>"$tmp/err"); then
        fail "$name" "its config output does not load: $(cat "$tmp/err")"
        continue
    fi
    again=${again//"$d"/@DIR@}
    if [ "$again" != "$out" ]; then
        fail "$name" "config output read back differs:"
        diff <(printf '%s\n' "$out") <(printf '%s\n' "$again") | head -20
        continue
    fi
    pass=$((pass + 1))
done

for f in "$here"/bad/*.yaml; do
    name=$(basename "$f" .yaml)
    mkdir -p "$tmp/bad/$name"
    cp "$f" "$tmp/bad/$name/compose.yaml"
    if (cd "$tmp/bad/$name" && run "$berth" config >/dev/null 2>"$tmp/err"); then
        fail "$name" "accepted, expected an error"
        continue
    fi
    ok=1
    while IFS= read -r line; do
        want=${line#\# error: }
        if ! grep -qF -- "$want" "$tmp/err"; then
            fail "$name" "missing [$want] in: $(cat "$tmp/err")"
            ok=0
            break
        fi
    done < <(grep '^# error: ' "$f")
    [ $ok = 1 ] && pass=$((pass + 1))
done

echo "compose corpus: $pass passed, $failed failed"
[ "$failed" = 0 ]
