#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages, builds berth, makes the demo image from
# busybox-static (no network needed), and brings up examples/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
img=build/demo-busybox.tar
[ -f "$img" ] || bash scripts/mkimage-busybox.sh --format docker --tag busybox:latest "$img"
build/berth load -i "$img"
rc=0
build/berth -f examples/demo/compose.yaml up || rc=$?
build/berth -f examples/demo/compose.yaml down
exit $rc
