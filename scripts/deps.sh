#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages berth needs to build, test and run its demo.
# Idempotent; needs root. `deps.sh --list` prints the names, one a line, and
# installs nothing (lint.link_deps checks every library berth links against
# them). Every library on a link line needs its -dev package here, also the
# ones a static archive (libarchive.a, libcrypto.a) pulls in.
set -euo pipefail
pkgs=(
    build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
    libyaml-dev libjansson-dev libarchive-dev
    libnl-3-dev libnl-route-3-dev libuv1-dev libssl-dev libseccomp-dev
    libnftables-dev libcmocka-dev liblz4-dev libacl1-dev libcurl4-openssl-dev
    libzstd-dev libbz2-dev zlib1g-dev libxml2-dev liblzma-dev nettle-dev
    busybox-static zstd gzip tar iproute2 procps util-linux mount crun bc python3 strace
    docker-registry skopeo  # test_pull: a registry on loopback, images pushed into it
    nftables  # nft: the tests' check that down left no table
    scdoc man-db groff-base file dpkg-dev zsh fish  # man page, .deb, completion tests
    # berth@.service's test: systemd-analyze verifies it, a systemd user manager runs it
    systemd
)
if [ "${1:-}" = --list ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # docker-registry is for the tests, which start their own on loopback:
    # its package would start one on every address of the host, now and at
    # each boot. Not when this script installs it (policy-rc.d keeps the
    # install from starting it; the unit is disabled).
    registry=
    case " ${missing[*]} " in *" docker-registry "*) registry=1 ;; esac
    norc=
    if [ -n "$registry" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        norc=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if [ -n "$norc" ]; then
        rm -f /usr/sbin/policy-rc.d
        trap - EXIT
    fi
    if [ -n "$registry" ] && [ -d /run/systemd/system ]; then
        systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    fi
fi
