#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_project_names.sh DIR: every integration test uses project names of
# its own. Cgroups, run state and the leak check are per project name
# within a store, and two tests' containers with one name make each other's
# checks lie, so a name used by two test scripts fails this lint, naming
# both. Names are found where a test makes or names a project: new_project
# NAME, -p/--project-name NAME and COMPOSE_PROJECT_NAME=NAME on lines that
# run berth, and a compose file's top-level `name: NAME`.
set -euo pipefail
dir=${1:?usage: lint_project_names.sh DIR}
names() { # names FILE: one project name a line
    local f=$1
    grep -oE '(^|[^a-zA-Z_])new_project +[a-z0-9][a-z0-9_-]*' "$f" | sed -E 's/.*new_project +//' || true
    grep -E '"\$BERTH"|\$BERTH |(^|[^a-z_])bz ' "$f" | grep -vE '^[[:space:]]*#' |
        grep -oE '(^|[[:space:]])(-p|--project-name)[ =][a-z0-9][a-z0-9_-]*([[:space:]]|$)' |
        sed -E 's/.*(-p|--project-name)[ =]//; s/[[:space:]]*$//' || true
    grep -oE 'COMPOSE_PROJECT_NAME=[a-z0-9][a-z0-9_-]*' "$f" | sed 's/.*=//' || true
    grep -E '^name: *[a-z0-9][a-z0-9_-]*[[:space:]]*$' "$f" | sed -E 's/^name: *//; s/[[:space:]]*$//' || true
    return 0
}
seen=$(mktemp)
trap 'rm -f "$seen"' EXIT
n=0
for f in "$dir"/test_*.sh; do
    names "$f" | sort -u | sed "s|\$| ${f##*/}|" >>"$seen"
    n=$((n + 1))
done
dups=$(awk '{ files[$1] = files[$1] " " $2; count[$1]++ }
            END { for (p in count) if (count[p] > 1) print "project \"" p "\" is used by" files[p] }' "$seen" | sort)
if [ -n "$dups" ]; then
    printf 'FAIL: %s\n' "$dups" >&2
    exit 1
fi
echo "$(cut -d' ' -f1 "$seen" | sort -u | wc -l) project names in $n test scripts, each used by one"
