#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the tar (L17) and image-index fuzz targets:
tests/fuzz/corpus_tar/ and tests/fuzz/corpus_index/. The committed seeds are
its output; run it again only to change them. Usage: make_seeds.py"""
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import subprocess
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
NEXT = b"\n--berth-fuzz-next-layer--\n"  # fuzz_tar.c FUZZ_TAR_NEXT_LAYER


def tar(entries, fmt=tarfile.GNU_FORMAT):
    """entries: (name, kind, arg, mode) with kind file|dir|sym|hard|fifo|chr."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, arg, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = mode
            ti.mtime = 1700000000
            data = None
            if kind == "file":
                data = arg.encode()
                ti.size = len(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "pax":
                ti.pax_headers = arg
                data = b"x"
                ti.size = 1
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def F(name, text="x\n", mode=0o644):
    return (name, "file", text, mode)


def D(name, mode=0o755):
    return (name, "dir", None, mode)


def S(name, target):
    return (name, "sym", target, 0o777)


def H(name, target):
    return (name, "hard", target, 0o644)


TARS = {
    "plain.tar": tar([D("bin"), F("bin/sh", "#!\n", 0o755), D("etc"),
                      F("etc/passwd", "root:x:0:0::/root:/bin/sh\n"), S("bin/ash", "sh"),
                      H("bin/sh2", "bin/sh"), ("dev/null", "chr", None, 0o666),
                      ("run/fifo", "fifo", None, 0o600), D("tmp", 0o1777)]),
    "whiteouts.tar": tar([D("a"), F("a/.wh.gone"), D("b"), F("b/.wh..wh..opq"),
                          F(".wh.top")]),
    "pax-xattr.tar": tar([("f", "pax", {"SCHILY.xattr.user.k": "v",
                                        "SCHILY.xattr.trusted.overlay.opaque": "y"}, 0o644)],
                         tarfile.PAX_FORMAT),
    "setuid-modes.tar": tar([F("s", "x", 0o4755), F("g", "x", 0o2755), D("sticky", 0o1777),
                             F("ro", "x", 0o000)]),
    # L01: names that climb out of the root.
    "L01-names.tar": tar([F("../escape"), F("/abs/escape"), F("./../../x"), F("a/../../x"),
                          F("a//../x"), F("../sentinel/pwn"), F("../../sentinel/f")]),
    # L02: a symlink out, then a write through it, in one layer; chains.
    "L02-symlink.tar": tar([S("etc", "/sentinel"), F("etc/pwn"), S("up", "../sentinel"),
                            F("up/pwn"), S("a", "b"), S("b", "c"), S("c", "../.."),
                            F("a/sentinel/pwn"), S("abs", "/"), F("abs/sentinel/f")]),
    # L04: hard links to outside files, to a symlink that points out, to
    # itself, to a later entry.
    "L04-hardlink.tar": tar([H("h1", "../sentinel/f"), H("h2", "/sentinel/f"),
                             S("out", "../sentinel/f"), H("h3", "out"), H("self", "self"),
                             H("early", "later"), F("later"), H("h4", "../../sentinel/d/g")]),
    # L05: a directory replaced by a symlink out, then an entry below it;
    # directory -> symlink -> hard link on one name.
    "L05-dir-symlink.tar": tar([D("d", 0o777), S("d", "../sentinel"), F("d/x"), D("d", 0o700),
                                D("e"), S("e", "/sentinel"), H("e", "d/x"), F("e/y")]),
    # L06: hostile whiteouts.
    "L06-whiteouts.tar": tar([F(".wh."), F(".wh.."), F("../.wh.x"), S("lnk", "../sentinel"),
                              F("lnk/.wh.f"), F("lnk/.wh..wh..opq"), F(".wh..wh..opq"),
                              F(".wh...")]),
}
TARS["plain.tar.gz"] = gzip.compress(TARS["plain.tar"], mtime=0)
TARS["L02-symlink.tar.xz"] = lzma.compress(TARS["L02-symlink.tar"])
# L03: a symlink in one layer, a write through it in the next.
TARS["L03-two-layers.bin"] = (tar([S("etc", "../sentinel"), S("abs", "/sentinel"), D("dir")]) +
                              NEXT + tar([F("etc/pwn"), F("abs/pwn"), S("dir", "/sentinel"),
                                          F("dir/f"), H("hl", "abs/f")]))
if shutil.which("zstd"):
    TARS["L05-dir-symlink.tar.zst"] = subprocess.run(
        ["zstd", "-q", "-c"], input=TARS["L05-dir-symlink.tar"], check=True,
        stdout=subprocess.PIPE).stdout
TARS["empty.tar"] = b"\0" * 1024
TARS["truncated.tar"] = TARS["plain.tar"][:700]

CONFIG = (b'{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",'
          b'"config":{"Entrypoint":["/bin/sh"],"Env":["PATH=/bin"]},'
          b'"rootfs":{"type":"layers","diff_ids":["sha256:'
          + b"1" * 64 + b'"]}}')  # fuzz_index.c config_json
ID = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
D1 = "sha256:" + "1" * 64
MAN = "sha256:" + "2" * 64
LAYER = {"digest": "sha256:" + "3" * 64, "size": 10, "media_type":
         "application/vnd.docker.image.rootfs.diff.tar.gzip", "diff_id": D1, "chain_id": D1,
         "unpacked_size": 20}
ENTRY = {"manifest": MAN, "config_size": len(CONFIG), "layers": [LAYER], "size": 20,
         "loaded": "2024-01-01T00:00:00Z", "created": "2024-01-01T00:00:00Z"}


def index(images, refs):
    return json.dumps({"images": images, "refs": refs}, indent=1, sort_keys=True).encode()


INDEXES = {
    "good.json": index({ID: ENTRY}, {"docker.io/test/app:1": ID}),
    "two-refs.json": index({ID: ENTRY}, {"docker.io/test/app:1": ID,
                                         "docker.io/library/busybox:latest": ID}),
    "untagged.json": index({ID: ENTRY}, {}),
    "empty.json": index({}, {}),
    "dangling-ref.json": index({}, {"docker.io/test/app:1": ID}),
    "ref-wrong-type.json": index({ID: ENTRY}, {"docker.io/test/app:1": 5}),
    "bad-id.json": index({"sha256:../../x": ENTRY}, {"docker.io/test/app:1": "sha256:../../x"}),
    "short-id.json": index({"x": ENTRY}, {}),
    "layer-bad-chain.json": index({ID: dict(ENTRY, layers=[dict(LAYER, chain_id=7)])}, {}),
    "layers-object.json": index({ID: dict(ENTRY, layers={})}, {}),
    "not-object.json": b"[]",
    "truncated.json": index({ID: ENTRY}, {"docker.io/test/app:1": ID})[:90],
}


def write(sub, files):
    d = os.path.join(HERE, sub)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("corpus_tar", TARS)
write("corpus_index", INDEXES)
