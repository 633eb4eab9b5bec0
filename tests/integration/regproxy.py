#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""regproxy.py LISTEN_PORT UPSTREAM_PORT LOG [options]: a small HTTP proxy
of the pull tests, in front of a registry on 127.0.0.1, that misbehaves on
blob requests (/v2/.../blobs/...) as told. Listens on 127.0.0.1 only and
connects only to 127.0.0.1:UPSTREAM_PORT.

Each request is logged as two JSON lines: {"ev": "start", "t", "id",
"method", "path", "range"} and {"ev": "end", "t", "id", "status",
"bytes"} (the body bytes sent to the client).

Options (blob requests only; the first one is request 1):
  --throttle BPS       send at most BPS bytes a second per response
  --cut-after N        close the connection after N body bytes ...
  --cut-times K        ... for the first K blob responses (default 1)
  --stall-after N      after N body bytes send nothing more (keep the
                       connection open until the client leaves)
  --fail503 K          answer the first K blob requests 503 (Retry-After: 1)
  --corrupt            flip one byte in the middle of every blob body
  --ignore-range       answer a range request with the whole blob (200)
  --only TEXT          misbehave only on blob paths containing TEXT
"""
import argparse
import http.client
import http.server
import json
import socketserver
import sys
import threading
import time

lock = threading.Lock()
counter = {"req": 0, "blob": 0}


def log(args, rec):
    rec["t"] = time.time()
    with lock:
        with open(args.log, "a") as f:
            f.write(json.dumps(rec) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_HEAD(self):
        self.forward()

    def do_GET(self):
        self.forward()

    def forward(self):
        args = self.server.args
        with lock:
            counter["req"] += 1
            rid = counter["req"]
            blob = "/blobs/" in self.path and (not args.only or args.only in self.path)
            if blob:
                counter["blob"] += 1
            nblob = counter["blob"]
        rng = self.headers.get("Range")
        log(args, {"ev": "start", "id": rid, "method": self.command, "path": self.path,
                   "range": rng})
        sent, status = 0, 0
        try:
            if blob and nblob <= args.fail503:
                status = 503
                body = b'{"errors":[{"code":"UNAVAILABLE","message":"test proxy"}]}'
                self.send_response(503)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            up = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
            hdrs = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            hdrs["Host"] = "127.0.0.1:%d" % args.upstream
            if blob and args.ignore_range:
                hdrs.pop("Range", None)
            up.request(self.command, self.path, headers=hdrs)
            r = up.getresponse()
            status = r.status
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() in ("connection", "transfer-encoding"):
                    continue
                if k.lower() == "location":
                    v = v.replace("127.0.0.1:%d" % args.upstream,
                                  "127.0.0.1:%d" % args.port)
                self.send_header(k, v)
            self.end_headers()
            length = int(r.getheader("Content-Length") or 0)
            if self.command == "HEAD":
                return
            cut = blob and args.cut_after is not None and nblob <= args.cut_times
            start = time.time()
            flipped = False
            while sent < length:
                chunk = r.read(min(16384, length - sent))
                if not chunk:
                    break
                if blob and args.corrupt and not flipped and sent + len(chunk) > length // 2:
                    i = length // 2 - sent
                    chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1:]
                    flipped = True
                if cut and sent + len(chunk) >= args.cut_after:
                    chunk = chunk[:max(0, args.cut_after - sent)]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if blob and args.stall_after is not None and sent + len(chunk) >= args.stall_after:
                    chunk = chunk[:max(0, args.stall_after - sent)]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    self.wfile.flush()
                    # Nothing more until the client gives up.
                    self.connection.settimeout(1)
                    while True:
                        try:
                            if not self.connection.recv(1):
                                break
                        except OSError as e:
                            if "timed out" not in str(e):
                                break
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
                if blob and args.throttle:
                    ahead = sent / args.throttle - (time.time() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            up.close()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            log(args, {"ev": "end", "id": rid, "status": status, "bytes": sent})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("upstream", type=int)
    p.add_argument("log")
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--cut-after", type=int)
    p.add_argument("--cut-times", type=int, default=1)
    p.add_argument("--stall-after", type=int)
    p.add_argument("--fail503", type=int, default=0)
    p.add_argument("--corrupt", action="store_true")
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--only", default="")
    args = p.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.args = args
    sys.stdout.write("listening\n")
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
