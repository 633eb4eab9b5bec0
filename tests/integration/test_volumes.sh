#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Volumes and mounts: named volumes (kept by down, removed by down -v,
# seeded from the image unless nocopy), anonymous volumes, bind mounts
# (read-only, relative to the project directory, missing host dirs made for
# the short syntax), tmpfs with a size, a read-only root with a writable
# tmpfs, and hostile targets: through image symlinks (E05), under /proc.
. "$(dirname "$0")/lib.sh"

load_image busybox-docker.tar

# An image whose symlinks try to lead mount targets out of the root: to a
# host directory by absolute path, by climbing with "..", and into /proc.
HOSTDIR=$T_DIR/hostdir
mkdir -p "$HOSTDIR" "$T_DIR/evil/etc"
echo "host file" >"$HOSTDIR/hostfile"
ln -s "$HOSTDIR" "$T_DIR/evil/abs"
ln -s "../../../../../../../../../../..$HOSTDIR" "$T_DIR/evil/climb"
ln -s /proc/sys "$T_DIR/evil/procsys"
ln -s /etc "$T_DIR/evil/etclink"
bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format docker --tag berth-test/evil:latest \
    --extra "$T_DIR/evil" "$T_DIR/evil.tar" >/dev/null
"$BERTH" load -i "$T_DIR/evil.tar" >/dev/null

