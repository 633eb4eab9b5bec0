#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What `cmake --install` and `cpack -G DEB` make: the binary, the man page
# and the three shell completions in a DESTDIR install; bash (and fish)
# completion exercised; the .deb's control fields and contents.
# Environment from ctest: BERTH, BERTH_BUILD (the build tree), BERTH_SRC.
# shellcheck source=../integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"
: "${BERTH_BUILD:?BERTH_BUILD must name the build tree}"

dest=$T_DIR/dest
DESTDIR=$dest cmake --install "$BERTH_BUILD" >"$T_DIR/install.log" 2>&1 ||
    fail "install.destdir: cmake --install failed: $(tail -3 "$T_DIR/install.log")"
prefix=$dest/usr/local
bin=$prefix/bin/berth
man=$prefix/share/man/man1/berth.1
bashc=$prefix/share/bash-completion/completions/berth
zshc=$prefix/share/zsh/vendor-completions/_berth
fishc=$prefix/share/fish/vendor_completions.d/berth.fish
unit=$prefix/lib/systemd/system/berth@.service

# --- the binary ----------------------------------------------------------------
version=$("$BERTH" version | awk '{print $3}')
expect_eq "install.binary: the installed berth runs (default prefix /usr/local)" \
    "$("$bin" version --short 2>&1)" "$version"

# --- the systemd unit: it names the binary this install put there ----------------
check "install.unit: berth@.service is installed" test -s "$unit"
expect_eq "install.unit: ExecStart is the installed berth" \
    "$(grep '^ExecStart=' "$unit" 2>&1)" "ExecStart=/usr/local/bin/berth up"

# The commands of the table, and the flags `up --help` documents.
mapfile -t commands < <("$BERTH" help --list)
mapfile -t up_flags < <("$BERTH" up --help | grep -oE -- '--[a-zA-Z][a-zA-Z-]*' | sort -u)
[ "${#commands[@]}" -gt 10 ] && [ "${#up_flags[@]}" -gt 8 ] ||
    fail "install.table: berth help --list / up --help gave ${#commands[@]} commands, ${#up_flags[@]} flags"

# --- the man page --------------------------------------------------------------
if [ ! -s "$man" ]; then
    fail "install.man: no man page at $man"
elif ! command -v man >/dev/null; then
    skip_check "install.man: man is not installed (scripts/deps.sh installs man-db)"
else
    warnings=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null)
    expect_eq "install.man: man -l renders berth.1 without warnings" "$warnings" ""
    rendered=$(MANWIDTH=80 man -l "$man" 2>/dev/null)
    for c in "${commands[@]}"; do
        grep -qxF "   $c" <<<"$rendered" || fail "install.man: no section for command \"$c\""
        pass
    done
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS ENVIRONMENT FILES "EXIT STATUS"; do
        grep -qx "$s" <<<"$rendered" || fail "install.man: no $s section"
    done
fi

# --- the completion files --------------------------------------------------------
for f in "$bashc" "$zshc" "$fishc"; do
    if [ ! -s "$f" ]; then
        fail "install.completion: ${f#"$dest"} is missing or empty"
        continue
    fi
    for c in "${commands[@]}"; do
        grep -qw -- "${c##* }" "$f" || fail "install.completion: ${f##*/} lacks command \"$c\""
    done
    for fl in "${up_flags[@]}"; do
        case $f in
        *.fish) grep -q -- "__berth_at up'.* -l ${fl#--}\( \|$\)" "$f" ;;
        *) grep -q -- "$fl" "$f" ;;
        esac || fail "install.completion: ${f##*/} lacks up's flag $fl"
    done
    pass
done

# --- bash completion, exercised ------------------------------------------------------
proj=$T_DIR/install-compl
mkdir -p "$proj/sub" "$T_DIR/elsewhere"
cat >"$proj/compose.yaml" <<'YAML'
services:
  install-web:
    image: busybox
  install-db:
    image: busybox
