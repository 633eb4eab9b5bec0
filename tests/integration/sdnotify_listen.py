#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Listens as a service manager does on a notification socket (sd_notify):
sdnotify_listen.py ADDRESS OUT. ADDRESS is a path or @name (abstract), as
$NOTIFY_SOCKET gives it. Each datagram is appended to OUT as its lines, each
prefixed with the datagram's number ("3 READY=1"), flushed at once, until
the process gets SIGTERM. The file OUT.ready appears once the socket is
bound."""
import os
import signal
import socket
import sys

addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
open(out + ".ready", "w").close()
n = 0
with open(out, "a") as f:
    while True:
        data = s.recv(65536)
        n += 1
        for line in data.decode(errors="replace").split("\n"):
            f.write(f"{n} {line}\n")
        f.flush()
