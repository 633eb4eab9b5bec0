#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the man page: the hand-written doc/berth.1.scd with the option and
# command sections berth prints from its command table in place of the
# @GENERATED@ line, through scdoc. Usage: mkman.sh BERTH SOURCE OUTPUT
set -euo pipefail
berth=$1 src=$2 out=$3
"$berth" help --man-source >"$out.gen.scd"
sed -e "/^@GENERATED@\$/{r $out.gen.scd" -e 'd}' "$src" | scdoc >"$out.tmp"
mv "$out.tmp" "$out"
rm -f "$out.gen.scd"