YAML
cat >"$T_DIR/elsewhere/other.yaml" <<'YAML'
services:
  install-other:
    image: busybox
YAML
# complete WORDS...: what _berth offers for the last word (one a line).
bash_complete() {
    (cd "$proj" && PATH=$prefix/bin:$PATH bash -c '
        source "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMPREPLY=()
        _berth
        printf "%s\n" "${COMPREPLY[@]}"' complete "$bashc" "$@")
}
expect_eq "install.bash: complete -p berth after sourcing the file" \
    "$(bash -c 'source "$1" && complete -p berth' x "$bashc" 2>&1)" "complete -F _berth berth"
got=$(bash_complete berth up --)
for fl in --detach --timeout --no-deps --wait "${up_flags[@]}"; do
    grep -qxF -- "$fl" <<<"$got" || fail "install.bash: berth up --<TAB> lacks $fl (got: $(echo $got))"
done
pass
expect_eq "install.bash: berth up <TAB> offers the compose file's services" \
    "$(bash_complete berth up '' | sort | paste -sd' ')" "install-db install-web"
expect_eq "install.bash: berth up -d install-w<TAB>" "$(bash_complete berth up -d install-w)" \
    "install-web"
expect_eq "install.bash: -f on the line names the project asked" \
    "$(bash_complete berth -f "$T_DIR/elsewhere/other.yaml" logs '')" "install-other"
expect_eq "install.bash: --exit-code-from completes a service" \
    "$(bash_complete berth up --exit-code-from install-d)" "install-db"
expect_eq "install.bash: berth ps --format <TAB>" \
    "$(bash_complete berth ps --format '' | paste -sd' ')" "table json"
expect_contains "install.bash: berth <TAB> offers the commands" \
    "$(bash_complete berth '' | paste -sd' ')" "up down ps"
expect_eq "install.bash: berth image <TAB> offers its subcommands" \
    "$(bash_complete berth image '' | paste -sd' ')" "ls rm build pull push inspect tag prune load save repair"

# --- zsh and fish ------------------------------------------------------------------
# zsh_complete LINE: what zsh's completion shows for LINE<TAB>, run in an
# interactive zsh on a pty (zsh/zpty) with compinit and the installed file
# (zle needs a terminal type: ctest may give none).
zsh_complete() {
    (cd "$proj" && PATH=$prefix/bin:$PATH TERM=xterm timeout 60 zsh -f -c '
        zmodload zsh/zpty
        # what the pty says until the shell prints the word $1 (keys are
        # read in order: a command typed after the TAB runs once the
        # completion is done)
        upto() {
            all=
            local out n=0
            zpty -w z "print ${1[1,2]}\"\"${1[3,-1]}"
            while ((n++ < 400)) && [[ $all != *$1[^\"]* ]]; do
                if zpty -r -t z out; then all+=$out; else sleep 0.05; fi
            done
        }
        zpty z zsh -f -i
        zpty -w z "PS1=\"> \"; fpath=(${1:h} \$fpath); autoload -U compinit; compinit -u -D; setopt nobeep"
        upto READY
        zpty -w -n z "$2"$'"'"'\t\C-e\C-u'"'"'
        upto DONE
        zpty -d z
        print -r -- "$all"' complete "$zshc" "$1" 2>&1 | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | tr -d '\r\b')
}
if command -v zsh >/dev/null; then
    check "install.zsh: zsh -n _berth" zsh -n "$zshc"
    got=$(zsh_complete 'berth up install-')
    expect_contains "install.zsh: berth up install-<TAB> lists install-db" "$got" install-db
    expect_contains "install.zsh: berth up install-<TAB> lists install-web" "$got" install-web
    expect_contains "install.zsh: berth up --det<TAB> completes --detach" \
        "$(zsh_complete 'berth up --det')" "berth up --detach"
else
    skip_check "install.zsh: zsh is not installed (scripts/deps.sh installs it)"
fi
if command -v fish >/dev/null; then
    check "install.fish: fish -n berth.fish" fish -n "$fishc"
    got=$(cd "$proj" && PATH=$prefix/bin:$PATH fish -c 'source $argv[1]; complete -C "berth up "' "$fishc" 2>&1 |
        sort | paste -sd' ')
    expect_eq "install.fish: berth up <TAB> offers the services" "$got" "install-db install-web"
    got=$(fish -c 'source $argv[1]; complete -C "berth up --det"' "$fishc" 2>&1 | cut -f1)
    expect_eq "install.fish: berth up --det<TAB>" "$got" "--detach"
else
    skip_check "install.fish: fish is not installed (scripts/deps.sh installs it)"
fi

# --- the .deb ----------------------------------------------------------------------
if ! command -v cpack >/dev/null || ! command -v dpkg-deb >/dev/null; then
    skip_check "install.deb: cpack or dpkg-deb missing"
else
    pkg=$T_DIR/pkg
    if ! cpack -G DEB --config "$BERTH_BUILD/CPackConfig.cmake" -B "$pkg" >"$T_DIR/cpack.log" 2>&1; then
        fail "install.deb: cpack -G DEB failed: $(tail -5 "$T_DIR/cpack.log")"
    else
        arch=$(dpkg --print-architecture)
        deb=$pkg/berth_${version}_$arch.deb
        if [ ! -f "$deb" ]; then
            fail "install.deb: no $deb ($(ls "$pkg"))"
        else
            info=$(dpkg-deb -I "$deb")
            expect_eq "install.deb: Package" "$(dpkg-deb -f "$deb" Package)" berth
            expect_eq "install.deb: Version" "$(dpkg-deb -f "$deb" Version)" "$version"
            expect_eq "install.deb: Architecture" "$(dpkg-deb -f "$deb" Architecture)" "$arch"
            expect_contains "install.deb: dpkg-deb -I shows Maintainer" "$info" "Maintainer: "
            expect_contains "install.deb: dpkg-deb -I shows Section" "$info" "Section: admin"
            depends=$(dpkg-deb -f "$deb" Depends)
            for lib in libc6 libyaml-0-2 libjansson4 libuv1 libseccomp2 libzstd1; do
                grep -qE "(^|, )$lib( |,|$)" <<<"$depends" ||
                    fail "install.deb: Depends lacks $lib (Depends: $depends)"
            done
            pass
            # every library the binary needs comes from a package it depends on
            while read -r so; do
                owner=$(dpkg -S "*/$so" 2>/dev/null | head -1 | cut -d: -f1)
                [ -n "$owner" ] && ! grep -qE "(^|, )$owner( |,|$)" <<<"$depends" &&
                    fail "install.deb: berth needs $so (package $owner), not in Depends"
            done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
            pass
            contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
            for p in ./usr/bin/berth ./usr/share/man/man1/berth.1 \
                ./usr/share/bash-completion/completions/berth \
                ./usr/share/zsh/vendor-completions/_berth \
                ./usr/share/fish/vendor_completions.d/berth.fish \
                ./usr/lib/systemd/system/berth@.service; do
                grep -qxF "$p" <<<"$contents" || fail "install.deb: dpkg-deb -c lacks $p"
            done
            pass
            dpkg-deb -x "$deb" "$T_DIR/unpacked"
            expect_eq "install.deb: the packaged berth runs" \
                "$("$T_DIR/unpacked/usr/bin/berth" version --short 2>&1)" "$version"
            expect_eq "install.deb: the packaged unit runs /usr/bin/berth" \
                "$(grep '^ExecStart=' "$T_DIR/unpacked/usr/lib/systemd/system/berth@.service" 2>&1)" \
                "ExecStart=/usr/bin/berth up"
        fi
    fi
fi

finish
