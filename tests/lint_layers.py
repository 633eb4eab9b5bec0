#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""lint_layers.py SRC_DIR [BUILD_DIR]: berth's modules keep to their layers.

The table is cmake/layers.txt (module, directory, the modules it may use),
the same file CMakeLists.txt builds the module libraries from. Checked:

  - the table: every module it names exists, and the graph has no cycle;
  - every #include "dir/..." in a module's git-tracked .c and .h files
    names the module itself or one the table lets it use (a header-only
    include never fails a link, so this is what guards it);
  - with BUILD_DIR: every berth symbol a module's library (libberth_M.a)
    leaves undefined is defined in the module itself or in one it may use,
    directly or through those (nm), and every tracked .c file of a module
    is compiled into its library (compile_commands.json).

Not checked here: third-party libraries (lint_link_deps.sh). One line per
violation, "FAIL: ...", exit 1; "ok: ..." and exit 0 otherwise.
"""
import json
import os
import re
import subprocess
import sys

# Programs of their own that live in a module's directory but are not in
# its library: main() and the container's init (built static, alone).
NOT_IN_LIBRARY = {"cmd/main.c", "engine/runtime/pid1/pid1.c"}


def read_table(src):
    path = os.path.join(src, "cmake", "layers.txt")
    mods, dirs = {}, {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            if len(line) < 3:
                sys.exit(f"FAIL: cmake/layers.txt:{n}: want MODULE DIRECTORY DEPS...")
            mod, d, deps = line[0], line[1], [x for x in line[2:] if x != "-"]
            mods[mod] = deps
            dirs[d.rstrip("/")] = mod
    return mods, dirs


def module_of(path, dirs):
    best = None
    for d, mod in dirs.items():
        if path == d or path.startswith(d + "/"):
            if best is None or len(d) > len(best[0]):
                best = (d, mod)
    return best[1] if best else None


def closure(mods, mod):
    seen, todo = set(), list(mods[mod])
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(mods.get(m, []))
    return seen


def find_cycle(mods):
    state = {}

    def visit(m, stack):
        state[m] = 1
        for d in mods.get(m, []):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d] if d in stack else [m, d]
            if not state.get(d):
                c = visit(d, stack + [d])
                if c:
                    return c
        state[m] = 2
        return None

    for m in mods:
        if not state.get(m):
            c = visit(m, [m])
            if c:
                return c
    return None


def tracked_files(src):
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "*.c", "*.h"],
                             check=True, capture_output=True, text=True).stdout
        return out.split()
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, _, names in os.walk(src):
            for n in names:
                if n.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(root, n), src))
        return files


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check_includes(src, mods, dirs, fails):
    checked = 0
    for f in tracked_files(src):
        mod = module_of(f, dirs)
        if mod is None:
            continue  # tests, fixtures: not a module
        checked += 1
        with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m or "/" not in m.group(1):
                    continue  # a header beside it: the same module
                inc = m.group(1)
                target = module_of(inc, dirs)
                if target is None:
                    fails.append(f'{f}:{n}: #include "{inc}": no module in cmake/layers.txt owns it')
                elif target != mod and target not in mods[mod]:
                    fails.append(f'{f}:{n}: #include "{inc}": {mod} may not use {target} '
                                 f'(cmake/layers.txt allows: {" ".join(mods[mod]) or "nothing"})')
    return checked


def nm(archive, defined):
    """{symbol: object file} of the archive's global definitions, or of
    the symbols its objects leave undefined."""
    args = ["nm", "-A", "--defined-only" if defined else "--undefined-only", archive]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        where, kind, sym = parts[0], parts[-2], parts[-1]
        if defined and not kind.isupper():
            continue  # local to its object
        syms.setdefault(sym, where.rstrip(":").split(":")[-1])
    return syms


def check_links(src, build, mods, dirs, fails):
    defined, undefined = {}, {}
    for mod in mods:
        lib = os.path.join(build, f"libberth_{mod}.a")
        if not os.path.exists(lib):
            fails.append(f"{lib}: missing (build the tree first)")
            return
        defined[mod] = nm(lib, True)
        undefined[mod] = nm(lib, False)
    owner = {}
    for mod, syms in defined.items():
        for s in syms:
            owner.setdefault(s, mod)
    for mod in mods:
        allowed = closure(mods, mod) | {mod}
        for sym, obj in sorted(undefined[mod].items()):
            if sym in defined[mod]:
                continue
            o = owner.get(sym)
            if o is not None and o not in allowed:
                fails.append(f"libberth_{mod}.a ({obj}) uses {sym} from {o}: "
                             f"{mod} may not use {o} (cmake/layers.txt)")
    # Every module source is built into its module's library.
    cc = os.path.join(build, "compile_commands.json")
    if not os.path.exists(cc):
        fails.append(f"{cc}: missing (CMAKE_EXPORT_COMPILE_COMMANDS)")
        return
    with open(cc, encoding="utf-8") as fh:
        compiled = {}
        for e in json.load(fh):
            f = os.path.relpath(os.path.realpath(e["file"]), os.path.realpath(src))
            compiled[f] = e.get("output", e.get("command", ""))
    for f in tracked_files(src):
        mod = module_of(f, dirs)
        if mod is None or not f.endswith(".c") or f in NOT_IN_LIBRARY:
            continue
        if f"berth_{mod}.dir" not in compiled.get(f, ""):
            fails.append(f"{f}: not in berth_{mod}'s source list (CMakeLists.txt)")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: lint_layers.py SRC_DIR [BUILD_DIR]")
    src = sys.argv[1]
    build = sys.argv[2] if len(sys.argv) > 2 else None
    mods, dirs = read_table(src)
    fails = []
    for mod, deps in mods.items():
        for d in deps:
            if d not in mods:
                fails.append(f"cmake/layers.txt: {mod} uses {d}, which is no module")
    cycle = find_cycle(mods)
    if cycle:
        fails.append("cmake/layers.txt: the modules form a cycle: " + " -> ".join(cycle))
    n = check_includes(src, mods, dirs, fails)
    if build:
        check_links(src, build, mods, dirs, fails)
    for f in fails:
        print("FAIL: " + f)
    if fails:
        return 1
    print(f"ok: {len(mods)} modules, no cycle; includes of {n} files"
          + (", module libraries' symbols and source lists" if build else "") + " as allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
