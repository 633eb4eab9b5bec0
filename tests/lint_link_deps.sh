#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_link_deps.sh BUILD_DIR DEPS_SH CC: every library a link line of the
# build tree uses comes from a Debian package that scripts/deps.sh names or
# that one of those depends on, so a fresh machine that runs deps.sh can
# link berth, and the next library added to a link line without its
# package fails here rather than on someone else's machine.
#
# The link lines are the build's own (ninja -t commands, or CMake's
# link.txt with other generators): berth's, the unit tests' and the test
# helpers', and the static helper programs the build compiles and links in
# one command (the container init, the prober), each with the C library
# the driver adds. Every -lNAME is resolved the way the linker does it:
# the -L directories, then the compiler's search path; in each directory
# libNAME.so before libNAME.a, and only libNAME.a between -Wl,-Bstatic and
# -Wl,-Bdynamic or under -static. Library paths given whole are taken as
# they are; the build tree's own archives (relative paths, or paths in
# the build tree) are skipped. A shared library is
# checked as the file the linker reads (the -dev package's symlink), as
# the file that symlink resolves to (the run-time package) and, for a
# linker script such as libc.so, as each file the script names.
#
# Each file is mapped to its package with `dpkg -S`; the package must be
# in the closure of what `DEPS_SH --list` prints over the installed
# packages' Pre-Depends and Depends (the first installed alternative of an
# "a | b", and the installed packages that Provide a virtual name), or in
# that of the Essential packages every Debian system has. A failure names
# the library, the file, the package and a link line that uses it.
set -euo pipefail
build=$(realpath "${1:?usage: lint_link_deps.sh BUILD_DIR DEPS_SH CC}")
deps=${2:?usage: lint_link_deps.sh BUILD_DIR DEPS_SH CC}
cc=${3:?usage: lint_link_deps.sh BUILD_DIR DEPS_SH CC}
if ! command -v dpkg-query >/dev/null; then
    echo "SKIPPED: no dpkg-query: the link-line check needs a Debian system"
    exit 77
fi

# The link commands: segments of a build command that run the compiler
# with -o and without -c.
link_lines() {
    local all
    if [ -f "$build/build.ninja" ]; then
        all=$("${NINJA:-ninja}" -C "$build" -t commands)
    else
        all=$(find "$build" -name link.txt -exec sh -c 'for f; do tr "\n" " " <"$f"; echo; done' sh {} +)
    fi
    printf '%s\n' "$all" | sed 's/ && /\n/g' | sed 's/^[[:space:]]*//' |
        awk -v cc="$cc" '$1 == cc && / -o / && !/ -c( |$)/'
}

# The compiler's library search path, in order, after the -L directories.
mapfile -t search_dirs < <("$cc" -print-search-dirs | sed -n 's/^libraries: =//p' | tr ':' '\n' |
    while read -r d; do [ -d "$d" ] && realpath -ms "$d"; done | awk '!seen[$0]++')

# find_lib NAME STATIC LDIR...: the file the linker takes for -lNAME.
find_lib() {
    local name=$1 static=$2 d
    shift 2
    for d in "$@" "${search_dirs[@]}"; do
        if [ "${name:0:1}" = : ]; then
            [ -f "$d/${name:1}" ] && { realpath -ms "$d/${name:1}"; return 0; }
        elif [ "$static" = 0 ] && [ -f "$d/lib$name.so" ]; then
            realpath -ms "$d/lib$name.so"
            return 0
        elif [ -f "$d/lib$name.a" ]; then
            realpath -ms "$d/lib$name.a"
            return 0
        fi
    done
    return 1
}

