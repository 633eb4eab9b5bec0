#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""lint_engine_output.py SRC_DIR: the engine never writes to stdout or stderr.

The engine (engine/) reports what happens as events to the sink its caller
gave it (engine/events/event.h: progress, warnings) and fails with an error
object; cmd/ decides what a person or a program sees. Checked in every
git-tracked .c and .h file under engine/, comments and string literals
left out:

  - no #include "util/log.h" (the "berth: ..." printing helpers);
  - no printf, vprintf, puts, putchar, perror, and no use of stdout,
    stderr, STDOUT_FILENO or STDERR_FILENO.

Two kinds of file are not the engine's own output and are left out: the
container's init program (engine/runtime/pid1/, a program of its own that
runs inside the container), and a last word before abort() (a statement
whose next three lines abort, as when libcrypto cannot hash at all).
One line per violation, "FAIL: ...", exit 1; "ok: ..." and exit 0.
"""
import re
import subprocess
import sys

SKIP_DIRS = ("engine/runtime/pid1/",)
CALLS = re.compile(r"\b(printf|vprintf|puts|putchar|perror)\s*\(")
STREAMS = re.compile(r"\b(stdout|stderr|STDOUT_FILENO|STDERR_FILENO)\b")
INCLUDE = re.compile(r'^\s*#\s*include\s+"util/log\.h"')


def strip(text):
    """Comments and string/char literals blanked, line numbers kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main():
    src = sys.argv[1]
    files = subprocess.run(["git", "-C", src, "ls-files", "engine/"], capture_output=True,
                           text=True, check=True).stdout.split()
    bad = 0
    checked = 0
    for f in files:
        if not f.endswith((".c", ".h")) or f.startswith(SKIP_DIRS):
            continue
        checked += 1
        raw = open(f"{src}/{f}", encoding="utf-8").read()
        for no, line in enumerate(raw.split("\n"), 1):
            if INCLUDE.match(line):
                print(f'FAIL: {f}:{no}: #include "util/log.h": the engine emits events, '
                      "it does not print")
                bad += 1
        lines = strip(raw).split("\n")
        for no, line in enumerate(lines, 1):
            m = CALLS.search(line) or STREAMS.search(line)
            if not m:
                continue
            if any("abort()" in l for l in lines[no - 1:no + 3]):
                continue  # the last word before abort()
            print(f"FAIL: {f}:{no}: {m.group(0).rstrip('( ')}: the engine writes to the "
                  "terminal; emit an event (ev_emit, ev_warn) or fill the error instead")
            bad += 1
    if bad:
        return 1
    print(f"ok: {checked} engine files write nothing to stdout or stderr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
