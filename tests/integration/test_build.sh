#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth image build end to end, from the busybox fixture image loaded into
# the test's store, every build with a context under the test's directory:
# each instruction's effect in a container of the result and in `image
# inspect`; whiteouts and opaque directories across steps and stages;
# multi-stage builds, --target and stages left out; the cache (a rebuild
# all CACHED with the same ID, a changed file invalidating from its COPY
# on, --no-cache, a changed build arg); bad input, each one clear line
# naming the Dockerfile line and nothing half-stored; the RUN network made
# and removed, and what a killed build left removed by the next one; a
# built image pushed to a registry on 127.0.0.1 and read back by skopeo
# with the same digest, and saved for skopeo.
# Traffic: a python3 http.server and Debian's docker-registry, both on
# 127.0.0.1 (ports from 4000 + $$ % 1990, a range no other test uses). RUN
# steps send nothing anywhere.
. "$(dirname "$0")/lib.sh"

docker_tar=$BERTH_TEST_IMAGES/busybox-docker.tar
[ -f "$docker_tar" ] || { echo "FAIL: missing test image $docker_tar" >&2; exit 1; }
load_image busybox-docker.tar
B=$T_DIR/ctx # the build contexts, one directory each

# bi ARGS...: berth image build; the output (both streams) in $out, the
# exit status in $rc. Its pid is noted: the builder names its RUN
# containers (and their cgroups) build-PID-N.
bi_pids=()
bi() {
    rc=0
    "$BERTH" image build "$@" >"$T_DIR/bi.out" 2>&1 &
    bi_pids+=($!)
    wait $! || rc=$?
    out=$(cat "$T_DIR/bi.out")
}
# iid REF: the image's ID ("" when there is none).
iid() { "$BERTH" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
# insp REF PYEXPR: PYEXPR with i = the image's `image inspect` object and
# c = its config blob (history), printed (a str as is, else as JSON).
insp() {
    "$BERTH" image inspect "$1" 2>/dev/null | python3 -c '
import json, os, sys
try:
    i = json.load(sys.stdin)[0]
    c = json.load(open(os.environ["BERTH_ROOT"] + "/blobs/sha256/" + i["Id"].split(":")[1]))
    v = eval(sys.argv[1])
except Exception as x:
    sys.exit("(no answer: %r)" % x)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$2" 2>&1 || true
}
# crun REF [COMMAND...]: a one-off container of REF (no network), removed
# after; its output in $out, its status in $rc.
new_project buildrun >/dev/null <<EOC
services:
  s:
    image: busybox
    network_mode: none
EOC
crun() {
    cat >"$T_DIR/buildrun/compose.yaml" <<EOC
services:
  s:
    image: $1
    network_mode: none
EOC
    shift
    rc=0
    out=$(bz buildrun run --rm -T s "$@" 2>&1) || rc=$?
}
# field KEY: the value of "KEY=..." in $out (the probes print such lines).
field() { sed -n "s/^$1=//p" <<<"$out" | head -n1; }
# step_state OUT TEXT: "cached" when the step whose line shows TEXT is
# reported CACHED, "ran" when it ran, "absent" when no step shows TEXT.
# Steps as docker's plain progress prints them: "#N [2/5] RUN ..." and
# "#N CACHED" (or the same line ending in CACHED).
step_state() {
    python3 - "$1" "$2" <<'PY'
import re, sys
out, text = sys.argv[1], sys.argv[2]
lines = out.splitlines()
for i, l in enumerate(lines):
    if text not in l:
        continue
    m = re.match(r"\s*(#\d+)\s", l)
    if m:
        cached = any(x.split() == [m.group(1), "CACHED"] for x in lines)
    else:
        cached = "CACHED" in l or (i + 1 < len(lines) and lines[i + 1].strip() == "CACHED")
    print("cached" if cached else "ran")
    sys.exit(0)
print("absent")
PY
}
# error_lines: the lines of $out that say an error ("berth: ..." or
# "ERROR..."), one expected.
error_lines() { grep -cE '^(berth:|ERROR|error)' <<<"$out" || true; }
# The store's images and the build's leftovers, to compare around a
# failure: nothing half-stored, no scratch directory, no mount under the
# test's directory, no process of this store, no RUN cgroup.
images_now() { "$BERTH" image ls -q --no-trunc 2>/dev/null | sort || true; }
build_leftovers() {
    local d
    for d in "$BERTH_ROOT"/tmp/build-*; do
        [ -e "$d" ] && echo "scratch $d"
    done
    grep -F "$T_DIR" /proc/self/mountinfo | awk '{print "mount " $5}'
    find /sys/fs/cgroup/*/"$T_CGBASE" /sys/fs/cgroup/"$T_CGBASE" -mindepth 1 -type d 2>/dev/null |
        sed 's/^/cgroup /'
    local pids="${bi_pids[*]}"
    find /sys/fs/cgroup -maxdepth 6 -type d -name 'build-*' 2>/dev/null |
        awk -v pids=" $pids " '{ n = split($0, p, "/"); split(p[n], f, "-")
            if (index(pids, " " f[2] " ")) print "cgroup " $0 }'
    cgroup_procs
    store_procs
    return 0
}
expect_no_leftovers() { # expect_no_leftovers WHAT
    local left
    left=$(build_leftovers)
    for _ in $(seq 1 20); do
        [ -z "$left" ] && break
        sleep 0.1
        left=$(build_leftovers)
    done
    expect_eq "$1: nothing left (scratch dirs, mounts, cgroups, processes)" "$left" ""
}
# The bridges and nftables tables on the host (others' included), to find
# the ones a build makes.
bridges_now() { ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | sort; }
tables_now() {
    if command -v nft >/dev/null; then nft list tables 2>/dev/null | grep -i build | sort; fi
    return 0
}
# build_bridges: the bridges this store's network records name (a build's
# network among them), else the bridges new since $br0 (others' tests may
# make some too: the records are preferred).
build_bridges() {
    local rec r=""
    for rec in "$BERTH_ROOT"/network/nets/*.json; do
        [ -e "$rec" ] && r+=$(sed -n 's/.*"bridge": "\([A-Za-z0-9_.-]*\)".*/\1/p' "$rec")$'\n'
    done
    [ -n "${r//$'\n'/}" ] || r=$(comm -13 <(echo "$br0") <(bridges_now))
    grep . <<<"$r" || true
}
# build_tables: the nftables tables of this store's build networks, named
# after their records (berth-build-HEX.json: table inet berth-build.HEX);
# other tests' builds may have tables of their own at the same time.
build_tables() {
    local rec hex
    for rec in "$BERTH_ROOT"/network/nets/*.json; do
        [ -e "$rec" ] || continue
        hex=${rec##*/}
        hex=${hex%.json}
        hex=${hex##*[-.]}
        tables_now | grep -F "$hex" || true
    done
    return 0
}

# ------------------------------------------------------------------------
# Every instruction: one image whose steps leave their marks.
mkdir -p "$B/instr"
cat >"$B/instr/ep.sh" <<'EOF'
echo "ep-ran"
exec "$@"
EOF
cat >"$B/instr/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
ARG BASE=no-such-base-image
ARG GREETING=hi-default
FROM --platform=$BUILDPLATFORM ${BASE}:latest AS base
ARG GREETING
ARG STAGEARG=stage-default
ENV E1=one E2="two words"
ENV E3 legacy form
ENV E4=${E1:-x}-${NOPE:-fallback}-${E1:+plus}-${NOPE:+never}
LABEL org.test.a="label a" org.test.b=b
LABEL org.test.sub=$E1
EXPOSE 8080 9090/udp
RUN echo "shell $GREETING $STAGEARG $E4" > /shell.txt
RUN ["/bin/sh", "-c", "echo exec-form $E1 > /exec.txt"]
RUN <<EOT
echo heredoc-line1 > /heredoc.txt
echo heredoc-line2 >> /heredoc.txt
EOT
WORKDIR /work/dir
RUN pwd > /pwd.txt
WORKDIR sub
SHELL ["/bin/sh", "-c", "echo \"$0\" > /shell-name.txt; eval \"$1\"", "custom-shell"]
RUN echo after-shell > /after-shell.txt
COPY ep.sh /ep.sh
VOLUME ["/data", "/data2"]
VOLUME /data3
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD test -f /shell.txt
STOPSIGNAL SIGUSR1
USER app
RUN id -un > /tmp/user-name.txt
USER 1000:50
RUN id -u > /tmp/user-num.txt && id -g >> /tmp/user-num.txt
ONBUILD RUN echo onbuild-ran > /tmp/onbuild.txt
ENTRYPOINT ["/bin/sh", "/ep.sh"]
CMD ["cat", "/shell.txt"]
EOF
bi -t bt/instr:1 --build-arg BASE=busybox --build-arg GREETING=hi-override "$B/instr"
expect_eq "instr: the build succeeds ($out)" "$rc" 0
check "instr: the image is tagged" test -n "$(iid bt/instr:1)"

# The container: default command through the entrypoint, then probes.
crun bt/instr:1
expect_eq "instr: the default command runs" "$rc" 0
expect_eq "instr: ENTRYPOINT runs CMD; ARG before FROM and in the stage, --build-arg, ENV substitution" \
    "$out" "$(printf 'ep-ran\nshell hi-override stage-default one-fallback-plus-')"
crun bt/instr:1 sh -c 'echo "exec=$(cat /exec.txt)"; echo "heredoc=$(cat /heredoc.txt | paste -sd,)"
    echo "pwdbuild=$(cat /pwd.txt)"; echo "pwd=$(pwd)"; echo "shellname=$(cat /shell-name.txt)"
    echo "aftershell=$(cat /after-shell.txt)"; echo "username=$(cat /tmp/user-name.txt)"
    echo "usernum=$(cat /tmp/user-num.txt | paste -sd:)"; echo "uid=$(id -u):$(id -g)"
    echo "e2=$E2"; echo "e3=$E3"; echo "greeting=${GREETING-unset}"
    echo "onbuild=$(test -e /tmp/onbuild.txt && echo present || echo absent)"'
expect_eq "instr: a command through the entrypoint" "$rc" 0
expect_eq "instr: the entrypoint wraps the given command" "$(head -n1 <<<"$out")" "ep-ran"
expect_eq "instr: RUN exec form (the shell expands ENV at run time)" "$(field exec)" "exec-form one"
expect_eq "instr: RUN heredoc" "$(field heredoc)" "heredoc-line1,heredoc-line2"
expect_eq "instr: WORKDIR is made and RUN runs in it" "$(field pwdbuild)" "/work/dir"
expect_eq "instr: a relative WORKDIR, the container's cwd" "$(field pwd)" "/work/dir/sub"
expect_eq "instr: SHELL runs the later shell-form RUN" "$(field shellname)" "custom-shell"
expect_eq "instr: the RUN under SHELL did its work" "$(field aftershell)" "after-shell"
expect_eq "instr: USER by name from the image's /etc/passwd" "$(field username)" "app"
expect_eq "instr: USER numeric uid:gid at build time" "$(field usernum)" "1000:50"
expect_eq "instr: the container runs as the last USER" "$(field uid)" "1000:50"
expect_eq "instr: ENV with quotes" "$(field e2)" "two words"
expect_eq "instr: ENV legacy form" "$(field e3)" "legacy form"
expect_eq "instr: ARG is not in the image's environment" "$(field greeting)" "unset"
expect_eq "instr: ONBUILD does not run in the image itself" "$(field onbuild)" "absent"

# The image's config.
expect_eq "instr: Config.Entrypoint" "$(insp bt/instr:1 'i["Config"]["Entrypoint"]')" '["/bin/sh", "/ep.sh"]'
expect_eq "instr: Config.Cmd" "$(insp bt/instr:1 'i["Config"]["Cmd"]')" '["cat", "/shell.txt"]'
expect_eq "instr: Config.Env (base PATH kept, ENV in order, no ARG)" \
    "$(insp bt/instr:1 '[e for e in i["Config"]["Env"] if not e.startswith("PATH=")]')" \
    '["E1=one", "E2=two words", "E3=legacy form", "E4=one-fallback-plus-"]'
expect_contains "instr: Config.Env keeps the base's PATH" "$(insp bt/instr:1 'i["Config"]["Env"]')" '"PATH='
expect_eq "instr: Config.User" "$(insp bt/instr:1 'i["Config"]["User"]')" "1000:50"
expect_eq "instr: Config.WorkingDir" "$(insp bt/instr:1 'i["Config"]["WorkingDir"]')" "/work/dir/sub"
expect_eq "instr: Config.ExposedPorts" "$(insp bt/instr:1 'i["Config"]["ExposedPorts"]')" \
    '{"8080/tcp": {}, "9090/udp": {}}'
expect_eq "instr: Config.Volumes" "$(insp bt/instr:1 'i["Config"]["Volumes"]')" \
    '{"/data": {}, "/data2": {}, "/data3": {}}'
expect_eq "instr: Config.Labels (with substitution)" "$(insp bt/instr:1 'i["Config"]["Labels"]')" \
    '{"org.test.a": "label a", "org.test.b": "b", "org.test.sub": "one"}'
expect_eq "instr: Config.Healthcheck" "$(insp bt/instr:1 'i["Config"]["Healthcheck"]')" \
    '{"Interval": 5000000000, "Retries": 4, "Test": ["CMD-SHELL", "test -f /shell.txt"], "Timeout": 2000000000}'
expect_eq "instr: Config.StopSignal" "$(insp bt/instr:1 'i["Config"]["StopSignal"]')" "SIGUSR1"
expect_eq "instr: Config.Shell" "$(insp bt/instr:1 'i["Config"]["Shell"]')" \
    '["/bin/sh", "-c", "echo \"$0\" > /shell-name.txt; eval \"$1\"", "custom-shell"]'
expect_eq "instr: Config.OnBuild" "$(insp bt/instr:1 'i["Config"]["OnBuild"]')" \
    '["RUN echo onbuild-ran > /tmp/onbuild.txt"]'
expect_eq "instr: --platform=\$BUILDPLATFORM: this host's architecture" \
    "$(insp bt/instr:1 'i["Os"] + "/" + i["Architecture"]')" \
    "$(insp busybox 'i["Os"] + "/" + i["Architecture"]')"
# Layers: the base's, then one per RUN (7) and COPY (1), and one per
# WORKDIR that made its directory, as BuildKit does (0 to 2 here).
base_layers=$(insp busybox 'len(i["RootFS"]["Layers"])')
base_hist=$(insp busybox 'len(c.get("history", []))')
n_layers=$(insp bt/instr:1 'len(i["RootFS"]["Layers"])')
check "instr: RootFS.Layers: the base's + 8 (+ WORKDIRs): $base_layers + 8..10, got $n_layers" \
    test "$n_layers" -ge $((base_layers + 8)) -a "$n_layers" -le $((base_layers + 10))
expect_eq "instr: history entries with a layer = RootFS.Layers" \
    "$(insp bt/instr:1 'len([h for h in c["history"] if not h.get("empty_layer")])')" "$n_layers"
expect_eq "instr: rootfs.diff_ids = RootFS.Layers" \
    "$(insp bt/instr:1 'c["rootfs"]["diff_ids"] == i["RootFS"]["Layers"]')" "true"
# History: the base's, then one entry per instruction but FROM and ARG
# (BuildKit's): the stage's 29 instructions, 3 of them FROM or ARG.
expect_eq "instr: history: the base's + one per instruction but FROM and ARG" \
    "$(insp bt/instr:1 'len(c["history"])')" "$((base_hist + 26))"
expect_contains "instr: history names the instructions" \
    "$(insp bt/instr:1 '[h.get("created_by", "") for h in c["history"]]')" "STOPSIGNAL SIGUSR1"

# ONBUILD: the trigger runs in a child built FROM the image;
# HEALTHCHECK NONE switches the parent's off.
mkdir -p "$B/child"
cat >"$B/child/Dockerfile" <<'EOF'
FROM bt/instr:1
HEALTHCHECK NONE
RUN cat /tmp/onbuild.txt > /tmp/child-saw.txt
EOF
bi -t bt/child:1 "$B/child"
expect_eq "onbuild: the child build succeeds ($out)" "$rc" 0
crun bt/child:1 cat /tmp/child-saw.txt
expect_eq "onbuild: the trigger ran before the child's own steps" "$out" "$(printf 'ep-ran\nonbuild-ran')"
expect_eq "onbuild: HEALTHCHECK NONE" "$(insp bt/child:1 'i["Config"]["Healthcheck"]')" '{"Test": ["NONE"]}'
expect_eq "onbuild: the child's OnBuild is consumed" "$(insp bt/child:1 'i["Config"]["OnBuild"] or []')" "[]"
expect_eq "onbuild: the child inherits Entrypoint" "$(insp bt/child:1 'i["Config"]["Entrypoint"]')" \
    '["/bin/sh", "/ep.sh"]'

# ------------------------------------------------------------------------
# COPY and ADD, heredocs, .dockerignore.
C=$B/copy
mkdir -p "$C/dir/sub" "$C/ignored-dir" "$C/tarsrc/t"
echo hello-file >"$C/hello.txt"
chown 4321:4321 "$C/hello.txt" # COPY makes it root's
echo a >"$C/dir/a.txt"
echo b >"$C/dir/sub/b.txt"
echo w1 >"$C/w1.conf"
echo w2 >"$C/w2.conf"
echo other >"$C/other.txt"
echo plain >"$C/plain.txt"
echo excluded >"$C/excluded.log"
echo keep >"$C/keep.log"
echo hidden >"$C/ignored-dir/x"
echo inner >"$C/tarsrc/t/inner.txt"
tar -C "$C/tarsrc" -czf "$C/arch.tar.gz" t
rm -rf "$C/tarsrc"
printf '*.log\n!keep.log\nignored-dir\n' >"$C/.dockerignore"
cat >"$C/Dockerfile" <<'EOF'
FROM busybox
COPY hello.txt /c/hello.txt
COPY dir /c/dircontents/
COPY hello.txt /c/asfile
COPY hello.txt /c/into/
COPY w*.conf /c/wild/
COPY --chown=app:staff hello.txt /c/owned-name
COPY --chown=1234:5678 hello.txt /c/owned-num
COPY --chmod=0640 hello.txt /c/mode640
WORKDIR /c/wd
COPY hello.txt rel-dest
COPY <<EOT /c/heredoc.txt
from-copy-heredoc
EOT
ADD arch.tar.gz /c/added/
ADD plain.txt /c/added-plain
COPY arch.tar.gz /c/not-extracted.tar.gz
COPY . /c/ctx/
EOF
bi -t bt/copy:1 "$C"
expect_eq "copy: the build succeeds ($out)" "$rc" 0
crun bt/copy:1 sh -c 'cd /c; echo "hello=$(cat hello.txt)"; echo "hello_owner=$(stat -c %u:%g hello.txt)"
    echo "dircontents=$(cd dircontents && find . | sort | paste -sd,)"
    echo "asfile=$(test -f asfile && cat asfile)"; echo "into=$(cat into/hello.txt)"
    echo "wild=$(ls wild | paste -sd,)"; echo "owned_name=$(stat -c %u:%g owned-name)"
    echo "owned_num=$(stat -c %u:%g owned-num)"; echo "mode640=$(stat -c %a mode640)"
    echo "reldest=$(cat /c/wd/rel-dest)"; echo "heredoc=$(cat heredoc.txt)"
    echo "added=$(cat added/t/inner.txt)"; echo "added_plain=$(cat added-plain)"
    echo "not_extracted=$(gzip -dc not-extracted.tar.gz | tar tf - | paste -sd,)"
    echo "ctx=$(cd ctx && ls -A | sort | paste -sd,)"'
expect_eq "copy: the container runs" "$rc" 0
expect_eq "copy: a file" "$(field hello)" "hello-file"
expect_eq "copy: files are root's without --chown" "$(field hello_owner)" "0:0"
expect_eq "copy: a directory's contents, not the directory" "$(field dircontents)" ".,./a.txt,./sub,./sub/b.txt"
expect_eq "copy: a dest without a slash is the file" "$(field asfile)" "hello-file"
expect_eq "copy: a dest ending in a slash is a directory" "$(field into)" "hello-file"
expect_eq "copy: a wildcard" "$(field wild)" "w1.conf,w2.conf"
expect_eq "copy: --chown by name from the image's passwd and group" "$(field owned_name)" "1000:50"
expect_eq "copy: --chown numeric" "$(field owned_num)" "1234:5678"
expect_eq "copy: --chmod" "$(field mode640)" "640"
expect_eq "copy: a relative dest under WORKDIR" "$(field reldest)" "hello-file"
expect_eq "copy: COPY <<EOF heredoc" "$(field heredoc)" "from-copy-heredoc"
expect_eq "copy: ADD unpacks a local tar.gz" "$(field added)" "inner"
expect_eq "copy: ADD of a plain file copies it" "$(field added_plain)" "plain"
expect_eq "copy: COPY does not unpack" "$(field not_extracted)" "t/,t/inner.txt"
expect_eq "copy: .dockerignore: excluded files absent, the ! exception present" "$(field ctx)" \
    ".dockerignore,Dockerfile,arch.tar.gz,dir,hello.txt,keep.log,other.txt,plain.txt,w1.conf,w2.conf"

# ------------------------------------------------------------------------
# ADD of a URL (a python3 http.server on 127.0.0.1) with --checksum.
mkdir -p "$T_DIR/www"
echo remote-content >"$T_DIR/www/remote.txt"
sum=$(sha256sum "$T_DIR/www/remote.txt" | cut -d' ' -f1)
hport=$((4000 + ($$ + 997) % 1990))
while ss -Hltn "sport = :$hport" | grep -q .; do hport=$((hport + 1)); done
env -u BERTH_ROOT python3 -m http.server --bind 127.0.0.1 --directory "$T_DIR/www" "$hport" >"$T_DIR/www.log" 2>&1 &
www_pid=$!
# (probed with python3 too: the v2 VM's root has no curl)
if wait_until 10 python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$hport/remote.txt"; then
    mkdir -p "$B/url"
    cat >"$B/url/Dockerfile" <<EOF
FROM busybox
ADD --checksum=sha256:$sum http://127.0.0.1:$hport/remote.txt /r/
ADD http://127.0.0.1:$hport/remote.txt /r/named.txt
EOF
    bi -t bt/url:1 "$B/url"
    expect_eq "url: the build succeeds ($out)" "$rc" 0
    crun bt/url:1 sh -c 'echo "r=$(cat /r/remote.txt)"; echo "mode=$(stat -c %a /r/remote.txt)"
        echo "named=$(cat /r/named.txt)"'
    expect_eq "url: ADD URL into a directory takes the URL's name" "$(field r)" "remote-content"
    expect_eq "url: ADD URL files are 0600" "$(field mode)" "600"
    expect_eq "url: ADD URL to a file name" "$(field named)" "remote-content"
    # A wrong checksum: one line naming the line and the digests.
    before=$(images_now)
    bad=0000000000000000000000000000000000000000000000000000000000000000
    mkdir -p "$B/urlbad"
    cat >"$B/urlbad/Dockerfile" <<EOF
FROM busybox
RUN echo before-add > /b
ADD --checksum=sha256:$bad http://127.0.0.1:$hport/remote.txt /r/
EOF
    bi -t bt/urlbad:1 "$B/urlbad"
    expect_no_leftovers "url: a wrong checksum"
    check "url: a wrong checksum fails" test "$rc" -ne 0
    expect_eq "url: a wrong checksum is one error line" "$(error_lines)" 1
    expect_contains "url: a wrong checksum names the line" "$out" "Dockerfile:3"
    expect_contains "url: a wrong checksum names the expected digest" "$out" "$bad"
    expect_contains "url: a wrong checksum names the actual digest" "$out" "$sum"
    expect_eq "url: a wrong checksum stores no image" "$(images_now)" "$before"
else
    fail "python3 http.server did not start on 127.0.0.1:$hport: $(cat "$T_DIR/www.log")"
fi
kill "$www_pid" 2>/dev/null || true
wait "$www_pid" 2>/dev/null || true

# ------------------------------------------------------------------------
# RUN --mount: bind from the context, tmpfs, secret, cache.
M=$B/mounts
mkdir -p "$M/bindsrc"
echo bind-content >"$M/bindsrc/bind.txt"
echo s3cr3t-value-$$ >"$T_DIR/secret.txt"
cat >"$M/Dockerfile" <<'EOF'
FROM busybox
RUN --mount=type=bind,source=bindsrc,target=/mnt/b cat /mnt/b/bind.txt > /bind-copy.txt
RUN --mount=type=tmpfs,target=/mnt/t grep -q " /mnt/t tmpfs " /proc/mounts && echo x > /mnt/t/f && echo tmpfs-ok > /tmpfs.txt
RUN --mount=type=secret,id=mysecret wc -c < /run/secrets/mysecret > /secret-len.txt
RUN --mount=type=cache,target=/cache,id=bt-cache echo first-build >> /cache/log && cp /cache/log /cache-seen1.txt
EOF
bi -t bt/mounts:1 --secret "id=mysecret,src=$T_DIR/secret.txt" "$M"
expect_eq "mounts: the build succeeds ($out)" "$rc" 0
crun bt/mounts:1 sh -c 'echo "bind=$(cat /bind-copy.txt)"; echo "bindleft=$(ls -A /mnt/b 2>/dev/null | wc -l)"
    echo "tmpfs=$(cat /tmpfs.txt)"; echo "tmpfsleft=$(ls -A /mnt/t 2>/dev/null | wc -l)"
    echo "secretlen=$(cat /secret-len.txt | tr -d " ")"; echo "secretfile=$(test -e /run/secrets/mysecret && echo yes || echo no)"
    echo "cache1=$(cat /cache-seen1.txt)"; echo "cacheleft=$(ls -A /cache 2>/dev/null | wc -l)"'
expect_eq "mounts: type=bind from the context" "$(field bind)" "bind-content"
expect_eq "mounts: the bind's files are not in the image" "$(field bindleft)" "0"
expect_eq "mounts: type=tmpfs" "$(field tmpfs)" "tmpfs-ok"
expect_eq "mounts: the tmpfs's files are not in the image" "$(field tmpfsleft)" "0"
expect_eq "mounts: type=secret sees the secret" "$(field secretlen)" "$(wc -c <"$T_DIR/secret.txt")"
expect_eq "mounts: the secret file is not in the image" "$(field secretfile)" "no"
expect_eq "mounts: type=cache" "$(field cache1)" "first-build"
expect_eq "mounts: the cache's files are not in the image" "$(field cacheleft)" "0"
if "$BERTH" image save -o "$T_DIR/mounts.tar" bt/mounts:1 2>/dev/null; then
    found=$(tar xOf "$T_DIR/mounts.tar" 2>/dev/null | grep -c "s3cr3t-value-$$" || true)
    expect_eq "mounts: the secret's value is in no layer and not in the config" "$found" 0
else
    fail "mounts: image save of the built image"
fi
rm -f "$T_DIR/mounts.tar"
mkdir -p "$B/mounts2"
cat >"$B/mounts2/Dockerfile" <<'EOF'
FROM busybox
RUN --mount=type=cache,target=/cache,id=bt-cache cp /cache/log /cache-seen2.txt
EOF
bi -t bt/mounts:2 "$B/mounts2"
expect_eq "mounts: the second cache build succeeds ($out)" "$rc" 0
crun bt/mounts:2 cat /cache-seen2.txt
expect_eq "mounts: a second build sees the cache's file" "$out" "first-build"

# ------------------------------------------------------------------------
# A file deleted and a directory replaced in a RUN step: gone in the next
# stage, in the container and, as a whiteout and an opaque directory, in
# the layer.
W=$B/whiteout
mkdir -p "$W"
cat >"$W/Dockerfile" <<'EOF'
FROM busybox AS prep
RUN mkdir -p /repl/old-sub && echo old > /repl/old-file && echo gone > /gone.txt && echo kept > /kept.txt
RUN rm /gone.txt && rm -rf /repl && mkdir /repl && echo new > /repl/new-file
FROM prep
RUN test ! -e /gone.txt && test ! -e /repl/old-file && test ! -e /repl/old-sub && test -f /repl/new-file && echo whiteouts-ok > /next-stage.txt
EOF
bi -t bt/whiteout:1 "$W"
expect_eq "whiteout: the build succeeds (the next stage sees the deletions) ($out)" "$rc" 0
crun bt/whiteout:1 sh -c 'echo "gone=$(test -e /gone.txt && echo present || echo absent)"
    echo "kept=$(cat /kept.txt)"; echo "repl=$(ls -A /repl | paste -sd,)"; echo "next=$(cat /next-stage.txt)"'
expect_eq "whiteout: a deleted file is absent in the container" "$(field gone)" "absent"
expect_eq "whiteout: the other file is kept" "$(field kept)" "kept"
expect_eq "whiteout: a replaced directory holds only the new contents" "$(field repl)" "new-file"
expect_eq "whiteout: the next stage saw it" "$(field next)" "whiteouts-ok"
if "$BERTH" image save -o "$T_DIR/whiteout.tar" bt/whiteout:1 2>/dev/null; then
    entries=$(for l in $(tar tf "$T_DIR/whiteout.tar" | grep '^blobs/sha256/'); do
        tar xOf "$T_DIR/whiteout.tar" "$l" | tar tf - 2>/dev/null || true
    done)
    expect_contains "whiteout: the layer has a whiteout for the file" "$entries" ".wh.gone.txt"
    expect_contains "whiteout: the layer marks the directory opaque" "$entries" "repl/.wh..wh..opq"
else
    fail "whiteout: image save of the built image"
fi
rm -f "$T_DIR/whiteout.tar"

# ------------------------------------------------------------------------
# Multi-stage: COPY --from by name and index, a stage not needed is not
# built, --target stops early.
S=$B/multi
mkdir -p "$S"
cat >"$S/Dockerfile" <<'EOF'
FROM busybox AS builder
RUN mkdir /out && echo built-by-builder > /out/artifact
FROM busybox AS unused
RUN echo the-unused-stage-ran; exit 7
FROM busybox
COPY --from=builder /out/artifact /from-name
COPY --from=0 /out/artifact /from-index
RUN cat /from-name /from-index | paste -sd, > /both.txt
EOF
bi -t bt/multi:1 "$S"
expect_eq "multi: the build succeeds (the failing unused stage is not built) ($out)" "$rc" 0
expect_not_contains "multi: the unused stage's RUN never ran" "$out" "the-unused-stage-ran"
crun bt/multi:1 cat /both.txt
expect_eq "multi: COPY --from=NAME and --from=INDEX" "$out" "built-by-builder,built-by-builder"
bi -t bt/multi:builder --target builder "$S"
expect_eq "multi: --target builds ($out)" "$rc" 0
expect_eq "multi: --target stops before the last stage's steps" "$(step_state "$out" "RUN cat /from-name")" "absent"
crun bt/multi:builder sh -c 'cat /out/artifact; test -e /both.txt && echo has-both || echo no-both'
expect_eq "multi: the --target image is that stage" "$out" "$(printf 'built-by-builder\nno-both')"

# ------------------------------------------------------------------------
# The cache.
K=$B/cache
mkdir -p "$K"
echo a-one >"$K/a.txt"
cat >"$K/Dockerfile" <<'EOF'
FROM busybox
RUN echo step1 > /s1
COPY a.txt /a.txt
RUN cat /a.txt > /s3
ARG V=1
RUN echo "v=$V" > /s5
EOF
steps=("RUN echo step1" "COPY a.txt" "RUN cat /a.txt" "RUN echo \"v=\$V\"")
states() { # states OUT: the four steps' states, comma-separated
    local s r=""
    for s in "${steps[@]}"; do r+="${r:+,}$(step_state "$1" "$s")"; done
    echo "$r"
}
bi -t bt/cache:1 "$K"
expect_eq "cache: the first build succeeds ($out)" "$rc" 0
expect_eq "cache: the first build runs every step" "$(states "$out")" "ran,ran,ran,ran"
id1=$(iid bt/cache:1)
check "cache: the first build tags its image" test -n "$id1"
t0=$(date +%s%N)
bi -t bt/cache:1 "$K"
t1=$(date +%s%N)
expect_eq "cache: a rebuild succeeds" "$rc" 0
expect_eq "cache: a rebuild has every step CACHED" "$(states "$out")" "cached,cached,cached,cached"
expect_eq "cache: a rebuild yields the same image ID" "$(iid bt/cache:1)" "$id1"
say "cache: a no-change rebuild took $(((t1 - t0) / 1000000)) ms"
bi -q -t bt/cache:1 "$K"
expect_eq "cache: -q prints only the image ID" "$out" "$id1"
echo a-two >"$K/a.txt"
bi -t bt/cache:1 "$K"
expect_eq "cache: a changed file: the build succeeds" "$rc" 0
expect_eq "cache: a changed file invalidates from its COPY on" "$(states "$out")" "cached,ran,ran,ran"
check "cache: a changed file gives another image" test "$(iid bt/cache:1)" != "$id1"
crun bt/cache:1 cat /s3
expect_eq "cache: the new file is in the image" "$out" "a-two"
bi -t bt/cache:1 --no-cache "$K"
expect_eq "cache: --no-cache succeeds" "$rc" 0
expect_eq "cache: --no-cache runs every step" "$(states "$out")" "ran,ran,ran,ran"
bi -t bt/cache:1 --build-arg V=2 "$K"
expect_eq "cache: a changed build arg: the build succeeds" "$rc" 0
expect_eq "cache: a changed build arg invalidates the RUN that uses it, not before" \
    "$(states "$out")" "cached,cached,cached,ran"
crun bt/cache:1 cat /s5
expect_eq "cache: the build arg's new value is in the image" "$out" "v=2"

# ------------------------------------------------------------------------
# A failing RUN: its exit code and last output lines, the build stopped,
# nothing stored, the steps before it cached for the next build.
F=$B/fail
mkdir -p "$F"
cat >"$F/Dockerfile" <<'EOF'
FROM busybox
RUN echo before > /before
RUN echo out-$((0 + 1)); echo out-$((1 + 1)); exit 3
RUN echo after > /after
EOF
before=$(images_now)
bi -t bt/fail:1 "$F"
expect_no_leftovers "fail: a failing RUN" # (first: the next berth may clean a dead build's scratch)
check "fail: a failing RUN fails the build" test "$rc" -ne 0
expect_eq "fail: one error line" "$(error_lines)" 1
err=$(grep -E '^(berth:|ERROR|error)' <<<"$out" || true)
expect_contains "fail: the error names the Dockerfile line" "$err" "Dockerfile:3"
check "fail: the error gives the exit code 3 ($err)" grep -qE 'exit (code|status)[: ]+3' <<<"$err"
expect_contains "fail: the RUN's output is shown" "$out" "out-1"
expect_contains "fail: its last output line is shown" "$out" "out-2"
expect_eq "fail: the step after it did not run" "$(step_state "$out" "RUN echo after")" "absent"
expect_eq "fail: no image stored" "$(images_now)" "$before"
check "fail: the tag names nothing" test -z "$(iid bt/fail:1)"
sed -i 's/; exit 3$//' "$F/Dockerfile"
bi -t bt/fail:1 "$F"
expect_eq "fail: the fixed Dockerfile builds" "$rc" 0
expect_eq "fail: the step before the failure comes from the cache" \
    "$(step_state "$out" "RUN echo before")" "cached"
expect_eq "fail: the fixed step runs" "$(step_state "$out" "RUN echo out-")" "ran"

# ------------------------------------------------------------------------
# Bad input: one line naming the line where there is one, nothing stored
# (-q: no progress, the error alone).
bad_build() { # bad_build WHAT NEEDLE... -- BUILD_ARGS...
    local what=$1 n needles=()
    shift
    while [ "$1" != -- ]; do needles+=("$1") && shift; done
    shift
    before=$(images_now)
    bi -q -t bt/bad:1 "$@"
    expect_no_leftovers "$what" # (first: the next berth may clean a dead build's scratch)
    check "$what: fails" test "$rc" -ne 0
    expect_eq "$what: one line ($out)" "$(grep -c . <<<"$out")" 1
    for n in "${needles[@]}"; do expect_contains "$what: the error names $n" "$out" "$n"; done
    case ${needles[0]} in *:*) # a FILE:LINE prefix, once
        expect_eq "$what: ${needles[0]} once in the error" \
            "$(grep -E '^(berth:|ERROR|error)' <<<"$out" | grep -o "${needles[0]}" | wc -l)" 1 ;;
    esac
    expect_eq "$what: no image stored" "$(images_now)" "$before"
}
mkdir -p "$B/bad/noDockerfile" "$B/bad/ctx"
echo outside >"$B/bad/outside.txt"
bad_build "a missing context" "$B/bad/no-such-dir" -- "$B/bad/no-such-dir"
bad_build "a missing Dockerfile (-f)" "NoSuchDockerfile" -- -f "$B/bad/ctx/NoSuchDockerfile" "$B/bad/ctx"
bad_build "a context without a Dockerfile" "Dockerfile" -- "$B/bad/noDockerfile"
printf 'FROM busybox\nRUNN echo hi\n' >"$B/bad/ctx/Dockerfile.unknown"
bad_build "an unknown instruction" "Dockerfile.unknown:2" "RUNN" -- -f "$B/bad/ctx/Dockerfile.unknown" "$B/bad/ctx"
printf 'FROM busybox\nRUN echo x > /x\nCOPY missing.txt /m\n' >"$B/bad/ctx/Dockerfile.missing"
bad_build "a missing COPY source" "Dockerfile.missing:3" "missing.txt" -- -f "$B/bad/ctx/Dockerfile.missing" "$B/bad/ctx"
printf 'FROM busybox\nCOPY ../outside.txt /o\n' >"$B/bad/ctx/Dockerfile.outside"
bad_build "a COPY source outside the context" "Dockerfile.outside:2" "outside.txt" -- \
    -f "$B/bad/ctx/Dockerfile.outside" "$B/bad/ctx"
