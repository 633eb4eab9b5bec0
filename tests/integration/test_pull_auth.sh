#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry authentication, against Debian's docker-registry on 127.0.0.1:
# (a) htpasswd Basic auth: a pull without login fails with one clear line,
# `berth login` with a wrong password fails and stores nothing, with the
# right one stores the credentials (0600) where pulls find them,
# `logout` removes them; DOCKER_CONFIG and HOME honoured, the file's
# other keys kept, credential helpers warned about, a malformed file named.
# (b) token auth through this project's token server
# (tests/integration/token_server.py, RS256 JWTs the registry checks with
# a certificate made here): an anonymous pull with one token request, a
# token that goes stale mid-pull refreshed, stored credentials sent to the
# token server, a denied scope, a push's pull,push token (and a push with
# Basic credentials in (a)). Every config.json is under $T_DIR (never the
# real ~/.docker). All traffic goes to 127.0.0.1.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

command -v openssl >/dev/null || skip "openssl is not installed"
command -v flock >/dev/null || skip "flock is not installed"
docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
[ -f "$docker_tar" ] || { echo "FAIL: missing test image $docker_tar" >&2; exit 1; }

export DOCKER_CONFIG=$T_DIR/docker
# HOME too, so that even a berth that ignored DOCKER_CONFIG stays in $T_DIR.
export HOME=$T_DIR/nohome
cfg=$DOCKER_CONFIG/config.json

