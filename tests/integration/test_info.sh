#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth info: on this host it reports the cgroup layout and controllers the
# test reads itself from /proc/cgroups and /sys/fs/cgroup (hybrid here, v2
# in tests/vm/run-v2.sh); the store's counts follow a load, an up -d with
# a named volume, a down and a down -v; --format json parses and agrees
# with the text; size and free space agree with du and df; and where berth
# cannot run containers (not root, a read-only store) it says why and
# exits non-zero. Also version --format json.
. "$(dirname "$0")/lib.sh"

# jq-free JSON access: json FILE EXPR (python3 expression on d).
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v='"$2"'; print("null" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1"; }
# text FILE KEY: the value of " KEY: value" in the text report.
text() { sed -n "s/^ *$2: //p" "$1" | head -1; }

info() { # info NAME: runs berth info (text and JSON) into $T_DIR/NAME.{txt,json,err}
    "$BERTH" info >"$T_DIR/$1.txt" 2>"$T_DIR/$1.err" || fail "berth info failed: $(cat "$T_DIR/$1.err")"
    "$BERTH" info --format json >"$T_DIR/$1.json" 2>/dev/null || fail "berth info --format json failed"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_DIR/$1.json" ||
        fail "berth info --format json is not JSON"
}

# --- what the test finds itself ----------------------------------------------
v2root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
v1mem=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' /proc/self/mountinfo)
v2ctl=""
[ -n "$v2root" ] && v2ctl=$(cat "$v2root/cgroup.controllers" 2>/dev/null)
if [ -n "$v2root" ] && { grep -qw memory <<<"$v2ctl" || [ -z "$v1mem" ]; }; then
    want_layout=v2
elif [ -n "$v2root" ]; then
    want_layout=hybrid
else
    want_layout=v1
fi
# Available: v1 hierarchies mounted (hierarchy != 0, enabled) and the v2
# root's controllers, sorted.
want_ctl=$({
    awk '!/^#/ && $2 != 0 && $4 == 1 { print $1 }' /proc/cgroups
    tr ' ' '\n' <<<"$v2ctl"
} | sed '/^$/d' | sort -u | tr '\n' ' ')
say "this host: cgroup layout $want_layout, controllers: $want_ctl"

# --- an empty store ------------------------------------------------------------
info empty
got_layout=$(json "$T_DIR/empty.json" 'd["cgroup"]["layout"]')
expect_eq "info reports the cgroup layout this host has" "$got_layout" "$want_layout"
expect_eq "the text report says the same layout" "$(text "$T_DIR/empty.txt" Layout)" "$want_layout"
got_ctl=$(json "$T_DIR/empty.json" '" ".join(sorted(d["cgroup"]["controllers"]))')
expect_eq "info lists the controllers /proc/cgroups and cgroup.controllers offer" \
    "$got_ctl " "$want_ctl"
used=$(json "$T_DIR/empty.json" '" ".join(d["cgroup"]["used"])')
for c in memory cpu pids; do
    check "berth uses the $c controller here" contains " $used " " $c "
done
expect_eq "a root with everything berth needs can run containers" \
    "$(json "$T_DIR/empty.json" 'd["can_run_containers"]')" "true"
expect_eq "no error in the JSON report" "$(json "$T_DIR/empty.json" 'len(d["errors"])')" 0
for f in clone3 pidfd openat2 mount_setattr; do
    expect_eq "$f probed as present on this kernel" \
        "$(json "$T_DIR/empty.json" "d['features']['$f']")" "true"
done
expect_eq "overlay probed as present" "$(json "$T_DIR/empty.json" 'd["overlay"]["available"]')" true
if [ -r /sys/module/overlay/parameters/metacopy ]; then
    expect_eq "overlay's metacopy as the module says it" \
        "$(json "$T_DIR/empty.json" 'd["overlay"]["metacopy"]')" \
        "$(cat /sys/module/overlay/parameters/metacopy)"
else
    skip_check "overlay module parameters are not in /sys here"
fi
expect_eq "an unmade store counts no images" "$(json "$T_DIR/empty.json" 'd["store"]["images"]')" 0
expect_eq "the JSON names the store" "$(json "$T_DIR/empty.json" 'd["store"]["path"]')" "$BERTH_ROOT"

# --- counts follow what the store holds -----------------------------------------
load_image busybox-docker.tar
new_project infocount >/dev/null <<'EOF'
services:
  app:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    volumes:
      - data:/data
volumes:
  data:
EOF
out=$(bz infocount up -d 2>&1) || fail "up -d failed: $out"
info up
expect_eq "one image after a load" "$(json "$T_DIR/up.json" 'd["store"]["images"]')" 1
expect_eq "one volume after up with a named volume" "$(json "$T_DIR/up.json" 'd["store"]["volumes"]')" 1
expect_eq "one project after up -d" "$(json "$T_DIR/up.json" 'd["store"]["projects"]')" 1
expect_eq "one container after up -d" "$(json "$T_DIR/up.json" 'd["store"]["containers"]')" 1
expect_eq "and it is running" "$(json "$T_DIR/up.json" 'd["store"]["running"]')" 1
for k in Images Volumes Projects Containers Running; do
    lk=$(tr 'A-Z' 'a-z' <<<"$k")
    expect_eq "text and JSON agree on $k" "$(text "$T_DIR/up.txt" "$k")" \
        "$(json "$T_DIR/up.json" "d['store']['$lk']")"
done
expect_eq "text and JSON agree on the commit" "$(text "$T_DIR/up.txt" Commit)" \
    "$(json "$T_DIR/up.json" 'd["commit"]')"

out=$(bz infocount down 2>&1) || fail "down failed: $out"
info down
expect_eq "no container after down" "$(json "$T_DIR/down.json" 'd["store"]["containers"]')" 0
expect_eq "no project after down" "$(json "$T_DIR/down.json" 'd["store"]["projects"]')" 0
expect_eq "down keeps the named volume" "$(json "$T_DIR/down.json" 'd["store"]["volumes"]')" 1
out=$(bz infocount down -v 2>&1) || fail "down -v failed: $out"
info downv
expect_eq "down -v removes it" "$(json "$T_DIR/downv.json" 'd["store"]["volumes"]')" 0
expect_eq "the image stays" "$(json "$T_DIR/downv.json" 'd["store"]["images"]')" 1

# --- size and free space against du and df -----------------------------------
size=$(json "$T_DIR/downv.json" 'd["store"]["size"]')
du_size=$(du -sxB1 "$BERTH_ROOT" | cut -f1)
say "store size: info $size, du $du_size"
check "the store size is du's, within 2%" \
    python3 -c "import sys; a,b=$size,$du_size; sys.exit(0 if b > 0 and abs(a-b) <= b*0.02 else 1)"
expect_eq "the text gives the same size in bytes" \
    "$(text "$T_DIR/downv.txt" Size | sed -n 's/.*(\([0-9]*\) bytes)/\1/p')" "$size"
free=$(json "$T_DIR/downv.json" 'd["store"]["free"]')
df_free=$(df -B1 --output=avail "$BERTH_ROOT" | tail -1 | tr -d ' ')
say "free: info $free, df $df_free"
check "the free space is df's, within 2% (others write to this disk)" \
    python3 -c "import sys; a,b=$free,$df_free; sys.exit(0 if b > 0 and abs(a-b) <= b*0.02 else 1)"

# --- version ------------------------------------------------------------------
"$BERTH" version --format json >"$T_DIR/version.json" || fail "version --format json failed"
expect_eq "version --format json has docker compose's version key" \
    "$(json "$T_DIR/version.json" 'd["version"]')" "$("$BERTH" version --short)"
expect_eq "and the commit info reports" "$(json "$T_DIR/version.json" 'd["commit"]')" \
    "$(json "$T_DIR/up.json" 'd["commit"]')"

# --- where berth cannot run containers ---------------------------------------
# Not root: berth makes namespaces, mounts and cgroups itself.
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" info >"$T_DIR/nobody.txt" \
    2>"$T_DIR/nobody.err" || rc=$?
expect_eq "info as an unprivileged user exits 1" "$rc" 1
expect_contains "and says berth cannot run containers" "$(cat "$T_DIR/nobody.err")" \
    "berth cannot run containers on this host: "
expect_contains "because it is not root" "$(cat "$T_DIR/nobody.err")" "must run as root"
expect_contains "after printing what it could" "$(cat "$T_DIR/nobody.txt")" "Layout: $want_layout"

# A store on a read-only mount: nothing can be loaded or created there.
mkdir -p "$T_DIR/ro"
mount --bind "$BERTH_ROOT" "$T_DIR/ro"
mount -o remount,bind,ro "$T_DIR/ro"
rc=0
BERTH_ROOT=$T_DIR/ro "$BERTH" info --format json >"$T_DIR/ro.json" 2>"$T_DIR/ro.err" || rc=$?
umount "$T_DIR/ro"
expect_eq "info on a read-only store exits 1" "$rc" 1
expect_contains "and says the store cannot be written" "$(cat "$T_DIR/ro.err")" \
    "read-only file system"
expect_eq "the JSON says so too" "$(json "$T_DIR/ro.json" '[e["key"] for e in d["errors"]]')" \
    "['store']"
expect_eq "and still counts what a read-only store holds" \
    "$(json "$T_DIR/ro.json" 'd["store"]["images"]')" 1

finish
