#!/usr/bin/env python3
"""Write a hand-made p2v stream (doc/protocol.md) to stdout: any HELLO and
any sequence of frames, with offsets and lengths a well-behaved sender
would never produce, so tests can show what ct-import receive refuses.
Independent of the C writer and of mkstream.py / mkdiskstream.py (which
make realistic streams from a payload file).

  mkhostile.py [--kind disk|template] [--name-json JSON] [--size JSON]
               [--hello-raw TEXT] [--no-hello] [--version N] FRAME...

FRAME is TYPE@OFFSET[:ARG]; OFFSET is a number (hex with 0x) or an
expression of S (the announced size) and M (2**64), e.g. M-4096, S+1:
  data@OFF:N           DATA with N bytes of 0x5a
  zero@OFF:COUNT       ZERO of COUNT bytes
  zdata@OFF:N[:CLAIM]  ZDATA: N bytes of 0x5a compressed, announced as CLAIM
  unreadable@OFF:LEN[:OWNERHEX]  UNREADABLE (length, owner bytes in hex)
  many@COUNT:LEN:OWNERHEX  COUNT UNREADABLE frames at 0, LEN, 2*LEN, ...
  end@OFF              END with the SHA-256 of what a receiver would hold
                       (the data and zero frames so far, zeros elsewhere)
  abort@0              ABORT
  raw@OFF:TYPE:HEX     any type, any payload (hex)
  lie@OFF:TYPE:LEN     a header announcing LEN payload bytes, none following
"""
import argparse, hashlib, json, struct, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--kind", default="disk")
p.add_argument("--name-json", default='"h1"', help="the HELLO's name, as JSON text")
p.add_argument("--size", default="1048576", help="disk size, as JSON text")
p.add_argument("--compression", default="zstd")
p.add_argument("--hello-raw", help="the HELLO payload verbatim")
p.add_argument("--version", type=int, default=1)
p.add_argument("--no-hello", action="store_true", help="no HELLO frame (give one as a FRAME)")
p.add_argument("frames", nargs="*")
a = p.parse_args()

M = 1 << 64
if a.hello_raw is not None:
    hello = a.hello_raw.encode("utf-8", "surrogateescape")
    size = 0
else:
    name = a.name_json
    size_json = a.size
    if a.kind == "disk":
        hello = ('{"version": 1, "kind": "disk", "name": %s, "size": %s}' % (name, size_json)).encode()
    else:
        hello = ('{"version": 1, "kind": "%s", "name": %s, "compression": "%s"}'
                 % (a.kind, name, a.compression)).encode()
    try:
        size = int(json.loads(size_json))
    except (ValueError, TypeError):
        size = 0

def num(expr):
    return int(eval(expr, {"__builtins__": {}}, {"S": size, "M": M})) % M

out = bytearray(b"P2VSTRM\n" + struct.pack(">II", a.version, 0))

def frame(t, payload, off, length=None):
    out.extend(struct.pack(">IIQ", t, len(payload) if length is None else length, off) + payload)

# What a receiver would hold, for END's digest: sparse writes over zeros.
content = {}
def hold(off, data):
    content[off] = data

def digest(total):
    if total > 1 << 28:  # no receiver gets this far: any digest will do
        return bytes(32)
    h = hashlib.sha256()
    pos = 0
    for off in sorted(content):
        if off >= total:
            break
        if off > pos:
            h.update(bytes(off - pos))
        d = content[off][:max(0, total - off)]
        h.update(d)
        pos = off + len(d)
    if total > pos:
        h.update(bytes(total - pos))
    return h.digest()

if not a.no_hello:
    frame(1, hello, 0)
for f in a.frames:
    typ, _, rest = f.partition("@")
    parts = rest.split(":")
    off = num(parts[0])
    if typ == "data":
        d = b"\x5a" * int(parts[1])
        frame(2, d, off)
        hold(off, d)
    elif typ == "zero":
        frame(3, struct.pack(">Q", num(parts[1])), off)
    elif typ == "zdata":
        n = int(parts[1])
        claim = num(parts[2]) if len(parts) > 2 else n
        z = subprocess.run(["zstd", "-q", "-c"], input=b"\x5a" * n, stdout=subprocess.PIPE,
                           check=True).stdout
        frame(6, struct.pack(">I", claim % (1 << 32)) + z, off)
        hold(off, b"\x5a" * n)
    elif typ == "unreadable":
        owner = bytes.fromhex(parts[2]) if len(parts) > 2 else b""
        frame(8, struct.pack(">Q", num(parts[1])) + owner, off)
    elif typ == "many":
        owner = bytes.fromhex(parts[2])
        for i in range(off):
            frame(8, struct.pack(">Q", num(parts[1])) + owner, i * num(parts[1]))
    elif typ == "end":
        frame(4, digest(off), off)
    elif typ == "abort":
        frame(5, b"hostile test", off)
    elif typ == "raw":
        frame(int(parts[1]), bytes.fromhex(parts[2]) if len(parts) > 2 else b"", off)
    elif typ == "lie":
        frame(int(parts[1]), b"", off, length=num(parts[2]))
    else:
        sys.exit("unknown frame " + f)
try:
    sys.stdout.buffer.write(out)
except BrokenPipeError:  # the receiver refused and left: expected
    pass