printf 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n' \
    >"$B/bad/ctx/Dockerfile.cycle"
bad_build "a cycle between stages" "Dockerfile.cycle:" -- -f "$B/bad/ctx/Dockerfile.cycle" "$B/bad/ctx"
check "a cycle between stages: the error says so ($out)" grep -qiE 'cycle|circular' <<<"$out"
# An unknown stage is an image to docker: its pull fails (no registry
# answers here: lib.sh's proxy).
printf 'FROM busybox\nCOPY --from=nosuchstage /x /x\n' >"$B/bad/ctx/Dockerfile.from"
bad_build "an unknown stage in COPY --from" "Dockerfile.from:2" "nosuchstage" -- \
    -f "$B/bad/ctx/Dockerfile.from" "$B/bad/ctx"
bad_build "an unknown --target" "nosuchtarget" -- --target nosuchtarget "$S"

# ------------------------------------------------------------------------
# The RUN network: a bridge, a namespace with an address and a route, an
# nftables table — all gone when the build ends.
N=$B/net
mkdir -p "$N"
cat >"$N/Dockerfile" <<'EOF'
FROM busybox
RUN ip -4 -o addr show | grep -v " lo " | grep -c inet > /net-addrs; ip route | grep -c "^default" > /net-routes; sleep 3
EOF
br0=$(bridges_now)
rc=0
"$BERTH" image build -t bt/net:1 "$N" >"$T_DIR/net.out" 2>&1 &
bpid=$!
bi_pids+=("$bpid")
# net_left: what is still there of the bridges ($seen_br), tables
# ($seen_tb) and namespace files ($seen_ns) a build made, and any network
# record of this store.
net_left() {
    local br t f rec now_tb
    for br in $seen_br; do [ -e "/sys/class/net/$br" ] && echo "bridge $br"; done
    now_tb=$(tables_now)
    while read -r t; do
        [ -n "$t" ] && grep -qxF "$t" <<<"$now_tb" && echo "$t"
    done <<<"$seen_tb"
    for f in $seen_ns; do [ -e "$f" ] && echo "netns $f"; done
    for rec in "$BERTH_ROOT"/network/nets/*.json; do [ -e "$rec" ] && echo "record ${rec##*/}"; done
    return 0
}
# What the build makes, noted while it runs (until the RUN's sleep ends).
seen_br="" seen_tb="" seen_ns=""
while kill -0 "$bpid" 2>/dev/null; do
    seen_br+=$(build_bridges)$'\n'
    seen_tb+=$(build_tables)$'\n'
    seen_ns+=$(find "$BERTH_RUNROOT" -type f 2>/dev/null | grep -i net || true)$'\n'
    sleep 0.2
