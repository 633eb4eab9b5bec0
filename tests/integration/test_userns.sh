#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# userns_mode: auto (issue 14, item 4). Each container runs in a user
# namespace of its own with a range of 65536 IDs from berth's entry in
# the subordinate ID files (here the test's own, through
# BERTH_SUBUID_FILE/BERTH_SUBGID_FILE: the host's /etc/subuid is never
# touched): the range shows in /proc/self/uid_map, inside and in exec'd
# processes; root inside writes a bind-mounted file the host sees owned by
# the range's first ID; the image's files are root's inside (idmapped
# layers); two containers get disjoint ranges, recorded in the store's
# userns.json; down frees them and a recreated container gets a new one.
# Where idmapped mounts are refused (forced here with
# BERTH_USERNS_LAYERS=copy), the layers are the range's copies: setuid
# modes, links, FIFOs, whiteouts and owners as idmapping would show them,
# made once per range and removed with it.
# A host whose files cannot take berth's entry fails the up with one line
# naming the service, the key and its file:line, with nothing made.
. "$(dirname "$0")/lib.sh"

load_image probe.tar

export BERTH_SUBUID_FILE=$T_DIR/subuid BERTH_SUBGID_FILE=$T_DIR/subgid
# Other owners' entries, which berth's entry must stay clear of and keep.
printf 'alice:100000:65536\nbob:165536:65536\n' >"$BERTH_SUBUID_FILE"
printf 'alice:100000:65536\ncarol:400000:65536\n' >"$BERTH_SUBGID_FILE"
NET=10.$((100 + $$ % 100)).$((($$ / 100) % 200 + 20))

# ranges: "uid gid" of each container the store's record holds, sorted.
ranges() {
    python3 -c '
import json, sys
try:
    rec = json.load(open(sys.argv[1]))
except FileNotFoundError:
    sys.exit(0)
for r in sorted(rec["ranges"].values(), key=lambda r: r["uid"]):
    print(r["uid"], r["gid"])' "$BERTH_ROOT/userns.json"
}

# map_of PROJECT SERVICE: the uid_map and gid_map of an exec'd process.
map_of() {
    bz "$1" exec -T "$2" sh -c 'cat /proc/self/uid_map /proc/self/gid_map' | awk '{print $2, $3}' | tr '\n' ' '
}

# --- bad input: the subordinate ID file cannot be written ----------------------------
new_project unsbad >/dev/null <<'EOF'
services:
  app:
    image: berth-test/probe
    command: ["sleep", "3600"]
    userns_mode: auto
EOF
rc=0
out=$(BERTH_SUBUID_FILE=$T_DIR/missing/subuid bz unsbad up -d 2>&1) || rc=$?
check "up fails when berth's subordinate IDs cannot be added" [ "$rc" -ne 0 ]
expect_contains "the error names the file:line, service and key" "$out" \
    'compose.yaml:5:5: service "app": userns_mode auto'
expect_contains "the error names the file" "$out" "$T_DIR/missing/subuid"
expect_eq "the error is one line" "$(grep -c . <<<"$out" | tr -d ' ')" 1
check "nothing was made (no container)" [ -z "$(ls -A "$BERTH_ROOT/containers" 2>/dev/null)" ]
check "nothing was made (no network)" [ -z "$(ls -A "$BERTH_ROOT/network/nets" 2>/dev/null)" ]
expect_eq "the files are unchanged" "$(cat "$BERTH_SUBGID_FILE")" \
    "$(printf 'alice:100000:65536\ncarol:400000:65536')"

