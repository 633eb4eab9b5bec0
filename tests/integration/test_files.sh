#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configs, secrets, volumes_from and the metadata keys (issue 14, items 5
# and 7). A secret from a file and one from the environment, and a config
# from content:, are read-only files at their targets with the owner and
# mode asked, and their content is nowhere in the store, the run root or
# the logs (they live on a tmpfs the container alone holds); a restart
# gives a changed file's content. volumes_from sees the other service's
# volume, read-only with :ro. label_file's labels and annotations are
# recorded; domainname reaches the container's UTS namespace. An external
# secret, another runtime and use_api_socket are refused in one line,
# with nothing made.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

SECRET="s3cr3t-$$-file"
ENVSECRET="s3cr3t-$$-env"
dir=$(new_project files <<'EOF'
services:
  app:
    image: berth-test/probe
    command: ["sh", "-c", "echo app up; exec sleep 3600"]
    network_mode: none
    stop_signal: SIGKILL
    domainname: example.test
    secrets:
      - source: x
        mode: 0440
        uid: "1000"
        gid: "1001"
      - source: envsec
        target: e
    configs:
      - source: conf
        target: /x
    volumes:
      - data:/data
    label_file: ./app.labels
    labels:
      lf.b: own
    annotations:
      an.one: "1"
  reader:
    image: berth-test/probe
    command: ["sleep", "3600"]
    network_mode: none
    stop_signal: SIGKILL
    volumes_from: ["app:ro"]
  writer:
    image: berth-test/probe
    command: ["sleep", "3600"]
    network_mode: none
    stop_signal: SIGKILL
    volumes_from: [app]
secrets:
  x:
    file: ./x.txt
  envsec:
    environment: FILES_TEST_SECRET
configs:
  conf:
    content: "port=${FILES_TEST_PORT}"
volumes:
  data:
EOF
)
printf '%s' "$SECRET" >"$dir/x.txt"
printf 'lf.a=1\nlf.b=file\n' >"$dir/app.labels"
export FILES_TEST_SECRET=$ENVSECRET FILES_TEST_PORT=8080

out=$(bz files up -d 2>&1) || fail "up -d failed: $out"
expect_not_contains "configs and secrets are not warned about" "$out" "not supported"

# --- secrets and configs ------------------------------------------------------
out=$(bz files exec -T app cat /run/secrets/x 2>&1)
expect_eq "file secret at /run/secrets/x" "$out" "$SECRET"
out=$(bz files exec -T app stat -c '%a %u %g' /run/secrets/x 2>&1)
expect_eq "file secret's mode, uid and gid" "$out" "440 1000 1001"
out=$(bz files exec -T app cat /run/secrets/e 2>&1)
expect_eq "environment secret (relative target under /run/secrets)" "$out" "$ENVSECRET"
out=$(bz files exec -T app stat -c '%a %u %g' /run/secrets/e 2>&1)
expect_eq "default mode 0444, owner root" "$out" "444 0 0"
out=$(bz files exec -T app cat /x 2>&1)
expect_eq "config from content at /x (interpolated)" "$out" "port=8080"
out=$(bz files exec -T app sh -c 'echo no >/run/secrets/x' 2>&1) && fail "a secret was writable"
expect_contains "a secret is read-only" "$out" "Read-only file system"
out=$(bz files exec -T app sh -c 'echo no >/x' 2>&1) && fail "a config was writable"
expect_contains "a config is read-only" "$out" "Read-only file system"