done
seen_br=$(sort -u <<<"$seen_br" | grep . || true)
seen_tb=$(sort -u <<<"$seen_tb" | grep . || true)
seen_ns=$(sort -u <<<"$seen_ns" | grep . || true)
wait "$bpid" || rc=$?
out=$(cat "$T_DIR/net.out")
expect_eq "net: the build succeeds ($out)" "$rc" 0
check "net: the build made a bridge while RUN ran" test -n "$seen_br"
if command -v nft >/dev/null; then
    check "net: the build made an nftables table (egress NAT) while RUN ran" test -n "$seen_tb"
else
    skip_check "nft is not installed: the build's nftables table is not looked for"
fi
crun bt/net:1 sh -c 'echo "addrs=$(cat /net-addrs)"; echo "routes=$(cat /net-routes)"'
expect_eq "net: RUN has an address besides lo" "$(field addrs)" "1"
expect_eq "net: RUN has a default route" "$(field routes)" "1"
expect_eq "net: no bridge, table, namespace or record left after the build" "$(net_left)" ""
say "net: the build's bridge: ${seen_br:-none seen}; table: ${seen_tb:-none seen}"

# A killed build: what it left is removed by the next build.
cat >"$N/Dockerfile" <<'EOF'
FROM busybox
RUN echo killed-build; sleep 4
EOF
br0=$(bridges_now)
"$BERTH" image build -t bt/killed:1 "$N" >"$T_DIR/killed.out" 2>&1 &
bpid=$!
bi_pids+=("$bpid")
seen_br=""
for _ in $(seq 1 60); do
    seen_br=$(build_bridges)
    [ -n "$seen_br" ] && grep -q killed-build "$T_DIR/killed.out" && break
    sleep 0.1
