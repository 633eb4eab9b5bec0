#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Building from compose files, end to end, from the busybox image the
# fixtures make: build: in its long form (dockerfile, target, args,
# labels) and dockerfile_inline; `berth build` and its last lines; `up`
# building a missing image and running its CMD; `up --build` recreating a
# container whose image changed and keeping one whose image did not;
# pull_policy: build; run --build; --no-build with a missing image; a
# failing build stopping up with nothing made; services sharing one image
# built once; build --with-dependencies and --push (to a loopback
# registry); `berth image build` with -t, --target, -q and a
# Dockerfile on standard input. RUN steps use no network (network: none).
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

probe=$("$BERTH" image build - </dev/null 2>&1) || true
case $probe in
*"being written"*) skip "the builder is not in this build yet" ;;
esac

dir=$(new_project bcomp <<'EOF'
services:
  web:
    build:
      context: ./app
      dockerfile: Dockerfile.web
      target: final
      network: none
      args:
        GREETING: hello-from-args
      labels:
        com.example.built-by: berth-test
    stop_signal: SIGKILL
  inline:
    build:
      dockerfile_inline: |
        FROM busybox
        CMD ["sh", "-c", "echo inline-ok; exec sleep 1000"]
    stop_signal: SIGKILL
  pol:
    build:
      context: ./app
      dockerfile: Dockerfile.web
      target: final
      network: none
    pull_policy: build
    stop_signal: SIGKILL
  one:
    image: bcomp-shared:1
    build: {context: ./shared, network: none}
    profiles: [shared]
  two:
    image: bcomp-shared:1
    build: {context: ./shared, network: none}
    profiles: [shared]
EOF
)
mkdir -p "$dir/app" "$dir/shared"
cat >"$dir/app/Dockerfile.web" <<'EOF'
FROM busybox AS base
ARG GREETING=unset
RUN echo "$GREETING" > /greeting
FROM base AS final
COPY data.txt /data.txt
CMD ["sh", "-c", "cat /greeting /data.txt; exec sleep 1000"]
FROM base AS other
CMD ["echo", "wrong-stage"]
EOF
echo data-v1 >"$dir/app/data.txt"
printf 'FROM busybox\nCMD ["true"]\n' >"$dir/shared/Dockerfile"

# --- berth build --------------------------------------------------------------
rc=0
out=$(bz bcomp build web 2>&1) || rc=$?
expect_eq "berth build web succeeds" "$rc" 0
[ "$rc" -eq 0 ] || printf '%s\n' "$out" | sed 's/^/    | /' >&2
expect_contains "berth build ends with compose's line" "$out" " Service web  Built"
labels=$("$BERTH" image inspect -f '{{json .Config.Labels}}' bcomp-web 2>&1)
expect_contains "build.labels are on the image" "$labels" '"com.example.built-by":"berth-test"'
cmd=$("$BERTH" image inspect -f '{{json .Config.Cmd}}' bcomp-web 2>&1)
expect_contains "build.target chose the stage" "$cmd" 'cat /greeting /data.txt'
out=$(cd "$dir" && "$BERTH" build -q web 2>/dev/null)
expect_eq "build -q prints nothing on stdout" "$out" ""

# --- up: the missing image is built, the container runs the built CMD --------
rc=0
out=$(bz bcomp up -d web inline 2>&1) || rc=$?
expect_eq "up builds what is missing and starts" "$rc" 0
expect_contains "up built the missing inline image" "$out" " Service inline  Built"
expect_not_contains "up did not rebuild the present web image" "$out" " Service web  Built"
wait_until 10 sh -c "cd '$dir' && '$BERTH' logs web 2>&1 | grep -q data-v1" ||
    fail "web's CMD did not print its files: $(cd "$dir" && "$BERTH" logs web 2>&1)"
logs=$(bz bcomp logs web 2>&1)
expect_contains "the build arg reached the RUN step" "$logs" "hello-from-args"
wait_until 10 sh -c "cd '$dir' && '$BERTH' logs inline 2>&1 | grep -q inline-ok" ||
    fail "dockerfile_inline's CMD did not run: $(cd "$dir" && "$BERTH" logs inline 2>&1)"
pass

expect_contains "ps shows the built image's default name" "$(bz bcomp ps web 2>&1)" "bcomp-web"
expect_contains "image ls lists it" "$("$BERTH" image ls 2>&1)" "bcomp-web"

# --- up --build: recreate only what changed -----------------------------------
id1=$(bz bcomp ps -q web)
in1=$(bz bcomp ps -q inline)
out=$(bz bcomp up -d --build web inline 2>&1) || fail "up --build (nothing changed): $out"
expect_eq "an unchanged up --build keeps web's container" "$(bz bcomp ps -q web)" "$id1"
expect_eq "an unchanged up --build keeps inline's container" "$(bz bcomp ps -q inline)" "$in1"
echo data-v2 >"$dir/app/data.txt"
out=$(bz bcomp up -d --build web inline 2>&1) || fail "up --build (a file changed): $out"
id2=$(bz bcomp ps -q web)
check "a changed context file recreates web" test -n "$id2" -a "$id2" != "$id1"
expect_eq "inline, unchanged, is kept" "$(bz bcomp ps -q inline)" "$in1"
wait_until 10 sh -c "cd '$dir' && '$BERTH' logs web 2>&1 | grep -q data-v2" ||
    fail "the recreated web does not run the new image: $(cd "$dir" && "$BERTH" logs web 2>&1)"