# jq-less reads of config.json: `cfgget FILE PYEXPR` prints PYEXPR of c.
cfgget() {
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
pull() { "$BERTH" image pull -q "$@" 2>&1; }

# --- (a) Basic auth (htpasswd, bcrypt made by python's crypt)
python3 -W ignore -c 'import crypt
print("alice:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
    >"$T_DIR/htpasswd" || skip "python3 cannot make bcrypt hashes"
registry_start basic 30000 "auth:
  htpasswd:
    realm: berth-test
    path: $T_DIR/htpasswd"
breg=$reg
check "skopeo pushes into the Basic-auth registry" \
    registry_push "docker-archive:$docker_tar" test/busybox:1 --dest-creds alice:s3cret

rc=0
out=$(pull "$breg/test/busybox:1") || rc=$?
expect_eq "a pull without login fails" "$rc" 1
expect_eq "it says to log in, in one line" "$out" \
    "berth: $breg: the registry asks for a login (berth login $breg)"

rc=0
out=$(echo wrong | "$BERTH" login -u alice --password-stdin "$breg" 2>&1) || rc=$?
expect_eq "login with a wrong password fails" "$rc" 1
expect_contains "it says the registry refused alice" "$out" \
    "login to $breg failed: $breg: the registry refused the credentials of \"alice\""
expect_eq "the failure is one line" "$(wc -l <<<"$out")" 1
check "a failed login stores nothing" test ! -e "$cfg"

# Keys of the file berth does not know are kept.
mkdir -p "$DOCKER_CONFIG"
echo '{"psFormat": "table {{.ID}}", "auths": {"other.example:1": {"auth": "eDp5"}}}' >"$cfg"
rc=0
out=$(echo s3cret | "$BERTH" login -u alice --password-stdin "$breg" 2>&1) || rc=$?
expect_eq "login with the right password succeeds" "$rc" 0
expect_contains "it says Login Succeeded" "$out" "Login Succeeded"
expect_eq "config.json is 0600" "$(stat -c %a "$cfg")" 600
expect_eq "config.json holds the credentials" "$(cfgget "$cfg" "c['auths']['$breg']['auth']")" \
    "$(printf alice:s3cret | base64)"
expect_eq "its other keys are kept" "$(cfgget "$cfg" "c['psFormat'], sorted(c['auths'])")" \
    "('table {{.ID}}', ['$breg', 'other.example:1'])"
rc=0
out=$(pull "$breg/test/busybox:1") || rc=$?
expect_eq "a pull with the stored credentials succeeds" "$rc" 0

rc=0
out=$("$BERTH" image push "$breg/test/busybox:1" 2>&1) || rc=$?
expect_eq "a push with the stored credentials succeeds" "$rc" 0

rc=0
out=$("$BERTH" login -u alice -p s3cret "$breg" 2>&1) || rc=$?
expect_eq "login with -p succeeds" "$rc" 0
expect_contains "-p on the command line is warned about" "$out" \
    "berth: warning: using --password on the command line is insecure"

out=$("$BERTH" logout "$breg" 2>&1)
expect_eq "logout says what it removes" "$out" "Removing login credentials for $breg"
expect_eq "logout removes the entry and keeps the rest" \
    "$(cfgget "$cfg" "c['psFormat'], sorted(c['auths'])")" "('table {{.ID}}', ['other.example:1'])"
out=$("$BERTH" logout "$breg" 2>&1)
expect_eq "a second logout says there is nothing" "$out" "Not logged in to $breg"
rc=0
out=$(pull "$breg/test/busybox:1") || rc=$?
expect_eq "a pull after logout fails again" "$rc" 1

# HOME when DOCKER_CONFIG is not set: ~/.docker/config.json, 0700 dir.
rc=0
out=$(echo s3cret | env -u DOCKER_CONFIG HOME="$T_DIR/home" \
    "$BERTH" login -u alice --password-stdin "$breg" 2>&1) || rc=$?
expect_eq "login without DOCKER_CONFIG succeeds" "$rc" 0
check "it writes HOME/.docker/config.json" test -f "$T_DIR/home/.docker/config.json"
expect_eq "that directory is 0700" "$(stat -c %a "$T_DIR/home/.docker")" 700
rc=0
out=$(env -u DOCKER_CONFIG HOME="$T_DIR/home" "$BERTH" image pull -q "$breg/test/busybox:1" 2>&1) ||
    rc=$?
expect_eq "a pull finds the credentials under HOME" "$rc" 0
rc=0
out=$(HOME="$T_DIR/home" "$BERTH" image pull -q "$breg/test/busybox:1" 2>&1) || rc=$?
expect_eq "DOCKER_CONFIG wins over HOME" "$rc" 1

# A config.json in docker's username/password form, naming helpers.
printf '{"credsStore": "desktop", "auths": {"http://%s/v2/": {"username": "alice", "password": "s3cret"}}}' \
    "$breg" >"$cfg"
rc=0
out=$("$BERTH" image pull "$breg/test/busybox:1" 2>&1) || rc=$?
expect_eq "username/password under a URL key are used" "$rc" 0
expect_contains "credential helpers are warned about" "$out" \
    "berth: warning: $cfg names credential helpers (credsStore/credHelpers), which berth does not use; its auths entry is used"
echo '{"auths": {' >"$cfg"
rc=0
out=$(pull "$breg/test/busybox:1") || rc=$?
expect_eq "a malformed config.json fails the pull" "$rc" 1
expect_contains "the error names the file and why" "$out" "$cfg:2: not valid JSON"
expect_eq "that error is one line" "$(wc -l <<<"$out")" 1
rm -f "$cfg"

# --- (b) token auth: this project's token server, a registry trusting it
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_DIR/tok.key" -out "$T_DIR/tok.crt" \
    -days 2 -subj /CN=berth-test-token >/dev/null 2>&1 || fail "openssl made no certificate"
tlog=$T_DIR/tokens.log
: >"$tlog"
python3 "$BERTH_SRC/tests/integration/token_server.py" "$T_DIR/token.port" "$tlog" \
    "$T_DIR/tok.key" "$T_DIR/tok.crt" berth-test-issuer berth-test-service \
    --user bob:pw --deny test/denied --private test/private --life test/short=2 \
    >"$T_DIR/token.out" 2>&1 &
reg_pids+=($!)
trap registry_stop_all EXIT
wait_until 20 test -s "$T_DIR/token.port" || { cat "$T_DIR/token.out" >&2; fail "no token server"; }
tport=$(cat "$T_DIR/token.port")
registry_start token 30000 "auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: berth-test-service
    issuer: berth-test-issuer
    rootcertbundle: $T_DIR/tok.crt"
treg=$reg
# test/anon's and test/short's images have blobs of their own (a layer and
# a config no pull before stores), so that their pulls fetch blobs.
own_image() { # own_image NAME: test/NAME:1 pushed, with a layer of its own
    mkdir -p "$T_DIR/$1"
    echo "$1" >"$T_DIR/$1/$1"
    bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format docker --tag "$1:1" \
        --extra "$T_DIR/$1" "$T_DIR/$1.tar" &&
        registry_push "docker-archive:$T_DIR/$1.tar" "test/$1:1" --dest-creds bob:pw
}
check "test/anon is pushed through tokens" own_image anon
check "test/short is pushed through tokens" own_image short
for r in denied private; do
    check "skopeo pushes test/$r through tokens" registry_push "docker-archive:$docker_tar" \
        "test/$r:1" --dest-creds bob:pw
done

lines() { wc -l <"$tlog"; }
since() { tail -n +"$(($1 + 1))" "$tlog"; }
n=$(lines)
rc=0
out=$("$BERTH" image pull "$treg/test/anon:1" 2>&1) || rc=$?
expect_eq "an anonymous pull through tokens succeeds" "$rc" 0
expect_contains "it fetches blobs" "$out" "2 blobs fetched"
expect_eq "it asks for one token, anonymously, for the pull scope" "$(since "$n")" \
    "token scope=repository:test/anon:pull auth=none granted=test/anon:pull"

# A token that goes stale between the manifest and a layer: the layer's
# fetch lock (the one a second pull of the same blob waits on) is held
# here for 4 s, so the pull fetches the manifest and config with a token
# the registry accepts for 2 s, then waits; the layer's 401 is answered
# with a fresh token and the pull completes.
short_layer=$(skopeo inspect --raw --tls-verify=false --creds bob:pw "docker://$treg/test/short:1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"])')
n=$(lines)
rm -f "$T_DIR/locked"
mkdir -p "$BERTH_ROOT/partial"
flock "$BERTH_ROOT/partial/sha256-${short_layer#sha256:}.lock" \
    sh -c "touch '$T_DIR/locked'; sleep 4" &
lockpid=$!
wait_until 10 test -e "$T_DIR/locked" || fail "the layer's fetch lock was not taken"
rc=0
out=$(pull "$treg/test/short:1") || rc=$?
wait "$lockpid" 2>/dev/null || true
expect_eq "a pull whose token goes stale midway succeeds" "$rc" 0
expect_eq "the stale token is refreshed once" "$(since "$n" | grep -c 'scope=repository:test/short:pull')" 2
check "the short-lived image is stored" eval "\"$BERTH\" image ls | grep -q '^$treg/test/short '"

# A denied scope: one clear line, one token request, no loop.
n=$(lines)
rc=0
out=$(pull "$treg/test/denied:1") || rc=$?
expect_eq "a pull of a denied repository fails" "$rc" 1
expect_contains "it says access is denied, naming the image" "$out" \
    "berth: $treg: access to $treg/test/denied denied (HTTP 401, UNAUTHORIZED:"
expect_eq "that error is one line" "$(wc -l <<<"$out")" 1
expect_eq "a denied scope asks for one token" "$(since "$n" | wc -l)" 1

# Stored credentials go to the token server (Basic): a private
# repository pulls only with them.
rc=0
out=$(pull "$treg/test/private:1") || rc=$?
expect_eq "a private repository does not pull anonymously" "$rc" 1
rc=0
out=$(echo nope | "$BERTH" login -u bob --password-stdin "$treg" 2>&1) || rc=$?
expect_eq "login with a wrong password to the token server fails" "$rc" 1
expect_contains "it says the token server refused bob" "$out" \
    "refused the credentials of \"bob\" (berth login $treg)"
check "that login stores nothing" test ! -e "$cfg"
n=$(lines)
rc=0
out=$(echo pw | "$BERTH" login -u bob --password-stdin "$treg" 2>&1) || rc=$?
expect_eq "login through the token server succeeds" "$rc" 0
expect_contains "it says Login Succeeded" "$out" "Login Succeeded"
expect_contains "login asked for a token with bob's credentials" "$(since "$n")" "auth=basic:bob"
n=$(lines)
rc=0
out=$(pull "$treg/test/private:1") || rc=$?
expect_eq "the private repository pulls with the stored credentials" "$rc" 0
expect_eq "the pull sent them to the token server" "$(since "$n")" \
    "token scope=repository:test/private:pull auth=basic:bob granted=test/private:pull"

# A push asks for pull,push, with the stored credentials; anonymous, it is
# refused in one line.
n=$(lines)
rc=0
out=$("$BERTH" image push "$treg/test/private:1" 2>&1) || rc=$?
expect_eq "a push through tokens with the stored credentials succeeds" "$rc" 0
expect_contains "it asked for a pull,push token with them" "$(since "$n")" \
    "token scope=repository:test/private:pull,push auth=basic:bob granted=test/private:pull,push"
out=$("$BERTH" logout "$treg" 2>&1)
rc=0
out=$("$BERTH" image push "$treg/test/anon:1" 2>&1) || rc=$?
expect_eq "an anonymous push is refused" "$rc" 1
expect_contains "it says access is denied, naming the registry" "$out" \
    "$treg: access to $treg/test/anon denied (HTTP 401, UNAUTHORIZED:"

registry_stop_all
trap - EXIT
finish
