#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""token_server.py: a registry token server for the tests, on 127.0.0.1.

Docker's token authentication: GET /token?service=S&scope=repository:R:A
(with HTTP Basic credentials or none) answers {"token", "access_token",
"expires_in", "issued_at"}, the token a JWT signed RS256 (openssl dgst
-sha256 -sign KEY) with the certificate in its header's x5c, which
docker-registry's `auth: token:` accepts (its rootcertbundle is CERT).

Usage: token_server.py PORT_FILE LOG KEY CERT ISSUER SERVICE [OPTIONS]
  --user U:P        a user and password (repeatable); others get 401
  --deny REPO       grant nothing on REPO but to a user's push (repeatable)
  --private REPO    grant REPO to logged-in users only (repeatable)
Anonymous requests are granted pull at most.
  --life REPO=N    the registry accepts REPO's tokens for N seconds only
                    (their exp is N seconds away, less the registry's
                    leeway), though expires_in says 300 (repeatable)
It binds 127.0.0.1 on a free port and writes it to PORT_FILE. Each token
request is a line in LOG: "token scope=... auth=basic:USER|none
granted=...". Only 127.0.0.1 is served.
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LEEWAY = 60  # docker-registry accepts a token this long past its exp


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der(path):
    pem = open(path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


class State:
    def __init__(self, args):
        self.args = args
        self.x5c = base64.b64encode(cert_der(args.cert)).decode()
        self.users = dict(u.split(":", 1) for u in args.user)

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.key],
                             input=signing.encode(), capture_output=True, check=True).stdout
        return signing + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *a):
        pass

    def reply(self, code, doc, extra=None):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def who(self, st):
        """("basic:USER" | "none" | None for bad credentials, user)"""
        h = self.headers.get("Authorization", "")
        if not h:
            return "none", None
        if not h.startswith("Basic "):
            return None, None
        try:
            user, pw = base64.b64decode(h[6:]).decode().split(":", 1)
        except Exception:
            return None, None
        if st.users.get(user) != pw:
            return None, user
        return "basic:" + user, user

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        scopes = q.get("scope", [])
        auth, user = self.who(st)
        line = "token scope=%s auth=%s" % (",".join(scopes) or "-", auth or "bad:%s" % user)
        if url.path != "/token" or q.get("service") != [st.args.service]:
            self.log(line + " refused=request")
            return self.reply(400, {"errors": [{"code": "DENIED", "message": "bad request"}]})
        if auth is None:
            self.log(line + " refused=credentials")
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                "message": "bad credentials"}]},
                              {"WWW-Authenticate": 'Basic realm="token"'})
        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            name, actions = parts[1], parts[2].split(",")
            if auth == "none":  # anonymous users pull, never push
                actions = [a for a in actions if a == "pull"]
            if name in st.args.deny and not (auth != "none" and "push" in actions):
                continue
            if name in st.args.private and auth == "none":
                continue
            if actions:
                access.append({"type": "repository", "name": name, "actions": actions})
        now = int(time.time())
        life = min([300] + [int(n) for r, n in (x.split("=", 1) for x in st.args.life)
                            if any(a["name"] == r for a in access)])
        claims = {"iss": st.args.issuer, "sub": user or "", "aud": st.args.service,
                  "exp": now + life - LEEWAY, "nbf": now - 10, "iat": now,
                  "jti": hashlib.sha256(os.urandom(16)).hexdigest(), "access": access}
        token = st.sign(claims)
        self.log(line + " granted=%s" % (
            ";".join("%s:%s" % (a["name"], ",".join(a["actions"])) for a in access) or "-"))
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    def log(self, line):
        with open(self.server.state.args.log, "a") as f:
            f.write(line + "\n")


def main():
    ap = argparse.ArgumentParser()
    for a in ("port_file", "log", "key", "cert", "issuer", "service"):
        ap.add_argument(a)
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--deny", action="append", default=[])
    ap.add_argument("--private", action="append", default=[])
    ap.add_argument("--life", action="append", default=[])
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.state = State(args)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
