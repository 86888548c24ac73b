#!/usr/bin/env python3
"""Write a p2v disk stream (doc/protocol.md, "Disk streams") for a raw image
file to stdout, well-formed or broken on purpose. Independent of the C
writer: all-zero chunks become gaps or ZERO frames, the rest DATA or ZDATA
(compressed with the zstd command), holes of a sparse source are found
with SEEK_DATA/SEEK_HOLE and never read."""
import argparse, hashlib, json, os, struct, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--source", required=True, help="raw image: the logical disk")
p.add_argument("--name", default="d1")
p.add_argument("--size", type=int, help="announced size (default: the source's)")
p.add_argument("--format", help="HELLO format (omitted by default)")
p.add_argument("--target", help="HELLO target device")
p.add_argument("--mem-bytes", type=int, help="inventory: the source's memory")
p.add_argument("--cpus", type=int, help="inventory: the source's CPU count")
p.add_argument("--frame", type=int, default=1 << 20, help="bytes per data frame")
p.add_argument("--zeros", choices=["gap", "frame", "data"], default="gap",
               help="all-zero chunks: left out, ZERO frames, or sent as data")
p.add_argument("--zdata", action="store_true", help="compress data frames (ZDATA)")
p.add_argument("--corrupt-sha", action="store_true")
p.add_argument("--flip-byte", type=int, help="send this byte of the disk altered")
p.add_argument("--beyond", action="store_true", help="add a data frame past the size")
p.add_argument("--straddle", action="store_true", help="last frame runs over the end")
p.add_argument("--backwards", action="store_true", help="repeat the first data frame at the end")
p.add_argument("--zdata-lie", type=int, default=0, help="ZDATA announces n + this")
p.add_argument("--end-size", type=int, help="END frame's offset")
p.add_argument("--abort", action="store_true")
p.add_argument("--no-end", action="store_true")
p.add_argument("--hello-only", action="store_true", help="stop after the HELLO frame")
p.add_argument("--truncate", type=int, help="cut the stream after N bytes")
a = p.parse_args()

out = sys.stdout.buffer
budget = a.truncate

def emit(b):
    global budget
    if budget is not None:
        b = b[:budget]
        budget -= len(b)
    try:
        out.write(b)
    except BrokenPipeError:  # the receiver refused and left: expected
        os._exit(0)

def frame(t, payload, off):
    emit(struct.pack(">IIQ", t, len(payload), off) + payload)

def zstd(b):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=b, stdout=subprocess.PIPE,
                          check=True).stdout

def send_data(off, chunk):
    if a.zdata or a.zdata_lie:
        z = zstd(chunk)
        if len(z) < len(chunk) or a.zdata_lie:
            frame(6, struct.pack(">I", len(chunk) + a.zdata_lie) + z, off)
            return
    frame(2, chunk, off)

fd = os.open(a.source, os.O_RDONLY)
real = os.fstat(fd).st_size
size = a.size if a.size is not None else real
hello = {"version": 1, "kind": "disk", "name": a.name, "size": size,
         "source": {"device": a.source}, "inventory": {"test": True}}
if a.mem_bytes:
    hello["inventory"]["memory"] = {"total_bytes": a.mem_bytes}
if a.cpus:
    hello["inventory"]["cpus"] = {"count": a.cpus}
if a.format:
    hello["format"] = a.format
if a.target:
    hello["target"] = a.target
emit(b"P2VSTRM\n" + struct.pack(">II", 1, 0))
frame(1, json.dumps(hello).encode(), 0)
if a.hello_only:
    sys.exit(0)

# Data regions of the source (holes are zeros and never read).
regions, pos = [], 0
while pos < real:
    try:
        d = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    h = os.lseek(fd, d, os.SEEK_HOLE)
    regions.append((d, min(h, real)))
    pos = h

sha = hashlib.sha256()
hashed = 0
def hash_zeros_to(end):
    global hashed
    z = bytes(1 << 20)
    while hashed < end:
        n = min(len(z), end - hashed)
        sha.update(z[:n])
        hashed += n

first = None
for (start, end) in regions:
    off = max(start - start % a.frame, hashed)
    while off < end:
        n = min(a.frame - off % a.frame, end - off)
        chunk = bytearray(os.pread(fd, n, off))
        if a.flip_byte is not None and off <= a.flip_byte < off + n:
            chunk[a.flip_byte - off] ^= 0xff
        hash_zeros_to(off)
        sha.update(os.pread(fd, n, off))
        hashed = off + n
        chunk = bytes(chunk)
        if chunk.count(0) == n and a.zeros != "data":
            if a.zeros == "frame":
                frame(3, struct.pack(">Q", n), off)
        else:
            if a.straddle and off + n == real:
                chunk += b"\1" * 4096
            send_data(off, chunk)
            if first is None:
                first = (off, chunk)
        off += n
hash_zeros_to(size)
if a.backwards and first:
    send_data(*first)
if a.beyond:
    send_data(hashed, b"\1" * 4096)
digest = sha.digest()
if a.corrupt_sha:
    digest = bytes([digest[0] ^ 1]) + digest[1:]
if a.abort:
    frame(5, b"source disk failed", hashed)
elif not a.no_end:
    frame(4, digest, a.end_size if a.end_size is not None else size)
out.flush()