vol_dir() { echo "$BERTH_ROOT/volumes/$1/_data"; }
# labelled TEXT: how many volumes have TEXT in their metadata
labelled() { cat "$BERTH_ROOT"/volumes/*/volume.json 2>/dev/null | grep -cF -- "$1" || true; }

# said OUTPUT SERVICE TEXT: SERVICE's log has a line containing TEXT.
said() { printf '%s\n' "$1" | grep "^$2 " | grep -qF -- "| $3"; }

# --- named volumes: seeded from the image, kept by down, removed by -v ------
new_project vols >/dev/null <<'EOF2'
services:
  app:
    image: busybox
    command: ["sh", "-c", "cat /data/note 2>/dev/null || echo no-note; echo kept >/data/note; test -f /etc/passwd && echo etc-seeded; stat -c 'tmp %a' /tmp"]
    volumes:
      - data:/data
      - etc:/etc
      - tmpvol:/tmp
  nocopy:
    image: busybox
    command: ["sh", "-c", "echo files: $(ls /etc | grep -cvxE 'hostname|hosts|resolv.conf')"]
    volumes:
      - type: volume
        source: bare
        target: /etc
        volume:
          nocopy: true
volumes:
  data:
  etc:
  bare:
  tmpvol:
    labels:
      tier: test
EOF2
out=$(bz vols up 2>&1) || fail "up with volumes failed: $out"
check "a new volume starts empty" said "$out" app-1 "no-note"
check "a new volume is seeded from the image (/etc)" said "$out" app-1 "etc-seeded"
check "the seed is in the volume on the host" test -f "$(vol_dir vols_etc)/passwd"
check "the seeded volume takes the image's mode (/tmp: 1777)" said "$out" app-1 "tmp 1777"
check "nocopy: the volume is not seeded" said "$out" nocopy-1 "files: 0"
# (but for the mount points of the generated /etc files, as in docker)
check "nocopy volume stays empty on the host" \
    test -z "$(ls -A "$(vol_dir vols_bare)" | grep -vxE 'hostname|hosts|resolv.conf')"
check "volume labels recorded" grep -q '"tier": "test"' "$BERTH_ROOT/volumes/vols_tmpvol/volume.json"
check "volume project label recorded" grep -q '"com.docker.compose.project": "vols"' \
    "$BERTH_ROOT/volumes/vols_data/volume.json"

out=$(bz vols down 2>&1) || fail "down failed: $out"
check "down keeps named volumes" test -f "$(vol_dir vols_data)/note"
out=$(bz vols up 2>&1) || fail "second up failed: $out"
check "a named volume persists across down and up" said "$out" app-1 "kept"
echo "changed in the image? no: in the volume" >"$(vol_dir vols_etc)/marker"
out=$(bz vols up 2>&1) || fail "third up failed: $out"
check "a used volume is never seeded again" test -f "$(vol_dir vols_etc)/marker"
out=$(bz vols down -v 2>&1) || fail "down -v failed: $out"
for v in vols_data vols_etc vols_tmpvol vols_bare; do
    check "down -v removes volume $v" test ! -e "$BERTH_ROOT/volumes/$v"
done

# --- anonymous volumes ------------------------------------------------------
new_project anon >/dev/null <<'EOF'
services:
  app:
    image: busybox
    command: ["sh", "-c", "cat /cache/n 2>/dev/null || echo fresh; echo again >/cache/n"]
    volumes:
      - /cache
EOF
out=$(bz anon up 2>&1) || fail "up with an anonymous volume failed: $out"
check "an anonymous volume starts empty" said "$out" app-1 "fresh"
anon_vols=$(labelled '"com.docker.volume.anonymous"')
expect_eq "one anonymous volume, labelled" "$anon_vols" "1"
out=$(bz anon up 2>&1) || fail "second up failed: $out"
check "the same container finds its anonymous volume again" said "$out" app-1 "again"
expect_eq "... and labelled with its project" "$(labelled '"com.docker.compose.project": "anon"')" "1"
bz anon down >/dev/null 2>&1 || fail "down of anon failed"
left=$(labelled '"com.docker.compose.project": "anon"')
expect_eq "down removes the container's anonymous volume" "$left" "0"

# --- bind mounts --------------------------------------------------------------
new_project binds >/dev/null <<'EOF'
services:
  app:
    image: busybox
    command: ["sh", "-c", "cat /conf/file; touch /ro/x 2>&1 | grep -o 'Read-only file system'; echo rw >/rw/out; ls -d /made; cat /single.txt"]
    volumes:
      - ./conf:/conf
      - ./conf:/ro:ro
      - ./rw:/rw
      - ./made/by/up:/made
      - ./single.txt:/single.txt:ro
EOF
proj=$T_DIR/binds
mkdir -p "$proj/conf" "$proj/rw"
echo "relative bind" >"$proj/conf/file"
echo "a single file" >"$proj/single.txt"
out=$(cd / && "$BERTH" -f "$proj/compose.yaml" up 2>&1) || fail "up with binds failed: $out"
expect_contains "a relative bind source resolves against the project directory" "$out" "relative bind"
expect_contains "a read-only bind refuses writes (EROFS)" "$out" "Read-only file system"
check "the read-only bind wrote nothing" test ! -e "$proj/conf/x"
check "a read-write bind writes to the host" grep -q rw "$proj/rw/out"
check "the short syntax creates a missing host directory" test -d "$proj/made/by/up"
expect_contains "a file can be bind-mounted" "$out" "a single file"

new_project longbind >/dev/null <<'EOF'
services:
  app:
    image: busybox
    command: ["true"]
    volumes:
      - type: bind
        source: ./absent
        target: /absent
EOF
rc=0
out=$(bz longbind up 2>&1) || rc=$?
check "the long syntax does not create a missing source" test "$rc" -ne 0
expect_contains "a missing long-syntax source is named" "$out" "bind source path does not exist"
check "nothing created for it" test ! -e "$T_DIR/longbind/absent"

# --- tmpfs and a read-only root ----------------------------------------------
new_project tmpfs >/dev/null <<'EOF'
services:
  app:
    image: busybox
    read_only: true
    command: ["sh", "-c", "grep ' /scratch ' /proc/mounts; grep ' /big ' /proc/mounts; stat -c '%a' /tmp; touch /tmp/ok && echo tmp-writable; touch /nope 2>&1 | grep -o 'Read-only file system'; touch /ro-tmp/x 2>&1 | grep -o 'Read-only file system'; grep ' /ro-tmp ' /proc/mounts"]
    tmpfs:
      - /tmp
      - /scratch:size=1m,mode=700
    volumes:
      - type: tmpfs
        target: /big
        tmpfs:
          size: 2097152
      - type: tmpfs
        target: /ro-tmp
        read_only: true
EOF
out=$(bz tmpfs up 2>&1) || fail "up with tmpfs failed: $out"
expect_contains "tmpfs with size (short syntax)" "$out" "size=1024k"
expect_contains "tmpfs mode" "$out" "mode=700"
expect_contains "tmpfs with size (long syntax)" "$out" "size=2048k"
check "a tmpfs defaults to mode 1777" said "$out" app-1 "1777"
expect_contains "read_only root: a tmpfs at /tmp is writable" "$out" "tmp-writable"
expect_contains "read_only root refuses writes elsewhere" "$out" "Read-only file system"
n_ro=$(printf '%s\n' "$out" | grep -c 'Read-only file system' || true)
expect_eq "a read-only tmpfs refuses writes too" "$n_ro" "2"
# ... because it is a tmpfs mounted read-only, not the read-only root
# under a directory that was never mounted.
expect_contains "read_only_tmpfs_is_mounted_ro: /ro-tmp is a read-only tmpfs" "$out" " /ro-tmp tmpfs ro,"

# --- hostile targets -----------------------------------------------------------
new_project e05 >/dev/null <<'EOF'
services:
  app:
    image: berth-test/evil
    command: ["sh", "-c", "cat /abs/x/file; cat /climb/y/file; cat /etclink/z/file; ls /etc/z"]
    volumes:
      - ./src:/abs/x:ro
      - ./src:/climb/y:ro
      - ./src:/etclink/z:ro
EOF
proj=$T_DIR/e05
mkdir -p "$proj/src"
echo "inside" >"$proj/src/file"
out=$(bz e05 up 2>&1) || fail "up with symlinked targets failed: $out"
n_inside=$(printf '%s\n' "$out" | grep -c '| inside$' || true)
expect_eq "targets through image symlinks are mounted inside the root" "$n_inside" "3"
check "a symlink inside the image is followed inside it" said "$out" app-1 "file"
check "the host directory the image pointed at is untouched" \
    test "$(ls -A "$HOSTDIR")" = "hostfile"
expect_eq "no mount appeared on the host or outlived its container" "$(mount_leaks)" ""

# CVE-2021-30465: a container sharing a volume swaps a directory for a
# symlink to / while another container's targets lie below it. Wherever a
# swap falls, the targets resolve inside the second container's root or the
# volume: nothing appears on the host.
new_project volrace >/dev/null <<'EOF'
services:
  flipper:
    image: busybox
    stop_signal: SIGKILL
    command: ["sh", "-c", "mkdir -p /vol/x; while :; do mv /vol/x /vol/y; ln -s / /vol/x; rm /vol/x; mv /vol/y /vol/x; done"]
    volumes:
      - shared:/vol
  victim:
    image: busybox
    depends_on: [flipper]
    command: ["true"]
    volumes:
      - shared:/vol
      - ./src:/vol/x/b1:ro
      - ./src:/vol/x/b2:ro
      - ./src:/vol/x/deeper/b3:ro
    tmpfs:
      - /vol/x/t1
      - /vol/x/t2
      - /vol/x/deeper/t3
volumes:
  shared:
EOF
mkdir -p "$T_DIR/volrace/src"
race_fail=0
race_ran=0
race_refused=0
for i in $(seq 1 10); do
    # A run counts only if the victim's mounts were made while the flipper
    # ran, or refused because the swap took a target away mid-resolution:
    # an up that fails for another reason proves nothing about the race.
    rc=0
    out=$(bz volrace up --abort-on-container-exit 2>&1) || rc=$?
    if [ "$rc" -eq 0 ] && contains "$out" "victim-1 exited with code 0" &&
        contains "$out" "flipper-1 exited with code 137"; then
        race_ran=$((race_ran + 1))
    elif [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -qE \
        '^berth: container volrace-victim-1: .*mounting /vol/x/[a-z0-9/]+: (opening|creating) the target: No such file or directory$'; then
        race_refused=$((race_refused + 1))
    else
        say "volrace run $i: up exited $rc:"
        printf '%s\n' "$out" | sed 's/^/    | /' | head -20 >&2
    fi
    for n in b1 b2 b3 t1 t2 t3 deeper; do
        [ -e "/$n" ] && race_fail=1
    done
done
expect_eq "E05_symlink_swap_race: every run mounted the victim's targets or lost one to the swap" \
    "$((race_ran + race_refused))" "10"
check "E05_symlink_swap_race: the victim started in some runs (${race_ran} of 10)" test "$race_ran" -ge 1
expect_eq "the symlink-swap race never reaches the host" "$race_fail" "0"
expect_eq "no mount appeared on the host or outlived a container during the race" \
    "$(mount_leaks)" ""
bz volrace down -v >/dev/null 2>&1

new_project procvol >/dev/null <<'EOF'
services:
  app:
    image: busybox
    command: ["true"]
    volumes:
      - ./x:/proc/sys/kernel
EOF
rc=0
out=$(bz procvol up 2>&1) || rc=$?
check "a target under /proc is refused" test "$rc" -ne 0
expect_contains "the refusal names the service and the target" "$out" "service \"app\""
expect_contains "the refusal names the target" "$out" "/proc/sys/kernel"

new_project volprocsym >/dev/null <<'EOF'
services:
  app:
    image: berth-test/evil
    command: ["true"]
    tmpfs:
      - /procsys/kernel
EOF
rc=0
out=$(bz volprocsym up 2>&1) || rc=$?
check "a target reaching /proc through an image symlink is refused" test "$rc" -ne 0
expect_contains "the runtime refusal names the target" "$out" "/procsys/kernel"
expect_contains "the runtime refusal says why" "$out" "/proc or /sys"

# --- the image's VOLUMEs: anonymous volumes, seeded, kept across recreate ------
mkdir -p "$T_DIR/imgvol/data"
echo "from-image" >"$T_DIR/imgvol/data/seed.txt"
bash "$BERTH_SRC/scripts/mkimage-busybox.sh" --format docker --tag berth-test/imgvol:latest \
    --extra "$T_DIR/imgvol" --volume /data --volume /cache "$T_DIR/imgvol.tar" >/dev/null
"$BERTH" load -i "$T_DIR/imgvol.tar" >/dev/null
new_project imgvol >/dev/null <<'EOF'
services:
  db:
    image: berth-test/imgvol
    command: ["sh", "-c", "cat /data/seed.txt; cat /data/mine 2>/dev/null || echo first-run; echo mine >/data/mine; grep -c ' /cache ' /proc/self/mountinfo"]
    volumes:
      - /srv/override:/cache
EOF
# anon_of PROJECT: how many anonymous volumes the project has
anon_of() { grep -l '"com.docker.volume.anonymous"' "$BERTH_ROOT"/volumes/*/volume.json 2>/dev/null | xargs -r grep -l "$1" | wc -l || true; }
out=$(bz imgvol up 2>&1) || fail "up with image VOLUMEs failed: $out"
check "the image's VOLUME is seeded from the image" said "$out" db-1 "from-image"
check "it starts empty of the container's own files" said "$out" db-1 "first-run"
check "a service mount on a VOLUME's path replaces it (one mount)" said "$out" db-1 "1"
anon=$(anon_of imgvol)
expect_eq "one anonymous volume for /data (none for the overridden /cache)" "$anon" "1"
out=$(bz imgvol up --force-recreate 2>&1) || fail "recreate failed: $out"
check "a recreated container keeps its anonymous volume" said "$out" db-1 "mine"
bz imgvol down >/dev/null 2>&1 || fail "down failed"
anon=$(anon_of imgvol)
expect_eq "down removes the anonymous volume" "$anon" "0"

# --- nothing left behind ---------------------------------------------------------
for p in "${T_PROJECTS[@]}"; do
    bz "$p" down -v -t 1 >/dev/null 2>&1 || fail "down -v of $p failed"
done
check "no volume (nor a half-made or half-removed one) is left after down -v" \
    test -z "$(ls -A "$BERTH_ROOT/volumes" 2>/dev/null)"
check "no mount is left on the host" test -z "$(grep -F "$T_DIR" /proc/self/mountinfo)"

finish