pass

# --- pull_policy: build builds at every up ------------------------------------
out=$(bz bcomp up -d pol 2>&1) || fail "up pol: $out"
expect_contains "pull_policy: build builds at up" "$out" " Service pol  Built"
out=$(bz bcomp up -d pol 2>&1) || fail "up pol again: $out"
expect_contains "pull_policy: build builds at every up" "$out" " Service pol  Built"

# --- services sharing one image build it once ---------------------------------
out=$(bz bcomp --profile shared build one two 2>&1) || fail "build of the shared image: $out"
expect_eq "one image of two services is built once" "$(grep -c ' Built' <<<"$out")" 1
expect_contains "the shared image is built under its image: name" \
    "$("$BERTH" image ls 2>&1)" "bcomp-shared"

# --- run --build ----------------------------------------------------------------
out=$(bz bcomp run --rm -T --build inline echo run-ok 2>&1) || fail "run --build: $out"
expect_contains "run --build builds the service's image" "$out" " Service inline  Built"
expect_contains "and runs the one-off on it" "$out" "run-ok"

bz bcomp down >/dev/null 2>&1 || fail "down"

# --- --no-build with a missing image ------------------------------------------
new_project bcompnb >/dev/null <<'EOF'
services:
  web:
    build:
      dockerfile_inline: FROM busybox
EOF
rc=0
out=$(bz bcompnb up -d --no-build 2>&1) || rc=$?
expect_eq "--no-build with a missing image fails" "$rc" 1
expect_contains "that error says why" "$out" "--no-build forbids building it"
check "and nothing is created" test -z "$(bz bcompnb ps -a -q)"

# --- a build that fails stops up: nothing is made ------------------------------
new_project bcompfail >/dev/null <<'EOF'
services:
  ok:
    image: busybox
    command: ["true"]
  bad:
    build:
      network: none
      dockerfile_inline: |
        FROM busybox
        RUN echo about-to-fail; exit 3
    depends_on: [ok]
EOF
rc=0
out=$(bz bcompfail up -d 2>&1) || rc=$?
expect_eq "a failing build fails up" "$rc" 1
expect_contains "with the builder's error, naming the service" "$out" \
    'service "bad": building image "bcompfail-bad"'
check "and nothing of the project is created" test -z "$(bz bcompfail ps -a -q)"
check "not even its network" sh -c "! grep -qs bcompfail_default '$BERTH_ROOT'/network/nets/*.json"

# --- build --with-dependencies, and --push -------------------------------------
new_project bcompdeps >/dev/null <<'EOF'
services:
  front:
    build:
      dockerfile_inline: FROM busybox
    depends_on: [back]
  back:
    build:
      dockerfile_inline: FROM busybox
EOF
out=$(bz bcompdeps build front 2>&1) || fail "build front: $out"
expect_not_contains "build SERVICE builds that one only" "$out" "Service back"
out=$(bz bcompdeps build --with-dependencies front 2>&1) || fail "build --with-dependencies: $out"
order=$(grep -o 'Service [a-z]*  Built' <<<"$out" | paste -sd,)
expect_eq "--with-dependencies builds the dependency first" "$order" \
    "Service back  Built,Service front  Built"
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null &&
    command -v curl >/dev/null; then
    . "$(dirname "$0")/reglib.sh"
    registry_start bcompreg 12000
    new_project bcomppush >/dev/null <<EOF
services:
  app:
    image: $reg/test/built:1
    build:
      dockerfile_inline: FROM busybox
EOF
    out=$(bz bcomppush build --push 2>&1) || fail "build --push: $out"
    expect_contains "build --push pushes what it built" "$out" " app Pushed"
    check "the registry has it" curl -fsS -o /dev/null \
        -H "Accept: application/vnd.oci.image.manifest.v1+json" \
        -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
        "http://$reg/v2/test/built/manifests/1"
    registry_stop_all
    trap - EXIT
else
    skip_check "build --push: docker-registry, skopeo or curl is not installed"
fi

# --- berth image build ----------------------------------------------------------
rc=0
id=$("$BERTH" image build -q -t bcomp-std:1 --target other -f "$dir/app/Dockerfile.web" \
    --network none "$dir/app" 2>"$T_DIR/ib.err") || rc=$?
expect_eq "image build -t succeeds" "$rc" 0
check "image build -q prints the image ID" grep -qE '^sha256:[0-9a-f]{64}$' <<<"$id"
cmd=$("$BERTH" image inspect -f '{{json .Config.Cmd}}' bcomp-std:1 2>&1)
expect_contains "-t names it and --target chose the stage" "$cmd" "wrong-stage"
id2=$(printf 'FROM busybox\nLABEL from=stdin\n' | "$BERTH" image build -q -t bcomp-stdin - 2>&1)
check "a Dockerfile on standard input builds" grep -qE '^sha256:[0-9a-f]{64}$' <<<"$id2"
labels=$("$BERTH" image inspect -f '{{json .Config.Labels}}' bcomp-stdin 2>&1)
expect_contains "that Dockerfile was the one built" "$labels" '"from":"stdin"'

finish