done
kill -9 "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true
seen_tb=$(build_tables)
sleep 5 # the killed step's sleep ends
cat >"$N/Dockerfile" <<'EOF'
FROM busybox
RUN echo after-the-kill > /k
EOF
bi -t bt/killed:2 "$N"
expect_eq "killed: the next build succeeds ($out)" "$rc" 0
seen_ns=""
expect_eq "killed: the next build removed the killed one's network" "$(net_left)" ""
expect_no_leftovers "killed: after the next build"
check "killed: the killed build stored no image" test -z "$(iid bt/killed:1)"

# ------------------------------------------------------------------------
# Push to a registry on 127.0.0.1, read back by skopeo; --pull; save.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
    . "$(dirname "$0")/reglib.sh"
    registry_start registry 4000
    bi -t "$reg/test/built:1" "$S"
    expect_eq "push: the build tags the image for the registry ($out)" "$rc" 0
    check "push: the rebuild is the same image" test -n "$(iid bt/multi:1)" -a \
        "$(iid "$reg/test/built:1")" = "$(iid bt/multi:1)"
    rc=0
    out=$("$BERTH" image push "$reg/test/built:1" 2>&1) || rc=$?
    expect_eq "push: image push succeeds ($out)" "$rc" 0
    digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
    stored=$(python3 - "$BERTH_ROOT/images.json" "$reg/test/built:1" <<'PY' 2>/dev/null || true
import json, sys
idx = json.load(open(sys.argv[1]))
print(idx["images"].get(idx["refs"].get(sys.argv[2], ""), {}).get("manifest", ""))
PY
    )
    check "push: image push names the digest" test -n "$digest"
    expect_eq "push: the pushed digest is the stored manifest's" "$digest" "$stored"
    raw=$(skopeo inspect --raw --tls-verify=false "docker://$reg/test/built:1" 2>&1 | sha256sum | cut -d' ' -f1) || true
    expect_eq "push: skopeo reads back the same manifest" "sha256:$raw" "$digest"
    rc=0
    # (the base layer is stored as loaded, uncompressed: an OCI layout takes
    # it so only when told, and --preserve-digests fails on any change)
    out=$(skopeo copy -q --src-tls-verify=false --dest-oci-accept-uncompressed-layers \
        --preserve-digests "docker://$reg/test/built:1" "oci:$T_DIR/oci:built" 2>&1) || rc=$?
    expect_eq "push: skopeo copies it to an OCI layout (every blob verified) ($out)" "$rc" 0
    expect_eq "push: the OCI layout has the same manifest digest" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
            "$T_DIR/oci/index.json" 2>&1)" "$digest"
    # FROM an image of the registry: pulled when absent; --pull asks again.
    check "pull: skopeo pushes a base image" registry_push "docker-archive:$docker_tar" test/base:1
    P=$B/pull
    mkdir -p "$P"
    printf 'FROM %s/test/base:1\nRUN echo on-pulled-base > /p\n' "$reg" >"$P/Dockerfile"
    log=$T_DIR/registry.log
    manifest_gets() { grep -cE '"(GET|HEAD) /v2/test/base/manifests/1 ' "$log" || true; }
    m0=$(manifest_gets)
    bi -t bt/pulled:1 "$P"
    expect_eq "pull: a FROM image that is not local is pulled ($out)" "$rc" 0
    check "pull: the registry served its manifest" test "$(manifest_gets)" -gt "$m0"
    m1=$(manifest_gets)
    bi -t bt/pulled:1 "$P"
    expect_eq "pull: a rebuild succeeds" "$rc" 0
    expect_eq "pull: a rebuild does not ask the registry" "$(manifest_gets)" "$m1"
    bi -t bt/pulled:1 --pull "$P"
    expect_eq "pull: --pull succeeds ($out)" "$rc" 0
    check "pull: --pull asks the registry again" test "$(manifest_gets)" -gt "$m1"
    crun bt/pulled:1 cat /p
    expect_eq "pull: the image built on the pulled base runs" "$out" "on-pulled-base"
    registry_stop_all
