#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A tiny HTTP proxy for the tests: CONNECT tunnels and plain forwarded
# requests, each request line appended to LOG. Whatever host a request
# names, the proxy connects to 127.0.0.1 on the port it names: no traffic
# leaves the machine.
#   proxy.py PORT LOG
import socket
import sys
import threading

port, log = int(sys.argv[1]), sys.argv[2]


def note(line):
    with open(log, "a") as f:
        f.write(line + "\n")


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def target_port(hostport, default):
    hp = hostport.rsplit("]", 1)[-1]
    return int(hp.rsplit(":", 1)[1]) if ":" in hp else default


def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d or len(head) > 65536:
            c.close()
            return
        head += d
    head, rest = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    note(lines[0])
    if method == "CONNECT":
        u = socket.create_connection(("127.0.0.1", target_port(target, 443)))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            u.sendall(rest)
    else:  # GET http://host:port/path: forwarded as GET /path
        hostport, _, path = target.split("://", 1)[1].partition("/")
        u = socket.create_connection(("127.0.0.1", target_port(hostport, 80)))
        kept = [h for h in lines[1:] if not h.lower().startswith(("proxy-", "connection:"))]
        req = "\r\n".join([f"{method} /{path} {version}"] + kept + ["Connection: close", "", ""])
        u.sendall(req.encode("latin-1") + rest)
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
    pump(c, u)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
