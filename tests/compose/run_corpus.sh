#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The compose corpus: every directory under good/ is a project whose
# `berth config --format json` output must equal its expected.json byte for
# byte (the project's own path is written @DIR@ there), whose YAML output
# must load back to the same project, and whose YAML and JSON outputs, each
# read back, must print byte for byte the same again; every file under bad/ must be
# refused with each "# error: " line of its header in the message.
#
# Usage: run_corpus.sh BERTH [--update [--create]]
#
# --update rewrites an expected.json that differs from berth's output and
# prints the diff of each file it rewrites: read every line of it against
# docker compose's behaviour before committing (see README). It never
# makes an expected.json that does not exist yet unless --create is given
# too, and then prints the whole new file: a new expected output is
# reviewed line by line, never taken on trust. Without flags, nothing is
# written.
set -u
berth=$1
shift
update=
create=
for a in "$@"; do
    case $a in
    --update) update=1 ;;
    --create) create=1 ;;
    *)
        echo "run_corpus.sh: unknown argument $a (use --update [--create])" >&2
        exit 2
        ;;
    esac
done
if [ -n "$create" ] && [ -z "$update" ]; then
    echo "run_corpus.sh: --create goes with --update" >&2
    exit 2
fi
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

# berth's JSON for the project in directory $1 (more args go before
# `config`), its path written @DIR@, into file $2; every byte kept, the
# trailing newline too.
config_json() {
    local dir=$1 to=$2 raw
    shift 2
    raw=$(cd "$dir" && run "$berth" "$@" config --format json 2>"$tmp/err" && printf x) || return 1
    raw=${raw%x}
    printf '%s' "${raw//"$dir"/@DIR@}" >"$to"
}

for d in "$here"/good/*/; do
    d=${d%/}
    name=$(basename "$d")
    if ! config_json "$d" "$tmp/out.json"; then
        fail "$name" "berth config failed: $(cat "$tmp/err")"
        continue
    fi
    # config runs nothing: what is not supported yet is for up and run to say.
    if grep -q "not supported yet" "$tmp/err"; then
        fail "$name" "config warned about what is not supported yet: $(grep -m1 "not supported yet" "$tmp/err")"
        continue
    fi
    if [ ! -f "$d/expected.json" ]; then
        if [ -z "$create" ]; then
            fail "$name" "no expected.json (write it by hand, or --update --create and review it)"
            continue
        fi
        cp "$tmp/out.json" "$d/expected.json"
        echo "CREATED $name/expected.json from berth's output; review every line:"
        cat "$d/expected.json"
    elif [ -n "$update" ] && ! cmp -s "$tmp/out.json" "$d/expected.json"; then
        echo "UPDATED $name/expected.json; review this diff:"
        diff -u "$d/expected.json" "$tmp/out.json" | sed '1,2d'
        cp "$tmp/out.json" "$d/expected.json"
    fi
    # Byte for byte, the trailing newline included.
    if ! cmp -s "$tmp/out.json" "$d/expected.json"; then
        fail "$name" "output differs from expected.json:"
        diff "$tmp/out.json" "$d/expected.json" | head -20
        cmp "$tmp/out.json" "$d/expected.json"
        continue
    fi
    # Round trip: the YAML output, read back, gives the same project.
    (cd "$d" && run "$berth" config >"$tmp/rt.yaml" 2>/dev/null)
    if ! config_json "$d" "$tmp/again.json" -f "$tmp/rt.yaml" --project-directory "$d"; then
        fail "$name" "its config output does not load: $(cat "$tmp/err")"
        continue
    fi
    if ! cmp -s "$tmp/again.json" "$tmp/out.json"; then
        fail "$name" "config output read back differs:"
        diff "$tmp/out.json" "$tmp/again.json" | head -20
        continue
    fi
    # Each output is a fixed point: the YAML read back prints the same YAML
    # byte for byte, and the JSON read back the same JSON.
    (cd "$d" && run "$berth" -f "$tmp/rt.yaml" --project-directory "$d" config >"$tmp/rt2.yaml" 2>/dev/null)
    if ! cmp -s "$tmp/rt.yaml" "$tmp/rt2.yaml"; then
        fail "$name" "its YAML output read back prints differently:"
        diff "$tmp/rt.yaml" "$tmp/rt2.yaml" | head -20
        continue
    fi
    (cd "$d" && run "$berth" config --format json >"$tmp/rt.json" 2>/dev/null)
    if ! config_json "$d" "$tmp/again2.json" -f "$tmp/rt.json" --project-directory "$d" ||
        ! cmp -s "$tmp/again2.json" "$tmp/out.json"; then
        fail "$name" "its JSON output read back prints differently: $(cat "$tmp/err")"
        diff "$tmp/out.json" "$tmp/again2.json" | head -20
        continue
    fi
    # And the JSON read back prints the same YAML: the two outputs are one
    # project in two notations (extensions in the same order, too). Not
    # where objects carry x- keys: docker compose's JSON leaves those out.
    (cd "$d" && run "$berth" -f "$tmp/rt.json" --project-directory "$d" config >"$tmp/rt3.yaml" 2>/dev/null)
    if ! grep -qE '^ +x-' "$tmp/rt.yaml" && ! cmp -s "$tmp/rt.yaml" "$tmp/rt3.yaml"; then
        fail "$name" "its JSON output read back prints other YAML:"
        diff "$tmp/rt.yaml" "$tmp/rt3.yaml" | head -20
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
