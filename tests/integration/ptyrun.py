#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a command on a pseudo-terminal of its own, as a person at a terminal
would: ptyrun.py [STEP...] -- COMMAND [ARGS...]

Steps, in order: wait:TEXT (until the output holds TEXT), send:TEXT (type it;
backslash escapes such as \\n and \\x04 work), sleep:SECONDS. Then reads until
the command exits (60 s at most). Prints what the terminal showed (CR LF as
LF) and exits with the command's status (128 + signal when killed, 124 on
time-out)."""
import codecs
import os
import pty
import select
import signal
import sys
import time

args = sys.argv[1:]
sep = args.index("--")
steps, argv = args[:sep], args[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)

out = bytearray()
deadline = time.monotonic() + 60


def pump(timeout):
    """Reads what the terminal has; False when its other side is closed."""
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        data = b""
    if not data:
        time.sleep(timeout)
        return False
    out.extend(data)
    return True


for step in steps:
    kind, _, text = step.partition(":")
    data = codecs.decode(text, "unicode_escape").encode("latin-1")
    if kind == "wait":
        while data not in out and time.monotonic() < deadline:
            pump(0.05)
    elif kind == "send":
        try:
            os.write(fd, data)
        except OSError:
            pass
    elif kind == "sleep":
        end = time.monotonic() + float(text)
        while time.monotonic() < end:
            pump(0.05)

status = None
drain_until = None
while time.monotonic() < deadline:
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            drain_until = time.monotonic() + 0.3
    elif time.monotonic() > drain_until:
        break
    if not pump(0.05) and status is not None:
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    code = 124
else:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        code = 128 - code
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(code)