# Nowhere on disk but the project's own file: not in the container's
# writable layer, the store or the run root, and not in the logs.
found=$(grep -rlF "$SECRET" "$BERTH_ROOT" "$BERTH_RUNROOT" 2>/dev/null || true)
expect_eq "the file secret is in no file of the store or run root" "$found" ""
found=$(grep -rlF "$ENVSECRET" "$BERTH_ROOT"/containers/*/upper "$BERTH_RUNROOT" 2>/dev/null || true)
expect_eq "the environment secret is in no writable layer nor run file" "$found" ""
out=$(bz files logs app 2>&1)
expect_contains "logs work" "$out" "app up"
expect_not_contains "the secret is not in the logs" "$out" "s3cr3t"
# The tmpfs is held by the container alone: nothing mounted on the host.
out=$(grep -F "$T_DIR" /proc/self/mountinfo || true)
expect_eq "no mount of the files left on the host" "$out" ""

# A restart gives the file's current content.
printf '%s' "changed-$$" >"$dir/x.txt"
bz files restart app >/dev/null 2>&1 || fail "restart failed"
out=$(bz files exec -T app cat /run/secrets/x 2>&1)
expect_eq "a restart gives the file's current content" "$out" "changed-$$"

# A one-off `run` gets them too, and a read-only root does not stop them.
out=$(bz files run --rm -T app cat /run/secrets/x /x 2>&1)
expect_eq "run: secret and config" "$out" "changed-$$port=8080"
out=$(grep -F "$T_DIR" /proc/self/mountinfo || true)
expect_eq "run: no mount of the files left on the host" "$out" ""
new_project filesro >/dev/null <<'EOF2'
services:
  ro:
    image: berth-test/probe
    command: ["cat", "/run/secrets/s"]
    network_mode: none
    read_only: true
    secrets: [s]
secrets:
  s:
    environment: FILES_TEST_SECRET
EOF2
out=$(bz filesro run --rm ro 2>&1)
expect_contains "read_only: a secret's content is still given" "$out" "$ENVSECRET"

# --- domainname ------------------------------------------------------------------
out=$(bz files exec -T app cat /proc/sys/kernel/domainname 2>&1)
expect_eq "domainname in the container's UTS namespace" "$out" "example.test"

# --- volumes_from ------------------------------------------------------------------
bz files exec -T app sh -c 'echo shared >/data/f' || fail "app cannot write its volume"
out=$(bz files exec -T reader cat /data/f 2>&1)
expect_eq "volumes_from sees the other service's volume" "$out" "shared"
out=$(bz files exec -T reader sh -c 'echo no >/data/g' 2>&1) && fail "volumes_from :ro was writable"
expect_contains "volumes_from :ro refuses writes" "$out" "Read-only file system"
bz files exec -T writer sh -c 'echo w >/data/w' || fail "volumes_from without :ro is not writable"
out=$(bz files exec -T app cat /data/w 2>&1)
expect_eq "a write through volumes_from reaches the volume" "$out" "w"
out=$(bz files exec -T reader sh -c 'test -e /run/secrets/x && echo yes || echo no' 2>&1)
expect_eq "volumes_from does not take the secrets" "$out" "no"

# --- label_file and annotations ----------------------------------------------------
out=$(bz files ps --format json app 2>&1)
expect_contains "label_file labels recorded" "$out" "lf.a=1"
expect_contains "labels: wins over label_file" "$out" "lf.b=own"
expect_not_contains "label_file's value overridden" "$out" "lf.b=file"
expect_contains "annotations recorded" "$out" '"Annotations":"an.one=1"'

out=$(bz files config 2>&1) || fail "config failed: $out"
expect_contains "config prints secrets" "$out" "target: /run/secrets/x"
expect_contains "config prints configs" "$out" "content: port=8080"
expect_contains "config prints volumes_from" "$out" "app:ro"

bz files down -v -t 1 >/dev/null 2>&1 || fail "down failed"

# --- refusals: one line, nothing made ------------------------------------------------
refused() { # refused DESCRIPTION NEEDLE: up fails naming it, and makes nothing
    local rc=0 out
    out=$(bz filesbad up -d 2>&1) || rc=$?
    check "$1: up fails (exit $rc)" test "$rc" -ne 0
    expect_contains "$1: the message" "$out" "$2"
    check "$1: one line" test "$(printf '%s\n' "$out" | grep -c .)" -eq 1
    check "$1: no container made" test -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)"
}
bad=$(new_project filesbad <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    secrets: [ext]
secrets:
  ext:
    external: true
EOF
)
refused "external secret" \
    "compose.yaml:6:15: service \"a\": secret \"ext\" is external, and berth has no swarm"
out=$(bz filesbad config 2>&1) || fail "config of an external secret failed: $out"
expect_contains "config prints an external secret" "$out" "external: true"

cat >"$bad/compose.yaml" <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    runtime: runc
EOF
refused "runtime runc" "compose.yaml:6:14: service \"a\": runtime \"runc\" is not available: berth runs containers with its own built-in runtime only, \"berth\""

cat >"$bad/compose.yaml" <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    use_api_socket: true
EOF
refused "use_api_socket" "compose.yaml:6:21: service \"a\": use_api_socket: berth has no daemon, so there is no API socket"

cat >"$bad/compose.yaml" <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    label_file: ./missing.labels
EOF
refused "missing label_file" "compose.yaml:6:17: service \"a\": label_file:"

cat >"$bad/compose.yaml" <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    secrets: [nope]
EOF
refused "undefined secret" "compose.yaml:6:15: service \"a\" refers to undefined secret \"nope\""

cat >"$bad/compose.yaml" <<'EOF'
services:
  a:
    image: berth-test/probe
    command: ["sleep", "1"]
    network_mode: none
    volumes_from: [nosuch]
EOF
refused "volumes_from an undefined service" "service \"a\" takes volumes from undefined service \"nosuch\""

finish
