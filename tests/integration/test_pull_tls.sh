#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pulling over TLS and through the registry settings, as docker does:
# Debian's docker-registry on 127.0.0.1 with a certificate from a CA this
# test makes, reached by the name berth-reg.test (berth runs in a mount
# namespace whose /etc/hosts maps it, and docker.io's hosts, to
# 127.0.0.1: no DNS query, nothing leaves the machine). Checks: a
# certificate error without the CA, the CA in BERTH_CERTS_D, an insecure
# registry (by name and by CIDR) pulled without verification, an insecure
# plain-HTTP registry reached by falling back to HTTP and a registry not
# listed refused, a malformed BERTH_CONFIG, docker.io mirrors in order
# (broken ones skipped, the pull says which served), and HTTPS_PROXY /
# HTTP_PROXY / NO_PROXY with a proxy of this test's own; and a registry
# with TLS and htpasswd Basic auth together (login over the verified
# connection, then a pull with the stored credentials).
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/reglib.sh"

command -v openssl >/dev/null || skip "openssl is not installed"
command -v unshare >/dev/null || skip "unshare is not installed"
# berth-reg.test must resolve from the private /etc/hosts, never by DNS.
[ "$(awk '$1 == "hosts:" {print $2}' /etc/nsswitch.conf)" = files ] ||
    skip "/etc/nsswitch.conf does not look up hosts in files first"
docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
[ -f "$docker_tar" ] || { echo "FAIL: missing test image $docker_tar" >&2; exit 1; }

# Nothing from the host's environment or configuration takes part.
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy NO_PROXY no_proxy ALL_PROXY all_proxy
echo '{}' >"$T_DIR/empty.json"
export BERTH_CONFIG=$T_DIR/empty.json
export BERTH_CERTS_D=$T_DIR/certs.d
mkdir -p "$BERTH_CERTS_D"

# --- a CA, and a certificate for berth-reg.test signed by it
ssl() { openssl "$@" >/dev/null 2>&1; }
mkca() { # mkca NAME
    ssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test $1" \
        -keyout "$T_DIR/$1.key" -out "$T_DIR/$1.crt"
}
mkca ca && mkca otherca || { fail "openssl makes the CAs"; finish; }
printf 'subjectAltName=DNS:berth-reg.test\n' >"$T_DIR/san.ext"
ssl req -newkey rsa:2048 -nodes -subj /CN=berth-reg.test -keyout "$T_DIR/srv.key" \
    -out "$T_DIR/srv.csr" &&
    ssl x509 -req -days 2 -in "$T_DIR/srv.csr" -CA "$T_DIR/ca.crt" -CAkey "$T_DIR/ca.key" \
        -CAcreateserial -extfile "$T_DIR/san.ext" -out "$T_DIR/srv.crt" ||
    { fail "openssl makes the server certificate"; finish; }

registry_start tlsreg 8000 "  tls:
    certificate: $T_DIR/srv.crt
    key: $T_DIR/srv.key"