# --- two containers, a bind mount, the image's files ------------------------------------
mkdir -p "$T_DIR/shared"
chmod 1777 "$T_DIR/shared"
proj=$(new_project uns <<EOF
services:
  one:
    image: berth-test/probe
    command: ["sleep", "3600"]
    userns_mode: auto
    stop_signal: SIGKILL
    volumes:
      - $T_DIR/shared:/shared
      - data:/data
    secrets:
      - source: tok
        uid: "1000"
        mode: 0400
    networks: [net]
    healthcheck:
      test: ["CMD-SHELL", "cat /proc/self/uid_map > /tmp/hc"]
      interval: 1s
      start_interval: 1s
  two:
    image: berth-test/probe
    command: ["sleep", "3600"]
    userns_mode: auto
    stop_signal: SIGKILL
    environment: [GEN=1]
    network_mode: none
  host:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    network_mode: none
networks:
  net:
    ipam:
      config: [{subnet: $NET.0/24}]
volumes:
  data:
secrets:
  tok:
    file: ./tok.txt
EOF
)
echo s3cret >"$proj/tok.txt"
out=$(bz uns up -d 2>&1) || fail "up failed: $out"
expect_not_contains "userns_mode auto is not refused" "$out" "userns_mode"

# The entry: above every other of both files (carol ends at 465536), the
# other lines kept.
expect_eq "berth's entry is added to subuid, the rest kept" "$(cat "$BERTH_SUBUID_FILE")" \
    "$(printf 'alice:100000:65536\nbob:165536:65536\nberth:524288:16777216')"
expect_eq "berth's entry is added to subgid, the rest kept" "$(cat "$BERTH_SUBGID_FILE")" \
    "$(printf 'alice:100000:65536\ncarol:400000:65536\nberth:524288:16777216')"

r=$(ranges)
expect_eq "two ranges are recorded" "$(wc -l <<<"$r" | tr -d ' ')" 2
one=$(map_of uns one) || true
two=$(map_of uns two) || true
read -r u1 _ <<<"$one"
read -r u2 _ <<<"$two"
expect_eq "one's uid_map and gid_map: 0 -> its range, 65536 IDs" "$one" "$u1 65536 $u1 65536 "
check "one's range is recorded ($u1)" grep -q "^$u1 $u1\$" <<<"$r"
check "two's range is recorded ($u2)" grep -q "^$u2 $u2\$" <<<"$r"
check "the ranges are disjoint ($u1, $u2)" [ $((u1 - u2)) -ge 65536 -o $((u2 - u1)) -ge 65536 ]
check "the ranges lie in berth's entry" [ "$u1" -ge 524288 -a "$u2" -ge 524288 ]
init_map=$(bz uns exec -T one cat /proc/1/uid_map | awk '{print $2}') || true
expect_eq "the container's init has the same map" "$init_map" "$u1"
expect_eq "a container without the key stays in the host's" \
    "$(bz uns exec -T host cat /proc/self/uid_map | awk '{print $1, $2, $3}')" "0 0 4294967295"
check "the healthcheck runs in the user namespace" \
    wait_until 10 bz uns exec -T one sh -c "grep -q ' $u1 ' /tmp/hc"

# Root inside is the range's first ID on the host.
bz uns exec -T one sh -c 'echo hi > /shared/from-root; mkdir /shared/dir' ||
    fail "root inside cannot write the bind mount"
expect_eq "a file root wrote to the bind mount is the range's first ID's" \
    "$(stat -c '%u:%g' "$T_DIR/shared/from-root")" "$u1:$u1"
expect_eq "so is a directory" "$(stat -c '%u:%g' "$T_DIR/shared/dir")" "$u1:$u1"
host_pid=$(pgrep -f -n "sleep 3600" -U "$u1" || true)
check "the container's process runs as the range's first ID on the host" [ -n "$host_pid" ]
# The image's files are root's inside (idmapped layers), not nobody's.
expect_eq "a secret's uid is the one asked, inside the user namespace" \
    "$(bz uns exec -T one stat -c '%u:%g %a' /run/secrets/tok 2>&1)" "1000:0 400"
expect_eq "the image's files are root's inside" \
    "$(bz uns exec -T one stat -c '%u:%g' /bin /etc/passwd | tr '\n' ' ')" "0:0 0:0 "
expect_eq "root inside can change an image file's owner" \
    "$(bz uns exec -T one sh -c 'chown 5:6 /etc/group && stat -c %u:%g /etc/group')" "5:6"
