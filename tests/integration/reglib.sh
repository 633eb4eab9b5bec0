# SPDX-License-Identifier: Apache-2.0
# Registry helpers for the pull/push tests (sourced after lib.sh): Debian's
# docker-registry started on 127.0.0.1 with its storage in the test's
# directory, stopped at exit, and skopeo pushes into it. Only 127.0.0.1
# gets traffic.

for t in docker-registry skopeo curl python3; do
    command -v "$t" >/dev/null || skip "$t is not installed (scripts/deps.sh installs it)"
done

# registry_start NAME PORT_BASE [EXTRA_YAML]: starts a registry whose
# configuration is $T_DIR/NAME.yml (EXTRA_YAML appended: an auth: or a tls:
# section under http:, indented by the caller), on a free port from
# PORT_BASE + $$ % 1990 (below the ephemeral ports, 32768-: a connection may
# hold one; two build trees run a test at once). Sets $reg (127.0.0.1:PORT).
# The registries started are stopped at exit.
reg_pids=()
registry_start() {
    local name=$1 port=$(($2 + $$ % 1990)) extra=${3:-}
    while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
    reg=127.0.0.1:$port
    mkdir -p "$T_DIR/$name"
    cat >"$T_DIR/$name.yml" <<EOC
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T_DIR/$name
http:
  addr: $reg
  secret: berth-test-$name
$extra
EOC
    docker-registry serve "$T_DIR/$name.yml" >"$T_DIR/$name.log" 2>&1 &
    reg_pids+=($!)
    trap registry_stop_all EXIT
    local scheme=http
    case "$extra" in *tls:*) scheme=https ;; esac
    # Any HTTP answer (401 included) means it listens.
    wait_until 20 curl -sk -o /dev/null "$scheme://$reg/v2/" || {
        cat "$T_DIR/$name.log" >&2
        fail "the registry $name did not start on $reg"
        finish
    }
}

registry_stop_all() {
    local p
    for p in "${reg_pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    reg_pids=()
}

# registry_push TRANSPORT:FILE REPO:TAG [SKOPEO_ARGS...]: skopeo copy into
# $reg (plain HTTP unless the arguments say otherwise).
# skopeo runs with a blob-info cache of its own (a tmpfs over root's
# /var/lib/containers/cache in a private mount namespace): with the host's,
# it remembers which compressed blob earlier runs made of a layer and, when
# the registry has that blob, pushes it instead of compressing the layer
# itself, so two test images end up sharing a layer and the checks on
# which layer is fetched go wrong depending on the machine's history.
registry_push() {
    local src=$1 dst=$2
    shift 2
    mkdir -p /var/lib/containers/cache
    unshare -m --propagation private sh -c \
        'mount -t tmpfs berth-test /var/lib/containers/cache && exec "$@"' sh \
        skopeo copy -q --dest-tls-verify=false "$@" "$src" "docker://$reg/$dst" >/dev/null \
        2>"$T_DIR/skopeo.err" || { cat "$T_DIR/skopeo.err" >&2; return 1; }
}
