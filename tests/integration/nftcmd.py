#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs one nftables command through libnftables, as berth itself talks to
nftables, for the tests' leak check on hosts without the `nft` binary
(Debian's libnftables1 comes with berth's dependencies; nftables does not).

    nftcmd.py list tables
    nftcmd.py delete table inet NAME

Prints the command's output; exits 1 with libnftables' message on error,
2 when libnftables cannot be loaded."""
import ctypes
import sys


def main():
    try:
        lib = ctypes.CDLL("libnftables.so.1")
    except OSError as e:
        print(f"nftcmd: cannot load libnftables: {e}", file=sys.stderr)
        return 2
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    for f in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
        getattr(lib, f).argtypes = [ctypes.c_void_p]
    for f in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
        getattr(lib, f).argtypes = [ctypes.c_void_p]
        getattr(lib, f).restype = ctypes.c_char_p
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        print("nftcmd: cannot make a libnftables context", file=sys.stderr)
        return 2
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)
    rc = lib.nft_run_cmd_from_buffer(ctx, " ".join(sys.argv[1:]).encode())
    out = lib.nft_ctx_get_output_buffer(ctx) or b""
    err = lib.nft_ctx_get_error_buffer(ctx) or b""
    sys.stdout.write(out.decode(errors="replace"))
    sys.stderr.write(err.decode(errors="replace"))
    lib.nft_ctx_free(ctx)
    return 1 if rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