tls_port=${reg##*:}
check "skopeo pushes to the TLS registry" registry_push "docker-archive:$docker_tar" test/busybox:1
registry_start plainreg 8000
plain_port=${reg##*:}
check "skopeo pushes to the plain registry" registry_push "docker-archive:$docker_tar" test/busybox:1
check "skopeo pushes library/busybox to the plain registry" \
    registry_push "docker-archive:$docker_tar" library/busybox:latest
tls=berth-reg.test:$tls_port
plain=berth-reg.test:$plain_port

# berth in a mount namespace whose /etc/hosts maps berth-reg.test, and
# docker.io's hosts (a mistaken request there finds nothing on 127.0.0.1).
cp /etc/hosts "$T_DIR/hosts"
echo "127.0.0.1 berth-reg.test registry-1.docker.io docker.io index.docker.io" >>"$T_DIR/hosts"
bn() {
    unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T_DIR/hosts" "$BERTH" "$@"
}
rc=0
out=$(bn image ls 2>&1) || rc=$?
[ "$rc" = 0 ] || skip "berth cannot run in a mount namespace with its own /etc/hosts: $out"

# pull REF [ENV...]: rc and out of `berth image pull REF` (in the namespace)
pull() {
    local ref=$1
    shift
    rc=0
    out=$(env "$@" unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
        "$T_DIR/hosts" "$BERTH" image pull "$ref" 2>&1) || rc=$?
}
certs() { # certs DOMAIN FILE...: certs.d/DOMAIN holds just these files
    rm -rf "${BERTH_CERTS_D:?}/$1"
    mkdir -p "$BERTH_CERTS_D/$1"
    local d=$1
    shift
    [ $# -eq 0 ] || cp "$@" "$BERTH_CERTS_D/$d/"
}
config() { # config JSON: a BERTH_CONFIG file with this text
    printf '%s\n' "$1" >"$T_DIR/config.json"
    echo "$T_DIR/config.json"
}

# --- TLS: the certificate is checked against the system's CAs and certs.d
certs "$tls" "$T_DIR/otherca.crt"
pull "$tls/test/busybox:1"
expect_eq "a pull without the registry's CA fails" "$rc" 1
expect_contains "the error says the certificate check failed" "$out" \
    "$tls: TLS certificate verification failed: SSL certificate problem"
expect_contains "the error suggests certs.d" "$out" "put the CA in $BERTH_CERTS_D/$tls/ca.crt"
expect_eq "the error is one line" "$(wc -l <<<"$out")" 1
certs "$tls" "$T_DIR/ca.crt"
pull "$tls/test/busybox:1"
expect_eq "a pull with the CA in BERTH_CERTS_D/$tls succeeds" "$rc" 0
expect_contains "that pull names the image" "$out" "Pulled image: $tls/test/busybox:1"
# a client certificate without its key is refused before any request
certs "$tls" "$T_DIR/ca.crt" "$T_DIR/srv.crt"
mv "$BERTH_CERTS_D/$tls/srv.crt" "$BERTH_CERTS_D/$tls/client.cert"
pull "$tls/test/busybox:1"
expect_eq "a client certificate without its key fails" "$rc" 1
expect_contains "that error names the file" "$out" "$tls/client.cert: missing key"
rm -rf "${BERTH_CERTS_D:?}/$tls"

# --- insecure registries: HTTPS unverified, then plain HTTP
pull "$tls/test/busybox:1" BERTH_CONFIG="$(config "{\"insecure-registries\": [\"$tls\"]}")"
expect_eq "an insecure registry is pulled from without its CA" "$rc" 0
pull "$tls/test/busybox:1" BERTH_CONFIG="$(config '{"insecure-registries": ["127.0.0.0/8"]}')"
expect_eq "a registry whose address is in an insecure CIDR is pulled from" "$rc" 0
pull "$tls/test/busybox:1" BERTH_CONFIG="$(config '{"insecure-registries": ["10.0.0.0/8"]}')"
expect_eq "a CIDR that does not hold the registry does not make it insecure" "$rc" 1
expect_contains "that is a certificate error" "$out" "TLS certificate verification failed"
pull "$plain/test/busybox:1" BERTH_CONFIG="$(config "{\"insecure-registries\": [\"$plain\"]}")"
expect_eq "an insecure plain-HTTP registry is pulled from over HTTP" "$rc" 0
expect_contains "that pull names the image" "$out" "Pulled image: $plain/test/busybox:1"
certs "$plain" "$T_DIR/ca.crt"
pull "$plain/test/busybox:1"
expect_eq "a plain-HTTP registry not listed as insecure is refused" "$rc" 1
expect_contains "that error says the TLS handshake failed" "$out" "$plain: TLS handshake failed"
expect_contains "that error says how to allow it" "$out" \
    "must be listed in \"insecure-registries\" in $T_DIR/empty.json"
expect_eq "that error is one line" "$(wc -l <<<"$out")" 1
rm -rf "${BERTH_CERTS_D:?}/$plain"
# a loopback registry is insecure by default: HTTPS unverified, then HTTP
pull "127.0.0.1:$tls_port/test/busybox:1"
expect_eq "a loopback TLS registry is pulled from over HTTPS" "$rc" 0
pull "127.0.0.1:$plain_port/test/busybox:1"
expect_eq "a loopback plain-HTTP registry is pulled from over HTTP" "$rc" 0

# --- a malformed configuration file: one line naming the file and key
pull "127.0.0.1:$plain_port/test/busybox:1" BERTH_CONFIG="$(config '{"insecure-registries": "x"}')"
expect_eq "a malformed BERTH_CONFIG fails the pull" "$rc" 1
expect_eq "the error names the file and the key" "$out" \
    "berth: $T_DIR/config.json: \"insecure-registries\": expected an array of strings"
pull "127.0.0.1:$plain_port/test/busybox:1" BERTH_CONFIG="$(config '{"registry-mirrors": [')"
expect_eq "a BERTH_CONFIG that is not JSON fails the pull" "$rc" 1
expect_contains "the error names the file and line" "$out" "berth: $T_DIR/config.json:2:"
pull "127.0.0.1:$plain_port/test/busybox:1" BERTH_CONFIG="$T_DIR/none.json"
expect_eq "a BERTH_CONFIG that does not exist fails the pull" "$rc" 1
expect_contains "the error names the file" "$out" "$T_DIR/none.json"

# --- docker.io mirrors: tried in order, the first that serves the pull wins
dead=$((plain_port + 1))
while ss -Hltn "sport = :$dead" | grep -q .; do dead=$((dead + 1)); done
mirrors=$(config "{\"registry-mirrors\": [\"http://127.0.0.1:$plain_port\"]}")
pull busybox BERTH_CONFIG="$mirrors"
expect_eq "a docker.io image is pulled from the mirror" "$rc" 0
expect_contains "the pull names the image" "$out" "Pulled image: busybox:latest"
expect_contains "the pull says the mirror served it" "$out" \
    "Served by: mirror http://127.0.0.1:$plain_port"
check "the mirror's log shows the manifest request" \
    grep -q "GET /v2/library/busybox/manifests/latest" "$T_DIR/plainreg.log"
mirrors=$(config "{\"registry-mirrors\": [\"http://127.0.0.1:$dead\", \"https://127.0.0.1:$tls_port/\", \"http://127.0.0.1:$plain_port\"]}")
pull busybox BERTH_CONFIG="$mirrors"
expect_eq "broken mirrors fall back to the next one" "$rc" 0
expect_contains "a mirror that does not answer is warned about" "$out" \
    "warning: mirror http://127.0.0.1:$dead:"
expect_contains "a mirror without the image is warned about" "$out" \
    "warning: mirror https://127.0.0.1:$tls_port: docker.io/library/busybox:latest: not found"
expect_contains "the third mirror serves the pull" "$out" \
    "Served by: mirror http://127.0.0.1:$plain_port"
pull busybox BERTH_CONFIG="$(config "{\"registry-mirrors\": [\"http://127.0.0.1:$dead\"]}")"
expect_contains "docker.io itself is tried last" "$out" \
    "Couldn't connect to server; trying https://registry-1.docker.io"
expect_contains "the error is docker.io's" "$out" \
    "berth: docker.io/library/busybox: manifest latest: https://registry-1.docker.io: Failed to connect"

# --- proxies from the environment (a proxy of this test's own)
pport=$((dead + 1))
while ss -Hltn "sport = :$pport" | grep -q .; do pport=$((pport + 1)); done
python3 "$(dirname "$0")/proxy.py" "$pport" "$T_DIR/proxy.log" &
proxy_pid=$!
trap 'registry_stop_all; kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null' EXIT
touch "$T_DIR/proxy.log"
wait_until 10 sh -c "ss -Hltn 'sport = :$pport' | grep -q ." || fail "the proxy did not start"
proxy=http://127.0.0.1:$pport
certs "$tls" "$T_DIR/ca.crt"
: >"$T_DIR/proxy.log"
pull "$tls/test/busybox:1" HTTPS_PROXY="$proxy"
expect_eq "a pull through HTTPS_PROXY succeeds" "$rc" 0
check "HTTPS_PROXY carries the pull from $tls" grep -q "^CONNECT $tls " "$T_DIR/proxy.log"
: >"$T_DIR/proxy.log"
pull "$tls/test/busybox:1" HTTPS_PROXY="$proxy" NO_PROXY=berth-reg.test
expect_eq "a pull with the registry in NO_PROXY succeeds" "$rc" 0
expect_eq "NO_PROXY keeps it off the proxy" "$(cat "$T_DIR/proxy.log")" ""
: >"$T_DIR/proxy.log"
pull "127.0.0.1:$plain_port/test/busybox:1" HTTPS_PROXY="$proxy" HTTP_PROXY="$proxy"
expect_eq "a pull from 127.0.0.1 with proxies set succeeds" "$rc" 0
expect_eq "a loopback registry is never proxied" "$(cat "$T_DIR/proxy.log")" ""
: >"$T_DIR/proxy.log"
pull "$plain/test/busybox:1" HTTP_PROXY="$proxy" \
    BERTH_CONFIG="$(config "{\"insecure-registries\": [\"$plain\"]}")"
expect_eq "a plain-HTTP pull through HTTP_PROXY succeeds" "$rc" 0
check "the uppercase HTTP_PROXY carries plain HTTP (as docker)" \
    grep -q "^GET http://$plain/v2/" "$T_DIR/proxy.log"

# --- TLS from the test's CA and htpasswd Basic auth together: login goes
# over the verified TLS connection, the pull then uses the credentials.
python3 -W ignore -c 'import crypt
print("bob:" + crypt.crypt("tls-s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
    >"$T_DIR/htpasswd" || skip "python3 cannot make bcrypt hashes"
registry_start tlsauth 8000 "  tls:
    certificate: $T_DIR/srv.crt
    key: $T_DIR/srv.key
auth:
  htpasswd:
    realm: berth-test
    path: $T_DIR/htpasswd"
ta=berth-reg.test:${reg##*:}
check "skopeo pushes to the TLS + Basic registry" \
    registry_push "docker-archive:$docker_tar" test/busybox:1 --dest-creds bob:tls-s3cret
certs "$ta" "$T_DIR/ca.crt"
export DOCKER_CONFIG=$T_DIR/docker-config
pull "$ta/test/busybox:1"
expect_eq "a pull from the TLS + Basic registry without login fails" "$rc" 1
expect_contains "that error says to log in" "$out" "berth login $ta"
rc=0
out=$(printf 'tls-s3cret' | bn login -u bob --password-stdin "$ta" 2>&1) || rc=$?
expect_eq "login over TLS with the test's CA succeeds" "$rc" 0
expect_contains "login says so" "$out" "Login Succeeded"
pull "$ta/test/busybox:1"
expect_eq "the pull with the stored login succeeds over TLS" "$rc" 0
certs "$ta"
rc=0
out=$(printf 'tls-s3cret' | bn login -u bob --password-stdin "$ta" 2>&1) || rc=$?
expect_eq "without the CA the login fails" "$rc" 1
expect_contains "on the certificate, before any password is sent" "$out" "TLS certificate verification failed"
unset DOCKER_CONFIG

kill "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true
registry_stop_all
trap - EXIT
finish
