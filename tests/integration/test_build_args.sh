#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `berth build`, `berth image build` and up's --build/--no-build refuse bad
# input before the builder runs: wrong flags, unknown services, what berth
# will not build (a URL context, privileged: true, another platform, a
# missing context), each named with the compose file's place; nothing is
# made. Services without build: are skipped; the default image name is
# PROJECT-SERVICE. (The builds themselves: test_build_compose.sh.)
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# expect_rc NAME RC NEEDLE PROJECT ARGS...: berth fails with RC and says NEEDLE
expect_rc() {
    local what=$1 want=$2 needle=$3 p=$4 out rc=0
    shift 4
    out=$(bz "$p" "$@" 2>&1) || rc=$?
    expect_eq "$what: exit status" "$rc" "$want"
    expect_contains "$what" "$out" "$needle"
}

case $(uname -m) in
x86_64) other=linux/arm64 ;;
*) other=linux/amd64 ;;
esac

dir=$(new_project bargs <<EOF
services:
  Web:
    build:
      context: ./app
      args: [A=1]
    depends_on: [db]
  db:
    image: busybox
    command: ["true"]
  priv:
    build:
      context: ./app
      privileged: true
    profiles: [x]
  remote:
    build: https://example.com/repo.git#main
    profiles: [x]
  arm:
    build:
      context: ./app
      platforms: [$other]
    profiles: [x]
  gone:
    build: ./no-such-dir
    profiles: [x]
EOF
)
mkdir -p "$dir/app"

expect_rc "an unknown flag is a usage error" 2 "unknown flag" bargs build --bogus
expect_rc "an empty --build-arg is a usage error" 2 'invalid --build-arg ""' bargs build --build-arg ""
expect_rc "an unknown service is named" 1 "no such service: nosuch" bargs build nosuch
expect_rc "privileged: true is refused with its place" 1 \
    'compose.yaml:13:7: service "priv": build.privileged is not supported (RUN steps with every privilege); refusing to build it' \
    bargs --profile x build priv
expect_rc "a URL context is refused with its place" 1 \
    'compose.yaml:16:5: service "remote": build context "https://example.com/repo.git#main" is a URL; berth builds from a local directory only' \
    bargs --profile x build remote
expect_rc "another platform is refused, named" 1 \
    "compose.yaml:21:18: service \"arm\": build.platforms: cannot build for $other on this" \
    bargs --profile x build arm
expect_rc "a missing context is named" 1 \
    "compose.yaml:24:5: service \"gone\": build context \"$dir/no-such-dir\" is not a directory (it does not exist)" \
    bargs --profile x build gone
expect_rc "--build and --no-build exclude each other" 2 "--build and --no-build are incompatible" \
    bargs up --build --no-build
expect_rc "--no-build with the image missing is an error" 1 \
    'service "Web": image "bargs-web" is not in the store, and --no-build forbids building it' \
    bargs up -d --no-build
check "--no-build with a missing image creates nothing" \
    test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
expect_rc "up stops at a refused build before anything is made" 1 "build.privileged is not supported" \
    bargs --profile x up -d db priv
check "a refused build creates nothing" test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"

out=$(bz bargs build db 2>&1)
expect_eq "a service without build: is skipped silently" "$out" ""
out=$(bz bargs config --images)
expect_eq "the built image is named PROJECT-SERVICE, lowercase" "$out" "bargs-web
busybox"
out=$(bz bargs push Web 2>&1)
expect_contains "push skips a service with build: and no image:" "$out" "Web Skipped"
out=$(bz bargs pull Web 2>&1)
expect_eq "pull has nothing to pull for it" "$out" ""

new_project bargsinl >/dev/null <<'EOF'
services:
  web:
    build:
      context: .
      dockerfile: Dockerfile
      dockerfile_inline: FROM scratch
EOF
expect_rc "dockerfile and dockerfile_inline exclude each other" 1 \
    'compose.yaml:6:26: service "web" declares mutualy exclusive dockerfile and dockerfile_inline' \
    bargsinl config -q

expect_rc "image build needs a context" 2 "requires exactly 1 argument" bargs image build
expect_rc "image build refuses an invalid tag" 1 'invalid tag "Bad Tag"' bargs image build -t "Bad Tag" .
expect_rc "image build refuses a label without =" 2 'invalid --label (KEY=VALUE): "x"' \
    bargs image build --label x .
expect_rc "image build refuses another platform" 1 "cannot build for $other on this host" \
    bargs image build --platform "$other" .
expect_rc "image build refuses a bad --shm-size" 2 "invalid --shm-size" \
    bargs image build --shm-size lots .

finish
