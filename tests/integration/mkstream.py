#!/usr/bin/env python3
"""Write a p2v stream (doc/protocol.md) to stdout, well-formed or broken on
purpose, so tests can feed ct-import receive what a hostile or failing
sender would. Independent of the C writer, so the two check each other."""
import argparse, hashlib, json, struct, sys

p = argparse.ArgumentParser()
p.add_argument("--name", default="t1")
p.add_argument("--kind", default="template")
p.add_argument("--compression", default="zstd")
p.add_argument("--payload", required=True, help="file whose bytes are the content")
p.add_argument("--frame", type=int, default=1 << 20)
p.add_argument("--corrupt-sha", action="store_true")
p.add_argument("--bad-offset", action="store_true", help="second frame skips ahead")
p.add_argument("--abort", action="store_true", help="ABORT instead of END")
p.add_argument("--no-end", action="store_true", help="stop after the data")
p.add_argument("--truncate", type=int, help="cut the stream after N bytes")
p.add_argument("--version", type=int, default=1)
a = p.parse_args()

def frame(t, payload, off):
    return struct.pack(">IIQ", t, len(payload), off) + payload

data = open(a.payload, "rb").read()
out = b"P2VSTRM\n" + struct.pack(">II", a.version, 0)
hello = {"version": 1, "kind": a.kind, "name": a.name, "compression": a.compression}
out += frame(1, json.dumps(hello).encode(), 0)
off = 0
for i in range(0, len(data), a.frame):
    chunk = data[i:i + a.frame]
    skew = 4096 if (a.bad_offset and i > 0) else 0
    out += frame(2, chunk, off + skew)
    off += len(chunk)
digest = hashlib.sha256(data).digest()
if a.corrupt_sha:
    digest = bytes([digest[0] ^ 1]) + digest[1:]
if a.abort:
    out += frame(5, b"source disk failed", off)
elif not a.no_end:
    out += frame(4, digest, off)
if a.truncate is not None:
    out = out[:a.truncate]
sys.stdout.buffer.write(out)