upper=$(for f in "$BERTH_ROOT"/containers/*/upper/etc/group; do
    [ "$(stat -c %u:%g "$f")" = "$((u1 + 5)):$((u1 + 6))" ] && echo "$f"
done) || true
check "the copied-up file is owned by the mapped IDs on the host" [ -n "$upper" ]
# Capabilities are the namespace's: root inside cannot reach the host's.
expect_eq "root inside cannot load a kernel module's worth of privilege (mknod)" \
    "$(bz uns exec -T one sh -c 'mknod /tmp/sda b 8 0 2>/dev/null && echo made || echo denied')" denied
# A named volume's data directory belongs to the range's root.
bz uns exec -T one sh -c 'echo v > /data/v' || fail "root inside cannot write its named volume"
# /sys/fs/cgroup shows the container's own cgroup (each v1 hierarchy's
# directory bound on hybrid hosts, where v1 cannot be mounted in a user
# namespace), not the host's tree.
cg=$(bz uns exec -T one sh -c 'find /sys/fs/cgroup -mindepth 2 -type d | head -3; echo ---
    cat /sys/fs/cgroup/pids/cgroup.procs /sys/fs/cgroup/cgroup.procs 2>/dev/null | wc -l') || true
expect_eq "/sys/fs/cgroup holds no other cgroup than the container's" "${cg%%---*}" ""
check "/sys/fs/cgroup lists the container's processes" [ "${cg##*---}" -ge 1 ] 2>/dev/null
check "the device nodes work" bz uns exec -T one sh -c 'head -c 4 /dev/urandom | wc -c | grep -q 4 && echo > /dev/null'

check "idmapped layers: no copies of them are made" [ ! -e "$BERTH_ROOT/userns-layers" ]

# --- recreation and down free the ranges ------------------------------------------------
sed -i 's/GEN=1/GEN=2/' "$proj/compose.yaml"
out=$(bz uns up -d 2>&1) || fail "up of the changed file failed: $out"
two2=$(map_of uns two) || true
read -r u2b _ <<<"$two2"
check "the recreated container gets a fresh range ($u2 -> $u2b)" [ "$u2b" != "$u2" ]
r=$(ranges)
expect_not_contains "its old range is freed" "$r" "$u2 "
expect_eq "two ranges are recorded after the recreate" "$(wc -l <<<"$r" | tr -d ' ')" 2

# berth run: a one-off container with a range of its own, freed with --rm.
run_map=$(bz uns run --rm -T two cat /proc/self/uid_map | awk '{print $2}') || true
check "run gets a range of its own ($run_map)" [ -n "$run_map" -a "$run_map" != "$u1" -a "$run_map" != "$u2b" ]
expect_eq "run --rm frees it" "$(ranges | wc -l | tr -d ' ')" 2

out=$(bz uns down -t 1 -v 2>&1) || fail "down failed: $out"
expect_eq "down frees every range" "$(ranges)" ""
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$BERTH_ROOT/userns.json" ||
    fail "userns.json is not valid JSON after down"

# --- where the layers refuse idmapped mounts: the range's own copies ---------------------
# BERTH_USERNS_LAYERS=copy makes berth take the path of a file system
# without idmapped mounts. The image holds what a copy must keep: setuid
# modes, hard and symbolic links, a FIFO, owners inside and past the
# range, a file deleted in a later layer (its whiteout). `up` makes the
# copies, not the supervisor (whose loop would wait for them): here the
# supervisor runs first, without the knob, for another service.
proj=$(new_project unscp <<'EOF'
services:
  other:
    image: berth-test/probe
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    network_mode: none
  app:
    build: .
    image: berth-test/uns-copy
    command: ["sleep", "3600"]
    userns_mode: auto
    stop_signal: SIGKILL
    network_mode: none
EOF
)
cat >"$proj/Dockerfile" <<'EOF'
FROM berth-test/probe
RUN mkdir /t && echo s > /t/suid && chmod 4755 /t/suid && ln /t/suid /t/hard && \
    ln -s suid /t/sym && mkfifo /t/fifo && echo u > /t/u1000 && chown 1000:1001 /t/u1000 && \
    chmod 640 /t/u1000 && echo f > /t/far && chown 70000:70000 /t/far && echo gone > /t/gone
RUN rm /t/gone
EOF
out=$(bz unscp up -d other 2>&1) || fail "up of the other service failed: $out"
out=$(BERTH_USERNS_LAYERS=copy bz unscp up -d 2>&1) || fail "up with copied layers failed: $out"
read -r uc _ <<<"$(map_of unscp app)" || true
check "the container has a range ($uc)" [ -n "$uc" ]
copies=$BERTH_ROOT/userns-layers/$uc-$uc
n_layers=$(find "$copies" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' 2>/dev/null | wc -l) || true
want_layers=$("$BERTH" image inspect -f '{{json .RootFS.Layers}}' berth-test/uns-copy |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') || true
expect_eq "a copy of each of the image's layers" "$n_layers" "$want_layers"
owners=$(find "$copies" -mindepth 1 -maxdepth 1 -type d -printf '%U:%G\n' 2>/dev/null | sort -u) || true
expect_eq "the copies' roots belong to the range's root on the host" "$owners" "$uc:$uc"
suid_copy=$(find "$copies" -path '*/t/suid' 2>/dev/null | head -1) || true
expect_eq "a copied file is owned in the range on the host" \
    "$(stat -c '%u:%g %a' "$suid_copy" 2>&1)" "$uc:$uc 4755"
inside=$(bz unscp exec -T app sh -c 'stat -c "%n %u:%g %a %h %F" /bin /t/suid /t/hard /t/u1000 /t/far /t/sym /t/fifo; ls /t') || true
links=$(bz unscp exec -T app stat -c %i /t/suid /t/hard | sort -u | wc -l) || true
expect_contains "the image's files are root's inside" "$inside" "/bin 0:0 755"
expect_contains "a setuid file keeps its mode and its hard link" "$inside" "/t/suid 0:0 4755 2 regular file"
expect_contains "the hard link keeps its mode" "$inside" "/t/hard 0:0 4755 2 regular file"
expect_eq "the hard link is the same file (one inode)" "$links" 1
expect_contains "an owner inside the range is kept" "$inside" "/t/u1000 1000:1001 640"
expect_contains "an owner past the range is nobody" "$inside" "/t/far 65534:65534"
expect_contains "a symbolic link stays one" "$inside" "/t/sym 0:0 777 1 symbolic link"
expect_contains "a FIFO stays one" "$inside" "/t/fifo 0:0"
expect_contains "... of its type" "$inside" "fifo"
expect_not_contains "the file a later layer deleted stays deleted" "$inside" "gone"
# The container reads the copies, not the store's layers: overlayfs
# reports a lower file's own inode (one file system).
expect_eq "the container's file is the copy" \
    "$(bz unscp exec -T app stat -c %i /t/suid 2>&1)" "$(stat -c %i "$suid_copy")"
expect_eq "root inside can give a file of the image an owner" \
    "$(bz unscp exec -T app sh -c 'chown 7 /t/u1000 && stat -c %u /t/u1000')" 7
ino=$(stat -c %i "$copies" 2>&1) || true
cbz() { BERTH_USERNS_LAYERS=copy bz "$@"; }
check "restart keeps the container" cbz unscp restart -t 1 app
expect_eq "the copies are made once per range (kept across a restart)" \
    "$(stat -c %i "$copies" 2>&1)" "$ino"
expect_eq "after the restart, the files are still the copies'" \
    "$(bz unscp exec -T app stat -c %i /t/suid 2>&1)" "$(stat -c %i "$suid_copy")"
out=$(bz unscp down -t 1 2>&1) || fail "down failed: $out"
check "down frees the range and removes its copies" [ ! -e "$copies" ]
expect_eq "no range left" "$(ranges)" ""
"$BERTH" rmi berth-test/uns-copy >/dev/null 2>&1 || true

finish