# libs_of LINE: "LIBRARY<tab>FILE" for each library the line links, where
# LIBRARY is the -l flag or the path as written.
libs_of() {
    local -a toks ldirs=()
    local static=0 allstatic=0 i t w name f
    read -ra toks <<<"$1"
    for ((i = 1; i < ${#toks[@]}; i++)); do
        t=${toks[i]}
        case $t in
        -static) allstatic=1 static=1 ;;
        -L) i=$((i + 1)) && ldirs+=("${toks[i]}") ;;
        -L*) ldirs+=("${t#-L}") ;;
        -Wl,*)
            IFS=, read -ra ws <<<"${t#-Wl,}"
            for w in "${ws[@]}"; do
                case $w in
                -Bstatic | -dn | -non_shared | -static) static=1 ;;
                -Bdynamic | -dy | -call_shared) static=$allstatic ;;
                esac
            done
            ;;
        -l) i=$((i + 1)) && name=${toks[i]} ;;&
        -l?*) name=${t#-l} ;;&
        -l*)
            if f=$(find_lib "$name" "$static" "${ldirs[@]}"); then
                printf -- '-l%s\t%s\n' "$name" "$f"
            else
                printf -- '-l%s\t\n' "$name"
            fi
            ;;
        /*.so | /*.so.* | /*.a)
            t=$(realpath -ms "$t")
            case $t in "$build"/*) ;; *) printf '%s\t%s\n' "${toks[i]}" "$t" ;; esac
            ;;
        esac
    done
    # The C library, which the driver adds to every link.
    if f=$(find_lib c "$allstatic"); then printf -- '-lc (implicit)\t%s\n' "$f"; fi
}

# files_of FILE: the files the linker reads for FILE, then the one it
# names at run time: the symlink and its target; a linker script and the
# files it lists.
files_of() {
    local f=$1 magic
    echo "$f"
    if [ -L "$f" ]; then
        realpath "$f"
        return
    fi
    magic=$(head -c 4 "$f" | od -An -c | tr -d ' ')
    case $magic in
    177ELF | '!<ar') ;;
    *) grep -oE '/[^ ()]+' "$f" | sort -u ;;
    esac
}

# The closure of deps.sh's packages (and the Essential ones) over the
# installed packages' dependencies.
roots=$(bash "$deps" --list)
[ -n "$roots" ] || { echo "FAIL: $deps --list printed no packages" >&2; exit 1; }
closure=$(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Essential}\t${Provides}\t${Pre-Depends}, ${Depends}\n' |
    awk -F'\t' -v roots="$roots" '
    function bare(s) { sub(/\(.*/, "", s); sub(/:.*/, "", s); gsub(/[[:space:]]/, "", s); return s }
    $2 ~ /^ii/ {
        inst[$1] = 1; dep[$1] = $5
        if ($3 == "yes") queue[++n] = $1
        np = split($4, pv, ",")
        for (i = 1; i <= np; i++) { v = bare(pv[i]); if (v != "") prov[v] = prov[v] " " $1 }
    }
    END {
        nr = split(roots, r, "\n")
        for (i = 1; i <= nr; i++) {
            if (r[i] == "") continue
            if (!(r[i] in inst)) print "deps.sh names " r[i] " but it is not installed" > "/dev/stderr"
            queue[++n] = r[i]
        }
        for (q = 1; q <= n; q++) {
            p = queue[q]
            if (p in in_closure || !(p in inst)) continue
            in_closure[p] = 1
            ng = split(dep[p], groups, ",")
            for (g = 1; g <= ng; g++) {
                na = split(groups[g], alts, "|")
                for (a = 1; a <= na; a++) {
                    v = bare(alts[a])
                    if (v == "") continue
                    if (v in inst) { queue[++n] = v; break }
                    if (v in prov) { np = split(prov[v], pp, " "); for (k = 1; k <= np; k++) queue[++n] = pp[k]; break }
                }
            }
        }
        for (p in in_closure) print p
    }')
declare -A ok
while read -r p; do ok[$p]=1; done <<<"$closure"

# Every library of every link line: "TARGET<tab>LIBRARY<tab>FILE", the
# first link line that uses a file only.
records=$(
    declare -A seen seen_libs
    while read -r line; do
        [ -n "$line" ] || continue
        echo "line"
        target=$(sed -nE 's/.* -o +([^ ]+).*/\1/p' <<<"$line")
        target=${target#"$build"/}
        # Lines that differ only in their objects and output link the
        # same libraries (every unit test's is berth's plus cmocka).
        libpart=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-o") i++; else if ($i !~ /\.o$/) printf "%s ", $i }' <<<"$line")
        [ -z "${seen_libs[$libpart]:-}" ] || continue
        seen_libs[$libpart]=1
        while IFS=$'\t' read -r lib file; do
            [ -z "$file" ] || [ -z "${seen[$file]:-}" ] || continue
            [ -z "$file" ] || seen[$file]=1
            printf '%s\t%s\t%s\n' "$target" "$lib" "$file"
        done < <(libs_of "$line")
    done < <(link_lines)
)
lines=$(grep -c '^line$' <<<"$records" || true)
records=$(grep -v '^line$' <<<"$records" || true)
if [ "$lines" -eq 0 ]; then
    echo "FAIL: no link lines found in $build (not built?)" >&2
    exit 1
fi

# Their owners, in one dpkg -S (dpkg knows /lib paths under /lib even
# where /lib is a link to /usr/lib, so each path is asked in all forms).
declare -A files owner
while IFS=$'\t' read -r target lib file; do
    [ -n "$file" ] || continue
    while read -r f; do [ -e "$f" ] && files[$f]=1; done < <(files_of "$file")
done <<<"$records"
while IFS= read -r out; do
    path=${out#*: }
    pkg=$(printf '%s\n' "${out%%: *}" | tr ',' '\n' | sed 's/^ *//; s/:.*//' | head -1)
    for f in "$path" "/usr$path" "${path#/usr}"; do
        [ -n "${files[$f]:-}" ] && [ -z "${owner[$f]:-}" ] && owner[$f]=$pkg
    done
done < <(for f in "${!files[@]}"; do printf '%s\n' "$f" "${f#/usr}" "/usr$f"; done | sort -u |
    xargs dpkg -S 2>/dev/null || true)

libs=0 fails=0
while IFS=$'\t' read -r target lib file; do
    [ -n "$target" ] || continue
    if [ -z "$file" ]; then
        echo "FAIL: $target links $lib: no such library in the linker's search path" >&2
        fails=$((fails + 1))
        continue
    fi
    libs=$((libs + 1))
    while read -r f; do
        [ -e "$f" ] || continue
        pkg=${owner[$f]:-}
        if [ -z "$pkg" ]; then
            echo "FAIL: $target links $lib: $f belongs to no Debian package" >&2
            fails=$((fails + 1))
        elif [ -z "${ok[$pkg]:-}" ]; then
            echo "FAIL: $target links $lib: $f is in package $pkg, which ${deps##*/} neither names nor pulls in" >&2
            fails=$((fails + 1))
        elif [ -n "${BERTH_LINK_DEPS_VERBOSE:-}" ]; then
            echo "$target: $lib: $f: $pkg"
        fi
    done < <(files_of "$file")
done <<<"$records"

[ "$fails" -eq 0 ] || exit 1
echo "$libs libraries on $lines link lines, each from a package deps.sh names or pulls in"