else
    skip_check "docker-registry or skopeo missing: push and --pull are not checked"
fi
if command -v skopeo >/dev/null; then
    rc=0
    out=$("$BERTH" image save -o "$T_DIR/built.tar" bt/multi:1 2>&1) || rc=$?
    expect_eq "save: image save of a built image ($out)" "$rc" 0
    cfg=$(skopeo inspect --raw "docker-archive:$T_DIR/built.tar" 2>&1 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])' 2>&1) || true
    expect_eq "save: skopeo reads the saved built image" "$cfg" "$(iid bt/multi:1)"
    rm -f "$T_DIR/built.tar"
else
    skip_check "skopeo missing: the saved image is not read back"
fi

# ------------------------------------------------------------------------
# examples/nginx (built only where a Debian mirror is reachable): its
# compose file reads as a build of the Dockerfile beside it.
rc=0
out=$("$BERTH" -f "$BERTH_SRC/examples/nginx/compose.yaml" config 2>&1) || rc=$?
expect_eq "examples/nginx: berth config reads it" "$rc" 0
expect_contains "examples/nginx: the service builds its directory" "$out" \
    "context: $BERTH_SRC/examples/nginx"
expect_contains "examples/nginx: the port is published" "$out" 'published: "8080"'
# Offline its build parses the whole Dockerfile, then stops at the FROM:
# the pull goes to lib.sh's proxy, which is not there (no traffic).
bi -q -t bt/nginx:1 "$BERTH_SRC/examples/nginx"
check "examples/nginx: offline, the build fails" test "$rc" -ne 0
expect_contains "examples/nginx: the Dockerfile parses; the build stops at its FROM's pull" "$out" \
    "Dockerfile:5: docker.io/library/debian: manifest bookworm-slim"

expect_no_leftovers "the end"
finish
